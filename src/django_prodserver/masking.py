"""Hide secrets in anything the program prints: URL passwords, secret-looking variables."""

import re

MASK = "********"

_URL_PASSWORD = re.compile(
    r"(?P<scheme>[a-zA-Z][a-zA-Z0-9+.-]*://)(?P<user>[^:/@\s]*):(?P<password>[^@/\s]+)@"
)
_SECRET_ASSIGNMENT = re.compile(
    r"(?P<name>\b[A-Za-z0-9_.-]*(?:PASSWORD|PASSWD|SECRET|TOKEN|API_KEY|PRIVATE_KEY|CREDENTIALS)"
    r"[A-Za-z0-9_.-]*=)(?P<value>[^\s'\"]+)",
    re.IGNORECASE,
)


def mask_secrets(text: str) -> str:
    """`redis://:pw@host` -> `redis://:********@host`; `SECRET_KEY=x` -> `SECRET_KEY=********`."""
    text = _URL_PASSWORD.sub(lambda m: f"{m['scheme']}{m['user']}:{MASK}@", text)
    return _SECRET_ASSIGNMENT.sub(lambda m: f"{m['name']}{MASK}", text)
