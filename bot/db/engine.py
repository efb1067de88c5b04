"""Engine creation, migrations, and the check that the schema is current."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from alembic import command
from alembic.config import Config as AlembicConfig
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory

from bot.errors import ConfigError, SchemaOutOfDate

MIGRATIONS_DIR = Path(__file__).resolve().parent.parent / "migrations"


def make_engine(url: str, **kw: Any) -> sa.Engine:
    """An engine for ``url``; SQLite files get WAL, foreign keys and a busy timeout."""
    try:
        parsed = sa.make_url(url)
    except sa.exc.ArgumentError:
        raise ConfigError("not a database URL", key="BOUSAI_DATABASE_URL") from None
    if not parsed.drivername.startswith(("sqlite", "postgresql")):
        raise ConfigError(f"{parsed.drivername!r} databases are not supported; use "
                          "sqlite:///PATH or postgresql://USER@HOST/DB",
                          key="BOUSAI_DATABASE_URL")
    if parsed.drivername.startswith("sqlite"):
        if parsed.database and parsed.database != ":memory:":
            _private_file(Path(parsed.database))
        # How long a write waits for another process's lock before the database
        # counts as unavailable: 30 s, or the URL's ?timeout=SECONDS.
        try:
            busy = float(parsed.query.get("timeout", 30))  # type: ignore[arg-type]
        except ValueError:
            raise ConfigError("?timeout= must be a number of seconds",
                              key="BOUSAI_DATABASE_URL") from None
        engine = sa.create_engine(url, connect_args={"timeout": busy}, **kw)

        @sa.event.listens_for(engine, "connect")
        def _pragmas(dbapi_conn: Any, _record: Any) -> None:
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA foreign_keys=ON")
            cur.execute("PRAGMA synchronous=NORMAL")
            cur.close()

        from bot import wakeup

        wakeup.install(engine)  # a commit that made deliveries due wakes `bousai run`
        return engine
    if parsed.drivername == "postgresql":
        parsed = parsed.set(drivername="postgresql+psycopg")
    kw.setdefault("pool_pre_ping", True)
    kw.setdefault("pool_size", 10)
    return sa.create_engine(parsed, **kw)


def _private_file(path: Path) -> None:
    """Create the SQLite file 0600 and the folders made for it 0700 (alerts,
    subscribers' chat ids and the audit log are nobody else's business). SQLite
    gives its -wal and -shm files the database file's mode."""
    missing = []
    folder = path.parent
    while not folder.exists():
        missing.append(folder)
        folder = folder.parent
    for made in reversed(missing):
        made.mkdir(mode=0o700, exist_ok=True)
        os.chmod(made, 0o700)  # mkdir's mode is filtered by the umask
    if not path.exists():
        os.close(os.open(path, os.O_CREAT | os.O_WRONLY, 0o600))
        os.chmod(path, 0o600)


def _alembic_config() -> AlembicConfig:
    cfg = AlembicConfig()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    return cfg


def head_revision() -> str | None:
    return ScriptDirectory.from_config(_alembic_config()).get_current_head()


def current_revision(engine: sa.Engine) -> str | None:
    with engine.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()


def upgrade(engine: sa.Engine, revision: str = "head") -> tuple[str | None, str | None]:
    """Apply migrations; returns (before, after) revisions."""
    before = current_revision(engine)
    cfg = _alembic_config()
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, revision)
    return before, current_revision(engine)


def check_schema(engine: sa.Engine) -> None:
    """Raise :class:`SchemaOutOfDate` unless the database is at the newest migration."""
    try:
        current = current_revision(engine)
    except sa.exc.OperationalError as exc:
        reason = str(exc.orig).strip().splitlines()[0][:200]
        raise SchemaOutOfDate(f"the database cannot be reached ({reason}); check "
                              "BOUSAI_DATABASE_URL and that the database server is running"
                              ) from None
    head = head_revision()
    if current != head:
        state = "has no schema" if current is None else f"is at revision {current}"
        raise SchemaOutOfDate(
            f"the database {state}, the code needs {head}: run `bousai db upgrade`"
        )
