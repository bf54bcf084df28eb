"""`prodserver --probe NAME`: whether a running process is alive and answering (see probe.py)."""
