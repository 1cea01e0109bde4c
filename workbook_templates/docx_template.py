"""生成 Word 报告的样式模板 workbook_templates/docx/gongwen.docx（党政机关公文格式，GB/T 9704-2012）。

    python -m workbook_templates.docx_template      # 重建仓库中的模板

版式：A4，天头 37 mm、订口 28 mm，版心 156 mm × 225 mm；标题 方正小标宋简体 二号（22 磅）居中；正文 仿宋_GB2312
三号（16 磅），固定行距 28 磅，首行缩进 2 字；一级标题 黑体、二级标题 楷体_GB2312、三级标题 仿宋_GB2312 加粗；
阿拉伯数字与西文用 Times New Roman；附件标题 二号小标宋；成文日期右空四字。页码（GB/T 9704 7.5）：4 号半角宋体阿拉伯
数字，左右各一条一字线（“— 1 —”），一字线上距版心下边缘 7 mm，单页码居右空一字、双页码居左空一字（奇偶页不同的页脚，
settings 中 w:evenAndOddHeaders）。字体表（fontTable.xml）为 GB2312 字体声明替代字体（w:altName：仿宋_GB2312 → 仿宋，
楷体_GB2312 → 楷体，方正小标宋简体 → 华文中宋、宋体）与 panose、字符集、字族，没有这些字体的电脑按声明替换，而不是
默默换成无关的字体。

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
PT_ANNEX_TITLE = 22  # 二号（附件标题与公文标题同字号）
PT_CAPTION = 14  # 四号
PT_TABLE = 10.5  # 五号
PT_PAGE = 14  # 四号

LINE_BODY = 28  # 固定行距（磅），GB/T 9704 每页 22 行的通行设置为 28～29 磅
CHAR_TWIPS = PT_BODY * 20  # 一字（三号字宽）= 320 缇：缩进“空一字”“右空四字”的单位
PAGE_NUMBER_GAP_MM = 7  # 一字线上距版心下边缘
MARGIN_BOTTOM_MM = 35  # 297 − 37（天头）− 225（版心高）
# 页脚行（4 号字，固定行高 14 磅）的底边到纸张下边缘：一字线在行高一半处，距版心下边缘 7 mm，
# 即距纸张下边缘 35 − 7 = 28 mm，行底边再低半行（约 2.5 mm）
FOOTER_DISTANCE_MM = round(MARGIN_BOTTOM_MM - PAGE_NUMBER_GAP_MM - PT_PAGE * 25.4 / 72 / 2, 1)
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
         right_chars: int = 0, left_chars: int = 0, hanging_chars: int = 0):
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
    if left_chars:
        ind.update({"w:leftChars": str(left_chars), "w:left": str(left_chars * CHAR_TWIPS // 100)})
    if hanging_chars:
        ind = {k: v for k, v in ind.items() if not k.startswith("w:firstLine")}
        ind.update({"w:hangingChars": str(hanging_chars), "w:hanging": str(hanging_chars * CHAR_TWIPS // 100)})
    if right_chars:
        ind.update({"w:rightChars": str(right_chars), "w:right": str(right_chars * CHAR_TWIPS // 100)})
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


def _page_number_footer(footer, *, odd: bool) -> None:
    """页脚：“— 1 —”（1 为 PAGE 域，Word、LibreOffice 打开时计算）。单页码居右空一字，双页码居左空一字
    （一字按页码的 4 号字计，280 缇）；行高固定 14 磅，页脚距离见 FOOTER_DISTANCE_MM。"""
    footer.is_linked_to_previous = False
    p = footer.paragraphs[0]
    p.style = "Footer"
    p_el = p._p
    ppr = p_el.get_or_add_pPr()
    ppr.append(_el("w:spacing", **{"w:before": "0", "w:after": "0", "w:line": str(PT_PAGE * 20), "w:lineRule": "exact"}))
    one_char = str(PT_PAGE * 20)
    ppr.append(_el("w:ind", **({"w:right": one_char} if odd else {"w:left": one_char})))
    ppr.append(_el("w:jc", **{"w:val": "right" if odd else "left"}))

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


# 字体表：公文用字与其替代字体。w:altName 为逗号分隔的替代名称（ECMA-376 17.8.3.1），panose、字符集（86 = GB2312）、
# 字族（roman 衬线比例字、modern 等宽）让没有该字体的电脑选一个相近的字体替换。
FONTS = (
    # (名称, 替代名称, panose, 字符集, 字族, 字距, usb0, usb1, usb2, usb3, csb0, csb1)
    ("Times New Roman", "", "02020603050405020304", "00", "roman", "variable",
     "E0002AFF", "C0007841", "00000009", "00000000", "000001FF", "00000000"),
    ("宋体", "SimSun", "02010600030101010101", "86", "roman", "variable",
     "00000003", "288F0000", "00000016", "00000000", "00040001", "00000000"),
    ("黑体", "SimHei", "02010609060101010101", "86", "modern", "fixed",
     "800002BF", "38CF7CFA", "00000016", "00000000", "00040001", "00000000"),
    ("仿宋_GB2312", "仿宋", "02010609030101010101", "86", "modern", "fixed",
     "00000001", "080E0000", "00000010", "00000000", "00040000", "00000000"),
    ("楷体_GB2312", "楷体", "02010609030101010101", "86", "modern", "fixed",
     "00000001", "080E0000", "00000010", "00000000", "00040000", "00000000"),
    ("方正小标宋简体", "华文中宋,宋体", "02010600040101010101", "86", "roman", "variable",
     "00000001", "080E0000", "00000010", "00000000", "00040000", "00000000"),
    ("仿宋", "FangSong", "02010609060101010101", "86", "modern", "fixed",
     "800002BF", "38CF7CFA", "00000016", "00000000", "00040001", "00000000"),
    ("楷体", "KaiTi", "02010609060101010101", "86", "modern", "fixed",
     "800002BF", "38CF7CFA", "00000016", "00000000", "00040001", "00000000"),
    ("华文中宋", "STZhongsong", "02010600040101010101", "86", "roman", "variable",
     "00000287", "080F0000", "00000000", "00000000", "0004009F", "00000000"),
)


def font_table_xml() -> bytes:
    """word/fontTable.xml：FONTS 中的各字体（子元素顺序按 CT_Font：altName、panose1、charset、family、pitch、sig）。"""
    w = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"
    parts = [f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<w:fonts xmlns:w="{w}">']
    for name, alt, panose, charset, family, pitch, u0, u1, u2, u3, c0, c1 in FONTS:
        parts.append(f'<w:font w:name="{name}">' + (f'<w:altName w:val="{alt}"/>' if alt else "")
                     + f'<w:panose1 w:val="{panose}"/><w:charset w:val="{charset}"/><w:family w:val="{family}"/>'
                     f'<w:pitch w:val="{pitch}"/><w:sig w:usb0="{u0}" w:usb1="{u1}" w:usb2="{u2}" w:usb3="{u3}" '
                     f'w:csb0="{c0}" w:csb1="{c1}"/></w:font>')
    parts.append("</w:fonts>")
    return "".join(parts).encode("utf-8")


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
    # 署名（以成文日期为准居中：写 Word 时按两者字数另设右缩进）与成文日期（右空四字）
    _restyle(_paragraph_style(doc, "Signature Block"), _ppr(align="right", first_chars=0, right_chars=400),
             _rpr(FONT_BODY, PT_BODY))
    _restyle(_paragraph_style(doc, "Date Line"), _ppr(align="right", first_chars=0, right_chars=400),
             _rpr(FONT_BODY, PT_BODY))
    # 附件说明（GB/T 9704 7.3.6）：正文下空一行左空二字“附件：××”，回行与附件名称的首字对齐。多个附件时“附件：1. ××”，
    # 第二项起另起一行与“1.”对齐（“1. ”为半角，约一字宽）
    _restyle(_paragraph_style(doc, "Annex Note"), _ppr(align="left", first_chars=0, left_chars=500, hanging_chars=300),
             _rpr(FONT_BODY, PT_BODY))
    _restyle(_paragraph_style(doc, "Annex Note First"), _ppr(align="left", first_chars=0, left_chars=600,
                                                             hanging_chars=400), _rpr(FONT_BODY, PT_BODY))
    _restyle(_paragraph_style(doc, "Annex Note Item"), _ppr(align="left", first_chars=0, left_chars=600, hanging_chars=100),
             _rpr(FONT_BODY, PT_BODY))
    # 草稿：正文前的说明（楷体）与页眉上的“草稿”标记（黑体三号，居右）
    _restyle(_paragraph_style(doc, "Draft Note"), _ppr(), _rpr(FONT_H2, PT_BODY))
    _restyle(_paragraph_style(doc, "Draft Mark"), _ppr(align="right", first_chars=0, line_pt=None),
             _rpr(FONT_H1, PT_BODY))
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
    section.header_distance, section.footer_distance = Mm(15), Mm(FOOTER_DISTANCE_MM)
    # 奇偶页不同的页脚：单页码居右、双页码居左
    doc.settings.odd_and_even_pages_header_footer = True
    _page_number_footer(section.footer, odd=True)
    _page_number_footer(section.even_page_footer, odd=False)
    # 主题字体的东亚语言为中文（python-docx 的默认模板是日文）
    for lang in doc.settings.element.iter(qn("w:themeFontLang")):
        lang.set(qn("w:eastAsia"), "zh-CN")

    # 默认模板带一张缩略图（与本模板无关），去掉
    from docx.opc.constants import RELATIONSHIP_TYPE as RT

    doc.part.part_related_by(RT.FONT_TABLE)._blob = font_table_xml()

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
    cp.comments = ""  # python-docx 的默认模板写着“generated by python-docx”
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
