"""Run every benchmark with modest defaults (about 4½ minutes on 2 cores; pacing and
the plain-PTB loop use 600 messages instead of 3,000, pacing taking about 20 s; the
time to the last subscriber 5,000 subscribers instead of 100,000).

    .venv/bin/python bench/run_all.py            # modest
    .venv/bin/python bench/run_all.py --full     # the sizes in bench/RESULTS.md (~23 min)
"""

from __future__ import annotations

import argparse
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent

MODEST = [
    ["fanout.py", "--sizes", "10000,100000", "--db", "sqlite,postgres", "--repeat", "3"],
    ["throughput.py", "--messages", "3000", "--repeat", "3", "--db", "sqlite,postgres"],
    ["latency.py", "--alerts", "20", "--db", "sqlite,postgres"],
    ["pacing.py", "--messages", "600"],
    ["baseline_ptb.py", "--messages", "600", "--no-engine"],
    ["residents.py", "--repeat", "3"],
    ["xbudget.py", "--db", "sqlite,postgres", "--rows", "20000", "--repeat", "10"],
    ["wakeup.py", "--alerts", "10", "--db", "sqlite,postgres"],  # ~40 s
    ["document.py", "--documents", "5", "--db", "sqlite"],  # ~30 s
    ["last_subscriber.py", "--subscribers", "5000", "--scale", "10"],
    ["console.py", "--db", "sqlite,postgres", "--subscribers", "10000", "--alerts", "5",
     "--repeat", "10", "--rounds", "1"],  # ~30 s
]
FULL = [
    ["fanout.py", "--sizes", "10000,100000,1000000", "--db", "sqlite,postgres", "--repeat", "3"],
    ["throughput.py", "--messages", "3000", "--repeat", "3", "--db", "sqlite,postgres"],
    ["throughput.py", "--messages", "10000", "--repeat", "5", "--db", "sqlite",
     "--request", "aiohttp,aiohttp+no-parse"],
    ["latency.py", "--alerts", "20", "--db", "sqlite,postgres"],
    ["baseline_ptb.py", "--messages", "3000"],  # includes the engine's pacing run
    ["residents.py", "--repeat", "5"],
    ["xbudget.py", "--db", "sqlite,postgres", "--rows", "200000", "--repeat", "20"],
    ["wakeup.py", "--alerts", "20", "--db", "sqlite,postgres"],  # ~80 s
    ["document.py", "--documents", "20", "--db", "sqlite,postgres"],  # ~4 min
    # 100,000 subscribers at ten times the platforms' limits: about 4 minutes each
    ["last_subscriber.py", "--subscribers", "100000", "--scale", "10",
     "--db", "sqlite,postgres"],
    ["console.py", "--db", "sqlite,postgres", "--subscribers", "100000", "--alerts", "20",
     "--repeat", "20", "--rounds", "3"],  # ~7 minutes
]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--full", action="store_true", help="full sizes (about 23 minutes)")
    args = ap.parse_args()
    failed = []
    for cmd in FULL if args.full else MODEST:
        print(f"\n$ python bench/{' '.join(cmd)}", flush=True)
        if subprocess.run([sys.executable, str(HERE / cmd[0]), *cmd[1:]]).returncode:
            failed.append(cmd[0])
    if failed:
        sys.exit(f"failed: {', '.join(failed)}")


if __name__ == "__main__":
    main()
