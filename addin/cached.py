"""openpyxl 保存后补回公式单元格的计算结果。

openpyxl 读写时丢弃公式的保存结果（<v>），存出的文件在 Excel 里会重算，但在 WPS 预览、手机、邮件附件预览、
openpyxl data_only 等不重算的地方，所有公式格都显示为空白。jixiao 写回工作簿时只整表替换自己生成的表
（校验结果、报告），用户的表一格不动，所以原文件里保存的结果仍然正确：按单元格地址把它们原样抄回即可。
"""
from __future__ import annotations

import io
import os
import posixpath
import zipfile
from pathlib import Path

from lxml import etree

NS = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
REL_NS = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
PKG_REL_NS = "http://schemas.openxmlformats.org/package/2006/relationships"
_C, _F, _V, _IS = (f"{{{NS}}}{t}" for t in ("c", "f", "v", "is"))
# 不解析实体、不联网：文件已由 safeio 检查过，这里再防一层
_PARSER = etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=True, remove_blank_text=False)


def sheet_parts(zf: zipfile.ZipFile) -> dict[str, str]:
    """工作表名 → 包内部件路径（xl/worksheets/sheetN.xml）。"""
    wb = etree.fromstring(zf.read("xl/workbook.xml"), _PARSER)
    rels = etree.fromstring(zf.read("xl/_rels/workbook.xml.rels"), _PARSER)
    target = {r.get("Id"): r.get("Target") for r in rels.iter(f"{{{PKG_REL_NS}}}Relationship")}
    out = {}
    for s in wb.iter(f"{{{NS}}}sheet"):
        t = target.get(s.get(f"{{{REL_NS}}}id"))
        if t:
            out[s.get("name")] = t.lstrip("/") if t.startswith("/") else posixpath.normpath(posixpath.join("xl", t))
    return out


def _cached_results(xml: bytes) -> dict[str, tuple[str | None, str]]:
    """地址 → (t 属性, <v> 文本)，只取有公式且有保存结果的格。"""
    out = {}
    for _, c in etree.iterparse(io.BytesIO(xml), tag=_C, resolve_entities=False, huge_tree=True):
        f, v = c.find(_F), c.find(_V)
        if f is not None and v is not None and v.text is not None:
            out[c.get("r")] = (c.get("t"), v.text)
        c.clear()
    return out


def _fill(xml: bytes, results: dict[str, tuple[str | None, str]]) -> tuple[bytes, int]:
    root = etree.fromstring(xml, _PARSER)
    n = 0
    for c in root.iter(_C):
        if c.find(_F) is None or c.get("r") not in results:
            continue
        v = c.find(_V)
        if v is not None and v.text:
            continue  # 已有结果（不应出现，保险起见不覆盖）
        t, text = results[c.get("r")]
        if v is None:
            v = etree.SubElement(c, _V)
        v.text = text
        if t in ("str", "b", "e"):
            c.set("t", t)
        elif "t" in c.attrib:
            del c.attrib["t"]
        n += 1
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8", standalone=True), n


def carry_cached_values(source: str | Path | io.BytesIO, target: str | Path, *, skip: set[str] = frozenset()) -> int:
    """把 source（路径或已读入内存的文件）中各工作表公式格的保存结果抄到 target 的同名工作表（skip 中的表除外）。返回补回的格数。

    target 在原处重写（调用方传入的是原子写入用的临时文件）。source 不是有效的 xlsx 时什么也不做。
    """
    target = Path(target)
    try:
        with zipfile.ZipFile(source) as zs:
            src_parts = sheet_parts(zs)
            src = {name: _cached_results(zs.read(part)) for name, part in src_parts.items()
                   if name not in skip and part in zs.namelist()}
    except (OSError, KeyError, zipfile.BadZipFile, etree.XMLSyntaxError):
        return 0
    src = {k: v for k, v in src.items() if v}
    if not src:
        return 0
    with zipfile.ZipFile(target) as zt:
        dst_parts = sheet_parts(zt)
        replaced: dict[str, bytes] = {}
        total = 0
        for name, results in src.items():
            part = dst_parts.get(name)
            if part is None:
                continue
            data, n = _fill(zt.read(part), results)
            if n:
                replaced[part] = data
                total += n
        if not replaced:
            return 0
        tmp = target.with_name(target.name + ".cv")
        with zipfile.ZipFile(tmp, "w", zipfile.ZIP_DEFLATED) as out:
            for info in zt.infolist():
                out.writestr(info, replaced.get(info.filename, zt.read(info.filename)))
    os.replace(tmp, target)
    return total
