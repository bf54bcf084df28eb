"""Development servers, at the paths the other published implementation (3.0) gives them.

Each reloads on code changes and serves one developer: `django_runserver` (Django's
`runserver`), `werkzeug` (Werkzeug's server and debugger, as django-extensions'
`runserver_plus`), `daphne` (daphne's ASGI `runserver`).
"""
