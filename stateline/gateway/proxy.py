"""A gateway's records from the state's own DMV responder (proxy mode): each allowed query is
forwarded unchanged, its answer read with the state's field map into element-tagged records,
and the gateway's own lookups (a notice's addressee, a court order's subject) are asked the
same way. Policy, redaction and audit stay in the pipeline, exactly as with the local store.

What the responder sends that the map does not know is withheld, counted (metric
`stateline_upstream_unmapped_fields`, beside every answer by result) and named in a warning; a
timeout, an error or an answer that cannot be read raises, and the pipeline answers the query
as the state's "could not answer" and audits why.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Iterable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from datetime import UTC, date, datetime

from ..datadir import UpstreamSettings
from ..dmv import NAME_LIMIT, PARTIAL_PLATE_LIMIT, Sample
from ..dmv.records import Hit
from ..dmv.store import Batch
from ..operations import metrics
from ..policy.registry import Subject
from ..protocol import Field, Message, Reject, birth_date, format_text, parse, spec_for
from .answers import read_records
from .fieldmap import FieldMap, load_field_map
from .lookup import Ask, Found, TermsError, check_terms
from .orders import record_subject
from .upstream import (
    UnreadableAnswer,
    UpstreamError,
    UpstreamNoAnswer,
    UpstreamTimeout,
    UpstreamUnreachable,
    Wire,
    open_wire,
)

_log = logging.getLogger(__name__)

RESULTS: dict[type[Exception], str] = {
    UpstreamTimeout: "timeout", UpstreamUnreachable: "unreachable",
    UnreadableAnswer: "unreadable", UpstreamNoAnswer: "no-answer", UpstreamError: "error",
}
"""How each failure is counted; an answer read whole counts as `records` or `no-record`."""
FIELDS_COUNTED = 100
"""Unknown field names counted apart; past that, under `(other)`: the names come from outside."""
WARN_EVERY_SECONDS = 60.0
"""An unknown field is named in a warning at most this often."""
LATE_SECONDS = 0.5
"""How long a batch waits past its deadline for a wire to report its own error."""
QUIET_SECONDS = 10.0
"""After one of the gateway's own lookups times out, how long the others fail at once rather
than each wait: a batch of notices must not wait a timeout apiece behind a silent DMV."""


class Proxy:
    """The `Records` of a gateway in front of the state's DMV responder."""

    def __init__(self, settings: UpstreamSettings, state: str, oris: tuple[str, str], *,
                 wire: Wire | None = None) -> None:
        self.state, self.settings = state, settings
        self.fmap: FieldMap = load_field_map(settings.field_map, settings.folder)
        self.wire = wire or open_wire(settings)
        self.source = f"the DMV responder at {self.wire.url} (read with {self.fmap.source})"
        self.store = UpstreamStore(self, oris)
        self._pool = ThreadPoolExecutor(settings.connections,
                                        thread_name_prefix=f"upstream-{state}")
        self._lock = threading.Lock()
        self._counted: set[str] = set()
        self._warned: dict[str, float] = {}
        metrics.upstream_results(state, ("records", "no-record", *RESULTS.values()))

    def fetch(self, asks: Sequence[Ask]) -> list[Found]:
        """Every allowed query of a batch forwarded at once (up to `connections` in flight),
        all by one deadline, so a silent responder costs a batch one timeout, not one each."""
        deadline = time.monotonic() + self.settings.timeout
        waiting: list[Found | Future[list[Hit]]] = []
        for ask in asks:
            try:
                check_terms(ask.query, ask.decision.action)
            except TermsError as error:  # refused as the local store would refuse it
                waiting.append(error)
                continue
            if len(asks) == 1:  # no thread hop for one query (a review, a single call)
                try:
                    waiting.append(self.ask(ask.query, deadline))
                except Exception as error:
                    waiting.append(error)
            else:
                waiting.append(self._pool.submit(self.ask, ask.query, deadline))
        return [_result(item, deadline) if isinstance(item, Future) else item
                for item in waiting]

    def ask(self, query: Message, deadline: float) -> list[Hit]:
        """The records the responder answers a query with, read with the field map."""
        try:
            text = self.wire.exchange(format_text(query), deadline)
            hits = self._read(query, text)
        except UpstreamError as error:
            self._count(next(r for kind, r in RESULTS.items() if isinstance(error, kind)))
            raise
        self._count("records" if hits else "no-record")
        return hits

    def _read(self, query: Message, text: str) -> list[Hit]:
        """Only an answer to this query, addressed back to its sender, is read at all."""
        spec = spec_for(query.key)
        group = spec.group if spec is not None and spec.group else "driver"
        try:
            answer = parse(text)
        except Reject:  # never quoted: the audit log keeps this error for good
            raise UnreadableAnswer("not a legacy-text message") from None
        expected = spec.response if spec is not None else None
        if answer.key != expected or answer.destinations != (query.sender,) or \
                answer.control not in (None, query.control):  # a DMV may drop it, not swap it
            raise UnreadableAnswer(f"a {answer.key} to {'.'.join(answer.destinations)} is "
                                   f"not the {expected} to {query.sender} this query awaits")
        reading = read_records(answer.body or "", self.fmap,
                               "vehicle" if group == "vehicle" else "driver")
        asked = _asked(query)
        for number, hit in enumerate(reading.hits, 1):
            if asked.conflicts(record_subject(hit)):  # a stray frame, or another query's
                raise UnreadableAnswer(f"record {number} is not of whom the query names")
        if reading.unmapped:
            self._note_unmapped(reading.unmapped)
        return list(reading.hits)

    def _count(self, result: str) -> None:
        metrics.upstream_answered(self.state, result)

    def _note_unmapped(self, names: Iterable[str]) -> None:
        now, warn, counted = time.monotonic(), [], []
        with self._lock:
            for name in names:
                if name not in self._counted and len(self._counted) < FIELDS_COUNTED:
                    self._counted.add(name)
                counted.append(name if name in self._counted else "(other)")
                if now - self._warned.get(name, -WARN_EVERY_SECONDS) >= WARN_EVERY_SECONDS \
                        and len(self._warned) < FIELDS_COUNTED:
                    self._warned[name] = now
                    warn.append(name)
        for name in counted:
            metrics.upstream_unmapped(self.state, name)
        for name in warn:
            _log.warning("%s: the DMV responder sent field %r, which %s does not name: it is "
                         "withheld from every answer as unmapped until the map names its "
                         "element", self.state, name, self.fmap.source)

    def close(self) -> None:
        self._pool.shutdown(wait=True)
        self.wire.close()


def _asked(query: Message) -> Subject:
    """Whom a query names by its exact terms: an OLN, VIN, plate or partial plate, and the
    DOB of a search by name and DOB. Not the name: a DMV matches names by sound."""
    dob = None if query.value("OLN") else query.value("DOB")
    try:
        born = birth_date(dob, datetime.now(UTC).date()) if dob else None
    except ValueError:
        born = None
    plate, partial = query.value("LIC") or "", query.key == "RPQ"
    return Subject(query.value("OLN") or "", dob=born, plate="" if partial else plate,
                   vin=query.value("VIN") or "", pattern=plate if partial else "")


def _result(future: Future[list[Hit]], deadline: float) -> Found:
    """The query's records, or why none: a wire that overstays the deadline is not waited for."""
    try:
        error = future.exception(timeout=max(0.0, deadline - time.monotonic()) + LATE_SECONDS)
    except TimeoutError:
        future.cancel()
        return UpstreamTimeout("the DMV did not answer in time")
    if error is None:
        return future.result()
    return error if isinstance(error, Exception) else UpstreamError(repr(error))


class UpstreamStore:
    """The DMV store interface over the responder, for what the gateway looks up itself (a
    notice's addressee, a court order's subject): each search asked as the query a state
    operator would send, from the state's own answering ORIs."""

    def __init__(self, proxy: Proxy, oris: tuple[str, str]) -> None:
        self._proxy = proxy
        self._driver_ori, self._vehicle_ori = oris
        self._quiet_until = 0.0

    def _ask(self, key: str, *fields: tuple[str, str | None]) -> list[Hit]:
        """A failed lookup raises: a notice records a gap, a court order is not applied."""
        if time.monotonic() < self._quiet_until:
            raise UpstreamTimeout("the DMV let a lookup time out moments ago; asked again "
                                  f"after {QUIET_SECONDS:g} s")
        spec = spec_for(key)
        ori = self._vehicle_ori if spec is not None and spec.group == "vehicle" else \
            self._driver_ori
        query = Message(key, ori, (self._proxy.state,), None,
                        tuple(Field(p, v) for p, v in fields if v))
        try:
            return self._proxy.ask(query, time.monotonic() + self._proxy.settings.timeout)
        except UpstreamTimeout:
            self._quiet_until = time.monotonic() + QUIET_SECONDS
            raise

    def by_oln(self, oln: str, *, photo: bool = False) -> list[Hit]:
        return self._ask("DQ", ("OLN", oln), ("IMQ", "Y" if photo else None))

    def by_name_dob(self, name: str, dob: date, sex: str | None = None, *,
                    photo: bool = False) -> list[Hit]:
        return self._ask("DQ", ("NAM", name), ("DOB", f"{dob:%Y%m%d}"), ("SEX", sex),
                         ("IMQ", "Y" if photo else None))

    def by_name(self, name: str, sex: str | None = None, limit: int = NAME_LIMIT) -> list[Hit]:
        return self._ask("DNQ", ("NAM", name), ("SEX", sex))[:limit]

    def by_plate(self, plate: str, year: str, plate_type: str) -> list[Hit]:
        return self._ask("RQ", ("LIC", plate), ("LIY", year), ("LIT", plate_type))

    def by_vin(self, vin: str) -> list[Hit]:
        return self._ask("RQ", ("VIN", vin))

    def by_owner(self, name: str, dob: date | None = None,
                 limit: int = NAME_LIMIT) -> list[Hit]:
        born = f"{dob:%Y%m%d}" if dob is not None else None
        return self._ask("RNQ", ("NAM", name), ("DOB", born))[:limit]

    def by_partial_plate(self, pattern: str, year: str | None = None,
                         plate_type: str | None = None,
                         limit: int = PARTIAL_PLATE_LIMIT) -> list[Hit]:
        """RPQ needs a wildcard; a whole plate is asked as itself followed by any run, and
        callers keep the exact plate."""
        asked = pattern if set("*?") & set(pattern) else f"{pattern}*"
        return self._ask("RPQ", ("LIC", asked), ("LIY", year), ("LIT", plate_type))[:limit]

    def load(self, batches: Iterable[Batch]) -> None:
        raise UpstreamError("a gateway in proxy mode holds no records: load the DMV's own")

    def sample(self, n: int, seed: int = 0) -> list[Sample]:
        raise UpstreamError("a gateway in proxy mode holds no records to sample")

    def counts(self) -> dict[str, int]:
        raise UpstreamError("a gateway in proxy mode holds no records to count")

    def close(self) -> None:
        """The proxy closes the wire."""


__all__ = ["Proxy", "UpstreamStore"]
