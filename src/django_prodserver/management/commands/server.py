"""`manage.py server`: another published implementation's name for `prodserver`."""

from django_prodserver.management.commands.prodserver import Command as ProdserverCommand


class Command(ProdserverCommand):
    help = "Start a web process defined in PRODUCTION_PROCESSES (with no name: the first one)."
    kind = "web"
