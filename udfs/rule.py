"""评分规则的共同部分：规则基类 Rule（参数即评分表“参数1…参数10”单元格的内容，from_params / to_params 互为逆运算；
分值、“无基数时”的处理、四舍五入到 0.01 分）、RuleError（指明参数的中文说明）与比较符的读法。具体规则见 scoring.py 与 targets.py。
"""
from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import ClassVar, Sequence

from .numbers import MAX_ABS, InputError, is_blank, is_empty, is_none_token, parse_number, round2

ZERO = Decimal(0)


RULE_FIELDS = ("rule", "points", "na", "params", "value")


class RuleError(ValueError):
    """规则参数或实际值不符合规则要求（中文说明）。

    出错的是哪一格由两项说明（调用方据此指向单元格，不读消息文字）：param 为参数序号（0 起：0 即“参数1”），
    否则 field 为 "rule" 规则类型 / "points" 分值 / "na" 无基数时 / "params" 参数之间的关系（如下限大于上限）/
    "value" 实际值；都为 None 时未知。code："missing" 未填写 / "invalid" 写法无效或不合理 / "not-applicable" 无基数
    而规则未约定得分。
    """

    def __init__(self, message: str = "", param: int | None = None, *, field: str | None = None,
                 code: str = "invalid"):
        super().__init__(message)
        assert field is None or field in RULE_FIELDS, field
        self.param = param
        self.field = "params" if param is not None and field is None else field
        self.code = code


# “无基数时”（指标为 0÷0、不适用）的约定
NA_POLICIES = ("满分", "零分", "报错")


def _d(x: object, what: str, param: int | None = None, field: str | None = None) -> Decimal:
    """规则的一个数：param / field 说明它在哪一格（见 RuleError）。"""
    try:
        v = parse_number(x).value
    except InputError as exc:
        raise RuleError(f"{what}：{exc}", param, field=field) from None
    if v is None:
        raise RuleError(f"{what}未填写", param, field=field, code="missing")
    return v


def _opt_d(x: object, what: str, param: int | None = None) -> Decimal | None:
    if is_blank(x):
        return None
    return _d(x, what, param)


def _text(x: object) -> str:
    if x is None:
        return ""
    if isinstance(x, float) and x.is_integer():
        x = int(x)
    return str(x).strip()


@dataclass(frozen=True)
class Rule:
    """所有规则的公共部分：分值 points 与“无基数时”约定 na。"""

    points: Decimal
    na: str = "报错"

    label: ClassVar[str] = ""
    udf: ClassVar[str] = ""
    param_names: ClassVar[tuple[str, ...]] = ()

    def __post_init__(self) -> None:
        if self.points < 0:
            raise RuleError(f"分值不能为负数（{self.points}）", field="points")
        if self.na not in NA_POLICIES:
            raise RuleError(f"“无基数时”应为 {'/'.join(NA_POLICIES)}，实际为“{self.na}”", field="na")

    # --- public API -------------------------------------------------------------------------------------
    def score(self, value: object) -> Decimal:
        """对实际值评分。

        - value 为 None（指标函数返回的“不适用”，如 0 ÷ 0）或写明的“没有”（“无”“—”“不适用”等）：按“无基数时”约定；
        - 空白文本（空串、只有空格）是未填写：RuleError，不按“无基数时”给分（空白不是零）。
          单元格为空时（Excel 传入 None）由单元格函数先判为未填写（udfs.excel），计分引擎也先行检查，不会走到这里。
        """
        if isinstance(value, str) and is_empty(value):
            raise RuleError("实际值未填写", field="value", code="missing")
        if value is None or is_none_token(value):
            return self._not_applicable(value)
        s = self._score(value)
        return round2(min(max(s, ZERO), self.points))

    def _not_applicable(self, value: object) -> Decimal:
        if self.na == "满分":
            return round2(self.points)
        if self.na == "零分":
            return ZERO.quantize(Decimal("0.01"))
        shown = "不适用" if value is None else f"“{_text(value)}”"
        raise RuleError(f"实际值为{shown}（无基数，如 0÷0 或写明“无”），且本规则未约定“无基数时”得分", field="value",
                        code="not-applicable")

    def _score(self, value: object) -> Decimal:  # pragma: no cover - abstract
        raise NotImplementedError

    def interpret(self, value: object) -> str:
        """实际值是怎样读的（如“‘≥300米’按 300 计算”）；原样即可理解时为空串。读不懂时抛出 RuleError（与 score 相同）。"""
        return ""

    def _num(self, value: object) -> Decimal:
        if type(value) is Decimal and value.is_finite() and abs(value) <= MAX_ABS:
            return value  # 单元格函数算出的实际值：parse_number 对有限、不过大的 Decimal 原样返回，不必再解析
        return _d(value, "实际值", field="value")

    # --- params <-> cells -------------------------------------------------------------------------------
    @classmethod
    def from_params(cls, points: object, params: Sequence[object], na: object = None) -> "Rule":
        raise NotImplementedError  # pragma: no cover

    def to_params(self) -> list[object]:
        raise NotImplementedError  # pragma: no cover


def _points(points: object) -> Decimal:
    return _d(points, "分值", field="points")


def _na(na: object) -> str:
    t = _text(na)
    return t or "报错"


def _pad(params: Sequence[object], n: int) -> list[object]:
    p = list(params)[:n]
    return p + [None] * (n - len(p))


_OPS = {"≤": "<=", "<=": "<=", "≦": "<=", "<": "<", "＜": "<", "≥": ">=", ">=": ">=", "≧": ">=", ">": ">", "＞": ">",
        "=": "=", "＝": "="}


def _op(x: object, param: int | None = None) -> str:
    t = _text(x)
    if t not in _OPS:
        raise RuleError(f"比较符“{t}”无效，应为 ≤ < ≥ > =", param)
    return _OPS[t]


def _compare(v: Decimal, op: str, t: Decimal) -> bool:
    return {"<=": v <= t, "<": v < t, ">=": v >= t, ">": v > t, "=": v == t}[op]


_OP_DISPLAY = {"<=": "≤", "<": "<", ">=": "≥", ">": ">", "=": "="}
