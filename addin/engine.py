"""无界面计分引擎：WorkbookInputs → Evaluation。

与 Excel 一致的关键：实际值为公式时，按单元格里的公式本身求值（addin/formula.py：与 Excel 相同的运算规则，单元格函数
与 Excel 中调用的是同一段代码），模板行、用户改过的公式与自建行都一样；实际值或计算得分被手工改成数值时，
按 Excel 的做法以该数值为准（并给出警告）。规则一律由评分表中的规则类型与参数单元格构造。
"""
from __future__ import annotations

import re
from decimal import Decimal
from functools import lru_cache
from typing import Any

from udfs.numbers import InputError, fmt_num, is_blank, parse_number, round2
from udfs.scoring import GradeScale, RuleError, rule_from_params
from workbook_templates.spec import System
from workbook_templates.systems import SYSTEMS

from . import findings as F
from .formula import UNKNOWN_CODE, Evaluator, XlError, col_index, display
from .model import (SHEET_DATA, SHEET_SCORES, Evaluation, Finding, Formula, IndicatorResult, Level1Result, RowInput,
                    WorkbookInputs)

ZERO = Decimal(0)


def _text(x: Any) -> str:
    if x is None or isinstance(x, Formula):
        return ""
    if isinstance(x, float) and x.is_integer():
        x = int(x)
    return str(x).strip()


def _cached_or_raw(x: Any) -> Any:
    return x.cached if isinstance(x, Formula) else x


def resolve_arg(system: System, inputs: WorkbookInputs, ref: str) -> Any:
    """把描述中的参数引用（key / key@col / =常量）换成工作簿中的原值。"""
    if ref.startswith("="):
        return ref[1:]
    if "@" in ref:
        key, col = ref.split("@", 1)
        return _cached_or_raw(inputs.table.get(key, {}).get(col))
    return _cached_or_raw(inputs.scalars.get(ref))


def arg_cell(inputs: WorkbookInputs, ref: str) -> tuple[str, str] | None:
    if ref.startswith("="):
        return None
    if "@" in ref:
        key, col = ref.split("@", 1)
        return inputs.cells.get(("table", key, col))
    return inputs.cells.get(("scalar", ref))


def _is_formula(x: Any) -> bool:
    return isinstance(x, Formula)


def evaluate(inputs: WorkbookInputs, system: System | None = None) -> Evaluation:
    system = system or SYSTEMS[inputs.system_key]
    findings: list[Finding] = list(inputs.read_findings)
    results: list[IndicatorResult] = []

    cells = formula_cells(inputs)
    for row in inputs.rows:
        results.append(_evaluate_row(system, inputs, row, findings, cells))

    level1: dict[str, Level1Result] = {}
    order = list(system.level1_order) + [r.level1 for r in results if r.level1 not in system.level1_order]
    for name in dict.fromkeys(order):
        members = [r for r in results if r.level1 == name]
        if not members:
            continue
        level1[name] = Level1Result(
            name, sum((r.points or ZERO for r in members), ZERO), sum((r.final or ZERO for r in members), ZERO),
            sum((r.computed or ZERO for r in members), ZERO))
    total = sum((v.score for v in level1.values()), ZERO)
    scale = system.grades
    if inputs.grade_rows:
        try:
            scale = GradeScale.from_rows(inputs.grade_rows)
        except RuleError as exc:
            cell = inputs.cells.get(("grades",), (SHEET_SCORES, ""))
            findings.append(F.make("bad-grade-table", cell[0], cell[1], detail=str(exc)))
    return Evaluation(
        system_key=system.key, unit_name=_text(_cached_or_raw(inputs.scalars.get("unit_name"))),
        year=_year(inputs, findings),
        money_unit=_text(_cached_or_raw(inputs.scalars.get("money_unit"))) or "万元",
        indicators=results, level1=level1, points_total=sum((v.points for v in level1.values()), ZERO),
        total=total, computed_total=sum((v.computed for v in level1.values()), ZERO), grade=scale.grade(total),
        findings=findings, inputs=inputs)


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
                  cells: Evaluator | None = None) -> IndicatorResult:
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
    value: Any = None
    value_error: str | None = None
    typed = not _is_formula(row.value)
    changed = spec is not None and spec.udf and _is_formula(row.value) and _formula_changed(spec, inputs, row.value.text)
    if changed:
        findings.append(F.make("formula-changed", SHEET_SCORES, cell("value", ""), indicator=ind, actual=row.value.text,
                               expected=changed, template_formula=changed))
    if _is_formula(row.value):
        # 单元格里的公式就是依据（与 Excel 相同）：模板行与用户自建行、改过的公式都按公式本身求值
        value, value_error = formula_value(cells or formula_cells(inputs), row, ind, findings)
    else:
        value = row.value
        if spec is not None and spec.udf and not is_blank(value):
            findings.append(F.make("value-typed-over-formula", SHEET_SCORES, cell("value", ""), indicator=ind,
                                   raw=_text(value), actual=value))
    if isinstance(value, str) and is_blank(value):
        value = None

    # 规则与计算得分
    rule = None
    computed: Decimal | None = None
    if points is not None:
        try:
            rule = rule_from_params(_text(row.rule_label), points, [_cached_or_raw(p) for p in row.params],
                                    _text(row.na) or None, _words(inputs))
        except RuleError as exc:
            findings.append(F.make("rule-error", SHEET_SCORES, _rule_error_cell(row, _text(row.rule_label), str(exc)),
                                   indicator=ind, detail=str(exc)))
    if rule is not None and value_error is None:
        try:
            computed = rule.score(value)
        except RuleError as exc:
            findings.append(F.make("value-error", SHEET_SCORES, cell("value", ""), indicator=ind, detail=str(exc)))
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

    return IndicatorResult(
        code=row.code, level1=_text(row.level1) or (spec.level1 if spec else ""),
        level2=_text(row.level2) or (spec.level2 if spec else ""), name=name, points=points,
        criterion=_text(row.criterion) or (spec.criterion if spec else ""),
        formula=_text(row.formula_text) or (spec.formula if spec else ""), unit=_text(row.unit) or (spec.unit if spec else ""),
        value=value, value_error=value_error, value_typed=typed, rule=rule, computed=computed, override=override,
        reason=reason, final=final, stated_value=_cached_or_raw(row.stated_value), stated_score=_cached_or_raw(row.stated_score),
        note=_text(row.note), row=row.row, cells=dict(row.cells))


def _formula_changed(spec, inputs: WorkbookInputs, text: str) -> str:
    """实际值公式与模板公式（按当前单元格位置重建）不同时，返回应有的公式；相同或无法重建时返回空串。"""
    from workbook_templates.layout import normalise_formula, value_formula

    try:
        expected = value_formula(spec.udf, spec.args, inputs.cells)
    except KeyError:
        return ""
    # Excel 保存时给加载项函数加的前缀（[1]!、'…\jixiao.xlam'!、_xludf.）不算改动
    text = re.sub(r"'[^']*\.xla[mx]?'!|\[\d+\]!(?=[A-Za-z_])|\b[A-Za-z0-9_.\-]+\.xla[mx]?!|_xludf\.", "", text, flags=re.I)
    return "" if normalise_formula(expected) == normalise_formula(text) else expected


def _rule_error_cell(row: RowInput, label: str, message: str) -> str:
    """规则错误指向出错的那一格：规则类型、无基数时、分值，或按消息开头的参数名找到参数格；其余指向参数区域。"""
    from udfs.scoring import RULE_TYPES

    c = row.cells
    if label not in RULE_TYPES or message.startswith("规则类型"):
        return c.get("rule", "")
    if message.startswith("“无基数时”"):
        return c.get("na", "")
    if message.startswith("分值"):
        return c.get("points", "")
    names = RULE_TYPES[label].param_names
    for i, name in sorted(enumerate(names), key=lambda t: -len(t[1])):  # “上限1”先于“上限”
        if message.startswith((name, f"“{name}”")):
            return c.get(f"p{i + 1}", "")
    return c.get("params", c.get("rule", ""))


# ------------------------------------------------------------------------------------------------ 实际值公式
def formula_cells(inputs: WorkbookInputs) -> Evaluator:
    """工作簿单元格的公式求值器：各表的网格（inputs.grids，读取工作簿时按需加载）之上，基础数据表中读出的各项
    （inputs.table / inputs.scalars）优先——引擎与校验看到的输入就是公式引用到的值。程序构造的输入（生成模板、测试夹具）
    没有网格，评分表各行也按单元格地址排入——两种来源由同一段求值代码计算。"""
    values: dict[tuple[str, int, int], Any] = {}

    def put(sheet: str, addr: str, v: Any) -> None:
        if addr and ":" not in addr:
            values[(sheet, *parse_cell(addr))] = v

    for key, (sheet, addr) in inputs.cells.items():
        if key[0] == "table":
            put(sheet, addr, inputs.table.get(key[1], {}).get(key[2]))
        elif key[0] == "scalar":
            put(sheet, addr, inputs.scalars.get(key[1]))
    if not inputs.grids:
        for row in inputs.rows:
            for f, addr in row.cells.items():
                if f.startswith("p") and f[1:].isdigit():
                    i = int(f[1:]) - 1
                    put(SHEET_SCORES, addr, row.params[i] if i < len(row.params) else None)
                elif hasattr(row, f) and f not in ("cells", "row"):
                    put(SHEET_SCORES, addr, getattr(row, f))
    return Evaluator(inputs.grids or {SHEET_DATA: {}, SHEET_SCORES: {}}, values)


@lru_cache(maxsize=8192)
def parse_cell(addr: str) -> tuple[int, int]:
    letters = "".join(ch for ch in addr if ch.isalpha())
    return int(addr[len(letters):].replace("$", "")), col_index(letters.replace("$", ""))


def formula_value(cells: Evaluator, row: RowInput, ind: str, findings: list[Finding]) -> tuple[Any, str | None]:
    """实际值单元格的公式按 Excel 的规则求值，返回 (实际值, 无法计算的原因)，并把求值中的问题记为发现：
    空白按 0 参与运算（值与 Excel 相同，但空白是“未填写”）、无法求值的函数或写法、Excel 错误值、单元格函数的“错误：…”。"""
    addr = row.cells.get("value", "")
    out = cells.cell(SHEET_SCORES, addr, row.value)
    value = out.value
    for issue in out.issues:
        if issue.kind == "blank":
            findings.append(F.make("formula-blank-reference", issue.sheet, issue.cell, indicator=ind,
                                   ref=f"“{issue.sheet}”!{issue.cell}"))
        elif issue.kind == "unsupported":
            findings.append(F.make("formula-unsupported", issue.sheet, issue.cell, indicator=ind, detail=issue.detail,
                                   function=issue.function))
        elif issue.kind == "unsupported-cached":
            cached = cells.cell(issue.sheet, issue.cell).value if issue.cell != addr else value
            findings.append(F.make("formula-unsupported-cached", issue.sheet, issue.cell, indicator=ind,
                                   detail=issue.detail, function=issue.function, cached=_shown(cached)))
    if isinstance(value, XlError):
        if value.code == UNKNOWN_CODE:
            return None, f"公式无法计算（{value.detail}）"
        findings.append(F.make("formula-error", value.sheet or SHEET_SCORES, value.cell or addr, indicator=ind,
                               error=value.code, detail=value.detail))
        return None, f"公式结果为 {value.code}：{value.detail}"
    if isinstance(value, str):
        from udfs.excel import ERROR_PREFIX, NA_TEXT

        if value.startswith(ERROR_PREFIX):
            message = value[len(ERROR_PREFIX):]
            where = next(((i.sheet, i.cell) for i in reversed(out.issues) if i.kind == "udf-error" and i.detail == message),
                         (SHEET_SCORES, addr))
            code = "zero-denominator" if "为 0" in message else "indicator-error"
            findings.append(F.make(code, where[0], where[1], indicator=ind, detail=message))
            return None, message
        if value.strip() == NA_TEXT:
            return None, None
    return value, None


def _shown(v: Any) -> str:
    if isinstance(v, Decimal):
        return fmt_num(v, 6)
    return str(display(v))


# ------------------------------------------------------------------------------------------------ 条目的读法
def _words(inputs: WorkbookInputs) -> list | None:
    """评分表“定性词表”的各行（词语、档次）；工作簿没有该区域时为 None（规则用内置词表，与旧工作簿的公式一致）。"""
    if inputs.qual_words is None:
        return None
    return [[_cached_or_raw(w), _cached_or_raw(b)] for w, b in inputs.qual_words]


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
