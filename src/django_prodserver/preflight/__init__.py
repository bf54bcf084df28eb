"""Checks made right before a start: a broker or a Redis answers, a database holds the tables."""
