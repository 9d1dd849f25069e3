"""A configuration module of the user's, read as ``state_config.FACTOR`` by state_module."""

FACTOR = 1.0
