"""The segmenter: jieba's own terms, without loading jieba's dictionary in a process that segments little."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from ingest.lexicon import terms as lexicon
from ingest.lexicon.normalize import normalize_for_match

ROOT = Path(__file__).resolve().parents[3]


def _decode(data: bytes) -> str:
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return data.decode("gb18030")


def _texts(compilation: Path) -> list[str]:
    lines = [line for line in compilation.read_text(encoding="utf-8").splitlines() if line.strip()]
    examples = [_decode(p.read_bytes()) for p in sorted((ROOT / "examples" / "reports").glob("*.txt"))]
    odd = ["", " ", "a  b\t c", "ｘｘ年增长12.5%", "x-y_z+w#1", "D建工作", "中华人民共和国国务院办公厅", "GDP同比增长"]
    return [normalize_for_match(t) for t in lines + examples] + odd


def test_lookups_in_the_mapped_dictionary_cut_as_jieba_does(compilation, tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    monkeypatch.setattr(lexicon, "_blocks", {})
    lexicon._prefix_dict.cache_clear()
    jieba = lexicon._full()
    for text in _texts(compilation):
        small = lexicon._small(text).lcut(text)
        assert small == jieba.lcut(text), text[:40]
        assert lexicon.segment(text) == lexicon._unglued(jieba.lcut(text)), text[:40]
    assert (tmp_path / "reportbot").is_dir()  # the dictionary files live in the cache dir, not in /tmp
    lexicon._prefix_dict.cache_clear()


@pytest.mark.parametrize(
    ("text", "words"),
    [("2024年澄溪全市", ["2024", "年", "澄溪", "全市"]), ("2024年度", ["2024", "年度"]), ("3月底", ["3", "月底"])],
)
def test_a_dates_year_is_not_glued_to_the_name_after_it(text, words):
    assert lexicon.terms(text) == words


def test_a_prefix_dictionary_answers_like_the_dict_it_was_written_from(tmp_path):
    freq = {"粮": 0, "粮食": 5, "粮食局": 3, "a": 1, "ab": 0, "abc": 2}
    path = tmp_path / "d.bin"
    lexicon.write_prefix_dict(freq, 11, path)
    d = lexicon.PrefixDict(path)
    assert d.total == 11 and d.n == len(freq)
    assert {k: d.get(k) for k in freq} == freq
    assert d.get("粮食局长") is None and d.get("") is None and d.get("b") is None
    assert d.words_in("在粮食局abc") == {"粮": 0, "粮食": 5, "粮食局": 3, "a": 1, "ab": 0, "abc": 2}


def test_a_damaged_dictionary_file_is_not_used(tmp_path):
    path = tmp_path / "d.bin"
    path.write_bytes(b"not a dictionary at all, just bytes" * 4)
    with pytest.raises(ValueError):
        lexicon.PrefixDict(path)


def test_a_question_neither_loads_the_dictionary_nor_imports_pkg_resources(tmp_path):
    """A reader's first question: jieba's 0.3-0.7 s dictionary load and `pkg_resources` (0.7 s) stay out."""
    fake = tmp_path / "fake"
    fake.mkdir()
    (fake / "pkg_resources.py").write_text(
        f"open({str(tmp_path / 'imported')!r}, 'w').close()\nraise ImportError('stub')\n", encoding="utf-8"
    )
    code = textwrap.dedent(
        """
        from ingest.lexicon import terms
        print(terms.terms("粮食局明年打算新建哪些粮库？"))
        print(terms._full.cache_info().currsize)
        """
    )
    env = {"PYTHONPATH": f"{fake}:{ROOT}", "XDG_CACHE_HOME": str(tmp_path / "cache"), "PATH": "/usr/bin:/bin"}
    for _ in range(2):  # the first run writes the mapped dictionary, the second only opens it
        out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True)
        lines = out.stdout.strip().splitlines()
        assert lines[0] == "['粮食局', '明年', '打算', '新建', '粮库']"
        assert lines[1] == "0"
    assert not (tmp_path / "imported").exists()


def test_long_texts_switch_to_the_whole_dictionary(monkeypatch):
    monkeypatch.setattr(lexicon, "_segmented", 0)
    monkeypatch.setattr(lexicon, "_blocks", {})
    text = "".join(f"第{i}项工作稳步推进，" for i in range(lexicon.BULK_CHARS // 5))
    assert lexicon.segment(text) == lexicon._full().lcut(text)
    assert lexicon._full.cache_info().currsize == 1


def test_fingerprint_names_the_dictionary():
    assert lexicon.fingerprint().startswith("jieba-") and len(lexicon.fingerprint()) == len("jieba-") + 16
