"""A C2SP tlog-witness: it cosigns a log's checkpoint only once it has seen the log grew
consistently from the last checkpoint it cosigned, so a state cannot roll its audit log back
or show two histories without a witness run by someone else noticing.

`service.Witness` is the protocol behind any transport, `server.create_app` serves it over
HTTP, `client` is what a log uses to reach one, `keys` and `logs` read its two files.
"""

from .client import add_checkpoint, latest_checkpoint
from .errors import WitnessConflict, WitnessError, WitnessRefused, WitnessUnreachable
from .service import Witness, log_id

__all__ = ["Witness", "WitnessConflict", "WitnessError", "WitnessRefused", "WitnessUnreachable",
           "add_checkpoint", "latest_checkpoint", "log_id"]
