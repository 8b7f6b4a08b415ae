from beat_shared.migrations import run_migrations
from concerns.models import Base

run_migrations(Base.metadata)
