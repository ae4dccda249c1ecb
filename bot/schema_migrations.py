"""The database follows the code's schema through Alembic revisions (bot/migrations/versions/).

At start the bot upgrades its database to the newest revision it knows, inside one transaction that holds an
advisory lock on PostgreSQL, so replicas starting together migrate once. A database made before migrations existed
(tables, no `alembic_version`) is recognised as revision 0001 and upgraded from there. A database at a revision
this code does not know was migrated by a newer release: the bot refuses to start rather than run old code on it.
"""

from __future__ import annotations

import fcntl
import logging
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, Engine, inspect, text

from bot.errors import BotError

logger = logging.getLogger(__name__)
SCHEMA_LOCK_KEY = 0x0DDB_B07  # any constant shared by every replica
BASELINE = "0001"  # the schema create_all made before migrations existed
BASELINE_TABLE = "exports"  # present in every database the bot ever made
_LOCAL = threading.Lock()  # threads of one process


class SchemaTooNew(BotError):
    """The database was migrated by a newer release of the bot."""


@dataclass(frozen=True)
class SchemaState:
    """Where the database stands against this code's revisions."""

    current: str | None
    head: str

    @property
    def up_to_date(self) -> bool:
        """True when the database is at this code's newest revision."""
        return self.current == self.head


def alembic_config() -> Config:
    """Alembic's configuration, without an alembic.ini: the revisions ship inside the package."""
    config = Config()
    config.set_main_option("script_location", "bot:migrations")
    return config


def head_revision() -> str:
    """The newest revision this code knows."""
    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    if head is None:
        raise RuntimeError("bot/migrations has no revisions")
    return head


def schema_state(engine: Engine) -> SchemaState:
    """The database's revision and this code's (for /readyz)."""
    with engine.connect() as connection:
        return SchemaState(_current_revision(connection), head_revision())


def migrate(engine: Engine) -> SchemaState:
    """Upgrade the database to this code's newest revision; raises SchemaTooNew for a newer database."""
    config = alembic_config()
    known = {script.revision for script in ScriptDirectory.from_config(config).walk_revisions()}
    with _one_at_a_time(engine), engine.begin() as connection:
        if connection.dialect.name == "postgresql":
            connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": SCHEMA_LOCK_KEY})
        config.attributes["connection"] = connection
        current = _current_revision(connection)
        if current is None and inspect(connection).has_table(BASELINE_TABLE):
            logger.info("schema.baseline_stamped", extra={"revision": BASELINE})
            command.stamp(config, BASELINE)
            current = BASELINE
        if current is not None and current not in known:
            raise SchemaTooNew(
                f"The database is at schema revision {current}, which this version of the bot does not know "
                f"(its newest is {head_revision()}): a newer release migrated it. The bot did not start.",
                "Run the newer release, or restore the database from a backup taken before the upgrade.",
            )
        command.upgrade(config, "head")
        after = _current_revision(connection)
    if after != current:
        logger.info("schema.upgraded", extra={"from_revision": current, "to_revision": after})
    return SchemaState(after, head_revision())


@contextmanager
def _one_at_a_time(engine: Engine) -> Iterator[None]:
    """SQLite has no advisory lock: processes sharing the file (one host) take a lock file beside it instead;
    PostgreSQL's advisory lock is taken inside the migration's transaction."""
    database = engine.url.database if engine.dialect.name == "sqlite" else None
    if not database or database == ":memory:":
        with _LOCAL:
            yield
        return
    with _LOCAL, open(f"{database}.migrate-lock", "a+b") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _current_revision(connection: Connection) -> str | None:
    return MigrationContext.configure(connection).get_current_revision()
