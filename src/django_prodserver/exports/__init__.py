"""Files for the engines that run processes at scale, generated from PRODUCTION_PROCESSES."""
