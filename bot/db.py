"""The database: the one SQLAlchemy MetaData every feature declares its tables on, and an engine tuned for SQLite
or PostgreSQL."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection, DateTime, Engine, MetaData, TypeDecorator, create_engine, event, func, select, text
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import URL, Dialect, make_url
from sqlalchemy.exc import ArgumentError, NoSuchModuleError

from bot.timefmt import utcnow

metadata = MetaData()
SUPPORTED = ("sqlite", "postgresql")
URL_EXAMPLES = "sqlite:////data/ddb-backup-bot.sqlite3 or postgresql://user:password@host:5432/dbname"
CONNECT_TIMEOUT_SECONDS = 10  # a PostgreSQL host that drops packets fails the start in seconds, not minutes


class UtcDateTime(TypeDecorator[datetime]):
    """Stores timezone-aware UTC datetimes; SQLite loses the zone, so it is put back on the way out."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to the store; use timezone-aware UTC")
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def engine_url(text: str) -> URL:
    """The URL as SQLAlchemy reads it; `postgres://` and `postgresql://` use psycopg (3), the driver the bot ships.
    Raises ArgumentError when it cannot be parsed."""
    if text.startswith(("postgresql://", "postgres://")):
        text = "postgresql+psycopg://" + text.split("://", 1)[1]
    return make_url(text)


def url_problem(text: str) -> str | None:
    """None when the URL names a database the bot can use with a driver that is installed, else what is wrong
    (without the password). Nothing is connected to: whether the database answers is checked at start."""
    try:
        url = engine_url(text)
        backend = url.get_backend_name()
    except ArgumentError:
        return f"it is not a database URL; write {URL_EXAMPLES}."
    if backend not in SUPPORTED:
        return f"`{backend}` databases are not supported; use {URL_EXAMPLES}."
    try:
        url.get_dialect().import_dbapi()
    except (NoSuchModuleError, ImportError):
        return (
            f"the driver `{url.get_driver_name()}` is not installed; write postgresql://… (the bot ships psycopg) "
            f"or sqlite:///…, e.g. {URL_EXAMPLES}."
        )
    return None


def make_engine(url: str) -> Engine:
    """Create the engine; SQLite gets WAL and a busy timeout so threads and processes can share the file."""
    parsed = engine_url(url)
    if parsed.get_backend_name() == "sqlite":
        engine = create_engine(
            parsed, connect_args={"check_same_thread": False, "timeout": 30}, pool_size=5, max_overflow=20
        )
        event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    timeout = {} if "connect_timeout" in parsed.query else {"connect_timeout": CONNECT_TIMEOUT_SECONDS}
    return create_engine(parsed, pool_pre_ping=True, pool_size=10, max_overflow=20, connect_args=timeout)


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.close()


def ping(engine: Engine) -> bool:
    """True when the database answers a trivial query."""
    try:
        with engine.connect() as connection:
            connection.execute(text("SELECT 1"))
    except Exception:
        return False
    return True


DatabaseClock = Callable[[Connection], datetime]


def database_now(connection: Connection) -> datetime:
    """The one clock every replica shares: PostgreSQL's `clock_timestamp()`; on SQLite (one host) the host's UTC clock.

    Claims, leases and outbox stamps written by one replica and compared by another use it, so skewed host clocks
    can neither make a live claim look stale nor keep a dead one alive.
    """
    if connection.dialect.name == "postgresql":
        value = connection.execute(select(func.clock_timestamp())).scalar_one()
        return UtcDateTime().process_result_value(value, connection.dialect) or utcnow()
    return utcnow()


@contextmanager
def transaction(engine: Engine, connection: Connection | None = None) -> Iterator[Connection]:
    """The caller's transaction when it gives one (so several stores' writes commit together), else a new one."""
    if connection is not None:
        yield connection
        return
    with engine.begin() as begun:
        yield begun


def insert_of(connection: Connection) -> Any:
    """The connection's dialect's INSERT, which takes ON CONFLICT: inside a caller's transaction a conflict must not
    raise, since an IntegrityError aborts the whole transaction on PostgreSQL."""
    return postgresql.insert if connection.dialect.name == "postgresql" else sqlite.insert
