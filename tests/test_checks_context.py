"""校验的上下文（addin/checks/context.py）与按原值的缓存：省事的做法与直接的做法逐项相同。

- make_context 只先解析填了内容的输入单元格，空白的按键查找时才解析：filled、num()、num_if_filled() 与
  scoring.parsing.input_cells 的全部单元格一致；逐个检查单元格的三项检查在全部单元格上与只在填了内容的单元格上给出
  同样的发现（空白单元格不会有发现）；
- NumCell 与数值解析按原值缓存：相等而写法不同的原值（1 与 1.0 与 True、Decimal('1.50') 与 Decimal('1.5')、0.0 与 -0.0）
  不会串用，第二次取到的与第一次、与不经缓存直接构造的逐项相同。
"""
from __future__ import annotations

import datetime as dt
from decimal import Decimal as D

import openpyxl
import pytest

from addin.checks import context
from addin.checks.context import _number, make_context
from addin.checks.inputs import check_input_cells
from addin.checks.texts import check_money_unit, check_text_sums
from addin.model import Formula
from addin.scoring import parsing
from addin.scoring.engine import evaluate
from addin.scoring.parsing import NumCell, input_cells, num_cell, parse_cell
from addin.scoring.reader import load
from addin.template.inputs import layout_inputs
from tests import fixtures_checks as fx
from tests.bad_inputs import CASES
from workbook_templates.examples import EXAMPLES
from workbook_templates.spec import Example
from workbook_templates.systems import SYSTEMS

FIXTURES = {name: ex for name, ex in vars(fx).items() if isinstance(ex, Example)}
WALKING_CHECKS = (check_input_cells, check_money_unit, check_text_sums)


def _assert_context_matches_input_cells(inputs) -> None:
    ev = evaluate(inputs)
    full = input_cells(inputs, SYSTEMS[inputs.system_key], ev)
    ctx = make_context(inputs, ev)
    assert ctx.filled == [c for c in full if c.raw is not None]
    by_key = {c.key: c for c in full}  # 同键取最后一个，与原来的 by_key 相同
    for key, c in by_key.items():
        assert ctx.num_if_filled(key) == (c if c.raw is not None else None), key
        assert ctx.num(key) == c, key
        assert ctx.num_if_filled(key) == (c if c.raw is not None else None), key  # 构造之后仍把空白当空白
    assert ctx.num(("table", "没有这一行", "final")) is None
    # 逐个检查单元格的检查：空白单元格加进来，发现（与被取代的引擎发现）不变
    every = make_context(inputs, ev)
    every.filled = list(full)
    filled_only = make_context(inputs, ev)
    for check in WALKING_CHECKS:
        assert check(every) == check(filled_only), check.__name__
    assert every.replaced == filled_only.replaced


@pytest.mark.parametrize("name", sorted(EXAMPLES) + sorted(FIXTURES))
def test_context_matches_input_cells_for_examples_and_fixtures(name):
    ex = EXAMPLES.get(name) or FIXTURES[name]
    _assert_context_matches_input_cells(layout_inputs(SYSTEMS[ex.system], ex))


def test_context_matches_input_cells_for_the_bad_inputs(demo_dir, tmp_path):
    """坏输入语料（文本数字、两个数、负数、元与万元、公式、合并单元格、插入的行……）读出的输入。"""
    checked = 0
    for case in CASES:
        wb = openpyxl.load_workbook(demo_dir / f"{case.base}.xlsx")
        case.mutate(wb)
        path = tmp_path / f"{case.id}.xlsx"
        wb.save(path)
        try:
            _, inputs = load(path, with_cached=True)
        except Exception:  # 无法读取的（缺工作表等）另有测试；这里只比对读得出的
            continue
        _assert_context_matches_input_cells(inputs)
        checked += 1
    assert checked >= 40


RAWS = [None, 0, 1, True, False, 1.0, 0.0, -0.0, 1.5, 982.6300000000001, float("inf"), float("nan"), 10 ** 16,
        D("1.50"), D("1.5"), D("-0"), D("0"), "1.50", "1.5", " 1.5 ", "１.５", "无", "", "  ", "95%", "3745（2177）",
        "30人", "abc", Formula("=A1", 1.5), Formula("=A1", None), Formula("=A1", "错误：x"), dt.date(2020, 1, 1)]


def _same(a: object, b: object) -> bool:
    """逐项相同，连写法也相同（Decimal('1.50') 与 Decimal('1.5')、-0.0 与 0.0 相等却不相同）。"""
    return type(a) is type(b) and repr(a) == repr(b)


def test_num_cell_cache_never_mixes_equal_but_different_raws():
    key = ("table", "expense_total", "final")
    for _ in range(2):  # 第二遍全部来自缓存
        for raw in RAWS:
            got = num_cell(key, "基础数据表", "F4", "支出合计·本年决算数", "money", "", raw)
            fresh = NumCell(sheet="基础数据表", cell="F4", label="基础数据表 F4（支出合计·本年决算数）", kind="money", key=key,
                            name="支出合计·本年决算数", unit="", **parse_cell(raw))
            for f in ("raw", "value", "alt", "places", "as_text", "error", "formula", "known", "note", "label", "name"):
                assert _same(getattr(got, f), getattr(fresh, f)), (raw, f, getattr(got, f), getattr(fresh, f))


def test_number_cache_never_mixes_equal_but_different_raws():
    for _ in range(2):  # 第二遍全部来自缓存
        for raw in RAWS:
            if isinstance(raw, Formula):
                continue  # 调用方先取公式保存的结果
            parsed = parse_cell(raw)
            ok, value = _number(raw)
            assert ok == (parsed.get("error") is None), raw
            assert _same(value, parsed.get("value")), (raw, value, parsed)


def test_long_texts_are_not_kept_in_the_cell_caches():
    """缓存条数有上限，每条也要有上限：32,767 字的单元格（Excel 的上限）照样解析，但不进缓存。"""
    long = "1" * 5 + "元" * 32762
    before = (len(parsing._cell_cache), len(context._numbers), parsing._strip_name.cache_info().currsize)
    got = num_cell(("table", "expense_total", "final"), "基础数据表", "F4", "支出合计·本年决算数", "money", "", long)
    assert got.error is not None  # 照样解析：无法识别为数字
    num_cell(("table", "x", "final"), "基础数据表", "F5", "名" * 32767, "money", "", 1)
    assert _number(long) == (False, None)
    assert parsing._strip_label("（一）" + "名" * 32767) == "名" * 32767
    assert (len(parsing._cell_cache), len(context._numbers), parsing._strip_name.cache_info().currsize) == before


def test_new_cell_is_the_dataclass_constructor():
    """_new_cell 不经 NumCell 生成的 __init__（frozen：逐个字段 object.__setattr__）而一次写入 __dict__：字段、次序、值、
    相等与散列都与 NumCell(...) 相同。"""
    key = ("row", "z1_1", "points")
    for raw in RAWS:
        got = parsing._new_cell(key, "评分表", "E4", "部门预算的完整性·分值", "points", "人", raw)
        fresh = NumCell(sheet="评分表", cell="E4", label="评分表 E4（部门预算的完整性·分值）", kind="points", key=key,
                        name="部门预算的完整性·分值", unit="人", **parse_cell(raw))
        assert list(vars(got).items()) == list(vars(fresh).items()), raw
        assert got == fresh and hash(got) == hash(fresh) and repr(got) == repr(fresh), raw


def _places_by_tuple(d: D) -> int:
    exp = d.as_tuple().exponent
    return min(max(0, -exp), parsing.MAX_PLACES) if isinstance(exp, int) else 0


def test_decimal_places_reads_str_as_as_tuple_does():
    """decimal_places 按 str 数小数位（不用科学记数法时），与按 as_tuple 的指数所得相同。"""
    texts = ["1.50", "1.5", "0", "-0", "0.00", "0E-10", "1E+2", "1E-7", "0.000001", "0.0000001", "-0.0000001", "100",
             "123456789.123456789123", "1.000000000000", "-5.25", "12E-8", "NaN", "-NaN", "sNaN", "Infinity", "-Infinity"]
    values = [D(t) for t in texts] + [D(repr(x)) for x in (892.35, 982.6300000000001, 1e-05, 1.5e-07, 1e16, 0.1 + 0.2, -0.0)]
    values += [D(x) for x in (0.1, 1e-7, 2.5)]  # 浮点数的精确十进制值（很多位小数）
    for d in values:
        assert parsing.decimal_places(d) == _places_by_tuple(d), d


def test_numbers_read_as_parse_number_reads_them():
    """context._number（经它的按原值缓存）读 int 与 float：数值、写法、出错与否都与 parse_number 相同，包括边界
    （10 的 15 次方）、-0.0、科学记数法、浮点尾差、NaN 与无穷大、逻辑值。"""
    import random

    from udfs.numbers import InputError, parse_number

    rng = random.Random(14)
    raws: list[object] = [0, 1, -1, 7, 10 ** 15, 10 ** 15 - 1, -(10 ** 15), 10 ** 15 + 1, 10 ** 16, True, False, 0.0, -0.0,
                          1.0, 3.5, 892.35, 982.6300000000001, 0.1 + 0.2, 1e-05, 1.5e-07, 123456789012345.0, 1e15, -1e15,
                          999999999999999.9, 1e16, float("inf"), float("-inf"), float("nan"), 2.0 ** 60]
    raws += [rng.random() * 10 ** rng.randint(-8, 16) * rng.choice((1, -1)) for _ in range(3000)]
    raws += [round(rng.random() * 10 ** rng.randint(0, 9), rng.randint(0, 4)) for _ in range(3000)]
    raws += [rng.randint(-10 ** 17, 10 ** 17) for _ in range(500)]
    for raw in raws:
        try:
            want: tuple = (True, parse_number(raw).value)
        except InputError:
            want = (False, None)
        got = _number(raw)
        assert got[0] == want[0] and _same(got[1], want[1]), raw


def test_unit_declaration_pattern_matches_as_the_optional_prefix_form():
    """texts._UNIT_DECL 以字面的两种开头（金额单位|单位）写出，与 (?:金额)?单位… 找到同样的声明（位置、全文、单位）。"""
    import random
    import re

    from addin.checks.texts import _UNIT_DECL

    plain = re.compile(r"(?:金额)?单位\s*+[:：]\s*+(万元|元)")
    rng = random.Random(9)
    alphabet = [*"金额单位：: 万元元x，金单位额", "\u3000", "\t", "\n"]
    for _ in range(20000):
        text = "".join(rng.choice(alphabet) for _ in range(rng.randint(0, 30)))
        assert ([(m.span(), m.group(0), m.group(1)) for m in _UNIT_DECL.finditer(text)]
                == [(m.span(), m.group(0), m.group(1)) for m in plain.finditer(text)]), text
