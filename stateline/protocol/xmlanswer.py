"""A state's Answer as XML, data element by data element, and back, with no I/O.

Inside ``n2:NLETSResponseData``, beside the free-text ``n2:ResponseText`` every Nlets XML reader
takes::

    <st:Answer state="WA" group="driver" outcome="partial">
      <st:Policy>no-photos-out-of-state</st:Policy>
      <st:Record>
        <st:Element name="identity">
          <st:Field prefix="OLN">WDL123456</st:Field>
        </st:Element>
        <st:Element name="photo" withheld="true">WITHHELD BY WA POLICY</st:Element>
      </st:Record>
    </st:Answer>

A withheld element stays in its place, marked, never dropped; reading one back that carries
data, or a mark in another state's name, is refused.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET

from .errors import Reject, RejectCode
from .model import Field
from .responses import WITHHELD, Answer, Outcome, Record, Section
from .xmltree import Node, clark, short

ANSWER = "st:Answer"
_LABELS = {"policy": "st:Policy", "reason": "st:Reason", "reference": "st:Reference",
           "note": "st:Note"}
_RECORD, _ELEMENT, _FIELD = "st:Record", "st:Element", "st:Field"
_STATE = re.compile(r"[A-Z0-9]{2}")
_BY_TAG = {clark(tag): label for label, tag in _LABELS.items()}


def answer_node(answer: Answer) -> Node:
    labels = tuple(Node(tag, getattr(answer, label)) for label, tag in _LABELS.items()
                   if getattr(answer, label))
    records = tuple(Node(_RECORD, children=tuple(_section_node(answer.state, section)
                                                 for section in record.sections))
                    for record in answer.records)
    return Node(ANSWER, children=labels + records, attributes=(
        ("state", answer.state), ("group", answer.group), ("outcome", answer.outcome.value)))


def _section_node(state: str, section: Section) -> Node:
    if section.withheld:
        return Node(_ELEMENT, WITHHELD.format(state=state),
                    attributes=(("name", section.element), ("withheld", "true")))
    return Node(_ELEMENT, children=tuple(Node(_FIELD, item.value, attributes=(
        ("prefix", item.prefix),)) for item in section.fields),
        attributes=(("name", section.element),))


def read_answer_element(element: ET.Element) -> Answer:
    """The Answer an ``st:Answer`` element holds; Reject for any other shape."""
    state, group, outcome = (_attribute(element, name) for name in ("state", "group", "outcome"))
    if _STATE.fullmatch(state) is None:
        raise Reject(RejectCode.FORMAT, f"st:Answer STATE {state[:10]} IS NOT A 2-CHARACTER CODE")
    try:
        outcome_value = Outcome(outcome)
    except ValueError:
        raise Reject(RejectCode.FORMAT, f"UNKNOWN OUTCOME {outcome[:20]}") from None
    labels: dict[str, str] = {}
    records: list[Record] = []
    for child in element:
        label = _BY_TAG.get(child.tag)
        if label is not None and not records and label not in labels and not len(child):
            labels[label] = child.text or ""
        elif child.tag == clark(_RECORD):
            records.append(Record(tuple(_section(state, part) for part in _only(child, _ELEMENT))))
        else:
            raise Reject(RejectCode.FORMAT, f"{short(child.tag)} HAS NO PLACE IN st:Answer")
    return Answer(state, group, outcome_value, tuple(records), **labels)


def _section(state: str, element: ET.Element) -> Section:
    name = _attribute(element, "name")
    if element.get("withheld", "false") == "true":
        if len(element) or (element.text or "").strip() != WITHHELD.format(state=state):
            raise Reject(RejectCode.FORMAT, f"WITHHELD ELEMENT {name[:20]} MUST CARRY ONLY "
                         f"{WITHHELD.format(state=state)}")
        return Section(name, withheld=True)
    fields = tuple(Field(_attribute(item, "prefix"), item.text or "")
                   for item in _only(element, _FIELD))
    return Section(name, fields)


def _only(element: ET.Element, tag: str) -> list[ET.Element]:
    """The children of an element, each of which must be `tag` and hold no elements."""
    children = list(element)
    for child in children:
        if child.tag != clark(tag) or (tag == _FIELD and len(child)):
            raise Reject(RejectCode.FORMAT, f"{short(child.tag)} HAS NO PLACE IN "
                         f"{short(element.tag)}")
    if (element.text or "").strip() and children:
        raise Reject(RejectCode.FORMAT, f"{short(element.tag)} HOLDS TEXT BESIDE ELEMENTS")
    return children


def _attribute(element: ET.Element, name: str) -> str:
    value = element.get(name)
    if value is None:
        raise Reject(RejectCode.FORMAT, f"{short(element.tag)} NEEDS ITS {name.upper()}")
    return value
