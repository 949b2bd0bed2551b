"""The history room: a state switch's past traffic imported into the state's audit log as
`imported` entries, so reports, briefings and replays reach back before Stateline. It only
ever appends; it never rewrites or reorders the log."""

from .errors import AlreadyImported, Earlier, HistoryError, Problem
from .importer import ImportOptionError, Progress, import_history
from .rows import FORMATS
from .summary import FileSummary, ImportSummary

__all__ = [
    "FORMATS",
    "AlreadyImported",
    "Earlier",
    "FileSummary",
    "HistoryError",
    "ImportOptionError",
    "ImportSummary",
    "Problem",
    "Progress",
    "import_history",
]
