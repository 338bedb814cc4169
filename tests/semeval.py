"""SemEval 2022 task 8 same-story pairs (en-en) from ../shared, for tests/test_stories.py and benchmarks/bench_stories.py."""
from __future__ import annotations

import json
from pathlib import Path

PAIRS = Path(__file__).resolve().parents[2] / "shared" / "benchdata" / "same_story_semeval" / "pairs_en_en_original.jsonl"


def load_pairs() -> list[dict]:
    """Every pair: its row, texts included."""
    return [json.loads(line) for line in PAIRS.read_text(encoding="utf-8").splitlines()]


def split_title(text: str) -> tuple[str, str]:
    """SemEval texts start with the headline: (the first line, the rest), or the first 12 words when on one line."""
    text = text.strip()
    if "\n" in text[:300]:
        title, _, body = text.partition("\n")
        return title, body
    words = text.split()
    return " ".join(words[:12]), " ".join(words[12:])
