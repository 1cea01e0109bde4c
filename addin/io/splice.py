"""把 jixiao 生成的工作表（报告、校验结果）拼接进用户的 .xlsx 原文件：只改 jixiao 拥有的部件，其余部件逐字节不变。

为什么不让 openpyxl 整本保存：openpyxl 读写一遍会丢掉它不认识的内容——单元格里的富文本（部分加粗、变色）、批注的格式与
显示状态、与图片同在一张表上的连接线与形状、图表的样式/配色部件与扩展、动态数组（metadata.xml，公式会变回旧式数组公式）、
表单按钮（VML）、打印机设置、忽略错误标记、自定义视图、文档属性、.xlsx 中的 vbaProject.bin，以及全部公式的保存结果。

做法：
1. 生成表由 openpyxl 写成一个“草稿包”：只含生成表的工作簿（book.OpenpyxlBook.owned_package）。
2. splice：以原文件的字节为底，替换（位置不变）或追加生成表。改动的只有：
   - 生成表自己的 XML：共享字符串改为内联字符串（sharedStrings.xml 不动），样式编号改为 styles.xml 中的记录编号；
   - 生成表的图形、图表等部件及其关系文件（新部件取不冲突的名字；替换时，旧生成表独有的部件删除）；
   - 引用它们的条目：workbook.xml（工作表列表；该表的打印标题等内置名称）、workbook.xml.rels、[Content_Types].xml、
     docProps/app.xml（新增表时的表名列表）；
   - styles.xml：只在各记录表末尾追加记录（字体、填充、边框、数字格式、单元格格式、条件格式），原有记录一字节不改、
     不重排，原有编号全部有效；相同的记录不重复追加（反复生成报告不会让 styles.xml 越来越大）；
   - 旧生成表含公式时删除 calcChain.xml（Excel 打开时重建），否则不动；
   - 另存为不同类型（.xlsm → .xlsx）时改工作簿的内容类型并去掉宏部件（.xlsx 不能含宏）。
3. verify：原文件中不属于上述范围的每个部件，在结果中都逐字节相同；styles.xml 原有记录、workbook.xml 原有工作表与名称、
   各关系与内容类型都原样保留；结果能被 openpyxl 打开，表的顺序正确，生成表读回来正是要写的内容。任何一项不满足即
   抛出 SpliceError（中文说明），调用方不替换原文件。

XML 用 lxml 解析：不加载 DTD、不解析实体、不联网（safeio 在读取时已拒绝任何含 DTD 的部件，这里再防一层）。
"""
from __future__ import annotations

import copy
import io
import math
import posixpath
import re
import zipfile
from dataclasses import dataclass, field
from typing import Any, Iterable, Mapping, Sequence
from urllib.parse import unquote
from xml.sax.saxutils import escape

from lxml import etree

NS_MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
NS_R = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
NS_PKG_REL = "http://schemas.openxmlformats.org/package/2006/relationships"
NS_CT = "http://schemas.openxmlformats.org/package/2006/content-types"
NS_EP = "http://schemas.openxmlformats.org/officeDocument/2006/extended-properties"
NS_VT = "http://schemas.openxmlformats.org/officeDocument/2006/docPropsVTypes"

RT_OFFICE_DOCUMENT = NS_R + "/officeDocument"
RT_WORKSHEET = NS_R + "/worksheet"
RT_STYLES = NS_R + "/styles"
RT_SHARED_STRINGS = NS_R + "/sharedStrings"
RT_CALC_CHAIN = NS_R + "/calcChain"
RT_EXTENDED = NS_R + "/extended-properties"
RT_VBA = "http://schemas.microsoft.com/office/2006/relationships/vbaProject"
_MACRO_SHEET_TYPES = ("http://schemas.microsoft.com/office/2006/relationships/xlMacrosheet",
                      "http://schemas.microsoft.com/office/2006/relationships/xlIntlMacrosheet")

CT_WORKSHEET = "application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"
# 工作簿部件的内容类型由文件类型决定：扩展名与它不符时 Excel 拒绝打开
MAIN_TYPES = {
    ".xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml",
    ".xlsm": "application/vnd.ms-excel.sheet.macroEnabled.main+xml",
    ".xltx": "application/vnd.openxmlformats-officedocument.spreadsheetml.template.main+xml",
    ".xltm": "application/vnd.ms-excel.template.macroEnabled.main+xml",
}
_MACRO_MAIN_TYPES = {MAIN_TYPES[".xlsm"], MAIN_TYPES[".xltm"]}

CONTENT_TYPES = "[Content_Types].xml"
ROOT_RELS = "_rels/.rels"

_PARSER = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False, remove_blank_text=False)
_STANDARD_DECL = b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\r\n'
_DECL_RE = re.compile(rb"^\s*<\?xml[^>]*\?>\s*")
_FORMULA_RE = re.compile(rb"<(?:[A-Za-z_][\w.-]*:)?f[\s>/]")


class SpliceError(Exception):
    """生成表无法原样拼接进原文件（中文说明）。data：已生成、能打开但未通过逐字节核对的结果（可另存为副本），否则为 None。"""

    def __init__(self, message: str, data: bytes | None = None):
        super().__init__(message)
        self.data = data


# =====================================================================================================
# 包（zip）与关系
# =====================================================================================================
@dataclass
class Rel:
    id: str
    type: str
    target: str
    external: bool
    part: str | None  # 内部目标解析后的部件名（包内实际的名字）；外部目标为 None


def rels_name(part: str) -> str:
    """部件的关系文件：xl/worksheets/sheet1.xml → xl/worksheets/_rels/sheet1.xml.rels。"""
    d, b = posixpath.split(part)
    return posixpath.join(d, "_rels", b + ".rels")


def _parse(data: bytes, what: str) -> etree._Element:
    try:
        root = etree.fromstring(data, _PARSER)
    except etree.XMLSyntaxError as exc:
        raise SpliceError(f"部件“{what}”不是有效的 XML（{str(exc)[:120]}）") from None
    if root.getroottree().docinfo.doctype:
        raise SpliceError(f"部件“{what}”含有文档类型声明（DTD），拒绝处理")
    return root


def _dump(root: etree._Element, original: bytes | None = None) -> bytes:
    """序列化为 UTF-8；沿用原部件的 XML 声明（原部件不是 UTF-8 时用标准声明）。"""
    decl = _STANDARD_DECL
    if original is not None:
        m = _DECL_RE.match(original)
        if m is None:
            decl = b""
        elif re.search(rb"encoding\s*=\s*[\"'](?!utf-8[\"'])", m.group(0), re.I) is None:
            decl = m.group(0)
    return decl + etree.tostring(root.getroottree(), encoding="UTF-8", xml_declaration=False)


class Package:
    """一个 .xlsx 包的只读视图：部件名（区分大小写的原名与不区分大小写的查找）、关系、内容类型。"""

    def __init__(self, data: bytes, what: str = "工作簿"):
        try:
            self.zf = zipfile.ZipFile(io.BytesIO(data))
            self.infos = [i for i in self.zf.infolist()]
        except (zipfile.BadZipFile, OSError, ValueError, EOFError):
            raise SpliceError(f"{what}不是有效的 zip 包") from None
        names = [i.filename for i in self.infos]
        if len(set(n.lower() for n in names)) != len(names):
            raise SpliceError(f"{what}中有重名的部件，无法定点改写")
        self.comment = self.zf.comment
        self._by_lower = {n.lower(): n for n in names}
        self._cache: dict[str, bytes] = {}
        self._rels: dict[str, list[Rel]] = {}
        self.what = what

    @property
    def names(self) -> list[str]:
        return [i.filename for i in self.infos if not i.is_dir()]

    def find(self, name: str) -> str | None:
        return self._by_lower.get(name.lower())

    def read(self, name: str) -> bytes:
        real = self.find(name)
        if real is None:
            raise SpliceError(f"{self.what}缺少部件“{name}”")
        if real not in self._cache:
            try:
                self._cache[real] = self.zf.read(real)
            except Exception as exc:  # BadZipFile（CRC）、zlib.error……
                raise SpliceError(f"{self.what}的部件“{real}”无法解压（{type(exc).__name__}）") from None
        return self._cache[real]

    def resolve(self, source: str, target: str) -> str:
        """关系目标 → 包内部件名（找不到时返回规范化后的名字）。"""
        t = target.split("#", 1)[0]
        path = t.lstrip("/") if t.startswith("/") else posixpath.normpath(posixpath.join(posixpath.dirname(source), t))
        for cand in (path, unquote(path)):
            real = self.find(cand)
            if real is not None:
                return real
        return unquote(path)

    def rels(self, part: str) -> list[Rel]:
        """部件的关系（没有关系文件时为空）。part 为 "" 时是包的根关系 _rels/.rels。"""
        if part in self._rels:
            return self._rels[part]
        name = ROOT_RELS if part == "" else rels_name(part)
        if self.find(name) is None:
            self._rels[part] = []
            return []
        root = _parse(self.read(name), name)
        out = []
        for r in root.iter(f"{{{NS_PKG_REL}}}Relationship"):
            external = (r.get("TargetMode") or "").lower() == "external"
            target = r.get("Target") or ""
            out.append(Rel(r.get("Id") or "", r.get("Type") or "", target, external,
                           None if external else self.resolve(part, target)))
        self._rels[part] = out
        return out

    def subtree(self, part: str) -> list[str]:
        """从 part 经关系可达的全部内部部件（不含 part 本身），广度优先。"""
        seen: list[str] = []
        todo = [part]
        while todo:
            p = todo.pop(0)
            for r in self.rels(p):
                if r.part and r.part != part and r.part not in seen and self.find(r.part):
                    seen.append(r.part)
                    todo.append(r.part)
        return seen

    def main_part(self) -> str:
        for r in self.rels(""):
            if r.type == RT_OFFICE_DOCUMENT and r.part:
                return r.part
        if r := next((r for r in self.rels("") if r.type.endswith("/officeDocument")), None):
            raise SpliceError(f"{self.what}是 Strict Open XML 格式（{r.type}），jixiao 只处理常规的 .xlsx")
        raise SpliceError(f"{self.what}缺少工作簿部件（_rels/.rels 中没有 officeDocument）")

    def content_types(self) -> tuple[dict[str, str], dict[str, str]]:
        """(扩展名小写 → 类型, 部件名小写 → 类型)。"""
        root = _parse(self.read(CONTENT_TYPES), CONTENT_TYPES)
        defaults = {(d.get("Extension") or "").lower(): d.get("ContentType") or ""
                    for d in root.iter(f"{{{NS_CT}}}Default")}
        overrides = {(o.get("PartName") or "").lstrip("/").lower(): o.get("ContentType") or ""
                     for o in root.iter(f"{{{NS_CT}}}Override")}
        return defaults, overrides

    def content_type(self, part: str) -> str | None:
        defaults, overrides = self.content_types()
        if part.lower() in overrides:
            return overrides[part.lower()]
        return defaults.get(posixpath.splitext(part)[1].lstrip(".").lower())


@dataclass
class _Sheet:
    name: str
    sheet_id: str
    rid: str
    rel_type: str
    part: str | None
    element: etree._Element


def _sheets(pkg: Package, wb_part: str, wb: etree._Element) -> list[_Sheet]:
    rels = {r.id: r for r in pkg.rels(wb_part)}
    out = []
    for s in wb.iter(f"{{{NS_MAIN}}}sheet"):
        rid = s.get(f"{{{NS_R}}}id") or ""
        r = rels.get(rid)
        out.append(_Sheet(s.get("name") or "", s.get("sheetId") or "", rid, r.type if r else "",
                          r.part if r else None, s))
    return out


def _workbook(pkg: Package) -> tuple[str, etree._Element]:
    part = pkg.main_part()
    root = _parse(pkg.read(part), part)
    if etree.QName(root).namespace != NS_MAIN:
        raise SpliceError(f"{pkg.what}的工作簿部件不是常规的 SpreadsheetML（命名空间 {etree.QName(root).namespace}），"
                          "jixiao 只处理常规的 .xlsx（Strict Open XML 等请在 Excel 中另存为“Excel 工作簿”）")
    return part, root


def _rel_of_type(pkg: Package, part: str, rel_type: str) -> str | None:
    return next((r.part for r in pkg.rels(part) if r.type == rel_type and r.part and pkg.find(r.part)), None)


# =====================================================================================================
# 样式：追加记录、编号重映射
# =====================================================================================================
_STYLE_ORDER = ("numFmts", "fonts", "fills", "borders", "cellStyleXfs", "cellXfs", "cellStyles", "dxfs",
                "tableStyles", "colors", "extLst")
_RECORD_OF = {"numFmts": "numFmt", "fonts": "font", "fills": "fill", "borders": "border", "cellXfs": "xf",
              "dxfs": "dxf"}
_FIRST_CUSTOM_NUMFMT = 164


def _local(el: etree._Element) -> str:
    return etree.QName(el).localname if isinstance(el.tag, str) else ""


def _canon(el: etree._Element) -> tuple:
    """记录的规范形式（不计命名空间前缀、属性顺序与空白）：用来判断两条样式记录是否相同。"""
    return (etree.QName(el).text, tuple(sorted(el.attrib.items())), (el.text or "").strip(),
            tuple(_canon(c) for c in el if isinstance(c.tag, str)))


def _xml_fragment(el: etree._Element, prefix: str) -> str:
    """把主命名空间中的一条样式记录写成文本（用原 styles.xml 的前缀；其他命名空间的子元素与属性不写——openpyxl 不会写出它们）。"""
    if etree.QName(el).namespace != NS_MAIN:
        return ""
    tag = f"{prefix}:{etree.QName(el).localname}" if prefix else etree.QName(el).localname
    attrs = "".join(f' {k}="{_attr(v)}"' for k, v in el.attrib.items() if not k.startswith("{"))
    inner = (escape(el.text) if el.text and el.text.strip() else "") + "".join(
        _xml_fragment(c, prefix) for c in el if isinstance(c.tag, str))
    return f"<{tag}{attrs}>{inner}</{tag}>" if inner else f"<{tag}{attrs}/>"


def _attr(v: str) -> str:
    return escape(v, {'"': "&quot;", "\n": "&#10;", "\r": "&#13;", "\t": "&#9;"})


def _builtin_numfmts() -> dict[int, str]:
    from openpyxl.styles.numbers import BUILTIN_FORMATS

    return dict(BUILTIN_FORMATS)


class StyleMerger:
    """把草稿包 styles.xml 中生成表用到的格式追加到原 styles.xml，给出编号对照。原有记录不改、不重排。

    草稿是 openpyxl 从原文件读入的同一个工作簿写出的：openpyxl 按原顺序载入字体、填充、边框、条件格式与单元格格式
    （重复的也保留），所以草稿中编号小于原记录数的记录就是原文件的同号记录（openpyxl 写出时的措辞可能不同，
    如 <patternFill/> 与 <patternFill patternType="none"/>），直接用原编号；其余的是新格式，与原有记录逐项比较，
    相同的复用，不同的追加。自定义数字格式按格式代码对照（openpyxl 载入时会给它们重新编号）。
    """

    def __init__(self, original: bytes | None, scratch: bytes):
        self.src = _parse(scratch, "草稿 styles.xml")
        self.original = original
        self.dst = _parse(original, "xl/styles.xml") if original is not None else None
        self.prefix = (self.dst.prefix or "") if self.dst is not None else ""
        self.s = self._collections(self.src)
        self.d = self._collections(self.dst) if self.dst is not None else {}
        self.added: dict[str, list[etree._Element]] = {k: [] for k in _RECORD_OF}
        self._keys: dict[str, dict[tuple, int]] = {}
        self._memo: dict[tuple[str, int], int] = {}
        builtin = _builtin_numfmts()
        self.s_codes = {**builtin, **{int(n.get("numFmtId")): n.get("formatCode") or ""
                                      for n in self.s.get("numFmts", ()) if n.get("numFmtId", "").isdigit()}}
        self.d_custom = {int(n.get("numFmtId")): n.get("formatCode") or ""
                         for n in self.d.get("numFmts", ()) if n.get("numFmtId", "").isdigit()}
        self.d_codes = {**builtin, **self.d_custom}
        self.normal_xf = self._normal_xf()
        # 原文件没有单元格格式时 openpyxl 不载入它的任何样式，草稿的编号与原文件无关
        self.same_order = bool(self.d.get("cellXfs"))

    @staticmethod
    def _collections(root: etree._Element | None) -> dict[str, list[etree._Element]]:
        out: dict[str, list[etree._Element]] = {}
        if root is None:
            return out
        for child in root:
            if isinstance(child.tag, str) and etree.QName(child).namespace == NS_MAIN:
                out[_local(child)] = [c for c in child if isinstance(c.tag, str)]
        return out

    @property
    def active(self) -> bool:
        return self.dst is not None

    def _normal_xf(self) -> int:
        for st in self.d.get("cellStyles", ()):
            if st.get("builtinId") == "0" and (st.get("xfId") or "0").isdigit():
                return int(st.get("xfId") or 0)
        return 0

    def _find_or_add(self, coll: str, el: etree._Element) -> int:
        keys = self._keys.get(coll)
        if keys is None:
            keys = {}
            for i, rec in enumerate(self.d.get(coll, ())):
                keys.setdefault(_canon(rec), i)
            self._keys[coll] = keys
        k = _canon(el)
        if k in keys:
            return keys[k]
        idx = len(self.d.get(coll, ())) + len(self.added[coll])
        self.added[coll].append(el)
        keys[k] = idx
        return idx

    def _record(self, coll: str, idx: int) -> etree._Element:
        recs = self.s.get(coll, [])
        if not 0 <= idx < len(recs):
            raise SpliceError(f"草稿 styles.xml 中没有 {coll}[{idx}]")
        return recs[idx]

    def font(self, i: int) -> int:
        return self._simple("fonts", i)

    def fill(self, i: int) -> int:
        return self._simple("fills", i)

    def border(self, i: int) -> int:
        return self._simple("borders", i)

    def _simple(self, coll: str, i: int) -> int:
        if self.same_order and i < len(self.d.get(coll, ())):
            return i
        if (coll, i) not in self._memo:
            self._memo[(coll, i)] = self._find_or_add(coll, copy.deepcopy(self._record(coll, i)))
        return self._memo[(coll, i)]

    def numfmt(self, i: int) -> int:
        if ("numFmts", i) in self._memo:
            return self._memo[("numFmts", i)]
        code = self.s_codes.get(i)
        if code is None:
            out = 0  # 草稿中未定义的编号：按“常规”
        elif self.d_codes.get(i) == code:
            out = i  # 内置格式，或原文件中同号同格式
        else:
            same = [n for n, c in self.d_custom.items() if c == code]
            if same:
                out = min(same)
            else:
                used = set(self.d_custom) | {int(e.get("numFmtId")) for e in self.added["numFmts"]}
                out = max([_FIRST_CUSTOM_NUMFMT - 1, *used]) + 1
                el = etree.Element(f"{{{NS_MAIN}}}numFmt", numFmtId=str(out), formatCode=code)
                self.added["numFmts"].append(el)
                self.d_codes[out] = code
                self.d_custom[out] = code
        self._memo[("numFmts", i)] = out
        return out

    def xf(self, i: int) -> int:
        """草稿 cellXfs[i] → 原 styles.xml 中的 cellXfs 编号（相同记录复用，否则追加）。"""
        if self.same_order and i < len(self.d.get("cellXfs", ())):
            return i
        if ("cellXfs", i) in self._memo:
            return self._memo[("cellXfs", i)]
        el = copy.deepcopy(self._record("cellXfs", i))
        for attr, fn in (("numFmtId", self.numfmt), ("fontId", self.font), ("fillId", self.fill),
                         ("borderId", self.border)):
            if el.get(attr) is not None:
                el.set(attr, str(fn(int(el.get(attr)))))
        el.set("xfId", str(self.normal_xf))  # 生成表不用命名样式：一律基于原文件的“常规”
        out = self._find_or_add("cellXfs", el)
        self._memo[("cellXfs", i)] = out
        return out

    def dxf(self, i: int) -> int:
        return self._simple("dxfs", i)

    # ---- 写出 --------------------------------------------------------------------------------------------
    def result(self) -> bytes | None:
        """追加记录后的 styles.xml（没有新记录时返回 None：原部件不变）。"""
        if self.dst is None or self.original is None or not any(self.added.values()):
            return None
        text = self.original.decode("utf-8") if self._utf8() else None
        if text is None:
            raise SpliceError("styles.xml 不是 UTF-8 编码，无法追加记录")
        for coll in ("numFmts", "fonts", "fills", "borders", "cellXfs", "dxfs"):
            new = self.added[coll]
            if new:
                text = self._append(text, coll, [_xml_fragment(e, self.prefix) for e in new],
                                    len(self.d.get(coll, ())) + len(new))
        return text.encode("utf-8")

    def _utf8(self) -> bool:
        m = _DECL_RE.match(self.original or b"")
        return m is None or re.search(rb"encoding\s*=\s*[\"'](?!utf-8[\"'])", m.group(0), re.I) is None

    def _append(self, text: str, coll: str, records: list[str], count: int) -> str:
        p = f"{self.prefix}:" if self.prefix else ""
        # 只在顶层查找：各记录表都在 extLst 之前（extLst 里的 x14:dxfs 等用别的前缀，也不会被匹配）
        ext = re.search(rf"<{re.escape(p)}extLst[\s>]", text)
        limit = ext.start() if ext else len(text)
        m = re.compile(rf"<{re.escape(p)}{coll}(?=[\s/>])([^>]*?)(/?)>").search(text, 0, limit)
        body = "".join(records)
        if m is None:
            block = f'<{p}{coll} count="{count}">{body}</{p}{coll}>'
            later = _STYLE_ORDER[_STYLE_ORDER.index(coll) + 1:]
            pos = None
            for nxt in later:
                mm = re.compile(rf"<{re.escape(p)}{nxt}(?=[\s/>])").search(text)
                if mm:
                    pos = mm.start()
                    break
            if pos is None:
                close = text.rfind(f"</{p}styleSheet>")
                if close < 0:
                    raise SpliceError("styles.xml 结构异常（找不到 styleSheet 的结束标记）")
                pos = close
            return text[:pos] + block + text[pos:]
        attrs = self._count(m.group(1), count)
        if m.group(2):  # <dxfs count="0"/>
            return text[:m.start()] + f"<{p}{coll}{attrs}>{body}</{p}{coll}>" + text[m.end():]
        close = text.find(f"</{p}{coll}>", m.end())
        if close < 0:
            raise SpliceError(f"styles.xml 结构异常（找不到 {coll} 的结束标记）")
        return text[:m.start()] + f"<{p}{coll}{attrs}>" + text[m.end():close] + body + text[close:]

    @staticmethod
    def _count(attrs: str, count: int) -> str:
        if re.search(r'\bcount\s*=\s*["\']', attrs):
            return re.sub(r'\bcount\s*=\s*(["\'])\d*\1', f'count="{count}"', attrs, count=1)
        return attrs


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
                ni = zipfile.ZipInfo(name, date_time=stamp)
                ni.compress_type = zipfile.ZIP_DEFLATED
                ni.external_attr = 0o600 << 16
                out.writestr(ni, self.parts[name])
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
            ids = {r.get("Id") for r in wb_rels}
            n = 1
            while f"rId{n}" in ids:
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
                if (isinstance(dn.tag, str) and dn.get("localSheetId", "").isdigit()
                        and int(dn.get("localSheetId")) in touched and (dn.get("name") or "").startswith("_xlnm.")):
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
            idx = int(v.text) if v is not None and (v.text or "").strip().isdigit() else -1
            if not 0 <= idx < len(sst):
                raise SpliceError(f"草稿工作表单元格 {c.get('r')} 的共享字符串编号无效")
            c.remove(v)
            c.set("t", "inlineStr")
            is_ = etree.SubElement(c, f"{{{m}}}is")
            for child in sst[idx]:
                is_.append(copy.deepcopy(child))
        if merger is not None and merger.active and c.get("s") is not None:
            c.set("s", str(merger.xf(int(c.get("s")))))
    if merger is not None and merger.active:
        for row in root.iter(f"{{{m}}}row"):
            if row.get("s") is not None:
                row.set("s", str(merger.xf(int(row.get("s")))))
        for col in root.iter(f"{{{m}}}col"):
            if col.get("style") is not None:
                col.set("style", str(merger.xf(int(col.get("style")))))
        for rule in root.iter(f"{{{m}}}cfRule"):
            if rule.get("dxfId") is not None:
                rule.set("dxfId", str(merger.dxf(int(rule.get("dxfId")))))
    for view in root.iter(f"{{{m}}}sheetView"):
        # 草稿里它是唯一（因而选定）的表；在用户的工作簿里另有选定的表，两张都选定会成为“工作组”
        view.attrib.pop("tabSelected", None)
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
        if count_el is None or not (count_el.text or "").strip().isdigit():
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


# =====================================================================================================
# 核对
# =====================================================================================================
def _same_number(a: Any, b: Any) -> bool:
    try:
        return math.isclose(float(a), float(b), rel_tol=1e-12, abs_tol=0.0)
    except (TypeError, ValueError):
        return False


def _cell_matches(expected: Any, got: Any, data_type: str | None) -> bool:
    if isinstance(expected, bool) or isinstance(got, bool):
        return expected == got
    if isinstance(expected, str):
        return got == expected and data_type != "f"
    if isinstance(expected, (int, float)) or type(expected).__name__ == "Decimal":
        return not isinstance(got, str) and got is not None and _same_number(expected, got)
    return str(got) == str(expected)


def allowed_changes(base: Package, sheets: Sequence[str], *, convert: bool) -> set[str]:
    """原文件中允许被改动或删除的部件（见模块说明）；其余每个部件都必须逐字节不变。"""
    wb_part, wb = _workbook(base)
    allowed = {CONTENT_TYPES, wb_part, rels_name(wb_part)}
    for rel_type in (RT_STYLES, RT_CALC_CHAIN):
        p = _rel_of_type(base, wb_part, rel_type)
        if p:
            allowed.add(p)
    app = next((r.part for r in base.rels("") if r.type == RT_EXTENDED and r.part), None)
    if app:
        allowed.add(app)
    o_sheets = _sheets(base, wb_part, wb)
    for name in sheets:
        i = _sheet_index_names(o_sheets, name)
        if i is not None and o_sheets[i].part and base.find(o_sheets[i].part or ""):
            part = base.find(o_sheets[i].part or "") or ""
            allowed |= {part, rels_name(part)}
            for p in base.subtree(part):
                allowed |= {p, rels_name(p)}
    if convert:
        for p in _vba_parts(base, wb_part)[0]:
            allowed |= {p, rels_name(p)}
    return {base.find(a) or a for a in allowed}


def verify(original: bytes, result: bytes, sheets: Sequence[str],
           expected: Mapping[str, Mapping[tuple[int, int], tuple[Any, tuple]]],
           order: Sequence[str], *, main_type: str | None = None) -> None:
    """核对拼接结果（见模块说明）。不通过时抛出 SpliceError；结果能打开但有部件不一致时，SpliceError.data 为结果。"""
    base = Package(original, "原工作簿")
    out = Package(result, "写出的工作簿")
    wb_part, _ = _workbook(base)
    convert = main_type is not None and base.content_types()[1].get(wb_part.lower()) != main_type
    allowed = allowed_changes(base, sheets, convert=convert)

    problems: list[str] = []
    for name in base.names:
        if name in allowed:
            continue
        real = out.find(name)
        if real is None:
            problems.append(f"部件“{name}”丢失")
        elif out.read(real) != base.read(name):
            problems.append(f"部件“{name}”的内容变了")
    # 结果里新出现的部件只能是生成表及其图形、图表
    r_wb_part, r_wb = _workbook(out)
    r_sheets = _sheets(out, r_wb_part, r_wb)
    owned_parts: set[str] = set()
    for name in sheets:
        i = _sheet_index_names(r_sheets, name)
        if i is None or not r_sheets[i].part or not out.find(r_sheets[i].part or ""):
            problems.append(f"没有写入工作表“{name}”")
            continue
        part = out.find(r_sheets[i].part or "") or ""
        owned_parts |= {part, rels_name(part)}
        for p in out.subtree(part):
            owned_parts |= {p, rels_name(p)}
    for name in out.names:
        if base.find(name) is None and name not in {out.find(p) for p in owned_parts}:
            problems.append(f"多出了部件“{name}”")
    # 引用条目：原有的工作表、关系、内容类型、样式记录都还在
    problems += _verify_workbook(base, out, sheets, allowed)
    problems += _verify_styles(base, out)
    if problems:
        opens = _opens(result, sheets, expected, order) is None
        raise SpliceError("；".join(problems[:5]) + ("……" if len(problems) > 5 else ""), result if opens else None)
    failure = _opens(result, sheets, expected, order)
    if failure:
        raise SpliceError(failure)


def _verify_workbook(base: Package, out: Package, sheets: Sequence[str], allowed: set[str]) -> list[str]:
    """workbook.xml、工作簿关系与内容类型中原有的条目（生成表与允许删除的部件除外）都原样保留。"""
    problems = []
    wb_part, wb = _workbook(base)
    r_wb_part, r_wb = _workbook(out)
    owned = {s.casefold() for s in sheets}
    o_sheets = _sheets(base, wb_part, wb)
    r_sheets = _sheets(out, r_wb_part, r_wb)
    for i, s in enumerate(o_sheets):
        r = r_sheets[i] if i < len(r_sheets) else None
        if s.name.casefold() in owned:
            if r is None or r.name.casefold() != s.name.casefold() or r.rid != s.rid:
                problems.append(f"工作表“{s.name}”的位置变了")
        elif r is None or dict(r.element.attrib) != dict(s.element.attrib):
            problems.append(f"工作表“{s.name}”的位置、编号或属性变了")
    for r in r_sheets[len(o_sheets):]:
        if r.name.casefold() not in owned:
            problems.append(f"多出了工作表“{r.name}”")
    # workbook.xml 中工作表列表与名称之外的内容不变
    skip = {"sheets", "definedNames"}
    if [_canon(c) for c in wb if isinstance(c.tag, str) and _local(c) not in skip] != \
            [_canon(c) for c in r_wb if isinstance(c.tag, str) and _local(c) not in skip]:
        problems.append("workbook.xml 中工作表列表与名称以外的内容变了")
    owned_idx = {str(i) for i, s in enumerate(o_sheets) if s.name.casefold() in owned}
    r_names = {_canon(d) for d in r_wb.iter(f"{{{NS_MAIN}}}definedName")}
    if any(_canon(d) not in r_names for d in wb.iter(f"{{{NS_MAIN}}}definedName")
           if not (d.get("localSheetId") in owned_idx and (d.get("name") or "").startswith("_xlnm."))):
        problems.append("workbook.xml 中用户定义的名称变了")
    # 工作簿关系：指向允许删除部件（calcChain、宏）的可以没有，生成表的关系可以换类型，其余原样
    r_rels = {r.id: r for r in out.rels(r_wb_part)}
    owned_rids = {s.rid for s in o_sheets if s.name.casefold() in owned}
    for rel in base.rels(wb_part):
        got = r_rels.get(rel.id)
        if rel.part and rel.part in allowed and rel.id not in owned_rids and got is None:
            continue
        if got is None or got.target != rel.target or (got.type != rel.type and rel.id not in owned_rids):
            problems.append(f"工作簿关系 {rel.id}（{rel.target}）变了")
    # 内容类型：默认类型全部保留；不在允许范围内的部件类型不变
    o_def, o_over = base.content_types()
    r_def, r_over = out.content_types()
    if any(r_def.get(ext) != t for ext, t in o_def.items()):
        problems.append("[Content_Types].xml 的默认类型变了")
    allowed_lower = {a.lower() for a in allowed}
    for part, t in o_over.items():
        if part not in allowed_lower and base.find(part) is not None and r_over.get(part) != t:
            problems.append(f"部件“{part}”的内容类型变了")
    return problems


def _verify_styles(base: Package, out: Package) -> list[str]:
    wb_part, _ = _workbook(base)
    o = _rel_of_type(base, wb_part, RT_STYLES)
    if not o:
        return []
    r_part = _rel_of_type(out, _workbook(out)[0], RT_STYLES)
    if not r_part or r_part.lower() != o.lower():
        return ["styles.xml 丢失或换了位置"]
    a, b = _parse(base.read(o), o), _parse(out.read(r_part), r_part)
    if base.read(o) == out.read(r_part):
        return []
    problems = []
    ac = {_local(c): c for c in a if isinstance(c.tag, str)}
    bc = {_local(c): c for c in b if isinstance(c.tag, str)}
    if dict(a.attrib) != dict(b.attrib):
        problems.append("styles.xml 的根属性变了")
    for name, el in ac.items():
        other = bc.get(name)
        if other is None:
            problems.append(f"styles.xml 的 {name} 丢失")
            continue
        old = [_canon(c) for c in el if isinstance(c.tag, str)]
        new = [_canon(c) for c in other if isinstance(c.tag, str)]
        if name in _RECORD_OF:
            if new[:len(old)] != old:
                problems.append(f"styles.xml 的原有 {name} 记录变了")
            elif other.get("count") is not None and other.get("count") != str(len(new)):
                problems.append(f"styles.xml 的 {name} 计数与记录数不符")
        elif old != new or dict(el.attrib) != dict(other.attrib):
            problems.append(f"styles.xml 的 {name} 变了")
    for name in bc:
        if name not in ac and name not in _RECORD_OF:
            problems.append(f"styles.xml 多出了 {name}")
    return problems


def _color(c: Any) -> Any:
    return (c.type, c.value) if c is not None else None


def cell_look(cell: Any) -> tuple:
    """单元格的外观（字体、填充、数字格式、对齐）：生成表读回时与要写的比较，样式编号映射错了就会不同。"""
    f, fill, a = cell.font, cell.fill, cell.alignment
    return (f.name, bool(f.b), bool(f.i), f.sz, f.u, _color(f.color),
            fill.patternType, _color(fill.fgColor) if fill.patternType else None,
            cell.number_format, bool(a.wrap_text), a.vertical, a.horizontal)


def _opens(result: bytes, sheets: Sequence[str], expected: Mapping[str, Mapping[tuple[int, int], tuple[Any, tuple]]],
           order: Sequence[str]) -> str | None:
    """结果能否被 openpyxl 打开，表的顺序、生成表的内容是否正确。返回问题说明，没有问题返回 None。"""
    import warnings

    import openpyxl

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            wb = openpyxl.load_workbook(io.BytesIO(result), read_only=True, keep_vba=False)
    except Exception as exc:  # openpyxl 对坏文件抛出各种异常
        return f"写出的工作簿无法打开（{type(exc).__name__}: {str(exc)[:120]}）"
    try:
        if list(wb.sheetnames) != list(order):
            return f"写出的工作表顺序不对（{'、'.join(wb.sheetnames)}）"
        for name in sheets:
            want = expected.get(name, {})
            got: dict[tuple[int, int], tuple[Any, str | None, tuple]] = {}
            for row in wb[name].iter_rows():
                for c in row:
                    if getattr(c, "value", None) is not None:
                        got[(c.row, c.column)] = (c.value, getattr(c, "data_type", None), cell_look(c))
            if set(got) != set(want):
                diff = sorted(set(got) ^ set(want))[:3]
                return f"工作表“{name}”读回的单元格与要写的不同（{diff}）"
            for rc, (value, look) in want.items():
                value_got, data_type, look_got = got[rc]
                if not _cell_matches(value, value_got, data_type):
                    return f"工作表“{name}”第 {rc[0]} 行第 {rc[1]} 列读回的内容与要写的不同"
                if look is not None and look != look_got:
                    return f"工作表“{name}”第 {rc[0]} 行第 {rc[1]} 列读回的格式与要写的不同"
    finally:
        wb.close()
    return None


def main_type_for(suffix: str) -> str | None:
    return MAIN_TYPES.get(suffix.lower())


def same_members(a: bytes, b: bytes, skip: Iterable[str] = ()) -> list[str]:
    """两个包中内容不同（或一方没有）的部件名（测试与诊断用）。"""
    pa, pb = Package(a), Package(b)
    skip = set(skip)
    names = sorted((set(pa.names) | set(pb.names)) - skip)
    return [n for n in names if pa.find(n) is None or pb.find(n) is None or pa.read(n) != pb.read(n)]
