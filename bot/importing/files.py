"""Reading a subscriber file: its encoding, its format, and each record with the line
it starts on.

Formats: CSV with a header row (any suffix but the JSON ones), JSON lines
(``.jsonl``, ``.ndjson``, and ``.json`` holding one object per line) and a JSON
array of objects (``.json``, or any file whose text starts with ``[``). Text must
be UTF-8 (a UTF-8 byte-order mark is fine); a file in another encoding is refused
as a whole with the line of the first byte that is not UTF-8, since guessing an
encoding would store mangled names and ids.

A problem with the whole file (encoding, an empty file, an unknown CSV column, a
broken JSON array) raises :class:`ImportFileError`; a problem with one record
(a ragged CSV row, a line that is not a JSON object) is that record's
``problem``, so the other rows can still be checked and reported together.
"""

from __future__ import annotations

import codecs
import csv
import io
import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bot.errors import ValidationError

#: every column or key a subscriber record may have (``id`` is read and ignored, so
#: that ``bousai subscribers list --json`` output imports as it is)
FIELDS = ("channel", "user_id", "language", "wards", "kinds", "test", "active", "id")
REQUIRED = ("channel", "user_id", "language")
JSON_SUFFIXES = (".json", ".jsonl", ".ndjson")


class ImportFileError(ValidationError):
    """The file cannot be imported at all; the message names the file (and line)."""


@dataclass(frozen=True, slots=True)
class Record:
    """One row of the file: its first line, its fields (None when ``problem`` says
    why it has none) and its text as it was, for the report of rejected rows."""

    line: int
    fields: dict[str, Any] | None
    text: str
    problem: str | None = None


_BOMS = ((codecs.BOM_UTF32_LE, "UTF-32"), (codecs.BOM_UTF32_BE, "UTF-32"),
         (codecs.BOM_UTF16_LE, "UTF-16"), (codecs.BOM_UTF16_BE, "UTF-16"))
_CONVERT = "save it as UTF-8 (e.g. iconv -f {enc} -t UTF-8 {name} > fixed.csv) and import that"


def decode(data: bytes, name: str) -> str:
    """The text of a UTF-8 file, or one line saying what the file is and how to fix it."""
    for bom, encoding in _BOMS:  # UTF-32 LE starts with UTF-16 LE's mark: test it first
        if data.startswith(bom):
            raise ImportFileError(f"{name} is {encoding} (it starts with a {encoding} "
                                  "byte-order mark); "
                                  + _CONVERT.format(enc=encoding, name=name))
    head = data[:4000]
    if head and head.count(b"\0") * 4 >= len(head):
        raise ImportFileError(f"{name} looks like UTF-16 (every other byte is zero); "
                              + _CONVERT.format(enc="UTF-16", name=name))
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        bad = sum(1 for raw in data.splitlines() if not _is_utf8(raw))
        raise ImportFileError(
            f"{name}:{line}: not UTF-8 (byte 0x{data[exc.start]:02x}; {bad} line"
            f"{'s' if bad != 1 else ''} in all); "
            + _CONVERT.format(enc="LATIN1", name=name)
            + " (-f SHIFT_JIS for a Japanese spreadsheet)") from None


def _is_utf8(raw: bytes) -> bool:
    try:
        raw.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


def read(path: Path) -> list[Record]:
    """Every record of the file at ``path``; :class:`ImportFileError` when the file
    as a whole cannot be read, is empty, or holds a header and no rows."""
    name = str(path)
    text = decode(path.read_bytes(), name)
    if not text.strip():
        raise ImportFileError(f"{name} is empty: nothing to import")
    start = text.lstrip()[:1]
    if start == "[" or (start == "{" and path.suffix.lower() != ".csv"):
        records = list(_json_array(text, name) if start == "[" else _json_lines(text))
    elif path.suffix.lower() in JSON_SUFFIXES:
        raise ImportFileError(f"{name}: a JSON file must hold one object per line or an "
                              "array of objects")
    else:
        records = list(_csv(text, name))
    if not records:
        raise ImportFileError(f"{name} has no rows to import"
                              + (" (only a header)" if start not in ("[", "{") else ""))
    return records


def _json_lines(text: str) -> Iterator[Record]:
    for n, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        try:
            obj = json.loads(line)
        except json.JSONDecodeError as exc:
            yield Record(n, None, line, f"not JSON ({exc.msg} at column {exc.colno})")
            continue
        except (ValueError, RecursionError) as exc:  # a 5000-digit number, deep nesting
            yield Record(n, None, line, f"not usable JSON ({str(exc)[:80]})")
            continue
        if not isinstance(obj, dict):
            yield Record(n, None, line, f"expected a JSON object, got {type_name(obj)}")
            continue
        yield Record(n, obj, line)


def _json_array(text: str, name: str) -> Iterator[Record]:
    """The elements of a JSON array, each with the line it starts on."""
    decoder = json.JSONDecoder()
    i = _skip(text, text.index("[") + 1)
    expect_item = False
    while True:
        if i >= len(text):
            raise ImportFileError(f"{name}: the JSON array is not closed with ]")
        if text[i] == "]" and not expect_item:
            if text[i + 1:].strip():
                line = text.count("\n", 0, i) + 1
                raise ImportFileError(f"{name}:{line}: text after the end of the JSON array")
            return
        line = text.count("\n", 0, i) + 1
        try:
            obj, end = decoder.raw_decode(text, i)
        except json.JSONDecodeError as exc:
            raise ImportFileError(f"{name}:{exc.lineno}: not JSON ({exc.msg} at column "
                                  f"{exc.colno}); fix the file and import it again") from None
        except (ValueError, RecursionError) as exc:
            raise ImportFileError(f"{name}:{line}: not usable JSON ({str(exc)[:80]})") from None
        raw = text[i:end]
        if isinstance(obj, dict):
            yield Record(line, obj, raw)
        else:
            yield Record(line, None, raw, f"expected a JSON object, got {type_name(obj)}")
        i = _skip(text, end)
        expect_item = i < len(text) and text[i] == ","
        if expect_item:
            i = _skip(text, i + 1)
        elif i < len(text) and text[i] != "]":
            raise ImportFileError(f"{name}:{text.count(chr(10), 0, i) + 1}: expected , or ] "
                                  "between the objects of the JSON array")


def _skip(text: str, i: int) -> int:
    while i < len(text) and text[i] in " \t\r\n":
        i += 1
    return i


def _csv(text: str, name: str) -> Iterator[Record]:
    reader = csv.reader(io.StringIO(text, newline=""))
    header: list[str] | None = None
    previous = 0
    try:
        for row in reader:
            line, previous = previous + 1, reader.line_num
            if not any(cell.strip() for cell in row):
                continue  # a blank line, or a row of empty cells as spreadsheets write
            if header is None:
                header = _header(row, name, line)
                continue
            raw = _csv_text(row)
            if len(row) != len(header):
                yield Record(line, None, raw, f"has {len(row)} fields, the header has "
                             f"{len(header)} (quote a value that holds a comma)")
                continue
            yield Record(line, dict(zip(header, row, strict=True)), raw)
    except csv.Error as exc:
        raise ImportFileError(f"{name}:{reader.line_num}: not valid CSV ({exc})") from None


def _header(row: list[str], name: str, line: int) -> list[str]:
    header = [cell.strip().lower() for cell in row]
    if len(header) == 1 and any(sep in row[0] for sep in ";\t"):
        raise ImportFileError(f"{name}:{line}: the header has one column; separate the "
                              "columns with commas (channel,user_id,language,wards,test)")
    unknown = [h for h in header if h not in FIELDS]
    if unknown:
        raise ImportFileError(f"{name}:{line}: unknown column {', '.join(map(repr, unknown))}"
                              f"; columns: {', '.join(FIELDS[:-1])}")
    twice = sorted({h for h in header if header.count(h) > 1})
    if twice:
        raise ImportFileError(f"{name}:{line}: column {', '.join(twice)} appears twice")
    missing = [f for f in REQUIRED if f not in header]
    if missing:
        raise ImportFileError(f"{name}:{line}: the header lacks {', '.join(missing)} (it "
                              "needs channel,user_id,language; wards,kinds,test are optional)")
    return header


def _csv_text(row: list[str]) -> str:
    out = io.StringIO()
    csv.writer(out, lineterminator="").writerow(row)
    return out.getvalue()


def type_name(value: object) -> str:
    """What a JSON value is, in JSON's words."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return f"the number {value}"
    if isinstance(value, dict):
        return "an object"
    if isinstance(value, list):
        return "a list"
    return f"the text {show(str(value))}"


def show(value: str, limit: int = 40) -> str:
    """``value`` quoted for an error line: control and bidi characters escaped, cut
    at ``limit`` characters."""
    cut = value if len(value) <= limit else value[:limit] + "…"
    return repr(cut)
