"""Decide before parsing whether a file can be read as a workbook, and say why not in words a clerk can act on.

Every check here also bounds the work the parser will do afterwards. A file that passes is a regular
file within the policy's [limits] (DEFAULT_LIMITS for a key the policy leaves out): its size, its number
of zip parts, its uncompressed size (each part is inflated once here, so a part whose recorded size or
checksum lies is caught before the parser sees it), its number of sheets, the rows, columns and area
its cells span, and its number of shared strings. Its XML has no DOCTYPE or entity definitions (Excel
never writes them; they are how an "entity bomb" expands a few bytes into gigabytes).

Nothing here raises anything but Unreadable, whose text is the S01 message.
"""

from __future__ import annotations

import errno
import posixpath
import re
import stat
import struct
import zipfile
import zlib
from collections.abc import Mapping
from pathlib import Path
from typing import BinaryIO

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from tr_excel.findings import column_index, column_letter

OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
ZIP_MAGIC = b"PK\x03\x04"
EMPTY_ZIP_MAGIC = b"PK\x05\x06"

# Used when the policy's [limits] leaves a key out; schemas/policy-*.toml documents each one.
DEFAULT_LIMITS = {
    "max_file_mb": 50,
    "max_uncompressed_mb": 200,
    "max_parts": 5000,
    "max_sheets": 50,
    "max_rows": 50000,
    "max_columns": 200,
    "max_cells": 2000000,
}

# The S01 reasons that more than one check gives.
ENCRYPTED = "文件已加密，请取消密码后重新报送"
CORRUPT_ZIP = "文件已损坏（压缩包不完整或被截断），请重新保存后报送"
NOT_WORKBOOK_ZIP = "文件不是 Excel 工作簿（压缩包中没有工作簿内容），请用 Excel 另存为 .xlsx"
UNSAFE_XML = "文件含有不安全的 XML 实体定义，不是正常的 Excel 工作簿，请用 Excel 打开后重新保存"

_HEAD = 1 << 16
_CHUNK = 1 << 20
_MAX_TAG = 1 << 20  # an XML tag longer than this is not from a spreadsheet program


class Unreadable(Exception):
    """The file cannot be read as a workbook; str() is the Chinese reason for the S01 finding."""


def check_readable(
    path: Path, limits: Mapping[str, int] | None = None, scanned: dict[str, tuple[str, bool]] | None = None
) -> str:
    """Raise Unreadable with a specific reason, or return the file's real format: "xlsx" (also .xlsm) or "xls".

    The format comes from the content, not the name: an .xlsx renamed .xls is still "xlsx". scanned, when
    given, receives every worksheet part of an .xlsx scanned → (its sheet name, whether "<f", a formula, is
    in it): the reader then inflates only those parts to look for formulas without a value, not every sheet
    a second time, and finds which sheet each is without reading the workbook's parts again.
    """
    limit = {**DEFAULT_LIMITS, **(limits or {})}
    try:
        info = path.stat()
    except OSError as error:
        raise Unreadable(_os_reason(error)) from error
    if not stat.S_ISREG(info.st_mode):
        kind = "文件夹" if stat.S_ISDIR(info.st_mode) else "设备或管道等特殊文件"
        raise Unreadable(f"不是普通文件（实为{kind}），请报送 Excel 工作簿文件本身")
    size = info.st_size
    if size == 0:
        raise Unreadable("文件为空（0字节），请重新保存后报送")
    if size > limit["max_file_mb"] * 1024 * 1024:
        raise Unreadable(
            f"文件大小 {size / 1048576:.1f} MB，超过上限 {limit['max_file_mb']} MB，"
            "请删除工作簿中的图片、多余的工作表或格式后重新保存"
        )
    try:
        with path.open("rb") as handle:
            head = handle.read(_HEAD)
            if head.startswith((ZIP_MAGIC, EMPTY_ZIP_MAGIC)):
                _check_zip(handle, size, limit, scanned)
                return "xlsx"
            if head.startswith(OLE_MAGIC):
                _check_ole(handle, size, limit)
                return "xls"
    except OSError as error:
        raise Unreadable(_os_reason(error)) from error
    raise Unreadable(_not_a_workbook(head))


def _os_reason(error: OSError) -> str:
    if isinstance(error, PermissionError):
        return "文件无法打开：没有读取权限或文件正被其他程序占用，请关闭文件或检查权限后重新报送"
    if error.errno == errno.ENOENT:
        return "文件无法打开：文件不存在（可能是失效的快捷方式或已被移走），请重新报送文件本身"
    if error.errno == errno.ELOOP:
        return "文件无法打开：这是指向自身的循环链接，请报送文件本身"
    code = errno.errorcode.get(error.errno or 0, type(error).__name__)
    return f"文件无法打开（读取出错，错误代码 {code}），请把文件复制到本机后重新报送"


# ---------------------------------------------------------------------------------------- not a workbook


def _not_a_workbook(head: bytes) -> str:
    """The reason for a file that is neither a zip nor an OLE container, from its first bytes."""
    magic = [
        (b"%PDF", "PDF 文件", "请报送 Excel 格式的工作簿，不要报送 PDF 或扫描件"),
        (b"\x89PNG", "图片", "请报送 Excel 格式的工作簿，不要报送图片或扫描件"),
        (b"\xff\xd8\xff", "图片", "请报送 Excel 格式的工作簿，不要报送图片或扫描件"),
        (b"GIF8", "图片", "请报送 Excel 格式的工作簿，不要报送图片或扫描件"),
        (b"BM", "图片", "请报送 Excel 格式的工作簿，不要报送图片或扫描件"),
        (b"Rar!", "RAR 压缩包", "请解压后报送其中的 Excel 工作簿"),
        (b"7z\xbc\xaf\x27\x1c", "7z 压缩包", "请解压后报送其中的 Excel 工作簿"),
        (b"{\\rtf", "RTF 文档", "请用 Excel 打开后另存为 .xlsx"),
    ]
    for prefix, what, action in magic:
        if head.startswith(prefix) and (prefix != b"BM" or len(head) > 14 and head[6:10] == b"\0\0\0\0"):
            return f"文件不是 Excel 工作簿（实为{_spaced(what)}），{action}"
    text = _decode_text(head)
    if text is not None:
        start = text.lstrip("\ufeff \t\r\n").lower()
        if start.startswith("mime-version") or "multipart/related" in start[:2000]:
            return "文件不是 Excel 工作簿（实为单个文件网页 .mht），请用 Excel 打开后另存为 .xlsx"
        if start.startswith("<"):
            if "urn:schemas-microsoft-com:office:spreadsheet" in start:
                return "文件是 Excel 2003 XML 表格，不是 Excel 工作簿，请用 Excel 打开后另存为 .xlsx"
            if any(tag in start for tag in ("<html", "<table", "<!doctype html", "<meta", "<body", "<head")):
                return "文件不是 Excel 工作簿（实为网页/HTML），请用 Excel 打开后另存为 .xlsx"
            return "文件不是 Excel 工作簿（实为 XML 文本文件），请用 Excel 打开后另存为 .xlsx"
        return "文件不是 Excel 工作簿（实为 CSV 或文本文件），请用 Excel 打开后另存为 .xlsx"
    return "文件不是 Excel 工作簿（无法识别的文件格式），请确认文件后重新报送"


def _spaced(what: str) -> str:
    """A space before a Latin word that follows Chinese text."""
    return " " + what if what[:1].isascii() else what


def _decode_text(head: bytes) -> str | None:
    """The head as text when it reads as text in an encoding such files come in, else None."""
    if head.startswith((b"\xff\xfe", b"\xfe\xff")):
        encodings = ["utf-16"]
    elif len(head) >= 4 and head[1:4:2] == b"\0\0" and head[0] and head[2]:
        encodings = ["utf-16-le"]  # UTF-16 without its BOM, as some web systems export
    else:
        encodings = ["utf-8", "gb18030"]
    for encoding in encodings:
        text = head.decode(encoding, errors="replace")
        if not text:
            continue
        bad = text.count("\ufffd")
        printable = sum(ch.isprintable() or ch in "\r\n\t" for ch in text)
        # A multi-byte character cut at the end of the head is not a reason to call it binary.
        if bad <= 2 and printable / len(text) > 0.95:
            return text
    return None


# ---------------------------------------------------------------------------------------- OLE (.xls)

_FREE_SECTORS = 0xFFFFFFFA  # numbers from here up mark free, end-of-chain and FAT sectors
ENCRYPTED_XLS = "文件已加密（设置了打开密码或“保护工作簿”），请在 Excel 中取消密码和保护后重新报送"
OLE_DAMAGED = "文件已损坏（.xls 文件的内部目录或工作簿内容不完整），请用 Excel 打开后重新保存"


def _check_ole(handle: BinaryIO, size: int, limit: dict[str, int]) -> None:
    """An OLE container is an .xls workbook, an encrypted .xlsx, or some other Office file."""
    try:
        ole = _Ole(handle, size)
    except (struct.error, ValueError, IndexError, OverflowError):
        ole = None
    if ole is None or not ole.entries:  # a directory that cannot be followed: the parser must not try
        raise Unreadable(OLE_DAMAGED)
    names = set(ole.entries)
    if "encryptedpackage" in names or "encryptioninfo" in names:
        raise Unreadable(ENCRYPTED)
    stream = "workbook" if "workbook" in names else "book" if "book" in names else None
    if stream is None:
        for name, what in (
            ("worddocument", "Word 文档"),
            ("powerpoint document", "PowerPoint 演示文稿"),
            ("visiodocument", "Visio 图纸"),
        ):
            if name in names:
                raise Unreadable(f"文件不是 Excel 工作簿（实为{_spaced(what)}），请报送 Excel 工作簿")
        raise Unreadable("文件不是 Excel 工作簿（Office 容器中没有工作簿内容），请用 Excel 另存为 .xlsx")
    try:
        data = ole.stream(stream)
    except (struct.error, ValueError, IndexError, OverflowError):
        data = None
    if data is None:  # what the parser would read instead cannot be known: it must not try
        raise Unreadable(OLE_DAMAGED)
    _check_biff(data, limit)


class _Ole:
    """Just enough of an OLE compound file to list its streams and read one that lives in the FAT."""

    def __init__(self, handle: BinaryIO, size: int):
        self.handle = handle
        self.entries: dict[str, tuple[int, int]] = {}  # lower-case name → (first sector, size)
        header = self._read(0, 512)
        if len(header) < 512:
            return
        shift, _ = struct.unpack_from("<HH", header, 30)
        if shift not in (9, 12):
            return
        major = struct.unpack_from("<H", header, 26)[0]
        self.sector_size = 1 << shift
        self.sectors = max(0, (size - self.sector_size) // self.sector_size + 1)
        self.cutoff = struct.unpack_from("<I", header, 56)[0]
        self.mini_fat_start = struct.unpack_from("<I", header, 60)[0]
        self.root: tuple[int, int] | None = None
        fat_count, first_dir = struct.unpack_from("<II", header, 44)
        first_difat, difat_count = struct.unpack_from("<II", header, 68)
        fat_sectors = [s for s in struct.unpack_from("<109I", header, 76) if s < _FREE_SECTORS]
        per_sector = self.sector_size // 4
        next_difat, seen = first_difat, 0
        while next_difat < _FREE_SECTORS and seen <= difat_count and seen < self.sectors:
            block = self._sector(next_difat)
            if block is None:
                return
            entries = struct.unpack(f"<{per_sector}I", block)
            fat_sectors += [s for s in entries[:-1] if s < _FREE_SECTORS]
            next_difat, seen = entries[-1], seen + 1
        self.fat: list[int] = []
        for number in fat_sectors[: max(fat_count, 1)]:
            block = self._sector(number)
            if block is None:
                return
            self.fat.extend(struct.unpack(f"<{per_sector}I", block))
        for block in self._chain(first_dir):
            for offset in range(0, self.sector_size, 128):
                length = struct.unpack_from("<H", block, offset + 64)[0]
                if 2 <= length <= 64 and block[offset + 66] in (1, 2, 5):
                    name = block[offset : offset + length - 2].decode("utf-16-le", errors="replace").lower()
                    start, stream_size = struct.unpack_from("<IQ", block, offset + 116)
                    if major == 3:
                        stream_size &= 0xFFFFFFFF  # version 3 files leave the high half undefined
                    if block[offset + 66] == 5 and self.root is None:
                        self.root = (start, stream_size)  # the root entry holds the mini stream
                    self.entries.setdefault(name, (start, stream_size))

    def stream(self, name: str) -> bytes | None:
        """The stream's bytes, or None when its size or chain of sectors is broken."""
        start, size = self.entries[name]
        if size > self.sectors * self.sector_size:
            return None
        if size < self.cutoff:
            return self._mini_stream(start, size)
        return self._read_chain(start, size)

    def _read_chain(self, start: int, size: int) -> bytes | None:
        blocks = []
        if size == 0:
            return b""
        for block in self._chain(start):
            blocks.append(block)
            if len(blocks) * self.sector_size >= size:
                return b"".join(blocks)[:size]
        return None

    def _mini_stream(self, start: int, size: int) -> bytes | None:
        """A small stream: 64-byte sectors inside the root entry's stream, chained by the mini FAT."""
        if self.root is None or self.root[1] > self.sectors * self.sector_size:
            return None
        container = self._read_chain(*self.root)
        table = b"".join(self._chain(self.mini_fat_start))
        if container is None:
            return None
        mini_fat = struct.unpack(f"<{len(table) // 4}I", table[: len(table) // 4 * 4])
        blocks, sector = [], start
        while len(blocks) * 64 < size:
            if sector >= len(mini_fat) or len(blocks) > len(mini_fat) or (sector + 1) * 64 > len(container):
                return None
            blocks.append(container[sector * 64 : (sector + 1) * 64])
            sector = mini_fat[sector]
        return b"".join(blocks)[:size]

    def _chain(self, sector: int):
        steps = 0
        while sector < _FREE_SECTORS and steps <= self.sectors:
            block = self._sector(sector)
            if block is None:
                return
            yield block
            sector = self.fat[sector] if sector < len(self.fat) else _FREE_SECTORS
            steps += 1

    def _sector(self, number: int) -> bytes | None:
        block = self._read((number + 1) * self.sector_size, self.sector_size)
        return block if len(block) == self.sector_size else None

    def _read(self, offset: int, length: int) -> bytes:
        self.handle.seek(offset)
        return self.handle.read(length)


# The BIFF records python-calamine takes a cell from (BLANK and MULBLANK, a style only, it skips).
_BIFF_CELLS = frozenset({0x0203, 0x0204, 0x0205, 0x027E, 0x00FD, 0x00BD, 0x0006})
_BIFF_ROWS, _BIFF_COLUMNS = 65536, 256  # an .xls sheet's own size


def _check_biff(data: bytes, limit: dict[str, int]) -> None:
    """Walk an .xls workbook stream as python-calamine will: the globals up to their EOF (an encrypted
    workbook says so there), then each sheet from where its BOUNDSHEET record points. Bound where the
    cells reach, and refuse a DIMENSIONS record outside an .xls sheet's size: python-calamine reserves
    memory for the rectangle it claims, and a forged one makes the process abort."""
    sheets: list[tuple[int, str]] = []
    for kind, body, length in _biff_records(data, 0):
        if kind == 0x002F and length >= 2 and struct.unpack_from("<H", data, body)[0] != 0:  # FILEPASS
            raise Unreadable(ENCRYPTED_XLS)
        if kind == 0x0085 and length >= 8:  # BOUNDSHEET: where a sheet begins, and its name
            offset, count, flags = struct.unpack_from("<IxxBB", data, body)
            raw = data[body + 8 : body + 8 + count * (2 if flags & 1 else 1)]
            sheets.append((offset, raw.decode("utf-16-le" if flags & 1 else "latin-1", errors="replace")))
        if kind == 0x000A:  # EOF of the globals
            break
    area = _Area(limit)
    for offset, name in sheets:
        if offset > len(data):
            raise Unreadable("文件已损坏（工作表的位置记录无效），请用 Excel 打开后重新保存")
        extent = _Extent(name, area, limit)
        for kind, body, length in _biff_records(data, offset):
            if kind == 0x000A:
                break
            if kind == 0x0200 and length in (10, 14):  # DIMENSIONS
                wide = length == 14
                first_row, last_row, first_column, last_column = struct.unpack_from(
                    "<IIHH" if wide else "<HHHH", data, body
                )
                if (
                    last_row >= 1
                    and last_column >= 1
                    and not (first_row < last_row <= _BIFF_ROWS and first_column < last_column <= _BIFF_COLUMNS)
                ):
                    raise Unreadable(
                        f"文件已损坏（工作表“{name}”的尺寸记录超出 Excel 表格的范围），请用 Excel 打开后重新保存"
                    )
            elif kind in _BIFF_CELLS and length >= 4:
                row, column = struct.unpack_from("<HH", data, body)
                if kind == 0x00BD and length >= 6:  # MULRK: a run of cells, its last column at the end
                    column = max(column, struct.unpack_from("<H", data, body + length - 2)[0])
                extent.content(row + 1, column + 1)
        extent.close()


def _biff_records(data: bytes, position: int):
    """(type, offset of the body, length) of each whole record from position on."""
    end = len(data)
    while position + 4 <= end:
        kind, length = struct.unpack_from("<HH", data, position)
        if position + 4 + length > end:
            return
        yield kind, position + 4, length
        position += 4 + length


# ---------------------------------------------------------------------------------------- zip (.xlsx)


def _check_zip(
    handle: BinaryIO, size: int, limit: dict[str, int], scanned: dict[str, tuple[str, bool]] | None
) -> None:
    parts = _zip_entry_count(handle, size)
    if parts > limit["max_parts"]:
        raise Unreadable(
            f"文件的压缩包中有 {parts} 个部件，超过上限 {limit['max_parts']} 个，不是正常的 Excel 工作簿，"
            "请用 Excel 打开后重新保存"
        )
    try:
        handle.seek(0)
        with zipfile.ZipFile(handle) as archive:
            _check_archive(archive, handle, limit, scanned)
    except zipfile.BadZipFile as error:
        raise Unreadable(CORRUPT_ZIP) from error
    except zlib.error as error:
        raise Unreadable("文件已损坏（压缩数据出错，无法解压），请重新保存后报送") from error
    except (EOFError, NotImplementedError, ValueError, KeyError, struct.error) as error:
        raise Unreadable(f"文件已损坏，无法解压（{type(error).__name__}），请重新保存后报送") from error


def _zip_entry_count(handle: BinaryIO, size: int) -> int:
    """The number of entries the zip's end record gives, read before the directory is loaded."""
    tail_size = min(size, 22 + 65535 + 20)
    handle.seek(size - tail_size)
    tail = handle.read(tail_size)
    at = tail.rfind(EMPTY_ZIP_MAGIC)
    if at < 0 or at + 22 > len(tail):
        raise Unreadable(CORRUPT_ZIP)
    count = struct.unpack_from("<H", tail, at + 10)[0]
    if count == 0xFFFF and at >= 20 and tail[at - 20 : at - 16] == b"PK\x06\x07":
        offset = struct.unpack_from("<Q", tail, at - 12)[0]
        if offset + 40 <= size:
            handle.seek(offset)
            record = handle.read(40)
            if record[:4] == b"PK\x06\x06":
                count = struct.unpack_from("<Q", record, 32)[0]
    return count


def _check_archive(
    archive: zipfile.ZipFile, handle: BinaryIO, limit: dict[str, int], scanned: dict[str, tuple[str, bool]] | None
) -> None:
    members = archive.infolist()
    names = {member.filename for member in members}
    if "xl/workbook.xml" not in names:
        raise Unreadable(_not_a_workbook_zip(archive, names))
    if any(member.flag_bits & 0x1 for member in members):
        raise Unreadable(ENCRYPTED)
    odd = sorted({m.compress_type for m in members} - {zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED})
    if odd:
        raise Unreadable(f"文件使用了 Excel 不使用的压缩方式（{odd[0]}），请用 Excel 打开后重新保存")
    total = sum(member.file_size for member in members)
    max_total = limit["max_uncompressed_mb"] * 1024 * 1024
    if total > max_total:
        raise Unreadable(
            f"文件解压后有 {total / 1048576:.0f} MB，超过上限 {limit['max_uncompressed_mb']} MB"
            "（可能含大量空白格式、图片或为压缩炸弹），请删除多余内容后重新保存"
        )
    sheets = _worksheet_parts(archive, limit)
    area = _Area(limit)
    for member in members:
        scan: _XmlScan | None = None
        if member.filename.lower().endswith((".xml", ".rels", ".vml")):
            scan = _XmlScan(sheets.get(member.filename), area, limit)
            if member.filename == "xl/sharedStrings.xml":
                scan.count_strings = True
        _inflate(handle, member, scan)
        if scan is not None:
            scan.close()
            if scanned is not None and scan.extent is not None:
                # A name twice in the zip: "<f" in any of its parts (the reader reads the last one).
                seen = scanned.get(member.filename, ("", False))[1]
                scanned[member.filename] = (sheets[member.filename], seen or scan.formula)


def _not_a_workbook_zip(archive: zipfile.ZipFile, names: set[str]) -> str:
    lower = {name.lower() for name in names}
    if "xl/workbook.bin" in lower:
        return "文件是 Excel 二进制工作簿（.xlsb），请用 Excel 打开后另存为 .xlsx"
    if "mimetype" in lower:
        try:
            with archive.open("mimetype") as stream:
                mimetype = stream.read(200)
        except (KeyError, zipfile.BadZipFile, ValueError, NotImplementedError, zlib.error, EOFError):
            mimetype = b""
        if b"spreadsheet" in mimetype:
            return "文件是 WPS/LibreOffice 的 ODS 表格，不是 Excel 工作簿，请另存为 .xlsx"
    if "word/document.xml" in lower:
        return "文件不是 Excel 工作簿（实为 Word 文档），请报送 Excel 工作簿"
    if "ppt/presentation.xml" in lower:
        return "文件不是 Excel 工作簿（实为 PowerPoint 演示文稿），请报送 Excel 工作簿"
    inner = [name for name in names if name.lower().endswith((".xlsx", ".xlsm", ".xls"))]
    if inner:
        return f"文件是压缩包（内含 {len(inner)} 个工作簿），请解压后分别报送其中的工作簿"
    return NOT_WORKBOOK_ZIP


def _worksheet_parts(archive: zipfile.ZipFile, limit: dict[str, int]) -> dict[str, str]:
    """Part name → sheet name for every sheet of the workbook (and every part under xl/worksheets/)."""
    workbook = _read_small(archive, "xl/workbook.xml")
    rels = _read_small(archive, "xl/_rels/workbook.xml.rels")
    declared = re.findall(rb"<(?:[\w.-]+:)?sheet\b([^>]*)>", workbook)
    if len(declared) > limit["max_sheets"]:
        raise Unreadable(
            f"工作簿有 {len(declared)} 个工作表，超过上限 {limit['max_sheets']} 个，请删除多余的工作表后重新报送"
        )
    targets = {}
    for attributes in re.findall(rb"<(?:[\w.-]+:)?Relationship\b([^>]*)>", rels):
        rid = re.search(rb'\bId\s*=\s*["\']([^"\']*)', attributes)
        target = re.search(rb'\bTarget\s*=\s*["\']([^"\']*)', attributes)
        if rid and target:
            targets[rid.group(1)] = _part_name(target.group(1).decode("utf-8", errors="replace"))
    parts = {name: name for name in archive.namelist() if name.startswith("xl/worksheets/") and name.endswith(".xml")}
    for attributes in declared:
        name = re.search(rb'\bname\s*=\s*["\']([^"\']*)', attributes)
        rid = re.search(rb'\b(?:r:)?id\s*=\s*["\']([^"\']*)', attributes)
        if rid and rid.group(1) in targets:
            label = name.group(1).decode("utf-8", errors="replace") if name else targets[rid.group(1)]
            parts[targets[rid.group(1)]] = _xml_unescape(label)
    return parts


def _read_small(archive: zipfile.ZipFile, name: str) -> bytes:
    try:
        with archive.open(name) as stream:
            return stream.read(16 * _CHUNK)
    except KeyError:
        return b""


def _part_name(target: str) -> str:
    path = target.lstrip("/") if target.startswith("/") else "xl/" + target
    return posixpath.normpath(path)


def _xml_unescape(text: str) -> str:
    for entity, char in (("&lt;", "<"), ("&gt;", ">"), ("&quot;", '"'), ("&apos;", "'"), ("&amp;", "&")):
        text = text.replace(entity, char)
    return text


def _inflate(handle: BinaryIO, member: zipfile.ZipInfo, scan: _XmlScan | None) -> None:
    """Inflate one part from its raw bytes, feeding scan; it must come to exactly its recorded size and CRC.

    zipfile itself stops at the recorded size, so a part that inflates to far more than it claims (a
    bomb with a forged size) would pass it unseen; the parser, reading on, would not stop.
    """
    if member.header_offset < 0:
        raise Unreadable(CORRUPT_ZIP)
    handle.seek(member.header_offset)
    local = handle.read(30)
    if len(local) < 30 or local[:4] != ZIP_MAGIC:
        raise Unreadable(CORRUPT_ZIP)
    name_length, extra_length = struct.unpack_from("<HH", local, 26)
    handle.seek(member.header_offset + 30 + name_length + extra_length)
    left = member.compress_size
    inflater = zlib.decompressobj(-15) if member.compress_type == zipfile.ZIP_DEFLATED else None
    produced = 0
    crc = 0
    while True:
        if inflater is not None and inflater.unconsumed_tail:
            raw = inflater.unconsumed_tail
        elif left > 0:
            raw = handle.read(min(_CHUNK, left))
            if not raw:
                raise Unreadable(CORRUPT_ZIP)
            left -= len(raw)
        elif inflater is not None and not inflater.eof:
            raw = b""  # output zlib still holds
        else:
            break
        if inflater is None:
            data = raw
        else:
            # Never produce more than one byte past the recorded size, whatever the stream holds.
            data = inflater.decompress(raw, max(1, min(_CHUNK, member.file_size - produced + 1)))
            if not raw and not data:
                break
        produced += len(data)
        if produced > member.file_size:
            raise Unreadable(
                f"文件已损坏（“{member.filename}”部件解压后比记录的大小更大，可能被篡改或是压缩炸弹），"
                "请用 Excel 重新保存后报送"
            )
        crc = zlib.crc32(data, crc)
        if scan is not None:
            scan.feed(data)
        if inflater is not None and inflater.eof:
            break
    if produced != member.file_size or (crc & 0xFFFFFFFF) != member.CRC:
        raise Unreadable(f"文件已损坏（“{member.filename}”部件校验失败），请重新保存后报送")


_TAG = re.compile(rb"<(?:[A-Za-z_][\w.\-]*:)?(row|c)(?=[\s/>])(?:[^>]*?\sr\s*=\s*[\"']([^\"']*)[\"'])?[^>]*>")
# What _fast leaves to the tag-by-tag walk: a cell or row tag with a prefix, found by a pattern with a literal
# start the regular expression engine skips ahead to, and only where a ":c" or ":row" is, which a sheet rarely has.
_WINDOW = 20  # bytes of a cell tag _fast reads: '<c r="', 3 letters, 8 digits (one too many), the quote
# Where _fast looks for the ">" that ends a cell tag: within this many bytes after its r="…" (Excel writes
# s="…" t="…", a dozen bytes), else in a pass over the whole buffer.
_TAG_END = 32
_NUMPY_FROM = 1 << 12  # a search of two bytes in a text at least this long is done in numpy
_PREFIX_HINT = re.compile(rb":(?:c|row)[\s/>]")
_PREFIXED_TAG = re.compile(rb"<[\w.\-]+:(?:c|row)[\s/>]")
_REF = re.compile(rb"\s*([A-Za-z]{0,8})(\d{1,12})\s*$")
_FORBIDDEN = (b"<!DOCTYPE", b"<!ENTITY", b"<!doctype", b"<!entity")


class _Area:
    """The used area of every sheet so far, against the rows, columns and cells limits."""

    def __init__(self, limit: dict[str, int]):
        self.limit = limit
        self.total = 0

    def add(self, sheet: str, rows: int, columns: int) -> None:
        self.total += rows * columns
        if self.total > self.limit["max_cells"]:
            corner = f"A1:{column_letter(columns - 1)}{rows}"
            raise Unreadable(
                f"工作表的使用区域过大（“{sheet}”为 {corner}，各表合计 {self.total} 个单元格，"
                f"上限 {self.limit['max_cells']} 个），请删除表格以外多余的行、列和内容后重新保存"
            )


class _Extent:
    """Where one sheet's cells with content reach, against the rows, columns and cells limits."""

    def __init__(self, sheet: str, area: _Area, limit: dict[str, int]):
        self.sheet = sheet
        self.area = area
        self.limit = limit
        self.max_row = 0
        self.max_column = 0
        self.cells = 0

    def count(self, cells: int) -> None:
        self.cells += cells
        if self.cells > self.limit["max_cells"]:
            raise Unreadable(f"工作表“{self.sheet}”的单元格超过 {self.limit['max_cells']} 个，请删除多余内容后重新保存")

    def content(self, row: int, column: int, count: bool = True) -> None:
        if count:
            self.count(1)
        if row > self.limit["max_rows"]:
            raise Unreadable(
                f"工作表“{self.sheet}”的第 {row} 行（{column_letter(column - 1)}{row} 单元格）仍有内容，"
                f"超过行数上限 {self.limit['max_rows']} 行；如是误填或多余内容，请删除后重新保存"
            )
        if column > self.limit["max_columns"]:
            raise Unreadable(
                f"工作表“{self.sheet}”的第 {column} 列（{column_letter(column - 1)}{row} 单元格）仍有内容，"
                f"超过列数上限 {self.limit['max_columns']} 列；如是误填或多余内容，请删除后重新保存"
            )
        self.max_row = max(self.max_row, row)
        self.max_column = max(self.max_column, column)

    def close(self) -> None:
        self.area.add(self.sheet, self.max_row, self.max_column)


class _XmlScan:
    """Fed an XML part in chunks: refuses DOCTYPE/ENTITY; for a sheet, tracks where its cells reach."""

    def __init__(self, sheet: str | None, area: _Area, limit: dict[str, int]):
        self.extent = _Extent(sheet, area, limit) if sheet is not None else None
        self.limit = limit
        self.count_strings = False
        self.strings = 0
        self.carry = b""
        self.tail = b""
        self.row = 0
        self.column = 0
        self.slow = False
        self.formula = False  # "<f" somewhere in the part (a sheet's)

    def feed(self, data: bytes) -> None:
        window = self.tail + data
        # The tail kept from the chunk before: a "<f" cut in two by the chunks is found too. Only a sheet's
        # formulas are looked for afterwards (reader._formulas_without_value).
        if self.extent is not None and not self.formula:
            self.formula = _contains(window, b"<f")
        if _contains(window, b"<!") and any(word in window for word in _FORBIDDEN):
            raise Unreadable(UNSAFE_XML)
        self.tail = window[-16:]
        if self.count_strings:
            self.strings += data.count(b"<si>") + data.count(b"<si ")
            if self.strings > self.limit["max_cells"]:
                raise Unreadable(
                    f"文件的共享文本超过 {self.limit['max_cells']} 条，不是正常的 Excel 工作簿，请用 Excel 重新保存"
                )
        if self.extent is None:
            return
        buffer = self.carry + data
        cut = buffer.rfind(b"<")
        if cut >= 0 and buffer.find(b">", cut) < 0:
            self.carry = buffer[cut:]
            buffer = buffer[:cut]
            if len(self.carry) > _MAX_TAG:
                raise Unreadable(
                    f"工作表“{self.extent.sheet}”的内容格式异常，不是正常的 Excel 工作簿，请用 Excel 重新保存"
                )
        else:
            self.carry = b""
        if not self.slow and not self._fast(buffer):
            self.slow = True
        if self.slow:
            for match in _TAG.finditer(buffer):
                self._tag(match)

    def _fast(self, buffer: bytes) -> bool:
        """Every cell tag written as spreadsheet programs write it (<c r="B7"...>, 1–3 letters, 1–7 digits): the
        tags found and read in numpy, a few passes over the bytes at C speed. False, having changed nothing,
        when some cell tag is not: the tag-by-tag walk takes over."""
        if _PREFIX_HINT.search(buffer) and _PREFIXED_TAG.search(buffer):
            return False
        # Zeros after the end: reading a tag's first bytes, or those after its r="…", never goes past the buffer.
        data = np.frombuffer(buffer + bytes(_WINDOW + _TAG_END), dtype=np.uint8)
        size = len(buffer)
        opens = _pair_positions(data, size, b"<c")
        after = data[opens + 2]  # the name ends there: white space, "/" or ">"
        tags = opens[(after == 32) | (after == 62) | (after == 47) | (after == 10) | (after == 13) | (after == 9)]
        if not len(tags):
            self._rows_after(buffer, 0)
            return True

        def byte(offset) -> np.ndarray:  # the byte at this offset (a number, or one per tag) of every tag
            return data[tags + offset]

        regular = (byte(2) == 32) & (byte(3) == 114) & (byte(4) == 61) & (byte(5) == 34)  # ' r="'
        upper = [(code >= 65) & (code <= 90) for code in (byte(6), byte(7), byte(8))]
        letters = upper[0].astype(np.int64) + (upper[0] & upper[1]) + (upper[0] & upper[1] & upper[2])
        column = np.zeros(len(tags), dtype=np.int64)
        for position in range(3):
            column = np.where(letters > position, column * 26 + byte(6 + position) - 64, column)
        row = np.zeros(len(tags), dtype=np.int64)
        digits = np.zeros(len(tags), dtype=np.int64)
        going = np.ones(len(tags), dtype=bool)
        number = tags + 6 + letters  # where each tag's row number starts
        for position in range(8):  # 1–7 digits, then the closing quote
            code = data[number + position]
            going &= (code >= 48) & (code <= 57)
            row = np.where(going, row * 10 + code - 48, row)
            digits += going
        quote = number + digits
        if not np.all(regular & (letters > 0) & (digits > 0) & (digits < 8) & (data[quote] == 34)):
            return False
        ends = _tag_ends(data, size, tags, quote + 1)
        if ends is None:
            return False
        self.row, self.column = max(int(row[-1]), 1), int(column[-1])
        # Cells with content only: a cell with a style and no content (<c r="B7" s="3"/>) does not extend the sheet.
        content = data[ends - 1] != 47  # "/"
        self.extent.count(int(content.sum()))
        if content.any():
            rows, columns = row[content], column[content]
            far_row, far_column = int(rows.max()), int(columns.max())
            if far_row > self.limit["max_rows"]:  # name a real cell of that row in the message
                self.extent.content(far_row, int(columns[rows == far_row][0]), False)
            if far_column > self.limit["max_columns"]:
                self.extent.content(int(rows[columns == far_column][0]), far_column, False)
            self.extent.content(far_row, far_column, False)
        self._rows_after(buffer, int(ends[-1]) + 1)
        return True

    def _rows_after(self, buffer: bytes, start: int) -> None:
        """Walk the row tags after the buffer's last cell tag (from start): where the walk takes over, a cell
        without its r="…" is in the last row begun, as if the walk had read every tag."""
        for match in _TAG.finditer(buffer, start):
            self._tag(match)

    def _tag(self, match: re.Match) -> None:
        element, ref = match.group(1), match.group(2)
        if element == b"row":
            number = int(ref) if ref is not None and ref.strip().isdigit() else self.row + 1
            self.row, self.column = number, 0
            return
        row, column = self.row, self.column + 1
        if ref is not None:
            parsed = _REF.match(ref)
            if parsed is not None:
                letters, digits = parsed.groups()
                row = int(digits)
                column = column_index(letters.decode("ascii")) + 1 if letters else column
        self.row, self.column = max(row, 1), column
        if not match.group(0).endswith(b"/>"):  # a cell with a style and no content does not extend the sheet
            self.extent.content(self.row, self.column)

    def close(self) -> None:
        if self.extent is not None:
            self.extent.close()


def _contains(text: bytes, pair: bytes) -> bool:
    """pair (two bytes) in text: for a long text, compared two bytes at a time in numpy, ten times faster than
    bytes' own search for a pair that starts with a byte as common in XML as "<"."""
    if len(text) < _NUMPY_FROM:
        return pair in text
    data = np.frombuffer(text, dtype=np.uint8)
    value = pair[0] | pair[1] << 8
    even, odd = _pairs_at(data, len(text))
    return bool((even == value).any() or (odd == value).any())


def _pairs_at(data: np.ndarray, size: int) -> tuple[np.ndarray, np.ndarray]:
    """data[:size] read as little-endian pairs of bytes, from an even and from an odd offset (views, no copy)."""
    return data[: size // 2 * 2].view("<u2"), data[1 : 1 + max(0, size - 1) // 2 * 2].view("<u2")


def _pair_positions(data: np.ndarray, size: int, pair: bytes) -> np.ndarray:
    """Where pair (two bytes) starts in data[:size], in order."""
    value = pair[0] | pair[1] << 8
    even, odd = _pairs_at(data, size)
    positions = np.concatenate((np.flatnonzero(even == value) * 2, np.flatnonzero(odd == value) * 2 + 1))
    positions.sort()
    return positions


def _tag_ends(data: np.ndarray, size: int, tags: np.ndarray, starts: np.ndarray) -> np.ndarray | None:
    """Where each tag's ">" is, looked for from starts (within the tag): among the next _TAG_END bytes when all
    are there (data holds that many zeros after size), else in one pass over the buffer. None when some tag
    has no ">" in the buffer."""
    window = sliding_window_view(data, _TAG_END)[starts]  # each start's next bytes, copied row by row
    first = (window == 62).argmax(axis=1)
    if bool(np.all(window[np.arange(len(starts)), first] == 62)):
        return starts + first
    closes = np.flatnonzero(data[:size] == 62)
    found = np.searchsorted(closes, tags)
    if found[-1] == len(closes):
        return None
    return closes[found]
