from decimal import Decimal as D

import pytest
from hypothesis import given
from hypothesis import strategies as st

from udfs.numbers import InputError, fmt_pct, fmt_score, parse_number, round2


def test_public_expense_rate_rounds_half_up_not_truncated():
    # 种子 000 印成 171.92%（截断）；本项目规则：四舍五入到 2 位 → 171.93%
    assert fmt_pct(D("39.51") / D("22.98")) == "171.93%"
    assert fmt_pct(D("0.61") / D("1.5")) == "40.67%"  # 种子印成 40.98%


@pytest.mark.parametrize("raw,value", [
    ("95%", D("0.95")), ("95％", D("0.95")), ("９５", D(95)), ("1,234.50", D("1234.50")), ("1，234", D(1234)),
    (" 30人 ", D(30)), (892.35, D("892.35")), (3, D(3)), ("-66.67%", D("-0.6667")), ("－5", D(-5)),
])
def test_parse_understands_what_people_type(raw, value):
    assert parse_number(raw).value == value


@pytest.mark.parametrize("raw", [None, "", "—", "-", "无", "  ", "／"])
def test_blank_tokens(raw):
    assert parse_number(raw).value is None


def test_two_numbers_in_one_cell():
    p = parse_number("3745（2177）")
    assert (p.value, p.alt) == (D(3745), D(2177))
    assert "2177" in p.note


@pytest.mark.parametrize("raw", ["abc", "#DIV/0!", True, "12.3.4"])
def test_bad_input_gives_chinese_message(raw):
    with pytest.raises(InputError) as e:
        parse_number(raw)
    assert any("\u4e00" <= ch <= "\u9fff" for ch in str(e.value))


def test_dates_are_not_numbers():
    import datetime

    with pytest.raises(InputError, match="日期"):
        parse_number(datetime.date(2021, 1, 1))


def test_score_formatting():
    assert fmt_score(D("7.90")) == "7.9" and fmt_score(D("13.00")) == "13" and fmt_score(D("6.5963")) == "6.6"
    assert round2(D("6.595")) == D("6.60") and round2(D("-0.005")) == D("-0.01")


@given(st.decimals(min_value=-10**9, max_value=10**9, places=2, allow_nan=False))
def test_displayed_percentage_round_trips(x):
    # 以 2 位小数显示的百分数，再解析回来等于按同一规则舍入后的比率
    shown = fmt_pct(x / 100)
    assert parse_number(shown).value == round2(x) / 100
