"""Hide secrets in anything the program prints: URL passwords, secret-looking variables."""

import re

MASK = "********"

_URL_PASSWORD = re.compile(
    r"(?P<scheme>[a-zA-Z][a-zA-Z0-9+.-]*://)(?P<user>[^:/@\s]*):(?P<password>[^@/\s]+)@"
)
_SECRET_WORDS = r"(?:PASSWORD|PASSWD|SECRET|TOKEN|API_KEY|PRIVATE_KEY|CREDENTIALS)"
# Environment variables are upper case by convention: any of them with KEY in its name
# (`STRIPE_KEY`, `AWS_ACCESS_KEY_ID`) is a secret too. Only upper case, so that option
# names such as gunicorn's `--keyfile=/etc/ssl/key.pem` stay readable.
_NAMES = (
    (rf"\b[A-Za-z0-9_.-]*{_SECRET_WORDS}[A-Za-z0-9_.-]*=", re.IGNORECASE),
    (r"(?<![\w.-])[A-Z0-9_]*KEY[A-Z0-9_]*=", 0),
)
# `shlex.join` quotes a whole word that holds a space or a quote (`'SECRET=a b'`,
# `'--env=SECRET=a b'`), and writes a quote inside it as '"'"'.
_QUOTED = [
    re.compile(rf"(?P<name>'(?:[^'\s=]*=)?{name})(?P<value>[^']*(?:'\"'\"'[^']*)*)'", flags)
    for name, flags in _NAMES
]
_BARE = [re.compile(rf"(?P<name>{name})(?P<value>[^\s'\"]+)", flags) for name, flags in _NAMES]


def mask_secrets(text: str) -> str:
    """`redis://:pw@host` -> `redis://:********@host`; `SECRET_KEY=x` -> `SECRET_KEY=********`."""
    text = _URL_PASSWORD.sub(lambda m: f"{m['scheme']}{m['user']}:{MASK}@", text)
    for quoted in _QUOTED:
        text = quoted.sub(lambda m: f"{m['name']}{MASK}'", text)
    for bare in _BARE:
        text = bare.sub(lambda m: f"{m['name']}{MASK}", text)
    return text
