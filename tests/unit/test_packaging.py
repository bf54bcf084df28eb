"""What a person adopting the package reads before anything runs: licence, version, changelog."""

from __future__ import annotations

import re
from pathlib import Path

import django_prodserver

ROOT = Path(__file__).resolve().parents[2]
# The last release of the other implementation published as django-prodserver on PyPI.
REPLACED_VERSION = (3, 0, 0)


def version() -> tuple[int, ...]:
    return tuple(int(part) for part in django_prodserver.__version__.split("."))


def test_the_version_sorts_after_the_one_it_replaces():
    assert re.fullmatch(r"\d+\.\d+\.\d+", django_prodserver.__version__)
    assert version() > REPLACED_VERSION


def test_the_licence_file_is_the_mit_licence_the_metadata_declares():
    pyproject = (ROOT / "pyproject.toml").read_text()
    licence = (ROOT / "LICENSE").read_text()

    assert re.search(r'^license = "MIT"$', pyproject, re.MULTILINE)
    assert re.search(r'^license-files = \["LICENSE"\]$', pyproject, re.MULTILINE)
    assert licence.startswith("MIT License\n")
    assert "Copyright (c) 2026 the django-prodserver developers" in licence
    assert "Permission is hereby granted, free of charge" in licence


def test_the_changelog_has_the_current_version():
    changelog = (ROOT / "CHANGELOG.md").read_text()

    assert re.search(rf"^## {re.escape(django_prodserver.__version__)}\b", changelog, re.M)


def test_the_switching_guide_gives_the_pip_line_of_this_major_version():
    guide = (ROOT / "docs" / "guide-migrating-from-3.md").read_text()
    major = version()[0]

    assert f"'django-prodserver[gunicorn,celery]>={major}.0,<{major + 1}'" in guide
