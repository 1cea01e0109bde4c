"""读条目的两种规则：目标比较（Target：按指标性质与指标值比较实际完成值，含时间目标与定性）与定性三档（Qualitative：
按“定性词表”归档后取该档得分系数）。条目怎样读见 entries.py 与 words.py。
"""
from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from typing import ClassVar, Sequence

from .entries import Completion, TimePoint, completion, read_target
from .numbers import InputError
from .rule import ZERO, Rule, RuleError, _d, _na, _pad, _points
from .words import read_qualitative

# 定性指标三档（财预〔2020〕10号）：达成 100%–80%，部分达成 80%–60%，未达成 60%–0%（得分系数区间，含上限）
QUALITATIVE_LEVELS = {"达成": (Decimal("0.8"), Decimal(1)), "部分达成": (Decimal("0.6"), Decimal("0.8")),
                      "未达成": (ZERO, Decimal("0.6"))}
Words = tuple[tuple[str, str], ...]


def _qualitative_reading(value: object, words: Words | None) -> tuple[Decimal, str]:
    """定性完成情况 → (得分系数, 读法说明)。文字按“定性词表”（udfs.entries）归入三档，取该档上限；也可直接写系数。"""
    try:
        r = read_qualitative(value, words)
    except InputError as exc:
        raise RuleError(str(exc), field="value") from None
    if isinstance(r.value, str):
        return QUALITATIVE_LEVELS[r.value][1], r.note
    coef = r.value
    if coef is None:
        raise RuleError("定性指标的完成情况未填写", field="value", code="missing")
    if not 0 <= coef <= 1:
        raise RuleError(f"定性指标得分系数应在 0～100% 之间，实际为 {coef * 100}%", field="value")
    return coef, r.note


def _qualitative(value: object, points: Decimal, words: Words | None = None) -> Decimal:
    """定性评分：值为等级文本（达成/部分达成/未达成 及定性词表中的词 → 该档上限系数）或得分系数（0～1，或写成 85%）。"""
    return points * _qualitative_reading(value, words)[0]


@dataclass(frozen=True)
class Qualitative(Rule):
    """定性三档：达成（80%–100% 分值）、部分达成（60%–80%）、未达成（0–60%）；
    实际值写等级时取该档上限，写得分系数时按系数计分。"""

    words: Words | None = None  # 工作簿“定性词表”的 (词语, 档次)；None 为内置词表
    label: ClassVar[str] = "定性三档"
    udf: ClassVar[str] = "SCORE_QUALITATIVE"

    def _score(self, value: object) -> Decimal:
        return _qualitative(value, self.points, self.words)

    def interpret(self, value: object) -> str:
        return _qualitative_reading(value, self.words)[1]

    @classmethod
    def from_params(cls, points: object, params: Sequence[object], na: object = None) -> Rule:
        return cls(_points(points), _na(na))

    def to_params(self) -> list[object]:
        return []


TARGET_NATURES = ("≥", "≤", "=", ">", "<", "定性")


@dataclass(frozen=True)
class Target(Rule):
    """目标比较（项目支出，财预〔2020〕10号）：指标性质 ≥/>/≤/</= 时，达到指标值得满分，未达到按
    完成值 ÷ 指标值 × 分值（≥ >）或 指标值 ÷ 完成值 × 分值（≤ <）计分，封顶为分值；指标值是时间（“6月底前”）时越早越好，
    晚了按时长之比计分；“定性”时按定性三档。指标性质、指标值、实际值的各种写法见 udfs.entries。"""

    nature: str = "≥"
    target: object = None  # Decimal；时间目标为 entries.TimePoint；定性时为原文
    words: Words | None = None  # 定性时用的“定性词表”；None 为内置词表
    unit: str = ""  # 指标值写明的单位（“≥300米”的“米”）：实际值写了另一种单位时报错
    notes: tuple[tuple[int, str], ...] = field(default=(), compare=False)  # 指标性质(0)、指标值(1)的读法说明
    label: ClassVar[str] = "目标比较"
    udf: ClassVar[str] = "SCORE_TARGET"
    param_names: ClassVar[tuple[str, ...]] = ("指标性质", "指标值")

    def __post_init__(self) -> None:
        super().__post_init__()
        if self.nature not in TARGET_NATURES:
            raise RuleError(f"指标性质应为 ≥、≤、=、>、< 或 定性，实际为“{self.nature}”", 0)
        if self.nature != "定性" and not isinstance(self.target, TimePoint):
            _d(self.target, "指标值", 1)

    def _completion(self, value: object) -> Completion:
        try:
            return completion(self.nature, self.target, value, self.unit)
        except InputError as exc:
            raise RuleError(str(exc), field="value") from None

    def _score(self, value: object) -> Decimal:
        if self.nature == "定性":
            return _qualitative(value, self.points, self.words)
        return self.points * min(self._completion(value).ratio, Decimal(1))

    def interpret(self, value: object) -> str:
        if self.nature == "定性":
            return _qualitative_reading(value, self.words)[1]
        return self._completion(value).note

    @classmethod
    def from_params(cls, points: object, params: Sequence[object], na: object = None) -> Rule:
        nat, tgt = _pad(params, 2)
        try:
            nature, target, unit, notes = read_target(nat, tgt)
        except InputError as exc:
            if exc.arg_index is None:  # 指标值中的数、时间写法无法识别（消息没有说是哪一格）
                raise RuleError(f"指标值：{exc}", 1) from None
            raise RuleError(str(exc), exc.arg_index, code=exc.code) from None  # 0 指标性质 / 1 指标值
        return cls(_points(points), _na(na), nature, target, None, unit, tuple(notes))

    def to_params(self) -> list[object]:
        if isinstance(self.target, TimePoint):
            return [self.nature, self.target.text or self.target.describe()]
        if self.unit and isinstance(self.target, Decimal):
            return [self.nature, f"{self.target}{self.unit}"]
        return [self.nature, self.target]
