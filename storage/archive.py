"""Where originals go after their batch is written: the archive when they landed, quarantine with a note when not.

Every planned move is written with its batch (storage.moves) and forgotten once done, so a killed run is
finished without rereading a file, and only the very file it recorded. A stored copy appears whole or not at
all: across file systems it is copied under a temporary name, synced, renamed into place, and only then is
the original removed.
"""
from __future__ import annotations

import errno
import hashlib
import os
import shutil
import stat
import tempfile
from datetime import datetime
from pathlib import Path, PurePosixPath

from newsflow.extractors.reading import InboxFile
from newsflow.extractors.records import Batch, Move

NAME_MAX = 255  # bytes in one file name (ext4, xfs, btrfs, tmpfs)
PATH_MAX = 4096  # bytes in a whole path (Linux)
NOTE = ".error"  # every planned name leaves room for its note's suffix
LONG_SUFFIX = 16  # bytes: a longer "extension" is just part of the name
COPY_CHUNK = 1 << 20


class FolderNotWritable(Exception):
    """The inbox, archive or quarantine folder cannot take files (permissions, read-only, immutable): nothing is written."""


class NotMoved(Exception):
    """Files were recorded but their moves failed: they wait in the inbox, recorded, for the next run to move."""


def check_folders(archive: Path, quarantine: Path, inbox: Path | None = None) -> None:
    """Fail with one line, before anything is read, when a folder is a file or cannot be written (the inbox: its
    originals could not be moved out)."""
    for what, folder in (("archive", archive), ("quarantine", quarantine), ("inbox", inbox)):
        if folder is None:
            continue
        folder = Path(os.path.abspath(folder))
        existing = folder
        while not os.path.lexists(existing) and existing != existing.parent:
            existing = existing.parent  # a missing folder is made on first use: its nearest parent must take it
        if not existing.is_dir():
            raise _not_a_folder(what, folder, existing)
        _probe(what, existing)


def _not_a_folder(what: str, folder: Path, blocker: Path) -> NotADirectoryError:
    where = "is a file" if blocker == folder else f"cannot be used: {blocker} is a file"
    return NotADirectoryError(f"the {what} folder {folder} {where}, not a folder (set another with --{what})")


def _probe(what: str, folder: Path) -> None:
    """Create and remove a file in folder: the one test that sees permissions, read-only mounts and `chattr +i`."""
    try:
        fd, name = tempfile.mkstemp(prefix=".newsflow-probe-", dir=folder)
    except OSError as exc:
        raise FolderNotWritable(f"the {what} folder {folder} cannot be written: {exc.strerror or exc}") from exc
    os.close(fd)
    os.unlink(name)


def _day_folder(what: str, root: Path, day: datetime) -> Path:
    """The root's folder for today, made and probed."""
    root = Path(os.path.abspath(root))
    folder = root / day.strftime("%Y-%m-%d")
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except (FileExistsError, NotADirectoryError) as exc:
        blocker = next((p for p in (folder, root, *root.parents) if os.path.lexists(p) and not p.is_dir()), folder)
        raise _not_a_folder(what, root, blocker) from exc
    except OSError as exc:
        raise FolderNotWritable(f"the {what} folder {root} cannot be written: {exc.strerror or exc}") from exc
    _probe(what, folder)
    return folder


def _fitted(stem: str, ext: str, n: int) -> str:
    """stem-n.ext, the stem shortened (whole characters, so UTF-8 stays valid) until name + `.error` fits NAME_MAX."""
    tail = (f"-{n}" if n > 1 else "") + ext
    room = NAME_MAX - len(os.fsencode(tail + NOTE))
    while len(os.fsencode(stem)) > room:
        stem = stem[:-1]
    return stem + tail


def _free_path(parent: Path, name: str, taken: set[Path]) -> Path:
    """A path in parent for name (suffixed -2, -3, ... and shortened as needed) that neither exists nor is planned."""
    ext = PurePosixPath(name).suffix
    if len(os.fsencode(ext)) > LONG_SUFFIX:
        ext = ""
    stem, n = name[: len(name) - len(ext)], 1
    while True:
        target = parent / _fitted(stem, ext, n)
        # lexists: an archived link counts even when it points nowhere; a name with a leftover note is not reused
        if target not in taken and not os.path.lexists(target) and not os.path.lexists(f"{target}{NOTE}"):
            taken.add(target)
            return target
        n += 1


def _place(folder: Path, rel: str, taken: set[Path]) -> Path:
    """A free path for rel under folder, its sub-folders made; flat in folder (made and probed) when they cannot be."""
    parts = PurePosixPath(rel)
    try:
        parent = folder.joinpath(*parts.parent.parts)
        parent.mkdir(parents=True, exist_ok=True)
        target = _free_path(parent, parts.name, taken)
        if len(os.fsencode(target)) + len(NOTE) < PATH_MAX:
            return target
        taken.discard(target)
    except OSError:
        pass  # e.g. a file archived today under one of rel's folder names
    return _free_path(folder, parts.name, taken)


def plan_destinations(
    files: list[InboxFile], batch: Batch, archive: Path, quarantine: Path, day: datetime
) -> dict[str, Path]:
    """Decide each file's destination (rel -> path), note it on the batch's documents and moves before the write.

    A folder that cannot take files raises NotADirectoryError or FolderNotWritable here, before anything is written.
    """
    rejected = {r.document_id for r in batch.rejections}
    taken: set[Path] = set()
    folders: dict[str, Path] = {}
    plan = {}
    batch.moves = []  # planned again after a failed write: the new plan replaces the old one
    for file in files:
        landed = any(doc_id not in rejected for doc_id in file.document_ids)
        what = "archive" if landed else "quarantine"
        if what not in folders:
            folders[what] = _day_folder(what, archive if landed else quarantine, day)
        target = _place(folders[what], file.rel, taken)
        plan[file.rel] = target
        for doc_id in file.document_ids:
            batch.stored_paths[doc_id] = str(target)
        note = None if landed else error_note(file, batch)
        batch.moves.append(Move(os.path.abspath(file.path), file.raw_sha256, file.size, str(target), note))
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


def move_originals(moves: list[Move]) -> dict[str, str]:
    """Move each original to its planned place (a quarantined one after its `.error` note); returns source -> why
    its move failed. A failed file stays in the inbox, its move recorded for the next batch to retry."""
    failed, folders = {}, set()
    for move in moves:
        source, target = Path(move.source), Path(move.target)
        try:
            if move.note is not None:
                write_note(target, move.note)
            move_file(source, target)
        except OSError as exc:
            if os.path.lexists(source):  # else taken away since it was read: nothing left to move or retry
                failed[move.source] = f"{type(exc).__name__}: {exc}"
        folders.update((source.parent, target.parent))
    sync_folders(folders)  # the renames are on disk before the journal forgets them
    return failed


def finish_move(move: Move) -> str:
    """Complete a move a killed run left: 'moved', 'gone' (nothing left to do) or 'new' (the inbox holds another
    file under that name now: read it). Raises OSError when the move fails again."""
    source, target = Path(move.source), Path(move.target)
    _remove(temp_path(target))  # a copy killed midway
    _remove(temp_path(Path(f"{target}{NOTE}")))  # a note killed midway
    if not os.path.lexists(source):
        return "gone"
    if not _matches(source, move):
        return "new"
    if os.path.lexists(target):
        if not _matches(target, move):
            return "new"  # its place holds something else: keep both, this one read as it is now
        os.unlink(source)  # killed after the copy was in place, before the original was removed
        sync_folders({source.parent})
        return "moved"
    if move.note is not None and not os.path.lexists(f"{target}{NOTE}"):
        write_note(target, move.note)
    move_file(source, target)
    sync_folders({source.parent, target.parent})
    return "moved"


def _matches(path: Path, move: Move) -> bool:
    """Whether path holds the recorded original: a link for a recorded link, else the same size and sha256."""
    try:
        st = path.lstat()
    except OSError:
        return False
    if stat.S_ISLNK(st.st_mode):
        return move.raw_sha256 == "" and move.size == 0
    if not stat.S_ISREG(st.st_mode) or st.st_size != move.size:
        return False
    if not move.raw_sha256:
        return True  # recorded unread (over the size limit, unreadable): the size is all there is
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for chunk in iter(lambda: handle.read(COPY_CHUNK), b""):
            digest.update(chunk)
    return digest.hexdigest() == move.raw_sha256


def temp_path(target: Path) -> Path:
    """The temporary name a copy to target is made under: hidden, short, the same for every attempt."""
    digest = hashlib.sha256(os.fsencode(target.name)).hexdigest()[:16]
    return target.parent / f".newsflow-{digest}.tmp"


def write_note(target: Path, text: str) -> None:
    """The `.error` note beside target, written whole or not at all."""
    note = Path(f"{target}{NOTE}")
    temp = temp_path(note)
    temp.write_text(text, encoding="utf-8")
    os.rename(temp, note)


def move_file(source: Path, target: Path) -> None:
    """Rename when possible (atomic on one file system); else copy under a temporary name, sync, rename into place,
    then remove the original. A link is moved, not followed."""
    target.parent.mkdir(parents=True, exist_ok=True)
    try:
        os.rename(source, target)
        return
    except OSError as exc:
        if exc.errno != errno.EXDEV:
            raise
    temp = temp_path(target)
    _remove(temp)
    if source.is_symlink():
        os.symlink(os.readlink(source), temp)
    else:
        shutil.copy2(source, temp)  # data and times
        fd = os.open(temp, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)
    os.rename(temp, target)
    sync_folders({target.parent})  # the copy is on disk under its name before the original goes
    os.unlink(source)


def sync_folders(folders: set[Path]) -> None:
    """fsync each folder, so the renames and removals in it survive a power cut."""
    for folder in folders:
        try:
            fd = os.open(folder, os.O_RDONLY | os.O_DIRECTORY)
        except OSError:
            continue  # gone, or not ours to open: nothing of ours to sync there
        try:
            os.fsync(fd)
        except OSError:
            pass  # some file systems cannot sync a folder; the data itself was synced
        finally:
            os.close(fd)


def _remove(path: Path) -> None:
    try:
        os.unlink(path)
    except FileNotFoundError:
        pass
