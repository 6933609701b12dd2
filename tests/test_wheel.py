"""What a user installs is the whole product: the built wheel, an editable install and a bare checkout all run.

The editable install the suite runs from hides packaging mistakes (it serves every file of the checkout), so
these tests build the wheel from a copy of the checkout and run it in a fresh venv that sees the project's
dependencies (a plain path line in a .pth, which does not run the editable finder's .pth) but neither the
checkout nor the editable install. Every child runs with its cwd in a temp dir.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import sysconfig
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from fnmatch import fnmatch
from pathlib import Path

import pytest

from tests.fakes.openai_server import FakeOpenAIServer

ROOT = Path(__file__).resolve().parents[1]

PACKAGE_ROOTS = ("bot", "ingest")
PROMPTS_PACKAGE = "bot/prompt_files"
_PROJECT_VARS = ("REPORTBOT_", "OPENAI_", "CHROMA_", "TELEGRAM_")
_SKIP_AT_TOP = {".venv", ".git", "build", "dist", "data"}
_SKIP_ANYWHERE = ("__pycache__", "*.pyc", "*.egg-info", ".*cache")
QUESTION = "交通运输局明年计划新建哪些公路？"
REPLY = "明年计划新建两条公路。[1]"
MARKER = "（本行只在安装包里的副本中）"


def _ignore(folder: str, names: list[str]) -> set[str]:
    skipped = {n for n in names if any(fnmatch(n, pattern) for pattern in _SKIP_ANYWHERE)}
    if Path(folder) == ROOT:
        skipped |= _SKIP_AT_TOP & set(names)
    return skipped


def _run(args: list[str], *, cwd: Path, env: dict[str, str], timeout: float = 120) -> subprocess.CompletedProcess[str]:
    return subprocess.run(args, cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout)


def _ok(out: subprocess.CompletedProcess[str]) -> str:
    assert out.returncode == 0, f"{out.args} exited {out.returncode}\n{out.stdout[-2000:]}\n{out.stderr[-4000:]}"
    return out.stdout


@dataclass
class Venv:
    """A venv without pip; `see_dependencies()` lets it import what .venv has installed, except reportbot."""

    path: Path
    env: dict[str, str]
    cwd: Path
    site: Path = field(init=False)

    def __post_init__(self) -> None:
        _ok(_run([sys.executable, "-m", "venv", "--without-pip", str(self.path)], cwd=self.cwd, env=self.env))
        query = "import sysconfig; print(sysconfig.get_paths()['purelib'])"
        self.site = Path(_ok(_run([str(self.python), "-c", query], cwd=self.cwd, env=self.env)).strip())

    @property
    def python(self) -> Path:
        return self.path / "bin" / "python"

    def install(self, wheel: Path) -> None:
        """Before `see_dependencies()`, so pip sees an empty venv and never touches .venv's editable install."""
        pip = [sys.executable, "-m", "pip", "--python", str(self.python), "install", "-q", "--no-deps", "--no-index"]
        _ok(_run([*pip, str(wheel)], cwd=self.cwd, env=self.env, timeout=180))

    def see_dependencies(self) -> None:
        ours = {sysconfig.get_paths()["purelib"], sysconfig.get_paths()["platlib"]}
        (self.site / "reportbot_test_deps.pth").write_text("".join(f"{p}\n" for p in sorted(ours)), encoding="utf-8")

    def run(
        self, *args: str, timeout: float = 120, cwd: Path | None = None, **env: str
    ) -> subprocess.CompletedProcess[str]:
        return _run(list(args), cwd=cwd or self.cwd, env={**self.env, **env}, timeout=timeout)


@dataclass(frozen=True)
class Built:
    checkout: Path
    wheel: Path
    installed: Venv
    work: Path


def _child_env(guard: Path) -> dict[str, str]:
    """The test's environment minus the project's variables and any PYTHONPATH but the network guard's."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(_PROJECT_VARS) and k != "VIRTUAL_ENV"}
    env["PYTHONPATH"] = str(guard)
    env["PYTHONDONTWRITEBYTECODE"] = "1"
    return env


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory, no_network_in_subprocesses: Path) -> Iterator[Built]:
    work = tmp_path_factory.mktemp("wheel")
    env = _child_env(no_network_in_subprocesses)
    checkout = work / "checkout"
    shutil.copytree(ROOT, checkout, ignore=_ignore)
    dist = work / "dist"
    pip_wheel = [sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "--no-build-isolation", "--no-index"]
    pip_wheel.append("--check-build-dependencies")  # says so when .venv lacks setuptools>=77 (the test extra)
    _ok(_run([*pip_wheel, "-w", str(dist), str(checkout)], cwd=work, env=env, timeout=180))
    (wheel,) = dist.glob("reportbot-*.whl")
    installed = Venv(work / "venv", env, work)
    installed.install(wheel)
    installed.see_dependencies()
    yield Built(checkout, wheel, installed, work)


def _checkout_packages(checkout: Path) -> list[str]:
    found = [p.parent.relative_to(checkout) for root in PACKAGE_ROOTS for p in (checkout / root).rglob("__init__.py")]
    return sorted(".".join(p.parts) for p in found)


def test_wheel_carries_every_module_data_file_and_prompt(built):
    names = set(zipfile.ZipFile(built.wheel).namelist())
    expected = {
        p.relative_to(built.checkout).as_posix()
        for root in PACKAGE_ROOTS
        for p in (built.checkout / root).rglob("*")
        if p.is_file() and not p.name.startswith(".")
    }
    expected |= {f"{PROMPTS_PACKAGE}/{p.name}" for p in (built.checkout / "prompts").iterdir() if p.is_file()}
    assert {"bot/py.typed", "ingest/py.typed", f"{PROMPTS_PACKAGE}/answer_system.md"} <= expected
    missing = sorted(expected - names)
    assert not missing, f"not in the wheel (add them to [tool.setuptools] in pyproject.toml): {missing}"
    tops = {name.split("/", 1)[0] for name in names}
    assert {t for t in tops if not t.endswith(".dist-info")} == set(PACKAGE_ROOTS), tops


def test_every_package_of_the_checkout_imports_from_the_installed_wheel(built):
    packages = [*_checkout_packages(built.checkout), "bot.prompt_files"]
    assert {"bot.telegram", "bot.cli", "ingest.index", "ingest.lexicon"} <= set(packages)
    code = (
        "import importlib, json, sys\n"
        f"print(json.dumps({{n: importlib.import_module(n).__file__ for n in {packages!r}}}))\n"
    )
    files = json.loads(_ok(built.installed.run(str(built.installed.python), "-c", code)))
    outside = {name: path for name, path in files.items() if not Path(path).is_relative_to(built.installed.site)}
    assert not outside, f"imported from outside the installed wheel: {outside}"


def test_installed_commands_start(built):
    reportbot = str(built.installed.path / "bin" / "reportbot")
    assert "telegram" in _ok(built.installed.run(reportbot, "--help"))
    assert "--webhook" in _ok(built.installed.run(reportbot, "telegram", "--help"))


def test_installed_wheel_ingests_and_answers_with_its_packaged_prompts(built):
    installed_prompt = built.installed.site / PROMPTS_PACKAGE / "answer_system.md"
    source_prompt = (built.checkout / "prompts" / "answer_system.md").read_text(encoding="utf-8")
    assert installed_prompt.read_text(encoding="utf-8") == source_prompt
    # Marking the installed copy proves the child reads the wheel's file, not some checkout's.
    installed_prompt.write_text(source_prompt.rstrip("\n") + "\n" + MARKER + "\n", encoding="utf-8")
    data = str(built.work / "data")
    reportbot = str(built.installed.path / "bin" / "reportbot")
    reports = str(built.checkout / "examples" / "reports")
    _ok(built.installed.run(reportbot, "ingest", reports, timeout=300, REPORTBOT_DATA_DIR=data))
    with FakeOpenAIServer(reply=REPLY) as server:
        llm = {"OPENAI_API_KEY": "test-key", "OPENAI_BASE_URL": server.base_url}
        record = json.loads(
            _ok(built.installed.run(reportbot, "ask", "--json", QUESTION, REPORTBOT_DATA_DIR=data, **llm))
        )
        messages = server.last_messages()
    assert messages[0]["role"] == "system"
    assert messages[0]["content"].strip() == (source_prompt.rstrip("\n") + "\n" + MARKER).strip()
    assert QUESTION in messages[-1]["content"]
    assert record["found"] is True
    assert record["answer"] == REPLY, record


_PROMPTS_PROBE = (
    "import bot, json\n"
    "from bot.prompts import load_prompts\n"
    "from bot.settings import Settings\n"
    "folder = Settings(_env_file=None).prompts_dir\n"
    "load_prompts(folder)\n"
    "print(json.dumps({'bot': bot.__file__, 'prompts': str(folder)}))\n"
)


def test_editable_install_reads_the_checkout_prompts(built):
    """The package-dir mapping resolves in an editable install too (setuptools' finder needs prompts/__init__.py)."""
    backend = "import setuptools.build_meta as b, sys; b.build_editable(sys.argv[1])"
    out = built.work / "editable-dist"
    _ok(_run([sys.executable, "-c", backend, str(out)], cwd=built.checkout, env=built.installed.env))
    (wheel,) = out.glob("reportbot-*.whl")
    editable = Venv(built.work / "editable-venv", built.installed.env, built.work)
    editable.install(wheel)
    editable.see_dependencies()
    probe = "import importlib.resources as r; print(r.files('bot.prompt_files'))"
    assert Path(_ok(editable.run(str(editable.python), "-c", probe)).strip()) == built.checkout / "prompts"
    seen = json.loads(_ok(editable.run(str(editable.python), "-c", _PROMPTS_PROBE)))
    assert Path(seen["bot"]).is_relative_to(built.checkout / "bot")
    assert Path(seen["prompts"]) == built.checkout / "prompts"


def test_bare_checkout_reads_its_prompts(built):
    bare = Venv(built.work / "bare-venv", built.installed.env, built.work)
    bare.see_dependencies()
    seen = json.loads(_ok(bare.run(str(bare.python), "-c", _PROMPTS_PROBE, cwd=built.checkout)))
    assert Path(seen["bot"]).is_relative_to(built.checkout / "bot")
    assert Path(seen["prompts"]) == built.checkout / "prompts"
