"""Where originals go after their batch commits: the archive when they landed, quarantine with a note when not."""
from __future__ import annotations

import os
import shutil
from datetime import datetime
from pathlib import Path

from extractors.reading import InboxFile
from extractors.records import Batch


def _free_path(folder: Path, rel: str, taken: set[Path]) -> Path:
    """A path under folder for rel that neither exists nor is planned already."""
    target = folder / rel
    stem, suffix, n = target.stem, "".join(target.suffixes[-1:]), 1
    while target.exists() or target in taken or Path(str(target) + ".error").exists():
        n += 1
        target = target.with_name(f"{stem}-{n}{suffix}")
    taken.add(target)
    return target


def plan_destinations(
    files: list[InboxFile], batch: Batch, archive: Path, quarantine: Path, day: datetime
) -> dict[str, Path]:
    """Decide each file's destination (rel -> path) and note it on the batch's documents before the write."""
    rejected = {r.document_id for r in batch.rejections}
    taken: set[Path] = set()
    plan = {}
    for file in files:
        landed = any(doc_id not in rejected for doc_id in file.document_ids)
        folder = (archive if landed else quarantine) / day.strftime("%Y-%m-%d")
        target = _free_path(folder, file.rel, taken)
        plan[file.rel] = target
        for doc_id in file.document_ids:
            batch.stored_paths[doc_id] = str(target)
    return plan


def error_note(file: InboxFile, batch: Batch) -> str:
    """A readable note saying why a file's documents were rejected."""
    reasons = {r.document_id: r for r in batch.rejections}
    refs = {d.document_id: d.source_ref for d in batch.documents}
    lines = [f"file: {file.rel}", f"sha256: {file.raw_sha256}", f"size: {file.size} bytes", f"run: {batch.run_id}", ""]
    for doc_id in file.document_ids:
        if doc_id in reasons:
            lines.append(f"{refs.get(doc_id, doc_id)}: {reasons[doc_id].reason}: {reasons[doc_id].detail}")
    return "\n".join(lines) + "\n"


def move_originals(files: list[InboxFile], plan: dict[str, Path], batch: Batch, quarantine: Path) -> None:
    """Move each original to its planned place; quarantined ones get a `.error` note beside them."""
    rejected = {r.document_id for r in batch.rejections}
    for file in files:
        target = plan[file.rel]
        target.parent.mkdir(parents=True, exist_ok=True)
        if target.is_relative_to(quarantine) or all(d in rejected for d in file.document_ids):
            Path(str(target) + ".error").write_text(error_note(file, batch), encoding="utf-8")
        move_file(file.path, target)


def move_file(source: Path, target: Path) -> None:
    """Rename when possible (atomic on one filesystem), else copy then delete; a link is moved, not followed."""
    target.parent.mkdir(parents=True, exist_ok=True)
    if not source.exists() and not source.is_symlink():
        return  # already moved by an earlier, interrupted run
    try:
        os.replace(source, target)
    except OSError:
        shutil.move(str(source), str(target))
