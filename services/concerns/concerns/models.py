"""Tables of the concerns database (SQLAlchemy 2 typed mappings)."""

from __future__ import annotations

from sqlalchemy.orm import DeclarativeBase

from beat_shared.db import add_platform_tables


class Base(DeclarativeBase):
    pass


add_platform_tables(Base.metadata)
