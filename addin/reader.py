"""读取工作簿（任何 Book 适配器）为 WorkbookInputs。按“代码”列与区块标记定位，用户插入行、调整列宽不影响读取。"""
from __future__ import annotations

from typing import Any

from openpyxl.utils import get_column_letter
from workbook_templates import layout as L
from workbook_templates.spec import N_PARAMS, System
from workbook_templates.systems import SYSTEMS

from . import findings as F
from .book import Book
from .model import Formula, RowInput, WorkbookInputs


class ReadError(Exception):
    """工作簿不是 jixiao 模板或结构被破坏，无法继续（中文说明）。"""


def _t(v: Any) -> str:
    if v is None or isinstance(v, Formula):
        return ""
    return str(v).strip()


def _addr(r: int, c: int) -> str:
    return f"{get_column_letter(c)}{r}"


def detect_system(book: Book) -> System:
    names = book.sheet_names()
    if L.SHEET_SCORES not in names:
        raise ReadError(f"工作簿缺少“{L.SHEET_SCORES}”工作表，不是 jixiao 绩效评价工作簿（现有工作表：{'、'.join(names)[:200]}）")
    g = book.grid(L.SHEET_SCORES)
    for r in range(1, 8):
        if _t(g.get((r, 1))) == L.SYSTEM_LABEL:
            key = _t(g.get((r, 2)))
            if key in SYSTEMS:
                return SYSTEMS[key]
            raise ReadError(f"“{L.SHEET_SCORES}”!B{r} 的指标体系“{key}”无法识别，应为：{'、'.join(SYSTEMS)}")
    raise ReadError(f"“{L.SHEET_SCORES}”前几行没有“{L.SYSTEM_LABEL}”标记，无法识别指标体系")


def read_inputs(book: Book, system: System | None = None) -> WorkbookInputs:
    system = system or detect_system(book)
    inputs = WorkbookInputs(system.key)
    if L.SHEET_DATA in book.sheet_names():
        _read_data(book, system, inputs)
    else:
        inputs.read_findings.append(F.make("missing-sheet", L.SHEET_DATA, "A1", sheet_name=L.SHEET_DATA))
    _read_scores(book, system, inputs)
    if system.texts and L.SHEET_TEXTS in book.sheet_names():
        g = book.grid(L.SHEET_TEXTS)
        keys = {t.key for t in system.texts}
        for (r, c), v in g.items():
            if c == 1 and _t(v) in keys:
                inputs.texts[_t(v)] = g.get((r, 3))
                inputs.cells[("text", _t(v))] = (L.SHEET_TEXTS, _addr(r, 3))
    return inputs


def _rows_by_col_a(g) -> dict[int, str]:
    return {r: _t(v) for (r, c), v in g.items() if c == 1 and _t(v)}


def _read_data(book: Book, system: System, inputs: WorkbookInputs) -> None:
    g = book.grid(L.SHEET_DATA)
    col_a = _rows_by_col_a(g)
    table_keys, scalar_keys = system.table_keys, system.scalar_keys
    section = None
    col_of: dict[str, int] = {}
    for r in sorted(col_a):
        a = col_a[r]
        if a == L.CODE_HEADER:
            b = _t(g.get((r, 2)))
            section = "table" if b == L.TABLE_MARK else "scalar" if b == L.SCALAR_MARK else None
            if section == "table":
                labels = {_t(g.get((r, c))): c for c in range(3, 3 + len(system.columns) + 6)}
                col_of = {}
                for col in system.columns:
                    if col.label in labels:
                        col_of[col.key] = labels[col.label]
                    else:
                        inputs.read_findings.append(F.make(
                            "header-changed", L.SHEET_DATA, _addr(r, 3),
                            detail=f"“{L.SHEET_DATA}”第 {r} 行找不到列“{col.label}”，该列数据无法读取"))
            continue
        if section == "table" and a in table_keys:
            inputs.table[a] = {k: g.get((r, c)) for k, c in col_of.items()}
            inputs.table_labels[a] = g.get((r, 2))
            for k, c in col_of.items():
                inputs.cells[("table", a, k)] = (L.SHEET_DATA, _addr(r, c))
        elif section == "scalar" and a in scalar_keys:
            inputs.scalars[a] = g.get((r, 3))
            inputs.cells[("scalar", a)] = (L.SHEET_DATA, _addr(r, 3))
    for key in table_keys - set(inputs.table):
        inputs.table[key] = {}
    for key in scalar_keys - set(inputs.scalars):
        inputs.scalars[key] = None


def _read_scores(book: Book, system: System, inputs: WorkbookInputs) -> None:
    g = book.grid(L.SHEET_SCORES)
    col_a = _rows_by_col_a(g)
    header_row = next((r for r in sorted(col_a) if col_a[r] == L.CODE_HEADER), None)
    if header_row is None:
        raise ReadError(f"“{L.SHEET_SCORES}”找不到表头行（A 列为“{L.CODE_HEADER}”的行）")
    headers = {_t(v): c for (r, c), v in g.items() if r == header_row and _t(v)}
    col: dict[str, int] = {}
    for f, h in L.SCORE_FIELDS_BEFORE + L.SCORE_FIELDS_AFTER:
        if h in headers:
            col[f] = headers[h]
        else:
            raise ReadError(f"“{L.SHEET_SCORES}”第 {header_row} 行缺少表头“{h}”，请勿修改或删除评分表的列")
    for i in range(N_PARAMS):
        col[f"p{i + 1}"] = col["na"] + 1 + i
    section = "rows"
    grade_first = None
    for r in sorted(col_a):
        if r <= header_row:
            continue
        a = col_a[r]
        if a == L.SUBTOTAL_MARK:
            level1 = _t(g.get((r, col["level1"])))
            inputs.cells[("subtotal", level1)] = (L.SHEET_SCORES, str(r))
            inputs.sheet_totals[("subtotal", level1)] = {f: g.get((r, col[f])) for f in ("points", "computed", "final")}
            continue
        if a == L.TOTAL_MARK:
            inputs.cells[("total",)] = (L.SHEET_SCORES, str(r))
            inputs.sheet_totals[("total",)] = {f: g.get((r, col[f])) for f in ("points", "computed", "final")}
            continue
        if a == L.GRADE_MARK:
            inputs.cells[("grade",)] = (L.SHEET_SCORES, str(r))
            inputs.sheet_totals[("grade",)] = g.get((r, col["final"]))
            continue
        if a == L.GRADE_TABLE_MARK:
            section = "grades"
            inputs.cells[("grade_header",)] = (L.SHEET_SCORES, str(r))
            grade_first = r + 1
            continue
        if section == "rows":
            inputs.rows.append(_row(g, r, a, col))
    # 等级标准：标记行下方 B 列名称、C 列下限，直到空行
    if grade_first is not None:
        inputs.cells[("grades",)] = (L.SHEET_SCORES, f"B{grade_first}")
        r = grade_first
        while _t(g.get((r, 2))) or g.get((r, 3)) is not None:
            inputs.grade_rows.append((g.get((r, 2)), g.get((r, 3))))
            r += 1
    # 用户在代码列留空但填写了指标名与分值的行，也作为指标读取
    known = {row.row for row in inputs.rows}
    last_row = max((r for r in col_a if col_a[r] in (L.SUBTOTAL_MARK, L.TOTAL_MARK)), default=header_row)
    for (r, c), v in sorted(g.items()):
        if header_row < r < last_row and c == col["name"] and r not in known and r not in col_a and _t(v):
            inputs.rows.append(_row(g, r, f"row{r}", col))
    inputs.rows.sort(key=lambda x: x.row)


def _row(g, r: int, code: str, col: dict[str, int]) -> RowInput:
    get = lambda f: g.get((r, col[f]))  # noqa: E731
    ri = RowInput(code=code, level1=get("level1"), level2=get("level2"), name=get("name"), points=get("points"),
                  criterion=get("criterion"), formula_text=get("formula_text"), value=get("value"), unit=get("unit"),
                  rule_label=get("rule"), na=get("na"), params=[get(f"p{i}") for i in range(1, N_PARAMS + 1)],
                  computed=get("computed"), override=get("override"), reason=get("reason"), final=get("final"),
                  stated_value=get("stated_value"), stated_score=get("stated_score"), note=get("note"), row=r)
    ri.cells = {f: _addr(r, c) for f, c in col.items()}
    ri.cells["params"] = f"{_addr(r, col['p1'])}:{_addr(r, col['p10'])}"
    return ri


def load(path, *, with_cached: bool = False):
    """打开文件并读取为 WorkbookInputs（命令行与批量处理的入口）。经 safeio 检查：大小、格式、压缩炸弹、XML 炸弹。"""
    from .safeio import open_book

    book = open_book(path, with_cached=with_cached)
    return book, read_inputs(book)
