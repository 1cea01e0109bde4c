"""写回用的包视图（Open Packaging Conventions）：zip 中的部件（区分大小写的原名与不区分大小写的查找）、关系、内容类型、
工作簿部件与其工作表清单；拼接（splice.py）与核对（verify.py）共用。关系与目标的读法来自 ooxml。
写回无法进行时抛出 SpliceError（中文说明），调用方不替换原文件。
"""
from __future__ import annotations

import io
import posixpath
import re
import zipfile
from dataclasses import dataclass
from urllib.parse import unquote

from lxml import etree

from . import ooxml
from .ooxml import CONTENT_TYPES, NS_CT, NS_MAIN, NS_PKG_REL, NS_R, RT_OFFICE_DOCUMENT, Rel, rels_name

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
_STANDARD_DECL = b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\r\n'
_DECL_RE = re.compile(rb"^\s*<\?xml[^>]*\?>\s*")


class SpliceError(Exception):
    """生成表无法原样拼接进原文件（中文说明）。data：已生成、能打开但未通过逐字节核对的结果（可另存为副本），否则为 None。"""

    def __init__(self, message: str, data: bytes | None = None):
        super().__init__(message)
        self.data = data


def _parse(data: bytes, what: str) -> etree._Element:
    try:
        return ooxml.parse_xml(data, what)
    except ooxml.XmlError as exc:
        raise SpliceError(str(exc)) from None


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
        """关系目标 → 包内部件名（ooxml.resolve_target，再按不区分大小写、%编码的名字查找；找不到时返回规范化后的名字）。"""
        path = ooxml.resolve_target(source, target)
        for cand in (path, unquote(path)):
            real = self.find(cand)
            if real is not None:
                return real
        return unquote(path)

    def rels(self, part: str) -> list[Rel]:
        """部件的关系（没有关系文件时为空）。part 为 "" 时是包的根关系 _rels/.rels。"""
        if part in self._rels:
            return self._rels[part]
        name = rels_name(part)
        if self.find(name) is None:
            self._rels[part] = []
            return []
        root = _parse(self.read(name), name)
        out = []
        for r in root.iter(f"{{{NS_PKG_REL}}}Relationship"):
            rel = ooxml.rel_from_attrs(dict(r.attrib), part)
            if not rel.external:
                rel.part = self.resolve(part, rel.target)
            out.append(rel)
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
        if strict := next((r for r in self.rels("") if r.type.endswith("/officeDocument")), None):
            raise SpliceError(f"{self.what}是 Strict Open XML 格式（{strict.type}），jixiao 只处理常规的 .xlsx")
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


def main_type_for(suffix: str) -> str | None:
    return MAIN_TYPES.get(suffix.lower())
