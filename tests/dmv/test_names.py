"""Names as DMV searches compare them: normalised, split, and keyed by sound."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from stateline.dmv.names import ANY_FIRST, NAME_LIMIT, Name, clean, format_name, parse_name, sound
from stateline.protocol.fields import check_name


@pytest.mark.parametrize(("raw", "cleaned"), [
    ("o'brien", "OBRIEN"),
    ("O\u2019Brien", "OBRIEN"),
    ("Núñez-García", "NUNEZ GARCIA"),
    ("  st. john   jr. ", "ST JOHN JR"),
    ("Øster", "OSTER"),
    ("straße", "STRASSE"),
    ("SMITH", "SMITH"),
    ("", ""),
])
def test_clean_folds_case_accents_and_punctuation(raw: str, cleaned: str) -> None:
    assert clean(raw) == cleaned


@pytest.mark.parametrize(("text", "name"), [
    ("SMITH,JOHN Q JR", Name("SMITH", "JOHN", "Q", "JR")),
    ("Smith, John Quincy", Name("SMITH", "JOHN", "QUINCY")),
    ("SMITH JR,JOHN", Name("SMITH", "JOHN", "", "JR")),
    ("SMITH,JOHN 3RD", Name("SMITH", "JOHN", "", "III")),
    ("SMITH,JOHN IV", Name("SMITH", "JOHN", "", "IV")),
    ("SMITH,JR", Name("SMITH", "JR")),
    ("DE LA CRUZ,MARIA", Name("DE LA CRUZ", "MARIA")),
    ("O'BRIEN,PAT", Name("OBRIEN", "PAT")),
    ("SMITH", Name("SMITH")),
    ("", Name("")),
])
def test_parse_name_splits_last_first_middle_suffix(text: str, name: Name) -> None:
    assert parse_name(text) == name


@pytest.mark.parametrize(("one", "other"), [
    ("SMITH", "SMYTHE"),
    ("SMITH", "SCHMIDT"),
    ("JON", "JOHN"),
    ("STEPHEN", "STEVEN"),
    ("OBRIEN", clean("O'BRIEN")),
    ("DE LA CRUZ", "DELACRUZ"),
    ("GONZALEZ", "GONZALES"),
])
def test_spelling_variants_share_a_key(one: str, other: str) -> None:
    assert sound(one) == sound(other)


@pytest.mark.parametrize(("one", "other"), [("SMITH", "JONES"), ("CATHERINE", "KATHERINE")])
def test_different_names_and_first_letters_do_not(one: str, other: str) -> None:
    assert sound(one) != sound(other)


def test_first_range_takes_a_key_an_initial_or_anything() -> None:
    assert parse_name("SMITH,JON").first_range() == (sound("JOHN"),) * 2
    low, high = parse_name("SMITH,J").first_range()
    assert low <= sound("JOHN") <= high and low <= sound("JANE") <= high
    assert not low <= sound("KATE") <= high
    assert parse_name("SMITH").first_range() == ANY_FIRST


def test_format_name_shrinks_middle_then_suffix_then_cuts() -> None:
    assert format_name(Name("SMITH", "JOHN", "QUINCY", "JR")) == "SMITH,JOHN QUINCY JR"
    assert format_name(Name("SMITH", "JOHN", "QUINCY", "JR"), suffix=False) == "SMITH,JOHN QUINCY"
    long_middle = Name("WASHINGTON", "ALEXANDRA", "MAXIMILIANA", "III")
    assert format_name(long_middle) == "WASHINGTON,ALEXANDRA M III"
    very_long = Name("WOLFESCHLEGELSTEINHAUSENBERGER", "HUBERT", "BLAINE", "SR")
    text = format_name(very_long)
    assert len(text) == NAME_LIMIT and text.startswith("WOLFESCHLEGEL") and text.endswith("HUBERT")


names = st.text(alphabet=st.characters(codec="utf-8"), max_size=60)
plain = st.text(alphabet="ABCDEFGHIJKLMNOPQRSTUVWXYZ '-.,", max_size=50)


@given(names)
def test_clean_never_raises_and_is_idempotent(text: str) -> None:
    once = clean(text)
    assert clean(once) == once


@given(st.one_of(names, plain))
def test_parse_name_never_raises_and_reads_its_own_text(text: str) -> None:
    name = parse_name(text)
    assert parse_name(name.text) == name
    assert len(format_name(name)) <= NAME_LIMIT


@given(st.builds(Name, *[names.map(clean)] * 4))
def test_formatted_names_fit_and_have_no_stray_blanks(name: Name) -> None:
    for text in (format_name(name), format_name(name, suffix=False)):
        assert len(text) <= NAME_LIMIT and text == text.strip() and "  " not in text


@given(st.builds(Name, *[st.text(alphabet="ABCDEFGHIJKLMNOPQRSTUVWXYZ", min_size=1, max_size=25)]
                  * 3))
def test_formatted_names_pass_the_protocol_name_rule(name: Name) -> None:
    assert check_name(format_name(name, suffix=False)) is None
