"""openpyxl 适配器（OpenpyxlBook）：命令行与测试读写 .xlsx 文件的那一个。with_cached=True 时再以 data_only 打开一次，
给公式附上文件中保存的计算结果。读取时把文件整个读入内存，两次解析都来自这同一份字节；写出时以它为底，只拼接本次
整表替换的生成表（splice.py），用户的工作表与其他部件逐字节不变。"""
from __future__ import annotations

import io
import warnings
from pathlib import Path
from typing import TYPE_CHECKING, Any, Mapping, Sequence

from ..model import Formula
from .book import BookError, CellWrite, Grid

if TYPE_CHECKING:
    from openpyxl.worksheet.worksheet import Worksheet


class OpenpyxlBook:
    """openpyxl 适配器。with_cached=True 时再以 data_only 打开一次，给公式附上文件中保存的计算结果。

    读取时把文件整个读入内存（source），两次解析都来自这同一份字节；写出时以它为底，只拼接本次整表替换的生成表
    （addin/io/splice.py），用户的工作表与其他部件逐字节不变。"""

    def __init__(self, path: str | Path, *, with_cached: bool = False, read_only: bool = False,
                 data: bytes | None = None):
        import openpyxl

        self.path = Path(path)
        try:
            self.source: bytes = self.path.read_bytes() if data is None else data
            with warnings.catch_warnings():
                # openpyxl 对它不支持的内容（x14 数据验证等）警告“will be removed”：jixiao 不经 openpyxl 写回用户的表，
                # 这些内容原样保留，警告不适用
                warnings.filterwarnings("ignore", category=UserWarning, module="openpyxl")
                self.wb = openpyxl.load_workbook(io.BytesIO(self.source), data_only=False, read_only=read_only,
                                                 keep_vba=False)
                # 缓存值也用非只读方式读取：只读模式会为稀疏工作表补出成百万个空行（见 _cells_of）
                self.cached_wb = openpyxl.load_workbook(io.BytesIO(self.source), data_only=True, keep_vba=False) \
                    if with_cached else None
        except FileNotFoundError:
            raise BookError(f"找不到文件：{self.path}") from None
        except IsADirectoryError:
            raise BookError(f"{self.path} 是文件夹，不是工作簿文件") from None
        except Exception as exc:  # openpyxl 对损坏文件抛出多种异常
            raise BookError(f"无法读取工作簿“{self.path.name}”：{_describe(exc)}") from None
        self._grids: dict[str, Grid] = {}
        self._replaced: list[str] = []  # 本次整表替换的生成表（按首次替换的顺序）：写出时只拼接它们

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

    def replace_sheet(self, name: str, writes: Sequence[CellWrite], widths: Mapping[int, float] | None = None,
                      heights: Mapping[int, float] | None = None) -> None:
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
        if name not in self._replaced:
            self._replaced.append(name)

    def add_bar_chart(self, sheet: str, *, title: str, categories: tuple[int, int, int], values: tuple[int, int, int],
                      anchor: str, y_title: str = "", percent: bool = True) -> None:
        """在生成表中加一个原生柱状图。categories/values 为 (列, 起始行, 结束行)，values 的起始行是系列名称（表头）。"""
        from openpyxl.chart import BarChart, Reference

        ws = self._worksheet(sheet)
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

        ws = self._worksheet(sheet)
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
        odd_header, odd_footer = ws.oddHeader, ws.oddFooter
        assert odd_header is not None and odd_footer is not None  # openpyxl 的工作表总带着页眉页脚对象
        odd_header.right.text = header or None
        odd_footer.center.text = footer or None

    def _worksheet(self, name: str) -> Worksheet:
        from openpyxl.worksheet.worksheet import Worksheet

        ws = self.wb[name]
        if not isinstance(ws, Worksheet):  # 生成表都是普通工作表；同名的图表工作表不能当作生成表写
            raise BookError(f"“{name}”不是普通工作表")
        return ws

    # ---- 写出：原文件 + 拼接的生成表 ------------------------------------------------------------------------
    @property
    def owned_sheets(self) -> list[str]:
        """本次整表替换、写出时要拼接的生成表。"""
        return [n for n in self._replaced if n in self.wb.sheetnames]

    def owned_package(self) -> bytes:
        """只含生成表的草稿包（openpyxl 写出）：用户的表不经 openpyxl 序列化。

        生成表仍属于 self.wb（样式、打印设置、图表都照常用 openpyxl 的接口设置），写出时暂时只留下它们。"""
        wb = self.wb
        # openpyxl 没有“只写出部分工作表”的公开接口：暂时换掉它的私有表列表（类型存根不含这两个属性）
        saved = (wb._sheets, wb._active_sheet_index)  # type: ignore[attr-defined]
        buf = io.BytesIO()
        try:
            wb._sheets = [wb[n] for n in self.owned_sheets] or [_blank_sheet(wb)]  # type: ignore[attr-defined]
            wb._active_sheet_index = 0  # type: ignore[attr-defined]
            wb.save(buf)
        finally:
            wb._sheets, wb._active_sheet_index = saved  # type: ignore[attr-defined]
        return buf.getvalue()

    def expected_cells(self) -> dict[str, dict[tuple[int, int], tuple[Any, tuple | None]]]:
        """生成表中要写的内容与外观（核对读回结果用）。"""
        from .verify import cell_look

        # 空文本与空白格读回来都是 None；没有设置格式的格写出时不带 s，用工作簿的默认格式（不比较外观）
        return {n: {rc: (c.value, cell_look(c) if c.has_style else None) for rc, c in _cells_of(self.wb[n])
                    if c.value not in (None, "")} for n in self.owned_sheets}

    def package(self, suffix: str | None = None) -> bytes:
        """写出的工作簿：原文件的字节拼接上生成表（没有生成表、也不改文件类型时就是原文件）；suffix 为目标扩展名
        （决定文件类型，.xlsm 另存为 .xlsx 时去掉宏）。结果已核对（verify.verify），不通过时抛出 opc.SpliceError。"""
        from . import opc, splice, verify

        main_type = opc.main_type_for(suffix) if suffix else None
        sheets = self.owned_sheets
        if not sheets:
            pkg = opc.Package(self.source)
            if main_type is None or pkg.content_type(pkg.main_part()) == main_type:
                return self.source
        data = splice.splice(self.source, self.owned_package(), sheets, main_type=main_type)
        verify.verify(self.source, data, sheets, self.expected_cells(), self.sheet_names(), main_type=main_type)
        return data

    def save(self, path: str | Path | None = None) -> None:
        """直接写出（不经临时文件；命令行经 safeio.save_book：锁、原子替换、替换前核对文件未被改动）。"""
        from .opc import SpliceError

        target = Path(path) if path else self.path
        try:
            data = self.package(target.suffix)
        except SpliceError as exc:
            raise BookError(f"无法写出“{target.name}”：{exc}") from None
        try:
            target.write_bytes(data)
        except PermissionError:
            raise BookError(f"无法保存“{target.name}”：文件被占用或没有写权限（请先在 Excel 中关闭该文件）") from None
        if target == self.path:
            self.source = data


def _blank_sheet(wb):
    """没有生成表时草稿包里放的空表（openpyxl 不能写出没有工作表的工作簿）。"""
    from openpyxl.worksheet.worksheet import Worksheet

    return Worksheet(wb, title="jixiao")


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
