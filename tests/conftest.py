"""Fixtures that build real objects: settings on temp dirs, a real Chroma index of the shared corpus."""

from __future__ import annotations

import inspect
import ipaddress
import os
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from bot.answer import Answerer
from bot.services import Services
from bot.settings import Settings
from ingest.index.reader import IndexReader
from ingest.pipeline import run_ingest

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared"
EXAMPLES = ROOT / "examples" / "reports"
_OUR_VARS = ("REPORTBOT_", "OPENAI_", "CHROMA_", "TELEGRAM_")


def _loopback(address: object) -> bool:
    if not isinstance(address, tuple):
        return True  # unix sockets
    host = str(address[0])
    if host in {"localhost", ""}:
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


@pytest.fixture(scope="session", autouse=True)
def no_network() -> Iterator[None]:
    """Fail any test that reaches beyond loopback: nothing may download at run time."""
    real_connect = socket.socket.connect

    def guarded(self: socket.socket, address: object) -> object:
        if not _loopback(address):
            raise AssertionError(f"network access attempted: {address!r}")
        return real_connect(self, address)

    socket.socket.connect = guarded  # type: ignore[method-assign]
    yield
    socket.socket.connect = real_connect  # type: ignore[method-assign]


_CHILD_GUARD = """
_real_connect = socket.socket.connect


def _guarded(self, address):
    if not _loopback(address):
        raise AssertionError(f"network access attempted: {address!r}")
    return _real_connect(self, address)


socket.socket.connect = _guarded
"""


@pytest.fixture(scope="session", autouse=True)
def no_network_in_subprocesses(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """The same guard in every Python process a test starts (`python -m bot`, `chroma run`, a test venv's scripts).

    A `sitecustomize.py` on PYTHONPATH runs at interpreter start-up; children inherit it through os.environ, and
    tests that build a child's env from scratch must carry PYTHONPATH over (this fixture's value is the folder).
    """
    folder = tmp_path_factory.mktemp("netguard")
    source = "# Written by tests/conftest.py.\nimport ipaddress\nimport socket\n\n\n" + inspect.getsource(_loopback)
    (folder / "sitecustomize.py").write_text(source + "\n" + _CHILD_GUARD, encoding="utf-8")
    saved = os.environ.get("PYTHONPATH")
    os.environ["PYTHONPATH"] = os.pathsep.join([str(folder), *filter(None, [saved])])
    yield folder
    if saved is None:
        os.environ.pop("PYTHONPATH", None)
    else:
        os.environ["PYTHONPATH"] = saved


@pytest.fixture(scope="session", autouse=True)
def clean_environment() -> Iterator[None]:
    """Tests never see a developer's settings."""
    saved = {k: v for k, v in os.environ.items() if k.startswith(_OUR_VARS)}
    for key in saved:
        del os.environ[key]
    os.environ["ANONYMIZED_TELEMETRY"] = "False"
    yield
    os.environ.update(saved)


@pytest.fixture(scope="session")
def shared_dir() -> Path:
    if not (SHARED / "corpus" / "bureau-reports-2023.txt").exists():
        pytest.skip("../shared is absent")
    return SHARED


@pytest.fixture(scope="session")
def compilation(shared_dir: Path) -> Path:
    return shared_dir / "corpus" / "bureau-reports-2023.txt"


@pytest.fixture(scope="session")
def embed_cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One embedding cache for the session, so the corpus is embedded once however many tests ingest it."""
    return tmp_path_factory.mktemp("cache") / "embed-cache.sqlite"


@pytest.fixture
def make_settings(tmp_path: Path, embed_cache: Path) -> Callable[..., Settings]:
    def factory(**overrides: object) -> Settings:
        values: dict[str, object] = {"data_dir": tmp_path / "data", "embed_cache": embed_cache}
        values.update(overrides)
        return Settings(_env_file=None, **values)  # type: ignore[arg-type]

    return factory


@pytest.fixture
def services(make_settings: Callable[..., Settings]) -> Iterator[Services]:
    svc = Services(make_settings())
    yield svc
    svc.close()


@pytest.fixture(scope="session")
def corpus_services(
    tmp_path_factory: pytest.TempPathFactory, compilation: Path, embed_cache: Path
) -> Iterator[Services]:
    """A real embedded index of the shared compilation, built once per test session."""
    settings = Settings(_env_file=None, data_dir=tmp_path_factory.mktemp("corpus") / "data", embed_cache=embed_cache)  # type: ignore[call-arg]
    svc = Services(settings, serving=False)
    result = run_ingest([compilation], settings, svc.store, svc.embeddings, show_progress=False)
    assert not result.failed
    yield svc
    svc.close()


@pytest.fixture(scope="session")
def corpus_answerer(corpus_services: Services) -> Answerer:
    reader = IndexReader(corpus_services.store, corpus_services.embeddings.name)
    return Answerer(reader, corpus_services.embeddings, corpus_services.settings)


class ChromaServer:
    """A real `chroma run` on a free loopback port, restartable on the same data path."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.port = _free_port()
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        exe = Path(sys.executable).parent / "chroma"
        self.proc = subprocess.Popen(
            [str(exe), "run", "--path", str(self.path), "--host", "127.0.0.1", "--port", str(self.port)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{self.port}/api/v2/heartbeat", timeout=1):
                    return
            except OSError:
                time.sleep(0.2)
        raise RuntimeError("chroma run did not come up")

    def stop(self) -> None:
        if self.proc is not None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
            self.proc = None


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def chroma_server(tmp_path: Path) -> Iterator[ChromaServer]:
    server = ChromaServer(tmp_path / "chroma-server")
    server.start()
    yield server
    server.stop()
