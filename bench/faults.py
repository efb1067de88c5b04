"""The fault suite at full scale: 1,500 Telegram and 300 LINE subscribers, real
``bousai run`` workers against the fake platforms behind a fault-injecting proxy
(bot/fakes/proxy.py), on SQLite and PostgreSQL. For each scenario: subscribers
lost, duplicates, duplicates allowed (recipients of rows in flight at the fault),
seconds from the end of the fault until sending resumed and until everyone was
reached. tests/faults runs the same scenarios small.

    .venv/bin/python bench/faults.py                       # everything (~40 min on 2 cores)
    .venv/bin/python bench/faults.py --db sqlite --only refused,frozen
    .venv/bin/python bench/faults.py --quick               # the test-suite scale
"""

from __future__ import annotations

import argparse
import dataclasses
import sys
import tempfile
from pathlib import Path

from common import fresh_db, header, table

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tests.faults.scenarios import SCENARIOS, Scale, run

FULL = Scale(telegram=1500, line=300, rate=30.0, refused_s=240.0, frozen_s=30.0,
             database_s=60.0, timeout=10.0, patience=900.0)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--db", default="sqlite,postgres", help="sqlite, postgres or both")
    ap.add_argument("--only", default=",".join(SCENARIOS),
                    help=f"scenarios, of: {', '.join(SCENARIOS)}")
    ap.add_argument("--quick", action="store_true", help="the small scale of tests/faults")
    ap.add_argument("--refused", type=float, help="seconds the platforms refuse connections")
    args = ap.parse_args()
    scale = Scale() if args.quick else FULL
    if args.refused:
        scale = dataclasses.replace(scale, refused_s=args.refused)
    header(f"faults: {scale.telegram} Telegram + {scale.line} LINE subscribers, Telegram at "
           f"{scale.rate:g}/s, timeouts {scale.timeout:g} s; refused {scale.refused_s:g} s, "
           f"frozen {scale.frozen_s:g} s, database {scale.database_s:g} s")
    rows = []
    for kind in args.db.split(","):
        for name in args.only.split(","):
            with fresh_db(kind) as url, tempfile.TemporaryDirectory() as tmp:
                r = run(name, url, Path(tmp), scale)
            rows.append([r.scenario, r.db, r.subscribers, r.lost, r.duplicates, r.allowed,
                         "-" if r.resumed_s is None else f"{r.resumed_s:.1f}",
                         f"{r.done_s:.1f}", "ok" if r.ok and not r.note else f"FAIL {r.note}"])
            print(table(["scenario", "db", "subscribers", "lost", "duplicates", "allowed",
                         "resumed s", "everyone s", "verdict"], rows[-1:]), flush=True)
    print()
    print(table(["scenario", "db", "subscribers", "lost", "duplicates", "allowed",
                 "resumed s", "everyone s", "verdict"], rows))


if __name__ == "__main__":
    main()
