"""The workers under django-prodserver 3.0's paths (`backends.workers.<framework>`).

Each module re-exports the backend of `backends.<framework>`, so that settings, imports
and subclasses written for 3.0 keep working.
"""
