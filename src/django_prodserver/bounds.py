"""Values from settings and command lines, bounded before they are converted or written out.

Python writes no int of more than 4300 digits (`sys.get_int_max_str_digits()`): `str()`,
`repr()` and `int()` of one raise. `int()` reads any Unicode digit (`int("٣")` is 3) and
refuses `"²"`, which `str.isdigit()` calls a digit. So an integer is read from ASCII digits
only, its length checked first, and a value is quoted in a message through `shown()`.
"""

from __future__ import annotations

from django_prodserver.masking import mask_secrets

# Every number option of every server fits a 64-bit integer; a larger one is a typo.
LARGEST_OPTION_NUMBER = 2**63 - 1
LARGEST_PORT = 65535
SHOWN_LENGTH = 80


def shown(value: object, limit: int = SHOWN_LENGTH) -> str:
    """`repr(value)` for a message, secrets masked, shortened; never an exception."""
    try:
        text = repr(value)
    except ValueError:  # an int (or a container of one) too long to write out
        text = "an integer too long to write out"
        if not isinstance(value, int):
            text = f"a {type(value).__name__} holding {text}"
    except Exception:  # an object whose own __repr__ fails
        text = f"a {type(value).__name__}"
    text = mask_secrets(text)  # before it is shortened, which could cut a URL before its `@`
    return text if len(text) <= limit else text[: limit - 3] + "..."


def whole_number(text: str, highest: int) -> int | None:
    """`text` as a whole number from 0 to `highest`, if it is one in ASCII digits; else None."""
    if not (text.isascii() and text.isdigit()):
        return None
    if len(text.lstrip("0")) > len(str(highest)):
        return None
    number = int(text)
    return number if number <= highest else None


def option_number(value: float) -> str | None:
    """A number of ARGS as a command line writes it; None when no option takes it."""
    if isinstance(value, int) and abs(value) > LARGEST_OPTION_NUMBER:
        return None
    return str(value)
