"""一个指标一个来源：单元格函数目录（udfs.excel.CATALOG）中的一条带着公式说明、报告的算式写法与参数位置；
指标体系（workbook_templates.systems）、报告与计分都从这里取。"""
from __future__ import annotations

from decimal import Decimal as D

import pytest

from addin.scoring import derived
from udfs import expressions as X
from udfs.excel import BY_NAME, CATALOG
from udfs.numbers import fmt_pct
from workbook_templates.systems import SYSTEMS

INDICATOR_UDFS = sorted({i.udf for s in SYSTEMS.values() for i in s.indicators if i.udf})


@pytest.mark.parametrize("udf", INDICATOR_UDFS)
def test_every_udf_used_by_a_system_carries_its_formula_and_expression(udf):
    spec = BY_NAME[udf]
    assert spec.expression is not None
    assert spec.formula or spec.wordings
    # 函数向导的说明由名称与公式说明生成，不另写一遍
    if spec.formula:
        assert spec.description.startswith(X.head(spec.title, spec.formula))


def test_system_formula_text_comes_from_the_catalogue():
    seen = 0
    for system in SYSTEMS.values():
        for ind in system.indicators:
            if ind.udf:
                assert ind.formula == BY_NAME[ind.udf].formula_text(ind.wording), (system.key, ind.code)
                seen += 1
    assert seen >= 24
    # 子洲的评分表用种子 001 的原文写法，湖南用模板默认的写法：同一个函数，两种写法都记在目录的同一条里
    hunan, zizhou = SYSTEMS["hunan-dept"], SYSTEMS["zizhou-dept"]
    assert hunan.indicator("public_expense_control").formula == BY_NAME["PUBLIC_EXPENSE_CONTROL"].formula
    assert zizhou.indicator("z2_3a").formula == dict(BY_NAME["PUBLIC_EXPENSE_CONTROL"].wordings)["子洲"]


def test_equation_of_the_execution_rate_names_the_chosen_basis():
    # 项目支出：预算执行率＝全年执行数÷全年预算数×100%＝588.00÷626.00×100%＝93.93%
    spec = BY_NAME["BUDGET_EXECUTION_BY"]
    args = ["全年预算数", D("588"), None, D("626"), None, D("600")]
    figs = ["全年预算数"] + [f"{a:.2f}" if a is not None else "0.00" for a in args[1:]]
    expr = spec.expression(figs)
    formula = spec.formula.replace(*expr.formula)
    result = fmt_pct(spec.func(*args))
    line = X.equation("预算执行率", formula, expr.figures, result)
    assert line == f"预算执行率＝全年执行数÷全年预算数×100%＝588.00÷626.00×100%＝{result}"
    assert result == fmt_pct(D(588) / D(626))
    assert expr.shown == (1, 3)
    # 口径改为年初预算数：分母换成第 6 个参数，公式说明随之改写
    figs[0] = "年初预算数"
    expr = spec.expression(figs)
    assert expr.figures == "588.00÷600.00×100%" and spec.formula.replace(*expr.formula).endswith("÷年初预算数×100%")


def test_formula_that_names_itself_is_not_repeated():
    assert X.equation("财政供养人员", "超编人数＝实有人数－编制数", "35－33", "2") == "超编人数＝实有人数－编制数＝35－33＝2"
    assert X.equation("债务管理", "", "", "") == "债务管理"
    assert X.overstaffing(["33", "33"]).result == ""  # 未超编不写结果


@pytest.mark.parametrize("spec", [s for s in CATALOG if s.ratio and s.ratio[1] is not None], ids=lambda s: s.name)
def test_ratio_positions_are_the_function_numerator_and_denominator(spec):
    args = [D(7 + i) for i in range(len(spec.args))]
    num, den = spec.ratio
    assert spec.func(*args) == args[num] / args[den]
    assert derived.RATIO_ARGS[spec.name] == spec.ratio


@pytest.mark.parametrize("spec", [s for s in CATALOG if s.added], ids=lambda s: s.name)
def test_added_positions_derive_the_blank_addition(spec):
    added, initial, adjusted = spec.added
    args: list = [D(5)] * len(spec.args)
    args[initial], args[adjusted] = D(100), D(130)
    args[added] = None  # 本年追加空白：按 调整预算数－年初预算数 ＝ 30 推算
    with_blank = spec.func(*args)
    args[added] = D(30)
    assert with_blank == spec.func(*args)
    assert derived.ADDED_ARGS[spec.name] == spec.added
