"""差异分析的输出：“差异分析”工作表（.xlsx，XlsxWriter，文字一律按文本写入）与报告一节
（Word，公文格式，样式来自 gongwen.docx）。"""
from __future__ import annotations

import io
from decimal import Decimal
from pathlib import Path
from typing import Any

from udfs.numbers import fmt_num, fmt_score

from .compare import SHEET_COMPARE, Comparison


def write_comparison_xlsx(c: Comparison, path: str | Path) -> Path:
    """写出只含“差异分析”工作表的新工作簿（不修改输入的工作簿）。文字一律按文本写入。"""
    import xlsxwriter

    from ..io.book import BookError

    path = Path(path)
    if path.suffix.lower() != ".xlsx":
        raise BookError(f"差异分析文件应以 .xlsx 结尾：{path.name}")
    from ..io.locks import check_writable
    from ..io.safeio import atomic_output

    check_writable(path)  # 正在 Excel/WPS 中打开（锁文件）、只读或文件夹不存在时，先于生成就拒绝
    buf = io.BytesIO()  # 在内存中生成，再一次性经 safeio.atomic_output 写出
    wb = xlsxwriter.Workbook(buf, {"in_memory": True, "strings_to_formulas": False, "strings_to_numbers": False,
                                   "strings_to_urls": False})
    base = {"font_name": "宋体", "font_size": 10, "valign": "top"}
    F = {
        "title": wb.add_format({**base, "font_name": "黑体", "font_size": 14, "bold": True}),
        "h": wb.add_format({**base, "font_name": "黑体", "font_size": 11, "bold": True}),
        "header": wb.add_format({**base, "bold": True, "bg_color": "#D9E1F2", "border": 1, "text_wrap": True}),
        "text": wb.add_format({**base, "border": 1, "text_wrap": True}),
        "score": wb.add_format({**base, "border": 1, "num_format": "0.00"}),
        "pct": wb.add_format({**base, "border": 1, "num_format": "0.00%"}),
        "para": wb.add_format({**base, "text_wrap": True}),
        "warn": wb.add_format({**base, "text_wrap": True, "font_color": "#9C0006"}),
    }
    ws = wb.add_worksheet(SHEET_COMPARE)

    def put(r: int, col: int, v: Any, fmt: str = "text") -> None:
        if v is None or v == "":
            ws.write_blank(r, col, None, F[fmt])
        elif isinstance(v, (int, float, Decimal)) and not isinstance(v, bool):
            ws.write_number(r, col, float(v), F[fmt])
        else:
            ws.write_string(r, col, str(v), F[fmt])

    r = 0
    put(r, 0, f"{c.unit}{c.year}年度 评价结论与自评评价等级的差异分析", "title")
    r += 2
    for w in c.warnings:
        put(r, 0, f"注意：{w}", "warn")
        r += 1
    if c.warnings:
        r += 1
    put(r, 0, "一、总分与等级", "h")
    r += 1
    for col, h in enumerate(["项目", "自评", "重点评价", "差异（重点评价−自评）"]):
        put(r, col, h, "header")
    r += 1
    put(r, 0, "指标体系")
    put(r, 1, c.self_side.description or c.self_side.source)
    put(r, 2, c.eval_side.description)
    put(r, 3, "")
    r += 1
    put(r, 0, "总分")
    put(r, 1, c.self_side.total, "score")
    put(r, 2, c.eval_side.total, "score")
    put(r, 3, c.total_diff, "score")
    r += 1
    put(r, 0, "等级")
    put(r, 1, c.self_side.grade)
    put(r, 2, c.eval_side.grade)
    put(r, 3, "相同" if c.self_side.grade == c.eval_side.grade else
        (f"{c.self_side.grade} → {c.eval_side.grade}" if c.self_side.grade else ""))
    r += 2
    if c.level1:
        put(r, 0, "二、一级指标", "h")
        r += 1
        for col, h in enumerate(["一级指标", "自评得分", "自评满分", "自评得分率", "重点评价得分", "重点评价满分", "重点评价得分率",
                                 "得分率差（百分点）", "得分差"]):
            put(r, col, h, "header")
        r += 1
        for lv in c.level1:
            vals = [(lv.name, "text"), (lv.self_score, "score"), (lv.self_points, "score"), (lv.self_rate, "pct"),
                    (lv.eval_score, "score"), (lv.eval_points, "score"), (lv.eval_rate, "pct"),
                    (lv.rate_diff * 100 if lv.rate_diff is not None else None, "score"), (lv.score_diff, "score")]
            for col, (v, f) in enumerate(vals):
                put(r, col, v, f)
            r += 1
        # 合计行：只在一方设置的一级指标另一方按 0 分计，得分差合计＝总分差，便于核对
        for col, (v, f) in enumerate([("合计", "header"), (c.self_side.total, "score"), (c.self_side.points_total, "score"),
                                      (None, "text"), (c.eval_side.total, "score"), (c.eval_side.points_total, "score"),
                                      (None, "text"), (None, "text"),
                                      (sum((lv.score_diff for lv in c.level1), Decimal(0)), "score")]):
            put(r, col, v, f)
        r += 2
    if c.indicators:
        put(r, 0, "三、可对应的三级指标", "h")
        r += 1
        heads = ["自评指标", "重点评价指标", "对应", "自评实际值", "自评得分", "自评分值", "重点评价实际值", "重点评价得分", "重点评价分值",
                 "得分差", "计算公式", "评分标准", "自评说明", "重点评价说明"]
        for col, h in enumerate(heads):
            put(r, col, h, "header")
        r += 1
        for d in c.indicators:
            vals = [(d.self_name, "text"), (d.eval_name, "text"), (d.match, "text"), (d.self_value, "text"),
                    (d.self_score, "score"), (d.self_points, "score"), (d.eval_value, "text"), (d.eval_score, "score"),
                    (d.eval_points, "score"), (d.score_diff, "score"), (d.formula_note, "text"), (d.criterion_note, "text"),
                    ("；".join(d.self_reasons), "text"), ("；".join(d.eval_reasons), "text")]
            for col, (v, f) in enumerate(vals):
                put(r, col, v, f)
            r += 1
        r += 1
    def indicator_table(r: int, title: str, last: str, rows) -> int:
        put(r, 0, title, "h")
        r += 1
        for col, h in enumerate(["评价", "指标", "一级指标", "分值", "得分", "失分", last]):
            put(r, col, h, "header")
        r += 1
        for side, d in rows:
            for col, (v, f) in enumerate([(side, "text"), (d.name, "text"), (d.level1, "text"), (d.points, "score"),
                                          (d.score, "score"), (d.lost, "score"), ("；".join(d.reasons), "text")]):
                put(r, col, v, f)
            r += 1
        return r + 1

    lost_rows = [("重点评价", d) for d in c.eval_deductions] + [("自评", d) for d in c.self_deductions]
    if lost_rows:
        r = indicator_table(r, "四、失分的指标及原因", "原因", lost_rows)
    if c.self_only_rows:  # 只有重点评价工作簿时，“只在重点评价设置”就是全部指标，已在上表
        only_rows = [("自评", d) for d in c.self_only_rows] + [("重点评价", d) for d in c.eval_only_rows]
        r = indicator_table(r, "五、只在一方设置的指标（不能逐项比较）", "说明", only_rows)
    put(r, 0, "六、差异分析（报告段落）", "h")
    r += 1
    for p in c.paragraphs:
        if p.heading:
            put(r, 0, p.heading, "h")
            r += 1
        for line in p.text.split("\n"):
            ws.merge_range(r, 0, r, 9, "", F["para"])
            put(r, 0, line, "para")
            ws.set_row(r, 15 * max(1, len(line) // 70 + 1))
            r += 1
    widths = [22, 22, 10, 14, 9, 9, 14, 10, 10, 9, 40, 40, 40, 40]
    for col, wd in enumerate(widths):
        ws.set_column(col, col, wd)
    wb.close()
    # safeio 原子写入：fsync 后替换；覆盖旧的差异分析前留带时间戳的备份（内容相同时不留）；OSError 由它变成 BookError
    with atomic_output(path, backup=True) as final:
        final.write_bytes(buf.getvalue())
    return path


def write_comparison_docx(c: Comparison, path: str | Path) -> Path:
    """把差异分析写成一节 Word 报告：标题“评价结论与自评评价等级的差异分析”、各段落，以及一级指标得分对照表。

    版式与 jixiao report 的 Word 报告相同（同一公文样式模板），可直接复制到重点评价报告的“六、（二）”。
    """
    from docx import Document
    from docx.shared import Cm

    from workbook_templates.docx_template import FIXED_TIME, normalize_zip

    from ..io.book import BookError
    from ..report.word import clear_body, core_property_text, para, set_style, template_path

    path = Path(path)
    if path.suffix.lower() != ".docx":
        raise BookError(f"Word 文件应以 .docx 结尾：{path.name}")
    doc = Document(str(template_path()))
    clear_body(doc)
    para(doc, f"{c.unit}{c.year}年度", "Title")
    para(doc, "评价结论与自评评价等级的差异分析", "Title")
    para(doc, "", "Normal")
    for p in c.paragraphs:
        if p.heading:
            para(doc, p.heading, "Heading 3")
        for line in p.text.split("\n"):
            para(doc, line, "Normal")
    if c.level1:
        para(doc, "表  一级指标得分对照（重点评价－自评）", "Caption")
        head = ["一级指标", "自评得分/满分", "重点评价得分/满分", "得分率差（百分点）", "得分差"]
        table = doc.add_table(rows=1, cols=len(head))
        table.style = doc.styles["Table Grid"]
        widths = (3.6, 3.2, 3.4, 3.0, 2.4)
        for i, h in enumerate(head):
            cell = table.rows[0].cells[i]
            cell.width = Cm(widths[i])
            set_style(doc, cell.paragraphs[0], "Table Header")
            cell.paragraphs[0].add_run(h)

        def frac(score: Decimal | None, points: Decimal | None) -> str:
            return "—" if points is None else f"{fmt_score(score) if score is not None else '—'}/{fmt_score(points)}"

        rows = [(lv.name, frac(lv.self_score, lv.self_points), frac(lv.eval_score, lv.eval_points),
                 fmt_num(lv.rate_diff * 100) if lv.rate_diff is not None else "—", fmt_score(lv.score_diff))
                for lv in c.level1]
        rows.append(("合计", frac(c.self_side.total, c.self_side.points_total),
                     frac(c.eval_side.total, c.eval_side.points_total), "",
                     fmt_score(sum((lv.score_diff for lv in c.level1), Decimal(0)))))
        for values in rows:
            cells = table.add_row().cells
            for i, text in enumerate(values):
                cells[i].width = Cm(widths[i])
                set_style(doc, cells[i].paragraphs[0], "Table Text" if i == 0 else "Table Number")
                cells[i].paragraphs[0].add_run(text)
    cp = doc.core_properties
    cp.title = core_property_text(f"{c.unit}{c.year}年度 评价结论与自评评价等级的差异分析")
    cp.author = cp.last_modified_by = "jixiao"
    cp.created = cp.modified = FIXED_TIME
    cp.revision = 1
    try:
        doc.save(str(path))
    except PermissionError:
        raise BookError(f"无法保存“{path.name}”：文件被占用或没有写权限（请先在 Word 中关闭该文件）") from None
    except OSError as exc:
        raise BookError(f"无法保存“{path.name}”：{exc.strerror or exc}") from None
    normalize_zip(path)
    return path
