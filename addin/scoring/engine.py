"""无界面计分引擎：WorkbookInputs → Evaluation。

与 Excel 一致的关键：实际值为公式时，按单元格里的公式本身求值（addin/scoring/formula.py：与 Excel 相同的运算规则，单元格函数
与 Excel 中调用的是同一段代码），模板行、用户改过的公式与自建行都一样；实际值或计算得分被手工改成数值时，
按 Excel 的做法以该数值为准（并给出警告）。规则一律由评分表中的规则类型与参数单元格构造。
"""
from __future__ import annotations

from decimal import Decimal
from typing import Any, Callable

from udfs.excel import BY_NAME
from udfs.indicators import IndicatorError
from udfs.numbers import InputError, is_blank, is_empty, parse_number, round2
from udfs.rule import RuleError
from udfs.scoring import cached_rule
from workbook_templates.spec import System
from workbook_templates.systems import SYSTEMS

from ..checks import findings as F
from ..io.ooxml import col_part
from ..model import (
    SHEET_DATA,
    SHEET_SCORES,
    Evaluation,
    Finding,
    Formula,
    IndicatorResult,
    Level1Result,
    ParentResult,
    RowInput,
    WorkbookInputs,
)
from . import derived, score_cache
from .formula import Evaluator
from .refs import _cached_or_raw, arg_cell, resolve_arg
from .values import formula_cells, formula_value

ZERO = Decimal(0)


def _text(x: Any) -> str:
    if type(x) is str:  # 最常见的情形，与下面 str(x).strip() 相同
        return x.strip()
    if x is None or isinstance(x, Formula):
        return ""
    if isinstance(x, float) and x.is_integer():
        x = int(x)
    return str(x).strip()


def _is_formula(x: Any) -> bool:
    return isinstance(x, Formula)


UNGROUPED = "未分组"


def evaluate(inputs: WorkbookInputs, system: System | None = None) -> Evaluation:
    """计分。任一三级指标无法计分时评价不完整：total 与 grade 为 None，missing 列出每个未计分的指标、该去改的单元格
    与原因（使之无法计分的那条发现的中文说明）。父行（见 _find_parents）不单独计分，得分为其子行之和。"""
    system = system or SYSTEMS[inputs.system_key]
    findings: list[Finding] = list(inputs.read_findings)
    results: list[IndicatorResult] = []
    parent_of = _find_parents(inputs.rows)
    blocking: dict[int, Finding | None] = {}

    evaluator: list[Evaluator] = []

    def cells() -> Evaluator:
        # 公式求值器只在有行需要对公式本身求值时才建立（模板公式的行按参数计算，用不到它）；建立一次，各行共用
        if not evaluator:
            evaluator.append(formula_cells(inputs))
        return evaluator[0]

    words = _words(inputs)
    words_key = score_cache.words_key(words)
    money_unit = _money_unit(inputs)
    for i, row in enumerate(inputs.rows):
        if i in parent_of:
            continue
        before = len(findings)
        # 手填实际值的行按其各格缓存计分结果（score_cache.py）：命中时照抄结果与发现，照该行填入其余各项
        key = score_cache.row_key(system, row, words_key)
        hit = score_cache.lookup(system, key) if key is not None else None
        if hit is not None:
            findings.extend(hit[1])
            res = _result(row, system.indicator(row.code), *hit[0])
        else:
            res = _evaluate_row(system, inputs, row, findings, cells, words, money_unit)
            if key is not None:
                score_cache.remember(system, key, tuple([getattr(res, f) for f in _SCORED]), tuple(findings[before:]))
        if not res.level1:
            res.level1 = UNGROUPED
            findings.append(F.make("level1-missing", SHEET_SCORES, res.cells.get("level1", ""), indicator=res.name,
                                   level1=UNGROUPED))
        results.append(res)
        if res.final is None:
            own = findings[before:]
            blocking[res.row] = next((f for f in own if f.severity == F.ERROR), own[0] if own else None)
    parents = _parent_results(inputs, parent_of, results, findings)

    level1: dict[str, Level1Result] = {}
    has_rule = {r.row for r in inputs.rows if _text(r.rule_label)}
    # 一级指标按在评分表中出现的先后排列（表是用户的：改名、增删一级指标都照表来）
    for r in results:  # 各项按行的先后累加（与逐组求和相同）
        lv = level1.get(r.level1)
        if lv is None:
            lv = level1[r.level1] = Level1Result(r.level1, ZERO, ZERO, ZERO)
        lv.points += r.points or ZERO
        lv.score += r.final or ZERO
        lv.computed += r.computed or ZERO
        if r.final is None:
            lv.unscored += 1
        if r.computed is None and r.row in has_rule:  # 与模板小计公式的判断相同：选了规则类型而计算得分算不出的行
            lv.computed_unscored += 1
    missing = [_missing(r, blocking.get(r.row)) for r in results if r.final is None]
    total = None if missing else sum((v.score for v in level1.values()), ZERO)
    scale = system.grades
    if inputs.grade_rows:
        try:
            scale = score_cache.grade_scale(inputs.grade_rows)
        except RuleError as exc:
            cell = inputs.cells.get(("grades",), (SHEET_SCORES, ""))
            findings.append(F.make("bad-grade-table", cell[0], cell[1], detail=str(exc)))
    return Evaluation(
        system_key=system.key, unit_name=_text(_cached_or_raw(inputs.scalars.get("unit_name"))),
        year=_year(inputs, findings),
        money_unit=_text(_cached_or_raw(inputs.scalars.get("money_unit"))) or "万元",
        indicators=results, level1=level1, points_total=sum((v.points for v in level1.values()), ZERO),
        total=total, computed_total=sum((v.computed for v in level1.values()), ZERO),
        grade=None if total is None else scale.grade(total), findings=findings, inputs=inputs, missing=missing,
        parents=parents)


def _missing(res: IndicatorResult, finding: Finding | None) -> dict[str, Any]:
    """一项未计分的指标：该去改的单元格取使之无法计分的那条发现所指的单元格（可能在基础数据表），原因是它的中文说明。"""
    if finding is not None and finding.cell:
        sheet, cell, reason = finding.sheet, finding.cell, finding.message
    else:  # 没有具体发现时（不应发生）指向该行的得分单元格
        sheet, cell = SHEET_SCORES, res.cells.get("final", "")
        reason = finding.message if finding is not None else f"指标“{res.name}”无法计分"
    return {"code": res.code, "name": res.name, "sheet": sheet, "cell": f"{sheet}!{cell}", "reason": reason}


def _row_points(row: RowInput) -> Decimal | None:
    try:
        return parse_number(_cached_or_raw(row.points)).value
    except InputError:
        return None


def _parent_shaped(row: RowInput) -> bool:
    """父行的样子（分值为正之外）：没有规则类型、没有实际值，三级指标为空或就是它的二级/一级指标名称（如“数量指标 20 分”）。
    三级指标名称另有其字的行是还没选规则类型的指标，不当作父行（否则两个 5 分的相邻行会被误认）。"""
    if _text(row.rule_label) or isinstance(row.value, Formula) or not is_blank(row.value):
        return False
    name = _text(row.name)
    return not name or name in (_text(row.level2), _text(row.level1))


def _find_parents(rows: list[RowInput]) -> dict[int, list[int]]:
    """找出父行：可能是父行（有正的分值而 _parent_shaped）的行，其下紧接的同一一级指标的各行（子行本身也可以是父行，按其分值计）
    分值依次相加正好等于它的分值。返回 {父行下标: [直接子行下标]}。分值对不上的不是父行（照常按指标行计分并报告规则错误）。"""
    if not any(map(_parent_shaped, rows)):  # 绝大多数工作簿没有父行的样子：不必逐行解析分值
        return {}
    pts = [_row_points(r) for r in rows]
    cand = [p is not None and p > 0 and _parent_shaped(r) for r, p in zip(rows, pts, strict=True)]
    found: dict[int, list[int]] = {}
    i = 0
    while i < len(rows):
        end = _span(i, rows, pts, cand, found) if cand[i] else None
        i = end if end is not None else i + 1
    return found


def _span(i: int, rows: list[RowInput], pts: list[Decimal | None], cand: list[bool], found: dict[int, list[int]]
          ) -> int | None:
    """cand[i] 的行（分值为正）是父行时记入 found，返回其子行之后的下标（模块级：递归的内部函数与自身成环，要等垃圾回收）。"""
    target, total, j, direct = pts[i] or ZERO, ZERO, i + 1, list[int]()
    while j < len(rows) and total < target:
        p = pts[j]
        if _text(rows[j].level1) != _text(rows[i].level1) or p is None:
            break
        end = _span(j, rows, pts, cand, found) if cand[j] else None
        direct.append(j)
        total += p
        j = end if end is not None else j + 1
    if direct and total == target:
        found[i] = direct
        return j
    return None


def _sum_all(values: list[Decimal | None]) -> Decimal | None:
    """各项之和；有一项为 None（未计分）时为 None。"""
    known = [v for v in values if v is not None]
    return sum(known, ZERO) if len(known) == len(values) else None


def _parent_results(inputs: WorkbookInputs, parent_of: dict[int, list[int]], results: list[IndicatorResult],
                    findings: list[Finding]) -> list[ParentResult]:
    if not parent_of:  # 没有父行（绝大多数工作簿）
        return []
    from udfs.numbers import fmt_score

    rows = inputs.rows
    by_row = {r.row: r for r in results}
    memo: dict[int, ParentResult] = {}

    def build(i: int) -> ParentResult:
        if i in memo:
            return memo[i]
        row = rows[i]
        scores: list[Decimal | None] = []
        computed: list[Decimal | None] = []
        leaves: list[int] = []
        for j in parent_of[i]:
            if j in parent_of:
                child = build(j)
                scores.append(child.score)
                computed.append(child.computed)
                leaves.extend(child.leaves)
            else:
                res = by_row[rows[j].row]
                scores.append(res.final)
                computed.append(res.computed)
                leaves.append(res.row)
        pts = _row_points(row)
        assert pts is not None
        memo[i] = ParentResult(
            code=row.code, level1=_text(row.level1), level2=_text(row.level2),
            name=_text(row.name) or _text(row.level2) or _text(row.level1), points=pts,
            score=_sum_all(scores), computed=_sum_all(computed),
            row=row.row, cells=dict(row.cells), children=tuple(rows[j].row for j in parent_of[i]), leaves=tuple(leaves))
        return memo[i]

    out = [build(i) for i in sorted(parent_of)]
    for i, p in zip(sorted(parent_of), out, strict=True):
        child_rows = list(p.children)
        final_cell = p.cells.get("final", "")
        hint = ""
        if not isinstance(rows[i].final, Formula) and final_cell:
            col = col_part(final_cell)
            hint = (f"；Excel 中请在 {final_cell} 填写 =SUM({col}{child_rows[0]}:{col}{child_rows[-1]})"
                    if child_rows == list(range(child_rows[0], child_rows[-1] + 1))
                    else f"；Excel 中请在 {final_cell} 填写各子行得分之和")
        findings.append(F.make("parent-row", SHEET_SCORES, p.cells.get("points", ""), name=p.name, row=p.row,
                               points=fmt_score(p.points), rows=_rows_text(child_rows),
                               score=f"{fmt_score(p.score)} 分" if p.score is not None else "有子行未计分，暂无得分",
                               hint=hint))
    return out


def _rows_text(rows: list[int]) -> str:
    if rows == list(range(rows[0], rows[-1] + 1)) and len(rows) > 1:
        return f"{rows[0]}～{rows[-1]}"
    return "、".join(str(r) for r in rows)


def _year(inputs: WorkbookInputs, findings: list[Finding]) -> str:
    """年度。Excel 常把输入的“2018-12-31”“2018/12”自动变成日期：取其年份并提示，报告标题不会出现
    “2018-12-31 00:00:00年度”；2018.0（浮点）写作 2018。"""
    import datetime as _dt

    raw = _cached_or_raw(inputs.scalars.get("year"))
    if isinstance(raw, (_dt.date, _dt.datetime)):
        sheet, cell = inputs.cells.get(("scalar", "year"), (SHEET_DATA, ""))
        findings.append(F.make("year-is-date", sheet, cell, label="年度", raw=raw.strftime("%Y-%m-%d"),
                               value=raw.year))
        return str(raw.year)
    if isinstance(raw, float) and raw.is_integer():
        return str(int(raw))
    return _text(raw)


def _evaluate_row(system: System, inputs: WorkbookInputs, row: RowInput, findings: list[Finding],
                  cells: Callable[[], Evaluator] | None = None, words: tuple | None = None,
                  money_unit: str | None = None) -> IndicatorResult:
    spec = system.indicator(row.code)
    name = _text(row.name) or (spec.name if spec else row.code)
    cell = row.cells.get
    ind = name

    points: Decimal | None = None
    try:
        points = parse_number(_cached_or_raw(row.points)).value
        if points is None:
            raise InputError("未填写")
        if points < 0:
            raise InputError(f"不能为负数（{points}）")
    except InputError as exc:
        findings.append(F.make("bad-points", SHEET_SCORES, cell("points", ""), indicator=ind, detail=str(exc)))
        points = None

    # 实际值
    if money_unit is None:
        money_unit = _money_unit(inputs)
    value: Any = None
    value_error: str | None = None
    typed = not _is_formula(row.value)
    args: list[Any] | None = None
    variant = ("current", "")
    if spec is not None and spec.udf and not typed:
        variant = derived.formula_variant(system, spec, inputs, row.value.text)
    changed = variant[1] if variant[0] == "changed" else ""
    if changed:
        findings.append(F.make("formula-changed", SHEET_SCORES, cell("value", ""), indicator=ind, actual=row.value.text,
                               expected=changed, template_formula=changed))
    if spec is not None and spec.udf and not typed and not changed:
        # 单元格里是（某一版）模板公式：按模板的参数计算——值与对这条公式求值相同（tests/test_derived.py 以 formulas 引擎
        # 逐格核对），并能说出推算了什么（合计取分项之和、本年追加按调整数推算）、缺的是哪一格
        # 按单元格里的那一版模板公式取参数：当前模板（合计行可取分项之和、调整预算数推算追加）或此前版本（直接引用）
        legacy = variant[0] == "legacy"
        args, sums = derived.indicator_args(system, inputs, spec, legacy=legacy)
        refs = derived.legacy_refs(spec) if legacy else spec.args
        try:
            value = BY_NAME[spec.udf].func(*args)
        except IndicatorError as exc:
            value_error = str(exc)
            where = _first_cell_for(inputs, refs, exc) or (SHEET_SCORES, cell("value", ""))
            if exc.code == "missing":
                ref = refs[exc.arg_index] if exc.arg_index is not None and exc.arg_index < len(refs) else None
                label = derived.ref_label(system, inputs, ref) if ref else f"{where[0]} {where[1]}"
                findings.append(F.make("missing-value", where[0], where[1], label=label, indicator=ind,
                                       hint=derived.missing_hint(system, spec, ref, exc.arg_index)))
            else:
                code = "zero-denominator" if exc.code == "zero-denominator" else "indicator-error"
                findings.append(F.make(code, where[0], where[1], indicator=ind, detail=value_error))
        else:
            # 推算的数都说出来；同一格的同一提示（本年追加被两个指标引用）只报一次
            notes = derived.notes(system, inputs, spec, args, sums, ind, cell("value", ""), money_unit)
            if notes:
                seen = {(g.code, g.sheet, g.cell) for g in findings}
                findings.extend(f for f in notes if (f.code, f.sheet, f.cell) not in seen)
    elif not typed:
        # 改过的模板公式、用户自建行的公式：单元格里的公式就是依据（与 Excel 相同），按公式本身求值
        value, value_error = formula_value(cells() if cells is not None else formula_cells(inputs), row, ind, findings)
    else:
        value = row.value
        if is_empty(value):
            # 空白不是零：评价人未填写的实际值（扣分、打分、等次、完成值……）不按“无基数时”计分
            value, value_error = None, "实际值未填写"
            findings.append(F.make("missing-value", SHEET_SCORES, cell("value", ""),
                                   label=f"{SHEET_SCORES} {cell('value', '')}（实际值）", indicator=ind,
                                   hint=derived.typed_missing_hint(_text(row.rule_label))))
        elif spec is not None and spec.udf:
            findings.append(F.make("value-typed-over-formula", SHEET_SCORES, cell("value", ""), indicator=ind,
                                   raw=_text(value), actual=value))
    if isinstance(value, str) and is_blank(value):
        value = None  # 写明的“无”“—”：不适用，由“无基数时”定分

    # 规则与计算得分
    rule = None
    computed: Decimal | None = None
    if points is not None:
        label = _text(row.rule_label)
        try:
            params = [_cached_or_raw(p) for p in row.params]
            rule = cached_rule(label, points, params, _text(row.na) or None, words)
        except RuleError as exc:
            findings.append(F.make("rule-error", SHEET_SCORES, _rule_error_cell(row, label, exc),
                                   indicator=ind, detail=str(exc)))
    if rule is not None and value_error is None:
        try:
            computed = score_cache.score(rule, value)
        except RuleError as exc:
            findings.append(F.make("value-error", SHEET_SCORES, cell("value", ""), indicator=ind, detail=str(exc)))
        else:
            unit = _text(row.unit) or (spec.unit if spec else "")
            # capped_over_100 只看单位为 % 的指标（其余直接返回 None）
            over = None if unit != "%" else derived.capped_over_100(system, inputs, spec, args, rule, value, computed,
                                                                    ind, cell("value", ""), unit, money_unit)
            if over is not None:
                findings.append(over)
    if rule is not None:
        entry_notes(rule, value if computed is not None else None, row, ind, findings)
    if row.computed is not None and not _is_formula(row.computed) and not is_blank(row.computed):
        try:
            typed_score = parse_number(row.computed).value
        except InputError:
            typed_score = None
        findings.append(F.make("score-typed-over-formula", SHEET_SCORES, cell("computed", ""), indicator=ind,
                               raw=_text(row.computed), expected=computed, actual=typed_score))
        if typed_score is not None:
            computed = round2(typed_score)

    # 评价人调整
    override: Decimal | None = None
    bad_override = False
    try:
        override = parse_number(_cached_or_raw(row.override)).value
    except InputError as exc:
        bad_override = True
        findings.append(F.make("bad-override", SHEET_SCORES, cell("override", ""), indicator=ind, detail=str(exc)))
    reason = _text(row.reason)
    if override is not None:
        override = round2(override)
        if not reason:
            findings.append(F.make("override-without-reason", SHEET_SCORES, cell("reason", ""), indicator=ind,
                                   override=override, computed=computed if computed is not None else "—"))
    # 与 Excel 的 =FINAL_SCORE(计算得分,调整得分) 一致：调整得分不是数字时该指标无法计分（单元格显示“错误：…”）
    final = None if bad_override else override if override is not None else computed

    return _result(row, spec, row.code, name, points, value, value_error, typed, rule, computed, override, reason, final)


# IndicatorResult 中计分得出的各项，按 _result 的参数顺序（其余各项由 _result 照该行填入）
_SCORED = ("code", "name", "points", "value", "value_error", "value_typed", "rule", "computed", "override", "reason",
           "final")


def _result(row: RowInput, spec: Any, code: str, name: str, points: Decimal | None, value: Any, value_error: str | None,
            value_typed: bool, rule: Any, computed: Any, override: Any, reason: str, final: Any) -> IndicatorResult:
    """计分得出的各项（_SCORED）加上照该行填入、不参与计分的各项：各级指标名称、评分标准、指标公式、单位（空白时取
    指标描述）、报告所列、备注等。cells 就是该行的地址表（读取时为每行新建，之后谁都不改它：不必再复制一份）。"""
    level1, level2, criterion, formula, unit, note, evidence = [  # 各格的 _text（文本单元格不再逐个调用 _text）
        x.strip() if type(x) is str else _text(x)
        for x in (row.level1, row.level2, row.criterion, row.formula_text, row.unit, row.note, row.evidence)]
    if spec is not None:
        level1, level2 = level1 or spec.level1, level2 or spec.level2
        criterion, formula, unit = criterion or spec.criterion, formula or spec.formula, unit or spec.unit
    # 位置参数，按 IndicatorResult 的字段顺序（变量与字段同名；tests/test_engine.py 逐项核对）：每行都建一个结果，
    # 类的关键字参数要先装成字典再拆开，比位置参数多约三成指令
    return IndicatorResult(code, level1, level2, name, points, criterion, formula, unit, value, value_error, value_typed,
                           rule, computed, override, reason, final,
                           _cached_or_raw(row.stated_value), _cached_or_raw(row.stated_score),
                           note, row.row, row.cells, evidence)


def _rule_error_cell(row: RowInput, label: str, exc: RuleError) -> str:
    """规则错误指向出错的那一格（RuleError 的 param / field，不读消息文字）：规则类型、无基数时、分值或“参数k”；
    参数之间的关系等其余情形指向参数区域。"""
    from udfs.scoring import RULE_TYPES

    c = row.cells
    if label not in RULE_TYPES or exc.field == "rule":
        return c.get("rule", "")
    if exc.field in ("na", "points"):
        return c.get(exc.field, "")
    if exc.param is not None:
        return c.get(f"p{exc.param + 1}", "")
    return c.get("params", c.get("rule", ""))


def _money_unit(inputs: WorkbookInputs) -> str:
    return _text(_cached_or_raw(inputs.scalars.get("money_unit"))) or "万元"


def _first_cell_for(inputs: WorkbookInputs, refs: tuple[str, ...], exc: IndicatorError) -> tuple[str, str] | None:
    """错误指向数据所在单元格：函数说明了出错的是第几个参数（IndicatorError.arg_index）时就是那一格；
    否则第一个非数字的参数，再否则第一个为空的参数。"""
    i = exc.arg_index
    if i is not None and 0 <= i < len(refs) and arg_cell(inputs, refs[i]) is not None:
        return arg_cell(inputs, refs[i])
    for ref in refs:
        raw = resolve_arg(inputs, ref)
        if is_blank(raw):
            continue
        try:
            parse_number(raw)
        except InputError:
            return arg_cell(inputs, ref)
    for ref in refs:
        if is_blank(resolve_arg(inputs, ref)):
            return arg_cell(inputs, ref)
    return arg_cell(inputs, refs[-1]) if refs else None


# ------------------------------------------------------------------------------------------------ 条目的读法
def _words(inputs: WorkbookInputs) -> tuple | None:
    """评分表“定性词表”的各行（词语、档次）；工作簿没有该区域时为 None（规则用内置词表，与旧工作簿的公式一致）。
    元组：udfs.words.word_pairs 对同一词表只读一次。"""
    if inputs.qual_words is None:
        return None
    return tuple([(w.cached if isinstance(w, Formula) else w, b.cached if isinstance(b, Formula) else b)  # _cached_or_raw
                  for w, b in inputs.qual_words])


def entry_notes(rule: Any, value: Any, row: RowInput, ind: str, findings: list[Finding]) -> None:
    """把规则读指标性质、指标值与实际值时所做的解释写成“提示”，点名各自的单元格（如“‘≥300米’按 300 计算”）。
    value 为 None 时只说明参数（实际值未能评分时，原因已由 value-error 说明）。"""
    for index, note in getattr(rule, "notes", ()):
        findings.append(F.make("entry-interpreted", SHEET_SCORES, row.cells.get(f"p{index + 1}", ""), indicator=ind,
                               field=rule.param_names[index], note=note))
    if value is None:
        return
    try:
        note = rule.interpret(value)
    except RuleError:  # 与评分时的错误相同，已报告
        return
    if note:
        findings.append(F.make("entry-interpreted", SHEET_SCORES, row.cells.get("value", ""), indicator=ind,
                               field="实际值", note=note))
