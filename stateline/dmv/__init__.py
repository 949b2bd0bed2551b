"""A state's DMV records: licences, IDs, photos, vehicles, registrations, history; their
searches, element tagging, and the SQLite and PostgreSQL stores, chosen by URL."""

from __future__ import annotations

from pathlib import Path

from .elements import DRIVER_ELEMENTS, VEHICLE_ELEMENTS, tag_driver, tag_vehicle
from .names import Name, format_name, parse_name
from .portrait import portrait
from .sqlite import SqliteStore
from .store import (
    NAME_LIMIT,
    PARTIAL_PLATE_LIMIT,
    Batch,
    DmvStore,
    LoadError,
    Sample,
    StoreError,
    StoreURLError,
)

SQLITE_PREFIX = "sqlite:///"
POSTGRES_PREFIXES = ("postgresql://", "postgres://")


def open_store(url: str | Path, *, schema: str | None = None) -> DmvStore:
    """The store a URL names: ``sqlite:///path`` or a bare path (SQLite), or
    ``postgresql://...`` (one ``schema`` per state when several share a database)."""
    text = str(url)
    if text.startswith(POSTGRES_PREFIXES):
        from .postgres import PostgresStore  # psycopg loads only for those who use it

        return PostgresStore(text, schema=schema)
    if text.startswith(SQLITE_PREFIX):
        path = text.removeprefix(SQLITE_PREFIX)
    elif "://" in text or text.startswith("sqlite:"):
        path = ""
    else:
        path = text
    if not path:
        raise StoreURLError(f"{text or '(empty)'} is not sqlite:///PATH, a path, "
                            "or postgresql://...")
    if schema is not None:
        raise StoreURLError("a schema is for PostgreSQL stores; SQLite keeps a file per state")
    return SqliteStore(path)


__all__ = [
    "DRIVER_ELEMENTS",
    "NAME_LIMIT",
    "PARTIAL_PLATE_LIMIT",
    "VEHICLE_ELEMENTS",
    "Batch",
    "DmvStore",
    "LoadError",
    "Name",
    "Sample",
    "StoreError",
    "StoreURLError",
    "format_name",
    "open_store",
    "parse_name",
    "portrait",
    "tag_driver",
    "tag_vehicle",
]
