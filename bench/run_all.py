"""Every benchmark in turn (what `make bench` runs): quality, ingest speed, latency, memory.

    python -m bench.run_all

The 100× scale needs its ~20,000 chunks in bench/.cache/embed-cache.sqlite; until then latency and memory
skip it (build it first with `python -m bench.build_indexes 1 10 100`, hours on 2 cores the first time).
"""

from __future__ import annotations

import subprocess
import sys

from bench.common import ROOT, log

STEPS = ("bench.quality", "bench.ingest_speed", "bench.latency", "bench.memory")


def main() -> None:
    for module in STEPS:
        log(f"running {module}")
        subprocess.run([sys.executable, "-m", module], cwd=ROOT, check=True)


if __name__ == "__main__":
    main()
