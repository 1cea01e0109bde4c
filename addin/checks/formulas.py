"""检查（三）公式与实际值：实际值公式引用的单元格、公式保存的结果与重算结果、手工填写的实际值、执行率为 0 却有支出。
"""
from __future__ import annotations

import re
from decimal import Decimal
from functools import lru_cache
from typing import Any

from udfs.excel import BY_NAME
from udfs.indicators import IndicatorError
from udfs.numbers import InputError, is_blank, parse_number
from udfs.rule import RuleError

from ..model import SHEET_SCORES, Finding, Formula, IndicatorResult
from ..scoring import derived
from ..scoring.parsing import CACHE_TEXT_MAX, _looks_textual
from ..scoring.refs import arg_cell
from . import findings as F
from .context import (
    PERCENT_MIN_PLACES,
    SCORE_TOLERANCE,
    SPENDING_REFS,
    VALUE_CACHE_TOLERANCE,
    Context,
    _gap_ok,
    _n,
    _number,
    _pct,
    _raw_text,
    _usable,
)

_CALL = re.compile(r"^=\s*([A-Z_][A-Z0-9_.]*)\s*\((.*)\)\s*$", re.IGNORECASE | re.DOTALL)


def check_formula_references(ctx: Context) -> list[Finding]:
    """计算得分公式应按本行的“规则类型”评分（jixiao 按规则类型计分，公式不一致时 Excel 显示的得分会不同）。两种写法都有效：
    模板的 =SCORE(实际值,分值,规则类型,无基数时,参数)——其规则类型参数应是本行的“规则类型”单元格（或写明同一类型的文字）；
    旧模板按类型的 =SCORE_LINEAR(…) 等——函数应与规则类型一致。实际值公式被改动由计分引擎报告（formula-changed），此处不重复。"""
    out: list[Finding] = []
    for res, row in ctx.results():
        if res.rule is None or not isinstance(row.computed, Formula):
            continue
        text = row.computed.text
        args = (text, res.cells.get("rule", ""), res.rule.label, res.rule.udf)
        detail = _reference_detail(*args) if len(text) <= CACHE_TEXT_MAX else _detail_of(*args)
        if detail:
            out.append(F.make("formula-reference-mismatch", SHEET_SCORES, res.cells.get("computed", ""),
                              indicator=res.name, formula=text, actual=text, detail=detail))
    return out


def _detail_of(text: str, own: str, label: str, udf: str) -> str | None:
    """计算得分公式 text 与本行（“规则类型”单元格 own，规则类型 label、按类型的函数 udf）不一致之处；一致时为 None。"""
    call = _score_call(text)
    if call is None:
        return None
    fn, rule_arg = call
    if fn == "SCORE":
        literal = rule_arg[1:-1].strip() if len(rule_arg) >= 2 and rule_arg[0] == rule_arg[-1] == '"' else None
        if literal is not None:
            if literal != label:
                return f"计算得分公式写明规则类型“{literal}”，而本行规则类型为“{label}”"
        elif rule_arg.replace("$", "").upper() != own.upper():
            return (f"计算得分公式的规则类型参数为 {rule_arg or '空'}，不是本行的“规则类型”单元格 {own}"
                    f"（规则类型为“{label}”）")
        return None
    if fn != udf:
        return f"计算得分公式使用 {fn}，而规则类型为“{label}”（应使用 {udf}，或按规则类型评分的 SCORE）"
    return None


# 只取决于这四段文字：同一模板各工作簿的同一行都一样，按文字缓存（很长的公式不缓存）
_reference_detail = lru_cache(maxsize=4096)(_detail_of)


@lru_cache(maxsize=1024)
def _score_call(text: str) -> tuple[str, str] | None:
    """计算得分公式 → (函数名大写, SCORE 的第三个参数即规则类型，去首尾空白)；不是单个函数调用时为 None。
    只取决于公式文字：同一模板各行、各工作簿的公式相同，按文字缓存。"""
    m = _CALL.match(text)
    if not m:
        return None
    fn = m.group(1).upper()
    if fn != "SCORE":
        return fn, ""
    args = _split_args(m.group(2))
    return fn, args[2].strip() if len(args) > 2 else ""


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


def check_formula_results(ctx: Context) -> list[Finding]:
    """公式单元格保存的结果（Excel 计算后存入文件的值）与 jixiao 按同样数据重算的结果一致；每行只报告第一处不一致
    （依次为实际值、计算得分、得分）。"""
    out: list[Finding] = []
    for res, row in ctx.results():
        raw = row.value
        if (isinstance(raw, Formula) and raw.cached is not None
                and not _cache_agrees(raw.cached, res.value, res.value_error, VALUE_CACHE_TOLERANCE)):
            out.append(_result_mismatch(res, "value", raw, res.value, res.value_error))
            continue
        raw = row.computed
        if (isinstance(raw, Formula) and raw.cached is not None and (res.override is not None or res.computed is not None)
                and not _cache_agrees(raw.cached, res.computed, None, SCORE_TOLERANCE)):
            out.append(_result_mismatch(res, "computed", raw, res.computed, None))
            continue
        raw = row.final
        if isinstance(raw, Formula) and raw.cached is not None and not _cache_agrees(raw.cached, res.final, None,
                                                                                    SCORE_TOLERANCE):
            out.append(_result_mismatch(res, "final", raw, res.final, None))
    # 父行的得分（用户填的 =SUM(子行得分)）应等于子行之和：区域写错时 Excel 中显示的父行得分与 jixiao 不同
    rows = {r.row: r for r in ctx.inputs.rows} if ctx.ev.parents else {}
    for p in ctx.ev.parents:
        raw = rows[p.row].final if p.row in rows else None
        if p.score is None or not isinstance(raw, Formula) or raw.cached is None:
            continue
        if not _cache_agrees(raw.cached, p.score, None, SCORE_TOLERANCE):
            out.append(F.make("formula-result-mismatch", SHEET_SCORES, p.cells.get("final", ""), indicator=p.name,
                              field="得分", stored=_raw_text(raw), computed=f"{_n(p.score)}（各子行得分之和）",
                              expected=p.score, actual=raw.cached))
    return out


def _result_mismatch(res: IndicatorResult, f: str, raw: Formula, value: Any, err: str | None) -> Finding:
    shown = _show_value(value, res.unit) if err is None else f"无法计算（{err}）"
    return F.make("formula-result-mismatch", SHEET_SCORES, res.cells.get(f, ""), indicator=res.name,
                  field={"value": "实际值", "computed": "计算得分", "final": "得分"}[f],
                  stored=_raw_text(raw), computed=shown, expected=value, actual=raw.cached)


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
    ok, v = _number(cached)
    return ok and v is not None and (v == value or abs(v - value) <= tol)  # 相等即一致（同 context._gap_ok）


def _show_value(value: Any, unit: str, places: int = 4) -> str:
    if value is None:
        return "不适用"
    if isinstance(value, Decimal):
        return _pct(value, places) if unit == "%" else _n(value)
    return str(value)


def check_typed_values(ctx: Context) -> list[Finding]:
    """实际值本应是引用基础数据表的公式却被手工填成了数：与按基础数据表计算的结果比对（按所填位数的半个末位单位）。"""
    out: list[Finding] = []
    specs = ctx.specs()
    for res, row in ctx.results():
        spec = specs.get(res.code)
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
    specs = ctx.specs()
    for res, _row in ctx.results():
        spec = specs.get(res.code)
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
