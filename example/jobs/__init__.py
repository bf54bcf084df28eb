"""Small background tasks of the example project, one module per task framework."""
