"""Carrying one routed message to one state and its answer back to the sender: both stamped
with an output header, both in the traffic log, the answer kept with the submission. A state
that cannot be reached has the message held; a state that fails has its leg closed as an
error, so no sender waits for an answer that cannot come."""

from __future__ import annotations

import logging
from collections.abc import Callable

from ..protocol import SWITCH_ORI, Message, Reject, Stamp, spec_for
from ..transport.base import Envelope, Reply, StateUnavailable, Transport
from .admission import reply_problem
from .holds import HeldMessage
from .merge import HELD_FOR_DELIVERY, NOT_FORWARDED, WAITING
from .routing import Action, status_text
from .stamping import stamped, state_line
from .stores import Stores
from .submissions import Sent, summary_body
from .traffic import outgoing

log = logging.getLogger("stateline.switch")

LEG_STATUS = {Action.DELIVER: WAITING, Action.HOLD: HELD_FOR_DELIVERY,
              Action.NOT_TAKEN: NOT_FORWARDED, Action.REMOVED: NOT_FORWARDED}
SENT_OUTCOME = {Action.HOLD: "held", Action.NOT_TAKEN: "rejected", Action.REMOVED: "rejected"}
"""How a status message counts for the sender: .02. is held (the answer follows), .01. and
.04. are refusals."""


class Courier:
    def __init__(self, stores: Stores, transport: Transport, timeout: float) -> None:
        self.stores, self.transport, self.timeout = stores, transport, timeout

    async def deliver(self, message_id: str, routed: Message, received: Stamp,
                      late: Callable[[], bool]) -> None:
        """Deliver one leg now; `late` says, when the answer comes, whether the sender's wait
        is over."""
        state = routed.destinations[0]
        try:
            reply = await self.transport.deliver(self._envelope(message_id, routed, received),
                                                 self.timeout)
        except StateUnavailable as why:
            log.info("%s unavailable (%s): holding %s", state, why, message_id)
            await self.stores.holds.put(message_id, state, routed, received)
            self.status_message(message_id, routed.sender, state, Action.HOLD, received,
                                routed.key, late=late())
            return
        except Exception:
            log.exception("delivering %s to %s failed", message_id, state)
            self._failed(message_id, state, routed.sender, late())
            return
        self.answered(reply, routed.sender, late=late())

    async def deliver_held(self, held: HeldMessage) -> bool:
        """Deliver one held message; False (and still held) if the state cannot take it. A
        leg already answered (the switch stopped between keeping the answer and letting go of
        the hold) is let go without a second delivery, so the sender gets one answer. It goes
        marked `again`: it may have reached a gateway process that died before answering,
        and that gateway then answers from its entry rather than deciding it twice."""
        legs = dict(self.stores.submissions.legs(held.message_id)) \
            if self.stores.submissions.known(held.message_id) else {}
        if held.state in legs and legs[held.state] not in (WAITING, HELD_FOR_DELIVERY):
            await self.stores.holds.delivered(held)
            return True
        envelope = self._envelope(held.message_id, held.message, held.received, again=True)
        try:
            reply = await self.transport.deliver(envelope, self.timeout)
        except StateUnavailable:
            return False
        self.answered(reply, held.message.sender, late=True)
        await self.stores.holds.delivered(held)
        return True

    def answered(self, reply: Reply, requester: str, *, late: bool) -> None:
        """Stamp a state's answer for the requester and keep it with the submission, its
        answer record beside its text (never read out of the text)."""
        stores = self.stores
        response, outcome, answer = reply.response, reply.outcome.value, reply.answer
        problem = reply_problem(reply)
        if problem is not None:
            log.warning("%s reply to %s refused: %s", reply.state, reply.message_id, problem)
            response, outcome = Message("SM", SWITCH_ORI, (requester,), body=problem), "error"
            answer = None
        received = stores.lines.received(response.sender)
        try:
            delivered = stamped(response, stores.lines.header(received, requester))
        except Reject as reject:
            log.warning("%s reply to %s unreadable: %s", reply.state, reply.message_id, reject)
            self._failed(reply.message_id, reply.state, requester, late)
            return
        if not stores.submissions.known(reply.message_id):
            stores.traffic.add([outgoing(reply.message_id, delivered, requester)])
            log.warning("answer from %s for unknown message %s", reply.state, reply.message_id)
            return
        sent = Sent(reply.state, delivered, outcome, reply.reference, late or reply.late,
                    reply.photos, answer=answer)
        text = stores.submissions.respond(reply.message_id, sent, outcome)
        stores.traffic.add([outgoing(reply.message_id, delivered, requester, text)])

    async def late_reply(self, reply: Reply) -> None:
        """A reviewed answer, long after the first: it goes to whoever asked, once, and is
        committed before this returns (the carrier then marks it delivered)."""
        if reply.reference and self.stores.submissions.has_late(
                reply.message_id, reply.state, reply.reference, reply.outcome.value):
            return
        requester = reply.response.destinations[0] if reply.response.destinations else ""
        if not requester and self.stores.submissions.known(reply.message_id):
            requester = self.stores.submissions.header(reply.message_id).sender
        self.answered(reply, requester or SWITCH_ORI, late=True)
        await self.stores.committed()

    def status_message(self, message_id: str, sender: str, state: str, action: Action,
                       received: Stamp, key: str, *, late: bool = False) -> None:
        """The .01., .02. or .04. status message a sender gets for one state."""
        body = status_text(action, state, key)
        self._from_switch(message_id, sender, state, "SM", body, SENT_OUTCOME[action], received,
                          LEG_STATUS[action], late)

    def summarize(self, message_id: str, query: Message, received: Stamp) -> None:
        """The multi-state summary, as the legs stand when the sender's wait ends."""
        head = self.stores.submissions.header(message_id)
        body, outcome = summary_body(head, self.stores.submissions.legs(message_id))
        spec = spec_for(query.key)
        key = (spec.response if spec else None) or "AM"
        self._from_switch(message_id, query.sender, "NL", key, body, outcome, received, None,
                          False, summary=True)

    def _failed(self, message_id: str, state: str, requester: str, late: bool) -> None:
        body = f"{state} COULD NOT ANSWER; TRY AGAIN LATER"
        received = self.stores.lines.received(SWITCH_ORI)
        self._from_switch(message_id, requester, state, "SM", body, "error", received, "error",
                          late)

    def _from_switch(self, message_id: str, sender: str, state: str, key: str, body: str,
                     outcome: str, received: Stamp, leg: str | None, late: bool, *,
                     summary: bool = False) -> None:
        header = self.stores.lines.header(received, sender)
        message = Message(key, SWITCH_ORI, (), None, body=body, header=header)
        text = self.stores.submissions.respond(
            message_id, Sent(state, message, outcome, late=late, summary=summary), leg)
        self.stores.traffic.add([outgoing(message_id, message, sender, text)])

    def _envelope(self, message_id: str, routed: Message, received: Stamp, *,
                  again: bool = False) -> Envelope:
        state = routed.destinations[0]
        delivered = stamped(routed, self.stores.lines.header(received, state_line(state)))
        self.stores.traffic.add([outgoing(message_id, delivered, state)])
        return Envelope(message_id, state, delivered, len(routed.destinations) > 1, again)
