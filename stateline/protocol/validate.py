"""Key rules: destinations, allowed and required fields, and field values, from the tables."""

from __future__ import annotations

from .errors import Reject, RejectCode
from .fields import rule_for
from .keys import Addressing, KeySpec, TextKind, spec_for
from .model import Field, Message
from .places import MULTI_STATE, is_state

MISSING_FIELD_CODES = {"DOB": RejectCode.DOB}
"""A missing field with a reject number of its own; any other gap in a field set is .22."""


def validate(message: Message) -> Message:
    """Return the message if its key's rules hold; raise Reject naming the first that fails.

    Unknown keys pass with their structure checked only: the switch may route them, but no
    state gateway answers them.
    """
    spec = spec_for(message.key)
    if spec is None:
        return message
    try:
        if spec.origin is not None and message.sender != spec.origin:
            raise Reject(RejectCode.HEADER, f"{spec.key} MAY ONLY COME FROM {spec.origin}")
        if message.header is None:
            check_destinations(spec, message.destinations)
        if spec.text is TextKind.FIELDS:
            check_fields(spec, message.fields)
        elif spec.key in ("AM", "SM") and not message.body:
            raise Reject(RejectCode.MISSING, f"{spec.key} NEEDS A MESSAGE TEXT")
    except Reject as reject:
        raise reject.with_context(key=message.key) from None
    return message


def check_destinations(spec: KeySpec, destinations: tuple[str, ...]) -> None:
    rule = spec.destinations
    if len(set(destinations)) != len(destinations):
        raise Reject(RejectCode.DESTINATION, "A DESTINATION IS REPEATED")
    if len(destinations) > rule.most:
        raise Reject(
            RejectCode.DESTINATION, f"{spec.key} TAKES AT MOST {rule.most} DESTINATION(S)"
        )
    for destination in destinations:
        problem = _ADDRESS_CHECKS[rule.addressing](destination)
        if problem:
            raise Reject(
                RejectCode.DESTINATION, f"{destination} NOT VALID FOR {spec.key}: {problem}"
            )


def check_fields(spec: KeySpec, fields: tuple[Field, ...]) -> None:
    allowed = spec.allowed
    seen: set[str] = set()
    for item in fields:
        if item.prefix not in allowed:
            raise Reject(
                RejectCode.FORMAT, f"{item.prefix} IS NOT A {spec.key} FIELD", *spec.options_text()
            )
        if item.prefix in seen:
            raise Reject(RejectCode.FORMAT, f"{item.prefix} IS REPEATED", *spec.options_text())
        seen.add(item.prefix)
        rule = rule_for(spec.key, item.prefix)
        problem = rule.check(item.value) if rule else None
        if rule and problem:
            raise Reject(rule.code, problem)
    if any(all(p in seen for p in needed) for needed in spec.field_sets):
        return
    identifying = {p for needed in spec.field_sets for p in needed}
    if not seen & identifying:
        raise Reject(RejectCode.MISSING, f"{spec.key} NEEDS ONE OF", *spec.options_text())
    for needed in spec.field_sets:
        missing = [p for p in needed if p not in seen]
        if len(missing) == 1 and missing[0] in MISSING_FIELD_CODES and seen & set(needed):
            raise Reject(MISSING_FIELD_CODES[missing[0]], f"{missing[0]} IS MISSING")
    raise Reject(RejectCode.FORMAT, f"{spec.key} FIELDS DO NOT FORM A SET", *spec.options_text())


def _two_character(destination: str) -> str | None:
    return None if len(destination) == 2 else "AN ORI IS NOT A VALID DESTINATION"


def _one_state(destination: str) -> str | None:
    return None if is_state(destination) else "ONLY ONE STATE CODE IS ALLOWED"


def _region(destination: str) -> str | None:
    if len(destination) != 2:
        return "AN ORI IS NOT A VALID DESTINATION"
    if is_state(destination) and destination != MULTI_STATE:
        return "A STATE CODE IS NOT A REGION; SEND DQ OR RQ TO A STATE"
    return None


def _ori(destination: str) -> str | None:
    return None if len(destination) == 9 else "A RESPONSE GOES TO ONE 9-CHARACTER ORI"


def _anything(destination: str) -> str | None:
    return None


_ADDRESS_CHECKS = {
    Addressing.STATES: _two_character,
    Addressing.ONE_STATE: _one_state,
    Addressing.REGIONS: _region,
    Addressing.ORI: _ori,
    Addressing.ANY: _anything,
}
