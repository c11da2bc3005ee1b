"""jobrunner worker: dials out to the master, runs jobs on this host, streams their output."""
