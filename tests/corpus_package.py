"""测试语料：一份带着 openpyxl 读写一遍就会丢失的各种内容的工作簿（openpyxl 生成 + 定点改写 XML），以及 LibreOffice
另存的工作簿。供 tests/test_package.py 核对“写回只改 jixiao 拥有的部件”。

语料里的每一项都来自 issue 14 的“为什么”：
- 用户单元格里的富文本（部分加粗、变色）；批注的格式（加粗的作者名、填充色）与显示状态（一直显示）；
- 一张表上同时有图片、连接线与形状；图表带样式/配色部件（chartStyle/chartColorStyle）与扩展（c:extLst）；
- 动态数组公式（metadata.xml + cm 属性）与保存的计算结果、calcChain；
- VML 表单按钮与它的控件属性部件（ctrlProps）；打印机设置（printerSettings.bin）；忽略错误标记（ignoredErrors）；
- 自定义视图（工作表 customSheetViews 与工作簿 customWorkbookViews）；文档属性（公司、经理）；
- 工作表的扩展（x14 数据验证）；.xlsx 里的 vbaProject.bin（.xlsm 时带关系与启用宏的内容类型）；自定义 XML（customXml）。
"""
from __future__ import annotations

import io
import shutil
import subprocess
import tempfile
import zipfile
from pathlib import Path

from lxml import etree

MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
R = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
PKG = "http://schemas.openxmlformats.org/package/2006/relationships"
XDR = "http://schemas.openxmlformats.org/drawingml/2006/spreadsheetDrawing"
A = "http://schemas.openxmlformats.org/drawingml/2006/main"
SHEET = "附表"
PRINTER = b"\x00\x01jixiao-printer-devmode" + bytes(range(256)) * 4
VBA = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"Attribute VB_Name = \"Module1\"" + bytes(300)

# 除生成表及其部件外，写回可以改动的部件（引用生成表的条目与追加的样式）
REFERENCE_PARTS = {"[Content_Types].xml", "xl/workbook.xml", "xl/_rels/workbook.xml.rels", "docProps/app.xml",
                   "xl/styles.xml"}


def _png() -> bytes:
    from PIL import Image

    buf = io.BytesIO()
    Image.new("RGB", (40, 30), (200, 30, 30)).save(buf, format="PNG")
    return buf.getvalue()


def _openpyxl_part(base: Path, out: Path) -> None:
    """openpyxl 完成的部分：在示例工作簿中加一张“附表”：富文本、批注、图片、图表、数字与公式。"""
    import openpyxl
    from openpyxl.cell.rich_text import CellRichText, TextBlock
    from openpyxl.cell.text import InlineFont
    from openpyxl.chart import BarChart, Reference
    from openpyxl.comments import Comment
    from openpyxl.drawing.image import Image

    wb = openpyxl.load_workbook(base)
    ws = wb.create_sheet(SHEET)
    ws["A1"] = CellRichText([TextBlock(InlineFont(b=True, color="FFFF0000"), "重点："), "资金按时拨付"])
    ws["A1"].comment = Comment("审核意见：数字已核对", "张三")
    for r, v in enumerate((3, 1, 2), 2):
        ws.cell(r, 1, v)
    ws["B2"] = "=SUM(A2:A4)"
    ws.page_setup.orientation = "landscape"
    ws.add_image(Image(io.BytesIO(_png())), "D2")
    chart = BarChart()
    chart.add_data(Reference(ws, min_col=1, min_row=2, max_row=4))
    ws.add_chart(chart, "D12")
    wb.save(out)


def _tree(data: bytes) -> etree._Element:
    return etree.fromstring(data, etree.XMLParser(resolve_entities=False, no_network=True))


def _dump(root: etree._Element) -> bytes:
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8", standalone=True)


def _add_rel(parts: dict[str, bytes], rels: str, rid: str, rtype: str, target: str) -> None:
    root = _tree(parts[rels]) if rels in parts else etree.Element(f"{{{PKG}}}Relationships", nsmap={None: PKG})
    el = etree.SubElement(root, f"{{{PKG}}}Relationship")
    el.set("Id", rid)
    el.set("Type", rtype)
    el.set("Target", target)
    parts[rels] = _dump(root)


def _content_type(parts: dict[str, bytes], *, part: str | None = None, ext: str | None = None, ctype: str) -> None:
    ns = "http://schemas.openxmlformats.org/package/2006/content-types"
    root = _tree(parts["[Content_Types].xml"])
    if part:
        for o in root.findall(f"{{{ns}}}Override"):
            if o.get("PartName") == "/" + part:
                o.set("ContentType", ctype)
                break
        else:
            etree.SubElement(root, f"{{{ns}}}Override", PartName="/" + part, ContentType=ctype)
    else:
        if not any(d.get("Extension") == ext for d in root.findall(f"{{{ns}}}Default")):
            root.insert(0, etree.Element(f"{{{ns}}}Default", Extension=ext, ContentType=ctype))
    parts["[Content_Types].xml"] = _dump(root)


def _sheet_part(parts: dict[str, bytes], name: str) -> str:
    wb = _tree(parts["xl/workbook.xml"])
    rels = {r.get("Id"): r.get("Target") for r in _tree(parts["xl/_rels/workbook.xml.rels"])}
    for s in wb.iter(f"{{{MAIN}}}sheet"):
        if s.get("name") == name:
            t = rels[s.get(f"{{{R}}}id")]
            return t.lstrip("/") if t.startswith("/") else "xl/" + t
    raise KeyError(name)


def _rels_of(part: str) -> str:
    d, b = part.rsplit("/", 1)
    return f"{d}/_rels/{b}.rels"


def _target(parts: dict[str, bytes], part: str, kind: str) -> str:
    """part 的关系中类型以 kind 结尾的目标部件。"""
    import posixpath

    for r in _tree(parts[_rels_of(part)]):
        if r.get("Type").endswith("/" + kind):
            t = r.get("Target")
            if t.startswith("/"):
                return t.lstrip("/")
            return posixpath.normpath(posixpath.join(posixpath.dirname(part), t))
    raise KeyError(kind)


def _shared_strings(parts: dict[str, bytes]) -> None:
    """openpyxl 3.1 把文本都写成内联字符串；Excel 存的是共享字符串表（富文本也在其中）。照 Excel 的样子改过来。"""
    m = f"{{{MAIN}}}"
    table: dict[bytes, int] = {}
    sst = etree.Element(f"{m}sst", nsmap={None: MAIN})
    wb = _tree(parts["xl/workbook.xml"])
    for s in wb.iter(f"{m}sheet"):
        part = _sheet_part(parts, s.get("name"))
        root = _tree(parts[part])
        for c in root.iter(f"{m}c"):
            if c.get("t") != "inlineStr":
                continue
            is_ = c.find(f"{m}is")
            key = b"".join(etree.tostring(x) for x in is_)
            if key not in table:
                table[key] = len(table)
                si = etree.SubElement(sst, f"{m}si")
                for x in is_:
                    si.append(x)
            c.remove(is_)
            c.set("t", "s")
            etree.SubElement(c, f"{m}v").text = str(table[key])
        parts[part] = _dump(root)
    sst.set("count", str(len(table)))
    sst.set("uniqueCount", str(len(table)))
    parts["xl/sharedStrings.xml"] = _dump(sst)
    _add_rel(parts, "xl/_rels/workbook.xml.rels", "rIdSst", f"{R}/sharedStrings", "sharedStrings.xml")
    _content_type(parts, part="xl/sharedStrings.xml",
                  ctype="application/vnd.openxmlformats-officedocument.spreadsheetml.sharedStrings+xml")


def _xml_edits(parts: dict[str, bytes], *, macro: bool) -> None:
    _shared_strings(parts)
    sheet = _sheet_part(parts, SHEET)
    root = _tree(parts[sheet])
    m = f"{{{MAIN}}}"
    # 动态数组公式（cm 指向 metadata.xml 的单元格元数据），带保存的计算结果
    data = root.find(f"{m}sheetData")
    row = etree.SubElement(data, f"{m}row", r="6")
    c = etree.SubElement(row, f"{m}c", r="B6", cm="1")
    etree.SubElement(c, f"{m}f", t="array", ref="B6:B8").text = "_xlfn._xlws.SORT(A2:A4)"
    etree.SubElement(c, f"{m}v").text = "1"
    # 公式 B2 的保存结果（openpyxl 存盘时丢掉了它）
    for cell in root.iter(f"{m}c"):
        if cell.get("r") == "B2":
            v = cell.find(f"{m}v")
            (v if v is not None else etree.SubElement(cell, f"{m}v")).text = "6"
    # 自定义视图（sheetData 之后）、忽略错误（pageSetup 之后）、打印机设置（pageSetup 的 r:id）
    views = etree.Element(f"{m}customSheetViews")
    etree.SubElement(views, f"{m}customSheetView", guid="{6F5AB4AA-2C2A-4B4C-9B89-3E1F0C4B8D11}", scale="85",
                     showGridLines="0")
    data.addnext(views)
    setup = root.find(f"{m}pageSetup")
    setup.set(f"{{{R}}}id", "rIdPrinter")
    ignored = etree.Element(f"{m}ignoredErrors")
    etree.SubElement(ignored, f"{m}ignoredError", sqref="A2:A4", numberStoredAsText="1")
    setup.addnext(ignored)
    # 工作表扩展：引用其他表的下拉列表（x14 数据验证）
    ext_ns = "http://schemas.microsoft.com/office/spreadsheetml/2009/9/main"
    xm = "http://schemas.microsoft.com/office/excel/2006/main"
    ext_lst = etree.SubElement(root, f"{m}extLst")
    ext = etree.SubElement(ext_lst, f"{m}ext", uri="{CCE6A557-97BC-4b89-ADB6-D9C93CAAB3DF}",
                           nsmap={"x14": ext_ns, "xm": xm})
    dvs = etree.SubElement(ext, f"{{{ext_ns}}}dataValidations", count="1")
    dv = etree.SubElement(dvs, f"{{{ext_ns}}}dataValidation", type="list", allowBlank="1")
    etree.SubElement(etree.SubElement(dv, f"{{{ext_ns}}}formula1"), f"{{{xm}}}f").text = "评分表!$A$1:$A$5"
    etree.SubElement(dv, f"{{{xm}}}sqref").text = "C2:C4"
    parts[sheet] = _dump(root)
    parts["xl/printerSettings/printerSettings1.bin"] = PRINTER
    _add_rel(parts, _rels_of(sheet), "rIdPrinter", f"{R}/printerSettings", "../printerSettings/printerSettings1.bin")
    _content_type(parts, ext="bin", ctype="application/vnd.openxmlformats-officedocument.spreadsheetml.printerSettings")
    # 表单按钮：控件属性部件 + VML 中的按钮；批注一直显示、黄色填充，作者名加粗
    parts["xl/ctrlProps/ctrlProp1.xml"] = (b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\r\n'
                                           b'<formControlPr xmlns="http://schemas.microsoft.com/office/spreadsheetml/'
                                           b'2009/9/main" objectType="Button" lockText="1"/>')
    _add_rel(parts, _rels_of(sheet), "rIdCtrl", f"{R}/ctrlProp", "../ctrlProps/ctrlProp1.xml")
    _content_type(parts, part="xl/ctrlProps/ctrlProp1.xml", ctype="application/vnd.ms-excel.controlproperties+xml")
    vml = _target(parts, sheet, "vmlDrawing")
    parts[vml] = (
        '<xml xmlns:v="urn:schemas-microsoft-com:vml" xmlns:o="urn:schemas-microsoft-com:office:office" '
        'xmlns:x="urn:schemas-microsoft-com:office:excel"><o:shapelayout v:ext="edit"><o:idmap v:ext="edit" data="1"/>'
        '</o:shapelayout><v:shapetype id="_x0000_t202" coordsize="21600,21600" o:spt="202" '
        'path="m,l,21600r21600,l21600,xe"><v:stroke joinstyle="miter"/><v:path gradientshapeok="t" '
        'o:connecttype="rect"/></v:shapetype>'
        # 批注：一直显示（x:Visible）、黄色填充
        '<v:shape id="_x0000_s1025" type="#_x0000_t202" style="position:absolute;margin-left:59.25pt;'
        'margin-top:1.5pt;width:108pt;height:59.25pt;z-index:1;visibility:visible" fillcolor="#ffff00" '
        'o:insetmode="auto"><v:fill color2="#ffff00"/><v:shadow on="t" color="black" obscured="t"/>'
        '<v:path o:connecttype="none"/><v:textbox style="mso-direction-alt:auto"><div style="text-align:left"></div>'
        '</v:textbox><x:ClientData ObjectType="Note"><x:MoveWithCells/><x:SizeWithCells/>'
        '<x:Anchor>1, 15, 0, 2, 3, 15, 3, 16</x:Anchor><x:AutoFill>False</x:AutoFill><x:Row>0</x:Row>'
        '<x:Column>0</x:Column><x:Visible/></x:ClientData></v:shape>'
        # 表单按钮（指定宏）
        '<v:shapetype id="_x0000_t201" coordsize="21600,21600" o:spt="201" path="m,l,21600r21600,l21600,xe">'
        '<v:stroke joinstyle="miter"/><v:path shadowok="f" o:extrusionok="f" strokeok="f" fillok="f" '
        'o:connecttype="rect"/><o:lock v:ext="edit" shapetype="t"/></v:shapetype>'
        '<v:shape id="_x0000_s1026" type="#_x0000_t201" style="position:absolute;margin-left:300pt;margin-top:20pt;'
        'width:80pt;height:24pt;z-index:2" o:button="t" fillcolor="buttonFace [67]" strokecolor="windowText [64]" '
        'o:insetmode="auto"><v:fill color2="buttonFace [67]" o:detectmouseclick="t"/><o:lock v:ext="edit" '
        'rotation="t"/><v:textbox style="mso-direction-alt:auto" o:singleclick="f"><div style="text-align:center">'
        '<font face="宋体" size="220" color="auto">重新计算</font></div></v:textbox><x:ClientData ObjectType="Button">'
        '<x:Anchor>6, 0, 1, 0, 7, 40, 2, 0</x:Anchor><x:PrintObject>False</x:PrintObject><x:AutoFill>False'
        '</x:AutoFill><x:FmlaMacro>[0]!Recalc</x:FmlaMacro><x:TextHAlign>Center</x:TextHAlign><x:TextVAlign>Center'
        '</x:TextVAlign></x:ClientData></v:shape></xml>').encode("utf-8")
    comments = _target(parts, sheet, "comments")
    ctext = parts[comments].decode("utf-8")
    ctext = ctext.replace("<text><t>", '<text><r><rPr><b/><color rgb="FF0000FF"/></rPr><t>张三：</t></r><r><t>', 1)
    ctext = ctext.replace("</t></text>", "</t></r></text>", 1)
    parts[comments] = ctext.encode("utf-8")
    # 图形：与图片、图表同一张表上的连接线和形状
    drawing = _target(parts, sheet, "drawing")
    droot = _tree(parts[drawing])
    anchor = etree.SubElement(droot, f"{{{XDR}}}twoCellAnchor")
    for tag, (col, row_) in (("from", (3, 8)), ("to", (6, 10))):
        pos = etree.SubElement(anchor, f"{{{XDR}}}{tag}")
        for k, v in (("col", col), ("colOff", 0), ("row", row_), ("rowOff", 0)):
            etree.SubElement(pos, f"{{{XDR}}}{k}").text = str(v)
    cxn = etree.SubElement(anchor, f"{{{XDR}}}cxnSp", macro="")
    nv = etree.SubElement(cxn, f"{{{XDR}}}nvCxnSpPr")
    etree.SubElement(nv, f"{{{XDR}}}cNvPr", id="20", name="直接箭头连接符 19")
    etree.SubElement(nv, f"{{{XDR}}}cNvCxnSpPr")
    sp_pr = etree.SubElement(cxn, f"{{{XDR}}}spPr")
    etree.SubElement(sp_pr, f"{{{A}}}prstGeom", prst="straightConnector1")
    ln = etree.SubElement(sp_pr, f"{{{A}}}ln", w="19050")
    etree.SubElement(ln, f"{{{A}}}tailEnd", type="triangle")
    etree.SubElement(anchor, f"{{{XDR}}}clientData")
    anchor2 = etree.SubElement(droot, f"{{{XDR}}}oneCellAnchor")
    frm = etree.SubElement(anchor2, f"{{{XDR}}}from")
    for k, v in (("col", 8), ("colOff", 0), ("row", 2), ("rowOff", 0)):
        etree.SubElement(frm, f"{{{XDR}}}{k}").text = str(v)
    etree.SubElement(anchor2, f"{{{XDR}}}ext", cx="1800000", cy="500000")
    sp = etree.SubElement(anchor2, f"{{{XDR}}}sp", macro="", textlink="")
    nv = etree.SubElement(sp, f"{{{XDR}}}nvSpPr")
    etree.SubElement(nv, f"{{{XDR}}}cNvPr", id="21", name="矩形 20")
    etree.SubElement(nv, f"{{{XDR}}}cNvSpPr")
    sp_pr = etree.SubElement(sp, f"{{{XDR}}}spPr")
    etree.SubElement(sp_pr, f"{{{A}}}prstGeom", prst="rect")
    tx = etree.SubElement(sp, f"{{{XDR}}}txBody")
    etree.SubElement(tx, f"{{{A}}}bodyPr")
    etree.SubElement(etree.SubElement(etree.SubElement(tx, f"{{{A}}}p"), f"{{{A}}}r"), f"{{{A}}}t").text = "资金流向"
    etree.SubElement(anchor2, f"{{{XDR}}}clientData")
    parts[drawing] = _dump(droot)
    # 图表：样式与配色部件，图表扩展
    chart = _target(parts, drawing, "chart")
    croot = _tree(parts[chart])
    c_ns = "http://schemas.openxmlformats.org/drawingml/2006/chart"
    c16r2 = "http://schemas.microsoft.com/office/drawing/2015/06/chart"
    ext_lst = etree.SubElement(croot, f"{{{c_ns}}}extLst")
    ext = etree.SubElement(ext_lst, f"{{{c_ns}}}ext", uri="{56B9EC1D-385E-4148-901F-78D8002777C0}",
                           nsmap={"c16r3": "http://schemas.microsoft.com/office/drawing/2017/03/chart"})
    etree.SubElement(etree.SubElement(ext, "{http://schemas.microsoft.com/office/drawing/2017/03/chart}"
                                           "dataDisplayOptions16"),
                     "{http://schemas.microsoft.com/office/drawing/2017/03/chart}dispNaAsBlank", val="1")
    del c16r2
    parts[chart] = _dump(croot)
    cs = "http://schemas.microsoft.com/office/drawing/2012/chartStyle"
    parts["xl/charts/style1.xml"] = (f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\r\n<cs:chartStyle '
                                     f'xmlns:cs="{cs}" xmlns:a="{A}" id="201"><cs:axisTitle><cs:lnRef idx="0"/>'
                                     f'</cs:axisTitle></cs:chartStyle>').encode()
    parts["xl/charts/colors1.xml"] = (f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\r\n<cs:colorStyle '
                                      f'xmlns:cs="{cs}" xmlns:a="{A}" meth="cycle" id="10"><a:schemeClr val="accent1"/>'
                                      f'</cs:colorStyle>').encode()
    _add_rel(parts, _rels_of(chart), "rId1", "http://schemas.microsoft.com/office/2011/relationships/chartStyle",
             "style1.xml")
    _add_rel(parts, _rels_of(chart), "rId2", "http://schemas.microsoft.com/office/2011/relationships/chartColorStyle",
             "colors1.xml")
    _content_type(parts, part="xl/charts/style1.xml", ctype="application/vnd.ms-office.chartstyle+xml")
    _content_type(parts, part="xl/charts/colors1.xml", ctype="application/vnd.ms-office.chartcolorstyle+xml")
    # 动态数组的元数据、计算链
    parts["xl/metadata.xml"] = (
        f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\r\n<metadata xmlns="{MAIN}" '
        'xmlns:xda="http://schemas.microsoft.com/office/spreadsheetml/2017/dynamicarray"><metadataTypes count="1">'
        '<metadataType name="XLDAPR" minSupportedVersion="120000" copy="1" pasteAll="1" pasteValues="1" merge="1" '
        'splitFirst="1" rowColShift="1" clearFormats="1" clearComments="1" assign="1" coerce="1" cellMeta="1"/>'
        '</metadataTypes><futureMetadata name="XLDAPR" count="1"><bk><extLst><ext '
        'uri="{bdbb8cdc-fa1e-496e-a857-3c3f30c029c3}"><xda:dynamicArrayProperties fDynamic="1" fCollapsed="0"/>'
        '</ext></extLst></bk></futureMetadata><cellMetadata count="1"><bk><rc t="1" v="0"/></bk></cellMetadata>'
        '</metadata>').encode()
    _add_rel(parts, "xl/_rels/workbook.xml.rels", "rIdMeta", f"{R}/sheetMetadata", "metadata.xml")
    _content_type(parts, part="xl/metadata.xml",
                  ctype="application/vnd.openxmlformats-officedocument.spreadsheetml.sheetMetadata+xml")
    parts["xl/calcChain.xml"] = (f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\r\n<calcChain '
                                 f'xmlns="{MAIN}"><c r="B2" i="4"/><c r="B6" a="1"/></calcChain>').encode()
    _add_rel(parts, "xl/_rels/workbook.xml.rels", "rIdCalc", f"{R}/calcChain", "calcChain.xml")
    _content_type(parts, part="xl/calcChain.xml",
                  ctype="application/vnd.openxmlformats-officedocument.spreadsheetml.calcChain+xml")
    # 工作簿的自定义视图
    wb = _tree(parts["xl/workbook.xml"])
    views = etree.Element(f"{m}customWorkbookViews")
    etree.SubElement(views, f"{m}customWorkbookView", name="审核视图", guid="{0B7B1C2D-3E4F-4A5B-8C9D-0E1F2A3B4C5D}",
                     windowWidth="1000", windowHeight="800", activeSheetId="1")
    wb.find(f"{m}calcPr").addnext(views)
    parts["xl/workbook.xml"] = _dump(wb)
    # 文档属性
    app = parts["docProps/app.xml"].decode("utf-8")
    parts["docProps/app.xml"] = app.replace("</Properties>", "<Manager>张三</Manager><Company>某县财政局</Company>"
                                                             "</Properties>").encode("utf-8")
    # 自定义 XML
    parts["customXml/item1.xml"] = '<?xml version="1.0" encoding="UTF-8"?><审核 状态="已签批"/>'.encode()
    parts["customXml/itemProps1.xml"] = (
        b'<?xml version="1.0" encoding="UTF-8" standalone="no"?>\r\n<ds:datastoreItem '
        b'ds:itemID="{5B2C8E1A-1111-4222-8333-944455566677}" '
        b'xmlns:ds="http://schemas.openxmlformats.org/officeDocument/2006/customXml"/>')
    _add_rel(parts, "customXml/_rels/item1.xml.rels", "rId1", f"{R}/customXmlProps", "itemProps1.xml")
    _add_rel(parts, "xl/_rels/workbook.xml.rels", "rIdCustom", f"{R}/customXml", "../customXml/item1.xml")
    _content_type(parts, part="customXml/itemProps1.xml",
                  ctype="application/vnd.openxmlformats-officedocument.customXmlProperties+xml")
    # 宏工程：.xlsx 里“顺带”的 vbaProject.bin（无关系）；.xlsm 时是真正的宏工程
    parts["xl/vbaProject.bin"] = VBA
    if macro:
        _add_rel(parts, "xl/_rels/workbook.xml.rels", "rIdVba",
                 "http://schemas.microsoft.com/office/2006/relationships/vbaProject", "vbaProject.bin")
        _content_type(parts, part="xl/workbook.xml", ctype="application/vnd.ms-excel.sheet.macroEnabled.main+xml")
        _content_type(parts, part="xl/vbaProject.bin", ctype="application/vnd.ms-office.vbaProject")


def build_corpus(base: Path, out: Path) -> Path:
    """base（示例工作簿）→ out：带上全部语料内容的工作簿（扩展名 .xlsm 时带真正的宏工程）。"""
    with tempfile.TemporaryDirectory() as tmp:
        step = Path(tmp) / "step.xlsx"
        _openpyxl_part(base, step)
        with zipfile.ZipFile(step) as z:
            infos = z.infolist()
            parts = {i.filename: z.read(i) for i in infos}
    _xml_edits(parts, macro=out.suffix.lower() == ".xlsm")
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as z:
        for name, data in parts.items():
            z.writestr(name, data)
    return out


def soffice_convert(src: Path, out_dir: Path, fmt: str = "xlsx") -> Path:
    """用 LibreOffice（headless，独立的用户配置）把 src 另存为 fmt，返回生成的文件。"""
    from addin.report.pdf import find_soffice

    exe = find_soffice()
    if exe is None:
        raise FileNotFoundError("LibreOffice")
    out_dir.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="jixiao-lo-") as profile:
        subprocess.run([exe, f"-env:UserInstallation={Path(profile).resolve().as_uri()}", "--headless", "--norestore",
                        "--convert-to", fmt, "--outdir", str(out_dir), str(src)],
                       check=True, capture_output=True, timeout=240)
    produced = out_dir / f"{src.stem}.{fmt}"
    if not produced.is_file():
        raise FileNotFoundError(produced)
    return produced


def parts_of(path: Path) -> dict[str, bytes]:
    with zipfile.ZipFile(path) as z:
        return {i.filename: z.read(i) for i in z.infolist() if not i.is_dir()}


def zip_of(parts: dict[str, bytes]) -> bytes:
    """部件（名称 → 内容）按给定顺序写成 zip 包（改过部件的工作簿）。"""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        for n, d in parts.items():
            z.writestr(n, d)
    return buf.getvalue()


def copy(src: Path, dst: Path) -> Path:
    shutil.copy(src, dst)
    return dst
