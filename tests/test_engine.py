"""计分引擎把结构化的错误（IndicatorError / RuleError 的代码与参数序号）对应到单元格与发现代码，不读消息文字：
改写一条消息的措辞，高亮的单元格与发现代码都不变。"""
from __future__ import annotations

import dataclasses
from decimal import Decimal as D

import pytest

import udfs.excel
from addin.scoring.engine import evaluate
from addin.scoring.refs import arg_cell
from addin.template.inputs import layout_inputs
from udfs.indicators import IndicatorError
from udfs.rule import RuleError
from udfs.scoring import RULE_TYPES, Bands, StepDeduction, Threshold, rule_from_params
from workbook_templates.examples import BAOJING_2018
from workbook_templates.layout import SHEET_DATA, SHEET_SCORES
from workbook_templates.systems import SYSTEMS

HUNAN = SYSTEMS["hunan-dept"]


def _inputs():
    return layout_inputs(HUNAN, BAOJING_2018)


def _row(inputs, code):
    return next(r for r in inputs.rows if r.code == code)


def _findings(inputs, code: str, indicator_code: str):
    """该代码的全部发现所在的格（保靖示例本身没有这几种发现，所以都来自被改的那一个指标）。"""
    ev = evaluate(inputs, HUNAN)
    assert any(r.code == indicator_code for r in ev.indicators)
    return {(f.sheet, f.cell) for f in ev.findings if f.code == code}


def test_baseline_has_none_of_these_findings():
    ev = evaluate(_inputs(), HUNAN)
    assert not {f.code for f in ev.findings} & {"rule-error", "zero-denominator", "missing-value", "indicator-error"}


def _threshold_row(inputs):
    """保靖示例中规则类型为“达标满分”（参数1 比较符、参数2 阈值）的第一个指标行。"""
    return next(r for r in inputs.rows if str(r.rule_label or "").strip() == Threshold.label)


@pytest.mark.parametrize("message", ["阈值：“abc”无法识别为数值", "比较符写错了", "分值有误", "规则类型“无基数时”不对", "随便一句话"])
def test_rule_error_from_a_param_cell_points_at_that_cell_whatever_the_message(monkeypatch, message):
    """达标满分的参数2（阈值）写坏：rule-error 指向参数2 所在的格。再把消息改写成以别的参数名、“分值”、“规则类型”
    开头的任何说法，指向的格不变——引擎只看 RuleError.param。"""
    inputs = _inputs()
    row = _threshold_row(inputs)
    row.params[1] = "abc"
    assert _findings(inputs, "rule-error", row.code) == {(SHEET_SCORES, row.cells["p2"])}

    real = Threshold.from_params.__func__

    def reworded(cls, points, params, na=None):
        try:
            return real(cls, points, params, na)
        except RuleError as exc:
            raise RuleError(message, exc.param, field=exc.field if exc.param is None else None, code=exc.code) from None

    monkeypatch.setattr(Threshold, "from_params", classmethod(reworded))
    assert _findings(inputs, "rule-error", row.code) == {(SHEET_SCORES, row.cells["p2"])}


def test_rule_error_fields_point_at_rule_points_na_and_param_range():
    """规则类型、无基数时、参数之间的关系各有其格；参数序号越界的参数格不存在时不会指向别的参数。"""
    inputs = _inputs()
    row = _threshold_row(inputs)
    row.na = "看情况"
    assert _findings(inputs, "rule-error", row.code) == {(SHEET_SCORES, row.cells["na"])}

    inputs = _inputs()
    row = _threshold_row(inputs)
    row.rule_label = "达标"  # 不在规则类型表中
    assert _findings(inputs, "rule-error", row.code) == {(SHEET_SCORES, row.cells["rule"])}

    inputs = _inputs()
    row = _threshold_row(inputs)
    row.rule_label = "区间满分"
    row.params[:2] = [D("0.5"), D("0.1")]  # 下限大于上限：两格之间的关系，指向参数区域
    assert _findings(inputs, "rule-error", row.code) == {(SHEET_SCORES, row.cells["params"])}


@pytest.mark.parametrize("label,params,index,code", [
    ("达标满分", ["约等于", 1], 0, "invalid"),
    ("达标满分", ["≤", None], 1, "missing"),
    ("分档", [0.1, 1, 0.2, "x"], 3, "invalid"),
    ("分档", [0.1, 1, None, None, None, None, None, None, "很多", None], 8, "invalid"),
    ("分档", [0.1, 1, None, None, None, None, None, None, None, "也许"], 9, "invalid"),
    ("按步扣分", [1, 0, 0.5], 1, "invalid"),
    ("按步扣分", [1, 0.01, 0.5, "左右"], 3, "invalid"),
    ("等次对照", ["优", 5, None, 3], 2, "missing"),
    ("目标比较", ["大约", 10], 0, "invalid"),
    ("目标比较", ["≥", None], 1, "missing"),
    ("目标比较", ["≥", "abc"], 1, "invalid"),
    ("目标比较", [None, 95], 0, "missing"),
])
def test_rule_errors_carry_the_parameter_index(label, params, index, code):
    assert label in RULE_TYPES
    with pytest.raises(RuleError) as e:
        rule_from_params(label, 5, params, "报错")
    assert (e.value.param, e.value.field) == (index, "params"), str(e.value)
    if code == "missing":
        assert e.value.code == "missing"


def test_rule_errors_without_a_parameter_say_which_field():
    for args, field in [(("没有这种规则", 5, []), "rule"), (("达标满分", None, ["≤", 1]), "points"),
                        (("达标满分", 5, ["≤", 1], "看情况"), "na"), (("区间满分", 5, [0.5, 0.1]), "params"),
                        (("线性插值", 5, [0.5, 0.5]), "params")]:
        with pytest.raises(RuleError) as e:
            rule_from_params(*args)
        assert (e.value.param, e.value.field) == (None, field), args
    with pytest.raises(RuleError) as e:
        Bands(D(5)).score("x")
    assert e.value.field == "params"  # 分档规则没有一档
    with pytest.raises(RuleError) as e:
        StepDeduction(D(5)).score("abc")
    assert (e.value.field, e.value.code) == ("value", "invalid")
    with pytest.raises(RuleError) as e:
        StepDeduction(D(5)).score(None)
    assert (e.value.field, e.value.code) == ("value", "not-applicable")


@pytest.mark.parametrize("message", ["公用经费预算为 0，无法计算", "未填写", "随便一句话"])
def test_indicator_error_maps_by_code_and_argument_not_message(monkeypatch, message):
    """指标函数报错：发现代码来自 IndicatorError.code，单元格来自 arg_index 所指的参数——消息里写“为 0”或“未填写”都不改变。"""
    inputs = _inputs()
    spec = HUNAN.indicator("public_expense_control")
    assert spec is not None and spec.udf
    budget_cell = arg_cell(inputs, spec.args[1])  # 参数 1：预算安排公用经费
    assert budget_cell is not None and budget_cell[0] == SHEET_DATA

    for code, finding in [("zero-denominator", "zero-denominator"), ("missing", "missing-value"),
                          ("invalid", "indicator-error")]:
        def fail(*_args, _code=code):
            raise IndicatorError(message, 1, _code)

        monkeypatch.setitem(udfs.excel.BY_NAME, spec.udf, dataclasses.replace(udfs.excel.BY_NAME[spec.udf], func=fail))
        assert _findings(inputs, finding, "public_expense_control") == {budget_cell}, code
        others = {"zero-denominator", "missing-value", "indicator-error"} - {finding}
        assert not any(_findings(inputs, o, "public_expense_control") for o in others), code


def test_result_passes_every_field_to_its_own_name():
    """engine._result builds IndicatorResult positionally (speed): each value lands in the field of the same name."""
    from addin.model import Formula, IndicatorResult, RowInput
    from addin.scoring.engine import _result

    row = RowInput(code="c", level1=" 一级 ", level2="二级", name="名", criterion="标准", formula_text="公式", unit="%",
                   note="备注", evidence="依据", stated_value=Formula("=A1", 7), stated_score=8, row=12,
                   cells={"value": "H12"})
    res = _result(row, None, "c", "名", D(5), D("0.5"), "err", True, "rule", D(4), D(3),
                  "理由", D(3))
    expected = dict(code="c", level1="一级", level2="二级", name="名", points=D(5), criterion="标准",
                    formula="公式", unit="%", value=D("0.5"), value_error="err", value_typed=True, rule="rule",
                    computed=D(4), override=D(3), reason="理由", final=D(3), stated_value=7,
                    stated_score=8, note="备注", row=12, cells=row.cells, evidence="依据")
    assert [f.name for f in dataclasses.fields(IndicatorResult)] == list(expected)
    assert {f: getattr(res, f) for f in expected} == expected
    assert res.cells is row.cells
