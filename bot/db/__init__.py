"""Database layer: SQLAlchemy Core tables, engine, schema-version check."""

from bot.db.engine import check_schema, make_engine, upgrade
from bot.db.schema import metadata

__all__ = ["check_schema", "make_engine", "metadata", "upgrade"]
