from django.apps import AppConfig
from django.core import checks


class ProdserverConfig(AppConfig):
    name = "django_prodserver"
    verbose_name = "Production processes"

    def ready(self) -> None:
        from django_prodserver.checks import TAGS, check_production_processes

        checks.register(check_production_processes, *TAGS)


class ProdserverAppConfig(ProdserverConfig):
    """django-prodserver 3.0's name of this app's config (3.0 API), for an INSTALLED_APPS
    that names it: `"django_prodserver.apps.ProdserverAppConfig"`."""

    # Not Django's pick for a bare "django_prodserver": ProdserverConfig stays that.
    default = False
