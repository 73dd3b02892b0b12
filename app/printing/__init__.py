"""Printable Chinese PDFs: what every printed document shares (ReportLab with the WenQuanYi Zen Hei
font that scripts/install-system.sh installs, the paragraph styles, the ruled grid of facts).
The 电子保单 (app/policies/documents.py) and the service contract (app/services/printing.py) are
built from these, so they look alike and a font or style change is made once."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

from reportlab.lib import colors
from reportlab.lib.enums import TA_CENTER
from reportlab.lib.styles import ParagraphStyle
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.platypus import Paragraph, Table, TableStyle

from app.errors import Unavailable

FONT_NAME = "WQYZenHei"
FONT_PATHS = (
    Path("/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc"),
    Path("/usr/share/fonts/wqy-zenhei/wqy-zenhei.ttc"),
)


def cjk_font() -> str:
    """The registered name of the CJK font (registered on first use); Unavailable (503) when the
    font is not installed."""
    if FONT_NAME in pdfmetrics.getRegisteredFontNames():
        return FONT_NAME
    path = next((p for p in FONT_PATHS if p.exists()), None)
    if path is None:
        raise Unavailable(
            "the CJK font is not installed (run scripts/install-system.sh)",
            "未安装中文字体（请运行 scripts/install-system.sh）",
        )
    pdfmetrics.registerFont(TTFont(FONT_NAME, str(path), subfontIndex=0))
    return FONT_NAME


def paragraph_styles(font: str) -> dict[str, ParagraphStyle]:
    """base, title, carrier (a centred sub-title), heading, small."""
    base = ParagraphStyle("base", fontName=font, fontSize=9.5, leading=14, wordWrap="CJK")
    return {
        "base": base,
        "title": ParagraphStyle(
            "title", parent=base, fontSize=15, leading=22, alignment=TA_CENTER, spaceAfter=4
        ),
        "carrier": ParagraphStyle("carrier", parent=base, fontSize=11, alignment=TA_CENTER),
        "heading": ParagraphStyle(
            "heading", parent=base, fontSize=10.5, leading=16, spaceBefore=8, spaceAfter=3
        ),
        "small": ParagraphStyle("small", parent=base, fontSize=8, leading=11, textColor="#555555"),
    }


def escape(text: str) -> str:
    """Text safe inside a ReportLab Paragraph (which reads a little markup)."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def money(value: Decimal | None) -> str:
    """An amount as printed: thousands separated, two decimals; blank when there is none."""
    return "" if value is None else f"{Decimal(value):,.2f}"


def grid(rows: list[list], widths: list[float], font: str, header: bool = False) -> Table:
    """A ruled table of wrapped cells (every value escaped); `header` shades the first row."""
    cell = ParagraphStyle("cell", fontName=font, fontSize=9, leading=12, wordWrap="CJK")
    wrapped = [[Paragraph(escape(str(value)), cell) for value in row] for row in rows]
    table = Table(wrapped, colWidths=widths)
    style = [
        ("FONTNAME", (0, 0), (-1, -1), font),
        ("FONTSIZE", (0, 0), (-1, -1), 9),
        ("GRID", (0, 0), (-1, -1), 0.5, colors.HexColor("#888888")),
        ("VALIGN", (0, 0), (-1, -1), "MIDDLE"),
        ("TOPPADDING", (0, 0), (-1, -1), 3),
        ("BOTTOMPADDING", (0, 0), (-1, -1), 3),
    ]
    if header:
        style.append(("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#e8eef6")))
    table.setStyle(TableStyle(style))
    return table
