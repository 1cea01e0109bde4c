from decimal import Decimal as D

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from udfs.rule import RuleError
from udfs.scoring import (
    RULE_TYPES,
    Bands,
    DeductionChecklist,
    GradeScale,
    GradeTable,
    Linear,
    Manual,
    Range,
    StepDeduction,
    Threshold,
    rule_from_params,
)
from udfs.targets import Qualitative, Target
from workbook_templates.systems import SYSTEMS

HUNAN_GRADES, ZIZHOU_GRADES, PROJECT_GRADES = (SYSTEMS[k].grades for k in ("hunan-dept", "zizhou-dept", "project"))

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
    # 写明没有扣分（0、无、—）得满分；空白是评价人还没填：未填写，不是满分
    for none in (0, "0", "无", "—", "／"):
        assert DeductionChecklist(D(2)).score(none) == 2
    for blank in ("", "  "):
        with pytest.raises(RuleError, match="实际值未填写"):
            DeductionChecklist(D(2)).score(blank)
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


@pytest.mark.parametrize("rule", [Threshold(D(6), "满分", ">=", D(1)), Manual(D(6), "满分"), Qualitative(D(6), "满分"),
                                  Target(D(6), "满分", "≥", D(1)), GradeTable(D(6), "满分", (("优秀", D(6)),))],
                         ids=lambda r: r.label)
def test_blank_is_unfilled_and_written_none_is_no_base(rule):
    """“无基数时”只适用于写明的“没有”（无、—、不适用）与 0÷0，从不适用于空白：空白是未填写。"""
    for none in ("无", "—", "不适用", "N/A"):
        assert rule.score(none) == 6
    assert Threshold(D(6), "零分", ">=", D(1)).score("无") == 0
    for blank in ("", " ", "\u3000"):
        with pytest.raises(RuleError, match="实际值未填写"):
            rule.score(blank)
    with pytest.raises(RuleError, match="实际值为“无”"):
        Threshold(D(6), "报错", ">=", D(1)).score("无")


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


# ---- 每种规则类型的性质测试（随机参数）：得分在 [0, 分值]、是 0.01 的整数倍、单调规则单调、参数写进单元格再读回
# 是同一规则、经 Excel 单元格函数（float 进出）显示的得分解析回 Decimal 与引擎得分相同 --------------------------------
from udfs.excel import BY_NAME  # noqa: E402
from udfs.numbers import fmt_score, parse_number, round2  # noqa: E402

CENT = D("0.01")
small = st.decimals(min_value=-3, max_value=3, places=3, allow_nan=False, allow_infinity=False)
pts = st.decimals(min_value=D("0.01"), max_value=30, places=2, allow_nan=False, allow_infinity=False)


def _ok(rule, value) -> D:
    """得分的通用性质，返回得分。"""
    s = rule.score(value)
    assert isinstance(s, D) and 0 <= s <= rule.points
    assert s == s.quantize(CENT)  # 每项得分四舍五入到 0.01 分
    # 单元格里显示的数（Excel 的 float）与报告里的文字（fmt_score）都精确还原为同一个 Decimal
    assert D(repr(float(s))) == s and parse_number(fmt_score(s)).value == s
    return s


def _via_excel(rule, value) -> D:
    """同一条规则经单元格函数 SCORE_*（Excel 传 float、参数区域为 list）计算。"""
    params = [float(p) if isinstance(p, D) else p for p in rule.to_params()]
    v = float(value) if isinstance(value, D) else value
    out = BY_NAME[rule.udf].excel(v, float(rule.points), rule.na, params)
    assert isinstance(out, float), out
    return D(repr(out))


@st.composite
def thresholds(draw):
    return Threshold(draw(pts), draw(st.sampled_from(["满分", "零分", "报错"])),
                     draw(st.sampled_from(["<=", "<", ">=", ">", "="])), draw(small))


@given(thresholds(), small, small)
def test_threshold_property(rule, a, b):
    lo, hi = sorted((a, b))
    s_lo, s_hi = _ok(rule, lo), _ok(rule, hi)
    assert {s_lo, s_hi} <= {D(0), rule.points.quantize(CENT)}
    if rule.op in ("<=", "<"):
        assert s_lo >= s_hi
    elif rule.op in (">=", ">"):
        assert s_lo <= s_hi
    assert (rule.score(rule.threshold) == rule.points.quantize(CENT)) == (rule.op in ("<=", ">=", "="))
    assert _via_excel(rule, lo) == s_lo


@given(pts, small, small, small)
def test_range_property(p, a, b, v):
    lo, hi = sorted((a, b))
    rule = Range(p, "报错", lo, hi)
    s = _ok(rule, v)
    assert s == (p.quantize(CENT) if lo <= v <= hi else 0)
    assert _ok(rule, lo) == _ok(rule, hi) == p.quantize(CENT)  # 两端都含
    assert _via_excel(rule, v) == s


@st.composite
def band_tables(draw, descending: bool):
    p = draw(pts)
    n = draw(st.integers(1, 4))
    uppers = sorted(draw(st.lists(small, min_size=n, max_size=n, unique=True)))
    scores = draw(st.lists(st.decimals(min_value=0, max_value=p, places=2), min_size=n + 1, max_size=n + 1))
    if descending:
        scores.sort(reverse=True)
    return Bands(p, "报错", tuple(zip(uppers, scores[:n], strict=False)), scores[n], draw(st.booleans()))


@given(band_tables(descending=False), small)
def test_bands_property(rule, v):
    s = _ok(rule, v)
    x = abs(v) if rule.use_abs else v
    expected = next((sc for up, sc in rule.bands if x <= up), rule.above)  # (上一档上限, 本档上限]，含上限
    assert s == expected.quantize(CENT)
    for up, _sc in rule.bands:
        if not rule.use_abs or up >= 0:
            assert rule.score(up) == next(s2 for u2, s2 in rule.bands if (abs(up) if rule.use_abs else up) <= u2)
    assert _via_excel(rule, v) == s
    assert rule_from_params(rule.label, rule.points, rule.to_params(), rule.na) == rule


@given(band_tables(descending=True), small, small)
def test_bands_with_descending_scores_are_monotone(rule, a, b):
    rule = Bands(rule.points, rule.na, rule.bands, rule.above, False)
    lo, hi = sorted((a, b))
    assert _ok(rule, hi) <= _ok(rule, lo)


@given(pts, small, small, small, small)
def test_linear_property_random_points(p, z, f, a, b):
    assume(z != f)
    rule = Linear(p, "报错", z, f)
    lo, hi = sorted((a, b))
    s_lo, s_hi = _ok(rule, lo), _ok(rule, hi)
    assert (s_lo <= s_hi) if f > z else (s_lo >= s_hi)  # 方向由两点大小决定
    assert rule.score(f) == p.quantize(CENT) and rule.score(z) == 0  # 两点都含
    mid = (z + f) / 2
    assert rule.score(mid) == (p / 2).quantize(CENT, rounding="ROUND_HALF_UP")
    assert _via_excel(rule, lo) == s_lo


@given(pts, small, st.decimals(min_value=D("0.001"), max_value=1, places=3), st.decimals(min_value=0, max_value=5, places=2),
       st.sampled_from(["超出", "低于"]), st.sampled_from(["整步", "进位", "比例"]), small, small)
def test_step_property_random_params(p, base, step, ded, direction, mode, a, b):
    rule = StepDeduction(p, "报错", base, step, ded, direction, mode)
    lo, hi = sorted((a, b))
    s_lo, s_hi = _ok(rule, lo), _ok(rule, hi)
    assert (s_lo >= s_hi) if direction == "超出" else (s_lo <= s_hi)
    assert rule.score(base) == p.quantize(CENT)  # 等于基准得满分
    # 整步 ≥ 比例 ≥ 进位：不足一步不扣 / 按比例 / 按一步扣
    kw = dict(points=p, na="报错", threshold=base, step=step, deduction=ded, direction=direction)
    whole, prop, ceil = (StepDeduction(**kw, mode=m).score(hi) for m in ("整步", "比例", "进位"))
    assert whole >= prop >= ceil
    assert _via_excel(rule, hi) == s_hi


@given(pts, st.sampled_from(["≥", "≤", "="]), st.decimals(min_value=D("0.01"), max_value=10 ** 4, places=2),
       st.decimals(min_value=0, max_value=10 ** 4, places=2))
def test_target_property_all_natures(p, nature, target, v):
    rule = Target(p, "报错", nature, target)
    s = _ok(rule, v)
    assert rule.score(target) == p.quantize(CENT)  # 恰好达标得满分
    if nature == "=":
        assert s <= rule.score(target)
    assert _via_excel(rule, v) == s


@given(pts, st.lists(st.tuples(st.text(alphabet="优良中差好一般较", min_size=1, max_size=3),
                               st.decimals(min_value=0, max_value=1, places=2)), min_size=1, max_size=5,
                     unique_by=lambda t: t[0]))
def test_grade_table_property(p, grades):
    rule = GradeTable(p, "报错", tuple((n, (p * f).quantize(CENT)) for n, f in grades))
    for name, sc in rule.grades:
        assert _ok(rule, name) == sc and _ok(rule, f" {name} ") == sc  # 前后空格不影响
        assert _via_excel(rule, name) == sc
    with pytest.raises(RuleError, match="不在评分标准中"):
        rule.score("不存在的等次")
    assert rule_from_params(rule.label, rule.points, rule.to_params(), rule.na) == rule


@given(pts, st.one_of(st.none(), st.decimals(min_value=0, max_value=3, places=2)),
       st.decimals(min_value=0, max_value=40, places=2), st.decimals(min_value=0, max_value=40, places=2))
def test_deduction_property(p, per, a, b):
    rule = DeductionChecklist(p, "报错", per)
    lo, hi = sorted((a, b))
    assert _ok(rule, hi) <= _ok(rule, lo)  # 扣得越多得分越低，扣完为止
    assert _ok(rule, None) == p.quantize(CENT)  # 空白：未发现问题
    assert rule.score(lo) == round2(max(D(0), p - lo * (per if per is not None else 1)))  # ROUND_HALF_UP
    assert _via_excel(rule, lo) == rule.score(lo)


@given(pts, st.decimals(min_value=0, max_value=1, places=4), st.decimals(min_value=0, max_value=1, places=4))
def test_qualitative_property(p, a, b):
    rule = Qualitative(p)
    lo, hi = sorted((a, b))
    assert _ok(rule, lo) <= _ok(rule, hi)
    levels = [_ok(rule, t) for t in ("达成", "部分达成", "未达成")]
    assert levels == sorted(levels, reverse=True) and levels[0] == p.quantize(CENT)
    assert _ok(rule, f"{hi * 100}%") == rule.score(hi)
    with pytest.raises(RuleError):
        rule.score(D("1.01"))
    assert _via_excel(rule, lo) == rule.score(lo)


@given(pts, st.decimals(min_value=-5, max_value=35, places=2))
def test_manual_property(p, v):
    rule = Manual(p)
    if 0 <= v <= p:
        assert _ok(rule, v) == v.quantize(CENT) and _via_excel(rule, v) == v
    else:
        with pytest.raises(RuleError, match="超出"):
            rule.score(v)
        assert BY_NAME["SCORE_MANUAL"].excel(float(v), float(p), None, []).startswith("错误：")


@given(st.lists(st.decimals(min_value=0, max_value=20, places=4), min_size=1, max_size=30))
def test_totals_are_exact_sums_of_displayed_scores(raw):
    """小计、总分是已舍入得分的精确相加：把报告里显示的每项得分相加，正好等于显示的总分。"""
    shown = [fmt_score(round2(x)) for x in raw]
    total = sum((round2(x) for x in raw), D(0))
    assert sum(parse_number(s).value for s in shown) == total
    assert parse_number(fmt_score(total)).value == total


@given(st.decimals(min_value=0, max_value=100, places=2), st.decimals(min_value=0, max_value=100, places=2))
def test_grade_scales_monotone(a, b):
    lo, hi = sorted((a, b))
    for scale in (HUNAN_GRADES, ZIZHOU_GRADES, PROJECT_GRADES):
        names = [n for _, n in scale.bands]  # 由高到低
        assert names.index(scale.grade(hi)) <= names.index(scale.grade(lo))


def test_every_rule_type_has_a_random_parameter_property_test():
    covered = {Threshold: test_threshold_property, Range: test_range_property, Bands: test_bands_property,
               Linear: test_linear_property_random_points, StepDeduction: test_step_property_random_params,
               Target: test_target_property_all_natures, GradeTable: test_grade_table_property,
               DeductionChecklist: test_deduction_property, Qualitative: test_qualitative_property,
               Manual: test_manual_property}
    assert set(covered) == set(RULE_TYPES.values())
    assert {c.udf for c in covered} <= set(BY_NAME)
