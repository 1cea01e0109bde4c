"""“校验结果”工作表：每条发现一行（严重程度着色、“位置”链接到单元格），整表替换（WritableBook）；以及 Excel 中要
高亮的单元格（highlight_targets，由 LiveBook 施加）。
"""
from __future__ import annotations

import re
from decimal import Decimal
from typing import Any, Iterable

from udfs.numbers import fmt_num

from ..io.book import WritableBook
from ..model import GENERATED_SHEETS, SHEET_CHECKS, Finding, Formula
from . import findings as F
from .run import summary_text

_STYLE = {F.ERROR: "error", F.WARNING: "warning", F.INFO: "info"}
_HEADERS = ("序号", "严重程度", "位置", "说明", "应为", "实际", "代码")
_WIDTHS = {1: 6, 2: 9, 3: 16, 4: 90, 5: 14, 6: 14, 7: 26}


def _display(v: Any) -> str:
    if v is None:
        return ""
    if isinstance(v, Decimal):
        return fmt_num(v, 6)
    if isinstance(v, float):
        return fmt_num(Decimal(repr(v)), 6)
    if isinstance(v, Formula):
        return v.text
    return str(v)


def link_target(sheet: str, cell: str) -> str:
    """超链接目标：'评分表'!H12（表名一律加引号，内部单引号加倍）。"""
    return "'" + sheet.replace("'", "''") + "'!" + cell


def findings_sheet_writes(findings: list[Finding], sheet_names: Iterable[str] = ()) -> list:
    """校验结果表的全部单元格（CellWrite 列表）。所有文字一律按文本写入，不会成为公式。"""
    from ..io.book import CellWrite

    names = set(sheet_names)
    w = [CellWrite(1, 1, "校验结果", "title"),
         CellWrite(2, 1, f"{summary_text(findings)}。点击“位置”跳转到对应单元格；本表由 jixiao check 生成，"
                         f"每次校验整表替换，请勿在此填写。", "text"),
         ]
    for j, h in enumerate(_HEADERS, 1):
        w.append(CellWrite(4, j, h, "header"))
    if not findings:
        w.append(CellWrite(5, 1, "未发现问题。", "text"))
        return w
    for i, f in enumerate(findings, 1):
        r = 4 + i
        where = f"{f.sheet}!{f.cell}" if f.cell else f.sheet
        link = link_target(f.sheet, f.cell) if f.cell and (not names or f.sheet in names) else None
        w += [CellWrite(r, 1, i, "text"), CellWrite(r, 2, f.severity, _STYLE.get(f.severity, "text")),
              CellWrite(r, 3, where, "link" if link else "text", link), CellWrite(r, 4, f.message, "paragraph"),
              CellWrite(r, 5, _display(f.expected), "text"), CellWrite(r, 6, _display(f.actual), "text"),
              CellWrite(r, 7, f.code, "text")]
    return w


def write_findings_sheet(book: WritableBook, findings: list[Finding]) -> None:
    """把发现写入“校验结果”工作表（整表替换，不触碰其他工作表；每条发现链接到其单元格，严重程度着色）。"""
    book.replace_sheet(SHEET_CHECKS, findings_sheet_writes(findings, book.sheet_names()), _WIDTHS)


def highlight_targets(findings: Iterable[Finding]) -> list[tuple[str, str, str]]:
    """Excel 加载项要高亮的单元格：(表名, 单元格, 严重程度)，同一单元格取最严重的一条；生成表与无单元格的发现除外。
    高亮由加载项通过 xlwings 在 Excel 中施加并在下次校验前清除；openpyxl 从不改动用户单元格的格式。"""
    best: dict[tuple[str, str], str] = {}
    order: list[tuple[str, str]] = []
    for f in findings:
        if not f.cell or f.sheet in GENERATED_SHEETS or not re.match(r"^\$?[A-Z]{1,3}\$?\d+(:\$?[A-Z]{1,3}\$?\d+)?$", f.cell):
            continue
        k = (f.sheet, f.cell)
        if k not in best:
            order.append(k)
            best[k] = f.severity
        elif F.SEVERITY_ORDER.get(f.severity, 9) < F.SEVERITY_ORDER.get(best[k], 9):
            best[k] = f.severity
    return [(s, c, best[(s, c)]) for s, c in order]
