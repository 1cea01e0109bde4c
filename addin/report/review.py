"""审核意见（工作底稿）：报告之外、供内部审核的 Word 文件（jixiao report --review 审核意见.docx）。

报告是评价人的文件，不写校验用语与单元格；这些写在这里：报告是定稿还是草稿、草稿尚缺什么（在哪个单元格补）、
哪些扣分没有写依据、校验发现的全部问题（严重程度、工作表!单元格、说明）。版式沿用公文样式模板（docx_report）。
"""
from __future__ import annotations

from pathlib import Path
from typing import Sequence

from udfs.numbers import fmt_score

from ..checks import findings as F
from ..model import Evaluation, Finding
from .model import Report


def review_sections(report: Report, ev: Evaluation, findings: Sequence[Finding]
                    ) -> list[tuple[str, list[str], list[list[str]]]]:
    """审核意见各节：[(标题, 段落, 表格行（首行为表头）)]。"""
    ordered = F.sort_findings(list(findings))
    out: list[tuple[str, list[str], list[list[str]]]] = []
    if report.draft:
        n_ind = sum(1 for m in report.missing if m.kind == "indicator")
        status = (f"报告为草稿：每页页眉标“草稿”，正文前列出尚缺的内容{'，不写总分与等级' if n_ind else ''}。"
                  f"尚缺 {len(report.missing)} 项，补齐后重新生成报告即为定稿。")
    else:
        status = (f"报告为定稿：{len(ev.indicators)} 项指标均已评分，总分 {fmt_score(ev.total)} 分，等级“{ev.grade}”；"
                  f"文字材料与成文日期（{report.date}）齐全。")
    errors = sum(1 for f in ordered if f.severity == F.ERROR)
    warnings = sum(1 for f in ordered if f.severity == F.WARNING)
    out.append(("一、报告状态", [status, f"校验发现错误 {errors} 项、警告 {warnings} 项、提示 {len(ordered) - errors - warnings} 项，"
                                      "详见下文；报告正文不写校验结果。"], []))
    if report.missing:
        rows = [["尚缺的内容", "在哪里填写"]] + [[m.what, f"{m.sheet}!{m.cell}" if m.cell else
                                              f"{m.sheet}（新增一行，代码 {m.key}）" if m.key else m.sheet]
                                             for m in report.missing]
        out.append(("二、草稿尚缺的内容", ["以下各项补齐后，报告才能作为定稿："], rows))
    evidence = [f for f in ordered if f.code == "missing-evidence"]
    if evidence:
        rows = [["位置", "说明"]] + [[f"{f.sheet}!{f.cell}", f.message] for f in evidence]
        out.append((f"{_cn(len(out) + 1)}、扣分缺少依据", ["报告中这些指标只能写出得分，写不出扣分的事实："], rows))
    if ordered:
        rows = [["严重程度", "位置", "说明"]] + [[f.severity, f"{f.sheet}!{f.cell}" if f.cell else f.sheet, f.message]
                                             for f in ordered]
        out.append((f"{_cn(len(out) + 1)}、校验发现", ["与“校验结果”工作表（jixiao check --write）相同："], rows))
    else:
        out.append((f"{_cn(len(out) + 1)}、校验发现", ["未发现问题。"], []))
    return out


def _cn(n: int) -> str:
    return "一二三四五六七八九十"[n - 1] if 0 < n <= 10 else str(n)


def write_review(report: Report, ev: Evaluation, findings: Sequence[Finding], path: str | Path) -> Path:
    """写出审核意见 Word 文件（公文样式，不分页眉草稿标记）。"""
    from docx import Document
    from docx.shared import Cm

    from .word import clear_body, core_properties, para, save_docx, set_repeat_header, set_style, template_path

    path = Path(path)
    doc = Document(str(template_path()))
    clear_body(doc)
    para(doc, "审核意见", "Title")
    para(doc, f"（{report.title}）", "Annex Title")
    para(doc, "本文件为内部审核的工作底稿，列出报告的状态、尚缺的内容与校验发现，不随报告印发。", "Normal")
    for title, paras, rows in review_sections(report, ev, findings):
        para(doc, title, "Heading 1")
        for text in paras:
            para(doc, text, "Normal")
        if rows:
            widths = {2: (6.0, 9.6), 3: (1.8, 3.0, 10.8)}[len(rows[0])]
            table = doc.add_table(rows=0, cols=len(rows[0]))
            table.style = doc.styles["Table Grid"]
            table.autofit = False
            for k, row in enumerate(rows):
                cells = table.add_row().cells
                for i, text in enumerate(row):
                    cells[i].width = Cm(widths[i])
                    set_style(doc, cells[i].paragraphs[0], "Table Header" if k == 0 else "Table Text")
                    cells[i].paragraphs[0].add_run(text)
            set_repeat_header(table.rows[0])
    core_properties(doc, report)
    doc.core_properties.title = f"审核意见：{report.title}"
    doc.core_properties.subject = "审核意见"
    return save_docx(doc, path)
