"""How long a stopping server still reads its idle kept-alive connections (every server's).

An idle keep-alive connection closed at once loses the request its client may be sending at
that moment (the client sees the connection close with no answer). That race lasts a round
trip plus the client's pause between two requests: milliseconds for a busy client, longer on
a loaded machine or a slow network; 2 s covers those with room. A longer linger would only
hold the exit (not the new server, which serves already in a rolling reload) for clients
that send nothing, and those lose nothing when their connection closes.
"""

from __future__ import annotations

LINGER = 2.0
# The header of the one request a lingering connection still serves.
CLOSE_HEADER = (b"connection", b"close")


def linger_within(graceful_bound: float | None) -> float:
    """LINGER, never past the server's own graceful bound (None: it has none)."""
    if graceful_bound is None:
        return LINGER
    return max(0.0, min(LINGER, float(graceful_bound)))
