"""Settings of the example project: SQLite, a gunicorn web process and a worker per framework.

The database-backed workers need nothing else; the others use the Redis at
EXAMPLE_REDIS_URL (the tests start their own).

For development, `python manage.py devserver web tasks` runs the web process on runserver
and the database task worker, restarted when the code changes (`devserver` alone: every
process but Celery beat; see docs/guide-development.md).
"""

import os
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent

SECRET_KEY = os.environ.get("DJANGO_SECRET_KEY", "example-only-not-secret")
DEBUG = os.environ.get("DJANGO_DEBUG", "") == "1"
ALLOWED_HOSTS = ["127.0.0.1", "localhost", "[::1]"]

INSTALLED_APPS = [
    "django.contrib.contenttypes",
    "django.contrib.auth",
    "django_prodserver",
    "pages",
    "jobs",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "django.middleware.common.CommonMiddleware",
]

ROOT_URLCONF = "exampleproject.urls"
WSGI_APPLICATION = "exampleproject.wsgi.application"

DATABASES = {
    "default": {
        "ENGINE": "django.db.backends.sqlite3",
        # In $STATE_DIRECTORY where the process has one (systemd's StateDirectory=, the
        # image's folder of its user): the code's folder is not the process's to write.
        "NAME": os.environ.get(
            "EXAMPLE_DATABASE",
            str(Path(os.environ.get("STATE_DIRECTORY") or BASE_DIR) / "db.sqlite3"),
        ),
    }
}

# PostgreSQL where EXAMPLE_POSTGRES_HOST names its server (the stack of docs/deploy-compose.md
# and of its test), SQLite otherwise.
if os.environ.get("EXAMPLE_POSTGRES_HOST"):
    DATABASES = {
        "default": {
            "ENGINE": "django.db.backends.postgresql",
            "HOST": os.environ["EXAMPLE_POSTGRES_HOST"],
            "NAME": os.environ.get("EXAMPLE_POSTGRES_DB", "example"),
            "USER": os.environ.get("EXAMPLE_POSTGRES_USER", "example"),
            "PASSWORD": os.environ.get("EXAMPLE_POSTGRES_PASSWORD", ""),
        }
    }

TIME_ZONE = "UTC"
USE_TZ = True
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

REDIS_URL = os.environ.get("EXAMPLE_REDIS_URL", "redis://127.0.0.1:6379/0")

PRODUCTION_PROCESSES = {
    "web": {
        "BACKEND": "django_prodserver.backends.gunicorn.GunicornServer",
        "ARGS": {
            "bind": os.environ.get("EXAMPLE_BIND", "127.0.0.1:8000"),
            "workers": "2",
            "accesslog": "-",
        },
    },
}

# Each task framework's settings, its app and its processes, one block each.

# -- Celery --
# The app is exampleproject/celery.py; its tasks are jobs/celery_tasks.py.
CELERY_BROKER_URL = REDIS_URL
# One periodic task, every EXAMPLE_BEAT_SECONDS, appending "beat" to EXAMPLE_BEAT_EFFECTS.
CELERY_BEAT_SCHEDULE = {
    "record-beat": {
        "task": "jobs.celery_tasks.record_line",
        "schedule": float(os.environ.get("EXAMPLE_BEAT_SECONDS", "60")),
        "args": (
            os.environ.get("EXAMPLE_BEAT_EFFECTS", str(BASE_DIR / "beat-effects.txt")),
            "beat",
        ),
    },
}
# The /celery/ page enqueues tasks that append to this file (where the worker runs).
EXAMPLE_CELERY_LOG = os.environ.get("EXAMPLE_CELERY_LOG", str(BASE_DIR / "celery-log.txt"))
PRODUCTION_PROCESSES["worker"] = {
    "BACKEND": "django_prodserver.backends.celery.CeleryWorker",
    "APP": "exampleproject.celery.app",
    "ARGS": {"loglevel": "info", "concurrency": 2},
}
PRODUCTION_PROCESSES["beat"] = {
    "BACKEND": "django_prodserver.backends.celery.CeleryBeat",
    "APP": "exampleproject.celery.app",
    "ARGS": {"loglevel": "info"},
}

# -- django-tasks --
# Tasks kept in the project's database by django-tasks-db; `prodserver tasks` runs them.
# Django 6 has `django.tasks` built in; before 6, the django-tasks backport's app is needed too.
# Left out where django-tasks-db is not installed (the demo's virtualenv has only gunicorn).
from importlib.util import find_spec  # noqa: E402

if find_spec("django_tasks_db"):
    INSTALLED_APPS += [] if find_spec("django.tasks") else ["django_tasks"]
    INSTALLED_APPS += ["django_tasks_db"]
    TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}
    # The demo's /tasks/ page enqueues tasks that append to this file.
    EXAMPLE_TASK_LOG = os.environ.get("EXAMPLE_TASK_LOG", str(BASE_DIR / "task-log.txt"))
    PRODUCTION_PROCESSES["tasks"] = {
        "BACKEND": "django_prodserver.backends.tasks.TasksWorker",
        "ARGS": {"queue_name": "default", "interval": 0.5},
    }

# -- Django's task framework, its other task backends --
# The apps of the task backends whose workers `TasksWorker` runs, where installed: with one
# of them as TASKS["default"], `prodserver tasks` (or `manage.py worker`) runs its worker
# (docs/guide-tasks.md). django-tasks-concurrent's worker runs django-tasks-db's tasks.
if find_spec("django_tasks_redis"):
    INSTALLED_APPS += ["django_tasks_redis"]
if find_spec("django_tasks_concurrent") and find_spec("django_tasks_db"):
    INSTALLED_APPS += ["django_tasks_concurrent"]

# -- django-q2 --
# The database is the queue (the ORM broker); `prodserver qcluster` runs the tasks. A task
# may run `timeout` seconds, less than the 30 s a process gets to stop; one not done by
# then (its worker killed) is delivered again after `retry` seconds. Left out where
# django-q2 is not installed.
if find_spec("django_q"):
    INSTALLED_APPS += ["django_q"]
    Q_CLUSTER = {
        "name": "exampleproject",
        "orm": "default",
        "workers": 2,
        "timeout": 25,
        "retry": 60,
        "poll": 0.5,
    }
    PRODUCTION_PROCESSES["qcluster"] = {
        "BACKEND": "django_prodserver.backends.django_q2.DjangoQ2Worker",
    }

# -- RQ --
# Jobs are the functions of jobs/rq_tasks.py, put on the "default" queue (django_rq.enqueue);
# `prodserver rqworker` runs them. A job may run 25 seconds, less than the 30 s a process
# gets to stop: on SIGTERM the worker lets the job in progress finish. Left out where
# django-rq is not installed.
if find_spec("django_rq"):
    INSTALLED_APPS += ["django_rq"]
    RQ_QUEUES = {"default": {"URL": REDIS_URL, "DEFAULT_TIMEOUT": 25}}
    PRODUCTION_PROCESSES["rqworker"] = {
        "BACKEND": "django_prodserver.backends.rq.RQWorker",
        "ARGS": {"queues": ["default"]},
    }

# -- Dramatiq --
# Actors are in jobs/dramatiq_tasks.py, which rundramatiq finds through
# DRAMATIQ_AUTODISCOVER_MODULES; `prodserver dramatiq` runs them. On SIGTERM each worker
# finishes its messages in progress for up to 25 s and gives the others back to Redis.
# Prometheus and the admin's task table (dramatiq's and django-dramatiq's defaults) are left
# out: one serves metrics on a port, the other needs migrations. Left out where
# django-dramatiq is not installed.
if find_spec("django_dramatiq"):
    INSTALLED_APPS += ["django_dramatiq"]
    DRAMATIQ_BROKER = {
        "BROKER": "dramatiq.brokers.redis.RedisBroker",
        "OPTIONS": {"url": REDIS_URL},
        "MIDDLEWARE": [
            "dramatiq.middleware.AgeLimit",
            "dramatiq.middleware.TimeLimit",
            "dramatiq.middleware.Callbacks",
            "dramatiq.middleware.Retries",
            "django_dramatiq.middleware.DbConnectionsMiddleware",
        ],
    }
    DRAMATIQ_AUTODISCOVER_MODULES = ["dramatiq_tasks"]
    PRODUCTION_PROCESSES["dramatiq"] = {
        "BACKEND": "django_prodserver.backends.dramatiq.DramatiqWorker",
        "ARGS": {"processes": 1, "threads": 2, "worker_shutdown_timeout": 25000},
    }

# -- Huey --
# Tasks are in jobs/huey_tasks.py (run_huey imports each app's `tasks` module, and
# jobs/tasks.py imports them); `prodserver huey` runs them. `immediate` is off even with
# DEBUG, so that tasks always go through Redis. On SIGTERM the consumer lets the tasks in
# progress finish. Left out where huey is not installed.
if find_spec("huey"):
    INSTALLED_APPS += ["huey.contrib.djhuey"]
    HUEY = {
        "huey_class": "huey.RedisHuey",
        "name": "exampleproject",
        "connection": {"url": REDIS_URL},
        "immediate": False,
    }
    PRODUCTION_PROCESSES["huey"] = {
        "BACKEND": "django_prodserver.backends.huey.HueyConsumer",
        "ARGS": {"workers": 2},
    }

# -- procrastinate --
# Jobs in PostgreSQL: with EXAMPLE_POSTGRES_HOST set (a host, or the folder of a server's
# socket), the project's database is that server's, and `prodserver procrastinate` runs the
# jobs of jobs/procrastinate_tasks.py. Left out where procrastinate is not installed.
if find_spec("procrastinate") and os.environ.get("EXAMPLE_POSTGRES_HOST"):
    DATABASES["default"] = {
        "ENGINE": "django.db.backends.postgresql",
        "HOST": os.environ["EXAMPLE_POSTGRES_HOST"],
        "PORT": os.environ.get("EXAMPLE_POSTGRES_PORT", "5432"),
        "NAME": os.environ.get("EXAMPLE_POSTGRES_DATABASE", "postgres"),
        "USER": os.environ.get("EXAMPLE_POSTGRES_USER", "postgres"),
    }
    INSTALLED_APPS += ["procrastinate.contrib.django"]
    PROCRASTINATE_AUTODISCOVER_MODULE_NAME = "procrastinate_tasks"
    PRODUCTION_PROCESSES["procrastinate"] = {
        "BACKEND": "django_prodserver.backends.procrastinate.ProcrastinateWorker",
        "ARGS": {"concurrency": 2, "shutdown_graceful_timeout": 25},
    }
