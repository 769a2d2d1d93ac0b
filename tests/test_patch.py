"""tr_excel.consolidate.patch: fills and comments written into a copy of the zip, everything else left as it was."""

from __future__ import annotations

import io
import re
import shutil
import struct
import subprocess
import zipfile
import zlib
from pathlib import Path

import openpyxl
import pytest
import python_calamine
import xlsxwriter
from conftest import cell_values, unnumbered_rows
from openpyxl.comments import Comment

from tr_excel.consolidate.patch import Unsupported, XlsxPatch

RED, YELLOW = "FFFF8080", "FFFFFF00"
AUTHOR = "tr-excel 审核"


def _png() -> bytes:
    """A 1×1 red PNG (no imaging library needed)."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    header = struct.pack(">IIBBBBB", 1, 1, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(b"\0\xff\0\0"))
        + chunk(b"IEND", b"")
    )


def _xlsxwriter_book(path: Path, build) -> Path:
    workbook = xlsxwriter.Workbook(str(path))
    build(workbook)
    workbook.close()
    return path


def _basic(workbook) -> None:
    """Sheet "数据": a title merged over A1:D1, a styled header, values, a formula; a second sheet of values."""
    bold = workbook.add_format({"bold": True, "border": 1, "align": "center"})
    money = workbook.add_format({"num_format": "#,##0.00", "italic": True, "border": 2, "locked": False})
    sheet = workbook.add_worksheet("数据")
    sheet.merge_range("A1:D1", "标题", bold)
    sheet.write_row("A2", ["企业", "项目", "金额", "备注"], bold)
    sheet.write_row("A3", ["甲公司", "一期", 1234.5], None)
    sheet.write("C3", 1234.5, money)
    sheet.write_row("A5", ["乙公司", "二期", 99])  # row 4 left out
    sheet.write_formula("C6", "=C3+C5", money, 1333.5)
    other = workbook.add_worksheet("其他")
    other.write_column("A1", ["x", "y", "z"])


def _patched(path: Path, marks, out: Path | None = None) -> Path:
    patch = XlsxPatch(path)
    for mark in marks:
        if mark[0] == "fill":
            patch.fill(*mark[1:])
        else:
            patch.comment(*mark[1:], AUTHOR, 320, 80)
    out = out or path.with_name(path.stem + "_out.xlsx")
    out.write_bytes(patch.save())
    return out


def _parts(path: Path) -> dict[str, bytes]:
    with zipfile.ZipFile(path) as archive:
        assert archive.testzip() is None
        return {name: archive.read(name) for name in archive.namelist()}


def _calamine_values(path: Path) -> dict:
    """Every non-empty value of every worksheet, by (sheet, row, column)."""
    book = python_calamine.CalamineWorkbook.from_path(str(path))
    values = {}
    for name in book.sheet_names:
        for r, row in enumerate(book.get_sheet_by_name(name).to_python()):
            values.update({(name, r, c): value for c, value in enumerate(row) if value not in ("", None)})
    return values


def _check_copy(source: Path, out: Path, changed: set[str]) -> None:
    """Values and merges as in the source (python-calamine and openpyxl), every other part byte for byte."""
    assert _calamine_values(out) == _calamine_values(source)
    assert cell_values(out) == cell_values(source)
    before, after = openpyxl.load_workbook(source), openpyxl.load_workbook(out)
    for ws in before.worksheets:
        assert {str(r) for r in after[ws.title].merged_cells.ranges} == {str(r) for r in ws.merged_cells.ranges}
    old, new = _parts(source), _parts(out)
    for name, data in old.items():
        if name not in changed:
            assert new.get(name) == data, name


def _comment(cell) -> tuple[str, str] | None:
    return None if cell.comment is None else (cell.comment.text, cell.comment.author)


@pytest.fixture
def basic(tmp_path) -> Path:
    return _xlsxwriter_book(tmp_path / "basic.xlsx", _basic)


def test_cell_with_existing_style_keeps_it(basic):
    out = _patched(basic, [("fill", "数据", 3, 3, RED), ("fill", "数据", 2, 1, YELLOW)])
    ws = openpyxl.load_workbook(out)["数据"]
    money = ws["C3"]
    assert money.fill.patternType == "solid" and money.fill.fgColor.rgb == RED
    assert money.number_format == "#,##0.00" and money.font.i and money.border.left.style == "medium"
    assert money.protection.locked is False
    header = ws["A2"]
    assert header.fill.fgColor.rgb == YELLOW and header.font.b and header.alignment.horizontal == "center"
    assert ws["C6"].fill.patternType is None  # same format as C3, not marked: its own format is untouched
    assert ws["C6"].number_format == "#,##0.00"
    _check_copy(basic, out, {"xl/worksheets/sheet1.xml", "xl/styles.xml"})


def test_one_new_format_per_format_and_colour(basic):
    marks = [("fill", "数据", 3, column, RED) for column in (1, 2)] + [("fill", "数据", 5, 1, RED)]
    out = _patched(basic, [*marks, ("fill", "数据", 3, 3, RED), ("fill", "数据", 5, 2, YELLOW)])
    styles = _parts(out)["xl/styles.xml"]
    before = _parts(basic)["xl/styles.xml"]
    count = int(re.search(rb'<cellXfs count="(\d+)"', before).group(1))
    # A1/B3/A5 share the default format (1 new), C3 its money format (1), B5 the default in yellow (1).
    assert re.search(rb'<cellXfs count="(\d+)"', styles).group(1) == b"%d" % (count + 3)
    assert styles.count(b"<fill>") == before.count(b"<fill>") + 2


def test_cell_absent_from_the_xml(basic):
    out = _patched(
        basic, [("fill", "数据", 3, 4, RED), ("fill", "数据", 5, 26, YELLOW), ("comment", "数据", 3, 4, "空")]
    )
    ws = openpyxl.load_workbook(out)["数据"]
    assert ws["D3"].fill.fgColor.rgb == RED and ws["D3"].value is None
    assert _comment(ws["D3"]) == ("空", AUTHOR)
    assert ws["Z5"].fill.fgColor.rgb == YELLOW
    sheet = _parts(out)["xl/worksheets/sheet1.xml"]
    row = re.search(rb'<row r="3".*?</row>', sheet).group(0)
    assert re.findall(rb'<c r="([A-Z]+)3"', row) == [b"A", b"B", b"C", b"D"]  # in column order
    assert b'<dimension ref="A1:Z6"/>' in sheet
    assert re.search(rb'<row r="5" spans="1:26"', sheet)
    _check_copy(basic, out, {"xl/worksheets/sheet1.xml", "xl/styles.xml", "[Content_Types].xml"})


def test_cell_absent_takes_its_row_or_column_style(tmp_path):
    def build(workbook):
        sheet = workbook.add_worksheet()
        sheet.set_column("B:B", 20, workbook.add_format({"num_format": "0.0%"}))
        sheet.set_row(2, None, workbook.add_format({"bold": True}))
        sheet.write("A1", 1)
        sheet.write("A3", 2)

    source = _xlsxwriter_book(tmp_path / "styled.xlsx", build)
    out = _patched(
        source, [("fill", "Sheet1", 1, 2, RED), ("fill", "Sheet1", 3, 3, RED), ("fill", "Sheet1", 1, 3, RED)]
    )
    ws = openpyxl.load_workbook(out)["Sheet1"]
    assert ws["B1"].number_format == "0.0%" and ws["B1"].fill.fgColor.rgb == RED
    assert ws["C3"].font.b and ws["C3"].fill.fgColor.rgb == RED
    assert ws["C1"].number_format == "General" and not ws["C1"].font.b


def test_row_absent(basic):
    marks = [("fill", "数据", 4, 2, RED), ("fill", "数据", 9, 1, YELLOW), ("comment", "数据", 9, 1, "末行之后")]
    out = _patched(basic, marks)
    sheet = _parts(out)["xl/worksheets/sheet1.xml"]
    assert re.findall(rb'<row r="(\d+)"', sheet) == [b"1", b"2", b"3", b"4", b"5", b"6", b"9"]
    ws = openpyxl.load_workbook(out)["数据"]
    assert ws["B4"].fill.fgColor.rgb == RED and ws["A9"].fill.fgColor.rgb == YELLOW
    assert _comment(ws["A9"]) == ("末行之后", AUTHOR)
    assert b'<dimension ref="A1:D9"/>' in sheet
    _check_copy(basic, out, {"xl/worksheets/sheet1.xml", "xl/styles.xml", "[Content_Types].xml"})


def test_two_marks_on_one_cell(basic):
    marks = [
        ("fill", "数据", 3, 1, YELLOW),
        ("fill", "数据", 3, 1, RED),
        ("comment", "数据", 3, 1, "第一条"),
        ("comment", "数据", 3, 1, "第二条"),
    ]
    out = _patched(basic, marks)
    cell = openpyxl.load_workbook(out)["数据"]["A3"]
    assert cell.fill.fgColor.rgb == RED  # the later fill
    assert _comment(cell) == ("第一条\n第二条", AUTHOR)
    assert _parts(out)["xl/comments1.xml"].count(b"<comment ") == 1


def test_marks_on_several_sheets(basic):
    marks = [("fill", "数据", 3, 1, RED), ("comment", "数据", 3, 1, "一"), ("comment", "其他", 2, 1, "二")]
    out = _patched(basic, [*marks, ("fill", "其他", 2, 1, YELLOW)])
    book = openpyxl.load_workbook(out)
    assert _comment(book["数据"]["A3"]) == ("一", AUTHOR) and book["数据"]["A3"].fill.fgColor.rgb == RED
    assert _comment(book["其他"]["A2"]) == ("二", AUTHOR) and book["其他"]["A2"].fill.fgColor.rgb == YELLOW
    parts = _parts(out)
    # Each VML drawing declares its own block of shape ids: no two comments of the workbook share one.
    blocks = [
        re.search(rb'idmap v:ext="edit" data="(\d+)"', parts[f"xl/drawings/vmlDrawing{n}.vml"]).group(1) for n in (1, 2)
    ]
    assert blocks == [b"1", b"2"]
    assert b'<Default Extension="vml"' in parts["[Content_Types].xml"]
    assert parts["[Content_Types].xml"].count(b"spreadsheetml.comments+xml") == 2
    changed = {"xl/worksheets/sheet1.xml", "xl/worksheets/sheet2.xml", "xl/styles.xml", "[Content_Types].xml"}
    _check_copy(basic, out, changed)


def test_sheet_that_already_has_comments_from_excel(tmp_path):
    """xlsxwriter writes comments as Excel does (rich text runs, v:/o:/x: VML): ours are merged in."""

    def build(workbook):
        sheet = workbook.add_worksheet("S")
        sheet.write("A1", "a")
        sheet.write_comment("A1", "县里的批注", {"author": "县"})
        sheet.write_comment("B2", "另一条")

    source = _xlsxwriter_book(tmp_path / "commented.xlsx", build)
    out = _patched(source, [("comment", "S", 1, 1, "我们的"), ("fill", "S", 1, 1, RED), ("comment", "S", 3, 3, "新")])
    ws = openpyxl.load_workbook(out)["S"]
    assert _comment(ws["A1"]) == ("县里的批注\n\n我们的", AUTHOR)
    assert _comment(ws["B2"]) == _comment(openpyxl.load_workbook(source)["S"]["B2"])  # not ours: untouched
    assert _comment(ws["C3"]) == ("新", AUTHOR)
    parts = _parts(out)
    vml = parts["xl/drawings/vmlDrawing1.vml"]
    assert vml.count(b"<v:shape ") == 3
    ids = re.findall(rb'id="_x0000_s(\d+)"', vml)
    assert len(set(ids)) == 3
    assert re.search(rb'data="1,2"', vml)  # the new shape's id block declared with the old one
    first = re.search(rb'<v:shape [^>]*style="([^"]*)".*?<x:Row>0</x:Row><x:Column>0</x:Column>', vml).group(1)
    assert b"width:240pt;height:115.5pt" in first  # the wider box, high enough for both texts (74 + 80 px)
    assert parts["xl/worksheets/sheet1.xml"].count(b"<legacyDrawing") == 1
    assert parts.keys() == _parts(source).keys()  # no new part: the existing ones extended


def test_sheet_that_already_has_comments_from_openpyxl(tmp_path):
    """openpyxl's comments: plain <t> text, absolute relationship targets, VML with ns0:/ns1:/ns2: prefixes."""
    source = tmp_path / "openpyxl.xlsx"
    book = openpyxl.Workbook()
    book.active.title = "S"
    book.active["B2"] = "b"
    book.active["B2"].comment = Comment("旧的", "someone")
    book.active["C3"].comment = Comment("不动", "someone")
    book.save(source)
    out = _patched(source, [("comment", "S", 2, 2, "新的"), ("comment", "S", 4, 1, "另一格")])
    ws = openpyxl.load_workbook(out)["S"]
    assert _comment(ws["B2"]) == ("旧的\n\n新的", AUTHOR)
    assert _comment(ws["C3"]) == ("不动", "someone")
    assert _comment(ws["A4"]) == ("另一格", AUTHOR)
    vml = _parts(out)["xl/drawings/commentsDrawing1.vml"]
    assert vml.count(b"<ns1:shape ") == 3 and b"<v:" not in vml


_MC = b"http://schemas.openxmlformats.org/markup-compatibility/2006"
_CHECKBOX_VML = (
    b'<xml xmlns:v="urn:schemas-microsoft-com:vml" xmlns:o="urn:schemas-microsoft-com:office:office" '
    b'xmlns:x="urn:schemas-microsoft-com:office:excel"><o:shapelayout v:ext="edit"><o:idmap v:ext="edit" data="1"/>'
    b'</o:shapelayout><v:shapetype id="_x0000_t201" coordsize="21600,21600" o:spt="201" '
    b'path="m,l,21600r21600,l21600,xe">'
    b'</v:shapetype><v:shape id="_x0000_s1025" type="#_x0000_t201" style="position:absolute;width:60pt;height:15pt">'
    b'<x:ClientData ObjectType="Checkbox"><x:Anchor>1, 0, 1, 0, 2, 0, 2, 0</x:Anchor><x:Checked>1</x:Checked>'
    b"</x:ClientData></v:shape></xml>"
)


def test_sheet_with_a_form_control(tmp_path, basic):
    """Excel keeps a check box as a VML shape and <controls> nested in two mc:AlternateContent: our comment goes
    into the same drawing, after the check box, and <legacyDrawing> stays the one it has."""
    parts = _parts(basic)
    controls = (
        b'<legacyDrawing r:id="rId90"/><mc:AlternateContent xmlns:mc="%s"><mc:Choice Requires="x14"><controls>'
        b'<mc:AlternateContent xmlns:mc="%s"><mc:Choice Requires="x14"><control shapeId="1025" r:id="rId91" '
        b'name="Check Box 1"><controlPr defaultSize="0" autoPict="0"/></control></mc:Choice></mc:AlternateContent>'
        b"</controls></mc:Choice></mc:AlternateContent></worksheet>" % (_MC, _MC)
    )
    sheet = parts["xl/worksheets/sheet1.xml"].replace(b"</worksheet>", controls)
    parts["xl/worksheets/sheet1.xml"] = sheet
    kind = b"http://schemas.openxmlformats.org/officeDocument/2006/relationships/"
    parts["xl/worksheets/_rels/sheet1.xml.rels"] = (
        b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<Relationships xmlns="http://schemas.openxmlformats.'
        b'org/package/2006/relationships"><Relationship Id="rId90" Type="%svmlDrawing" Target="../drawings/vmlDrawing1'
        b'.vml"/><Relationship Id="rId91" Type="http://schemas.microsoft.com/office/2007/relationships/ctrlProp" '
        b'Target="../ctrlProps/ctrlProp1.xml"/></Relationships>' % kind
    )
    parts["xl/drawings/vmlDrawing1.vml"] = _CHECKBOX_VML
    parts["xl/ctrlProps/ctrlProp1.xml"] = (
        b'<formControlPr xmlns="http://schemas.microsoft.com/office/spreadsheetml/2009/9/main" objectType="CheckBox"/>'
    )
    parts["[Content_Types].xml"] = parts["[Content_Types].xml"].replace(
        b"</Types>",
        b'<Default Extension="vml" ContentType="application/vnd.openxmlformats-officedocument.vmlDrawing"/>'
        b'<Override PartName="/xl/ctrlProps/ctrlProp1.xml" '
        b'ContentType="application/vnd.ms-excel.controlproperties+xml"/>'
        b"</Types>",
    )
    source = tmp_path / "control.xlsx"
    _write_parts(source, parts)
    out = _patched(source, [("comment", "数据", 3, 1, "勾选项"), ("fill", "数据", 3, 1, RED)])
    new = _parts(out)
    assert new["xl/worksheets/sheet1.xml"].count(b"<legacyDrawing") == 1
    assert new["xl/worksheets/sheet1.xml"].endswith(controls)  # untouched after sheetData
    vml = new["xl/drawings/vmlDrawing1.vml"]
    checkbox = re.search(rb'<v:shape id="_x0000_s1025".*?</v:shape>', _CHECKBOX_VML).group(0)
    assert vml.index(checkbox) < vml.index(b'ObjectType="Note"')  # the check box kept as it was, ours after it
    assert b'data="1,2"' in vml and b'id="_x0000_t202"' in vml and b'id="_x0000_s2049"' in vml
    assert _comment(openpyxl.load_workbook(out)["数据"]["A3"]) == ("勾选项", AUTHOR)
    assert new["xl/ctrlProps/ctrlProp1.xml"] == parts["xl/ctrlProps/ctrlProp1.xml"]


def test_threaded_comments_are_unsupported(tmp_path):
    source = tmp_path / "threaded.xlsx"
    book = openpyxl.Workbook()
    book.active["A1"].comment = Comment("x", "y")
    book.save(source)
    parts = _parts(source)
    rels = "xl/worksheets/_rels/sheet1.xml.rels"
    kind = b"http://schemas.microsoft.com/office/2017/10/relationships/threadedComment"
    parts[rels] = parts[rels].replace(
        b"</Relationships>",
        b'<Relationship Id="t1" Type="%s" Target="../threadedComments/t1.xml"/></Relationships>' % kind,
    )
    _write_parts(source, parts)
    patch = XlsxPatch(source)
    patch.fill("Sheet", 1, 1, RED)
    patch.save()  # fills alone do not touch the comments
    patch.comment("Sheet", 1, 1, "z", AUTHOR, 320, 80)
    with pytest.raises(Unsupported, match="threaded"):
        patch.save()


def test_image_and_chart_survive(tmp_path):
    image = tmp_path / "red.png"
    image.write_bytes(_png())

    def build(workbook):
        sheet = workbook.add_worksheet("图")
        sheet.write_column("A1", [1, 2, 3])
        sheet.insert_image("C2", str(image))
        chart = workbook.add_chart({"type": "column"})
        chart.add_series({"values": "='图'!$A$1:$A$3"})
        sheet.insert_chart("E2", chart)

    source = _xlsxwriter_book(tmp_path / "drawing.xlsx", build)
    out = _patched(source, [("fill", "图", 2, 1, RED), ("comment", "图", 2, 1, "图旁")])
    old, new = _parts(source), _parts(out)
    for name in ("xl/media/image1.png", "xl/charts/chart1.xml", "xl/drawings/drawing1.xml"):
        assert new[name] == old[name]
    sheet = new["xl/worksheets/sheet1.xml"]
    assert sheet.index(b"<drawing ") < sheet.index(b"<legacyDrawing ")  # CT_Worksheet order
    rels = new["xl/worksheets/_rels/sheet1.xml.rels"]
    assert b"/drawing" in rels and b"/comments" in rels and b"/vmlDrawing" in rels
    assert _comment(openpyxl.load_workbook(out)["图"]["A2"]) == ("图旁", AUTHOR)
    _check_copy(
        source,
        out,
        {"xl/worksheets/sheet1.xml", "xl/worksheets/_rels/sheet1.xml.rels", "xl/styles.xml", "[Content_Types].xml"},
    )


def test_legacy_drawing_goes_before_table_parts(tmp_path):
    def build(workbook):
        sheet = workbook.add_worksheet("T")
        sheet.add_table("A1:B3", {"data": [[1, 2], [3, 4]]})

    source = _xlsxwriter_book(tmp_path / "table.xlsx", build)
    out = _patched(source, [("comment", "T", 2, 1, "表内")])
    sheet = _parts(out)["xl/worksheets/sheet1.xml"]
    assert sheet.index(b"<legacyDrawing ") < sheet.index(b"<tableParts")
    assert _comment(openpyxl.load_workbook(out)["T"]["A2"]) == ("表内", AUTHOR)


def test_xlsm_source_gives_a_macro_free_xlsx(tmp_path):
    vba = tmp_path / "vbaProject.bin"
    vba.write_bytes(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(504))  # only copied, never run

    def build(workbook):
        workbook.add_worksheet("宏").write("A1", 5)
        workbook.add_vba_project(str(vba))

    source = _xlsxwriter_book(tmp_path / "macro.xlsm", build)
    assert "xl/vbaProject.bin" in _parts(source)
    out = _patched(source, [("fill", "宏", 1, 1, RED)], tmp_path / "macro_out.xlsx")
    parts = _parts(out)
    assert "xl/vbaProject.bin" not in parts
    assert b"vbaProject" not in parts["xl/_rels/workbook.xml.rels"] + parts["[Content_Types].xml"]
    assert b"macroEnabled" not in parts["[Content_Types].xml"]
    assert b"spreadsheetml.sheet.main+xml" in parts["[Content_Types].xml"]
    book = openpyxl.load_workbook(out)
    assert book["宏"]["A1"].value == 5 and book["宏"]["A1"].fill.fgColor.rgb == RED
    assert _calamine_values(out) == _calamine_values(source)


def test_sheet_names_with_special_characters(tmp_path):
    name = "A&B<C'D"

    def build(workbook):
        workbook.add_worksheet(name).write("A1", "v")
        workbook.add_chartsheet("图表").set_chart(_column_chart(workbook, name))

    source = _xlsxwriter_book(tmp_path / "names.xlsx", build)
    patch = XlsxPatch(source)
    assert patch.sheet_names == [name]  # the chartsheet left out
    patch.fill(name, 1, 1, RED)
    patch.comment(name, 1, 1, "x", AUTHOR, 320, 80)
    out = tmp_path / "names_out.xlsx"
    out.write_bytes(patch.save())
    ws = openpyxl.load_workbook(out)[name]
    assert ws["A1"].fill.fgColor.rgb == RED and _comment(ws["A1"]) == ("x", AUTHOR)


def _column_chart(workbook, sheet: str):
    chart = workbook.add_chart({"type": "column"})
    chart.add_series({"values": "='" + sheet.replace("'", "''") + "'!$A$1:$A$1"})
    return chart


def test_comment_text_with_markup_and_control_characters(basic):
    text = 'a < b & c > "d"\x00\x01\x0b e\r\nf\tg \ud800h'
    out = _patched(basic, [("comment", "数据", 3, 1, text)])
    assert _comment(openpyxl.load_workbook(out)["数据"]["A3"]) == ('a < b & c > "d" e\nf\tg h', AUTHOR)


def test_author_is_escaped_and_shared(basic):
    patch = XlsxPatch(basic)
    patch.comment("数据", 3, 1, "一", "A&B", 320, 80)
    patch.comment("数据", 3, 2, "二", "A&B", 320, 80)
    comments = patch.save()
    with zipfile.ZipFile(io.BytesIO(comments)) as archive:
        assert archive.read("xl/comments1.xml").count(b"<author>A&amp;B</author>") == 1


def test_shared_strings_untouched(basic):
    out = _patched(basic, [("fill", "数据", 2, 2, RED), ("comment", "数据", 2, 2, "表头")])
    old, new = _parts(basic), _parts(out)
    assert new["xl/sharedStrings.xml"] == old["xl/sharedStrings.xml"]
    with zipfile.ZipFile(basic) as a, zipfile.ZipFile(out) as b:  # copied compressed, not deflated again
        assert a.getinfo("xl/sharedStrings.xml").compress_size == b.getinfo("xl/sharedStrings.xml").compress_size


def test_empty_sheet(tmp_path):
    source = _xlsxwriter_book(tmp_path / "empty.xlsx", lambda workbook: workbook.add_worksheet("空"))
    assert b"<sheetData/>" in _parts(source)["xl/worksheets/sheet1.xml"]
    patch = XlsxPatch(source)
    assert patch.max_column("空") == 1 and patch.merged("空") == []
    patch.fill("空", 1, 1, RED)
    patch.comment("空", 1, 1, "整个文件", AUTHOR, 320, 80)
    out = tmp_path / "empty_out.xlsx"
    out.write_bytes(patch.save())
    ws = openpyxl.load_workbook(out)["空"]
    assert ws["A1"].fill.fgColor.rgb == RED and _comment(ws["A1"]) == ("整个文件", AUTHOR)
    sheet = _parts(out)["xl/worksheets/sheet1.xml"]
    assert b'<dimension ref="A1"/>' in sheet and b'<sheetData><row r="1"><c r="A1" s="' in sheet


def test_merged_and_max_column(basic):
    patch = XlsxPatch(basic)
    assert patch.sheet_names == ["数据", "其他"]
    assert patch.merged("数据") == [(1, 1, 1, 4)]
    assert patch.max_column("数据") == 4 and patch.max_column("其他") == 1


def test_workbook_without_styles(tmp_path, basic):
    parts = _parts(basic)
    for name in [name for name in parts if "styles" in name]:
        del parts[name]
    parts["xl/_rels/workbook.xml.rels"] = re.sub(
        rb"<Relationship [^>]*styles[^>]*/>", b"", parts["xl/_rels/workbook.xml.rels"]
    )
    parts["[Content_Types].xml"] = re.sub(rb"<Override [^>]*styles[^>]*/>", b"", parts["[Content_Types].xml"])
    for name in ("xl/worksheets/sheet1.xml", "xl/worksheets/sheet2.xml"):
        parts[name] = re.sub(rb' s="\d+"', b"", parts[name])
    source = tmp_path / "nostyles.xlsx"
    _write_parts(source, parts)
    out = _patched(source, [("fill", "数据", 3, 1, RED)])
    assert openpyxl.load_workbook(out)["数据"]["A3"].fill.fgColor.rgb == RED
    assert b"/xl/styles.xml" in _parts(out)["[Content_Types].xml"]


def test_rows_without_r_are_unsupported(tmp_path, basic):
    source = unnumbered_rows(Path(shutil.copy(basic, tmp_path / "nor.xlsx")))
    patch = XlsxPatch(source)
    patch.fill("数据", 3, 1, RED)
    with pytest.raises(Unsupported):
        patch.save()


def test_strict_ooxml_is_unsupported(tmp_path, basic):
    parts = _parts(basic)
    parts["xl/workbook.xml"] = parts["xl/workbook.xml"].replace(
        b"http://schemas.openxmlformats.org/spreadsheetml/2006/main", b"http://purl.oclc.org/ooxml/spreadsheetml/main"
    )
    source = tmp_path / "strict.xlsx"
    _write_parts(source, parts)
    with pytest.raises(Unsupported):
        XlsxPatch(source)


def _write_parts(path: Path, parts: dict[str, bytes]) -> None:
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in parts.items():
            archive.writestr(name, data)


@pytest.mark.skipif(shutil.which("soffice") is None, reason="LibreOffice not installed")
def test_libreoffice_opens_the_results(tmp_path, basic):
    """One LibreOffice run converts a few patched copies back to .xlsx: fills and comments are read."""
    first = _patched(
        basic, [("fill", "数据", 3, 3, RED), ("comment", "数据", 3, 3, "金额有误"), ("fill", "数据", 8, 2, RED)]
    )
    image = tmp_path / "red.png"
    image.write_bytes(_png())

    def build(workbook):
        sheet = workbook.add_worksheet("S")
        sheet.write("A1", "a")
        sheet.write_comment("A1", "县里的批注")
        sheet.insert_image("C2", str(image))

    second = _patched(_xlsxwriter_book(tmp_path / "other.xlsx", build), [("comment", "S", 1, 1, "我们的")])
    converted = tmp_path / "converted"
    command = [
        "soffice",
        f"-env:UserInstallation=file://{tmp_path / 'profile'}",
        "--headless",
        "--convert-to",
        "xlsx",
        "--outdir",
        str(converted),
        str(first),
        str(second),
    ]
    subprocess.run(command, capture_output=True, timeout=120, check=True)
    ws = openpyxl.load_workbook(converted / first.name)["数据"]
    assert ws["C3"].fill.fgColor.rgb.endswith("FF8080") and ws["C3"].comment.text == "金额有误"
    assert ws["C3"].value == 1234.5 and ws["C3"].number_format == "#,##0.00"
    texts = openpyxl.load_workbook(converted / second.name)["S"]["A1"].comment.text
    assert "县里的批注" in texts and "我们的" in texts


def test_a_workbook_with_every_sheet_hidden_shows_its_first(tmp_path):
    def build(workbook):
        for name in ("一", "二"):
            workbook.add_worksheet(name).write("A1", name)

    source = _xlsxwriter_book(tmp_path / "hidden.xlsx", build)
    parts = _parts(source)
    # Excel will not hide every sheet, a county's tool may: both hidden in the XML.
    parts["xl/workbook.xml"] = parts["xl/workbook.xml"].replace(b"<sheet name=", b'<sheet state="hidden" name=')
    _write_parts(source, parts)
    assert [s.sheet_state for s in openpyxl.load_workbook(source).worksheets] == ["hidden", "hidden"]
    out = _patched(source, [("fill", "二", 1, 1, RED)])
    assert [s.sheet_state for s in openpyxl.load_workbook(out).worksheets] == ["visible", "hidden"]
