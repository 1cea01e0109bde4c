"""报告模板看到的指标：每个三级指标一份视图——“公式＝代入的数字＝结果”（单元格函数目录 udfs.excel.CATALOG 中该函数的
expression：按参数顺序代入工作簿原值）、评分标准中得满分的条件、失分与依据、无法计分时尚缺的内容；另有基础数据、一级指标分组与等级标准的视图。
"""
from __future__ import annotations

import re
from dataclasses import dataclass, replace
from decimal import Decimal
from types import SimpleNamespace
from typing import Any, Sequence

from udfs.excel import BY_NAME
from udfs.expressions import Expr, equation
from udfs.rule import RuleError
from udfs.scoring import DeductionChecklist, GradeScale, GradeTable, Linear, Manual
from udfs.targets import Qualitative, Target
from workbook_templates.spec import Scalar, System

from ..model import SHEET_SCORES, Evaluation, IndicatorResult, WorkbookInputs, cell_text
from ..scoring import derived
from ..scoring.refs import arg_cell
from . import problems as P
from .render import _dec, f_clause, f_money, f_num, f_oneline, f_pct, f_score

ZERO = Decimal(0)


@dataclass(frozen=True)
class _Arg:
    label: str
    raw: Any
    value: Decimal | None
    kind: str  # money / count / rate / text
    unit: str

    def fig(self) -> str:
        """代入公式的数字（空白按 0，与单元格函数一致）。"""
        if self.kind == "text":
            return str(self.raw or "")
        v = self.value if self.value is not None else ZERO
        s = f_money(v) if self.kind == "money" else f_pct(v) if self.kind == "rate" else f_num(v)
        return f"（{s}）" if s.startswith("-") else s

    def described(self) -> str:
        if self.kind == "text":
            return f"{self.label}为“{self.raw or ''}”"
        if self.value is None:
            return f"{self.label}无数据"
        if self.kind == "money":
            return f"{self.label}{f_money(self.value)}{self.unit}"
        if self.kind == "rate":
            return f"{self.label}{f_pct(self.value)}"
        return f"{self.label}{f_num(self.value)}{self.unit}"


def _args_for(system: System, inputs: WorkbookInputs, ev: Evaluation, udf: str, refs: Sequence[str]) -> list[_Arg]:
    names = BY_NAME[udf].args
    scalars = {s.key: s for s in system.scalars}
    out = []
    for i, ref in enumerate(refs):
        name, desc = names[i] if i < len(names) else (ref, "")
        raw = derived.total_or_parts(system, inputs, ref)[0]  # 合计行空白/为 0 时与实际值公式一样取分项之和
        if ref.startswith("="):
            kind, unit = "text", ""
        elif "@" in ref:
            kind, unit = "money", ev.money_unit
        else:
            s = scalars.get(ref)
            k = s.kind if s else "money"
            kind = {"money": "money", "count": "count", "rate": "rate"}.get(k, "text")
            unit = ev.money_unit if kind == "money" else (s.unit if s else "")
        value = _dec(raw) if kind != "text" else None
        if kind == "text":
            raw = "" if raw is None else str(raw).strip()
        out.append(_Arg(desc or name, raw, value, kind, unit))
    return out


def _clean(x: Any) -> str:
    return f_oneline(cell_text(x)).strip()


def _value_text(value: Any, unit: str) -> str:
    if value is None:
        return "不适用"
    if isinstance(value, str):
        return value.strip()
    d = _dec(value)
    if d is None:
        return _clean(value)
    if unit == "%":
        return f_pct(d)
    if unit in ("分", "扣分"):
        return f"{f_score(d)}分"
    return f"{f_num(d)}{unit}"


def _target_text(rule: Target, unit: str) -> str:
    if rule.nature == "定性":
        return f"“{_clean(rule.target)}”"
    nature = "＝" if rule.nature == "=" else rule.nature
    return nature + _value_text(_dec(rule.target), unit)


def _score_expr(ind: IndicatorResult) -> str:
    """线性插值与项目指标未达标时，写出得分的算式（种子 001：得分=[90.5%-85%]÷[95%-85%]×12=6.6）。"""
    rule, v, c = ind.rule, ind.value, ind.computed
    if c is None or ind.points is None or not (ZERO < c < ind.points) or not isinstance(v, Decimal):
        return ""
    pts = f_score(ind.points)
    if isinstance(rule, Linear):
        lo, hi = rule.zero_at, rule.full_at
        if hi > lo:
            return f"得分＝（{f_pct(v)}－{f_pct(lo)}）÷（{f_pct(hi)}－{f_pct(lo)}）×{pts}＝{f_score(c)}分"
        return f"得分＝（{f_pct(lo)}－{f_pct(v)}）÷（{f_pct(lo)}－{f_pct(hi)}）×{pts}＝{f_score(c)}分"
    if isinstance(rule, Target) and rule.nature in ("≥", "≤"):
        t = _dec(rule.target)
        if t is None:
            return ""
        a, b = (_value_text(v, ind.unit), _value_text(t, ind.unit))
        num, den = (a, b) if rule.nature == "≥" else (b, a)
        return f"得分＝{num}÷{den}×{pts}＝{f_score(c)}分"
    return ""


# 评分标准里的得分字样（“得满分”“得2分”“各1分”“1分”）、扣分或不得分的分句、括号内的说明
_SCORE_MENTION = re.compile(r"(?:各\s*|得\s*)?(?:满分|\d+(?:\.\d+)?\s*分)")
_NEGATIVE = re.compile(r"扣|不得分|否则|不得|未|得\s*0\s*分")
_PAREN = re.compile(r"（[^（）]*）|\([^()]*\)")
# 得分的上限（“最高10分”“至多5分”）：是封顶，不是得满分的条件
_CAP = re.compile(r"(?:最高|最多|至多|上限为?|不超过)\s*(?:满分|\d+(?:\.\d+)?\s*分)")


def full_marks_condition(criterion: str, points: Decimal | None) -> str:
    """评分标准中得满分的条件，用评分标准自己的话：“预算公开文字叙述完整、报表齐全得2分；发现1处……扣0.5分”→
    “预算公开文字叙述完整、报表齐全”。去掉括号内的说明、扣分与不得分的分句和“得X分”字样；有写明得满分（或得分等于分值）
    的分句时只取这些分句，否则取全部得分分句（“各1分”累加的标准）。得分上限（“预算执行率×分值，最高10分”）不是条件，
    没有条件时为空串。满分的定性指标据此写出核查了什么。"""
    full: list[str] = []
    positive: list[str] = []
    for sentence in re.split(r"[；;。]", _CAP.sub("", _PAREN.sub("", criterion or ""))):
        kept = [c.strip() for c in re.split(r"[，,]", sentence) if c.strip() and not _NEGATIVE.search(c)]
        mentions = [m for c in kept for m in _SCORE_MENTION.findall(c)]
        if not mentions:
            continue
        cleaned = "，".join(x for x in (_SCORE_MENTION.sub("", c).strip(" ，、") for c in kept) if x)
        if not cleaned:
            continue
        positive.append(cleaned)
        if any("满分" in m or (points is not None and _mention_points(m) == points) for m in mentions):
            full.append(cleaned)
    return "，".join(full or positive)


def _mention_points(mention: str) -> Decimal | None:
    m = re.search(r"\d+(?:\.\d+)?", mention)
    return Decimal(m.group()) if m else None


def _kind(ind: IndicatorResult, udf: str) -> str:
    rule = ind.rule
    if ind.final is None:
        return "error"
    if isinstance(rule, Manual):
        return "manual"
    if isinstance(rule, DeductionChecklist):
        return "deduct"
    if udf == "DEBT_STATUS" and not ind.value_typed:
        return "status"
    if isinstance(rule, GradeTable):
        return "grade"
    if isinstance(rule, Target) and not udf:
        return "qualitative" if rule.nature == "定性" else "target"
    if isinstance(rule, Qualitative):
        return "qualitative"
    if udf and not ind.value_typed:
        return "na" if ind.value is None else "formula"
    return "value"


def _missing_inputs(system: System, inputs: WorkbookInputs, ind: IndicatorResult, spec: Any, args: list[_Arg],
                    shown: Sequence[int]) -> tuple[str, str, str]:
    """未评分指标缺什么：(评价人的说法, 工作表, 单元格)。公式指标列出为空的基础数据（指向其单元格）；评价人打分、
    等次、完成值未填写时指向评分表中的实际值单元格。"""
    value_cell = ind.cells.get("value", "")
    if args:
        blank = [i for i in shown if i < len(args) and args[i].kind != "text" and args[i].value is None]
        if blank:
            where = arg_cell(inputs, spec.args[blank[0]]) or (SHEET_SCORES, value_cell)
            return "尚缺" + "、".join(args[i].label for i in blank), where[0], where[1]
        return "所需数据尚待核实", SHEET_SCORES, value_cell
    if ind.rule is None:
        return "评分标准尚待确定", SHEET_SCORES, ind.cells.get("rule", value_cell)
    if ind.value is not None and ind.value_error is None and ind.computed is not None:  # 调整得分无效
        return "调整后的得分尚待确定", SHEET_SCORES, ind.cells.get("override", value_cell)
    if isinstance(ind.rule, Manual):
        return "尚未评分", SHEET_SCORES, value_cell
    if isinstance(ind.rule, GradeTable):
        return f"尚未取得{_clean(ind.formula) or '考核等次'}", SHEET_SCORES, value_cell
    if isinstance(ind.rule, (Target, Qualitative)):
        return "尚未取得实际完成值", SHEET_SCORES, value_cell
    return "尚未评分", SHEET_SCORES, value_cell


def _indicator_view(system: System, inputs: WorkbookInputs, ev: Evaluation, ind: IndicatorResult) -> SimpleNamespace:
    spec = system.indicator(ind.code)
    udf = spec.udf if spec is not None and spec.udf else ""
    rule = ind.rule
    kind = _kind(ind, udf)
    name, formula = _clean(ind.name), _clean(ind.formula)
    data_text, figures, result = "", "", _value_text(ind.value, ind.unit)
    args: list[_Arg] = []
    shown: Sequence[int] = ()
    if udf and not ind.value_typed and spec is not None:
        args = _args_for(system, inputs, ev, udf, spec.args)
        added = derived.added_derivation(spec, spec.args, [a.raw for a in args])
        if added is not None:  # 本年追加空白：报告代入推算的数（调整预算数－年初预算数），与实际值一致
            k = derived.ADDED_ARGS[udf][0]
            args[k] = replace(args[k], raw=added.added, value=added.added)
        expression = BY_NAME[udf].expression
        expr = expression([a.fig() for a in args]) if expression is not None else Expr("")
        shown = expr.shown if expr.shown is not None else tuple(range(len(args)))
        data_text = "，".join(args[i].described() for i in shown if i < len(args))
        figures = expr.figures
        if expr.result is not None:
            result = expr.result
        if expr.formula is not None:  # 公式说明写的是“（所选口径的）预算数”：换成所选的口径
            formula = formula.replace(*expr.formula)
    deduction = _dec(ind.value) if kind == "deduct" else None
    if isinstance(rule, DeductionChecklist) and rule.per_item is not None and deduction is not None:
        deduction = deduction * rule.per_item
    lost = ind.lost if ind.final is not None else ZERO
    evidence, note = f_clause(_clean(ind.evidence)), _clean(ind.note)
    value_text = (result or _value_text(ind.value, ind.unit)) if kind == "formula" else _value_text(ind.value, ind.unit)
    missing, m_sheet, m_cell = _missing_inputs(system, inputs, ind, spec, args, shown) if kind == "error" else ("", "", "")
    judged = kind in ("deduct", "manual", "qualitative")
    short = f_clause(note or evidence) if judged else ""  # 扣分的简短说法（附件“备注”或扣分说明）
    level1, level2 = _clean(ind.level1), _clean(ind.level2)
    if kind in ("formula", "na", "value", "status"):
        issue = f"{name}{value_text}"
    elif kind == "grade" and ind.computed is not None and ind.points is not None and ind.computed >= ind.points:
        issue = f"{name}得{f_score(ind.final)}分"  # 等次已是最高档，失分来自调整得分
    elif kind == "grade":
        issue = f"{formula or name}为“{value_text}”"
    elif kind == "target":
        issue = f"{name}未达到年度指标值"
    else:
        issue = short or name
    return SimpleNamespace(
        code=ind.code, name=name, level1=level1, level2=level2, kind=kind, udf=udf,
        points=ind.points, computed=ind.computed, override=ind.override, final=ind.final,
        adjusted=ind.override is not None, changed=ind.override is not None and ind.override != ind.computed,
        reason=f_clause(_clean(ind.reason)), note=note, evidence=evidence, short=short, issue=issue,
        criterion=_clean(ind.criterion), checked=full_marks_condition(_clean(ind.criterion), ind.points),
        formula=formula, unit=ind.unit, value_text=value_text, data_text=data_text, figures=figures,
        fact_figures=f"{value_text} {data_text}" if kind in ("formula", "value", "status") else (short or value_text),
        equation=equation(name, formula, figures, result) if kind == "formula" else "",
        formula_head=equation(name, formula), formula_text=formula,
        score_expr=_score_expr(ind) if not ind.override else "", na_policy=rule.na if rule else "",
        target=_target_text(rule, ind.unit) if isinstance(rule, Target) and not udf else "",
        met=ind.computed is not None and ind.points is not None and ind.computed >= ind.points,
        deduction=deduction or ZERO,
        grades="、".join(f"{n}{f_score(s)}分" for n, s in rule.grades) if isinstance(rule, GradeTable) else "",
        missing=missing, missing_where=(m_sheet, m_cell), lost=lost, row=ind.row,
        theme=P.theme_of(udf, name, level2, level1))


def _scalars_view(system: System, inputs: WorkbookInputs) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for s in system.scalars:
        out[s.key] = scalar_view(s, inputs.scalars.get(s.key))
    return out


def scalar_view(s: Scalar, raw: Any) -> Any:
    """模板看到的一项补充数据（scal.键）：数字型为 Decimal，其余为去掉空白的文字，空白为 None。"""
    return _dec(raw) if s.kind in ("money", "count", "rate") else (_clean(raw) or None)


def _table_view(system: System, inputs: WorkbookInputs) -> dict[str, dict[str, Decimal | None]]:
    return {r.key: {c.key: _dec(inputs.table.get(r.key, {}).get(c.key)) for c in system.columns}
            for r in system.table_rows}


def _groups(views: list[SimpleNamespace]) -> list[SimpleNamespace]:
    order: dict[str, list[SimpleNamespace]] = {}
    for v in views:
        order.setdefault(v.level2, []).append(v)
    return [SimpleNamespace(name=k, indicators=vs, points=sum((v.points or ZERO for v in vs), ZERO),
                            score=sum((v.final or ZERO for v in vs), ZERO),
                            complete=all(v.final is not None for v in vs)) for k, vs in order.items()]


def _grade_scale(system: System, inputs: WorkbookInputs) -> GradeScale:
    try:
        return GradeScale.from_rows(inputs.grade_rows) if inputs.grade_rows else system.grades
    except RuleError:
        return system.grades


def _grade_bands(scale: GradeScale) -> list[str]:
    """等级标准的写法（种子 001：优秀（得分≥90分）；良好（80≤得分＜90分）……；较差（得分＜70分））。"""
    bands = sorted(scale.bands, key=lambda b: b[0], reverse=True)
    out = []
    for k, (lo, name) in enumerate(bands):
        hi = bands[k - 1][0] if k else None
        if hi is None:
            out.append(f"{name}（得分≥{f_score(lo)}分）")
        elif lo is None or lo <= 0:
            out.append(f"{name}（得分＜{f_score(hi)}分）")
        else:
            out.append(f"{name}（{f_score(lo)}≤得分＜{f_score(hi)}分）")
    return out
