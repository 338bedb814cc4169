"""Read the inbox: each file becomes one RawDocument, or several (JSON lists, JSONL, feed files)."""
from __future__ import annotations

import hashlib
import json
import os
import stat
import sys
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

from newsflow.extractors.decoding import DecodeError, decode_text, valid_text
from newsflow.extractors.isolation import failure_detail
from newsflow.extractors.records import RawDocument, Rejection, parse_datetime
from newsflow.extractors.settings import Limits

TEXT_SUFFIXES = {".txt", ".md", ".text", ".markdown"}
HTML_SUFFIXES = {".html", ".htm", ".xhtml"}
JSON_SUFFIXES = {".json", ".jsonl", ".ndjson"}
FEED_SUFFIXES = {".xml", ".rss", ".atom", ".rdf"}
# Files being written follow the write-to-a-temporary-name-then-rename convention; never touch them.
PARTIAL_SUFFIXES = {".tmp", ".part", ".partial", ".crdownload", ".swp"}
UTF32_XML = (b"\x00\x00\x00<", b"<\x00\x00\x00")  # XML in UTF-32 without a BOM (XML 1.0, appendix F)

TEXT_KEYS = ("text", "content", "body", "article", "maintext")
HTML_KEYS = ("html", "content_html", "raw_html")
URL_KEYS = ("url", "link", "canonical_url", "source_url")
TITLE_KEYS = ("title", "headline")
DATE_KEYS = ("published", "published_at", "date", "date_publish", "pubDate", "datePublished")
AUTHOR_KEYS = ("author", "byline", "authors", "creator")
TOO_DEEP = f"JSON nested deeper than Python's recursion limit ({sys.getrecursionlimit()}) allows"


@dataclass(slots=True)
class InboxFile:
    """One file taken from the inbox and the documents it produced."""

    path: Path
    rel: str  # path relative to the inbox, used as source_ref
    raw_sha256: str
    size: int
    document_ids: list[str] = field(default_factory=list)


def new_document_id() -> str:
    """A unique id per receipt: the same file dropped twice is two documents."""
    return uuid.uuid4().hex


def list_inbox(inbox: Path) -> list[Path]:
    """Files ready in the inbox, oldest first; hidden and partially written files are skipped."""
    found = []
    for root, dirs, files in os.walk(inbox, followlinks=False):
        dirs[:] = sorted(d for d in dirs if not d.startswith("."))
        # os.walk lists a linked folder but does not enter it; report the link so it is quarantined.
        found.extend(Path(root, d) for d in dirs if Path(root, d).is_symlink())
        for name in files:
            path = Path(root, name)
            if name.startswith(".") or path.suffix.lower() in PARTIAL_SUFFIXES or name.endswith(".error"):
                continue
            found.append(path)
    return sorted(found, key=lambda p: (_mtime(p), str(p)))


def _mtime(path: Path) -> float:
    try:
        return path.lstat().st_mtime
    except OSError:
        return 0.0


def _first(record: dict, keys: tuple[str, ...]) -> str | None:
    for key in keys:
        value = record.get(key)
        if isinstance(value, list):
            value = ", ".join(str(v.get("name", v)) if isinstance(v, dict) else str(v) for v in value if v)
        if isinstance(value, dict):
            value = value.get("name") or value.get("url")
        if value not in (None, ""):
            return valid_text(str(value))
    return None


def site_of(rel: str) -> str | None:
    """The inbox sub-folder a file sits in is its site key (for learning site chrome)."""
    parts = Path(rel).parts
    return f"inbox:{parts[0]}" if len(parts) > 1 else None


class _Reader:
    """Turns inbox files into documents and rejections for one batch."""

    def __init__(self, inbox: Path, limits: Limits, received_at: datetime) -> None:
        self.inbox = inbox
        self.limits = limits
        self.received_at = received_at
        self.documents: list[RawDocument] = []
        self.rejections: list[Rejection] = []

    def document(self, file: InboxFile, content: bytes, media_type: str, ref: str | None = None, **meta) -> RawDocument:
        doc = RawDocument(
            document_id=new_document_id(),
            source_kind="inbox",
            source_ref=ref or file.rel,
            content=content,
            media_type=media_type,
            received_at=self.received_at,
            raw_sha256=hashlib.sha256(content).hexdigest() if ref else file.raw_sha256,
            site=site_of(file.rel),
            original_path=file.rel,
            **meta,
        )
        self.documents.append(doc)
        file.document_ids.append(doc.document_id)
        return doc

    def reject(self, doc: RawDocument, reason: str, detail: str) -> None:
        self.rejections.append(Rejection(doc.document_id, reason, detail))

    def read(self, path: Path) -> InboxFile:
        rel = path.relative_to(self.inbox).as_posix()
        if path.is_symlink():
            file = InboxFile(path, rel, "", 0)
            self.reject(self.document(file, b"", "text"), "read_symlink", f"{rel} is a symbolic link; links are never followed")
            return file
        info = path.stat()
        if not stat.S_ISREG(info.st_mode):  # a FIFO or a device: opening it may wait forever
            file = InboxFile(path, rel, "", 0)
            self.reject(self.document(file, b"", "text"), "read_not_a_file", f"{rel} is not a regular file")
            return file
        size = info.st_size
        if size > self.limits.max_file_bytes:
            file = InboxFile(path, rel, "", size)
            self.reject(
                self.document(file, b"", "text"),
                "read_too_large",
                f"{size} bytes is over the limit of {self.limits.max_file_bytes} (NEWSFLOW_MAX_FILE_BYTES)",
            )
            return file
        raw = path.read_bytes()
        file = InboxFile(path, rel, hashlib.sha256(raw).hexdigest(), len(raw))
        suffix = path.suffix.lower()
        if suffix in JSON_SUFFIXES:
            self.read_json(file, raw, lines=suffix != ".json")
        elif suffix in FEED_SUFFIXES:
            self.read_feed(file, raw)
        elif suffix in HTML_SUFFIXES:
            self.document(file, raw, "html")
        elif suffix in TEXT_SUFFIXES or suffix == "":
            self.document(file, raw, "html" if _looks_like_html(raw) else "text")
        else:
            self.reject(self.document(file, raw, "text"), "read_unsupported_type", f"files ending in {suffix!r} are not read")
        return file

    def read_json(self, file: InboxFile, raw: bytes, lines: bool) -> None:
        try:
            text = decode_text(raw)
        except DecodeError as exc:
            self.reject(self.document(file, raw, "json"), exc.reason, exc.detail)
            return
        if lines:
            records = []
            for number, line in enumerate(text.splitlines(), start=1):
                if not line.strip():
                    continue
                try:
                    records.append((f"{file.rel}#L{number}", json.loads(line)))
                except ValueError as exc:  # JSONDecodeError, or a number too long to convert
                    doc = self.document(file, line.encode(), "json", ref=f"{file.rel}#L{number}")
                    self.reject(doc, "json_invalid", f"line {number}: {exc}")
                except RecursionError:
                    doc = self.document(file, line.encode(), "json", ref=f"{file.rel}#L{number}")
                    self.reject(doc, "json_too_deep", f"line {number}: {TOO_DEEP}")
        else:
            try:
                data = json.loads(text)
            except ValueError as exc:  # JSONDecodeError, or a number too long to convert
                self.reject(self.document(file, raw, "json"), "json_invalid", str(exc))
                return
            except RecursionError:
                self.reject(self.document(file, raw, "json"), "json_too_deep", TOO_DEEP)
                return
            if isinstance(data, dict) and "jsonfeed.org" in str(data.get("version", "")):
                self.read_feed(file, raw)
                return
            items = data if isinstance(data, list) else data.get("articles") or data.get("items") if isinstance(data, dict) else None
            if isinstance(data, dict) and not isinstance(items, list):
                items = [data]
            if not isinstance(items, list):
                self.reject(self.document(file, raw, "json"), "json_no_records", "expected an object or a list of objects")
                return
            records = [(f"{file.rel}#{i}" if len(items) > 1 else None, item) for i, item in enumerate(items)]
        if not records and not file.document_ids:
            self.reject(self.document(file, raw, "json"), "json_no_records", "the file holds no records")
        for ref, record in records:
            try:
                self.read_record(file, ref, record)
            except RecursionError:  # a record nested deeper than json.dumps can walk
                doc = self.document(file, b"", "json", ref=ref)
                self.reject(doc, "json_too_deep", TOO_DEEP)

    def read_record(self, file: InboxFile, ref: str | None, record: object) -> None:
        if not isinstance(record, dict):
            doc = self.document(file, json.dumps(record).encode(), "json", ref=ref)
            self.reject(doc, "json_not_object", f"a record must be a JSON object, got {type(record).__name__}")
            return
        meta = dict(
            url=_first(record, URL_KEYS),
            title=_first(record, TITLE_KEYS),
            author=_first(record, AUTHOR_KEYS),
            published_at=parse_datetime(_first(record, DATE_KEYS)),
        )
        html, text = _first(record, HTML_KEYS), _first(record, TEXT_KEYS)
        if text and _looks_like_html(text.encode()):
            html, text = html or text, None
        if text:
            self.document(file, text.encode("utf-8"), "text", ref=ref, **meta)
        elif html:
            self.document(file, html.encode("utf-8"), "html", ref=ref, **meta)
        else:
            doc = self.document(file, valid_text(json.dumps(record, ensure_ascii=False)).encode(), "json", ref=ref, **meta)
            self.reject(doc, "json_no_text", f"the record has none of the fields {', '.join(TEXT_KEYS + HTML_KEYS)}")

    def read_feed(self, file: InboxFile, raw: bytes) -> None:
        from newsflow.extractors.feeds import entry_documents, parse_feed

        if raw[:4] not in UTF32_XML:
            try:  # binary (gzip, images) is refused before the feed parser spends minutes guessing its encoding
                decode_text(raw)
            except DecodeError as exc:
                self.reject(self.document(file, raw, "feed"), exc.reason, exc.detail)
                return
        try:
            feed = parse_feed(raw)
        except Exception as exc:  # feedparser and XML parsers raise many types on hostile input
            self.reject(self.document(file, raw, "feed"), "feed_invalid", f"{type(exc).__name__}: {exc}")
            return
        docs = entry_documents(feed, "inbox", file.rel, self.received_at, site=site_of(file.rel))
        if not docs:
            problem = f": {feed.problem}" if getattr(feed, "problem", None) else ""
            self.reject(self.document(file, raw, "feed"), "feed_no_entries", f"no entry with content{problem}")
            return
        for doc in docs:
            doc.original_path = file.rel
            self.documents.append(doc)
            file.document_ids.append(doc.document_id)


def _looks_like_html(raw: bytes) -> bool:
    head = raw[:1024].lstrip().lower()
    return head.startswith((b"<!doctype html", b"<html", b"\xef\xbb\xbf<!doctype html", b"\xef\xbb\xbf<html"))


def read_inbox(
    inbox: Path, paths: list[Path], limits: Limits, received_at: datetime | None = None
) -> tuple[list[RawDocument], list[Rejection], list[InboxFile]]:
    """Read the given inbox files; every document a file produced is listed on its InboxFile."""
    reader = _Reader(inbox, limits, received_at or datetime.now(timezone.utc))
    files = []
    for path in paths:
        done = len(reader.documents), len(reader.rejections)
        try:
            files.append(reader.read(path))
        except FileNotFoundError:
            continue  # claimed by another process between listing and reading
        except Exception as exc:  # noqa: BLE001 - an OSError, or one file no rule foresaw: that file's rejection
            del reader.documents[done[0]:], reader.rejections[done[1]:]  # what it produced before failing
            rel = path.relative_to(inbox).as_posix()
            file = InboxFile(path, rel, "", 0)
            reader.reject(reader.document(file, b"", "text"), "read_error", failure_detail(exc))
            files.append(file)
    return reader.documents, reader.rejections, files
