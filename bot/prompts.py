"""Prompts are files in `prompts/`; loading checks that each carries the placeholders the code fills.

The top-level `prompts/` folder is the one source: pyproject maps it to the package `bot.prompt_files`, so a
wheel carries the files inside `bot/` and an editable install resolves the package back to the folder.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

from bot.errors import PromptError

PACKAGE = "bot.prompt_files"
_CHECKOUT = Path(__file__).resolve().parent.parent / "prompts"

REQUIRED = {
    "answer_system": set(),
    "answer_user": {"sources", "question"},
    "condense": {"history", "question"},
}


@dataclass(frozen=True)
class Prompts:
    answer_system: str
    answer_user: str
    condense: str


def packaged_prompts_dir() -> Path:
    """The prompts shipped with the code: the installed package, or the checkout's folder when nothing is installed.

    A plain checkout on `sys.path` has no `bot/prompt_files/` (the mapping exists only in installs), hence the
    fallback; an editable install made before the mapping existed lands there too.
    """
    try:
        root = resources.files(PACKAGE)
    except ModuleNotFoundError:
        return _CHECKOUT
    return Path(str(root))


def load_prompts(directory: Path) -> Prompts:
    texts: dict[str, str] = {}
    for name, needed in REQUIRED.items():
        path = directory / f"{name}.md"
        try:
            text = path.read_text(encoding="utf-8")
        except OSError as exc:
            raise PromptError(f"cannot read prompt {path}: {exc.strerror}") from None
        found = set(re.findall(r"(?<!\{)\{(\w+)\}(?!\})", text))
        if found != needed:
            raise PromptError(f"prompt {path} has placeholders {sorted(found)}, expected {sorted(needed)}")
        texts[name] = text
    return Prompts(**texts)
