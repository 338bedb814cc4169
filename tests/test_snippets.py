"""Snippets: the text around the first matching word, matches marked, cut at word boundaries."""
from newsflow.extractors.snippets import snippet


def test_the_snippet_is_around_the_first_match_with_every_match_marked():
    text = " ".join(["filler"] * 60) + " Xi met Putin; Putin's aides and xinhua reporters watched. " + " ".join(["tail"] * 60)
    out = snippet(text, ["xi", "putin"], width=120)
    assert out.startswith("…") and out.endswith("…")
    assert "**Xi** met **Putin**; **Putin's** aides" in out
    assert "**xinhua**" not in out and "xinhua" in out  # a word that merely begins with a stem is not a match
    assert len(out) <= 120 + 2 * 8 + 2


def test_stems_match_their_inflected_words_and_accents():
    assert "**talks**" in snippet("The talks in Zürich went on.", ["talk", "zurich"])
    assert "**Zürich**" in snippet("The talks in Zürich went on.", ["talk", "zurich"])


def test_no_match_in_the_text_gives_its_opening():
    assert snippet("A short body.", ["nowhere"]) == "A short body."
    long = "word " * 100
    out = snippet(long, ["nowhere"], width=50)
    assert not out.startswith("…") and out.endswith("…") and len(out) <= 51
