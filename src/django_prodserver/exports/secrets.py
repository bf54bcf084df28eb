"""Which environment variables hold secrets: these never go into a generated file."""

from __future__ import annotations

from django_prodserver.masking import mask_secrets, sensitive


def is_secret(name: str, value: str) -> bool:
    """A name Django would hide (`SECRET_KEY`, `DB_PASS`, `API_TOKEN`), or a value with a
    secret in it (a URL's password or user part, `?token=...`)."""
    return sensitive(name) or mask_secrets(value) != value
