"""Which environment variables hold secrets: these never go into a generated file."""

from __future__ import annotations

import re

from django_prodserver.masking import mask_secrets

SECRET_NAME = re.compile(r"PASSWORD|PASSWD|SECRET|TOKEN|KEY|CREDENTIAL", re.IGNORECASE)


def is_secret(name: str, value: str) -> bool:
    """A name that says secret (`SECRET_KEY`, `API_TOKEN`), or a URL with a password in it."""
    return bool(SECRET_NAME.search(name)) or mask_secrets(value) != value
