"""数值解析与舍入规则（纯函数，无 I/O）。

舍入规则（全项目唯一）：计算过程一律使用 Decimal 精确值；仅在“显示”与“得分”两处舍入，
均为 ROUND_HALF_UP（四舍五入）保留 2 位小数：
- 比率显示为百分数 2 位小数：39.51 ÷ 22.98 = 1.719321… → 171.93%（不是截断得到的 171.92%）；
- 每个三级指标的得分四舍五入到 0.01 分，小计与总分是已舍入得分的精确加总。
评分规则比较阈值时使用未舍入的精确比率（不先把比率舍入到整百分点）。
"""
from __future__ import annotations

import datetime as _dt
import re
import unicodedata
from decimal import ROUND_HALF_UP, Decimal, getcontext, localcontext
from typing import NamedTuple

__all__ = [
    "InputError", "Parsed", "parse_number", "to_decimal", "round2", "fmt_pct", "fmt_num", "fmt_score",
    "is_blank", "is_empty", "is_none_token", "BLANK_TOKENS", "NONE_TOKENS",
]

CENT = Decimal("0.01")
# 单元格数值的绝对值上限：Excel 只保证 15 位有效数字，超过 10^15 的金额、人数、比率都是误输入（1e308、10^30……）；
# 拒绝它们也保证后续计算与显示不会溢出
MAX_ABS = Decimal(10) ** 15
# 空白不是零（“未填写”与“没有”是两回事）：
# - 真正的空白——单元格为空（None）、空串或只有空格——表示“未填写”：需要它的指标不计分，并指出该单元格；
# - 写明的“没有”——下面这些写法（以及数字 0）——在财务表里都表示“无/零”：金额、人数按 0 计算（0 ÷ 0 为“不适用”，
#   由规则的“无基数时”定分），扣分清单为无扣分，实际值按“不适用”处理。用户特意写了字，意思就是“没有”。
NONE_TOKENS = frozenset({"-", "—", "——", "–", "无", "/", "／", "空", "不适用", "N/A", "n/a", "NA"})
# 解析后值为 None 的全部写法（未填写 ＋ 写明的没有）；不区分两者的调用方仍用它
BLANK_TOKENS = NONE_TOKENS | {""}


class InputError(ValueError):
    """输入值无法理解为数字；message 为中文说明。arg_index：出错的是函数的第几个参数（0 起，未知为 None），
    调用方据此找到对应的单元格，而不是去读消息文字。code：错误的种类（"invalid" 写法无法理解）。"""

    def __init__(self, message: str = "", arg_index: int | None = None, code: str = "invalid"):
        super().__init__(message)
        self.arg_index = arg_index
        self.code = code


class Parsed(NamedTuple):
    """一个单元格解析结果：value 为主值，alt 为括号中的备选数，note 为提示。
    value 为 None 时，none 区分两种情形：True 为写明的“没有”（0 以外的 NONE_TOKENS：无、—……），False 为未填写。
    不可变的值：parse_number 对同一原值返回同一个结果。"""

    value: Decimal | None
    alt: Decimal | None = None
    note: str = ""
    none: bool = False

    @property
    def empty(self) -> bool:
        """未填写（空白单元格、空串、只有空格）。"""
        return self.value is None and not self.none

    def __repr__(self) -> str:  # pragma: no cover - debugging aid
        return f"Parsed({self.value!r}, alt={self.alt!r}, note={self.note!r}, none={self.none!r})"


_NUM = r"[+-]?(?:\d{1,3}(?:,\d{3})+|\d+)(?:\.\d+)?"
_NUM_RE = re.compile(rf"^({_NUM})(%|‰)?$")
_ALT_RE = re.compile(rf"^({_NUM})(%)?\(({_NUM})(%)?\)$")
_UNIT_SUFFIX = ("万元", "元", "人", "个", "次", "分", "小时", "分钟", "年", "天", "项")


def is_blank(raw: object) -> bool:
    """未填写或写明的“没有”（解析后无数值）。要区分两者时用 is_empty / is_none_token。"""
    if raw is None:
        return True
    if isinstance(raw, str):
        return unicodedata.normalize("NFKC", raw).strip() in BLANK_TOKENS
    return False


def is_empty(raw: object) -> bool:
    """真正的空白——未填写：None、空串或只有空格（含全角空格）。"""
    return raw is None or (isinstance(raw, str) and not unicodedata.normalize("NFKC", raw).strip())


def is_none_token(raw: object) -> bool:
    """写明的“没有”：“无”“—”“-”“/”“不适用”“N/A”等文字（数字 0 是数，不在此列）。"""
    return isinstance(raw, str) and _normalise(raw) in NONE_TOKENS


def _normalise(text: str) -> str:
    # NFKC 把全角数字、全角百分号、全角括号与全角逗号统一为半角
    t = unicodedata.normalize("NFKC", text).strip()
    t = t.replace("，", ",").replace(" ", "").replace("\u3000", "")
    t = t.replace("−", "-").replace("－", "-")
    return t


# parse_number 的结果按原值缓存（单元格里反复出现同样的分值、参数、“无”）：键是原值本身，只收相等即读法相同的类型——
# int、不长的 str，以及非 0 的 float（0.0 与 -0.0 相等而读数不同）；无法识别的（InputError）不缓存，每次照常抛出
_CACHE_MAX = 4096
_CACHE_TEXT = 64  # 更长的文字不进缓存（不让缓存留住大段文字）
_PARSED: dict[type, dict[object, Parsed]] = {int: {}, str: {}, float: {}}
_NONE = Parsed(None)


def parse_number(raw: object) -> Parsed:
    """把单元格原值解析为 Decimal。

    能理解：数字、以文本存储的数字、全角数字、千分位、`95%`/`95％`（→0.95）、`3745（2177）`
    （主值 3745，括号内 2177 作为备选数并给出提示）、带单位后缀的数字（`30人`）。
    空白（未填写）与 `—`、`-`、`无` 等写明的“没有”都得到 value=None，后者 none=True。其他情况抛出 InputError（中文说明）。
    """
    if raw is None:
        return _NONE
    cache = _PARSED.get(type(raw))  # 类型须完全相同：bool 是 int 的子类，却是另一种读法
    if cache is None:
        return _parse(raw)
    hit = cache.get(raw)
    if hit is None:
        hit = _parse(raw)
        if (raw or type(raw) is not float) and not (type(raw) is str and len(raw) > _CACHE_TEXT):
            if len(cache) >= _CACHE_MAX:
                cache.clear()
            cache[raw] = hit
    return hit


def _parse(raw: object) -> Parsed:
    if raw is None:
        return Parsed(None)
    if isinstance(raw, bool):
        raise InputError("应为数字，实际为逻辑值（TRUE/FALSE）")
    if isinstance(raw, Decimal):
        if not raw.is_finite():
            raise InputError("数值无效（非数字或无穷大）")
        return Parsed(_bounded(raw))
    if isinstance(raw, int):
        return Parsed(_bounded(Decimal(raw)))
    if isinstance(raw, float):
        if raw != raw or raw in (float("inf"), float("-inf")):
            raise InputError("数值无效（非数字或无穷大）")
        # repr 给出最短的能还原该浮点数的十进制串：Excel 中的 892.35 → Decimal('892.35')
        return Parsed(_bounded(Decimal(repr(raw))))
    if isinstance(raw, (_dt.date, _dt.datetime, _dt.time)):
        raise InputError("应为数字，实际为日期/时间（请检查单元格格式）")
    if not isinstance(raw, str):
        raise InputError(f"无法识别的数据类型：{type(raw).__name__}")
    text = _normalise(raw)
    if text in BLANK_TOKENS:
        return Parsed(None, none=bool(text))
    if text.startswith("#"):
        raise InputError(f"单元格为错误值 {text}")
    for suffix in _UNIT_SUFFIX:
        if text.endswith(suffix) and len(text) > len(suffix):
            text = text[: -len(suffix)]
            break
    m = _NUM_RE.match(text)
    if m:
        value = Decimal(m.group(1).replace(",", ""))
        if m.group(2) == "%":
            value = value / 100
        elif m.group(2) == "‰":
            value = value / 1000
        note = "以文本形式存储的数字" if isinstance(raw, str) else ""
        return Parsed(_bounded(value), note=note)
    m = _ALT_RE.match(text)
    if m:
        main = Decimal(m.group(1).replace(",", ""))
        alt = Decimal(m.group(3).replace(",", ""))
        if m.group(2):
            main /= 100
        if m.group(4):
            alt /= 100
        return Parsed(_bounded(main), _bounded(alt), f"单元格含两个数（{raw.strip()}），按括号外的 {m.group(1)} 计算，括号内 {m.group(3)} 为备注数")
    raise InputError(f"无法识别为数字：“{raw.strip()[:40]}”")


def _bounded(x: Decimal) -> Decimal:
    if abs(x) > MAX_ABS:
        raise InputError(f"数值 {x:.6g} 过大（绝对值超过 10 的 15 次方），请检查单元格是否误输入")
    return x


def to_decimal(raw: object) -> Decimal | None:
    """parse_number 的简写：只取主值。"""
    return parse_number(raw).value


def _quantize(x: Decimal, exp: Decimal) -> Decimal:
    # 精度随数值放大：极大的比率（如 1 ÷ 0.000001）也能舍入显示，而不是抛出 InvalidOperation。
    # 当前精度已够时（几乎所有得分与比率）提高精度是空操作，直接舍入，省去复制上下文
    if x.adjusted() - exp.adjusted() + 2 <= getcontext().prec:
        return x.quantize(exp, rounding=ROUND_HALF_UP)
    with localcontext() as ctx:
        ctx.prec = max(ctx.prec, x.adjusted() - exp.adjusted() + 2)
        return x.quantize(exp, rounding=ROUND_HALF_UP)


def round2(x: Decimal) -> Decimal:
    """四舍五入（ROUND_HALF_UP）保留 2 位小数。"""
    return _quantize(x, CENT)


def fmt_pct(rate: Decimal | None) -> str:
    """比率 → 百分数文本，2 位小数，ROUND_HALF_UP：Decimal('1.7193212') → '171.93%'。"""
    if rate is None:
        return "不适用"
    return f"{round2(rate * 100)}%"


def fmt_num(x: Decimal | None, places: int = 2) -> str:
    """金额/数量文本：去掉多余的 0，最多 places 位小数（ROUND_HALF_UP）。"""
    if x is None:
        return "—"
    q = _quantize(x, Decimal(1).scaleb(-places))
    s = format(q, "f")
    if "." in s:
        s = s.rstrip("0").rstrip(".")
    return "0" if s in ("-0", "") else s


def fmt_score(x: Decimal | None) -> str:
    """得分文本：最多 2 位小数，去掉末尾 0（7.90 → 7.9，13.00 → 13）。"""
    return fmt_num(x, 2)
