"""Firm device lists as files: reading uploads (.xlsx, CSV, Ek-2 text), the Excel template,
and .xlsx exports.

Reading only checks the file's structure (columns, brand/model/IMEI present); a cell that
cannot be an IMEI travels with its device and reason; whether the IMEIs are valid,
duplicated or known is the analysis' job.
"""

from resolvers.device_files.ek2 import Ek2Block
from resolvers.device_files.errors import DeviceFileError, DeviceFileErrorCode
from resolvers.device_files.export import device_row_cells, write_device_rows_xlsx
from resolvers.device_files.headers import DEVICE_COLUMNS, ColumnRef, DeviceColumn
from resolvers.device_files.issues import FileIssue, IssueCode
from resolvers.device_files.limits import DEFAULT_LIMITS, DeviceFileLimits
from resolvers.device_files.reader import DeviceFile, DeviceFileFormat, read_device_file
from resolvers.device_files.rows import DeviceRow, ImeiNote, ShortNumber
from resolvers.device_files.source import DeviceFileSource
from resolvers.device_files.template import INSTRUCTIONS_SHEET, TEMPLATE_SHEET, build_template_xlsx

__all__ = [
    "DEFAULT_LIMITS",
    "DEVICE_COLUMNS",
    "INSTRUCTIONS_SHEET",
    "TEMPLATE_SHEET",
    "ColumnRef",
    "DeviceColumn",
    "DeviceFile",
    "DeviceFileError",
    "DeviceFileErrorCode",
    "DeviceFileFormat",
    "DeviceFileLimits",
    "DeviceFileSource",
    "DeviceRow",
    "Ek2Block",
    "FileIssue",
    "ImeiNote",
    "IssueCode",
    "ShortNumber",
    "build_template_xlsx",
    "device_row_cells",
    "read_device_file",
    "write_device_rows_xlsx",
]
