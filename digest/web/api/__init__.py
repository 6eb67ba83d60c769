"""The REST API for the newsroom's own systems (/api/v1) and its keys."""
