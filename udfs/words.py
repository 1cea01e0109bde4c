"""定性完成情况的读法：“定性词表”（词语 → 档次：达成 / 部分达成 / 未达成；工作簿可增删改，省略时用内置词表
DEFAULT_QUALITATIVE_WORDS），把“已完成”“基本完成”“较差”之类的写法归入三档；也接受得分系数（0～100%）。无法归档的写法抛出 EntryError，绝不猜测。"""
from __future__ import annotations

from functools import lru_cache
from typing import Any, Iterable, Sequence

from .entries import EntryError, Reading, _norm, _show
from .numbers import InputError, parse_number

QUALITATIVE_BANDS = ("达成", "部分达成", "未达成")
# 内置定性词表（工作簿“定性词表”区域的默认内容，用户可增删改；省略该区域的旧工作簿用它）
DEFAULT_QUALITATIVE_WORDS: tuple[tuple[str, str], ...] = (
    ("达成", "达成"), ("已达成", "达成"), ("完成", "达成"), ("已完成", "达成"), ("全部完成", "达成"), ("全面完成", "达成"),
    ("按时完成", "达成"), ("有效", "达成"), ("显著", "达成"), ("明显", "达成"), ("良好", "达成"), ("较好", "达成"),
    ("优秀", "达成"), ("有所提高", "达成"), ("明显提高", "达成"), ("有所改善", "达成"), ("明显改善", "达成"),
    ("部分达成", "部分达成"), ("基本达成", "部分达成"), ("基本完成", "部分达成"), ("部分完成", "部分达成"),
    ("基本有效", "部分达成"), ("一般", "部分达成"),
    ("未达成", "未达成"), ("未完成", "未达成"), ("无效", "未达成"), ("不明显", "未达成"), ("较差", "未达成"),
)


def word_pairs(words: Any) -> tuple[tuple[str, str], ...]:
    """“定性词表”区域（词语、档次两列；单元格函数收到的是按行展平或嵌套的 list）→ ((词语, 档次), …)。空行略过。
    以元组给出时（计分引擎）结果缓存：同一词表在每个指标、每个工作簿里都要用。"""
    if isinstance(words, tuple):
        try:
            return _cached_pairs(words)
        except TypeError:  # 含不可散列的元素（list）：照常逐个读
            pass
    return _word_pairs(words)


def _word_pairs(words: Any) -> tuple[tuple[str, str], ...]:
    flat: list[Any] = []

    def walk(x: Any) -> None:
        if isinstance(x, (list, tuple)):
            for y in x:
                walk(y)
        else:
            flat.append(x)

    walk(words)
    bad = [x for x in flat if isinstance(x, str) and x.strip().startswith("#")]
    if bad:  # 区域被删除（#REF!）等：不能悄悄换成别的词表
        raise EntryError(f"定性词表区域无效（{bad[0].strip()}），请恢复评分表下方的“定性词表”区域")
    out = []
    for i in range(0, len(flat) - 1, 2):
        w, b = flat[i], flat[i + 1]
        out.append(("" if w is None else _show(w), "" if b is None else _show(b)))
    return tuple(p for p in out if p[0] or p[1])


_cached_pairs = lru_cache(maxsize=64)(_word_pairs)


def _word_table(words: Iterable[tuple[str, str]] | None) -> dict[str, str]:
    """词语（规范化后）→ 档次。同一词表（规则里的元组，或内置词表 None）每个定性指标都要查：结果缓存，调用方只读不改。"""
    if words is None or isinstance(words, tuple):
        try:
            return _cached_table(words)
        except TypeError:  # 含不可散列的元素：照常逐个读
            pass
    return _build_table(words)


def _build_table(words: Iterable[tuple[str, str]] | None) -> dict[str, str]:
    table = {b: b for b in QUALITATIVE_BANDS}
    for w, b in (DEFAULT_QUALITATIVE_WORDS if words is None else words):
        key = _norm(w)
        if not key:
            raise EntryError(f"定性词表中档次“{b}”所在行缺少词语")
        if b not in QUALITATIVE_BANDS:
            raise EntryError(f"定性词表中“{w}”的档次“{b}”无效，应为 {'/'.join(QUALITATIVE_BANDS)}")
        table[key] = b
    return table


_cached_table = lru_cache(maxsize=64)(_build_table)


def read_qualitative(raw: Any, words: Sequence[tuple[str, str]] | None = None) -> Reading:
    """定性完成情况 → Reading(档次名称) 或 Reading(得分系数 Decimal)。words 为工作簿“定性词表”（None 时用内置词表）。"""
    if isinstance(raw, bool):
        raise EntryError("定性指标的完成情况不能是逻辑值（TRUE/FALSE）")
    if isinstance(raw, str):
        shown = raw.strip()
        key = _norm(shown).rstrip("。.!！")
        band = _word_table(words).get(key)
        if band is not None:
            return Reading(band, "" if key == band else f"‘{shown}’按“{band}”计算（定性词表）")
        try:
            coef = parse_number(raw).value
        except InputError:
            coef = None
        if coef is None:
            raise EntryError(f"定性指标的完成情况“{shown[:30]}”不在定性词表中（评分表下方“定性词表”可添加该词并选择档次），"
                             "也不是得分系数（0～100%）")
        return Reading(coef)
    try:
        coef = parse_number(raw).value
    except InputError as exc:
        raise EntryError(f"定性指标的完成情况：{exc}") from None
    return Reading(coef)
