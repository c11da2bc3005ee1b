"""Names and message schemas common to the jobrunner API, master and worker."""
