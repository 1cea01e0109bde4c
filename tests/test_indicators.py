from decimal import Decimal as D

import pytest

from udfs import indicators as i
from udfs.indicators import IndicatorError
from udfs.numbers import fmt_pct


def test_seed000_indicators():
    assert i.staff_control_rate(33, 33) == 1
    assert round(i.sangong_change_rate("1.5", "4.5"), 4) == D("-0.6667")
    assert i.budget_completion_rate(0, "892.35", "90.29", 0) == 1
    assert round(i.budget_control_rate("90.29", "892.35") * 100, 2) == D("10.12")
    assert i.building_area_control_rate("无", "无") is None  # 无楼堂馆所项目（写明“无”）
    assert i.procurement_execution_rate(0, 0) is None  # 0 ÷ 0：无预算无采购
    assert round(i.sangong_control_rate("0.61", "1.5") * 100, 2) == D("40.67")
    assert fmt_pct(i.satisfaction("0.9493", "0.946", "0.942")) == "94.73%"  # ROUND_HALF_UP


def test_seed001_indicators():
    assert round(i.budget_completion_rate_zz("3296.75", "3642.94") * 100, 2) == D("90.50")
    assert round(i.carryover_rate("7.77", "341.89", "3642.94") * 100, 2) == D("-9.17")
    assert round(i.carryover_change_rate("7.77", "341.89") * 100, 2) == D("-97.73")
    assert round(i.public_expense_control_rate("37.3", "10.5") * 100, 2) == D("355.24")
    assert round(i.public_expense_change_rate("37.3", "178.42") * 100, 2) == D("-79.09")
    assert i.initial_budget_arrival_rate("1826.09", "1826.09") == 1
    assert i.receivables_change_rate("0.01", "0.01") == 0
    assert i.debt_status(0, 0) == "无债务" and i.debt_status(5, 5) == "未变动" and i.debt_status(5, 6) == "增加"
    assert i.asset_utilization_rate(0, "44.49") == 1
    assert i.overstaffing(7, 6) == 0 and i.overstaffing(7, 9) == 2


def test_zero_denominator_with_activity_is_an_error_not_a_number():
    with pytest.raises(IndicatorError, match="政府采购预算数为 0"):
        i.procurement_execution_rate(5, 0)
    with pytest.raises(IndicatorError, match="编制数为 0"):
        i.staff_control_rate(3, 0)


def test_missing_required_input_names_the_item():
    with pytest.raises(IndicatorError, match="上年度“三公经费”预算数未填写"):
        i.sangong_change_rate(1, None)


def test_satisfaction_weights_are_arguments():
    assert i.satisfaction("0.9", "0.8", "0.7", "0.6", "0.3", "0.1") == D("0.9") * D("0.6") + D("0.8") * D("0.3") + D("0.07")
    with pytest.raises(IndicatorError, match="权重合计"):
        i.satisfaction(1, 1, 1, "0.5", "0.5", "0.5")


@pytest.mark.parametrize("basis,expected", [("全年预算数", D("0.8")), ("实际到位资金", D("0.9")), ("调整后预算数", D("0.75")),
                                            ("年初预算数", D("1.2"))])
def test_execution_rate_denominator_is_selectable(basis, expected):
    # 执行 72：实际到位 80、全年预算 90、调整后 96、年初 60
    assert i.budget_execution_rate_by(basis, 72, 80, 90, 96, 60) == expected


@pytest.mark.parametrize("direction,target,actual,expected", [
    ("≥", "90%", "100%", D(1) / D("0.9")), ("≥", 7200, 7200, 1), ("≥", 100, 80, D("0.8")),
    ("≤", 60, 10, 1), ("≤", 60, 75, D("0.8")), ("=", 1, 1, 1), ("=", 100, 98, D("0.98")), ("=", 100, 102, D(100) / 102),
])
def test_target_completion(direction, target, actual, expected):
    assert i.target_completion(direction, target, actual) == expected


# ---- 性质测试（hypothesis）：每个指标函数 ------------------------------------------------------------------------
# 精确性：结果就是定义式的 Decimal 值；0÷0 为“不适用”(None) 或中文错误，x÷0 一律是中文错误；单调性；
# Excel 传入的浮点数（892.35）与手填的 Decimal 得到同一结果；显示的百分数（2 位小数，四舍五入）解析回来不差一分一厘。
from hypothesis import assume, given  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

from udfs.numbers import parse_number, round2  # noqa: E402

money = st.decimals(min_value=0, max_value=10 ** 9, places=2, allow_nan=False, allow_infinity=False)
pos_money = st.decimals(min_value=D("0.01"), max_value=10 ** 9, places=2, allow_nan=False, allow_infinity=False)
rate01 = st.decimals(min_value=0, max_value=1, places=4, allow_nan=False, allow_infinity=False)

# (函数, 0÷0 时是否“不适用”)：分子 ÷ 分母
RATIOS = [
    (i.staff_control_rate, False), (i.budget_completion_rate_zz, False), (i.budget_control_rate, False),
    (i.building_area_control_rate, True), (i.building_investment_control_rate, True),
    (i.public_expense_control_rate, False), (i.sangong_control_rate, True), (i.procurement_execution_rate, True),
    (i.initial_budget_arrival_rate, False), (i.key_work_completion_rate, False), (i.budget_execution_rate, False),
]
CHANGES = [i.sangong_change_rate, i.public_expense_change_rate, i.carryover_change_rate, i.receivables_change_rate]
CHINESE = "\u4e00-\u9fff"


def _shown_round_trips(rate: D) -> None:
    """报告与单元格显示的百分数（fmt_pct）解析回来 = 按 ROUND_HALF_UP 舍入到 0.01% 的比率，误差不超过半个末位。"""
    shown = fmt_pct(rate)
    back = parse_number(shown).value
    assert back == round2(rate * 100) / 100
    assert abs(back - rate) <= D("0.00005")


@pytest.mark.parametrize("f, na", RATIOS, ids=lambda x: getattr(x, "__name__", str(x)))
@given(n1=money, n2=money, den=pos_money)
def test_ratio_indicators_exact_monotone_and_float_safe(f, na, n1, n2, den):
    lo, hi = sorted((n1, n2))
    r_lo, r_hi = f(lo, den), f(hi, den)
    assert r_lo == lo / den and r_hi == hi / den  # 精确的 Decimal 商，没有中途舍入
    assert 0 <= r_lo <= r_hi  # 分子越大比率越大
    assert f(float(hi), float(den)) == r_hi  # Excel 传来的是 float：最短十进制表示，与 Decimal 输入一致
    assert f(str(hi), f"{den:,}") == r_hi  # 文本数字、千分位
    _shown_round_trips(r_hi)


@pytest.mark.parametrize("f, na", RATIOS, ids=lambda x: getattr(x, "__name__", str(x)))
@given(n=pos_money)
def test_ratio_indicators_zero_denominator(f, na, n):
    if na:
        assert f(0, 0) is None  # 0÷0：无基数，由“无基数时”决定得分
    else:
        with pytest.raises(i.IndicatorError, match=f"[{CHINESE}]+"):
            f(0, 0)
    with pytest.raises(i.IndicatorError, match="为 0"):  # x÷0：绝不给出一个误导性的数字
        f(n, 0)


@pytest.mark.parametrize("f", CHANGES, ids=lambda f: f.__name__)
@given(a=money, b=money, prev=pos_money)
def test_change_rates_exact_monotone_and_bounded_below(f, a, b, prev):
    lo, hi = sorted((a, b))
    assert f(lo, prev) == (lo - prev) / prev
    assert -1 <= f(lo, prev) <= f(hi, prev)  # 本年不为负时降幅不超过 100%
    assert f(float(hi), float(prev)) == f(hi, prev)
    _shown_round_trips(f(hi, prev))
    assert f(0, 0) is None
    if hi > 0:
        with pytest.raises(i.IndicatorError, match="变动率无法计算"):
            f(hi, 0)


@given(cb=money, bi=pos_money, ba=money, ce1=money, ce2=money)
def test_budget_completion_hunan(cb, bi, ba, ce1, ce2):
    den = cb + bi + ba
    lo, hi = sorted((ce1, ce2))
    assume(hi <= den)
    assert i.budget_completion_rate(cb, bi, ba, lo) == (den - lo) / den
    assert 0 <= i.budget_completion_rate(cb, bi, ba, hi) <= i.budget_completion_rate(cb, bi, ba, lo) <= 1
    assert i.budget_completion_rate("无", bi, 0, "—") == 1  # 写明没有的结转、追加按 0
    with pytest.raises(IndicatorError, match="上年结转和结余未填写"):
        i.budget_completion_rate(None, bi, 0, 0)  # 空白不是 0
    _shown_round_trips(i.budget_completion_rate(cb, bi, ba, lo))


@given(cum=money, beg=money, income=pos_money)
def test_carryover_rate(cum, beg, income):
    assert i.carryover_rate(cum, beg, income) == (cum - beg) / income
    _shown_round_trips(i.carryover_rate(cum, beg, income))
    with pytest.raises(i.IndicatorError, match="本年收入合计数"):
        i.carryover_rate(cum, beg, 0)  # 无收入：即使结转结余也为 0 也不能算（不是“不适用”）


@given(begin=money, end=money)
def test_debt_status_is_a_total_classification(begin, end):
    s = i.debt_status(begin, end)
    expected = "无债务" if begin == end == 0 else "减少" if end < begin else "未变动" if end == begin else "增加"
    assert s == expected


@given(a=money, b=money, book=pos_money)
def test_asset_use_rate_bounded_and_decreasing_in_idle(a, b, book):
    lo, hi = sorted((a, b))
    assume(hi <= book)
    assert 0 <= i.asset_utilization_rate(hi, book) <= i.asset_utilization_rate(lo, book) <= 1
    assert i.asset_utilization_rate(lo, book) == 1 - lo / book
    with pytest.raises(i.IndicatorError, match="账面资产总额为 0"):
        i.asset_utilization_rate(lo, 0)


@given(s=rate01, p=rate01, f=rate01, w1=st.integers(0, 100), w2=st.integers(0, 100))
def test_satisfaction_is_a_weighted_mean(s, p, f, w1, w2):
    assume(w1 + w2 <= 100)
    ws = (D(w1) / 100, D(w2) / 100, D(100 - w1 - w2) / 100)
    r = i.satisfaction(s, p, f, *ws)
    assert r == s * ws[0] + p * ws[1] + f * ws[2]
    assert min(s, p, f) <= r <= max(s, p, f)
    assert i.satisfaction(float(s), float(p), float(f)) == i.satisfaction(s, p, f)  # 默认权重 50/40/10
    _shown_round_trips(r)


@given(executed=money, dens=st.lists(pos_money, min_size=4, max_size=4), k=st.integers(0, 3))
def test_execution_rate_uses_the_chosen_denominator(executed, dens, k):
    basis = ["实际到位资金", "全年预算数", "调整后预算数", "年初预算数"][k]
    assert i.execution_denominator(basis, *dens) == dens[k]
    assert i.budget_execution_rate_by(basis, executed, *dens) == executed / dens[k]
    assert i.budget_execution_rate(executed, dens[k]) == executed / dens[k]


@given(q=st.integers(0, 10 ** 6), a=st.integers(0, 10 ** 6))
def test_overstaffing(q, a):
    assert i.overstaffing(q, a) == max(0, a - q) and i.overstaffing(float(q), float(a)) == max(0, a - q)


@given(t=pos_money, a=money, b=money)
def test_target_completion_directions(t, a, b):
    lo, hi = sorted((a, b))
    assert 0 <= i.target_completion("≥", t, lo) <= i.target_completion("≥", t, hi)  # 越多越好
    assert i.target_completion("≥", t, hi) == hi / t
    assert 0 <= i.target_completion("≤", t, hi) <= i.target_completion("≤", t, lo) <= 1  # 越少越好
    assert i.target_completion("=", t, t) == 1 and 0 <= i.target_completion("=", t, hi) <= 1


def test_every_indicator_has_a_property_test():
    covered = {f for f, _ in RATIOS} | set(CHANGES) | {
        i.budget_completion_rate, i.carryover_rate, i.debt_status, i.asset_utilization_rate, i.satisfaction,
        i.execution_denominator, i.budget_execution_rate_by, i.overstaffing, i.target_completion, i.derived_budget_added}
    public = {getattr(i, n) for n in i.__all__ if callable(getattr(i, n)) and not isinstance(getattr(i, n), type)}
    assert public == covered, {f.__name__ for f in public ^ covered}


# ---- 空白不是零：未填写（None、空串、空格）≠ 写明的没有（0、无、—）------------------------------------------------
BLANKS = [None, "", "   ", "\u3000"]
NONES = [0, "0", "无", "—", "-", "／", "不适用"]


@pytest.mark.parametrize("f, na", RATIOS, ids=lambda x: getattr(x, "__name__", str(x)))
def test_blank_input_is_unfilled_and_names_the_argument(f, na):
    for blank in BLANKS:
        for k in range(2):
            args = [D(5), D(8)]
            args[k] = blank
            with pytest.raises(IndicatorError, match="未填写") as e:
                f(*args)
            assert (e.value.arg_index, e.value.code) == (k, "missing")


@pytest.mark.parametrize("none", NONES)
def test_explicit_none_is_zero(none):
    # 楼堂馆所、政府采购、三公：两项都写明“没有”是 0 ÷ 0，不适用（由“无基数时”定分）
    for f in (i.building_area_control_rate, i.building_investment_control_rate, i.procurement_execution_rate,
              i.sangong_control_rate):
        assert f(none, none) is None
        assert f(none, 50) == 0  # 有预算、写明没有执行：0%，不是“未填写”
    assert i.debt_status(none, none) == "无债务"
    assert i.asset_utilization_rate(none, 10) == 1


def test_zero_denominator_error_names_the_denominator():
    with pytest.raises(IndicatorError) as e:
        i.procurement_execution_rate(5, "无")
    assert (e.value.arg_index, e.value.code) == (1, "zero-denominator")
    with pytest.raises(IndicatorError) as e:
        i.budget_execution_rate_by("实际到位资金", 10, 0, 90, 96, 60)
    assert (e.value.arg_index, e.value.code) == (2, "zero-denominator")
    with pytest.raises(IndicatorError) as e:
        i.budget_execution_rate_by("年初预算数", 10, 80, 90, 96, None)
    assert (e.value.arg_index, e.value.code) == (5, "missing")


def test_satisfaction_written_as_none_is_not_zero_percent():
    with pytest.raises(IndicatorError, match="服务对象满意度写作“—”") as e:
        i.satisfaction("—", "0.9", "0.9")
    assert e.value.arg_index == 0


def test_kaifu_blank_budget_added_is_derived_from_adjusted_budget():
    """开福区 2020：本年追加预算数空白，本年调整预算数 3951、年初预算数 3691 → 追加 260，预算控制率 7.04%（不是 0%）。"""
    assert i.derived_budget_added(None, 3691, 3951, 0, 1, 2) == (D(260), D(3691), True)
    assert i.budget_control_rate(None, 3691, 3951) == D(260) / D(3691)
    assert fmt_pct(i.budget_control_rate("", 3691, 3951)) == "7.04%"
    assert i.budget_completion_rate(0, 3691, None, 0, 3951) == 1
    # 填写了追加数就用填写的数（包括写明的 0/无：那是“没有追加”，与调整数不符由校验指出）
    assert i.budget_control_rate(100, 3691, 3951) == D(100) / D(3691)
    assert i.budget_control_rate("无", 3691, 3951) == 0
    # 追加与调整数都空白（或调整数为 0）：未填写，绝不是 0% 满分
    for adjusted in (None, "", 0, "无"):
        with pytest.raises(IndicatorError, match="本年追加预算数未填写") as e:
            i.budget_control_rate(None, 3691, adjusted)
        assert (e.value.arg_index, e.value.code) == (0, "missing")
    with pytest.raises(IndicatorError) as e:
        i.budget_completion_rate(0, 3691, None, 0)
    assert (e.value.arg_index, e.value.code) == (2, "missing")


@given(initial=pos_money, adjusted=pos_money, added=money)
def test_derived_budget_added_property(initial, adjusted, added):
    assert i.derived_budget_added(None, initial, adjusted, 0, 1, 2) == (adjusted - initial, initial, True)
    assert i.derived_budget_added(added, initial, adjusted, 0, 1, 2) == (added, initial, False)
    assert i.budget_control_rate(None, float(initial), float(adjusted)) == (adjusted - initial) / initial
