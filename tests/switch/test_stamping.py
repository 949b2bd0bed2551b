"""Output headers: counters per line, in each direction, 00001 to 99999 and round again."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from stateline.datadir import DataDir
from stateline.protocol import Field, Message, format_text
from stateline.switch.stamping import BLOCK, Lines, addressed, stamped


def test_each_line_counts_its_own_traffic_each_way(tmp_path: Path) -> None:
    with Lines(DataDir(tmp_path)) as lines:
        assert [lines.received("ORPPD0000").counter for _ in range(3)] == [1, 2, 3]
        assert lines.received("WASPD0100").counter == 1
        header = lines.header(lines.received("ORPPD0000"), "WANLETS00")
        assert (header.received.counter, header.sent.counter) == (4, 1)
        assert header.receiving_ori == "WANLETS00"


def test_counters_go_round_after_99999(tmp_path: Path) -> None:
    data = DataDir(tmp_path)
    with Lines(data) as lines:
        lines.received("ORPPD0000")
    with sqlite3.connect(data.switch_db) as db:
        db.execute("UPDATE line SET received = 99998")
    with Lines(data) as lines:
        assert [lines.received("ORPPD0000").counter for _ in range(3)] == [99999, 1, 2]


def test_a_delivered_message_has_its_header_and_no_destinations(tmp_path: Path) -> None:
    query = Message("DQG", "ORPPD0000", ("R8",), "CASE1", (Field("NAM", "DOE,JANE"),
                                                         Field("DOB", "19800101")))
    routed = addressed(query, "DQ", "WA")
    assert routed.destinations == ("WA",) and routed.key == "DQ"
    with Lines(DataDir(tmp_path)) as lines:
        delivered = stamped(routed, lines.header(lines.received("ORPPD0000"), "WANLETS00"))
    text = format_text(delivered).split("\n")
    assert text[0] == "DQ.ORPPD0000.*CASE1"
    assert text[2].endswith(" 00001 WANLETS00") and text[3:] == ["TXT",
                                                                  "NAM/DOE,JANE.DOB/19800101"]


def test_a_counter_never_repeats_after_a_crash_and_goes_on_after_a_clean_close(
        tmp_path: Path) -> None:
    data = DataDir(tmp_path)
    crashed = Lines(data)
    assert [crashed.received("ORPPD0000").counter for _ in range(3)] == [1, 2, 3]
    # no close: as if the process died; the reserved block is skipped, never reused
    with Lines(data) as lines:
        assert lines.received("ORPPD0000").counter == BLOCK + 1
        lines.received("ORPPD0000")
    with Lines(data) as lines:
        assert lines.received("ORPPD0000").counter == BLOCK + 3
    crashed.db.close()
