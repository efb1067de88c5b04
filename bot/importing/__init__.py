"""Importing subscribers from a file, whole or not at all.

:func:`check_file` reads the file (:mod:`bot.importing.files`: encoding, CSV or
JSON, each record's line) and checks every row (:mod:`bot.importing.rows`)
before anything is written; ``bousai subscribers import`` writes nothing when a
row is bad, or with ``--skip-invalid`` imports the good rows after
:func:`write_report` has put the bad ones in a file only its owner can write.
"""

from __future__ import annotations

import csv
import os
from collections.abc import Sequence
from pathlib import Path

from bot.config import Config
from bot.importing.files import ImportFileError, Record, read
from bot.importing.rows import Bad, Checked, check_fields, check_records, forbidden

__all__ = ["Bad", "Checked", "ImportFileError", "Record", "check_fields", "check_file",
           "check_records", "forbidden", "write_report"]


def check_file(config: Config, path: Path) -> Checked:
    """Every row of the file at ``path``, checked; ImportFileError when the file as
    a whole cannot be imported."""
    return check_records(config, read(path))


def write_report(path: Path, bad: Sequence[Bad]) -> None:
    """The rejected rows as CSV (``line,problem,record``: the line in the imported
    file, what is wrong, the row as it was). Created readable and writable by its
    owner only: the rows hold users' ids. An existing file is replaced."""
    flags = os.O_WRONLY | os.O_CREAT | os.O_TRUNC | getattr(os, "O_NOFOLLOW", 0)
    fd = os.open(path, flags, 0o600)
    os.fchmod(fd, 0o600)  # an existing file keeps its mode otherwise
    with os.fdopen(fd, "w", encoding="utf-8", newline="") as out:
        writer = csv.writer(out)
        writer.writerow(["line", "problem", "record"])
        for b in bad:
            writer.writerow([b.record.line, "; ".join(b.problems), b.record.text])
