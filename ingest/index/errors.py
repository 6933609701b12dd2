"""Errors a person can act on. Front ends catch `ReportbotError` and show its message as one line."""

from __future__ import annotations


class ReportbotError(Exception):
    """The message says what went wrong and what to do; no traceback helps the user."""


class StoreUnavailable(ReportbotError):
    """The vector store can't be reached right now (a server down, a data dir gone)."""


class WriterBusy(ReportbotError):
    """Another process is writing this store; the message says who and since when."""


class NoIndex(ReportbotError):
    """Nothing has been ingested yet."""


class IndexMismatch(ReportbotError):
    """The index was built with another embedding model, or another index format, than this code reads."""


class IngestFailed(ReportbotError):
    """The new generation could not be written; the previous one still answers."""


class BadSetting(ReportbotError, ValueError):
    """A setting that can't be used as given; the message names it and what it accepts."""
