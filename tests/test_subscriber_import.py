"""``bousai subscribers import`` takes a file whole or says exactly why not: every
bad file named in the operations issue gets one line per bad row, with its line
number, and nothing is written; ``--skip-invalid`` imports the good rows and writes
the bad ones to an owner-only report."""

from __future__ import annotations

import csv
import json
import os
import stat
import uuid
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import quote

import pytest
import sqlalchemy as sa

from bot.db import make_engine, upgrade
from bot.db.schema import subscriber_wards, subscribers
from tests.cli_helpers import bousai, json_lines
from tests.conftest import PG_URL

HEADER = "channel,user_id,language,wards,test\n"
GOOD_LINE = "U4af4980629000000000000000000a001"
RLO = "\u202e"


@pytest.fixture(scope="module")
def shared(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, sa.Engine]]:
    """One migrated database for the module (migrating costs more than the tests);
    each test empties the subscriber tables after itself."""
    if PG_URL.startswith("postgresql"):
        schema = f"t_{uuid.uuid4().hex[:12]}"
        admin = make_engine(PG_URL)
        with admin.begin() as conn:
            conn.execute(sa.text(f'CREATE SCHEMA "{schema}"'))
        sep = "&" if "?" in PG_URL else "?"
        url = f"{PG_URL}{sep}options={quote(f'-csearch_path={schema}')}"
    else:
        url = f"sqlite:///{tmp_path_factory.mktemp('import') / 'bousai.db'}"
    engine = make_engine(url)
    upgrade(engine)
    yield url, engine
    engine.dispose()
    if PG_URL.startswith("postgresql"):
        with admin.begin() as conn:
            conn.execute(sa.text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


@pytest.fixture
def db(shared: tuple[str, sa.Engine], monkeypatch: pytest.MonkeyPatch,
       tmp_path: Path) -> Iterator[sa.Engine]:
    url, engine = shared
    for var in list(os.environ):
        if var.startswith(("TELEGRAM_", "LINE_", "X_API", "X_ACCESS", "BOUSAI_")):
            monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("BOUSAI_DATABASE_URL", url)
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    yield engine
    with engine.begin() as conn:
        conn.execute(sa.delete(subscriber_wards))
        conn.execute(sa.delete(subscribers))


def _count(engine: sa.Engine) -> int:
    with engine.connect() as conn:
        return int(conn.execute(sa.select(sa.func.count()).select_from(subscribers)).scalar_one())


def _write(tmp_path: Path, name: str, content: str | bytes) -> Path:
    path = tmp_path / name
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_text(content, encoding="utf-8", newline="")
    return path


def _jsonl(*rows: object) -> str:
    return "".join((r if isinstance(r, str) else json.dumps(r)) + "\n" for r in rows)


def _errors(stderr: str) -> list[str]:
    return [line for line in stderr.splitlines() if line.startswith("error: ")]


ok = {"channel": "telegram", "user_id": "5001", "language": "vi", "wards": "43101"}

# (file name, content, {line: what the error line says}) for each bad file of the issue
BAD_FILES = [
    ("ragged.csv", HEADER + "telegram,1001,vi,43101,false\n"
                            "telegram,1002,en,43101,false,surplus\n"
                            "telegram,1003,en\n",
     {3: "has 6 fields, the header has 5", 4: "has 3 fields, the header has 5"}),
    ("types.jsonl", _jsonl(ok, ok | {"user_id": None}, ok | {"user_id": {"id": 1}},
                           ok | {"user_id": "5003", "test": "maybe"},
                           ok | {"user_id": "5004", "wards": 43101},
                           ok | {"user_id": "5005", "kinds": [1, 2]},
                           ok | {"user_id": 5006, "wards": ["43101"]}),
     {2: "user_id is missing (null)", 3: "user_id must be text or a whole number, not an object",
      4: "test must be true or false, not the text 'maybe'",
      5: "wards must be text or a list of text such as \"43101 43104\" or [\"43101\"], not "
         "the number 43101",
      6: "kinds must be text or a list of text such as \"earthquake tsunami\" or "
         "[\"earthquake\"], not a list with the number 1"}),
    ("characters.csv", HEADER + "telegram,10\x0001,vi,43101,false\n"
                                f"telegram,{RLO}1002,vi,43101,false\n"
                                "telegram,1003,vi,43101,false\n"
                                "telegram,10\u200b04,vi,43101,false\n",
     {2: "user_id '10\\x0001' contains a NUL character (U+0000)",
      3: "user_id '\\u202e1002' contains a bidirectional-text control U+202E "
         "RIGHT-TO-LEFT OVERRIDE",
      5: "user_id '10\\u200b04' contains an invisible character U+200B ZERO WIDTH SPACE"}),
    ("twice.csv", HEADER + "telegram,1001,vi,43101,false\n"
                           "line,U0000000000000000000000000000ab01,en,43102,false\n"
                           "telegram,1001,en,43101,false\n",
     {2: "telegram user '1001' is also on line 4: keep one row per user",
      4: "telegram user '1001' is also on line 2: keep one row per user"}),
    ("unknown.csv", HEADER + "telegram,1001,xx,43101,false\n"
                             "telegram,1002,vi,99999,false\n"
                             "sms,1003,vi,43101,false\n"
                             "line,U123,vi,43101,false\n"
                             "telegram,@someone,vi,43101,false\n"
                             ",1006,vi,43101,false\n",
     {2: "unknown language 'xx' (languages: ja ja-easy en",
      3: "unknown or ambiguous ward '99999' (`bousai wards` lists them",
      4: "channel 'sms' is not one of telegram, line, x",
      5: "user_id 'U123' is not a user id on line (U and 32 lowercase hex digits)",
      6: "user_id '@someone' is not a user id on telegram (a chat id: digits",
      7: "channel is missing"}),
    ("kinds.json", json.dumps([ok, ok | {"user_id": "5002", "kinds": "earthquake flood"},
                               "not an object"], indent=2),
     {8: "unknown kind 'flood' (kinds: earthquake tsunami", 15: "expected a JSON object, "
                                                                "got the text 'not an object'"}),
]


@pytest.mark.parametrize(("name", "content", "expected"), BAD_FILES,
                         ids=[b[0] for b in BAD_FILES])
def test_a_bad_file_is_refused_whole_with_one_line_per_bad_row(
        db: sa.Engine, tmp_path: Path, name: str, content: str,
        expected: dict[int, str]) -> None:
    path = _write(tmp_path, name, content)
    result = bousai("subscribers", "import", str(path), expect=1)
    lines = _errors(result.stderr)
    assert "Traceback" not in result.stderr + result.stdout
    listed = lines[:-1]
    assert [int(line.split(":")[2]) for line in listed] == sorted(expected)
    for line, (n, what) in zip(listed, sorted(expected.items()), strict=True):
        assert line.startswith(f"error: {path}:{n}: {what}"), line
    assert "nothing was imported" in lines[-1]
    assert f"{len(expected)} of " in lines[-1] and "--skip-invalid" in lines[-1]
    assert _count(db) == 0


@pytest.mark.parametrize(("name", "content", "says"), [
    ("empty.csv", "", "is empty: nothing to import"),
    ("blank.jsonl", "\n  \n", "is empty: nothing to import"),
    ("header.csv", HEADER, "has no rows to import (only a header)"),
    ("array.json", "[ ]", "has no rows to import"),
    ("latin1.csv", (HEADER + "telegram,1001,vi,43101,false\ntelegram,1002,pt,Jos\xe9,false\n"
                    ).encode("latin-1"),
     "latin1.csv:3: not UTF-8 (byte 0xe9; 1 line in all); save it as UTF-8 (e.g. iconv -f "
     "LATIN1 -t UTF-8"),
    ("utf16.csv", (HEADER + "telegram,1001,vi,43101,false\n").encode("utf-16"),
     "is UTF-16 (it starts with a UTF-16 byte-order mark); save it as UTF-8"),
    ("utf16be.csv", (HEADER + "telegram,1001,vi,43101,false\n").encode("utf-16-be"),
     "looks like UTF-16 (every other byte is zero)"),
    ("utf32.jsonl", _jsonl(ok).encode("utf-32"), "is UTF-32"),
    ("semicolons.csv", "channel;user_id;language\ntelegram;1001;vi\n",
     "the header has one column; separate the columns with commas"),
    ("typo.csv", "channel,user_id,langauge\ntelegram,1001,vi\n", "unknown column 'langauge'"),
    ("lacking.csv", "channel,user_id\ntelegram,1001\n", "the header lacks language"),
    ("broken.json", '[{"channel": "telegram",\n "user_id": 1001,, }]', "broken.json:2: not JSON"),
])
def test_a_file_that_cannot_be_read_is_one_line(db: sa.Engine, tmp_path: Path, name: str,
                                                content: str | bytes, says: str) -> None:
    path = _write(tmp_path, name, content)
    result = bousai("subscribers", "import", str(path), expect=1)
    assert _errors(result.stderr) == [line for line in result.stderr.splitlines() if line]
    [line] = _errors(result.stderr)
    assert says in line, line
    assert _count(db) == 0


def test_skip_invalid_imports_the_good_rows_and_reports_the_bad(
        db: sa.Engine, tmp_path: Path) -> None:
    path = _write(tmp_path, "mixed.csv", HEADER + "telegram,1001,vi,43101,false\n"
                                                  f"telegram,{RLO}1002,vi,43101,false\n"
                                                  f"line,{GOOD_LINE},zh-Hans,中央区 南区,yes\n"
                                                  "telegram,1003,en,43101,maybe\n")
    result = bousai("subscribers", "import", "--skip-invalid", str(path))
    report = tmp_path / "mixed.csv.rejected.csv"
    assert result.stdout.strip() == (f"imported 2 rows: 2 new, 0 updated; 2 bad rows "
                                     f"skipped, written to {report}")
    mode = stat.S_IMODE(report.stat().st_mode)
    assert mode & (stat.S_IWGRP | stat.S_IWOTH | stat.S_IROTH) == 0
    with report.open(encoding="utf-8", newline="") as f:
        rows = list(csv.DictReader(f))
    assert [(r["line"], r["record"]) for r in rows] == [
        ("3", f"telegram,{RLO}1002,vi,43101,false"), ("5", "telegram,1003,en,43101,maybe")]
    assert rows[1]["problem"] == "test must be true or false, not the text 'maybe'"
    subs = json_lines(bousai("subscribers", "list", "--json").stdout)
    assert [(s["user_id"], s["language"], s["wards"], s["test"]) for s in subs] == [
        ("1001", "vi", ["43101"], False), (GOOD_LINE, "zh-Hans", ["43101", "43104"], True)]


def test_skip_invalid_with_no_good_row_imports_nothing_and_says_where(
        db: sa.Engine, tmp_path: Path) -> None:
    path = _write(tmp_path, "bad.jsonl", _jsonl(ok | {"user_id": None}))
    report = tmp_path / "out" / "report.csv"
    report.parent.mkdir()
    result = bousai("subscribers", "import", "--skip-invalid", "--report", str(report),
                    str(path), expect=1)
    assert _errors(result.stderr) == [f"error: none of the 1 rows can be imported; the "
                                      f"problems are in {report}"]
    assert report.read_text(encoding="utf-8").splitlines()[1].startswith("1,user_id is missing")
    assert _count(db) == 0
    same = bousai("subscribers", "import", "--skip-invalid", "--report", str(path), str(path),
                  expect=1)
    assert _errors(same.stderr) == [f"error: --report {path} is the file being imported; "
                                    "name another file"]
    assert path.read_text(encoding="utf-8") == _jsonl(ok | {"user_id": None})


def test_at_most_twenty_bad_rows_are_listed(db: sa.Engine, tmp_path: Path) -> None:
    rows = "".join(f"telegram,{2000 + i},vi,43101,perhaps\n" for i in range(25))
    path = _write(tmp_path, "many.csv", HEADER + "telegram,1001,vi,43101,false\n" + rows)
    lines = _errors(bousai("subscribers", "import", str(path), expect=1).stderr)
    assert len(lines) == 21
    assert lines[0].startswith(f"error: {path}:3: test must be true or false")
    assert lines[-1].startswith("error: 25 of 26 rows are bad (5 more not shown); nothing was "
                                "imported: fix them, or add --skip-invalid to import the 1 "
                                "good row and write")


def test_good_files_import_in_every_format_and_the_list_round_trips(
        db: sa.Engine, tmp_path: Path) -> None:
    bom_csv = _write(tmp_path, "excel.csv", "\ufeff" + HEADER.replace("test", "kinds,test")
                     .upper() + "\r\ntelegram,1001,vi,43101;43104,earthquake tsunami,1\r\n"
                     ",,,,,\r\n")
    assert bousai("subscribers", "import", str(bom_csv)).stdout.startswith("imported 1 rows")
    array = _write(tmp_path, "array.json", json.dumps(
        [{"channel": "LINE", "user_id": GOOD_LINE, "language": "ja-easy", "wards": "all"},
         {"channel": "telegram", "user_id": -1001234567890, "language": "en"}]))
    assert bousai("subscribers", "import", str(array)).stdout.startswith("imported 2 rows")
    listed = bousai("subscribers", "list", "--json").stdout
    again = _write(tmp_path, "export.jsonl", listed)
    assert bousai("subscribers", "import", str(again)).stdout.strip() == (
        "imported 3 rows: 0 new, 3 updated")
    subs = {s["user_id"]: s for s in json_lines(bousai("subscribers", "list", "--json").stdout)}
    assert subs["1001"]["kinds"] == ["earthquake", "tsunami"] and subs["1001"]["test"] is True
    assert len(subs[GOOD_LINE]["wards"]) == 5 and subs["-1001234567890"]["language"] == "en"


def test_add_refuses_what_import_refuses(db: sa.Engine) -> None:
    result = bousai("subscribers", "add", "--channel", "telegram", "--user-id", f"{RLO}123",
                    "--language", "vi", expect=1)
    assert _errors(result.stderr) == ["error: user_id '\\u202e123' contains a "
                                      "bidirectional-text control U+202E RIGHT-TO-LEFT OVERRIDE"]
    assert _count(db) == 0
