"""`manage.py devserver`: Django's runserver, under a name that pairs with prodserver."""

from django.core.management.commands.runserver import Command as RunserverCommand


class Command(RunserverCommand):
    help = "Start Django's development server (the same as runserver)."
