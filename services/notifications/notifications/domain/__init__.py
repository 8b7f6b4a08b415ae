"""Pure rules of the notifications service: plain Python, no SQLAlchemy, no nameko, no I/O.

`rules` (which event notifies whom), `preferences` (recipients' wishes, quiet hours, digests,
languages), `tokens` (keyed address hashes, signed links), `broadcasts` (an officer's message).
"""
