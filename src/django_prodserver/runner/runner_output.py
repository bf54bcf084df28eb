"""How the runner writes its output, and what it says first: from the command to the
supervisor (supervise.py), which has no Django loaded to ask.

Only the standard library: the runner's own interpreter imports it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from django_prodserver.runner.log_format import LOG_FORMATS, PLAIN


@dataclass(frozen=True)
class RunnerOutput:
    """`--log-format`, and the runner's first lines: which env files it read, which port
    each web process was given."""

    format: str = PLAIN
    notes: tuple[str, ...] = ()

    def to_data(self) -> dict[str, Any]:
        return {"format": self.format, "notes": list(self.notes)}

    @classmethod
    def from_data(cls, data: Mapping[str, Any]) -> RunnerOutput:
        log_format = data.get("format", PLAIN)
        return cls(log_format if log_format in LOG_FORMATS else PLAIN, tuple(data.get("notes", ())))
