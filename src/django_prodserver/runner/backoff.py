"""How long to wait before starting a crashed process again."""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass, field

FIRST_DELAY = 0.5
LONGEST_DELAY = 30.0
# A process that ran this long before it ended counts as having run well: the next
# delay starts again from the first.
HEALTHY_RUN = 10.0


@dataclass
class Backoff:
    """Exponential backoff with jitter, capped, reset by a healthy run.

    The n-th restart in a row waits a random time between half of and the whole of
    `first * 2**(n-1)` (capped at `longest`): processes that crashed together do not
    all come back at the same instant, and below the cap no delay is shorter than the
    one before.
    """

    first: float = FIRST_DELAY
    longest: float = LONGEST_DELAY
    healthy_run: float = HEALTHY_RUN
    uniform: Callable[[float, float], float] = field(default=random.uniform, repr=False)
    failures: int = 0

    def after_run(self, seconds: float) -> float:
        """The delay before the next start of a process that ran `seconds` and ended."""
        if seconds >= self.healthy_run:
            self.failures = 0
        self.failures += 1
        ceiling = min(self.longest, self.first * 2 ** min(self.failures - 1, 30))
        return self.uniform(ceiling / 2, ceiling)
