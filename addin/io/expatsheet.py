"""FastBook 的逐元素路径：用 expat 流式解析工作表与共享字符串表，每个元素一次 Python 回调。任何写法都读得了（命名空间
前缀、没写位置的单元格、内联字符串、富文本与注音、数字字符引用、CDATA……），规整的部件先交给快速路径（fastsheet.py），
不规整的、有错的才到这里；错误由这里在出错的那一格（或 XML 的那一行列）以中文说明报告（fastbook.FastBook._parse）。
"""
from __future__ import annotations

import re
from typing import Any, Callable

from . import ooxml

_LOCAL: dict[str, str] = {}
# 只有样式、没有值的单元格（Excel、XlsxWriter、openpyxl 都这样写）
_EMPTY_CELL = re.compile(rb'<c r="[A-Z]{1,3}[0-9]{1,7}"(?: s="[0-9]{1,6}")?/>')


class TooBig(Exception):
    """解析中途发现工作表超过单元格上限（filecheck.MAX_CELLS）：立即停止，不再为它花时间与内存；参数是数到的个数。"""


def local(name: str) -> str:
    """去掉命名空间前缀（'x:c' → 'c'，ooxml.local），结果缓存：每个单元格的每个元素都经过这里。"""
    loc = _LOCAL.get(name)
    if loc is None:
        loc = _LOCAL[name] = ooxml.local(name)
    return loc


def strip_empty_cells(data: bytes) -> tuple[bytes, int]:
    """模板里大半是只有边框、底色的空单元格（<c r="B1" s="1"/>）：解析前整体去掉（正则在 C 里运行），每个工作簿少调用
    上千次 Python 回调；返回 (去掉后的内容, 去掉的个数)。只在每个单元格都写明位置（r=）时这样做——否则后面没写位置的
    单元格要靠前一个单元格推算列号。"""
    if b"<c>" not in data and data.count(b"<c ") == data.count(b'<c r="'):
        return _EMPTY_CELL.subn(b"", data)
    return data, 0


def sst_handlers(out: list[str]) -> tuple[Callable, Callable, Callable]:
    """共享字符串表的 expat 回调：每个 <si> 中 <t> 的文字（注音 <rPh> 不属于单元格文字）依次加入 out。"""
    buf: list[str] = []
    state = {"t": False, "rph": 0}

    def start(name, attrs):
        tag = local(name)
        if tag == "si":
            buf.clear()
        elif tag == "rPh":
            state["rph"] += 1
        elif tag == "t" and not state["rph"]:
            state["t"] = True

    def end(name):
        tag = local(name)
        if tag == "si":
            out.append("".join(buf))
        elif tag == "rPh":
            state["rph"] -= 1
        elif tag == "t":
            state["t"] = False

    def chars(text):
        if state["t"]:
            buf.append(text)

    return start, end, chars


def sheet_handlers(cell_value: Callable[..., Any], counted: int, limit: int
                   ) -> tuple[Callable, Callable, Callable, dict[tuple[int, int], Any]]:
    """工作表的 expat 回调与它们填写的网格 {(行, 列): 值}。cell_value(ref, cattr, vtext, ftext, fattr, inline) → 值
    （None 表示空）；counted 是已数过（解析前去掉）的单元格个数；单元格、行、列元素合计超过 limit 即抛出 TooBig。"""
    g: dict[tuple[int, int], Any] = {}
    buf: list[str] = []
    # 解析状态（闭包变量比字典快；大多数单元格只有样式、没有值，尽早跳过）
    row = col = 0
    cattr: dict = {}
    fattr: dict | None = None
    ftext = vtext = None
    inline: list[str] | None = None
    rph = 0
    rows = 0  # 正在其中的行元素（openpyxl 只读行里的单元格，行外的不算）
    collect = False
    # 单元格、行、列元素的个数（与 filecheck.MAX_CELLS 同一上限）：超过即停止解析
    count = [counted]

    def start(name, attrs):
        nonlocal row, col, cattr, fattr, ftext, vtext, inline, collect, rph, rows
        tag = _LOCAL.get(name) or local(name)
        if tag == "c":
            cattr = attrs
            fattr = ftext = vtext = inline = None
            count[0] += 1
            if count[0] > limit:
                raise TooBig(count[0])
        elif tag == "v":
            collect = True
            buf.clear()
        elif tag == "f":
            fattr = attrs
            collect = True
            buf.clear()
        elif tag == "row":
            r = attrs.get("r")
            row = int(r) if r else row + 1
            col = 0
            rows += 1
            count[0] += 1
            if count[0] > limit:
                raise TooBig(count[0])
        elif tag == "col":
            count[0] += 1
            if count[0] > limit:
                raise TooBig(count[0])
        elif tag == "is":
            inline = []
        elif tag == "rPh":
            rph += 1
        elif tag == "t" and inline is not None and not rph:
            collect = True
            buf.clear()

    def chars(text):
        if collect:
            buf.append(text)

    def end(name):
        nonlocal col, fattr, ftext, vtext, collect, rph, rows
        tag = _LOCAL.get(name) or local(name)
        if tag == "c" and rows:
            ref = cattr.get("r")
            if ref:
                r, c = ooxml.parse_a1(ref)
            else:
                r, c = row, col + 1
                ref = ooxml.a1(r, c)
            col = c
            if vtext is None and fattr is None and inline is None:
                return  # 只有样式的空单元格
            value = cell_value(ref, cattr, vtext, ftext, fattr, inline)
            if value is not None:
                g[(r, c)] = value
        elif collect:
            if tag == "v":
                vtext = "".join(buf)
            elif tag == "f":
                ftext = "".join(buf)
            elif tag == "t" and inline is not None:
                inline.append("".join(buf))
            collect = False
        elif tag == "rPh":
            rph -= 1
        elif tag == "row":
            rows -= 1

    return start, end, chars, g
