"""生成 Word 报告的样式模板 workbook_templates/docx/gongwen.docx（党政机关公文格式，GB/T 9704 通行做法）。

    python -m workbook_templates.docx_template      # 重建仓库中的模板

版式：A4，天头 37 mm、订口 28 mm，版心 156 mm × 225 mm；标题 方正小标宋简体 二号（22 磅）居中；正文 仿宋_GB2312
三号（16 磅），固定行距 28 磅，首行缩进 2 字；一级标题 黑体、二级标题 楷体_GB2312、三级标题 仿宋_GB2312 加粗；
阿拉伯数字与西文用 Times New Roman；页码“— 1 —”居中于页脚（PAGE 域）。

中文字体必须写在 w:rFonts 的 w:eastAsia 属性上：python-docx 的 Font.name 只设置 ascii/hAnsi，中文仍会用主题字体，
所以这里直接改写各样式的 rPr/pPr（oxml）。生成过程不含时间戳与随机数：同样的代码生成内容相同的文件
（zip 内各部件逐字节相同，时间戳固定为 1980-01-01）。
"""
from __future__ import annotations

import datetime as _dt
import os
import zipfile
from pathlib import Path

from docx import Document
from docx.enum.style import WD_STYLE_TYPE
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from docx.shared import Mm

TEMPLATE_PATH = Path(__file__).resolve().parent / "docx" / "gongwen.docx"

FONT_LATIN = "Times New Roman"
FONT_BODY = "仿宋_GB2312"
FONT_TITLE = "方正小标宋简体"
FONT_H1 = "黑体"
FONT_H2 = "楷体_GB2312"
FONT_PAGE = "宋体"

PT_TITLE = 22  # 二号
PT_BODY = 16  # 三号
PT_ANNEX_TITLE = 18  # 小二
PT_CAPTION = 14  # 四号
PT_TABLE = 10.5  # 五号
PT_PAGE = 14  # 四号

LINE_BODY = 28  # 固定行距（磅），GB/T 9704 每页 22 行的通行设置为 28～29 磅
FIXED_TIME = _dt.datetime(2026, 1, 1, 0, 0, 0)
ZIP_TIME = (1980, 1, 1, 0, 0, 0)


def _el(tag: str, **attrs: str):
    e = OxmlElement(tag)
    for k, v in attrs.items():
        e.set(qn(k), v)
    return e


def _rpr(east_asia: str, size_pt: float, *, bold: bool = False, latin: str = FONT_LATIN):
    """字符格式：rFonts 同时写 ascii/hAnsi/cs（西文、数字）与 eastAsia（中文）。"""
    rpr = _el("w:rPr")
    rpr.append(_el("w:rFonts", **{"w:ascii": latin, "w:hAnsi": latin, "w:eastAsia": east_asia, "w:cs": latin}))
    rpr.append(_el("w:b", **{"w:val": "1" if bold else "0"}))
    rpr.append(_el("w:bCs", **{"w:val": "1" if bold else "0"}))
    rpr.append(_el("w:color", **{"w:val": "000000"}))
    half = str(int(size_pt * 2))
    rpr.append(_el("w:sz", **{"w:val": half}))
    rpr.append(_el("w:szCs", **{"w:val": half}))
    rpr.append(_el("w:lang", **{"w:val": "en-US", "w:eastAsia": "zh-CN"}))
    return rpr


def _ppr(*, align: str = "both", first_chars: int = 200, first_pt: float = 2 * PT_BODY, line_pt: float | None = LINE_BODY,
         before_pt: float = 0, after_pt: float = 0, keep_next: bool = False, outline: int | None = None,
         right_chars: int = 0):
    """段落格式（子元素按 OOXML 规定的顺序）。first_chars 为首行缩进的字符数×100。"""
    ppr = _el("w:pPr")
    if keep_next:
        ppr.append(_el("w:keepNext"))
        ppr.append(_el("w:keepLines"))
    ppr.append(_el("w:widowControl", **{"w:val": "0"}))
    spacing = {"w:before": str(int(before_pt * 20)), "w:after": str(int(after_pt * 20))}
    if line_pt is None:
        spacing.update({"w:line": "240", "w:lineRule": "auto"})
    else:
        spacing.update({"w:line": str(int(line_pt * 20)), "w:lineRule": "exact"})
    ppr.append(_el("w:spacing", **spacing))
    ind = {"w:firstLineChars": str(first_chars), "w:firstLine": str(int(first_pt * 20)) if first_chars else "0"}
    if right_chars:
        ind.update({"w:rightChars": str(right_chars), "w:right": str(int(right_chars / 100 * PT_BODY * 20))})
    ppr.append(_el("w:ind", **ind))
    ppr.append(_el("w:jc", **{"w:val": align}))
    if outline is not None:
        ppr.append(_el("w:outlineLvl", **{"w:val": str(outline)}))
    return ppr


def _restyle(style, ppr, rpr) -> None:
    el = style.element
    for tag in ("w:pPr", "w:rPr"):
        for old in el.findall(qn(tag)):
            el.remove(old)
    el.append(ppr)
    el.append(rpr)


def _paragraph_style(doc, name: str, base: str = "Normal"):
    styles = doc.styles
    try:
        return styles[name]
    except KeyError:
        s = styles.add_style(name, WD_STYLE_TYPE.PARAGRAPH)
        s.base_style = styles[base]
        s.quick_style = True
        return s


def _page_number_footer(section) -> None:
    """页脚：“— 1 —”居中，1 为 PAGE 域（Word、LibreOffice 打开时计算）。"""
    section.footer.is_linked_to_previous = False
    p = section.footer.paragraphs[0]
    p.style = "Footer"
    p_el = p._p

    def run(text: str | None = None, fld: str | None = None, instr: str | None = None):
        r = _el("w:r")
        if text is not None:
            t = _el("w:t")
            t.set(qn("xml:space"), "preserve")
            t.text = text
            r.append(t)
        if fld:
            r.append(_el("w:fldChar", **{"w:fldCharType": fld}))
        if instr:
            it = _el("w:instrText")
            it.set(qn("xml:space"), "preserve")
            it.text = instr
            r.append(it)
        p_el.append(r)

    run("— ")
    run(fld="begin")
    run(instr=" PAGE ")
    run(fld="separate")
    run("1")
    run(fld="end")
    run(" —")


def build_template(path: str | Path = TEMPLATE_PATH) -> Path:
    """生成公文格式的 .docx 样式模板（正文为空，只含样式、页面设置与页脚页码）。"""
    path = Path(path)
    doc = Document()
    body = doc.element.body
    for child in list(body):
        if child.tag != qn("w:sectPr"):
            body.remove(child)

    # 默认字符格式：中文仿宋_GB2312、西文 Times New Roman、三号
    rpr_default = doc.styles.element.find(qn("w:docDefaults")).find(qn("w:rPrDefault"))
    for old in list(rpr_default):
        rpr_default.remove(old)
    rpr_default.append(_rpr(FONT_BODY, PT_BODY))

    styles = doc.styles
    _restyle(styles["Normal"], _ppr(), _rpr(FONT_BODY, PT_BODY))
    _restyle(styles["Title"], _ppr(align="center", first_chars=0, line_pt=35), _rpr(FONT_TITLE, PT_TITLE))
    _restyle(styles["Heading 1"], _ppr(keep_next=True, outline=0), _rpr(FONT_H1, PT_BODY))
    _restyle(styles["Heading 2"], _ppr(keep_next=True, outline=1), _rpr(FONT_H2, PT_BODY))
    _restyle(styles["Heading 3"], _ppr(keep_next=True, outline=2), _rpr(FONT_BODY, PT_BODY, bold=True))
    _restyle(styles["Heading 4"], _ppr(keep_next=True, outline=3), _rpr(FONT_BODY, PT_BODY))
    _restyle(styles["Caption"], _ppr(align="center", first_chars=0), _rpr(FONT_BODY, PT_CAPTION))
    _restyle(styles["Footer"], _ppr(align="center", first_chars=0, line_pt=None), _rpr(FONT_PAGE, PT_PAGE, latin=FONT_PAGE))
    # 图片所在段落不能用固定行距（会把图裁成一行高）
    _restyle(_paragraph_style(doc, "Figure"), _ppr(align="center", first_chars=0, line_pt=None, before_pt=6, after_pt=6),
             _rpr(FONT_BODY, PT_BODY))
    _restyle(_paragraph_style(doc, "Signature Block"), _ppr(align="right", first_chars=0, right_chars=400),
             _rpr(FONT_BODY, PT_BODY))
    _restyle(_paragraph_style(doc, "Annex Label"), _ppr(align="left", first_chars=0), _rpr(FONT_H1, PT_BODY))
    _restyle(_paragraph_style(doc, "Annex Title"), _ppr(align="center", first_chars=0, line_pt=32, after_pt=8),
             _rpr(FONT_TITLE, PT_ANNEX_TITLE))
    _restyle(_paragraph_style(doc, "Table Text"), _ppr(align="left", first_chars=0, line_pt=None),
             _rpr(FONT_BODY, PT_TABLE))
    _restyle(_paragraph_style(doc, "Table Number"), _ppr(align="center", first_chars=0, line_pt=None),
             _rpr(FONT_BODY, PT_TABLE))
    _restyle(_paragraph_style(doc, "Table Header"), _ppr(align="center", first_chars=0, line_pt=None),
             _rpr(FONT_H1, PT_TABLE))

    section = doc.sections[0]
    section.page_width, section.page_height = Mm(210), Mm(297)
    section.top_margin, section.bottom_margin = Mm(37), Mm(35)
    section.left_margin, section.right_margin = Mm(28), Mm(26)
    section.header_distance, section.footer_distance = Mm(15), Mm(20)
    _page_number_footer(section)

    # 默认模板带一张缩略图（与本模板无关），去掉
    from docx.opc.constants import RELATIONSHIP_TYPE as RT

    rels = doc.part.package.rels
    for rid in [rid for rid, rel in rels.items() if rel.reltype == RT.THUMBNAIL]:
        del rels[rid]
    # stylesWithEffects.xml 是 Word 2010 的样式副本，仍是改写前的主题字体；去掉以免两份样式不一致
    doc_rels = doc.part.rels
    for rid in [rid for rid, rel in doc_rels.items() if rel.reltype.endswith("/stylesWithEffects")]:
        del doc_rels[rid]

    cp = doc.core_properties
    cp.author = cp.last_modified_by = "jixiao"
    cp.title = "绩效评价报告（公文格式样式模板）"
    cp.created = cp.modified = FIXED_TIME
    cp.revision = 1
    path.parent.mkdir(parents=True, exist_ok=True)
    doc.save(str(path))
    normalize_zip(path)
    return path


def normalize_zip(path: str | Path) -> None:
    """把 .docx（zip）各部件的时间戳固定下来，使同样内容生成同样的文件。"""
    path = Path(path)
    with zipfile.ZipFile(path) as z:
        items = [(i.filename, z.read(i.filename)) for i in z.infolist()]
    tmp = path.with_name(path.name + ".tmp")
    with zipfile.ZipFile(tmp, "w", zipfile.ZIP_DEFLATED) as z:
        for name, data in items:
            info = zipfile.ZipInfo(name, date_time=ZIP_TIME)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o644 << 16
            z.writestr(info, data)
    os.replace(tmp, path)


if __name__ == "__main__":
    print(build_template())
