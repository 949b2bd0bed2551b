"""Generated licence photos: valid, small PNGs, one per seed, never a real face."""

from __future__ import annotations

import struct
import zlib

from stateline.dmv.portrait import HEIGHT, PNG_SIGNATURE, WIDTH, portrait


def chunks(png: bytes) -> list[tuple[bytes, bytes]]:
    """Every chunk of a PNG as (type, data), checking each CRC on the way."""
    assert png.startswith(PNG_SIGNATURE)
    found, at = [], len(PNG_SIGNATURE)
    while at < len(png):
        (length,) = struct.unpack(">I", png[at:at + 4])
        kind, data = png[at + 4:at + 8], png[at + 8:at + 8 + length]
        (crc,) = struct.unpack(">I", png[at + 8 + length:at + 12 + length])
        assert crc == zlib.crc32(kind + data), kind
        found.append((kind, data))
        at += 12 + length
    assert at == len(png)
    return found


def test_a_portrait_is_a_valid_palette_png() -> None:
    found = chunks(portrait(42))
    assert [kind for kind, _ in found] == [b"IHDR", b"PLTE", b"IDAT", b"IEND"]
    header, palette, pixels = found[0][1], found[1][1], zlib.decompress(found[2][1])
    assert struct.unpack(">IIBBBBB", header) == (WIDTH, HEIGHT, 8, 3, 0, 0, 0)
    assert len(palette) % 3 == 0 and len(palette) // 3 <= 256
    assert len(pixels) == HEIGHT * (WIDTH + 1)
    rows = [pixels[y * (WIDTH + 1):(y + 1) * (WIDTH + 1)] for y in range(HEIGHT)]
    assert all(row[0] == 0 for row in rows)
    assert max(max(row[1:]) for row in rows) < len(palette) // 3
    assert len({bytes(row[1:]) for row in rows}) > 10, "a figure, not a blank card"


def test_same_seed_same_bytes_and_different_seeds_differ() -> None:
    assert portrait(7) == portrait(7)
    assert len({portrait(seed) for seed in range(200)}) == 200


def test_any_integer_is_a_seed_and_photos_stay_small() -> None:
    for seed in (0, -1, 2**63 - 1, 2**80 + 5):
        png = portrait(seed)
        assert png.startswith(PNG_SIGNATURE) and len(png) < 4096
