"""The layout of 党政机关公文 (GB/T 9704-2012) in a .docx: the page, the fonts, and the few kinds
of paragraph the case file's documents are made of.

- Page (§5.2.1, §5.2.2): A4 210 mm × 297 mm; 天头 (top) 37 mm, 订口 (left) 28 mm, 版心 156 mm ×
  225 mm, so right 26 mm and bottom 35 mm.
- Body (§5.2.3, §7.3.3): 3号仿宋 (16 pt); 22 lines of 28 characters: a fixed line pitch of
  225 mm / 22 = 28.9 pt; paragraphs indented by two characters. Headings of the first level 3号黑体,
  of the second 3号楷体.
- Title (§7.3.1): 2号小标宋 (22 pt), centred; the document number (§7.2.4) 3号仿宋, centred.
- Page numbers (§7.5): 4号半角宋体 (14 pt) ``— 1 —`` in the footer, odd pages right and even pages
  left, one character in from the edge.
- The signature (§7.3.5.2): the issuing body's name above the date in Arabic numerals
  (``2026年9月1日``), right-aligned four characters in; the annex (§7.3.4, §8): named after the
  body as 附件：…, and printed on a page of its own headed 附件 (3号黑体).

The fonts are named as Chinese offices have them (方正小标宋简体, 仿宋, 黑体, 楷体, 宋体) in the
runs' ``w:eastAsia``, and the document's font table gives each the alternate name
``WenQuanYi Zen Hei`` (fonts-wqy-zenhei, which Debian ships), so that a machine without the office
fonts still shows Chinese text. Latin letters and digits are Times New Roman.

Every text handed to these functions goes into a run as it is (python-docx escapes it for XML);
nothing in it is interpreted. Texts from records are XML-safe by the input checks (api/limits.py).
"""

from __future__ import annotations

import io
from collections.abc import Sequence

from docx import Document
from docx.enum.section import WD_ORIENT
from docx.enum.table import WD_TABLE_ALIGNMENT
from docx.enum.text import WD_ALIGN_PARAGRAPH, WD_BREAK, WD_LINE_SPACING
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from docx.shared import Mm, Pt
from docx.text.paragraph import Paragraph
from lxml import etree

PAGE = (Mm(210), Mm(297))
MARGINS = {"top": Mm(37), "bottom": Mm(35), "left": Mm(28), "right": Mm(26)}
LINE_PITCH = Pt(28.9)  # 225 mm / 22 lines

TITLE_FONT = "方正小标宋简体"
BODY_FONT = "仿宋"
HEI_FONT = "黑体"
KAI_FONT = "楷体"
SONG_FONT = "宋体"
LATIN_FONT = "Times New Roman"
FALLBACK_FONT = "WenQuanYi Zen Hei"  # Debian: fonts-wqy-zenhei

SIZE_2 = Pt(22)  # 二号
SIZE_3 = Pt(16)  # 三号
SIZE_4 = Pt(14)  # 四号
SIZE_SMALL_4 = Pt(12)  # 小四: the annex's table
CHAR = Pt(16)  # one character of the body


def _fonts(run_or_style_element: etree._Element, east_asia: str) -> None:
    """Set the fonts of a ``w:rPr``: Latin Times New Roman, East Asian ``east_asia``."""
    fonts = run_or_style_element.find(qn("w:rFonts"))
    if fonts is None:
        fonts = OxmlElement("w:rFonts")
        run_or_style_element.insert(0, fonts)
    for attr in ("w:ascii", "w:hAnsi", "w:cs"):
        fonts.set(qn(attr), LATIN_FONT)
    fonts.set(qn("w:eastAsia"), east_asia)


def _add_fallbacks(doc: object) -> None:
    """Name each office font in the font table with the alternate name WenQuanYi Zen Hei."""
    from docx.opc.constants import RELATIONSHIP_TYPE as RT

    part = doc.part.part_related_by(RT.FONT_TABLE)  # type: ignore[attr-defined]
    root = etree.fromstring(part.blob)
    w = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"
    for name in (TITLE_FONT, BODY_FONT, HEI_FONT, KAI_FONT, SONG_FONT):
        font = etree.SubElement(root, f"{{{w}}}font", {f"{{{w}}}name": name})
        etree.SubElement(font, f"{{{w}}}altName", {f"{{{w}}}val": FALLBACK_FONT})
        etree.SubElement(font, f"{{{w}}}charset", {f"{{{w}}}val": "86"})  # GB2312
        etree.SubElement(font, f"{{{w}}}family", {f"{{{w}}}val": "auto"})
        etree.SubElement(font, f"{{{w}}}pitch", {f"{{{w}}}val": "variable"})
    part._blob = etree.tostring(root, xml_declaration=True, encoding="UTF-8", standalone=True)


def _page_number(paragraph: Paragraph) -> None:
    """``— PAGE —`` in 4号宋体."""
    def run(text: str | None = None) -> etree._Element:
        r = paragraph.add_run(text or "")
        r.font.size = SIZE_4
        _fonts(r._r.get_or_add_rPr(), SONG_FONT)
        return r._r

    run("— ")
    for kind, text in (("begin", None), ("instr", " PAGE "), ("separate", None), ("end", None)):
        r = run()
        if kind == "instr":
            instr = OxmlElement("w:instrText")
            instr.set(qn("xml:space"), "preserve")
            instr.text = text
            r.append(instr)
        else:
            fld = OxmlElement("w:fldChar")
            fld.set(qn("w:fldCharType"), kind)
            r.append(fld)
        if kind == "separate":
            shown = OxmlElement("w:t")
            shown.text = "1"
            r.append(shown)
    run(" —")


class GovDocument:
    """One document in the GB/T 9704-2012 layout, written paragraph by paragraph."""

    def __init__(self, title: str, author: str) -> None:
        self.doc = Document()
        props = self.doc.core_properties
        props.title, props.author, props.language = title, author, "zh-CN"
        section = self.doc.sections[0]
        section.orientation = WD_ORIENT.PORTRAIT
        section.page_width, section.page_height = PAGE
        section.top_margin, section.bottom_margin = MARGINS["top"], MARGINS["bottom"]
        section.left_margin, section.right_margin = MARGINS["left"], MARGINS["right"]
        section.header_distance, section.footer_distance = Mm(15), Mm(21)  # the page number 7 mm below the 版心
        normal = self.doc.styles["Normal"]
        normal.font.size = SIZE_3
        rpr = normal.element.get_or_add_rPr()
        _fonts(rpr, BODY_FONT)
        lang = OxmlElement("w:lang")
        lang.set(qn("w:eastAsia"), "zh-CN")
        rpr.append(lang)
        fmt = normal.paragraph_format
        fmt.line_spacing_rule = WD_LINE_SPACING.EXACTLY
        fmt.line_spacing = LINE_PITCH
        fmt.space_before = fmt.space_after = Pt(0)
        fmt.widow_control = False
        _add_fallbacks(self.doc)
        # page numbers: odd pages right, even pages left, one character in
        self.doc.settings.odd_and_even_pages_header_footer = True
        for footer, align, indent in ((section.footer, WD_ALIGN_PARAGRAPH.RIGHT, "right"),
                                      (section.even_page_footer, WD_ALIGN_PARAGRAPH.LEFT, "left")):
            p = footer.paragraphs[0]
            p.alignment = align
            setattr(p.paragraph_format, f"{indent}_indent", SIZE_4)
            _page_number(p)

    # --- paragraphs --------------------------------------------------------------------------

    def _paragraph(self, text: str = "", *, font: str = BODY_FONT, size: Pt = SIZE_3,
                   align: WD_ALIGN_PARAGRAPH = WD_ALIGN_PARAGRAPH.JUSTIFY, first_line: bool = False) -> Paragraph:
        p = self.doc.add_paragraph()
        p.alignment = align
        if first_line:
            p.paragraph_format.first_line_indent = CHAR * 2
        if text:
            self.run(p, text, font=font, size=size)
        return p

    @staticmethod
    def run(p: Paragraph, text: str, *, font: str = BODY_FONT, size: Pt = SIZE_3) -> None:
        """``text`` as one run of ``p`` (as it is: python-docx escapes it)."""
        r = p.add_run(text)
        r.font.size = size
        _fonts(r._r.get_or_add_rPr(), font)

    def title(self, text: str) -> None:
        """A title line: 2号小标宋, centred (the issuing body, the document's name)."""
        p = self._paragraph(text, font=TITLE_FONT, size=SIZE_2, align=WD_ALIGN_PARAGRAPH.CENTER)
        p.paragraph_format.line_spacing = Pt(35)  # two-line titles keep their lines apart (§7.3.1: 梯形或菱形)

    def number(self, text: str) -> None:
        """The document number (发文字号): 3号仿宋, centred, with a blank line before it."""
        self.blank()
        self._paragraph(text, align=WD_ALIGN_PARAGRAPH.CENTER)

    def blank(self) -> None:
        self._paragraph()

    def addressee(self, text: str) -> None:
        """The party addressed (主送), flush left, followed by a full-width colon."""
        self._paragraph(f"{text}：", align=WD_ALIGN_PARAGRAPH.LEFT)

    def heading(self, text: str, level: int = 1) -> None:
        """一、… in 3号黑体 (level 1) or （一）… in 3号楷体 (level 2), indented by two characters."""
        self._paragraph(text, font=HEI_FONT if level == 1 else KAI_FONT, first_line=True)

    def para(self, text: str) -> None:
        """A body paragraph: 3号仿宋, two characters indented, justified."""
        self._paragraph(text, first_line=True)

    def labelled(self, label: str, text: str) -> None:
        """``label：text`` as a body paragraph (the party's particulars)."""
        self.para(f"{label}：{text}")

    def annex_note(self, names: Sequence[str]) -> None:
        """附件说明 (§7.3.4): a blank line, then 附件：… two characters in."""
        self.blank()
        listed = names[0] if len(names) == 1 else "；".join(f"{i}. {n}" for i, n in enumerate(names, 1))
        self._paragraph(f"附件：{listed}", first_line=True, align=WD_ALIGN_PARAGRAPH.LEFT)

    def signature(self, body: str, date_text: str, seal: bool = True) -> None:
        """The issuing body and the date (成文日期) right-aligned four characters in, after two blank
        lines (room for the seal: 行政处罚法第五十九条第二款 wants the decision sealed)."""
        self.blank()
        self.blank()
        for text in (f"{body}{'（印章）' if seal else ''}", date_text):
            p = self._paragraph(text, align=WD_ALIGN_PARAGRAPH.RIGHT)
            p.paragraph_format.right_indent = CHAR * 4

    def annex(self, title: str, header: Sequence[str], rows: Sequence[Sequence[str]], widths_mm: Sequence[float]) -> None:
        """An annex on a page of its own: 附件 (3号黑体) at the top left, its title (2号小标宋) centred,
        then a table in 小四仿宋 with a header row repeated on every page."""
        p = self.doc.add_paragraph()
        p.add_run().add_break(WD_BREAK.PAGE)
        self._paragraph("附件", font=HEI_FONT, align=WD_ALIGN_PARAGRAPH.LEFT)
        self.blank()
        self.title(title)
        self.blank()
        self.table(header, rows, widths_mm)

    def table(self, header: Sequence[str], rows: Sequence[Sequence[str]], widths_mm: Sequence[float]) -> None:
        """A table in 小四仿宋 (the header in 黑体, repeated on every page), centred, of fixed widths."""
        table = self.doc.add_table(rows=1, cols=len(header))
        table.style = "Table Grid"
        table.alignment = WD_TABLE_ALIGNMENT.CENTER
        table.autofit = False
        cells = table.rows[0].cells
        for cell, text in zip(cells, header):
            self._cell(cell, text, font=HEI_FONT)
        tr_pr = table.rows[0]._tr.get_or_add_trPr()
        repeat = OxmlElement("w:tblHeader")
        repeat.set(qn("w:val"), "true")
        tr_pr.append(repeat)
        for row in rows:
            for cell, text in zip(table.add_row().cells, row):
                self._cell(cell, text)
        for col, width in zip(table.columns, widths_mm):
            for cell in col.cells:
                cell.width = Mm(width)

    def _cell(self, cell: object, text: str, font: str = BODY_FONT) -> None:
        p = cell.paragraphs[0]  # type: ignore[attr-defined]
        p.alignment = WD_ALIGN_PARAGRAPH.LEFT
        p.paragraph_format.line_spacing = Pt(18)
        self.run(p, text, font=font, size=SIZE_SMALL_4)

    def bytes(self) -> bytes:
        buf = io.BytesIO()
        self.doc.save(buf)
        return buf.getvalue()
