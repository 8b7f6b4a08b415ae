from collections.abc import Callable
from typing import Any

import pytest
from sqlalchemy import MetaData

from beat_shared.db import make_engine
from shared_sample import LedgerBase, LedgerService, TallyBase, TallyService


def _create(url: str, metadata: MetaData) -> str:
    engine = make_engine(url, pool_size=1)
    metadata.create_all(engine)
    engine.dispose()
    return url


@pytest.fixture
def ledger_db(database: Callable[[str], str]) -> str:
    return _create(database("ledger"), LedgerBase.metadata)


@pytest.fixture
def tally_db(database: Callable[[str], str]) -> str:
    return _create(database("tally"), TallyBase.metadata)


@pytest.fixture
def ledger(container_factory, beat_config, ledger_db) -> Any:
    container = container_factory(LedgerService, beat_config("ledger", LEDGER_DATABASE_URL=ledger_db))
    container.start()
    return container


@pytest.fixture
def tally(container_factory, beat_config, tally_db) -> Any:
    TallyService.failing = False
    TallyService.attempts = 0
    container = container_factory(TallyService, beat_config("tally", TALLY_DATABASE_URL=tally_db))
    container.start()
    yield container
    TallyService.failing = False
