"""The limits an uploaded device list must stay within (one small value object)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

MIB: Final = 1024 * 1024


@dataclass(frozen=True, slots=True)
class DeviceFileLimits:
    """Defaults fit the largest real import lists (a container of handsets) with headroom."""

    max_file_bytes: int = 100 * MIB
    max_device_rows: int = 1_000_000
    # xlsx is a zip: these are checked on the zip's central directory before parsing.
    max_uncompressed_bytes: int = 1024 * MIB
    max_compression_ratio: float = 200.0
    # Small parts (styles, an almost empty sheet) legitimately compress far better than
    # 200:1; only a part big enough to hurt is held to the ratio.
    ratio_check_min_bytes: int = 10 * MIB
    max_zip_members: int = 1_000
    # Rows (or text lines) searched for the header row / delimiter.
    header_search_rows: int = 10
    # Brand and model longer than this are typing accidents, not CE certificate names.
    max_name_length: int = 100
    # Issues and warnings are counted in full but only this many are kept, so a wrong file
    # of a million rows does not become a million messages.
    max_kept_issues: int = 1_000


DEFAULT_LIMITS: Final = DeviceFileLimits()
