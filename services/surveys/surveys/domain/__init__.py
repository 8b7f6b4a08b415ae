"""Surveys' pure rules: plain Python, no SQLAlchemy, no nameko, no I/O (checked by `make lint`)."""
