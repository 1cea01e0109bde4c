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
    assert i.building_area_control_rate(None, None) is None  # 无楼堂馆所项目
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
