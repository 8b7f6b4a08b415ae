"""Database access: engines, the per-worker session, and the platform's own tables.

Every service owns one database. Its session is committed by Beat's entrypoints
*before* they answer (acknowledge a message, send an HTTP response, return an
RPC result): nameko calls dependencies' ``worker_result`` only after the answer
has gone out, which would be too late to report a failed commit.
"""

from __future__ import annotations

import functools
import logging
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from types import TracebackType
from typing import Annotated, Any, TypeVar
from weakref import WeakKeyDictionary

from nameko.containers import WorkerContext
from nameko.extensions import DependencyProvider
from sqlalchemy import (
    BigInteger,
    Column,
    DateTime,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
    create_engine,
    event,
    func,
    inspect,
    select,
    text,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection, Dialect, Engine
from sqlalchemy.exc import DisconnectionError
from sqlalchemy.orm import ORMExecuteState, Session, make_transient_to_detached, mapped_column, sessionmaker
from sqlalchemy.sql import Select
from sqlalchemy.types import TypeDecorator

from beat_shared.config import database_url, setting_from
from beat_shared.errors import NotFound

log = logging.getLogger(__name__)

ExcInfo = tuple[type[BaseException], BaseException, TracebackType] | None

Row = TypeVar("Row")

# Integer primary keys autoincrement on SQLite only when declared INTEGER.
BigId = BigInteger().with_variant(Integer(), "sqlite")
# A row's own 64-bit serial key: `id: Mapped[SerialKey]`.
SerialKey = Annotated[int, mapped_column(BigId, primary_key=True, autoincrement=True)]
# A row's own key made by new_id (a UUID's 36 characters): `id: Mapped[UuidKey]`.
UuidKey = Annotated[str, mapped_column(String(36), primary_key=True)]


class UtcDateTime(TypeDecorator[datetime]):
    """Timezone-aware UTC datetimes on PostgreSQL and SQLite alike (SQLite has no zones).

    Naive datetimes are refused: every moment Beat stores is UTC-aware.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetimes are not stored; use an aware UTC datetime")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


# A service's `Base.type_annotation_map`: a `Mapped[datetime]` column is then UtcDateTime by its
# annotation alone, so no table can store a moment another way.
TYPE_ANNOTATION_MAP: dict[Any, Any] = {datetime: UtcDateTime()}


SQLITE_LOCK_TIMEOUT_SECONDS = 30
PING_AFTER_IDLE_SECONDS = 0.5  # a pooled connection idle this long is pinged before use
_IN_AUTOCOMMIT = "beat_in_autocommit"  # pool record info: a reader session switched autocommit on
_SQLITE_READER = "beat_sqlite_reader"  # execution option of reader sessions' connections on SQLite


def normalise_url(url: str) -> str:
    """Plain postgresql:// URLs use psycopg2: it cooperates with eventlet (SQLAlchemy 2.1
    would pick psycopg 3, whose binary build blocks the whole process; see STACK.md)."""
    for prefix in ("postgresql://", "postgres://"):
        if url.startswith(prefix):
            return "postgresql+psycopg2://" + url[len(prefix) :]
    return url


def make_engine(url: str, pool_size: int = 10, ping_after_idle: float = PING_AFTER_IDLE_SECONDS) -> Engine:
    """An engine tuned for the platform's concurrency model (eventlet green threads)."""
    url = normalise_url(url)
    if url.startswith("sqlite"):
        return _sqlite_engine(url)
    # values_plus_batch: the ORM's many same-shaped UPDATEs of a flush (a dispatcher round marking
    # its messages delivered) go in one round trip through psycopg2's execute_batch, not one each.
    # LIFO: under load the same few connections stay busy, so they are never idle long enough
    # to be pinged; the others wait at the back of the pool.
    engine = create_engine(
        url,
        pool_size=pool_size,
        max_overflow=pool_size,
        pool_use_lifo=True,
        executemany_mode="values_plus_batch",
    )
    _ping_idle_connections(engine, ping_after_idle)
    return engine


def _ping_idle_connections(engine: Engine, after_seconds: float) -> None:
    """Ping a pooled connection on checkout only when it sat idle for `after_seconds`.

    A connection that died while idle (PostgreSQL restarted, a proxy timed it out) is replaced
    before anyone uses it, as `pool_pre_ping` would do; but a connection back in the pool for
    less than that was working a moment ago, and pinging it on every checkout cost a round trip
    per transaction (one of a submission's seven; six per pipeline flow in notifications). If the
    database restarts within that moment, the transaction that meets the dead connection fails
    and SQLAlchemy then discards every connection of the pool, as it does without any ping.
    """

    @event.listens_for(engine, "checkin")
    def _stamp(_dbapi_connection: Any, record: Any) -> None:
        record.info["idle_since"] = time.monotonic()

    @event.listens_for(engine, "checkout")
    def _ping_if_idle(dbapi_connection: Any, record: Any, _proxy: Any) -> None:
        idle_since = record.info.get("idle_since")
        if idle_since is None or time.monotonic() - idle_since < after_seconds:
            return  # new, or used a moment ago
        try:
            engine.dialect.do_ping(dbapi_connection)
        except engine.dialect.loaded_dbapi.Error as error:
            if engine.dialect.is_disconnect(error, dbapi_connection, None):
                raise DisconnectionError(str(error)) from error  # the pool retries with a new one
            raise


class WriteWhileReading(RuntimeError):
    """A unit of work declared read-only tried to write (in autocommit it would not be atomic)."""


def reader_sessions(engine: Engine) -> sessionmaker[Session]:
    """Sessions for work that only reads; they refuse to write.

    On PostgreSQL they read in autocommit, so a read costs no BEGIN and no ROLLBACK round trip.
    Under READ COMMITTED (Beat's level) every statement takes its own snapshot anyway, so a
    read-only transaction gives its statements no more consistency than autocommit does.
    See `autocommit_until_checkin`. On SQLite they read in a deferred transaction (a WAL snapshot)
    that neither takes nor waits for the writer lock, so a read never queues behind a writer.
    """
    bind = engine.execution_options(**{_SQLITE_READER: True}) if engine.dialect.name == "sqlite" else engine
    factory = sessionmaker(bind, expire_on_commit=False, info={"read_only": True})
    if engine.dialect.name == "postgresql":

        @event.listens_for(factory, "after_begin")
        def _read_in_autocommit(_session: Session, _transaction: Any, connection: Connection) -> None:
            autocommit_until_checkin(connection)  # nothing has run on it yet: psycopg2 sends BEGIN lazily

    @event.listens_for(factory, "do_orm_execute")
    def _refuse_statements_that_write(state: ORMExecuteState) -> None:
        if not state.is_select:
            raise WriteWhileReading(f"a read-only unit of work tried to execute {type(state.statement).__name__}")

    @event.listens_for(factory, "before_flush")
    def _refuse_flushes_that_write(session: Session, _context: Any, _instances: Any) -> None:
        if session.new or session.dirty or session.deleted:
            raise WriteWhileReading("a read-only unit of work tried to flush changes")

    return factory


def autocommit_until_checkin(connection: Connection) -> None:
    """Put a PostgreSQL connection that has run nothing yet in autocommit until it goes back to the
    pool. psycopg2's flag is switched directly, both ways, client-side only: SQLAlchemy's AUTOCOMMIT
    isolation level would cost a `SET default_transaction_isolation` round trip at every check-in."""
    pooled = connection.connection
    pooled.dbapi_connection.autocommit = True  # type: ignore[union-attr]
    pooled.info[_IN_AUTOCOMMIT] = True
    if not event.contains(connection.engine, "checkin", _end_autocommit):
        event.listen(connection.engine, "checkin", _end_autocommit)


def _end_autocommit(dbapi_connection: Any, record: Any) -> None:
    """A connection back from a reader session gets its transactions back (client-side only)."""
    if record.info.pop(_IN_AUTOCOMMIT, False) and dbapi_connection is not None:
        dbapi_connection.autocommit = False


def _sqlite_engine(url: str) -> Engine:
    path = url.split("///", 1)[-1]
    if path and path != ":memory:":
        Path(path).parent.mkdir(parents=True, exist_ok=True)
    # The driver's own transaction handling is off so that we can BEGIN IMMEDIATE.
    engine = create_engine(url, connect_args={"isolation_level": None, "check_same_thread": False, "timeout": 30})
    # SQLite blocks the whole eventlet hub while it waits for its file lock, so writers
    # queue on a green lock instead: only one transaction per process is open at a time.
    writer_lock = threading.Lock()

    @event.listens_for(engine, "connect")
    def _configure(dbapi_connection: Any, _record: Any) -> None:
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA busy_timeout=30000")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _begin(connection: Connection) -> None:
        if connection.get_execution_options().get(_SQLITE_READER):
            # A reader session (it refuses to write): WAL gives it a snapshot without any lock.
            connection.exec_driver_sql("BEGIN DEFERRED")
            return
        if not writer_lock.acquire(timeout=SQLITE_LOCK_TIMEOUT_SECONDS):
            raise TimeoutError("timed out waiting for the SQLite writer lock")
        connection.info["beat_writer_lock"] = True
        connection.exec_driver_sql("BEGIN IMMEDIATE")

    def _release(connection: Connection) -> None:
        if connection.info.pop("beat_writer_lock", False):
            writer_lock.release()

    event.listen(engine, "commit", _release)
    event.listen(engine, "rollback", _release)
    return engine


def adding_upsert(session: Session, model: Any, rows: list[dict[str, Any]], counters: tuple[str, ...]) -> Any:
    """INSERT the rows; where one with the same primary key exists, add its counters to it.

    One atomic statement on PostgreSQL and SQLite (INSERT … ON CONFLICT DO UPDATE), so
    concurrent writers never lose an increment the way read-modify-write in Python does.
    Returns the statement, to execute as is or with `.returning(...)`.
    """
    dialect = postgresql if session.get_bind().dialect.name == "postgresql" else sqlite
    statement = dialect.insert(model).values(rows)
    return statement.on_conflict_do_update(
        index_elements=[column.name for column in model.__table__.primary_key.columns],
        set_={name: getattr(model, name) + getattr(statement.excluded, name) for name in counters},
    )


def insert_unless_exists(session: Session, model: Any, row: dict[str, Any]) -> bool:
    """INSERT the row (keyed by column name) unless it would break a unique constraint; True if
    it was inserted.

    One statement (INSERT … ON CONFLICT DO NOTHING) on PostgreSQL and SQLite, in place of
    "look, then insert in a savepoint and catch the IntegrityError" (four round trips). The
    statement is built once per table and takes the row as parameters: built per call with
    `.values(row)` on the model, SQLAlchemy's ORM bulk-insert path and a fresh cache key over
    every value cost more CPU than the round trip (py-spy, notifications under load).
    """
    statement = _insert_ignoring_conflicts(model.__table__, session.get_bind().dialect.name)
    return session.execute(statement, row).rowcount == 1


def insert_all_unless_exist(session: Session, model: Any, rows: list[dict[str, Any]]) -> set[Any]:
    """`insert_unless_exists` for many rows at once; returns the primary keys of those inserted.

    The rows carry their primary keys (a single-column key). SQLAlchemy sends them as one
    multi-row INSERT … ON CONFLICT DO NOTHING RETURNING (its "insertmanyvalues"), so a batch
    costs one round trip, not one per row; a row that meets an existing one, or an earlier row
    of the same batch, is left out and its key not returned.
    """
    if not rows:
        return set()
    statement = _insert_ignoring_conflicts_returning_key(model.__table__, session.get_bind().dialect.name)
    return set(session.execute(statement, rows).scalars())


def insert_as_loaded(session: Session, *objects: Any) -> None:
    """INSERT new ORM objects with one plain INSERT each, then attach them to the session as if
    they had been loaded: they are persistent, in its identity map, and later changes to them
    flush as UPDATEs.

    For a hot path that writes a few new rows: the unit of work's flush of two new objects cost
    a submission more CPU than the INSERTs themselves (py-spy, concerns at its intake ceiling,
    issue 27). An attribute left unset takes its column's Python default, or None; the rows go
    in the order given. Whatever a plain INSERT would get wrong takes the ordinary `add` and
    flush instead (see `_needs_the_unit_of_work`), so no behaviour is skipped.
    """
    if any(_needs_the_unit_of_work(item) for item in objects):
        session.add_all(objects)
        session.flush()
        return
    if session.new or session.dirty or session.deleted:
        session.flush()  # rows these may refer to go in first
    connection = session.connection()
    for item in objects:
        mapper = inspect(item).mapper
        table = mapper.local_table
        generated: str | None = None  # the attribute of a key the database fills in
        row: dict[str, Any] = {}
        for attribute in mapper.column_attrs:
            column = attribute.columns[0]
            if column is table.autoincrement_column and item.__dict__.get(attribute.key) is None:
                generated = attribute.key
                continue
            if attribute.key not in item.__dict__:
                setattr(item, attribute.key, _python_default(column))
            row[column.key] = item.__dict__[attribute.key]
        if generated is None:
            connection.execute(_plain_insert(table), row)
        else:
            key = connection.execute(_insert_returning(table), row).scalar_one()
            setattr(item, generated, key)
        make_transient_to_detached(item)
        session.add(item)


def _needs_the_unit_of_work(item: Any) -> bool:
    """An object already in a session, one mapped to more than one table, one whose mapper has
    insert listeners, or one that leaves a column with a server default unset (a plain INSERT
    would store NULL there)."""
    state = inspect(item)
    mapper = state.mapper
    return (
        not state.transient
        or len(mapper.tables) != 1
        or bool(mapper.dispatch.before_insert or mapper.dispatch.after_insert)
        or any(
            attribute.columns[0].server_default is not None and attribute.key not in state.dict
            for attribute in mapper.column_attrs
        )
    )


def _python_default(column: Column[Any]) -> Any:
    default = column.default
    if default is None or not (default.is_scalar or default.is_callable):
        return None
    return default.arg(None) if default.is_callable else default.arg  # type: ignore[attr-defined, operator]


@functools.cache
def _plain_insert(table: Table) -> Any:
    return table.insert()


@functools.cache
def _insert_returning(table: Table) -> Any:
    return table.insert().returning(table.autoincrement_column)


@functools.cache
def _insert_ignoring_conflicts(table: Table, dialect_name: str) -> Any:
    dialect = postgresql if dialect_name == "postgresql" else sqlite
    return dialect.insert(table).on_conflict_do_nothing()


@functools.cache
def _insert_ignoring_conflicts_returning_key(table: Table, dialect_name: str) -> Any:
    (key,) = table.primary_key.columns
    return _insert_ignoring_conflicts(table, dialect_name).returning(key)


def count_rows(session: Session, query: Select[Any]) -> int:
    """How many rows `query` selects (its ordering dropped: it does not change the count)."""
    return int(session.scalar(select(func.count()).select_from(query.order_by(None).subquery())) or 0)


def existing(session: Session, model: type[Row], key: Any, what: str) -> Row:
    """The `model` row with primary key `key`; raises NotFound ("<what> <key> does not exist")."""
    found = session.get(model, key)
    if found is None:
        raise NotFound(f"{what} {key} does not exist")
    return found


def page_of(session: Session, query: Select[Any], offset: int, size: int, *order: Any) -> tuple[list[Any], int]:
    """One page of `query`'s rows (ordered by `order` after any order the query has) and how many
    rows there are in all: what every paged list needs for `http.page_body`."""
    total = count_rows(session, query)
    # unique(): a query that eagerly joins a collection yields an entity once per joined row.
    rows = list(session.scalars(query.order_by(*order).offset(offset).limit(size)).unique())
    return rows, total


def add_platform_tables(metadata: MetaData) -> None:
    """Declare the outbox and processed-events tables on a service's metadata."""
    Table(
        "outbox",
        metadata,
        Column("id", BigId, primary_key=True, autoincrement=True),
        Column("event_id", String(36), nullable=False, unique=True),
        Column("event_type", String(120), nullable=False),
        Column("subject", String(120), nullable=False),
        Column("body", Text, nullable=False),
        Column("headers", Text, nullable=False, default="{}"),
        Column("created_at", UtcDateTime, nullable=False),
        Column("published_at", UtcDateTime, nullable=True),
        Index(
            "ix_outbox_unpublished",
            "id",
            postgresql_where=text("published_at IS NULL"),
            sqlite_where=text("published_at IS NULL"),
        ),
    )
    Table(
        "processed_events",
        metadata,
        Column("id", BigId, primary_key=True, autoincrement=True),
        Column("event_id", String(36), nullable=False),
        Column("handler", String(200), nullable=False),
        Column("event_type", String(120), nullable=False),
        Column("processed_at", UtcDateTime, nullable=False),
        UniqueConstraint("event_id", "handler", name="uq_processed_event_handler"),
    )


class Database(DependencyProvider):
    """Gives each worker its own SQLAlchemy session on the service's database."""

    def __init__(self, metadata: MetaData) -> None:
        self.metadata = metadata
        self._sessions: WeakKeyDictionary[WorkerContext, Session] = WeakKeyDictionary()
        self._after_commit: list[Callable[[], None]] = []

    def setup(self) -> None:
        self.url = database_url(self.container.service_name, self.container.config)
        workers = int(setting_from(self.container.config, "BEAT_MAX_WORKERS"))
        self.engine = make_engine(self.url, pool_size=workers + 2)
        self.session_factory = sessionmaker(self.engine, expire_on_commit=False)
        self.reader_factory = reader_sessions(self.engine)

    def stop(self) -> None:
        self.engine.dispose()

    def get_dependency(self, worker_ctx: WorkerContext) -> Session:
        """The worker's session; a read-only entrypoint (`@rpc(read_only=True)`) gets one that
        reads without a transaction and refuses to write."""
        read_only = getattr(worker_ctx.entrypoint, "read_only", False)
        session = (self.reader_factory if read_only else self.session_factory)()
        self._sessions[worker_ctx] = session
        return session

    def session_for(self, worker_ctx: WorkerContext) -> Session | None:
        return self._sessions.get(worker_ctx)

    def on_commit(self, listener: Callable[[], None]) -> None:
        """Call `listener` after a worker's transaction that wrote to the outbox commits."""
        self._after_commit.append(listener)

    def settle(self, worker_ctx: WorkerContext, exc_info: ExcInfo) -> ExcInfo:
        """Commit the worker's session if it succeeded, else roll back; return the outcome."""
        session = self._sessions.get(worker_ctx)
        if session is None:
            return exc_info
        if exc_info is not None:
            session.rollback()
            return exc_info
        wrote_outbox = session.info.pop("outbox_written", False)
        try:
            session.commit()
        except Exception:  # noqa: BLE001 - a failed commit is the worker's outcome
            session.rollback()
            return sys.exc_info()  # type: ignore[return-value]
        if wrote_outbox:
            for listener in self._after_commit:
                listener()
        return None

    def worker_result(self, worker_ctx: WorkerContext, result: Any = None, exc_info: ExcInfo = None) -> None:
        """Fallback for entrypoints that do not settle first (nameko's own, `entrypoint_hook`
        in tests): commit or roll back now. After an early settle there is nothing left."""
        session = self._sessions.get(worker_ctx)
        if session is not None and (session.in_transaction() or session.info.get("outbox_written")):
            self.settle(worker_ctx, exc_info)

    def worker_teardown(self, worker_ctx: WorkerContext) -> None:
        session = self._sessions.pop(worker_ctx, None)
        if session is not None:
            session.close()

    def answers(self) -> bool:
        """Whether the database takes a connection and a query now (readiness, and the inbox's
        test of whether a failure was the message's or the database's)."""
        try:
            with self.engine.connect() as connection:
                connection.execute(text("SELECT 1"))
                connection.rollback()
        except Exception as error:  # noqa: BLE001 - any failure means it does not answer
            log.warning("database %s unreachable: %s", self.container.service_name, error)
            return False
        return True

    @contextmanager
    def session(self) -> Iterator[Session]:
        """A unit of work outside any worker (relay, CLI): commit on success."""
        with self.session_factory() as session, session.begin():
            yield session

    @contextmanager
    def reading(self) -> Iterator[Session]:
        """Reads outside any worker, without a transaction on PostgreSQL (`reader_sessions`)."""
        with self.reader_factory() as session:
            yield session


def settle_unit_of_work(worker_ctx: WorkerContext, exc_info: ExcInfo) -> ExcInfo:
    """Settle every database the worker touched; a failed commit becomes the outcome."""
    for provider in worker_ctx.container.dependencies:
        if isinstance(provider, Database):
            exc_info = provider.settle(worker_ctx, exc_info)
    return exc_info


def find_database(container: Any) -> Database | None:
    for provider in container.dependencies:
        if isinstance(provider, Database):
            return provider
    return None


@contextmanager
def unit_of_work(engine: Engine) -> Iterator[Session]:
    with Session(engine, expire_on_commit=False) as session, session.begin():
        yield session
