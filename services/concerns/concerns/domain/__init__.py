"""The concerns domain: plain Python rules (no nameko, no database sessions)."""
