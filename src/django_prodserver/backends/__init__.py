"""Backends: one module per server, each turning a process definition into a plan."""
