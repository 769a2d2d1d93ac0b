"""Decide before parsing whether a file can be read as a workbook, and say why not in words a clerk can act on."""

from __future__ import annotations

import zipfile
from pathlib import Path

OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
ZIP_MAGIC = b"PK\x03\x04"
# An OLE container holding this stream is an Excel 2007+ workbook saved with a password.
ENCRYPTED_STREAM = "EncryptedPackage".encode("utf-16-le")


class Unreadable(Exception):
    """The file cannot be read as a workbook; str() is the Chinese reason for the S01 finding."""


def check_readable(path: Path, limits: dict[str, int]) -> None:
    """Raise Unreadable with a specific reason, or return when the file looks like a workbook."""
    try:
        size = path.stat().st_size
        with path.open("rb") as handle:
            head = handle.read(1 << 16)
    except PermissionError as error:
        raise Unreadable("文件无法打开：没有读取权限，请检查文件权限后重新报送") from error
    except OSError as error:
        raise Unreadable(f"文件无法打开（{error.strerror or type(error).__name__}）") from error
    if size == 0:
        raise Unreadable("文件为空（0字节），请重新保存后报送")
    max_bytes = limits.get("max_file_mb", 10**6) * 1024 * 1024
    if size > max_bytes:
        raise Unreadable(f"文件大小 {size / 1048576:.1f} MB，超过上限 {limits['max_file_mb']} MB")
    if head.startswith(ZIP_MAGIC):
        _check_zip(path, limits)
        return
    if head.startswith(OLE_MAGIC):
        if ENCRYPTED_STREAM in _read_all(path) or path.suffix.lower() in (".xlsx", ".xlsm"):
            raise Unreadable("文件已加密，请取消密码后重新报送")
        return  # an .xls (BIFF) workbook
    text = head.lstrip(b"\xef\xbb\xbf \t\r\n").lower()
    if text.startswith(b"<"):
        if b"urn:schemas-microsoft-com:office:spreadsheet" in head:
            raise Unreadable("文件是 Excel 2003 XML 表格，不是 Excel 工作簿，请用 Excel 另存为 .xlsx")
        raise Unreadable("文件不是 Excel 工作簿（实为网页/HTML），请用 Excel 打开后另存为 .xlsx")
    if _looks_like_text(head):
        raise Unreadable("文件不是 Excel 工作簿（实为 CSV 或文本文件），请用 Excel 打开后另存为 .xlsx")
    raise Unreadable("文件不是 Excel 工作簿（无法识别的文件格式），请确认文件后重新报送")


def _read_all(path: Path) -> bytes:
    with path.open("rb") as handle:
        return handle.read()


def _looks_like_text(head: bytes) -> bool:
    for encoding in ("utf-8", "gb18030", "utf-16"):
        try:
            text = head.decode(encoding)
        except UnicodeDecodeError:
            continue
        printable = sum(ch.isprintable() or ch in "\r\n\t" for ch in text)
        if text and printable / len(text) > 0.95:
            return True
    return False


def _check_zip(path: Path, limits: dict[str, int]) -> None:
    try:
        with zipfile.ZipFile(path) as archive:
            members = archive.infolist()
            names = {member.filename for member in members}
            if "xl/workbook.xml" not in names:
                raise Unreadable("文件不是 Excel 工作簿（压缩包中没有工作簿内容），请用 Excel 另存为 .xlsx")
            if any(member.flag_bits & 0x1 for member in members):
                raise Unreadable("文件已加密，请取消密码后重新报送")
            total = sum(member.file_size for member in members)
            max_total = limits.get("max_uncompressed_mb", 10**6) * 1024 * 1024
            if total > max_total:
                raise Unreadable(
                    f"文件解压后有 {total / 1048576:.0f} MB，超过上限 {limits['max_uncompressed_mb']} MB"
                    "（可能含大量空白格式或为压缩炸弹），请删除多余内容后重新保存"
                )
            for member in members:
                if member.filename.endswith((".xml", ".rels")):
                    with archive.open(member) as handle:
                        start = handle.read(4096)
                    # Entity definitions can expand a few bytes into gigabytes; Excel never writes them.
                    if b"<!ENTITY" in start or b"<!DOCTYPE" in start:
                        raise Unreadable("文件含有不安全的 XML 实体定义，不是正常的 Excel 工作簿，请用 Excel 重新保存")
    except zipfile.BadZipFile as error:
        raise Unreadable("文件已损坏（压缩包不完整或被截断），请重新保存后报送") from error
    except (OSError, EOFError, NotImplementedError, ValueError) as error:
        raise Unreadable(f"文件已损坏，无法解压（{type(error).__name__}），请重新保存后报送") from error
