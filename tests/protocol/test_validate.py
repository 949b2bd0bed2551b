"""Key rules: every supported key, every reject code, examples from the Nlets field tables."""

from __future__ import annotations

import pytest

from stateline.protocol import (
    KEYS,
    Field,
    KeySpec,
    Message,
    Reject,
    RejectCode,
    TextKind,
    birth_date,
    read,
    validate,
)
from stateline.protocol.fields import rule_for
from stateline.protocol.keys import Addressing

VALID_EXAMPLES = [
        "DQ.ORPPD0000.WA.TXT\nOLN/WDL123456",
        "DQ.ORPPD0000.WA.OR.ID.MT.NV.TXT\nNAM/DOE,JANE Q.DOB/031485.SEX/F.RSN/T.IMQ/Y",
        "DQ.ORPPD0000.WA.TXT\nOLN/WDL*AB12-3",
        "DNQ.ORPPD0000.WA.OR.TXT\nNAM/DOE, JANE.SEX/F",
        "DQG.ORPPD0000.W1.TXT\nNAM/DOE,JANE.DOB/19850314",
        "DQG.ORPPD0000.NL.TXT\nNAM/DOE,JANE.DOB/19850314.SEX/F",
        "KQ.AZNLETS20.AZ.TXT\nOLN/D12345678.PUR/C.ATN/SGT RIVERA.IMQ/Y",
        "KQ.AZNLETS20.AZ.TXT\nNAM/DOE,JOHN Q JR.DOB/19700101.SEX/M",
        "RQ.ORPPD0000.WA.TXT\nLIC/ABC1234.LIY/2026.LIT/PC",
        "RQ.ORPPD0000.WA.TXT\nLIC/ABC1234.LIY/NX.LIT/PC.RSN/S",
        "RQ.ORPPD0000.MO.TXT\nVIN/1HGCM82633A004352.VMA/HOND.VYR/2003",
        "RQ.ORPPD0000.NL.TXT\nVIN/1HGCM82633A004352",
        "RQG.ORPPD0000.W2.TXT\nLIC/ABC1234.LIY/26.LIT/PC",
        "RNQ.ORPPD0000.WA.TXT\nNAM/DOE,JANE.DOB/19850314",
        "RPQ.ORPPD0000.WA.TXT\nLIC/AB*12.LIT/PC",
        "RPQ.ORPPD0000.WA.TXT\nLIC/?BC12?",
        "DR.WAOLN0000.ORPPD0000.TXT\nWA DRIVER RESPONSE: NO-RECORD\nNOT ON FILE",
        "DNR.WAOLN0000.ORPPD0000.TXT\nWA DRIVER RESPONSE: NO-RECORD",
        "KR.AZOLN0000.AZNLETS20.TXT\nAZ HISTORY RESPONSE: NO-RECORD",
        "RR.WALIC0000.ORPPD0000.TXT\nWA VEHICLE RESPONSE: NO-RECORD",
        "RPR.WALIC0000.ORPPD0000.TXT\nWA VEHICLE RESPONSE: NO-RECORD",
        "AM.ORPPD0000.WA.OR.WASPD0100.TXT\nPLEASE CALL DISPATCH",
        "SM.NL0000000.WAOLN0000.TXT\nNLETS IN SERVICE",
        "ER.NL0000000.ORPPD0000.TXT\n.14. FIELDS MISSING",
        "ZZQ.ORPPD0000.WA.TXT\nANY/THING",
]


@pytest.mark.parametrize("raw", VALID_EXAMPLES)
def test_accepts_valid_messages_of_every_key(raw: str) -> None:
    message = read(raw)
    assert message.key == raw.split(".")[0]


def test_every_supported_key_has_an_accepted_example() -> None:
    assert {raw.split(".")[0] for raw in VALID_EXAMPLES} >= set(KEYS)


def reject_of(raw: str) -> Reject:
    with pytest.raises(Reject) as caught:
        read(raw)
    return caught.value


@pytest.mark.parametrize(
    ("raw", "code", "says"),
    [
        # .01. header
        ("DQ.ORPPD000.WA.TXT\nOLN/X1", RejectCode.HEADER, "SENDING ORI ORPPD000"),
        ("ER.ORPPD0000.WAOLN0000.TXT\nFAKE", RejectCode.HEADER, "ONLY COME FROM NL0000000"),
        # .03. TXT
        ("RQ.ORPPD0000.WA\nVIN/1", RejectCode.NO_TXT, "NO TXT"),
        # .05. DOB
        ("DQ.ORPPD0000.WA.TXT\nNAM/DOE,JANE", RejectCode.DOB, "DOB IS MISSING"),
        ("DQ.ORPPD0000.WA.TXT\nNAM/DOE,JANE.DOB/19850230", RejectCode.DOB, "NOT A REAL DATE"),
        ("DQ.ORPPD0000.WA.TXT\nNAM/DOE,JANE.DOB/1985031", RejectCode.DOB, "MMDDYY OR CCYYMMDD"),
        ("DQ.ORPPD0000.WA.TXT\nNAM/DOE,JANE.DOB/13011985", RejectCode.DOB, "NOT A REAL DATE"),
        ("DQ.ORPPD0000.WA.TXT\nNAM/DOE,JANE.DOB/ABCDEF", RejectCode.DOB, "MMDDYY"),
        # .10. year
        ("RQ.ORPPD0000.WA.TXT\nLIC/ABC1.LIY/20X6.LIT/PC", RejectCode.YEAR, "LIY"),
        ("RQ.ORPPD0000.WA.TXT\nVIN/1HGCM8.VYR/03", RejectCode.YEAR, "CCYY"),
        # .14. missing
        ("DQ.ORPPD0000.WA.TXT", RejectCode.MISSING, "1. OLN"),
        ("DQ.ORPPD0000.WA.TXT\nRSN/T.IMQ/Y", RejectCode.MISSING, "2. NAM, DOB"),
        ("AM.ORPPD0000.WA.TXT", RejectCode.MISSING, "AM NEEDS A MESSAGE TEXT"),
        # .19. destinations
        ("DQ.ORPPD0000.WA.OR.ID.MT.NV.CA.TXT\nOLN/X1", RejectCode.DESTINATION, "AT MOST 5"),
        ("DQ.ORPPD0000.WA.WA.TXT\nOLN/X1", RejectCode.DESTINATION, "REPEATED"),
        ("DQ.ORPPD0000.WAOLN0000.TXT\nOLN/X1", RejectCode.DESTINATION, "ORI IS NOT"),
        ("KQ.ORPPD0000.WA.OR.TXT\nOLN/X1", RejectCode.DESTINATION, "AT MOST 1"),
        ("KQ.ORPPD0000.NL.TXT\nOLN/X1", RejectCode.DESTINATION, "ONLY ONE STATE"),
        ("KQ.ORPPD0000.W1.TXT\nOLN/X1", RejectCode.DESTINATION, "ONLY ONE STATE"),
        ("RPQ.ORPPD0000.NL.TXT\nLIC/AB*12", RejectCode.DESTINATION, "ONLY ONE STATE"),
        ("RPQ.ORPPD0000.WA.OR.TXT\nLIC/AB*12", RejectCode.DESTINATION, "AT MOST 1"),
        ("DQG.ORPPD0000.WA.TXT\nNAM/DOE,J.DOB/19850314", RejectCode.DESTINATION, "NOT A REGION"),
        ("DR.WAOLN0000.OR.TXT\nHELLO", RejectCode.DESTINATION, "9-CHARACTER ORI"),
        # .22. format, with the acceptable field sets listed
        ("RQ.ORPPD0000.WA.TXT\nLIC/ABC1234.LIT/PC", RejectCode.FORMAT, "1. LIC, LIY, LIT\n2. VIN"),
        ("DQG.ORPPD0000.W1.TXT\nOLN/X1", RejectCode.FORMAT, "OLN IS NOT A DQG FIELD"),
        ("DQG.ORPPD0000.W1.TXT\nNAM/DOE,J.DOB/19850314.IMQ/Y", RejectCode.FORMAT,
         "IMQ IS NOT A DQG FIELD"),
        ("RQ.ORPPD0000.WA.TXT\nVIN/1HGCM8.IMQ/Y", RejectCode.FORMAT, "IMQ IS NOT A RQ FIELD"),
        ("DQ.ORPPD0000.WA.TXT\nOLN/X1.IMQ/MAYBE", RejectCode.FORMAT, "IMQ MUST BE ONE OF N Y"),
        ("DQ.ORPPD0000.WA.TXT\nOLN/X1.RSN/Q", RejectCode.FORMAT, "RSN MUST BE ONE OF"),
        ("DQ.ORPPD0000.WA.TXT\nOLN/X1.OLN/X2", RejectCode.FORMAT, "OLN IS REPEATED"),
        ("DQ.ORPPD0000.WA.TXT\nOLN/" + "9" * 21, RejectCode.FORMAT, "OLN MUST BE 1-20"),
        ("DQ.ORPPD0000.WA.TXT\nNAM/JANE DOE.DOB/19850314", RejectCode.FORMAT, "LAST,FIRST"),
        ("DQ.ORPPD0000.WA.TXT\nNAM/" + "A" * 20 + "," + "B" * 10 + ".DOB/19850314",
         RejectCode.FORMAT, "LONGER THAN 30"),
        ("RPQ.ORPPD0000.WA.TXT\nLIC/ABC1234", RejectCode.FORMAT, "NEEDS A WILDCARD"),
        ("RPQ.ORPPD0000.WA.TXT\nLIC/A*1", RejectCode.FORMAT, "AT LEAST 3 KNOWN"),
        ("RQ.ORPPD0000.WA.TXT\nLIC/ABC-123.LIY/2026.LIT/PC", RejectCode.FORMAT, "LIC MUST"),
        # 0 structure
        ("NOT A MESSAGE AT ALL", RejectCode.STRUCTURE, "KEY.ORI.DESTINATION.TXT"),
    ],
)
def test_rejects_with_the_nlets_code_and_a_reason(raw: str, code: RejectCode, says: str) -> None:
    reject = reject_of(raw)
    assert reject.code is code
    assert says in reject.text
    assert reject.text.startswith(f"{code.value} ")
    assert reject.text.endswith(raw.strip()[:100])


def test_a_format_reject_names_the_key_in_its_title() -> None:
    reject = reject_of("RQ.ORPPD0000.WA.TXT\nLIC/ABC1234.LIT/PC")
    assert reject.text.startswith(".22. INVALID MESSAGE FORMAT - REFER TO RQ MKE OPTIONS BELOW")


def test_a_two_digit_dob_year_resolves_to_the_latest_past_century() -> None:
    from datetime import date

    assert birth_date("031485", date(2026, 11, 25)) == date(1985, 3, 14)
    assert birth_date("031405", date(2026, 11, 25)) == date(2005, 3, 14)
    assert birth_date("19850314", date(2026, 11, 25)) == date(1985, 3, 14)


def test_february_29_is_real_only_in_leap_years() -> None:
    read("DQ.ORPPD0000.WA.TXT\nNAM/DOE,J.DOB/20000229")
    assert reject_of("DQ.ORPPD0000.WA.TXT\nNAM/DOE,J.DOB/19000229").code is RejectCode.DOB



BAD_DATES = {"DOB": "19901340", "VYR": "1899", "LIY": "187"}
"""A value each date field's rule refuses."""
GOOD_VALUES = {"OLN": "WDL1", "NAM": "DOE,JOHN", "DOB": "19900101", "LIC": "ABC*",
               "LIY": "2025", "LIT": "PC", "VIN": "1HGCM82633A004352"}


@pytest.mark.parametrize("spec", [s for s in KEYS.values() if s.text is TextKind.FIELDS],
                         ids=lambda s: s.key)
def test_every_keys_date_fields_are_checked_from_the_table(spec: KeySpec) -> None:
    destination = "W1" if spec.destinations.addressing is Addressing.REGIONS else "WA"
    dated = sorted(spec.allowed & BAD_DATES.keys())
    for prefix in dated:
        fields = {p: GOOD_VALUES[p] for p in spec.field_sets[-1]} | {prefix: BAD_DATES[prefix]}
        message = Message(spec.key, "ORPPD0000", (destination,),
                          fields=tuple(Field(p, v) for p, v in fields.items()))
        with pytest.raises(Reject) as caught:
            validate(message)
        rule = rule_for(spec.key, prefix)
        assert rule is not None and caught.value.code is rule.code
        assert caught.value.detail[0].startswith(prefix)
    assert dated or spec.key in ("DNQ",)
