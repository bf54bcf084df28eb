"""Settings for the fast tests: the example project's, with a process table the tests own."""

from exampleproject.settings import *  # noqa: F403

PRODUCTION_PROCESSES = {
    "web": {
        "BACKEND": "django_prodserver.backends.gunicorn.GunicornServer",
        "ARGS": {"bind": "127.0.0.1:8000", "workers": "4"},
    },
}
DATABASES = {"default": {"ENGINE": "django.db.backends.sqlite3", "NAME": ":memory:"}}
