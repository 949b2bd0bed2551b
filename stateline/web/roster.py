"""Account changes, audited: each is written to the log of every state the account answers for
before it is made, so a change the log cannot take is not made. The users page and
`stateline users` both come here."""

from __future__ import annotations

from datetime import UTC, datetime

from ..audit.records import CredentialRecord
from ..datadir import DataDir
from ..policy.store import audit
from .accounts import (
    ALL_STATES,
    MIN_PASSWORD,
    Account,
    AccountError,
    Accounts,
    Role,
    UnknownAccount,
    check_name,
    check_state,
)


def _audit(data: DataDir, state: str, action: str, name: str, role: Role, by: str) -> None:
    states = data.states() if state == ALL_STATES else [state]
    record = CredentialRecord(time=datetime.now(UTC).isoformat(timespec="microseconds"),
                              action=action, user=name, role=role.value, state=state, by=by)
    for code in states:
        audit(data, code, *record.for_log())


def add(data: DataDir, name: str, role: Role, state: str, by: str,
        password: str | None = None) -> tuple[Account, str]:
    """A new account and its password (made when none is given, to be shown once)."""
    accounts = Accounts(data)
    name, state = check_name(name), check_state(state, data)
    if password is not None and len(password) < MIN_PASSWORD:
        raise AccountError(f"a password needs at least {MIN_PASSWORD} characters")
    try:
        accounts.get(name)
    except UnknownAccount:
        pass
    else:
        raise AccountError(f"account {name} already exists")
    _audit(data, state, "account-added", name, role, by)
    return accounts.add(name, role, state, password)


def set_password(data: DataDir, name: str, by: str,
                 password: str | None = None) -> tuple[Account, str]:
    """A new password; the account's sessions end."""
    accounts = Accounts(data)
    account = accounts.get(name)
    if password is not None and len(password) < MIN_PASSWORD:
        raise AccountError(f"a password needs at least {MIN_PASSWORD} characters")
    _audit(data, account.state, "password-set", account.name, account.role, by)
    return accounts.set_password(account.name, password)


def remove(data: DataDir, name: str, by: str) -> Account:
    accounts = Accounts(data)
    account = accounts.get(name)
    _audit(data, account.state, "account-removed", account.name, account.role, by)
    return accounts.remove(account.name)
