"""The one place clients are built from settings: store, embedder, LLM. Everything else gets them passed in."""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property
from typing import TYPE_CHECKING, Any

from bot.settings import Settings
from ingest.index.store import IndexStore, open_store

if TYPE_CHECKING:  # built on first use, so a command imports only the clients it needs
    from bot.answer import Answerer
    from ingest.index.embed import CachedEmbeddings


@dataclass
class Services:
    """`serving` processes embed one short question at a time: one CPU thread answers fastest and never
    fights the other requests for cores (measured in bench/README.md); an ingest uses every core."""

    settings: Settings
    serving: bool = True
    _store: IndexStore | None = field(default=None, repr=False)

    @property
    def store(self) -> IndexStore:
        if self._store is None:
            self._store = open_store(self.settings)
        return self._store

    @cached_property
    def embeddings(self) -> CachedEmbeddings:
        return self.new_embeddings()

    @cached_property
    def llm(self) -> Any:
        """A LangChain chat model when a key is set, else None (answers are then extractive)."""
        if not self.settings.llm_enabled:
            return None
        from bot.llm import build_chat_model

        return build_chat_model(self.settings)

    def new_embeddings(self) -> CachedEmbeddings:
        """A separate embedder for an ingest inside a serving process, so queries don't queue behind it."""
        from ingest.index.embed import CachedEmbeddings, build_embeddings

        s = self.settings
        key = s.openai_api_key.get_secret_value() if s.openai_api_key else None
        threads = s.embedding_threads or (1 if self.serving else 0)
        inner = build_embeddings(s.embedding, threads, s.embedding_batch, key, s.openai_base_url)
        return CachedEmbeddings(inner, s.embed_cache_path)

    def answerer(self) -> Answerer:
        """The answering core over the live index, with the LLM when one is configured."""
        from bot.answer import Answerer
        from bot.prompts import load_prompts
        from ingest.index.reader import IndexReader

        reader = IndexReader(self.store, self.embeddings.name, check_every=self.settings.index_check_seconds)
        prompts = load_prompts(self.settings.prompts_dir) if self.llm is not None else None
        return Answerer(reader, self.embeddings, self.settings, llm=self.llm, prompts=prompts)

    def close(self) -> None:
        if self._store is not None:
            self._store.close()
        if "embeddings" in self.__dict__:
            self.embeddings.close()
