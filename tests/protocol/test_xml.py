"""Nlets XML (NIEM): the guide's examples read, the same message as legacy text, the same rules
and rejects, and a state's answer element by element with withheld elements marked.

Examples follow the element structure of the Nlets guide's NIEM pages, with synthetic values:
DQ https://service.nlets.org/support/solutions/articles/21003096525 ,
KQ https://service.nlets.org/support/solutions/articles/21003098581 ,
RQ https://service.nlets.org/support/solutions/articles/21003096401 ,
SM https://service.nlets.org/support/solutions/articles/21003096185 ,
LQ https://service.nlets.org/support/solutions/articles/21003096080 ,
AM https://wiki.nlets.org/index.php/Section_04:_Administrative_Messages ,
AA https://wiki.nlets.org/index.php/Section_34:_Amber_Alert (NIEM examples).
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from datetime import date, datetime

import pytest

from stateline.protocol import (
    KEYS,
    Answer,
    Field,
    Message,
    Outcome,
    OutputHeader,
    Record,
    Reject,
    RejectCode,
    Section,
    Stamp,
    form_of,
    format_answer,
    format_text,
    format_xml,
    format_xml_error,
    parse,
    read,
    read_any,
    read_xml,
    read_xml_answer,
    reject_message,
    response_to,
)
from stateline.protocol.xmlfields import read_query
from stateline.protocol.xmlform import claimed_sender
from stateline.protocol.xmltree import clark

from .test_validate import VALID_EXAMPLES

OPEN = ('<n2:NLETS xmlns:nh2="http://www.nlets.org/niem/nlets-hdr/1.0" n2:version="4.00" '
        'xmlns:nc="http://niem.gov/niem/niem-core/2.0" xmlns:n2="http://www.nlets.org/niem/1.0">')


def nlets(key: str, sender: str, destination: str, data: str, *, control: str = "",
          stamps: str = "") -> str:
    """A document as the guide lays them out: its namespaces, header order and CDATA."""
    ctrl = (f"<nh2:DocumentControlFieldText>\n<![CDATA[{control}]]>\n"
            "</nh2:DocumentControlFieldText>") if control else ""
    return (f"{OPEN}\n<n2:NLETSMessageHeader>\n<nh2:MessageKeyCodeText>{key}"
            f"</nh2:MessageKeyCodeText>\n<nh2:OriginatingORIID>{sender}</nh2:OriginatingORIID>\n"
            f"<nh2:DestinationORIID>{destination}</nh2:DestinationORIID>\n{ctrl}{stamps}\n"
            f"</n2:NLETSMessageHeader>\n{data}\n</n2:NLETS>")


STAMPS = ("<nh2:MessageReceiveDate>11/25/2026</nh2:MessageReceiveDate>"
          "<nh2:MessageReceiveTime>09:15</nh2:MessageReceiveTime>"
          "<nh2:MessageSendDate>11/25/2026</nh2:MessageSendDate>"
          "<nh2:MessageSendTime>09:16</nh2:MessageSendTime>"
          "<nh2:ReceiveMessageNumeric>00000</nh2:ReceiveMessageNumeric>"
          "<nh2:SendMessageNumeric>00042</nh2:SendMessageNumeric>")

DQ_BY_NAME = nlets("DQ", "ORPPD0000", "WA", """<n2:NLETSInquiryData>
<n2:ReasonCode>T</n2:ReasonCode>
<n2:Person>
<nc:PersonBirthDate><nc:Date>1979-06-02</nc:Date></nc:PersonBirthDate>
<nc:PersonName>
<nc:PersonGivenName>Ada</nc:PersonGivenName>
<nc:PersonMiddleName>Q</nc:PersonMiddleName>
<nc:PersonSurName>Sample</nc:PersonSurName>
</nc:PersonName>
<nc:PersonSexCode>F</nc:PersonSexCode>
</n2:Person>
</n2:NLETSInquiryData>""", control="SYNTH00001")

KQ_BY_NAME = nlets("KQ", "AZNLETS20", "AZ", """<n2:NLETSInquiryData>
<n2:ReasonCode>V</n2:ReasonCode>
<n2c:Driver xmlns:n2c="http://www.nlets.org/niem/nlets-core/1.0">
<nc:PersonBirthDate><nc:Date>1990-12-31</nc:Date></nc:PersonBirthDate>
<nc:PersonName>
<nc:PersonGivenName>BO</nc:PersonGivenName>
<nc:PersonSurName>EXAMPLE</nc:PersonSurName>
</nc:PersonName>
<nc:PersonSexCode>M</nc:PersonSexCode>
</n2c:Driver>
</n2:NLETSInquiryData>""")

KQ_BY_LICENSE = nlets("KQ", "AZNLETS20", "AZ", """<n2:NLETSInquiryData>
<n2c:Driver xmlns:n2c="http://www.nlets.org/niem/nlets-core/1.0"
 xmlns:j="http://niem.gov/niem/domains/jxdm/4.0">
<j:PersonAugmentation><nc:DriverLicense><nc:DriverLicenseIdentification>
<nc:IdentificationID>D00000042</nc:IdentificationID>
</nc:DriverLicenseIdentification></nc:DriverLicense></j:PersonAugmentation>
</n2c:Driver>
</n2:NLETSInquiryData>""")

RQ_BY_PLATE = nlets("RQ", "ORPPD0000", "WA", """<n2:NLETSInquiryData>
<n2:ReasonCode>S</n2:ReasonCode>
<nc:Vehicle>
<nc:ConveyanceRegistrationPlateIdentification>
<nc:IdentificationID>SYN1234</nc:IdentificationID>
<nc:IdentificationCategoryText>PC</nc:IdentificationCategoryText>
<nc:IdentificationExpirationDate><nc:Year>2027</nc:Year></nc:IdentificationExpirationDate>
</nc:ConveyanceRegistrationPlateIdentification>
</nc:Vehicle>
</n2:NLETSInquiryData>""")

RQ_BY_VIN = nlets("RQ", "ORPPD0000", "WA", """<n2:NLETSInquiryData>
<nc:Vehicle><nc:VehicleIdentification>
<nc:IdentificationID>1SYNTHET1C0000001</nc:IdentificationID>
</nc:VehicleIdentification></nc:Vehicle>
</n2:NLETSInquiryData>""")

GUIDE_QUERIES = [
    (DQ_BY_NAME, "DQ.ORPPD0000.WA.*SYNTH00001.TXT\nNAM/SAMPLE,ADA Q.DOB/19790602.SEX/F.RSN/T"),
    (KQ_BY_NAME, "KQ.AZNLETS20.AZ.TXT\nNAM/EXAMPLE,BO.DOB/19901231.SEX/M.RSN/V"),
    (KQ_BY_LICENSE, "KQ.AZNLETS20.AZ.TXT\nOLN/D00000042"),
    (RQ_BY_PLATE, "RQ.ORPPD0000.WA.TXT\nLIC/SYN1234.LIY/2027.LIT/PC.RSN/S"),
    (RQ_BY_VIN, "RQ.ORPPD0000.WA.TXT\nVIN/1SYNTHET1C0000001"),
]

AMBER_ALERT = nlets("AA", "AZNLETS20", "AZ", """<n2:NLETSMailData n2:key="AA">
<n2-aa:AmberAlert xmlns:n2-aa="http://www.nlets.org/niem/nlets-amber-alert/1.0">
<n2-aa:AmberAlertID>90001</n2-aa:AmberAlertID>
<n2-aa:AmberAlertDateTime>
<nc:DateTime xmlns:nc="http://release.niem.gov/niem/niem-core/3.0/">2026-01-01T00:00:00Z</nc:DateTime>
</n2-aa:AmberAlertDateTime>
<n2-aa:AmberAlertStatusText>Activate</n2-aa:AmberAlertStatusText>
<n2-aa:AmberAlertShortMessage>
<nc:MessageText xmlns:nc="http://release.niem.gov/niem/niem-core/3.0/">
Synthetic test alert</nc:MessageText>
</n2-aa:AmberAlertShortMessage>
<nc:Vehicle xmlns:nc="http://release.niem.gov/niem/niem-core/3.0/">
<nc:ItemMakeName>Examplemake</nc:ItemMakeName>
<n2-aa:ConveyanceAugmentation>
<j:ConveyanceRegistration xmlns:j="http://release.niem.gov/niem/domains/jxdm/5.0/">
<j:ConveyanceRegistrationPlateIdentification>
<nc:IdentificationID>SYN0001</nc:IdentificationID>
</j:ConveyanceRegistrationPlateIdentification>
</j:ConveyanceRegistration>
</n2-aa:ConveyanceAugmentation>
</nc:Vehicle>
<j:MissingPerson xmlns:j="http://release.niem.gov/niem/domains/jxdm/5.0/">
<nc:RoleOfPerson xmlns:nc="http://release.niem.gov/niem/niem-core/3.0/">
<nc:PersonName><nc:PersonFullName>SAMPLE,KID</nc:PersonFullName></nc:PersonName>
</nc:RoleOfPerson>
</j:MissingPerson>
</n2-aa:AmberAlert>
</n2:NLETSMailData>""", control="TESTALERT1", stamps=STAMPS)

STATUS_MESSAGE = nlets("SM", "TXDPS0000", "AZNLETS47", """<n2:NLETSMailData n2:key="SM">
<n2:StatusMessageText><![CDATA[TX OUT OF SERVICE UNTIL 0200 CST]]></n2:StatusMessageText>
</n2:NLETSMailData>""", control="SYNTH00002", stamps=STAMPS)

ADMINISTRATIVE = nlets("AM", "AZNLETS20", "IN", """<n2:NLETSMailData n2:key="AM">
<n2:MailMessageText>
REQUEST FOR STATEWIDE BROADCAST
SYNTHETIC TEST MESSAGE</n2:MailMessageText>
</n2:NLETSMailData>""", control="SYNTH00003", stamps=STAMPS)

GENERIC = nlets("LQ", "AZNLETS47", "AZ", """<n2:NLETSInquiryData>
<n2:InquiryDescriptionText><![CDATA[CASE/2026-0001 SUBJECT SAMPLE]]></n2:InquiryDescriptionText>
</n2:NLETSInquiryData>""")


# --- The guide's examples -------------------------------------------------------------------


@pytest.mark.parametrize(("xml", "text"), GUIDE_QUERIES,
                         ids=["DQ-name", "KQ-name", "KQ-license", "RQ-plate", "RQ-VIN"])
def test_the_guides_query_examples_read_as_the_same_legacy_text(xml: str, text: str) -> None:
    message = read_xml(xml)
    assert format_text(message) == text
    assert message == read(text)
    assert read_any(xml) == message and form_of(xml) == "xml"


def test_the_amber_alert_example_parses_but_no_state_answers_its_key() -> None:
    message = read_xml(AMBER_ALERT)
    assert message.key == "AA" and message.key not in KEYS
    assert (message.sender, message.destinations, message.control) == (
        "AZNLETS20", ("AZ",), "TESTALERT1")
    assert message.body is not None
    assert "Synthetic test alert" in message.body and "SYN0001" in message.body


def test_a_status_message_from_the_guide_is_a_delivered_message() -> None:
    message = read_xml(STATUS_MESSAGE)
    assert message.header == OutputHeader(Stamp(datetime(2026, 11, 25, 9, 15), 0),
                                          Stamp(datetime(2026, 11, 25, 9, 16), 42), "AZNLETS47")
    assert message.destinations == () and message.body == "TX OUT OF SERVICE UNTIL 0200 CST"
    assert format_text(message).startswith("SM.TXDPS0000.*SYNTH00002\n09:15 11/25/2026 00000\n")


def test_stamps_on_a_message_addressed_to_a_state_code_leave_it_addressed() -> None:
    message = read_xml(ADMINISTRATIVE)
    assert message.destinations == ("IN",) and message.header is None
    assert message.body == "REQUEST FOR STATEWIDE BROADCAST\nSYNTHETIC TEST MESSAGE"


def test_a_generic_query_keeps_its_free_text_as_legacy_text_would() -> None:
    assert read_xml(GENERIC) == read("LQ.AZNLETS47.AZ.TXT\nCASE/2026-0001 SUBJECT SAMPLE")


# --- The same message as legacy text --------------------------------------------------------


@pytest.mark.parametrize("text", VALID_EXAMPLES)
def test_every_valid_example_goes_to_xml_and_back_to_the_same_text(text: str) -> None:
    message = read(text)
    xml = format_xml(message, today=date(2026, 11, 25))
    assert read_xml(xml) == message
    assert format_text(read_xml(xml)) == text
    assert format_xml(read_xml(xml), today=date(2026, 11, 25)) == xml


def test_a_query_in_canonical_order_needs_no_legacy_spelling() -> None:
    xml = format_xml(read("DQ.ORPPD0000.WA.TXT\nNAM/DOE,JANE.DOB/19850314.SEX/F.RSN/T"))
    assert "st:text" not in xml and "urn:stateline" not in xml
    assert "<nc:Date>1985-03-14</nc:Date>" in xml
    assert "<nc:PersonSurName>DOE</nc:PersonSurName>" in xml


@pytest.mark.parametrize(("text", "element"), [
    ("DQ.ORPPD0000.WA.TXT\nNAM/DOE,JANE.DOB/031485", "<nc:Date>1985-03-14</nc:Date>"),
    ("DQ.ORPPD0000.WA.TXT\nNAM/DOE,JANE.DOB/031405", "<nc:Date>2005-03-14</nc:Date>"),
    ("DNQ.ORPPD0000.WA.TXT\nNAM/DOE, JANE", "<nc:PersonGivenName>JANE</nc:PersonGivenName>"),
    ("RQ.ORPPD0000.WA.TXT\nLIC/ABC1.LIY/26.LIT/PC", "<nc:Year>2026</nc:Year>"),
    ("DQ.ORPPD0000.WA.TXT\nRSN/T.OLN/WDL1", "<n2:ReasonCode>T</n2:ReasonCode>"),
])
def test_what_niem_spells_one_way_keeps_its_legacy_spelling_beside_it(
        text: str, element: str) -> None:
    xml = format_xml(read(text), today=date(2026, 11, 25))
    assert element in xml
    assert f'st:text="{text.split(chr(10))[1]}"' in xml
    assert format_text(read_xml(xml)) == text


def test_a_non_expiring_plate_is_one_that_expires_in_year_9999() -> None:
    xml = format_xml(read("RQ.ORPPD0000.WA.TXT\nLIC/ABC1.LIY/NX.LIT/PC"))
    assert "<nc:Year>9999</nc:Year>" in xml and "st:text" not in xml
    assert read_xml(xml).value("LIY") == "NX"


def _edited(xml: str, old: str, new: str) -> str:
    assert old in xml
    return xml.replace(old, new, 1)


def test_a_legacy_spelling_that_names_another_query_is_refused() -> None:
    xml = format_xml(read("DQ.ORPPD0000.WA.TXT\nNAM/DOE,JANE.DOB/031485"),
                     today=date(2026, 11, 25))
    for old, new in [('DOB/031485"', 'DOB/031486"'), ("NAM/DOE,JANE", "NAM/ROE,JANE"),
                     ('DOB/031485"', 'DOB/031485.SEX/F"'), ("NAM/DOE,JANE.", "")]:
        with pytest.raises(Reject) as caught:
            read_xml(_edited(xml, old, new))
        assert caught.value.code is RejectCode.FORMAT
        assert "st:text DOES NOT SPELL THE QUERY" in caught.value.text


@pytest.mark.parametrize(("text", "old", "new"), [
    ("DQ.ORPPD0000.WA.TXT\nNAM/DOE,JOHN.DOB/031485", "1985-03-14", "2085-03-14"),
    ("RQ.ORPPD0000.WA.TXT\nLIC/ABC1.LIY/25.LIT/PC", "<nc:Year>2025<", "<nc:Year>1925<"),
])
def test_a_legacy_spelling_of_the_same_digits_in_another_century_is_refused(
        text: str, old: str, new: str) -> None:
    xml = format_xml(read(text), today=date(2026, 11, 25))
    with pytest.raises(Reject) as caught:
        read_xml(_edited(xml, old, new))
    assert caught.value.code is RejectCode.FORMAT
    assert "st:text DOES NOT SPELL THE QUERY" in caught.value.text


def test_a_six_digit_birth_date_names_the_century_its_writer_gives_it_that_day() -> None:
    xml = format_xml(read("DQ.ORPPD0000.WA.TXT\nNAM/DOE,JOHN.DOB/031425"),
                     today=date(2025, 3, 13))
    data = ET.fromstring(xml).find(clark("n2:NLETSInquiryData"))
    assert data is not None and "1925-03-14" in xml
    assert read_query(data, "DQ", date(2025, 3, 13))[1] == Field("DOB", "031425")
    with pytest.raises(Reject, match="st:text DOES NOT SPELL THE QUERY"):
        read_query(data, "DQ", date(2025, 3, 14))


# --- The same rules and rejects -------------------------------------------------------------

SAME_REJECTS = [
    "DQ.ORPPD0000.WA.TXT\nNAM/DOE,JANE",
    "DQ.ORPPD0000.WA.TXT\nNAM/DOE,JANE.DOB/19850230",
    "DQ.ORPPD0000.WA.TXT\nNAM/DOE,JANE.DOB/13011985",
    "RQ.ORPPD0000.WA.TXT\nVIN/1HGCM8.VYR/03",
    "DQ.ORPPD0000.WA.TXT",
    "DQ.ORPPD0000.WA.TXT\nRSN/T.IMQ/Y",
    "AM.ORPPD0000.WA.TXT",
    "DQ.ORPPD0000.WA.OR.ID.MT.NV.CA.TXT\nOLN/X1",
    "DQ.ORPPD0000.WA.WA.TXT\nOLN/X1",
    "KQ.ORPPD0000.NL.TXT\nOLN/X1",
    "RQ.ORPPD0000.WA.TXT\nLIC/ABC1234.LIT/PC",
    "DQG.ORPPD0000.W1.TXT\nOLN/X1",
    "RQ.ORPPD0000.WA.TXT\nVIN/1HGCM8.IMQ/Y",
    "DQ.ORPPD0000.WA.TXT\nOLN/X1.RSN/Q",
    "DQ.ORPPD0000.WA.TXT\nOLN/" + "9" * 21,
    "DQ.ORPPD0000.WA.TXT\nNAM/" + "A" * 20 + "," + "B" * 10 + ".DOB/19850314",
    "RPQ.ORPPD0000.WA.TXT\nLIC/ABC1234",
    "ER.ORPPD0000.WAOLN0000.TXT\nFAKE",
]


@pytest.mark.parametrize("text", SAME_REJECTS)
def test_xml_breaking_a_rule_gets_the_reject_its_text_gets(text: str) -> None:
    with pytest.raises(Reject) as as_text:
        read(text)
    xml = format_xml(parse(text))
    with pytest.raises(Reject) as as_xml:
        read_xml(xml)
    assert (as_xml.value.code, as_xml.value.detail) == (as_text.value.code, as_text.value.detail)
    assert as_xml.value.original == xml


DQ = format_xml(read("DQ.ORPPD0000.WA.*CASE1.TXT\nNAM/DOE,JANE.DOB/19850314.SEX/F"))


def test_a_bad_sender_gets_the_header_reject_its_text_gets() -> None:
    with pytest.raises(Reject) as as_text:
        read("DQ.ORPPD000.WA.TXT\nOLN/X1")
    with pytest.raises(Reject) as as_xml:
        read_xml(DQ.replace("ORPPD0000", "ORPPD000"))
    assert (as_xml.value.code, as_xml.value.detail) == (as_text.value.code, as_text.value.detail)


@pytest.mark.parametrize(("xml", "code", "says"), [
    ("<n2:NLETS", RejectCode.NO_TXT, "NOT WELL-FORMED"),
    ("<NLETS/>", RejectCode.NO_TXT, "NOT NLETS XML"),
    ("", RejectCode.NO_TXT, "NOT WELL-FORMED"),
    (_edited(DQ, "<n2:NLETSMessageHeader>", "<n2:Header>"), RejectCode.NO_TXT,
     "NOT WELL-FORMED"),
    (_edited(DQ, "</n2:NLETS>", "<n2:NLETSMessageHeader/></n2:NLETS>"), RejectCode.HEADER,
     "NEEDS ONE n2:NLETSMessageHeader"),
    (_edited(DQ, "<nh2:MessageKeyCodeText>DQ</nh2:MessageKeyCodeText>", ""),
     RejectCode.HEADER, "nh2:MessageKeyCodeText IS MISSING"),
    (_edited(DQ, "<nh2:DestinationORIID>", "<nh2:Destination>"), RejectCode.NO_TXT,
     "NOT WELL-FORMED"),
    (_edited(DQ, "</nh2:DestinationORIID>", "</nh2:DestinationORIID><nh2:Extra>1</nh2:Extra>"),
     RejectCode.HEADER, "nh2:Extra HAS NO PLACE IN THE HEADER"),
    (_edited(DQ, 'n2:key="DQ"', 'n2:key="KQ"'), RejectCode.HEADER, "IS NOT THE MESSAGE KEY"),
    (_edited(DQ, "<n2:Person>", "<n2:Person><nc:PersonEyeColorText>BLU</nc:PersonEyeColorText>"),
     RejectCode.FORMAT, "n2:Person/nc:PersonEyeColorText IS NOT A DQ FIELD"),
    (_edited(DQ, "</n2:Person>", "</n2:Person><n2:Person><nc:PersonSexCode>M</nc:PersonSexCode>"
             "</n2:Person>"), RejectCode.FORMAT, "n2:Person IS REPEATED"),
    (_edited(DQ, "<nc:PersonSexCode>F</nc:PersonSexCode>", "<nc:PersonSexCode>F"
             "</nc:PersonSexCode><nc:PersonSexCode>M</nc:PersonSexCode>"), RejectCode.FORMAT,
     "nc:PersonSexCode IS REPEATED"),
    (_edited(DQ, "1985-03-14", "03/14/1985"), RejectCode.DOB, "nc:Date MUST BE YYYY-MM-DD"),
    (_edited(DQ, "<nc:PersonSurName>DOE</nc:PersonSurName>", ""), RejectCode.FORMAT,
     "NEEDS nc:PersonSurName AND nc:PersonGivenName"),
    (_edited(DQ, ">F<", ">Q<"), RejectCode.FORMAT, "SEX MUST BE ONE OF F M U X"),
    (_edited(DQ, "<n2:Person>", "<n2:Person>loose"), RejectCode.STRUCTURE, "TEXT BESIDE"),
    (_edited(DQ, "n2:NLETSInquiryData", "n2:NLETSMailData").replace(
        "/n2:NLETSInquiryData", "/n2:NLETSMailData"), RejectCode.STRUCTURE,
     "DQ CARRIES n2:NLETSInquiryData, NOT n2:NLETSMailData"),
    (_edited(DQ, "</n2:NLETS>", "<n2:NLETSMailData/></n2:NLETS>"), RejectCode.STRUCTURE,
     "ONE DATA ELEMENT, NOT 2"),
    (_edited(DQ, "DOE<", "DOE.ROE<"), RejectCode.FORMAT, "HAS A PERIOD"),
    (_edited(DQ, "<nh2:DestinationORIID>WA</nh2:DestinationORIID>", ""),
     RejectCode.DESTINATION, "NO DESTINATION GIVEN"),
])
def test_xml_that_is_malformed_or_misshapen_gets_a_clear_reject(
        xml: str, code: RejectCode, says: str) -> None:
    with pytest.raises(Reject) as caught:
        read_xml(xml)
    assert caught.value.code is code, caught.value.text
    assert says in caught.value.text
    assert caught.value.original == xml


def test_a_partial_output_header_is_refused() -> None:
    stamped = format_xml(parse(
        "DR.WAOLN0000.*C9\n09:15 11/25/2026 00041\n09:15 11/25/2026 00042 ORPPD0000\nTXT\n"
        "WA DRIVER RESPONSE: NO-RECORD\nNOT ON FILE"))
    with pytest.raises(Reject, match="RECEIVE AND SEND DATE") as caught:
        read_xml(_edited(stamped, "<nh2:SendMessageNumeric>00042</nh2:SendMessageNumeric>", ""))
    assert caught.value.code is RejectCode.HEADER
    with pytest.raises(Reject, match="IS NOT REAL"):
        read_xml(_edited(stamped, "11/25/2026", "02/30/2026"))


def test_the_reject_names_the_key_and_quotes_the_start_of_the_xml() -> None:
    xml = _edited(DQ, "1985-03-14", "1985-02-30")
    with pytest.raises(Reject) as caught:
        read_xml(xml)
    assert caught.value.text.startswith(".05. DOB INVALID OR MISSING\nDOB 19850230")
    assert caught.value.text.endswith(xml.strip()[:100])


def test_an_er_reject_travels_as_xml_from_the_switch() -> None:
    stamp = Stamp(datetime(2026, 11, 25, 9, 15), 7)
    reject = Reject(RejectCode.NO_TXT, "XML IS NOT WELL-FORMED", original="<n2:NLETS")
    message = reject_message(reject, OutputHeader(stamp, stamp, "ORPPD0000"))
    xml = format_xml(message)
    assert "<nh2:OriginatingORIID>NL0000000</nh2:OriginatingORIID>" in xml
    assert f"<![CDATA[{reject.text}]]>" in xml and reject.text.startswith(".03. TXT NOT FOUND")
    assert read_xml(xml) == message


def test_the_sender_is_picked_out_for_the_refusal_log_without_parsing() -> None:
    assert claimed_sender(DQ) == "ORPPD0000"
    assert claimed_sender("<a><OriginatingORIID><![CDATA[wasp01234]]></OriginatingORIID>") \
        == "WASP01234"
    assert claimed_sender("<x/>") is None


# --- A state's answer, element by element ---------------------------------------------------

RECORD = Record((
    Section("identity", (Field("OLN", "WDL123456"), Field("NAM", "DOE,JANE Q"),
                         Field("DOB", "19850314"), Field("SEX", "F"))),
    Section("ssn", withheld=True),
    Section("photo", withheld=True),
))
PARTIAL = Answer("WA", "driver", Outcome.PARTIAL, (RECORD,), policy="no-photos-out-of-state",
                 reason="Photos stay in state")
QUERY = read("DQ.ORPPD0000.WA.*CASE42.TXT\nOLN/WDL123456")


def answer_elements(xml: str) -> ET.Element:
    st = "{urn:stateline:nlets-xml:1.0}"
    found = ET.fromstring(xml).find(f"{{http://www.nlets.org/niem/1.0}}NLETSResponseData/"
                                    f"{st}Answer")
    assert found is not None
    return found


def test_a_partial_answer_marks_each_withheld_element_in_place() -> None:
    xml = format_xml(response_to(QUERY, PARTIAL, "WAOLN0000"))
    st = "{urn:stateline:nlets-xml:1.0}"
    answer = answer_elements(xml)
    assert answer.attrib == {"state": "WA", "group": "driver", "outcome": "partial"}
    elements = answer.findall(f"{st}Record/{st}Element")
    assert [(e.get("name"), e.get("withheld"), (e.text or "").strip()) for e in elements] == [
        ("identity", None, ""),
        ("ssn", "true", "WITHHELD BY WA POLICY"),
        ("photo", "true", "WITHHELD BY WA POLICY"),
    ]
    assert [(f.get("prefix"), f.text) for f in elements[0]] == [
        ("OLN", "WDL123456"), ("NAM", "DOE,JANE Q"), ("DOB", "19850314"), ("SEX", "F")]
    assert read_xml_answer(xml) == PARTIAL
    assert read_xml(xml) == response_to(QUERY, PARTIAL, "WAOLN0000")


@pytest.mark.parametrize("answer", [
    Answer("WA", "driver", Outcome.NO_RECORD),
    Answer("WA", "vehicle", Outcome.DENIED, policy="block-ice", reason="No ICE access"),
    Answer("WA", "history", Outcome.HELD, policy="hsi-review", reference="WA-000123"),
    Answer("WA", "driver", Outcome.ERROR, note="DMV store unavailable"),
    PARTIAL,
])
def test_every_outcome_reads_back_to_the_same_answer(answer: Answer) -> None:
    assert read_xml_answer(format_xml(response_to(QUERY, answer, "WAOLN0000"))) == answer


def _without_response_text(xml: str) -> str:
    start = xml.index("<n2:ResponseText>")
    end = xml.index("</n2:ResponseText>") + len("</n2:ResponseText>")
    return xml[:start] + xml[end:]


def test_the_elements_alone_carry_the_answer() -> None:
    xml = _without_response_text(format_xml(response_to(QUERY, PARTIAL, "WAOLN0000")))
    assert read_xml_answer(xml) == PARTIAL
    assert read_xml(xml).body == format_answer(PARTIAL)


@pytest.mark.parametrize(("old", "new", "says"), [
    ('withheld="true">WITHHELD BY WA POLICY</st:Element>',
     'withheld="true"><st:Field prefix="SSN">000000000</st:Field></st:Element>',
     "MUST CARRY ONLY WITHHELD BY WA POLICY"),
    ("WITHHELD BY WA POLICY</st:Element>", "WITHHELD BY OR POLICY</st:Element>",
     "MUST CARRY ONLY"),
    ('<st:Element name="ssn" withheld="true">WITHHELD BY WA POLICY</st:Element>',
     '<st:Element name="ssn"/>', "MUST CARRY FIELDS OR BE WITHHELD"),
    ('outcome="partial"', 'outcome="leaked"', "UNKNOWN OUTCOME"),
    ('state="WA"', 'state="Washington"', "NOT A 2-CHARACTER CODE"),
    ("<st:Policy>", "<st:Extra>x</st:Extra><st:Policy>", "st:Extra HAS NO PLACE IN st:Answer"),
])
def test_an_answer_whose_elements_do_not_hold_together_is_refused(
        old: str, new: str, says: str) -> None:
    xml = _without_response_text(format_xml(response_to(QUERY, PARTIAL, "WAOLN0000")))
    with pytest.raises(Reject) as caught:
        read_xml(_edited(xml, old, new))
    assert says in caught.value.text


def test_response_text_and_elements_that_disagree_are_refused() -> None:
    xml = format_xml(response_to(QUERY, PARTIAL, "WAOLN0000"))
    leaked = _edited(xml, "SSN: WITHHELD BY WA POLICY", "SSN: SOC/000000000")
    with pytest.raises(Reject, match="RESPONSE TEXT AND ITS ELEMENTS DIFFER"):
        read_xml(leaked)


def test_a_response_text_that_is_no_answer_travels_as_text_alone() -> None:
    message = Message("DR", "WAOLN0000", ("ORPPD0000",), body="FREE FORM ]]> REPLY")
    xml = format_xml(message)
    assert "st:Answer" not in xml and "]]]]><![CDATA[>" in xml
    assert read_xml(xml) == message


def test_the_error_shape_for_xml_callers_holds_code_and_text() -> None:
    root = ET.fromstring(format_xml_error("rejected", ".03. TXT NOT FOUND\n<x>"))
    st = "{urn:stateline:nlets-xml:1.0}"
    assert root.tag == f"{st}Error"
    assert [(child.tag, child.text) for child in root] == [
        (f"{st}Code", "rejected"), (f"{st}Text", ".03. TXT NOT FOUND\n<x>")]


def test_a_lone_surrogate_is_a_structure_reject_that_can_still_be_written() -> None:
    raw = DQ.replace(">DOE<", ">D\ud800E<")
    with pytest.raises(Reject) as caught:
        read_xml(raw)
    assert caught.value.code is RejectCode.STRUCTURE
    caught.value.text.encode("utf-8")
