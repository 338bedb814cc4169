"""Reading ../shared/samples/gold for the tests."""
from __future__ import annotations

import json
from pathlib import Path

PLACE_LABELS = {"GPE", "LOC", "FAC", "NORP"}


def load_gold(shared: Path) -> dict[str, dict]:
    """Gold answers by sample file name (e.g. '000_b865db9ad46887ed.txt')."""
    return {p.stem + ".txt": json.loads(p.read_text(encoding="utf-8")) for p in sorted((shared / "samples" / "gold").glob("*.json"))}


def sample_lines(shared: Path, name: str) -> list[str]:
    """The sample's lines, numbered as gold numbers them (0-based, every line)."""
    return (shared / "samples" / "inbox" / name).read_text(encoding="utf-8").split("\n")


def label_matches(gold_label: str, label: str) -> bool:
    """Gold says PLACE for any location-like label."""
    return label in PLACE_LABELS if gold_label == "PLACE" else label == gold_label
