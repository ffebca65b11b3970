"""`make bench`: every benchmark in turn, each printing its own table."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
BENCHES = [
    "bench_routing.py",
    "bench_locations.py",
    "bench_dispatch.py",
    "bench_push.py",
    "bench_load.py",
    "bench_route_loop.py",
    "bench_geocode.py",
]


def main() -> int:
    failed = []
    for name in sys.argv[1:] or BENCHES:
        print(f"\n=== {name} ===", flush=True)
        began = time.monotonic()
        code = subprocess.call([sys.executable, str(HERE / name)], stdin=subprocess.DEVNULL)
        print(f"--- {name}: exit {code}, {time.monotonic() - began:.0f} s", flush=True)
        if code:
            failed.append(name)
    if failed:
        print(f"\nfailed: {', '.join(failed)}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
