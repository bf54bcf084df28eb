"""The older path of `dev.werkzeug.WerkzeugRunserver` (the other implementation's 2.x)."""

from django_prodserver.backends.dev.werkzeug import RunserverPlus, WerkzeugRunserver

__all__ = ["RunserverPlus", "WerkzeugRunserver"]
