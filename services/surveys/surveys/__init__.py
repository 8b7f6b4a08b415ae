"""Beat surveys service."""
