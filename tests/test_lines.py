"""Single-line signals: lexicon files, timestamps, icons, dated bylines, word counts."""
from __future__ import annotations

from newsflow.extractors.lines import (
    LEXICON_DIR,
    SECTIONS,
    WORD_SECTIONS,
    count_words,
    is_dated_byline,
    is_icon,
    is_meta_line,
    is_shortcode,
    is_timestamp,
    is_url,
    line_hash,
    load_lexicon,
    match_section,
    normalise,
    read_lexicon_file,
    strip_tail,
)


def test_lexicon_files_cover_languages_and_parse():
    found = {path.stem: read_lexicon_file(path) for path in LEXICON_DIR.glob("*.txt")}
    assert {"en", "id", "ms", "de", "fr", "es", "pt", "it", "nl"} <= set(found)
    for lang, sections in found.items():
        for section in ("menu", "ui", "comment", "related", "cta", "months"):
            assert sections.get(section), f"{lang}.txt has no [{section}] phrases"
        assert set(sections) <= set(SECTIONS) | set(WORD_SECTIONS)


def test_timestamps_versus_dates_in_the_text():
    lexicon = load_lexicon()
    for stamp in ["4 Juli 2025 - 22:13 WIB", "Updated 2 hours ago", "2019-11-19T08:57:40+01:00", "Mardi 5 mars 2024, 14h30",
                  "Publicado el 3 de mayo de 2023", "Diperbarui 12 Agustus 2024, 09.15 WIB", "vor 3 Stunden"]:
        assert is_timestamp(stamp, lexicon), stamp
    # Event dates, opening hours, phone numbers and headings are not page timestamps.
    for text in ["29 November 2018 | 20 January 2019", "9.30 A.M. / 7.00 P.M.", "02-751-1500", "May Day Parade",
                 "1. Signing a New Vision", "Conclusion"]:
        assert not is_timestamp(text, lexicon), text


def test_phrase_matching_modes():
    lexicon = load_lexicon()
    assert match_section(normalise("Comments (12)"), "comment", lexicon)
    assert match_section(normalise("Read more: How the war began"), "related", lexicon)
    assert not match_section(normalise("Related to this, the government said it would act."), "related", lexicon)
    # Long phrases match inside a line; short whole-line phrases do not.
    assert match_section(normalise("Your email address will not be published. Required fields are marked *"), "comment", lexicon)
    assert not match_section(normalise("The menu of the new restaurant is short"), "menu", lexicon)


def _regexes_only(norm: str, section: str, lexicon) -> bool:
    """match_section without its shortcuts: the section's regexes alone."""
    if SECTIONS[section][1] == "whole":
        return bool(lexicon.patterns[section].match(strip_tail(norm)))
    inner = lexicon.contained[section]
    return bool(lexicon.patterns[section].match(norm) or (inner and len(norm) <= 400 and inner.search(norm)))


def test_shortcuts_never_change_a_match(samples_dir):
    lexicon = load_lexicon()
    phrases = [p.replace("{n}", "12").replace("{rest}", "to read the story")
               for path in sorted(LEXICON_DIR.glob("*.txt")) for sec in SECTIONS
               for p in read_lexicon_file(path).get(sec, [])]
    # Every phrase alone, after a bullet, inside a sentence, with a separator; and every line of the samples.
    lines = [form.format(p) for p in phrases
             for form in ("{}", "» {}:", "He said «{}» twice, then left.", "{} | Home", "(e-mail) {} (12)")]
    lines += [line for path in sorted(samples_dir.glob("*.txt")) for line in path.read_text(encoding="utf-8").splitlines()]
    hits = 0
    for line in lines:
        norm = normalise(line)
        for section in SECTIONS:
            expected = _regexes_only(norm, section, lexicon)
            assert match_section(norm, section, lexicon) == expected, (line, section)
            hits += expected
    assert hits > len(phrases)  # the lines do match: the comparison covers matches, not only misses


def test_icons_links_shortcodes_and_bylines():
    lexicon = load_lexicon()
    assert is_icon("badge-check") and is_icon("fa fa-facebook") and is_icon("- landscape-tablet")
    assert not is_icon("Conclusion") and not is_icon("Covid-19 cases rise")
    assert is_url("https://example.org/a?b=1") and not is_url("See https://example.org for details")
    assert is_shortcode('[button link="https://x.example/"]Send us your review[/button]')
    assert is_meta_line("05/10/2018 - Publicado por: Clarissa Borba - Categoria: Saúde", lexicon)
    assert is_dated_byline("Posted on March 3, 2024 by admin", lexicon)
    assert not is_dated_byline("1a etapa: 10 de março – Interlagos", lexicon)  # a calendar entry, no byline word
    assert not is_dated_byline("Palm Bay d. Rockledge 70-44", lexicon)


def test_word_counts_and_line_hash():
    assert count_words("The council met on Tuesday.") == 5
    assert count_words("先日、不正に改造したiPhoneを販売した") > 5
    assert line_hash("  Leave a Reply  ") == line_hash("leave a reply") == line_hash("Leave a reply:")
    assert line_hash("Leave a reply") != line_hash("Leave a comment")
