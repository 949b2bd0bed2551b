"""Generated licence photos: an abstract head-and-shoulders silhouette drawn from a seed.

Stateline never holds a real face. A photo is flat shapes on a studio-style backdrop, different
for every seed and identical for the same seed, so a store keeps only the seed and draws the
PNG when a query asks for it. Pure Python: rows are painted as spans, not pixels, to stay fast.
"""

from __future__ import annotations

import colorsys
import math
import random
import struct
import zlib
from collections.abc import Iterator

WIDTH = 96
HEIGHT = 120
SEED_MASK = (1 << 63) - 1
"""Seeds are taken modulo 2**63, the range every store can keep in a BIGINT."""

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
_BANDS = 8
_SHIRT, _COLLAR, _SKIN, _HAIR = range(_BANDS, _BANDS + 4)

_TONES = ((0.08, 0.30, 0.95), (0.07, 0.40, 0.75), (0.06, 0.45, 0.55), (0.05, 0.50, 0.38),
          (0.58, 0.10, 0.80), (0.75, 0.12, 0.70))
"""Head tones as (hue, saturation, value): muted, deliberately not photographic."""
_HAIR_STYLES = ("cap", "short", "long", "bun")

Span = tuple[int, int, int]
"""x0, x1 (exclusive) and palette index."""


def _rgb(hue: float, saturation: float, value: float) -> bytes:
    return bytes(round(c * 255) for c in colorsys.hsv_to_rgb(hue % 1.0, saturation, value))


def _palette(rng: random.Random) -> bytes:
    hue = rng.random()
    backdrop = [_rgb(hue, 0.18 + 0.02 * band, 0.92 - 0.05 * band) for band in range(_BANDS)]
    shirt_hue = rng.random()
    shirt = _rgb(shirt_hue, 0.35 + 0.4 * rng.random(), 0.35 + 0.4 * rng.random())
    collar = _rgb(shirt_hue + 0.5, 0.15, 0.90)
    skin = _rgb(*rng.choice(_TONES))
    hair = _rgb(rng.random(), 0.3 * rng.random(), 0.10 + 0.5 * rng.random())
    return b"".join([*backdrop, shirt, collar, skin, hair])


def _ellipse(y: int, cx: float, cy: float, rx: float, ry: float) -> tuple[int, int] | None:
    """The x range an ellipse covers on row y, clipped to the image."""
    dy = (y + 0.5 - cy) / ry
    if dy * dy >= 1.0:
        return None
    half = rx * math.sqrt(1.0 - dy * dy)
    return max(0, round(cx - half)), min(WIDTH, round(cx + half))


def _figure(rng: random.Random) -> Iterator[tuple[int, list[Span]]]:
    """Each row's spans, painted back to front: shoulders, collar, neck, long hair, head, cap."""
    cx = WIDTH / 2 + rng.uniform(-4, 4)
    head_rx, head_ry = rng.uniform(17, 22), rng.uniform(22, 27)
    head_cy = rng.uniform(46, 52)
    shoulder_top = head_cy + head_ry + rng.uniform(4, 9)
    shoulder_rx = rng.uniform(40, 50)
    neck_half = head_rx * rng.uniform(0.40, 0.55)
    collar_depth = rng.uniform(8, 16)
    style = rng.choice(_HAIR_STYLES)
    hairline = head_cy - head_ry * rng.uniform(0.15, 0.55)
    hair_rx, hair_ry = head_rx + rng.uniform(1, 4), head_ry + rng.uniform(1, 4)
    for y in range(HEIGHT):
        spans: list[Span] = []
        if y >= shoulder_top:
            x = _ellipse(y, cx, shoulder_top + 60, shoulder_rx, 60)
            if x:
                spans.append((*x, _SHIRT))
            depth = y - shoulder_top
            if depth < collar_depth:
                half = round(neck_half * (1 - depth / collar_depth))
                spans.append((round(cx) - half - 3, round(cx) + half + 3, _COLLAR))
                spans.append((round(cx) - half, round(cx) + half, _SKIN))
        elif y >= head_cy:
            spans.append((round(cx - neck_half), round(cx + neck_half), _SKIN))
        if style == "long" and head_cy - head_ry * 0.5 <= y < shoulder_top + 10:
            spans.append((round(cx - hair_rx), round(cx + hair_rx), _HAIR))
        if style == "bun":
            bun = _ellipse(y, cx, head_cy - head_ry - 3, 9, 7)
            if bun:
                spans.append((*bun, _HAIR))
        head = _ellipse(y, cx, head_cy, head_rx, head_ry)
        if head:
            spans.append((*head, _SKIN))
        if style != "cap" and y < hairline:
            cap = _ellipse(y, cx, head_cy, hair_rx, hair_ry)
            if cap:
                spans.append((*cap, _HAIR))
        yield y, spans


def _chunk(kind: bytes, data: bytes) -> bytes:
    return (struct.pack(">I", len(data)) + kind + data
            + struct.pack(">I", zlib.crc32(data, zlib.crc32(kind))))


def portrait(seed: int) -> bytes:
    """A PNG (96x120, 8-bit palette) of an abstract silhouette; same seed, same bytes."""
    rng = random.Random(seed & SEED_MASK)
    palette = _palette(rng)
    solid = [bytes([0]) + bytes([index]) * WIDTH for index in range(_HAIR + 1)]
    rows = []
    for y, spans in _figure(rng):
        row = bytearray(solid[y * _BANDS // HEIGHT])
        for x0, x1, index in spans:
            if x1 > x0:
                row[x0 + 1:x1 + 1] = solid[index][x0 + 1:x1 + 1]
        rows.append(bytes(row))
    header = struct.pack(">IIBBBBB", WIDTH, HEIGHT, 8, 3, 0, 0, 0)
    return b"".join((
        PNG_SIGNATURE,
        _chunk(b"IHDR", header),
        _chunk(b"PLTE", palette),
        _chunk(b"IDAT", zlib.compress(b"".join(rows), 9)),
        _chunk(b"IEND", b""),
    ))
