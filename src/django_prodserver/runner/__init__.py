"""Running several processes of PRODUCTION_PROCESSES together, supervised."""
