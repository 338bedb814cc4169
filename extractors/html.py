"""HTML pages to drafts: trafilatura with metadata, a fallback when it finds too little, a time limit per page."""
from __future__ import annotations

import re
import threading
import time
from functools import lru_cache
from urllib.parse import urlsplit

from newsflow.extractors.candidates import Candidate, article_body, choose, doubts, missing_lead
from newsflow.extractors.records import Draft, RawDocument, Rejection, parse_datetime, web_url
from newsflow.extractors.settings import Limits

_BLOCKS = re.compile(r"\n\s*\n+")
# What costs parse work and holds no text: scripts (but JSON-LD, which metadata and the body check read), styles,
# inline SVG, comments. Non-greedy up to the closing tag; an unclosed one is left alone.
_HEAVY = re.compile(
    r"<script\b(?![^>]*ld\+json)[^>]*>.*?</script\s*>|<style\b[^>]*>.*?</style\s*>|<svg\b[^>]*>.*?</svg\s*>|<!--.*?-->",
    re.IGNORECASE | re.DOTALL,
)
# Measured on extraction_aeb (benchmarks/bench_cleaning.py): trafilatura sometimes stops halfway
# through long articles or picks a small container; when it returns under SUSPECT_SHARE of the words in the
# page's <p> elements (or misses the page's own JSON-LD articleBody), readability and trafilatura's default
# run are asked too and extractors/candidates.py chooses by what the others confirm.
SUSPECT_SHARE = 0.6
STRONG_DOUBT = 0.35  # under this share of the paragraph words, trafilatura's default run is asked as well


# The metadata this pipeline stores; trafilatura's extract_metadata also collects categories, tags and a
# licence, a third of its cost (3-4 ms a page on extraction_aeb), none of them stored here.
META_FIELDS = ("title", "author", "date", "sitename", "url", "description")


def quiet_extractor_logs() -> None:
    """Silence trafilatura's per-page warnings ("discarding data: None"): every page it gives up on becomes a
    rejection with its reason in `documents`, so the log line only repeats that, without naming the page."""
    import logging

    for name in ("trafilatura", "readability", "htmldate"):
        logging.getLogger(name).setLevel(logging.ERROR)


def _metadata(tree, url: str | None) -> dict[str, str | None]:
    """Title, author, publication date, site name and URL of a parsed page: trafilatura.metadata.extract_metadata's
    steps for those fields, in its order (tests/test_html.py checks the results are the same)."""
    from htmldate import find_date
    from trafilatura import metadata as tm
    from trafilatura.settings import set_date_params

    found = tm.examine_meta(tree)
    if found.author and " " not in found.author:
        found.author = None
    try:
        found = tm.extract_meta_json(tree, found)
    except Exception:  # noqa: BLE001 - trafilatura guards this step the same way (bugs in its JSON-LD parser)
        pass
    found.title = found.title or tm.extract_title(tree)
    found.author = found.author or tm.extract_author(tree)
    found.url = found.url or tm.extract_url(tree, url)
    # The original publication date, not the last-modified one; extensive search finds more dates.
    found.date = find_date(tree, **{**set_date_params(True), "url": found.url})
    if not found.sitename:
        found.sitename = tm.extract_sitename(tree)
    if found.sitename:
        found.sitename = found.sitename.lstrip("@")
        if found.sitename and "." not in found.sitename and not found.sitename[0].isupper():
            found.sitename = found.sitename.title()
    elif found.url and (match := tm.META_URL.match(found.url)):
        found.sitename = match[1]
    found.clean_and_trim()
    return {key: getattr(found, key, None) for key in META_FIELDS}


def _trafilatura_default(tree, url: str | None) -> str:
    """Main text by trafilatura with its default balance of precision and recall (a second opinion)."""
    import trafilatura

    result = trafilatura.bare_extraction(tree, url=url, include_comments=False, include_tables=True, with_metadata=False)
    return (result.text or "") if result is not None else ""


def _trafilatura(tree, url: str | None) -> tuple[str, dict[str, str | None]]:
    """Main text by trafilatura from the parsed page, and its metadata; recall is favoured (the cleaner trims)."""
    import trafilatura

    result = trafilatura.bare_extraction(tree, url=url, include_comments=False, favor_recall=True, include_tables=True)
    if result is None:
        return "", {}
    # bare_extraction worked on a copy of the tree: this one is still whole, as metadata needs it.
    return result.text or "", _metadata(tree, url)


@lru_cache(maxsize=1)
def _text_document():
    """readability-lxml's Document, its page cleaner without the javascript scrub (on* attributes, javascript:
    links, style attributes): the scrub never changes the text kept here and costs a fifth of the fallback
    (tests/test_html.py checks the texts are the same as with Document)."""
    from copy import copy

    from readability import Document
    from readability.cleaners import html_cleaner
    from readability.htmls import build_doc
    from readability.readability import REGEXES

    cleaner = copy(html_cleaner)
    cleaner.javascript = False

    class TextDocument(Document):
        def _parse(self, input):  # Document._parse for a string and no url, with `cleaner`
            doc, self.encoding = build_doc(input)
            for elem in doc.xpath("//*[@hidden]"):
                elem.drop_tree()
            for elem in doc.xpath("//*[@style]"):
                if REGEXES["displayNoneRe"].search(elem.get("style")):
                    elem.drop_tree()
            doc = cleaner.clean_html(doc)
            doc.resolve_base_href(handle_failures=self.handle_failures)
            return doc

    return TextDocument


def _readability(html: str, document_class=None):
    """Main text by readability-lxml (the fallback), one block element per line, and its Document.

    The title is left to the caller (`short_title()` parses and cleans the page again: half the cost).
    """
    import lxml.html

    page = (document_class or _text_document())(html)
    tree = lxml.html.fromstring(page.summary(html_partial=True) or "<div/>")
    blocks = []
    for element in tree.iter("p", "h1", "h2", "h3", "h4", "h5", "h6", "li", "blockquote", "pre", "td"):
        if any(parent.tag in ("p", "li", "blockquote") for parent in element.iterancestors()):
            continue  # its text is already in the enclosing block
        text = " ".join(element.text_content().split())
        if text:
            blocks.append(f"- {text}" if element.tag == "li" else text)
    if not blocks:
        blocks = [b.strip() for b in _BLOCKS.split(tree.text_content()) if b.strip()]
    return "\n".join(blocks), page


def _parse(html: str):
    """The page parsed once, as trafilatura parses it (None if it is no HTML), and the text of its <p> elements.

    That text is what a full extraction should roughly reach, and evidence for the candidates' text; it is taken
    before trafilatura, which prunes the tree it is given.
    """
    from trafilatura.utils import load_html

    tree = load_html(html)
    if tree is None:
        return None, ""
    return tree, " ".join(p.text_content() for p in tree.iter("p"))


def _visible_text(tree) -> str:
    """The text of the page's body outside scripts, styles and templates."""
    return " ".join(tree.xpath("//body//text()[not(ancestor::script or ancestor::style or ancestor::template)]"))


def pruned_html(html: str, limits: Limits) -> tuple[str, tuple[str, ...]]:
    """The page with its parse cost bounded, and notes saying what was done: a large page loses its scripts,
    styles, SVG and comments (not its text); one still over limits.max_html_chars after that is cut there."""
    notes: tuple[str, ...] = ()
    if len(html) > limits.html_prune_chars:
        before = len(html)
        html = _HEAVY.sub(" ", html)
        notes = (f"html pruned from {before} to {len(html)} chars",)
    if len(html) > limits.max_html_chars:
        notes += (f"html cut at {limits.max_html_chars} of {len(html)} chars",)
        html = html[: limits.max_html_chars]
    return html, notes


def strip_site_name(title: str, sitename: str | None, url: str | None) -> str:
    """'Budget passes - The Daily Planet' -> 'Budget passes' when the suffix names the site."""
    head, sep, tail = max((title.rpartition(s) for s in (" | ", " - ", " – ", " — ", " :: ")), key=lambda p: len(p[0]))
    if not sep or not head.strip():
        return title
    host = _domain(url) or ""
    names = {n.casefold() for n in (sitename or "", host, host.split(".")[0]) if n}
    squashed = re.sub(r"[^\w]", "", tail.casefold())
    if tail.strip().casefold() in names or any(squashed and squashed == re.sub(r"[^\w]", "", n) for n in names):
        return head.strip()
    return title


def _domain(url: str | None) -> str | None:
    """The host of a URL without 'www.', the site key chrome is learned under."""
    host = urlsplit(url).hostname if url else None
    return host.removeprefix("www.") if host else None


def _extract(doc: RawDocument, html: str, limits: Limits) -> Draft | Rejection:
    """Run the extractors in order of preference and build the draft."""
    min_words = limits.min_words
    html, notes = pruned_html(html, limits)
    started = time.perf_counter()
    try:
        tree, paragraphs = _parse(html)
        text, meta = _trafilatura(tree, doc.url) if tree is not None else ("", {})
    except Exception as exc:  # the parser choking on one malformed page is that page's problem
        tree, text, meta, failure, paragraphs = None, "", {}, exc, ""
    else:
        failure = None
    extractor = "trafilatura"
    body = article_body(html) if "articleBody" in html else None
    n_words, n_paragraph = len(text.split()), len(paragraphs.split())
    why = doubts(text, n_paragraph, body, min_words, SUSPECT_SHARE)
    if why:
        main = Candidate("trafilatura", text, time.perf_counter() - started)
        others, page = [], None
        try:
            started = time.perf_counter()
            fallback, page = _readability(html)
            others.append(Candidate("readability", fallback, time.perf_counter() - started))
            chosen, reason = choose(main, others, body, paragraphs, min_words)
            # trafilatura's default run costs as much again as the main one: asked only when readability did not
            # settle a strong doubt (the main text far under the page's paragraphs, or missing its articleBody).
            if chosen is main and tree is not None and (why != "under_paragraph_words" or n_words < STRONG_DOUBT * n_paragraph):
                started = time.perf_counter()
                others.append(Candidate("trafilatura_default", _trafilatura_default(tree, doc.url), time.perf_counter() - started))
        except Exception as exc:  # same: one page's problem, reported below if nothing was found
            failure = failure or exc
        chosen, reason = choose(main, others, body, paragraphs, min_words)
        costs = ", ".join(f"{c.name} {c.seconds * 1000:.0f} ms" for c in [main, *others])
        notes += (f"candidates asked ({why}): {reason} ({costs})",)
        if chosen is not main:
            text, extractor = chosen.text, chosen.name
            if not meta.get("title") and page is not None:
                meta = {**meta, "title": page.short_title() or None}
    if text.strip() and tree is not None and (lead := missing_lead(meta.get("description"), text, lambda: _visible_text(tree))):
        text = f"{lead}\n{text}"
        notes += ("lead from the page's description",)
    if not text.strip():
        if failure is not None:
            return Rejection(doc.document_id, "extract_failed", f"{type(failure).__name__}: {failure}"[:500])
        return Rejection(doc.document_id, "extract_empty", "no main text found in the page")
    title = strip_site_name((meta.get("title") or "").strip(), meta.get("sitename"), doc.url) or None
    published = parse_datetime(meta.get("date"))
    if doc.published_at and (published is None or published.date() == doc.published_at.date()):
        published = doc.published_at  # the feed's timestamp is as good and more precise
    url = web_url(doc.url) or web_url(meta.get("url"))  # where it was fetched; a page's own canonical link may be stale
    return Draft(
        document_id=doc.document_id,
        text=text,
        title=title or doc.title,
        url=url,
        site=doc.site or _domain(url) or meta.get("sitename"),
        author=(meta.get("author") or doc.author),
        published_at=published,
        language=doc.language,
        extractor=extractor,
        title_given=bool(title or doc.title),
        notes=notes,
    )


def extract_html(doc: RawDocument, html: str, limits: Limits) -> Draft | Rejection:
    """Draft of an HTML page, or a Rejection (extract_empty, extract_timeout, extract_failed)."""
    outcome: list[Draft | Rejection | BaseException] = []

    def work() -> None:
        try:
            outcome.append(_extract(doc, html, limits))
        except BaseException as exc:  # carried to the caller's thread and raised there (extract_error)
            outcome.append(exc)

    # A daemon thread: a pathological page cannot be interrupted, but the batch moves on without it.
    worker = threading.Thread(target=work, name=f"extract-{doc.document_id}", daemon=True)
    worker.start()
    worker.join(limits.extract_timeout_s)
    if worker.is_alive() or not outcome:
        return Rejection(doc.document_id, "extract_timeout", f"no result within {limits.extract_timeout_s:g} s")
    result = outcome[0]
    if isinstance(result, BaseException):
        raise result
    return result
