"""Reading an import's source: UTF-8 text only, rows the csv module can read.

Sources: a path, the bytes of an upload (the operator API), a text stream or any
iterable of lines. A file or upload that is not UTF-8 text (Latin-1, UTF-16, a
stray byte anywhere) is refused before anything is written: :class:`UnreadableFile`
names the first line that fails (the check runs at C speed, a megabyte at a time).
A row the csv module cannot read (a field over ``csv.field_size_limit()``, 128 KiB:
a quote left open, say) is reported as a bad row and reading goes on. Should
reading stop half way (the file changed under us, a disk error), the rows before
are kept and the report says where it stopped.
"""

from __future__ import annotations

import csv
import io
import os
from collections.abc import Iterable, Iterator
from contextlib import ExitStack
from typing import Protocol

# A path, the CSV as bytes (UTF-8), a text stream, or any iterable of lines.
Source = str | os.PathLike[str] | bytes | io.TextIOBase | Iterable[str]

CHECK_CHUNK = 1 << 20  # the UTF-8 check reads the file this much at a time
SAVE_AS_UTF8 = "save the file as UTF-8 CSV; nothing was imported"


class UnreadableFile(ValueError):
    """The file is not UTF-8 text: nothing was imported. ``line``: the first that fails."""

    def __init__(self, line: int, reason: str) -> None:
        super().__init__(f"line {line}: {reason}")
        self.line, self.reason = line, reason


def _utf8_problem(data: bytes, first_line: int) -> UnreadableFile | None:
    """Why ``data`` (whole lines, the first numbered ``first_line``) is not UTF-8 text."""
    nul = data.find(b"\0")
    if nul >= 0:  # never in a CSV; UTF-16 has one in every other byte of ASCII text
        line = first_line + data.count(b"\n", 0, nul)
        return UnreadableFile(line, f"a NUL byte: is the file UTF-16? {SAVE_AS_UTF8}")
    try:
        data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = first_line + data.count(b"\n", 0, exc.start)
        byte = f"byte 0x{data[exc.start]:02X} is not UTF-8 (Latin-1?)"
        return UnreadableFile(line, f"{byte}: {SAVE_AS_UTF8}")
    return None


def check_utf8(chunks: Iterable[bytes]) -> None:
    """Raise :class:`UnreadableFile` at the first line that is not UTF-8 text (C speed)."""
    line, rest, first = 1, b"", True
    for chunk in chunks:
        if first and chunk[:2] in (b"\xff\xfe", b"\xfe\xff"):
            raise UnreadableFile(1, f"the file is UTF-16; {SAVE_AS_UTF8}")
        first, data = False, rest + chunk
        cut = data.rfind(b"\n") + 1  # check whole lines: a character may span chunks
        whole, rest = data[:cut], data[cut:]
        if (problem := _utf8_problem(whole, line)) is not None:
            raise problem
        line += whole.count(b"\n")
    if rest and (problem := _utf8_problem(rest, line)) is not None:
        raise problem


def _file_chunks(path: str | os.PathLike[str]) -> Iterator[bytes]:
    with open(path, "rb") as handle:
        while chunk := handle.read(CHECK_CHUNK):
            yield chunk


class Input:
    """Lines of the source plus, for files, how far we have read (for progress)."""

    def __init__(self, source: Source, stack: ExitStack) -> None:
        self.total: int | None = None
        self._raw: io.BufferedReader | None = None
        self.lines: Iterable[str]
        if isinstance(source, bytes | bytearray):  # an upload kept as bytes
            check_utf8([bytes(source)])
            self.lines = io.StringIO(bytes(source).decode("utf-8-sig"), newline="")
        elif isinstance(source, str | os.PathLike):
            check_utf8(_file_chunks(source))  # before anything is written
            self.total = os.path.getsize(source)
            binary = stack.enter_context(open(source, "rb"))  # noqa: SIM115
            self._raw = binary
            self.lines = io.TextIOWrapper(binary, encoding="utf-8-sig", newline="")
        else:
            self.lines = source

    def done(self) -> int | None:
        return self._raw.tell() if self._raw is not None else None


class CsvRows(Protocol):
    """A csv.reader: rows, and the line the last one ended on."""

    line_num: int

    def __iter__(self) -> Iterator[list[str]]: ...

    def __next__(self) -> list[str]: ...


def rows_of(reader: CsvRows, errors: list[tuple[int, str]]) -> Iterator[list[str]]:
    """The reader's rows. A row it cannot read is reported and skipped; when reading
    itself fails, the rows so far are kept and the report says where it stopped."""
    while True:
        try:
            yield from reader
            return
        except csv.Error as exc:
            reason = str(exc)
            if "field limit" in reason:
                limit = csv.field_size_limit()
                reason = f"a field is longer than {limit} characters (a quote left open?)"
            errors.append((reader.line_num, f"unreadable row: {reason}"))
        except (UnicodeDecodeError, OSError) as exc:
            stop = f"reading stopped here ({exc}): rows before it are imported, later ones are not"
            errors.append((reader.line_num + 1, stop))
            return
