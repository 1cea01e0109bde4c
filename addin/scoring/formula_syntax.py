"""实际值公式的词法与语法（Excel 的运算优先级）及求值中用到的值：错误值、空白、引用、问题。"""
from __future__ import annotations

import datetime as _dt
import re
from dataclasses import dataclass, field
from decimal import Decimal
from functools import lru_cache
from typing import Any

from udfs.excel import BY_NAME

from ..io.ooxml import col_index, col_letters


@dataclass(frozen=True)
class XlError:
    """Excel 错误值（#DIV/0!、#VALUE! …）；sheet/cell 是产生它的单元格，detail 说明原因。code 为 "?" 表示无法求值。"""

    code: str
    sheet: str = ""
    cell: str = ""
    detail: str = ""

    def __str__(self) -> str:
        return self.code


UNKNOWN_CODE = "?"
EXCEL_ERRORS = ("#DIV/0!", "#N/A", "#VALUE!", "#REF!", "#NAME?", "#NUM!", "#NULL!", "#GETTING_DATA", "#SPILL!", "#CALC!")


@dataclass(frozen=True)
class Blank:
    """空白单元格（记住它在哪里，参与运算时点名）。"""

    sheet: str = ""
    cell: str = ""


@dataclass(frozen=True)
class RangeRef:
    """单元格或区域引用（1 起的行列，含两端）。"""

    sheet: str
    r1: int
    c1: int
    r2: int
    c2: int

    @property
    def single(self) -> bool:
        return self.r1 == self.r2 and self.c1 == self.c2

    @property
    def a1(self) -> str:
        first = f"{col_letters(self.c1)}{self.r1}"
        return first if self.single else f"{first}:{col_letters(self.c2)}{self.r2}"


@dataclass(frozen=True)
class Issue:
    """求值中需要告诉用户的情况。kind：blank 空白按 0 参与运算；unsupported 无法求值（未采用保存的结果）；
    unsupported-cached 无法求值、采用了文件中保存的结果；udf-error 单元格函数返回“错误：…”；error 结果为 Excel 错误值；
    cycle 循环引用。sheet/cell 为应去修改的那一格，detail 为中文说明，function 为相关函数名。"""

    kind: str
    sheet: str
    cell: str
    detail: str
    function: str = ""
    reason: str = ""  # udf-error：IndicatorError.code（missing 未填写 / zero-denominator 分母为 0 / invalid），未知为空


@dataclass
class Outcome:
    """一个公式的求值结果：value 为 Decimal / str / bool / datetime / Blank / XlError；issues 含被引用单元格的问题。"""

    value: Any
    issues: list[Issue] = field(default_factory=list)


class _Unsupported(Exception):
    """公式中有求值器不支持的部分（中文说明；function 为函数名或写法）。"""

    def __init__(self, detail: str, function: str = ""):
        super().__init__(detail)
        self.detail, self.function = detail, function


_SHEET = r"(?:'(?P<qs>(?:[^']|'')+)'|(?P<us>[^\s!'\"(),:;=<>&+\-*/^%{}\[\]]+))!"
_CELL = r"\$?[A-Za-z]{1,3}\$?\d+"
_TOKEN_RE = re.compile(
    r"(?P<ws>\s+)"
    r"|(?P<str>\"(?:[^\"]|\"\")*\")"
    r"|(?P<err>#DIV/0!|#N/A|#VALUE!|#REF!|#NAME\?|#NUM!|#NULL!)"
    r"|(?P<ext>\[[^\]]*\][^!]*!)"  # 外部工作簿：[1]表!A1、[1]!NAME
    rf"|(?P<ref>(?:{_SHEET})?(?:{_CELL}(?::{_CELL})?|\$?[A-Za-z]{{1,3}}:\$?[A-Za-z]{{1,3}}|\$?\d+:\$?\d+)(?![A-Za-z0-9_(.]))"
    r"|(?P<xlam>'[^']*\.xla[mx]?'!|[A-Za-z0-9_.\-]+\.xla[mx]?!)"  # 加载项路径前缀：'C:\…\jixiao.xlam'!NAME
    r"|(?P<num>(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?)"
    r"|(?P<func>[A-Za-z_\u4e00-\u9fff][A-Za-z0-9_.\u4e00-\u9fff]*(?=\s*\())"
    r"|(?P<name>[A-Za-z_\u4e00-\u9fff][A-Za-z0-9_.\u4e00-\u9fff]*)"
    r"|(?P<op><>|<=|>=|[-+*/^&=<>%(),:{};])"
)


@dataclass(frozen=True)
class _Tok:
    kind: str
    text: str


def _tokens(text: str) -> list[_Tok]:
    out: list[_Tok] = []
    pos = 0
    while pos < len(text):
        m = _TOKEN_RE.match(text, pos)
        if not m:
            raise _Unsupported(f"无法识别“{text[pos:pos + 12]}”", text[pos:pos + 12])
        pos = m.end()
        kind = m.lastgroup or ""
        if kind in ("qs", "us"):  # 命名组嵌套在 ref 中
            kind = "ref"
        if kind == "ws":
            continue
        out.append(_Tok(kind, m.group(0)))
    return out


# 由低到高：比较 < & < + − < * / < ^ < % < 取负；Excel 中 -2^2 = 4（取负先于乘方），2^3^2 = 64（左结合）。
class _Parser:
    def __init__(self, toks: list[_Tok]):
        self.toks, self.i = toks, 0

    def peek(self) -> _Tok | None:
        return self.toks[self.i] if self.i < len(self.toks) else None

    def take(self) -> _Tok:
        t = self.peek()
        if t is None:
            raise _Unsupported("公式不完整")
        self.i += 1
        return t

    def at(self, *texts: str) -> bool:
        t = self.peek()
        return t is not None and t.kind == "op" and t.text in texts

    def expect(self, text: str) -> None:
        t = self.take()
        if t.kind != "op" or t.text != text:
            raise _Unsupported(f"此处应为“{text}”，实际为“{t.text}”")

    def parse(self) -> tuple:
        node = self.compare()
        if self.peek() is not None:
            raise _Unsupported(f"无法识别“{self.peek().text}”之后的部分")  # type: ignore[union-attr]
        return node

    def compare(self) -> tuple:
        node = self.concat()
        while self.at("=", "<>", "<", ">", "<=", ">="):
            op = self.take().text
            node = ("cmp", op, node, self.concat())
        return node

    def concat(self) -> tuple:
        node = self.additive()
        while self.at("&"):
            self.take()
            node = ("&", node, self.additive())
        return node

    def additive(self) -> tuple:
        node = self.term()
        while self.at("+", "-"):
            op = self.take().text
            node = ("arith", op, node, self.term())
        return node

    def term(self) -> tuple:
        node = self.power()
        while self.at("*", "/"):
            op = self.take().text
            node = ("arith", op, node, self.power())
        return node

    def power(self) -> tuple:
        node = self.unary()
        while self.at("^"):
            self.take()
            node = ("arith", "^", node, self.unary())
        return node

    def unary(self) -> tuple:
        if self.at("-", "+"):
            op = self.take().text
            return ("neg", self.unary()) if op == "-" else ("pos", self.unary())
        return self.postfix()

    def postfix(self) -> tuple:
        node = self.primary()
        while self.at("%"):
            self.take()
            node = ("pct", node)
        return node

    def primary(self) -> tuple:
        t = self.take()
        if t.kind == "num":
            return ("lit", Decimal(t.text))
        if t.kind == "str":
            return ("lit", t.text[1:-1].replace('""', '"'))
        if t.kind == "err":
            return ("lit", XlError(t.text, detail=f"公式中直接写了 {t.text}"))
        if t.kind == "ref":
            return ("ref", t.text)
        if t.kind in ("xlam", "ext"):
            nxt = self.peek()
            if nxt is not None and nxt.kind == "func":  # 加载项函数的外部前缀：[1]!NAME(…)、'…\jixiao.xlam'!NAME(…)
                name = nxt.text.upper()
                if name in BY_NAME:
                    self.take()
                    return self.call(name)
                raise _Unsupported(f"外部工作簿中的函数 {nxt.text}", nxt.text)
            raise _Unsupported(f"外部链接 {t.text}{nxt.text if nxt else ''}（引用其他工作簿）", "外部链接")
        if t.kind == "func":
            name = t.text.upper()
            for prefix in ("_XLFN._XLWS.", "_XLFN.", "_XLUDF."):
                if name.startswith(prefix):
                    name = name[len(prefix):]
            return self.call(name)
        if t.kind == "name":
            up = t.text.upper()
            if up in ("TRUE", "FALSE"):
                return ("lit", up == "TRUE")
            raise _Unsupported(f"名称“{t.text}”（定义的名称）", t.text)
        if t.kind == "op" and t.text == "(":
            node = self.compare()
            self.expect(")")
            return node
        if t.kind == "op" and t.text == "{":
            raise _Unsupported("数组常量 {…}", "{…}")
        raise _Unsupported(f"此处不应出现“{t.text}”")

    def call(self, name: str) -> tuple:
        self.expect("(")
        args: list[tuple | None] = []
        if self.at(")"):
            self.take()
            return ("call", name, tuple(args))
        while True:
            if self.at(",", ")"):
                args.append(None)  # 省略的参数：=IF(A1,,1)
            else:
                args.append(self.compare())
            if self.at(","):
                self.take()
                continue
            self.expect(")")
            return ("call", name, tuple(args))


def tokens(text: str) -> list[tuple[str, str]]:
    """公式正文（不含开头的“=”）的词法单元 (种类, 原文)：种类 ref 为单元格或区域引用（可带表名），str 文本，num 数字，
    func 函数名，op 运算符……；原文依次拼接（忽略空白）即公式本身。不认识的写法抛出 ValueError。"""
    try:
        return [(t.kind, t.text) for t in _tokens(text)]
    except _Unsupported as exc:
        raise ValueError(exc.detail) from None


@lru_cache(maxsize=4096)
def parse(text: str) -> tuple:
    """公式文本（可带开头的“=”）→ 语法树；不支持的写法抛出 _Unsupported。同一文本只解析一次。"""
    body = text[1:] if text.startswith("=") else text
    return _Parser(_tokens(body)).parse()


@lru_cache(maxsize=8192)
def _parse_ref(text: str, here: str) -> RangeRef:
    m = re.fullmatch(rf"(?:{_SHEET})?(?P<a>.+)", text)
    assert m is not None
    sheet = m.group("qs").replace("''", "'") if m.group("qs") else m.group("us") or here
    a = m.group("a").replace("$", "")
    parts = a.split(":")
    if len(parts) == 1:
        cm = re.fullmatch(r"([A-Za-z]+)(\d+)", parts[0])
        assert cm is not None
        r, c = int(cm.group(2)), col_index(cm.group(1))
        return RangeRef(sheet, r, c, r, c)
    lo, hi = parts
    if lo.isdigit():  # 整行 1:3
        return RangeRef(sheet, int(lo), 1, int(hi), 16384)
    if lo.isalpha():  # 整列 C:C
        return RangeRef(sheet, 1, col_index(lo), 1048576, col_index(hi))
    m1 = re.fullmatch(r"([A-Za-z]+)(\d+)", lo)
    m2 = re.fullmatch(r"([A-Za-z]+)(\d+)", hi)
    assert m1 is not None and m2 is not None
    r1, r2 = sorted((int(m1.group(2)), int(m2.group(2))))
    c1, c2 = sorted((col_index(m1.group(1)), col_index(m2.group(1))))
    return RangeRef(sheet, r1, c1, r2, c2)


ZERO = Decimal(0)
ONE = Decimal(1)
_NUMERIC_TEXT = re.compile(r"^\s*([+-]?(?:\d{1,3}(?:,\d{3})+|\d+)(?:\.\d*)?(?:[eE][+-]?\d+)?|[+-]?\.\d+)\s*(%?)\s*$")
_EXCEL_EPOCH = _dt.datetime(1899, 12, 30)


def _to_decimal(x: int | float) -> Decimal:
    return Decimal(x) if isinstance(x, int) else Decimal(repr(x))


def _date_serial(d: _dt.date) -> Decimal:
    if not isinstance(d, _dt.datetime):
        d = _dt.datetime(d.year, d.month, d.day)
    delta = d - _EXCEL_EPOCH
    return Decimal(delta.days) + Decimal(delta.seconds) / Decimal(86400)
