"""Word 报告（党政机关公文格式）与一级指标得分率柱状图。

版式全部来自样式模板 workbook_templates/docx/gongwen.docx（由 workbook_templates/docx_template.py 生成）：这里只按
Report 的块依次写入段落并套用样式名，不在代码里逐段设置字体。

柱状图用 Pillow 画成 PNG：一张三四根柱子的图不需要 matplotlib（它本身也依赖 Pillow，且更重）；两者都要自己找
中文字体，否则汉字显示为方框。找不到中文字体时图内类目用 1、2、3 标注，图题下方用 Word 文字写出对照（Word
渲染中文不依赖本机字体文件）。
"""
from __future__ import annotations

import datetime as _dt
import io
import os
import shutil
import subprocess
from decimal import Decimal
from pathlib import Path
from typing import Any, Sequence

from docx import Document
from docx.enum.text import WD_COLOR_INDEX
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from docx.shared import Cm

from udfs.numbers import fmt_pct
from workbook_templates.docx_template import CHAR_TWIPS, FIXED_TIME, TEMPLATE_PATH, build_template, normalize_zip

from .model import DRAFT, Annex, ChartBar, Report, ReportError

# ---------------------------------------------------------------------------------------------------------
# 柱状图
# ---------------------------------------------------------------------------------------------------------
_CJK_FONT_FILES = (
    # Windows
    "simhei.ttf", "msyh.ttc", "msyh.ttf", "simsun.ttc", "simkai.ttf", "simfang.ttf",
)
_CJK_FONT_PATHS = (
    "/System/Library/Fonts/PingFang.ttc", "/System/Library/Fonts/STHeiti Medium.ttc",
    "/System/Library/Fonts/Hiragino Sans GB.ttc", "/Library/Fonts/Arial Unicode.ttf",
    "/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc", "/usr/share/fonts/truetype/wqy/wqy-microhei.ttc",
    "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc", "/usr/share/fonts/noto-cjk/NotoSansCJK-Regular.ttc",
    "/usr/share/fonts/google-noto-cjk/NotoSansCJK-Regular.ttc", "/usr/share/fonts/truetype/droid/DroidSansFallbackFull.ttf",
    "/usr/share/fonts/truetype/arphic/uming.ttc",
)


def find_cjk_font() -> str | None:
    """找一个含中文字形的字体文件：环境变量 JIXIAO_CJK_FONT，Windows/macOS/Linux 常见位置，最后问 fc-list。"""
    env = os.environ.get("JIXIAO_CJK_FONT")
    if env and Path(env).is_file():
        return env
    windir = os.environ.get("WINDIR") or os.environ.get("SystemRoot")
    if windir:
        for name in _CJK_FONT_FILES:
            p = Path(windir) / "Fonts" / name
            if p.is_file():
                return str(p)
    for path in _CJK_FONT_PATHS:
        if Path(path).is_file():
            return path
    fc = shutil.which("fc-list")
    if fc:
        try:
            out = subprocess.run([fc, ":lang=zh", "file"], capture_output=True, text=True, timeout=20).stdout
        except (OSError, subprocess.SubprocessError):
            return None
        files = sorted(line.split(":")[0].strip() for line in out.splitlines() if line.strip())
        return files[0] if files else None
    return None


def _font(path: str | None, size: int):
    from PIL import ImageFont

    if path:
        try:
            return ImageFont.truetype(path, size)
        except OSError:
            pass
    try:
        return ImageFont.load_default(size=size)
    except TypeError:  # Pillow < 10.1 的默认字体不能指定大小
        return ImageFont.load_default()


def chart_png(bars: Sequence[ChartBar], *, font_path: str | None = "auto") -> tuple[bytes, bool]:
    """一级指标得分率柱状图（PNG，1600×900）。返回 (PNG 字节, 图内类目是否为中文名称)。"""
    from PIL import Image, ImageDraw

    if font_path == "auto":
        font_path = find_cjk_font()
    cjk = font_path is not None
    W, H = 1600, 900
    left, right, top, bottom = 150, 60, 60, 170
    img = Image.new("RGB", (W, H), "white")
    d = ImageDraw.Draw(img)
    f_axis, f_value, f_cat = _font(font_path, 30), _font(font_path, 34), _font(font_path, 38)
    pw, ph = W - left - right, H - top - bottom
    y0 = top + ph
    for k in range(0, 6):  # 0%～100% 网格线
        y = y0 - ph * k // 5
        d.line([(left, y), (left + pw, y)], fill=(210, 210, 210) if k else (0, 0, 0), width=2)
        label = f"{k * 20}%"
        tw = d.textlength(label, font=f_axis)
        d.text((left - 16 - tw, y - 18), label, fill="black", font=f_axis)
    d.line([(left, top), (left, y0)], fill="black", width=2)
    n = max(1, len(bars))
    slot = pw / n
    bw = min(220, slot * 0.5)
    for i, b in enumerate(bars):
        rate = b.rate if b.rate is not None else Decimal(0)
        h = int(ph * float(min(max(rate, Decimal(0)), Decimal(1))))
        cx = left + slot * (i + 0.5)
        d.rectangle([(cx - bw / 2, y0 - h), (cx + bw / 2, y0)], fill=(47, 85, 151))
        value = fmt_pct(b.rate)
        tw = d.textlength(value, font=f_value)
        d.text((cx - tw / 2, y0 - h - 48), value, fill="black", font=f_value)
        name = b.name if cjk else str(i + 1)
        tw = d.textlength(name, font=f_cat)
        d.text((cx - tw / 2, y0 + 24), name, fill="black", font=f_cat)
    buf = io.BytesIO()
    img.save(buf, format="PNG", optimize=False)
    return buf.getvalue(), cjk


# ---------------------------------------------------------------------------------------------------------
# Word 文档
# ---------------------------------------------------------------------------------------------------------
_HEADING_STYLE = {1: "Heading 1", 2: "Heading 2", 3: "Heading 3", 4: "Heading 4"}
# 附件表各列宽度（厘米，合计 15.6，版心 156 mm）
_WIDTHS = {"dept": (1.9, 2.1, 3.9, 1.2, 2.2, 1.3, 3.0), "key_eval": (1.9, 2.1, 3.9, 1.2, 2.2, 1.3, 3.0),
           "project": (1.6, 1.8, 3.0, 1.2, 2.4, 2.3, 1.2, 2.1), "rules": (1.9, 1.9, 2.4, 5.2, 3.0, 1.2)}
_LEFT_COLUMNS = {"一级指标", "二级指标", "三级指标", "备注", "评分标准", "指标解释", "项目"}


def template_path() -> Path:
    if TEMPLATE_PATH.is_file():
        return TEMPLATE_PATH
    # 仓库中的模板被删除时现场重建（与仓库中的内容相同）
    return build_template(TEMPLATE_PATH)


def _style_id(doc, name: str) -> str:
    # python-docx 每次按名称设置样式都会遍历整个 styles.xml；按名称查一次 ID 后直接写 w:pStyle
    cache = doc.__dict__.setdefault("_jixiao_style_ids", {})
    if name not in cache:
        cache[name] = doc.styles[name].style_id
    return cache[name]


def set_style(doc, p, name: str) -> None:
    p._p.get_or_add_pPr().get_or_add_pStyle().val = _style_id(doc, name)


def para(doc, text: str, style: str, *, mark: bool = False, container=None):
    p = (container or doc).add_paragraph()
    set_style(doc, p, style)
    run = p.add_run(text)
    if mark:  # 草稿中尚缺的内容：黄色突出显示
        run.font.highlight_color = WD_COLOR_INDEX.YELLOW
    return p


def clear_body(doc) -> None:
    body = doc.element.body
    for child in list(body):
        if child.tag != qn("w:sectPr"):
            body.remove(child)


def set_repeat_header(row) -> None:
    tr_pr = row._tr.get_or_add_trPr()
    el = OxmlElement("w:tblHeader")
    el.set(qn("w:val"), "true")
    tr_pr.append(el)


def write_table(doc, annex: Annex, kind: str, widths: Sequence[float] | None = None) -> None:
    """附件表：表头每页重复；同一一级、二级指标的单元格纵向合并（种子 001 附件）；小计、总分、等级行的标签跨三列。"""
    widths = widths or (_WIDTHS["rules"] if annex.kind == "rules" else _WIDTHS.get(kind) or tuple(
        15.6 / len(annex.header) for _ in annex.header))
    table = doc.add_table(rows=1, cols=len(annex.header))
    table.style = doc.styles["Table Grid"]
    table.autofit = False
    for i, w in enumerate(widths):
        table.columns[i].width = Cm(w)
    hdr = table.rows[0]
    set_repeat_header(hdr)
    for i, h in enumerate(annex.header):
        cell = hdr.cells[i]
        cell.width = Cm(widths[i])
        set_style(doc, cell.paragraphs[0], "Table Header")
        cell.paragraphs[0].add_run(h)
    rows: list[tuple[tuple[str, list[str], tuple[str, str]], Any]] = []  # (附件行, Word 表格行)
    for item in annex.rows:
        row_kind, cells, _ = item
        row = table.add_row()
        rows.append((item, row))
        for i, text in enumerate(cells):
            cell = row.cells[i]
            cell.width = Cm(widths[i])
            p = cell.paragraphs[0]
            if row_kind != "row" and i == 0:
                style = "Table Header"
            else:
                style = "Table Text" if annex.header[i] in _LEFT_COLUMNS else "Table Number"
            set_style(doc, p, style)
            if text:
                p.add_run(text)
        if row_kind != "row":  # 小计、总分、等级：标签跨一至三级指标（指标体系表的总分跨到指标解释）
            row.cells[0].merge(row.cells[4 if annex.kind == "rules" else 2])
    # 同一一级指标、同一二级指标的单元格纵向合并
    for col, key in ((0, lambda it: it[2][0]), (1, lambda it: it[2])):
        start = 0
        while start < len(rows):
            item, _ = rows[start]
            end = start
            if item[0] == "row":
                while end + 1 < len(rows) and rows[end + 1][0][0] == "row" and key(rows[end + 1][0]) == key(item):
                    end += 1
            if end > start:
                top = rows[start][1].cells[col]
                for k in range(start + 1, end + 1):
                    below = rows[k][1].cells[col]
                    for p in list(below.paragraphs):  # 清空后再合并，免得留下重复文字
                        for r in list(p.runs):
                            r._r.getparent().remove(r._r)
                merged = top.merge(rows[end][1].cells[col])
                # 合并后多出的空段落删掉，只留第一段
                for p in merged.paragraphs[1:]:
                    p._p.getparent().remove(p._p)
            start = end + 1


def _width_chars(text: str) -> float:
    """排版宽度（字）：汉字与全角符号 1 字，半角数字与字母半字。"""
    return sum(1 if ord(ch) > 0x2E7F else 0.5 for ch in text)


def _signature(doc, report: Report) -> None:
    """署名与成文日期（GB/T 9704 7.3.5）：成文日期右空四字；署名以成文日期为准居中（右缩进按两者宽度之差的一半调整）。"""
    date_w = _width_chars(report.date) if report.date else 0
    for line in report.signature:
        p = para(doc, line, "Signature Block")
        if report.date:
            right = max(0.0, 4 + (date_w - _width_chars(line)) / 2)
            ind = OxmlElement("w:ind")
            ind.set(qn("w:right"), str(int(round(right * CHAR_TWIPS))))
            ind.set(qn("w:firstLine"), "0")
            p._p.get_or_add_pPr().append(ind)
    if report.date:
        para(doc, report.date, "Date Line")


def draft_headers(doc, report: Report) -> None:
    """草稿：每页页眉（单、双页）居右标“草稿”。"""
    section = doc.sections[0]
    for header in (section.header, section.even_page_header):
        header.is_linked_to_previous = False
        p = header.paragraphs[0]
        set_style(doc, p, "Draft Mark")
        p.add_run(DRAFT)


def core_properties(doc, report: Report) -> None:
    """文档属性取自工作簿：标题、作者（署名）、日期（成文日期；没有时为评价年度的次年 1 月 1 日）——不用当天日期，
    同一工作簿生成的 Word 逐字节相同。"""
    cp = doc.core_properties
    # python-docx 的文档属性最多 255 个字符：很长的单位名称截断（正文里的标题照写全文）
    cp.title = core_property_text(report.title)
    cp.author = cp.last_modified_by = core_property_text(report.author or report.unit or "—")
    cp.subject = report.status
    cp.comments = ""
    if report.issued is not None:
        when = _dt.datetime(report.issued.year, report.issued.month, report.issued.day)
    elif report.year.isdigit():
        when = _dt.datetime(int(report.year) + 1, 1, 1)
    else:
        when = FIXED_TIME
    cp.created = cp.modified = when
    cp.revision = 1


def write_docx(report: Report, path: str | Path, *, template: str | Path | None = None) -> Path:
    """按公文格式（GB/T 9704-2012）写出 Word 报告：标题、（草稿说明）、正文（一至四级标题、段落、得分率图）、附件说明、
    署名、成文日期，另页各附件表；草稿每页页眉标“草稿”。同一份 Report 生成逐字节相同的文件（文档时间取自工作簿，
    zip 时间戳固定）。报送材料（addin/submission/word.py）用下面同样的几步拼出部门报告、附件与各项目的自评。"""
    doc = open_template(template)
    if report.draft:
        draft_headers(doc, report)
    write_body(doc, report)
    write_closing(doc, report)
    for annex in report.annexes():
        write_annex(doc, annex, report.kind)
    core_properties(doc, report)
    return save_docx(doc, Path(path))


def open_template(template: str | Path | None = None):
    """样式模板（公文版式、页脚页码），正文清空。"""
    try:
        doc = Document(str(template or template_path()))
    except Exception as exc:  # python-docx 对损坏模板抛出多种异常
        raise ReportError(f"无法打开 Word 模板“{template or TEMPLATE_PATH}”：{type(exc).__name__}") from None
    clear_body(doc)
    return doc


def write_body(doc, report: Report, *, figure_no: int = 0) -> int:
    """标题、（草稿说明）与正文各块；返回写到第几个图（图题连续编号）。"""
    for line in report.title_lines:
        para(doc, line, "Title")
    para(doc, "", "Normal")
    for k, b in enumerate(report.blocks):
        if k and b.kind != "note" and report.blocks[k - 1].kind == "note":
            para(doc, "", "Normal")  # 草稿说明与正文之间空一行
        if b.kind == "heading":
            para(doc, b.text, _HEADING_STYLE.get(b.level, "Heading 4"))
        elif b.kind == "title":  # 摘要之后另起一页，重复报告标题（种子 001）
            # 段前分页而不是分页符段落：前一页正好写满时分页符会单独占一页，留下空白页
            para(doc, b.text, "Title").paragraph_format.page_break_before = True
            para(doc, "", "Normal")
        elif b.kind == "chart":
            figure_no += 1
            png, cjk = chart_png(report.chart)
            p = doc.add_paragraph()
            set_style(doc, p, "Figure")
            p.add_run().add_picture(io.BytesIO(png), width=Cm(14))
            caption = f"图{figure_no}  {report.chart_title}"
            if not cjk:
                caption += "（" + "；".join(f"{i}—{bar.name}" for i, bar in enumerate(report.chart, 1)) + "）"
            para(doc, caption, "Caption")
        elif b.kind == "note":  # 草稿说明（正文前）
            para(doc, b.text, "Draft Note", mark=True)
        else:
            para(doc, b.text, "Normal", mark=b.mark)
    return figure_no


def write_closing(doc, report: Report, note: Sequence[str] | None = None) -> None:
    """附件说明（正文下空一行；note 为 None 时用报告自己的附件，空列表为不写）与署名、成文日期（再空一行）。"""
    para(doc, "", "Normal")
    note = report.annex_note() if note is None else list(note)
    for k, line in enumerate(note):
        para(doc, line, "Annex Note" if len(note) == 1 else "Annex Note First" if k == 0 else "Annex Note Item")
    if note:
        para(doc, "", "Normal")
    _signature(doc, report)


def write_annex(doc, annex: Annex, kind: str, *, widths: Sequence[float] | None = None, new_page: bool = True) -> None:
    """一个附件另起一页：左上角“附件1”（黑体），标题居中（二号小标宋），表。"""
    p = para(doc, annex.label, "Annex Label")
    if new_page:
        p.paragraph_format.page_break_before = True
    para(doc, annex.title, "Annex Title")
    write_table(doc, annex, kind, widths)


def save_docx(doc, path: Path) -> Path:
    """保存 Word 文件：临时文件 + 原子替换；Word 打开着（~$ 锁文件）时拒绝；覆盖用户可能改过的旧文件前留带时间戳的
    备份（内容逐字节相同时不留：同一份工作簿再次生成的报告完全相同）；zip 时间戳固定。"""
    from ..io.book import BookError
    from ..io.safeio import atomic_output

    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        with atomic_output(path, backup=True) as tmp:
            doc.save(str(tmp))
            normalize_zip(tmp)
    except BookError as exc:
        raise ReportError(str(exc)) from None
    except PermissionError:
        raise ReportError(f"无法保存“{path.name}”：文件被占用或没有写权限（请先在 Word 中关闭该文件）") from None
    return path


# 文档属性（标题、主题……）在 python-docx 中最多 255 个字符（超出即抛出 ValueError）；单位名称可能很长
CORE_PROPERTY_MAX = 255


def core_property_text(text: str) -> str:
    """写入 Word 文档属性的文字：超过 255 个字符时截断并以“…”结尾（正文里的标题照写全文，不受影响）。"""
    return text if len(text) <= CORE_PROPERTY_MAX else text[: CORE_PROPERTY_MAX - 1] + "…"
