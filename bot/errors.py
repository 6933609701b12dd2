"""Errors of the answering side. Front ends catch the one base class, `ReportbotError`, for every message
meant for the user, whichever layer raised it."""

from __future__ import annotations

from ingest.index.errors import BadSetting, ReportbotError


class PromptError(ReportbotError):
    """A prompt file is missing or lacks a placeholder."""


class EmptyQuestion(ReportbotError, ValueError):
    """Nothing to answer; the caller shows a usage hint."""


class BadInput(ReportbotError, ValueError):
    """A file or option given on the command line that can't be used."""


__all__ = ["BadInput", "BadSetting", "EmptyQuestion", "PromptError", "ReportbotError"]
