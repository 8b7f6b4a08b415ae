"""Beat concerns service."""
