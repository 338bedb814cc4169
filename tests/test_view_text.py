"""view/text.py: mentions cut out of the text by offset, removed lines put back among the kept paragraphs."""
from newsflow.view.text import Line, Piece, highlighted, original_lines


def test_mentions_become_pieces_by_offset_and_overlaps_are_dropped():
    text = "Xi met Putin in Moscow."
    mentions = [{"start_char": 7, "end_char": 12, "entity_id": "p"}, {"start_char": 0, "end_char": 2, "entity_id": "x"},
                {"start_char": 8, "end_char": 10, "entity_id": "overlap"}]
    pieces = highlighted(text, mentions)
    assert [p.text for p in pieces] == ["Xi", " met ", "Putin", " in Moscow."]
    assert [p.mention["entity_id"] if p.mention else None for p in pieces] == ["x", None, "p", None]
    assert "".join(p.text for p in pieces) == text
    assert highlighted("abc", []) == [Piece("abc")]


def test_removed_lines_go_back_at_their_line_numbers():
    removed = [{"document_id": "d", "line_no": 0, "line": "Menu", "reason": "clean_menu"},
               {"document_id": "d", "line_no": 3, "line": "Share this", "reason": "clean_share"}]
    lines = original_lines("First.\n\nSecond.\n\nThird.", removed)
    assert lines == [Line("Menu", "clean_menu", 0), Line("First."), Line("Second."), Line("Share this", "clean_share", 3),
                     Line("Third.")]
    assert original_lines("Only.", []) == [Line("Only.")]


def test_with_the_kept_line_numbers_removed_lines_go_back_exactly_beside_blank_lines():
    removed = [{"document_id": "d", "line_no": 2, "line": "Menu", "reason": "clean_menu"},
               {"document_id": "d", "line_no": 7, "line": "Share this", "reason": "clean_share"}]
    # The page: 0 First. / 1 blank / 2 Menu / 3 blank / 4 blank / 5 Second. / 6 blank / 7 Share this / 8 Third.
    lines = original_lines("First.\n\nSecond.\n\nThird.", removed, [0, 5, 8])
    assert lines == [Line("First.", None, 0), Line("Menu", "clean_menu", 2), Line("Second.", None, 5),
                     Line("Share this", "clean_share", 7), Line("Third.", None, 8)]
    # Counting paragraphs instead (rows without line numbers) puts both removed lines too late.
    assert [l.text for l in original_lines("First.\n\nSecond.\n\nThird.", removed)] != [l.text for l in lines]


def test_a_cleaned_sample_page_comes_back_line_for_line(samples_dir):
    from newsflow.extractors.cleaning import clean_drafts
    from newsflow.extractors.records import Draft
    from newsflow.extractors.settings import Limits

    pages = {path.stem: path.read_text(encoding="utf-8") for path in sorted(samples_dir.iterdir())}
    assert sum("\n\n" in page for page in pages.values()) >= 2  # blank lines: where counting paragraphs goes wrong
    for name, page in pages.items():
        (article,), _ = clean_drafts([Draft(name, page)], {}, Limits())
        removed = [{"document_id": name, "line_no": r.line_no, "line": r.line, "reason": r.reason} for r in article.removed]
        assert removed
        shown = [" ".join(line.text.split()) for line in original_lines(article.text, removed, article.line_nos)]
        assert shown == [" ".join(line.split()) for line in page.split("\n") if line.strip()]
