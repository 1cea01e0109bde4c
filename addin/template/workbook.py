"""由声明式描述（workbook_templates/systems.py）与可选的示例数据（examples.py）生成 .xlsx 工作簿（XlsxWriter）。

用 XlsxWriter 写入公式并同时写入计算结果（缓存值），这样不重新计算的查看器（pandas、calamine、openpyxl data_only、
LibreOffice 对未知函数）也能看到数值。缓存值由 addin.scoring.engine 以与单元格函数相同的纯函数算出。
"""
from __future__ import annotations

from decimal import Decimal
from pathlib import Path
from typing import Any

import xlsxwriter

from udfs.excel import ERROR_PREFIX, NA_TEXT
from udfs.rule import NA_POLICIES
from udfs.scoring import RULE_TYPES, STEP_DIRECTIONS, STEP_MODES, DeductionChecklist, GradeTable
from udfs.targets import QUALITATIVE_LEVELS, TARGET_NATURES, Target
from udfs.words import QUALITATIVE_BANDS
from workbook_templates import layout as L
from workbook_templates.formulas import INCOMPLETE_TEXT, grade_formula, subtotal_formula, total_formula
from workbook_templates.layout import RATE_PARAMS
from workbook_templates.spec import Example, System
from workbook_templates.systems import SYSTEMS

from ..model import Formula
from ..scoring.engine import evaluate
from .inputs import _plain, layout_inputs


def _cached(v: Any, error: str | None = None) -> Any:
    if error:
        return ERROR_PREFIX + error
    if v is None:
        return NA_TEXT
    return _plain(v)


def _shown(result: Any, udf: str, *args: Any) -> Any:
    """公式单元格的缓存值：能计分时用引擎结果；不能计分时用单元格函数本身给出的“错误：…”说明，
    与 Excel 重新计算后显示的文字相同（而不是笼统的“无法计分”）。"""
    if result is not None:
        return _plain(result)
    from udfs.excel import call

    return call(udf, *[[_plain(x) for x in a] if isinstance(a, list) else _plain(a) for a in args])


class _Formats:
    def __init__(self, wb: xlsxwriter.Workbook):
        base = {"font_name": "宋体", "font_size": 10, "valign": "vcenter", "border": 1}
        f = lambda **kw: wb.add_format({**base, **kw})  # noqa: E731
        self.title = wb.add_format({"font_name": "黑体", "font_size": 14, "bold": True, "align": "center", "valign": "vcenter"})
        self.note = wb.add_format({"font_name": "宋体", "font_size": 9, "italic": True, "font_color": "#555555"})
        self.header = f(bold=True, bg_color="#D9E1F2", align="center", text_wrap=True)
        self.label = f(text_wrap=True)
        self.code = f(font_color="#808080", font_size=8)
        self.locked_text = f(text_wrap=True, bg_color="#F2F2F2")
        self.input_text = f(locked=False, bg_color="#FFF2CC", text_wrap=True)
        self.input_money = f(locked=False, bg_color="#FFF2CC", num_format="#,##0.00")
        # 不用“0.##”：Excel 把整数显示成“33.”
        self.input_count = f(locked=False, bg_color="#FFF2CC", num_format="General")
        self.input_rate = f(locked=False, bg_color="#FFF2CC", num_format="0.00%")
        self.input_general = f(locked=False, bg_color="#FFF2CC")
        self.param = f(locked=False, bg_color="#E2EFDA")
        self.param_rate = f(locked=False, bg_color="#E2EFDA", num_format="0.00%")
        self.formula_rate = f(bg_color="#F2F2F2", num_format="0.00%")
        self.formula = f(bg_color="#F2F2F2", num_format="0.00")
        self.formula_text = f(bg_color="#F2F2F2")
        self.subtotal = f(bold=True, bg_color="#DDEBF7", num_format="0.00")
        self.subtotal_text = f(bold=True, bg_color="#DDEBF7")


def build_workbook(system: System | str, path: str | Path, example: Example | None = None) -> Path:
    """生成工作簿文件（空白模板或填好的示例），返回路径。"""
    if isinstance(system, str):
        system = SYSTEMS[system]
    path = Path(path)
    ex = example or Example("blank", system.key)
    inputs = layout_inputs(system, ex)
    ev = evaluate(inputs, system)
    results = {i.code: i for i in ev.indicators}

    wb = xlsxwriter.Workbook(str(path), {"strings_to_numbers": False, "strings_to_formulas": False})
    # 固定文档属性，保证同样输入生成同样的文件内容
    wb.set_properties({"title": system.title, "subject": system.description, "author": "jixiao", "company": "",
                       "created": _FIXED_TIME, "comments": f"jixiao system={system.key}"})
    wb.set_custom_property("jixiao_system", system.key)
    fm = _Formats(wb)

    # ---------------- 基础数据表 ----------------
    ws = wb.add_worksheet(L.SHEET_DATA)
    ncols = max(5, 3 + len(system.columns))
    ws.merge_range(0, 0, 0, ncols - 1, system.table_title, fm.title)
    ws.write(1, 0, "说明：黄色单元格为填写区；没有的填 0 或“无”，留空表示未填写（用到它的指标不计分）；合计行请填写"
                   "（留空或为 0 而分项都已填写时按分项之和计算并提示）；金额单位以“金额单位”一项为准；“代码”列供程序定位，请勿修改。",
             fm.note)
    ws.set_column(0, 0, 16)
    ws.set_column(1, 1, 34)
    ws.set_column(2, 2 + max(len(system.columns), 3), 14)
    ws.set_column(3 + len(system.columns), 3 + len(system.columns), 30)
    if system.table_rows:
        ws.write_row(2, 0, [L.CODE_HEADER, L.TABLE_MARK] + [c.label for c in system.columns] + ["备注"], fm.header)
        for tr in system.table_rows:
            sheet, cell = inputs.cells[("table", tr.key, system.columns[0].key)]
            r0 = int("".join(ch for ch in cell if ch.isdigit())) - 1
            ws.write_string(r0, 0, tr.key, fm.code)
            ws.write_string(r0, 1, inputs.table_labels[tr.key], fm.input_text if tr.key.startswith("project_item") else fm.label)
            for j, col in enumerate(system.columns):
                _write_input(ws, r0, 2 + j, inputs.table[tr.key][col.key], fm.input_money)
                ws.data_validation(r0, 2 + j, r0, 2 + j, _nonneg_validation())
            _write_input(ws, r0, 2 + len(system.columns), ex.table_notes.get(tr.key), fm.input_text)
    sh = int(inputs.cells[("layout", "scalar_header")][1]) - 1
    ws.write_row(sh, 0, [L.CODE_HEADER, L.SCALAR_MARK, "数值", "单位", "说明"], fm.header)
    money_unit = ex.scalars.get("money_unit") or "万元"
    for s in system.scalars:
        r0 = int(inputs.cells[("scalar", s.key)][1][1:]) - 1
        ws.write_string(r0, 0, s.key, fm.code)
        ws.write_string(r0, 1, s.label, fm.label)
        fmt = {"money": fm.input_money, "count": fm.input_count, "rate": fm.input_rate}.get(s.kind, fm.input_text)
        _write_input(ws, r0, 2, inputs.scalars[s.key], fmt)
        unit = money_unit if s.kind == "money" else ("%" if s.kind == "rate" else s.unit)
        ws.write(r0, 3, unit if s.key != "money_unit" else "", fm.locked_text)
        ws.write(r0, 4, s.note, fm.locked_text)
        if s.kind == "choice":
            ws.data_validation(r0, 2, r0, 2, {"validate": "list", "source": list(s.choices)})
        elif s.kind in ("money", "count"):
            ws.data_validation(r0, 2, r0, 2, _nonneg_validation())
        elif s.kind == "rate":
            ws.data_validation(r0, 2, r0, 2, {"validate": "decimal", "criteria": "between", "minimum": 0, "maximum": 1,
                                             "error_type": "warning", "error_title": "满意度/比率",
                                             "error_message": "应为 0%～100% 之间的比率，如 95%"})
    ws.protect("", {"format_columns": True, "format_rows": True, "insert_rows": True, "select_locked_cells": True,
                    "select_unlocked_cells": True})

    # ---------------- 评分表 ----------------
    ws = wb.add_worksheet(L.SHEET_SCORES)
    headers = L.score_headers(system)
    last_col = len(headers) - 1
    ws.merge_range(0, 0, 0, last_col, system.title, fm.title)
    ws.write(1, 0, L.SYSTEM_LABEL, fm.locked_text)
    ws.write(1, 1, system.key, fm.locked_text)
    ws.write(1, 2, system.description, fm.note)
    ws.write(1, 6, "黄色：填写（指标名称可改）；绿色：规则（规则类型、分值、参数，可按本地评分标准修改）；灰色：公式。"
                   "可插入、删除、复制指标行。", fm.note)
    ws.write_row(L.SCORE_HEADER_ROW - 1, 0, headers, fm.header)
    ws.set_row(L.SCORE_HEADER_ROW - 1, 30)
    widths = {"code": 10, "level1": 9, "level2": 11, "name": 20, "points": 6, "criterion": 40, "formula_text": 28,
              "value": 11, "unit": 6, "rule": 10, "na": 8, "computed": 9, "override": 9, "reason": 30, "final": 8,
              "stated_value": 12, "stated_score": 10, "note": 20, "evidence": 40}
    for f, i in L.COL.items():
        ws.set_column(i, i, widths.get(f, 8))
    ws.freeze_panes(L.SCORE_HEADER_ROW, L.COL["points"])
    # “规则类型”“无基数时”的下拉是整列（表头以下）的一条数据验证：用户插入的行同样有下拉
    first0, c = L.SCORE_FIRST_ROW - 1, L.COL
    ws.data_validation(first0, c["rule"], _LAST_ROW0, c["rule"], {
        "validate": "list", "source": list(RULE_TYPES), "error_title": "规则类型",
        "error_message": "请从下拉列表中选择规则类型（各类型的说明见 jixiao 文档 docs/rules.md“评分规则类型”）"})
    ws.data_validation(first0, c["na"], _LAST_ROW0, c["na"], {"validate": "list", "source": list(NA_POLICIES)})
    subtotal_rows: list[int] = []
    shown: dict[int, dict[str, Any]] = {}  # 各行写入的（缓存）值，用来算小计单元格的缓存值，与公式逐字一致
    for ri in inputs.rows:
        r0 = ri.row - 1
        res = results[ri.code]
        ws.write_string(r0, c["code"], ri.code, fm.code)
        # 一级/二级/三级指标名称、评分标准、指标公式说明、单位都是输入：本地指标体系的名称照填
        for f in ("level1", "level2", "name", "criterion", "formula_text"):
            ws.write(r0, c[f], ri.__dict__[f] or "", fm.input_text)
        ws.write(r0, c["points"], _plain(ri.points) if ri.points is not None else "",
                 fm.input_count if system.kind == "project" else fm.param)
        rate_value = res.unit == "%"
        if isinstance(ri.value, Formula):
            ws.write_formula(r0, c["value"], ri.value.text, fm.formula_rate if rate_value else fm.formula_text,
                             _cached(res.value, res.value_error))
        else:
            _write_input(ws, r0, c["value"], ri.value, fm.input_rate if rate_value else fm.input_general)
            _value_validation(ws, r0, c["value"], ri, res)
        ws.write(r0, c["unit"], ri.unit or "", fm.input_text)
        ws.write(r0, c["rule"], ri.rule_label, fm.param)
        ws.write(r0, c["na"], ri.na, fm.param)
        rate_idx = RATE_PARAMS.get(ri.rule_label, ()) if rate_value or ri.rule_label != "目标比较" else ()
        for k, p in enumerate(ri.params):
            pf = fm.param_rate if k in rate_idx and isinstance(p, Decimal) and rate_value else fm.param
            _write_input(ws, r0, c["p1"] + k, p, pf)
        if ri.rule_label == Target.label:
            # 警告而非禁止：表格里常见的写法（不低于、＞＝、≧……）也能输入，jixiao 读懂后给出提示
            ws.data_validation(r0, c["p1"], r0, c["p1"], {"validate": "list", "source": list(TARGET_NATURES),
                                                          "error_type": "warning", "error_title": "指标性质",
                                                          "error_message": "可选 ≥ ≤ = > < 定性，也可写 不低于、不超过 等"})
        elif ri.rule_label == "按步扣分":
            ws.data_validation(r0, c["p1"] + 3, r0, c["p1"] + 3, {"validate": "list", "source": list(STEP_DIRECTIONS)})
            ws.data_validation(r0, c["p1"] + 4, r0, c["p1"] + 4, {"validate": "list", "source": list(STEP_MODES)})
        shown_value = _cached(res.value, res.value_error) if isinstance(ri.value, Formula) else ri.value
        shown_computed = _shown(res.computed, "SCORE", shown_value, ri.points, ri.rule_label, ri.na, list(ri.params))
        ws.write_formula(r0, c["computed"], ri.computed.text, fm.formula, shown_computed)
        _write_input(ws, r0, c["override"], _plain(ri.override) if ri.override is not None else None, fm.input_count)
        ws.data_validation(r0, c["override"], r0, c["override"], {
            "validate": "decimal", "criteria": "between", "minimum": 0, "maximum": _plain(res.points or 0),
            "error_type": "warning", "error_title": "调整得分", "error_message": "调整得分应在 0～分值之间，并须填写调整理由"})
        _write_input(ws, r0, c["reason"], ri.reason, fm.input_text)
        shown_final = _shown(res.final, "FINAL_SCORE", shown_computed, ri.override)
        ws.write_formula(r0, c["final"], ri.final.text, fm.formula, shown_final)
        shown[ri.row] = {"name": ri.name, "points": ri.points, "rule": ri.rule_label, "computed": shown_computed,
                         "final": shown_final}
        _write_input(ws, r0, c["stated_value"], ri.stated_value, fm.input_rate if rate_value else fm.input_general)
        _write_input(ws, r0, c["stated_score"], ri.stated_score, fm.input_count)
        _write_input(ws, r0, c["note"], ri.note, fm.input_text)
        _write_input(ws, r0, c["evidence"], ri.evidence, fm.input_text)
    sums: dict[str, list[Any]] = {"points": [], "computed": [], "final": []}
    for level1 in ev.level1:
        r = int(inputs.cells[("subtotal", level1)][1])
        a, b = (int(x) for x in inputs.cells[("subtotal_range", level1)][1].split(":"))
        subtotal_rows.append(r)
        _summary_row(ws, fm, r, L.SUBTOTAL_MARK, level1, {f: (subtotal_formula(f, a, b), v) for f, v in
                                                          _subtotal_shown(shown, a, b).items()})
        for f, v in _subtotal_shown(shown, a, b).items():
            sums[f].append(v)
    total_row = int(inputs.cells[("total",)][1])
    _summary_row(ws, fm, total_row, L.TOTAL_MARK, "合计", {f: (total_formula(f, subtotal_rows), _total_shown(f, vs))
                                                   for f, vs in sums.items()})
    gr = int(inputs.cells[("grade",)][1])
    gh = int(inputs.cells[("grade_header",)][1])
    n = len(inputs.grade_rows)
    ws.write_string(gr - 1, 0, L.GRADE_MARK, fm.subtotal_text)
    ws.write_string(gr - 1, 1, "评价等级", fm.subtotal_text)
    ws.write_formula(gr - 1, L.COL["final"], grade_formula(total_row, gh + 1, gh + n), fm.subtotal_text,
                     ev.grade if ev.grade is not None else INCOMPLETE_TEXT)
    ws.write_row(gh - 1, 0, [L.GRADE_TABLE_MARK, "等级", "下限（含）", "说明"], fm.header)
    for k, (name, lo) in enumerate(inputs.grade_rows):
        ws.write(gh + k, 1, name, fm.param)
        ws.write(gh + k, 2, _plain(lo), fm.param)
        ws.write(gh + k, 3, "总分≥下限且低于上一等级下限" if k else "总分≥下限", fm.locked_text)
    # 评分表不设工作表保护：指标体系由用户在表中维护（插入、删除、复制行，填名称，把上一行的公式向下填充），
    # Excel 对受保护的表不允许删除含锁定单元格的行、也不能在新行的锁定格里填写。公式被改写由 jixiao check 指出。
    _words_block(wb, ws, fm, int(inputs.cells[("words_mark",)][1]), inputs.qual_words or [])

    # ---------------- 文字材料 ----------------
    if system.texts:
        ws = wb.add_worksheet(L.SHEET_TEXTS)
        ws.merge_range(0, 0, 0, 2, "文字材料（报告中的叙述段落，按项填写）", fm.title)
        ws.write_row(1, 0, [L.CODE_HEADER, "项目", "内容"], fm.header)
        ws.set_column(0, 0, 14)
        ws.set_column(1, 1, 20)
        ws.set_column(2, 2, 100)
        for k, t in enumerate(system.texts):
            ws.write_string(2 + k, 0, t.key, fm.code)
            ws.write_string(2 + k, 1, t.title, fm.label)
            _write_input(ws, 2 + k, 2, inputs.texts.get(t.key), fm.input_text)
            if t.hint:
                ws.write_comment(2 + k, 2, t.hint)
    wb.get_worksheet_by_name(L.SHEET_SCORES).activate()
    wb.close()
    return path


_FIXED_TIME = __import__("datetime").datetime(2026, 1, 1, 0, 0, 0)
_LAST_ROW0 = 1_048_575  # Excel 最后一行（0 起）


def _words_block(wb, ws, fm, mark: int, words) -> None:
    """定性词表：定性指标的完成情况怎样归入三档（达成/部分达成/未达成）。词语可增删改，档次从下拉中选；
    工作簿定义的名称“定性词表”指向下方 WORDS_ROWS 行，评分公式以它为最后一个参数。"""
    m0 = mark - 1
    ws.write_row(m0, 0, [L.WORDS_MARK, "词语", "档次", "说明"], fm.header)
    ws.write(m0 + 1, 3, "定性指标的完成情况按此表归入三档，取该档上限（达成100%、部分达成80%、未达成60%）；"
                        "可增删改词语，空行可填写", fm.note)
    for k in range(L.WORDS_ROWS):
        word, band = words[k] if k < len(words) else (None, None)
        _write_input(ws, m0 + 1 + k, 1, word, fm.param)
        _write_input(ws, m0 + 1 + k, 2, band, fm.param)
        if k >= len(words) + 20:  # 只给默认词与其下 20 个空行着色，其余行仍在区域内
            break
    last = m0 + L.WORDS_ROWS
    ws.data_validation(m0 + 1, 2, last, 2, {"validate": "list", "source": list(QUALITATIVE_BANDS),
                                            "error_title": "档次", "error_message": "档次应为 达成/部分达成/未达成"})
    wb.define_name(L.WORDS_NAME, f"={L.quote_sheet(L.SHEET_SCORES)}!$B${mark + 1}:$C${mark + L.WORDS_ROWS}")


def _nonneg_validation() -> dict:
    return {"validate": "decimal", "criteria": ">=", "value": 0, "error_type": "warning", "error_title": "金额",
            "error_message": "应为不小于 0 的数字（单位见“金额单位”）"}


def _value_validation(ws, r0: int, c0: int, ri, res) -> None:
    rule = res.rule
    if isinstance(rule, GradeTable):
        ws.data_validation(r0, c0, r0, c0, {"validate": "list", "source": [n for n, _ in rule.grades]})
    elif isinstance(rule, Target) and rule.nature == "定性":
        ws.data_validation(r0, c0, r0, c0, {"validate": "list", "source": list(QUALITATIVE_LEVELS), "error_type": "warning",
                                            "error_message": "填写 达成/部分达成/未达成，或得分系数（如 85%）"})
    elif isinstance(rule, DeductionChecklist):
        # 选中单元格时的提示（不限制输入）：空白是未填写，没有扣分要写明
        ws.data_validation(r0, c0, r0, c0, {"validate": "any", "input_title": "扣分合计",
                                            "input_message": "没有扣分填 0 或“无”；留空为未填写，该指标不计分"})
    elif rule is not None and rule.label == "评价人打分":
        ws.data_validation(r0, c0, r0, c0, {"validate": "decimal", "criteria": "between", "minimum": 0,
                                            "maximum": _plain(rule.points), "error_type": "warning",
                                            "error_message": "评价人打分应在 0～分值之间"})


def _write_input(ws, r0: int, c0: int, v: Any, fmt) -> None:
    v = _plain(v)
    if v is None:
        ws.write_blank(r0, c0, None, fmt)
    elif isinstance(v, str):
        ws.write_string(r0, c0, v, fmt)  # 文本原样写入，绝不当作公式
    elif isinstance(v, bool):
        ws.write_boolean(r0, c0, v, fmt)
    else:
        ws.write_number(r0, c0, v, fmt)


def _summary_row(ws, fm, r: int, mark: str, label: str, cells: dict[str, tuple[str, Any]]) -> None:
    c = L.COL
    r0 = r - 1
    ws.write_string(r0, c["code"], mark, fm.subtotal_text)
    ws.write_string(r0, c["level1"], label, fm.subtotal_text)
    for f, (formula, v) in cells.items():
        ws.write_formula(r0, c[f], formula, fm.subtotal, _plain(v))


def _is_number(v: Any) -> bool:
    return isinstance(v, (int, float, Decimal)) and not isinstance(v, bool)


def _filled(v: Any) -> bool:
    return v is not None and v != ""


def _subtotal_shown(shown: dict[int, dict[str, Any]], a: int, b: int) -> dict[str, Any]:
    """小计单元格的缓存值，按 subtotal_formula 的公式逐项算出（Excel 重新计算时得到的就是它）。"""
    rows = [shown[r] for r in range(a, b + 1) if r in shown]
    missing = sum(1 for x in rows if (_filled(x["name"]) or _filled(x["final"])) and not _is_number(x["final"]))
    missing_computed = missing + sum(1 for x in rows if _filled(x["rule"]) and not _is_number(x["computed"]))
    out: dict[str, Any] = {}
    for f, n in (("points", 0), ("computed", missing_computed), ("final", missing)):
        if n:
            out[f] = INCOMPLETE_TEXT
        else:
            out[f] = sum((Decimal(str(_plain(x[f]))) for x in rows if _filled(x["rule"]) and _is_number(_plain(x[f]))),
                         Decimal(0))
    return out


def _total_shown(field: str, values: list[Any]) -> Any:
    if field != "points" and not all(_is_number(v) for v in values):
        return INCOMPLETE_TEXT
    return sum((Decimal(str(_plain(v))) for v in values), Decimal(0))


def build_templates(out_dir: str | Path) -> list[Path]:
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    return [build_workbook(s, out / f"{key}.xlsx") for key, s in SYSTEMS.items()]
