"""在 openpyxl 工作簿上模拟 Excel 的“插入行 / 删除行 / 复制行并插入 / 剪切行并插入”，连同公式引用一起改写。

openpyxl 的 insert_rows / delete_rows 只移动单元格，不改公式、数据验证与合并区域；Excel 会改。这里按 Excel 的规则改写
整个工作簿中指向被编辑工作表的引用（本表内不带表名的引用，其他表中带表名的引用）：
- 在第 k 行前插入 n 行：行号 ≥ k 的引用加 n；跨过 k 的区域（r1 < k ≤ r2）随之扩大；绝对引用（$）同样移动。
- 删除第 k 行：指向该行的单元格引用变成 #REF!；只含该行的区域变成 #REF!；包含它的区域缩小一行；其下的引用减 1。
- 插入的新行取上一行的格式（Excel 默认“与上面格式相同”）。
- 复制第 r 行再“插入复制的单元格”到第 k 行：先插入，再把源行内容粘贴到新行，公式按相对引用平移（openpyxl Translator）。
- 剪切第 r 行再“插入剪切的单元格”到第 k 行：指向被剪切行的引用随之移到新位置；区域的两端各自跟着端点单元格走。
数据验证区域、合并区域、条件格式区域与工作簿定义的名称按同样的规则移动。用于测试“用户在 Excel 中改过结构的评分表”。
"""
from __future__ import annotations

import copy
import re
from typing import Callable

from openpyxl.formula.tokenizer import Token, Tokenizer
from openpyxl.formula.translate import Translator
from openpyxl.utils import get_column_letter
from openpyxl.workbook.workbook import Workbook

MAX_ROW = 1_048_576
_CELL = re.compile(r"^(\$?)([A-Z]{1,3})(\$?)(\d+)$")

# 行号变换：行号 → 新行号（None 表示该行被删除）
RowMap = Callable[[int], "int | None"]


def _split_sheet(ref: str) -> tuple[str | None, str]:
    if "!" not in ref:
        return None, ref
    sheet, addr = ref.rsplit("!", 1)
    if sheet.startswith("'") and sheet.endswith("'"):
        sheet = sheet[1:-1].replace("''", "'")
    return sheet, addr


def _shift_cell(addr: str, row_map: RowMap) -> str | None:
    m = _CELL.match(addr)
    if not m:
        return addr  # 整列引用（A:A）等：行插入不改变
    new = row_map(int(m.group(4)))
    return None if new is None else f"{m.group(1)}{m.group(2)}{m.group(3)}{new}"


def _shift_range(addr: str, start_map: RowMap, end_map: RowMap, cell_map: RowMap) -> str | None:
    """单元格或区域地址按行号变换改写；区域两端分别按 start_map / end_map（删除时区域缩小而不是失效）。"""
    if ":" not in addr:
        return _shift_cell(addr, cell_map)
    a, b = addr.split(":", 1)
    ma, mb = _CELL.match(a), _CELL.match(b)
    if not (ma and mb):
        return addr
    r1, r2 = start_map(int(ma.group(4))), end_map(int(mb.group(4)))
    if r1 is None or r2 is None or r1 > r2:
        return None
    return f"{ma.group(1)}{ma.group(2)}{ma.group(3)}{r1}:{mb.group(1)}{mb.group(2)}{mb.group(3)}{r2}"


def _rewrite_formula(formula: str, on_sheet: str, target: str, maps: tuple[RowMap, RowMap, RowMap]) -> str:
    tok = Tokenizer(formula)
    changed = False
    for t in tok.items:
        if t.type != Token.OPERAND or t.subtype != Token.RANGE:
            continue
        sheet, addr = _split_sheet(t.value)
        if (sheet or on_sheet) != target:
            continue
        new = _shift_range(addr.upper(), *maps)
        prefix = t.value[: len(t.value) - len(addr)]
        t.value = prefix + (new if new is not None else "#REF!")
        changed = True
    return tok.render() if changed else formula


def _rewrite_workbook(wb: Workbook, target: str, maps: tuple[RowMap, RowMap, RowMap]) -> None:
    for ws in wb.worksheets:
        for row in ws.iter_rows():
            for c in row:
                if c.data_type == "f" and isinstance(c.value, str):
                    c.value = _rewrite_formula(c.value, ws.title, target, maps)
    # 工作簿定义的名称（如“定性词表”）同样随行移动
    for name in list(wb.defined_names):
        dn = wb.defined_names[name]
        dn.attr_text = _rewrite_formula("=" + dn.attr_text, "", target, maps)[1:]
    ws = wb[target]
    for dv in ws.data_validations.dataValidation:
        ranges = [_shift_range(str(r), *maps) for r in dv.sqref.ranges]
        dv.sqref = " ".join(r for r in ranges if r)


def _moving_merges(ws, maps: tuple[RowMap, RowMap, RowMap], move: Callable[[], None]) -> None:
    """合并区域：先拆开，移动单元格，再在新位置合并（openpyxl 移动单元格时不管合并区域）。"""
    merged = [str(r) for r in ws.merged_cells.ranges]
    for r in merged:
        ws.unmerge_cells(r)
    move()
    for r in merged:
        new = _shift_range(r, *maps)
        if new and ":" in new:
            ws.merge_cells(new)


def _clamp(r: int) -> int:
    return min(r, MAX_ROW)


def insert_rows(wb: Workbook, sheet: str, k: int, n: int = 1) -> None:
    """在第 k 行前插入 n 个空行（Excel：选中第 k 行 → 插入）。新行取第 k−1 行的格式。"""
    def shift(r: int) -> int:
        return _clamp(r + n) if r >= k else r

    _rewrite_workbook(wb, sheet, (shift, shift, shift))
    ws = wb[sheet]
    _moving_merges(ws, (shift, shift, shift), lambda: ws.insert_rows(k, n))
    if k > 1:
        for c in range(1, ws.max_column + 1):
            above = ws.cell(k - 1, c)
            for r in range(k, k + n):
                if above.has_style:
                    ws.cell(r, c)._style = copy.copy(above._style)


def delete_row(wb: Workbook, sheet: str, k: int) -> None:
    """删除第 k 行（Excel：选中第 k 行 → 删除）。"""
    def cell(r: int) -> int | None:
        return None if r == k else r - 1 if r > k else r

    def start(r: int) -> int | None:
        return r - 1 if r > k else r  # 区域从被删行开始：起点不动（原下一行上移到这里）

    def end(r: int) -> int | None:
        return _clamp(r) if r == MAX_ROW else r - 1 if r >= k else r

    _rewrite_workbook(wb, sheet, (start, end, cell))
    ws = wb[sheet]
    _moving_merges(ws, (start, end, cell), lambda: ws.delete_rows(k, 1))


def copy_row(wb: Workbook, sheet: str, src: int, dst: int) -> int:
    """复制第 src 行，在第 dst 行前“插入复制的单元格”。返回新行的行号（= dst）。"""
    insert_rows(wb, sheet, dst)
    src_now = src + 1 if src >= dst else src
    ws = wb[sheet]
    for c in range(1, ws.max_column + 1):
        s, d = ws.cell(src_now, c), ws.cell(dst, c)
        value = s.value
        if s.data_type == "f" and isinstance(value, str):
            value = Translator(value, origin=s.coordinate).translate_formula(d.coordinate)
        d.value = value
        if s.has_style:
            d._style = copy.copy(s._style)
    for dv in ws.data_validations.dataValidation:  # 复制的单元格带着自己的数据验证
        for c in range(1, ws.max_column + 1):
            src_cell = f"{get_column_letter(c)}{src_now}"
            if src_cell in dv.sqref and f"{get_column_letter(c)}{dst}" not in dv.sqref:
                dv.sqref = f"{dv.sqref} {get_column_letter(c)}{dst}"
    return dst


def move_row(wb: Workbook, sheet: str, src: int, dst: int) -> int:
    """剪切第 src 行，在第 dst 行前“插入剪切的单元格”。返回该行移动后的行号。"""
    insert_rows(wb, sheet, dst)
    src_now = src + 1 if src >= dst else src
    ws = wb[sheet]
    for c in range(1, ws.max_column + 1):
        s, d = ws.cell(src_now, c), ws.cell(dst, c)
        d.value = s.value
        if s.has_style:
            d._style = copy.copy(s._style)
        s.value = None

    def follow(r: int) -> int:
        return dst if r == src_now else r

    # 指向被剪切单元格的引用跟着它走；区域的两端也各自跟着端点单元格走（Excel 的规则：把一行剪切到区域第一行之上，
    # 它就不在区域内了）
    _rewrite_workbook(wb, sheet, (follow, follow, follow))
    delete_row(wb, sheet, src_now)
    return dst if dst < src_now else dst - 1


def fill_down(wb: Workbook, sheet: str, src: int, dst: int, columns: list[str]) -> None:
    """把第 src 行这些列的公式向下填充/复制到第 dst 行（Excel：复制单元格 → 粘贴，或拖动填充柄）。"""
    ws = wb[sheet]
    for col in columns:
        s = ws[f"{col}{src}"]
        value = s.value
        if s.data_type == "f" and isinstance(value, str):
            value = Translator(value, origin=s.coordinate).translate_formula(f"{col}{dst}")
        ws[f"{col}{dst}"] = value
