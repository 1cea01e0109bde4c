"""Book 接口的 xlwings 适配器：功能区按钮在 Excel 中经由它读写正在打开的工作簿（逻辑与命令行同一段代码）。

只用 xlwings 的经典（BSD）对象模型：``book.sheets``、``sheets.add/delete``、``range(...).value/.formula``、
``used_range``、``options(ndim=2, err_to_str=True)``、``color``/``font``/``number_format``/``wrap_text``/
``column_width``/``add_hyperlink``、``app.alert``。xlwings 没有对应功能的少数操作
（完全重算、工作表保护、条件格式高亮、另存副本、断开链接）集中在本文件末尾的 ``_Com`` 里，通过 ``.api`` 调 Excel COM；
tests/fake_xlwings.py 按微软文档模拟了这几个成员。

与 OpenpyxlBook 的一致性（测试逐格比对两者读同一工作簿得到的网格）：
- xlwings 把数字一律读成 float（见 xlwings 文档“数据结构”一节）；openpyxl 对整数单元格给 int。这里把整数值的
  float 还原为 int，使两种适配器交给 reader/engine 的原值完全相同。
- 错误单元格用 ``err_to_str=True`` 读成 "#NAME?" 之类文本，与 openpyxl 读缓存值一致（默认会读成 None）。
- 公式单元格：Range.Formula 对常量返回常量本身的文本、对空单元格返回空串、对公式返回以“=”开头的公式
  （微软 Range.Formula 文档）。文本恰好是“=”（项目指标性质）或以“'”前缀输入的“=…”文本时，Formula 与 Value
  相同——据此区分公式与文本：以“=”开头、长度大于 1、且与值不相等的才是公式。
"""
from __future__ import annotations

import contextlib
from collections import defaultdict
from decimal import Decimal
from pathlib import Path
from typing import Any, Iterator, Mapping, Sequence, TypeGuard

from ..model import Formula
from .book import BookError, CellWrite, Grid
from .ooxml import a1

# 生成表的样式（与 addin/io/xlstyles.py 的 openpyxl 版本同名同色）
_FILL = {"error": (0xFF, 0xC7, 0xCE), "warning": (0xFF, 0xEB, 0x9C), "info": (0xDD, 0xEB, 0xF7),
         "header": (0xD9, 0xE1, 0xF2)}
SEVERITY_STYLE = {"错误": "error", "警告": "warning", "提示": "info"}

# 条件格式高亮的标记公式：恒为 TRUE，且含 "jixiao"，下次运行据此找到并删除本程序加的规则（不动用户自己的条件格式）
HIGHLIGHT_MARKER = '=N("jixiao")=0'
_XL_EXPRESSION = 2  # XlFormatConditionType.xlExpression
_XL_EXCEL_LINKS = 1  # XlLink.xlExcelLinks / XlLinkType.xlLinkTypeExcelLinks
_MAX_ADDRESS = 240  # Range("A1,B2,…") 的地址串不得超过 255 个字符


def _norm(v: Any) -> Any:
    """xlwings 读出的原值 → 与 openpyxl 相同的原值（整数值的 float → int；空串 → None）。

    设了货币格式（如“¥#,##0.00”）的单元格，Range.Value 给的是 COM 的 Currency，pywin32 转成 decimal.Decimal，
    xlwings 原样交出；openpyxl 读同一单元格是 float/int，所以也按数值归一。"""
    if isinstance(v, Decimal):
        v = float(v)
    if isinstance(v, float) and v.is_integer() and abs(v) < 2**53:
        return int(v)
    if v == "":
        return None
    return v


def _is_formula(f: Any, v: Any) -> TypeGuard[str]:
    return isinstance(f, str) and len(f) > 1 and f.startswith("=") and not (isinstance(v, str) and v == f)


def _as_2d(x: Any) -> list[list[Any]]:
    if not isinstance(x, (list, tuple)):
        return [[x]]
    if x and not isinstance(x[0], (list, tuple)):
        return [list(x)]
    return [list(r) for r in x]


def excel_text(v: Any) -> Any:
    """写入 Excel 的值：文本一律加前导撇号，使“=…”“001”“12%”之类保持为文本（撇号不成为单元格内容）。"""
    if isinstance(v, str):
        return "'" + v if v else None
    return v


class XlwingsBook:
    """xlwings Book 的适配器。xw_book：``xw.Book.caller()`` 或测试中的替身。"""

    def __init__(self, xw_book: Any):
        self.xb = xw_book
        self._grids: dict[str, Grid] = {}

    # ---- Book 协议 -------------------------------------------------------------------------------
    @property
    def name(self) -> str:
        return self.xb.name

    @property
    def path(self) -> Path | None:
        """工作簿在磁盘上的完整路径；从未保存过的新工作簿为 None。

        OneDrive/SharePoint 上的工作簿，Excel 的 FullName 是网址；xlwings 按配置换成本地同步路径，换不成时抛出
        英文异常——这里改为中文说明（报告与定稿要写在工作簿旁边，必须是本地文件夹）。"""
        try:
            full = self.xb.fullname
        except Exception:  # noqa: BLE001 —— xlwings.XlwingsError：无法把网址换成本地路径
            full = "://"
        if full and "://" in full:
            raise BookError("工作簿保存在 OneDrive/SharePoint 网络位置，无法确定本地文件夹：请先“另存为”到本机文件夹"
                            "（或已同步的 OneDrive 本地文件夹）后再试")
        return Path(full) if full and ("\\" in full or "/" in full) else None

    def sheet_names(self) -> list[str]:
        return [s.name for s in self.xb.sheets]

    def grid(self, sheet: str) -> Grid:
        if sheet in self._grids:
            return self._grids[sheet]
        try:
            sh = self.xb.sheets[sheet]
        except Exception:  # noqa: BLE001 —— COM 与替身抛出的异常类型不同
            raise BookError(f"工作簿中没有工作表“{sheet}”") from None
        rng = sh.used_range
        values = _as_2d(rng.options(ndim=2, err_to_str=True).value)
        formulas = _as_2d(rng.formula)
        r0, c0 = rng.row, rng.column
        g: Grid = {}
        for i, row in enumerate(values):
            frow = formulas[i] if i < len(formulas) else []
            for j, v in enumerate(row):
                f = frow[j] if j < len(frow) else None
                if _is_formula(f, v):
                    g[(r0 + i, c0 + j)] = Formula(f, _norm(v))
                else:
                    v = _norm(v)
                    if v is not None:
                        g[(r0 + i, c0 + j)] = v
        self._grids[sheet] = g
        return g

    def replace_sheet(self, name: str, writes: Sequence[CellWrite], widths: Mapping[int, float] | None = None,
                      heights: Mapping[int, float] | None = None) -> None:
        sheets = self.xb.sheets
        names = [s.name for s in sheets]
        before = None
        if name in names:
            idx = names.index(name)
            sheets[name].delete()
            if idx < len(names) - 1:
                before = sheets[idx]
        if before is not None:
            sh = sheets.add(name, before=before)
        else:
            sh = sheets.add(name, after=sheets[len(sheets) - 1])
        if writes:
            self._write_block(sh, writes)
            self._apply_styles(sh, writes)
            for w in writes:
                if w.link:
                    text = "" if w.value is None else str(w.value)
                    sh.range((w.row, w.col)).add_hyperlink(f"#{w.link}", text_to_display=text or w.link,
                                                           screen_tip=f"跳转到 {w.link}")
        for col, width in (widths or {}).items():
            sh.range((1, col)).column_width = width
        for row, height in (heights or {}).items():
            sh.range((row, 1)).row_height = height
        self._grids.pop(name, None)

    def add_bar_chart(self, sheet: str, *, title: str, categories: tuple[int, int, int], values: tuple[int, int, int],
                      anchor: str, y_title: str = "", percent: bool = True) -> None:
        """与 OpenpyxlBook.add_bar_chart 相同：生成表中的原生柱状图。categories/values 为 (列, 起始行, 结束行)，
        values 的起始行是系列名称。"""
        sh = self.xb.sheets[sheet]
        ccol, c1, c2 = categories
        vcol, v1, v2 = values
        at = sh.range(anchor)
        chart = sh.charts.add(left=at.left, top=at.top, width=16 * 28.35, height=8 * 28.35)
        chart.chart_type = "column_clustered"
        # 类别列与数值列不相邻：用并集区域作数据源（首行为系列名称）
        chart.set_source_data(sh.range(f"{a1(v1, ccol)}:{a1(c2, ccol)},{a1(v1, vcol)}:{a1(v2, vcol)}"))
        _Com.chart_titles(chart, title, y_title, percent)

    def set_page_setup(self, sheet: str, *, title_rows: str = "", header: str = "", footer: str = "") -> None:
        """与 OpenpyxlBook.set_page_setup 相同：A4 纵向、一页宽、每页重复的标题行、页眉右侧与页脚中间的文字。"""
        ps = self.xb.sheets[sheet].api.PageSetup
        ps.PaperSize = 9  # xlPaperA4
        ps.Orientation = 1  # xlPortrait
        ps.Zoom = False
        ps.FitToPagesWide = 1
        ps.FitToPagesTall = False
        ps.CenterHorizontally = True
        if title_rows:
            first, _, last = title_rows.partition(":")
            ps.PrintTitleRows = f"${first}:${last or first}"
        ps.RightHeader = header
        ps.CenterFooter = footer

    def save(self, path: str | Path | None = None) -> None:
        if path is None:
            self.xb.save()
        else:
            # 与 OpenpyxlBook.save(path) 相同的语义：写出一份副本，当前工作簿仍指向原文件
            _Com.save_copy_as(self.xb, Path(path))

    # ---- Excel 专有操作（LiveBook：功能区按钮用 isinstance 判断） ----------------------------------------
    def recalculate(self) -> None:
        """完全重算（含单元格函数），之后重新读取网格。

        用 Application.CalculateFull 而不是 xlwings 的 app.calculate()（Application.Calculate）：后者只算 Excel 标为
        “脏”的单元格，加载项晚于工作簿加载、或改链（KB 817578）之后仍显示 #NAME? 的单元格函数可能不被重算，
        用户按“计算得分”正是为了修好它们（相当于 Ctrl+Alt+F9）。"""
        _Com.calculate_full(self.xb.app)
        self._grids.clear()

    def alert(self, message: str, title: str, *, critical: bool = False) -> None:
        self.xb.app.alert(message, title=title, mode="critical" if critical else "info")

    def confirm(self, message: str, title: str) -> bool:
        """“确定/取消”消息框（生成报送材料前列出找到的项目工作簿）：点“确定”为 True。"""
        return self.xb.app.alert(message, title=title, buttons="ok_cancel", mode="info") == "ok"

    def activate(self, sheet: str) -> None:
        with contextlib.suppress(Exception):
            self.xb.sheets[sheet].activate()

    def highlight(self, targets: Sequence[tuple[str, str, str]]) -> list[str]:
        """以条件格式标出有问题的单元格（保留到下次校验）；先删去上次加的。返回无法标注的工作表说明。"""
        notes: list[str] = []
        by_sheet: dict[str, list[tuple[str, str]]] = defaultdict(list)
        for sheet, cell, severity in targets:
            if cell:
                by_sheet[sheet].append((cell, severity))
        for sh in self.xb.sheets:
            try:
                with _Com.unprotected(sh):
                    _Com.clear_highlights(sh)
                    for cell, severity in by_sheet.pop(sh.name, []):
                        _Com.add_highlight(sh.range(cell), _FILL[SEVERITY_STYLE.get(severity, "info")])
            except _Protected:
                if by_sheet.pop(sh.name, None):
                    notes.append(f"工作表“{sh.name}”设有密码保护，未能标出问题单元格")
        return notes

    def export_values_copy(self, target: Path, values: dict[str, dict[tuple[int, int], Any]]) -> list[str]:
        """导出定稿：另存副本 → 打开副本 → 把单元格函数替换为数值 → 断开指向加载项的链接 → 保存、关闭。

        当前工作簿（用户正在编辑的那本）不做任何改动。返回说明（如断开的链接）。
        """
        _Com.save_copy_as(self.xb, target)
        app = self.xb.app
        copy = app.books.open(str(target))
        notes: list[str] = []
        try:
            for sheet, cells in values.items():
                sh = copy.sheets[sheet]
                with _Com.unprotected(sh):
                    for (r, c), v in sorted(cells.items()):
                        sh.range((r, c)).value = excel_text(v)
            notes += _Com.break_addin_links(copy)
            copy.save()
        except _Protected as exc:
            raise BookError(f"工作表“{exc}”设有密码保护，无法把单元格函数替换为数值") from None
        finally:
            with contextlib.suppress(Exception):
                copy.close()
        return notes

    # ---- 内部 -----------------------------------------------------------------------------------
    @staticmethod
    def _write_block(sh: Any, writes: Sequence[CellWrite]) -> None:
        """一次写入包住全部单元格的矩形区域（一个 COM 调用；逐格写入在几百格时要数秒）。"""
        r1 = min(w.row for w in writes)
        c1 = min(w.col for w in writes)
        r2 = max(w.row for w in writes)
        c2 = max(w.col for w in writes)
        block: list[list[Any]] = [[None] * (c2 - c1 + 1) for _ in range(r2 - r1 + 1)]
        for w in writes:
            block[w.row - r1][w.col - c1] = excel_text(w.value)
        sh.range((r1, c1), (r2, c2)).value = block

    @staticmethod
    def _apply_styles(sh: Any, writes: Sequence[CellWrite]) -> None:
        groups: dict[str, list[str]] = defaultdict(list)
        for w in writes:
            if w.style and w.style != "text":
                groups[w.style].append(a1(w.row, w.col))
        for style, cells in groups.items():
            for addr in _union_chunks(cells):
                _style_range(sh.range(addr), style)


def _union_chunks(cells: list[str]) -> Iterator[str]:
    chunk: list[str] = []
    length = 0
    for c in cells:
        if chunk and length + len(c) + 1 > _MAX_ADDRESS:
            yield ",".join(chunk)
            chunk, length = [], 0
        chunk.append(c)
        length += len(c) + 1
    if chunk:
        yield ",".join(chunk)


def _style_range(rng: Any, style: str) -> None:
    if style == "title":
        rng.font.name, rng.font.size, rng.font.bold = "黑体", 14, True
    elif style == "heading":
        rng.font.name, rng.font.size, rng.font.bold = "黑体", 12, True
    elif style == "subheading":
        rng.font.name, rng.font.size, rng.font.bold = "楷体", 11, True
    elif style == "header":
        rng.font.bold = True
        rng.color = _FILL["header"]
    elif style in ("error", "warning", "info"):
        rng.color = _FILL[style]
    elif style == "percent":
        rng.number_format = "0.00%"
    elif style == "number":
        rng.number_format = "0.00"
    elif style == "link":
        rng.font.color = (0x05, 0x63, 0xC1)
    elif style == "paragraph":
        rng.wrap_text = True


class _Protected(Exception):
    """工作表有密码保护。"""


class _Com:
    """xlwings 没有封装、只能经 .api 调用的 Excel COM 成员（各自注明微软文档中的对象与成员）。"""

    @staticmethod
    def calculate_full(app: Any) -> None:
        # Application.CalculateFull：强制重算所有打开工作簿中的全部公式
        app.api.CalculateFull()

    @staticmethod
    def save_copy_as(xb: Any, target: Path) -> None:
        # Workbook.SaveCopyAs(Filename)：保存副本，不改变当前工作簿的路径与“已保存”状态
        try:
            xb.api.SaveCopyAs(str(target))
        except Exception as exc:  # noqa: BLE001
            raise BookError(f"无法另存副本到 {target}：{_com_message(exc)}（文件是否已在 Excel 中打开？）") from None

    @staticmethod
    @contextlib.contextmanager
    def unprotected(sh: Any) -> Iterator[None]:
        """临时撤销无密码的工作表保护，结束后按原选项恢复（Worksheet.ProtectContents/Unprotect/Protect）。"""
        ws = sh.api
        if not ws.ProtectContents:
            yield
            return
        p = ws.Protection
        drawing, scenarios = bool(ws.ProtectDrawingObjects), bool(ws.ProtectScenarios)
        options = {name: bool(getattr(p, name)) for name in (
            "AllowFormattingCells", "AllowFormattingColumns", "AllowFormattingRows", "AllowInsertingColumns",
            "AllowInsertingRows", "AllowInsertingHyperlinks", "AllowDeletingColumns", "AllowDeletingRows",
            "AllowSorting", "AllowFiltering", "AllowUsingPivotTables")}
        try:
            ws.Unprotect("")
        except Exception:  # noqa: BLE001 —— 有密码时 Unprotect("") 失败
            raise _Protected(sh.name) from None
        try:
            yield
        finally:
            ws.Protect("", drawing, True, scenarios, False, **options)

    @staticmethod
    def clear_highlights(sh: Any) -> None:
        # Worksheet.Cells.FormatConditions：遍历本表全部条件格式，删去带标记公式的（FormatCondition.Delete）
        fcs = sh.api.Cells.FormatConditions
        for i in range(fcs.Count, 0, -1):
            fc = fcs.Item(i)
            with contextlib.suppress(Exception):  # 非表达式类型的规则没有 Formula1
                if fc.Type == _XL_EXPRESSION and '"jixiao"' in str(fc.Formula1):
                    fc.Delete()

    @staticmethod
    def add_highlight(rng: Any, rgb: tuple[int, int, int]) -> None:
        # FormatConditions.Add(Type:=xlExpression, Formula1:=…)；Interior.Color 为 BGR 整数
        fc = rng.api.FormatConditions.Add(Type=_XL_EXPRESSION, Formula1=HIGHLIGHT_MARKER)
        fc.Interior.Color = rgb[0] + rgb[1] * 256 + rgb[2] * 65536

    @staticmethod
    def chart_titles(chart: Any, title: str, y_title: str, percent: bool) -> None:
        # Chart.HasTitle/ChartTitle.Text、HasLegend、Axes(xlValue=2) 的刻度与数字格式；xlwings 的 Chart.api
        # 在 Windows 上是 (ChartObject, Chart)。装饰性设置，失败不影响报告
        with contextlib.suppress(Exception):
            c = chart.api[1]
            c.HasTitle = True
            c.ChartTitle.Text = title
            c.HasLegend = False
            axis = c.Axes(2)
            if y_title:
                axis.HasTitle = True
                axis.AxisTitle.Text = y_title
            if percent:
                axis.MinimumScale, axis.MaximumScale = 0, 1
                axis.TickLabels.NumberFormat = "0%"

    @staticmethod
    def break_addin_links(xb: Any) -> list[str]:
        # Workbook.LinkSources(xlExcelLinks) 列出外部链接；BreakLink 把仍引用它的公式变成数值并删除链接
        links = xb.api.LinkSources(_XL_EXCEL_LINKS) or ()
        broken = []
        for link in links:
            if str(link).lower().endswith(".xlam"):
                xb.api.BreakLink(str(link), _XL_EXCEL_LINKS)
                broken.append(f"已断开指向加载项的链接：{link}")
        return broken


def _com_message(exc: Exception) -> str:
    """pywintypes.com_error 的说明在 excepinfo[2]；其他异常取 str。"""
    args: tuple[Any, ...] = getattr(exc, "args", ())
    if len(args) >= 3 and isinstance(args[2], tuple) and len(args[2]) > 2 and args[2][2]:
        return str(args[2][2])
    return str(exc)[:200]
