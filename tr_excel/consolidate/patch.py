"""Return copies without openpyxl: a county's .xlsx/.xlsm copied zip part by part, only what a mark changes edited."""

from __future__ import annotations

import contextlib
import io
import posixpath
import re
import struct
import zipfile
import zlib
from bisect import bisect_left
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import unquote
from xml.etree import ElementTree

from tr_excel.findings import column_index, column_letter

__all__ = ["COMPRESS_LEVEL", "Unsupported", "XlsxPatch"]

# zlib level of the parts that change (the others are copied compressed). Deflating a marked sheet of 740 KB
# takes 10 ms at 6, 3 ms at 1: on the bench corpus 18 ms a file at 6, 11 ms at 1, the copy 18 % larger (about
# 160 KB instead of 137 KB), which a copy sent back to a county can afford.
COMPRESS_LEVEL = 1

_MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
_REL = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
_PKG_REL = "http://schemas.openxmlformats.org/package/2006/relationships"
_RT_OFFICE = _REL + "/officeDocument"
_RT_WORKSHEET = _REL + "/worksheet"
_RT_STYLES = _REL + "/styles"
_RT_COMMENTS = _REL + "/comments"
_RT_VML = _REL + "/vmlDrawing"
_RT_VBA = "http://schemas.microsoft.com/office/2006/relationships/vbaProject"
_RT_THREADED = "http://schemas.microsoft.com/office/2017/10/relationships/threadedComment"
_CT_MAIN = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"
# Main parts an .xlsx cannot declare: Excel refuses a file whose extension and content type disagree.
_CT_OTHER_MAINS = {
    "application/vnd.ms-excel.sheet.macroEnabled.main+xml",
    "application/vnd.openxmlformats-officedocument.spreadsheetml.template.main+xml",
    "application/vnd.ms-excel.template.macroEnabled.main+xml",
}
_CT_VBA = "application/vnd.ms-office.vbaProject"
_CT_STYLES = "application/vnd.openxmlformats-officedocument.spreadsheetml.styles+xml"
_CT_COMMENTS = "application/vnd.openxmlformats-officedocument.spreadsheetml.comments+xml"
_CT_VML = "application/vnd.openxmlformats-officedocument.vmlDrawing"
_CT_RELS = "application/vnd.openxmlformats-package.relationships+xml"
_VML_NS = {
    b"v": b"urn:schemas-microsoft-com:vml",
    b"o": b"urn:schemas-microsoft-com:office:office",
    b"x": b"urn:schemas-microsoft-com:office:excel",
}
_XML_DECL = b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'

# CT_Worksheet's children in schema order: a <legacyDrawing> goes after "drawing" and before the rest.
_SHEET_ORDER = {
    name: index
    for index, name in enumerate(
        "sheetPr dimension sheetViews sheetFormatPr cols sheetData sheetCalcPr sheetProtection protectedRanges "
        "scenarios autoFilter sortState dataConsolidate customSheetViews mergeCells phoneticPr conditionalFormatting "
        "dataValidations hyperlinks printOptions pageMargins pageSetup headerFooter rowBreaks colBreaks "
        "customProperties cellWatches ignoredErrors smartTags drawing legacyDrawing legacyDrawingHF drawingHF "
        "picture oleObjects controls webPublishItems tableParts extLst".split()
    )
}

_ILLEGAL_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")
_ARGB = re.compile(r"[0-9A-Fa-f]{8}")
_ENCODING = re.compile(rb'^\s*<\?xml[^>]*?encoding=["\']([\w.-]+)["\']')
# A tag (or a comment / processing instruction) of a small XML region; attribute values may hold ">".
_TAG = re.compile(
    rb"<(?:!--.*?-->|\?.*?\?>|!\[CDATA\[.*?\]\]>|(/)?([A-Za-z_][\w.:-]*)((?:[^>\"']|\"[^\"]*\"|'[^']*')*)>)", re.S
)
_SHEET_TAG = re.compile(rb"<sheet\s[^>]*>")
_NAME_ATTR = re.compile(rb'\sname="([^"]*)"')
_STATE_ATTR = re.compile(rb'\sstate="[^"]*"')
_ROW_NUMBER = re.compile(rb'<row r="(\d+)"')
_CELL_TAG = re.compile(rb"<c(?=[\s/>])([^>]*)>")
_CELL_COLUMN = re.compile(rb'<c r="([A-Z]{1,3})\d')
_CELL_REF = re.compile(rb'(?<![\w:])r="([A-Z]{1,3})(\d+)"')
_STYLE_ATTR = re.compile(rb'(?<![\w:])s="(\d+)"')
_REF = re.compile(r"([A-Za-z]{1,3})(\d+)")
_REF_ATTR = re.compile(rb'(?<=\s)ref="([^"]*)"')
_XF = re.compile(rb"<xf\b(?:[^>\"]|\"[^\"]*\")*?(?:/>|>.*?</xf>)", re.S)
_FILL = re.compile(rb"<fill[\s/>]")
_SHAPE = re.compile(rb"<((?:[\w.-]+:)?)shape\b(?:[^>\"]|\"[^\"]*\")*>")
# Excel's own VML is loose (single quotes now and then): its ids and idmap are read either way.
_SHAPE_ID = re.compile(rb"""\bid=["']_x0000_s(\d+)["']""")
_IDMAP = re.compile(rb"""<(?:[\w.-]+:)?idmap\b[^>]*?\bdata=["']([^"']*)["']""")


class Unsupported(Exception):
    """The workbook has something the patcher does not handle; the caller falls back to openpyxl."""


@dataclass
class _Note:
    text: str
    author: str
    width: float  # pixels, as openpyxl's Comment.width
    height: float


@dataclass
class _Sheet:
    name: str
    part: str
    fills: dict[tuple[int, int], str] = field(default_factory=dict)
    notes: dict[tuple[int, int], _Note] = field(default_factory=dict)
    layout: _Layout | None = None


class XlsxPatch:
    """Fills and comments put on a copy of one .xlsx/.xlsm, written by save() as a macro-free .xlsx.

    Every part save() does not have to change (shared strings, charts, images, defined names, other sheets…) is
    copied as its original compressed bytes. The parts it changes are edited as text, never parsed and written
    again: a marked sheet gets new `s` attributes, inserted cells and rows and a <legacyDrawing>; styles.xml gets
    fills and cell formats appended; a sheet's comments part and VML drawing are created or extended; the
    relationships and [Content_Types].xml get entries. What it does not understand raises Unsupported, for the
    caller to fall back to openpyxl.

    Rows and columns are 1-based. Everything is read from the original when the object is made (the zip) or
    when first needed (a sheet), so Unsupported can come from any method; save() may be called more than once.
    """

    def __init__(self, path: Path):
        self._data = Path(path).read_bytes()
        with _damaged():
            self._open()

    def _open(self) -> None:
        try:
            self._zip = zipfile.ZipFile(io.BytesIO(self._data))
        except zipfile.BadZipFile as error:
            raise Unsupported(f"not a zip: {error}") from error
        self._infos = self._zip.infolist()
        self._names = {info.filename.lower(): info.filename for info in self._infos}
        if len(self._names) != len(self._infos) or len(self._infos) >= 0xFFFF:
            raise Unsupported("duplicate zip members or too many parts")
        for info in self._infos:
            if info.flag_bits & 1:
                raise Unsupported("encrypted zip member")
            if max(info.file_size, info.compress_size, info.header_offset) >= 0xFFFFFFFF:
                raise Unsupported("zip64 member")
        types = self._read("[Content_Types].xml")
        if types is None:
            raise Unsupported("no [Content_Types].xml")
        if b"purl.oclc.org/ooxml" in types:
            raise Unsupported("strict OOXML")
        for content_type in _ContentTypes(types).overrides.values():
            # Excel 4 macro sheets and Excel 5 dialog sheets can only be kept in a macro-enabled workbook.
            if "macrosheet" in content_type or "dialogsheet" in content_type:
                raise Unsupported("macro sheet or dialog sheet")
        root = _Rels(self._read("_rels/.rels"), "_rels/.rels")
        workbook = self._name(root.target_of(_RT_OFFICE) or "")
        if workbook is None:
            raise Unsupported("no workbook part")
        self._workbook = workbook
        self._workbook_rels = self._name(_rels_name(workbook)) or _rels_name(workbook)
        workbook_xml = self._read(workbook)
        if re.search(rb'\sxlm="(?:1|true)"', workbook_xml):
            raise Unsupported("Excel 4 macro in a defined name")  # needs a macro-enabled workbook too
        rels = _Rels(self._read(self._workbook_rels), self._workbook_rels)
        try:
            tree = ElementTree.fromstring(workbook_xml)
        except ElementTree.ParseError as error:
            raise Unsupported(f"workbook.xml: {error}") from error
        if tree.tag != f"{{{_MAIN}}}workbook":
            raise Unsupported(f"workbook root {tree.tag}")
        self._sheets: dict[str, _Sheet] = {}
        states = []
        for element in tree.iterfind(f"{{{_MAIN}}}sheets/{{{_MAIN}}}sheet"):
            states.append(element.get("state", "visible"))
            rid = element.get(f"{{{_REL}}}id")
            relation = rels.by_id.get(rid or "")
            if relation is None:
                raise Unsupported(f"sheet {element.get('name')!r} has no relationship")
            if relation[0] != _RT_WORKSHEET:
                continue  # a chartsheet: openpyxl's worksheets leave it out too
            if self._name(relation[1]) is None:
                raise Unsupported(f"sheet part {relation[1]} missing")
            name = element.get("name") or ""
            self._sheets[name] = _Sheet(name, self._name(relation[1]))
        if not self._sheets:
            raise Unsupported("no worksheet")
        # Excel needs a visible sheet: a county that hid them all gets its first worksheet shown in the copy.
        self._show_first = "visible" not in states
        styles = rels.target_of(_RT_STYLES)
        self._styles_part = self._name(styles) if styles else None
        if styles is not None and self._styles_part is None:
            raise Unsupported("styles relationship to a missing part")

    @property
    def sheet_names(self) -> list[str]:
        """The worksheets (not chartsheets) in workbook order."""
        return list(self._sheets)

    def merged(self, sheet: str) -> list[tuple[int, int, int, int]]:
        """(top, left, bottom, right) of each merged range of a sheet."""
        return list(self._layout(sheet).merges)

    def max_column(self, sheet: str) -> int:
        """The furthest column holding a cell or a merged range, as openpyxl's max_column (at least 1)."""
        layout = self._layout(sheet)
        with _damaged():
            return layout.max_column()

    def fill(self, sheet: str, row: int, column: int, argb: str) -> None:
        """A solid fill on a cell, its other formatting kept; a later fill of the same cell replaces it."""
        _check_cell(row, column)
        if not _ARGB.fullmatch(argb):
            raise ValueError(f"not an ARGB colour: {argb!r}")
        self._sheets[sheet].fills[(row, column)] = argb.upper()

    def comment(self, sheet: str, row: int, column: int, text: str, author: str, width: float, height: float) -> None:
        """A comment on a cell, width × height pixels. A second comment on the cell is added as a new line (the
        larger width, the heights added); a comment the cell already had keeps its text, ours below a blank line."""
        _check_cell(row, column)
        notes = self._sheets[sheet].notes
        note = notes.get((row, column))
        if note is None:
            notes[(row, column)] = _Note(text, author, width, height)
        else:
            note.text += "\n" + text
            note.width, note.height = max(note.width, width), note.height + height

    def save(self) -> bytes:
        """The whole new .xlsx."""
        with _damaged():
            return self._save()

    def _save(self) -> bytes:
        changed: dict[str, bytes] = {}
        types = _ContentTypes(self._read("[Content_Types].xml"))
        workbook_rels = _Rels(self._read(self._workbook_rels), self._workbook_rels)
        styles = None
        if any(sheet.fills for sheet in self._sheets.values()):
            styles = _Styles(self._read(self._styles_part) if self._styles_part else _MINIMAL_STYLES)
        next_block = self._first_free_vml_block() if any(sheet.notes for sheet in self._sheets.values()) else 1
        for sheet in self._sheets.values():
            if not sheet.fills and not sheet.notes:
                continue
            layout = self._layout(sheet.name)
            legacy = None
            if sheet.notes:
                legacy, next_block = self._comment_parts(sheet, layout, changed, types, next_block)
            changed[sheet.part] = layout.patched(sheet.fills, styles, legacy)
        if styles is not None:  # every fill made a cell format of its own
            part = self._styles_part
            if part is None:
                part = self._free_name("xl/styles.xml", changed)
                workbook_rels.add(_RT_STYLES, posixpath.relpath(part, posixpath.dirname(self._workbook)))
                types.override(part, _CT_STYLES)
            changed[part] = styles.result()
        if self._show_first:
            changed[self._workbook] = self._first_sheet_shown()
        dropped = self._drop_macros(types, workbook_rels)
        if workbook_rels.changed:
            changed[self._workbook_rels] = workbook_rels.result()
        if types.changed:
            changed[self._name("[Content_Types].xml")] = types.result()
        return self._write(changed, dropped)

    def _first_sheet_shown(self) -> bytes:
        """workbook.xml with the state attribute of the first worksheet's <sheet> removed."""
        xml = self._read(self._workbook)
        first = next(iter(self._sheets))
        for tag in _SHEET_TAG.finditer(xml):
            name = _NAME_ATTR.search(tag.group(0))
            if name is not None and _unescape(name.group(1)) == first:
                shown = _STATE_ATTR.sub(b"", tag.group(0))
                return xml[: tag.start()] + shown + xml[tag.end() :]
        raise Unsupported("the first worksheet's <sheet> element not found")

    # Reading.

    def _name(self, part: str) -> str | None:
        """The zip member of a part name (OPC part names are case-insensitive)."""
        return self._names.get(part.lower())

    def _read(self, part: str | None) -> bytes | None:
        name = self._name(part) if part else None
        return None if name is None else self._zip.read(name)

    def _layout(self, sheet: str) -> _Layout:
        entry = self._sheets[sheet]
        if entry.layout is None:
            with _damaged():
                entry.layout = _Layout(self._read(entry.part))
        return entry.layout

    def _free_name(self, pattern: str, changed: dict[str, bytes], number: int | None = None) -> str:
        """A part name not taken: pattern as is, or with 1, 2… before its extension when number is given."""
        base, extension = posixpath.splitext(pattern)
        while True:
            name = pattern if number is None else f"{base}{number}{extension}"
            if name.lower() not in self._names and name.lower() not in {key.lower() for key in changed}:
                return name
            number = (number or 0) + 1

    def _first_free_vml_block(self) -> int:
        """VML shape ids come in blocks of 1024 declared by each drawing's <o:idmap data>: the first block no
        drawing of the package uses, so that no two comments of the workbook get the same shape id."""
        used = 0
        for info in self._infos:
            if info.filename.lower().endswith(".vml"):
                vml = self._zip.read(info)
                for match in _IDMAP.finditer(vml):
                    used = max([used, *(int(block) for block in re.findall(rb"\d+", match.group(1)))])
                used = max([used, *(int(number) // 1024 for number in _SHAPE_ID.findall(vml))])
        return used + 1

    # Comments.

    def _comment_parts(
        self, sheet: _Sheet, layout: _Layout, changed: dict[str, bytes], types: _ContentTypes, block: int
    ) -> tuple[bytes | None, int]:
        """Write a sheet's comments part and VML drawing (new or extended) into changed: the r:id of a
        <legacyDrawing> the sheet must get (None when it has one) and the next free VML block."""
        rels_part = self._name(_rels_name(sheet.part)) or _rels_name(sheet.part)
        rels = _Rels(self._read(rels_part), rels_part)
        if rels.target_of(_RT_THREADED) is not None:
            raise Unsupported("threaded comments")
        comments_part = rels.target_of(_RT_COMMENTS)
        vml_part = None
        if layout.legacy_id is not None:
            relation = rels.by_id.get(layout.legacy_id)
            if relation is None or relation[0] != _RT_VML or self._name(relation[1]) is None:
                raise Unsupported("legacyDrawing without its VML part")
            vml_part = self._name(relation[1])
        elif comments_part is not None:
            raise Unsupported("comments without a legacyDrawing")
        if comments_part is not None:
            if self._name(comments_part) is None:
                raise Unsupported("comments relationship to a missing part")
            comments_part = self._name(comments_part)
        directory = posixpath.dirname(sheet.part)
        if comments_part is None:
            comments_part = self._free_name("xl/comments.xml", changed, 1)
            rels.add(_RT_COMMENTS, posixpath.relpath(comments_part, directory))
            types.override(comments_part, _CT_COMMENTS)
            comments = _Comments(None)
        else:
            comments = _Comments(self._read(comments_part))
        merged = comments.add(sheet.notes)
        changed[comments_part] = comments.result()
        legacy = None
        if vml_part is None:
            vml_part = self._free_name("xl/drawings/vmlDrawing.vml", changed, 1)
            legacy = rels.add(_RT_VML, posixpath.relpath(vml_part, directory)).encode()
            if types.defaults.get("vml") is None:
                types.default("vml", _CT_VML)
            elif types.defaults["vml"] != _CT_VML:
                types.override(vml_part, _CT_VML)
            vml = _Vml(None)
        else:
            vml = _Vml(self._read(vml_part))
        changed[vml_part], block = vml.add(sheet.notes, merged, layout, block)
        if types.defaults.get("rels") != _CT_RELS:
            types.default("rels", _CT_RELS)
        changed[rels_part] = rels.result()
        return legacy, block

    # Macros.

    def _drop_macros(self, types: _ContentTypes, workbook_rels: _Rels) -> set[str]:
        """Make the package an .xlsx: the workbook's content type, and the VBA project left out with its
        relationship, content type, own relationships and signatures. The zip members left out."""
        if types.overrides.get(self._workbook.lower(), _CT_MAIN) in _CT_OTHER_MAINS:
            types.override(self._workbook, _CT_MAIN)
        dropped: set[str] = set()
        for rid, (kind, target) in list(workbook_rels.by_id.items()):
            if kind != _RT_VBA:
                continue
            workbook_rels.remove(rid)
            parts = [target, _rels_name(target)]
            if self._name(parts[1]) is not None:
                parts += [target for _, target in _Rels(self._read(parts[1]), parts[1]).by_id.values()]
            for part in parts:
                if self._name(part) is not None:
                    dropped.add(self._name(part))
                    types.remove_override(part)
        if types.defaults.get("bin") == _CT_VBA:
            types.remove_default("bin")
        return dropped

    # Writing.

    def _write(self, changed: dict[str, bytes], dropped: set[str]) -> bytes:
        out = _ZipWriter()
        date_time = self._infos[0].date_time if self._infos else (1980, 1, 1, 0, 0, 0)
        for info in self._infos:
            if info.filename in dropped:
                continue
            data = changed.pop(info.filename, None)
            if data is None:
                out.copy(info, self._data)
            else:
                out.add(info.filename, data, info.date_time)
        for name, data in changed.items():  # new parts
            out.add(name, data, date_time)
        return out.finish()


# The sheet.


class _Layout:
    """Where things are in one worksheet's XML, found without parsing its rows, and the patched copy."""

    def __init__(self, xml: bytes | None):
        if xml is None:
            raise Unsupported("worksheet part missing")
        _check_utf8(xml)
        root = re.search(rb"<([\w.-]+:)?worksheet\b((?:[^>\"']|\"[^\"]*\"|'[^']*')*)>", xml)
        if root is None or root.group(1) or b'xmlns="' + _MAIN.encode() + b'"' not in root.group(2):
            raise Unsupported("worksheet not in the transitional main namespace as default")
        self.rel_prefix = _prefix_of(root.group(2), _REL.encode())
        opened = re.compile(rb"<sheetData\b[^>]*?(/?)>").search(xml, root.end())
        if opened is None:
            raise Unsupported("no sheetData")
        if opened.group(1):  # <sheetData/>: opened so that rows can go in
            xml = xml[: opened.start()] + b"<sheetData></sheetData>" + xml[opened.end() :]
            self.data_start = opened.start() + len(b"<sheetData>")
        else:
            self.data_start = opened.end()
        self.xml = xml
        self.data_end = xml.find(b"</sheetData>", self.data_start)
        end = xml.rfind(b"</worksheet>")
        if self.data_end < 0 or end < self.data_end:
            raise Unsupported("unterminated sheetData")
        self.end = end
        self.head = _children(xml, root.end(), opened.start())
        self.tail = _children(xml, self.data_end + len(b"</sheetData>"), end)
        self.merges: list[tuple[int, int, int, int]] = []
        self.legacy_id: str | None = None
        for name, start, stop in self.tail:
            if name == "mergeCells":
                for ref in re.findall(rb'ref="([^"]+)"', xml[start:stop]):
                    self.merges.append(_range(ref.decode()))
            elif name == "legacyDrawing":
                found = re.search(rb'[\w.-]+:id="([^"]*)"', xml[start:stop])
                if found is None:
                    raise Unsupported("legacyDrawing without r:id")
                self.legacy_id = found.group(1).decode()
        self._rows: list[int] | None = None
        self.col_styles: list[tuple[int, int, int | None, float | None]] = []  # min, max, style, width (px)
        self.row_height = 20.0  # pixels
        self.col_width = 64.0
        for name, start, stop in self.head:
            if name == "cols":
                for match in re.finditer(rb"<col\b([^>]*)>", xml[start:stop]):
                    attrs = _attributes(match.group(1))
                    hidden = attrs.get("hidden") in ("1", "true")
                    width = 0.0 if hidden else _width_pixels(attrs.get("width"))
                    style = int(attrs["style"]) if "style" in attrs else None
                    self.col_styles.append((int(attrs.get("min", 0)), int(attrs.get("max", 0)), style, width))
            elif name == "sheetFormatPr":
                attrs = _attributes(re.match(rb"<[\w.:-]+([^>]*)>", xml[start:stop]).group(1))
                if attrs.get("defaultRowHeight"):
                    self.row_height = float(attrs["defaultRowHeight"]) * 4 / 3
                if attrs.get("defaultColWidth"):
                    self.col_width = _width_pixels(attrs["defaultColWidth"]) or self.col_width

    def rows(self) -> list[int]:
        """The row numbers in sheetData. Every row must start <row r="…" (Excel, LibreOffice, WPS, openpyxl and
        xlsxwriter all write that) in ascending order: rows are then found with bytes.find, no regex over them."""
        if self._rows is None:
            xml, start, end = self.xml, self.data_start, self.data_end
            numbers = [int(number) for number in _ROW_NUMBER.findall(xml, start, end)]
            if len(numbers) != xml.count(b"<row", start, end):
                raise Unsupported("a row without r as its first attribute")
            if any(a >= b for a, b in zip(numbers, numbers[1:], strict=False)):
                raise Unsupported("rows out of order")
            self._rows = numbers
        return self._rows

    def max_column(self) -> int:
        xml, start, end = self.xml, self.data_start, self.data_end
        letters = set(_CELL_COLUMN.findall(xml, start, end))
        cells = xml.count(b"<c ", start, end) + xml.count(b"<c>", start, end) + xml.count(b"<c/>", start, end)
        if cells != xml.count(b'<c r="', start, end):
            raise Unsupported("a cell without r as its first attribute")
        widest = max((column_index(letter.decode()) + 1 for letter in letters), default=1)
        return max([widest, *(right for _, _, _, right in self.merges)])

    def column_style(self, column: int) -> int | None:
        for low, high, style, _ in self.col_styles:
            if low <= column <= high:
                return style
        return None

    def column_width(self, column: int) -> float:
        """A column's width in pixels (0 when hidden)."""
        for low, high, _, width in self.col_styles:
            if low <= column <= high and width is not None:
                return width
        return self.col_width

    def column_left(self, column: int) -> float:
        """Pixels from the sheet's left edge to a column's left edge."""
        return sum(self.column_width(number) for number in range(1, column))

    def patched(self, fills: dict[tuple[int, int], str], styles: _Styles | None, legacy: bytes | None) -> bytes:
        xml = self.xml
        edits: list[tuple[int, int, bytes]] = []
        by_row: dict[int, dict[int, str]] = {}
        for (row, column), argb in fills.items():
            by_row.setdefault(row, {})[column] = argb
        rows = self.rows() if by_row else []
        created: list[tuple[int, int]] = []
        position = self.data_start
        for row in sorted(by_row):
            cells = by_row[row]
            index = bisect_left(rows, row)
            if index < len(rows) and rows[index] == row:
                start = xml.find(b'<row r="%d"' % row, position, self.data_end)
                tag_end = xml.index(b">", start) + 1
                if xml[tag_end - 2 : tag_end] == b"/>":
                    stop = tag_end
                else:
                    stop = xml.find(b"</row>", tag_end, self.data_end) + len(b"</row>")
                edits.append((start, stop, self._row(xml[start:tag_end], xml[tag_end:stop], row, cells, styles)))
                position = stop
                created += [(row, column) for column in cells]  # some already exist; they are inside the dimension
            else:
                at = self.data_end if index == len(rows) else xml.find(b'<row r="%d"' % rows[index], position)
                new = b"".join(self._new_cell(row, column, None, cells[column], styles) for column in sorted(cells))
                edits.append((at, at, b'<row r="%d">%s</row>' % (row, new)))
                created += [(row, column) for column in cells]
        if created:
            edits += self._dimension(created)
        if legacy is not None:
            edits.append(self._legacy_drawing(legacy))
        return _splice(xml, edits)

    def _row(self, tag: bytes, body: bytes, row: int, fills: dict[int, str], styles: _Styles) -> bytes:
        """One <row> element with its marked cells restyled and the missing ones inserted in column order."""
        attrs = _attributes(tag[4 : -2 if tag.endswith(b"/>") else -1])
        row_style = int(attrs["s"]) if attrs.get("customFormat") in ("1", "true") and "s" in attrs else None
        targets = sorted(fills)
        pieces: list[bytes] = []
        last = 0  # position in body copied up to
        after_cells = 0  # where a cell beyond the last one goes (before a row's <extLst>)
        previous = 0
        pending = 0  # index in targets
        for match in _CELL_TAG.finditer(body):
            ref = _CELL_REF.search(match.group(1))
            if ref is None or int(ref.group(2)) != row:
                raise Unsupported(f"a cell without its reference in row {row}")
            column = column_index(ref.group(1).decode()) + 1
            if column <= previous:
                raise Unsupported(f"cells out of order in row {row}")
            previous = column
            while pending < len(targets) and targets[pending] < column:
                column_fill = fills[targets[pending]]
                pieces += [
                    body[last : match.start()],
                    self._new_cell(row, targets[pending], row_style, column_fill, styles),
                ]
                last = match.start()
                pending += 1
            if pending < len(targets) and targets[pending] == column:
                pieces += [body[last : match.start()], _restyle(match.group(0), ref, styles, fills[column])]
                last = match.end()
                pending += 1
            if match.group(1).endswith(b"/"):
                after_cells = match.end()
            else:
                after_cells = body.index(b"</c>", match.end()) + len(b"</c>")
        added = targets[pending:]
        if added:
            pieces.append(body[last:after_cells])
            pieces += [self._new_cell(row, column, row_style, fills[column], styles) for column in added]
            last = after_cells
        tag = self._spans(tag, targets)
        if not body:  # <row …/>
            return tag[:-2].rstrip() + b">" + b"".join(pieces) + b"</row>"
        pieces.append(body[last:])
        return tag + b"".join(pieces)

    def _new_cell(self, row: int, column: int, row_style: int | None, argb: str, styles: _Styles) -> bytes:
        """An empty cell with the row's style (if the row has one), else its column's, and the fill."""
        base = row_style if row_style is not None else self.column_style(column)
        return b'<c r="%s%d" s="%d"/>' % (column_letter(column - 1).encode(), row, styles.filled(base or 0, argb))

    @staticmethod
    def _spans(tag: bytes, columns: list[int]) -> bytes:
        """A row's spans hint widened to the cells it now has."""
        found = re.search(rb'(?<=\s)spans="([\d: ]*)"', tag)
        if found is None:
            return tag
        bounds = [int(number) for number in re.findall(rb"\d+", found.group(1))]
        low, high = min(bounds + columns), max(bounds + columns)
        return tag[: found.start(1)] + b"%d:%d" % (low, high) + tag[found.end(1) :]

    def _dimension(self, cells: list[tuple[int, int]]) -> list[tuple[int, int, bytes]]:
        """<dimension ref> widened to the cells added (an absent one stays absent: it is optional)."""
        for name, start, stop in self.head:
            if name != "dimension":
                continue
            found = _REF_ATTR.search(self.xml, start, stop)
            if found is None:
                return []
            try:
                top, left, bottom, right = _range(found.group(1).decode())
            except Unsupported:
                return []  # "A1:XFD1048576" and the like from odd writers: left alone
            rows = [top, bottom] + [row for row, _ in cells]
            columns = [left, right] + [column for _, column in cells]
            first = f"{column_letter(min(columns) - 1)}{min(rows)}"
            last = f"{column_letter(max(columns) - 1)}{max(rows)}"
            ref = first if first == last else f"{first}:{last}"
            return [(found.start(1), found.end(1), ref.encode())]
        return []

    def _legacy_drawing(self, rid: bytes) -> tuple[int, int, bytes]:
        at = self.end
        for name, start, _ in self.tail:
            if _SHEET_ORDER[name] > _SHEET_ORDER["legacyDrawing"]:
                at = start
                break
        if self.rel_prefix:
            return at, at, b'<legacyDrawing %s:id="%s"/>' % (self.rel_prefix, rid)
        return at, at, b'<legacyDrawing xmlns:r="%s" r:id="%s"/>' % (_REL.encode(), rid)


def _restyle(tag: bytes, ref: re.Match, styles: _Styles, argb: str) -> bytes:
    """A cell's start tag with s= pointing to a copy of its format with the fill."""
    found = _STYLE_ATTR.search(tag)
    if found is None:
        offset = len(b"<c") + ref.end()
        return tag[:offset] + b' s="%d"' % styles.filled(0, argb) + tag[offset:]
    return tag[: found.start(1)] + b"%d" % styles.filled(int(found.group(1)), argb) + tag[found.end(1) :]


def _children(xml: bytes, start: int, end: int) -> list[tuple[str, int, int]]:
    """(local name, start, end) of the elements directly in xml[start:end], each skipped by a search for its end
    tag (the sheet's rows are never tokenised). mc:AlternateContent takes the name of what it wraps (Excel wraps
    <controls> and <oleObjects> that way); an element CT_Worksheet does not have is Unsupported."""
    children = []
    position = start
    while True:
        match = _TAG.search(xml, position, end)
        if match is None:
            return children
        if match.group(2) is None:  # comment, processing instruction
            position = match.end()
            continue
        name = match.group(2)
        if match.group(1):
            raise Unsupported(f"unbalanced </{name.decode()}>")
        stop = match.end() if match.group(3).endswith(b"/") else _element_end(xml, name, match.end(), end)
        local = name.rsplit(b":", 1)[-1].decode()
        if local == "AlternateContent":
            inner = re.search(rb"<mc:Choice\b[^>]*>\s*<(?:[\w.-]+:)?([\w.-]+)", xml[match.end() : stop])
            local = inner.group(1).decode() if inner else local
        if local not in _SHEET_ORDER:
            raise Unsupported(f"unknown worksheet element <{local}>")
        children.append((local, match.start(), stop))
        position = stop


def _element_end(xml: bytes, name: bytes, start: int, end: int) -> int:
    """The end of the element whose start tag ends at start, found by its end tag (counting nested elements of
    the same name: Excel nests mc:AlternateContent for form controls)."""
    close = b"</" + name + b">"
    opened = re.compile(b"<" + re.escape(name) + rb"(?=[\s/>])((?:[^>\"']|\"[^\"]*\"|'[^']*')*)>")
    depth, position = 1, start
    while depth:
        stop = xml.find(close, position, end)
        if stop < 0:
            raise Unsupported(f"<{name.decode()}> not closed")
        depth += sum(1 for inner in opened.finditer(xml, position, stop) if not inner.group(1).endswith(b"/")) - 1
        position = stop + len(close)
    return position


# Styles.


_MINIMAL_STYLES = (
    _XML_DECL + b'<styleSheet xmlns="' + _MAIN.encode() + b'">'
    b'<fonts count="1"><font><sz val="11"/><name val="Calibri"/><family val="2"/></font></fonts>'
    b'<fills count="2"><fill><patternFill patternType="none"/></fill><fill><patternFill patternType="gray125"/>'
    b'</fill></fills><borders count="1"><border><left/><right/><top/><bottom/><diagonal/></border></borders>'
    b'<cellStyleXfs count="1"><xf numFmtId="0" fontId="0" fillId="0" borderId="0"/></cellStyleXfs>'
    b'<cellXfs count="1"><xf numFmtId="0" fontId="0" fillId="0" borderId="0" xfId="0"/></cellXfs>'
    b'<cellStyles count="1"><cellStyle name="Normal" xfId="0" builtinId="0"/></cellStyles></styleSheet>'
)


class _Styles:
    """styles.xml with solid fills and cell formats (copies of existing ones with that fill) appended."""

    def __init__(self, xml: bytes):
        _check_utf8(xml)
        root = re.search(rb"<([\w.-]+:)?styleSheet\b([^>]*)>", xml)
        if root is None or root.group(1) or b'xmlns="' + _MAIN.encode() + b'"' not in root.group(2):
            raise Unsupported("styles not in the transitional main namespace as default")
        self.xml = xml
        self.fills = _section(xml, b"fills")
        self.cell_xfs = _section(xml, b"cellXfs")
        self.fill_count = len(_FILL.findall(xml, self.fills[1], self.fills[2]))
        self.xfs = [match.group(0) for match in _XF.finditer(xml, self.cell_xfs[1], self.cell_xfs[2])]
        self.new_fills: dict[str, int] = {}  # colour → fillId
        self.new_xfs: dict[tuple[int, str], int] = {}  # (xf, colour) → index
        self.added_xfs: list[bytes] = []

    def filled(self, xf: int, argb: str) -> int:
        """The index of a cell format like xf with a solid argb fill: one per (xf, colour)."""
        key = (xf, argb)
        if key not in self.new_xfs:
            if xf >= len(self.xfs):
                raise Unsupported(f"cell format {xf} not in cellXfs")
            if argb not in self.new_fills:
                self.new_fills[argb] = self.fill_count + len(self.new_fills)
            element = self.xfs[xf]
            tag_end = element.index(b">") + 1
            tag = element[:tag_end]
            tag = _set_attribute(tag, b"fillId", b"%d" % self.new_fills[argb])
            tag = _set_attribute(tag, b"applyFill", b"1")
            self.new_xfs[key] = len(self.xfs) + len(self.added_xfs)
            self.added_xfs.append(tag + element[tag_end:])
        return self.new_xfs[key]

    def result(self) -> bytes:
        fills = b"".join(
            b'<fill><patternFill patternType="solid"><fgColor rgb="%s"/><bgColor indexed="64"/></patternFill></fill>'
            % argb.encode()
            for argb in self.new_fills
        )
        edits = [
            _count_edit(self.xml, self.fills[0], self.fill_count + len(self.new_fills)),
            (self.fills[2], self.fills[2], fills),
            _count_edit(self.xml, self.cell_xfs[0], len(self.xfs) + len(self.added_xfs)),
            (self.cell_xfs[2], self.cell_xfs[2], b"".join(self.added_xfs)),
        ]
        return _splice(self.xml, edits)


def _section(xml: bytes, name: bytes) -> tuple[int, int, int]:
    """(start of the start tag, end of the start tag, start of the end tag) of a non-empty element."""
    opened = re.search(rb"<" + name + rb"\b[^>]*>", xml)
    if opened is None or opened.group(0).endswith(b"/>"):
        raise Unsupported(f"styles without <{name.decode()}>")
    close = xml.find(b"</" + name + b">", opened.end())
    if close < 0:
        raise Unsupported(f"unterminated <{name.decode()}>")
    return opened.start(), opened.end(), close


def _count_edit(xml: bytes, start: int, count: int) -> tuple[int, int, bytes]:
    tag_end = xml.index(b">", start) + 1
    return start, tag_end, _set_attribute(xml[start:tag_end], b"count", b"%d" % count)


# Comments and their VML drawing.


class _Comments:
    """A comments part (xl/commentsN.xml), new or with ours merged in."""

    def __init__(self, xml: bytes | None):
        if xml is None:
            xml = _XML_DECL + b'<comments xmlns="%s"><authors/><commentList/></comments>' % _MAIN.encode()
        _check_utf8(xml)
        root = re.search(rb"<([\w.-]+:)?comments\b([^>]*)>", xml)
        if root is None or root.group(1) or b'xmlns="' + _MAIN.encode() + b'"' not in root.group(2):
            raise Unsupported("comments not in the transitional main namespace as default")
        # Empty elements opened, so that authors and comments can go before their end tags.
        for name in (b"authors", b"commentList"):
            xml = re.sub(rb"<%s\s*/>" % name, b"<%s></%s>" % (name, name), xml, count=1)
            if b"</" + name + b">" not in xml:
                raise Unsupported(f"comments without <{name.decode()}>")
        self.xml = xml
        self.authors = [_unescape(author) for author in re.findall(rb"<author>(.*?)</author>|<author/>", xml, re.S)]
        self.refs = set(re.findall(rb"<comment\s[^>]*?(?<=\s)ref=\"([^\"]*)\"", xml))

    def add(self, notes: dict[tuple[int, int], _Note]) -> set[tuple[int, int]]:
        """Our notes added; the cells that already had a comment (ours appended to its text)."""
        merged = set()
        new = []
        for (row, column), note in sorted(notes.items()):
            author = self._author(note.author)
            ref = f"{column_letter(column - 1)}{row}".encode()
            existing = None
            if ref in self.refs:  # a pattern per cell only then: compiling one per note costs more than the rest
                existing = re.search(rb"<comment\s[^>]*?(?<=\s)ref=\"%s\"[^>]*>" % ref, self.xml)
            text = _escape(note.text)
            if existing is None:
                new.append(
                    b'<comment ref="%s" authorId="%d"><text><t xml:space="preserve">%s</t></text></comment>'
                    % (ref, author, text)
                )
                continue
            merged.add((row, column))
            self.xml = self._merge(existing, author, text)
        at = self.xml.rindex(b"</commentList>")
        self.xml = self.xml[:at] + b"".join(new) + self.xml[at:]
        return merged

    def _author(self, name: str) -> int:
        if name not in self.authors:
            at = self.xml.index(b"</authors>")
            self.xml = self.xml[:at] + b"<author>%s</author>" % _escape(name) + self.xml[at:]
            self.authors.append(name)
        return self.authors.index(name)

    def _merge(self, existing: re.Match, author: int, text: bytes) -> bytes:
        """The cell's comment with our text after its own and a blank line, and our author (as openpyxl's copy)."""
        xml = self.xml
        tag = _set_attribute(existing.group(0), b"authorId", b"%d" % author)
        if tag.endswith(b"/>"):  # a comment without text
            body = b'<text><t xml:space="preserve">%s</t></text>' % text
            return xml[: existing.start()] + tag[:-2] + b">" + body + b"</comment>" + xml[existing.end() :]
        stop = xml.index(b"</comment>", existing.end())
        body = xml[existing.end() : stop]
        if re.search(rb"<r>", body):  # rich text: a run of ours, in the format of the last run
            properties = re.findall(rb"<rPr>.*?</rPr>", body, re.S)
            run_format = re.sub(rb"<b(?:\s[^>]*)?/>", b"", properties[-1]) if properties else b""
            ends = [body.find(marker) for marker in (b"<rPh", b"<phoneticPr", b"</text>")]
            at = min(end for end in ends if end >= 0)
            body = body[:at] + b'<r>%s<t xml:space="preserve">\n\n%s</t></r>' % (run_format, text) + body[at:]
        else:
            found = re.search(rb"<t(?:\s[^>]*)?>(.*?)</t>|<t\s*/>", body, re.S)
            if found is None:
                raise Unsupported("comment text without <t>")
            own = found.group(1) if found.group(1) is not None else b""
            joined = own + b"\n\n" + text if own else text
            body = body[: found.start()] + b'<t xml:space="preserve">%s</t>' % joined + body[found.end() :]
        return xml[: existing.start()] + tag + body + xml[stop:]

    def result(self) -> bytes:
        return self.xml


_SHAPE_TYPE = (
    b'<v:shapetype id="_x0000_t202" coordsize="21600,21600" o:spt="202" path="m,l,21600r21600,l21600,xe">'
    b'<v:stroke joinstyle="miter"/><v:path gradientshapeok="t" o:connecttype="rect"/></v:shapetype>'
)
# As Excel (and xlsxwriter) write a hidden note: the cell's row and column, and where the box is drawn when
# shown (Anchor: column, offset, row, offset of its top-left and bottom-right corners, in pixels).
_NOTE_SHAPE = (
    b'<v:shape id="_x0000_s%d" type="#_x0000_t202" style="position:absolute;margin-left:%spt;margin-top:%spt;'
    b'width:%spt;height:%spt;z-index:%d;visibility:hidden" fillcolor="#ffffe1" o:insetmode="auto">'
    b'<v:fill color2="#ffffe1"/><v:shadow on="t" color="black" obscured="t"/><v:path o:connecttype="none"/>'
    b'<v:textbox style="mso-direction-alt:auto"><div style="text-align:left"></div></v:textbox>'
    b'<x:ClientData ObjectType="Note"><x:MoveWithCells/><x:SizeWithCells/><x:Anchor>%s</x:Anchor>'
    b"<x:AutoFill>False</x:AutoFill><x:Row>%d</x:Row><x:Column>%d</x:Column></x:ClientData></v:shape>"
)


class _Vml:
    """A legacy VML drawing (xl/drawings/vmlDrawingN.vml): Excel shows a comment only if it has a shape here.
    Excel's own VML is not always well-formed XML, so it is only searched and appended to, never parsed."""

    def __init__(self, xml: bytes | None):
        if xml is None:
            namespaces = b" ".join(b'xmlns:%s="%s"' % item for item in _VML_NS.items())
            xml = b"<xml %s></xml>" % namespaces
        root = re.search(rb"<xml\b([^>]*)>", xml)
        if root is None or xml.rfind(b"</xml>") < root.end():
            raise Unsupported("VML drawing without <xml>")
        self.prefix = {}
        added = b""
        for short, uri in _VML_NS.items():
            prefix = _prefix_of(root.group(1), uri)
            if prefix is None:  # declared on the root, so that shapes can use it
                prefix = short if not re.search(rb"xmlns:%s=" % short, root.group(1)) else b"tr" + short
                added += b' xmlns:%s="%s"' % (prefix, uri)
            self.prefix[short] = prefix
        self.xml = xml[: root.end() - 1] + added + xml[root.end() - 1 :]
        self.root_end = root.end() + len(added)

    def _ours(self, text: bytes) -> bytes:
        """Our v:/o:/x: markup in this drawing's prefixes."""
        return re.sub(rb"(</?|\s)([vox]):", lambda m: m.group(1) + self.prefix[m.group(2)] + b":", text)

    def add(self, notes: dict[tuple[int, int], _Note], merged: set, layout: _Layout, block: int) -> tuple[bytes, int]:
        """Shapes for our notes (an existing note's shape resized); the drawing and the next free id block."""
        shapes = []
        new = []  # cells that get a shape: an existing note's shape is resized instead
        for cell in sorted(notes):
            if cell not in merged or not self._resize(cell, notes[cell], layout):
                new.append(cell)
        if not new:
            return self.xml, block
        blocks = list(range(block, block + len(new) // 1024 + 1))
        for number, (row, column) in enumerate(new):
            note = notes[(row, column)]
            *box, anchor = _place(layout, row, column, note.width, note.height)
            shapes.append(_NOTE_SHAPE % (block * 1024 + 1 + number, *box, number + 1, anchor, row - 1, column - 1))
        head = b""
        idmap = _IDMAP.search(self.xml)
        listed = b",".join(b"%d" % number for number in blocks)
        if idmap is None:
            head = b'<o:shapelayout v:ext="edit"><o:idmap v:ext="edit" data="%s"/></o:shapelayout>' % listed
        else:  # Excel looks shape ids up in the blocks the drawing declares
            own = idmap.group(1).strip()
            self.xml = self.xml[: idmap.start(1)] + (own + b"," if own else b"") + listed + self.xml[idmap.end(1) :]
        if not re.search(rb'<(?:[\w.-]+:)?shapetype\b[^>]*\bid="_x0000_t202"', self.xml):
            head += _SHAPE_TYPE
        at = self.xml.rindex(b"</xml>")
        self.xml = self.xml[: self.root_end] + self._ours(head) + self.xml[self.root_end : at]
        self.xml += self._ours(b"".join(shapes)) + b"</xml>"
        return self.xml, blocks[-1] + 1

    def _resize(self, cell: tuple[int, int], note: _Note, layout: _Layout) -> bool:
        """The shape of a comment that now has ours too, given our geometry; False when it has none."""
        row, column = cell
        for match in _SHAPE.finditer(self.xml):
            stop = self.xml.find(b"</" + match.group(1) + b"shape>", match.end())
            if stop < 0:
                raise Unsupported("VML shape not closed")
            body = self.xml[match.end() : stop]
            if (
                b'ObjectType="Note"' not in body
                or not re.search(rb"Row>\s*%d\s*<" % (row - 1), body)
                or not re.search(rb"Column>\s*%d\s*<" % (column - 1), body)
            ):
                continue
            tag = match.group(0)
            style = re.search(rb'\sstyle="([^"]*)"', tag)
            css = style.group(1) if style else b""
            # The box holds both texts: as wide as the wider, as high as both.
            width = max(note.width, _css_pixels(css, b"width") or 0)
            height = note.height + (_css_pixels(css, b"height") or 0)
            left, top, width, height, anchor = _place(layout, row, column, width, height)
            if style is not None:
                for key, value in (
                    (b"margin-left", left),
                    (b"margin-top", top),
                    (b"width", width),
                    (b"height", height),
                ):
                    css = _set_css(css, key, value + b"pt")
                tag = tag[: style.start(1)] + css + tag[style.end(1) :]
            body = re.sub(rb"(Anchor>)[^<]*<", rb"\g<1>" + anchor + b"<", body, count=1)  # digits and commas
            self.xml = self.xml[: match.start()] + tag + body + self.xml[stop:]
            return True
        return False


def _place(layout: _Layout, row: int, column: int, width: float, height: float) -> tuple:
    """margin-left, margin-top, width, height (pt) and Anchor of a note box, where Excel puts a new one: 15 px
    right of the cell's right edge, 10 px below the top of the row above. Rows are taken at the default height."""
    left = layout.column_left(column + 1) + 15
    top_row = max(row - 1, 1)
    top = (top_row - 1) * layout.row_height + 10
    width, height = max(width, 1.0), max(height, 1.0)
    start_column, start_offset = _locate(layout, left)
    end_column, end_offset = _locate(layout, left + width)
    row_height = max(layout.row_height, 1.0)
    start_row, end_row = int(top // row_height), int((top + height) // row_height)
    anchor = b"%d, %d, %d, %d, %d, %d, %d, %d" % (
        start_column - 1,
        start_offset,
        start_row,
        top - start_row * row_height,
        end_column - 1,
        end_offset,
        end_row,
        top + height - end_row * row_height,
    )
    return (*(_points(value) for value in (left, top, width, height)), anchor)


def _locate(layout: _Layout, pixels: float) -> tuple[int, int]:
    """The column (1-based) at a distance from the left edge, and the offset into it."""
    column = 1
    while column < 16384:
        width = layout.column_width(column)
        if pixels < width:
            break
        pixels -= width
        column += 1
    return column, int(pixels)


def _points(pixels: float) -> bytes:
    return (b"%.2f" % (pixels * 0.75)).rstrip(b"0").rstrip(b".")


def _css_pixels(css: bytes, key: bytes) -> float | None:
    """A length of a VML style in pixels (Excel writes pt, openpyxl px)."""
    found = re.search(rb"(?:^|;)\s*" + re.escape(key) + rb"\s*:\s*([\d.]+)\s*(pt|px)?\s*(?:;|$)", css)
    if found is None:
        return None
    try:
        value = float(found.group(1))
    except ValueError:
        return None
    return value / 0.75 if found.group(2) == b"pt" else value


def _set_css(css: bytes, key: bytes, value: bytes) -> bytes:
    found = re.search(rb"(?:^|;)\s*" + re.escape(key) + rb"\s*:([^;]*)", css)
    if found is None:
        return css + b";" + key + b":" + value
    return css[: found.start(1)] + value + css[found.end(1) :]


# Relationships and content types.


class _Rels:
    """A .rels part: read with ElementTree (it is small), extended and cut as text."""

    def __init__(self, xml: bytes | None, name: str):
        self.source = posixpath.dirname(posixpath.dirname(name))  # "xl/worksheets/_rels/a.rels" → "xl/worksheets"
        self.xml = xml or _XML_DECL + b'<Relationships xmlns="%s"></Relationships>' % _PKG_REL.encode()
        _check_utf8(self.xml)
        try:
            root = ElementTree.fromstring(self.xml)
        except ElementTree.ParseError as error:
            raise Unsupported(f"{name}: {error}") from error
        if root.tag != f"{{{_PKG_REL}}}Relationships":
            raise Unsupported(f"{name}: root {root.tag}")
        self.by_id: dict[str, tuple[str, str]] = {}
        for relation in root:
            if relation.get("TargetMode") == "External":
                continue
            target = relation.get("Target", "")
            path = target[1:] if target.startswith("/") else posixpath.join(self.source, target)
            self.by_id[relation.get("Id", "")] = (relation.get("Type", ""), posixpath.normpath(unquote(path)))
        self.ids = {relation.get("Id", "") for relation in root}
        self.xml = re.sub(rb"<Relationships\b([^>]*?)\s*/>", rb"<Relationships\1></Relationships>", self.xml, count=1)
        if b"</Relationships>" not in self.xml:
            raise Unsupported(f"{name}: relationships with a prefix")
        self.changed = False

    def target_of(self, kind: str) -> str | None:
        return next((target for found, target in self.by_id.values() if found == kind), None)

    def add(self, kind: str, target: str) -> str:
        number = 1 + max((int(rid[3:]) for rid in self.ids if re.fullmatch(r"rId\d+", rid)), default=0)
        rid = f"rId{number}"
        self.ids.add(rid)
        relation = b'<Relationship Id="%s" Type="%s" Target="%s"/>' % (rid.encode(), kind.encode(), _escape(target))
        at = self.xml.rindex(b"</Relationships>")
        self.xml = self.xml[:at] + relation + self.xml[at:]
        self.changed = True
        return rid

    def remove(self, rid: str) -> None:
        pattern = rb"<Relationship\b[^>]*?\sId=\"%s\"[^>]*?(?:/>|>\s*</Relationship>)" % re.escape(rid.encode())
        self.xml, count = re.subn(pattern, b"", self.xml)
        if count != 1:
            raise Unsupported(f"cannot remove relationship {rid}")
        del self.by_id[rid]
        self.changed = True

    def result(self) -> bytes:
        return self.xml


class _ContentTypes:
    """[Content_Types].xml: read with ElementTree, changed as text."""

    _NS = "http://schemas.openxmlformats.org/package/2006/content-types"

    def __init__(self, xml: bytes):
        _check_utf8(xml)
        try:
            root = ElementTree.fromstring(xml)
        except ElementTree.ParseError as error:
            raise Unsupported(f"[Content_Types].xml: {error}") from error
        if root.tag != f"{{{self._NS}}}Types" or b"</Types>" not in xml:
            raise Unsupported("[Content_Types].xml root")
        self.xml = xml
        self.defaults = {e.get("Extension", "").lower(): e.get("ContentType", "") for e in root if "Default" in e.tag}
        self.overrides = {
            e.get("PartName", "").lstrip("/").lower(): e.get("ContentType", "") for e in root if "Override" in e.tag
        }
        self.changed = False

    def _insert(self, element: bytes) -> None:
        at = self.xml.rindex(b"</Types>")
        self.xml = self.xml[:at] + element + self.xml[at:]
        self.changed = True

    def default(self, extension: str, content_type: str) -> None:
        self.remove_default(extension)
        self._insert(b'<Default Extension="%s" ContentType="%s"/>' % (extension.encode(), content_type.encode()))
        self.defaults[extension] = content_type

    def override(self, part: str, content_type: str) -> None:
        self.remove_override(part)
        self._insert(b'<Override PartName="/%s" ContentType="%s"/>' % (_escape(part), content_type.encode()))
        self.overrides[part.lower()] = content_type

    def remove_override(self, part: str) -> None:
        if self.overrides.pop(part.lower(), None) is not None:
            name = re.escape(_escape("/" + part))
            pattern = rb"<Override\b[^>]*?\sPartName=\"%s\"[^>]*?(?:/>|>\s*</Override>)" % name
            self.xml, count = re.subn(pattern, b"", self.xml, flags=re.I)
            if count != 1:
                raise Unsupported(f"cannot change the content type of {part}")
            self.changed = True

    def remove_default(self, extension: str) -> None:
        if self.defaults.pop(extension, None) is not None:
            pattern = rb"<Default\b[^>]*?\sExtension=\"%s\"[^>]*?(?:/>|>\s*</Default>)" % re.escape(extension.encode())
            self.xml, count = re.subn(pattern, b"", self.xml, flags=re.I)
            if count != 1:
                raise Unsupported(f"cannot change the default content type of .{extension}")
            self.changed = True

    def result(self) -> bytes:
        return self.xml


# The zip.


class _ZipWriter:
    """A zip written in memory: members of the source copied as their compressed bytes (no inflating and
    deflating again: that is most of the time zipfile would take), new contents deflated. No zip64 (the
    source has none: checked) and no data descriptors."""

    def __init__(self):
        self.chunks: list[bytes] = []
        self.central: list[bytes] = []
        self.offset = 0

    def copy(self, info: zipfile.ZipInfo, source: bytes) -> None:
        local = info.header_offset
        if source[local : local + 4] != b"PK\x03\x04":
            raise Unsupported(f"bad local header of {info.filename}")
        name_length, extra_length = struct.unpack("<HH", source[local + 26 : local + 30])
        start = local + 30 + name_length + extra_length
        raw = source[start : start + info.compress_size]
        self._member(info.filename, raw, info.CRC, info.file_size, info.compress_type, info.date_time, info)

    def add(self, name: str, data: bytes, date_time: tuple) -> None:
        compressor = zlib.compressobj(COMPRESS_LEVEL, zlib.DEFLATED, -15)
        raw = compressor.compress(data) + compressor.flush()
        self._member(name, raw, zlib.crc32(data), len(data), zipfile.ZIP_DEFLATED, date_time, None)

    def _member(self, name, raw, crc, size, method, date_time, info) -> None:
        encoded = name.encode("utf-8")
        flags = 0x800 if not name.isascii() else 0  # the name is UTF-8
        year, month, day, hour, minute, second = date_time
        dos_time = hour << 11 | minute << 5 | second // 2
        dos_date = max(year - 1980, 0) << 9 | month << 5 | day
        if len(raw) >= 0xFFFFFFFF or self.offset >= 0xFFFFFFFF:
            raise Unsupported("the copy would need zip64")
        version = {zipfile.ZIP_STORED: 10, zipfile.ZIP_DEFLATED: 20}.get(method, info.extract_version if info else 20)
        common = struct.pack("<HHHHLLLH", flags, method, dos_time, dos_date, crc, len(raw), size, len(encoded))
        self.chunks += [b"PK\x03\x04" + struct.pack("<H", version) + common + b"\0\0", encoded, raw]
        system, made, attributes = (info.create_system, info.create_version, info.external_attr) if info else (0, 20, 0)
        self.central.append(
            b"PK\x01\x02"
            + struct.pack("<BBH", made & 0xFF, system & 0xFF, version)
            + common
            + struct.pack("<HHHHLL", 0, 0, 0, 0, attributes, self.offset)
            + encoded
        )
        self.offset += 30 + len(encoded) + len(raw)

    def finish(self) -> bytes:
        directory = b"".join(self.central)
        end = b"PK\x05\x06" + struct.pack(
            "<HHHHLLH", 0, 0, len(self.central), len(self.central), len(directory), self.offset, 0
        )
        return b"".join(self.chunks) + directory + end


# Small helpers.


@contextlib.contextmanager
def _damaged():
    """Damage the checks above do not name (a tag cut short, a number that is not one, a part that does not
    inflate) is Unsupported too: the caller's openpyxl fallback then copes or reports the file."""
    try:
        yield
    except (ValueError, LookupError, zlib.error, zipfile.BadZipFile, EOFError, struct.error, OverflowError) as error:
        raise Unsupported(f"damaged workbook: {error!r}") from error


def _check_cell(row: int, column: int) -> None:
    if not (1 <= row <= 1_048_576 and 1 <= column <= 16_384):
        raise ValueError(f"no such cell: row {row}, column {column}")


def _check_utf8(xml: bytes) -> None:
    """Parts are edited as UTF-8 bytes: one in UTF-16 (allowed by the standard, never written by Excel) is not."""
    if xml[:2] in (b"\xff\xfe", b"\xfe\xff"):
        raise Unsupported("UTF-16 part")
    declared = _ENCODING.match(xml)
    if declared and declared.group(1).lower() not in (b"utf-8", b"utf8"):
        raise Unsupported(f"part in {declared.group(1).decode()}")


def _rels_name(part: str) -> str:
    directory, name = posixpath.split(part)
    return posixpath.join(directory, "_rels", name + ".rels")


def _prefix_of(attributes: bytes, uri: bytes) -> bytes | None:
    found = re.search(rb'xmlns:([\w.-]+)="' + re.escape(uri) + rb'"', attributes)
    return found.group(1) if found else None


def _attributes(text: bytes) -> dict[str, str]:
    return {name.decode(): value.decode() for name, value in re.findall(rb'([\w:.-]+)="([^"]*)"', text)}


def _set_attribute(tag: bytes, name: bytes, value: bytes) -> bytes:
    """A start tag with an attribute set (added before its end when absent)."""
    if re.search(rb"(?<=\s)" + name + rb"\s*=\s*'", tag):
        raise Unsupported("single-quoted attribute")
    found = re.search(rb"(?<=\s)" + name + rb'="[^"]*"', tag)
    if found:
        return tag[: found.start()] + name + b'="' + value + b'"' + tag[found.end() :]
    end = len(tag) - (2 if tag.endswith(b"/>") else 1)
    return tag[:end].rstrip() + b" " + name + b'="' + value + b'"' + tag[end:]


def _splice(xml: bytes, edits: list[tuple[int, int, bytes]]) -> bytes:
    """xml with each (start, end, replacement) applied; the edits do not overlap."""
    pieces = []
    position = 0
    for start, end, replacement in sorted(edits, key=lambda edit: (edit[0], edit[1])):
        pieces += [xml[position:start], replacement]
        position = end
    pieces.append(xml[position:])
    return b"".join(pieces)


def _escape(text: str) -> bytes:
    """Text for XML content or a double-quoted attribute: characters XML 1.0 cannot hold left out, a carriage
    return made a line feed (an XML reader would do so anyway)."""
    text = _ILLEGAL_XML.sub("", text.replace("\r\n", "\n").replace("\r", "\n"))
    text = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace('"', "&quot;")
    return text.encode("utf-8")


def _unescape(text: bytes) -> str:
    entities = {"lt": "<", "gt": ">", "amp": "&", "quot": '"', "apos": "'"}

    def entity(match: re.Match) -> str:
        name = match.group(1)
        if name.startswith("#x"):
            return chr(int(name[2:], 16))
        if name.startswith("#"):
            return chr(int(name[1:]))
        return entities.get(name, match.group(0))

    return re.sub(r"&(#x[0-9A-Fa-f]+|#\d+|\w+);", entity, text.decode("utf-8"))


def _range(ref: str) -> tuple[int, int, int, int]:
    """(top, left, bottom, right) of "B2:C5" or "B2"."""
    corners = [_REF.fullmatch(part.replace("$", "")) for part in ref.split(":")]
    if not corners or len(corners) > 2 or not all(corners):
        raise Unsupported(f"cell range {ref!r}")
    rows = [int(corner.group(2)) for corner in corners]
    columns = [column_index(corner.group(1)) + 1 for corner in corners]
    return min(rows), min(columns), max(rows), max(columns)


def _width_pixels(width: str | None) -> float | None:
    """A column width as the file gives it (characters of the default font, padding included) in pixels, as Excel
    rounds it for Calibri 11: 9.140625 → 64."""
    if width is None:
        return None
    return float(int(float(width) * 7 + 0.5))
