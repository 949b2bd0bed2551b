"""The switch's stores, opened and closed together."""

from __future__ import annotations

from ..datadir import DataDir
from ..directory.store import Directory, NoNation
from .credentials import CredentialBook
from .errors import SwitchError
from .holds import HoldStore, SqliteHolds
from .stamping import Lines
from .status import StatusBoard
from .submissions import SubmissionStore
from .traffic import TrafficLog


class Stores:
    """Directory, credentials, status, line counters, submissions, traffic and holds."""

    def __init__(self, data: DataDir, holds: HoldStore | None) -> None:
        try:
            self.directory = Directory.open(data, create=False)
        except NoNation as error:
            raise SwitchError(str(error)) from None
        self.credentials = CredentialBook(data)
        self.status = StatusBoard(data)
        self.lines = Lines(data)
        self.submissions = SubmissionStore(data)
        self.traffic = TrafficLog(data)
        self.holds: HoldStore = holds if holds is not None else SqliteHolds(data)

    async def close(self) -> None:
        for store in (self.credentials, self.status, self.lines, self.submissions,
                      self.traffic, self.directory):
            store.close()
        await self.holds.close()
