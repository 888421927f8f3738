"""The uploaded bytes: size limit, what kind of file they are (by content, never by name),
and the text encoding of text files."""

from __future__ import annotations

import codecs
import io
import os
import tempfile
from enum import StrEnum
from typing import BinaryIO, Final, TypeAlias, cast

from resolvers.device_files.errors import DeviceFileError, DeviceFileErrorCode
from resolvers.device_files.limits import MIB, DeviceFileLimits

#: Bytes, a path, or a binary stream (read from its start; copied if it cannot seek).
DeviceFileSource: TypeAlias = bytes | bytearray | memoryview | str | os.PathLike[str] | BinaryIO

_CHUNK: Final = 1 * MIB
_SNIFF_BYTES: Final = 8192
_ZIP_MAGICS: Final = (b"PK\x03\x04", b"PK\x05\x06")
_OLE2_MAGIC: Final = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"  # .xls, and encrypted .xlsx
# Formats people upload by mistake that can pass for text in their first bytes.
_BINARY_MAGICS: Final = (
    b"%PDF",
    b"\x89PNG",
    b"\xff\xd8\xff",
    b"GIF8",
    b"\x1f\x8b",
    b"Rar!",
    b"7z\xbc\xaf",
)
_UTF16_BOMS: Final = (codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)
# Bytes that do not occur in text in any encoding we accept (tab, LF, CR, FF are fine).
_CONTROL_BYTES: Final = frozenset(range(9)) | frozenset({11}) | frozenset(range(14, 32))
_MAX_CONTROL_SHARE: Final = 0.05
#: Windows Turkish: what Excel "CSV" and Notepad write on a Turkish Windows.
FALLBACK_ENCODING: Final = "cp1254"


class FileKind(StrEnum):
    ZIP = "ZIP"
    OLE2 = "OLE2"
    TEXT = "TEXT"
    BINARY = "BINARY"


class OpenedSource:
    """A seekable binary stream over the upload, and its path when it is a file."""

    def __init__(self, stream: BinaryIO, size: int, path: str | None, owned: bool) -> None:
        self.stream = stream
        self.size = size
        self.path = path
        self._owned = owned

    def close(self) -> None:
        if self._owned:
            self.stream.close()


def _too_large(limits: DeviceFileLimits) -> DeviceFileError:
    return DeviceFileError.of(
        DeviceFileErrorCode.FILE_TOO_LARGE, limit_mb=limits.max_file_bytes // MIB
    )


def _spool(stream: BinaryIO, limits: DeviceFileLimits) -> OpenedSource:
    """Copy a stream that cannot seek, stopping one byte past the limit."""
    spool = tempfile.SpooledTemporaryFile(max_size=8 * MIB)
    size = 0
    while chunk := stream.read(_CHUNK):
        size += len(chunk)
        if size > limits.max_file_bytes:
            spool.close()
            raise _too_large(limits)
        spool.write(chunk)
    spool.seek(0)
    return OpenedSource(cast(BinaryIO, spool), size, None, owned=True)


def open_source(source: DeviceFileSource, limits: DeviceFileLimits) -> OpenedSource:
    if isinstance(source, bytes | bytearray | memoryview):
        opened = OpenedSource(io.BytesIO(source), memoryview(source).nbytes, None, owned=True)
    elif isinstance(source, str | os.PathLike):
        path = os.fspath(source)
        size = os.path.getsize(path)
        if size > limits.max_file_bytes:  # refused before a byte is read
            raise _too_large(limits)
        opened = OpenedSource(open(path, "rb"), size, path, owned=True)
    elif source.seekable():
        size = source.seek(0, io.SEEK_END)
        source.seek(0)
        opened = OpenedSource(source, size, None, owned=False)
    else:
        opened = _spool(source, limits)
    if opened.size > limits.max_file_bytes:
        opened.close()
        raise _too_large(limits)
    if opened.size == 0:
        opened.close()
        raise DeviceFileError.of(DeviceFileErrorCode.EMPTY_FILE)
    return opened


def sniff_kind(stream: BinaryIO) -> FileKind:
    stream.seek(0)
    head = stream.read(_SNIFF_BYTES)
    stream.seek(0)
    if head.startswith(_ZIP_MAGICS):
        return FileKind.ZIP
    if head.startswith(_OLE2_MAGIC):
        return FileKind.OLE2
    if head.startswith(_UTF16_BOMS):
        return FileKind.TEXT
    if head.startswith(_BINARY_MAGICS) or b"\x00" in head:
        return FileKind.BINARY
    controls = sum(1 for byte in head if byte in _CONTROL_BYTES)
    return FileKind.BINARY if controls > len(head) * _MAX_CONTROL_SHARE else FileKind.TEXT


def detect_encoding(stream: BinaryIO) -> tuple[str, str]:
    """(encoding, error handler) of a text file: by BOM; else UTF-8 when the whole file is
    valid UTF-8 (checked in chunks, memory stays flat); else Windows Turkish."""
    stream.seek(0)
    head = stream.read(4)
    stream.seek(0)
    if head.startswith(codecs.BOM_UTF8):
        return "utf-8-sig", "strict"
    if head.startswith(_UTF16_BOMS):
        return "utf-16", "replace"
    decoder = codecs.getincrementaldecoder("utf-8")()
    try:
        while chunk := stream.read(_CHUNK):
            decoder.decode(chunk)
        decoder.decode(b"", final=True)
    except UnicodeDecodeError:
        # cp1254 leaves a few bytes undefined; "replace" makes them visible in messages.
        return FALLBACK_ENCODING, "replace"
    finally:
        stream.seek(0)
    return "utf-8", "strict"


def text_stream(
    opened: OpenedSource, encoding: str, errors: str, newline: str | None
) -> io.TextIOWrapper:
    """A text view of the upload that leaves the underlying stream open when dropped."""
    opened.stream.seek(0)
    buffered = io.BufferedReader(_Unclosable(opened.stream), buffer_size=64 * 1024)
    return io.TextIOWrapper(buffered, encoding=encoding, errors=errors, newline=newline)


class _Unclosable(io.RawIOBase):
    """Lets a TextIOWrapper be discarded without closing the caller's stream."""

    def __init__(self, stream: BinaryIO) -> None:
        super().__init__()
        self._stream = stream

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: memoryview) -> int:  # type: ignore[override]
        data = self._stream.read(len(buffer))
        buffer[: len(data)] = data
        return len(data)
