"""实际值公式的参数：与模板的 Excel 公式逐一对应地取值，凡是推算出来的数都说出来（空白不是零）。

- 合计行空白或为 0 而分项都填了数：模板公式把引用合计行的参数写成
  IF(AND(N(合计)=0,COUNT(分项…)=分项数),SUM(分项…),IF(ISBLANK(合计),"",合计))（workbook_templates.layout.value_formula）。
  total_or_parts 按同一规则取值：N() 只认数字单元格（文字、空白为 0），COUNT() 只数数字单元格，合计空白且分项不全时
  传给单元格函数的是空串（未填写）。指标因此不会随合计行一起丢失；合计行本身由校验指出（addin/checks/）。
- 本年追加预算数空白而本年调整预算数已填：单元格函数按 调整预算数 − 年初预算数 推算
  （udfs.indicators.derived_budget_added，开福区 3951 − 3691 ＝ 260）；这里给出推算所用的数，供提示与报告。
- 比率超过 100% 而规则给满分（执行数超出预算数、完成值超出目标）：按规则封顶，另给警告并写出超出的金额。
- 此前版本模板的公式（直接引用合计单元格、预算控制率没有调整预算数参数）仍按其写法计算（formula_variant）。
"""
from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from udfs.excel import CATALOG
from udfs.expressions import basis_arg
from udfs.indicators import IndicatorError, derived_budget_added, execution_denominator
from udfs.numbers import InputError, fmt_num, fmt_pct, parse_number, round2
from udfs.rule import Rule
from workbook_templates.layout import normalise_formula, table_parts, value_formula
from workbook_templates.spec import IndicatorSpec, System

from ..checks import findings as F
from ..model import SHEET_SCORES, Finding, Formula, WorkbookInputs, once
from .parsing import table_label
from .refs import arg_cell, parse_ref, resolve_arg, resolve_parsed

ZERO = Decimal(0)


@dataclass(frozen=True)
class PartsSum:
    """一个参数取了分项之和：ref 为合计行引用（key@col），parts 为分项引用，value 为分项之和。"""

    ref: str
    total: Any
    parts: tuple[str, ...]
    value: Decimal


def _cell_value(x: Any) -> Any:
    return x.cached if isinstance(x, Formula) else x


def _is_number(x: Any) -> bool:
    """Excel 的 COUNT/N 只认数字单元格：文字（含“3691”这样的文本数字、“无”）与逻辑值都不算。"""
    return isinstance(x, (int, float, Decimal)) and not isinstance(x, bool)


def total_or_parts(system: System, inputs: WorkbookInputs, ref: str) -> tuple[Any, PartsSum | None]:
    """参数的取值（与模板公式相同）：引用有分项的合计行时，合计为空白、0 或文字而各分项都是数字，取分项之和。"""
    return _total_or_parts(_parts(system), inputs, ref)


def _total_or_parts(parts: dict[str, tuple[str, ...]], inputs: WorkbookInputs, ref: str) -> tuple[Any, PartsSum | None]:
    kind, key, col = parse_ref(ref)
    raw = resolve_parsed(inputs, kind, key, col)
    if kind != "@":
        return raw, None
    subs = parts.get(key, ())
    if not subs:
        return raw, None
    if isinstance(raw, str) and raw.strip().startswith("#"):
        return raw, None  # N(#DIV/0!) 仍是错误值，Excel 中整个公式显示该错误
    total_n = raw if _is_number(raw) else 0
    if total_n != 0:  # 合计是非 0 的数：照用（分项不必看）
        return raw, None
    values = [_cell_value(inputs.table.get(k, {}).get(col)) for k in subs]
    if all(_is_number(v) for v in values):
        s = sum((_dec(v) for v in values), ZERO)
        if s == 0 and _is_number(raw):
            return raw, None  # 合计 0、分项也都是 0：取哪个都一样，不必提示
        return s, PartsSum(ref, raw, tuple(f"{k}@{col}" for k in subs), s)
    return raw, None


def _dec(v: Any) -> Decimal:
    d = _maybe_dec(v)
    assert d is not None
    return d


def _maybe_dec(v: Any) -> Decimal | None:
    try:
        return parse_number(_cell_value(v)).value
    except InputError:
        return None


def indicator_args(system: System, inputs: WorkbookInputs, spec: IndicatorSpec, *,
                   legacy: bool = False) -> tuple[list[Any], list[PartsSum]]:
    """单元格函数的参数值（模板公式的写法）与其中取了分项之和的参数。legacy：此前版本的公式，直接引用合计单元格。"""
    refs = legacy_refs(spec) if legacy else spec.args
    if legacy:
        return [resolve_arg(inputs, a) for a in refs], []
    values, sums = [], []
    parts = _parts(system)
    for a in refs:
        v, s = _total_or_parts(parts, inputs, a)
        values.append(v)
        if s is not None:
            sums.append(s)
    return values, sums


def legacy_refs(spec: IndicatorSpec) -> tuple[str, ...]:
    return spec.legacy_args if spec.legacy_args is not None else spec.args


def formula_variant(system: System, spec: IndicatorSpec, inputs: WorkbookInputs, text: str) -> tuple[str, str]:
    """实际值公式是哪一版模板公式：("current" | "legacy" | "changed", 当前模板应有的公式)。无法重建时视为 current。"""
    if not spec.udf:  # 没有单元格函数的指标没有模板公式
        return "current", ""
    template = _template_formulas(system, spec, inputs.cells)
    if template is None:
        return "current", ""
    expected, current, previous = template
    if text == expected:  # 与当前模板公式逐字相同（最常见）：规范化后自然也相同
        return "current", expected
    got = normalise_formula(text)
    if got == current:
        return "current", expected
    if got == previous:
        return "legacy", expected
    return "changed", expected


# 按对象缓存（体系、指标描述都是不可变的值）：键用 id，条目里留着对象本身并核对是同一个——对象活着 id 就不会被复用。
_TEMPLATES: dict[tuple[int, int], tuple[System, IndicatorSpec, tuple[tuple, ...], dict]] = {}
_UNKNOWN = object()


def _parts(system: System) -> dict[str, tuple[str, ...]]:
    """table_parts(system)，每个体系只算一次（调用方只读）。"""
    return once(system, table_parts)


def _referenced(refs: tuple[str, ...], parts: dict[str, tuple[str, ...]]) -> list[tuple]:
    """value_formula 为这些参数查的 WorkbookInputs.cells 键（合计行连同其分项）。"""
    keys: list[tuple] = []
    for a in refs:
        if a.startswith("="):
            continue
        if "@" not in a:
            keys.append(("scalar", a))
            continue
        key, col = a.split("@", 1)
        keys += [("table", key, col)] + [("table", k, col) for k in parts.get(key, ())]
    return keys


def _template_formulas(system: System, spec: IndicatorSpec, cells: dict) -> tuple[str, str, str] | None:
    """(当前模板的实际值公式, 它的规范化写法, 此前版本公式的规范化写法)；引用的单元格有缺失时 None。
    两条公式只取决于所引用各格的地址：按这些地址缓存，批量时同一模板的工作簿不再逐个拼写、规范化。"""
    entry = _TEMPLATES.get((id(system), id(spec)))
    if entry is None or entry[0] is not system or entry[1] is not spec:
        keys = _referenced(spec.args, _parts(system)) + _referenced(legacy_refs(spec), {})
        if len(_TEMPLATES) >= 256:
            _TEMPLATES.clear()
        entry = _TEMPLATES[(id(system), id(spec))] = (system, spec, tuple(keys), {})
    where = tuple(map(cells.get, entry[2]))  # 缺的格为 None（cells 的值都是 (表, 单元格)，不会是 None）
    known = entry[3]
    hit = known.get(where, _UNKNOWN)  # 缓存的值可以是 None（引用的格有缺失）
    if hit is not _UNKNOWN:
        return hit
    assert spec.udf is not None
    try:
        expected = value_formula(spec.udf, spec.args, cells, _parts(system))
        previous = value_formula(spec.udf, legacy_refs(spec), cells)
        out: tuple[str, str, str] | None = (expected, normalise_formula(expected), normalise_formula(previous))
    except KeyError:
        out = None
    if len(known) >= 16:  # 一批工作簿里同一指标的基础数据表排法通常只有几种
        known.clear()
    known[where] = out
    return out


# 本年追加的推算：单元格函数 → (本年追加, 年初预算, 调整预算数) 的参数序号（取自单元格函数目录）
ADDED_ARGS = {s.name: s.added for s in CATALOG if s.added is not None}


@dataclass(frozen=True)
class AddedDerivation:
    ref: str  # 本年追加预算数的引用
    initial: Decimal
    adjusted: Decimal
    added: Decimal
    adjusted_ref: str
    initial_ref: str


def added_derivation(spec: IndicatorSpec, refs: tuple[str, ...], values: list[Any]) -> AddedDerivation | None:
    """本年追加预算数是否由 调整预算数 − 年初预算数 推算（与单元格函数同一段代码判断）。"""
    idx = ADDED_ARGS.get(spec.udf or "")
    if idx is None or max(idx) >= len(values):
        return None
    a, i, j = idx
    try:
        added, initial, derived = derived_budget_added(values[a], values[i], values[j], a, i, j)
    except (IndicatorError, InputError):
        return None
    if not derived:
        return None
    return AddedDerivation(refs[a], initial, added + initial, added, refs[j], refs[i])


def missing_hint(system: System, spec: IndicatorSpec, ref: str | None, arg_index: int | None) -> str:
    """数据“未填写”之后的一句指引：空白不是零，没有的要写明。"""
    if ref is None:
        return ""
    idx = ADDED_ARGS.get(spec.udf or "")
    if idx is not None and arg_index == idx[0]:
        return "（没有追加填 0；或填写本年调整预算数，按 调整预算数－年初预算数 推算）"
    kind = "money" if "@" in ref else next((s.kind for s in system.scalars if s.key == ref), "")
    return "（空白不按 0 计算；没有的请填 0 或“无”）" if kind in ("money", "count") else ""


def typed_missing_hint(rule_label: str) -> str:
    """评价人填写的实际值未填写时的指引（扣分清单：没有扣分要写明 0 或“无”）。"""
    from udfs.scoring import DeductionChecklist

    return "（没有扣分请填 0 或“无”）" if rule_label == DeductionChecklist.label else ""


def ref_label(system: System, inputs: WorkbookInputs, ref: str) -> str:
    """参数所在单元格的中文说明：基础数据表 C28（本年追加预算数）。"""
    where = arg_cell(inputs, ref)
    if "@" in ref:
        key, col = ref.split("@", 1)
        name = table_label(inputs, system, key, col)
    else:
        name = next((s.label for s in system.scalars if s.key == ref), ref)
    return f"{where[0]} {where[1]}（{name}）" if where else name


def _state(raw: Any) -> str:
    raw = _cell_value(raw)
    if raw is None or (isinstance(raw, str) and not raw.strip()):
        return "未填写"
    if _is_number(raw):
        return f"为 {fmt_num(_dec(raw), 6)}"
    return f"写作文字“{str(raw).strip()[:20]}”（Excel 公式不把文字当作数）"


def notes(system: System, inputs: WorkbookInputs, spec: IndicatorSpec, values: list[Any], sums: list[PartsSum],
          indicator: str, value_cell: str, money_unit: str) -> list[Finding]:
    """指标取了推算的数时的提示：合计行按分项之和（指向评分表的实际值单元格）、本年追加按调整数推算（指向追加数单元格）。"""
    out: list[Finding] = []
    used: dict[str, PartsSum] = {s.ref: s for s in sums}  # 同一合计被两个参数引用（分母口径）只写一次
    if used:
        details = []
        for s in used.values():
            parts_text = " ＋ ".join(f"{ref_label(system, inputs, p)} {fmt_num(_dec(resolve_arg(inputs, p)), 6)}"
                                     for p in s.parts)
            details.append(f"{ref_label(system, inputs, s.ref)}{_state(s.total)}，已按分项之和 {parts_text} ＝ "
                           f"{fmt_num(s.value, 6)} {money_unit} 计算")
        first = next(iter(used.values()))
        out.append(F.make("total-from-parts", SHEET_SCORES, value_cell, indicator=indicator, detail="；".join(details),
                          expected=first.value if len(used) == 1 else None, actual=_cell_value(first.total)))
    d = added_derivation(spec, spec.args, values)
    if d is not None:
        where = arg_cell(inputs, d.ref)
        if where is not None:
            out.append(F.make("budget-added-derived", where[0], where[1], label=ref_label(system, inputs, d.ref),
                              adjusted_label=ref_label(system, inputs, d.adjusted_ref), adjusted=fmt_num(d.adjusted, 6),
                              initial_label=ref_label(system, inputs, d.initial_ref), initial=fmt_num(d.initial, 6),
                              added=fmt_num(d.added, 6), unit=money_unit, expected=d.added, actual=None))
    return out


# 比率 ＝ 分子 ÷ 分母 的单元格函数：(分子参数序号, 分母参数序号)；预算执行率（按口径）的分母随口径而定（取自目录）
RATIO_ARGS = {s.name: s.ratio for s in CATALOG if s.ratio is not None}


def capped_over_100(system: System, inputs: WorkbookInputs, spec: IndicatorSpec | None, values: list[Any] | None,
                    rule: Rule, value: Any, computed: Decimal | None, indicator: str, value_cell: str, unit: str,
                    money_unit: str) -> Finding | None:
    """比率超过 100% 而规则给了满分（执行数超出预算数、完成值超出目标值）：得分按规则封顶，但这是要核对的数据，给警告。

    写得出分子、分母的（预算执行率、政府采购执行率……）指向分子所在的单元格并写出超出的金额；其余指向实际值单元格。"""
    if not isinstance(value, Decimal):  # 评价人填写的完成值（1.05、“105%”）
        value = _maybe_dec(value) if isinstance(value, (int, float, str)) and not isinstance(value, bool) else None
    if unit != "%" or value is None or value <= 1 or computed is None:
        return None
    if computed != round2(rule.points):
        return None  # 规则对超过 100% 扣分（控制率类），得分已经反映，不另报
    rate = fmt_pct(value)
    pts = fmt_num(rule.points)
    common = dict(indicator=indicator, rate=rate, points=pts, expected="不超过 100%", actual=value)
    idx = RATIO_ARGS.get(spec.udf or "") if spec is not None and values is not None else None
    if idx is not None and spec is not None and values is not None:
        num_i, den_i = idx
        if den_i is None:
            den_i = basis_arg(values[0])
        num = _maybe_dec(values[num_i]) if num_i < len(values) else None
        try:
            den = (execution_denominator(values[0], *values[2:6]) if spec.udf == "BUDGET_EXECUTION_BY"
                   else _maybe_dec(values[den_i]) if den_i < len(values) else None)
        except IndicatorError:
            den = None
        where = arg_cell(inputs, spec.args[num_i]) if num_i < len(spec.args) else None
        if num is not None and den is not None and where is not None:
            detail = (f"{ref_label(system, inputs, spec.args[num_i])} {fmt_num(num, 6)} 超出"
                      f"{ref_label(system, inputs, spec.args[den_i])} {fmt_num(den, 6)} 共 {fmt_num(num - den, 6)} {money_unit}，")
            return F.make("over-100-capped", where[0], where[1], detail=detail, **common)
    return F.make("over-100-capped", SHEET_SCORES, value_cell, detail="", **common)
