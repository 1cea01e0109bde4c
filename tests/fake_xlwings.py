"""xlwings（与少量 Excel COM 成员）的内存替身：只实现 addin/io/xlbook.py 用到的那些调用，语义照文档实现。

依据（tests/test_addin.py 中的 ``test_fake_*`` 逐条验证本替身符合这些行为）：
- xlwings 文档“Data Structures Tutorial”（docs.xlwings.org/en/stable/datastructures.html）：单个单元格按内容读成
  float / str / None / datetime（数字一律 float，空单元格 None）；一行或一列读成一维 list；二维区域读成嵌套 list；
  ``options(ndim=2)`` 总是给嵌套 list（单个单元格为 ``[[v]]``）。
- xlwings 文档“Converters”：``err_to_str=True`` 时错误单元格读成 "#N/A" 之类文本，默认读成 None。
- 微软 Range.Formula 文档（learn.microsoft.com …/microsoft.office.interop.excel.range.formula）：单元格是常量时返回
  该常量，空单元格返回空串，公式返回编辑栏中显示的、以“=”开头的文本；xlwings 的 ``Range.formula`` 直接返回 COM 的
  Range.Formula（xlwings/_xlwindows.py），多格区域是 pywin32 的二维元组。
- Excel 输入规则：写入以“'”开头的文本时撇号不成为内容、值为其后的文本；以“=”开头的文本成为公式；像数字或百分数
  的文本被转换成数字。
- xlwings ``Sheets.add``：同名工作表已存在时抛 ValueError（xlwings/main.py）；新表成为活动表。
- Worksheet.Protect / Unprotect / ProtectContents / Protection.Allow*：受保护工作表上锁定单元格不能写入、
  不能加条件格式（COM 抛错）；有密码时 Unprotect("") 失败。
- FormatConditions.Add(Type, Formula1) / Count / Item(i)（从 1 起）/ FormatCondition.Delete / Interior.Color。
- Workbook.SaveCopyAs / LinkSources(xlExcelLinks) / BreakLink；Application.CalculateFull。
未模拟：日期的自动识别、公式计算（``FakeApp.calculate`` 调用测试给的 ``calc`` 函数）、单元格格式对读值的影响。
"""
from __future__ import annotations

import copy as _copy
import datetime as dt
import re
import threading as _threading
import unittest.mock as _mock
import zipfile as _zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

from workbook_templates.layout import col_letter

_ADDR = re.compile(r"^\$?([A-Za-z]{1,3})\$?(\d+)(?::\$?([A-Za-z]{1,3})\$?(\d+))?$")
_NUMBER = re.compile(r"^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$")


class FakeComError(Exception):
    """模拟 pywintypes.com_error：args[2][2] 为说明文字。"""

    def __init__(self, message: str):
        super().__init__(-2147352567, "发生意外。", (0, "Microsoft Excel", message, None, 0, -2146827284), None)


@dataclass(frozen=True)
class XlError:
    """单元格错误值（#NAME? 等）。"""

    text: str


def _col(letters: str) -> int:
    n = 0
    for ch in letters.upper():
        n = n * 26 + ord(ch) - 64
    return n


def parse_address(addr: str) -> list[tuple[int, int, int, int]]:
    """"A1" / "A1:B3" / "A1,C2:D4"（并集）→ [(r1, c1, r2, c2)]。"""
    out = []
    for part in addr.split(","):
        m = _ADDR.match(part.strip())
        if not m:
            raise FakeComError(f"无效的区域地址：{part}")
        r1, c1 = int(m.group(2)), _col(m.group(1))
        r2, c2 = (int(m.group(4)), _col(m.group(3))) if m.group(3) else (r1, c1)
        out.append((min(r1, r2), min(c1, c2), max(r1, r2), max(c1, c2)))
    return out


@dataclass
class Cell:
    value: Any = None  # 计算结果或常量：float / str / bool / datetime / XlError / None
    formula: str | None = None  # 公式文本（以“=”开头），常量为 None
    locked: bool = True  # Excel 默认所有单元格锁定


def _formula_text(c: Cell | None) -> str:
    if c is None:
        return ""
    if c.formula is not None:
        return c.formula
    v = c.value
    if v is None:
        return ""
    if isinstance(v, bool):
        return "TRUE" if v else "FALSE"
    if isinstance(v, float):
        return str(int(v)) if v.is_integer() else repr(v)
    if isinstance(v, XlError):
        return v.text
    return str(v)


def _read(v: Any, err_to_str: bool) -> Any:
    if isinstance(v, XlError):
        return v.text if err_to_str else None
    if isinstance(v, bool) or v is None or isinstance(v, (str, dt.datetime)):
        return v
    if isinstance(v, (int, float)):
        return float(v)
    return v


# =====================================================================================================
class FakeFont:
    def __init__(self, rng: "FakeRange"):
        self._rng = rng

    def _set(self, key: str, value: Any) -> None:
        for r, c in self._rng.cells():
            self._rng.sheet.styles.setdefault((r, c), {})[f"font.{key}"] = value

    def _get(self, key: str) -> Any:
        r, c = self._rng.cells()[0]
        return self._rng.sheet.styles.get((r, c), {}).get(f"font.{key}")

    name = property(lambda s: s._get("name"), lambda s, v: s._set("name", v))
    size = property(lambda s: s._get("size"), lambda s, v: s._set("size", v))
    bold = property(lambda s: s._get("bold"), lambda s, v: s._set("bold", v))
    color = property(lambda s: s._get("color"), lambda s, v: s._set("color", v))


class _Interior:
    def __init__(self):
        self.Color = 0xFFFFFF


class FakeFormatCondition:
    def __init__(self, sheet: "FakeSheet", applies_to: str, type_: int, formula1: str):
        self.sheet, self.AppliesTo, self.Type, self.Formula1 = sheet, applies_to, type_, formula1
        self.Interior = _Interior()

    def Delete(self) -> None:  # noqa: N802 —— COM 成员名
        self.sheet.format_conditions.remove(self)


class FakeFormatConditions:
    def __init__(self, sheet: "FakeSheet", applies_to: str | None):
        self.sheet, self.applies_to = sheet, applies_to

    @property
    def Count(self) -> int:  # noqa: N802
        return len(self.sheet.format_conditions)

    def Item(self, i: int) -> FakeFormatCondition:  # noqa: N802
        return self.sheet.format_conditions[i - 1]

    def Add(self, Type: int, Formula1: str = "", **_kw: Any) -> FakeFormatCondition:  # noqa: N802,N803
        if self.sheet.protected and not self.sheet.protection.AllowFormattingCells:
            raise FakeComError("不能在受保护的工作表上使用此命令。")
        fc = FakeFormatCondition(self.sheet, self.applies_to or "", Type, Formula1)
        self.sheet.format_conditions.append(fc)
        return fc


class _RangeApi:
    def __init__(self, rng: "FakeRange"):
        self.FormatConditions = FakeFormatConditions(rng.sheet, rng.address)


class FakeRange:
    def __init__(self, sheet: "FakeSheet", areas: list[tuple[int, int, int, int]], *, ndim: int | None = None,
                 err_to_str: bool = False):
        self.sheet, self.areas, self._ndim, self._err = sheet, areas, ndim, err_to_str

    # ---- 位置 ----
    @property
    def row(self) -> int:
        return self.areas[0][0]

    @property
    def column(self) -> int:
        return self.areas[0][1]

    @property
    def shape(self) -> tuple[int, int]:
        r1, c1, r2, c2 = self.areas[0]
        return r2 - r1 + 1, c2 - c1 + 1

    @property
    def address(self) -> str:
        def one(a):
            r1, c1, r2, c2 = a
            s = f"${col_letter(c1 - 1)}${r1}"
            return s if (r1, c1) == (r2, c2) else f"{s}:${col_letter(c2 - 1)}${r2}"

        return ",".join(one(a) for a in self.areas)

    def cells(self) -> list[tuple[int, int]]:
        return [(r, c) for r1, c1, r2, c2 in self.areas for r in range(r1, r2 + 1) for c in range(c1, c2 + 1)]

    def options(self, ndim: int | None = None, err_to_str: bool = False, **_kw: Any) -> "FakeRange":
        return FakeRange(self.sheet, self.areas, ndim=ndim, err_to_str=err_to_str)

    @property
    def api(self) -> _RangeApi:
        return _RangeApi(self)

    # ---- 值 ----
    def _single_area(self) -> tuple[int, int, int, int]:
        if len(self.areas) != 1:
            raise FakeComError("多重选定区域不能读取值")
        return self.areas[0]

    @property
    def value(self) -> Any:
        r1, c1, r2, c2 = self._single_area()
        rows = [[_read(self.sheet.cells.get((r, c), Cell()).value, self._err) for c in range(c1, c2 + 1)]
                for r in range(r1, r2 + 1)]
        if self._ndim == 2:
            return rows
        if r1 == r2 and c1 == c2:
            return rows[0][0]
        if r1 == r2:
            return rows[0]
        if c1 == c2:
            return [row[0] for row in rows]
        return rows

    @value.setter
    def value(self, data: Any) -> None:
        r1, c1, _, _ = self._single_area()
        if isinstance(data, (list, tuple)):
            rows = data if data and isinstance(data[0], (list, tuple)) else [data]
            for i, row in enumerate(rows):
                for j, v in enumerate(row):
                    self.sheet._input(r1 + i, c1 + j, v)
        else:
            for r, c in self.cells():
                self.sheet._input(r, c, data)

    @property
    def formula(self) -> Any:
        r1, c1, r2, c2 = self._single_area()
        if r1 == r2 and c1 == c2:
            return _formula_text(self.sheet.cells.get((r1, c1)))
        return tuple(tuple(_formula_text(self.sheet.cells.get((r, c))) for c in range(c1, c2 + 1))
                     for r in range(r1, r2 + 1))

    @formula.setter
    def formula(self, text: Any) -> None:
        self.value = text

    # ---- 格式 ----
    def _style(self, key: str, value: Any) -> None:
        for rc in self.cells():
            self.sheet.styles.setdefault(rc, {})[key] = value

    def _get_style(self, key: str) -> Any:
        return self.sheet.styles.get(self.cells()[0], {}).get(key)

    color = property(lambda s: s._get_style("color"), lambda s, v: s._style("color", v))
    number_format = property(lambda s: s._get_style("number_format") or "General",
                             lambda s, v: s._style("number_format", v))
    wrap_text = property(lambda s: bool(s._get_style("wrap_text")), lambda s, v: s._style("wrap_text", v))

    @property
    def font(self) -> FakeFont:
        return FakeFont(self)

    @property
    def row_height(self) -> float | None:
        return self.sheet.row_heights.get(self.row, 15.0)

    @row_height.setter
    def row_height(self, h: float) -> None:
        r1, c1, r2, c2 = self._single_area()
        for r in range(r1, r2 + 1):
            self.sheet.row_heights[r] = h

    @property
    def left(self) -> float:
        return (self.column - 1) * 48.0

    @property
    def top(self) -> float:
        return (self.row - 1) * 15.0

    @property
    def column_width(self) -> float | None:
        return self.sheet.col_widths.get(self.column, 8.43)

    @column_width.setter
    def column_width(self, w: float) -> None:
        r1, c1, r2, c2 = self._single_area()
        for c in range(c1, c2 + 1):
            self.sheet.col_widths[c] = w

    def add_hyperlink(self, address: str, text_to_display: str | None = None, screen_tip: str | None = None) -> None:
        r, c = self.cells()[0]
        text = address if text_to_display is None else text_to_display
        self.sheet.hyperlinks[(r, c)] = (address, screen_tip)
        self.sheet._input(r, c, "'" + text if text else None)


# =====================================================================================================
class _Protection:
    def __init__(self):
        for name in ("AllowFormattingCells", "AllowFormattingColumns", "AllowFormattingRows", "AllowInsertingColumns",
                     "AllowInsertingRows", "AllowInsertingHyperlinks", "AllowDeletingColumns", "AllowDeletingRows",
                     "AllowSorting", "AllowFiltering", "AllowUsingPivotTables"):
            setattr(self, name, False)


class _SheetApi:
    def __init__(self, sheet: "FakeSheet"):
        self._s = sheet

    @property
    def ProtectContents(self) -> bool:  # noqa: N802
        return self._s.protected

    @property
    def ProtectDrawingObjects(self) -> bool:  # noqa: N802
        return self._s.protected

    @property
    def ProtectScenarios(self) -> bool:  # noqa: N802
        return self._s.protected

    @property
    def Protection(self) -> _Protection:  # noqa: N802
        return self._s.protection

    def Unprotect(self, password: str = "") -> None:  # noqa: N802
        if self._s.password and password != self._s.password:
            raise FakeComError("您输入的密码不正确。")
        self._s.protected = False

    def Protect(self, password: str = "", drawing: bool = True, contents: bool = True, scenarios: bool = True,  # noqa: N802
                user_interface_only: bool = False, **allow: Any) -> None:
        self._s.protected = bool(contents)
        self._s.password = password or None
        for k, v in allow.items():
            setattr(self._s.protection, k, bool(v))

    @property
    def PageSetup(self) -> Any:  # noqa: N802 —— 打印设置：记录赋值（PaperSize、FitToPagesWide、PrintTitleRows……）
        return self._s.page_setup

    @property
    def Cells(self) -> Any:  # noqa: N802
        sheet = self._s

        class _Cells:
            FormatConditions = FakeFormatConditions(sheet, None)

        return _Cells()


class FakeSheet:
    def __init__(self, book: "FakeBook", name: str):
        self.book, self.name = book, name
        self.cells: dict[tuple[int, int], Cell] = {}
        self.styles: dict[tuple[int, int], dict[str, Any]] = {}
        self.hyperlinks: dict[tuple[int, int], tuple[str, str | None]] = {}
        self.col_widths: dict[int, float] = {}
        self.row_heights: dict[int, float] = {}
        self.charts = FakeCharts(self)
        self.protected = False
        self.password: str | None = None
        self.protection = _Protection()
        self.format_conditions: list[FakeFormatCondition] = []
        self.page_setup = _ComObject()
        self.deleted = False

    def __repr__(self) -> str:
        return f"<Sheet [{self.book.name}]{self.name}>"

    @property
    def api(self) -> _SheetApi:
        return _SheetApi(self)

    def _input(self, r: int, c: int, v: Any) -> None:
        """按 Excel 的输入规则写一个单元格。"""
        cell = self.cells.get((r, c))
        if self.protected and (cell is None or cell.locked):
            raise FakeComError("您试图更改的单元格或图表位于受保护的工作表中。")
        locked = cell.locked if cell else True
        if v is None or v == "":
            self.cells.pop((r, c), None)
            if not locked:
                self.cells[(r, c)] = Cell(locked=False)
            return
        formula = None
        if isinstance(v, str):
            if v.startswith("'"):
                v = v[1:]
            elif v.startswith("=") and len(v) > 1:
                formula, v = v, None
            elif _NUMBER.match(v.replace(",", "")):
                v = float(v.replace(",", ""))
            elif v.endswith("%") and _NUMBER.match(v[:-1]):
                v = float(v[:-1]) / 100
        elif isinstance(v, bool):
            pass
        elif isinstance(v, (int, float)):
            v = float(v)
        self.cells[(r, c)] = Cell(v, formula, locked)

    def range(self, a: Any, b: Any = None) -> FakeRange:
        if isinstance(a, FakeRange):
            a = (a.row, a.column)
        if isinstance(b, FakeRange):
            b = (b.row, b.column)
        if isinstance(a, tuple):
            r1, c1 = a
            r2, c2 = b if b is not None else a
            return FakeRange(self, [(min(r1, r2), min(c1, c2), max(r1, r2), max(c1, c2))])
        areas = parse_address(a)
        if b is not None:
            (r1, c1, _, _), (r2, c2, _, _) = areas[0], parse_address(b)[0]
            areas = [(min(r1, r2), min(c1, c2), max(r1, r2), max(c1, c2))]
        return FakeRange(self, areas)

    def __getitem__(self, addr: str) -> FakeRange:
        return self.range(addr)

    @property
    def used_range(self) -> FakeRange:
        used = [rc for rc, cell in self.cells.items() if cell.value is not None or cell.formula is not None]
        used += list(self.styles)
        if not used:
            return FakeRange(self, [(1, 1, 1, 1)])
        rows = [r for r, _ in used]
        cols = [c for _, c in used]
        return FakeRange(self, [(min(rows), min(cols), max(rows), max(cols))])

    def delete(self) -> None:
        self.book.sheets._remove(self)

    def activate(self) -> None:
        self.book.active_sheet = self


class _ComObject:
    """接受任意属性赋值与调用的 COM 对象替身（图表标题等装饰性设置）。"""

    def __init__(self):
        self.__dict__["props"] = {}

    def __getattr__(self, name: str) -> Any:
        if name.startswith("__"):
            raise AttributeError(name)
        return self.props.setdefault(name, _ComObject())

    def __setattr__(self, name: str, value: Any) -> None:
        self.props[name] = value

    def __call__(self, *args: Any) -> "_ComObject":
        return self.props.setdefault(("call",) + args, _ComObject())


class FakeChart:
    def __init__(self, left: float, top: float, width: float, height: float):
        self.left, self.top, self.width, self.height = left, top, width, height
        self.chart_type = "column_clustered"
        self.source: str | None = None
        self.api = (_ComObject(), _ComObject())

    def set_source_data(self, rng: FakeRange) -> None:
        self.source = rng.address


class FakeCharts(list):
    def __init__(self, sheet: "FakeSheet"):
        super().__init__()
        self.sheet = sheet

    def add(self, left: float = 0, top: float = 0, width: float = 355, height: float = 211, **_kw: Any) -> FakeChart:
        chart = FakeChart(left, top, width, height)
        self.append(chart)
        return chart


class FakeSheets:
    def __init__(self, book: "FakeBook"):
        self.book = book
        self._list: list[FakeSheet] = []

    def __iter__(self):
        return iter(list(self._list))

    def __len__(self) -> int:
        return len(self._list)

    def __getitem__(self, key: str | int) -> FakeSheet:
        if isinstance(key, int):
            return self._list[key]
        for s in self._list:
            if s.name.lower() == key.lower():
                return s
        raise FakeComError(f"下标越界：没有工作表“{key}”")

    def __call__(self, key: str | int) -> FakeSheet:
        return self[key - 1] if isinstance(key, int) else self[key]

    def add(self, name: str | None = None, before: FakeSheet | None = None, after: FakeSheet | None = None) -> FakeSheet:
        if name is not None and name.lower() in (s.name.lower() for s in self._list):
            raise ValueError("Sheet named '%s' already present in workbook" % name)
        sheet = FakeSheet(self.book, name or f"Sheet{len(self._list) + 1}")
        if before is not None:
            self._list.insert(self._list.index(before), sheet)
        elif after is not None:
            self._list.insert(self._list.index(after) + 1, sheet)
        else:  # Excel 默认插在活动表之前；测试里都显式给出位置
            self._list.insert(0, sheet)
        self.book.active_sheet = sheet
        return sheet

    def _remove(self, sheet: FakeSheet) -> None:
        if len(self._list) == 1:
            raise FakeComError("工作簿中至少要有一张可见的工作表。")
        self._list.remove(sheet)
        sheet.deleted = True


class _BookApi:
    def __init__(self, book: "FakeBook"):
        self._b = book

    def SaveCopyAs(self, filename: str) -> None:  # noqa: N802
        self._b.app.files[str(filename)] = self._b.snapshot(Path(filename).name, str(filename))
        self._b.copies.append(str(filename))

    def LinkSources(self, kind: int = 1) -> tuple[str, ...] | None:  # noqa: N802
        return tuple(self._b.links) or None

    def BreakLink(self, name: str, kind: int = 1) -> None:  # noqa: N802
        self._b.links.remove(name)
        self._b.broken_links.append(name)


class FakeBook:
    def __init__(self, app: "FakeApp", name: str, fullname: str | None = None):
        self.app, self.name = app, name
        self.fullname = fullname or name
        self.sheets = FakeSheets(self)
        self.active_sheet: FakeSheet | None = None
        self.links: list[str] = []
        self.broken_links: list[str] = []
        self.copies: list[str] = []
        self.saved_to: list[str] = []
        self.closed = False

    @property
    def api(self) -> _BookApi:
        return _BookApi(self)

    def save(self, path: str | None = None) -> None:
        if path:
            self.fullname, self.name = str(path), Path(path).name
        self.saved_to.append(self.fullname)
        self.app.files[self.fullname] = self.snapshot(self.name, self.fullname)

    def close(self) -> None:
        self.closed = True
        self.app.books._list.remove(self)

    def snapshot(self, name: str, fullname: str) -> "FakeBook":
        other = FakeBook(self.app, name, fullname)
        for s in self.sheets:
            t = FakeSheet(other, s.name)
            for attr in ("cells", "styles", "hyperlinks", "col_widths", "row_heights", "protected", "password",
                         "protection", "format_conditions"):
                setattr(t, attr, _copy.deepcopy(getattr(s, attr)))
            for fc in t.format_conditions:
                fc.sheet = t
            other.sheets._list.append(t)
        other.links = list(self.links)
        return other

    @classmethod
    def from_xlsx(cls, path: str | Path, app: "FakeApp | None" = None, fullname: str | None = None) -> "FakeBook":
        """把 .xlsx 载入替身：公式连同文件中保存的计算结果、锁定状态与工作表保护一起载入。"""
        import openpyxl

        path = Path(path)
        app = app or FakeApp()
        wb = openpyxl.load_workbook(path)
        cached = openpyxl.load_workbook(path, data_only=True)
        book = cls(app, path.name, fullname or str(path))
        for ws in wb.worksheets:
            sheet = FakeSheet(book, ws.title)
            cws = cached[ws.title]
            for row in ws.iter_rows():
                for cell in row:
                    locked = cell.protection.locked if cell.has_style else True
                    if cell.value is None:
                        if not locked:
                            sheet.cells[(cell.row, cell.column)] = Cell(locked=False)
                        continue
                    cv = cws.cell(cell.row, cell.column)
                    if cell.data_type == "f":
                        text = cell.value if isinstance(cell.value, str) else "=" + str(getattr(cell.value, "text", ""))
                        v = XlError(cv.value) if cv.data_type == "e" else cv.value
                        sheet.cells[(cell.row, cell.column)] = Cell(_read(v, False) if not isinstance(v, XlError) else v,
                                                                    text, locked)
                    else:
                        v = XlError(cell.value) if cell.data_type == "e" else cell.value
                        if isinstance(v, (int, float)) and not isinstance(v, bool):
                            v = float(v)
                        sheet.cells[(cell.row, cell.column)] = Cell(v, None, locked)
            sheet.protected = bool(ws.protection.sheet)
            sheet.password = ws.protection.password or None
            book.sheets._list.append(sheet)
        book.links = [link.file_link.Target for link in getattr(wb, "_external_links", []) if link.file_link]
        app.books._list.append(book)
        return book


class FakeBooks:
    def __init__(self, app: "FakeApp"):
        self.app = app
        self._list: list[FakeBook] = []

    def __iter__(self):
        return iter(list(self._list))

    def __getitem__(self, name: str) -> FakeBook:
        for b in self._list:
            if b.name.lower() == name.lower():
                return b
        raise KeyError(name)

    def open(self, fullname: str) -> FakeBook:
        if fullname not in self.app.files:
            raise FakeComError(f"找不到文件 {fullname}")
        book = self.app.files[fullname].snapshot(Path(fullname).name, fullname)
        self._list.append(book)
        return book


@dataclass
class FakeApp:
    calc: Callable[["FakeBook"], None] | None = None
    alerts: list[dict[str, Any]] = field(default_factory=list)
    calculations: list[str] = field(default_factory=list)  # 每次重算的方式（Calculate / CalculateFull）
    files: dict[str, FakeBook] = field(default_factory=dict)

    def __post_init__(self):
        self.books = FakeBooks(self)

    def alert(self, prompt: str, title: str | None = None, buttons: str = "ok", mode: str | None = None,
              callback: str | None = None) -> str:
        if mode not in (None, "info", "critical"):
            raise ValueError(mode)
        self.alerts.append({"prompt": prompt, "title": title, "buttons": buttons, "mode": mode})
        return "ok"

    def calculate(self) -> None:
        """xlwings App.calculate() → Application.Calculate（只算“脏”单元格；替身不区分，记下调用方式）。"""
        self._recalc("Calculate")

    @property
    def api(self) -> "_AppApi":
        return _AppApi(self)

    def _recalc(self, kind: str) -> None:
        self.calculations.append(kind)
        for book in self.books:
            if self.calc:
                self.calc(book)


class _AppApi:
    def __init__(self, app: FakeApp):
        self._app = app

    def CalculateFull(self) -> None:  # noqa: N802 —— Application.CalculateFull：全部公式强制重算
        self._app._recalc("CalculateFull")


# =====================================================================================================
# 整个 Excel 应用程序的替身：jixiao addin install / doctor 在隐藏的 Excel 中做的那些 COM 调用
# =====================================================================================================
# 依据：
# - Workbook.HasVBProject（Excel 2007 起，不需要“信任对 VBA 工程对象模型的访问”）；Workbook.VBProject 在未信任时抛出
#   “不信任到 Visual Basic Project 的程序访问”；VBComponents.Import / Remove / Item、CodeModule.AddFromString。
# - Application.Run("'书名'!模块.过程")：宏不存在或被禁用时抛出“无法运行宏…”；Application.Evaluate 对错误返回
#   pywin32 的整数错误码（#NAME? = -2146826259，#VALUE! = -2146826273）。
# - xlwings 的单元格函数包装（generate_vba_wrapper）：在单元格中出错时返回 Err.Description；XLPyLoadDLL 先在解释器
#   目录、再在其上一级找 xlwings64-版本.dll，找不到时报 “Could not load xlwings64-….dll from either of the following
#   folders”；启动 Python 被拦截时 DLL 报 “Could not activate Python COM server, hr = …”。
# - Application.MacroOptions 对隐藏的工作簿（IsAddin = True）报“不能编辑隐藏工作簿中的宏”（Cannot edit a macro on a
#   hidden workbook）。
# - RunPython（xlwings 模块的 ExecuteWindows）：找不到解释器时弹 MsgBox（隐藏的 Excel 中就此卡住）；WScript.Run 启动
#   cmd.exe 被 Defender 规则拦截时为运行时错误 70。
XL_NAME, XL_VALUE = -2146826259, -2146826273
CANNOT_RUN = "无法运行宏“{macro}”。该宏可能在此工作簿中不可用，或者可能禁用了所有宏。"
NOT_TRUSTED = "不信任到 Visual Basic Project 的程序访问"
HIDDEN_MACRO = "不能编辑隐藏工作簿中的宏。请用“取消隐藏”命令取消隐藏该工作簿。"
RPC_FAILED = "远程过程调用失败。"


@dataclass
class ExcelWorld:
    """替身 Excel 所在的电脑：策略、安全软件、要在哪一步出错或卡住；记录启动过的每个 Excel。"""

    vbom_trusted: bool = True
    child_processes_blocked: bool = False
    macros_blocked: bool = False
    drop_vba_project: bool | str = False  # Excel 以“修复”方式打开、丢弃 VBA 工程（字符串：只丢弃这个工程名的工程）
    excel_bits: int = 64
    fail: dict[str, str] = field(default_factory=dict)  # 操作 → COM 错误文字
    hang: set[str] = field(default_factory=set)  # 这些操作一直不返回（直到进程被结束）
    startup_path: str | None = None
    apps: list["FakeExcel"] = field(default_factory=list)
    killed: list[int] = field(default_factory=list)
    ops: list[str] = field(default_factory=list)  # 依次执行过的操作

    def start(self) -> "FakeExcel":
        app = FakeExcel(self, 4000 + len(self.apps))
        app._op("start")  # 启动失败时没有留下进程
        self.apps.append(app)
        return app

    def kill(self, pid: int) -> None:
        self.killed.append(pid)
        for app in self.apps:
            if app.pid == pid:
                app.alive = False
                app._killed.set()

    @property
    def all_closed(self) -> bool:
        return all(not a.alive for a in self.apps)


class FakeExcel:
    def __init__(self, world: ExcelWorld, pid: int):
        self.world, self.pid = world, pid
        self.alive = True
        self.quit_called = False
        self.display_alerts = True
        self.screen_updating = True
        self.files: dict[str, FakeBook] = {}
        self.books = _ExcelBooks(self)
        self.api = _ExcelApi(self)
        self._killed = _threading.Event()
        self.active_book: FakeBook | None = None

    def _op(self, name: str) -> None:
        self.world.ops.append(name)
        if not self.alive:
            raise FakeComError(RPC_FAILED)
        if name in self.world.hang:
            self._killed.wait(60)
            raise FakeComError(RPC_FAILED)
        if name in self.world.fail:
            raise FakeComError(self.world.fail[name])

    def quit(self) -> None:
        self.quit_called = True
        if "quit" in self.world.fail:
            raise FakeComError(self.world.fail["quit"])
        self.alive = False

    def kill(self) -> None:
        self.world.killed.append(self.pid)
        self.alive = False

    def calculate(self) -> None:
        self._op("calculate")
        for book in self.books:
            if isinstance(book, FakeAddin):
                continue
            for sheet in book.sheets:
                for cell in sheet.cells.values():
                    if cell.formula:
                        v = self.api._evaluate(cell.formula, in_cell=True)
                        cell.value = XlError("#NAME?") if v == XL_NAME else v

    @property
    def addins(self) -> list["FakeAddin"]:
        return [b for b in self.books if isinstance(b, FakeAddin)]


class _ExcelBooks(FakeBooks):
    def open(self, fullname: str):  # type: ignore[override]
        self.app._op("open")
        if not Path(fullname).is_file():
            raise FakeComError(f"找不到“{fullname}”。")
        book = FakeAddin(self.app, Path(fullname))
        self._list.append(book)
        return book

    def add(self) -> FakeBook:
        self.app._op("add")
        book = FakeBook(self.app, f"工作簿{len(self._list) + 1}")  # type: ignore[arg-type]
        book.sheets.add("Sheet1")
        self._list.append(book)
        self.app.active_book = book
        return book


class _Component:
    def __init__(self, addin: "FakeAddin", name: str):
        self.addin, self.Name = addin, name
        self.CodeModule = self

    def AddFromString(self, code: str) -> None:  # noqa: N802
        self.addin.app._op("AddFromString")
        m = self.addin.modules[self.Name]
        m.source += code.replace("\r\n", "\n").replace("\n", "\r\n")


class _Components:
    def __init__(self, addin: "FakeAddin"):
        self.addin = addin

    @property
    def Count(self) -> int:  # noqa: N802
        return len(self.addin.modules)

    def Item(self, name: str) -> _Component:  # noqa: N802
        if name not in self.addin.modules:
            raise FakeComError("下标越界")
        return _Component(self.addin, name)

    def Remove(self, comp: _Component) -> None:  # noqa: N802
        self.addin.app._op("Remove")
        del self.addin.modules[comp.Name]

    def Import(self, path: str) -> None:  # noqa: N802
        from addin.excel import vba_modules, vbaproject

        self.addin.app._op("Import")
        text = Path(path).read_text(encoding="ascii")
        stored = vba_modules.stored_text(text)
        name = re.match(r'Attribute VB_Name = "(\w+)"', stored).group(1)  # type: ignore[union-attr]
        kind = vbaproject.CLASS if path.endswith(".cls") else vbaproject.STANDARD
        self.addin.modules[name] = vbaproject.Module(name, kind, stored)


class _VBProject:
    def __init__(self, addin: "FakeAddin"):
        self.VBComponents = _Components(addin)


class _AddinApi:
    def __init__(self, addin: "FakeAddin"):
        self.__dict__["_a"] = addin

    @property
    def HasVBProject(self) -> bool:  # noqa: N802
        self._a.app._op("HasVBProject")
        return bool(self._a.modules)

    @property
    def VBProject(self) -> _VBProject:  # noqa: N802
        self._a.app._op("VBProject")
        if not self._a.app.world.vbom_trusted:
            raise FakeComError(NOT_TRUSTED)
        return _VBProject(self._a)

    @property
    def Name(self) -> str:  # noqa: N802
        return self._a.name

    @property
    def Application(self) -> "_ExcelApi":  # noqa: N802
        return self._a.app.api

    @property
    def IsAddin(self) -> bool:  # noqa: N802
        return self._a.is_addin

    @IsAddin.setter
    def IsAddin(self, v: bool) -> None:  # noqa: N802
        self._a.is_addin = bool(v)

    def __setattr__(self, name: str, value: Any) -> None:
        if name == "IsAddin":
            self._a.is_addin = bool(value)
        else:
            raise AttributeError(name)


class FakeAddin:
    """打开的 .xlam：VBA 工程与配置表读自磁盘上的文件（本包的读取器），保存时写回（本包的 VBA 工程写入器）。"""

    def __init__(self, app: FakeExcel, path: Path):
        from addin.excel import xlam

        self.app, self.path, self.name, self.fullname = app, path, path.name, str(path)
        self.is_addin = True
        project = xlam.read_vba_project(path)
        self.base = project
        drop = app.world.drop_vba_project
        dropped = drop is True or (isinstance(drop, str) and project.name == drop)
        self.modules = {} if dropped else {m.name: m for m in project.modules}
        self.conf = xlam.inspect_xlam(path).conf
        self.saved = 0

    @property
    def api(self) -> _AddinApi:
        return _AddinApi(self)

    def save(self) -> None:
        from addin.excel import vbaproject

        self.app._op("save")
        with _zipfile.ZipFile(self.path) as z:
            parts = {i.filename: z.read(i) for i in z.infolist()}
        parts["xl/vbaProject.bin"] = vbaproject.write_project(self.base, list(self.modules.values()))
        with _zipfile.ZipFile(self.path, "w", _zipfile.ZIP_DEFLATED) as z:
            for name, data in parts.items():
                z.writestr(name, data)
        self.saved += 1

    def close(self) -> None:
        self.app.books._list.remove(self)

    def procedure(self, spec: str) -> tuple[str, str] | None:
        """"模块.过程" 或 "过程" → (模块, 过程)，在 VBA 源码中找不到为 None。"""
        module, _, proc = spec.rpartition(".")
        for name, m in self.modules.items():
            if module and name != module:
                continue
            if re.search(rf"^\s*(?:Public\s+)?(?:Sub|Function)\s+{proc}\s*\(", m.source, re.M | re.I):
                return name, proc
        return None


class _ExcelApi:
    def __init__(self, app: FakeExcel):
        self.__dict__["_app"] = app
        self.__dict__["EnableEvents"] = True

    def __setattr__(self, name: str, value: Any) -> None:
        self.__dict__[name] = value

    @property
    def StartupPath(self) -> str | None:  # noqa: N802
        return self._app.world.startup_path

    @property
    def Version(self) -> str:  # noqa: N802
        return "16.0"

    # ---- 单元格函数 ----
    def _udf_error(self, addin: FakeAddin) -> str | None:
        from addin.excel import xlam

        world = self._app.world
        version = xlam.vba_xlwings_version({k: m.source for k, m in addin.modules.items()})
        dll = f"xlwings{world.excel_bits}-{version}.dll"
        conf = {k.upper(): v for k, v in addin.conf.items()}
        interp = conf.get("INTERPRETER_WIN", "")
        if conf.get("CONDA PATH") and conf.get("CONDA ENV"):
            env = conf["CONDA ENV"]
            interp = str(Path(conf["CONDA PATH"]) / "pythonw") if env == "base" else \
                str(Path(env) / "pythonw") if "\\" in env or "/" in env else str(Path(conf["CONDA PATH"]) / "envs" / env / "pythonw")
        if interp:
            folders = [Path(interp).parent, Path(interp).parent.parent]
            if not any((f / dll).is_file() for f in folders):
                return (f"Could not load {dll} from either of the following folders: \r\n{folders[0]}\r\n, {folders[1]}")
        if world.child_processes_blocked:
            return "Could not activate Python COM server, hr = -2147024891 1000"
        if conf.get("INTERPRETER_WIN") and not Path(interp).is_file():  # cmd.exe 找不到 python.exe，COM 服务器始终没有注册
            return "Could not activate Python COM server, hr = -2147221164 1000"
        return None

    def _evaluate(self, formula: str, in_cell: bool = False) -> Any:
        from udfs import xl

        m = re.fullmatch(r"=(\w+)\((.*)\)", formula.strip())
        if not m:
            return XL_VALUE
        name = m.group(1).upper()
        for addin in self._app.addins:
            wrappers = addin.modules.get("xlwings_udfs")
            if self._app.world.macros_blocked or not wrappers or f"Function {name}(" not in wrappers.source:
                continue
            err = self._udf_error(addin)
            if err:
                return err if in_cell else XL_VALUE
            args = [float(a) for a in m.group(2).split(",")]
            return xl.WRAPPERS[name](*args)
        return XL_NAME

    def Evaluate(self, formula: str) -> Any:  # noqa: N802
        self._app._op("Evaluate")
        return self._evaluate(formula)

    # ---- 宏 ----
    def Run(self, macro: str, *args: Any) -> Any:  # noqa: N802
        from addin.excel import ribbon, vba_modules, xlam

        app = self._app
        app._op("Run")
        m = re.fullmatch(r"'([^']+)'!([\w.]+)", macro)
        addin = next((a for a in app.addins if m and a.name == m.group(1)), None)
        found = addin.procedure(m.group(2)) if addin and m else None
        if found is None or app.world.macros_blocked:
            raise FakeComError(CANNOT_RUN.format(macro=macro))
        module, proc = found
        source = addin.modules[module].source
        if proc == "CallbacksVersion":
            return xlam.callbacks_version(source)
        if proc == "DoctorRunPython":
            app._op("RunPython")
            conf = {k.upper(): v for k, v in addin.conf.items()}
            interp = conf.get("INTERPRETER_WIN")
            if interp and not Path(interp).is_file():
                app._killed.wait(60)  # MsgBox "Could not find Interpreter!"：没有人点“确定”
                raise FakeComError(RPC_FAILED)
            if app.world.child_processes_blocked:
                raise FakeComError("运行时错误 '70'：拒绝的权限")
            import xlwings

            with _mock.patch.object(xlwings.Book, "caller", staticmethod(lambda: app.active_book)):
                ribbon.doctor_ping()
            return None
        if proc == vba_modules.REGISTER_NOW:
            if "MacroOptions" in app.world.fail:
                return 0
            toggles = "ThisWorkbook.IsAddin = False" in source and "ThisWorkbook.IsAddin = True" in source
            return len(vba_modules.decode_functions_module(source)) if toggles else 0
        raise FakeComError(f"替身不模拟宏 {macro}")

    def MacroOptions(self, Macro: str = "", **kw: Any) -> None:  # noqa: N802,N803
        self._app._op("MacroOptions")
        book = re.match(r"'([^']+)'!", Macro)
        for addin in self._app.addins:
            if book and addin.name == book.group(1) and addin.is_addin:
                raise FakeComError(HIDDEN_MACRO)


def fake_import_udfs(module_name: str, book_api: Any) -> None:
    """xlwings.udfs.import_udfs 的替身：同样写出 generate_vba_wrapper 的文本、经 VBComponents.Import 导入，
    再为每个函数调用 Application.MacroOptions（加载项须先取消隐藏，否则报错）。"""
    import tempfile

    from addin.excel import vba_modules

    book_api.Application._app._op("import_udfs")
    with tempfile.NamedTemporaryFile("w", suffix=".bas", delete=False, encoding="ascii", newline="") as tf:
        tf.write(vba_modules.udf_wrapper_source())
    book_api.VBProject.VBComponents.Import(tf.name)
    Path(tf.name).unlink()
    for o in vba_modules.macro_options():
        book_api.Application.MacroOptions(Macro=f"'{book_api.Name}'!{o['name']}", Description=o["description"],
                                          Category=o["category"], ArgumentDescriptions=o["args"])


class FakeRegistry:
    """注册表替身：{键: {值名: 数据}}，键与值名都不区分大小写（与 Windows 相同）。"""

    def __init__(self, data: dict[str, dict[str, Any]] | None = None):
        self.data = {k.lower(): {n.lower(): v for n, v in vals.items()} for k, vals in (data or {}).items()}
        self.names = {k.lower(): {n.lower(): n for n in vals} for k, vals in (data or {}).items()}

    def set(self, key: str, name: str, value: Any) -> None:
        self.data.setdefault(key.lower(), {})[name.lower()] = value
        self.names.setdefault(key.lower(), {})[name.lower()] = name

    def value(self, key: str, name: str) -> Any:
        return self.data.get(key.lower(), {}).get(name.lower())

    def values(self, key: str) -> dict[str, Any]:
        return {self.names[key.lower()][n]: v for n, v in self.data.get(key.lower(), {}).items()}

    def subkeys(self, key: str) -> list[str]:
        prefix = key.lower().rstrip("\\") + "\\"
        out = []
        for k in self.data:
            if k.startswith(prefix):
                first = k[len(prefix):].split("\\")[0]
                if first not in [o.lower() for o in out]:
                    out.append(first)
        return out
