"""报告的数据：Report（标题、正文块、附件表、图表数据、署名与日期、草稿尚缺的内容、报告自身的发现）及其组成部分，
各输出（“报告”表 sheet.py、Word word.py、审核意见 review.py）都只读它；ReportError 是报告无法生成时的中文说明。
"""
from __future__ import annotations

import datetime as _dt
import re
from dataclasses import dataclass, field
from decimal import Decimal

from udfs.numbers import fmt_pct, fmt_score

from ..model import Finding

ZERO = Decimal(0)
CHART_TITLE = "一级指标得分率"
FINAL, DRAFT = "定稿", "草稿"
MARK = "@mark "  # 模板输出中突出显示的段落（草稿说明、尚缺的材料）
GAP = "（此部分内容待补充）"  # 草稿中缺少的文字材料所在位置
BLANK_UNIT = "×××"  # 单位名称、年度未填写时标题中的空位（草稿）


class ReportError(Exception):
    """报告无法生成（模板有误、缺少 LibreOffice 等），message 为中文说明。"""


@dataclass(frozen=True)
class Block:
    """报告正文的一块：heading 标题（level 1～4：一、（一）1.（1））、para 段落、chart 图（一级指标得分率）、
    note 草稿说明（正文之前）、title 另起一页重复的报告标题（重点评价：摘要之后）。mark：突出显示（草稿说明与草稿中尚缺的部分）。"""

    kind: str
    text: str = ""
    level: int = 0
    mark: bool = False


@dataclass(frozen=True)
class TableRow:
    """附件评分表的一行。kind：row 三级指标 / subtotal 一级指标小计 / total 总分 / grade 等级。"""

    kind: str
    level1: str
    level2: str
    name: str
    points: Decimal | None
    target: str  # 项目支出：年度指标值；部门整体：空
    value: str  # 实际值（已格式化）
    final: Decimal | None
    note: str


@dataclass(frozen=True)
class RuleRow:
    """附件“指标体系表”的一行（种子 001 附件1）：各级指标、评分标准、指标解释（公式）与分值。"""

    level1: str
    level2: str
    name: str
    criterion: str
    formula: str
    points: Decimal | None


@dataclass(frozen=True)
class ChartBar:
    name: str
    points: Decimal
    score: Decimal

    @property
    def rate(self) -> Decimal | None:
        return self.score / self.points if self.points else None


@dataclass(frozen=True)
class Annex:
    """一个附件（另页）：label“附件1”，title 标题，header 表头，rows [(kind, 各列文字, 纵向合并键)]。"""

    label: str
    title: str
    kind: str  # rules 指标体系表 / scores 得分表
    header: list[str]
    rows: list[tuple[str, list[str], tuple[str, str]]]


@dataclass(frozen=True)
class Missing:
    """草稿中尚缺的一项：what 评价人的说法（写进报告）；sheet/cell 在哪里补（只进终端与审核意见）。"""

    what: str
    sheet: str
    cell: str  # 空串：工作簿里没有这一项（此前的模板没有这一行）
    kind: str  # indicator 指标未评分 / text 文字材料 / date 成文日期
    key: str = ""  # 文字材料的代码（“文字材料”表 A 列），没有这一行时据此新增


@dataclass
class Report:
    system_key: str
    kind: str
    title_lines: list[str]
    blocks: list[Block]
    signature: list[str]
    date: str  # 成文日期（2019年7月19日）；缺少时为空串（草稿）
    annex_titles: list[str]
    table_header: list[str]
    table: list[TableRow]
    chart: list[ChartBar]
    rules: list[RuleRow] = field(default_factory=list)
    chart_title: str = CHART_TITLE
    complete: bool = True  # 每个指标都已评分
    missing: list[Missing] = field(default_factory=list)  # 草稿尚缺的内容
    findings: list[Finding] = field(default_factory=list)  # 报告自身的发现（文字材料未填写）
    unit: str = ""
    year: str = ""
    issued: _dt.date | None = None  # 成文日期（文档属性用）
    total: Decimal | None = None  # 总分与等级：评分不完整时为 None（报告中不写）
    grade: str | None = None

    @property
    def status(self) -> str:
        """定稿 / 草稿。"""
        return DRAFT if self.missing else FINAL

    @property
    def draft(self) -> bool:
        return bool(self.missing)

    @property
    def title(self) -> str:
        return "".join(self.title_lines)

    @property
    def author(self) -> str:
        return "".join(self.signature)

    def table_cells(self, row: TableRow) -> list[str]:
        """附件得分表一行的显示文本（与 table_header 对应）。"""
        pts = "" if row.points is None else fmt_score(row.points)
        fin = "—" if row.final is None and row.kind != "grade" else ("" if row.final is None else fmt_score(row.final))
        if row.kind == "grade":
            return [row.level1, "", "", "", *([""] if self.kind == "project" else []), "", row.value, ""]
        cells = [row.level1, row.level2, row.name, pts]
        if self.kind == "project":
            cells.append(row.target)
        return cells + [row.value, fin, row.note]

    def annexes(self) -> list[Annex]:
        """各附件：重点评价为 附件1 指标体系表、附件2 得分情况表（种子 001）；其余为一个附件（评分表）。"""
        contents = ANNEX_CONTENT[self.kind]
        out = []
        for k, (what, title) in enumerate(zip(contents, self.annex_titles, strict=False), 1):
            label = f"附件{k}" if len(contents) > 1 else "附件"
            if what == "rules":
                rows = [("row", [r.level1, r.level2, r.name, r.criterion, r.formula, fmt_score(r.points)],
                         (r.level1, r.level2)) for r in self.rules]
                total = sum((r.points or ZERO for r in self.rules), ZERO)
                rows.append(("total", ["总分", "", "", "", "", fmt_score(total)], ("", "")))
                out.append(Annex(label, title, what, list(RULES_HEADER), rows))
            else:
                rows = [(r.kind, self.table_cells(r), (r.level1, r.level2)) for r in self.table]
                out.append(Annex(label, title, what, list(self.table_header), rows))
        return out

    def annex_note(self) -> list[str]:
        """附件说明（GB/T 9704 7.3.6）：“附件：1. ××”，多个附件时逐行编号；附件名称后不加标点。"""
        titles = self.annex_titles[:len(ANNEX_CONTENT[self.kind])]
        if len(titles) == 1:
            return [f"附件：{titles[0]}"]
        return [("附件：" if k == 1 else "") + f"{k}. {t}" for k, t in enumerate(titles, 1)]

    def chart_legend(self) -> str:
        return "；".join(f"{b.name} {fmt_pct(b.rate)}（{fmt_score(b.score)}/{fmt_score(b.points)}分）" for b in self.chart)

    def as_text(self) -> str:
        """纯文本形式（测试与审阅用）：草稿标记、标题、正文（标题与段落各占一行）、附件说明、署名、成文日期、各附件表
        （制表符分隔）。"""
        out = ([f"［{DRAFT}］"] if self.draft else []) + list(self.title_lines) + [""]
        for b in self.blocks:
            if b.kind == "chart":
                out.append(f"［图］{self.chart_title}：{self.chart_legend()}")
            else:
                out.append(b.text)
        out += [""] + self.annex_note() + [""] + self.signature + ([self.date] if self.date else [])
        for annex in self.annexes():
            out += ["", annex.label, annex.title, "\t".join(annex.header)]
            out += ["\t".join(cells).rstrip("\t") for _, cells, _ in annex.rows]
        return "\n".join(out) + "\n"

    def sections(self) -> list[tuple[str, list[Block]]]:
        """按一级标题切分正文：[(一级标题文字, 该节的块)]；第一个一级标题之前的块标题为空串。"""
        out: list[tuple[str, list[Block]]] = [("", [])]
        for b in self.blocks:
            if b.kind == "heading" and b.level == 1:
                out.append((b.text, []))
            else:
                out[-1][1].append(b)
        return out

    def sentences(self) -> list[str]:
        """正文段落按句（。！？）切分后的各句（不含标题与附件）：用来检查同一句话没有写两遍。"""
        out = []
        for b in self.blocks:
            if b.kind == "para":
                out += [s.strip() for s in re.split(r"(?<=[。！？])", b.text) if s.strip()]
        return out


RULES_HEADER = ("一级指标", "二级指标", "三级指标", "评分标准", "指标解释", "分值")
ANNEX_CONTENT = {"dept": ("scores",), "key_eval": ("rules", "scores"), "project": ("scores",)}
