"""All settings: the ingest side's plus the answering, LLM and Telegram ones."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

from pydantic import AliasChoices, Field, SecretStr, field_validator
from pydantic_settings import NoDecode

from bot.prompts import packaged_prompts_dir
from ingest.settings import IngestSettings, expand_home


def _ids(value: object) -> object:
    """`1, 2,3` → {1, 2, 3}; `*` stays as the explicit 'everyone'."""
    if isinstance(value, str):
        value = value.strip()
        if value == "*":
            return {"*"}
        return {int(part) for part in value.replace(";", ",").split(",") if part.strip()}
    if isinstance(value, int):
        return {value}
    return value


class Settings(IngestSettings):
    """Built once per process (CLI command or bot start-up) and passed down."""

    llm_model: str = "gpt-4o-mini"
    llm_timeout: float = 30.0
    llm_retries: int = 1
    llm_max_tokens: int = 800
    prompts_dir: Path = Field(default_factory=packaged_prompts_dir)
    top_k: int = 5
    index_check_seconds: float = 0.0
    min_score: float = 0.855
    min_score_uncovered: float = 0.90
    min_score_lexical: float = 0.83
    min_coverage: float = 0.4
    min_score_sentence: float = 0.80
    max_missing: float = 0.6
    max_question_chars: int = 1000
    answer_chars: int = 420

    telegram_bot_token: SecretStr | None = Field(default=None, validation_alias=AliasChoices("TELEGRAM_BOT_TOKEN"))
    telegram_base_url: str = Field(
        default="https://api.telegram.org/bot", validation_alias=AliasChoices("TELEGRAM_BASE_URL")
    )
    telegram_base_file_url: str | None = Field(default=None, validation_alias=AliasChoices("TELEGRAM_BASE_FILE_URL"))
    allowed_user_ids: Annotated[set[int | str], NoDecode] = Field(default_factory=set)
    allowed_chat_ids: Annotated[set[int | str], NoDecode] = Field(default_factory=set)
    admin_ids: Annotated[set[int | str], NoDecode] = Field(default_factory=set)
    rate_limit_per_minute: int = 10
    history_turns: int = 6
    webhook_secret: SecretStr | None = None

    _split_ids = field_validator("allowed_user_ids", "allowed_chat_ids", "admin_ids", mode="before")(_ids)
    _expand_prompts_dir = field_validator("prompts_dir", mode="after")(expand_home)

    @property
    def llm_enabled(self) -> bool:
        return self.openai_api_key is not None and bool(self.openai_api_key.get_secret_value())
