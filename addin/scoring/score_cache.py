"""计分引擎的两个缓存：手填实际值的行的计分结果，与等级标准。都是按单元格原值（连同类型）缓存的纯函数结果。

实际值是手填的（不是公式）的指标行，计分只取决于该行自己的几格——代码、三级指标名称、分值、实际值、单位、规则类型、
无基数时、参数、计算得分、调整得分与理由及它们的单元格地址——以及指标体系与（定性三档、目标比较用的）定性词表，
与工作簿的其他内容无关。批量评价时同一模板的许多工作簿里这些格写得一模一样，计分引擎按它们缓存这一步的结果：
得分等各项（都是不可变的值）与这一步给出的发现。评分依据、备注等其余各格不进键，每次照该行重新填入结果。

键里的原值连同类型一起比较：1、1.0 与 TRUE 相等却是不同的写法，0.0 与 -0.0 相等而读数不同（这样的行不缓存）；
日期、公式等其他类型的原值也不缓存。计算得分格里的公式不看内容（引擎只区分它是不是公式，是公式即不看）。
"""
from __future__ import annotations

from decimal import Decimal
from functools import lru_cache
from operator import itemgetter
from typing import Any

from udfs.numbers import InputError
from udfs.rule import Rule
from udfs.scoring import GradeScale, plain_types
from udfs.targets import Qualitative, Target
from udfs.words import word_pairs
from workbook_templates.spec import System

from ..model import Finding, Formula, RowInput

# 用到定性词表的规则类型：只有这两种行的键里有词表
WORDED_LABELS = frozenset({Qualitative.label, Target.label})
_MAX = 2048
_MAX_TEXT = 1024  # 键里各格文字合计更长的不进缓存（不让缓存留住大段文字）


class HashedTuple:
    """算好了散列值的元组：同一张词表要进每一行的键，不必每行重算。"""

    __slots__ = ("items", "_hash")

    def __init__(self, items: tuple[Any, ...]):
        self.items = items
        self._hash = hash(items)

    def __hash__(self) -> int:
        return self._hash

    def __eq__(self, other: object) -> bool:
        return isinstance(other, HashedTuple) and self.items == other.items


def plain_key(values: tuple[Any, ...]) -> tuple[Any, ...] | None:
    """一组单元格原值的缓存键（连同各自的类型）；有不能可靠比较的原值时 None。"""
    types = plain_types(values)
    return None if types is None else (types, values)


def _text_size(values: tuple[Any, ...]) -> int:
    return sum(len(v) for v in values if type(v) is str)


def words_key(words: tuple[Any, ...] | None) -> HashedTuple | bool | None:
    """定性词表在键里的样子：读出的 (词语, 档次)（规则用的就是它）；没有词表区域为 None，读不出为 False（这时用到词表的行
    不缓存，照常计分并报告）。"""
    if words is None:
        return None
    try:
        pairs = word_pairs(words)
    except InputError:
        return False
    return _hashed(pairs)


@lru_cache(maxsize=16)
def _hashed(pairs: tuple[Any, ...]) -> HashedTuple:
    """同一张词表用同一个对象：各行的键比较时先比对象本身。"""
    return HashedTuple(pairs)

# 计分这一步用到的单元格地址（发现指向它们）；结果里的 cells 每次照该行重新填入
_CELLS_USED = ("points", "value", "rule", "na", "params", *(f"p{i}" for i in range(1, 11)), "computed", "override",
               "reason")
_cells_used = itemgetter(*_CELLS_USED)


def row_key(system: System, row: RowInput, words: HashedTuple | bool | None) -> tuple[Any, ...] | None:
    """该行计分结果的缓存键；实际值是公式、或有不能可靠比较的原值时 None（不缓存）。words：本工作簿定性词表读出的
    (词语, 档次)（udfs.words.word_pairs），只在规则类型用到它时进键；None 为没有词表区域，False 为词表读不出（不缓存）。"""
    if isinstance(row.value, Formula):
        return None
    computed = None if isinstance(row.computed, Formula) else row.computed  # 公式与空白对引擎一样：都不是手填的得分
    values = plain_key((row.code, row.name, row.points, row.value, row.unit, row.rule_label, row.na, computed,
                        row.override, row.reason, *row.params))
    if values is None:
        return None
    try:  # 读取的行各字段都有地址：一次取出（C 中逐个取）；缺的格为 None（与 dict.get 相同）
        cells = _cells_used(row.cells)
    except KeyError:
        cells = tuple(map(row.cells.get, _CELLS_USED))
    label = row.rule_label.strip() if type(row.rule_label) is str else None
    if label in WORDED_LABELS:
        if words is False:
            return None
        return (id(system), values, cells, words)
    return (id(system), values, cells, None)


_CACHE: dict[tuple[Any, ...], tuple[System, tuple[Any, ...], tuple[Finding, ...]]] = {}


def lookup(system: System, key: tuple[Any, ...]) -> tuple[tuple[Any, ...], tuple[Finding, ...]] | None:
    """(结果的各项（engine._SCORED 的顺序）, 发现)。键里是体系的 id：条目留着体系对象并核对是同一个（对象活着 id 就不会被复用）。"""
    hit = _CACHE.get(key)
    if hit is None or hit[0] is not system:
        return None
    return hit[1], hit[2]


def remember(system: System, key: tuple[Any, ...], fields: tuple[Any, ...], found: tuple[Finding, ...]) -> None:
    if _text_size(key[1][1]) > _MAX_TEXT:
        return
    if len(_CACHE) >= _MAX:
        _CACHE.clear()
    _CACHE[key] = (system, fields, found)


# 公式行（实际值由单元格函数算出）的计算得分：规则是不可变的值（cached_rule 让同一模板各工作簿的同一行共用一个规则对象），
# 得分只由规则与实际值决定。实际值是 Decimal 时按其文本形式作键（1.50 与 1.5、-0 与 0 相等而写法不同，文本不同）；
# 键里是规则的 id，条目留着规则对象并核对是同一个。读不懂的（RuleError）不缓存，每次照常抛出。
_SCORES: dict[tuple[int, str], tuple[Rule, Decimal]] = {}


def score(rule: Rule, value: Any) -> Decimal:
    """rule.score(value)，实际值是 Decimal 时按 (规则, 实际值的文本) 缓存。"""
    if type(value) is not Decimal:
        return rule.score(value)
    key = (id(rule), str(value))
    hit = _SCORES.get(key)
    if hit is not None and hit[0] is rule:
        return hit[1]
    result = rule.score(value)
    if len(_SCORES) >= _MAX:
        _SCORES.clear()
    _SCORES[key] = (rule, result)
    return result


_SCALES: dict[tuple[Any, ...], GradeScale] = {}


def grade_scale(rows: list[tuple[Any, Any]]) -> GradeScale:
    """GradeScale.from_rows，按等级标准各格的原值缓存（等级标准是不可变的值；读不懂的不缓存，照常抛出 RuleError）。"""
    key = plain_key(tuple(x for row in rows for x in row))
    if key is None:
        return GradeScale.from_rows(rows)
    scale = _SCALES.get(key)
    if scale is None:
        scale = GradeScale.from_rows(rows)
        if _text_size(key[1]) > _MAX_TEXT:
            return scale
        if len(_SCALES) >= 256:
            _SCALES.clear()
        _SCALES[key] = scale
    return scale
