"""叙述文字里的金额“其中”分项：“实际拨付1168万元，其中区本级630万元，上级财政下拨502万元”。

报告的叙述是手写的，数字与表格各写各的（种子 002：正文 630＋502＝1132，而总数写 1168，表格里上级资金是 538）。
这里只认一种写法，宁可漏报也不乱报：
- 总数是紧挨在“其中”之前的金额（中间只隔标点和括号里的说明）；
- 分项是“其中”之后、同一句里、括号以外的金额，依次累加，直到再出现“其中”或累加超过总数 NEAR_MISS 以上；
- 至少两个分项才算“分项列举”（“支出1537万元，其中基本支出303万元”只点出一项，不是分解）；
- 某个前缀之和与总数相符（容差同基础数据表：各数末位的半个单位）即为相符；都不相符时，取最接近的前缀，
  差额不超过总数的 NEAR_MISS 才算写错（差得更多多半是只列了部分分项）；
- 括号里的数字是补充说明（“含精神病药物救助80万元”），既不当总数也不当分项。
一句话以“其中”开头时接在上一句后面（“……1168万元。其中：区本级630万元，上级538万元。”）。
"""
from __future__ import annotations

import re
import unicodedata
from bisect import bisect_left, bisect_right
from dataclasses import dataclass
from decimal import Decimal
from functools import lru_cache

from udfs.numbers import fmt_num

UNIT_SCALE = {"元": Decimal(1), "万元": Decimal(10000), "亿元": Decimal(100000000)}

_DIGITS = "0-9０-９"
# 线性时间：每个金额只能从一串数字的开头匹配（前面不是数字、小数点、逗号），量词都是占有式（*+、++），
# 失败时不回溯——32,767 个字符的单元格（Excel 的上限）也只扫描一遍（tests/test_limits.py）
_MONEY = re.compile(rf"(?<![{_DIGITS}.．,])((?:[0-9]{{1,3}}(?:,[0-9]{{3}})++)|[{_DIGITS}]++)"
                    rf"(?:[.．]([{_DIGITS}]++))?+\s*+(亿元|万元|元)")
_OF_WHICH = "其中"
_OPEN, _CLOSE = "(（", ")）"
_SENTENCE_END = re.compile(r"[。；;！!？?\n]")
# 分项之和与总数相差不超过总数的这个比例，才当作“本应相等而写错”；差得更多时多半只列了部分分项，或后面的数字
# 另有所指（“其中区本级630万元，上级502万元，本年度实际使用981万元”中的 981 不是分项）
NEAR_MISS = Decimal("0.10")
# 总数与“其中”之间允许出现的字符（括号里的说明另行去掉）
_LINK_CHARS = " \t,，:：、"


@dataclass(frozen=True)
class Money:
    """叙述中的一个金额。value 按所写单位（unit），places 为书写的小数位数。"""

    text: str
    value: Decimal
    unit: str
    places: int
    start: int
    end: int

    @property
    def number(self) -> str:
        """所写的数字部分（不含单位）。"""
        return self.text[: -len(self.unit)].rstrip()

    def to(self, unit: str) -> Decimal:
        return self.value * UNIT_SCALE[self.unit] / UNIT_SCALE[unit]

    def half_unit(self, unit: str) -> Decimal:
        """所写最后一位的半个单位（换算到 unit）：1168万元 → ±0.5 万元。"""
        return Decimal(5).scaleb(-(self.places + 1)) * UNIT_SCALE[self.unit] / UNIT_SCALE[unit]


@dataclass(frozen=True)
class OfWhich:
    """一处“总数，其中分项……”。金额都换算成总数的单位。"""

    sentence: str
    total: Money
    parts: tuple[Money, ...]

    @property
    def unit(self) -> str:
        return self.total.unit

    @property
    def part_values(self) -> list[Decimal]:
        return [p.to(self.unit) for p in self.parts]

    @property
    def parts_sum(self) -> Decimal:
        return sum(self.part_values, Decimal(0))

    @property
    def gap(self) -> Decimal:
        return self.total.value - self.parts_sum

    @property
    def tolerance(self) -> Decimal:
        """各数按书写位数四舍五入可能造成的差额之和（与基础数据表合计的容差同一规则）。"""
        return self.total.half_unit(self.unit) + sum((p.half_unit(self.unit) for p in self.parts), Decimal(0))

    @property
    def adds_up(self) -> bool:
        return abs(self.gap) <= self.tolerance

    @property
    def excerpt(self) -> str:
        """引文：总数所在分句起（“实际拨付1168万元”）到最后一个分项，略去括号里的说明。"""
        depths = _depths(self.sentence)
        start = self.total.start
        while start > 0 and not (self.sentence[start - 1] in _LINK_CHARS and depths[start - 1] == 0):
            start -= 1
        return _outside(self.sentence, depths, start, self.parts[-1].end)

    def parts_text(self) -> str:
        return "＋".join(fmt_num(v, 6) for v in self.part_values)


def _money(m: re.Match) -> Money:
    whole = unicodedata.normalize("NFKC", m.group(1)).replace(",", "")
    frac = unicodedata.normalize("NFKC", m.group(2) or "")
    value = Decimal(f"{whole}.{frac}" if frac else whole)
    return Money(m.group(0), value, m.group(3), len(frac), m.start(), m.end())


def amounts(text: str) -> list[Money]:
    """text 中写明单位（元、万元、亿元）的全部金额，含括号里的。"""
    return [_money(m) for m in _MONEY.finditer(text)]


# 文字材料的解析只取决于文字本身：同一份模板、同一位填表人的多个工作簿里同样的段落很常见，按文字缓存。条数有上限
# （三个缓存的键是同一批文字，最坏 256 段 32,767 字的文字，约 16 MB）。缓存的结果是不可变的元组（Money、OfWhich
# 都是冻结的数据类），调用方拿到的对象不会被改动。
_TEXT_CACHE = 256


@lru_cache(maxsize=_TEXT_CACHE)
def text_amounts(text: str) -> tuple[Money, ...]:
    """amounts 的缓存版：一段文字材料中的全部金额。"""
    return tuple(amounts(text))


def _depths(s: str) -> list[int]:
    """每个字符所在的括号层数（不配对的右括号不会让层数小于 0）。"""
    out, d = [], 0
    for ch in s:
        if ch in _OPEN:
            d += 1
            out.append(d)
        elif ch in _CLOSE:
            out.append(d)
            d = max(0, d - 1)
        else:
            out.append(d)
    return out


def sentences(text: str) -> list[str]:
    """按句号、分号、换行分句；以“其中”开头的句子并入上一句。"""
    groups: list[list[str]] = []  # 逐句收集再连接：反复拼接字符串在成千上万个“其中”开头的句子上是平方级
    for piece in _SENTENCE_END.split(text):
        s = piece.strip()
        if not s:
            continue
        if groups and s.startswith(_OF_WHICH):
            groups[-1].append(s)
        else:
            groups.append([s])
    return ["。".join(g) for g in groups]


def _outside(s: str, depths: list[int], start: int, end: int) -> str:
    return "".join(ch for ch, d in zip(s[start:end], depths[start:end], strict=False)
                   if d == 0 and ch not in _OPEN + _CLOSE)


def of_which_claims(text: str) -> list[OfWhich]:
    """text 中所有“总数，其中分项……”（至少两个分项）。见模块说明。"""
    return list(text_claims(text))


@lru_cache(maxsize=_TEXT_CACHE)
def text_claims(text: str) -> tuple[OfWhich, ...]:
    """of_which_claims 的缓存版。每句只扫描一遍（线性时间）：金额按位置有序，每个“其中”之前最近的金额用二分查找；
    总数与“其中”之间是否只有标点，由“此前最后一个非连接字符的位置”一次算出，而不是对每个“其中”重新扫描。
    没有“其中”二字的文字与句子没有分项列举，不再逐字计算括号层数与金额。"""
    if _OF_WHICH not in text:
        return ()
    out: list[OfWhich] = []
    for s in sentences(text):
        if _OF_WHICH not in s:
            continue
        depths = _depths(s)
        money = [m for m in amounts(s) if depths[m.start] == 0]
        ends = [m.end for m in money]
        starts = [m.start for m in money]
        marks = [m.start() for m in re.finditer(_OF_WHICH, s) if depths[m.start()] == 0]
        if not marks or not money:
            continue
        # last_bad[i]：i 之前（不含 i）最后一个括号外、非连接字符的位置；括号与括号里的说明不算
        last_bad, bad = [], -1
        for i, (ch, d) in enumerate(zip(s, depths, strict=True)):
            last_bad.append(bad)
            if d == 0 and ch not in _OPEN + _CLOSE and ch not in _LINK_CHARS and ch != "。":
                bad = i
        for i, pos in enumerate(marks):
            k = bisect_right(ends, pos)
            if k == 0:
                continue
            total = money[k - 1]
            if last_bad[pos] >= total.end:
                continue  # 总数与“其中”之间还有别的字
            stop = marks[i + 1] if i + 1 < len(marks) else len(s)
            lo, hi = bisect_right(starts, pos), bisect_left(starts, stop)
            claim = _best_split(s, total, money[lo:hi])
            if claim is not None:
                out.append(claim)
    return tuple(out)


@lru_cache(maxsize=_TEXT_CACHE)
def text_slips(text: str) -> tuple[OfWhich, ...]:
    """text_claims 中分项之和与总数不符（adds_up 为假）的那些。"""
    return tuple(c for c in text_claims(text) if not c.adds_up)


def _best_split(sentence: str, total: Money, candidates: list[Money]) -> OfWhich | None:
    """从“其中”之后的金额里依次取分项，取到超出总数 NEAR_MISS 以上为止：某个前缀（至少两项）之和与总数相符 → 相符；
    否则取与总数最接近的前缀，差额在 NEAR_MISS 以内才算一处分项列举。

    分项之和与容差逐项累加（与 OfWhich.parts_sum、OfWhich.tolerance 同样的加法顺序，结果逐位相同）：
    对每个前缀重新求和是平方级。"""
    near = total.value * NEAR_MISS
    unit = total.unit
    total_half = total.half_unit(unit)
    parts_sum = half_sum = Decimal(0)
    best_k, best_gap = 0, Decimal(0)
    for k, part in enumerate(candidates, 1):
        parts_sum += part.to(unit)
        half_sum += part.half_unit(unit)
        gap = total.value - parts_sum
        tolerance = total_half + half_sum
        if k >= 2 and abs(gap) <= tolerance:
            return OfWhich(sentence, total, tuple(candidates[:k]))
        if -gap > max(near, tolerance):  # 超出总数太多：这一项已不是分项
            break
        if k >= 2 and (best_k == 0 or abs(gap) < abs(best_gap)):
            best_k, best_gap = k, gap
    if best_k and abs(best_gap) <= near:
        return OfWhich(sentence, total, tuple(candidates[:best_k]))
    return None
