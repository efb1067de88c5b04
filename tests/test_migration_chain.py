"""The migrations form one line: each revision names the one before it, so that
`bousai db upgrade` has a single head to go to."""

from __future__ import annotations

import re
from pathlib import Path

VERSIONS = Path(__file__).resolve().parent.parent / "bot" / "migrations" / "versions"


def _field(text: str, name: str) -> str | None:
    m = re.search(rf'^{name} = (?:"([^"]+)"|None)', text, re.M)
    assert m is not None, f"{name} missing"
    return m.group(1)


def test_the_migrations_form_a_single_line() -> None:
    files = sorted(p for p in VERSIONS.glob("[0-9]*.py"))
    revisions = {_field(p.read_text(), "revision"): _field(p.read_text(), "down_revision")
                 for p in files}
    assert len(revisions) == len(files), "two files share a revision id"
    parents = [down for down in revisions.values() if down is not None]
    assert len(parents) == len(set(parents)), "two migrations revise the same one (two heads)"
    heads = set(revisions) - set(parents)
    assert len(heads) == 1, f"more than one head: {sorted(heads)}"
    # Files sort in the order they apply: each file's parent is the file before it.
    ids = [_field(p.read_text(), "revision") for p in files]
    assert [revisions[i] for i in ids] == [None, *ids[:-1]]
