"""What every example task does: something a test (or a person) can see afterwards."""

from __future__ import annotations

from pathlib import Path


def record(path: str, text: str) -> str:
    """Append a line to a file: the visible effect of a task having run."""
    with Path(path).open("a") as file:
        file.write(text + "\n")
    return text
