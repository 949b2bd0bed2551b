"""`stateline demo`: show what Stateline can do today, on synthetic sample messages."""

from __future__ import annotations

from rich.console import Console
from rich.table import Table

from ..protocol import Reject, format_text, read

SAMPLES = (
    "DQ.ORPPD0000.WA.TXT\nOLN/WDL123456",
    "DQ.ORPPD0000.WA.OR.ID.TXT\nNAM/DOE,JANE Q.DOB/19850314.SEX/F.IMQ/Y",
    "RQ.WASPD0100.OR.*CASE0042.TXT\nLIC/ABC1234.LIY/2026.LIT/PC",
    "RQ.VTICE0900.NL.TXT\nVIN/1HGCM82633A004352",
    "KQ.AZDPS0000.NY.TXT\nOLN/D12345678.PUR/C.ATN/SGT RIVERA",
    "RPQ.ORPPD0000.WA.TXT\nLIC/AB*12",
    "dq.orppd0000.wa.txt\r\nolN/wdl123456.\r\n",
    "DQ.ORPPD0000.WA.TXT\nNAM/DOE,JANE",
    "RQ.ORPPD0000.WA.TXT\nLIC/ABC1234.LIT/PC",
    "KQ.ORPPD0000.WA.OR.TXT\nOLN/WDL123456",
    "DQG.ORPPD0000.W1.TXT\nOLN/WDL123456",
)


def run() -> None:
    """Parse a set of synthetic sample messages and show the answers and rejects."""
    console = Console()
    table = Table("input", "outcome", "as the network writes it", show_lines=True)
    for sample in SAMPLES:
        shown = sample.replace("\r", "␍")
        try:
            message = read(sample)
        except Reject as reject:
            table.add_row(shown, f"[red]rejected {reject.code.value}[/red]", reject.text)
            continue
        table.add_row(shown, f"[green]{message.key} accepted[/green]", format_text(message))
    console.print(table)
    console.print("Try it: echo 'DQ.ORPPD0000.WA.TXT\nOLN/WDL123456' | stateline msg parse")
