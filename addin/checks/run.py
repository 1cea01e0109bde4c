"""校验：基础数据表与评分表前后一致、输入可识别、报告所列数字可复核。每条发现都指向一个单元格。

检查是一组普通函数（CHECKS），各自只读 Context、返回发现列表；每项容差都是下面的具名常量。
run_checks 汇总计分引擎已有的发现与各项检查的发现，去重、排序后返回。

容差的来历：
- 合计与分项：每个数字按其书写位数可能被四舍五入了半个末位单位（整数 ±0.5，两位小数 ±0.005），合计与分项之差
  不超过这些半单位之和时，可能只是各自取整造成的（种子 002：1536 与 303＋1234＝1537 相差 1 万元）→ 警告；
  超过则是错误（项目支出 3368 与 90＋3308＝3398 相差 30 万元）。0 与空白是精确值。
- 报告所列数字：按所列数字最后一位的半个单位比对（90.5% 与 90.497% 一致；40.98% 与 40.67% 不一致）。
- 得分：每项得分四舍五入到 0.01 分，保存的得分与重算结果相差不超过 0.005 分视为一致。
"""
from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from decimal import ROUND_DOWN, ROUND_HALF_UP, Decimal
from statistics import median
from typing import Any, Callable, Iterable

from udfs.excel import BY_NAME
from udfs.indicators import IndicatorError
from udfs.numbers import InputError, fmt_num, is_blank, is_empty, is_none_token, parse_number
from udfs.scoring import DeductionChecklist, GradeScale, Manual, Qualitative, RuleError, Target
from workbook_templates import layout as L
from workbook_templates.spec import System, TableRow
from workbook_templates.systems import SYSTEMS

from ..io.book import WritableBook
from ..model import (GENERATED_SHEETS, SHEET_CHECKS, SHEET_DATA, SHEET_SCORES, Evaluation, Finding, Formula,
                     IndicatorResult, WorkbookInputs)
from ..scoring import derived
from ..scoring.engine import evaluate
from ..scoring.parsing import NumCell, _looks_textual, decimal_places, input_cells, parse_cell, table_label
from ..scoring.refs import arg_cell, resolve_arg
from . import findings as F, narrative

# ---------------------------------------------------------------------------------------------------------
# 具名容差与阈值
# ---------------------------------------------------------------------------------------------------------
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


# ---------------------------------------------------------------------------------------------------------
# 上下文
# ---------------------------------------------------------------------------------------------------------
@dataclass
class Context:
    inputs: WorkbookInputs
    ev: Evaluation
    system: System
    cells: list[NumCell]
    by_key: dict[tuple, NumCell]
    engine_error_cells: set[tuple[str, str]]
    # 被更具体的检查取代的引擎发现：(code, sheet, cell)
    replaced: set[tuple[str, str, str]] = field(default_factory=set)

    @property
    def money_unit(self) -> str:
        return self.ev.money_unit or "万元"

    def num(self, key: tuple) -> NumCell | None:
        return self.by_key.get(key)

    def results(self) -> list[tuple[IndicatorResult, Any]]:
        """(计分结果, 评分表原始行) 成对返回。"""
        rows = {r.row: r for r in self.inputs.rows}
        return [(res, rows[res.row]) for res in self.ev.indicators if res.row in rows]

    def score_cell(self, field_name: str, row: str | int) -> str:
        """评分表汇总行（小计/总分/等级）某字段的单元格；列字母取自读出的指标行（用户移动列也能对上）。"""
        letter = None
        if self.inputs.rows:
            a1 = self.inputs.rows[0].cells.get(field_name, "")
            letter = "".join(ch for ch in a1 if ch.isalpha()) or None
        return f"{letter or L.LETTER[field_name]}{row}"


def _n(x: Decimal | None, places: int = 6) -> str:
    return fmt_num(x, places)


def _pct(x: Decimal, ratio_places: int = 4) -> str:
    """比值 → 百分数文本，小数位数与比值的书写位数对应（0.4098 → 40.98%）。"""
    places = max(ratio_places - 2, 0)
    q = (x * 100).quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP)
    return f"{q}%"


def _gap_ok(a: Decimal, b: Decimal, tol: Decimal) -> bool:
    return abs(a - b) <= max(tol, FLOAT_NOISE)


# ---------------------------------------------------------------------------------------------------------
# 1. 输入单元格：能否理解为数字、两个数、以文本存储、负数、比率越界
# ---------------------------------------------------------------------------------------------------------
def check_input_cells(ctx: Context) -> list[Finding]:
    """每个数字输入单元格：不能识别→错误；括号里另有一个数→警告；以文本存储的数字→提示；不应为负却为负→错误。"""
    out: list[Finding] = []
    for c in ctx.cells:
        if c.where in ctx.engine_error_cells:
            if c.kind == "rate" and c.error is None and c.value is not None and c.value > 1:
                ctx.replaced.add(("indicator-error", c.sheet, c.cell))  # 比率写成 95：下面的说明更具体，取代引擎的
            else:
                continue  # 计分引擎已就该单元格报告了错误（并说明了受影响的指标），不重复
        if c.error is not None:
            out.append(F.make("not-a-number", c.sheet, c.cell, label=c.label, detail=c.error, actual=_raw_text(c.raw)))
            continue
        if c.value is None or c.formula:
            continue
        raw = c.raw
        if c.kind in ("money", "count") and isinstance(raw, str) and ("%" in raw or "％" in raw):
            out.append(F.make("not-a-number", c.sheet, c.cell, label=c.label, actual=raw,
                              detail=f"{'金额' if c.kind == 'money' else '人数等数量'}不应写成百分数（“{raw.strip()}”）"))
            continue
        if c.alt is not None:
            out.append(F.make("two-numbers", c.sheet, c.cell, label=c.label, detail=c.note, expected=c.value, actual=c.alt))
        elif c.as_text:
            out.append(F.make("text-number", c.sheet, c.cell, label=c.label, raw=str(raw).strip(),
                              value=_n(c.value, 9), actual=str(raw), expected=c.value))
        if c.value < 0 and c.kind in ("money", "count", "rate") and c.key not in NEGATIVE_ALLOWED:
            out.append(F.make("negative-value", c.sheet, c.cell, label=c.label, value=_n(c.value, 9), actual=c.value))
        if c.kind == "count" and c.unit == "人" and c.value >= 0 and c.value != c.value.to_integral_value():
            out.append(F.make("not-whole-number", c.sheet, c.cell, label=c.label, value=_n(c.value, 9)
                              if abs(c.value) >= Decimal("0.000001") else f"{c.value:.3E}", actual=c.value))
        if c.kind == "rate" and c.value > 1:
            out.append(F.make("rate-out-of-range", c.sheet, c.cell, label=c.label, raw=_raw_text(raw),
                              hint=f"，是否应为 {_n(c.value, 4)}%？" if c.value <= 100 else "", actual=c.value))
    return out


def _raw_text(raw: Any) -> str:
    if isinstance(raw, Formula):
        raw = raw.cached
    return "" if raw is None else str(raw).strip()


# ---------------------------------------------------------------------------------------------------------
# 2. 基础数据表：合计＝各分项之和；“其中”项不超过所属合计
# ---------------------------------------------------------------------------------------------------------
def _usable(c: NumCell | None) -> bool:
    return c is not None and c.error is None and c.known


def _part_text(parts: list[NumCell], values: list[Decimal]) -> str:
    return " ＋ ".join(f"{p.short} {_n(v)}" for p, v in zip(parts, values))


def check_table_totals(ctx: Context) -> list[Finding]:
    """基础数据表每一列：合计行 ＝ 各分项之和（支出合计＝基本＋项目；三公＝车＋出国＋接待；项目支出＝业务工作经费＋专项经费；
    项目 年度资金总额＝各来源之和）。差额在各数书写精度的舍入误差之内为警告，超出为错误；分项全部空白的列不比较。
    合计写“无”按 0 比较；合计空白而各分项都填了数（实际值公式此时取分项之和，addin/derived.py）→ total-blank 警告。"""
    out: list[Finding] = []
    unit = ctx.money_unit
    for tr in ctx.system.table_rows:
        if not tr.parts:
            continue
        for col in ctx.system.columns:
            total = ctx.num(("table", tr.key, col.key))
            parts = [ctx.num(("table", p, col.key)) for p in tr.parts]
            if not _usable(total) or not all(_usable(p) for p in parts):
                continue
            present = [p for p in parts if p.value is not None]
            if not present:
                continue
            if total.value is None and not is_none_token(_cell_raw(total)):
                if len(present) == len(parts) and not any(p.as_text for p in parts):
                    s = sum((p.value for p in present), ZERO)
                    out.append(F.make("total-blank", total.sheet, total.cell, label=total.label,
                                      parts_text=_part_text(present, [p.value for p in present]), sum=_n(s), unit=unit,
                                      expected=s, actual=None))
                continue
            total_value = ZERO if total.value is None else total.value  # 写明“无”的合计按 0 比较
            tol = total.half_unit + sum((p.half_unit for p in present), ZERO)
            found = _compare_sum(ctx, total, present, [p.value for p in present], total_value, tol, unit, alt=False)
            if found is None and (total.alt is not None or any(p.alt is not None for p in present)):
                # 括号里的第二个数也应自洽（种子 002：3745（2177）＝353＋3392（1824））
                alt_values = [p.alt if p.alt is not None else p.value for p in present]
                alt_total = total.alt if total.alt is not None else total_value
                found = _compare_sum(ctx, total, present, alt_values, alt_total, tol, unit, alt=True)
            if found is not None:
                out.append(found)
    return out


def _cell_raw(c: NumCell) -> Any:
    return c.raw.cached if isinstance(c.raw, Formula) else c.raw


def check_budget_added(ctx: Context) -> list[Finding]:
    """本年追加预算数与 本年调整预算数 − 年初预算数 一致（都填了时）。不一致 → 警告：指标按填写的追加数计算，
    而两者必有一处填错（或追加数只计了追加、未减去调减）。追加数空白时由单元格函数推算，计分引擎给出提示。"""
    out: list[Finding] = []
    seen: set[tuple[str, str]] = set()
    for spec in ctx.system.indicators:
        idx = derived.ADDED_ARGS.get(spec.udf or "")
        if idx is None or max(idx) >= len(spec.args):
            continue
        refs = [spec.args[k] for k in idx]
        added, initial, adjusted = (ctx.num(("table", *r.split("@", 1)) if "@" in r else ("scalar", r)) for r in refs)
        if not all(_usable(c) for c in (added, initial, adjusted)) or added.where in seen:
            continue
        if added.value is None and not is_none_token(_cell_raw(added)):
            continue  # 空白：已按调整数推算（引擎提示），或未填写（引擎报告）
        a = added.value if added.value is not None else ZERO
        if adjusted.value is None or adjusted.value == 0 or initial.value is None:
            continue
        expected = adjusted.value - initial.value
        tol = added.half_unit + initial.half_unit + adjusted.half_unit
        if _gap_ok(a, expected, tol):
            continue
        seen.add(added.where)
        out.append(F.make("budget-added-mismatch", added.sheet, added.cell, label=added.label, added=_n(a),
                          adjusted_label=adjusted.label, adjusted=_n(adjusted.value), initial_label=initial.label,
                          initial=_n(initial.value), derived=_n(expected), gap=_n(abs(a - expected)), unit=ctx.money_unit,
                          expected=expected, actual=a))
    return out


def _compare_sum(ctx, total: NumCell, parts: list[NumCell], values: list[Decimal], total_value: Decimal,
                 tol: Decimal, unit: str, *, alt: bool) -> Finding | None:
    s = sum(values, ZERO)
    gap = total_value - s
    if abs(gap) <= FLOAT_NOISE:
        return None
    code = "total-rounding-gap" if abs(gap) <= tol else "total-mismatch"
    return F.make(code, total.sheet, total.cell, label=total.label + ("括号内的数" if alt else ""),
                  total=_n(total_value), parts_text=_part_text(parts, values), sum=_n(s), gap=_n(abs(gap)),
                  tolerance=_n(tol), unit=unit, expected=s, actual=total_value)


def _of_which_groups(rows: tuple[TableRow, ...]) -> dict[str, list[list[str]]]:
    """由缩进与“其中”字样推出“其中”关系：父行之下低一级的行是它的“其中”项；以“其中”开头的行开始新的一组，
    后面不带“其中”的行与它同组（同组各项互不重叠，合计不应超过父行；不同组可以重叠，如 日常公用经费 与 三公经费）。
    已作为分项（parts）参与合计的行不在此列。"""
    out: dict[str, list[list[str]]] = {}
    for i, tr in enumerate(rows):
        desc = []
        for tr2 in rows[i + 1:]:
            if tr2.indent <= tr.indent:
                break
            desc.append(tr2)
        if not desc:
            continue
        level = min(d.indent for d in desc)
        groups: list[list[str]] = []
        for d in desc:
            if d.indent != level or d.key in tr.parts:
                continue
            if d.label.strip().startswith("其中") or not groups:
                groups.append([d.key])
            else:
                groups[-1].append(d.key)
        if groups:
            out[tr.key] = groups
    return out


def check_of_which(ctx: Context) -> list[Finding]:
    """“其中”项之和不超过所属的合计（如 日常公用经费 ≤ 基本支出；各项目之和 ≤ 专项经费）。"""
    out: list[Finding] = []
    unit = ctx.money_unit
    for parent, groups in _of_which_groups(ctx.system.table_rows).items():
        for col in ctx.system.columns:
            total = ctx.num(("table", parent, col.key))
            if not _usable(total) or total.value is None:
                continue
            for group in groups:
                parts = [ctx.num(("table", k, col.key)) for k in group]
                if not all(_usable(p) for p in parts):
                    continue
                present = [p for p in parts if p.value is not None]
                if not present:
                    continue
                s = sum((p.value for p in present), ZERO)
                tol = total.half_unit + sum((p.half_unit for p in present), ZERO)
                if s - total.value > max(tol, FLOAT_NOISE):
                    out.append(F.make("part-exceeds-total", total.sheet, total.cell, label=total.label,
                                      total=_n(total.value), parts_text=_part_text(present, [p.value for p in present]),
                                      sum=_n(s), unit=unit, expected=total.value, actual=s))
    return out


# ---------------------------------------------------------------------------------------------------------
# 3. 评分表：分值合计、得分范围、小计/总分/等级
# ---------------------------------------------------------------------------------------------------------
def check_points_total(ctx: Context) -> list[Finding]:
    """各三级指标分值合计应为 100 分（分值为填写的精确数，不设容差）。"""
    if not ctx.ev.indicators or any(r.points is None for r in ctx.ev.indicators):
        return []  # 有分值无效的行时，引擎已报告 bad-points，合计无意义
    total = sum((r.points for r in ctx.ev.indicators), ZERO)
    if total == POINTS_TOTAL:
        return []
    row = ctx.inputs.cells.get(("total",), (SHEET_SCORES, ""))[1]
    cell = ctx.score_cell("points", row) if row else ctx.ev.indicators[-1].cells.get("points", "")
    detail = "；".join(f"{k} {_n(v.points)}" for k, v in ctx.ev.level1.items())
    return [F.make("points-total-not-100", SHEET_SCORES, cell, total=_n(total), detail=detail,
                   expected=POINTS_TOTAL, actual=total)]


def check_score_bounds(ctx: Context) -> list[Finding]:
    """每项得分在 0～分值之间（调整得分、手工改写的计算得分都可能越界）。"""
    out: list[Finding] = []
    for res in ctx.ev.indicators:
        if res.final is None or res.points is None:
            continue
        cell = res.cells.get("override" if res.override is not None else "computed", "")
        if res.final > res.points:
            out.append(F.make("score-exceeds-max", SHEET_SCORES, cell, indicator=res.name, score=_n(res.final),
                              points=_n(res.points), expected=res.points, actual=res.final))
        elif res.final < 0:
            out.append(F.make("score-negative", SHEET_SCORES, cell, indicator=res.name, score=_n(res.final),
                              expected=ZERO, actual=res.final))
    return out


_REF = re.compile(r"\$?([A-Z]{1,3})\$?(\d+)(?::\$?([A-Z]{1,3})\$?(\d+))?")
_SIMPLE_SUM = re.compile(r"^=\s*(?:SUM\([^()]*\)|\$?[A-Z]{1,3}\$?\d+)(?:\s*\+\s*(?:SUM\([^()]*\)|\$?[A-Z]{1,3}\$?\d+))*\s*$",
                         re.IGNORECASE)
# 模板的小计/总分公式外面的“未完成”判断：=IF(条件,"未完成",汇总)
_GUARDED = re.compile(r'^=\s*IF\((?P<cond>.*),\s*"未完成"\s*,(?P<value>.*)\)\s*$', re.IGNORECASE | re.DOTALL)
_RANGE = r"\$?[A-Z]{1,3}\$?\d+:\$?[A-Z]{1,3}\$?\d+"
# 模板的小计：SUM(区域)−SUMIF(规则类型区域,"",区域)——规则类型为空的父行不计入
_SUM_MINUS_PARENTS = re.compile(rf'^\s*SUM\((?P<a>{_RANGE})\)\s*-\s*SUMIF\((?P<rule>{_RANGE})\s*,\s*""\s*,\s*(?P<b>{_RANGE})\)\s*$',
                                re.IGNORECASE)
INCOMPLETE_TEXT = "未完成"


@dataclass
class _Summary:
    """小计/总分公式汇总的行。rows 可重复（重复即重复计算）；parents_excluded：公式按规则类型排除父行（模板的新式小计）；
    consistent：公式各处引用的区域一致（“未完成”判断与汇总引用同样的行）。"""

    rows: list[int]
    cols: set[str]
    parents_excluded: bool = False
    consistent: bool = True
    guarded: bool = False


def _refs(text: str) -> list[tuple[str, int, str, int]]:
    out = []
    for m in _REF.finditer(text.upper()):
        c1, r1 = m.group(1), int(m.group(2))
        c2, r2 = (m.group(3), int(m.group(4))) if m.group(3) else (c1, r1)
        out.append((c1, min(r1, r2), c2, max(r1, r2)))
    return out


def _formula_rows(text: str) -> _Summary | None:
    """小计/总分公式 → 汇总的行与列。认识三种写法：只由 SUM(区域) 与单元格相加构成的公式（旧模板与手写）；
    模板的 SUM(区域)−SUMIF(规则类型区域,"",区域)；以及外面套着 IF(…,"未完成",…) 的这两种。其他公式返回 None（不做文本核对）。"""
    if "#REF!" in text.upper():
        return _Summary([], set(), consistent=False)  # 删除了公式引用的行（如删掉一组中唯一的指标行）
    if "!" in text:
        return None
    guarded = _GUARDED.match(text)
    value = guarded.group("value") if guarded else text.lstrip("=")
    m = _SUM_MINUS_PARENTS.match(value)
    if m:
        a, rule, b = (_refs(m.group(k))[0] for k in ("a", "rule", "b"))
        span = (a[1], a[3])
        summary = _Summary(list(range(span[0], span[1] + 1)), {a[0], a[2]}, parents_excluded=True,
                           consistent=a == b and (rule[1], rule[3]) == span)
    elif _SIMPLE_SUM.match("=" + value):
        rows: list[int] = []
        cols: set[str] = set()
        for c1, r1, c2, r2 in _refs(value):
            cols |= {c1, c2}
            rows.extend(range(r1, r2 + 1))
        summary = _Summary(rows, cols)
    else:
        return None
    if guarded:
        summary.guarded = True
        value_spans = {(r1, r2) for _, r1, _, r2 in _refs(value)}
        cond_spans = {(r1, r2) for _, r1, _, r2 in _refs(guarded.group("cond"))}
        summary.consistent = summary.consistent and cond_spans == value_spans
    return summary


def _cached_number(raw: Any) -> tuple[bool, Decimal | None]:
    """保存的值 → (是否已知, 数值)。公式未保存结果时为未知。"""
    if isinstance(raw, Formula):
        raw = raw.cached
        if raw is None:
            return False, None
    try:
        return True, parse_number(raw).value
    except InputError:
        return True, None


def _names(results: list[IndicatorResult], limit: int = 3) -> str:
    names = [r.name or r.code for r in results]
    return "、".join(names[:limit]) + ("等" if len(names) > limit else "")


def _incomplete_shown(raw: Any, cell: str, label: str, scope: str, what: str, unscored: list[IndicatorResult],
                      text_only: bool = False) -> list[Finding]:
    """范围内有指标未计分时，保存的小计/总分/等级应是“未完成”；显示成数字（旧模板的 SUM 跳过“错误：…”）或等级就是
    一个看起来完整、其实不完整的结果。"""
    stored = _raw_text(raw)
    if isinstance(raw, Formula) and raw.cached is None:
        return []  # 文件里没有保存的结果（未在 Excel 中计算过）
    if stored == INCOMPLETE_TEXT or stored.startswith("错误：") or not stored:
        return []
    known, v = _cached_number(raw)
    if not text_only and v is None:
        return []
    hint = ""
    if isinstance(raw, Formula) and not _GUARDED.match(raw.text):
        hint = "（这个公式不判断是否有指标未计分：SUM 会跳过“错误：…”的行；请按 README“按本地指标体系修改模板”改用模板的公式）"
    return [F.make("incomplete-shown-as-final", SHEET_SCORES, cell, label=label, stored=stored, scope=scope,
                   count=len(unscored), names=_names(unscored), what=what, hint=hint, expected=INCOMPLETE_TEXT,
                   actual=v if v is not None else stored)]


def check_sheet_totals(ctx: Context) -> list[Finding]:
    """评分表中保存的小计、总分与等级（Excel 计算后保存的结果，或手工填写的数）与重新计算的一致；有指标未计分时它们
    应显示“未完成”；小计/总分公式正好覆盖对应各行（插入行后 SUM 区域没有扩展是常见原因），父行不被重复计入。"""
    out: list[Finding] = []
    st = ctx.inputs.sheet_totals
    if not st:
        return out
    level_rows: dict[str, set[int]] = {}
    for res in ctx.ev.indicators:
        level_rows.setdefault(res.level1, set()).add(res.row)
    parent_rows: dict[str, set[int]] = {}
    for p in ctx.ev.parents:
        parent_rows.setdefault(p.level1, set()).add(p.row)
    all_rows = {res.row for res in ctx.ev.indicators}
    indicator_rows = all_rows | {p.row for p in ctx.ev.parents}
    sub_rows: dict[int, str] = {}
    titles = {"points": "分值", "computed": "计算得分", "final": "得分"}
    for name, lv in ctx.ev.level1.items():
        where = ctx.inputs.cells.get(("subtotal", name))
        stored = st.get(("subtotal", name))
        if where is None or stored is None:
            continue
        row = int(where[1])
        sub_rows[row] = name
        members = [r for r in ctx.ev.indicators if r.level1 == name]
        incomplete = {"points": False, "computed": bool(lv.unscored or lv.computed_unscored), "final": bool(lv.unscored)}
        for f, value in (("points", lv.points), ("computed", lv.computed), ("final", lv.score)):
            raw = stored.get(f)
            cell = ctx.score_cell(f, row)
            letter = "".join(ch for ch in cell if ch.isalpha())
            if isinstance(raw, Formula):
                parsed = _formula_rows(raw.text)
                if parsed is not None:
                    expected = level_rows.get(name, set())
                    if parsed.parents_excluded:
                        expected = expected | parent_rows.get(name, set())
                    counted = [r for r in parsed.rows if r in indicator_rows]
                    if (not parsed.consistent or letter not in parsed.cols or set(counted) != expected
                            or len(counted) != len(set(counted))):
                        out.append(F.make("subtotal-formula-mismatch", SHEET_SCORES, cell, level1=f"一级指标“{name}”小计",
                                          field=titles[f],
                                          formula=raw.text, rows=_rows_text(expected), actual=raw.text))
                        continue
            if incomplete[f]:
                unscored = [r for r in members if r.final is None or (f == "computed" and r.computed is None)]
                out.extend(_incomplete_shown(raw, cell, f"一级指标“{name}”的{titles[f]}小计", "该一级指标", "小计",
                                             unscored))
                continue
            known, v = _cached_number(raw)
            if known and (v is None or not _gap_ok(v, value, SCORE_TOLERANCE)):
                out.append(F.make("subtotal-mismatch", SHEET_SCORES, cell, level1=name, field=titles[f],
                                  stored=_raw_text(raw) or "空白", computed=_n(value), expected=value, actual=v))
    for key, stored in st.items():  # 已没有指标行的一组（整组删掉了）：其小计公式里的 #REF! 会让 Excel 的总分一直“未完成”
        if key[0] != "subtotal" or key[1] in ctx.ev.level1 or ("subtotal", key[1]) not in ctx.inputs.cells:
            continue
        row = int(ctx.inputs.cells[("subtotal", key[1])][1])
        for f in ("points", "computed", "final"):
            raw = stored.get(f)
            parsed = _formula_rows(raw.text) if isinstance(raw, Formula) else None
            if parsed is not None and not parsed.consistent:
                out.append(F.make("subtotal-formula-mismatch", SHEET_SCORES, ctx.score_cell(f, row),
                                  level1=f"一级指标“{key[1]}”小计", field=titles[f], formula=raw.text, rows="—（该组已没有指标行）",
                                  actual=raw.text))
    total_where = ctx.inputs.cells.get(("total",))
    stored = st.get(("total",))
    unscored_all = [r for r in ctx.ev.indicators if r.final is None]
    computed_incomplete = any(lv.unscored or lv.computed_unscored for lv in ctx.ev.level1.values())
    if total_where is not None and stored is not None:
        row = int(total_where[1])
        for f, value in (("points", ctx.ev.points_total), ("computed", ctx.ev.computed_total), ("final", ctx.ev.total)):
            raw = stored.get(f)
            cell = ctx.score_cell(f, row)
            if isinstance(raw, Formula):
                parsed = _formula_rows(raw.text)
                if parsed is not None:
                    counted: list[int] = []
                    for r in parsed.rows:
                        if r in sub_rows:
                            counted.extend(level_rows.get(sub_rows[r], ()))
                        elif r in all_rows:
                            counted.append(r)
                    if not parsed.consistent or sorted(counted) != sorted(all_rows):
                        out.append(F.make("subtotal-formula-mismatch", SHEET_SCORES, cell, level1="总分行", field=titles[f],
                                          formula=raw.text, rows=_rows_text(set(sub_rows)), actual=raw.text))
                        continue
            if value is None or (f == "computed" and computed_incomplete):
                out.extend(_incomplete_shown(raw, cell, f"总分行的{titles[f]}", "全表", "总分", unscored_all or [
                    r for r in ctx.ev.indicators if r.computed is None]))
                continue
            known, v = _cached_number(raw)
            if known and (v is None or not _gap_ok(v, value, SCORE_TOLERANCE)):
                out.append(F.make("score-total-mismatch", SHEET_SCORES, cell, field=titles[f],
                                  stored=_raw_text(raw) or "空白", computed=_n(value), expected=value, actual=v))
    grade_where = ctx.inputs.cells.get(("grade",))
    raw = st.get(("grade",))
    if grade_where is not None and raw is not None:
        cell = ctx.score_cell("final", grade_where[1])
        text = _raw_text(raw) if not (isinstance(raw, Formula) and raw.cached is None) else None
        if ctx.ev.grade is None:
            out.extend(_incomplete_shown(raw, cell, "评分表的评价等级", "全表", "等级", unscored_all, text_only=True))
        elif text is not None and text != ctx.ev.grade:
            out.append(F.make("grade-mismatch", SHEET_SCORES, cell,
                              label="评分表的评价等级", stored=text or "空白", score=_n(ctx.ev.total),
                              expected_grade=ctx.ev.grade, expected=ctx.ev.grade, actual=text))
    return out


def _rows_text(rows: Iterable[int]) -> str:
    rs = sorted(rows)
    if rs and rs == list(range(rs[0], rs[-1] + 1)):
        return f"{rs[0]}～{rs[-1]}"
    return "、".join(str(r) for r in rs)


def check_self_grade(ctx: Context) -> list[Finding]:
    """基础数据表中填写的自评得分与自评等级，按本评分表的等级标准应当对得上（子洲：自评 97 分 → 优秀）。"""
    score = ctx.num(("scalar", "self_score"))
    where = ctx.inputs.cells.get(("scalar", "self_grade"))
    grade = _raw_text(ctx.inputs.scalars.get("self_grade"))
    if not _usable(score) or score.value is None or not grade or where is None:
        return []
    try:
        scale = GradeScale.from_rows(ctx.inputs.grade_rows) if ctx.inputs.grade_rows else ctx.system.grades
    except RuleError:
        return []
    expected = scale.grade(score.value)
    if grade == expected:
        return []
    return [F.make("grade-mismatch", where[0], where[1], label=f"{where[0]} {where[1]}（部门自评等级）", stored=grade,
                   score=_n(score.value), expected_grade=expected, expected=expected, actual=grade)]


# ---------------------------------------------------------------------------------------------------------
# 4. 评分表与基础数据表：公式引用、保存的结果、手工填写的实际值
# ---------------------------------------------------------------------------------------------------------
_CALL = re.compile(r"^=\s*([A-Z_][A-Z0-9_.]*)\s*\((.*)\)\s*$", re.IGNORECASE | re.DOTALL)


def check_formula_references(ctx: Context) -> list[Finding]:
    """计算得分公式应按本行的“规则类型”评分（jixiao 按规则类型计分，公式不一致时 Excel 显示的得分会不同）。两种写法都有效：
    模板的 =SCORE(实际值,分值,规则类型,无基数时,参数)——其规则类型参数应是本行的“规则类型”单元格（或写明同一类型的文字）；
    旧模板按类型的 =SCORE_LINEAR(…) 等——函数应与规则类型一致。实际值公式被改动由计分引擎报告（formula-changed），此处不重复。"""
    out: list[Finding] = []
    for res, row in ctx.results():
        if res.rule is None or not isinstance(row.computed, Formula):
            continue
        m = _CALL.match(row.computed.text)
        if not m:
            continue
        fn = m.group(1).upper()
        detail = None
        if fn == "SCORE":
            args = _split_args(m.group(2))
            rule_arg = args[2].strip() if len(args) > 2 else ""
            own = res.cells.get("rule", "")
            literal = rule_arg[1:-1].strip() if len(rule_arg) >= 2 and rule_arg[0] == rule_arg[-1] == '"' else None
            if literal is not None:
                if literal != res.rule.label:
                    detail = f"计算得分公式写明规则类型“{literal}”，而本行规则类型为“{res.rule.label}”"
            elif rule_arg.replace("$", "").upper() != own.upper():
                detail = (f"计算得分公式的规则类型参数为 {rule_arg or '空'}，不是本行的“规则类型”单元格 {own}"
                          f"（规则类型为“{res.rule.label}”）")
        elif fn != res.rule.udf:
            detail = (f"计算得分公式使用 {fn}，而规则类型为“{res.rule.label}”（应使用 {res.rule.udf}，"
                      f"或按规则类型评分的 SCORE）")
        if detail:
            out.append(F.make("formula-reference-mismatch", SHEET_SCORES, res.cells.get("computed", ""),
                              indicator=res.name, formula=row.computed.text, actual=row.computed.text, detail=detail))
    return out


def _split_args(text: str) -> list[str]:
    """函数参数按顶层逗号分开（括号与引号内的逗号不算）。"""
    args: list[str] = []
    cur: list[str] = []
    depth, quoted = 0, False
    for ch in text:
        if ch == '"':
            quoted = not quoted
        elif not quoted and ch == "(":
            depth += 1
        elif not quoted and ch == ")":
            depth -= 1
        elif not quoted and depth == 0 and ch == ",":
            args.append("".join(cur))
            cur = []
            continue
        cur.append(ch)
    args.append("".join(cur))
    return args


def _ref_label(ctx: Context, ref: str) -> str:
    if "@" in ref:
        key, col = ref.split("@", 1)
        return table_label(ctx.inputs, ctx.system, key, col)
    return next((s.label for s in ctx.system.scalars if s.key == ref), ref)


def check_formula_results(ctx: Context) -> list[Finding]:
    """公式单元格保存的结果（Excel 计算后存入文件的值）与 jixiao 按同样数据重算的结果一致；每行只报告第一处不一致。"""
    out: list[Finding] = []
    for res, row in ctx.results():
        for f, raw, value, err, tol in (("value", row.value, res.value, res.value_error, VALUE_CACHE_TOLERANCE),
                                        ("computed", row.computed, res.computed, None, SCORE_TOLERANCE),
                                        ("final", row.final, res.final, None, SCORE_TOLERANCE)):
            if not isinstance(raw, Formula) or raw.cached is None:
                continue
            if f == "computed" and res.override is None and res.computed is None:
                continue
            if _cache_agrees(raw.cached, value, err, tol):
                continue
            shown = _show_value(value, res.unit) if err is None else f"无法计算（{err}）"
            out.append(F.make("formula-result-mismatch", SHEET_SCORES, res.cells.get(f, ""), indicator=res.name,
                              field={"value": "实际值", "computed": "计算得分", "final": "得分"}[f],
                              stored=_raw_text(raw), computed=shown, expected=value, actual=raw.cached))
            break
    # 父行的得分（用户填的 =SUM(子行得分)）应等于子行之和：区域写错时 Excel 中显示的父行得分与 jixiao 不同
    rows = {r.row: r for r in ctx.inputs.rows}
    for p in ctx.ev.parents:
        raw = rows[p.row].final if p.row in rows else None
        if p.score is None or not isinstance(raw, Formula) or raw.cached is None:
            continue
        if not _cache_agrees(raw.cached, p.score, None, SCORE_TOLERANCE):
            out.append(F.make("formula-result-mismatch", SHEET_SCORES, p.cells.get("final", ""), indicator=p.name,
                              field="得分", stored=_raw_text(raw), computed=f"{_n(p.score)}（各子行得分之和）",
                              expected=p.score, actual=raw.cached))
    return out


def _cache_agrees(cached: Any, value: Any, err: str | None, tol: Decimal) -> bool:
    if isinstance(cached, str):
        c = cached.strip()
        if c.startswith("错误："):
            return err is not None or value is None
        if c == "不适用":
            return value is None and err is None
        if isinstance(value, str):
            return c == value
    if err is not None or value is None:
        return False
    if isinstance(value, str):
        return _raw_text(cached) == value
    try:
        v = parse_number(cached).value
    except InputError:
        return False
    return v is not None and abs(v - value) <= tol


def _show_value(value: Any, unit: str, places: int = 4) -> str:
    if value is None:
        return "不适用"
    if isinstance(value, Decimal):
        return _pct(value, places) if unit == "%" else _n(value)
    return str(value)


def check_typed_values(ctx: Context) -> list[Finding]:
    """实际值本应是引用基础数据表的公式却被手工填成了数：与按基础数据表计算的结果比对（按所填位数的半个末位单位）。"""
    out: list[Finding] = []
    for res, row in ctx.results():
        spec = ctx.system.indicator(res.code)
        if spec is None or not spec.udf or isinstance(row.value, Formula) or is_blank(row.value):
            continue
        try:
            expected = BY_NAME[spec.udf].func(*derived.indicator_args(ctx.system, ctx.inputs, spec)[0])
        except (IndicatorError, InputError, RuleError, ArithmeticError):
            continue
        typed = ctx.num(("row", res.code, "value"))
        if isinstance(expected, str) or typed is None:
            if isinstance(expected, str) and _raw_text(row.value) != expected:
                out.append(F.make("value-differs-from-data", SHEET_SCORES, res.cells.get("value", ""), indicator=res.name,
                                  typed=_raw_text(row.value), computed=expected, expected=expected, actual=row.value))
            continue
        if typed.error is not None or typed.value is None or expected is None:
            continue
        places = max(typed.places, PERCENT_MIN_PLACES) if res.unit == "%" else typed.places
        tol = Decimal(5).scaleb(-(places + 1))
        if not _gap_ok(typed.value, expected, tol):
            out.append(F.make("value-differs-from-data", SHEET_SCORES, res.cells.get("value", ""), indicator=res.name,
                              typed=_show_value(typed.value, res.unit, places),
                              computed=_show_value(expected, res.unit, max(places, 4)),
                              expected=expected, actual=typed.value))
    return out


def check_zero_rate_with_spending(ctx: Context) -> list[Finding]:
    """执行率/完成率为 0，而基础数据表显示确有支出：多半是执行数填错了列或漏填。"""
    out: list[Finding] = []
    for res, row in ctx.results():
        spec = ctx.system.indicator(res.code)
        if spec is None or spec.udf not in SPENDING_REFS:
            continue
        try:
            v = parse_number(res.value).value if not isinstance(res.value, str) or not _looks_textual(res.value) else None
        except InputError:
            v = None
        if v is None or v != 0:
            continue
        evidence = []
        for ref in SPENDING_REFS[spec.udf]:
            where = arg_cell(ctx.inputs, ref)
            key = ("table", *ref.split("@", 1)) if "@" in ref else ("scalar", ref)
            c = ctx.num(key)
            if where is not None and _usable(c) and c.value is not None and c.value > 0:
                evidence.append(f"{c.label}为 {_n(c.value)}")
        if evidence:
            out.append(F.make("zero-rate-with-spending", SHEET_SCORES, res.cells.get("value", ""), indicator=res.name,
                              spending="、".join(evidence[:2]), expected="大于 0", actual=v))
    return out


# ---------------------------------------------------------------------------------------------------------
# 5. 评价人调整：达标却未给满分、未达标却给满分、其他调整（提示并列出理由）
# ---------------------------------------------------------------------------------------------------------
def check_overrides(ctx: Context) -> list[Finding]:
    """调整得分与计算得分并列：按规则达标（计算得分为满分）却调低→警告；未达标却调成满分→警告；
    其余有理由的调整→提示（如种子 000 预算控制率 10.12% 按“11–30%”一档给 4 分，模板分档为 3 分）。
    调整而无理由由计分引擎报告（override-without-reason），此处不重复。"""
    out: list[Finding] = []
    for res in ctx.ev.indicators:
        if res.override is None or res.computed is None or res.points is None:
            continue
        cell = res.cells.get("override", "")
        reason_text = f"，理由：{_short(res.reason)}" if res.reason else "，且未填写调整理由"
        common = dict(indicator=res.name, computed=_n(res.computed), final=_n(res.final), reason_text=reason_text,
                      expected=res.computed, actual=res.final)
        if res.computed == res.points and res.final < res.points:
            out.append(F.make("met-target-not-full-marks", SHEET_SCORES, cell, **common))
        elif res.computed < res.points and res.final == res.points:
            out.append(F.make("shortfall-full-marks", SHEET_SCORES, cell, **common))
        elif res.reason and res.final != res.computed and 0 <= res.final <= res.points:  # 越界由 check_score_bounds 报告
            out.append(F.make("override-applied", SHEET_SCORES, cell, indicator=res.name, computed=_n(res.computed),
                              override=_n(res.final), reason=_short(res.reason), expected=res.computed, actual=res.final))
    return out


def _judged(res: IndicatorResult) -> bool:
    """得分出自评价人判断（而不是公式）的指标：评价人打分、扣分清单、定性完成情况。这类指标扣分时，
    报告要写出核查发现的事实（种子 001：“报表封皮未盖章，扣 0.5 分”），数字本身说明不了原因。"""
    rule = res.rule
    if isinstance(rule, Target):
        return rule.nature == "定性"
    return isinstance(rule, (Manual, DeductionChecklist, Qualitative))


def check_evidence(ctx: Context) -> list[Finding]:
    """扣了分却没有写依据（missing-evidence 警告）：评价人判断得分的指标得分低于分值，而“评分依据/扣分说明”与
    “备注”都空着，报告只能写出得分，写不出扣分的事实。调整得分时调整理由就是依据，不重复提示。"""
    out: list[Finding] = []
    for res in ctx.ev.indicators:
        if res.final is None or res.points is None or res.final >= res.points or not _judged(res):
            continue
        if res.evidence or res.note or (res.override is not None and res.reason):
            continue
        field_name = "evidence" if "evidence" in res.cells else "note"
        out.append(F.make("missing-evidence", SHEET_SCORES, res.cells.get(field_name, ""), indicator=res.name,
                          lost=_n(res.points - res.final), final=_n(res.final), points=_n(res.points),
                          column="评分依据/扣分说明" if field_name == "evidence" else "备注", actual=res.final))
    return out


# 理由/备注中写出的百分数区间：“11-30%（含）”“10%～20%”“-15%至15%”（NFKC 之后全角～成为 ~）。
# 线性时间：数字只从一串数字的开头匹配，量词都是占有式（不回溯）；原来的 \s*%?\s* 在“1”后接 3 万个空格时
# 要试遍两段空格的每种分法（平方级，一个 32,767 字的理由单元格要 100 秒以上）
_PCT_RANGE = re.compile(r"(?<![\d.])(-?\d++(?:\.\d++)?+)\s*+(?:%\s*+)?+(?:-|–|—|~|至|到)\s*+(-?\d++(?:\.\d++)?+)\s*+%")


def check_cited_bands(ctx: Context) -> list[Finding]:
    """调整理由或备注里写出的评分档次（百分数区间）应包含该指标的实际值。种子 000 报告写“预算控制率＝10.12%……
    预算控制率=11-30%（含）……得分按4分计算”：10.12% 并不在 11%～30% 之内，得分所依据的档次是错的。
    区间两端都按“含”比较（宽松），只在实际值明显落在所写区间之外时报告；每个单元格只报告第一处。"""
    out: list[Finding] = []
    for res in ctx.ev.indicators:
        if res.unit != "%" or not isinstance(res.value, Decimal) or res.value_error is not None:
            continue
        pct = res.value * 100
        for field_name, text in (("reason", res.reason), ("note", res.note)):
            cell = res.cells.get(field_name)
            if not cell or not isinstance(text, str) or not text.strip():
                continue
            for m in _PCT_RANGE.finditer(unicodedata.normalize("NFKC", text)):
                lo, hi = Decimal(m.group(1)), Decimal(m.group(2))
                if lo >= hi or lo <= pct <= hi:
                    continue
                out.append(F.make("value-outside-cited-band", SHEET_SCORES, cell, indicator=res.name,
                                  field={"reason": "调整理由", "note": "备注"}[field_name], band=m.group(0).strip(),
                                  value=_pct(res.value, 4), lo=_n(lo), hi=_n(hi), computed=_n(res.computed),
                                  final=_n(res.final), expected=f"{_n(lo)}%～{_n(hi)}%", actual=res.value))
                break
    return out


def _short(text: str, limit: int = 120) -> str:
    t = " ".join(str(text).split())
    return t if len(t) <= limit else t[: limit - 1] + "…"


# ---------------------------------------------------------------------------------------------------------
# 6. 金额单位：元与万元混用
# ---------------------------------------------------------------------------------------------------------
_UNIT_DECL = re.compile(r"(?:金额)?单位\s*+[:：]\s*+(万元|元)")
_UNIT_PAREN = re.compile(r"[（(]\s*+(万元|元)\s*+[)）]")


def check_money_unit(ctx: Context) -> list[Finding]:
    """“金额单位”与金额的量级、与文字中写明的单位一致（元与万元不混用）。"""
    out: list[Finding] = []
    unit = ctx.money_unit
    unit_where = ctx.inputs.cells.get(("scalar", "money_unit"), (SHEET_DATA, ""))
    money = [c for c in ctx.cells if c.kind == "money" and _usable(c) and c.value is not None and c.value != 0]
    if unit == "万元" and money:
        med = Decimal(median([abs(c.value) for c in money]))
        if len(money) >= 2 and med >= WAN_YUAN_MEDIAN_MAX:
            out.append(F.make("unit-mismatch", unit_where[0], unit_where[1], actual=med, expected="万元",
                              detail=f"金额单位为万元，但金额的中位数为 {_n(med)}（即 {_n(med / 10000)} 亿元），像是按元填写；"
                                     f"请把金额单位改为“元”，或把金额换算为万元"))
        elif len(money) >= 3 and med > 0:
            for c in money:
                if abs(c.value) >= UNIT_OUTLIER_FACTOR * med:
                    out.append(F.make("unit-mismatch", c.sheet, c.cell, actual=c.value, expected=c.value / 10000,
                                      detail=f"{c.label}为 {_n(c.value)}，是其他金额中位数（{_n(med)}）的 "
                                             f"{_n(abs(c.value) / med, 0)} 倍，疑似按元填写（金额单位为万元，"
                                             f"应为 {_n(c.value / 10000)}）"))
    if unit == "元":
        for c in money:
            if c.places > YUAN_MAX_PLACES and not c.formula:
                out.append(F.make("unit-mismatch", c.sheet, c.cell, actual=c.value,
                                  detail=f"{c.label}为 {_n(c.value, 9)}，元的金额最多两位小数（角、分），疑似按万元填写"))
        tops = [ctx.num(("table", tr.key, col.key)) for tr in ctx.system.table_rows if tr.indent == 0 and tr.parts
                for col in ctx.system.columns]
        tops = [c for c in tops if _usable(c) and c.value is not None and c.value > 0]
        if tops and max(c.value for c in tops) < YUAN_TOTAL_MIN:
            big = max(tops, key=lambda c: c.value)
            out.append(F.make("unit-mismatch", unit_where[0], unit_where[1], actual=big.value, expected="元",
                              detail=f"金额单位为元，但最大的合计数 {big.label} 只有 {_n(big.value)} 元，像是按万元填写"))
    # 单元格里写明了另一种单位：万元表中的“1234元”、元表中的“12.5万元”（parse_number 去掉单位后缀按数字计算，
    # 差 1 万倍却不会报错，这里必须指出）
    for c in money:
        if not isinstance(c.raw, str):
            continue
        t = unicodedata.normalize("NFKC", c.raw).strip()
        written = "万元" if t.endswith("万元") else "元" if t.endswith("元") else None
        if written is None or written == unit:
            continue
        converted = c.value / 10000 if written == "元" else c.value * 10000
        out.append(F.make("unit-mismatch", c.sheet, c.cell, actual=c.raw.strip(), expected=converted,
                          detail=f"{c.label}写作“{c.raw.strip()}”，而基础数据表的金额单位为{unit}，已按 {_n(c.value, 9)} "
                                 f"{unit}计算；应换算为 {_n(converted, 9)}（只填数字）"))
    # 文字中写明的单位
    labelled = _labelled_texts(ctx)
    for (kind, key), text, where in labelled:
        for m in list(_UNIT_DECL.finditer(text)) + (list(_UNIT_PAREN.finditer(text)) if kind == "table" else []):
            if m.group(1) != unit:
                out.append(F.make("unit-mismatch", where[0], where[1], actual=m.group(0), expected=unit,
                                  detail=f"{where[0]} {where[1]} 写明“{m.group(0).strip()}”，与基础数据表的金额单位“{unit}”不一致"))
                break
    # 文字材料里与表中同一个数、却写了另一种单位（“982.63元”而表中为 982.63 万元）
    figures = {c.value for c in money if abs(c.value) >= 1}
    for (kind, key), text, where in labelled:
        if kind != "text":
            continue
        for m in narrative.amounts(text):
            if m.unit != unit and m.value in figures:
                out.append(F.make("unit-mismatch", where[0], where[1], actual=m.text, expected=f"{m.number}{unit}",
                                  detail=f"{where[0]} {where[1]} 写“{m.text}”，而基础数据表中的 {_n(m.value)} 单位为{unit}"))
                break
    return out


def _labelled_texts(ctx: Context) -> list[tuple[tuple[str, str], str, tuple[str, str]]]:
    out = []
    sheet_cells = ctx.inputs.cells
    first_col = ctx.system.columns[0].key if ctx.system.columns else None
    for key, label in ctx.inputs.table_labels.items():
        where = sheet_cells.get(("table", key, first_col)) if first_col else None
        if where and isinstance(label, str):
            col = "B"
            row = "".join(ch for ch in where[1] if ch.isdigit())
            out.append((("table", key), label, (where[0], f"{col}{row}")))
    for key, text in ctx.inputs.texts.items():
        where = sheet_cells.get(("text", key))
        if where and isinstance(text, str):
            out.append((("text", key), text, where))
    for row in ctx.inputs.rows:
        if isinstance(row.note, str) and row.cells.get("note"):
            out.append((("note", row.code), row.note, (SHEET_SCORES, row.cells["note"])))
    return out


# ---------------------------------------------------------------------------------------------------------
# 7. 三公经费变动率需要上年三公“预算”数
# ---------------------------------------------------------------------------------------------------------
def check_prev_sangong_budget(ctx: Context) -> list[Finding]:
    """“三公经费”变动率比较两年的预算数：上年三公预算未填时明确指出（而不是用上年决算数代替）。"""
    out: list[Finding] = []
    for res in ctx.ev.indicators:
        spec = ctx.system.indicator(res.code)
        if spec is None or spec.udf != "SANGONG_CHANGE_RATE" or len(spec.args) < 2:
            continue
        this_ref, prev_ref = spec.args[0], spec.args[1]
        if not is_empty(resolve_arg(ctx.system, ctx.inputs, prev_ref)):  # 写明 0/无 是“上年没有三公预算”，不是漏填
            continue
        where = arg_cell(ctx.inputs, prev_ref)
        if where is None:
            continue
        hint = ""
        prev_final = ctx.num(("table", "sangong", "prev_final"))
        if _usable(prev_final) and prev_final.value is not None:
            hint = f"；{prev_final.label}是上年决算数（{_n(prev_final.value)}），不能代替预算数"
        out.append(F.make("prev-sangong-budget-missing", where[0], where[1], indicator=res.name,
                          label=f"{where[0]} {where[1]}（{_ref_label(ctx, prev_ref)}）", hint=hint))
        ctx.replaced.add(("missing-value", where[0], where[1]))
    return out


# ---------------------------------------------------------------------------------------------------------
# 8. 报告所列数字的复核
# ---------------------------------------------------------------------------------------------------------
def check_stated_figures(ctx: Context) -> list[Finding]:
    """“报告所列实际值/得分”两列与重新计算的实际值/得分比对，允许误差为所列数字最后一位的半个单位
    （90.5% 与 90.497% 一致；40.98% 与 40.67% 不一致；171.92% 是 171.932…% 截断所得，按四舍五入应为 171.93%）。"""
    out: list[Finding] = []
    for res, row in ctx.results():
        out.extend(_stated_value(ctx, res, row))
        out.extend(_stated_score(ctx, res))
    return out


def _stated_value(ctx: Context, res: IndicatorResult, row) -> list[Finding]:
    raw = res.stated_value
    if is_blank(raw) or res.value_error is not None or res.value is None:
        return []
    cell = res.cells.get("stated_value", "")
    if isinstance(res.value, str) or (isinstance(raw, str) and _looks_textual(raw)):
        stated, value = _raw_text(raw), _raw_text(res.value)
        if stated != value:
            return [F.make("stated-value-mismatch", SHEET_SCORES, cell, indicator=res.name, stated=stated, computed=value,
                           tolerance="文字须一致", hint="", expected=value, actual=stated)]
        return []
    c = ctx.num(("row", res.code, "stated_value"))
    if c is None or c.error is not None or c.value is None:
        return []
    try:
        value = parse_number(res.value).value
    except InputError:
        return []
    if value is None:
        return []
    pct = res.unit == "%"
    places = max(c.places, PERCENT_MIN_PLACES) if pct else c.places
    tol = Decimal(5).scaleb(-(places + 1))
    if _gap_ok(c.value, value, tol):
        return []
    if pct and _gap_ok(c.value / 100, value, tol / 100):
        return []  # 在百分数格式以外把 40.98% 写成了 40.98：按百分点理解，数值一致
    q = Decimal(1).scaleb(-places)
    rounded = value.quantize(q, rounding=ROUND_HALF_UP)
    hint = ""
    if value.quantize(q, rounding=ROUND_DOWN) == c.value:
        hint = f"；所列数字是截断而非四舍五入的结果，按四舍五入应为 {_show(rounded, pct, places)}"
    shown_tol = f"{_n(tol * 100, 9)} 个百分点" if pct else _n(tol, 9)
    return [F.make("stated-value-mismatch", SHEET_SCORES, cell, indicator=res.name, stated=_show(c.value, pct, places),
                   computed=_show(rounded, pct, places), tolerance=shown_tol, hint=hint, expected=rounded, actual=c.value)]


def _show(v: Decimal, pct: bool, places: int) -> str:
    return _pct(v, places) if pct else _n(v, places)


def _stated_score(ctx: Context, res: IndicatorResult) -> list[Finding]:
    c = ctx.num(("row", res.code, "stated_score"))
    if c is None or c.error is not None or c.value is None or res.final is None:
        return []
    tol = Decimal(5).scaleb(-(c.places + 1))
    if _gap_ok(c.value, res.final, tol):
        return []
    hint = ""
    if res.override is not None and res.computed is not None and _gap_ok(c.value, res.computed, tol):
        hint = "（与调整前的计算得分一致，调整后报告未同步）"
    return [F.make("stated-score-mismatch", SHEET_SCORES, res.cells.get("stated_score", ""), indicator=res.name,
                   stated=_n(c.value), final=_n(res.final), hint=hint, expected=res.final, actual=c.value)]


# ---------------------------------------------------------------------------------------------------------
# 9. 文字材料中的“其中”分项之和（addin/narrative.py）
# ---------------------------------------------------------------------------------------------------------
def check_text_sums(ctx: Context) -> list[Finding]:
    """文字材料里“总数，其中分项……”的分项之和应等于总数（种子 002：实际拨付1168万元，其中区本级630万元，
    上级财政下拨502万元——630＋502＝1132）。只报差额超出各数书写精度、又不超过总数 NEAR_MISS 的（见 narrative）。
    若把某个分项换成表中的一个金额就正好相符（1168 − 630 ＝ 538，而表中上级资金为 538），一并指出那个单元格。"""
    out: list[Finding] = []
    titles = {t.key: t.title for t in ctx.system.texts}
    money = [c for c in ctx.cells if c.kind == "money" and _usable(c) and c.value is not None and c.value > 0]
    for key, text in ctx.inputs.texts.items():
        where = ctx.inputs.cells.get(("text", key))
        if where is None or not isinstance(text, str):
            continue
        for claim in narrative.of_which_claims(text):
            if claim.adds_up:
                continue
            out.append(F.make("text-sum-mismatch", where[0], where[1], expected=claim.parts_sum, actual=claim.total.value,
                              title=titles.get(key, key), excerpt=_short(claim.excerpt, 80),
                              total=claim.total.text, parts_text=claim.parts_text(), sum=_n(claim.parts_sum),
                              gap=_n(abs(claim.gap)), unit=claim.unit, hint=_table_hint(ctx, claim, money)))
            # 每个单元格只报第一处：run_checks 按（代码, 表, 单元格）去重，后面的本来也不会出现；引文要从分句开头
            # 截取，成千上万处不自洽的“其中”都截一遍是平方级
            break
    return out


def _table_hint(ctx: Context, claim: narrative.OfWhich, money: list[NumCell]) -> str:
    if claim.unit != ctx.money_unit:
        return ""
    for part, value in zip(claim.parts, claim.part_values):
        needed = claim.total.value - (claim.parts_sum - value)
        if needed <= 0 or needed == value:
            continue
        for c in money:
            if _gap_ok(c.value, needed, c.half_unit):
                return (f"；{c.label}为 {_n(c.value)} {claim.unit}，"
                        f"正文的“{part.text}”是否应为 {_n(c.value)} {claim.unit}")
    return ""


# ---------------------------------------------------------------------------------------------------------
# 汇总
# ---------------------------------------------------------------------------------------------------------
CheckFn = Callable[[Context], list[Finding]]


def check_report_texts(ctx: Context) -> list[Finding]:
    """报告要用而“文字材料”表中未填写的叙述与成文日期（missing-text、bad-date 警告）：缺了它们报告只能是草稿，校验时就提示。
    哪些材料必填由报告模板决定，所以按模板实际生成一次报告来判断（addin.report.sections.text_findings，约 5 ms）。"""
    from ..report.sections import text_findings  # 延迟导入：只有这项检查需要 jinja2 与报告模板

    return text_findings(ctx.inputs, ctx.ev)


CHECKS: list[CheckFn] = [
    check_input_cells,
    check_table_totals,
    check_budget_added,
    check_of_which,
    check_points_total,
    check_score_bounds,
    check_sheet_totals,
    check_self_grade,
    check_formula_references,
    check_formula_results,
    check_typed_values,
    check_zero_rate_with_spending,
    check_overrides,
    check_cited_bands,
    check_evidence,
    check_money_unit,
    check_prev_sangong_budget,
    check_stated_figures,
    check_text_sums,
    check_report_texts,
]


def make_context(inputs: WorkbookInputs, ev: Evaluation) -> Context:
    system = SYSTEMS[inputs.system_key]
    cells = input_cells(inputs, system, ev)
    return Context(inputs=inputs, ev=ev, system=system, cells=cells, by_key={c.key: c for c in cells},
                   engine_error_cells={(f.sheet, f.cell) for f in ev.findings if f.severity == F.ERROR})


def run_checks(inputs: WorkbookInputs, ev: Evaluation | None = None, *,
               checks: Iterable[CheckFn] | None = None) -> list[Finding]:
    """全部校验：计分引擎的发现（读取、计算）加上各项检查（默认 CHECKS）的发现，去重并按严重程度、位置排序。"""
    if ev is None:
        ev = evaluate(inputs)
    ctx = make_context(inputs, ev)
    mine: list[Finding] = []
    for check in CHECKS if checks is None else checks:
        mine.extend(check(ctx))
    engine = [f for f in ev.findings if (f.code, f.sheet, f.cell) not in ctx.replaced]
    seen: set[tuple[str, str, str]] = set()
    out: list[Finding] = []
    for f in engine + mine:
        k = (f.code, f.sheet, f.cell)
        if k in seen:
            continue
        seen.add(k)
        out.append(f)
    return F.sort_findings(out)


def summary(findings: Iterable[Finding]) -> dict[str, int]:
    counts = {F.ERROR: 0, F.WARNING: 0, F.INFO: 0}
    for f in findings:
        counts[f.severity] = counts.get(f.severity, 0) + 1
    return counts


def summary_text(findings: Iterable[Finding]) -> str:
    c = summary(findings)
    return f"错误 {c[F.ERROR]} 项，警告 {c[F.WARNING]} 项，提示 {c[F.INFO]} 项"


# ---------------------------------------------------------------------------------------------------------
# 输出：校验结果表、Excel 中的高亮目标
# ---------------------------------------------------------------------------------------------------------
_STYLE = {F.ERROR: "error", F.WARNING: "warning", F.INFO: "info"}
_HEADERS = ("序号", "严重程度", "位置", "说明", "应为", "实际", "代码")
_WIDTHS = {1: 6, 2: 9, 3: 16, 4: 90, 5: 14, 6: 14, 7: 26}


def _display(v: Any) -> str:
    if v is None:
        return ""
    if isinstance(v, Decimal):
        return fmt_num(v, 6)
    if isinstance(v, float):
        return fmt_num(Decimal(repr(v)), 6)
    if isinstance(v, Formula):
        return v.text
    return str(v)


def link_target(sheet: str, cell: str) -> str:
    """超链接目标：'评分表'!H12（表名一律加引号，内部单引号加倍）。"""
    return "'" + sheet.replace("'", "''") + "'!" + cell


def findings_sheet_writes(findings: list[Finding], sheet_names: Iterable[str] = ()) -> list:
    """校验结果表的全部单元格（CellWrite 列表）。所有文字一律按文本写入，不会成为公式。"""
    from ..io.book import CellWrite

    names = set(sheet_names)
    w = [CellWrite(1, 1, "校验结果", "title"),
         CellWrite(2, 1, f"{summary_text(findings)}。点击“位置”跳转到对应单元格；本表由 jixiao check 生成，"
                         f"每次校验整表替换，请勿在此填写。", "text"),
         ]
    for j, h in enumerate(_HEADERS, 1):
        w.append(CellWrite(4, j, h, "header"))
    if not findings:
        w.append(CellWrite(5, 1, "未发现问题。", "text"))
        return w
    for i, f in enumerate(findings, 1):
        r = 4 + i
        where = f"{f.sheet}!{f.cell}" if f.cell else f.sheet
        link = link_target(f.sheet, f.cell) if f.cell and (not names or f.sheet in names) else None
        w += [CellWrite(r, 1, i, "text"), CellWrite(r, 2, f.severity, _STYLE.get(f.severity, "text")),
              CellWrite(r, 3, where, "link" if link else "text", link), CellWrite(r, 4, f.message, "paragraph"),
              CellWrite(r, 5, _display(f.expected), "text"), CellWrite(r, 6, _display(f.actual), "text"),
              CellWrite(r, 7, f.code, "text")]
    return w


def write_findings_sheet(book: WritableBook, findings: list[Finding]) -> None:
    """把发现写入“校验结果”工作表（整表替换，不触碰其他工作表；每条发现链接到其单元格，严重程度着色）。"""
    book.replace_sheet(SHEET_CHECKS, findings_sheet_writes(findings, book.sheet_names()), _WIDTHS)


def highlight_targets(findings: Iterable[Finding]) -> list[tuple[str, str, str]]:
    """Excel 加载项要高亮的单元格：(表名, 单元格, 严重程度)，同一单元格取最严重的一条；生成表与无单元格的发现除外。
    高亮由加载项通过 xlwings 在 Excel 中施加并在下次校验前清除；openpyxl 从不改动用户单元格的格式。"""
    best: dict[tuple[str, str], str] = {}
    order: list[tuple[str, str]] = []
    for f in findings:
        if not f.cell or f.sheet in GENERATED_SHEETS or not re.match(r"^\$?[A-Z]{1,3}\$?\d+(:\$?[A-Z]{1,3}\$?\d+)?$", f.cell):
            continue
        k = (f.sheet, f.cell)
        if k not in best:
            order.append(k)
            best[k] = f.severity
        elif F.SEVERITY_ORDER.get(f.severity, 9) < F.SEVERITY_ORDER.get(best[k], 9):
            best[k] = f.severity
    return [(s, c, best[(s, c)]) for s, c in order]


__all__ = ["CHECKS", "Context", "run_checks", "write_findings_sheet", "highlight_targets", "findings_sheet_writes",
           "summary", "summary_text", "link_target", "decimal_places", "parse_cell"]
