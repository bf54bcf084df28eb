"""The markdown report: tables, the machine it ran on, where it is written."""

from __future__ import annotations

import datetime as dt
import os
import platform
import re
import sys
from collections.abc import Iterable, Sequence
from importlib import metadata
from pathlib import Path

from harness import REPO
from harness.rounds import Metric, PairedRun, summarize


def markdown_table(header: str, align: str, rows: Iterable[str]) -> list[str]:
    """A table's lines. `header` and each row hold the cells between the outer bars,
    `a | b | c`; `align` has a letter a column: `l` left, `r` right (numbers)."""
    rule = "".join("|---:" if letter == "r" else "|---" for letter in align) + "|"
    return [f"| {header} |", rule, *(f"| {row} |" for row in rows)]


def ratio(value: float, digits: int = 2) -> str:
    return f"{value:.{digits}f}x"


def ab_table(
    runs: Sequence[PairedRun],
    metrics: Iterable[Metric],
    a_label: str,
    b_label: str,
    *,
    ratio_digits: int = 2,
    targets: bool = False,
) -> list[str]:
    """Per metric: the medians of A and B, and the median, min and max of A/B by round;
    with `targets`, each metric's target and whether the median ratio meets it."""
    rows = []
    for metric in metrics:
        summary = summarize(runs, metric)
        name = f"{metric.label} ({metric.unit})"
        if summary is None:
            rows.append(f"{name} | n/a | n/a | | |" + (" | |" if targets else ""))
            continue
        ratios = (summary.ratio_median, summary.ratio_min, summary.ratio_max)
        row = f"{name} | {metric.format(summary.median_a)} | {metric.format(summary.median_b)} | "
        row += " | ".join(ratio(value, ratio_digits) for value in ratios)
        if targets:
            met = metric.target_met
            verdict = "" if met is None else "yes" if met(summary.ratio_median) else "**no**"
            row += f" | {metric.target} | {verdict}"
        rows.append(row)
    header = (
        f"metric | A: {a_label} (median) | B: {b_label} (median) | A/B (median of pairs) "
        "| A/B min | A/B max" + (" | target | met" if targets else "")
    )
    return markdown_table(header, "lrrrrr" + ("ll" if targets else ""), rows)


# --- the machine ----------------------------------------------------------------------------


def cpu_model() -> str:
    try:
        cpuinfo = Path("/proc/cpuinfo").read_text()
    except OSError:
        return "unknown"
    match = re.search(r"^model name\s*:\s*(.+)$", cpuinfo, re.MULTILINE)
    return match.group(1).strip() if match else "unknown"


def package_versions(names: Sequence[str], optional: Sequence[str] = ()) -> str:
    """`name 1.2.3, other (not installed)`: the installed version of each distribution;
    those of `optional` are left out when they are not installed."""
    found = []
    for name in [*names, *optional]:
        try:
            found.append(f"{name} {metadata.version(name)}")
        except metadata.PackageNotFoundError:
            if name not in optional:
                found.append(f"{name} (not installed)")
    return ", ".join(found)


def load_text(load: tuple[float, float, float]) -> str:
    """The load averages over 1, 5 and 15 minutes, as `0.12 / 0.34 / 0.56`."""
    return " / ".join(f"{value:.2f}" for value in load)


def load_line(
    benchmark_note: str,
    loads: Iterable[tuple[str, tuple[float, float, float], tuple[float, float, float]]],
) -> str:
    """The load averages before and after each backend, (name, before, after)."""
    return (
        "- load average (1 / 5 / 15 min) before and after each backend (the benchmark "
        f"itself {benchmark_note}): "
        + "; ".join(
            f"{name} {load_text(before)} -> {load_text(after)}" for name, before, after in loads
        )
    )


def report_head(
    title: str,
    about: str,
    versions: Sequence[str],
    *more: str,
    optional: Sequence[str] = (),
    cores_note: str = "",
) -> list[str]:
    """A report's first lines: `# title`, the date and `about` (what ran), then the machine:
    cores, kernel, python, the `versions` (and `optional`) of those distributions, `more`."""
    now = dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    return [
        f"# {title}",
        "",
        f"Date: {now}. {about}",
        "",
        "Machine:",
        "",
        f"- nproc: {len(os.sched_getaffinity(0))} (CPU: {cpu_model()}){cores_note}",
        f"- kernel: {platform.system()} {platform.release()}",
        f"- python: {platform.python_version()} ({sys.executable})",
        f"- {package_versions(versions, optional)}",
        *more,
    ]


def publish(text: str, path: Path, *others: tuple[Path, str]) -> None:
    """Write the report to `path` (and each (path, text) of `others`), then print it and say
    where it went."""
    written = [(path, text), *others]
    for file, content in written:
        file.parent.mkdir(parents=True, exist_ok=True)
        file.write_text(content)
    print(text)
    for file, _ in written:
        shown = file.relative_to(REPO) if file.is_relative_to(REPO) else file
        print(f"written to {shown}", file=sys.stderr)
