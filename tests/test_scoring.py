from decimal import Decimal as D

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from udfs.scoring import (HUNAN_GRADES, PROJECT_GRADES, RULE_TYPES, ZIZHOU_GRADES, Bands, DeductionChecklist, GradeScale,
                          GradeTable, Linear, Manual, Qualitative, Range, RuleError, StepDeduction, Target, Threshold,
                          rule_from_params)

rates = st.decimals(min_value=-5, max_value=5, places=4, allow_nan=False, allow_infinity=False)
points = st.decimals(min_value=D("0.5"), max_value=20, places=1)

HUNAN_CONTROL = Bands(D(5), "报错", ((D(0), D(5)), (D("0.1"), D(4)), (D("0.2"), D(3)), (D("0.3"), D(2))), D(0))


def test_threshold_edges():
    r = Threshold(D(3), "报错", "<=", D(1))
    assert r.score(D(1)) == 3 and r.score(D("1.0001")) == 0
    assert Threshold(D(3), "报错", "<", D(1)).score(D(1)) == 0


def test_hunan_budget_control_band_table_is_upper_inclusive():
    assert [HUNAN_CONTROL.score(D(x)) for x in ("0", "0.0001", "0.1", "0.1012", "0.2", "0.3", "0.3001")] == [5, 4, 4, 3, 3, 2, 0]


def test_zizhou_linear_budget_completion():
    r = Linear(D(12), "报错", D("0.85"), D("0.95"))
    assert r.score(D("3296.75") / D("3642.94")) == D("6.60")
    assert r.score(D("0.85")) == 0 and r.score(D("0.95")) == 12 and r.score(D("0.90")) == 6


def test_linear_lower_is_better():
    r = Linear(D(4), "报错", D("0.15"), D("0.05"))
    assert r.score(D("-0.0917")) == 4 and r.score(D("0.10")) == 2 and r.score(D("0.15")) == 0


def test_step_deduction_modes():
    over = StepDeduction(D(5), "报错", D(1), D("0.01"), D("0.5"), "超出", "整步")
    assert over.score(D("1.025")) == 4  # 2 整步
    assert StepDeduction(D(5), "报错", D(1), D("0.01"), D("0.5"), "超出", "进位").score(D("1.025")) == D("3.5")
    assert StepDeduction(D(5), "报错", D(1), D("0.01"), D("0.5"), "超出", "比例").score(D("1.025")) == D("3.75")
    below = StepDeduction(D(5), "报错", D(1), D("0.05"), D(2), "低于", "整步")  # 每低 5%（满）扣 2 分
    assert [below.score(D(x)) for x in ("1", "0.96", "0.95", "0.90", "0.80")] == [5, 5, 3, 1, 0]


def test_range_is_inclusive_both_ends():
    r = Range(D(2), "报错", D("-0.15"), D("0.15"))
    assert r.score(D("-0.15")) == 2 and r.score(D("0.15")) == 2 and r.score(D("-0.7909")) == 0


def test_grade_table_and_unknown_grade():
    r = GradeTable(D(10), "报错", (("优秀", D(10)), ("良好", D(8)), ("一般", D(5)), ("较差", D(0))))
    assert r.score("良好") == 8
    with pytest.raises(RuleError, match="不在评分标准中"):
        r.score("很好")


def test_deduction_checklist_floors_at_zero():
    assert DeductionChecklist(D(2)).score(D("0.5")) == D("1.5")
    assert DeductionChecklist(D(2)).score(None) == 2
    assert DeductionChecklist(D(2), per_item=D("0.5")).score(3) == D("0.5")
    assert DeductionChecklist(D(2)).score(D(5)) == 0


def test_qualitative_three_bands():
    q = Qualitative(D(10))
    assert q.score("达成") == 10 and q.score("部分达成") == 8 and q.score("未达成") == 6 and q.score("70%") == 7


def test_target_proportional_capped():
    assert Target(D(10), "报错", "≥", D(1)).score(D("0.4988")) == D("4.99")  # 执行率×分值，不先取整
    assert Target(D(10), "报错", "≥", D(1)).score(D("1.2")) == 10
    assert Target(D(5), "报错", "≤", D(60)).score(D(75)) == 4
    assert Target(D(5), "报错", "定性", "有所提高").score("部分达成") == 4


def test_no_base_conventions():
    assert Threshold(D(6), "满分", ">=", D(1)).score(None) == 6  # 0÷0 政府采购
    assert StepDeduction(D(5), "满分", D(1), D("0.05"), D(2), "超出", "整步").score(None) == 5  # 无楼堂馆所
    assert Threshold(D(6), "零分", ">=", D(1)).score(None) == 0
    with pytest.raises(RuleError):
        Threshold(D(6), "报错", ">=", D(1)).score(None)


def test_manual_must_be_within_points():
    assert Manual(D(8)).score(D("7.5")) == D("7.5")
    with pytest.raises(RuleError, match="超出"):
        Manual(D(8)).score(9)


@pytest.mark.parametrize("rule", [
    Threshold(D(3), "满分", "<=", D(1)), Range(D(2), "报错", D(-1), D(1)), HUNAN_CONTROL,
    Linear(D(12), "报错", D("0.85"), D("0.95")), StepDeduction(D(5), "满分", D(1), D("0.05"), D(2), "低于", "进位"),
    Target(D(5), "报错", "≤", D(60)), GradeTable(D(2), "报错", (("无债务", D(2)), ("未变动", D(1)), ("增加", D(0)))),
    DeductionChecklist(D(3), "报错", D("0.5")), Qualitative(D(6)), Manual(D(8)),
])
def test_params_round_trip_through_cells(rule):
    # 写进参数单元格再读回来，得到同一条规则：用户在 Excel 里看到并修改的就是规则本身
    assert rule_from_params(rule.label, rule.points, rule.to_params(), rule.na) == rule


def test_bad_params_are_reported_in_chinese():
    with pytest.raises(RuleError, match="规则类型"):
        rule_from_params("未知", 5, [])
    with pytest.raises(RuleError, match="严格递增"):
        Bands.from_params(5, [0.3, 2, 0.1, 4])
    with pytest.raises(RuleError, match="零分点与满分点不能相同"):
        Linear.from_params(5, [0.9, 0.9])
    with pytest.raises(RuleError, match="阈值"):
        Threshold.from_params(5, ["<=", "abc"])


def test_grade_scales_half_open():
    assert HUNAN_GRADES.grade(D("94.9")) == "优" and HUNAN_GRADES.grade(D("89.99")) == "良"
    assert ZIZHOU_GRADES.grade(D("85.1")) == "良好" and ZIZHOU_GRADES.grade(D(90)) == "优秀"
    assert ZIZHOU_GRADES.grade(D(70)) == "一般" and ZIZHOU_GRADES.grade(D("69.99")) == "较差"
    assert PROJECT_GRADES.grade(D(60)) == "中" and PROJECT_GRADES.grade(D("59.99")) == "差"
    assert GradeScale.from_rows([("优秀", 90), ("良好", 80), ("一般", 60), ("较差", 0)]).grade(D(75)) == "一般"


# ---- 性质测试：所有规则得分都在 [0, 分值]，单调规则单调 -------------------------------------------------------
@given(points, rates, rates)
def test_linear_bounded_and_monotone(p, a, b):
    lo, hi = sorted((a, b))
    z, f = D("0.85"), D("0.95")
    r = Linear(p, "报错", z, f)
    assert 0 <= r.score(lo) <= r.score(hi) <= p
    r2 = Linear(p, "报错", f, z)  # 越低越好
    assert 0 <= r2.score(hi) <= r2.score(lo) <= p


@given(points, rates, rates, st.sampled_from(["整步", "进位", "比例"]))
def test_step_bounded_and_monotone(p, a, b, mode):
    lo, hi = sorted((a, b))
    over = StepDeduction(p, "报错", D(1), D("0.01"), D("0.5"), "超出", mode)
    assert 0 <= over.score(hi) <= over.score(lo) <= p
    under = StepDeduction(p, "报错", D(1), D("0.05"), D(2), "低于", mode)
    assert 0 <= under.score(lo) <= under.score(hi) <= p


@given(rates, rates)
def test_bands_bounded_and_monotone_for_descending_table(a, b):
    lo, hi = sorted((a, b))
    assert 0 <= HUNAN_CONTROL.score(hi) <= HUNAN_CONTROL.score(lo) <= 5


@given(points, st.decimals(min_value=D("0.01"), max_value=10**6, places=2),
       st.decimals(min_value=0, max_value=10**6, places=2), st.decimals(min_value=0, max_value=10**6, places=2))
def test_target_bounded_and_monotone(p, target, a, b):
    lo, hi = sorted((a, b))
    ge = Target(p, "报错", "≥", target)
    assert 0 <= ge.score(lo) <= ge.score(hi) <= p
    le = Target(p, "报错", "≤", target)
    assume(lo > 0)
    assert 0 <= le.score(hi) <= le.score(lo) <= p


@given(points, st.decimals(min_value=0, max_value=100, places=1))
def test_deduction_and_threshold_bounded(p, ded):
    assert 0 <= DeductionChecklist(p).score(ded) <= p
    assert Threshold(p, "报错", ">=", D("0.9")).score(ded / 100) in (0, p.quantize(D("0.01")))


@given(st.decimals(min_value=0, max_value=1, places=4))
def test_qualitative_coefficient_bounded(c):
    assert 0 <= Qualitative(D(6)).score(c) <= 6


def test_every_rule_type_has_a_property_or_edge_test():
    tested = {Threshold, Range, Bands, Linear, StepDeduction, Target, GradeTable, DeductionChecklist, Qualitative, Manual}
    assert set(RULE_TYPES.values()) == tested
