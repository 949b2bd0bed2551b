"""The classic XML attacks, each refused with `.03.` before it can expand, fetch or recurse:
nothing is read from disk, and the content of a file an attack names appears nowhere."""

from __future__ import annotations

import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any, ClassVar

import pytest

from stateline.protocol import Reject, RejectCode, format_xml, read, read_any, read_xml
from stateline.protocol.xmlsafe import MOST_ATTRIBUTE, MOST_CHARACTERS, MOST_DEPTH

SECRET = "SYNTHETIC-SECRET-7f3a9c"
HEADER = ("<n2:NLETSMessageHeader><nh2:MessageKeyCodeText>DQ</nh2:MessageKeyCodeText>"
          "<nh2:OriginatingORIID>ORPPD0000</nh2:OriginatingORIID>"
          "<nh2:DestinationORIID>WA</nh2:DestinationORIID></n2:NLETSMessageHeader>")
NAMESPACES = ('xmlns:n2="http://www.nlets.org/niem/1.0" '
              'xmlns:nh2="http://www.nlets.org/niem/nlets-hdr/1.0" '
              'xmlns:nc="http://niem.gov/niem/niem-core/2.0"')


def document(doctype: str, surname: str) -> str:
    """A DQ whose surname is the attack's payload, behind the attack's DOCTYPE."""
    return (f'<?xml version="1.0"?>\n{doctype}\n<n2:NLETS {NAMESPACES}>{HEADER}'
            "<n2:NLETSInquiryData><n2:Person><nc:PersonName>"
            f"<nc:PersonGivenName>JANE</nc:PersonGivenName><nc:PersonSurName>{surname}"
            "</nc:PersonSurName></nc:PersonName><nc:PersonBirthDate><nc:Date>1985-03-14"
            "</nc:Date></nc:PersonBirthDate></n2:Person></n2:NLETSInquiryData></n2:NLETS>")


@pytest.fixture(scope="module")
def secret_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("attack") / "secret.txt"
    path.write_text(SECRET)
    return path


class Opened:
    """Files opened from Python while a parse runs (an audit hook cannot be removed, so one
    hook serves the module and records only while watching)."""

    watching = False
    paths: ClassVar[list[str]] = []

    @classmethod
    def hook(cls, event: str, args: tuple[Any, ...]) -> None:
        if cls.watching and event == "open":
            cls.paths.append(str(args[0]))


sys.addaudithook(Opened.hook)


@pytest.fixture
def opened() -> Iterator[list[str]]:
    Opened.paths = []
    Opened.watching = True
    try:
        yield Opened.paths
    finally:
        Opened.watching = False


def refused(raw: str) -> Reject:
    """The reject read_xml gives, and how long it took: a refusal, not a slow success."""
    started = time.perf_counter()
    with pytest.raises(Reject) as caught:
        read_xml(raw)
    assert time.perf_counter() - started < 2.0
    assert caught.value.code is RejectCode.NO_TXT, caught.value.text
    return caught.value


def attacks(secret: Path) -> dict[str, str]:
    laughs = "".join(f'<!ENTITY lol{n} "{f"&lol{n - 1};" * 10}">' for n in range(1, 10))
    return {
        "billion laughs": document(
            f'<!DOCTYPE n2:NLETS [<!ENTITY lol0 "lol">{laughs}]>', "&lol9;"),
        "quadratic blowup": document(
            f'<!DOCTYPE n2:NLETS [<!ENTITY a "{"A" * 50_000}">]>', "&a;" * 1_000),
        "external entity /etc/passwd": document(
            '<!DOCTYPE n2:NLETS [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>', "&xxe;"),
        "external entity, local file": document(
            f'<!DOCTYPE n2:NLETS [<!ENTITY xxe SYSTEM "{secret.as_uri()}">]>', "&xxe;"),
        "parameter entity": document(
            f'<!DOCTYPE n2:NLETS [<!ENTITY % p SYSTEM "{secret.as_uri()}"> %p;]>', "DOE"),
        "external DTD": document(f'<!DOCTYPE n2:NLETS SYSTEM "{secret.as_uri()}">', "DOE"),
        "public DTD": document(
            f'<!DOCTYPE n2:NLETS PUBLIC "-//X//Y" "{secret.as_uri()}">', "DOE"),
        "undeclared entity": document("", "&xxe;"),
    }


ATTACKS = sorted(attacks(Path("/nonexistent")))


@pytest.mark.parametrize("name", ATTACKS)
def test_each_entity_or_dtd_attack_is_refused_without_reading_a_file(
        name: str, secret_file: Path, opened: list[str]) -> None:
    raw = attacks(secret_file)[name]
    reject = refused(raw)
    assert opened == []
    assert SECRET not in reject.text and "root:" not in reject.text
    assert reject.original == raw


def test_an_attack_gets_the_same_reject_through_every_reader(secret_file: Path) -> None:
    raw = attacks(secret_file)["external entity, local file"]
    with pytest.raises(Reject) as caught:
        read_any(raw)
    assert caught.value.code is RejectCode.NO_TXT
    assert SECRET not in caught.value.text


def test_ten_thousand_levels_of_nesting_stop_at_the_limit() -> None:
    raw = f"<n2:NLETS {NAMESPACES}>" + "<a>" * 10_000 + "</a>" * 10_000 + "</n2:NLETS>"
    reject = refused(raw)
    assert f"DEEPER THAN {MOST_DEPTH}" in reject.text


def test_nesting_that_is_never_closed_is_refused_too() -> None:
    assert "DEEPER THAN" in refused("<a>" * 10_000).text


def test_a_huge_attribute_is_refused() -> None:
    within_size = f'<n2:NLETS {NAMESPACES} n2:version="{"4" * (MOST_ATTRIBUTE + 1)}">' \
                  f"{HEADER}</n2:NLETS>"
    assert "ATTRIBUTE IS LONGER" in refused(within_size).text
    past_size = f'<n2:NLETS {NAMESPACES} x="{"A" * MOST_CHARACTERS}">{HEADER}</n2:NLETS>'
    assert "LONGER THAN" in refused(past_size).text


def test_a_flood_of_elements_is_refused() -> None:
    raw = f"<n2:NLETS {NAMESPACES}>{HEADER}" + "<b/>" * 30_000 + "</n2:NLETS>"
    assert "MORE THAN" in refused(raw).text


def test_the_limits_leave_real_messages_alone() -> None:
    message = read("DQ.ORPPD0000.WA.TXT\nNAM/DOE,JANE.DOB/19850314")
    assert read_xml(format_xml(message)) == message
