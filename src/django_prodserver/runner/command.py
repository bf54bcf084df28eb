"""The entry point `prodserver NAME NAME...` and `prodserver --all` call (stub)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django_prodserver.errors import ProdserverError


def run_together(names: Sequence[str], options: dict[str, Any]) -> int:
    """Run the named processes together until they are asked to stop; the exit status."""
    raise ProdserverError("Running several processes together is not built yet.")
