"""openpyxl 写入生成表（校验结果、报告）时使用的少量样式。"""
from __future__ import annotations

from openpyxl.styles import Alignment, Font, PatternFill

_FILLS = {"error": "FFC7CE", "warning": "FFEB9C", "info": "DDEBF7", "header": "D9E1F2"}


def apply(cell, style: str) -> None:
    if style == "title":
        cell.font = Font(name="黑体", size=14, bold=True)
    elif style == "heading":
        cell.font = Font(name="黑体", size=12, bold=True)
    elif style == "subheading":
        cell.font = Font(name="楷体", size=11, bold=True)
    elif style == "header":
        cell.font = Font(bold=True)
        cell.fill = PatternFill("solid", fgColor=_FILLS["header"])
    elif style in ("error", "warning", "info"):
        cell.fill = PatternFill("solid", fgColor=_FILLS[style])
    elif style == "percent":
        cell.number_format = "0.00%"
    elif style == "number":
        cell.number_format = "0.00"
    elif style == "link":
        cell.font = Font(color="0563C1", underline="single")
    elif style == "paragraph":
        cell.alignment = Alignment(wrap_text=True, vertical="top")
