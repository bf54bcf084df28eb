"""Sphinx configuration for the django-prodserver documentation (MyST markdown, furo)."""

import re
from pathlib import Path

_init = Path(__file__).resolve().parents[1] / "src" / "django_prodserver" / "__init__.py"
_version = re.search(r'__version__ = "([^"]+)"', _init.read_text())

project = "django-prodserver"
author = "the django-prodserver authors"
copyright = "the django-prodserver authors"
release = _version.group(1) if _version else ""
version = release

extensions = ["myst_parser"]
myst_enable_extensions = ["colon_fence"]
myst_heading_anchors = 3

source_suffix = {".md": "markdown"}
root_doc = "index"
exclude_patterns = ["_build"]
language = "en"

html_theme = "furo"
html_title = f"django-prodserver {release}".strip()
