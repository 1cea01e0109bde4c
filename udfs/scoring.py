"""评分规则：每种规则是一个不可变 dataclass，score(value) → Decimal（四舍五入到 0.01 分）；规则类型表 RULE_TYPES（评分表“规则类型”
下拉的各项）与等级标准 GradeScale。基类在 rule.py，目标比较与定性三档在 targets.py，其余规则在这里。

规则参数就是评分表里“参数1…参数10”单元格的内容（from_params / to_params 互为逆运算），
因此用户在 Excel 中改一个阈值，Excel 公式（SCORE_* 函数）与无界面的 jixiao 引擎得到同样的新得分。

边界约定（每条规则的 docstring 写明含不含端点）：
- 达标满分：按所写比较符（≤ < ≥ > =）判断，端点按比较符处理；
- 分档：区间为 (上一档上限, 本档上限]，即“含上限、不含下限”，超过最后一档上限取“以上”分；
- 线性插值：到达满分点（含）得满分，到达零分点（含）得 0，之间线性；
- 按步扣分：超出（或低于）基准的幅度 ÷ 步长，按“整步”（不足一步不扣）、“进位”（不足一步按一步）或“比例”计步。
"""
from __future__ import annotations

from dataclasses import dataclass, replace
from decimal import ROUND_CEILING, ROUND_FLOOR, Decimal
from functools import lru_cache
from typing import ClassVar, Sequence

from udfs.rule import _OP_DISPLAY, ZERO, Rule, RuleError, _compare, _d, _na, _op, _opt_d, _pad, _points, _text
from udfs.targets import Qualitative, Target

from .numbers import is_blank, round2
from .words import word_pairs

__all__ = [
    "Threshold", "Range", "Bands", "Linear", "StepDeduction", "STEP_DIRECTIONS", "STEP_MODES", "GradeTable",
    "DeductionChecklist", "Manual", "RULE_TYPES", "rule_from_params", "cached_rule", "with_words",
    "GradeScale", "plain_types",
]


@dataclass(frozen=True)
class Threshold(Rule):
    """达标满分：实际值 op 阈值 时得满分，否则 0 分（如 在职人员控制率 ≤ 100%）。"""

    op: str = "<="
    threshold: Decimal = Decimal(1)
    label: ClassVar[str] = "达标满分"
    udf: ClassVar[str] = "SCORE_THRESHOLD"
    param_names: ClassVar[tuple[str, ...]] = ("比较符", "阈值")

    def _score(self, value: object) -> Decimal:
        return self.points if _compare(self._num(value), self.op, self.threshold) else ZERO

    @classmethod
    def from_params(cls, points: object, params: Sequence[object], na: object = None) -> Rule:
        op, t = _pad(params, 2)
        return cls(_points(points), _na(na), _op(op, 0), _d(t, "阈值", 1))

    def to_params(self) -> list[object]:
        return [_OP_DISPLAY[self.op], self.threshold]


@dataclass(frozen=True)
class Range(Rule):
    """区间满分：下限 ≤ 实际值 ≤ 上限（两端都含）得满分，否则 0 分（如 公用经费动态变动率在 −15%～15%）。"""

    low: Decimal = Decimal("-0.15")
    high: Decimal = Decimal("0.15")
    label: ClassVar[str] = "区间满分"
    udf: ClassVar[str] = "SCORE_RANGE"
    param_names: ClassVar[tuple[str, ...]] = ("下限", "上限")

    def __post_init__(self) -> None:
        super().__post_init__()
        if self.low > self.high:
            raise RuleError(f"区间下限 {self.low} 大于上限 {self.high}", field="params")

    def _score(self, value: object) -> Decimal:
        v = self._num(value)
        return self.points if self.low <= v <= self.high else ZERO

    @classmethod
    def from_params(cls, points: object, params: Sequence[object], na: object = None) -> Rule:
        lo, hi = _pad(params, 2)
        return cls(_points(points), _na(na), _d(lo, "下限", 0), _d(hi, "上限", 1))

    def to_params(self) -> list[object]:
        return [self.low, self.high]


@dataclass(frozen=True)
class Bands(Rule):
    """分档：bands 为按上限升序的 (上限, 得分)，区间 (上一档上限, 本档上限] 含上限；超过最后上限得 above 分。
    use_abs 为真时对实际值取绝对值后分档（如 债权变动率“增减在 5% 以内”）。"""

    bands: tuple[tuple[Decimal, Decimal], ...] = ()
    above: Decimal = ZERO
    use_abs: bool = False
    label: ClassVar[str] = "分档"
    udf: ClassVar[str] = "SCORE_BANDS"
    param_names: ClassVar[tuple[str, ...]] = ("上限1", "得分1", "上限2", "得分2", "上限3", "得分3", "上限4", "得分4",
                                              "以上得分", "取绝对值")

    def __post_init__(self) -> None:
        super().__post_init__()
        if not self.bands:
            raise RuleError("分档规则至少需要一档（上限1、得分1）", field="params", code="missing")
        uppers = [u for u, _ in self.bands]
        if uppers != sorted(uppers) or len(set(uppers)) != len(uppers):
            raise RuleError("分档上限必须严格递增", field="params")
        for _, s in self.bands + ((None, self.above),):
            if s > self.points or s < 0:
                raise RuleError(f"分档得分 {s} 超出 0～分值 {self.points}", field="params")

    def _score(self, value: object) -> Decimal:
        v = self._num(value)
        if self.use_abs:
            v = abs(v)
        for upper, s in self.bands:
            if v <= upper:
                return s
        return self.above

    @classmethod
    def from_params(cls, points: object, params: Sequence[object], na: object = None) -> Rule:
        p = _pad(params, 10)
        bands = []
        for i in range(4):
            u, s = p[2 * i], p[2 * i + 1]
            if is_blank(u) and is_blank(s):
                continue
            bands.append((_d(u, f"上限{i + 1}", 2 * i), _d(s, f"得分{i + 1}", 2 * i + 1)))
        above = _opt_d(p[8], "以上得分", 8) or ZERO
        flag = _text(p[9])
        if flag not in ("", "是", "否", "TRUE", "FALSE", "True", "False", "1", "0"):
            raise RuleError(f"“取绝对值”应为 是/否，实际为“{flag}”", 9)
        return cls(_points(points), _na(na), tuple(bands), above, flag in ("是", "TRUE", "True", "1"))

    def to_params(self) -> list[object]:
        out: list[object] = []
        for u, s in self.bands:
            out += [u, s]
        out += [None, None] * (4 - len(self.bands))
        return out + [self.above, "是" if self.use_abs else "否"]


@dataclass(frozen=True)
class Linear(Rule):
    """线性插值：到达满分点 full_at（含）得满分，到达零分点 zero_at（含）得 0，之间按
    (实际值 − 零分点) ÷ (满分点 − 零分点) × 分值。两点谁大谁小决定方向（越高越好 / 越低越好）。
    例：子洲 预算完成率 零分点 85%、满分点 95%；结转结余率 零分点 15%、满分点 5%。"""

    zero_at: Decimal = Decimal("0.85")
    full_at: Decimal = Decimal("0.95")
    label: ClassVar[str] = "线性插值"
    udf: ClassVar[str] = "SCORE_LINEAR"
    param_names: ClassVar[tuple[str, ...]] = ("零分点", "满分点")

    def __post_init__(self) -> None:
        super().__post_init__()
        if self.zero_at == self.full_at:
            raise RuleError("线性插值的零分点与满分点不能相同", field="params")

    def _score(self, value: object) -> Decimal:
        v = self._num(value)
        frac = (v - self.zero_at) / (self.full_at - self.zero_at)
        return self.points * min(max(frac, ZERO), Decimal(1))

    @classmethod
    def from_params(cls, points: object, params: Sequence[object], na: object = None) -> Rule:
        z, f = _pad(params, 2)
        return cls(_points(points), _na(na), _d(z, "零分点", 0), _d(f, "满分点", 1))

    def to_params(self) -> list[object]:
        return [self.zero_at, self.full_at]


STEP_DIRECTIONS = ("超出", "低于")
STEP_MODES = ("整步", "进位", "比例")


@dataclass(frozen=True)
class StepDeduction(Rule):
    """按步扣分：实际值“超出”（或“低于”）基准 threshold 的幅度，每 step 扣 deduction 分，扣完为止。
    计步方式：整步（不足一步不扣，如“每低 5% 扣 2 分”按满 5% 计）、进位（不足一步按一步）、比例（按实际幅度折算）。
    未超出（低于）基准（含等于）得满分。"""

    threshold: Decimal = Decimal(1)
    step: Decimal = Decimal("0.01")
    deduction: Decimal = Decimal("0.5")
    direction: str = "超出"
    mode: str = "整步"
    label: ClassVar[str] = "按步扣分"
    udf: ClassVar[str] = "SCORE_STEP"
    param_names: ClassVar[tuple[str, ...]] = ("基准", "步长", "每步扣分", "方向", "计步方式")

    def __post_init__(self) -> None:
        super().__post_init__()
        if self.step <= 0:
            raise RuleError("步长必须大于 0", 1)
        if self.deduction < 0:
            raise RuleError("每步扣分不能为负数", 2)
        if self.direction not in STEP_DIRECTIONS:
            raise RuleError(f"方向应为 超出/低于，实际为“{self.direction}”", 3)
        if self.mode not in STEP_MODES:
            raise RuleError(f"计步方式应为 整步/进位/比例，实际为“{self.mode}”", 4)

    def _score(self, value: object) -> Decimal:
        v = self._num(value)
        excess = v - self.threshold if self.direction == "超出" else self.threshold - v
        if excess <= 0:
            return self.points
        ratio = excess / self.step
        if self.mode == "整步":
            steps = ratio.to_integral_value(rounding=ROUND_FLOOR)
        elif self.mode == "进位":
            steps = ratio.to_integral_value(rounding=ROUND_CEILING)
        else:
            steps = ratio
        return self.points - steps * self.deduction

    @classmethod
    def from_params(cls, points: object, params: Sequence[object], na: object = None) -> Rule:
        t, st, de, di, mo = _pad(params, 5)
        return cls(_points(points), _na(na), _d(t, "基准", 0), _d(st, "步长", 1), _d(de, "每步扣分", 2),
                   _text(di) or "超出", _text(mo) or "整步")

    def to_params(self) -> list[object]:
        return [self.threshold, self.step, self.deduction, self.direction, self.mode]


@dataclass(frozen=True)
class GradeTable(Rule):
    """等次对照：按实际值（等次文本）查表得分，如 优秀 10、良好 8、一般 5、较差 0。"""

    grades: tuple[tuple[str, Decimal], ...] = ()
    label: ClassVar[str] = "等次对照"
    udf: ClassVar[str] = "SCORE_GRADE"
    param_names: ClassVar[tuple[str, ...]] = ("等次1", "得分1", "等次2", "得分2", "等次3", "得分3", "等次4", "得分4",
                                              "等次5", "得分5")

    def __post_init__(self) -> None:
        super().__post_init__()
        if not self.grades:
            raise RuleError("等次对照至少需要一个等次", field="params", code="missing")
        for name, s in self.grades:
            if s > self.points or s < 0:
                raise RuleError(f"等次“{name}”的得分 {s} 超出 0～分值 {self.points}", field="params")

    def _score(self, value: object) -> Decimal:
        t = _text(value)
        for name, s in self.grades:
            if t == name:
                return s
        raise RuleError(f"等次“{t}”不在评分标准中，应为：{'/'.join(n for n, _ in self.grades)}", field="value")

    @classmethod
    def from_params(cls, points: object, params: Sequence[object], na: object = None) -> Rule:
        p = _pad(params, 10)
        grades = []
        for i in range(5):
            n, s = _text(p[2 * i]), p[2 * i + 1]
            if not n and is_blank(s):
                continue
            if not n:
                raise RuleError(f"等次{i + 1}的名称未填写", 2 * i, code="missing")
            grades.append((n, _d(s, f"得分{i + 1}", 2 * i + 1)))
        return cls(_points(points), _na(na), tuple(grades))

    def to_params(self) -> list[object]:
        out: list[object] = []
        for n, s in self.grades:
            out += [n, s]
        return out + [None, None] * (5 - len(self.grades))


@dataclass(frozen=True)
class DeductionChecklist(Rule):
    """扣分清单：得分 ＝ 分值 − 扣分，扣完为止（不低于 0）。实际值为扣分合计；
    若填写了“每处扣分”，实际值为发现问题的处数，扣分 ＝ 处数 × 每处扣分。
    没有扣分填 0 或“无”（得满分）；空白是未填写，不计分。"""

    per_item: Decimal | None = None
    label: ClassVar[str] = "扣分清单"
    udf: ClassVar[str] = "SCORE_DEDUCT"
    param_names: ClassVar[tuple[str, ...]] = ("每处扣分",)

    def _not_applicable(self, value: object) -> Decimal:
        # 写明 0、“无”、“—”表示未发现问题（不扣分）；空白是未填写（评价人还没有填），不计分——
        # 与其他指标相同：空白不是零，否则一张没填的扣分表会显示满分
        return round2(self.points)

    def _score(self, value: object) -> Decimal:
        v = self._num(value)
        if v < 0:
            raise RuleError(f"扣分（处数）不能为负数：{v}", field="value")
        ded = v * self.per_item if self.per_item is not None else v
        return self.points - ded

    @classmethod
    def from_params(cls, points: object, params: Sequence[object], na: object = None) -> Rule:
        (per,) = _pad(params, 1)
        return cls(_points(points), _na(na), _opt_d(per, "每处扣分", 0))

    def to_params(self) -> list[object]:
        return [self.per_item]


@dataclass(frozen=True)
class Manual(Rule):
    """评价人打分：定性指标由评价人根据评分标准直接给分，实际值即得分（须在 0～分值之间）。"""

    label: ClassVar[str] = "评价人打分"
    udf: ClassVar[str] = "SCORE_MANUAL"

    def _score(self, value: object) -> Decimal:
        v = self._num(value)
        if v < 0 or v > self.points:
            raise RuleError(f"评价人给分 {v} 超出 0～分值 {self.points}", field="value")
        return v

    @classmethod
    def from_params(cls, points: object, params: Sequence[object], na: object = None) -> Rule:
        return cls(_points(points), _na(na))

    def to_params(self) -> list[object]:
        return []


RULE_TYPES: dict[str, type[Rule]] = {c.label: c for c in (
    Threshold, Range, Bands, Linear, StepDeduction, Target, GradeTable, DeductionChecklist, Qualitative, Manual)}


def rule_from_params(label: object, points: object, params: Sequence[object], na: object = None,
                     words: object = None) -> Rule:
    """由评分表一行的“规则类型、分值、参数、无基数时”构造规则。words 为“定性词表”区域（词语、档次两列，
    单元格函数收到的 list 或读取的行）；None 时定性规则用内置词表——旧工作簿的公式没有这个参数。"""
    t = _text(label)
    if t not in RULE_TYPES:
        raise RuleError(f"规则类型“{t}”无效，应为：{'、'.join(RULE_TYPES)}", field="rule")
    rule = RULE_TYPES[t].from_params(points, params, na)
    return with_words(rule, words)


_USES_WORDS: dict[type, bool] = {}  # 规则类 → 是否有 words 字段


# 参与缓存键的原值类型：这些类型的值相等即读法相同（另外排除 0.0 与 -0.0，见 _rule_key）；类型本身也进键（1、1.0、True 相等）
_PLAIN = frozenset({str, int, float, bool, type(None)})
_RULES: dict[tuple[object, ...], Rule] = {}
_RULES_WORDED: dict[tuple[object, ...], Rule] = {}  # 换上了某张词表的规则：(规则的键, 词表) → 规则
_RULES_MAX = 2048
_RULES_TEXT = 512  # 各格文字合计更长的规则不进缓存（不让缓存留住大段文字）


def _rule_key(label: str, points: Decimal, params: Sequence[object], na: str | None) -> tuple[object, ...] | None:
    if type(points) is not Decimal or type(label) is not str or not (na is None or type(na) is str):
        return None
    values = tuple(params)
    types = plain_types(values)
    if types is None:  # 日期、Decimal、0.0 等：不缓存
        return None
    # Decimal 的文本形式区分 5 与 5.0（相等而显示不同）
    return (label, str(points), na, types, values)


def plain_types(values: tuple[object, ...]) -> tuple[type, ...] | None:
    """一组原值各自的类型，原值连同类型可以作缓存键时；有 _PLAIN 以外的类型（日期、Decimal 等），或有 0.0 / -0.0
    （相等而读数不同）时 None。规则缓存与计分缓存（addin/scoring/score_cache.py）共用。"""
    types = tuple(map(type, values))
    floats = _float_places(types)
    if floats is None:
        return None
    for i in floats:
        if values[i] == 0:
            return None
    return types


@lru_cache(maxsize=1024)
def _float_places(types: tuple[type, ...]) -> tuple[int, ...] | None:
    """类型的元组 → 浮点数所在的位置（0.0 只可能在这些位置）；有 _PLAIN 以外的类型时 None。同一模板的工作簿里同一行
    各格的类型通常相同：按类型的元组缓存，每次不必逐个检查类型。"""
    if not _PLAIN.issuperset(types):
        return None
    return tuple(i for i, t in enumerate(types) if t is float)


def _text_size(values: Sequence[object]) -> int:
    return sum(len(v) if isinstance(v, str) else 0 for v in values)


def cached_rule(label: str, points: Decimal, params: Sequence[object], na: str | None = None,
                words: object = None) -> Rule:
    """rule_from_params，结果按单元格内容缓存：批量计分时同一模板的同一行在每个工作簿里写的都一样。规则是不可变的值，
    只由规则类型、分值与参数的原值决定（键区分 1 与 1.0 这类相等而写法不同的值）；读不懂的（RuleError）不缓存，每次照常报告。
    规则先按单元格缓存，再按（规则, 词表）缓存换上词表的结果（rule_from_params 也是先构造规则再换词表）。"""
    key = _rule_key(label, points, params, na)
    if key is None:
        return rule_from_params(label, points, params, na, words)
    rule = _RULES.get(key)
    if rule is None:
        rule = rule_from_params(label, points, params, na)
        if _text_size((label, na, *params)) > _RULES_TEXT:
            return with_words(rule, words)
        if len(_RULES) >= _RULES_MAX:
            _RULES.clear()
        _RULES[key] = rule
    if words is None or not isinstance(rule, (Qualitative, Target)):  # 与 with_words 相同
        return rule
    pairs = word_pairs(words)
    worded = _RULES_WORDED.get((key, pairs))
    if worded is None:
        worded = replace(rule, words=pairs)
        if len(_RULES_WORDED) >= _RULES_MAX:
            _RULES_WORDED.clear()
        _RULES_WORDED[(key, pairs)] = worded
    return worded


def with_words(rule: Rule, words: object) -> Rule:
    """给用到定性词表的规则（定性三档、目标比较）换上工作簿的词表；其他规则原样返回。"""
    if words is None or not isinstance(rule, (Qualitative, Target)):  # 只有这两种规则带 words
        return rule
    return replace(rule, words=word_pairs(words))


@dataclass(frozen=True)
class GradeScale:
    """评价等级：bands 为 (下限, 等级名) 按下限降序，区间左闭右开 [下限, 上一等级下限)；最后一档下限一般为 0。"""

    bands: tuple[tuple[Decimal, str], ...]

    def __post_init__(self) -> None:
        lows = [lo for lo, _ in self.bands]
        if not self.bands or lows != sorted(lows, reverse=True) or len(set(lows)) != len(lows):
            raise RuleError("等级标准的下限必须严格递减且至少一档")

    def grade(self, total: Decimal) -> str:
        for lo, name in self.bands:
            if total >= lo:
                return name
        return self.bands[-1][1]

    @classmethod
    def from_rows(cls, rows: Sequence[tuple[object, object]]) -> "GradeScale":
        bands = []
        for name, lo in rows:
            n = _text(name)
            if not n and is_blank(lo):
                continue
            bands.append((_d(lo, f"等级“{n}”的下限"), n))
        bands.sort(key=lambda b: b[0], reverse=True)
        return cls(tuple(bands))


