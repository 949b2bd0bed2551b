"""Check published reports without the state's log, as a journalist would: the log's signature
and the witnesses' cosignatures on each report's checkpoint, and that the log only grew between
releases, proved by RFC 6962 consistency proofs the state serves at
`/public/{state}/proof/consistency`. The counts themselves are not checked here (only the log
can recount them: `verify`); what is checked is that the state stands behind a checkpoint it
cannot take back.

Keys come from the reader (`keys`, `witness_keys`) or, failing that, from the report itself,
which only shows that the report is consistent with itself: every line says which it was.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

import httpx

from ..audit.checkpoint import SignedTreeHead, parse
from ..audit.merkle import HASH_SIZE, ProofError, verify_consistency
from ..audit.note import ED25519, Note, NoteError, Verifier, parse_note, parse_vkey, verified_by
from ..errors import RequesterError
from .model import PublicReport

Fetch = Callable[[str], str]
"""GET a path of the state's public site (`/public/WA/key`), its text; CheckError on failure."""

MAX_ANSWER = 1 << 20
"""Bytes read at most from any answer of the public site."""
MAX_PROOF = 2 * 64
"""Hashes a consistency proof between two sizes below 2**64 holds at most."""


class CheckError(RequesterError):
    """A report, key or public site that cannot be checked as given."""

    code, status = "cannot-check", 422


@dataclass(frozen=True, slots=True)
class Finding:
    """One thing checked, and whether it held."""

    ok: bool
    text: str


@dataclass(frozen=True, slots=True)
class Named:
    """A report and the name it was given by (its file)."""

    name: str
    report: PublicReport


def check(reports: Sequence[Named], keys: Sequence[str] = (), witness_keys: Sequence[str] = (),
          fetch: Fetch | None = None) -> list[Finding]:
    """Every finding, in order: first the newest report (the first given), then each earlier
    one, then that the earlier ones are prefixes of the newest and of what the site serves."""
    if not reports:
        raise CheckError("give at least one report")
    trusted = [_key(k, "--key", ED25519) for k in keys]
    witnesses = [_key(k, "--witness-key") for k in witness_keys]
    origins = {n.report.as_of.origin for n in reports}
    if len(origins) > 1:
        raise CheckError(f"the reports are of different logs ({', '.join(sorted(origins))}): "
                         "check each state's reports apart")
    found: list[Finding] = []
    served = _served_keys(reports[0].report, fetch, found) if fetch else []
    heads = [_one(n, trusted, served, witnesses, found) for n in reports]
    newest = heads[0]
    for named, head in zip(reports[1:], heads[1:], strict=True):
        found.append(_grew(f"{named.name} ({head.head.size:,} entries)", head,
                           f"{reports[0].name} ({newest.head.size:,})", newest, fetch))
    if fetch is not None:
        now = _served_checkpoint(reports[0].report, trusted or served, fetch, found)
        if now is not None:
            found.append(_grew(f"{reports[0].name} ({newest.head.size:,} entries)", newest,
                               f"the checkpoint the site serves now ({now.head.size:,})", now,
                               fetch))
    return found


def _key(text: str, flag: str, kind: int | None = None) -> Verifier:
    try:
        key = parse_vkey(text)
    except NoteError as error:
        raise CheckError(f"{flag}: {error}") from None
    if kind is not None and key.kind != kind:
        raise CheckError(f"{flag}: {key.name} is not a log's Ed25519 key")
    return key


def _one(named: Named, trusted: Sequence[Verifier], served: Sequence[Verifier],
         witnesses: Sequence[Verifier], found: list[Finding]) -> SignedTreeHead:
    """The report's checkpoint, its log signature and its cosignatures."""
    report, name = named.report, named.name
    a = report.as_of
    try:
        head = parse(a.checkpoint)
        note = parse_note(a.checkpoint)
        own = _key(a.verifier_key, f"{name}: as_of.verifier_key", ED25519)
        listed = [_key(k, f"{name}: as_of.witnesses") for k in a.witnesses]
    except NoteError as error:
        raise CheckError(f"{name}: as_of.checkpoint: {error}") from None
    h = head.head
    if h.origin != f"stateline/{report.state}" or (h.origin, h.size, h.root.hex()) != (
            a.origin, a.size, a.root):
        found.append(Finding(False, f"{name}: as_of does not match its checkpoint (origin, "
                                    "size or root differ)"))
    keys, whose = (trusted, "the key you gave") if trusted else (
        [own], "the key the report names itself (give --key to check against one you trust)")
    signer = next((k for k in keys if k.verify(h.body(), head.log_signature)), None)
    found.append(Finding(signer is not None, f"{name}: {h.origin} signed this checkpoint of "
                         f"{h.size:,} entries: checked with {whose}" if signer else
                         f"{name}: the log's signature does not verify with {whose}"))
    if served:
        ok = any(k.verify(h.body(), head.log_signature) for k in served)
        found.append(Finding(ok, f"{name}: the key the site serves "
                                 f"{'verifies' if ok else 'does not verify'} the checkpoint"))
    found.extend(_cosignatures(name, note, [*keys, own], witnesses, listed))
    return head


def _cosignatures(name: str, note: Note, logs: Sequence[Verifier],
                  given: Sequence[Verifier], listed: Sequence[Verifier]) -> list[Finding]:
    """Each trusted witness cosigned the checkpoint; no line comes from a witness no one
    named; a line from a known key that does not verify fails the note."""
    trusted, whose = (given, "the witness keys you gave") if given else (
        listed, "the witnesses the report names (give --witness-key to check against keys you "
                "trust)")
    known = [*trusted, *(w for w in listed if w not in trusted), *logs]
    try:
        signed = verified_by(note, known)
    except NoteError as error:
        return [Finding(False, f"{name}: {error}")]
    found: list[Finding] = []
    if not trusted:
        found.append(Finding(True, f"{name}: no witness named: only the state vouches for "
                                   "this checkpoint"))
    for witness in trusted:
        line = next((s for v, s in signed if v.key_id == witness.key_id
                     and v.name == witness.name), None)
        if line is None:
            found.append(Finding(False, f"{name}: not cosigned by the witness {witness.name}, "
                                        f"one of {whose}"))
            continue
        stamp = witness.timestamp(line)
        when = "" if stamp is None else " at " + datetime.fromtimestamp(stamp, UTC).strftime(
            "%Y-%m-%dT%H:%M:%SZ")
        found.append(Finding(True, f"{name}: cosigned by the witness {witness.name}{when}, "
                                   f"one of {whose}"))
    claimed = {(v.name, v.key_id) for v in known}
    for line in note.signatures:
        if (line.name, line.key_id) not in claimed:
            found.append(Finding(False, f"{name}: a cosignature line from an unknown witness "
                                        f"{line.name} (key id {line.key_id.hex()})"))
    return found


def _grew(old_name: str, old: SignedTreeHead, new_name: str, new: SignedTreeHead,
          fetch: Fetch | None) -> Finding:
    """The log at `old` is a prefix of the log at `new`."""
    m, n = old.head.size, new.head.size
    if m > n:
        return Finding(False, f"the log shrank: {old_name} holds more entries than {new_name}; "
                              "a log only grows (give the newest report first)")
    if m == n:
        same = old.head.root == new.head.root
        return Finding(same, f"{old_name} and {new_name} are the same tree" if same else
                       f"the log forked: {old_name} and {new_name} have the same size and "
                       "different roots")
    if m == 0:
        return Finding(True, f"{old_name} is the empty log, a prefix of any")
    if fetch is None:
        return Finding(False, f"{old_name} -> {new_name}: not proved; give --url to fetch the "
                              "consistency proof from the state's public site")
    state = new.head.origin.rsplit("/", 1)[-1]
    try:
        proof = read_proof(fetch(f"/public/{state}/proof/consistency?old={m}&new={n}"))
        ok = verify_consistency(m, n, proof, old.head.root, new.head.root)
    except (CheckError, ProofError) as error:
        return Finding(False, f"{old_name} -> {new_name}: no consistency proof: {error}")
    return Finding(ok, f"{old_name} -> {new_name}: the log only grew (consistency proof of "
                       f"{len(proof)} hashes)" if ok else
                   f"{old_name} -> {new_name}: the consistency proof fails: the log was "
                   "rewritten or forked between them")


def read_proof(text: str) -> list[bytes]:
    """A consistency proof as served: one base64 hash a line."""
    lines = text.split()
    if len(lines) > MAX_PROOF:
        raise CheckError(f"a consistency proof holds at most {MAX_PROOF} hashes")
    proof = []
    for line in lines:
        try:
            raw = base64.b64decode(line, validate=True)
        except binascii.Error:
            raise CheckError(f"{line[:60]!r} in the proof is not base64") from None
        if len(raw) != HASH_SIZE:
            raise CheckError(f"a proof hash is {HASH_SIZE} bytes, not {len(raw)}")
        proof.append(raw)
    return proof


def _served_keys(report: PublicReport, fetch: Fetch, found: list[Finding]) -> list[Verifier]:
    try:
        keys = [_key(line, "the key the site serves", ED25519)
                for line in fetch(f"/public/{report.state}/key").split()]
    except CheckError as error:
        found.append(Finding(False, f"the site's log key: {error}"))
        return []
    if not keys:
        found.append(Finding(False, "the site serves no log key"))
    return keys


def _served_checkpoint(report: PublicReport, keys: Sequence[Verifier], fetch: Fetch,
                       found: list[Finding]) -> SignedTreeHead | None:
    """The checkpoint the site serves now, when it verifies."""
    try:
        head = parse(fetch(f"/public/{report.state}/checkpoint"))
    except (CheckError, NoteError) as error:
        found.append(Finding(False, f"the checkpoint the site serves: {error}"))
        return None
    ok = head.head.origin == report.as_of.origin and any(
        k.verify(head.head.body(), head.log_signature) for k in keys)
    found.append(Finding(ok, f"the site serves a checkpoint of {head.head.size:,} entries "
                             f"signed by {head.head.origin}" if ok else
                         "the checkpoint the site serves is not signed by the log's key"))
    return head if ok else None


def fetcher(url: str, timeout: float = 10.0, client: httpx.Client | None = None) -> Fetch:
    """GETs of the public site at `url` (http:// or https://, no path), through `client`
    when given (a test's client of the app)."""
    base = url.rstrip("/")
    if not base.startswith(("http://", "https://")) or len(base) > 2000:
        raise CheckError(f"--url {url[:80]!r}: expected http://HOST[:PORT] or https://HOST")
    stream = client.stream if client is not None else httpx.stream

    def fetch(path: str) -> str:
        try:
            with stream("GET", base + path, timeout=timeout) as answer:
                body = b""
                for chunk in answer.iter_bytes():
                    body += chunk
                    if len(body) > MAX_ANSWER:
                        raise CheckError(f"{base + path}: the answer is over {MAX_ANSWER} "
                                         "bytes")
        except httpx.HTTPError as error:
            raise CheckError(f"{base + path}: {error}") from None
        text = body.decode("utf-8", "replace")
        if answer.status_code != 200:
            raise CheckError(f"{base + path}: {answer.status_code} {text[:200].strip()}")
        return text

    return fetch
