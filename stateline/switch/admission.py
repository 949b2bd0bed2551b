"""Who may send what: an agency's message is checked against its credential's ORI, its
directory entry and its permission letters (nlets-protocol.md §2.2, §10); a state's answer
against the state's own ORIs. Pure: the agency and the reply are passed in."""

from __future__ import annotations

from ..directory.agency import Agency
from ..protocol import SWITCH_ORI, Message, Reject, RejectCode, spec_for
from ..transport.base import Reply

LETTERS = {"driver": "D", "vehicle": "D", "history": "D"}
"""The permission letter each message group needs: D for DMV data."""
ADMINISTRATIVE = "A"
"""Any other key (AM, SM, keys the switch does not know) needs A."""


class Impersonation(Reject):
    """The message names a sending ORI other than the credential's: refused and logged."""


def letter_for(key: str) -> str:
    spec = spec_for(key)
    group = spec.group if spec is not None else None
    return LETTERS.get(group or "", ADMINISTRATIVE)


def admit(message: Message, credential_ori: str, agency: Agency | None) -> None:
    """Raise Reject unless the credential's agency may send this message."""
    if message.sender != credential_ori:
        raise Impersonation(RejectCode.HEADER,
                            f"SENDING ORI {message.sender} IS NOT THE ORI OF THIS CREDENTIAL",
                            key=message.key)
    if agency is None:
        raise Reject(RejectCode.HEADER, f"SENDING ORI {message.sender} IS NOT IN THE DIRECTORY",
                     key=message.key)
    if not agency.active:
        raise Reject(RejectCode.HEADER, f"SENDING ORI {message.sender} IS NOT ACTIVE",
                     key=message.key)
    letter = letter_for(message.key)
    if letter not in agency.permissions:
        raise Reject(RejectCode.HEADER,
                     f"ORI {message.sender} LACKS PERMISSION {letter} FOR {message.key}",
                     key=message.key)


def reply_problem(reply: Reply) -> str | None:
    """Why a state's reply may not go on as it is: only the switch sends ER rejects, and a
    state answers from its own ORIs."""
    response = reply.response
    if response.key == "ER":
        return f"{reply.state} SENT AN ER; ONLY {SWITCH_ORI} SENDS REJECTS. ANSWER NOT FORWARDED"
    if not response.sender.startswith(reply.state):
        return f"{reply.state} ANSWERED AS {response.sender}. ANSWER NOT FORWARDED"
    if reply.answer is not None and reply.answer.state != reply.state:
        return f"{reply.state} ANSWERED IN {reply.answer.state}'S NAME. ANSWER NOT FORWARDED"
    return None


def claimed_ori(raw: str) -> str | None:
    """The sending ORI a raw message names, if one can be picked out, for the refusal log."""
    parts = raw.lstrip().split(".", 2)
    ori = parts[1].strip().upper() if len(parts) > 2 else ""
    return ori if len(ori) == 9 and ori.isalnum() else None
