"""Word plans: the Markdown a playbook renders, laid out as a .docx with python-docx.

Word is made from the Markdown rendering rather than a .docx template, so one template (text a
business user can edit and diff) decides a plan's wording and order in every format. The
Markdown is the small subset playbooks write: headings, paragraphs, bullet lists, pipe tables,
**bold**, footnote marks [^n] and their definitions, and a --- rule.
"""

from __future__ import annotations

import io
import re

from docx import Document
from docx.oxml.ns import qn
from docx.shared import Mm, Pt

_INLINE = re.compile(r"\*\*(.+?)\*\*|\[\^(\d+)\]")
_CELL_SPLIT = re.compile(r"(?<!\\)\|")
_FOOTNOTE = re.compile(r"^\[\^(\d+)\]:\s*(.*)$")


def markdown_to_docx(markdown: str) -> bytes:
    document = Document()
    # python-docx's default template is US Letter; reps in China print on A4, as the HTML plan does.
    for section in document.sections:
        section.page_width, section.page_height = Mm(210), Mm(297)
    normal = document.styles["Normal"]
    normal.font.size = Pt(10.5)
    # Chinese text needs an East Asian font named on the style, or Word falls back per character.
    normal.element.get_or_add_rPr().get_or_add_rFonts().set(qn("w:eastAsia"), "Microsoft YaHei")
    lines = markdown.splitlines()
    i = 0
    while i < len(lines):
        line = lines[i].rstrip()
        if line.startswith("|"):
            rows = []
            while i < len(lines) and lines[i].startswith("|"):
                rows.append(lines[i].rstrip())
                i += 1
            _table(document, rows)
            continue
        heading = re.match(r"^(#{1,4})\s+(.*)$", line)
        footnote = _FOOTNOTE.match(line)
        if heading:
            _inline(document.add_heading(level=len(heading.group(1))), heading.group(2))
        elif line.startswith("- "):
            _inline(document.add_paragraph(style="List Bullet"), line[2:])
        elif footnote:
            paragraph = document.add_paragraph()
            paragraph.add_run(f"[{footnote.group(1)}] ").bold = True
            _inline(paragraph, footnote.group(2))
        elif line.strip() and line.strip() != "---":
            _inline(document.add_paragraph(), line)
        i += 1
    buffer = io.BytesIO()
    document.save(buffer)
    return buffer.getvalue()


def _inline(paragraph, text: str) -> None:
    position = 0
    for match in _INLINE.finditer(text):
        if match.start() > position:
            paragraph.add_run(_unescape(text[position:match.start()]))
        if match.group(1) is not None:
            paragraph.add_run(_unescape(match.group(1))).bold = True
        else:
            paragraph.add_run(f"[{match.group(2)}]").font.superscript = True
        position = match.end()
    if position < len(text):
        paragraph.add_run(_unescape(text[position:]))


def _table(document, rows: list[str]) -> None:
    cells = [[c.strip() for c in _CELL_SPLIT.split(row.strip().strip("|"))] for row in rows
             if not re.match(r"^\|[\s:|-]+\|$", row)]
    if not cells:
        return
    table = document.add_table(rows=len(cells), cols=max(len(r) for r in cells))
    table.style = "Table Grid"
    for r, row in enumerate(cells):
        for c, text in enumerate(row):
            paragraph = table.cell(r, c).paragraphs[0]
            _inline(paragraph, text)
            if r == 0:
                for run in paragraph.runs:
                    run.bold = True


_ESCAPED = re.compile(r"\\([\\|\[\]])|&(lt|gt|amp);")
_ENTITIES = {"lt": "<", "gt": ">", "amp": "&"}


def _unescape(text: str) -> str:
    """The text a Markdown viewer shows for what the `cell` filter escaped (engine/plans/playbook.py)."""
    if "\\" not in text and "&" not in text:
        return text
    return _ESCAPED.sub(lambda m: m.group(1) or _ENTITIES[m.group(2)], text)
