"""绩效评价报告的章节：由工作簿（输入、计分结果）生成评价人口吻的报告（build_report → model.Report），各指标体系的
章节表（SECTIONS），以及校验用的“文字材料未填写”（text_findings）。写出在 sheet.py（“报告”表）、word.py、pdf.py。

报告是评价人的文件：正文里没有单元格地址、校验用语、容差或给填表人的提示。校验发现写在“校验结果”表，按需另出
“审核意见”（addin.report.review）。评分不完整（有指标未评分）或缺少必需的文字材料、成文日期时，报告是“草稿”：每页页眉标
“草稿”，开头列出尚缺的内容（评价人的说法，不写单元格），不写总分与等级；齐全时是“定稿”。

报告里的每个数字都来自工作簿：指标段落中的“公式＝数字＝结果”用的是计分引擎同一组基础数据原值（IndicatorSpec.args
经 scoring.refs.resolve_arg 取得，views.py），按与单元格函数相同的参数顺序代入；金额、百分数、得分的舍入由命名的 Jinja 过滤器
（render.py：money / pct / score / num）统一负责，它们就是 udfs.numbers 的 fmt_* 规则。每项扣分带上评分表“评分依据/扣分说明”中的
核查事实；存在问题按主题归并（addin.report.problems）。措辞在 workbook_templates/text/*.j2（每节一个模板，StrictUndefined），
用户可复制到自己的目录修改（build_report(template_dir=…) / jixiao report --templates）。

同一工作簿生成的报告逐字相同（不含当天日期、随机数或字典无序遍历）。
"""
from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from types import SimpleNamespace
from typing import Any, Callable, Sequence

from workbook_templates.spec import System
from workbook_templates.systems import SYSTEMS

from ..checks import findings as F
from ..model import SHEET_TEXTS, Evaluation, Finding, Formula, WorkbookInputs, cell_text
from ..scoring.engine import evaluate
from . import problems as P
from .model import BLANK_UNIT, Block, ChartBar, Missing, Report, ReportError, RuleRow, TableRow
from .render import f_date, f_score, h1, make_env, parse_blocks, parse_date, render_template, xml_safe
from .required import missing_texts
from .texts import _Texts
from .views import _grade_bands, _grade_scale, _groups, _indicator_view, _scalars_view, _table_view

ZERO = Decimal(0)


# ---------------------------------------------------------------------------------------------------------
# 章节：每种评价一组模板，按顺序编号（条件不满足的章节不出现，也不占序号）
# ---------------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class SectionSpec:
    key: str
    template: str
    numbered: bool = True
    when: Callable[[dict], bool] | None = None


SECTIONS: dict[str, tuple[SectionSpec, ...]] = {
    "dept": (  # 种子 000
        SectionSpec("preamble", "dept_0_preamble.j2", numbered=False),
        SectionSpec("basic", "dept_1_basic.j2"),
        SectionSpec("evaluation", "dept_2_evaluation.j2"),
        SectionSpec("analysis", "dept_3_analysis.j2"),
        SectionSpec("notes", "dept_4_notes.j2"),
        SectionSpec("conclusion", "dept_5_conclusion.j2"),
        SectionSpec("lessons", "dept_6_lessons.j2"),
    ),
    "key_eval": (  # 种子 001
        SectionSpec("summary", "key_0_summary.j2", numbered=False),  # 种子 001：摘要在前，开头段在正文之首
        SectionSpec("preamble", "key_0_preamble.j2", numbered=False),
        SectionSpec("basic", "key_1_basic.j2"),
        SectionSpec("goals", "key_2_goals.j2"),
        SectionSpec("approach", "key_3_approach.j2"),
        SectionSpec("method", "key_4_method.j2"),
        SectionSpec("system", "key_5_system.j2"),
        SectionSpec("conclusion", "key_6_conclusion.j2"),
        SectionSpec("problems", "key_7_problems.j2"),
        SectionSpec("notes", "key_8_notes.j2", when=lambda c: bool(c["overrides"])),
    ),
    "project": (  # 种子 003
        SectionSpec("preamble", "project_0_preamble.j2", numbered=False),
        SectionSpec("basic", "project_1_basic.j2"),
        SectionSpec("conclusion", "project_2_conclusion.j2"),
        SectionSpec("experience", "project_3_experience.j2"),
        SectionSpec("problems", "project_4_problems.j2"),
        SectionSpec("suggestions", "project_5_suggestions.j2"),
        SectionSpec("notes", "project_6_notes.j2"),
    ),
}
DRAFT_TEMPLATE = "draft.j2"
TITLE_TEMPLATE = {"dept": "dept_title.j2", "key_eval": "key_title.j2", "project": "project_title.j2"}
TABLE_HEADER = {
    "dept": ["一级指标", "二级指标", "三级指标", "分值", "实际值", "得分", "备注"],
    "key_eval": ["一级指标", "二级指标", "三级指标", "分值", "实际值", "得分", "备注"],
    "project": ["一级指标", "二级指标", "三级指标", "分值", "年度指标值", "实际完成值", "得分", "备注"],
}


# ---------------------------------------------------------------------------------------------------------
# build_report
# ---------------------------------------------------------------------------------------------------------


def _difference(views: list[SimpleNamespace], texts: _Texts, lost: list[SimpleNamespace]) -> SimpleNamespace:
    """重点评价与部门自评的差异（种子 001 六（二））：两套指标体系的对应关系用 matching.py 的规则（与 jixiao compare
    相同：同名、同义、相近指标）；重点评价的失分分成“自评未设置的指标”与按核查事实扣分的指标，说出差异的原因。"""
    from .matching import match_names

    items = texts.items("self_eval_indicators")
    self_points = {i.name: i.points for i in items}
    pairs, only_self, only_eval = match_names([i.name for i in items], [v.name for v in views])
    by_name = {v.name: v for v in views}
    pair_views = [SimpleNamespace(self_name=a, eval_name=b, match=m, self_points=self_points.get(a),
                                  eval_points=by_name[b].points) for _, a, b, m in pairs]
    only_eval_set = set(only_eval) if items else set()
    eval_only_lost = [v for v in lost if v.name in only_eval_set]
    return SimpleNamespace(
        self_names=[i.name for i in items], pairs=pair_views, only_self=only_self if items else [],
        only_eval=only_eval if items else [],
        weights=[p for p in pair_views if p.self_points is not None and p.self_points != p.eval_points],
        eval_only_lost=eval_only_lost, eval_only_lost_total=sum((v.lost for v in eval_only_lost), ZERO),
        judged_lost=[v for v in lost if v.kind in ("deduct", "manual", "qualitative", "grade")],
        computed_lost=[v for v in lost if v.kind not in ("deduct", "manual", "qualitative", "grade")])


def build_report(inputs: WorkbookInputs, ev: Evaluation, findings: Sequence[Finding] | None = None, *,
                 template_dir: str | Path | None = None, projects: Sequence[Any] = ()) -> Report:
    """由工作簿输入与计分结果生成报告（确定性：同一工作簿逐字相同）。

    findings（校验发现）不写进报告：报告是评价人的文件，校验发现写在“校验结果”表与审核意见（addin.report.review）中；
    参数保留给调用方统一传入。返回的 Report.findings 是报告自身的发现：必需而未填写的文字材料（missing-text，警告）；
    Report.missing 是草稿尚缺的内容（指标未评分、文字材料、成文日期）。
    projects：报送材料（addin.submission）中部门各项目的概况（资金、执行率、自评得分与等级，取自项目工作簿），
    部门报告的“部门项目实施情况”据此逐项写出；单独生成报告时为空。
    """
    system = SYSTEMS[inputs.system_key]
    env = make_env(template_dir)
    texts = _Texts(system, inputs)
    views = [_indicator_view(system, inputs, ev, i) for i in ev.indicators]
    unscored = [v for v in views if v.final is None]
    complete = not unscored and bool(ev.complete)
    level1s = []
    for name, lv in ev.level1.items():
        members = [v for v in views if v.level1 == name]
        done = all(v.final is not None for v in members)
        level1s.append(SimpleNamespace(name=name, points=lv.points, score=lv.score if done else None,
                                       computed=lv.computed, rate=lv.score / lv.points if lv.points and done else None,
                                       complete=done, unscored=[v for v in members if v.final is None],
                                       indicators=members, groups=_groups(members)))
    scal = _scalars_view(system, inputs)
    scale = _grade_scale(system, inputs)
    total, grade = (ev.total, ev.grade) if complete else (None, None)
    self_score = scal.get("self_score")
    self_grade = scal.get("self_grade") or (scale.grade(self_score) if self_score is not None else "")
    evaluator = texts.value("evaluator") if "evaluator" in texts.titles else ""
    lost = [v for v in views if v.final is not None and v.lost > 0]
    problems = P.group(lost, texts.value("problems") if "problems" in texts.titles else "")
    ctx: dict[str, Any] = dict(
        kind=system.kind, system_title=system.title, unit=ev.unit_name or BLANK_UNIT, year=ev.year or "××××",
        money_unit=ev.money_unit, text=texts, has_text=texts.has, lines=texts.lines, text_list=texts.list,
        says=texts.says, scal=scal, tab=_table_view(system, inputs), indicators=views, level1s=level1s, groups=_groups(views), total=total,
        points_total=ev.points_total, grade=grade, complete=complete, unscored=unscored,
        overrides=[v for v in views if v.adjusted], lost=lost, lost_total=sum((v.lost for v in lost), ZERO),
        problems=problems, themed=[p for p in problems if p.theme], grade_bands=_grade_bands(scale),
        self_score=self_score, self_grade=self_grade,
        diff=(self_score - total) if self_score is not None and total is not None else None,
        difference=_difference(views, texts, lost) if system.kind == "key_eval" else None,
        project=scal.get("project_name") or "", notes_ref="", evaluator=evaluator, projects=list(projects),
    )
    specs = [s for s in SECTIONS[system.kind] if s.when is None or s.when(ctx)]
    numbers: dict[str, int] = {}
    for s in specs:
        if s.numbered:
            numbers[s.key] = len(numbers) + 1
    ctx["sec"] = {k: h1(n) for k, n in numbers.items()}
    rendered: dict[str, list[Block]] = {}
    # “需要说明事项”先生成：其他章节要引用它的标题（如“说明详见本报告四、需要说明事项”）
    for s in sorted(specs, key=lambda s: s.key != "notes"):
        blocks = parse_blocks(render_template(env, s.template, {**ctx, "no": numbers.get(s.key, 0)}))
        rendered[s.key] = blocks
        if s.key == "notes":
            ctx["notes_ref"] = next((b.text for b in blocks if b.kind == "heading"), "")
    blocks = [b for s in specs for b in rendered[s.key]]
    parts = _title_parts(render_template(env, TITLE_TEMPLATE[system.kind], ctx))
    signature = [ln.strip() for ln in texts.value("signature").splitlines() if ln.strip()] or parts["落款"]
    raw_date = inputs.texts.get("date")
    issued = parse_date(raw_date.cached if isinstance(raw_date, Formula) else raw_date)

    # 草稿：尚缺的内容（评价人的说法写进报告；单元格只给终端与审核意见）
    missing = [Missing(f"{v.name}：{v.missing}", v.missing_where[0], v.missing_where[1], "indicator") for v in unscored]
    report_findings = _gap_findings(inputs, ev, texts, raw_date, issued)
    for title, sheet, cell in _identity_gaps(inputs, ev):
        missing.append(Missing(title, sheet, cell, "text"))
    for key, title in texts.missing.items():
        sheet, cell = inputs.cells.get(("text", key), (SHEET_TEXTS, ""))
        missing.append(Missing(title, sheet, cell, "text", key))
    if issued is None:
        sheet, cell = inputs.cells.get(("text", "date"), (SHEET_TEXTS, ""))
        missing.append(Missing("成文日期", sheet, cell, "date", "date"))
    if missing:
        note = parse_blocks(render_template(env, DRAFT_TEMPLATE, {**ctx, "missing": missing,
                                                    "missing_indicators": [m for m in missing if m.kind == "indicator"],
                                                    "missing_texts": [m for m in missing if m.kind != "indicator"]}))
        blocks = [Block("note", b.text, 0, True) for b in note] + blocks
    rules = [RuleRow(xml_safe(v.level1), xml_safe(v.level2), xml_safe(v.name), xml_safe(v.criterion),
                     xml_safe(v.formula), v.points) for v in views]
    return Report(system_key=system.key, kind=system.kind, title_lines=parts["标题"] or [system.title], blocks=blocks,
                  signature=signature, date=f_date(issued) if issued else "", issued=issued,
                  annex_titles=parts["附件"] or [system.title], table_header=list(TABLE_HEADER[system.kind]),
                  table=_table_rows(system, ev, views, complete), rules=_rule_rows(rules, level1s),
                  chart=[ChartBar(xml_safe(l1.name), l1.points, l1.score) for l1 in level1s if l1.points and complete],
                  complete=complete, missing=missing, findings=F.sort_findings(report_findings),
                  unit=ev.unit_name, year=ev.year, total=total, grade=grade)


def _rule_rows(rows: list[RuleRow], level1s: list[SimpleNamespace]) -> list[RuleRow]:
    """附件1 的一级、二级指标写上分值（种子 001：“投入 (24分)”“预算编制 (24分)”）。"""
    pts1 = {l1.name: l1.points for l1 in level1s}
    pts2 = {(l1.name, g.name): g.points for l1 in level1s for g in l1.groups}
    return [RuleRow(f"{r.level1}（{f_score(pts1.get(r.level1))}分）" if r.level1 in pts1 else r.level1,
                    f"{r.level2}（{f_score(pts2[(r.level1, r.level2)])}分）" if (r.level1, r.level2) in pts2 else r.level2,
                    r.name, r.criterion, r.formula, r.points) for r in rows]


def _gap_findings(inputs: WorkbookInputs, ev: Evaluation, texts: _Texts, raw_date: Any, issued: Any) -> list[Finding]:
    """报告自身的发现：模板记下的缺项（texts.missing）、单位名称与年度未填写、成文日期未填写或无法识别（未排序）。"""
    out = texts.findings()
    for title, sheet, cell in _identity_gaps(inputs, ev):
        out.append(F.make("missing-text", sheet, cell, title=title))
    if issued is None:
        sheet, cell = inputs.cells.get(("text", "date"), (SHEET_TEXTS, ""))
        raw = cell_text(raw_date)
        if raw:
            out.append(F.make("bad-date", sheet, cell, raw=raw[:40]))
        elif "date" in texts.titles and "date" not in texts.missing:
            out.append(F.make("missing-text", sheet, cell, title=texts.titles["date"]))
    return out


def _identity_gaps(inputs: WorkbookInputs, ev: Evaluation) -> list[tuple[str, str, str]]:
    """单位名称、评价年度未填写（标题里只能写“×××”）：(名称, 表, 单元格)。"""
    out = []
    for key, title, value in (("unit_name", "单位名称", ev.unit_name), ("year", "评价年度", ev.year)):
        if not value:
            sheet, cell = inputs.cells.get(("scalar", key), ("基础数据表", ""))
            out.append((title, sheet, cell))
    return out


def _title_parts(text: str) -> dict[str, list[str]]:
    """标题模板的输出分三段：“[标题]”下每行一行标题，“[落款]”下为默认署名，“[附件]”下为各附件标题。"""
    parts: dict[str, list[str]] = {"标题": [], "落款": [], "附件": []}
    current = None
    for raw in text.splitlines():
        line = raw.strip()
        if line in ("[标题]", "[落款]", "[附件]"):
            current = line[1:-1]
        elif line and current:
            parts[current].append(line[1:] if line.startswith("\\") else line)
    return parts


def _table_rows(system: System, ev: Evaluation, views: list[SimpleNamespace], complete: bool) -> list[TableRow]:
    """附件得分表：每个三级指标一行、一级指标小计、总分、等级。评分不完整时，未评分的指标、含未评分指标的小计、
    总分与等级都写“—”（不写不完整的合计）。"""
    rows: list[TableRow] = []
    for name, lv in ev.level1.items():
        members = [x for x in views if x.level1 == name]
        for v in members:
            if v.kind == "error":
                note = "尚未评分"
            elif v.adjusted and v.changed:
                note = f"按评分标准计算得{f_score(v.computed)}分，调整为{f_score(v.final)}分"
            else:
                note = v.note
            value = v.value_text if v.kind not in ("manual", "error") else ""
            if v.kind == "deduct":
                value = f"扣{f_score(v.deduction)}分" if v.deduction else "无扣分"
            rows.append(TableRow("row", xml_safe(v.level1), xml_safe(v.level2), xml_safe(v.name), v.points,
                                 xml_safe(v.target), xml_safe(value), v.final, xml_safe(note)))
        done = all(v.final is not None for v in members)
        rows.append(TableRow("subtotal", xml_safe(f"{name}小计"), "", "", lv.points, "", "", lv.score if done else None,
                             ""))
    rows.append(TableRow("total", "总分", "", "", ev.points_total, "", "", ev.total if complete else None, ""))
    rows.append(TableRow("grade", "评价等级", "", "", None, "", xml_safe(ev.grade or "") if complete else "—", None, ""))
    return rows


def text_findings(inputs: WorkbookInputs, ev: Evaluation | None = None, *, template_dir: str | Path | None = None
                  ) -> list[Finding]:
    """报告所需而未填写（或无法识别）的文字材料（missing-text/bad-date 警告，指向“文字材料”表的内容单元格），
    供校验汇总调用。内置模板按 required.REQUIRED_TEXTS 判断，不生成报告（批量校验的大半时间曾花在这里）；与生成整份报告
    得到的发现逐条相同（tests/test_limits.py 核对）。用户的模板目录（template_dir）不在表中，仍生成报告来判断。"""
    ev = ev if ev is not None else evaluate(inputs)
    raw_date = inputs.texts.get("date")
    issued = parse_date(raw_date.cached if isinstance(raw_date, Formula) else raw_date)
    system = SYSTEMS[inputs.system_key]
    if template_dir is None:
        texts = _Texts(system, inputs)
        missing = missing_texts(system, inputs, texts)
        if missing is None:
            return []  # 模板引用了体系里没有的材料：报告无法生成（与 build_report 抛出 ReportError 时相同）
        texts.missing.update(missing)
        return F.sort_findings(_gap_findings(inputs, ev, texts, raw_date, issued))
    try:
        return build_report(inputs, ev, [], template_dir=template_dir).findings
    except ReportError:
        return []
