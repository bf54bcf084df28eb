"""Checks made right before a start: a broker answers, a database holds the tables."""
