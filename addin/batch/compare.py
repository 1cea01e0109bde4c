"""自评与重点评价的差异分析（种子 001 §六（二）“评价结论与自评评价等级的差异分析”）。

输入两份 Evaluation：部门的自评工作簿（常为湖南部门整体 hunan-dept）与财政局的重点评价工作簿（子洲 zizhou-dept），
同一单位、同一年度。两套指标体系不同，因此：
- 总分与等级并列比较；
- 一级指标按名称对应，满分不同，用得分率比较；
- 三级指标按规范化名称对应（去引号、去“部门”前缀、同义名），另有“相近指标”（衡量同一事项、口径不同）；
  对每对指标说明计算公式是否相同（由单元格函数判断）与评分标准的差别；
- 记录原因：调整得分的理由、备注、无法计算的原因，以及重点评价中扣分的指标。
没有自评工作簿时，用重点评价工作簿基础数据表中的“部门自评得分/等级”比较总分与等级。

对外接口：analyse(self_ev, eval_ev) -> Comparison；Comparison.paragraphs 是可直接放进报告的段落；
write_comparison_xlsx(comparison, path) 写出“差异分析”表。
"""
from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal

from udfs.numbers import fmt_num, fmt_pct, fmt_score, round2

from ..model import Evaluation, IndicatorResult, cell_number, cell_text
from ..report.matching import _QUOTES, match_names, normalise_name

SHEET_COMPARE = "差异分析"


@dataclass
class Paragraph:
    """报告段落：heading 为小标题（如“1、评分体系存在差异”），None 表示正文段落。"""

    heading: str | None
    text: str


@dataclass
class Side:
    """一方（自评或重点评价）的总体情况。"""

    label: str  # 自评 / 重点评价
    system: str  # 指标体系 key；只有总分时为 ""
    description: str
    total: Decimal | None
    grade: str
    points_total: Decimal | None
    indicator_names: list[str] = field(default_factory=list)
    source: str = ""  # 数据来源说明


@dataclass
class Level1Diff:
    name: str
    self_score: Decimal | None
    self_points: Decimal | None
    eval_score: Decimal | None
    eval_points: Decimal | None

    @property
    def self_rate(self) -> Decimal | None:
        return _rate(self.self_score, self.self_points)

    @property
    def eval_rate(self) -> Decimal | None:
        return _rate(self.eval_score, self.eval_points)

    @property
    def rate_diff(self) -> Decimal | None:
        """得分率之差（重点评价 − 自评），比率；满分不同，比较得分率才有意义。"""
        if self.self_rate is None or self.eval_rate is None:
            return None
        return self.eval_rate - self.self_rate

    @property
    def score_diff(self) -> Decimal:
        """得分之差（重点评价 − 自评）；只在一方设置的一级指标另一方按 0 分计，这样各一级之差的合计正好等于总分之差。"""
        return (self.eval_score or Decimal(0)) - (self.self_score or Decimal(0))


@dataclass
class IndicatorDiff:
    """一对可对应的指标。match：同名 / 相近。"""

    key: str
    match: str
    self_name: str
    eval_name: str
    self_value: str
    eval_value: str
    self_score: Decimal | None
    self_points: Decimal | None
    eval_score: Decimal | None
    eval_points: Decimal | None
    same_formula: bool
    formula_note: str
    criterion_note: str
    self_reasons: list[str]
    eval_reasons: list[str]

    @property
    def score_diff(self) -> Decimal | None:
        if self.self_score is None or self.eval_score is None:
            return None
        return self.eval_score - self.self_score

    @property
    def rate_diff(self) -> Decimal | None:
        a, b = _rate(self.self_score, self.self_points), _rate(self.eval_score, self.eval_points)
        return None if a is None or b is None else b - a


@dataclass
class Deduction:
    """一方的一个指标（失分的，或只在一方设置的）及记录的原因。"""

    name: str
    level1: str
    points: Decimal | None
    score: Decimal | None
    reasons: list[str]

    @property
    def lost(self) -> Decimal | None:
        return None if self.points is None or self.score is None else self.points - self.score


@dataclass
class Comparison:
    unit: str
    year: str
    self_side: Side
    eval_side: Side
    level1: list[Level1Diff]
    indicators: list[IndicatorDiff]
    only_self: list[str]
    only_eval: list[str]
    eval_deductions: list[Deduction]
    self_deductions: list[Deduction]
    warnings: list[str]
    paragraphs: list[Paragraph]
    self_only_rows: list[Deduction] = field(default_factory=list)  # 只在自评设置的指标（得分与原因）
    eval_only_rows: list[Deduction] = field(default_factory=list)  # 只在重点评价设置的指标

    @property
    def total_diff(self) -> Decimal | None:
        """重点评价总分 − 自评总分。"""
        a, b = self.self_side.total, self.eval_side.total
        return None if a is None or b is None else b - a


def _rate(score: Decimal | None, points: Decimal | None) -> Decimal | None:
    if score is None or not points:
        return None
    return score / points


def _value_text(i: IndicatorResult) -> str:
    if i.value_error:
        return f"无法计算（{i.value_error}）"
    v = i.value
    if v is None:
        return "不适用" if i.formula and not i.value_typed else ""
    if isinstance(v, (int, float)) and not isinstance(v, bool):
        v = Decimal(str(v))
    if isinstance(v, Decimal):
        if i.unit == "%":
            return fmt_pct(v)
        return fmt_num(v) + (i.unit if i.unit not in ("分", "扣分", "等次") else "")
    return str(v)


def _reasons(i: IndicatorResult) -> list[str]:
    out = []
    if i.override is not None:
        computed = fmt_score(i.computed) if i.computed is not None else "无法计分"
        out.append(f"调整得分 {fmt_score(i.override)} 分（计算得分 {computed} 分）：{i.reason or '未填写调整理由'}")
    if i.note:
        out.append(f"备注：{i.note}")
    if i.value_error:
        out.append(f"无法计算：{i.value_error}")
    return out


def _udf(system_key: str, code: str) -> str | None:
    from workbook_templates.systems import SYSTEMS

    s = SYSTEMS.get(system_key)
    spec = s.indicator(code) if s else None
    return spec.udf if spec else None


def _side(label: str, ev: Evaluation) -> Side:
    from workbook_templates.systems import SYSTEMS

    s = SYSTEMS.get(ev.system_key)
    return Side(label, ev.system_key, s.description if s else ev.system_key, ev.total, ev.grade or "", ev.points_total,
                [i.name for i in ev.indicators], "按工作簿计分")


def _rows(ev: Evaluation, names: list[str]) -> list[Deduction]:
    wanted = set(names)
    return [Deduction(i.name, i.level1, i.points, i.final, _reasons(i)) for i in ev.indicators if i.name in wanted]


def _deductions(ev: Evaluation) -> list[Deduction]:
    out = []
    for i in ev.indicators:
        if i.final is None:
            out.append(Deduction(i.name, i.level1, i.points, None, _reasons(i) or ["无法计分"]))
        elif i.points is not None and i.final < i.points:
            out.append(Deduction(i.name, i.level1, i.points, i.final, _reasons(i)))
    return out


def _pair(a: IndicatorResult, b: IndicatorResult, a_sys: str, b_sys: str, key: str, match: str) -> IndicatorDiff:
    ua, ub = _udf(a_sys, a.code), _udf(b_sys, b.code)
    if ua and ub:
        same = ua == ub
    else:
        same = bool(a.formula) and _QUOTES.sub("", a.formula) == _QUOTES.sub("", b.formula)
    if same:
        note = "计算公式相同" + (f"（{a.formula}）" if a.formula else "")
    else:
        note = f"计算公式不同：自评为“{a.formula or '评价人打分'}”，重点评价为“{b.formula or '评价人打分'}”"
    crit = []
    if a.points != b.points:
        crit.append(f"分值不同（自评 {fmt_score(a.points)} 分，重点评价 {fmt_score(b.points)} 分）")
    if a.criterion != b.criterion:
        crit.append(f"评分标准不同（自评：{a.criterion.rstrip('。')}；重点评价：{b.criterion.rstrip('。')}）")
    return IndicatorDiff(key, match, a.name, b.name, _value_text(a), _value_text(b), a.final, a.points, b.final,
                         b.points, same, note, "；".join(crit) if crit else "分值与评分标准相同", _reasons(a), _reasons(b))


def _match(self_ev: Evaluation, eval_ev: Evaluation) -> tuple[list[IndicatorDiff], list[str], list[str]]:
    first_self: dict[str, IndicatorResult] = {}
    for i in self_ev.indicators:
        first_self.setdefault(i.name, i)
    first_eval: dict[str, IndicatorResult] = {}
    for i in eval_ev.indicators:
        first_eval.setdefault(i.name, i)
    pairs, only_self, only_eval = match_names([i.name for i in self_ev.indicators], [i.name for i in eval_ev.indicators])
    diffs = [_pair(first_self[a], first_eval[b], self_ev.system_key, eval_ev.system_key, key, match)
             for key, a, b, match in pairs]
    return diffs, only_self, only_eval


def analyse(self_ev: Evaluation | None, eval_ev: Evaluation) -> Comparison:
    """自评（self_ev，可为 None）与重点评价（eval_ev）的差异分析，返回结构化结果与报告段落。

    self_ev 为 None 时，用重点评价工作簿中的“部门自评得分/部门自评等级”（self_score/self_grade）比较总分与等级。
    """
    warnings: list[str] = []
    unit = eval_ev.unit_name or (self_ev.unit_name if self_ev else "")
    year = eval_ev.year or (self_ev.year if self_ev else "")
    stated_score = cell_number(eval_ev.inputs.scalars.get("self_score"))
    stated_grade = cell_text(eval_ev.inputs.scalars.get("self_grade"))
    eval_side = _side("重点评价", eval_ev)
    if self_ev is not None:
        self_side = _side("自评", self_ev)
        if self_ev.unit_name and eval_ev.unit_name and normalise_name(self_ev.unit_name) != normalise_name(eval_ev.unit_name):
            warnings.append(f"两个工作簿的单位名称不同：自评为“{self_ev.unit_name}”，重点评价为“{eval_ev.unit_name}”，请确认是同一单位")
        if self_ev.year and eval_ev.year and self_ev.year != eval_ev.year:
            warnings.append(f"两个工作簿的评价年度不同：自评为 {self_ev.year}，重点评价为 {eval_ev.year}")
        if stated_score is not None and round2(stated_score) != self_ev.total:
            warnings.append(f"重点评价工作簿记录的部门自评得分为 {fmt_score(stated_score)} 分，"
                            f"按自评工作簿计算为 {fmt_score(self_ev.total)} 分，两者不一致；以下按自评工作簿计算的得分分析")
        if not self_ev.complete:
            n = sum(1 for i in self_ev.indicators if i.final is None)
            warnings.append(f"自评工作簿有 {n} 项指标无法计分，自评总分不完整")
        indicators, only_self, only_eval = _match(self_ev, eval_ev)
        level1 = _level1(self_ev, eval_ev)
        self_deductions = _deductions(self_ev)
    else:
        if stated_score is None:
            warnings.append("未提供自评工作簿，重点评价工作簿中也没有填写“部门自评得分”，只能列出重点评价的扣分情况")
        self_side = Side("自评", "", "", round2(stated_score) if stated_score is not None else None, stated_grade,
                         None, [], "重点评价工作簿“基础数据表”中的部门自评得分")
        indicators, only_self, only_eval, level1, self_deductions = [], [], [i.name for i in eval_ev.indicators], [], []
    if not eval_ev.complete:
        n = sum(1 for i in eval_ev.indicators if i.final is None)
        warnings.append(f"重点评价工作簿有 {n} 项指标无法计分，重点评价总分不完整")
    comp = Comparison(unit, year, self_side, eval_side, level1, indicators, only_self, only_eval, _deductions(eval_ev),
                      self_deductions, warnings, [],
                      _rows(self_ev, only_self) if self_ev is not None else [], _rows(eval_ev, only_eval))
    comp.paragraphs = _paragraphs(comp, self_ev, eval_ev)
    return comp


def _level1(self_ev: Evaluation, eval_ev: Evaluation) -> list[Level1Diff]:
    names = list(dict.fromkeys(list(self_ev.level1) + list(eval_ev.level1)))
    out = []
    for n in names:
        a, b = self_ev.level1.get(n), eval_ev.level1.get(n)
        out.append(Level1Diff(n, a.score if a else None, a.points if a else None, b.score if b else None,
                              b.points if b else None))
    return out


# ------------------------------------------------------------------------------------------------
# 段落（种子 001 §六（二）的写法）
# ------------------------------------------------------------------------------------------------
def _score_grade(total: Decimal | None, grade: str) -> str:
    if total is None:
        return "未完成（有指标无法计分）"
    return f"{fmt_score(total)} 分" + (f"（{grade}）" if grade else "")


def _paragraphs(c: Comparison, self_ev: Evaluation | None, eval_ev: Evaluation) -> list[Paragraph]:
    P = Paragraph
    out: list[Paragraph] = []
    who = f"{c.unit}{c.year}年度" if c.unit else (f"{c.year}年度" if c.year else "")
    s, e = c.self_side, c.eval_side
    if s.total is not None:
        diff = c.total_diff
        gap = "" if diff is None else f"，相差 {fmt_score(abs(diff))} 分" if diff else "，两者相同"
        grade_change = ""
        if s.grade and e.grade and s.grade != e.grade:
            grade_change = f"，评价等级由自评的“{s.grade}”变为“{e.grade}”"
        elif s.grade and s.grade == e.grade:
            grade_change = f"，评价等级同为“{e.grade}”"
        tail = "，重点评价与自评结果存在差异的主要原因为：" if diff else "。"  # diff 为 None（一方未完成）时不比较
        out.append(P(None, f"{who}整体支出自评得分为 {_score_grade(s.total, s.grade)}，本次绩效重点评价得分 "
                           f"{_score_grade(e.total, e.grade)}{gap}{grade_change}{tail}"))
    else:
        out.append(P(None, f"{who}绩效重点评价得分 {_score_grade(e.total, e.grade)}；未取得部门自评得分，无法比较总分。"))
    for w in c.warnings:
        out.append(P(None, f"注意：{w}。"))
    n = 0
    if self_ev is not None:
        n += 1
        same = [d for d in c.indicators if d.match == "同名"]
        related = [d for d in c.indicators if d.match == "相近"]
        text = (f"绩效自评采用{s.description}，设计了 {len(s.indicator_names)} 个三级指标，分别为：{'、'.join(s.indicator_names)}；"
                f"而绩效重点评价采用{e.description}，设计了 {len(e.indicator_names)} 个三级指标，分别为：{'、'.join(e.indicator_names)}。")
        if c.indicators:
            text += f"两套指标体系中可以对应的指标 {len(c.indicators)} 个"
            if same:
                text += f"（同一指标：{'、'.join(d.eval_name for d in same)}"
                text += f"；相近指标：{'、'.join(f'{d.self_name}—{d.eval_name}' for d in related)}）" if related else "）"
            elif related:
                text += f"（相近指标：{'、'.join(f'{d.self_name}—{d.eval_name}' for d in related)}）"
            diff_formula = [d for d in c.indicators if not d.same_formula]
            if diff_formula:
                text += f"，其中{'、'.join(d.eval_name for d in diff_formula)}两边的计算公式不同"
            text += "；其余指标口径不同，不能逐项比较。"
        else:
            text += "两套指标体系没有可以直接对应的指标。"
        out.append(P(f"{n}、评分体系存在差异", text))
        if c.level1:
            n += 1
            parts = []
            for lv in c.level1:
                if lv.self_points is not None and lv.eval_points is not None:
                    rd = lv.rate_diff
                    change = "持平" if not rd else (f"高 {fmt_num(abs(rd) * 100)} 个百分点" if rd > 0 else f"低 {fmt_num(abs(rd) * 100)} 个百分点")
                    parts.append(f"{lv.name}：自评 {fmt_score(lv.self_points)} 分中得 {fmt_score(lv.self_score)} 分（得分率 "
                                 f"{fmt_pct(lv.self_rate)}），重点评价 {fmt_score(lv.eval_points)} 分中得 {fmt_score(lv.eval_score)} 分"
                                 f"（得分率 {fmt_pct(lv.eval_rate)}），重点评价得分率{change}")
                elif lv.self_points is not None:
                    parts.append(f"{lv.name}（仅自评设置）：{fmt_score(lv.self_points)} 分中得 {fmt_score(lv.self_score)} 分")
                else:
                    parts.append(f"{lv.name}（仅重点评价设置）：{fmt_score(lv.eval_points)} 分中得 {fmt_score(lv.eval_score)} 分")
            out.append(P(f"{n}、一级指标得分差异", "；".join(parts) + "。"))
        if c.indicators:
            n += 1
            parts = []
            for d in c.indicators:
                name = d.eval_name if d.self_name == d.eval_name else f"{d.self_name}（重点评价为“{d.eval_name}”）"
                sv = f"实际值 {d.self_value}，" if d.self_value else ""
                evv = f"实际值 {d.eval_value}，" if d.eval_value else ""
                line = (f"{name}：自评{sv}得 {fmt_score(d.self_score) if d.self_score is not None else '—'}/"
                        f"{fmt_score(d.self_points)} 分；重点评价{evv}得 "
                        f"{fmt_score(d.eval_score) if d.eval_score is not None else '—'}/{fmt_score(d.eval_points)} 分。"
                        f"{d.formula_note}；{d.criterion_note}。")
                if d.self_reasons:
                    line += f"自评说明：{'；'.join(d.self_reasons)}。"
                if d.eval_reasons:
                    line += f"重点评价说明：{'；'.join(d.eval_reasons)}。"
                parts.append(line)
            out.append(P(f"{n}、共有指标的得分差异", "\n".join(parts)))
    if c.eval_deductions:
        n += 1
        parts = []
        for ded in c.eval_deductions:
            why = f"（{'；'.join(ded.reasons)}）" if ded.reasons else ""
            if ded.score is None:
                parts.append(f"{ded.name}无法计分{why}")
            else:
                parts.append(f"{ded.name}扣 {fmt_score(ded.lost)} 分，"
                             f"得 {fmt_score(ded.score)}/{fmt_score(ded.points)} 分{why}")
        total_lost = sum((d.lost for d in c.eval_deductions if d.lost is not None), Decimal(0))
        out.append(P(f"{n}、重点评价扣分情况", f"重点评价共在 {len(c.eval_deductions)} 个指标上失分，合计 {fmt_score(total_lost)} 分："
                                               + "；".join(parts) + "。"))
    if self_ev is not None:
        n += 1
        if c.self_deductions:
            parts = []
            for ded in c.self_deductions:
                why = f"（{'；'.join(ded.reasons)}）" if ded.reasons else ""
                parts.append(f"{ded.name}无法计分{why}" if ded.score is None else
                             f"{ded.name}扣 {fmt_score(ded.lost)} 分，"
                             f"得 {fmt_score(ded.score)}/{fmt_score(ded.points)} 分{why}")
            lost = sum((d.lost for d in c.self_deductions if d.lost is not None), Decimal(0))
            text = f"自评共在 {len(c.self_deductions)} 个指标上失分，合计 {fmt_score(lost)} 分：" + "；".join(parts) + "。"
        else:
            text = "自评各项指标均得满分。"
        out.append(P(f"{n}、自评扣分情况", text))
    if self_ev is not None:
        n += 1
        evaluator = cell_text(eval_ev.inputs.texts.get("evaluator")) or "财政部门"
        self_process = cell_text(self_ev.inputs.texts.get("process"))
        summary = cell_text(eval_ev.inputs.texts.get("self_eval_summary"))
        text = ("绩效自评由被评价单位自行组织实施" + (f"：{self_process.rstrip('。')}" if self_process else "") +
                f"；而绩效重点评价由{evaluator}组织实施，收集资料、设计指标、现场查看、组织评价并撰写报告，"
                "评分以重点评价指标体系和评价人核实的数据为准。")
        if summary:
            text += f"重点评价对部门自评的记录：{summary}"
        out.append(P(f"{n}、评价过程的差异", text))
    return out
