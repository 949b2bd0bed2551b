"""A witness as its operator runs it: a cosigning key (as `stateline witness init` writes it),
then `stateline witness serve` in a process of its own, stopped and started again on the same
port."""

from __future__ import annotations

import queue
import subprocess
import sys
import threading
from pathlib import Path

from stateline.witness.keys import create_key

NAME = "auditor.example/witness"


def stateline(*args: str) -> list[str]:
    return [sys.executable, "-c", "from stateline.cli import main; main()", *args]


class WitnessProcess:
    """A witness of the logs whose verifier keys are given; `url` stays the same across
    `stop` and `start`."""

    def __init__(self, folder: Path, log_vkeys: list[str]) -> None:
        folder.mkdir(parents=True, exist_ok=True)
        self.key, self.logs = folder / "witness.key", folder / "logs.txt"
        self.vkey = create_key(self.key, NAME).verifier.vkey
        self.logs.write_text("".join(f"{vkey}\n" for vkey in log_vkeys))
        self.port = 0
        self.process: subprocess.Popen[str] | None = None
        self.start()

    def start(self) -> None:
        process = subprocess.Popen(
            stateline("witness", "serve", "--key", str(self.key), "--logs", str(self.logs),
                      "--port", str(self.port)),
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        lines: queue.Queue[str] = queue.Queue()
        self._reader = threading.Thread(target=_read, args=(process, lines), daemon=True)
        self._reader.start()
        while True:
            line = lines.get(timeout=60)
            assert line, "the witness stopped before it listened"
            if line.startswith("Listening at "):
                self.url = line.removeprefix("Listening at ").strip()
                self.port = int(self.url.rsplit(":", 1)[1])
                break
        self.process = process

    def stop(self) -> None:
        if self.process is None:
            return
        if self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=30)
        self._reader.join(timeout=30)
        assert self.process.stdout is not None
        self.process.stdout.close()
        self.process = None


def _read(process: subprocess.Popen[str], lines: queue.Queue[str]) -> None:
    assert process.stdout is not None
    for line in process.stdout:
        lines.put(line)
    lines.put("")
