"""Properties of the protocol room under generated input: round trips, tolerance, robustness.

Valid messages are drawn from the key table and the field rules, so a new key or rule is
covered without touching this file. Anything the codecs refuse must surface as a Reject.
"""

from __future__ import annotations

import string
from collections.abc import Callable
from dataclasses import replace
from datetime import date, datetime

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from stateline.protocol import (
    KEYS,
    MULTI_STATE,
    STATES,
    Answer,
    Field,
    KeySpec,
    Message,
    Outcome,
    OutputHeader,
    Record,
    Reject,
    RejectCode,
    Section,
    Stamp,
    TextKind,
    dumps,
    format_answer,
    format_text,
    from_json,
    loads,
    parse,
    read,
    read_answer,
    read_json,
    to_json,
    validate,
)
from stateline.protocol.errors import shown_original
from stateline.protocol.fields import NAME_LIMIT, PARTIAL_PLATE_MINIMUM, YEAR_RANGE
from stateline.protocol.keys import Addressing
from stateline.protocol.model import KEY_PATTERN, PREFIX_PATTERN, normalise_body
from stateline.protocol.responses import GROUP_WORDS

SOME = settings(max_examples=100, deadline=None)
MANY = settings(max_examples=200, deadline=None)

ALNUM = string.ascii_uppercase + string.digits
NO_CONTROLS = st.characters(blacklist_categories=("Cc", "Cs"))
"""Printable-ish text: control characters are stripped on input, so a value never holds one."""

# --- Valid messages, built from the key table and the field rules -------------------------

oris = st.text(ALNUM, min_size=9, max_size=9)
states = st.sampled_from(sorted(STATES))
regions = st.text(ALNUM, min_size=2, max_size=2).filter(lambda c: c not in STATES) | st.just(
    MULTI_STATE
)
controls = st.text(ALNUM + "-", min_size=1, max_size=10)
years = st.integers(YEAR_RANGE.start, YEAR_RANGE.stop - 1).map(str)


def _addresses(codes: st.SearchStrategy[str]) -> Callable[[int], st.SearchStrategy[list[str]]]:
    return lambda most: st.lists(codes, min_size=1, max_size=most, unique=True)


ADDRESSES = {
    Addressing.STATES: _addresses(states | regions),
    Addressing.ONE_STATE: lambda most: st.lists(states, min_size=1, max_size=1),
    Addressing.REGIONS: _addresses(regions),
    Addressing.ORI: lambda most: st.lists(oris, min_size=1, max_size=1),
    Addressing.ANY: _addresses(states | regions | oris),
}
"""Destinations each addressing rule accepts, given the rule's maximum count."""


def _word(first: str, rest: str, most: int) -> st.SearchStrategy[str]:
    return st.builds(str.__add__, st.sampled_from(first), st.text(rest, max_size=most))


_name_words = st.lists(_word(string.ascii_uppercase, string.ascii_uppercase + "'-", 7),
                       min_size=1, max_size=2).map(" ".join)
names = st.builds(
    lambda last, gap, first: f"{last},{gap}{first}", _name_words, st.sampled_from(["", " "]),
    _name_words,
).filter(lambda name: len(name) <= NAME_LIMIT)
births = st.dates(date(YEAR_RANGE.start, 1, 1), date(YEAR_RANGE.stop - 1, 12, 31)).flatmap(
    lambda day: st.sampled_from([day.strftime("%m%d%y"), day.strftime("%Y%m%d")])
)


@st.composite
def partial_plates(draw: st.DrawFn) -> str:
    known = draw(st.lists(st.sampled_from(ALNUM), min_size=PARTIAL_PLATE_MINIMUM, max_size=9))
    wild = draw(st.lists(st.sampled_from("*?"), min_size=1, max_size=10 - len(known)))
    return "".join(draw(st.permutations(known + wild)))


VALUES: dict[str, st.SearchStrategy[str]] = {
    "OLN": st.text(ALNUM + "*-", min_size=1, max_size=20),
    "NAM": names,
    "DOB": births,
    "SEX": st.sampled_from("MFUX"),
    "RSN": st.sampled_from("NFVTSHI"),
    "PUR": st.sampled_from("CFEDJS"),
    "ATN": st.text(ALNUM + " ,'-", min_size=1, max_size=30).filter(str.strip),
    "IMQ": st.sampled_from("YN"),
    "LIC": st.text(ALNUM, min_size=1, max_size=10),
    "LIY": years | st.integers(0, 99).map("{:02d}".format) | st.just("NX"),
    "LIT": st.text(string.ascii_uppercase, min_size=2, max_size=2),
    "VIN": st.text(ALNUM, min_size=1, max_size=20),
    "VMA": st.text(ALNUM, min_size=1, max_size=24),
    "VYR": years,
}
KEYED_VALUES = {("RPQ", "LIC"): partial_plates()}
"""Values each prefix's rule accepts; a prefix without an entry here fails loudly."""


@st.composite
def query_fields(draw: st.DrawFn, spec: KeySpec) -> tuple[Field, ...]:
    """One identifying set of the key, some other allowed prefixes, in any order."""
    needed = set(draw(st.sampled_from(spec.field_sets)))
    extra = draw(st.sets(st.sampled_from(sorted(spec.allowed))))
    prefixes = draw(st.permutations(sorted(needed | extra)))
    return tuple(
        Field(p, draw(KEYED_VALUES.get((spec.key, p), VALUES[p]))) for p in prefixes
    )


bodies = st.lists(st.text(NO_CONTROLS, max_size=30), max_size=4).map("\n".join)
stamps = st.builds(
    Stamp, st.datetimes(datetime(1970, 1, 1), datetime(2099, 12, 31)), st.integers(0, 99_999)
)
headers = st.builds(OutputHeader, stamps, stamps, oris)


def _settled(message: Message) -> bool:
    """Whether building the message again changes nothing: normalising is idempotent."""
    return replace(message) == message


@st.composite
def valid_messages(
    draw: st.DrawFn, specs: tuple[KeySpec, ...] = tuple(KEYS.values()), delivered: bool = False
) -> Message:
    """A message its key's rules accept; delivered ones carry an output header, not addresses."""
    spec = draw(st.sampled_from(specs))
    header = draw(headers) if delivered else None
    destinations = () if header else draw(ADDRESSES[spec.destinations.addressing](
        spec.destinations.most))
    fields, body = (), None
    if spec.text is TextKind.FIELDS:
        fields = draw(query_fields(spec))
    else:
        needs_text = spec.key in ("AM", "SM")
        body = draw(bodies.filter(lambda b: not needs_text or normalise_body(b)))
    return Message(
        spec.key,
        spec.origin or draw(oris),
        tuple(destinations),
        draw(st.none() | controls),
        fields,
        body,
        header,
    )


unknown_keys = st.from_regex(KEY_PATTERN, fullmatch=True).filter(lambda k: k not in KEYS)
generic_fields = st.builds(
    Field,
    st.from_regex(PREFIX_PATTERN, fullmatch=True),
    st.text(st.characters(blacklist_categories=("Cc", "Cs"), blacklist_characters="."),
            max_size=20),
)


@st.composite
def unknown_messages(draw: st.DrawFn) -> Message:
    """A key the table does not know, carrying generic fields or a free text."""
    header = draw(st.none() | headers)
    destinations = () if header else draw(ADDRESSES[Addressing.ANY](5))
    fields = tuple(draw(st.lists(generic_fields, max_size=5)))
    body = None if fields or draw(st.booleans()) else draw(bodies)
    return Message(draw(unknown_keys), draw(oris), tuple(destinations),
                   draw(st.none() | controls), fields, body, header)


messages = st.one_of(
    valid_messages(), valid_messages(delivered=True), unknown_messages()
)
field_messages = st.booleans().flatmap(
    lambda delivered: valid_messages(
        tuple(s for s in KEYS.values() if s.text is TextKind.FIELDS), delivered
    )
)


# --- Round trips -----------------------------------------------------------------------------


@pytest.mark.parametrize("delivered", [False, True], ids=["plain", "delivered"])
@pytest.mark.parametrize("key", sorted(KEYS))
@settings(max_examples=12, deadline=None)
@given(data=st.data())
def test_a_valid_message_survives_every_codec(
    key: str, delivered: bool, data: st.DataObject
) -> None:
    message = data.draw(valid_messages((KEYS[key],), delivered))
    assert _settled(message)
    assert validate(message) is message
    assert parse(format_text(message)) == message
    assert read(format_text(message)) == message
    assert from_json(to_json(message)) == message
    assert loads(dumps(message)) == message
    assert read_json(dumps(message)) == message


@SOME
@given(unknown_messages())
def test_an_unknown_key_is_routed_with_its_text_intact(message: Message) -> None:
    assert message.key not in KEYS
    assert to_json(message)["supported"] is False
    assert read(format_text(message)) == message
    assert loads(dumps(message)) == message


@MANY
@given(messages)
def test_legacy_text_is_a_fixed_point_of_parse_and_format(message: Message) -> None:
    text = format_text(message)
    assert format_text(parse(text)) == text


# --- Tolerance ------------------------------------------------------------------------------


def _lower_case(text: str, message: Message) -> str:
    """Lower-case the header, and the fields of a known query (unknown keys may hold non-ASCII)."""
    if message.key in KEYS and message.body is None:
        return text.lower()
    first, newline, rest = text.partition("\n")
    return first.lower() + newline + rest


IGNORED_CONTROLS = [chr(c) for c in range(0x09)] + ["\x7f"]


@st.composite
def loosened(draw: st.DrawFn, message: Message) -> str:
    """The message's text as a careless terminal might send it: every liberty parse forgives."""
    text = format_text(message)
    if draw(st.booleans()):
        text = _lower_case(text, message)
    for _ in range(draw(st.integers(0, 5))):
        at = draw(st.integers(0, len(text)))
        text = text[:at] + draw(st.sampled_from(IGNORED_CONTROLS)) + text[at:]
    if draw(st.booleans()):
        text = text.replace("\n", "\r\n")
    if draw(st.booleans()):
        text += "."
    lead, trail = (draw(st.text(" \t\r\n", max_size=3)) for _ in range(2))
    return lead + text + trail


@MANY
@given(st.data(), messages)
def test_parse_forgives_line_ends_periods_blanks_case_and_control_characters(
    data: st.DataObject, message: Message
) -> None:
    assert parse(data.draw(loosened(message))) == message


@SOME
@given(field_messages)
def test_a_query_typed_in_lower_case_with_crlf_reads_as_sent(message: Message) -> None:
    text = format_text(message).lower().replace("\n", "\r\n") + ".\r\n"
    assert read(text) == message


# --- Robustness: only Reject escapes ---------------------------------------------------------


def _check_reject(reject: Reject, raw: str | None = None) -> None:
    assert isinstance(reject.code, RejectCode)
    assert reject.text
    assert reject.text.startswith(reject.code.value + " ")
    assert reject.as_json() == {"error": {"code": "rejected", "text": reject.text}}
    if raw is not None and shown_original(raw):
        assert shown_original(raw) in reject.text


def _only_rejects(call: Callable[[str], object], raw: str, *, quotes: bool = True) -> object:
    """Call a reader; a Reject is fine (and checked), any other exception fails the test."""
    try:
        return call(raw)
    except Reject as reject:
        _check_reject(reject, raw if quotes else None)
        return None


def _reads_text_safely(raw: str) -> None:
    parsed = _only_rejects(parse, raw)
    if _only_rejects(read, raw) is not None:
        assert parsed is not None, "read accepted a text parse refuses"
    _only_rejects(loads, raw)
    _only_rejects(read_json, raw)
    _only_rejects(read_answer, raw, quotes=False)


EDIT_CHARS = ".\n/*,\r\x00\x7f "


@st.composite
def mutated(draw: st.DrawFn) -> str:
    """A valid message's text after a few random keystroke-sized edits."""
    text = format_text(draw(messages))
    for _ in range(draw(st.integers(1, 4))):
        edit = draw(st.sampled_from(["delete", "insert", "case", "repeat", "truncate"]))
        at = draw(st.integers(0, len(text)))
        end = draw(st.integers(at, len(text)))
        if edit == "delete":
            text = text[:at] + text[at + 1:]
        elif edit == "insert":
            text = text[:at] + draw(st.sampled_from(EDIT_CHARS)) + text[at:]
        elif edit == "case":
            text = text[:at] + text[at:at + 1].swapcase() + text[at + 1:]
        elif edit == "repeat":
            text = text[:end] + text[at:end] + text[end:]
        else:
            text = text[:at]
    return text


@st.composite
def mangled_bytes(draw: st.DrawFn) -> str:
    """Bytes off a noisy line: a message's text with random bytes spliced in, then decoded."""
    raw = bytearray(format_text(draw(messages)).encode())
    for _ in range(draw(st.integers(0, 4))):
        at = draw(st.integers(0, len(raw)))
        raw[at:at] = draw(st.binary(min_size=1, max_size=4))
    encoding = draw(st.sampled_from(["utf-8", "latin-1"]))
    return bytes(raw).decode(encoding, errors="replace")


protocolish = st.text(ALNUM + string.ascii_lowercase + "./*-:,\n\r\t ", max_size=120)


@MANY
@given(st.one_of(st.text(), protocolish, mutated(), mangled_bytes(),
                 st.binary().map(lambda b: b.decode("utf-8", errors="replace")),
                 st.binary().map(lambda b: b.decode("latin-1"))))
def test_reading_any_text_returns_or_rejects(raw: str) -> None:
    _reads_text_safely(raw)


@SOME
@given(mutated())
def test_what_parse_accepts_it_writes_back_readably(raw: str) -> None:
    try:
        message = parse(raw)
    except Reject:
        return
    assert parse(format_text(message)) == message


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=12),
    lambda children: st.lists(children, max_size=4)
    | st.dictionaries(st.text(max_size=8), children, max_size=4),
    max_leaves=12,
)


@st.composite
def damaged_json(draw: st.DrawFn) -> object:
    """A valid message's JSON form with one member, field or stamp replaced or removed."""
    obj = to_json(draw(messages))
    target = obj
    if obj["header"] is not None and draw(st.booleans()):
        target = obj["header"]
        if draw(st.booleans()):
            target = target[draw(st.sampled_from(["received", "sent"]))]
    elif obj["fields"] and draw(st.booleans()):
        target = draw(st.sampled_from(obj["fields"]))
    name = draw(st.sampled_from([*sorted(target), "extra"]))
    if draw(st.booleans()):
        target.pop(name, None)
    else:
        target[name] = draw(json_values)
    return obj


@MANY
@given(st.one_of(json_values, damaged_json()))
def test_reading_any_json_value_returns_or_rejects(data: object) -> None:
    try:
        message = from_json(data)
    except Reject as reject:
        _check_reject(reject)
    else:
        assert from_json(to_json(message)) == message


@SOME
@given(st.text() | protocolish | mutated())
def test_a_read_reject_quotes_the_start_of_the_input(raw: str) -> None:
    try:
        read(raw)
    except Reject as reject:
        assert reject.original == raw
        if shown_original(raw):
            assert reject.text.endswith("\n" + shown_original(raw))


def test_an_empty_input_is_a_structure_reject() -> None:
    with pytest.raises(Reject) as caught:
        read(" \r\n.\x00")
    assert caught.value.code is RejectCode.STRUCTURE


# --- Responses -------------------------------------------------------------------------------

elements = st.from_regex(r"[a-z]{1,10}", fullmatch=True)


def _answer_settled(answer: Answer) -> bool:
    """Whether building the answer again changes nothing: normalising is idempotent."""
    return replace(answer) == answer


def answers(*, least_fields: int, notes: st.SearchStrategy[str]) -> st.SearchStrategy[Answer]:
    sections = st.one_of(
        st.builds(Section, elements, st.just(()), st.just(True)),
        st.builds(Section, elements,
                  st.lists(generic_fields, min_size=max(1, least_fields), max_size=4).map(tuple)),
    )
    records = st.lists(sections, max_size=4).map(lambda s: Record(tuple(s)))
    labels = st.none() | notes
    return st.builds(
        Answer,
        states,
        st.sampled_from(sorted(GROUP_WORDS)),
        st.sampled_from(Outcome),
        st.lists(records, max_size=3).map(tuple),
        labels,
        labels,
        labels,
        labels,
    )


@MANY
@given(answers(least_fields=0, notes=st.text(max_size=40)))
def test_an_answer_survives_its_response_text(answer: Answer) -> None:
    assert _answer_settled(answer)
    assert read_answer(format_answer(answer)) == answer


@SOME
@given(answers(least_fields=1, notes=st.text(NO_CONTROLS, max_size=40)), oris, oris)
def test_an_answer_survives_the_response_message_it_travels_in(
    answer: Answer, state_ori: str, requester: str
) -> None:
    response = Message("DR", state_ori, (requester,), body=format_answer(answer))
    delivered = read(format_text(response))
    assert delivered.body is not None
    assert read_answer(delivered.body) == answer


# --- Regressions the fuzzing found --------------------------------------------------------


def test_a_body_ending_period_blank_period_round_trips() -> None:
    message = Message("AM", "ORPPD0000", ("WA",), body="A. .")
    assert parse(format_text(message)) == message


def test_a_field_value_with_a_c1_control_is_refused() -> None:
    with pytest.raises(Reject):
        Field("AB", "X\x85Y")


def test_an_answer_reason_ending_blank_period_round_trips() -> None:
    answer = Answer("WA", "driver", Outcome.DENIED, reason="X .")
    assert read_answer(format_answer(answer)) == answer


def test_a_stamp_outside_switch_years_is_refused() -> None:
    with pytest.raises(Reject):
        Stamp(datetime(999, 1, 1), 1)


def test_a_section_with_no_fields_must_be_withheld() -> None:
    with pytest.raises(Reject):
        Section("identity")
