"""The binary COPY reader of ``ddr audit verify``: rows whole however the stream is cut into chunks."""

from __future__ import annotations

import struct
from collections.abc import Callable

import pytest

from ddr_runtime.audit.chains import CHAIN_KINDS, BinaryCopyRows, ChainCopyRows

HEADER = b"PGCOPY\n\xff\r\n\x00" + struct.pack(">ii", 0, 0)
TRAILER = struct.pack(">h", -1)


def field(value: bytes | None) -> bytes:
    return struct.pack(">i", -1) if value is None else struct.pack(">i", len(value)) + value


def chain_row(stream: str, version: int, payload: bytes, digest: str) -> bytes:
    return (
        struct.pack(">h", 4)
        + field(stream.encode())
        + field(struct.pack(">i", version))
        + field(payload)
        + field(digest.encode())
    )


ROWS = [
    ("person-é1", 1, b'{"data":{}}', "a" * 64),
    ("person-2", 7, b"", "b" * 64),
    ("person-3", -2, bytes(range(256)) * 5, "c" * 64),
]
STREAM = HEADER + b"".join(chain_row(*r) for r in ROWS) + TRAILER


def fed(parser: BinaryCopyRows, data: bytes, cut: int) -> list[tuple[object, ...]]:
    rows: list[tuple[object, ...]] = []
    for start in range(0, len(data), cut):
        rows.extend(parser.feed(data[start : start + cut]))
    return rows


@pytest.mark.parametrize("cut", [1, 2, 3, 5, 19, 64, 1000, len(STREAM)])
@pytest.mark.parametrize("make", [ChainCopyRows, lambda: BinaryCopyRows(CHAIN_KINDS)])
def test_rows_come_out_whole_however_the_stream_is_cut(cut: int, make: Callable[[], BinaryCopyRows]) -> None:
    parser = make()

    assert fed(parser, STREAM, cut) == ROWS
    assert parser.finished


def test_an_eight_byte_integer_and_bytes_columns_are_read() -> None:
    data = HEADER + struct.pack(">h", 2) + field(struct.pack(">q", 2**40)) + field(b"\x00x") + TRAILER

    assert BinaryCopyRows(("int", "bytes")).feed(data) == [(2**40, b"\x00x")]


def test_a_stream_cut_before_its_trailer_is_not_finished() -> None:
    parser = ChainCopyRows()

    assert parser.feed(STREAM[:-2]) == ROWS
    assert not parser.finished


@pytest.mark.parametrize("make", [ChainCopyRows, lambda: BinaryCopyRows(CHAIN_KINDS)])
def test_a_null_is_refused(make: Callable[[], BinaryCopyRows]) -> None:
    row = struct.pack(">h", 4) + field(b"s") + field(struct.pack(">i", 1)) + field(None) + field(b"h")

    with pytest.raises(ValueError, match="NULL"):
        make().feed(HEADER + row + TRAILER)


def test_a_row_of_other_columns_is_refused() -> None:
    with pytest.raises(ValueError, match="columns"):
        ChainCopyRows().feed(HEADER + struct.pack(">h", 1) + field(b"x") + TRAILER)


def test_what_is_not_a_binary_copy_stream_is_refused() -> None:
    with pytest.raises(ValueError, match="binary COPY"):
        ChainCopyRows().feed(b"stream_id,version\n" + b"x" * 40)
