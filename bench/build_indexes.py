"""Build (or bring up to date) the cached embedded indexes of the scaled corpora, logging progress.

    python -m bench.build_indexes 1 10 100

The first 100× build embeds ~20,000 chunks (hours on 2 busy cores); every later run reuses
bench/.cache/embed-cache.sqlite and the indexes in bench/.cache, so it takes seconds.
"""

from __future__ import annotations

import argparse
import json

from bench.common import ensure_index, log


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("scales", nargs="*", type=int, default=[1, 10, 100])
    args = p.parse_args()
    for scale in args.scales:
        log(f"building {scale}x embedded")
        summary = ensure_index(scale, "embedded", progress_every=640)
        log(json.dumps(summary, ensure_ascii=False))


if __name__ == "__main__":
    main()
