"""Synthetic agencies shared by the directory tests: one per statistics category, and a
Hypothesis strategy that draws any agency the directory can hold."""

from __future__ import annotations

import string

from hypothesis import strategies as st

from stateline.directory import DEPARTMENTS, Agency, Level
from stateline.protocol import STATES

ICE = Agency("VTICE0900", "ICE Law Enforcement Support Center (Williston)", "VT",
             Level.FEDERAL, "FE", "DHS", "ICE", permissions=frozenset("ACD"))
HSI = Agency("WAHSI0100", "Homeland Security Investigations, Seattle", "WA", Level.FEDERAL,
             "FE", "DHS", "HSI")
CBP = Agency("TXCBP0100", "Customs and Border Protection, El Paso", "TX", Level.FEDERAL, "FE",
             "DHS", "CBP")
USCIS = Agency("CACIS0100", "USCIS Field Office, Los Angeles", "CA", Level.FEDERAL, "JF", "DHS",
               "USCIS", criminal_justice=False)
TSA = Agency("NYTSA0100", "Transportation Security Administration, New York", "NY",
             Level.FEDERAL, "FE", "DHS", "TSA")
FBI = Agency("WAFBI0100", "FBI Seattle Field Office", "WA", Level.FEDERAL, "FE", "DOJ", "FBI")
PARTNER = Agency("TX0020000", "Benton County Sheriff's Office", "TX", Level.COUNTY, "SO",
                 programs=frozenset({"287g"}), contact="sheriff.tx002@agencies.example")
PORTLAND = Agency("ORPPD0000", "Portland Police Bureau", "OR", Level.LOCAL, "PD",
                  permissions=frozenset("ACD"))
SPOKANE = Agency("WASPD0100", "Spokane Police Department", "WA", Level.LOCAL, "PD",
                 permissions=frozenset("ACD"))
DMV = Agency("WAOLN0000", "Washington Driver Licensing", "WA", Level.STATE, "NJ",
             criminal_justice=False, permissions=frozenset("A"), active=False)

SAMPLES = (ICE, HSI, CBP, USCIS, TSA, FBI, PARTNER, PORTLAND, SPOKANE, DMV)

_TEXT = st.text(st.characters(exclude_categories=("Cc", "Cs", "Zl", "Zp")), max_size=30)


@st.composite
def agencies(draw: st.DrawFn) -> Agency:
    """Any valid agency: federal ones with a department, others possibly in programs."""
    state = draw(st.sampled_from(sorted(STATES)))
    ori = state + draw(st.text(string.ascii_uppercase + string.digits, min_size=7,
                               max_size=7))
    level = draw(st.sampled_from(list(Level)))
    department = component = ""
    if level is Level.FEDERAL and draw(st.booleans()):
        department = draw(st.sampled_from(sorted(DEPARTMENTS)))
        component = draw(st.sampled_from(("", *DEPARTMENTS[department])))
    name = draw(_TEXT.filter(lambda text: text.strip() != ""))
    return Agency(
        ori, name, state, level, draw(st.sampled_from(("PD", "SO", "SA", "FE", "JF", "NJ"))),
        department, component, draw(st.booleans()), draw(st.frozensets(st.sampled_from("ACDZ"))),
        draw(st.frozensets(st.sampled_from(("287g", "secure-communities", "task.force_2")))),
        draw(st.booleans()), draw(_TEXT),
    )
