"""条目如人们所写（udfs/entries.py，issue 13 第 3 项）：指标性质的符号与文字、带符号或单位的实际值、时间目标、定性词语。
每种写法一个测试；同一段读法经评分规则（Target、Qualitative）与单元格函数使用，Excel 与 jixiao score 一致；
无界面引擎把每处解释写成点名单元格的“提示”，仍有歧义的写成点名单元格的“错误”——不崩溃、不悄悄给满分。"""
from __future__ import annotations

import datetime as dt
from decimal import Decimal as D

import pytest
from hypothesis import given
from hypothesis import strategies as st

import tests.fixtures_checks as fx
from addin.checks import findings as F
from addin.scoring.reader import load
from udfs.entries import EntryError, TimePoint, completion, read_actual, read_direction, read_target, read_time
from udfs.excel import call
from udfs.indicators import IndicatorError, target_completion
from udfs.rule import RuleError
from udfs.scoring import rule_from_params
from udfs.targets import Qualitative, Target
from udfs.words import DEFAULT_QUALITATIVE_WORDS, read_qualitative, word_pairs

SCORES = "评分表"


# ---------------------------------------------------------------------------------------------- 指标性质
@pytest.mark.parametrize("raw,expected", [
    ("≥", "≥"), ("≧", "≥"), ("⩾", "≥"), ("＞＝", "≥"), (">=", "≥"), ("≤", "≤"), ("≦", "≤"), ("⩽", "≤"), ("＜＝", "≤"),
    ("<=", "≤"), ("=", "="), ("＝", "="), ("═", "="), ("＞", ">"), ("＜", "<"), (">", ">"), ("<", "<"),
    ("不低于", "≥"), ("不少于", "≥"), ("不高于", "≤"), ("不超过", "≤"), ("大于等于", "≥"), ("小于等于", "≤"),
    ("等于", "="), ("大于", ">"), ("小于", "<"), ("高于", ">"), ("低于", "<"), ("定性", "定性"), (" ≥ ", "≥"),
])
def test_direction_symbols_and_words(raw, expected):
    r = read_direction(raw)
    assert r.value == expected
    # 不是标准写法就说明按哪个符号计算；标准写法不啰嗦
    assert (r.note == "") == (raw.strip() == expected)
    if r.note:
        assert raw.strip() in r.note and expected in r.note


@pytest.mark.parametrize("raw", ["大约", "5", "≥≤", "看情况"])
def test_unknown_direction_is_an_error(raw):
    with pytest.raises(EntryError, match="指标性质"):
        read_direction(raw)


@pytest.mark.parametrize("nature", ["不低于", "＞＝", "≧", "⩾"])
def test_direction_words_score_like_the_symbol(nature):
    assert rule_from_params("目标比较", 10, [nature, 100]).score(D(80)) == Target(D(10), "报错", "≥", D(100)).score(D(80))


def test_strict_directions_are_real():
    gt = rule_from_params("目标比较", 10, [">", D("0.95")])
    assert gt.nature == ">"
    assert completion(">", D("0.95"), D("0.96")).met and not completion(">", D("0.95"), D("0.95")).met
    assert not completion("<", D(5), D(5)).met and completion("<", D(5), D(4)).met
    assert gt.score(D("0.9")) == (D(10) * D("0.9") / D("0.95")).quantize(D("0.01"))
    # 恰好相等：未达到严格方向，按比例仍为 100%——说明中指出，请评价人确认（不是悄悄的满分）
    assert "未达到“>”" in gt.interpret(D("0.95"))
    assert call("SCORE_TARGET", 0.9, 10.0, "报错", ["＞", 0.95]) == float(gt.score(D("0.9")))


# ---------------------------------------------------------------------------------------------- 指标值
@pytest.mark.parametrize("nature,target,direction,value,unit", [
    ("≥", "≥95%", "≥", D("0.95"), ""), (None, "≥95%", "≥", D("0.95"), ""), (None, "95%以上", "≥", D("0.95"), ""),
    ("≤", "控制在5%以内", "≤", D("0.05"), ""), ("不低于", "7200小时", "≥", D(7200), "小时"),
    ("≤", "≤60分钟", "≤", D(60), "分钟"), (None, "不超过3.5万元", "≤", D("3.5"), "万元"), ("≥", 0.95, "≥", D("0.95"), ""),
])
def test_targets_with_the_direction_or_unit_inside(nature, target, direction, value, unit):
    d, t, u, notes = read_target(nature, target)
    assert (d, t, u) == (direction, value, unit)
    assert bool(notes) == isinstance(target, str) or nature == "不低于"


@pytest.mark.parametrize("nature,target,match", [
    ("≤", "≥95%", "方向相反"), (None, 0.95, "指标性质未填写"), ("≥", "约300", "约数"), ("≥", "—", "未填写"),
    ("≥", "6月底前", "越早越好"), (">", "年底前", "越早越好"), ("≥", "较多", "无法识别"),
])
def test_ambiguous_targets_are_errors(nature, target, match):
    with pytest.raises(EntryError, match=match):
        read_target(nature, target)
    with pytest.raises(RuleError):
        rule_from_params("目标比较", 5, [nature, target])


# ---------------------------------------------------------------------------------------------- 实际完成值
@pytest.mark.parametrize("raw,direction,target,unit,value", [
    ("≥300米", "≥", D(300), "米", D(300)), ("≤5%", "≤", D("0.05"), "", D("0.05")), ("100%", "≥", D(1), "", D(1)),
    ("1200人次", "≥", D(1000), "", D(1200)), ("98.5分", "≥", D(95), "", D("98.5")), ("3.5万元", "≤", D(4), "万元", D("3.5")),
    ("＞＝300米", "≥", D(300), "米", D(300)), ("不低于300米", "≥", D(300), "米", D(300)), ("１,２００人", "≥", D(1000), "", D(1200)),
])
def test_actual_values_with_sign_or_unit(raw, direction, target, unit, value):
    r = read_actual(raw, direction, target, unit)
    assert r.value == value
    assert r.note.startswith(f"‘{raw}’按 ") and "计算" in r.note


@pytest.mark.parametrize("raw,match", [
    ("约300", "约数"), ("300左右", "约数"), ("300以上", "约数"), ("300余人", "约数"), ("大部分", "是文字"),
    ("已完成", "是文字"), ("0.3公里", "单位"), ("≤300", "不一致"), ("6月", "是时间"), (dt.datetime(2023, 6, 1), "日期"),
    ("—", "未填写"), (True, "逻辑值"),
])
def test_ambiguous_actual_values_are_errors(raw, match):
    with pytest.raises(EntryError, match=match):
        read_actual(raw, "≥", D(300), "米")


def test_ambiguous_actual_is_never_a_full_mark_or_a_crash():
    rule = rule_from_params("目标比较", 5, ["≥", "300米"])
    for raw in ("约300", "大部分", "已完成"):
        with pytest.raises(RuleError):
            rule.score(raw)
        text = call("SCORE_TARGET", raw, 5.0, "报错", ["≥", "300米"])
        assert isinstance(text, str) and text.startswith("错误：")


# ---------------------------------------------------------------------------------------------- 时间目标
@pytest.mark.parametrize("raw,year,month,day", [
    ("6月底前", None, 6, None), ("10月前", None, 10, None), ("11月", None, 11, None), ("2023年11月", 2023, 11, None),
    ("2023年6月16日", 2023, 6, 16), (dt.datetime(2023, 6, 16), 2023, 6, 16), (dt.date(2023, 9, 30), 2023, 9, 30),
    ("十月底前完成", None, 10, None), ("2023-06-16", 2023, 6, 16), ("2023.6", 2023, 6, None), ("年底前", None, 12, None),
    ("上半年", None, 6, None), ("第三季度", None, 9, None), ("6月中旬", None, 6, 20), ("≤6月", None, 6, None),
    ("６月底前", None, 6, None),
])
def test_time_forms(raw, year, month, day):
    assert read_time(raw) == TimePoint(year, month, day)


@pytest.mark.parametrize("raw", ["95%", "300米", "达成", "13月", 2023])
def test_not_times(raw):
    if raw == "13月":
        with pytest.raises(EntryError, match="月份"):
            read_time(raw)
    else:
        assert read_time(raw) is None


@pytest.mark.parametrize("target,actual,met,ratio", [
    ("6月底前", "6月", True, D(1)), ("6月底前", "5月20日", True, D(1)), ("6月底前", "2023年8月", False, D(6) / 8),
    ("10月前", dt.datetime(2023, 9, 3), True, D(1)), ("11月", "2023年11月", True, D(1)), ("11月", "12月", False, D(11) / 12),
    ("2023年11月", "2024年2月", False, D(11) / 14), ("2023年6月16日", "2023年6月16日", True, D(1)),
    ("2023年6月16日", "6月20日", False, D(167) / 171), ("2023年6月16日", "6月", True, D(1)),
    (dt.datetime(2023, 6, 30), "2023年7月1日", False, D(181) / 182), ("10月前", "按时完成", True, D(1)),
])
def test_time_targets_earlier_is_better(target, actual, met, ratio):
    d, t, _, notes = read_target("≤", target)
    c = completion(d, t, actual)
    assert (c.met, c.ratio) == (met, ratio)
    assert notes and "越早越好" in notes[-1][1]


def test_time_target_against_a_number_is_an_error():
    rule = rule_from_params("目标比较", 5, ["≤", "6月底前"])
    with pytest.raises(RuleError, match="时间.*数字"):
        rule.score(D(300))
    assert call("TARGET_COMPLETION", "≤", "6月底前", 300.0).startswith("错误：")
    with pytest.raises(IndicatorError):
        target_completion("≤", "6月底前", 6)


@given(st.integers(1, 12), st.integers(1, 12), st.integers(1, 28))
def test_time_completion_is_monotone(target_month, m, day):
    """完成得越晚，完成程度不会越高；不晚于目标月为 100%。"""
    rule = rule_from_params("目标比较", 10, ["≤", f"{target_month}月底前"])
    earlier, later = (min(m, 12), day), (min(m + 1, 12), day)
    s1 = rule.score(f"{earlier[0]}月{earlier[1]}日")
    s2 = rule.score(f"{later[0]}月{later[1]}日")
    assert s2 <= s1 <= 10
    assert (s1 == 10) == (earlier[0] <= target_month)


# ---------------------------------------------------------------------------------------------- 定性词语
@pytest.mark.parametrize("word,band", [
    ("达成", "达成"), ("已完成", "达成"), ("完成", "达成"), ("有效", "达成"), ("显著", "达成"), ("明显", "达成"),
    ("良好", "达成"), ("较好", "达成"), ("部分达成", "部分达成"), ("基本完成", "部分达成"), ("基本达成", "部分达成"),
    ("部分完成", "部分达成"), ("未达成", "未达成"), ("未完成", "未达成"), (" 已完成。", "达成"),
])
def test_qualitative_words_map_to_three_bands(word, band):
    r = read_qualitative(word)
    assert r.value == band
    assert (r.note == "") == (word == band)
    # 评分：取该档上限（达成 100%、部分达成 80%、未达成 60%）
    expected = {"达成": D(10), "部分达成": D(8), "未达成": D(6)}[band]
    assert Qualitative(D(10)).score(word) == expected
    assert rule_from_params("目标比较", 10, ["定性", "有所提高"]).score(word) == expected


def test_the_word_list_is_the_users():
    words = [["完全达成", "达成"], ["较好", "部分达成"], [None, None]]
    rule = rule_from_params("定性三档", 10, [], None, words)
    assert rule.score("完全达成") == 10 and rule.score("较好") == 8
    with pytest.raises(RuleError, match="不在定性词表中"):  # 用户删去了“良好”
        rule.score("良好")
    assert rule.score("部分达成") == 8  # 三档名称始终有效
    # 单元格函数收到区域（嵌套 list）：与 jixiao 同样的结果；省略该参数（旧工作簿）用内置词表
    assert call("SCORE_QUALITATIVE", "较好", 10.0, "报错", None, words) == 8.0
    assert call("SCORE_QUALITATIVE", "较好", 10.0, "报错", None) == 10.0
    assert call("SCORE", "完全达成", 10.0, "目标比较", "报错", ["定性", "提高"], words) == 10.0
    bad = call("SCORE_QUALITATIVE", "达成", 10.0, "报错", None, [["良好", "好"]])
    assert bad.startswith("错误：定性词表中“良好”的档次“好”无效")


def test_unknown_word_or_vague_quantity_is_an_error():
    for raw in ("大部分", "还行"):
        with pytest.raises(EntryError, match="不在定性词表中"):
            read_qualitative(raw)
    assert word_pairs([["a", "达成", "b", "未达成"]]) == (("a", "达成"), ("b", "未达成"))
    assert len(DEFAULT_QUALITATIVE_WORDS) == len({w for w, _ in DEFAULT_QUALITATIVE_WORDS})


# ---------------------------------------------------------------------------------------------- 性质测试
_SIGNS = {"≥": ["≥", "＞＝", ">=", "不低于", ""], "≤": ["≤", "＜＝", "<=", "不超过", ""]}


@given(st.sampled_from(["≥", "≤"]), st.decimals(min_value=0, max_value=10 ** 6, places=2),
       st.sampled_from(["", "米", "人次", "分", "万元", "%"]), st.data())
def test_actual_with_copied_sign_and_unit_reads_as_the_number(direction, v, unit, data):
    sign = data.draw(st.sampled_from(_SIGNS[direction]))
    raw = f"{sign}{v}{unit}"
    r = read_actual(raw, direction, D(1), "" if unit == "%" else unit)
    assert r.value == (v / 100 if unit == "%" else v)
    assert (r.note != "") == (bool(sign) or bool(unit))
    # 同一实际值，写成数字与写成带符号/单位的文本，得分相同
    rule = Target(D(10), "报错", direction, D(500), unit="" if unit == "%" else unit)
    assert rule.score(raw) == rule.score(r.value)


# ---------------------------------------------------------------------------------------------- jixiao score：提示与错误点名单元格
def test_entries_typed_in_a_project_table(tmp_path, capsys):
    """石屏 2022 的项目自评表里，按真实表格的写法填写指标性质、指标值与实际值（黄色、绿色单元格）。"""
    p = fx.build(fx.SHIPING_2022, tmp_path)
    _, inputs = load(p)
    row = {r.code: r for r in inputs.rows}
    edits = {
        (SCORES, row["P04"].cells["p1"]): "不低于", (SCORES, row["P04"].cells["p2"]): "≥90%",
        (SCORES, row["P04"].cells["value"]): "≥95%",
        (SCORES, row["P05"].cells["p1"]): None, (SCORES, row["P05"].cells["p2"]): "6月底前",
        (SCORES, row["P05"].cells["value"]): "2022年8月",
        (SCORES, row["P03"].cells["value"]): "已完成",
        (SCORES, row["P06"].cells["value"]): "约95%",
    }
    fx.edit_cells(p, edits)
    _, out = fx.score_json(p, capsys)
    by = {i["code"]: i for i in out["indicators"]}
    notes = {(f["cell"]): f for f in out["findings"] if f["code"] == "entry-interpreted"}
    assert notes[row["P04"].cells["p1"]]["severity"] == F.INFO and "‘不低于’按“≥”计算" in notes[row["P04"].cells["p1"]]["message"]
    assert "‘≥95%’按 95% 计算" in notes[row["P04"].cells["value"]]["message"]
    assert by["P04"]["computed_score"] == by["P04"]["max"]  # 95% ≥ 90%
    assert "越早越好" in notes[row["P05"].cells["p2"]]["message"]
    assert by["P05"]["computed_score"] == pytest.approx(float((D(by["P05"]["max"]) * 6 / 8).quantize(D("0.01"))))
    assert "‘已完成’按“达成”计算" in notes[row["P03"].cells["value"]]["message"]
    # “约95%”：错误，点名实际值单元格；该指标无法计分，不是满分
    err = [f for f in out["findings"] if f["code"] == "value-error" and f["cell"] == row["P06"].cells["value"]]
    assert err and err[0]["severity"] == F.ERROR and "约数" in err[0]["message"]
    assert by["P06"]["score"] is None
