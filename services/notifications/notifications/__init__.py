"""Beat notifications service."""
