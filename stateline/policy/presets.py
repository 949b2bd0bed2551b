"""Shipped presets: complete policy sets a coordinator applies whole, then edits.

Each preset is `presets/NAME.cedar`, whose first comment line is its one-line summary, with
its test cases beside it in `presets/NAME.cases.yaml`.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from pathlib import Path

from ..errors import NotFoundError

FOLDER = Path(__file__).with_name("presets")
BASELINE = "cj-baseline"
"""The preset the others build on; listed first."""


class UnknownPreset(NotFoundError, LookupError):
    """No preset has this name; the message lists the names that would do."""

    code = "unknown-preset"


@dataclass(frozen=True, slots=True)
class Preset:
    name: str
    summary: str
    path: Path

    @property
    def cases_path(self) -> Path:
        return self.path.with_name(f"{self.name}.cases.yaml")

    def text(self) -> str:
        return self.path.read_text(encoding="utf-8")


@cache
def presets() -> tuple[Preset, ...]:
    """Every shipped preset, the baseline first, then by name."""
    found = [Preset(path.stem, summary(path.read_text(encoding="utf-8")), path)
             for path in FOLDER.glob("*.cedar")]
    return tuple(sorted(found, key=lambda preset: (preset.name != BASELINE, preset.name)))


def preset(name: str) -> Preset:
    wanted = name.strip().lower()
    for found in presets():
        if found.name == wanted:
            return found
    raise UnknownPreset(f"no preset {name!r}; presets: "
                        + ", ".join(p.name for p in presets()))


def summary(text: str) -> str:
    """The first comment line of a policy text, without its `//`."""
    for line in text.splitlines():
        words = line.strip().removeprefix("//").strip()
        if line.strip().startswith("//") and words:
            return words
    return ""
