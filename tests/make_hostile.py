"""Build the hostile corpus: every kind of bad input a county, a web system or an attacker can hand us.

    python tests/make_hostile.py OUTDIR    # writes the corpus into OUTDIR (which must not exist yet)

Every file is made here from the sample workbooks (an .xls too: a BIFF8 stream in an OLE file, both
written here), so nothing binary is committed. build() returns one Case per file: "ok" when the file
must be read correctly, "s01" with a fragment of the Chinese reason the clerk must get, "skipped" when
it must not be listed at all (lock files, resource forks). The fuzzing lives here too: the mutators
(mutate_workbook for an .xlsx, mutate_xls for the records of an .xls), fuzz_case (case N of a seed,
made again alone) and run_fuzz, for tests/test_fuzz.py and scripts/fuzz.py.
"""

from __future__ import annotations

import collections
import contextlib
import faulthandler
import io
import os
import random
import re
import signal
import struct
import sys
import threading
import time
import traceback
import zipfile
import zlib
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SAMPLES = ROOT / "sample_workbooks"
BASE_SAMPLE = "忻府区.xlsx"


@dataclass(frozen=True)
class Case:
    name: str  # path relative to the corpus folder, as discover() reports it
    expect: str  # "ok", "s01" or "skipped"
    reason: str = ""  # for "s01": a fragment the S01 message must contain
    like: str = ""  # for "ok": the sample whose findings it must reproduce (same rules, same cells)


def sample_paths() -> list[Path]:
    return sorted(SAMPLES.glob("*.xlsx"))


def sample_bytes(name: str = BASE_SAMPLE) -> bytes:
    return (SAMPLES / name).read_bytes()


# ------------------------------------------------------------------------------------------ zip helpers


def members(data: bytes) -> list[tuple[str, bytes]]:
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        return [(info.filename, archive.read(info)) for info in archive.infolist()]


def make_zip(parts: list[tuple[str, bytes]], compression: int = zipfile.ZIP_DEFLATED) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression) as archive:
        for name, data in parts:
            info = zipfile.ZipInfo(name, date_time=(2024, 1, 1, 0, 0, 0))
            info.compress_type = compression
            archive.writestr(info, data)
    return buffer.getvalue()


def edit_member(data: bytes, name: str, edit) -> bytes:
    return make_zip([(n, edit(d) if n == name else d) for n, d in members(data)])


def raw_zip(parts: list[tuple[str, bytes, int, int, int]]) -> bytes:
    """A zip from already deflated parts: (name, raw deflate stream, declared size, CRC, method).
    The declared size and CRC are written as given, so they can lie."""
    out = io.BytesIO()
    central = []
    for name, raw, size, crc, method in parts:
        encoded = name.encode("utf-8")
        offset = out.tell()
        header = struct.pack(
            "<4sHHHHHIIIHH", b"PK\x03\x04", 20, 0x800, method, 0, 0x21, crc, len(raw), size, len(encoded), 0
        )
        out.write(header + encoded + raw)
        central.append(
            struct.pack(
                "<4sHHHHHHIIIHHHHHII",
                b"PK\x01\x02",
                20,
                20,
                0x800,
                method,
                0,
                0x21,
                crc,
                len(raw),
                size,
                len(encoded),
                0,
                0,
                0,
                0,
                0,
                offset,
            )
            + encoded
        )
    start = out.tell()
    for record in central:
        out.write(record)
    size = out.tell() - start
    out.write(struct.pack("<4sHHHHIIH", b"PK\x05\x06", 0, 0, len(central), len(central), size, start, 0))
    return out.getvalue()


def deflated(data: bytes) -> bytes:
    packer = zlib.compressobj(9, zlib.DEFLATED, -15)
    return packer.compress(data) + packer.flush()


def bomb_part(prefix: bytes, filler: bytes, megabytes: int, suffix: bytes) -> tuple[bytes, int, int]:
    """A deflate stream of prefix, megabytes MB of filler, suffix, made without ever holding the MBs:
    one compressed MB is repeated (a full flush makes each copy stand alone). Returns raw, size, CRC."""
    chunk = (filler * ((1 << 20) // len(filler) + 1))[: 1 << 20]
    packer = zlib.compressobj(9, zlib.DEFLATED, -15)
    raw = packer.compress(prefix) + packer.flush(zlib.Z_FULL_FLUSH)
    packed_chunk = packer.compress(chunk) + packer.flush(zlib.Z_FULL_FLUSH)
    tail = packer.compress(suffix) + packer.flush()
    crc = zlib.crc32(prefix)
    for _ in range(megabytes):
        crc = zlib.crc32(chunk, crc)
    crc = zlib.crc32(suffix, crc)
    return raw + packed_chunk * megabytes + tail, len(prefix) + megabytes * len(chunk) + len(suffix), crc


def add_cells(data: bytes, xml: bytes, sheet: int = 1) -> bytes:
    """The workbook with xml put at the end of a sheet's cells."""
    part = f"xl/worksheets/sheet{sheet}.xml"
    return edit_member(data, part, lambda d: d.replace(b"</sheetData>", xml + b"</sheetData>"))


# ------------------------------------------------------------------------------------------ OLE helper


def compound_file(streams: dict[str, bytes], *, mini: bool = False) -> bytes:
    """A minimal OLE compound file (version 3, 512-byte sectors) holding the given streams.

    A stream under 4096 bytes goes to the mini stream (64-byte sectors inside the root entry's stream)
    when mini is true, as Excel stores it; else it is padded to 4096. python-calamine reads the BIFF
    workbooks made below from either.
    """
    sector = 512
    end, free, fat_mark = 0xFFFFFFFE, 0xFFFFFFFF, 0xFFFFFFFD
    names = sorted(streams, key=lambda n: (len(n), n.upper()))
    small = {n for n in names if mini and len(streams[n]) < 4096}
    datas = {n: streams[n] if n in small else streams[n].ljust(4096, b"\0") for n in names}
    # The mini stream and its FAT.
    container, mini_fat, mini_starts = b"", [], {}
    for name in names:
        if name in small:
            count = max(1, (len(datas[name]) + 63) // 64)
            mini_starts[name] = len(mini_fat)
            mini_fat += [len(mini_fat) + i + 1 if i + 1 < count else end for i in range(count)]
            container += datas[name].ljust(count * 64, b"\0")
    mini_table = struct.pack(f"<{len(mini_fat)}I", *mini_fat) if mini_fat else b""
    # Regular sectors: FAT, directory, mini FAT, mini stream, then the big streams.
    dir_sectors = ((len(names) + 1) * 128 + sector - 1) // sector
    blobs = [mini_table, container] + [datas[n] for n in names if n not in small]
    blob_sectors = [(len(b) + sector - 1) // sector for b in blobs]
    fat_sectors = 1
    while fat_sectors + dir_sectors + sum(blob_sectors) > fat_sectors * (sector // 4):
        fat_sectors += 1
    if fat_sectors > 109:
        raise ValueError("compound_file: too much data for the header's FAT list")
    fat = [free] * (fat_sectors * (sector // 4))
    fat[:fat_sectors] = [fat_mark] * fat_sectors

    def chain(first: int, count: int) -> None:
        for i in range(count):
            fat[first + i] = first + i + 1 if i + 1 < count else end

    chain(fat_sectors, dir_sectors)
    starts = []
    position = fat_sectors + dir_sectors
    for count in blob_sectors:
        starts.append(position if count else end)
        chain(position, count)
        position += count
    mini_fat_start, container_start, big_starts = starts[0], starts[1], iter(starts[2:])

    def entry(name: str, kind: int, child: int, right: int, start: int, size: int) -> bytes:
        encoded = (name + "\0").encode("utf-16-le")
        return struct.pack(
            "<64sHBBIII16sIQQIQ", encoded, len(encoded), kind, 1, free, right, child, b"\0" * 16, 0, 0, 0, start, size
        )

    directory = entry("Root Entry", 5, 1 if names else free, free, container_start, len(container))
    for index, name in enumerate(names):
        right = index + 2 if index + 1 < len(names) else free
        start = mini_starts[name] if name in small else next(big_starts)
        directory += entry(name, 2, free, right, start, len(datas[name]))
    directory = directory.ljust(dir_sectors * sector, b"\0")
    header = struct.pack(
        "<8s16sHHHHH6sIIIIIIIII", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1", b"\0" * 16, 0x3E, 3, 0xFFFE, 9, 6,
        b"\0" * 6, 0, fat_sectors, fat_sectors, 0, 4096, mini_fat_start, blob_sectors[0], end, 0,
    )  # fmt: skip
    header += struct.pack("<109I", *range(fat_sectors), *([free] * (109 - fat_sectors)))
    body = struct.pack(f"<{len(fat)}I", *fat) + directory
    body += b"".join(b.ljust(count * sector, b"\0") for b, count in zip(blobs, blob_sectors, strict=True))
    return header + body


def biff_record(kind: int, data: bytes = b"") -> bytes:
    return struct.pack("<HH", kind, len(data)) + data


def biff_stream(sheets: list[tuple[str, list[list]]], *, globals_extra: bytes = b"") -> bytes:
    """A BIFF8 workbook stream (what an .xls holds) with these sheets: numbers as NUMBER records, every
    other value as a LABEL. No styles, shared strings or merges: python-calamine reads it back exactly."""

    def bof(kind: int) -> bytes:
        return biff_record(0x0809, struct.pack("<HHHHII", 0x0600, kind, 0x0DBB, 0x07CC, 0, 0x06))

    def text(value: str, width: str) -> bytes:
        return struct.pack(f"<{width}B", len(value), 1) + value.encode("utf-16-le")

    bodies = []
    for _, rows in sheets:
        body = bof(0x0010)
        width = max((len(row) for row in rows), default=0)
        body += biff_record(0x0200, struct.pack("<IIHHH", 0, len(rows), 0, width, 0))
        for r, row in enumerate(rows):
            for c, value in enumerate(row):
                if value is None or value == "":
                    continue
                if isinstance(value, int | float) and not isinstance(value, bool):
                    body += biff_record(0x0203, struct.pack("<HHHd", r, c, 0, float(value)))
                else:
                    body += biff_record(0x0204, struct.pack("<HHH", r, c, 0) + text(str(value), "H"))
        bodies.append(body + biff_record(0x000A))
    head = bof(0x0005) + biff_record(0x0042, struct.pack("<H", 1200)) + globals_extra
    boundsheets = [biff_record(0x0085, struct.pack("<IBB", 0, 0, 0) + text(name, "B")) for name, _ in sheets]
    offset = len(head) + sum(map(len, boundsheets)) + 4
    for (name, _), body in zip(sheets, bodies, strict=True):
        head += biff_record(0x0085, struct.pack("<IBB", offset, 0, 0) + text(name, "B"))
        offset += len(body)
    return head + biff_record(0x000A) + b"".join(bodies)


def _sheets_of(data: bytes) -> list[tuple[str, list[list]]]:
    import python_calamine

    book = python_calamine.CalamineWorkbook.from_filelike(io.BytesIO(data))
    return [(name, book.get_sheet_by_name(name).to_python(skip_empty_area=False)) for name in book.sheet_names]


def xls_from_xlsx(data: bytes, *, edit=None, globals_extra: bytes = b"") -> bytes:
    """The workbook as an .xls (BIFF8 in an OLE file): the same sheets and values; edit(sheets) may change them."""
    sheets = _sheets_of(data)
    if edit is not None:
        edit(sheets)
    return compound_file({"Workbook": biff_stream(sheets, globals_extra=globals_extra)})


# ------------------------------------------------------------------------------------------ the corpus


def _long_text_workbook(path: Path) -> None:
    """A clean synthetic submission whose free-text cells hold 32,767 characters (Excel's maximum)."""
    from tr_excel.policy import load_policy
    from tr_excel.synth import clean_project, write_submission

    policy = load_policy(None)
    submission = clean_project(
        policy,
        random.Random(7),
        enterprise="忻州市长文本机械有限公司",
        project="长文本智能化升级项目",
        direction_name="智能化升级",
        county="忻府区",
    )
    submission.unit = "忻州市忻府区工业和信息化局"
    long_text = ("超长文本" * 8192)[:32767]
    for row in submission.rows["汇总表"]:
        row["主要内容"] = long_text
        row["项目亮点"] = long_text
    for row in submission.rows["智能制造环节"]:
        row["典型场景实例描述"] = long_text
    write_submission(path, submission, policy)


def _far_biff_cell(sheets: list) -> None:
    rows = sheets[0][1]
    rows.extend([] for _ in range(65536 - len(rows)))
    rows[-1] = [None] * 255 + ["x"]


def build(folder: Path) -> list[Case]:
    """Write the corpus into folder (created) and say what each file must give."""
    folder.mkdir(parents=True, exist_ok=True)
    cases: list[Case] = []
    sample = sample_bytes()
    rng = random.Random(20240)

    def put(name: str, data: bytes, expect: str, reason: str = "", like: str = "") -> Path:
        path = folder / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
        cases.append(Case(name, expect, reason, like))
        return path

    # Plain damage.
    put("空文件.xlsx", b"", "s01", "文件为空")
    put("截断.xlsx", sample[: len(sample) // 2], "s01", "压缩包不完整或被截断")
    put("随机字节.xlsx", rng.randbytes(6000), "s01", "无法识别的文件格式")
    flipped = bytearray(sample)
    first_member = sample.index(b"PK\x03\x04")
    flipped[first_member + 200] ^= 0xFF  # inside the first part's compressed data
    put("校验错误.xlsx", bytes(flipped), "s01", "文件已损坏")
    put(
        "缺少工作簿.xlsx",
        make_zip([(n, d) for n, d in members(sample) if n != "xl/workbook.xml"]),
        "s01",
        "压缩包中没有工作簿内容",
    )

    # Encrypted: Excel writes a password-protected .xlsx as an OLE container with these two streams.
    put(
        "加密.xlsx",
        compound_file(
            {
                "EncryptionInfo": b"\x04\x00\x04\x00\x40\x00\x00\x00" + rng.randbytes(900),
                "EncryptedPackage": struct.pack("<Q", len(sample)) + rng.randbytes(len(sample)),
            }
        ),
        "s01",
        "文件已加密，请取消密码后重新报送",
    )
    try:
        from msoffcrypto.format.ooxml import OOXMLFile  # optional: a real Agile-encrypted workbook
    except ImportError:
        pass
    else:
        encrypted = io.BytesIO()
        OOXMLFile(io.BytesIO(sample)).encrypt("123456", encrypted)
        put("加密（真实）.xlsx", encrypted.getvalue(), "s01", "文件已加密，请取消密码后重新报送")
    put("Word文档.xls", compound_file({"WordDocument": rng.randbytes(5000)}), "s01", "实为 Word 文档")

    # Not a workbook at all, as web systems and colleagues send them.
    table = (
        "<tr><td>企业名称</td><td>项目名称</td><td>总投资</td></tr><tr><td>某公司</td><td>某项目</td><td>100</td></tr>"
    )
    html = (
        f'<html xmlns:x="urn:schemas-microsoft-com:office:excel"><head><meta charset="gbk"></head>'
        f"<body><table>{table}</table></body></html>"
    )
    put("网页导出.xls", html.encode("gbk"), "s01", "实为网页/HTML")
    put("网页导出（UTF-16）.xls", "\ufeff".encode("utf-16-le") + html.encode("utf-16-le"), "s01", "实为网页/HTML")
    put("网页导出（无声明）.xls", f"\r\n  <table border=1>{table}</table>".encode(), "s01", "实为网页/HTML")
    mht = (
        'MIME-Version: 1.0\r\nContent-Type: multipart/related; boundary="----=_NextPart"\r\n\r\n'
        f'------=_NextPart\r\nContent-Type: text/html; charset="gb2312"\r\n\r\n{html}\r\n'
    )
    put("单个文件网页.xls", mht.encode("gbk"), "s01", "单个文件网页")
    put(
        "Excel2003表格.xls",
        b'<?xml version="1.0"?>\n<?mso-application progid="Excel.Sheet"?>\n'
        b'<Workbook xmlns="urn:schemas-microsoft-com:office:spreadsheet"><Worksheet ss:Name="Sheet1"/></Workbook>',
        "s01",
        "Excel 2003 XML",
    )
    csv = "企业名称,项目名称,总投资\r\n忻州市某机械有限公司,生产线改造项目,3200\r\n" * 20
    put("CSV改名.xlsx", csv.encode("gbk"), "s01", "实为 CSV 或文本文件")
    put("制表符文本.xls", csv.replace(",", "\t").encode("utf-8"), "s01", "实为 CSV 或文本文件")
    put("扫描件.xlsx", b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<<>>\nendobj\n" + rng.randbytes(3000), "s01", "实为 PDF")
    put("照片.xlsx", b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + rng.randbytes(3000), "s01", "实为图片")
    put(
        "ODS表格.xlsx",
        make_zip(
            [
                ("mimetype", b"application/vnd.oasis.opendocument.spreadsheet"),
                ("content.xml", b"<office:document-content/>"),
            ],
            zipfile.ZIP_STORED,
        ),
        "s01",
        "ODS",
    )
    put(
        "二进制工作簿.xlsx",
        make_zip([("[Content_Types].xml", b"<Types/>"), ("xl/workbook.bin", b"\x83\x01\x00")]),
        "s01",
        ".xlsb",
    )
    put("打包.xlsx", make_zip([("繁峙县.xlsx", sample), ("五台县.xlsx", sample)]), "s01", "请解压后分别报送")
    put("xlsx改名为xls.xls", sample, "ok", like=BASE_SAMPLE)

    # The older .xls (BIFF8): read like the .xlsx; a far cell refused before python-calamine builds its
    # rectangle (65536 x 256 cells take it 1 GB); FILEPASS is how an .xls says it is encrypted.
    put("老格式.xls", xls_from_xlsx(sample), "ok", like=BASE_SAMPLE)
    put("xls改名为xlsx.xlsx", xls_from_xlsx(sample), "ok", like=BASE_SAMPLE)
    put("远处单元格（老格式）.xls", xls_from_xlsx(sample, edit=_far_biff_cell), "s01", "IV65536")
    tiny = biff_stream([("汇总表", [["序号", "企业名称"], [1, "某公司"]])])
    put("小工作簿（迷你流）.xls", compound_file({"Workbook": tiny}, mini=True), "ok")
    forged = tiny.replace(
        struct.pack("<HHIIHHH", 0x0200, 14, 0, 2, 0, 2, 0), struct.pack("<HHIIHHH", 0x0200, 14, 0, 0xF5C28F5C, 0, 2, 0)
    )
    put("尺寸伪造（老格式）.xls", compound_file({"Workbook": forged}, mini=True), "s01", "尺寸记录")  # fmt: skip
    # A LABEL record retyped as FORMULA: python-calamine panics (a PanicException, not an Exception).
    label = re.search(rb"\x04\x02(..)\x00\x00", biff_stream(_sheets_of(sample)), re.S)
    panicky = biff_stream(_sheets_of(sample))
    panicky = panicky[: label.start()] + b"\x06\x00" + panicky[label.start() + 2 :]
    put("公式记录损坏（老格式）.xls", compound_file({"Workbook": panicky}), "s01", "文件已损坏")
    put("加密（老格式）.xls", xls_from_xlsx(sample, globals_extra=biff_record(0x002F, b"\x01\x00" + bytes(52))),
        "s01", "文件已加密")  # fmt: skip

    # Bombs.
    head = b'<?xml version="1.0" encoding="UTF-8"?><worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData>'
    parts = [(n, d) for n, d in members(sample) if n != "xl/worksheets/sheet1.xml"]
    raw, size, crc = bomb_part(head, b" ", 250, b"</sheetData></worksheet>")
    packed = [(n, deflated(d), len(d), zlib.crc32(d), 8) for n, d in parts]
    put("压缩炸弹.xlsx", raw_zip([*packed, ("xl/worksheets/sheet1.xml", raw, size, crc, 8)]), "s01", "压缩炸弹")
    put(
        "压缩炸弹（伪造大小）.xlsx",
        raw_zip([*packed, ("xl/worksheets/sheet1.xml", raw, 4096, zlib.crc32(b"x"), 8)]),
        "s01",
        "可能被篡改或是压缩炸弹",
    )
    laughs = b'<?xml version="1.0"?><!DOCTYPE sst [<!ENTITY a "aaaaaaaaaa">'
    for level in range(1, 10):
        laughs += b'<!ENTITY %s "%s">' % (b"a" * (level + 1), (b"&" + b"a" * level + b";") * 10)
    laughs += (
        b']><sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><si><t>&aaaaaaaaaa;</t></si></sst>'
    )
    put("实体炸弹.xlsx", edit_member(sample, "xl/sharedStrings.xml", lambda d: laughs), "s01", "XML 实体")
    hidden = b'<?xml version="1.0"?>' + b"<!-- " + b"x" * 20000 + b" -->" + laughs[len(b'<?xml version="1.0"?>') :]
    put("实体炸弹（藏在注释后）.xlsx", edit_member(sample, "xl/sharedStrings.xml", lambda d: hidden), "s01", "XML 实体")

    # Sizes: a dimension that lies is harmless; a real cell far away is refused before the parser
    # allocates its whole rectangle (python-calamine aborts the process on XFD1048576).
    put(
        "维度谎报.xlsx",
        edit_member(
            sample,
            "xl/worksheets/sheet1.xml",
            lambda d: re.sub(rb'<dimension ref="[^"]*"/>', b'<dimension ref="A1:XFD1048576"/>', d),
        ),
        "ok",
        like=BASE_SAMPLE,
    )
    put(
        "远处单元格.xlsx",
        add_cells(sample, b'<row r="1048576"><c r="XFD1048576" t="inlineStr"><is><t>x</t></is></c></row>'),
        "s01",
        "XFD1048576",
    )
    put("远处行.xlsx", add_cells(sample, b'<row r="900000"><c r="A900000"><v>1</v></c></row>'), "s01", "行数上限")
    put("远处列.xlsx", add_cells(sample, b'<row r="8"><c r="ZZ8"><v>1</v></c></row>'), "s01", "列数上限")
    put(
        "只有格式的远处单元格.xlsx",
        add_cells(sample, b'<row r="1048576"><c r="XFD1048576" s="1"/></row>'),
        "ok",
        like=BASE_SAMPLE,
    )
    put(
        "使用区域过大.xlsx",
        add_cells(sample, b'<row r="49999"><c r="GR49999"><v>1</v></c></row>'),
        "s01",
        "使用区域过大",
    )

    many = members(sample)
    workbook = dict(many)["xl/workbook.xml"]
    rels = dict(many)["xl/_rels/workbook.xml.rels"]
    extra_sheets, extra_rels, extra_parts = b"", b"", []
    empty_sheet = b'<?xml version="1.0"?><worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData/></worksheet>'
    for number in range(100, 295):
        extra_sheets += b'<sheet name="Sheet%d" sheetId="%d" r:id="rIdX%d"/>' % (number, number, number)
        extra_rels += (
            b'<Relationship Id="rIdX%d" Type="http://schemas.openxmlformats.org/officeDocument/2006/'
            b'relationships/worksheet" Target="worksheets/sheet%d.xml"/>' % (number, number)
        )
        extra_parts.append((f"xl/worksheets/sheet{number}.xml", empty_sheet))
    crowded = [
        (
            n,
            d.replace(b"</sheets>", extra_sheets + b"</sheets>")
            if n == "xl/workbook.xml"
            else d.replace(b"</Relationships>", extra_rels + b"</Relationships>")
            if n == "xl/_rels/workbook.xml.rels"
            else d,
        )
        for n, d in many
    ]
    assert workbook != dict(crowded)["xl/workbook.xml"] and rels != dict(crowded)["xl/_rels/workbook.xml.rels"]
    put("200个工作表.xlsx", make_zip(crowded + extra_parts), "s01", "200 个工作表")
    put("部件过多.xlsx", make_zip(many + [(f"customXml/item{i}.xml", b"<a/>") for i in range(6000)]), "s01", "部件")

    long_path = folder / "超长文本.xlsx"
    _long_text_workbook(long_path)
    cases.append(Case("超长文本.xlsx", "ok"))

    # Names: spaces, full-width characters, dots; a folder named like a workbook.
    for name in (
        "繁峙县 第二批（修订）.xlsx",
        "全角　ＡＢＣ名称.xlsx",
        "..忻府区..xlsx",
        "a..b.xlsx",
        "第 二 批../原平市.xlsx",
        "文件夹.xlsx/五台县.xlsx",
        "-=+@忻府区.xlsx",
    ):
        put(name, sample, "ok", like=BASE_SAMPLE)

    # Lock files and a Mac resource fork beside their workbook.
    put("锁定/忻府区.xlsx", sample, "ok", like=BASE_SAMPLE)
    owner = b"\x05zhang" + b" " * 48 + b"\x05\x00z\x00h\x00a\x00n\x00g\x00" + b"\x20\x00" * 50
    put("锁定/~$忻府区.xlsx", owner[:165], "skipped")
    put("锁定/.~忻府区.xlsx", owner[:165], "skipped")
    put("锁定/._忻府区.xlsx", b"\x00\x05\x16\x07\x00\x02\x00\x00Mac OS X        " + b"\0" * 60, "skipped")

    # Links: a folder loop, a link to itself, a link to nothing.
    if hasattr(os, "symlink"):
        loop = folder / "循环"
        loop.mkdir()
        put("循环/繁峙县.xlsx", sample_bytes("繁峙县.xlsx"), "ok", like="繁峙县.xlsx")
        os.symlink("..", loop / "回到上级")
        os.symlink(".", loop / "自身")
        os.symlink("自环.xlsx", folder / "自环.xlsx")
        cases.append(Case("自环.xlsx", "s01", "循环链接"))
        os.symlink("不存在的文件.xlsx", folder / "失效链接.xlsx")
        cases.append(Case("失效链接.xlsx", "s01", "文件不存在"))

    # No permission to read (root reads it anyway, so then it must simply be read).
    locked = put("无权限.xlsx", sample, "ok", like=BASE_SAMPLE)
    locked.chmod(0)
    if not _root():
        cases[-1] = Case("无权限.xlsx", "s01", "没有读取权限")
    return cases


def _root() -> bool:
    return hasattr(os, "geteuid") and os.geteuid() == 0


def cleanup(folder: Path) -> None:
    """Give back the permissions build() took away, so that the folder can be deleted."""
    for path in folder.rglob("*"):
        if not path.is_symlink() and path.is_file():
            path.chmod(0o644)


# ------------------------------------------------------------------------------------------ fuzz mutators

INTERESTING = [
    b"0",
    b"-1",
    b"1",
    b"65536",
    b"1048576",
    b"1048577",
    b"16384",
    b"2147483648",
    b"4294967296",
    b"18446744073709551616",
    b"99999999999999999999",
    b"1e308",
    b"-1e308",
    b"NaN",
    b"inf",
    b"",
    b"A0",
    b"XFD1048576",
    b"XFE1",
    b"ZZZZZZZZ1",
    b"A",
    b"1A",
    b"A1:XFD1048576",
    b"#REF!",
    b"=1+1",
    b"2958466",
    b"-693594",
    b"1.7976931348623157e308",
    b"5e-324",
]
CELL_TYPES = [b"s", b"n", b"b", b"e", b"str", b"inlineStr", b"d", b"x", b""]
SNIPPETS = [
    b'<c r="A1" t="s"><v>999999</v></c>',
    b'<c r="B2" t="d"><v>not-a-date</v></c>',
    b'<c t="e"><v>#N/A</v></c>',
    b'<c r="C3"><f>SUM(A1:A2)</f></c>',
    b'<c r="D4" s="99999"><v>45000</v></c>',
    b"<row>",
    b"</row>",
    b"<c>",
    b'<mergeCell ref="A1:XFD1048576"/>',
    b'<mergeCell ref="Z9:A1"/>',
    b"<![CDATA[x]]>",
    b"&#0;",
    b"&#xFFFF;",
    b"&unknown;",
    b'<c r="A2" t="inlineStr"><is><t>' + b"\xe2\x80" + b"</t></is></c>",
    b"\x00",
    b"\xff\xfe",
]


def mutate_bytes(data: bytes, rng: random.Random, count: int | None = None) -> bytes:
    """Flip, insert, delete or overwrite a few bytes anywhere."""
    out = bytearray(data)
    for _ in range(count or rng.choice([1, 1, 2, 3, 8, 32])):
        if not out:
            out.append(rng.randrange(256))
            continue
        at = rng.randrange(len(out))
        action = rng.randrange(4)
        if action == 0:
            out[at] ^= 1 << rng.randrange(8)
        elif action == 1:
            out[at:at] = rng.randbytes(rng.choice([1, 2, 4, 16]))
        elif action == 2:
            del out[at : at + rng.choice([1, 2, 8, 64])]
        else:
            out[at] = rng.choice([0x00, 0xFF, 0x3C, 0x3E, 0x22, 0x26, 0x7F, 0x80])
    return bytes(out)


def mutate_xml(data: bytes, rng: random.Random) -> bytes:
    """A structure-aware change: a number, a cell type, an attribute or a tag, or a snippet let in."""
    choice = rng.randrange(6)
    if choice == 0:
        numbers = list(re.finditer(rb"(?<=[\">])-?\d+(?:\.\d+)?(?=[\"<])", data))
        if numbers:
            hit = rng.choice(numbers)
            return data[: hit.start()] + rng.choice(INTERESTING) + data[hit.end() :]
    if choice == 1:
        types = list(re.finditer(rb'\bt="[^"]*"', data))
        if types:
            hit = rng.choice(types)
            return data[: hit.start()] + b't="' + rng.choice(CELL_TYPES) + b'"' + data[hit.end() :]
    if choice == 2:
        refs = list(re.finditer(rb'\b(?:r|ref|sqref)="[^"]*"', data))
        if refs:
            hit = rng.choice(refs)
            return data[: hit.start()] + b'r="' + rng.choice(INTERESTING) + b'"' + data[hit.end() :]
    if choice == 3:
        tags = list(re.finditer(rb"<[^>]*>", data))
        if tags:
            hit = rng.choice(tags)
            return data[: hit.start()] + data[hit.end() :]  # a tag removed: the XML is no longer balanced
    if choice == 4:
        tags = list(re.finditer(rb"<[^>]*>", data))
        if tags:
            hit = rng.choice(tags)
            return data[: hit.start()] + data[hit.start() : hit.end()] * rng.choice([2, 50]) + data[hit.end() :]
    at = rng.randrange(len(data) + 1)
    return data[:at] + rng.choice(SNIPPETS) + data[at:]


def mutate_workbook(data: bytes, rng: random.Random) -> tuple[str, bytes]:
    """One fuzz case from a valid workbook: (what was done, the new bytes)."""
    kind = rng.random()
    if kind < 0.12:
        return "raw bytes", mutate_bytes(data, rng)
    if kind < 0.17:
        return "truncated", data[: rng.randrange(len(data))]
    parts = members(data)
    if kind < 0.27:
        action = rng.randrange(4)
        if action == 0 and len(parts) > 1:
            drop = rng.randrange(len(parts))
            return f"dropped {parts[drop][0]}", make_zip(parts[:drop] + parts[drop + 1 :])
        if action == 1:
            a, b = rng.randrange(len(parts)), rng.randrange(len(parts))
            parts[a], parts[b] = (parts[a][0], parts[b][1]), (parts[b][0], parts[a][1])
            return f"swapped {parts[a][0]} and {parts[b][0]}", make_zip(parts)
        if action == 2:
            pick = rng.randrange(len(parts))
            name, body = parts[pick]
            parts[pick] = (name, body[: rng.randrange(len(body) + 1)])
            return f"truncated part {name}", make_zip(parts)
        return "stored, not deflated", make_zip(parts, zipfile.ZIP_STORED)
    pick = rng.randrange(len(parts))
    xml_parts = [i for i, (n, _) in enumerate(parts) if n.endswith((".xml", ".rels"))]
    if kind < 0.6 and xml_parts:
        pick = rng.choice(xml_parts)
        # The sheets and shared strings are where the data is: aim there most of the time.
        favoured = [
            i for i in xml_parts if parts[i][0].startswith(("xl/worksheets/", "xl/sharedStrings", "xl/workbook"))
        ]
        if favoured and rng.random() < 0.8:
            pick = rng.choice(favoured)
        name, body = parts[pick]
        for _ in range(rng.choice([1, 1, 2, 4])):
            body = mutate_xml(body, rng)
        parts[pick] = (name, body)
        return f"xml of {name}", make_zip(parts)
    name, body = parts[pick]
    parts[pick] = (name, mutate_bytes(body, rng))
    return f"bytes of {name}", make_zip(parts)


# ------------------------------------------------------------------------------------------ fuzz runner


class Hang(BaseException):
    """A case took longer than its time guard (a BaseException, so that no catch-all of ours swallows it)."""


@dataclass
class Failure:
    case: int  # the case number: `scripts/fuzz.py --seed S --case N --keep DIR` writes it out
    what: str  # the mutation
    stage: str  # "read" or "validate"
    error: str


@dataclass
class FuzzResult:
    cases: int
    unreadable: int  # cases that became an S01 (the rest were read)
    failures: list[Failure]
    seconds: float
    validated: int = 0  # distinct readable cases that went through validate
    reasons: collections.Counter = field(default_factory=collections.Counter)  # S01 reasons, digits as #


@contextlib.contextmanager
def time_guard(seconds: float):
    """Raise Hang in this thread after seconds; a hard exit with a traceback at 4x, for a hang in native
    code that never returns to Python. Does nothing where there are no interval timers (Windows)."""
    if not hasattr(signal, "setitimer") or threading.current_thread() is not threading.main_thread():
        yield
        return

    def expire(signum, frame):
        raise Hang(f"more than {seconds} s")

    previous = signal.signal(signal.SIGALRM, expire)
    faulthandler.dump_traceback_later(seconds * 4, exit=True)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        faulthandler.cancel_dump_traceback_later()
        signal.signal(signal.SIGALRM, previous)


def fuzz_seeds() -> list[tuple[str, str, bytes]]:
    """(name, kind, bytes) to mutate: each sample workbook as it is ("xlsx") and as the BIFF8 stream of
    its .xls version ("biff": mutated, then put in an OLE file)."""
    seeds = []
    for path in sample_paths():
        data = path.read_bytes()
        seeds.append((path.name, "xlsx", data))
        seeds.append((path.stem + ".xls", "biff", biff_stream(_sheets_of(data))))
    return seeds


def fuzz_case(seed: int, number: int, seeds: list[tuple[str, str, bytes]]) -> tuple[str, str, bytes]:
    """Case number of a run: (what was done, file suffix, bytes). Each case has its own generator, so
    any one of them can be made again alone."""
    rng = random.Random(f"{seed}:{number}")
    name, kind, data = (
        seeds[rng.randrange(len(seeds))]
        if rng.random() < 0.3
        else rng.choice([entry for entry in seeds if entry[1] == "xlsx"])
    )
    if kind == "biff":
        what, mutated = mutate_xls(data, rng)
        suffix = rng.choice([".xls"] * 8 + [".xlsx"])
    else:
        what, mutated = mutate_workbook(data, rng)
        suffix = rng.choice([".xlsx"] * 8 + [".xlsm", ".xls"])
    return f"{name}: {what}", suffix, mutated


BIFF_INTERESTING = [0, 1, 255, 256, 0x3FFF, 0x4000, 0x7FFF, 0x8000, 0xFFFE, 0xFFFF]


def mutate_xls(stream: bytes, rng: random.Random) -> tuple[str, bytes]:
    """One fuzz case from a BIFF8 stream: the OLE file's bytes, or its records, changed."""
    kind = rng.random()
    if kind < 0.1:
        return "raw bytes", mutate_bytes(compound_file({"Workbook": stream}), rng)
    if kind < 0.15:
        whole = compound_file({"Workbook": stream})
        return "truncated", whole[: rng.randrange(len(whole))]
    records = []
    position = 0
    while position + 4 <= len(stream):
        record_type, length = struct.unpack_from("<HH", stream, position)
        records.append([record_type, stream[position + 4 : position + 4 + length]])
        position += 4 + length
    what = []
    for _ in range(rng.choice([1, 1, 2, 4])):
        pick = rng.randrange(len(records))
        record_type, body = records[pick]
        action = rng.randrange(6)
        if action == 0 and len(body) >= 4:  # a cell moved somewhere odd
            at = rng.choice([0, 2])
            value = rng.choice(BIFF_INTERESTING)
            records[pick][1] = body[:at] + struct.pack("<H", value) + body[at + 2 :]
            what.append(f"record {record_type:#06x} {'row' if at == 0 else 'column'} {value}")
        elif action == 1:
            records[pick][1] = mutate_bytes(body, rng) if body else rng.randbytes(4)
            what.append(f"bytes of record {record_type:#06x}")
        elif action == 2:
            del records[pick]
            what.append(f"dropped record {record_type:#06x}")
        elif action == 3:
            records.insert(pick, [record_type, body])
            what.append(f"doubled record {record_type:#06x}")
        elif action == 4:
            new_type = rng.choice([0x0203, 0x0204, 0x00FD, 0x027E, 0x00BD, 0x0006, 0x0809, 0x000A, 0x0085, 0x0200])
            records[pick][0] = new_type
            what.append(f"record {record_type:#06x} became {new_type:#06x}")
        else:  # the length field lies: the records after it are read out of step
            raw = b"".join(struct.pack("<HH", t, len(b)) + b for t, b in records[:pick])
            tail = b"".join(struct.pack("<HH", t, len(b)) + b for t, b in records[pick + 1 :])
            lie = struct.pack("<HH", record_type, rng.choice([0, 1, len(body) + 1, 0xFFFF]))
            return f"length of record {record_type:#06x}", compound_file({"Workbook": raw + lie + body + tail})
    rebuilt = b"".join(struct.pack("<HH", t, len(b)) + b for t, b in records)
    return ", ".join(what), compound_file({"Workbook": rebuilt})


def run_fuzz(
    cases: int,
    seed: int,
    folder: Path,
    *,
    first: int = 0,
    per_case: float = 10.0,
    validate_limit: int | None = None,
    batch_size: int = 25,
    progress=None,
    before=None,
) -> FuzzResult:
    """Read cases first..first+cases-1 one by one; validate, in batches, each case read whose tables
    differ from every sample's and every earlier case's (at most validate_limit of them). Any exception
    that escapes read_workbook or validate, any S01 from an internal error and any case over per_case
    seconds is a Failure. before(number), when given, is called before each case is read."""
    from tr_excel.policy import load_policy
    from tr_excel.reader import INTERNAL_ERROR, read_workbook

    policy = load_policy(None)
    seeds = fuzz_seeds()
    folder.mkdir(parents=True, exist_ok=True)
    failures: list[Failure] = []
    unreadable = 0
    started = time.perf_counter()
    seen = {_fingerprint(read_workbook(path, path.name, 0, policy)) for path in sample_paths()}
    for name, kind, data in seeds:
        if kind == "biff":
            original = folder / name
            original.write_bytes(compound_file({"Workbook": data}))
            seen.add(_fingerprint(read_workbook(original, name, 0, policy)))
            original.unlink()
    batch: list[tuple[int, str, object]] = []
    validated = 0
    reasons: collections.Counter = collections.Counter()

    for number in range(first, first + cases):
        what, suffix, data = fuzz_case(seed, number, seeds)
        path = folder / f"case{number}{suffix}"
        path.write_bytes(data)
        if before is not None:
            before(number)  # e.g. leave a note: a crash in native code leaves no traceback
        book = None
        try:
            with time_guard(per_case):
                book = read_workbook(path, path.name, 0, policy)
        except Hang as hang:
            failures.append(Failure(number, what, "read", f"hang: {hang}"))
        except BaseException as error:  # noqa: B036  (a PanicException is not an Exception)
            if isinstance(error, KeyboardInterrupt | SystemExit):
                raise
            failures.append(Failure(number, what, "read", _describe(error)))
        if book is not None and not book.readable:
            unreadable += 1
            message = book.findings[0].message if book.findings else ""
            reasons[re.sub(r"\d+", "#", re.sub(r"“[^”]*”", "“…”", message))] += 1
            if message.startswith(INTERNAL_ERROR) or not message:
                failures.append(Failure(number, what, "read", message or "S01 without a reason"))
        elif book is not None and (validate_limit is None or validated < validate_limit):
            fingerprint = _fingerprint(book)
            if fingerprint not in seen:
                seen.add(fingerprint)
                validated += 1
                batch.append((number, what, book))
        if not any(entry[0] == number for entry in batch):
            path.unlink()
        if len(batch) >= batch_size:
            failures += _validate_batch(batch, folder, policy, per_case)
        if progress is not None:
            progress(number - first + 1, cases, len(failures))
    if batch:
        failures += _validate_batch(batch, folder, policy, per_case)
    return FuzzResult(cases, unreadable, failures, time.perf_counter() - started, validated, reasons)


def _fingerprint(book) -> int:
    """What the rules see of a book: its tables' rows, cells and unit line."""
    tables = sorted(
        (
            name,
            table.sheet,
            tuple(table.rows),
            repr(sorted(table.cells.items())),
            repr(table.total_cells),
            table.unit_line,
            tuple(sorted(table.formula_cells)),
        )
        for name, table in book.tables.items()
    )
    return hash((repr(tables), tuple(finding.rule for finding in book.findings)))


def _validate_batch(batch: list, folder: Path, policy, per_case: float) -> list[Failure]:
    """Validate the batch's books together; when that fails, one by one to name the culprits."""
    from unittest import mock

    from tr_excel import engine

    def run(books: list, seconds: float) -> None:
        for index, book in enumerate(books):
            book.index = index
            book.frames = engine.build_frames(book, policy)  # what read_batch's worker does after reading
        with time_guard(seconds), mock.patch.object(engine, "read_batch", lambda *args, **kwargs: books):
            engine.validate([folder], policy)

    failures: list[Failure] = []
    try:
        run([book for _, _, book in batch], per_case * len(batch))
    except BaseException as error:  # noqa: B036
        if isinstance(error, KeyboardInterrupt | SystemExit):
            raise
        for number, what, book in batch:
            try:
                run([book], per_case)
            except Hang as hang:
                failures.append(Failure(number, what, "validate", f"hang: {hang}"))
            except BaseException as single:  # noqa: B036
                if isinstance(single, KeyboardInterrupt | SystemExit):
                    raise
                failures.append(Failure(number, what, "validate", _describe(single)))
        if not failures:
            failures.append(Failure(batch[0][0], "the batch together", "validate", _describe(error)))
    for _, _, book in batch:
        book.path.unlink(missing_ok=True)
    batch.clear()
    return failures


def _describe(error: BaseException) -> str:
    frames = traceback.extract_tb(error.__traceback__)
    where = next((f"{Path(f.filename).name}:{f.lineno}" for f in reversed(frames) if "tr_excel" in f.filename), "?")
    return f"{type(error).__name__}: {error} (at {where})"


def main(argv: list[str]) -> int:
    if len(argv) != 1:
        print(__doc__)
        return 2
    folder = Path(argv[0])
    if folder.exists():
        print(f"{folder} exists; give a new folder")
        return 2
    for case in build(folder):
        print(f"{case.expect:8} {case.name}  {case.reason}")
    return 0


if __name__ == "__main__":
    sys.path.insert(0, str(ROOT))
    raise SystemExit(main(sys.argv[1:]))
