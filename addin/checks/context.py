"""各项检查共用的上下文（Context：输入、计分结果、体系、解析过的数字单元格）、具名容差与阈值，以及说出数字与单元格的小工具。
"""
from __future__ import annotations

from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from typing import Any, Callable, Sequence, TypeGuard

from udfs.numbers import InputError, fmt_num, parse_number
from workbook_templates import layout as L
from workbook_templates.spec import IndicatorSpec, System
from workbook_templates.systems import SYSTEMS

from ..io.ooxml import col_part
from ..model import Evaluation, Finding, Formula, IndicatorResult, WorkbookInputs, once
from ..scoring.parsing import CellSpec, NumCell, cacheable, input_specs, num_cell, table_label
from . import findings as F

# 小于此值的差额是浮点运算尾差（公式结果 982.6300000000001），不是数字写错
FLOAT_NOISE = Decimal("0.000001")
# 得分四舍五入到 0.01 分：保存的得分/小计与重算结果相差不超过半分位视为一致
SCORE_TOLERANCE = Decimal("0.005")
# 公式“实际值”保存的结果与重算的比率：Excel 把 Decimal 转成双精度浮点，只会有 1e-15 量级的差
VALUE_CACHE_TOLERANCE = Decimal("0.000000001")
# 各指标分值合计
POINTS_TOTAL = Decimal(100)
# 百分数至少写到整数个百分点：1（=100%）的书写精度按两位小数的比值计
PERCENT_MIN_PLACES = 2
# 元/万元混用：一个金额是其他金额中位数的 1 万倍以上，像是按元填进了万元表
UNIT_OUTLIER_FACTOR = Decimal(10000)
# 万元表的金额中位数达到 10 万（即 10 亿元）以上，整张表像是按元填写
WAN_YUAN_MEDIAN_MAX = Decimal(100000)
# 元表的合计数不足 1000 元，像是按万元填写
YUAN_TOTAL_MIN = Decimal(1000)
# 元的金额最多两位小数（角、分）
YUAN_MAX_PLACES = 2
# 这些金额可以为负（本年追加预算为负表示调减）
NEGATIVE_ALLOWED = frozenset({("scalar", "budget_added")})
# 执行率/完成率为 0 时，用哪些数据证明“其实有支出”
SPENDING_REFS = {
    "BUDGET_EXECUTION_BY": ("fund_total@executed", "fund_fiscal@executed", "fund_carry@executed", "fund_other@executed"),
    "BUDGET_EXECUTION": ("fund_total@executed", "fund_fiscal@executed", "fund_carry@executed", "fund_other@executed"),
    "BUDGET_COMPLETION": ("expense_total@final", "basic@final", "project@final"),
    "BUDGET_COMPLETION_ZZ": ("budget_expense_total", "fiscal_final"),
}
ZERO = Decimal(0)


@dataclass
class Context:
    inputs: WorkbookInputs
    ev: Evaluation
    system: System
    # 填了内容（原值不是空白）的数字输入单元格，按 input_cells 的顺序。空白单元格逐个检查时不会有发现、也不是金额，
    # 不在此列，要用时按键查找（num）
    filled: list[NumCell]
    # 键 → 单元格；空白单元格先存未解析的 CellSpec，第一次查找时才构造
    by_key: dict[tuple, NumCell | CellSpec]
    engine_error_cells: set[tuple[str, str]]
    # 被更具体的检查取代的引擎发现：(code, sheet, cell)
    replaced: set[tuple[str, str, str]] = field(default_factory=set)
    _pairs: list[tuple[IndicatorResult, Any]] | None = field(default=None, repr=False)
    _specs: dict[str, IndicatorSpec] | None = field(default=None, repr=False)
    _letters: dict[str, str] = field(default_factory=dict, repr=False)

    @property
    def money_unit(self) -> str:
        return self.ev.money_unit or "万元"

    def num(self, key: tuple) -> NumCell | None:
        c = self.by_key.get(key)
        if isinstance(c, tuple):
            c = self.by_key[key] = num_cell(*c)
        return c

    def num_if_filled(self, key: tuple) -> NumCell | None:
        """同 num，但空白单元格（原值为空，解析后没有数值）也返回 None，不必为它构造 NumCell。"""
        c = self.by_key.get(key)
        return None if c is None or isinstance(c, tuple) or c.raw is None else c

    def results(self) -> list[tuple[IndicatorResult, Any]]:
        """(计分结果, 评分表原始行) 成对返回（配对一次，各项检查共用；调用方只读不改）。"""
        if self._pairs is None:
            rows = {r.row: r for r in self.inputs.rows}
            self._pairs = [(res, rows[res.row]) for res in self.ev.indicators if res.row in rows]
        return self._pairs

    def spec(self, code: str) -> IndicatorSpec | None:
        """体系中代码为 code 的指标（同 System.indicator：重复的代码取第一个），按字典查找而不是逐个比较。"""
        return self.specs().get(code)

    def specs(self) -> dict[str, IndicatorSpec]:
        """代码 → 体系中的指标（即 spec 查的字典；逐个指标查找的检查先取出它，调用方只读不改）。"""
        if self._specs is None:
            self._specs = once(self.system.indicators, _by_code)
        return self._specs

    def score_cell(self, field_name: str, row: str | int) -> str:
        """评分表汇总行（小计/总分/等级）某字段的单元格；列字母取自读出的指标行（用户移动列也能对上）。"""
        return f"{self.score_letter(field_name)}{row}"

    def score_letter(self, field_name: str) -> str:
        """score_cell 的列字母（每个字段只推算一次）。"""
        letter = self._letters.get(field_name)
        if letter is None:
            a1 = self.inputs.rows[0].cells.get(field_name, "") if self.inputs.rows else ""
            letter = self._letters[field_name] = col_part(a1) or L.LETTER[field_name]
        return letter


def _by_code(indicators: tuple[IndicatorSpec, ...]) -> dict[str, IndicatorSpec]:
    out: dict[str, IndicatorSpec] = {}
    for s in indicators:
        out.setdefault(s.code, s)
    return out


def _n(x: Decimal | None, places: int = 6) -> str:
    return fmt_num(x, places)


def _pct(x: Decimal, ratio_places: int = 4) -> str:
    """比值 → 百分数文本，小数位数与比值的书写位数对应（0.4098 → 40.98%）。"""
    places = max(ratio_places - 2, 0)
    q = (x * 100).quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP)
    return f"{q}%"


def _gap_ok(a: Decimal, b: Decimal, tol: Decimal) -> bool:
    # 相等时差为 0，必在容差之内：先比相等（多数情形），省去两次 Decimal 运算（数都是有限的：parse_number 不收 NaN 与无穷）
    return a == b or abs(a - b) <= max(tol, FLOAT_NOISE)


CheckFn = Callable[[Context], list[Finding]]


def make_context(inputs: WorkbookInputs, ev: Evaluation) -> Context:
    system = SYSTEMS[inputs.system_key]
    filled: list[NumCell] = []
    by_key: dict[tuple, NumCell | CellSpec] = {}
    for spec in input_specs(inputs, system, ev):  # 与 input_cells 同样的单元格、同样的结果，空白的推迟到查找时解析
        if spec[6] is None:
            by_key[spec[0]] = spec
        else:
            by_key[spec[0]] = c = num_cell(*spec)
            filled.append(c)
    return Context(inputs=inputs, ev=ev, system=system, filled=filled, by_key=by_key,
                   engine_error_cells={(f.sheet, f.cell) for f in ev.findings if f.severity == F.ERROR})


# 保存的公式结果在同一模板的工作簿里大多相同（满分、0、不适用）：按原值缓存解析结果（只缓存 cacheable 的原值，
# 同 NumCell 的缓存；满了就清空）。
_NUMBERS_MAX = 20_000
_numbers: dict[tuple[type, Any], tuple[bool, Decimal | None]] = {}


def _number(raw: Any) -> tuple[bool, Decimal | None]:
    """(能否理解为数字, parse_number(raw).value)；不能时数值为 None。"""
    if not cacheable(raw):
        return _parse(raw)
    k = (type(raw), raw)
    hit = _numbers.get(k)
    if hit is None:
        if len(_numbers) >= _NUMBERS_MAX:
            _numbers.clear()
        hit = _numbers[k] = _parse(raw)
    return hit


def _parse(raw: Any) -> tuple[bool, Decimal | None]:
    try:
        return True, parse_number(raw).value
    except InputError:
        return False, None


def _raw_text(raw: Any) -> str:
    if isinstance(raw, Formula):
        raw = raw.cached
    return "" if raw is None else str(raw).strip()


def _usable(c: NumCell | None) -> TypeGuard[NumCell]:
    return c is not None and c.error is None and c.known


def _all_usable(cells: Sequence[NumCell | None]) -> list[NumCell] | None:
    """全部可用（_usable）时返回它们，否则 None。"""
    usable = [c for c in cells if _usable(c)]
    return usable if len(usable) == len(cells) else None


def _present(cells: Sequence[NumCell]) -> tuple[list[NumCell], list[Decimal]]:
    """填了数的单元格与它们的数（空白、写明“无”的不在其中）。"""
    pairs = [(c, c.value) for c in cells if c.value is not None]
    return [c for c, _ in pairs], [v for _, v in pairs]


def _ref_label(ctx: Context, ref: str) -> str:
    if "@" in ref:
        key, col = ref.split("@", 1)
        return table_label(ctx.inputs, ctx.system, key, col)
    return next((s.label for s in ctx.system.scalars if s.key == ref), ref)


def _short(text: str, limit: int = 120) -> str:
    t = " ".join(str(text).split())
    return t if len(t) <= limit else t[: limit - 1] + "…"
