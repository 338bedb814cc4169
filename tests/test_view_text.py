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
