"""把 jixiao 生成的工作表（报告、校验结果）拼接进用户的 .xlsx 原文件：只改 jixiao 拥有的部件，其余部件逐字节不变。

为什么不让 openpyxl 整本保存：openpyxl 读写一遍会丢掉它不认识的内容——单元格里的富文本（部分加粗、变色）、批注的格式与
显示状态、与图片同在一张表上的连接线与形状、图表的样式/配色部件与扩展、动态数组（metadata.xml，公式会变回旧式数组公式）、
表单按钮（VML）、打印机设置、忽略错误标记、自定义视图、文档属性、.xlsx 中的 vbaProject.bin，以及全部公式的保存结果。

做法：
1. 生成表由 openpyxl 写成一个“草稿包”：只含生成表的工作簿（OpenpyxlBook.owned_package）。
2. splice（本模块）：以原文件的字节为底，替换（位置不变）或追加生成表。改动的只有：
   - 生成表自己的 XML：共享字符串改为内联字符串（sharedStrings.xml 不动），样式编号改为 styles.xml 中的记录编号；
   - 生成表的图形、图表等部件及其关系文件（新部件取不冲突的名字；替换时，旧生成表独有的部件删除）；
   - 引用它们的条目：workbook.xml（工作表列表；该表的打印标题等内置名称）、workbook.xml.rels、[Content_Types].xml、
     docProps/app.xml（新增表时的表名列表）；
   - styles.xml（stylemerge.py）：只在各记录表末尾追加记录（字体、填充、边框、数字格式、单元格格式、条件格式），
     原有记录一字节不改、不重排，原有编号全部有效；相同的记录不重复追加（反复生成报告不会让 styles.xml 越来越大）；
   - 旧生成表含公式时删除 calcChain.xml（Excel 打开时重建），否则不动；
   - 另存为不同类型（.xlsm → .xlsx）时改工作簿的内容类型并去掉宏部件（.xlsx 不能含宏）。
3. verify（verify.py）：原文件中不属于上述范围的每个部件，在结果中都逐字节相同；styles.xml 原有记录、workbook.xml
   原有工作表与名称、各关系与内容类型都原样保留；结果能被 openpyxl 打开，表的顺序正确，生成表读回来正是要写的内容。
   任何一项不满足即抛出 SpliceError（中文说明），调用方不替换原文件。

包的只读视图（部件、关系、内容类型）在 opc.py；XML 经 ooxml.parse_xml 用 lxml 解析：不加载 DTD、不解析实体、不联网
（filecheck 在读取时已拒绝任何含 DTD 的部件，这里再防一层）。
"""
from __future__ import annotations

import copy
import io
import posixpath
import re
import zipfile
from dataclasses import dataclass, field
from typing import Sequence

from lxml import etree

from .ooxml import (
    CONTENT_TYPES,
    NS_CT,
    NS_EP,
    NS_MAIN,
    NS_PKG_REL,
    NS_R,
    NS_VT,
    ROOT_RELS,
    RT_CALC_CHAIN,
    RT_EXTENDED,
    RT_SHARED_STRINGS,
    RT_STYLES,
    RT_VBA,
    RT_WORKSHEET,
    rels_name,
)
from .opc import (
    _MACRO_MAIN_TYPES,
    _MACRO_SHEET_TYPES,
    _STANDARD_DECL,
    CT_WORKSHEET,
    Package,
    SpliceError,
    _dump,
    _parse,
    _rel_of_type,
    _Sheet,
    _sheets,
    _workbook,
)
from .stylemerge import StyleMerger, _attr

_FORMULA_RE = re.compile(rb"<(?:[A-Za-z_][\w.-]*:)?f[\s>/]")


# =====================================================================================================
# 拼接
# =====================================================================================================
@dataclass
class _Plan:
    """拼接过程中的包：部件名 → 字节（None 表示删除），新增部件的顺序。"""

    base: Package
    parts: dict[str, bytes | None] = field(default_factory=dict)
    added: list[str] = field(default_factory=list)

    def put(self, name: str, data: bytes) -> None:
        real = self.base.find(name) or next((a for a in self.added if a.lower() == name.lower()), None)
        if real is None:
            self.added.append(name)
            real = name
        self.parts[real] = data

    def delete(self, name: str) -> None:
        real = self.base.find(name)
        if real is not None:
            self.parts[real] = None
        elif name in self.added:
            self.added.remove(name)
            self.parts.pop(name, None)

    def read(self, name: str) -> bytes:
        real = self.base.find(name) or name
        if real in self.parts:
            data = self.parts[real]
            if data is None:
                raise SpliceError(f"部件“{name}”已删除")
            return data
        return self.base.read(real)

    def allocate(self, wanted: str) -> str:
        """与 wanted 同目录、同名称主干的第一个未用的名字（drawing3.xml、chart7.xml……）。"""
        d, b = posixpath.split(wanted)
        stem, ext = posixpath.splitext(b)
        stem = re.sub(r"\d+$", "", stem)
        n = 1
        while True:
            cand = posixpath.join(d, f"{stem}{n}{ext}")
            real = self.base.find(cand)
            # 被删除的旧部件的名字可以再用：同一份报告再生成一次，结果与上次逐字节相同
            free = real is None or (real in self.parts and self.parts[real] is None)
            if free and not any(a.lower() == cand.lower() for a in self.added):
                return cand
            n += 1

    def build(self) -> bytes:
        buf = io.BytesIO()
        stamp = next((i.date_time for i in self.base.infos if not i.is_dir()), (1980, 1, 1, 0, 0, 0))
        with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as out:
            for info in self.base.infos:
                if info.filename in self.parts:
                    data = self.parts[info.filename]
                    if data is None:
                        continue  # 删除
                else:
                    data = b"" if info.is_dir() else self.base.read(info.filename)
                ni = zipfile.ZipInfo(info.filename, date_time=info.date_time)
                stored = info.compress_type == zipfile.ZIP_STORED
                ni.compress_type = zipfile.ZIP_STORED if stored else zipfile.ZIP_DEFLATED
                ni.external_attr = info.external_attr
                ni.create_system = info.create_system
                ni.comment = info.comment
                ni.extra = b""
                out.writestr(ni, data)
            for name in self.added:
                added = self.parts[name]
                assert added is not None  # delete() 把新增的部件从 added 中去掉，不留 None
                ni = zipfile.ZipInfo(name, date_time=stamp)
                ni.compress_type = zipfile.ZIP_DEFLATED
                ni.external_attr = 0o600 << 16
                out.writestr(ni, added)
            out.comment = self.base.comment
        return buf.getvalue()


def _rels_xml(rels: Sequence[tuple[str, str, str, bool]]) -> bytes:
    items = "".join(f'<Relationship Id="{_attr(i)}" Type="{_attr(t)}" Target="{_attr(tg)}"'
                    + (' TargetMode="External"' if ext else "") + "/>" for i, t, tg, ext in rels)
    return (_STANDARD_DECL + f'<Relationships xmlns="{NS_PKG_REL}">{items}</Relationships>'.encode("utf-8"))


def _relative(source: str, target: str) -> str:
    return posixpath.relpath(target, posixpath.dirname(source) or ".")


def _sheet_index_names(sheets: Sequence[_Sheet], name: str) -> int | None:
    key = name.casefold()
    return next((i for i, s in enumerate(sheets) if s.name.casefold() == key), None)


def _vba_parts(pkg: Package, wb_part: str) -> tuple[list[str], list[str]]:
    """(宏部件（vbaProject.bin 及其可达部件）, 工作簿到它们的关系 Id)。"""
    parts: list[str] = []
    ids: list[str] = []
    for r in pkg.rels(wb_part):
        if r.type == RT_VBA and r.part:
            ids.append(r.id)
            if pkg.find(r.part):
                parts.append(r.part)
                parts += [p for p in pkg.subtree(r.part) if p not in parts]
    return parts, ids


def splice(original: bytes, scratch: bytes, sheets: Sequence[str], *, main_type: str | None = None) -> bytes:
    """以 original 为底，把 scratch 中名为 sheets 的工作表（连同其图形、图表）替换或追加进去。

    main_type：结果的工作簿内容类型（另存为另一种文件类型时；None 为不变）。返回新包的字节；不做核对（见 verify）。
    """
    base = Package(original, "原工作簿")
    draft = Package(scratch, "草稿")
    plan = _Plan(base)
    wb_part, wb = _workbook(base)
    d_wb_part, d_wb = _workbook(draft)
    wb_rels_name = rels_name(wb_part)
    wb_rels = _parse(base.read(wb_rels_name), wb_rels_name)
    ct = _parse(base.read(CONTENT_TYPES), CONTENT_TYPES)
    o_sheets = _sheets(base, wb_part, wb)
    original_count = len(o_sheets)
    d_sheets = _sheets(draft, d_wb_part, d_wb)
    wb_changed = rels_changed = ct_changed = False

    # 样式
    o_styles = _rel_of_type(base, wb_part, RT_STYLES)
    d_styles = _rel_of_type(draft, d_wb_part, RT_STYLES)
    merger = StyleMerger(base.read(o_styles) if o_styles else None, draft.read(d_styles)) if d_styles else None
    # 草稿的共享字符串：生成表改用内联字符串
    d_sst_part = _rel_of_type(draft, d_wb_part, RT_SHARED_STRINGS)
    d_sst = [si for si in _parse(draft.read(d_sst_part), "草稿 sharedStrings").iter(f"{{{NS_MAIN}}}si")] \
        if d_sst_part else []

    defaults, overrides = base.content_types()

    def set_override(part: str, ctype: str) -> None:
        nonlocal ct_changed
        dropped.discard(part.lower())
        pn = "/" + part
        for o in ct.iter(f"{{{NS_CT}}}Override"):
            if (o.get("PartName") or "").lower() == pn.lower():
                if o.get("ContentType") != ctype:
                    o.set("ContentType", ctype)
                    ct_changed = True
                return
        if defaults.get(posixpath.splitext(part)[1].lstrip(".").lower()) == ctype:
            return
        el = etree.SubElement(ct, f"{{{NS_CT}}}Override")
        el.set("PartName", pn)
        el.set("ContentType", ctype)
        ct_changed = True

    dropped: set[str] = set()

    def drop_override(part: str) -> None:
        dropped.add(part.lower())  # 最后才删：同名的新部件会再用它

    def referenced_elsewhere(part: str, excluded_sources: set[str]) -> bool:
        """part 是否还被 excluded_sources 以外的部件引用（例如多张表共用的图片）。"""
        for n in base.names:
            if not n.endswith(".rels") or "/_rels/" not in "/" + n:
                continue
            d, b = posixpath.split(n)
            source = posixpath.join(posixpath.dirname(d), b[:-5]) if d.endswith("_rels") else ""
            if n == ROOT_RELS:
                source = ""
            if source in excluded_sources or (source and plan.parts.get(source, b"") is None):
                continue
            if any(r.part and r.part.lower() == part.lower() for r in base.rels(source)):
                return True
        return False

    def remove_subtree(part: str) -> None:
        old = base.subtree(part)
        owned = {part, *old}
        for p in old:
            if not referenced_elsewhere(p, owned):
                plan.delete(p)
                plan.delete(rels_name(p))
                drop_override(p)
        plan.delete(rels_name(part))

    def copy_subtree(d_part: str, new_part: str) -> bytes | None:
        """把草稿中 d_part 的关系与可达部件复制到结果中（新名字），返回 new_part 的关系文件内容。"""
        rels = draft.rels(d_part)
        if not rels:
            return None
        out = []
        for r in rels:
            if r.external or not r.part:
                out.append((r.id, r.type, r.target, True))
                continue
            target = mapping.get(r.part)
            if target is None:
                target = plan.allocate(r.part)
                mapping[r.part] = target
                plan.put(target, draft.read(r.part))  # 先占住名字，关系文件稍后写
                sub = copy_subtree(r.part, target)
                if sub is not None:
                    plan.put(rels_name(target), sub)
                ctype = draft.content_type(r.part)
                if ctype:
                    set_override(target, ctype)
            out.append((r.id, r.type, _relative(new_part, target), False))
        return _rels_xml(out)

    mapping: dict[str, str] = {}
    sheets_el = wb.find(f"{{{NS_MAIN}}}sheets")
    if sheets_el is None:
        raise SpliceError("原工作簿的 workbook.xml 中没有工作表列表")
    local_names: dict[int, list[etree._Element]] = {}  # 结果中的表序号 → 草稿里该表的内置名称
    replaced_index: set[int] = set()
    for name in sheets:
        d_idx = _sheet_index_names(d_sheets, name)
        if d_idx is None or not d_sheets[d_idx].part:
            raise SpliceError(f"草稿中没有工作表“{name}”")
        d_sheet = d_sheets[d_idx]
        o_idx = _sheet_index_names(o_sheets, name)
        if o_idx is not None and o_sheets[o_idx].part and base.find(o_sheets[o_idx].part or ""):
            old = o_sheets[o_idx]
            part = base.find(old.part or "") or ""
            if _FORMULA_RE.search(base.read(part)):
                # 旧表里有公式（用户在生成表里写过）：calcChain 列着它们，已过时——删除，Excel 打开时重建
                chain = _rel_of_type(base, wb_part, RT_CALC_CHAIN)
                if chain:
                    plan.delete(chain)
                    drop_override(chain)
                    for r in list(wb_rels):
                        if r.get("Type") == RT_CALC_CHAIN:
                            wb_rels.remove(r)
                            rels_changed = True
            remove_subtree(part)
            if old.rel_type != RT_WORKSHEET:  # 同名的图表工作表等被替换成普通工作表
                for r in wb_rels:
                    if r.get("Id") == old.rid:
                        r.set("Type", RT_WORKSHEET)
                        rels_changed = True
            if old.name != name:
                old.element.set("name", name)
                wb_changed = True
            index = o_idx
            replaced_index.add(index)
        else:
            part = plan.allocate("xl/worksheets/sheet1.xml")
            used_ids = {r.get("Id") for r in wb_rels}
            n = 1
            while f"rId{n}" in used_ids:
                n += 1
            rid = f"rId{n}"
            rel = etree.SubElement(wb_rels, f"{{{NS_PKG_REL}}}Relationship")
            rel.set("Id", rid)
            rel.set("Type", RT_WORKSHEET)
            rel.set("Target", _relative(wb_part, part))
            rels_changed = True
            sheet_ids = [int(s.sheet_id) for s in o_sheets if s.sheet_id.isdigit()]
            el = etree.SubElement(sheets_el, f"{{{NS_MAIN}}}sheet")
            el.set("name", name)
            el.set("sheetId", str(max(sheet_ids, default=0) + 1))
            el.set(f"{{{NS_R}}}id", rid)
            wb_changed = True
            o_sheets.append(_Sheet(name, el.get("sheetId") or "", rid, RT_WORKSHEET, part, el))
            index = len(o_sheets) - 1
        d_part = d_sheet.part or ""
        plan.put(part, _owned_sheet_xml(draft.read(d_part), merger, d_sst))
        set_override(part, draft.content_type(d_part) or CT_WORKSHEET)
        sheet_rels = copy_subtree(d_part, part)
        if sheet_rels is not None:
            plan.put(rels_name(part), sheet_rels)
        local_names[index] = [dn for dn in d_wb.iter(f"{{{NS_MAIN}}}definedName")
                              if dn.get("localSheetId") == str(d_idx)]

    # 生成表的内置名称（打印标题、打印区域……）：先删原有的，再放草稿里的
    touched = set(local_names) | replaced_index
    if touched:
        dns = wb.find(f"{{{NS_MAIN}}}definedNames")
        if dns is not None:
            for dn in list(dns):
                local_id = dn.get("localSheetId", "") if isinstance(dn.tag, str) else ""
                if (local_id.isdigit() and int(local_id) in touched and (dn.get("name") or "").startswith("_xlnm.")):
                    dns.remove(dn)
                    wb_changed = True
        new_names = []
        for index, names in local_names.items():
            for dn in names:
                el = copy.deepcopy(dn)
                el.set("localSheetId", str(index))
                new_names.append(el)
        if new_names:
            if dns is None:
                dns = etree.Element(f"{{{NS_MAIN}}}definedNames")
                anchor = sheets_el
                for tag in ("functionGroups", "externalReferences"):
                    found = wb.find(f"{{{NS_MAIN}}}{tag}")
                    if found is not None:
                        anchor = found
                anchor.addnext(dns)
            for el in new_names:
                dns.append(el)
            wb_changed = True
        if dns is not None and len(dns) == 0:
            wb.remove(dns)
            wb_changed = True

    # 另存为另一种文件类型
    if main_type is not None:
        current = overrides.get(wb_part.lower())
        if current != main_type:
            if main_type not in _MACRO_MAIN_TYPES:
                if any(r.type in _MACRO_SHEET_TYPES for r in base.rels(wb_part)):
                    raise SpliceError("工作簿含 Excel 4.0 宏表，不能另存为不含宏的文件类型；请另存为 .xlsm")
                vba, ids = _vba_parts(base, wb_part)
                for p in vba:
                    plan.delete(p)
                    plan.delete(rels_name(p))
                    drop_override(p)
                for r in list(wb_rels):
                    if r.get("Id") in ids:
                        wb_rels.remove(r)
                        rels_changed = True
            set_override(wb_part, main_type)

    if merger is not None and merger.active:
        styles = merger.result()
        if styles is not None and o_styles:
            plan.put(o_styles, styles)
    elif merger is not None and d_styles and not o_styles:
        # 原文件没有 styles.xml（极少见）：用草稿的，编号不变
        plan.put("xl/styles.xml", draft.read(d_styles))
        set_override("xl/styles.xml", draft.content_type(d_styles) or "")
        rel = etree.SubElement(wb_rels, f"{{{NS_PKG_REL}}}Relationship")
        rel.set("Id", "rIdJixiaoStyles")
        rel.set("Type", RT_STYLES)
        rel.set("Target", _relative(wb_part, "xl/styles.xml"))
        rels_changed = True

    appended = [s.name for s in o_sheets[original_count:]]
    if appended:
        app = _app_with_sheets(base, o_sheets, appended)
        if app is not None:
            plan.put(app[0], app[1])
    if wb_changed:
        plan.put(wb_part, _dump(wb, base.read(wb_part)))
    if rels_changed:
        plan.put(wb_rels_name, _dump(wb_rels, base.read(wb_rels_name)))
    for o in list(ct.iter(f"{{{NS_CT}}}Override")):
        if (o.get("PartName") or "").lstrip("/").lower() in dropped:
            ct.remove(o)
            ct_changed = True
    if ct_changed:
        plan.put(CONTENT_TYPES, _dump(ct, base.read(CONTENT_TYPES)))
    return plan.build()


def _owned_sheet_xml(xml: bytes, merger: StyleMerger | None, sst: list[etree._Element]) -> bytes:
    """草稿中的生成表 → 结果中的生成表：共享字符串改为内联字符串，样式编号映射到原 styles.xml，不标为“选定”。"""
    root = _parse(xml, "草稿工作表")
    m = NS_MAIN
    for c in root.iter(f"{{{m}}}c"):
        if c.get("t") == "s":
            v = c.find(f"{{{m}}}v")
            idx = int(v.text) if v is not None and v.text is not None and v.text.strip().isdigit() else -1
            if v is None or not 0 <= idx < len(sst):
                raise SpliceError(f"草稿工作表单元格 {c.get('r')} 的共享字符串编号无效")
            c.remove(v)
            c.set("t", "inlineStr")
            is_ = etree.SubElement(c, f"{{{m}}}is")
            for child in sst[idx]:
                is_.append(copy.deepcopy(child))
        if merger is not None and merger.active and (s := c.get("s")) is not None:
            c.set("s", str(merger.xf(int(s))))
    if merger is not None and merger.active:
        for row in root.iter(f"{{{m}}}row"):
            if (s := row.get("s")) is not None:
                row.set("s", str(merger.xf(int(s))))
        for col in root.iter(f"{{{m}}}col"):
            if (s := col.get("style")) is not None:
                col.set("style", str(merger.xf(int(s))))
        for rule in root.iter(f"{{{m}}}cfRule"):
            if (s := rule.get("dxfId")) is not None:
                rule.set("dxfId", str(merger.dxf(int(s))))
    for view in root.iter(f"{{{m}}}sheetView"):
        # 草稿里它是唯一（因而选定）的表；在用户的工作簿里另有选定的表，两张都选定会成为“工作组”
        if "tabSelected" in view.attrib:
            del view.attrib["tabSelected"]
    return _dump(root)


def _app_with_sheets(base: Package, sheets: Sequence[_Sheet], appended: Sequence[str]) -> tuple[str, bytes] | None:
    """docProps/app.xml 的表名列表加上新表（没有此部件或结构不认识时不改）。"""
    part = next((r.part for r in base.rels("") if r.type == RT_EXTENDED and r.part and base.find(r.part)), None)
    if part is None:
        return None
    root = _parse(base.read(part), part)
    hp = root.find(f"{{{NS_EP}}}HeadingPairs/{{{NS_VT}}}vector")
    tp = root.find(f"{{{NS_EP}}}TitlesOfParts/{{{NS_VT}}}vector")
    if hp is None or tp is None:
        return None
    variants = [v for v in hp if isinstance(v.tag, str)]
    titles = [t for t in tp if isinstance(t.tag, str)]
    worksheets = {s.name for s in sheets if s.rel_type == RT_WORKSHEET}
    pos = 0
    for k in range(0, len(variants) - 1, 2):
        count_el = next((e for e in variants[k + 1] if isinstance(e.tag, str)), None)
        if count_el is None or count_el.text is None or not count_el.text.strip().isdigit():
            return None
        n = int(count_el.text)
        chunk = titles[pos:pos + n]
        if n and len(chunk) == n and all((t.text or "") in worksheets for t in chunk):
            at = tp.index(chunk[-1]) + 1
            for i, name in enumerate(appended):
                el = etree.Element(chunk[-1].tag)
                el.text = name
                tp.insert(at + i, el)
            count_el.text = str(n + len(appended))
            if tp.get("size") is not None:
                tp.set("size", str(len([t for t in tp if isinstance(t.tag, str)])))
            return part, _dump(root, base.read(part))
        pos += n
    return None
