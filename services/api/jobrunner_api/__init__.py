"""jobrunner REST API service."""
