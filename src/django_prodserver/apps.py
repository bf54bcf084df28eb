from django.apps import AppConfig
from django.core import checks


class ProdserverConfig(AppConfig):
    name = "django_prodserver"
    verbose_name = "Production processes"

    def ready(self) -> None:
        from django_prodserver.checks import check_production_processes

        checks.register(check_production_processes, "prodserver")
