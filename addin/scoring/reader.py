"""读取工作簿（任何能读的适配器，io.book.ReadableBook）为 WorkbookInputs。按“代码”列与区块标记定位，用户插入行、
调整列宽不影响读取；评分表按用户留下的行读取（插入、删除、复制、调换的行，改过的名称与分值），指标体系描述只是模板行的默认值。"""
from __future__ import annotations

from dataclasses import fields
from functools import lru_cache
from operator import attrgetter
from pathlib import Path
from typing import Any, Iterator, Mapping

from workbook_templates import layout as L
from workbook_templates.spec import N_PARAMS, System
from workbook_templates.systems import SYSTEMS

from ..checks import findings as F
from ..io.book import ReadableBook
from ..io.ooxml import a1, col_letters
from ..model import GENERATED_SHEETS, Formula, RowInput, WorkbookInputs


class ReadError(Exception):
    """工作簿不是 jixiao 模板或结构被破坏，无法继续（中文说明）。"""


def _t(v: Any) -> str:
    if type(v) is str:  # 最常见的情形，与下面 str(v).strip() 相同
        return v.strip()
    if v is None or isinstance(v, Formula):
        return ""
    return str(v).strip()


def detect_system(book: ReadableBook) -> System:
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


class SheetGrids(Mapping):
    """工作簿各表的网格（表名 → {(行, 列): 值}），用到哪张表才读哪张：实际值公式可以引用任何一张用户的表。
    程序生成的“校验结果”“报告”不在其中。"""

    def __init__(self, book: ReadableBook):
        self._book = book
        self._names = [n for n in book.sheet_names() if n not in GENERATED_SHEETS]

    def __getitem__(self, name: str):
        if name not in self._names:
            raise KeyError(name)
        return self._book.grid(name)

    def __iter__(self) -> Iterator[str]:
        return iter(self._names)

    def __len__(self) -> int:
        return len(self._names)


def read_inputs(book: ReadableBook, system: System | None = None) -> WorkbookInputs:
    system = system or detect_system(book)
    inputs = WorkbookInputs(system.key)
    inputs.grids = SheetGrids(book)
    if L.SHEET_DATA in book.sheet_names():
        _read_data(book, system, inputs)
    else:
        inputs.read_findings.append(F.make("missing-sheet", L.SHEET_DATA, "A1", sheet_name=L.SHEET_DATA))
    _read_scores(book, system, inputs)
    if system.texts and L.SHEET_TEXTS in book.sheet_names():
        g = book.grid(L.SHEET_TEXTS)
        keys = {t.key for t in system.texts}
        for k in _column(g, _grid_keys(book, L.SHEET_TEXTS), 1):
            if k[1] == 1 and (key := _t(g[k])) in keys:
                inputs.texts[key] = g.get((k[0], 3))
                inputs.cells[("text", key)] = (L.SHEET_TEXTS, a1(k[0], 3))
    return inputs


def _grid_keys(book: ReadableBook, sheet: str) -> Any:
    """网格的键按列、按行的索引（io.fastsheet.GridKeys），读取器提供时（FastBook 的快速路径）；否则 None。"""
    get = getattr(book, "grid_keys", None)
    return None if get is None else get(sheet)


def _column(g, index: Any, c: int) -> Any:
    """g 中第 c 列的键，按 g 的顺序：有索引时直接取出（与逐格扫描 g 得到的相同），否则就是 g（调用方照样判断 k[1]）。"""
    return g if index is None else index.column(c)


def _rows_by_col_a(g, index: Any) -> dict[int, str]:
    return {k[0]: a for k in _column(g, index, 1) if k[1] == 1 and (a := _t(g[k]))}


def _read_data(book: ReadableBook, system: System, inputs: WorkbookInputs) -> None:
    g = book.grid(L.SHEET_DATA)
    col_a = _rows_by_col_a(g, _grid_keys(book, L.SHEET_DATA))
    table_keys, scalar_keys = system.table_keys, system.scalar_keys
    section = None
    col_of: dict[str, int] = {}
    layout: tuple = ()  # tuple(col_of.items())：经费表各列的位置（_table_cells 的缓存键）
    for r in sorted(col_a):
        a = col_a[r]
        if a == L.CODE_HEADER:
            b = _t(g.get((r, 2)))
            section = "table" if b == L.TABLE_MARK else "scalar" if b == L.SCALAR_MARK else None
            if section == "table":
                labels = {_t(g.get((r, c))): c for c in range(3, 3 + len(system.columns) + 6)}
                col_of = {}
                for i, col in enumerate(system.columns):
                    if col.label in labels:
                        col_of[col.key] = labels[col.label]
                    else:
                        # 指向模板中该列表头本来的位置（各列按体系描述的顺序排列）
                        inputs.read_findings.append(F.make(
                            "header-changed", L.SHEET_DATA, a1(r, 3 + i),
                            detail=f"“{L.SHEET_DATA}”第 {r} 行找不到列“{col.label}”，该列数据无法读取"))
            layout = tuple(col_of.items())
            continue
        if section == "table" and a in table_keys:
            inputs.table[a] = {k: g.get((r, c)) for k, c in col_of.items()}
            inputs.table_labels[a] = g.get((r, 2))
            inputs.cells.update(_table_cells(a, r, layout))
        elif section == "scalar" and a in scalar_keys:
            inputs.scalars[a] = g.get((r, 3))
            inputs.cells[("scalar", a)] = (L.SHEET_DATA, a1(r, 3))
    _recover_data_rows(g, system, inputs, col_of)
    for key in table_keys - set(inputs.table):
        inputs.table[key] = {}
    for key in scalar_keys - set(inputs.scalars):
        inputs.scalars[key] = None
    for sc in system.scalars:
        v = inputs.scalars.get(sc.key)
        if sc.kind == "choice" and sc.choices and not isinstance(v, Formula) and _t(v) and _t(v) not in sc.choices:
            sheet, cell = inputs.cells[("scalar", sc.key)]
            inputs.read_findings.append(F.make("bad-choice", sheet, cell, label=sc.label, raw=_t(v)[:40],
                                               choices="、".join(sc.choices)))


_TABLE_CELLS: dict[tuple, list[tuple[tuple[str, str, str], tuple[str, str]]]] = {}


def _table_cells(key: str, r: int, layout: tuple[tuple[str, int], ...]) -> list:
    """经费表第 r 行（代码 key，各列 layout）各格在 WorkbookInputs.cells 中的条目；同一模板的每个工作簿都一样，缓存。"""
    hit = _TABLE_CELLS.get((key, r, layout))
    if hit is None:
        if len(_TABLE_CELLS) >= 1024:
            _TABLE_CELLS.clear()
        hit = _TABLE_CELLS[(key, r, layout)] = [(("table", key, k), (L.SHEET_DATA, a1(r, c))) for k, c in layout]
    return hit


def _recover_data_rows(g, system: System, inputs: WorkbookInputs, col_of: dict[str, int]) -> None:
    """“代码”被删除或改动的行：按 B 列的项目名称找回（名称唯一时），并提示恢复代码。

    不找回的话，该项会被当作“未填写”，错误指向评分表，而用户明明填了数——这正是最难查的那种错。
    """
    missing = [("scalar", sc.key, sc.label) for sc in system.scalars if sc.key not in inputs.scalars]
    if col_of:
        missing += [("table", tr.key, tr.label) for tr in system.table_rows if tr.key not in inputs.table]
    if not missing:  # 各项都按代码读到了：没有要找回的
        return
    known = system.table_keys | system.scalar_keys | {L.CODE_HEADER}
    by_label: dict[str, list[int]] = {}
    for (r, c), v in g.items():
        if c == 2 and _t(g.get((r, 1))) not in known and _t(v):
            by_label.setdefault(_t(v), []).append(r)
    for kind, key, label in missing:
        rows = by_label.get(label.strip(), [])
        if len(rows) != 1:
            continue
        r = rows[0]
        if kind == "scalar":
            inputs.scalars[key] = g.get((r, 3))
            inputs.cells[("scalar", key)] = (L.SHEET_DATA, a1(r, 3))
        else:
            inputs.table[key] = {k: g.get((r, c)) for k, c in col_of.items()}
            inputs.table_labels[key] = g.get((r, 2))
            for k, c in col_of.items():
                inputs.cells[("table", key, k)] = (L.SHEET_DATA, a1(r, c))
        inputs.read_findings.append(F.make("code-missing", L.SHEET_DATA, a1(r, 1), sheet_name=L.SHEET_DATA,
                                           raw=_t(g.get((r, 1))) or "空", expected_code=key, label=label.strip()))


def _read_scores(book: ReadableBook, system: System, inputs: WorkbookInputs) -> None:
    """评分表按用户留下的样子读取：每个有代码、或（代码为空而）填了指标名称/分值/实际值/规则类型的行都是一个指标行，
    不论插入、删除、复制还是调换了顺序；行数、名称与分值都来自单元格。小计行把它上方的指标行分成一组（一级指标）。"""
    g = book.grid(L.SHEET_SCORES)
    index = _grid_keys(book, L.SHEET_SCORES)
    col_a = _rows_by_col_a(g, index)
    header_row = next((r for r in sorted(col_a) if col_a[r] == L.CODE_HEADER), None)
    if header_row is None:
        raise ReadError(f"“{L.SHEET_SCORES}”找不到表头行（A 列为“{L.CODE_HEADER}”的行）")
    in_header = g if index is None else index.row(header_row)
    headers = {h: k[1] for k in in_header if k[0] == header_row and (h := _t(g[k]))}
    col: dict[str, int] = {}
    for f, h in L.SCORE_FIELDS_BEFORE + L.SCORE_FIELDS_AFTER:
        if h in headers:
            col[f] = headers[h]
        elif f not in L.OPTIONAL_SCORE_FIELDS:
            raise ReadError(f"“{L.SHEET_SCORES}”第 {header_row} 行缺少表头“{h}”，请勿修改或删除评分表的列")
    for i in range(N_PARAMS):
        col[f"p{i + 1}"] = col["na"] + 1 + i
    marks = (L.SUBTOTAL_MARK, L.TOTAL_MARK, L.GRADE_MARK, L.GRADE_TABLE_MARK)
    grade_table = next((r for r in sorted(col_a) if r > header_row and col_a[r] == L.GRADE_TABLE_MARK), None)
    # 代码为空的行只在表头与最后一个小计/总分行之间读取（下方是等级标准等说明）
    last_row = max((r for r in col_a if r > header_row and col_a[r] in (L.SUBTOTAL_MARK, L.TOTAL_MARK)), default=header_row)
    keys_of_row = [col[f] for f in ("name", "points", "value", "rule")]
    indicator_rows: list[int] = []
    subtotal_rows: list[int] = []
    # 表头与等级标准之间的行：有代码的行，以及 last_row 以上代码为空的行（其中没有任何单元格的行四项都空白，不是指标行）
    candidates = {r for r in col_a if r > header_row} | set(range(header_row + 1, last_row))
    for r in sorted(candidates):
        if grade_table is not None and r >= grade_table:
            break
        a = col_a.get(r, "")
        if a == L.SUBTOTAL_MARK:
            subtotal_rows.append(r)
        if a in marks:
            continue
        if a or (r < last_row and any(not _blank(g.get((r, c))) for c in keys_of_row)):
            indicator_rows.append(r)
    layout = _layout(col)
    seen: dict[str, int] = {}
    for r in indicator_rows:
        code = col_a.get(r, "") or f"row{r}"
        if code in seen:
            # 复制的行（Excel 中复制整行再插入）带着原行的代码：它是另一个指标，按自己的单元格单独计分，不与原行合并
            inputs.read_findings.append(F.make("duplicate-code", L.SHEET_SCORES, a1(r, col["code"]), code_text=code,
                                               first_row=seen[code], row_id=f"row{r}"))
            code = f"row{r}"
        seen.setdefault(code, r)
        inputs.rows.append(_row(g, r, code, layout))
    _fill_levels(inputs, subtotal_rows, g, col)
    levels = [(row.row, _t(row.level1)) for row in inputs.rows]
    for r in sorted(col_a):
        if r <= header_row:
            continue
        a = col_a[r]
        if a == L.SUBTOTAL_MARK:
            level1 = _subtotal_level1(levels, subtotal_rows, r, _t(g.get((r, col["level1"]))))
            inputs.cells[("subtotal", level1)] = (L.SHEET_SCORES, str(r))
            inputs.sheet_totals[("subtotal", level1)] = {f: g.get((r, col[f])) for f in ("points", "computed", "final")}
        elif a == L.TOTAL_MARK:
            inputs.cells[("total",)] = (L.SHEET_SCORES, str(r))
            inputs.sheet_totals[("total",)] = {f: g.get((r, col[f])) for f in ("points", "computed", "final")}
        elif a == L.GRADE_MARK:
            inputs.cells[("grade",)] = (L.SHEET_SCORES, str(r))
            inputs.sheet_totals[("grade",)] = g.get((r, col["final"]))
        elif a == L.WORDS_MARK:
            _read_words(g, r, col_a, inputs, index)
    # 等级标准：标记行下方 B 列名称、C 列下限，直到空行
    if grade_table is not None:
        grade_first = grade_table + 1
        inputs.cells[("grade_header",)] = (L.SHEET_SCORES, str(grade_table))
        inputs.cells[("grades",)] = (L.SHEET_SCORES, f"B{grade_first}")
        r = grade_first
        while _t(g.get((r, 2))) or g.get((r, 3)) is not None:
            inputs.grade_rows.append((g.get((r, 2)), g.get((r, 3))))
            r += 1
    _recover_score_codes(system, inputs, col)


def _blank(v: Any) -> bool:
    return v is None or (isinstance(v, str) and not v.strip())


def _fill_levels(inputs: WorkbookInputs, subtotal_rows: list[int], g, col: dict[str, int]) -> None:
    """一级/二级指标单元格为空的行属于上方的组（合并单元格的表格只在第一行有名称）。

    组以小计行为界：组内第一行的一级指标为空时，取该组小计行上写的一级指标名称（并给出提示，因为这一行也可能是
    用户想放进上一组的）；二级指标为空时沿用同组上一行的二级指标。"""
    prev_l1 = prev_l2 = ""
    marks = iter(sorted(subtotal_rows))
    next_mark = next(marks, None)
    for row in sorted(inputs.rows, key=attrgetter("row")):
        while next_mark is not None and next_mark < row.row:  # 越过一个小计行：新的一组
            next_mark = next(marks, None)
            prev_l1 = prev_l2 = ""
        l1, l2 = _t(row.level1), _t(row.level2)  # 填上的名称都已去掉首尾空白，之后 _t(row.level1) 即 l1
        if not l1:
            if prev_l1:
                row.level1 = l1 = prev_l1
            elif next_mark is not None and _t(g.get((next_mark, col["level1"]))):
                row.level1 = l1 = _t(g.get((next_mark, col["level1"])))
                inputs.read_findings.append(F.make(
                    "level-inferred", L.SHEET_SCORES, row.cells["level1"], label=_t(row.name) or f"第 {row.row} 行",
                    level1=row.level1, mark_row=next_mark))
        if not l2 and prev_l2 and l1 == prev_l1:
            row.level2 = l2 = prev_l2
        prev_l1, prev_l2 = l1, l2


def _subtotal_level1(levels: list[tuple[int, str]], subtotal_rows: list[int], r: int, label: str) -> str:
    """小计行对应的一级指标：它上方（到上一个小计行为止）各指标行的一级指标名称（levels：各指标行的行号与一级指标）；
    组内没有指标行时用小计行自己的标签。一级指标改了名而小计行标签没改，小计仍与它汇总的那一组对应。"""
    prev = max((x for x in subtotal_rows if x < r), default=0)
    return next((name for row, name in levels if prev < row < r and name), label)


def _read_words(g, mark: int, col_a: dict[int, str], inputs: WorkbookInputs, index: Any = None) -> None:
    """定性词表：标记行下方 B 列词语、C 列档次，直到下一个 A 列标记或表尾（与单元格函数收到的区域一致）。"""
    below = [r for r in col_a if r > mark]
    if below:
        end = min(below)
    else:  # 表尾：最后一个单元格所在行
        end = (max(g)[0] if index is None else index.last_row()) + 1
    pairs = ((g.get((r, 2)), g.get((r, 3))) for r in range(mark + 1, end))
    inputs.qual_words = [p for p in pairs if p[0] is not None or p[1] is not None]
    inputs.cells[("qual_words",)] = (L.SHEET_SCORES, f"B{mark + 1}")


def _recover_score_codes(system: System, inputs: WorkbookInputs, col: dict[str, int]) -> None:
    """评分表中代码被删或打错、但三级指标名称与模板某指标相同（且该指标的代码不在表中）的行，按名称找回。"""
    present = {row.code for row in inputs.rows}
    by_name: dict[str, list] = {}
    for row in inputs.rows:
        if system.indicator(row.code) is not None or not _t(row.name):
            continue  # 名称为空（父行、项目模板的空白行）不能凭名称认领模板的指标
        if not by_name:  # 有要认领的行时才建立
            for spec in system.indicators:
                by_name.setdefault(spec.name, []).append(spec)
        specs = [s for s in by_name.get(_t(row.name), []) if s.code not in present]
        if len(specs) != 1:
            continue
        raw = "空" if row.code == f"row{row.row}" else row.code
        inputs.read_findings.append(F.make("code-missing", L.SHEET_SCORES, a1(row.row, col["code"]),
                                           sheet_name=L.SHEET_SCORES, raw=raw, expected_code=specs[0].code,
                                           label=_t(row.name)))
        row.code = specs[0].code
        present.add(row.code)


# RowInput 的字段 → 评分表的字段（col 的键）；params 是 p1…p10 十格
_ROW_FIELDS = {"level1": "level1", "level2": "level2", "name": "name", "points": "points", "criterion": "criterion",
               "formula_text": "formula_text", "value": "value", "unit": "unit", "rule_label": "rule", "na": "na",
               "computed": "computed", "override": "override", "reason": "reason", "final": "final",
               "stated_value": "stated_value", "stated_score": "stated_score", "note": "note", "evidence": "evidence"}


class _Layout:
    """评分表的列布局（col：字段 → 列号），以及按行号缓存的：RowInput 各字段（_ROW_FIELDS，再 p1…p10）在网格中的键
    (行, 列)，与各字段单元格的 A1 地址。每个工作簿的同一布局、同一行都一样。"""

    def __init__(self, col: dict[str, int]):
        # 缺少的可选列（评分依据）的列号为 None：网格的键都是 (行, 列号)，取到 None，与“列不存在时为 None”相同
        self.cols = [col.get(f) for f in _ROW_FIELDS.values()] + [col[f] for f in L.PARAM_FIELDS]
        self.letters = [(f, col_letters(c)) for f, c in col.items()]
        self.rows: dict[int, tuple[list[tuple[int, int | None]], dict[str, str]]] = {}

    def row(self, r: int) -> tuple[list[tuple[int, int | None]], dict[str, str]]:
        """第 r 行：各字段的网格键，与各字段的地址（新的 dict，调用方可以改）。"""
        hit = self.rows.get(r)
        if hit is None:
            rs = str(r)
            addresses = {f: x + rs for f, x in self.letters}  # 与 a1(r, 列) 相同
            addresses["params"] = f"{addresses['p1']}:{addresses['p10']}"
            if len(self.rows) >= 128:
                self.rows.clear()
            hit = self.rows[r] = ([(r, c) for c in self.cols], addresses)
        return hit[0], dict(hit[1])


def _layout(col: dict[str, int]) -> _Layout:
    return _layout_of(tuple(col.items()))


@lru_cache(maxsize=16)
def _layout_of(items: tuple[tuple[str, int], ...]) -> _Layout:
    """同一布局（字段与列号完全相同）的工作簿共用一个 _Layout 及其按行缓存的键与地址。"""
    return _Layout(dict(items))


# RowInput 按位置构造（每个工作簿每行一次，比按名称快）：字段的先后在这里核对，模型改了顺序时导入即报错，不会读错列
_BEFORE, _AFTER = list(_ROW_FIELDS)[:10], list(_ROW_FIELDS)[10:]
if [f.name for f in fields(RowInput)][:22] != ["code", *_BEFORE, "params", *_AFTER, "row", "cells"]:
    raise ImportError("RowInput 的字段顺序与 reader._row 不一致")


def _row(g, r: int, code: str, layout: _Layout) -> RowInput:
    keys, cells = layout.row(r)
    v = list(map(g.get, keys))  # _ROW_FIELDS 的 18 个字段，再 p1…p10
    args: list[Any] = [code, *v[:10], v[18:], *v[10:18], r, cells]
    return RowInput(*args)


def load_readable(path: str | Path, *, with_cached: bool = False) -> tuple[Any, WorkbookInputs]:
    """load，但任何读取失败都成为 BookError 或 ReadError（中文说明，命令行与报送材料据此退出或提示，不显示回溯）：
    损坏的或不是 jixiao 生成的工作簿可能以各种方式失败。"""
    from ..io.book import BookError

    p = Path(path)
    if not p.exists():
        raise ReadError(f"找不到文件：{p}")
    if p.is_dir():
        raise ReadError(f"“{p}”是文件夹，不是工作簿")
    try:
        return load(p, with_cached=with_cached)
    except (BookError, ReadError):
        raise
    except Exception as exc:
        raise ReadError(f"无法读取工作簿“{p.name}”：{type(exc).__name__}: {str(exc)[:200]}") from None


def load(path, *, with_cached: bool = False):
    """打开文件并读取为 WorkbookInputs（命令行与批量处理的入口）。经 safeio 检查：大小、格式、压缩炸弹、XML 炸弹。"""
    from ..io.safebook import open_book

    book = open_book(path, with_cached=with_cached)
    return book, read_inputs(book)
