from beat_shared.migrations import run_migrations
from surveys.models import Base

run_migrations(Base.metadata)
