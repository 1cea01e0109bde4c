"""报送材料的 Word 文件：一份公文格式的文件，依次为部门整体支出绩效评价报告、附件1 基础数据表、附件2 评分表、
附件3… 每个项目一张项目支出绩效自评表（财预〔2020〕10号 附件2 的样式，横向一节）及其自评报告。

版式全部沿用 addin/report/word.py（同一个样式模板、同样的正文、附件说明、署名与附件页写法）；这里只加两样东西：
基础数据表与 10号 自评表这两种表格，以及分节——横向的自评表单独一节（A4 横向，版心 225 mm × 156 mm），其后的自评报告
回到纵向。各节沿用第一节的页眉页脚（python-docx 新增的节不带页眉页脚引用，即“与上一节相同”），页码不重新起算，
单页居右、双页居左的页码与草稿页眉贯穿全文。横向页的页码在横向页面的下方（Word 不旋转页脚）。
"""
from __future__ import annotations

import dataclasses
import datetime as _dt
from decimal import Decimal
from pathlib import Path
from typing import Any

from docx.enum.section import WD_ORIENT, WD_SECTION
from docx.shared import Cm, Mm
from openpyxl.utils.cell import column_index_from_string, coordinate_from_string

from udfs.numbers import fmt_num, fmt_pct, fmt_score
from workbook_templates.docx_template import PAGE_NUMBER_GAP_MM, PT_PAGE

from ..model import SHEET_DATA, Formula
from ..report.model import Annex, Report
from ..report.word import (
    core_properties,
    draft_headers,
    open_template,
    para,
    save_docx,
    set_style,
    write_annex,
    write_body,
    write_closing,
    write_table,
)
from .package import Package, ProjectPart
from .workbooks import PROJECT_FUNDS, norm

# A4 横向的版心与 GB/T 9704 纵向版心同样大小（225 mm × 156 mm），左右、上下居中
PACKAGE_SUFFIX = "_报送材料.docx"


def package_docx_path(dept: Path) -> Path:
    """默认的报送材料位置：部门工作簿旁，“工作簿名_报送材料.docx”。"""
    return dept.with_name(dept.stem + PACKAGE_SUFFIX)


LANDSCAPE_MARGINS_MM = {"left": 37, "right": 35, "top": 28, "bottom": 26}
# 10号 附件2 自评表的十列（厘米，合计 22.5，横向版心宽 225 mm）
TEN_COLUMNS_CM = (2.0, 2.0, 2.2, 3.8, 2.6, 2.6, 1.5, 1.5, 2.3, 2.0)
# 附件1 基础数据表：项目、各列、备注（厘米，合计 15.6，纵向版心宽 156 mm）
BASIC_FIRST_CM, BASIC_NOTE_CM = 4.6, 3.0
SCALAR_COLUMNS_CM = (7.6, 4.0, 4.0)


def cell_display(raw: Any, kind: str = "money") -> str:
    """单元格内容在附件表中的写法：数字照所填（1536、892.35，不补 0），比率写成百分数，文字照原文（“3745（2177）”），
    公式取保存的结果，空白为空。"""
    if isinstance(raw, Formula):
        raw = raw.cached
    if raw is None:
        return ""
    if isinstance(raw, bool):
        return "是" if raw else "否"
    if isinstance(raw, (int, float, Decimal)):
        d = raw if isinstance(raw, Decimal) else Decimal(repr(raw)) if isinstance(raw, float) else Decimal(raw)
        return fmt_num(d * 100, 6) + "%" if kind == "rate" else fmt_num(d, 9)
    if isinstance(raw, _dt.datetime):
        raw = raw.date()
    if isinstance(raw, _dt.date):
        return f"{raw.year}年{raw.month}月{raw.day}日"
    return " ".join(str(raw).split())


# ---------------------------------------------------------------------------------------------------------
# 附件1 基础数据表
# ---------------------------------------------------------------------------------------------------------
def basic_table(pkg: Package) -> tuple[Annex, Annex]:
    """基础数据表的两张表：经费情况（每行：项目、各列、备注）与补充数据（名称、数值、单位）。模板中未用的项目行（没写名称、
    没填数的“项目5”）不列出。"""
    from .workbooks import DEPT_ITEM_PREFIX, item_name

    dept = pkg.dept
    system, inputs = dept.system, dept.inputs
    grid = inputs.grids.get(SHEET_DATA) if hasattr(inputs.grids, "get") else None
    rows = []
    for k, tr in enumerate(system.table_rows):
        values = inputs.table.get(tr.key, {})
        label = str(inputs.table_labels.get(tr.key) or tr.label).rstrip()
        if tr.key.startswith(DEPT_ITEM_PREFIX) and not item_name(label) and not any(cell_display(v) for v in values.values()):
            continue
        note = ""
        where = inputs.cells.get(("table", tr.key, system.columns[-1].key))
        if grid is not None and where is not None:  # 备注在最后一列数据的右边一列
            letters, r = coordinate_from_string(where[1])
            note = cell_display(grid.get((r, column_index_from_string(letters) + 1)), "text")
        cells = [label] + [cell_display(values.get(c.key)) for c in system.columns] + [note]
        rows.append(("row", cells, (f"r{k}", f"r{k}")))
    header = ["项目"] + [c.label for c in system.columns] + ["备注"]
    title = pkg.annex_titles[0]
    money = Annex("附件1", title, "basic", header, rows)
    scalar_rows = []
    for k, s in enumerate(system.scalars):
        if s.kind not in ("money", "count", "rate"):
            continue
        unit = dept.money_unit if s.kind == "money" else ("" if s.kind == "rate" else s.unit)
        scalar_rows.append(("row", [s.label, cell_display(inputs.scalars.get(s.key), s.kind), unit], (f"s{k}", f"s{k}")))
    return money, Annex("", "", "basic", ["项目", "数值", "单位"], scalar_rows)


def _basic_widths(n_columns: int) -> tuple[float, ...]:
    each = (15.6 - BASIC_FIRST_CM - BASIC_NOTE_CM) / max(1, n_columns)
    return (BASIC_FIRST_CM,) + (each,) * n_columns + (BASIC_NOTE_CM,)


# ---------------------------------------------------------------------------------------------------------
# 10号 附件2 项目支出绩效自评表
# ---------------------------------------------------------------------------------------------------------
HEADER, TEXT, NUMBER = "Table Header", "Table Text", "Table Number"


def ten_table_rows(part: ProjectPart) -> tuple[list[list[tuple[str, str, int]]], dict[str, tuple[int, int]]]:
    """10号 自评表的各行：每行是若干 (文字, 样式, 跨列数)，跨列数之和为 10；另返回第一列纵向合并的区段（名称 → (起, 止) 行号）。"""
    p, report = part.workbook, part.report
    ex = p.execution()
    rows: list[list[tuple[str, str, int]]] = []
    blocks: dict[str, tuple[int, int]] = {}
    rows.append([("项目名称", HEADER, 1), (part.name, TEXT, 9)])
    rows.append([("主管部门", HEADER, 1), (p.text("department"), TEXT, 4), ("实施单位", HEADER, 1), (p.unit, TEXT, 4)])
    start = len(rows)
    rows.append([(f"项目资金（{p.money_unit}）", HEADER, 1), ("", HEADER, 2)]
                + [(c.label, HEADER, 1) for c in p.system.columns] + [("分值", HEADER, 1), ("执行率", HEADER, 1),
                                                                       ("得分", HEADER, 2)])
    for tr in p.system.table_rows:
        values = p.inputs.table.get(tr.key, {})
        label = str(p.inputs.table_labels.get(tr.key) or tr.label).strip()
        money = [(cell_display(values.get(c.key)), NUMBER, 1) for c in p.system.columns]
        if tr.key == PROJECT_FUNDS:
            tail = [(fmt_score(ex.points) if ex is not None and ex.points is not None else "", NUMBER, 1),
                    (fmt_pct(ex.value) if ex is not None and isinstance(ex.value, Decimal) else "", NUMBER, 1),
                    (fmt_score(ex.final) if ex is not None and ex.final is not None else "—", NUMBER, 2)]
        else:
            tail = [("—", NUMBER, 1), ("", NUMBER, 1), ("—", NUMBER, 2)]
        rows.append([("", HEADER, 1), (label, TEXT, 2)] + money + tail)
    blocks["funds"] = (start, len(rows) - 1)
    start = len(rows)
    rows.append([("年度总体目标", HEADER, 1), ("预期目标", HEADER, 4), ("实际完成情况", HEADER, 5)])
    rows.append([("", HEADER, 1), (p.text("goal_planned"), TEXT, 4), (p.text("goal_actual"), TEXT, 5)])
    blocks["goals"] = (start, len(rows) - 1)
    start = len(rows)
    rows.append([("绩效指标", HEADER, 1), ("一级指标", HEADER, 1), ("二级指标", HEADER, 1), ("三级指标", HEADER, 1),
                 ("年度指标值", HEADER, 1), ("实际完成值", HEADER, 1), ("分值", HEADER, 1), ("得分", HEADER, 1),
                 ("偏差原因分析及改进措施", HEADER, 2)])
    skip = (norm(ex.level1), norm(ex.name)) if ex is not None else None
    results: dict[tuple[str, str, str], list] = {}
    for ind in p.ev.indicators:
        results.setdefault((norm(ind.level1), norm(ind.level2), norm(ind.name)), []).append(ind)
    for r in report.table:
        if r.kind != "row" or (norm(r.level1), norm(r.name)) == skip:
            continue
        same = results.get((norm(r.level1), norm(r.level2), norm(r.name))) or [None]
        actual = r.value or _typed_actual(same.pop(0) if len(same) > 1 else same[0])
        rows.append([("", HEADER, 1), (r.level1, TEXT, 1), (r.level2, TEXT, 1), (r.name, TEXT, 1), (r.target, NUMBER, 1),
                     (actual, NUMBER, 1), (fmt_score(r.points) if r.points is not None else "", NUMBER, 1),
                     (fmt_score(r.final) if r.final is not None else "—", NUMBER, 1), (r.note, TEXT, 2)])
    blocks["indicators"] = (start, len(rows) - 1)
    rows.append([("总分", HEADER, 6), (fmt_score(p.ev.points_total), NUMBER, 1),
                 (fmt_score(report.total) if report.total is not None else "—", NUMBER, 1),
                 (f"评价等级：{report.grade}" if report.grade else "评价等级：—", NUMBER, 2)])
    return rows, blocks


def _typed_actual(ind: Any) -> str:
    """尚未计分的指标：实际完成值照所填写出（评价人填了完成值、还没填指标值的行，自评表上照样有完成值）。"""
    if ind is None or ind.value is None:
        return ""
    if isinstance(ind.value, str):
        return " ".join(ind.value.split())
    if ind.unit == "%":
        return fmt_pct(Decimal(ind.value))
    return fmt_num(Decimal(ind.value), 6) + ("" if ind.unit in ("分", "扣分", "等次") else str(ind.unit or ""))


def _write_ten_table(doc, part: ProjectPart) -> None:
    rows, blocks = ten_table_rows(part)
    table = doc.add_table(rows=len(rows), cols=len(TEN_COLUMNS_CM))
    table.style = doc.styles["Table Grid"]
    table.autofit = False
    for i, w in enumerate(TEN_COLUMNS_CM):
        table.columns[i].width = Cm(w)
    for r, spec in enumerate(rows):
        cells = table.rows[r].cells
        col = 0
        for text, style, span in spec:
            for k in range(col, col + span):
                cells[k].width = Cm(TEN_COLUMNS_CM[k])
            p = cells[col].paragraphs[0]
            set_style(doc, p, style)
            if text:
                p.add_run(text)
            if span > 1:
                cells[col].merge(cells[col + span - 1])
            col += span
    # 第一列的“项目资金”“年度总体目标”“绩效指标”纵向合并；指标行中相同的一级、二级指标纵向合并
    for a, b in blocks.values():
        if b > a:
            table.cell(a, 0).merge(table.cell(b, 0))
    a, b = blocks["indicators"]
    for col in (1, 2):
        start = a + 1
        while start <= b:
            end = start
            key = [rows[start][c][0] for c in range(1, col + 1)]
            while end + 1 <= b and [rows[end + 1][c][0] for c in range(1, col + 1)] == key and key[-1]:
                end += 1
            if end > start:
                for k in range(start + 1, end + 1):
                    for paragraph in table.cell(k, col).paragraphs:
                        for run in list(paragraph.runs):
                            run._r.getparent().remove(run._r)
                merged = table.cell(start, col).merge(table.cell(end, col))
                for paragraph in merged.paragraphs[1:]:
                    paragraph._p.getparent().remove(paragraph._p)
            start = end + 1


# ---------------------------------------------------------------------------------------------------------
# 分节
# ---------------------------------------------------------------------------------------------------------
def _new_section(doc, *, landscape: bool) -> None:
    """另起一节（新页）：横向（10号 自评表）或回到纵向（与第一节相同的页面设置）。页眉页脚与页码沿用第一节。"""
    first = doc.sections[0]
    sec = doc.add_section(WD_SECTION.NEW_PAGE)
    if landscape:
        m = LANDSCAPE_MARGINS_MM
        sec.orientation = WD_ORIENT.LANDSCAPE
        sec.page_width, sec.page_height = Mm(297), Mm(210)
        sec.left_margin, sec.right_margin = Mm(m["left"]), Mm(m["right"])
        sec.top_margin, sec.bottom_margin = Mm(m["top"]), Mm(m["bottom"])
        # 页码一字线距版心下边缘 7 mm（与纵向页相同的算法，见 workbook_templates/docx_template.py）
        sec.footer_distance = Mm(round(m["bottom"] - PAGE_NUMBER_GAP_MM - PT_PAGE * 25.4 / 72 / 2, 1))
        sec.header_distance = Mm(10)
    else:
        sec.orientation = first.orientation
        sec.page_width, sec.page_height = first.page_width, first.page_height
        sec.left_margin, sec.right_margin = first.left_margin, first.right_margin
        sec.top_margin, sec.bottom_margin = first.top_margin, first.bottom_margin
        sec.footer_distance, sec.header_distance = first.footer_distance, first.header_distance


def _project_report(part: ProjectPart) -> Report:
    """项目自评报告：标题下加一行项目名称（同一份材料里各项目报告的标题相同时好区分）。"""
    report = part.report
    if part.name and part.name not in report.title:
        report = dataclasses.replace(report, title_lines=list(report.title_lines) + [f"（{part.name}）"])
    return report


def write_package_docx(pkg: Package, path: str | Path, *, template: str | Path | None = None) -> Path:
    """写出报送材料（公文格式，GB/T 9704-2012）。草稿时每页页眉标“草稿”，正文前列出尚缺与待核实的内容。同样的工作簿
    生成逐字节相同的文件。"""
    doc = open_template(template)
    if pkg.draft:
        draft_headers(doc, pkg.report)
    report = pkg.report
    if pkg.draft_blocks:  # 报送材料的草稿说明接在部门报告的草稿说明之后（都在正文之前）
        n = next((k for k, b in enumerate(report.blocks) if b.kind != "note"), len(report.blocks))
        report = dataclasses.replace(report, blocks=report.blocks[:n] + pkg.draft_blocks + report.blocks[n:])
    figures = write_body(doc, report)
    write_closing(doc, report, pkg.annex_note())
    money, scalars = basic_table(pkg)
    write_annex(doc, money, "basic", widths=_basic_widths(len(pkg.dept.system.columns)))
    if scalars.rows:
        para(doc, f"补充数据（金额单位：{pkg.dept.money_unit}）", "Table Text")
        write_table(doc, scalars, "basic", SCALAR_COLUMNS_CM)
    scores = report.annexes()[0]
    write_annex(doc, dataclasses.replace(scores, label="附件2"), report.kind)
    for part in pkg.projects:
        _new_section(doc, landscape=True)
        para(doc, part.annex, "Annex Label")
        para(doc, part.annex_title, "Annex Title")
        para(doc, f"（{part.workbook.ev.year or '××××'}年度）", "Caption")
        _write_ten_table(doc, part)
        _new_section(doc, landscape=False)
        project_report = _project_report(part)
        figures = write_body(doc, project_report, figure_no=figures)
        write_closing(doc, project_report, [])
    core_properties(doc, pkg.report)
    return save_docx(doc, Path(path))
