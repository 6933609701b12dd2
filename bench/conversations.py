"""Conversations: follow-up turns ("那明年呢？", "商务局呢？", "存在什么问题？") and broad questions about a whole part
of a report, asked through the real `Answerer` with one `Conversation` per dialogue, beside the naive recipe.

    python -m bench.conversations          # → bench/results/conversations.json

`bench/conversations.jsonl` (written in session 13 by two writers who saw no code and no other set, over the
shared compilation): each line one dialogue, `turns` of `question` / `evidence` / `answerable`. A dialogue's
`split` (`tune` / `held`) holds for all its turns. A turn scores as in `bench.quality`: its rank is the first
source holding an evidence string, counted only when the turn is answered; it leads when that text starts within
the answer's first 80 characters; `evidence_in_answer` is the share of its evidence strings the answer quotes
(for a broad question, how many of the part's headings it lists). Reported per half for every turn, for the follow-up turns alone and for broad
questions (ids `-b…`, about a whole part: their evidence is that part's headings). Naive: the recipe of
`bench.quality` (500-character pieces, dense + BM25, RRF), each turn's query being the dialogue so far joined,
which is how a stateless retriever is usually given history.
"""

from __future__ import annotations

import argparse
import json
import tempfile
from pathlib import Path
from typing import Any

from bench.common import BENCH, bench_settings, corpus_files, log, write_result
from bench.quality import K, first_hit, metrics, naive

CONVERSATIONS = BENCH / "conversations.jsonl"
KINDS = ("all", "followups", "broad")


def dialogues(path: Path = CONVERSATIONS) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def _kind_of(dialogue_id: str, turn: int) -> list[str]:
    kinds = ["all"]
    if turn > 0:
        kinds.append("followups")
    if "-b" in dialogue_id and turn == 0:
        kinds.append("broad")
    return kinds


def _summary(rows: list[dict[str, Any]]) -> dict[str, Any]:
    answerable = [r for r in rows if r["answerable"]]
    unanswerable = [r for r in rows if not r["answerable"]]
    ranks = [r.get("rank") if r["found"] else None for r in answerable]
    out: dict[str, Any] = {"turns": len(rows), **metrics(ranks)}
    out["refused_unanswerable"] = f"{sum(not r['found'] for r in unanswerable)}/{len(unanswerable)}"
    out["refused_answerable"] = sum(not r["found"] for r in answerable)
    out["answer_leads_80"] = round(sum(bool(r.get("leads")) for r in answerable) / max(len(answerable), 1), 3)
    out["evidence_in_answer"] = round(sum(r.get("covers", 0.0) for r in answerable) / max(len(answerable), 1), 3)
    return out


def ours(files: list[Path], talks: list[dict[str, Any]], data_dir: Path) -> list[dict[str, Any]]:
    from bot.cli.evaluate import leads_with
    from bot.followup import Conversation
    from bot.services import Services
    from ingest.pipeline import run_ingest

    settings = bench_settings(1, "embedded", data_dir=data_dir)
    services = Services(settings)
    try:
        run_ingest(files, settings, services.store, services.embeddings, show_progress=False)
        answerer = services.answerer()
        rows = []
        for talk in talks:
            conversation = Conversation()
            for n, turn in enumerate(talk["turns"]):
                answer = answerer.ask(turn["question"], conversation=conversation, k=K)
                row: dict[str, Any] = {
                    "id": f"{talk['id']}#{n + 1}",
                    "split": talk.get("split"),
                    "kinds": _kind_of(talk["id"], n),
                    "question": turn["question"],
                    "answerable": turn.get("answerable", True),
                    "found": answer.found,
                }
                if row["answerable"] and answer.found:
                    texts = [s.text for s in answer.sources]
                    row["rank"] = first_hit(list(range(len(texts))), texts, turn["evidence"])
                    row["leads"] = leads_with(answer.answer, turn["evidence"])
                    row["covers"] = _covered(answer.answer, turn["evidence"])
                if answer.found and answer.sources:
                    row["top"] = answer.sources[0].label
                rows.append(row)
        return rows
    finally:
        services.close()


def _covered(answer: str, evidence: list[str]) -> float:
    """The share of the evidence strings the answer quotes: for a broad question, how many of its part's
    headings it lists."""
    from bot.cli.evaluate import squash
    from ingest.lexicon.normalize import normalize_for_match

    shown = squash(normalize_for_match(answer))
    wanted = [squash(normalize_for_match(e)) for e in evidence if e.strip()]
    return round(sum(e in shown for e in wanted) / max(len(wanted), 1), 3)


def _flattened(talks: list[dict[str, Any]]) -> dict[str, list[dict[str, Any]]]:
    """For the naive recipe: each turn's query is the dialogue's questions so far, joined."""
    halves: dict[str, list[dict[str, Any]]] = {}
    for talk in talks:
        said: list[str] = []
        for n, turn in enumerate(talk["turns"]):
            said.append(turn["question"])
            item = {
                "question": " ".join(said),
                "evidence": turn["evidence"],
                "answerable": turn.get("answerable", True),
            }
            for kind in _kind_of(talk["id"], n):
                halves.setdefault(f"{kind}·{talk.get('split')}", []).append(item)
    return halves


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--output", default="conversations", help="bench/results/<output>.json")
    p.add_argument("--set", type=Path, default=CONVERSATIONS, help="default: bench/conversations.jsonl")
    args = p.parse_args()
    talks = dialogues(args.set)
    files = corpus_files(1)
    naive_result = naive(files, _flattened(talks))
    with tempfile.TemporaryDirectory(prefix="bench-conversations-") as tmp:
        rows = ours(files, talks, Path(tmp))
    table = []
    for kind in KINDS:
        for split in sorted({t.get("split") for t in talks}, key=lambda s: (s != "tune", str(s))):
            chosen = [r for r in rows if kind in r["kinds"] and r["split"] == split]
            if chosen:
                name = f"{kind}·{split}"
                table.append(
                    {"set": name, "ours": _summary(chosen), "naive_rrf": naive_result.get(name, {}).get("rrf")}
                )
    path = write_result(args.output, {"benchmark": "conversations", "k": K, "table": table, "per_turn": rows})
    for row in table:
        log(json.dumps(row, ensure_ascii=False))
    log(f"wrote {path}")


if __name__ == "__main__":
    main()
