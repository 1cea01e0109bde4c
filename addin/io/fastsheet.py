"""FastBook 的快速路径：Excel、XlsxWriter、openpyxl 写出的工作表与共享字符串表是一种很规整的 XML（没有空白、注释、
CDATA，单元格属性只有 r、s、t……）。对这样的部件，用正则表达式（在 C 里运行）一次取出全部单元格，每个单元格只有一次
Python 处理，不必为每个元素回调一次 expat（批量读取的大半时间曾在回调里）。

不规整的一律返回 None，交回 expat 逐元素解析（fastbook.FastBook._parse_sheet）：判断是整段匹配（fullmatch），不是
“尽量取”，所以快速路径得到的单元格与 expat 逐格相同（tests/test_fastsheet.py 比对），任何错误（XML 错误、DTD、
坏的数字、超过单元格上限……）都由 expat 路径以同样的中文说明报告。sheetData（或 sst）之外的部分仍交给 expat 解析
（不设回调，只核对良构并数出列格式记录），与整份解析的结论相同。
"""
from __future__ import annotations

import re
from typing import Any, Callable
from xml.parsers import expat

from . import ooxml

# 不出现在快速路径中的：XML 1.0 不允许的控制字符、换行归一化要处理的 \r、非字符 U+FFFE/U+FFFF、字符数据中的 ]]>
_BAD_CHAR = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\r\ufffe\uffff]")
# 只允许五个预定义实体（数字字符引用、未声明的实体交给 expat）
_BAD_AMP = re.compile("&(?!(?:amp|lt|gt|quot|apos);)")
_ATTRS = '((?: [a-zA-Z][a-zA-Z0-9:]*="[^"<&]*")*)'
# sheetData 的内容：行的起止标记与单元格；单元格 = r 属性在先，其余属性，可有一个 <f>（可带属性、可自闭合）、一个 <v>
_SHEET_TOKEN = ('(?:<row' + _ATTRS.replace("(", "(?:", 1) + '/?>|</row>'
                '|<c r="([A-Z]{1,3}[0-9]{1,7})"((?: [a-z]{1,2}="[^"<&]*")*)'
                '(?:/>|>(?:(<f)' + _ATTRS + '(?:/>|>([^<]*)</f>))?(?:<v>([^<]*)</v>|<v/>)?</c>))')
_SHEET_TOKENS = re.compile(_SHEET_TOKEN[:-1] + "|(.))", re.S)
_CELL_ATTR = re.compile(' ([a-z]{1,2})="([^"]*)"')
_F_ATTR = re.compile(' ([a-zA-Z][a-zA-Z0-9:]*)="([^"]*)"')
_SI_TOKEN = '<si><t(?: xml:space="preserve")?>([^<]*)</t></si>|<si><t(?: xml:space="preserve")?/>()</si>'
_SST_ALL = re.compile(f"(?:{_SI_TOKEN})*+")
_SST_TOKENS = re.compile(_SI_TOKEN)

_A1: dict[str, tuple[int, int]] = {}  # A1 地址 → (行, 列)：同一模板的工作簿地址相同，跨文件缓存
_CELL_ATTRS: dict[str, dict[str, str]] = {}  # 单元格属性的写法 → 属性（' s="3" t="s"' 之类，反复出现；只读）


def _unescape(s: str) -> str:
    return s.replace("&lt;", "<").replace("&gt;", ">").replace("&quot;", '"').replace("&apos;", "'").replace("&amp;", "&")


_SST_OPEN = re.compile(rb'<sst(?: [a-zA-Z][a-zA-Z0-9:]*="[^"<>&]*")*>')
_SHEET_OPEN = re.compile(rb"<sheetData>")


def _body(data: bytes, open_tag: re.Pattern[bytes], close_tag: bytes) -> tuple[str, bytes] | None:
    """data 中唯一一段 open_tag…close_tag 的内容（解码为 str）与去掉这段内容后的其余部分；不规整时 None。"""
    m = open_tag.search(data)
    j = data.rfind(close_tag)
    if m is None or j < m.end() or data.count(close_tag) != 1 or open_tag.search(data, m.end()) is not None:
        return None
    i = m.end()
    try:
        body = data[i:j].decode("utf-8")
    except UnicodeDecodeError:
        return None
    if _BAD_CHAR.search(body) or "]]>" in body or ("&" in body and _BAD_AMP.search(body)):
        return None
    return body, data[:i] + data[j:]


def _rest_ok(rest: bytes) -> bool:
    """其余部分是良构的 XML（没有 DTD）；否则交给 expat 路径报告。"""
    try:
        ooxml.expat_parser().Parse(rest, True)
    except (expat.ExpatError, ooxml.DtdForbidden):
        return False
    return True


def shared_strings(data: bytes) -> list[str] | None:
    """共享字符串表（每条只有一个 <t>，没有格式串与注音）；不规整时 None。"""
    got = _body(data, _SST_OPEN, b"</sst>")
    if got is None:
        return None
    body, rest = got
    if _SST_ALL.fullmatch(body) is None or not _rest_ok(rest):
        return None
    out = [a or b for a, b in _SST_TOKENS.findall(body)]
    if "&" in body:
        out = [_unescape(s) if "&" in s else s for s in out]
    return out


def _kind(attrs: str, dates: set[int]) -> tuple[dict[str, str], str]:
    """单元格属性的写法 → (属性, 类别)：“s” 共享字符串，“n” 非日期样式的数值，"" 其他（交给 cell_value）。"""
    cattr = _CELL_ATTRS.get(attrs)
    if cattr is None:
        if len(_CELL_ATTRS) > 10_000:
            _CELL_ATTRS.clear()
        cattr = _CELL_ATTRS[attrs] = dict(_CELL_ATTR.findall(attrs))
    t, st = cattr.get("t", "n"), cattr.get("s")
    if t == "s":
        return cattr, "s"
    if t == "n" and (not st or (st.isdigit() and int(st) not in dates)):
        return cattr, "n"
    return cattr, ""


def sheet_cells(data: bytes, stripped: int, limit: int, cell_value: Callable[..., Any], shared: list[str],
                dates: set[int]) -> dict[tuple[int, int], Any] | None:
    """工作表的单元格网格 {(行, 列): 值}；不规整（或单元格、行、列记录超过 limit，由 expat 路径在同一处报告）时 None。
    cell_value 是 FastBook._cell_value 的前几个参数已定的形式 (ref, cattr, vtext, ftext, fattr) → 值；只有文本与
    非日期样式的数值在这里直接转换，其余（公式、逻辑值、日期、错误值、任何异常）都交给它，结果与 expat 路径相同。"""
    got = _body(data, _SHEET_OPEN, b"</sheetData>")
    if got is None:
        return None
    body, rest = got
    # 单元格、行与列格式记录的个数（expat 路径逐个数到 limit 即停止并报告）：其余部分的元素每个至少 4 个字节，
    # 上限内还有余量就不必数；接近上限的交给 expat 路径，由它在同一处报告
    if stripped + body.count("<c ") + body.count("<row") + len(rest) // 4 > limit or not _rest_ok(rest):
        return None
    g: dict[tuple[int, int], Any] = {}
    a1 = _A1
    kinds: dict[str, tuple[dict[str, str], str]] = {}
    # 逐个记号从左到右取；最后一个分支接住任何不是记号的字符——出现即不规整（等价于整段 fullmatch，只扫一遍）
    for ref, attrs, has_f, f_attrs, ftext, vtext, junk in _SHEET_TOKENS.findall(body):
        if not (vtext or has_f):
            if junk:
                return None
            continue  # 行标记、只有样式的空单元格（<v/> 与没有 <v> 相同：无值）
        rc = a1.get(ref)
        if rc is None:
            if len(a1) > 100_000:
                a1.clear()
            rc = a1[ref] = ooxml.parse_a1(ref)
        k = kinds.get(attrs)
        if k is None:
            k = kinds[attrs] = _kind(attrs, dates)
        cattr, kind = k
        if not has_f and kind:
            try:
                if kind == "s":
                    g[rc] = shared[int(vtext)]
                else:
                    g[rc] = float(vtext) if "." in vtext or "E" in vtext or "e" in vtext else int(vtext)
                continue
            except (ValueError, IndexError):
                pass  # 交给 cell_value：它给出指明单元格的说明
        if "&" in vtext:
            vtext = _unescape(vtext)
        if has_f:
            if "&" in ftext:
                ftext = _unescape(ftext)
            value = cell_value(ref, cattr, vtext, ftext, dict(_F_ATTR.findall(f_attrs)) if f_attrs else {})
        else:
            value = cell_value(ref, cattr, vtext, None, None)
        if value is not None:
            g[rc] = value
    return g
