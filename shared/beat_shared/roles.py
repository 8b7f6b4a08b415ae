"""The roles a token may carry, and the groups of them the services share, named once.

A group's word means the same set in every service (and its order is the order published in the
OpenAPI documents' `x-roles`). A set that only one service uses stays in that service, under a name
that says what it is (surveys' SURVEY_MANAGERS, notifications' PEOPLE). Plain tuples, no imports:
the services' pure `domain/` packages use them too.
"""

from __future__ import annotations

ROLES = ("resident", "officer", "supervisor", "agency", "analyst", "admin")

STAFF = ("officer", "supervisor", "admin")  # the city's people who work concerns and refer residents
OFFICERS = ("officer", "supervisor")  # staff on the street and their sergeants: not the administrators
MANAGERS = ("supervisor", "admin")  # who manage every beat: its concerns and the officers assigned to it
ADMINS = ("admin",)  # who configure the platform: categories, beat boundaries, the agency directory
