"""写回时的样式合并：生成表用到的样式记录追加到原 styles.xml 各记录表的末尾，原有记录一字节不改、不重排，原有编号
全部有效；相同的记录不重复追加（同一份报告再生成一次，styles.xml 逐字节相同）。
"""
from __future__ import annotations

import copy
import re
from xml.sax.saxutils import escape

from lxml import etree

from .ooxml import NS_MAIN
from .opc import _DECL_RE, SpliceError, _parse

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
        self.s_codes = {**builtin, **{int(n.get("numFmtId", "")): n.get("formatCode") or ""
                                      for n in self.s.get("numFmts", ()) if n.get("numFmtId", "").isdigit()}}
        self.d_custom = {int(n.get("numFmtId", "")): n.get("formatCode") or ""
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
                used = set(self.d_custom) | {int(e.get("numFmtId", "")) for e in self.added["numFmts"]}
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
            if (v := el.get(attr)) is not None:
                el.set(attr, str(fn(int(v))))
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
