"""Code that runs as, or inside, a server's process once it starts; never imported to plan.

`gunicorn` and `waitress` serve inside the `manage.py` process; `granian` and
`hypercorn` are `python -m` entry points that wrap the server's own.
"""
