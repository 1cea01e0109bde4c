"""组装报送材料（Package）：部门报告（“部门项目实施情况”逐项写出各项目）、附件1 基础数据表、附件2 评分表、附件3… 每个
项目的自评表与自评报告；草稿说明（package_draft.j2）。Word 由 word.py 写出。"""
from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from types import SimpleNamespace
from typing import Any, Sequence

from ..checks import findings as F
from ..model import Finding
from .cross import Issue, ProjectRow, amount, cross_check, pair
from .workbooks import PACKAGE_DRAFT_TEMPLATE, PROJECT_FUNDS, Workbook, require_department


# ---------------------------------------------------------------------------------------------------------
# 报送材料
# ---------------------------------------------------------------------------------------------------------
@dataclass
class ProjectPart:
    """报送材料中的一个项目：工作簿、它的自评报告、附件编号。"""

    workbook: Workbook
    report: Any  # addin.report.Report
    annex: str  # “附件3”
    row: ProjectRow | None

    @property
    def name(self) -> str:
        return self.workbook.name or self.workbook.file

    @property
    def annex_title(self) -> str:
        """附件标题：“公费医疗项目支出绩效自评表”（名称已以“项目”结尾时不重复）。"""
        name = self.name
        return f"{name}{'' if name.endswith('项目') else '项目'}支出绩效自评表"


@dataclass
class Package:
    dept: Workbook
    report: Any  # 部门报告（addin.report.Report），“部门项目实施情况”含各项目的概况
    projects: list[ProjectPart]
    issues: list[Issue]
    notes: list[str] = field(default_factory=list)  # 查找项目工作簿时跳过的文件等（只给终端）
    dept_findings: list[Finding] = field(default_factory=list)
    annex_titles: list[str] = field(default_factory=list)  # 附件1、附件2 的标题（其后是各项目）
    draft_blocks: list[Any] = field(default_factory=list)  # 报送材料的草稿说明（评价人的说法，接在部门报告的草稿说明之后）

    @property
    def findings(self) -> list[Finding]:
        return F.sort_findings([i.finding for i in self.issues])

    @property
    def errors(self) -> list[Finding]:
        return [f for f in self.findings if f.severity == F.ERROR]

    @property
    def draft(self) -> bool:
        """部门或任一项目的报告是草稿（评价未完成、缺材料），或部门与项目之间有“错误”。"""
        return bool(self.report.draft or any(p.report.draft for p in self.projects) or self.errors)

    @property
    def status(self) -> str:
        return "草稿" if self.draft else "定稿"

    def all_annex_titles(self) -> list[str]:
        return self.annex_titles + [p.annex_title for p in self.projects]

    def annex_note(self) -> list[str]:
        """附件说明（GB/T 9704 7.3.6）：全部附件逐行编号。"""
        titles = self.all_annex_titles()
        if len(titles) == 1:
            return [f"附件：{titles[0]}"]
        return [("附件：" if k == 1 else "") + f"{k}. {t}" for k, t in enumerate(titles, 1)]

    def report_missing_lines(self) -> list[str]:
        """部门与各项目的报告尚缺的内容及其单元格（项目前写文件名）。"""
        out = [f"  部门：{_missing_text(m)}" for m in self.report.missing]
        for part in self.projects:
            out += [f"  项目“{part.name}”（{part.workbook.file}）：{_missing_text(m)}" for m in part.report.missing]
        return out

    def missing_lines(self) -> list[str]:
        """草稿尚缺与待核实的全部内容：报告尚缺的内容与单元格，部门与项目之间的错误（两处单元格都在说明里）。"""
        # 项目评价未完成（project-incomplete）的各项指标已逐项列在报告尚缺的内容里
        return self.report_missing_lines() + [f"  {f.message}" for f in self.errors if f.code != "project-incomplete"]


def _missing_text(m: Any) -> str:
    what = m.what if m.kind == "indicator" else f"{m.what}：未填写或无法识别"
    return f"{what}（{m.sheet}!{m.cell}）" if m.cell else what


def project_summary(dept: Workbook, part: ProjectPart) -> SimpleNamespace:
    """部门报告“部门项目实施情况”中一个项目的概况：资金（部门的金额单位）、预算执行率、自评得分与等级。"""
    p = part.workbook
    scale = p.convert(dept.money_unit)

    def funds(col: str) -> Decimal | None:
        a = amount(p.num(("table", PROJECT_FUNDS, col)))
        return a.value * scale if a is not None else None

    execution = p.execution()
    rate = execution.value if execution is not None and isinstance(execution.value, Decimal) else None
    return SimpleNamespace(name=part.name, annex=part.annex, budget_initial=funds("budget_initial"),
                           budget_full=funds("budget_full"), executed=funds("executed"), rate=rate,
                           complete=p.ev.complete, total=p.ev.total if p.ev.complete else None,
                           grade=p.ev.grade if p.ev.complete else None, unscored=len(p.ev.missing))


def build_package(dept: Workbook, projects: Sequence[Workbook], *, template_dir: str | Path | None = None,
                  notes: Sequence[str] = ()) -> Package:
    """组装报送材料（确定性：同样的工作簿得到同样的内容）。"""
    from ..checks.run import run_checks
    from ..report.render import make_env
    from ..report.sections import build_report

    require_department(dept)
    pairing = pair(dept, projects)
    issues = cross_check(dept, pairing)
    parts = [ProjectPart(p, build_report(p.inputs, p.ev, [], template_dir=template_dir), f"附件{k}", pairing.row(p))
             for k, p in enumerate(pairing.projects, 3)]
    summaries = [project_summary(dept, part) for part in parts]
    report = build_report(dept.inputs, dept.ev, [], template_dir=template_dir, projects=summaries)
    basic_title = f"{dept.unit or '×××'}{dept.ev.year or '××××'}年度{dept.system.table_title}"
    pkg = Package(dept, report, parts, issues, list(notes), run_checks(dept.inputs, dept.ev),
                  [basic_title, report.annex_titles[0]])
    if pkg.draft:
        pkg.draft_blocks = _draft_blocks(pkg, make_env(template_dir))
    return pkg


def _draft_blocks(pkg: Package, env) -> list[Any]:
    """报送材料的草稿说明（package_draft.j2）：各项目尚缺的内容与部门、项目之间不一致之处，评价人的说法。"""
    from ..report.model import Block
    from ..report.render import parse_blocks, render_template

    items = []
    for part in pkg.projects:
        r = part.report
        if not r.draft:
            continue
        what = []
        unscored = [m for m in r.missing if m.kind == "indicator"]
        if unscored:
            what.append(f"尚有{len(unscored)}项指标未评分")
        texts = [m.what for m in r.missing if m.kind != "indicator"]
        if texts:
            what.append("自评报告尚缺" + "、".join(texts))
        items.append(f"项目“{part.name}”的自评{'，'.join(what)}")
    items += [i.plain for i in pkg.issues if i.plain and i.finding.severity == F.ERROR]
    if not items:
        return []
    text = render_template(env, PACKAGE_DRAFT_TEMPLATE, {"items": items, "dept_draft": pkg.report.draft})
    return [Block("note", b.text, 0, True) for b in parse_blocks(text)]
