"""The web servers under django-prodserver 3.0's paths (`backends.servers.<server>`).

Each module re-exports the backend of `backends.<server>`, so that settings, imports and
subclasses written for 3.0 keep working.
"""
