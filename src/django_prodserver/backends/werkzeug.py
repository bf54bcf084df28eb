"""2.x's path of the Werkzeug backends (dev.werkzeug): code written for it runs unchanged."""

from django_prodserver.backends.dev.werkzeug import RunserverPlus, WerkzeugRunserver

__all__ = ["RunserverPlus", "WerkzeugRunserver"]
