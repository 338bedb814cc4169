"""Where each line of a draft sits and what it is: the document-level half of boilerplate cleaning.

A line is dropped on positive evidence (lexicon phrase, timestamp, icon name, learned site
chrome, repeated title, attribution) anywhere, and on structural evidence only where chrome
lives: above the first paragraph (menus, tickers, category labels), below the last one (comment
forms, dated headline lists), after an end marker (comment box, tags, "exit mobile version") and
in the headline run after a related-posts marker. Inside the body, short lines such as headings
and list items are kept.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime

from newsflow.extractors.lines import (
    Lexicon,
    ends_sentence,
    is_dated_byline,
    is_icon,
    is_menu_run,
    is_meta_line,
    is_paragraph,
    is_shortcode,
    is_timestamp,
    is_url,
    line_hash,
    load_lexicon,
    match_section,
    normalise,
    strip_tail,
    words,
)
from newsflow.extractors.datelines import is_photo_caption, parse_dateline
from newsflow.extractors.records import Draft

OBSERVED_MAX_WORDS = 40
# An end marker cuts the rest only when the running text after it is at most this share of the text before it and
# at most this many words; otherwise only its own line goes.
END_MARKER_SHARE = 0.5
END_MARKER_MAX_WORDS = 400
# Dated lines below the body are a headline list only when their words are at most this share of the body's.
DATED_LIST_SHARE = 0.5
# A line above the headline is a ticker headline only when it is headline-sized and not a sentence.
TICKER_MAX_WORDS = 16  # longer lines are article text, not chrome worth learning
_BYLINE = re.compile(r"^(?:by|oleh|von|par|por|di|door|af|av|od|tekst|text|reporter|penulis|editor)\b[\s:]", re.I)
_DOMAIN = re.compile(r"^(?:https?://)?(?:www\.)?([a-z0-9.-]+\.[a-z]{2,})(?:[/:?#].*)?$", re.I)
# A comment form's required-field star or e-mail field, whatever the language.
_COMMENT_FORM = re.compile(r"(?:\*\s*$|\be-?mail\b|\be-posta\b|\bcorreo\b)", re.IGNORECASE)
_LIST_ITEM = re.compile(r"^\s*(?:[-*•·▪–]|\d+[.)]|[a-z][.)])\s")
_SOFT = {"clean_timestamp", "clean_url", "clean_menu"}  # evidence too weak to remove a line inside the body
_SUFFIX_SEP = re.compile(r"^\s*[|\-–—:·•]\s*")


@dataclass(slots=True)
class Analysis:
    """How one draft's lines were classified: reasons per line number, the title, the body span."""

    lines: list[str]
    norms: list[str] = field(default_factory=list)  # normalise() of each line's head
    counts: list[int] = field(default_factory=list)  # words per line
    paras: list[bool] = field(default_factory=list)  # reads as running text
    reasons: dict[int, str] = field(default_factory=dict)
    title: str | None = None
    title_line: int | None = None
    first_para: int | None = None
    last_para: int | None = None
    attribution: str | None = None
    published_at: datetime | None = None  # from a dateline in the header ("SELASA, 21 MARET 2023 | 06:55 WIB")
    author: str | None = None  # from a byline in the header ("LAPORAN: RENI ERINA", "Von Redaktion NÖN")


def _content_tokens(text: str) -> set[str]:
    """Lowercased words of four letters or more, or any word in a non-Latin script (cheap topical overlap)."""
    return {t for t in words(text.casefold()) if len(t) >= 4 or not t.isascii()}


def _evidence_reason(analysis: Analysis, no: int, lexicon: Lexicon, chrome: set[str]) -> str | None:
    """The reason a single line is boilerplate whatever its position, or None."""
    line, norm, n_words = analysis.lines[no].strip(), analysis.norms[no], analysis.counts[no]
    if n_words <= 3 and is_icon(line):
        return "clean_icon"
    if n_words <= 3 and is_url(line):
        return "clean_url"
    if n_words <= 14 and is_timestamp(line, lexicon):
        return "clean_timestamp"
    for section, reason in (
        ("comment", "clean_comment_box"),
        ("end", "clean_after_end_marker"),
        ("cta", "clean_call_to_action"),
        ("related", "clean_related"),
    ):
        if match_section(norm, section, lexicon):
            return reason
    if n_words <= 30 and match_section(norm, "copyright", lexicon):
        return "clean_copyright"
    if n_words <= 12 and ":" in norm and match_section(norm, "credit", lexicon):
        return "clean_photo_credit"
    if n_words <= 40 and is_photo_caption(line, lexicon):
        return "clean_photo_caption"
    if is_shortcode(line):
        return "clean_shortcode"
    if n_words <= 20 and (match_section(norm, "menu", lexicon) or is_menu_run(line, lexicon)):
        return "clean_menu"
    if n_words <= 12 and match_section(norm, "ui", lexicon):
        return "clean_ui_phrase"
    if chrome and not analysis.paras[no] and line_hash(line) in chrome:
        return "clean_site_chrome"
    return None


def attribution_value(line: str, lexicon: Lexicon) -> str | None:
    """The source a line like 'Original Source: www.hindustantimes.com' names, normalised; None if none."""
    norm = normalise(line)
    match = lexicon.patterns["attribution"].match(norm) or (
        lexicon.contained["attribution"] and lexicon.contained["attribution"].search(norm)
    )
    if not match:
        return None
    # Cut the same number of characters from the original line to keep the source's own casing.
    stripped = line.strip()
    offset = len(stripped) - len(stripped.lstrip(" -–—•·*>»›|#"))
    rest = stripped[offset + match.end():].strip(" :;|-–—»›>\t")
    rest = rest.rstrip(".;,").strip()
    if not rest or len(words(rest)) > 6 or "," in rest:  # a name or a domain, not a sentence
        return None
    domain = _DOMAIN.match(rest)
    return domain.group(1).lower() if domain else rest


def _is_repeat_of_title(norm: str, norm_title: str, lexicon: Lexicon) -> bool:
    """The title again, possibly with a caption word ('Perbesar', 'Enlarge') or a site suffix."""
    if not norm_title:
        return False
    if strip_tail(norm) == strip_tail(norm_title):
        return True
    if not norm.startswith(norm_title):
        return False
    rest = norm[len(norm_title):].strip()
    if lexicon.patterns["caption"].match(strip_tail(rest)):
        return True
    # An image caption's word in a language the lexicon lacks ("Powiększ"), or " | Site Name".
    return (len(words(rest)) == 1 and not ends_sentence(rest)) or (bool(_SUFFIX_SEP.match(rest)) and len(words(rest)) <= 4)


def _title_candidates(analysis: Analysis, end: int) -> list[int]:
    """Header lines that could be the headline: a few words, not a sentence, not already chrome."""
    found = []
    for no in range(end):
        line = analysis.lines[no].strip()
        if not line or no in analysis.reasons:
            continue
        if 2 <= analysis.counts[no] <= 30 and not line.rstrip("\"'”’»)").endswith("."):
            found.append(no)
    return found


def _pick_title(analysis: Analysis, candidates: list[int], body: str) -> int | None:
    """The candidate that is about the body: the first one sharing most of its words with it."""
    body_tokens = _content_tokens(body)
    scored = []
    for no in candidates:
        tokens = _content_tokens(analysis.lines[no])
        scored.append((len(tokens & body_tokens) / len(tokens) if tokens else 0.0, no))
    for score, no in scored:
        if score >= 0.5:
            return no
    # None clearly about the body: the headline-sized one closest to it with the best overlap.
    sized = [(score, no) for score, no in scored if analysis.counts[no] >= 3]
    return max(sized)[1] if sized else None


def _retract_inside_body(analysis: Analysis, in_runs: set[int]) -> None:
    """Between paragraphs a lone time, URL or menu word is content ("4:14 p.m." updates, "Photos", links)."""
    reasons = analysis.reasons
    body = [no for no, para in enumerate(analysis.paras) if para and no not in reasons]
    if len(body) < 2:
        return
    chrome_nearby = lambda no: any(  # noqa: E731
        reasons.get(other) in _SOFT for other in (_neighbour(analysis, no, -1), _neighbour(analysis, no, 1))
    )
    for no in [no for no, r in reasons.items() if r in _SOFT and body[0] < no and no not in in_runs]:
        # A bare link below the first paragraph is the author's (sources, shop links); times and
        # menu words only inside the body and only when no other chrome sits next to them.
        if reasons[no] == "clean_url" or (no < body[-1] and not chrome_nearby(no)):
            del reasons[no]


def _neighbour(analysis: Analysis, no: int, step: int) -> int | None:
    """The nearest non-blank line above (step -1) or below (step 1)."""
    no += step
    while 0 <= no < len(analysis.lines):
        if analysis.lines[no].strip():
            return no
        no += step
    return None


def _bare_marker(line: str) -> bool:
    """A marker heading a list ("You may also like:"), not an inline link ("Related: Some headline")."""
    _head, sep, rest = line.partition(":")
    return not (sep and len(words(rest)) >= 2)


def _apply_markers(analysis: Analysis) -> set[int]:
    """Cut everything after a comment box or end marker; drop the headline run after a related marker.

    Returns the line numbers inside related runs (their own evidence stands even inside the body).
    """
    in_runs: set[int] = set()
    lines, reasons = analysis.lines, analysis.reasons
    para_words = [n if para and no not in reasons else 0 for no, (n, para) in enumerate(zip(analysis.counts, analysis.paras))]
    total = sum(para_words)
    before = 0
    for no, line in enumerate(lines):
        reason = reasons.get(no)
        if reason in ("clean_comment_box", "clean_after_end_marker") and before > 0:
            after = total - before
            # A comment thread may outweigh the article. An end marker ("Tags", "See also", "Newsletter") cuts only
            # what it can justify: little article-like text after it, both against what came before and in
            # absolute terms (a reference page's "References" or an RFC's sections are article, not chrome).
            if reason == "clean_comment_box" or (after <= END_MARKER_SHARE * before and after <= END_MARKER_MAX_WORDS):
                for later in range(no + 1, len(lines)):
                    if lines[later].strip() and later not in reasons:
                        reasons[later] = "clean_after_end_marker"
                return in_runs
        elif reason == "clean_related" and before > 0 and _bare_marker(line):
            for later in range(no + 1, len(lines)):
                text = lines[later].strip()
                if not text:
                    continue
                if analysis.paras[later] and later not in reasons:
                    break
                reasons.setdefault(later, "clean_related")
                in_runs.add(later)
        before += para_words[no]
    return in_runs


def analyse(draft: Draft, chrome: set[str] | None = None, lexicon: Lexicon | None = None) -> Analysis:
    """Classify every line of a draft; the title and attribution are found on the way."""
    lexicon = lexicon or load_lexicon()
    analysis = Analysis(lines=[l.rstrip("\r") for l in draft.text.split("\n")])
    lines, reasons = analysis.lines, analysis.reasons
    for raw in lines:
        line = raw.strip()
        # Phrases are matched at the head of a line: a long paragraph needs no full normalisation.
        analysis.norms.append(normalise(line[:400]) if line else "")
        n_words = len(words(line)) if line else 0
        analysis.counts.append(n_words)
        analysis.paras.append(bool(line) and is_paragraph(line, n_words))
    for no, raw in enumerate(lines):
        if raw.strip():
            reason = _evidence_reason(analysis, no, lexicon, chrome or set())
            if reason:
                reasons[no] = reason
    in_runs = _apply_markers(analysis)
    _retract_inside_body(analysis, in_runs)
    body_lines = [no for no, para in enumerate(analysis.paras) if para and no not in reasons]
    analysis.first_para = body_lines[0] if body_lines else None
    analysis.last_para = body_lines[-1] if body_lines else None
    header_end = analysis.first_para if analysis.first_para is not None else len(lines)

    if draft.title_given and draft.title:
        analysis.title = draft.title.strip()
    else:
        body = "\n".join(lines[no] for no in body_lines)  # paragraphs only: footers repeat the site name
        pick = _pick_title(analysis, _title_candidates(analysis, header_end), body)
        if pick is not None:
            analysis.title_line, analysis.title = pick, " ".join(lines[pick].split())
            reasons[pick] = "clean_title"
        elif draft.title:
            analysis.title = draft.title.strip()

    first_repeat = None
    if analysis.title:
        norm_title, title_words = normalise(analysis.title), len(words(analysis.title))
        for no, norm in enumerate(analysis.norms):
            if no == analysis.title_line or not norm or analysis.counts[no] > title_words + 8:
                continue
            if _is_repeat_of_title(norm, norm_title, lexicon):
                reasons[no] = "clean_repeated_title"
                first_repeat = no if first_repeat is None else first_repeat
    _classify_header(analysis, header_end, first_repeat, lexicon)
    _take_dateline(analysis, header_end)
    _classify_footer(analysis)
    _take_attribution(analysis, lexicon)
    _drop_duplicate_paragraphs(analysis)
    return analysis


def _classify_footer(analysis: Analysis) -> None:
    """Below the last paragraph: once chrome shows (a comment form, a list of dated headlines, a marker),
    the block of short lines it belongs to goes too, in any UI language."""
    if analysis.last_para is None:
        return
    reasons, lines = analysis.reasons, analysis.lines
    footer = [no for no in range(analysis.last_para + 1, len(lines)) if lines[no].strip()]
    stamps = [no for no in footer if reasons.get(no) == "clean_timestamp"]
    signal = None
    for no in footer:
        reason = reasons.get(no)
        if reason in ("clean_comment_box", "clean_related", "clean_after_end_marker") or (
            reason is None and _COMMENT_FORM.search(lines[no]) and analysis.counts[no] <= 30
        ):
            signal = no
            break
    if len(stamps) >= 2 and (signal is None or stamps[0] < signal) and _small_beside_body(analysis, footer):
        # Dated headlines: the block starts at the headline above the first date.
        earlier = [no for no in footer if no < stamps[0]]
        signal = earlier[-1] if earlier else stamps[0]
    if signal is None:
        signal = _trailing_labels(analysis, footer)
    if signal is None:
        return
    start = signal
    for no in reversed([no for no in footer if no < signal]):
        if reasons.get(no) or (analysis.counts[no] <= 6 and not ends_sentence(lines[no])):
            start = no  # short labels above the signal ("Comments", "Leave a reply" in any language)
        else:
            break
    for no in footer:
        if no >= start and no not in reasons:
            reasons[no] = "clean_comment_box" if _COMMENT_FORM.search(lines[no]) else "clean_after_end_marker"


def _small_beside_body(analysis: Analysis, footer: list[int]) -> bool:
    """A dated list below the body is a teaser list only when it is small beside the body: a long one (a CV, a
    changelog, a programme) is the page's content, and dates alone cannot justify dropping it."""
    body = sum(n for n, para in zip(analysis.counts, analysis.paras) if para)
    listed = sum(analysis.counts[no] for no in footer if no not in analysis.reasons)
    return listed <= DATED_LIST_SHARE * body


def _trailing_labels(analysis: Analysis, footer: list[int]) -> int | None:
    """Start of a closing block of three or more short labels (tags, topic links, editor initials)."""
    def short(no: int) -> bool:
        line = analysis.lines[no]
        # "VIP : 60,000₩" or "- 2 eggs" is information, not a label.
        return analysis.counts[no] <= 4 and not ends_sentence(line) and ":" not in line and not _LIST_ITEM.match(line)

    block = []
    for no in reversed(footer):
        if no in analysis.reasons or short(no):
            block.append(no)
        else:
            break
    labels = [no for no in block if no not in analysis.reasons]
    return min(block) if len(labels) >= 3 else None


def _classify_header(analysis: Analysis, header_end: int, first_repeat: int | None, lexicon: Lexicon) -> None:
    """Above the first paragraph: tickers and labels before the headline go, a standfirst stays."""
    anchor = analysis.title_line if analysis.title_line is not None else first_repeat
    for no in range(header_end):
        line = analysis.lines[no].strip()
        if not line or no in analysis.reasons:
            continue
        n = analysis.counts[no]
        if n <= 30 and is_meta_line(line, lexicon):
            analysis.reasons[no] = "clean_metadata_line"
        elif anchor is not None and anchor < no <= anchor + 4 and is_dated_byline(line, lexicon):
            analysis.reasons[no] = "clean_metadata_line"
        elif anchor is not None and no < anchor and (n < 4 or (n <= TICKER_MAX_WORDS and not ends_sentence(line))):
            analysis.reasons[no] = "clean_ticker_headline" if n >= 4 else "clean_category"
        elif _BYLINE.match(line) and n <= 10 and not ends_sentence(line):
            analysis.reasons[no] = "clean_byline"
        elif analysis.title_line is not None and no > analysis.title_line and 2 <= n <= 6 and not ends_sentence(line):
            # Between a headline found in the text and the first paragraph: author, desk ("Siti Rahma - detikJabar");
            # a single word there is more likely a heading ("Introduction").
            analysis.reasons[no] = "clean_byline"


_DATELINE_REASONS = frozenset({"clean_metadata_line", "clean_byline", "clean_timestamp"})


def _take_dateline(analysis: Analysis, header_end: int) -> None:
    """The first date and author that the header's dateline and byline lines give (they leave the text)."""
    for no in range(min(header_end, len(analysis.lines))):
        if analysis.reasons.get(no) not in _DATELINE_REASONS:
            continue
        published, author = parse_dateline(analysis.lines[no])
        analysis.published_at = analysis.published_at or published
        analysis.author = analysis.author or author


def _take_attribution(analysis: Analysis, lexicon: Lexicon) -> None:
    """Move 'Original Source: ...'-style lines into metadata; bare 'Source:' only counts at the end."""
    lines = analysis.lines
    nonblank = [no for no, l in enumerate(lines) if l.strip()]
    tail_start = analysis.last_para + 1 if analysis.last_para is not None else 0
    tail = set(nonblank[-3:]) | set(range(tail_start, len(lines)))
    for no in nonblank:
        if analysis.reasons.get(no) not in (None, "clean_after_end_marker"):
            continue
        line = lines[no].strip()
        if analysis.counts[no] > 20:
            continue
        value = attribution_value(line, lexicon)
        if value is None:
            continue
        strong = len(normalise(line).split()) - len(normalise(value).split()) >= 3 or "original" in normalise(line)
        if strong or no in tail:
            analysis.reasons[no] = "clean_attribution"
            analysis.attribution = analysis.attribution or value


def _drop_duplicate_paragraphs(analysis: Analysis) -> None:
    """A paragraph printed twice (teasers, sticky headers) is kept once."""
    seen: set[str] = set()
    for no, raw in enumerate(analysis.lines):
        # Short lines and list items repeat legitimately (recipes, Q&A, meal plans).
        if no in analysis.reasons or analysis.counts[no] < 40 or _LIST_ITEM.match(raw):
            continue
        key = " ".join(raw.split()).casefold()
        if key in seen:
            analysis.reasons[no] = "clean_duplicate_line"
        seen.add(key)


def chrome_candidates(analysis: Analysis) -> list[tuple[str, str]]:
    """(line_hash, line) of lines outside the body span that chrome learning should count (never the title)."""
    first = analysis.first_para if analysis.first_para is not None else len(analysis.lines)
    last = analysis.last_para if analysis.last_para is not None else len(analysis.lines)
    found: dict[str, str] = {}
    for no, raw in enumerate(analysis.lines):
        line = " ".join(raw.split())
        if not line or no == analysis.title_line or first <= no <= last:
            continue
        # Lexicon hits need no learning; comment threads and related lists under an end marker are
        # one-off lines that would only bloat the table.
        # Known chrome keeps counting, so a site's doc_count goes on growing with every page.
        if analysis.reasons.get(no) not in (None, "clean_ticker_headline", "clean_category", "clean_site_chrome"):
            continue
        if analysis.counts[no] <= OBSERVED_MAX_WORDS:
            found.setdefault(line_hash(line), line)
    return [(h, l) for h, l in found.items()]
