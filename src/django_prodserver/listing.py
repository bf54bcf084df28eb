"""The `--list` table: each process, its kind, its backend and the command it runs."""

from __future__ import annotations

from collections.abc import Collection

from django_prodserver.masking import mask_secrets
from django_prodserver.planning import plan_process
from django_prodserver.processes import Configuration, problem_error, read_configuration

HEADINGS = ("NAME", "KIND", "BACKEND", "COMMAND")


def process_table(
    names: Collection[str] = (), configuration: Configuration | None = None
) -> list[tuple[str, str, str, str]]:
    """A row per process, or per named one (an unknown name is an error)."""
    configuration = configuration or read_configuration()
    specs, problems = dict(configuration.specs), list(configuration.problems)
    for problem in problems:
        if problem.process is None:  # the setting itself is wrong: there is nothing to list
            raise problem_error(problem)
    for name in names:
        if name not in configuration.names():
            configuration.get(name)  # raises the unknown-process message, with the names
    if names:
        specs = {name: spec for name, spec in specs.items() if name in names}
        problems = [problem for problem in problems if problem.process in names]
    rows = []
    for spec in specs.values():
        planned = plan_process(spec)
        if planned.plan is not None and planned.backend is not None:
            command = planned.plan.command_line()
            origin = planned.backend.origin
            backend = f"{spec.backend} ({origin})" if origin else spec.backend
            rows.append((spec.name, planned.backend.kind, backend, command))
        else:
            first_line = str(planned.error).splitlines()[0]
            rows.append((spec.name, "?", spec.backend, f"error: {mask_secrets(first_line)}"))
    # One row per broken process: its first problem (`manage.py check` says them all).
    first_problems = {p.process: p for p in reversed(problems) if p.process is not None}
    rows.extend(
        (name, "?", "?", f"error: {mask_secrets(p.message)}")
        for name, p in reversed(first_problems.items())
    )
    return rows


def format_table(rows: list[tuple[str, str, str, str]]) -> str:
    table = [HEADINGS, *rows]
    widths = [max(len(row[column]) for row in table) for column in range(len(HEADINGS) - 1)]
    lines = [
        "  ".join([*(cell.ljust(width) for cell, width in zip(row, widths, strict=False)), row[-1]])
        for row in table
    ]
    return "\n".join(line.rstrip() for line in lines)


def broken_rows(rows: list[tuple[str, str, str, str]]) -> list[str]:
    """The names of the processes whose row is an error."""
    return [row[0] for row in rows if row[3].startswith("error: ")]
