"""工作簿的窄接口与 openpyxl 适配器（xlwings 适配器见 xlbook.py）。

逻辑层只通过 Book 访问工作簿：读出某张表的非空单元格（公式以 Formula 表示），整表替换程序生成的工作表，保存。
"""
from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol, Sequence

from .model import Formula


class BookError(Exception):
    """工作簿无法打开或保存（中文说明）。"""


@dataclass(frozen=True)
class CellWrite:
    """写入生成表的一个单元格。style：title/header/text/number/percent/error/warning/info；link：跳转目标（'表名'!A1）。"""

    row: int  # 1 起
    col: int  # 1 起
    value: Any
    style: str = "text"
    link: str | None = None


Grid = dict[tuple[int, int], Any]


class Book(Protocol):
    def sheet_names(self) -> list[str]: ...

    def grid(self, sheet: str) -> Grid: ...

    def replace_sheet(self, name: str, writes: Sequence[CellWrite], widths: dict[int, float] | None = None,
                      heights: dict[int, float] | None = None) -> None: ...

    def save(self, path: str | Path | None = None) -> None: ...


def as_text(value: Any) -> Any:
    """写入生成表的文本一律按文本处理：以 = + - @ 开头的内容不会成为公式。"""
    return value


class OpenpyxlBook:
    """openpyxl 适配器。with_cached=True 时再以 data_only 打开一次，给公式附上文件中保存的计算结果。"""

    def __init__(self, path: str | Path, *, with_cached: bool = False, read_only: bool = False):
        import openpyxl

        self.path = Path(path)
        try:
            self.wb = openpyxl.load_workbook(self.path, data_only=False, read_only=read_only, keep_vba=False)
            # 缓存值也用非只读方式读取：只读模式会为稀疏工作表补出成百万个空行（见 _cells_of）
            self.cached_wb = openpyxl.load_workbook(self.path, data_only=True, keep_vba=False) if with_cached else None
        except FileNotFoundError:
            raise BookError(f"找不到文件：{self.path}") from None
        except Exception as exc:  # openpyxl 对损坏文件抛出多种异常
            raise BookError(f"无法读取工作簿“{self.path.name}”：{_describe(exc)}") from None
        self._grids: dict[str, Grid] = {}
        self._replaced: set[str] = set()  # 本次整表替换的生成表：保存时不从原文件抄回它们的公式结果

    def sheet_names(self) -> list[str]:
        return list(self.wb.sheetnames)

    def grid(self, sheet: str) -> Grid:
        if sheet in self._grids:
            return self._grids[sheet]
        ws = self.wb[sheet]
        cached = None
        # 生成表（校验结果、报告）可能是打开之后才加的，缓存工作簿里没有它
        if self.cached_wb is not None and sheet in self.cached_wb.sheetnames:
            cached = {rc: cell.value for rc, cell in _cells_of(self.cached_wb[sheet]) if cell.value is not None}
        g: Grid = {}
        for (r, c), cell in _cells_of(ws):
            v = cell.value
            if v is None:
                continue
            # 只有 data_type 为 f 的才是公式；以“=”开头的文本（如指标性质“=”）仍是文本
            if cell.data_type == "f":
                text = v if isinstance(v, str) else "=" + str(getattr(v, "text", ""))
                v = Formula(text, cached.get((r, c)) if cached else None)
            g[(r, c)] = v
        self._grids[sheet] = g
        return g

    def replace_sheet(self, name: str, writes: Sequence[CellWrite], widths: dict[int, float] | None = None,
                      heights: dict[int, float] | None = None) -> None:
        from openpyxl.worksheet.hyperlink import Hyperlink

        from . import xlstyles

        if name in self.wb.sheetnames:
            idx = self.wb.sheetnames.index(name)
            del self.wb[name]
            ws = self.wb.create_sheet(name, idx)
        else:
            ws = self.wb.create_sheet(name)
        for w in writes:
            cell = ws.cell(row=w.row, column=w.col)
            v = w.value
            cell.value = v
            if isinstance(v, str):
                cell.data_type = "s"  # 明确为文本：'=HYPERLINK(...)' 之类绝不会成为公式
            xlstyles.apply(cell, w.style)
            if w.link:
                # 工作簿内跳转用 location（不是指向 "#表!A1" 的外部关系），Excel 与 WPS 都按位置跳转
                cell.hyperlink = Hyperlink(ref=cell.coordinate, location=w.link)
        for col, width in (widths or {}).items():
            from openpyxl.utils import get_column_letter

            ws.column_dimensions[get_column_letter(col)].width = width
        # 行高（磅）：Excel 打开文件时不会自动调整换行文本的行高，长段落需要写明
        for row, height in (heights or {}).items():
            ws.row_dimensions[row].height = height
        self._grids.pop(name, None)
        self._replaced.add(name)

    def add_bar_chart(self, sheet: str, *, title: str, categories: tuple[int, int, int], values: tuple[int, int, int],
                      anchor: str, y_title: str = "", percent: bool = True) -> None:
        """在生成表中加一个原生柱状图。categories/values 为 (列, 起始行, 结束行)，values 的起始行是系列名称（表头）。"""
        from openpyxl.chart import BarChart, Reference

        ws = self.wb[sheet]
        chart = BarChart()
        chart.type = "col"
        chart.title = title
        chart.y_axis.title = y_title or None
        chart.legend = None
        if percent:
            chart.y_axis.number_format = "0%"
            chart.y_axis.scaling.min = 0
            chart.y_axis.scaling.max = 1
        # openpyxl 3.1 默认把坐标轴标为 delete，新版 Excel 会不显示坐标轴
        chart.x_axis.delete = False
        chart.y_axis.delete = False
        col, r1, r2 = values
        chart.add_data(Reference(ws, min_col=col, min_row=r1, max_row=r2), titles_from_data=True)
        col, r1, r2 = categories
        # 类目是文字：用 strRef（openpyxl 的 set_categories 写成 numRef，Excel 会把类目显示成 1、2、3）
        from openpyxl.chart.data_source import AxDataSource, StrRef

        ref = Reference(ws, min_col=col, min_row=r1, max_row=r2)
        for series in chart.series:
            series.cat = AxDataSource(strRef=StrRef(f=str(ref)))
        chart.width, chart.height = 16, 8
        ws.add_chart(chart, anchor)

    def set_page_setup(self, sheet: str, *, title_rows: str = "", header: str = "", footer: str = "") -> None:
        """生成表的打印设置：A4 纵向、缩放到一页宽（高度不限），title_rows 为每页重复的标题行（如 "1:1"），
        header 为页眉右侧文字（如“草稿”），footer 为页脚中间文字（可含 &P 页码、&N 总页数）。"""
        from openpyxl.worksheet.properties import PageSetupProperties

        ws = self.wb[sheet]
        ws.page_setup.paperSize = ws.PAPERSIZE_A4
        ws.page_setup.orientation = ws.ORIENTATION_PORTRAIT
        ws.page_setup.fitToWidth = 1
        ws.page_setup.fitToHeight = 0
        if ws.sheet_properties.pageSetUpPr is None:
            ws.sheet_properties.pageSetUpPr = PageSetupProperties()
        ws.sheet_properties.pageSetUpPr.fitToPage = True
        ws.print_options.horizontalCentered = True
        if title_rows:
            ws.print_title_rows = title_rows
        ws.oddHeader.right.text = header or None
        ws.oddFooter.center.text = footer or None

    def save(self, path: str | Path | None = None) -> None:
        import io

        from .cached import carry_cached_values

        target = Path(path) if path else self.path
        try:
            # openpyxl 存盘会丢掉公式的保存结果；存完从原文件抄回（写回原文件时先把原文件读入内存）
            same = target.exists() and self.path.exists() and os.path.samefile(target, self.path)
            source = io.BytesIO(self.path.read_bytes()) if same else self.path
            self.wb.save(target)
            carry_cached_values(source, target, skip=self._replaced)
        except PermissionError:
            raise BookError(f"无法保存“{target.name}”：文件被占用或没有写权限（请先在 Excel 中关闭该文件）") from None


def _cells_of(ws) -> list:
    """工作表中实际存在的单元格 ((行, 列), cell)。不用 iter_rows：它按已用区域的整个矩形逐格生成，
    用户在 XFD1048576 随手输入一个字符就会展开成 170 亿个空单元格（读取永不结束）。"""
    cells = getattr(ws, "_cells", None)
    if cells is not None:
        return sorted(cells.items())
    return [((cell.row, cell.column), cell) for row in ws.iter_rows() for cell in row
            if getattr(cell, "row", None) is not None]


def _describe(exc: Exception) -> str:
    name = type(exc).__name__
    if name in ("BadZipFile", "InvalidFileException"):
        return "不是有效的 .xlsx 文件（可能已损坏，或是 .xls 旧格式——请在 Excel 中另存为 .xlsx）"
    if name == "KeyError":
        return "文件结构不完整（缺少必需的部件）"
    return f"{name}: {str(exc)[:200]}"
