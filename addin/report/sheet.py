"""“报告”工作表：正文每段一行、附件说明、署名与成文日期、各附件表、一级指标得分率数据与原生柱状图；A4 纵向按页宽
缩放打印，标题行每页重复，页脚“第 N 页，共 M 页”，草稿在页眉标“草稿”。整表替换（WritableBook）。
"""
from __future__ import annotations

import math
from decimal import Decimal
from typing import Any

from ..io.book import CellWrite, WritableBook
from ..model import SHEET_REPORT
from .model import DRAFT, Report
from .render import _dec

_TEXT_WIDTH = 64  # A 列宽（字符）：正文每段一行
_CHART_ROWS = 17  # 图占的行数（每行 15 磅，约 9 厘米）


def _display_width(text: str) -> int:
    return sum(2 if ord(ch) > 0x2E7F else 1 for ch in text)


def _row_height(text: str, width: int = _TEXT_WIDTH, line: float = 15.0) -> float:
    # Excel 不会为 openpyxl 写入的换行文本自动调整行高；按显示宽度估算行数（中文字符按 2 个字符宽计）
    lines = max(1, math.ceil(_display_width(text) / max(1, width - 2)))
    return round(lines * line + 3, 1)


def _num(x: Decimal | None) -> Any:
    if x is None:
        return None
    return int(x) if x == x.to_integral_value() else float(x)


def write_report_sheet(book: WritableBook, report: Report) -> None:
    """（重新）生成“报告”工作表：正文每段一行（文本，绝不作为公式），附件说明、署名、成文日期，各附件表，
    一级指标得分率数据与原生柱状图（在正文“见下图”之下）。只替换“报告”表，其他工作表不动。"""
    writes: list[CellWrite] = []
    heights: dict[int, float] = {}
    r = 1
    writes.append(CellWrite(r, 1, report.title, "title"))
    heights[r] = 24
    chart_rows: list[tuple[int, int]] = []  # (图的锚点行, 图题行)
    r += 1
    for b in report.blocks:
        r += 1
        if b.kind in ("heading", "title"):
            writes.append(CellWrite(r, 1, b.text, "heading" if b.level <= 1 else "subheading"))
        elif b.kind == "chart":
            anchor = r
            r += _CHART_ROWS
            writes.append(CellWrite(r, 1, f"图{len(chart_rows) + 1}  {report.chart_title}（{report.chart_legend()}）",
                                    "paragraph"))
            heights[r] = _row_height(writes[-1].value)
            chart_rows.append((anchor, r))
        else:
            writes.append(CellWrite(r, 1, b.text, "warning" if b.mark else "paragraph"))
            heights[r] = _row_height(b.text)
    r += 1
    for line in report.annex_note():
        r += 1
        writes.append(CellWrite(r, 1, line, "text"))
    r += 1
    for line in report.signature + ([report.date] if report.date else []):
        r += 1
        writes.append(CellWrite(r, 1, line, "text"))
    # 各附件：A 列为“一级／二级／三级”指标（指标体系表另附评分标准）
    for annex in report.annexes():
        r += 2
        writes.append(CellWrite(r, 1, f"{annex.label}：{annex.title}", "heading"))
        r += 1
        if annex.kind == "rules":
            header = ["指标（一级／二级／三级）及评分标准", "分值"]
        else:
            header = ["指标（一级／二级／三级）", "分值"] + (["年度指标值"] if report.kind == "project" else []) + \
                ["实际值", "得分", "备注"]
        for c, h in enumerate(header, 1):
            writes.append(CellWrite(r, c, h, "header"))
        for kind, cells, _ in annex.rows:
            r += 1
            if annex.kind == "rules":
                label = "／".join(x for x in cells[:3] if x) + (f"：{cells[3]}" if cells[3] else "")
                row_cells: list[tuple[Any, str]] = [(label, "text" if kind == "row" else "header"),
                                                    (_num(_dec(cells[5])), "number")]
                heights[r] = _row_height(label)
            else:
                label = "／".join(x for x in cells[:3] if x) if kind == "row" else cells[0]
                n = len(cells)
                row_cells = [(label, "text" if kind == "row" else "header"), (_num(_dec(cells[3])), "number")]
                if report.kind == "project":
                    row_cells.append((cells[4], "text"))
                row_cells += [(cells[n - 3], "text"), (_num(_dec(cells[n - 2])) if kind != "grade" else None, "number"),
                              (cells[n - 1], "text")]
                if kind != "row" and cells[n - 2] == "—":
                    row_cells[-2] = ("—", "text")
            for c, (v, style) in enumerate(row_cells, 1):
                if v is None or v == "":
                    continue
                writes.append(CellWrite(r, c, v, style))
    # 图表数据与原生柱状图（引用本表单元格）
    data_header = None
    if report.chart:
        r += 2
        writes.append(CellWrite(r, 1, f"图表数据：{report.chart_title}", "heading"))
        data_header = r + 1
        for c, h in enumerate(["一级指标", "分值", "得分", "得分率"], 1):
            writes.append(CellWrite(data_header, c, h, "header"))
        r = data_header
        for bar in report.chart:
            r += 1
            writes.append(CellWrite(r, 1, bar.name, "text"))
            writes.append(CellWrite(r, 2, _num(bar.points), "number"))
            writes.append(CellWrite(r, 3, _num(bar.score), "number"))
            # Excel 只保存 15 位有效数字（openpyxl 写文件时也截到 16 位）：先按 15 位取值，两个适配器写出的是同一个数（18 ÷ 61）
            writes.append(CellWrite(r, 4, float(format(bar.rate, ".15g")) if bar.rate is not None else None, "percent"))
        captions = {cap for _, cap in chart_rows}
        # 图题链接到图表数据
        writes = [CellWrite(w.row, w.col, w.value, w.style, f"'{SHEET_REPORT}'!A{data_header}")
                  if w.row in captions and w.col == 1 else w for w in writes]
    widths = ({1: _TEXT_WIDTH, 2: 7, 3: 12, 4: 12, 5: 7, 6: 24} if report.kind == "project"
              else {1: _TEXT_WIDTH, 2: 7, 3: 12, 4: 7, 5: 28})
    book.replace_sheet(SHEET_REPORT, writes, widths, heights=heights)
    book.set_page_setup(SHEET_REPORT, title_rows="1:1", header=DRAFT if report.draft else "", footer="第 &P 页，共 &N 页")
    if data_header is not None:
        for anchor, _ in chart_rows:
            book.add_bar_chart(SHEET_REPORT, title=report.chart_title, categories=(1, data_header + 1, r),
                               values=(4, data_header, r), anchor=f"A{anchor}", y_title="得分率")
