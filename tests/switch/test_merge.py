"""A multi-state query's summary: every state counted once, under what it answered."""

from __future__ import annotations

from stateline.switch.merge import (
    HELD_FOR_DELIVERY,
    NOT_FORWARDED,
    WAITING,
    summarize,
    summary_text,
)


def test_the_summary_says_who_hit_who_had_nothing_and_who_did_not_answer() -> None:
    legs = [("AZ", "no-record"), ("NY", "denied"), ("OR", "partial"), ("TX", WAITING),
            ("WA", "released"), ("ID", HELD_FOR_DELIVERY), ("MT", "held"),
            ("UT", NOT_FORWARDED), ("NV", "error")]
    summary = summarize("DQ", legs)
    assert summary.outcome == "released"
    assert summary.sent_to == ("AZ", "NY", "OR", "TX", "WA", "ID", "MT", "UT", "NV")
    assert summary.to_json() == {
        "sent_to": ["AZ", "NY", "OR", "TX", "WA", "ID", "MT", "UT", "NV"],
        "hit": ["OR", "WA"], "no_record": ["AZ"], "denied": ["NY"],
        "held_for_review": ["MT"], "held_for_delivery": ["ID"], "not_forwarded": ["UT"],
        "error": ["NV"], "not_answered": ["TX"]}
    assert summary_text(summary, 60).split("\n") == [
        "MULTI-STATE SUMMARY FOR DQ",
        "SENT TO: AZ NY OR TX WA ID MT UT NV",
        "HIT: OR WA",
        "NO RECORD: AZ",
        "DENIED: NY",
        "HELD FOR STATE REVIEW: MT",
        "HELD UNTIL BACK IN SERVICE: ID",
        "NOT FORWARDED: UT",
        "COULD NOT ANSWER: NV",
        "NO ANSWER WITHIN 60 S: TX",
    ]


def test_the_summary_outcome_is_the_best_answer_any_state_gave() -> None:
    assert summarize("RQ", [("WA", "no-record"), ("OR", "partial")]).outcome == "partial"
    assert summarize("RQ", [("WA", "denied"), ("OR", HELD_FOR_DELIVERY)]).outcome == "held"
    assert summarize("RQ", [("WA", "denied"), ("OR", "no-record")]).outcome == "denied"
    assert summarize("RQ", [("WA", "no-record"), ("OR", WAITING)]).outcome == "no-record"
    assert summarize("RQ", [("WA", WAITING)]).outcome == "error"
    assert summarize("RQ", [("WA", NOT_FORWARDED)]).outcome == "rejected"


def test_only_lines_with_states_are_written() -> None:
    text = summary_text(summarize("DQ", [("WA", "no-record")]), 60)
    assert text == "MULTI-STATE SUMMARY FOR DQ\nSENT TO: WA\nNO RECORD: WA"
