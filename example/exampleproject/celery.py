"""The example project's Celery application: configured from Django's settings (CELERY_*)."""

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "exampleproject.settings")

app = Celery("exampleproject")
app.config_from_object("django.conf:settings", namespace="CELERY")
# The Celery tasks of each installed app live in its `celery_tasks` module.
app.autodiscover_tasks(related_name="celery_tasks")
