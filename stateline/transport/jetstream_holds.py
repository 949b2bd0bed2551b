"""Store-and-forward on JetStream: held traffic in a stream (`STATELINE_HELD`, one subject per
state, `stateline.held.WA`), read back in stream order per state and deleted only once the
state's reply is recorded; which switch delivers a state is a lease in a key-value bucket.

This is the `HoldStore` the switch takes; nothing here is of record. JetStream acknowledges a
write before it reaches the disk (a server syncs every write only with `sync_interval: always`,
nats-server 2.10 and later), so a power cut can lose a message the sender was told is held.
"""

from __future__ import annotations

import contextlib
import json
import time
from datetime import UTC, datetime

import nats.errors
from nats.aio.client import Client as NATS
from nats.js.errors import APIError, KeyNotFoundError, KeyWrongLastSequenceError
from nats.js.errors import NotFoundError as StreamNotFound
from nats.js.kv import KeyValue

from ..protocol import Message, Stamp
from ..protocol.jsonform import from_json, to_json
from ..switch.holds import LEASE_SECONDS, HeldMessage
from .nats import MSG_ID, NETWORK, BusUnavailable, Names, ensure_stream, state_of

FRESH_SECONDS = 1.0
GONE = frozenset({10043, 10057})
"""JetStream's "sequence not found" and "no message found": another switch deleted it."""


class JetStreamHolds:
    """Held traffic in JetStream. Open with `await JetStreamHolds.open(client, names)`."""

    def __init__(self, client: NATS, names: Names, leases: KeyValue, *,
                 lease: float = LEASE_SECONDS, fresh: float = FRESH_SECONDS) -> None:
        self.client, self.names = client, names
        self._js = client.jetstream()
        self._leases, self._lease, self._fresh = leases, lease, fresh
        self._counts: dict[str, int] = {}
        self._counted_at = -fresh
        self._changes = 0

    @classmethod
    async def open(cls, client: NATS, names: Names = NETWORK, *, lease: float = LEASE_SECONDS,
                   fresh: float = FRESH_SECONDS) -> JetStreamHolds:
        """The stream and the lease bucket, made if missing."""
        js = client.jetstream()
        try:
            await ensure_stream(js, names.held_stream_config())
            try:
                leases = await js.key_value(names.leases)
            except StreamNotFound:
                leases = await js.create_key_value(bucket=names.leases, history=1)
        except nats.errors.Error as error:
            raise BusUnavailable(f"cannot set up held traffic on NATS: {error}") from None
        return cls(client, names, leases, lease=lease, fresh=fresh)

    async def put(self, message_id: str, state: str, message: Message,
                  received: Stamp) -> HeldMessage:
        """Kept once JetStream acknowledges it. The same message for the same state is kept
        once however often it is put within two minutes (a retried put)."""
        now = datetime.now(UTC)
        body = {"message_id": message_id, "state": state, "message": to_json(message),
                "received_at": received.at.isoformat(), "received_counter": received.counter,
                "time": now.isoformat(timespec="microseconds")}
        ack = await self._js.publish(self.names.held(state), json.dumps(body).encode(),
                                     stream=self.names.held_stream,
                                     headers={MSG_ID: f"{message_id}.{state}"})
        if not ack.duplicate:
            self._changed(state, +1)
        return HeldMessage(ack.seq, message_id, state, message, received, now)

    async def waiting(self, state: str, limit: int = 100) -> list[HeldMessage]:
        """The state's held messages, oldest first: the next `limit` in stream order."""
        found: list[HeldMessage] = []
        seq = 1
        while len(found) < limit:
            try:
                raw = await self._js.get_msg(self.names.held_stream, seq=seq,
                                             subject=self.names.held(state), next=True)
            except StreamNotFound:
                break
            assert raw.seq is not None
            found.append(_held(raw.seq, raw.data or b""))
            seq = raw.seq + 1
        return found

    async def counts(self) -> dict[str, int]:
        """Held messages per state. The switch asks before every delivery, so this
        process's own puts and deletions count at once and the stream is asked again only
        after `fresh` seconds (what other switches hold shows within that time)."""
        if time.monotonic() - self._counted_at >= self._fresh:
            changes = self._changes
            info = await self._js.stream_info(self.names.held_stream,
                                              subjects_filter=f"{self.names.prefix}.held.*")
            if changes == self._changes:  # else a put or deletion here overtook the answer
                self._counts = {state_of(subject): n
                                for subject, n in (info.state.subjects or {}).items()}
                self._counted_at = time.monotonic()
        return {state: n for state, n in self._counts.items() if n > 0}

    async def delivered(self, held: HeldMessage) -> None:
        try:
            await self._js.delete_msg(self.names.held_stream, held.id)
        except APIError as error:
            if error.err_code not in GONE:
                raise
            return
        self._changed(held.state, -1)

    def _changed(self, state: str, by: int) -> None:
        self._changes += 1
        self._counts[state] = max(0, self._counts.get(state, 0) + by)

    async def claim(self, state: str, owner: str) -> bool:
        """A lease of `lease` seconds, taken over only once the holder lets it lapse."""
        lease = json.dumps({"owner": owner, "until": time.time() + self._lease}).encode()
        try:
            entry = await self._leases.get(state)
        except KeyNotFoundError:
            entry = None
        try:
            if entry is None or not entry.value:
                await self._leases.create(state, lease)
                return True
            held = json.loads(entry.value)
            if held.get("owner") != owner and float(held.get("until", 0)) > time.time():
                return False
            assert entry.revision is not None
            await self._leases.update(state, lease, last=entry.revision)
        except KeyWrongLastSequenceError:  # another switch took it just now
            return False
        return True

    async def release(self, state: str, owner: str) -> None:
        try:
            entry = await self._leases.get(state)
        except KeyNotFoundError:
            return
        if entry.value and json.loads(entry.value).get("owner") == owner:
            assert entry.revision is not None
            with contextlib.suppress(KeyWrongLastSequenceError):
                await self._leases.delete(state, last=entry.revision)

    async def close(self) -> None:
        """The connection belongs to whoever opened it."""


def _held(seq: int, data: bytes) -> HeldMessage:
    body = json.loads(data)
    message: Message = from_json(body["message"])
    received = Stamp(datetime.fromisoformat(body["received_at"]), int(body["received_counter"]))
    return HeldMessage(seq, str(body["message_id"]), str(body["state"]), message, received,
                       datetime.fromisoformat(body["time"]))
