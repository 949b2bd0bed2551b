"""The switch's stores, opened and closed together.

Two connections to DIR/switch.db: one for rows that stand for a promise (credentials, status,
line-counter reservations, held traffic), each write synced before it returns, and one for
submissions, whose writes are grouped per turn of the event loop and committed before the
sender is answered (`Switch.submit` waits for that commit). The traffic log in DIR/traffic.db
is grouped the same way but nobody waits for it: a crash may lose the traffic-log rows of the
last turn of the loop (under a millisecond's worth), never a held message or an answer the
sender was given."""

from __future__ import annotations

from ..datadir import DataDir
from ..directory.store import Directory, NoNation
from .credentials import CredentialBook
from .errors import SwitchError
from .holds import HoldStore, SqliteHolds
from .senders import Senders
from .stamping import Lines
from .status import StatusBoard
from .submissions import SubmissionStore
from .traffic import TrafficLog


class Stores:
    """Directory (and its senders' entries), credentials, status, line counters, submissions,
    traffic and holds."""

    def __init__(self, data: DataDir, holds: HoldStore | None) -> None:
        try:
            self.directory = Directory.open(data, create=False)
        except NoNation as error:
            raise SwitchError(str(error)) from None
        self.senders = Senders(self.directory)
        self.submissions = SubmissionStore(data)
        grouped = self.submissions
        self.credentials = CredentialBook(data, before=grouped)
        promises = self.credentials
        self.status = StatusBoard(data, share=promises, before=grouped)
        self.lines = Lines(data, share=promises, before=grouped)
        self.traffic = TrafficLog(data)
        self.holds: HoldStore = holds if holds is not None else \
            SqliteHolds(data, share=promises, before=grouped)

    async def committed(self) -> None:
        """Wait until the submissions written so far are committed."""
        await self.submissions.committed()

    async def close(self) -> None:
        for store in (self.lines, self.submissions, self.traffic, self.credentials,
                      self.status, self.directory):
            store.close()
        await self.holds.close()
