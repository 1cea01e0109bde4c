"""空白不是零、推算的数要说出来、超过 100% 封顶要警告——像用户一样在模板的黄色输入格里填数（openpyxl），
再让 jixiao score（无界面引擎）与 formulas（Excel 会算出的值，调用与 Excel 相同的单元格函数）各算一遍，两边逐格一致。

夹具只写模板中填写色（黄色）的单元格，写之前断言该格确是输入格：测的是用户真正能做的事。
"""
from __future__ import annotations

import shutil
from decimal import Decimal as D
from pathlib import Path
from typing import Any

import openpyxl
import pytest

from addin.scoring.engine import evaluate
from addin.scoring.reader import load
from tests.fixtures_checks import score_json
from tests.test_formulas_engine import Calculated, engine_functions  # noqa: F401  （fixture：注册单元格函数）
from udfs.excel import ERROR_PREFIX, NA_TEXT
from workbook_templates import layout as L
from workbook_templates.systems import SYSTEMS

TEMPLATES = Path(__file__).resolve().parent.parent / "workbook_templates" / "xlsx"
INPUT_FILL = "FFF2CC"  # 模板的填写色（build._Formats.input_*）
VALUE, COMPUTED, FINAL = L.LETTER["value"], L.LETTER["computed"], L.LETTER["final"]
pytestmark = pytest.mark.usefixtures("engine_functions")  # formulas 中注册与 Excel 相同的单元格函数


def typed(tmp_path: Path, system: str, data: dict[tuple, Any] | None = None, values: dict[str, Any] | None = None,
          name: str = "typed") -> Path:
    """复制空白模板，在基础数据表（("table", 行, 列) / ("scalar", 项)）与评分表“实际值”（指标代码 → 值）的黄色格里填数。"""
    path = tmp_path / f"{name}.xlsx"
    shutil.copy(TEMPLATES / f"{system}.xlsx", path)
    _, inputs = load(path)
    wb = openpyxl.load_workbook(path)
    for key, v in (data or {}).items():
        sheet, cell = inputs.cells[key]
        _type(wb[sheet][cell], v)
    rows = {r.code: r for r in inputs.rows}
    for code, v in (values or {}).items():
        _type(wb[L.SHEET_SCORES][rows[code].cells["value"]], v)
    wb.save(path)
    return path


def _type(c, v: Any) -> None:
    assert c.fill.fgColor.rgb.endswith(INPUT_FILL), f"{c.coordinate} 不是填写格"
    c.value = v


def row_of(out: dict, code: str) -> dict:
    return next(i for i in out["indicators"] if i["code"] == code)


def found(out: dict, code: str) -> list[tuple[str, str]]:
    return [(f["sheet"], f["cell"]) for f in out["findings"] if f["code"] == code]


def cells(path: Path):
    _, inputs = load(path)
    return inputs, {r.code: r for r in inputs.rows}


def excel_agrees(path: Path, codes: list[str]) -> Calculated:
    """formulas 重算（Excel 的结果）与 jixiao 引擎：这些指标的实际值、计算得分逐格一致（不能计分的两边都是说明文字）。"""
    calc = Calculated(path)
    _, inputs = load(path)
    ev = evaluate(inputs)
    by_code = {i.code: i for i in ev.indicators}
    for code in codes:
        ind = by_code[code]
        shown = calc(L.SHEET_SCORES, f"{VALUE}{ind.row}")
        computed = calc(L.SHEET_SCORES, f"{COMPUTED}{ind.row}")
        if ind.value_error:
            assert shown is None or (isinstance(shown, str) and shown.startswith(ERROR_PREFIX)), (code, shown)
        elif isinstance(ind.value, D):
            assert shown == pytest.approx(float(ind.value), rel=1e-12), (code, shown)
        elif ind.value is None:
            assert shown in (None, NA_TEXT) or str(shown).strip() in ("无", "—", "0"), (code, shown)
        if ind.computed is None:
            assert isinstance(computed, str) and computed.startswith(ERROR_PREFIX), (code, computed)
        else:
            assert computed == pytest.approx(float(ind.computed), abs=1e-9), (code, computed)
    return calc


# ---------------------------------------------------------------------------------------------------------
# 本年追加预算数空白：按 调整预算数 − 年初预算数 推算（开福区 3951 − 3691），绝不是 0% 满分
# ---------------------------------------------------------------------------------------------------------
KAIFU_BUDGET = {("table", "expense_total", "budget_initial"): 3691, ("table", "expense_total", "budget_adjusted"): 3951,
                ("table", "basic", "budget_initial"): 323, ("table", "basic", "budget_adjusted"): 355,
                ("table", "project", "budget_initial"): 3368, ("table", "project", "budget_adjusted"): 3596,
                ("scalar", "carry_begin"): 0, ("scalar", "carry_end"): 0}


def test_blank_budget_added_with_adjusted_budget_is_derived_not_zero(tmp_path, capsys):
    path = typed(tmp_path, "hunan-dept", KAIFU_BUDGET)
    _, out = score_json(path, capsys)
    control = row_of(out, "budget_control")
    rate = D(3951 - 3691) / D(3691)  # 7.04%：分档“0～10%（含）”得 4 分
    assert control["value"] == pytest.approx(float(rate)) and control["computed_score"] == 4
    assert control["value"] != 0 and control["computed_score"] != 5  # 不是“追加 0 → 0% → 满分”
    assert row_of(out, "budget_completion")["value"] == 1  # 分母用推算的追加数：3691 ＋ 260
    inputs, _ = cells(path)
    added_cell = inputs.cells[("scalar", "budget_added")]
    assert found(out, "budget-added-derived") == [added_cell]
    note = next(f for f in out["findings"] if f["code"] == "budget-added-derived")
    assert note["severity"] == "提示" and "3951 － " in note["message"] and "3691 ＝ 260 万元" in note["message"]
    excel_agrees(path, ["budget_control", "budget_completion"])  # Excel：=BUDGET_CONTROL_RATE(追加,年初,调整) 同样推算


def test_blank_budget_added_and_blank_adjusted_budget_is_unfilled(tmp_path, capsys):
    data = {k: v for k, v in KAIFU_BUDGET.items() if k[2:] != ("budget_adjusted",)}
    path = typed(tmp_path, "hunan-dept", data)
    _, out = score_json(path, capsys)
    inputs, rows = cells(path)
    added_cell = inputs.cells[("scalar", "budget_added")]
    assert row_of(out, "budget_control")["score"] is None and row_of(out, "budget_completion")["score"] is None
    assert added_cell in found(out, "missing-value")
    msg = next(f["message"] for f in out["findings"] if f["code"] == "missing-value" and f["cell"] == added_cell[1])
    assert "本年追加预算数）未填写" in msg and "没有追加填 0" in msg
    calc = excel_agrees(path, ["budget_control", "budget_completion"])
    shown = calc(L.SHEET_SCORES, f"{VALUE}{rows['budget_control'].row}")
    assert shown.startswith(ERROR_PREFIX + "本年追加预算数未填写")


def test_budget_added_typed_zero_but_adjusted_budget_differs_is_flagged(tmp_path, capsys):
    path = typed(tmp_path, "hunan-dept", {**KAIFU_BUDGET, ("scalar", "budget_added"): 0})
    _, out = score_json(path, capsys)
    assert row_of(out, "budget_control")["value"] == 0  # 用户写明的 0：按 0 计算……
    from addin.checks.run import run_checks

    _, inputs = load(path)
    fs = [f for f in run_checks(inputs) if f.code == "budget-added-mismatch"]
    assert [(f.sheet, f.cell, f.severity) for f in fs] == [(*inputs.cells[("scalar", "budget_added")], "警告")]
    assert fs[0].expected == 260 and "相差 260 万元" in fs[0].message  # ……但与 调整 − 年初 不符，指出来
    excel_agrees(path, ["budget_control"])


# ---------------------------------------------------------------------------------------------------------
# 写明的 0 / 无 / — 与空白：楼堂馆所、政府采购、三公经费
# ---------------------------------------------------------------------------------------------------------
NONE_CASES = {
    "building_area": [("scalar", "building_area_actual"), ("scalar", "building_area_approved")],
    "building_invest": [("scalar", "building_invest_actual"), ("scalar", "building_invest_approved")],
    "procurement": [("table", "procurement", "final"), ("table", "procurement", "budget_initial")],
    "sangong_control": [("table", "sangong", "final"), ("table", "sangong", "budget_initial")],
}


@pytest.mark.parametrize("written", [0, "无", "—"], ids=["0", "无", "—"])
def test_written_none_is_no_base_and_scores_by_the_rule(tmp_path, capsys, written):
    """两项都写明“没有”：0 ÷ 0 不适用，按“无基数时”（模板：满分）计分；Excel 显示“不适用”与同样的得分。"""
    data = {key: written for keys in NONE_CASES.values() for key in keys}
    path = typed(tmp_path, "hunan-dept", data)
    _, out = score_json(path, capsys)
    for code in NONE_CASES:
        r = row_of(out, code)
        assert r["value"] is None and r["computed_score"] == r["max"], (code, r)
    calc = excel_agrees(path, list(NONE_CASES))
    _, rows = cells(path)
    assert all(calc(L.SHEET_SCORES, f"{VALUE}{rows[c].row}") == NA_TEXT for c in NONE_CASES)


def test_blank_is_unfilled_never_full_marks(tmp_path, capsys):
    """同样几项留空：未填写，不计分（不是“无项目视同满分”），发现指向空白的数据格；Excel 的计算得分显示“错误：…未填写”。"""
    path = typed(tmp_path, "hunan-dept", {})
    _, out = score_json(path, capsys)
    inputs, _ = cells(path)
    missing = found(out, "missing-value")
    for code, keys in NONE_CASES.items():
        assert row_of(out, code)["score"] is None, code
        assert inputs.cells[keys[0]] in missing, code  # 第一个空白参数的单元格
    calc = excel_agrees(path, list(NONE_CASES))
    _, rows = cells(path)
    for code in NONE_CASES:
        what = "实际建设面积" if code == "building_area" else None
        shown = calc(L.SHEET_SCORES, f"{VALUE}{rows[code].row}")
        assert shown.startswith(ERROR_PREFIX) and "未填写" in shown, (code, shown)
        if what:
            assert what in shown


def test_one_written_none_one_blank(tmp_path, capsys):
    """批准面积写“无”、实际面积留空：仍是未填写（只说了一半），指向留空的那一格。"""
    path = typed(tmp_path, "hunan-dept", {("scalar", "building_area_approved"): "无"})
    _, out = score_json(path, capsys)
    inputs, _ = cells(path)
    assert row_of(out, "building_area")["score"] is None
    assert inputs.cells[("scalar", "building_area_actual")] in found(out, "missing-value")
    excel_agrees(path, ["building_area"])


# ---------------------------------------------------------------------------------------------------------
# 扣分清单：空白是未填写，0/无 是没有扣分
# ---------------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("typed_value,score", [(None, None), (0, 3), ("无", 3), ("—", 3), (0.5, 2.5)],
                         ids=["blank", "0", "无", "—", "0.5"])
def test_deduction_blank_vs_zero(tmp_path, capsys, typed_value, score):
    path = typed(tmp_path, "zizhou-dept", values={"z1_3": typed_value})
    _, out = score_json(path, capsys)
    r = row_of(out, "z1_3")  # 部门预算细化性，3 分
    assert r["score"] == score
    _, rows = cells(path)
    value_cell = rows["z1_3"].cells["value"]
    assert ((L.SHEET_SCORES, value_cell) in found(out, "missing-value")) == (score is None)
    if score is None:
        msg = next(f["message"] for f in out["findings"] if f["cell"] == value_cell)
        assert "没有扣分请填 0 或“无”" in msg
    calc = excel_agrees(path, ["z1_3"])
    if score is None:
        assert calc(L.SHEET_SCORES, f"{COMPUTED}{rows['z1_3'].row}") == ERROR_PREFIX + "实际值未填写"


# ---------------------------------------------------------------------------------------------------------
# 合计行空白或为 0 而分项都填了：指标按分项之和（不丢），合计行被指出
# ---------------------------------------------------------------------------------------------------------
PROJECT_PARTS = {("table", "fund_fiscal", "budget_initial"): 50000, ("table", "fund_fiscal", "budget_full"): 400000,
                 ("table", "fund_fiscal", "executed"): 380000,
                 ("table", "fund_carry", "budget_initial"): 0, ("table", "fund_carry", "budget_full"): 47704,
                 ("table", "fund_carry", "executed"): 47704,
                 ("table", "fund_other", "budget_initial"): "无", ("table", "fund_other", "budget_full"): 0,
                 ("table", "fund_other", "executed"): 0,
                 ("scalar", "exec_basis"): "全年预算数"}


@pytest.mark.parametrize("total", [None, 0], ids=["blank", "zero"])
def test_project_total_left_blank_or_zero_uses_the_parts(tmp_path, capsys, total):
    data = dict(PROJECT_PARTS)
    data.update({("table", "fund_total", c): total for c in ("budget_initial", "budget_full", "executed")})
    path = typed(tmp_path, "project", data)
    _, out = score_json(path, capsys)
    rate = D(380000 + 47704) / D(400000 + 47704)
    r = row_of(out, "exec_rate")
    assert r["value"] == pytest.approx(float(rate)) and r["computed_score"] == pytest.approx(float((rate * 10).quantize(D("0.01"))))
    inputs, rows = cells(path)
    assert found(out, "total-from-parts") == [(L.SHEET_SCORES, rows["exec_rate"].cells["value"])]
    note = next(f for f in out["findings"] if f["code"] == "total-from-parts")
    assert "年度资金总额·全年执行数）" in note["message"] and "427704" in note["message"]
    from addin.checks.run import run_checks

    fs = run_checks(inputs)
    flagged = {(f.code, f.cell) for f in fs if f.code in ("total-blank", "total-mismatch")}
    full, executed = inputs.cells[("table", "fund_total", "budget_full")], inputs.cells[("table", "fund_total", "executed")]
    code = "total-blank" if total is None else "total-mismatch"
    assert {(code, full[1]), (code, executed[1])} <= flagged  # 合计行本身被指出
    excel_agrees(path, ["exec_rate"])


def test_total_blank_with_a_part_missing_is_unfilled(tmp_path, capsys):
    """分项不全（其他资金留空）：不猜，合计仍是未填写，指向合计单元格。"""
    data = {k: v for k, v in PROJECT_PARTS.items() if k[1] != "fund_other"}
    path = typed(tmp_path, "project", data)
    _, out = score_json(path, capsys)
    inputs, _ = cells(path)
    assert row_of(out, "exec_rate")["score"] is None
    assert inputs.cells[("table", "fund_total", "budget_full")] in found(out, "missing-value")  # 分母先取
    assert not found(out, "total-from-parts")
    excel_agrees(path, ["exec_rate"])


def test_hunan_total_blank_with_basic_and_project_filled(tmp_path, capsys):
    data = {k: v for k, v in KAIFU_BUDGET.items() if k[1] != "expense_total"}
    data[("scalar", "budget_added")] = 260
    path = typed(tmp_path, "hunan-dept", data)
    _, out = score_json(path, capsys)
    r = row_of(out, "budget_control")
    assert r["value"] == pytest.approx(float(D(260) / D(323 + 3368))) and r["computed_score"] == 4
    inputs, rows = cells(path)
    assert (L.SHEET_SCORES, rows["budget_control"].cells["value"]) in found(out, "total-from-parts")
    from addin.checks.run import run_checks

    blank = [f for f in run_checks(inputs) if f.code == "total-blank"]
    assert (L.SHEET_DATA, inputs.cells[("table", "expense_total", "budget_initial")][1]) in {(f.sheet, f.cell) for f in blank}
    assert all(f.severity == "警告" for f in blank)
    excel_agrees(path, ["budget_control", "budget_completion"])


# ---------------------------------------------------------------------------------------------------------
# 执行数超出预算数：按规则封顶，另给警告并写出超出的金额
# ---------------------------------------------------------------------------------------------------------
def test_overspend_is_capped_and_warned(tmp_path, capsys):
    data = {("table", k, c): v for k, vals in {"fund_total": (50000, 447704, 460204), "fund_fiscal": (50000, 447704, 460204),
                                               "fund_carry": (0, 0, 0), "fund_other": (0, 0, 0)}.items()
            for c, v in zip(("budget_initial", "budget_full", "executed"), vals, strict=True)}
    data[("scalar", "exec_basis")] = "全年预算数"
    data[("scalar", "money_unit")] = "元"
    path = typed(tmp_path, "project", data)
    _, out = score_json(path, capsys)
    r = row_of(out, "exec_rate")
    assert r["value"] == pytest.approx(460204 / 447704) and r["computed_score"] == 10  # 封顶：满分 10 分
    inputs, _ = cells(path)
    executed = inputs.cells[("table", "fund_total", "executed")]
    assert found(out, "over-100-capped") == [executed]
    w = next(f for f in out["findings"] if f["code"] == "over-100-capped")
    assert w["severity"] == "警告"
    assert "超出基础数据表" in w["message"] and "共 12500 元" in w["message"] and "102.79%" in w["message"]
    assert "按满分 10 分计" in w["message"]
    excel_agrees(path, ["exec_rate"])


def test_rate_at_or_below_100_percent_is_not_warned(tmp_path, capsys):
    data = {("table", k, c): v for k in ("fund_total", "fund_fiscal")
            for c, v in zip(("budget_initial", "budget_full", "executed"), (50000, 447704, 447704), strict=True)}
    data.update({("table", k, c): 0 for k in ("fund_carry", "fund_other") for c in ("budget_initial", "budget_full", "executed")})
    _, out = score_json(typed(tmp_path, "project", data), capsys)
    assert row_of(out, "exec_rate")["computed_score"] == 10 and not found(out, "over-100-capped")


def test_control_rate_over_100_percent_is_a_deduction_not_a_cap(tmp_path, capsys):
    """公用经费控制率 > 100%：规则扣分（越低越好），得分已经反映，不另报“封顶”。"""
    _, out = score_json(typed(tmp_path, "hunan-dept", {("table", "public_expense", "budget_initial"): 22.98,
                                                    ("table", "public_expense", "final"): 39.51}), capsys)
    assert row_of(out, "public_expense_control")["computed_score"] == 0 and not found(out, "over-100-capped")


# ---------------------------------------------------------------------------------------------------------
# 此前版本模板的公式：不报“公式被修改”，按其写法计算（与 Excel 相同）
# ---------------------------------------------------------------------------------------------------------
def test_previous_template_formulas_are_accepted(demo_dir, tmp_path):
    from workbook_templates.layout import value_formula

    path = tmp_path / "old.xlsx"
    shutil.copy(demo_dir / "baojing-2018.xlsx", path)
    _, inputs = load(path)
    system = SYSTEMS["hunan-dept"]
    wb = openpyxl.load_workbook(path)
    ws = wb[L.SHEET_SCORES]
    old = {}
    for row in inputs.rows:
        spec = system.indicator(row.code)
        if spec is not None and spec.udf:  # 旧模板：预算控制率/完成率没有调整预算数参数，合计行直接引用
            old[row.code] = value_formula(spec.udf, spec.legacy_args or spec.args, inputs.cells)
            ws[row.cells["value"]] = old[row.code]
    assert old["budget_control"].count(",") == 1 and "IF(" not in old["sangong_control"]
    wb.save(path)
    _, inputs = load(path)
    ev = evaluate(inputs)
    assert not [f for f in ev.findings if f.code == "formula-changed"]
    assert (ev.total, ev.grade) == (D("94.9"), "优")
    excel_agrees(path, list(old))


def test_typed_completion_rate_over_100_percent_is_warned(demo_dir, tmp_path, capsys):
    """项目指标“定点医药机构监督检查覆盖率”（≥90%）填了 105%：按规则封顶满分，警告指向该实际值单元格。"""
    path = tmp_path / "sp.xlsx"
    shutil.copy(demo_dir / "shiping-2022.xlsx", path)
    _, rows = cells(path)
    wb = openpyxl.load_workbook(path)
    _type(wb[L.SHEET_SCORES][rows["P04"].cells["value"]], 1.05)
    wb.save(path)
    _, out = score_json(path, capsys)
    assert row_of(out, "P04")["computed_score"] == 5
    assert found(out, "over-100-capped") == [(L.SHEET_SCORES, rows["P04"].cells["value"])]
    w = next(f for f in out["findings"] if f["code"] == "over-100-capped")
    assert "105.00% 超过 100%" in w["message"] and "按满分 5 分计" in w["message"]


@pytest.mark.parametrize("prev,this,expected", [("无", 0, "满分"), ("无", 1.5, "zero-denominator"), (None, 1.5, "missing")])
def test_previous_sangong_budget_written_none_vs_blank(tmp_path, prev, this, expected):
    """上年“三公经费”预算数：写“无”是上年没有（本年也没有 → 不适用，按“无基数时”满分；本年有 → 变动率无法计算），
    空白才是漏填（prev-sangong-budget-missing）。"""
    from addin.checks.run import run_checks

    data = {("table", "sangong", "budget_initial"): this, ("table", "sangong_car", "budget_initial"): 0,
            ("table", "sangong_abroad", "budget_initial"): 0, ("table", "sangong_reception", "budget_initial"): this,
            ("scalar", "sangong_budget_prev"): prev}
    path = typed(tmp_path, "hunan-dept", data)
    _, inputs = load(path)
    ev = evaluate(inputs)
    r = next(i for i in ev.indicators if i.code == "sangong_change")
    codes = {f.code for f in run_checks(inputs, ev) if f.cell == inputs.cells[("scalar", "sangong_budget_prev")][1]}
    if expected == "满分":
        assert r.value is None and r.final == r.points and not codes
    elif expected == "zero-denominator":
        assert r.final is None and codes == {"zero-denominator"}
    else:
        assert r.final is None and codes == {"prev-sangong-budget-missing"}
