from beat_shared.migrations import run_migrations
from referrals.models import Base

run_migrations(Base.metadata)
