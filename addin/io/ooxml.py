"""Office Open XML 包的共同读法：命名空间与关系类型、部件名与关系目标、关系表与工作表清单、安全的 XML 解析、A1 地址。

一个 .xlsx 是 zip 包：`_rels/.rels` 指向工作簿部件（officeDocument），工作簿部件的 `<sheet name r:id>` 经它自己的关系表
（`xl/_rels/workbook.xml.rels`）指向各工作表部件。批量读取器（fastbook，expat 流式解析）、写回拼接（splice，lxml 树）、
文件检查（inspect）、导出定稿（excel/export）与加载项构建（excel/xlam）都按这里的同一套规则读关系与工作表清单；
XML 一律不加载 DTD、不展开实体、不联网（文件检查在此之前已拒绝任何含 DTD 的部件，这里再防一层）。
本模块只依赖标准库与 lxml（解析时才导入），不导入 jixiao 的其他模块。
"""
from __future__ import annotations

import posixpath
import re
from dataclasses import dataclass, field
from functools import lru_cache
from typing import TYPE_CHECKING, Any, Callable, Mapping, NoReturn
from xml.parsers import expat

if TYPE_CHECKING:
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

CONTENT_TYPES = "[Content_Types].xml"
ROOT_RELS = "_rels/.rels"
DEFAULT_WORKBOOK = "xl/workbook.xml"


# ------------------------------------------------------------------------------------------------ A1 地址
def col_letters(col: int) -> str:
    """1 起的列号 → 列字母（1 → A，28 → AB）。"""
    out = ""
    while col:
        col, r = divmod(col - 1, 26)
        out = chr(65 + r) + out
    return out


def col_index(letters: str) -> int:
    """列字母 → 1 起的列号（大小写均可；AB → 28）。"""
    n = 0
    for ch in letters.upper():
        n = n * 26 + ord(ch) - 64
    return n


@lru_cache(maxsize=65536)
def a1(row: int, col: int) -> str:
    """1 起的行列号 → A1 地址（读取时每个单元格都经过这里，结果缓存）。"""
    return f"{col_letters(col)}{row}"


_A1_RE = re.compile(r"^\$?([A-Za-z]+)\$?(\d+)$")


def col_part(ref: str) -> str:
    """A1 地址的列字母（$ 去掉）："$B$12" → "B"。"""
    return "".join(ch for ch in ref if ch.isalpha())


@lru_cache(maxsize=65536)
def parse_a1(ref: str) -> tuple[int, int]:
    """A1 地址（可带 $，首尾空白忽略）→ (行, 列)，1 起；不是单个单元格地址时抛出 ValueError。
    批量读取时每个单元格都经过这里，结果缓存。"""
    m = _A1_RE.match(ref.strip())
    if not m:
        raise ValueError(ref)
    return int(m.group(2)), col_index(m.group(1))


# ------------------------------------------------------------------------------------------------ 部件名
def rels_name(part: str) -> str:
    """部件的关系文件：xl/worksheets/sheet1.xml → xl/worksheets/_rels/sheet1.xml.rels；"" → _rels/.rels。"""
    if not part:
        return ROOT_RELS
    d, b = posixpath.split(part)
    return posixpath.join(d, "_rels", b + ".rels")


def resolve_target(source: str, target: str) -> str:
    """关系目标 → 包内部件名：以 / 开头的相对包根，否则相对 source 所在的文件夹；去掉 #片段、`.`、`..`
    （越过包根的 `..` 停在包根）。source 为 "" 表示包的根关系。"""
    target = target.split("#", 1)[0]
    if target.startswith("/"):
        joined = target
    else:
        folder = posixpath.dirname(source)
        joined = f"{folder}/{target}" if folder else target
    parts: list[str] = []
    for seg in joined.split("/"):
        if seg in ("", "."):
            continue
        if seg == "..":
            if parts:
                parts.pop()
            continue
        parts.append(seg)
    return "/".join(parts)


def local(name: str) -> str:
    """元素或属性名去掉前缀或命名空间：'x:c' → 'c'，'{ns}c' → 'c'。"""
    return name.rsplit("}", 1)[-1].rsplit(":", 1)[-1]


# ------------------------------------------------------------------------------------------------ 安全的 XML 解析
class DtdForbidden(Exception):
    """部件含 DTD 或实体声明：出于安全原因拒绝解析。"""

    def __init__(self) -> None:
        super().__init__("含有 DTD 或实体声明，出于安全原因拒绝读取")


class XmlError(ValueError):
    """部件不是有效的 XML，或含 DTD（中文说明，指明部件）。"""


def expat_parser() -> expat.XMLParserType:
    """流式解析器（不做命名空间处理，元素名可能带前缀，用 local 去掉）；DTD 与实体声明一律抛出 DtdForbidden。"""
    p = expat.ParserCreate()

    def forbid(*_a: Any) -> NoReturn:
        raise DtdForbidden()

    p.StartDoctypeDeclHandler = forbid
    p.EntityDeclHandler = forbid
    p.UnparsedEntityDeclHandler = forbid
    p.ExternalEntityRefHandler = forbid
    p.buffer_text = True
    return p


# expat 的英文错误 → 中文（常见的几种；其余照录错误号）
_EXPAT_REASONS = {
    "not well-formed (invalid token)": "有不合规的字符或标记",
    "no element found": "内容不完整（被截断）",
    "mismatched tag": "标签不配对",
    "unclosed token": "内容不完整（被截断）",
    "unknown encoding": "使用了无法识别的编码",
    "encoding specified in XML declaration is incorrect": "XML 声明的编码与实际内容不符",
    "junk after document element": "根元素之后还有多余内容",
    "XML or text declaration not at start of entity": "XML 声明不在开头",
    "undefined entity": "引用了未定义的实体",
    "syntax error": "语法错误",
}


def expat_reason(exc: expat.ExpatError) -> str:
    text = expat.ErrorString(exc.code) if exc.code else str(exc)
    return _EXPAT_REASONS.get(text, f"XML 错误 {exc.code}")


def expat_parse(data: bytes, start: Callable[[str, dict[str, str]], None]) -> None:
    """用 expat_parser 解析 data，每个开始元素调用 start(名称, 属性)。错误照原样抛出（ExpatError、DtdForbidden）。"""
    p = expat_parser()
    p.StartElementHandler = start
    p.Parse(data, True)


_LXML_PARSER: Any = None


def parse_xml(data: bytes, what: str) -> etree._Element:
    """lxml 解析一个部件（不加载 DTD、不展开实体、不联网）；不是有效的 XML 或含文档类型声明时抛出 XmlError。"""
    global _LXML_PARSER
    from lxml import etree

    if _LXML_PARSER is None:
        _LXML_PARSER = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False, remove_blank_text=False)
    try:
        root = etree.fromstring(data, _LXML_PARSER)
    except etree.XMLSyntaxError as exc:
        raise XmlError(f"部件“{what}”不是有效的 XML（{str(exc)[:120]}）") from None
    if root.getroottree().docinfo.doctype:
        raise XmlError(f"部件“{what}”含有文档类型声明（DTD），拒绝处理")
    return root


# ------------------------------------------------------------------------------------------------ 关系与工作表清单
@dataclass
class Rel:
    """一条关系。part：内部目标解析后的部件名（resolve_target）；外部目标（TargetMode="External"）为 None。"""

    id: str
    type: str
    target: str
    external: bool
    part: str | None

    @property
    def kind(self) -> str:
        """关系类型的末段（worksheet、styles、officeDocument……）。"""
        return self.type.rsplit("/", 1)[-1]


def rel_from_attrs(attrs: Mapping[str, str], source: str) -> Rel:
    """<Relationship> 元素的属性 → Rel（expat 与 lxml 两种解析共用）。"""
    external = (attrs.get("TargetMode") or "").lower() == "external"
    target = attrs.get("Target") or ""
    return Rel(attrs.get("Id") or "", attrs.get("Type") or "", target, external,
               None if external else resolve_target(source, target))


def rels_collector(source: str) -> tuple[Callable[[str, dict[str, str]], None], list[Rel]]:
    """给流式解析用的 (开始元素处理函数, 收集到的关系列表)：解析 source 部件的关系文件。"""
    out: list[Rel] = []

    def start(name: str, attrs: dict[str, str]) -> None:
        if local(name) == "Relationship":
            out.append(rel_from_attrs(attrs, source))

    return start, out


@dataclass
class WorkbookXml:
    """工作簿部件中的工作表清单（名称、关系 Id，按工作簿中的顺序）与日期系统。"""

    sheets: list[tuple[str, str]] = field(default_factory=list)
    date1904: bool = False


def workbook_collector() -> tuple[Callable[[str, dict[str, str]], None], WorkbookXml]:
    """给流式解析用的 (开始元素处理函数, 工作表清单)：解析工作簿部件（xl/workbook.xml）。"""
    out = WorkbookXml()

    def start(name: str, attrs: dict[str, str]) -> None:
        tag = local(name)
        if tag == "sheet":
            rid = next((v for k, v in attrs.items() if local(k) == "id"), "")
            out.sheets.append((attrs.get("name", ""), rid))
        elif tag == "workbookPr":
            out.date1904 = attrs.get("date1904", "0").lower() in ("1", "true")

    return start, out


def read_rels(data: bytes | None, source: str) -> list[Rel]:
    """source 部件的关系（data 为其关系文件的内容；None 表示没有关系文件）。"""
    if data is None:
        return []
    start, out = rels_collector(source)
    expat_parse(data, start)
    return out


def main_part(root_rels: list[Rel]) -> str | None:
    """包的根关系中的工作簿部件（officeDocument）。"""
    return next((r.part for r in root_rels if r.kind == "officeDocument" and r.part), None)


@dataclass
class SheetEntry:
    """工作表清单中的一项：名称、关系 Id、关系类型的末段（worksheet / chartsheet / …）、部件名（关系不存在时为 None）。"""

    name: str
    rid: str
    kind: str
    part: str | None


def sheet_map(read: Callable[[str], bytes | None]) -> tuple[str, list[SheetEntry]]:
    """(工作簿部件, 工作表清单)。read(部件名) 返回部件内容，不存在时返回 None。没有根关系时按 xl/workbook.xml。"""
    wb_part = main_part(read_rels(read(ROOT_RELS), "")) or DEFAULT_WORKBOOK
    data = read(wb_part)
    if data is None:
        return wb_part, []
    start, wb = workbook_collector()
    expat_parse(data, start)
    rels = {r.id: r for r in read_rels(read(rels_name(wb_part)), wb_part)}
    out = []
    for name, rid in wb.sheets:
        r = rels.get(rid)
        out.append(SheetEntry(name, rid, r.kind if r else "", r.part if r and not r.external else None))
    return wb_part, out


def content_types(data: bytes) -> tuple[dict[str, str], dict[str, str]]:
    """[Content_Types].xml → (扩展名小写 → 类型, 部件名（去掉开头的 /）→ 类型)。"""
    defaults: dict[str, str] = {}
    overrides: dict[str, str] = {}

    def start(name: str, attrs: dict[str, str]) -> None:
        tag = local(name)
        if tag == "Default":
            defaults[(attrs.get("Extension") or "").lower()] = attrs.get("ContentType") or ""
        elif tag == "Override":
            overrides[(attrs.get("PartName") or "").lstrip("/")] = attrs.get("ContentType") or ""

    expat_parse(data, start)
    return defaults, overrides
