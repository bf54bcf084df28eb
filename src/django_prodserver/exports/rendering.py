"""Generated files: one Django template per format, rendered by a standalone engine."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from django.template import Engine

TEMPLATES = Path(__file__).resolve().parent / "templates"
# What a misspelt variable renders as: a template bug, caught before any file is written.
INVALID = "<<undefined template variable>>"


@dataclass(frozen=True)
class ExportedFile:
    name: str
    text: str


@cache
def engine() -> Engine:
    return Engine(
        dirs=[str(TEMPLATES)],
        autoescape=False,
        string_if_invalid=INVALID,
        builtins=["django_prodserver.exports.filters"],
    )


def render(template: str, context: dict[str, Any]) -> str:
    text = engine().render_to_string(template, context)
    if INVALID in text:
        raise RuntimeError(f"template {template} uses a variable its context does not have")
    return text.rstrip("\n") + "\n"
