"""django-prodserver 3.0's importable API, imported and used as a 3.0 project uses it.

Its app config named in INSTALLED_APPS, its `utils` (the application names, the warm-up
health check) and its `conf.app_settings`, each behaving as 3.0's did. The backends it
names (`RunserverPlus`, daphne's runserver without "daphne" in INSTALLED_APPS) are served
for real in tests/servers/test_dev_backends.py.
"""

from __future__ import annotations

import pytest
from django.conf import settings
from django.core.handlers.wsgi import WSGIHandler
from django.test import override_settings

from tests.support import write_project

BROKEN = {"web": {"BACKEND": "django_prodserver.backends.gunicorn.GunicornServr"}}
APP_CONFIG = "django_prodserver.apps.ProdserverAppConfig"


def test_its_werkzeug_alias_is_the_werkzeug_backend_at_both_paths():
    from django_prodserver.backends.dev.werkzeug import RunserverPlus, WerkzeugRunserver
    from django_prodserver.backends.werkzeug import RunserverPlus as OlderPath

    assert RunserverPlus is OlderPath is WerkzeugRunserver


def test_an_installed_apps_naming_its_app_config_gets_the_checks(tmp_path):
    installed = (
        f"INSTALLED_APPS = [{APP_CONFIG!r} if app == 'django_prodserver' else app "
        f"for app in INSTALLED_APPS]"
    )
    project = write_project(tmp_path, BROKEN, installed)
    result = project.manage("check")
    assert result.returncode == 1
    assert "(prodserver.E004) Process 'web': BACKEND" in result.stderr
    shown = project.shell(
        "from django.apps import apps; print(type(apps.get_app_config('django_prodserver')))"
    )
    assert "ProdserverAppConfig" in shown


def test_the_bare_app_name_keeps_its_own_config():
    from django.apps import apps

    from django_prodserver.apps import ProdserverConfig

    assert type(apps.get_app_config("django_prodserver")) is ProdserverConfig


def test_the_application_names_are_written_as_servers_take_them():
    from django_prodserver.utils import asgi_app_name, wsgi_app_name

    assert wsgi_app_name() == "exampleproject.wsgi:application"
    with override_settings(ASGI_APPLICATION="myproject.asgi.application"):
        assert asgi_app_name() == "myproject.asgi:application"


def test_the_warm_up_health_check_passes_on_the_healthy_status():
    from django_prodserver.utils import wsgi_healthcheck

    handler = WSGIHandler()
    wsgi_healthcheck(handler, "/")
    wsgi_healthcheck(handler, "/not-a-page/", ok_status=404)
    with override_settings(ALLOWED_HOSTS=[".example.com"]):
        wsgi_healthcheck(handler, "/")


def test_the_warm_up_health_check_raises_warmup_failure_on_another_status():
    from django_prodserver.utils import WarmupFailure, wsgi_healthcheck

    with pytest.raises(WarmupFailure, match=r"Warm-up GET /not-a-page/ answered 404, not 200"):
        wsgi_healthcheck(WSGIHandler(), "/not-a-page/")
    assert issubclass(WarmupFailure, Exception)


def test_its_settings_object_reads_production_processes_when_asked():
    from django_prodserver.conf import app_settings

    assert app_settings.PRODUCTION_PROCESSES == settings.PRODUCTION_PROCESSES
    with override_settings(PRODUCTION_PROCESSES=BROKEN):
        assert app_settings.PRODUCTION_PROCESSES == BROKEN
    with override_settings():
        del settings.PRODUCTION_PROCESSES
        assert app_settings.PRODUCTION_PROCESSES == {}
    with pytest.raises(AttributeError):
        app_settings.PRODUCTION_NOTHING  # noqa: B018 - the lookup is what is tested
