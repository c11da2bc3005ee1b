"""jobrunner: the command line client of the jobrunner REST API (SPEC §7)."""
