"""The audit log: search it, read an entry with its inclusion proof against the latest signed
head, and verify the whole log on demand (the last result is kept, with when it ran)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response
from starlette.concurrency import run_in_threadpool

from ...audit import AuditEntry, AuditLog, EntryKind, LogError, log_keys, read_state_log
from ...audit.checkpoint import verify as verify_head
from ...audit.entries import canonical_json, leaf_data
from ...audit.merkle import leaf_hash, verify_inclusion
from ...audit.records import REFUSED, RecordError, request_of
from ...audit.records.kinds import OUTCOMES
from ...audit.search import SEARCHED, Filters, scan
from ...audit.trusted import check_state
from ...directory.categories import DEFAULT_RULES
from ...policy.schema import QUERY_ACTIONS
from ...policy.store import history
from ..errors import NotFound, WebError
from ..grants import Permission
from ..guard import Dashboard
from ..reading import labelled, raw_json, reasons_by_version
from ..render import HEADERS, page, when_us
from .overview import has_log

LIMITS = (50, 200, 1000)
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


class BadSearch(WebError):
    status, code = 400, "invalid-search"


@dataclass(frozen=True, slots=True)
class Proof:
    against: str
    size: int
    root: str
    hashes: tuple[str, ...]
    leaf_ok: bool
    included: bool
    signed: bool | None
    """The head's signature checks out; None when the proof is against the unsigned head."""

    @property
    def verified(self) -> bool:
        return self.leaf_ok and self.included and self.signed is not False


def _us(text: str, end_of_day: bool = False) -> int | None:
    if not text.strip():
        return None
    try:
        day = date.fromisoformat(text.strip())
    except ValueError:
        raise BadSearch(f"{text!r} is not a date (YYYY-MM-DD)") from None
    moment = datetime(day.year, day.month, day.day, tzinfo=UTC)
    if end_of_day:
        moment += timedelta(days=1) - timedelta(microseconds=1)
    return (moment - _EPOCH) // timedelta(microseconds=1)


@dataclass(frozen=True, slots=True)
class Found:
    """The newest `entries` of `total` matching entries."""

    entries: list[AuditEntry]
    total: int


def search(board: Dashboard, state: str, query: dict[str, str]) -> Found:
    """Entries matching the query, newest first, up to the limit, and how many match in all;
    an imported request is placed and filtered by when it was made. The agency box takes an
    ORI or any part of an agency's name."""
    def given(name: str) -> str | None:
        return query.get(name, "").strip() or None

    agency, category, key = given("agency"), given("category"), given("key")
    filters = Filters(None, category.upper() if category else None, key.upper() if key else None,
                      given("outcome"), _us(query.get("since", "")),
                      _us(query.get("until", ""), end_of_day=True))
    senders = (frozenset({agency.upper()}) | board.names.matching(agency)) if agency else None
    every = query.get("kind") == "all"
    kinds = list(EntryKind) if every and not agency else list(SEARCHED)
    limit = int(query["limit"]) if query.get("limit", "") in map(str, LIMITS) else LIMITS[0]
    if not has_log(board, state):
        return Found([], 0)
    found: list[AuditEntry] = []
    total = 0
    log = read_state_log(board.data, state)
    if log is None:
        return Found([], 0)
    with log:
        for entry in scan(log, kinds, filters.since_us, filters.until_us):
            if filters.match(entry) and (senders is None or _sender(entry) in senders):
                total += 1
                if len(found) < limit:
                    found.append(entry)
    return Found(found, total)


def _sender(entry: AuditEntry) -> str:
    try:
        return request_of(entry).ori.upper()
    except RecordError:
        return ""


def choices() -> dict[str, tuple[str, ...]]:
    """What the search's select boxes offer: every category, key and outcome there is."""
    return {"category": (*(rule.name for rule in DEFAULT_RULES.categories), "unknown"),
            "key": tuple(QUERY_ACTIONS), "outcome": (*OUTCOMES, REFUSED)}


def proof_of(log: AuditLog, board: Dashboard, state: str, entry: AuditEntry) -> Proof:
    """Against the latest signed head that covers the entry, else the current head."""
    heads = log.heads()
    if heads and heads[-1].head.size > entry.seq:
        signed = heads[-1]
        size, root = signed.head.size, signed.head.root
        against = (f"signed head #{len(heads)} (size {size:,}, "
                   f"{when_us(signed.head.time_us)} UTC)")
        good_signature: bool | None = any(verify_head(signed, key)
                                          for key in log_keys(board.data, state))
    else:
        current = log.head()
        size, root = current.size, current.root
        against, good_signature = f"the current head (size {size:,}, not yet signed)", None
    hashes = log.inclusion_proof(entry.seq, size)
    leaf = leaf_hash(leaf_data(entry.time_us, entry.kind.value, canonical_json(entry.body)))
    return Proof(against, size, root.hex(), tuple(h.hex() for h in hashes), leaf == entry.leaf,
                 verify_inclusion(entry.leaf, entry.seq, size, hashes, root), good_signature)


def _entry(board: Dashboard, state: str, seq: int) -> tuple[AuditEntry, Proof]:
    log = read_state_log(board.data, state) if has_log(board, state) else None
    if log is None:
        raise NotFound(f"{state} has no audit log yet")
    with log:
        try:
            entry = log.entry(seq)
        except LogError as error:
            raise NotFound(str(error)) from None
        return entry, proof_of(log, board, state, entry)


def run_verify(board: Dashboard, state: str) -> dict[str, Any]:
    if not has_log(board, state):
        raise NotFound(f"{state} has no audit log yet")
    check = check_state(board.data, state)
    report = check.report
    result = {"time": datetime.now(UTC), "ok": report.ok, "entries": report.entries,
              "heads": report.heads, "unsigned": report.unsigned, "seconds": report.seconds,
              "finding": str(report.finding) if report.finding else "",
              "key_beside_log": check.key_beside_log,
              "witnesses": [(lag.witness.name, lag.entries, lag.seconds) for lag in check.lags]}
    board.verified[state] = result
    return result


def routes(board: Dashboard) -> APIRouter:
    router = APIRouter(include_in_schema=False)

    @router.get("/states/{state}/audit")
    def search_page(request: Request, state: str) -> Response:
        visit = board.visit(request, state, Permission.AUDIT)
        query = dict(request.query_params)
        found = search(board, visit.state or "", query)
        return page(visit, "audit.html", area="audit", found=found, query=query,
                    choices=choices(), limits=LIMITS, agencies=board.names.agencies())

    @router.get("/states/{state}/audit/verify")
    def verify_page(request: Request, state: str) -> Response:
        visit = board.visit(request, state, Permission.AUDIT)
        return page(visit, "verify.html", area="audit",
                    result=board.verified.get(visit.state or ""))

    @router.post("/states/{state}/audit/verify")
    async def verify_now(request: Request, state: str) -> Response:
        visit, _ = await board.acting(request, state, Permission.AUDIT)
        await run_in_threadpool(run_verify, board, visit.state or "")
        return RedirectResponse(f"/states/{visit.state}/audit/verify", 303, headers=HEADERS)

    @router.get("/states/{state}/audit/{seq}")
    def entry_page(request: Request, state: str, seq: int) -> Response:
        visit = board.visit(request, state, Permission.AUDIT)
        code = visit.state or ""
        entry, proof = _entry(board, code, seq)
        known = reasons_by_version(history(board.data, code, "policy"))
        return page(visit, "entry.html", area="audit", entry=entry, proof=proof,
                    fields=labelled(entry, board.names.agencies(), known),
                    raw=raw_json(entry))

    return router
