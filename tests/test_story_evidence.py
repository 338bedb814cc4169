"""Weighing two articles' event evidence: vetoes, bonuses and penalties, each asserted exactly."""
from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timezone

import pytest

from newsflow.extractors.settings import Dedup
from newsflow.extractors.stories import story_terms
from newsflow.extractors.story_evidence import event_doc, name_words, weigh

SETTINGS = Dedup()
JAN21 = datetime(2025, 1, 21, 16, 0, tzinfo=timezone.utc)
MAY8 = datetime(2025, 5, 8, 16, 0, tzinfo=timezone.utc)


def doc(title: str, text: str, published: datetime | None = None, seen: datetime | None = None):
    return event_doc(title, text, published, seen, story_terms(title, text, 100), 100)


def test_name_words_are_capitalised_inside_sentences_only():
    lead = "Russian President Vladimir Putin met Xi. Talks lasted hours: Officials said so, and “Quiet” was the mood."
    assert name_words(lead) == {"president", "vladimir", "putin", "xi"}


def test_firm_days_far_apart_veto_the_link_whatever_the_words():
    a = doc("Putin and Xi talk", "The leaders discussed energy and trade cooperation.", JAN21)
    b = doc("Putin and Xi talk", "The leaders discussed energy and trade cooperation.", MAY8)
    evidence = weigh(b, a, 0.9, SETTINGS)
    assert (evidence.veto, evidence.day_gap, evidence.day_sources, evidence.links) == (
        "story_dates_apart", 107, "published/published", False)


def test_days_read_from_arrival_never_veto_but_a_close_firm_day_helps():
    a = doc("Putin and Xi talk", "The leaders discussed energy and trade cooperation.", JAN21)
    late = doc("Putin and Xi talk", "The leaders discussed energy and trade cooperation.", None, MAY8)
    assert weigh(late, a, 0.3, SETTINGS).veto is None  # an arrival months later: maybe a backlog
    next_morning = doc("Putin and Xi talk", "The leaders discussed energy and trade cooperation.", None,
                       datetime(2025, 1, 22, 7, 0, tzinfo=timezone.utc))
    evidence = weigh(next_morning, a, 0.3, SETTINGS)
    assert (evidence.day_gap, evidence.threshold, evidence.links) == (1, SETTINGS.story_threshold, True)
    assert evidence.score == pytest.approx(0.3 + SETTINGS.story_day_bonus)
    undated = weigh(doc("Putin and Xi talk", "The leaders discussed energy and trade cooperation."), a, 0.3, SETTINGS)
    assert (undated.day_gap, undated.links) == (None, False)
    assert undated.threshold == pytest.approx(SETTINGS.story_threshold + SETTINGS.story_undated_margin)


def test_shared_particulars_add_and_particulars_of_one_form_all_different_subtract():
    base = "The central bank decided on rates on Wednesday after a two-day meeting."
    a = doc("Fed cuts rates", base + " The range is now 4.75 to 5 per cent, a cut of 50 basis points.")
    same = doc("Fed cuts rates", base + " Its range: 4.75%-5.00% after 50 basis points.")
    other = doc("Fed cuts rates", base + " The range is now 4.25 to 4.5 per cent.")
    bonus = weigh(same, a, 0.3, SETTINGS)
    assert bonus.shared_particulars == ("4.75", "50") and bonus.score == pytest.approx(0.3 + 2 * SETTINGS.story_particular_bonus)
    conflict = weigh(other, a, 0.3, SETTINGS)
    assert conflict.shared_particulars == () and conflict.score == pytest.approx(0.3 - SETTINGS.story_particular_conflict)


def test_kinds_with_nothing_in_common_subtract():
    call = doc("Putin and Xi hold video call", "The leaders spoke about energy cooperation.")
    message = doc("Xi sends New Year message to Putin", "The leaders' ties about energy cooperation.")
    evidence = weigh(message, call, 0.5, SETTINGS)
    assert evidence.shared_kinds == () and evidence.score == pytest.approx(0.5 - SETTINGS.story_kind_conflict)
    meeting = doc("Putin and Xi hold talks on video call", "The leaders spoke about energy cooperation.")
    assert weigh(meeting, call, 0.5, SETTINGS).shared_kinds == ("call",)


def test_shared_names_alone_never_link():
    a = doc("Stern", "Fans of David Stern gathered. Later, David Stern was remembered by Adam Silver.")
    b = doc("Silver", "Reporters asked Adam Silver about David Stern and the Bucks.")
    evidence = weigh(b, a, 0.8, SETTINGS)
    assert (evidence.veto, evidence.links) == ("story_names_only", False)
    assert weigh(b, a, 0.8, replace(SETTINGS, story_threshold=0.0)).links is False
