"""人们在评分表里实际写下的条目，如何读（纯函数，无 I/O）。

真实的项目自评表里，同一件事有许多写法（见 domain.md §7）：
- 指标性质：≥ ≧ ⩾ ＞＝ >= ≤ ≦ ⩽ ＜＝ <= = ＝ ═ ＞ ＜ > <，或 不低于/不少于/不高于/不超过/大于等于/小于等于/等于/大于/小于/
  高于/低于，或 定性；也常直接写在指标值里：“≥95%”“95%以上”。
- 实际完成值抄了指标值的符号或单位：“≥300米”“≤5%”“100%”“1200人次”“98.5分”“3.5万元”。
- 时间目标：“6月底前”“10月前”“11月”“2023年11月”“2023年6月16日”、Excel 日期、“年底前”“上半年”——越早越好，按月或按日比较。
- 定性完成情况：达成/已完成/完成/有效/显著/明显/良好/较好/部分达成/基本完成/未完成……按“定性词表”归入三档（words.py）。

每个函数返回读出的值和一句说明（note，说明是怎样读的；原样即可理解时为空串），由评分规则（udfs.scoring）使用——
Excel 中的单元格函数与无界面引擎走同一段代码；引擎再把说明作为“提示”写出、点名单元格。仍有歧义的写法
（“约300”“大部分”、时间目标对数字）抛出 EntryError（中文说明），绝不猜测、绝不悄悄给满分。
"""
from __future__ import annotations

import calendar
import datetime as _dt
import re
import unicodedata
from dataclasses import dataclass, field
from decimal import Decimal
from functools import lru_cache
from typing import Any

from .numbers import InputError, fmt_num, is_blank, parse_number

__all__ = [
    "EntryError", "Reading", "TimePoint", "DIRECTIONS",
    "read_direction", "read_target", "read_actual", "read_time", "completion", "Completion", "family",
]


class EntryError(InputError):
    """条目有歧义或无法理解（中文说明）。是 InputError 的子类：单元格函数把它显示为“错误：…”。"""


@dataclass(frozen=True)
class Reading:
    """一个条目的读法：value 为读出的值，note 说明怎样读的（原样即可理解时为空串）。"""

    value: Any
    note: str = ""


# ------------------------------------------------------------------------------------------------ 方向（指标性质）
DIRECTIONS = ("≥", "≤", "=", ">", "<", "定性")

# 符号写法（先做 NFKC：全角 ＞＝ ＝ ＜ ＞ 与小号 ﹤ ﹥ 变成半角；≧ ⩾ ═ 等不是兼容字符，逐个列出）
_SYMBOLS = {
    ">=": "≥", "=>": "≥", "≥": "≥", "≧": "≥", "⩾": "≥", "≥=": "≥",
    "<=": "≤", "=<": "≤", "≤": "≤", "≦": "≤", "⩽": "≤", "≤=": "≤",
    "=": "=", "==": "=", "═": "=", "≡": "=",
    ">": ">", "<": "<", "≻": ">", "≺": "<",
}
# 文字写法：长的在前（“不超过”先于“超过”，“大于等于”先于“大于”）
_WORDS = (
    ("大于或等于", "≥"), ("大于等于", "≥"), ("不低于", "≥"), ("不少于", "≥"), ("不小于", "≥"), ("至少", "≥"),
    ("小于或等于", "≤"), ("小于等于", "≤"), ("不高于", "≤"), ("不超过", "≤"), ("不多于", "≤"), ("不大于", "≤"),
    ("至多", "≤"), ("最多", "≤"), ("控制在", "≤"),
    ("等于", "="), ("达到", "≥"),
    ("大于", ">"), ("高于", ">"), ("超过", ">"), ("多于", ">"),
    ("小于", "<"), ("低于", "<"), ("少于", "<"),
)
_SYMBOL_RE = re.compile("|".join(re.escape(s) for s in sorted(_SYMBOLS, key=len, reverse=True)))


def family(direction: str) -> str:
    """方向所属的一族：≥ 与 > 为“越大越好”，≤ 与 < 为“越小越好”，= 自成一族。"""
    return {"≥": "≥", ">": "≥", "≤": "≤", "<": "≤"}.get(direction, direction)


def _norm(text: str) -> str:
    t = unicodedata.normalize("NFKC", text)
    return re.sub(r"\s+", "", t).replace("−", "-").replace("－", "-")


def _show(raw: Any) -> str:
    if isinstance(raw, float) and raw.is_integer():
        raw = int(raw)
    if isinstance(raw, (_dt.datetime, _dt.date)):
        return raw.strftime("%Y-%m-%d")
    return str(raw).strip()


def _split_direction(text: str) -> tuple[str | None, str]:
    """把开头的比较符号或文字拆出来：“≥95%” → ("≥", "95%")，“不低于300米” → ("≥", "300米")。"""
    m = _SYMBOL_RE.match(text)
    if m:
        return _SYMBOLS[m.group(0)], text[m.end():]
    for word, d in _WORDS:
        if text.startswith(word):
            return d, text[len(word):]
    return None, text


def read_direction(raw: Any) -> Reading:
    """指标性质单元格 → ≥ ≤ = > < 定性 之一（空白为 None）。不是标准写法时 note 说明按哪个符号计算。"""
    if raw is None or (isinstance(raw, str) and not raw.strip()):
        return Reading(None)
    shown = _show(raw)
    t = _norm(shown)
    if t in DIRECTIONS:
        return Reading(t, "" if t == shown else f"‘{shown}’按“{t}”计算")
    if t in ("定性指标", "定性描述"):
        return Reading("定性", f"‘{shown}’按“定性”计算")
    d, rest = _split_direction(t)
    if d is not None and not rest:
        return Reading(d, f"‘{shown}’按“{d}”计算")
    raise EntryError(f"指标性质“{shown[:20]}”无法识别，应为 ≥、≤、=、>、< 或 定性（也可写 不低于、不超过、等于……）")


# ------------------------------------------------------------------------------------------------ 数量
_NUM = r"[+-]?(?:\d{1,3}(?:,\d{3})+|\d+)(?:\.\d+)?"
_QTY_RE = re.compile(rf"^(?P<num>{_NUM})(?P<pct>%|‰)?(?P<unit>[^\d%‰]{{0,8}})$")
# 约数、概数：无法按确切数值比较
_APPROX = ("约", "大约", "左右", "上下", "前后", "余", "多", "近", "逾", "大概", "估计", "若干", "以上", "以下", "及以上", "及以下")
_ABOVE = ("及以上", "以上")
_BELOW = ("及以下", "以下", "以内")


@dataclass(frozen=True)
class Quantity:
    value: Decimal
    unit: str = ""  # 去掉的单位（米、人次、万元……）；百分号已折算进 value，不在此处


def _quantity(text: str, shown: str) -> Quantity:
    m = _QTY_RE.match(text)
    if not m:
        raise EntryError(f"“{shown[:30]}”无法识别为数值")
    unit = m.group("unit")
    if any(a in unit for a in _APPROX):
        raise EntryError(f"“{shown[:30]}”是约数，无法按确切数值比较；请填写确切的数值")
    v = Decimal(m.group("num").replace(",", ""))
    if m.group("pct") == "%":
        v /= 100
    elif m.group("pct") == "‰":
        v /= 1000
    return Quantity(v, unit)


def _approx_check(text: str, shown: str) -> None:
    if any(text.startswith(a) for a in _APPROX) or any(w in text for w in ("左右", "大约", "大概", "估计", "若干")):
        raise EntryError(f"“{shown[:30]}”是约数，无法按确切数值比较；请填写确切的数值")


# ------------------------------------------------------------------------------------------------ 时间
@dataclass(frozen=True)
class TimePoint:
    """时间目标或完成时间：year 可省略；day 为 None 时只到月（月底为界）。text 为原文（比较时不计）。"""

    year: int | None
    month: int
    day: int | None = None
    text: str = field(default="", compare=False)

    def describe(self) -> str:
        y = f"{self.year}年" if self.year else ""
        return f"{y}{self.month}月{self.day}日" if self.day else f"{y}{self.month}月底"


_CN_DIGITS = {"一": 1, "二": 2, "两": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7, "八": 8, "九": 9, "十": 10}


def _cn_number(s: str) -> int | None:
    if s.isdigit():
        return int(s)
    if not s or any(ch not in _CN_DIGITS for ch in s):
        return None
    if s == "十":
        return 10
    if s.startswith("十"):
        return 10 + _CN_DIGITS[s[1]] if len(s) == 2 else None
    if s.endswith("十"):
        return _CN_DIGITS[s[0]] * 10 if len(s) == 2 else None
    if len(s) == 3 and s[1] == "十":
        return _CN_DIGITS[s[0]] * 10 + _CN_DIGITS[s[2]]
    return _CN_DIGITS[s] if len(s) == 1 else None


_MONTH = r"(?P<m>\d{1,2}|[一二三四五六七八九十]{1,3})"
_TIME_TAIL = r"(?:底|末|中旬|上旬|下旬|份)?(?:之前|以前|以内|前|内|止|为止)?(?:前)?(?:完成|完工|实施|到位|开展|办结|兑现|发放|拨付)?"


@lru_cache(maxsize=None)
def _time_patterns() -> tuple[re.Pattern[str], re.Pattern[str], tuple[tuple[re.Pattern[str], int], ...]]:
    """时间写法的正则（首次用到时才编译：导入单元格函数模块的时间计入 Excel 启动）。"""
    y = r"(?:(?P<y>\d{4})年)?"
    time_re = re.compile(rf"^{y}{_MONTH}月(?:(?P<d>\d{{1,2}})[日号])?(?P<tail>{_TIME_TAIL})$")
    date_re = re.compile(rf"^(?P<y>(?:19|20)\d{{2}})[./\-](?P<m>\d{{1,2}})(?:[./\-](?P<d>\d{{1,2}}))?(?P<tail>{_TIME_TAIL})$")
    periods = tuple((re.compile(f"^{y}{p}{_TIME_TAIL}$"), month) for p, month in (
        ("(?:年底|年末|年内|全年|年度内|本年度内|本年内)", 12), ("上半年", 6), ("下半年", 12),
        ("(?:第)?[一1]季度", 3), ("(?:第)?[二2]季度", 6), ("(?:第)?[三3]季度", 9), ("(?:第)?[四4]季度", 12)))
    return time_re, date_re, periods


# 完成情况写成“按时完成”：时间目标已达到
_ON_TIME = ("按时完成", "如期完成", "按期完成", "提前完成", "已按时完成", "按时", "如期", "按期", "提前")


def read_time(raw: Any) -> TimePoint | None:
    """时间写法 → TimePoint；不是时间写法时返回 None。日期不存在（2月30日）抛出 EntryError。"""
    if isinstance(raw, _dt.datetime) or isinstance(raw, _dt.date):
        return TimePoint(raw.year, raw.month, raw.day, _show(raw))
    if not isinstance(raw, str):
        return None
    shown = raw.strip()
    t = _norm(shown)
    for prefix in ("≤", "<=", "<", "于", "在"):  # “≤6月”“于6月底前”
        if t.startswith(prefix) and len(t) > len(prefix):
            t = t[len(prefix):]
            break
    y = m = d = None
    tail = ""
    time_re, date_re, periods = _time_patterns()
    mt = time_re.match(t) or date_re.match(t)
    if mt:
        y = int(mt.group("y")) if mt.group("y") else None
        m = _cn_number(mt.group("m"))
        d = int(mt.group("d")) if mt.group("d") else None
        tail = mt.group("tail")
    else:
        for rx, month in periods:
            mp = rx.match(t)
            if mp:
                y, m = (int(mp.group("y")) if mp.group("y") else None), month
                break
        else:
            return None
    if m is None or not 1 <= m <= 12:
        raise EntryError(f"“{shown[:30]}”中的月份无效")
    if d is None and tail.startswith("上旬"):
        d = 10
    elif d is None and tail.startswith("中旬"):
        d = 20
    if d is not None:
        last = calendar.monthrange(y or 2001, m)[1] if not (m == 2 and y is None) else 29
        if not 1 <= d <= last:
            raise EntryError(f"“{shown[:30]}”中的日期不存在")
    return TimePoint(y, m, d, shown)


def _is_time(text: str) -> bool:
    try:
        return read_time(text) is not None
    except EntryError:  # 像时间却不成立（13月）：也不是数值
        return True


# ------------------------------------------------------------------------------------------------ 指标值
def read_target(nature: Any, target: Any) -> tuple[str, Any, str, list[tuple[int, str]]]:
    """指标性质与指标值两格 → (方向, 指标值, 单位, 说明)。指标值为 Decimal、TimePoint，定性时为原文。
    说明为 [(参数序号 0/1, 文字)]：0 指指标性质格，1 指指标值格。"""
    notes: list[tuple[int, str]] = []
    try:
        d_read = read_direction(nature)
    except EntryError as exc:
        raise EntryError(str(exc), 0) from None
    direction = d_read.value
    if d_read.note:
        notes.append((0, d_read.note))
    if direction == "定性":
        return "定性", target, "", notes
    if is_blank(target):
        raise EntryError("指标值未填写", 1, "missing")
    if isinstance(target, bool):
        raise EntryError("指标值应为数值或时间，实际为逻辑值", 1)
    if isinstance(target, (_dt.date, _dt.datetime)):
        tp = read_time(target)
        assert tp is not None
        d = _time_direction(direction, tp, _show(target), notes)
        notes.append((1, f"日期 {_show(target)} 按时间目标（含）以前完成计算，越早越好"))
        return d, tp, "", notes
    if isinstance(target, (int, float, Decimal)):
        if direction is None:
            raise EntryError("指标性质未填写（应为 ≥、≤、=、>、< 或 定性），也没有写在指标值中", 0, "missing")
        try:
            v = parse_number(target).value
        except InputError as exc:
            raise EntryError(f"指标值：{exc}", 1) from None
        return direction, v, "", notes
    shown = _show(target)
    t = _norm(shown)
    inner, rest = _split_direction(t)
    tp = None if _plain_number_text(rest) else read_time(rest) if rest else None
    if tp is None and inner is None and not _plain_number_text(t):
        tp = read_time(t)
    if tp is not None:
        d = _time_direction(direction, tp, shown, notes, inner)
        notes.append((1, f"‘{shown}’按时间目标 {tp.describe()}（含）以前完成计算，越早越好"))
        return d, tp, "", notes
    for words, d in ((_ABOVE, "≥"), (_BELOW, "≤")):  # “95%以上”“5%以下”“控制在5%以内”
        w = next((w for w in words if rest.endswith(w) and len(rest) > len(w)), None)
        if w is not None:
            if inner is not None and family(inner) != d:
                raise EntryError(f"指标值“{shown}”中的“{inner}”与“{w}”方向相反，无法判断", 1)
            inner, rest = inner or d, rest[: -len(w)]
            break
    _approx_check(rest, shown)
    q = _quantity(rest, shown)
    if inner is not None and direction is not None and family(inner) != family(direction):
        raise EntryError(f"指标性质“{direction}”与指标值“{shown}”中的“{inner}”方向相反，无法判断", 0)
    if direction is None and inner is None:
        raise EntryError("指标性质未填写（应为 ≥、≤、=、>、< 或 定性），也没有写在指标值中", 0, "missing")
    chosen = direction or inner
    assert chosen is not None  # 上一行已排除两者都没有
    d = chosen
    if inner is not None or q.unit or not _plain_number_text(rest):
        shown_value = _fmt(q.value, "%" in rest or "‰" in rest)
        notes.append((1, f"‘{shown}’按 {d} {shown_value}{q.unit} 计算"))
    return d, q.value, q.unit, notes


def _time_direction(direction: str | None, tp: TimePoint, shown: str, notes: list[tuple[int, str]],
                    inner: str | None = None) -> str:
    """时间目标越早越好：指标性质应为 ≤、<、= 或不填；≥、> 与“越早越好”矛盾。"""
    d = direction or inner or "≤"
    if family(d) == "≥":
        raise EntryError(f"指标值“{shown}”是时间（越早越好），指标性质却是“{d}”；请把指标性质改为“≤”", 1)
    if d == "=":
        notes.append((0, "时间目标按“≤”（不晚于）计算"))
        d = "≤"
    return d


def _plain_number_text(t: str) -> bool:
    return bool(re.fullmatch(_NUM, t))


def _fmt(v: Decimal, pct: bool) -> str:
    return f"{fmt_num(v * 100, 6)}%" if pct else fmt_num(v, 6)


# ------------------------------------------------------------------------------------------------ 实际完成值
def read_actual(raw: Any, direction: str, target: Any, unit: str = "") -> Reading:
    """实际完成值 → Decimal 或 TimePoint（与指标值同类）。抄了指标值的符号或单位时去掉并说明；有歧义时抛出 EntryError。"""
    if isinstance(raw, bool):
        raise EntryError("实际值应为数值，实际为逻辑值（TRUE/FALSE）")
    shown = _show(raw)
    if isinstance(target, TimePoint):
        tp = read_time(raw)
        if tp is not None:
            note = "" if isinstance(raw, (_dt.date, _dt.datetime)) else f"‘{shown}’按完成时间 {tp.describe()} 计算"
            return Reading(tp, note)
        if isinstance(raw, str) and _norm(shown) in _ON_TIME:
            return Reading(target, f"‘{shown}’按在时间目标 {target.describe()} 以前完成计算")
        if isinstance(raw, (int, float, Decimal)):
            raise EntryError(f"指标值是时间（{target.text or target.describe()}），实际值却是数字 {shown}，无法比较；"
                             "请填写完成时间（如 2023年6月、6月16日）")
        raise EntryError(f"指标值是时间（{target.text or target.describe()}），实际值“{shown[:30]}”无法识别为完成时间")
    if isinstance(raw, (_dt.date, _dt.datetime)):
        raise EntryError(f"实际值是日期 {shown}，指标值却是数值，无法比较")
    if isinstance(raw, (int, float, Decimal)):
        try:
            return Reading(parse_number(raw).value)
        except InputError as exc:
            raise EntryError(f"实际值：{exc}") from None
    if is_blank(raw):
        raise EntryError(f"实际完成值未填写（“{shown}”）")
    t = _norm(shown)
    inner, rest = _split_direction(t)
    if not _plain_number_text(rest) and _is_time(t):
        raise EntryError(f"实际值“{shown[:30]}”是时间，指标值却是数值，无法比较")
    _approx_check(rest, shown)
    if not rest or not re.match(r"[+-]?\d", rest):
        raise EntryError(f"实际值“{shown[:30]}”是文字，指标值是数值，无法比较；请填写实际完成的数值"
                         + ("（定性指标请把指标性质改为“定性”）" if not re.search(r"\d", t) else ""))
    q = _quantity(rest, shown)
    if inner is not None and family(inner) != family(direction) and family(direction) != "=":
        raise EntryError(f"实际值“{shown}”写有“{inner}”，与指标性质“{direction}”不一致，无法判断实际完成的数值")
    if q.unit and unit and q.unit != unit:
        raise EntryError(f"实际值“{shown}”的单位“{q.unit}”与指标值的单位“{unit}”不同，请换算成同一单位")
    if inner is None and not q.unit and _plain_number_text(rest):
        return Reading(q.value)  # 以文本存储的普通数字
    pct = "%" in rest or "‰" in rest
    dropped = "、".join(x for x in (f"比较符“{inner}”" if inner else "", f"单位“{q.unit}”" if q.unit else "") if x)
    return Reading(q.value, f"‘{shown}’按 {_fmt(q.value, pct)} 计算" + (f"（去掉{dropped}）" if dropped else ""))


# ------------------------------------------------------------------------------------------------ 完成程度
@dataclass(frozen=True)
class Completion:
    """完成程度：ratio 为得分比例（可大于 1，评分时封顶），met 是否达到指标，note 实际值的读法。"""

    ratio: Decimal
    met: bool
    note: str = ""


def completion(direction: str, target: Any, actual: Any, unit: str = "") -> Completion:
    """项目支出指标完成程度（财预〔2020〕10号）：
    ≥、> 完成值 ÷ 指标值；≤、< 指标值 ÷ 完成值（达到即 100%）；= 相等为 100%，否则取两者之比的较小者；
    时间目标越早越好：按月（写到日的按日）比较，从指标值所在年份的 1 月起计，晚了按 指标时长 ÷ 实际时长。
    严格的 > 与 < 在恰好相等时未达到指标（met 为假），按比例仍为 100%，由说明指出。"""
    r = read_actual(actual, direction, target, unit)
    a = r.value
    if isinstance(target, TimePoint):
        return _time_completion(direction, target, a, r.note)
    t = target
    assert isinstance(t, Decimal) and isinstance(a, Decimal)
    if family(direction) == "≥":
        met = a > t if direction == ">" else a >= t
        ratio = Decimal(1) if t == 0 and a >= 0 else (a / t if t != 0 else Decimal(0))
    elif family(direction) == "≤":
        met = a < t if direction == "<" else a <= t
        ratio = Decimal(1) if a <= t else (t / a if t > 0 else Decimal(0))
    else:
        met = a == t
        ratio = Decimal(1) if a == t else Decimal(0) if a == 0 or t == 0 else min(a / t, t / a)
    note = r.note
    if direction in (">", "<") and a == t:
        note = (note + "；" if note else "") + f"实际值等于指标值，未达到“{direction}”（严格{'大于' if direction == '>' else '小于'}），" \
                                               "按完成比例计为 100%，请评价人确认"
    return Completion(ratio, met, note)


def _time_completion(direction: str, target: TimePoint, actual: TimePoint, note: str) -> Completion:
    base = target.year or actual.year
    notes = [note] if note else []
    if (target.year is None) != (actual.year is None):
        notes.append(f"未写年份的一方按 {base} 年计算")
    by_day = target.day is not None and actual.day is not None

    def position(p: TimePoint) -> Decimal:
        """从基准年（指标值的年份）1 月起的第几个月（或第几天）。"""
        year = p.year or base or 2000  # 都没写年份：按闰年，2月29日也成立
        if by_day:
            try:
                day = _dt.date(year, p.month, p.day or 1)
            except ValueError:
                raise EntryError(f"{year}年没有 {p.month}月{p.day}日") from None
            return Decimal((day - _dt.date(base or year, 1, 1)).days + 1)
        return Decimal((year - (base or year)) * 12 + p.month)

    if target.day is not None and actual.day is None:
        notes.append("完成时间只写到月，按月比较")
    t, a = position(target), position(actual)
    met = a < t if direction == "<" else a <= t
    ratio = Decimal(1) if met or a <= t else (t / a if a > 0 else Decimal(0))
    if not met and a > t:
        notes.append(f"晚于时间目标，按 {'天数' if by_day else '月数'} {fmt_num(t)} ÷ {fmt_num(a)} 计分")
    return Completion(ratio, met, "；".join(notes))


# ------------------------------------------------------------------------------------------------ 定性


