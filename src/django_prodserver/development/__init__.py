"""`manage.py devserver`: the processes of PRODUCTION_PROCESSES in their development form.

`forms` decides what each process becomes, `command` runs them (several under the
runner), `reloader` restarts a worker when the project's code changes, and `watching`
finds those changes.
"""
