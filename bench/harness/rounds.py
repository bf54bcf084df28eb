"""A/B rounds: A and B run alternately, and each metric is summed up as the median of the
ratios A/B taken round by round (two runs side by side see the same machine; the noise of
a shared machine drifts more slowly than one pair)."""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Protocol

VARIANTS = ("A", "B")
PAUSE_BETWEEN_RUNS = 1.0  # seconds: what one run left behind settles before the next


class PairedRun(Protocol):
    variant: str
    round: int


@dataclass(frozen=True)
class Metric:
    key: str  # the run's attribute; None there means not measured
    label: str
    unit: str
    digits: int
    scale: float = 1.0
    target: str = ""
    target_met: Callable[[float], bool] | None = None

    def value(self, run: PairedRun) -> float | None:
        raw = getattr(run, self.key)
        return None if raw is None else float(raw) * self.scale

    def format(self, value: float) -> str:
        return f"{value:.{self.digits}f}"


@dataclass(frozen=True)
class Summary:
    median_a: float
    median_b: float
    ratio_median: float
    ratio_min: float
    ratio_max: float


def summarize_pairs(pairs: Iterable[tuple[float | None, float | None]]) -> Summary | None:
    """Medians of A and B, and the median, min and max of A/B, over the pairs known on both
    sides; None when no pair gives a ratio."""
    known = [(a, b) for a, b in pairs if a is not None and b is not None]
    ratios = [a / b for a, b in known if b]
    if not ratios:
        return None
    return Summary(
        statistics.median(a for a, _ in known),
        statistics.median(b for _, b in known),
        statistics.median(ratios),
        min(ratios),
        max(ratios),
    )


def summarize(runs: Iterable[PairedRun], metric: Metric) -> Summary | None:
    """`summarize_pairs` over the rounds that have both an A and a B run."""
    by_round: dict[int, dict[str, PairedRun]] = {}
    for run in runs:
        by_round.setdefault(run.round, {})[run.variant] = run
    return summarize_pairs(
        (metric.value(pair["A"]), metric.value(pair["B"]))
        for pair in by_round.values()
        if len(pair) == 2
    )


def alternating(rounds: int, pause: float = PAUSE_BETWEEN_RUNS) -> Iterator[tuple[int, str]]:
    """(round, variant) for A B A B ..., `pause` seconds after each run."""
    for round_number in range(1, rounds + 1):
        for variant in VARIANTS:
            yield round_number, variant
            time.sleep(pause)


def add_only(parser: argparse.ArgumentParser, names: Sequence[str]) -> None:
    parser.add_argument(
        "--only",
        action="append",
        choices=names,
        metavar="NAME",
        help=f"run this backend only (repeatable): {', '.join(names)}",
    )
