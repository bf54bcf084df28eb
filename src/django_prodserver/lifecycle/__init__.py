"""The life of a process this package starts: how it starts, how it stops, what watches it."""
