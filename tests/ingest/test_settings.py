"""Settings read from the environment and `.env`: what a user writes there means what a shell would make of it."""

from __future__ import annotations

from bot.settings import Settings


def test_home_is_expanded_in_path_settings(tmp_path, monkeypatch):
    monkeypatch.setenv("HOME", str(tmp_path))
    (tmp_path / "work").mkdir()
    (tmp_path / "work" / ".env").write_text(
        "REPORTBOT_DATA_DIR=~/rb\nREPORTBOT_REPORTS_DIR=~/reports\nREPORTBOT_PROMPTS_DIR=~/prompts\n", encoding="utf-8"
    )
    monkeypatch.chdir(tmp_path / "work")
    settings = Settings()
    assert settings.data_dir == tmp_path / "rb"
    assert settings.reports_dir == tmp_path / "reports"
    assert settings.prompts_dir == tmp_path / "prompts"
    assert settings.embed_cache_path == tmp_path / "rb" / "embed-cache.sqlite"
