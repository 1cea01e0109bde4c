"""计分的缓存（addin/scoring/score_cache.py，以及 udfs 中按原值缓存的规则、解析结果与词表）不改变任何结果：
命中缓存与从头计算得到的计分结果、发现逐项相同；相等而写法不同的原值（1、1.0、TRUE；0.0 与 -0.0）不会共用一条缓存。"""
from __future__ import annotations

import copy
from decimal import Decimal as D

import pytest

from addin.model import Formula
from addin.scoring import score_cache
from addin.scoring.engine import evaluate
from addin.scoring.reader import load
from udfs import numbers, scoring, words
from udfs.rule import RuleError
from udfs.scoring import cached_rule, rule_from_params
from workbook_templates.examples import EXAMPLES
from workbook_templates.systems import SYSTEMS


def _clear_caches() -> None:
    score_cache._CACHE.clear()
    score_cache._SCALES.clear()
    score_cache._hashed.cache_clear()
    scoring._RULES.clear()
    scoring._RULES_WORDED.clear()
    for cache in numbers._PARSED.values():
        cache.clear()
    words._cached_table.cache_clear()


def _snapshot(ev) -> str:
    """计分结果的全部内容（含每条发现、每个指标的规则与单元格）。"""
    fields = {k: v for k, v in vars(ev).items() if k != "inputs"}
    return repr(fields)


def _read(demo_dir, name: str):
    """从示例工作簿读出的输入（与命令行、批量处理相同的读法：单元格原值是 int、float、str）。"""
    inputs = load(demo_dir / f"{name}.xlsx")[1]
    return inputs, SYSTEMS[inputs.system_key]


def _typed(inputs) -> list:
    return [r for r in inputs.rows if not isinstance(r.value, Formula)]


@pytest.mark.parametrize("name", sorted(EXAMPLES))
def test_a_cache_hit_gives_the_same_evaluation_as_computing_from_scratch(demo_dir, name):
    inputs, system = _read(demo_dir, name)
    _clear_caches()
    cold = _snapshot(evaluate(copy.deepcopy(inputs), system))
    assert len(score_cache._CACHE) == sum(1 for r in _typed(inputs))  # 手填实际值的行都进了缓存
    warm = _snapshot(evaluate(inputs, system))
    assert warm == cold


def test_a_changed_cell_is_not_answered_from_the_cache(demo_dir):
    """同一行改了实际值、参数、无基数时或引用的单元格：不命中，照新内容计分（与清空缓存后计分相同）。"""
    inputs, system = _read(demo_dir, "baojing-2018")
    evaluate(copy.deepcopy(inputs), system)  # 先把各行放进缓存
    typed = _typed(inputs)
    typed[0].value = 0
    typed[1].params[0] = "无"
    typed[2].na = "零分"
    typed[3].cells["value"] = "Z99"
    changed = copy.deepcopy(inputs)
    hits = len(score_cache._CACHE)
    warm = _snapshot(evaluate(inputs, system))
    assert len(score_cache._CACHE) == hits + 4  # 改过的四行各是新的一条
    _clear_caches()
    assert _snapshot(evaluate(changed, system)) == warm


@pytest.mark.parametrize("a, b", [(1, 1.0), (1, True), (5, "5"), ("良好", " 良好")])
def test_equal_values_written_differently_do_not_share_a_key(demo_dir, a, b):
    inputs, system = _read(demo_dir, "baojing-2018")
    row = _typed(inputs)[0]
    other = copy.copy(row)
    row.value, other.value = a, b
    ka, kb = score_cache.row_key(system, row, None), score_cache.row_key(system, other, None)
    assert ka is not None and kb is not None and ka != kb


def test_rows_that_cannot_be_compared_safely_are_not_cached(demo_dir):
    inputs, system = _read(demo_dir, "baojing-2018")
    formula_row = next(r for r in inputs.rows if isinstance(r.value, Formula))
    assert score_cache.row_key(system, formula_row, None) is None  # 实际值是公式：取决于工作簿的其他格
    row = _typed(inputs)[0]
    assert score_cache.row_key(system, row, None) is not None
    for value in (D("1"), -0.0, 0.0):  # Decimal 1 与 1.0 相等而显示不同；0.0 与 -0.0 相等而读数不同
        row.value = value
        assert score_cache.row_key(system, row, None) is None


def test_the_word_table_is_in_the_key_only_where_the_rule_uses_it(demo_dir):
    inputs, system = _read(demo_dir, "shiping-2022")
    table = score_cache.words_key((("达成", "达成"),))
    other = score_cache.words_key((("完成", "达成"),))
    assert table is not None and table is score_cache.words_key((("达成", "达成"),))  # 同一张词表同一个对象
    worded = next(r for r in _typed(inputs) if str(r.rule_label).strip() in score_cache.WORDED_LABELS)
    assert score_cache.row_key(system, worded, table) != score_cache.row_key(system, worded, other)
    assert score_cache.row_key(system, worded, False) is None  # 词表读不出：照常计分并报告，不缓存
    assert score_cache.words_key((("#REF!", "达成"),)) is False
    inputs, system = _read(demo_dir, "baojing-2018")
    plain = next(r for r in _typed(inputs) if str(r.rule_label).strip() not in score_cache.WORDED_LABELS)
    assert score_cache.row_key(system, plain, table) == score_cache.row_key(system, plain, other)


@pytest.mark.parametrize("label, points, params", [
    ("达标满分", D("5"), ["≤", 1]), ("达标满分", D("5.0"), ["≤", 1.0]), ("分档", D("5"), [0, 5, 0.1, 4, 0.2, 3]),
    ("目标比较", D("10"), ["≥", "300米"]), ("定性三档", D("3"), []), ("按步扣分", D("4"), [1, 0.01, 0.5, "超出", "整步"]),
])
def test_cached_rules_equal_freshly_built_ones(label, points, params):
    _clear_caches()
    fresh = rule_from_params(label, points, params, "满分", (("较好", "达成"),))
    for _ in range(2):  # 第二次命中缓存
        got = cached_rule(label, points, params, "满分", (("较好", "达成"),))
        assert got == fresh and repr(got) == repr(fresh)


def test_a_rule_that_cannot_be_built_raises_every_time():
    for _ in range(2):
        with pytest.raises(RuleError) as exc:
            cached_rule("达标满分", D(5), ["≤", "abc"])
        assert exc.value.param == 1


def test_parse_number_results_are_shared_only_between_identical_values():
    assert numbers.parse_number(1).value == D(1) and str(numbers.parse_number(1.0).value) == "1.0"
    assert str(numbers.parse_number(-0.0).value) == "-0.0" and str(numbers.parse_number(0.0).value) == "0.0"
    with pytest.raises(numbers.InputError):
        numbers.parse_number(True)
    p = numbers.parse_number("95%")
    assert p is numbers.parse_number("95%") and p.value == D("0.95")
    with pytest.raises(AttributeError):
        p.value = D(1)  # type: ignore[misc]  # 共用的结果不可改


def test_long_texts_are_not_kept_by_the_caches(demo_dir):
    """缓存不留住大段文字（Excel 单元格最多 32,767 个字符）：这样的原值照常计算，只是不进缓存。"""
    _clear_caches()
    long_number = "1" + " " * 1000
    assert numbers.parse_number(long_number).value == D(1)
    assert long_number not in numbers._PARSED[str]
    inputs, system = _read(demo_dir, "baojing-2018")
    row = _typed(inputs)[0]
    row.reason = "理由" * 1000
    before = _snapshot(evaluate(copy.deepcopy(inputs), system))
    assert not any(k[1][1][9] == row.reason for k in score_cache._CACHE)
    assert _snapshot(evaluate(inputs, system)) == before
    long_target = "≥300米" + " " * 600
    rule = cached_rule("目标比较", D(5), ["≥", long_target])
    assert rule == rule_from_params("目标比较", D(5), ["≥", long_target])
    assert not any(long_target in k[4] for k in scoring._RULES)


@pytest.mark.parametrize("label,points,params", [("达标满分", D(10), ["≥", 0.9]), ("分档", D(5), [0, 5, 0.1, 4, 0.2, 3]),
                                                ("目标比较", D(4), ["≥", 0.9])])
def test_cached_scores_equal_fresh_ones_digit_for_digit(label, points, params):
    """公式行的计算得分按 (规则, 实际值的文本) 缓存：相等而写法不同的实际值（1.50 与 1.5、-0 与 0）各算各的，
    第二次取到的与直接 rule.score 的逐位相同（连小数位数、正负号）；读不懂的每次照常抛出。"""
    rule = cached_rule(label, points, params)
    values = [D("0.95"), D("0.950"), D("1"), D("1.0"), D("1.50"), D("1.5"), D("0"), D("-0"), D("-0.00"), D("0.5"), None,
              "95%"]
    for _ in range(2):  # 第二遍来自缓存
        for v in values:
            try:
                fresh = rule.score(v)
            except RuleError as exc:
                with pytest.raises(RuleError, match=str(exc)):
                    score_cache.score(rule, v)
                continue
            got = score_cache.score(rule, v)
            assert repr(got) == repr(fresh), (label, v, got, fresh)
    other = rule_from_params(label, points, params)  # 相等而不是同一个对象的规则：各用各的条目
    assert repr(score_cache.score(other, D("0.95"))) == repr(other.score(D("0.95")))
