"""Event evidence of one article: its day and where that came from, the kinds of event it names, its particulars."""
from __future__ import annotations

from datetime import date, datetime, timezone

from newsflow.extractors.events import FIRM_SOURCES, event_day, event_facts, event_kinds, particulars

ARRIVAL = datetime(2025, 1, 22, 8, 0, tzinfo=timezone.utc)  # a Wednesday


def test_the_published_date_wins_over_anything_in_the_text():
    published = datetime(2025, 1, 21, 16, 40, tzinfo=timezone.utc)
    assert event_day("MOSCOW, Dec 30 - Putin said on Monday...", published, ARRIVAL) == (date(2025, 1, 21), "published")


def test_a_full_date_in_the_lead_is_firm_without_an_arrival():
    lead = "On January 21, 2025, Russian President Vladimir Putin and Chinese President Xi Jinping held a video conference."
    assert event_day(lead, None, None) == (date(2025, 1, 21), "text_date")
    assert "text_date" in FIRM_SOURCES and "dateline" not in FIRM_SOURCES


def test_a_dateline_takes_its_year_from_the_arrival_and_counts_before_later_dates():
    lead = "MOSCOW/BEIJING, Jan 21 (Reuters) - The two leaders spoke. On December 13, 2018 they had met in Buenos Aires."
    assert event_day(lead, None, ARRIVAL) == (date(2025, 1, 21), "dateline")
    # Without an arrival the year is unknown: no day, and the background date further on is not taken instead.
    assert event_day(lead, None, None) == (None, "none")
    # "Dec 31" read on Jan 2 is last year's.
    assert event_day("BEIJING, Dec 31 - Xi sent a message.", None, datetime(2025, 1, 2, tzinfo=timezone.utc)) == (
        date(2024, 12, 31), "dateline")


def test_a_date_ahead_of_the_arrival_is_a_plan_not_the_event():
    lead = "The phones reach stores on Sept 20, priced from 799 dollars; the event on Sept 9 showed four models."
    assert event_day(lead, None, datetime(2024, 9, 10, tzinfo=timezone.utc)) == (date(2024, 9, 9), "month_day")


def test_weekdays_relative_days_and_holidays_resolve_against_the_arrival():
    assert event_day("Putin and Xi spoke by video link on Tuesday, a day after...", None, ARRIVAL) == (date(2025, 1, 21), "weekday")
    assert event_day("The minister resigned yesterday after weeks of pressure.", None, ARRIVAL) == (date(2025, 1, 21), "relative")
    assert event_day("On New Year's Eve, Xi Jinping sent a message to Putin.", None, ARRIVAL) == (date(2024, 12, 31), "holiday")
    assert event_day("Leaders met to discuss trade.", None, ARRIVAL) == (date(2025, 1, 22), "arrival")
    assert event_day("Leaders met to discuss trade.", None, None) == (None, "none")


def test_kinds_come_from_the_title_and_first_sentence_only():
    assert event_kinds("Putin and Xi hold video call", "The leaders talked for 95 minutes.") == {"call"}
    assert event_kinds("Scholz loses confidence vote", "Lawmakers voted 394 to 207.") == {"vote"}
    lead = "Xi Jinping sent a New Year message to Putin. " + "x " * 120 + "They will meet at a summit in May."
    assert event_kinds("Xi writes to Putin", lead) == {"message"}  # the summit is far down: background
    # Words common outside their kind do not count: "called", "match", "court".
    assert event_kinds("Minister called it a match made in court", "") == frozenset()


def test_particulars_normalise_durations_and_leave_out_years_small_counts_and_day_numbers():
    assert particulars("The call lasted an hour and 35 minutes.") == {"95min"}
    assert particulars("They spoke for 95 minutes on Jan 21.") == {"95min"}
    assert particulars("after nearly four hours of talks") == {"240min"}
    assert particulars("a range of 4.75 to 5 per cent in 2024, by 394 votes to 207, 12 members") == {"4.75", "394", "207"}
    assert particulars("Biles scored 15.300, a total of 1,250 points, on Aug 3") == {"15.3", "1250"}


def test_facts_of_a_report_read_title_and_lead():
    facts = event_facts("Biles wins vault final", "PARIS, Aug 3 - Simone Biles won with an average of 15.300.",
                        None, datetime(2024, 8, 4, tzinfo=timezone.utc))
    assert (facts.day, facts.day_source, facts.kinds, facts.particulars) == (
        date(2024, 8, 3), "dateline", {"sport"}, {"15.3"})
