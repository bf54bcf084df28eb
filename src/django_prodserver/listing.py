"""The `--list` table: each process, its kind, its backend and the command it runs."""

from __future__ import annotations

from collections.abc import Collection

from django_prodserver.backends.loading import load_backend
from django_prodserver.errors import ProdserverError
from django_prodserver.processes import get_process, read_processes

HEADINGS = ("NAME", "KIND", "BACKEND", "COMMAND")


def process_table(names: Collection[str] = ()) -> list[tuple[str, str, str, str]]:
    """A row per process, or per named one (an unknown name is an error)."""
    specs, problems = read_processes()
    broken = {problem.process for problem in problems}
    for name in names:
        if name not in specs and name not in broken:
            get_process(name)  # raises the unknown-process message, with the configured names
    if names:
        specs = {name: spec for name, spec in specs.items() if name in names}
        problems = [problem for problem in problems if problem.process in names]
    rows = []
    for spec in specs.values():
        try:
            backend = load_backend(spec)
            rows.append((spec.name, backend.kind, spec.backend, backend.plan().command_line()))
        except ProdserverError as error:
            rows.append((spec.name, "?", spec.backend, f"error: {str(error).splitlines()[0]}"))
    rows.extend((p.process, "?", "?", f"error: {p.message}") for p in problems if p.process)
    return rows


def format_table(rows: list[tuple[str, str, str, str]]) -> str:
    table = [HEADINGS, *rows]
    widths = [max(len(row[column]) for row in table) for column in range(len(HEADINGS) - 1)]
    lines = [
        "  ".join([*(cell.ljust(width) for cell, width in zip(row, widths, strict=False)), row[-1]])
        for row in table
    ]
    return "\n".join(line.rstrip() for line in lines)
