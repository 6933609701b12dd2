"""Prompts are files in `prompts/`; loading checks that each carries the placeholders the code fills."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

REQUIRED = {
    "answer_system": set(),
    "answer_user": {"sources", "question"},
    "condense": {"history", "question"},
}


class PromptError(RuntimeError):
    """A prompt file is missing or lacks a placeholder."""


@dataclass(frozen=True)
class Prompts:
    answer_system: str
    answer_user: str
    condense: str


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
