"""`bousai ingest`: JSON per alert, rejections with reasons, storing and dedupe."""

from __future__ import annotations

from tests.cli_helpers import bousai, json_lines
from tests.conftest import FIXTURES

QUAKE = FIXTURES / "jma" / "32-35_04_04_240613_VXSE53.xml"
XEE = FIXTURES / "cap" / "xee.cap"
CANADA = FIXTURES / "cap" / "canada.cap"


def test_dry_run_json_fields(env: dict[str, str]) -> None:
    bousai("db", "upgrade")
    out = json_lines(bousai("ingest", "--dry-run", "--json", str(QUAKE)).stdout)
    assert len(out) == 1
    rec = out[0]
    assert rec["source"] == "jma" and rec["kind"] == "earthquake"
    assert rec["msg_type"] == "alert" and rec["references"] is None
    assert rec["in_jurisdiction"] is True
    assert rec["wards"] == ["43101", "43102", "43103", "43104", "43105"]
    assert rec["max_intensity"] == "4"
    assert rec["issued"] == "2010-01-25T16:19:00+09:00"
    assert rec["headline_ja"].startswith("２５日１６時１５分ころ")
    # A 2010 report is not news: held as stale, whatever the rules would say.
    assert (rec["policy"], rec["rule"]) == ("hold", "stale")
    assert rec["reason"].startswith("stale: issued 2010-01-25 16:19 JST")
    assert "id" not in rec  # dry run stores nothing
    assert json_lines(bousai("alert", "list", "--json").stdout) == []


def test_rejected_document_gives_reason_and_exit_1(env: dict[str, str]) -> None:
    bousai("db", "upgrade")
    result = bousai("ingest", "--json", str(XEE), str(CANADA), expect=1)
    recs = json_lines(result.stdout)
    assert "DOCTYPE" in recs[0]["error"]
    assert recs[1]["source"] == "cap" and recs[1]["msg_type"] == "update"
    assert recs[1]["references"].startswith("cap:cap@ec.gc.ca:")


def test_store_then_dedupe(env: dict[str, str]) -> None:
    bousai("db", "upgrade")
    first = json_lines(bousai("ingest", "--json", str(QUAKE)).stdout)[0]
    assert isinstance(first["id"], int) and first["action"] == "hold"
    again = json_lines(bousai("ingest", "--json", str(QUAKE)).stdout)[0]
    assert again["id"] == first["id"] and again["duplicate"] is True
    alerts = json_lines(bousai("alert", "list", "--json").stdout)
    assert [a["status"] for a in alerts] == ["held"]
