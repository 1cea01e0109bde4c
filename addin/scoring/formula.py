"""实际值公式求值器：用户在评分表里写的 Excel 公式，在没有 Excel 的机器上算出与 Excel 相同的值。

支持的写法（真实工作簿中用户会写的子集）：数字、百分数（5%）、文本、TRUE/FALSE；单元格引用 A1/$A$1、
'基础数据表'!$F$6、基础数据表!F6 与区域（可跨表，表名可为中文）；运算 + − * / ^ & 、取负、比较 = <> < > <= >=、括号；
函数 SUM、ROUND、ROUNDUP、ROUNDDOWN、ABS、MIN、MAX、AVERAGE、IF、IFERROR、AND、OR、NOT、N、COUNT、COUNTA、ISBLANK、
ISNUMBER、ISERROR；以及目录（udfs.excel.CATALOG）中的每个单元格函数——按 Excel 经 xlwings 调用它们的方式传参
（数字为 float、空白为 None、区域为一维或嵌套 list、错误值为“#DIV/0!”文本），所以返回的“错误：…”说明与 Excel 中显示的相同。
加载项函数在文件中可能带前缀（[1]!NAME、'…\\jixiao.xlam'!NAME、_xludf.NAME），一并识别。

被引用的单元格本身是公式时（基础数据表的合计 =SUM(C5:C7)、用户加的行）递归求值，循环引用给出说明。
计算用 Decimal；值与 Excel 相同（空白参与运算按 0、x÷0 为 #DIV/0!、文字参与运算为 #VALUE!），但本项目“空白不是 0”：
空白单元格被当作 0 参与运算时记一条 Issue（kind="blank"）点名该单元格；无法求值的公式（未知函数、外部链接、不支持的语法）
记一条 Issue（kind="unsupported"）点名单元格与函数，结果为 UNKNOWN——绝不悄悄当作空白，也不抛出异常。
本模块不产生“发现”：由计分引擎把 Issue 换成 findings 目录中的代码。
"""
from __future__ import annotations

import datetime as _dt
import inspect
import re
import sys
from dataclasses import dataclass, field
from decimal import ROUND_DOWN, ROUND_HALF_UP, ROUND_UP, Decimal, InvalidOperation, localcontext
from functools import lru_cache
from typing import Any, Callable, Iterator, Mapping

from udfs.excel import BY_NAME, ERROR_PREFIX, NA_TEXT
from udfs.numbers import InputError, parse_number

from ..model import Formula

Grid = Mapping[tuple[int, int], Any]
ZERO = Decimal(0)
ONE = Decimal(1)
MAX_DEPTH = 400  # 公式单元格引用链的最大深度（逐行累计的合计列也够用；超过即说明无法计算）
_FRAMES_PER_LEVEL = 12  # 每层引用用到的 Python 调用帧（求值时按需放宽递归上限；3.11 起纯 Python 调用不占 C 栈）


# ------------------------------------------------------------------------------------------------ 值
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
    reason: str = ""  # udf-error：IndicatorError.reason（missing 未填写 / zero-denominator 分母为 0 / invalid），未知为空


@dataclass
class Outcome:
    """一个公式的求值结果：value 为 Decimal / str / bool / datetime / Blank / XlError；issues 含被引用单元格的问题。"""

    value: Any
    issues: list[Issue] = field(default_factory=list)


def col_letters(c: int) -> str:
    out = ""
    while c:
        c, r = divmod(c - 1, 26)
        out = chr(65 + r) + out
    return out


def col_index(letters: str) -> int:
    n = 0
    for ch in letters.upper():
        n = n * 26 + ord(ch) - 64
    return n


class _Unsupported(Exception):
    """公式中有求值器不支持的部分（中文说明；function 为函数名或写法）。"""

    def __init__(self, detail: str, function: str = ""):
        super().__init__(detail)
        self.detail, self.function = detail, function


# ------------------------------------------------------------------------------------------------ 词法
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


# ------------------------------------------------------------------------------------------------ 语法（Excel 运算优先级）
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


# ------------------------------------------------------------------------------------------------ 求值
_NUMERIC_TEXT = re.compile(r"^\s*([+-]?(?:\d{1,3}(?:,\d{3})+|\d+)(?:\.\d*)?(?:[eE][+-]?\d+)?|[+-]?\.\d+)\s*(%?)\s*$")
_EXCEL_EPOCH = _dt.datetime(1899, 12, 30)


def _to_decimal(x: int | float) -> Decimal:
    return Decimal(x) if isinstance(x, int) else Decimal(repr(x))


def _date_serial(d: _dt.date) -> Decimal:
    if not isinstance(d, _dt.datetime):
        d = _dt.datetime(d.year, d.month, d.day)
    delta = d - _EXCEL_EPOCH
    return Decimal(delta.days) + Decimal(delta.seconds) / Decimal(86400)


class Evaluator:
    """对一个工作簿（表名 → 单元格网格）求值。同一 Evaluator 内每个公式单元格只求值一次（结果与问题一起缓存）。"""

    def __init__(self, grids: Mapping[str, Grid], values: Mapping[tuple[str, int, int], Any] | None = None):
        """grids：表名 → {(行, 列): 原值或 Formula}；values：(表名, 行, 列) → 值，优先于网格（引擎读出并可能已整理过的输入）。"""
        self.grids = grids
        self.values = dict(values or {})
        self._names = {name.upper(): name for name in grids}
        for sheet, _, _ in self.values:
            self._names.setdefault(sheet.upper(), sheet)
        self._memo: dict[tuple[str, int, int], Outcome] = {}
        self._stack: list[tuple[str, int, int]] = []

    # -------------------------------------------------------------------------------------- 入口
    def cell(self, sheet: str, addr: str, content: Any = None) -> Outcome:
        """单元格 sheet!addr 的值（公式则求值）。content 给出时用它代替网格中的内容（引擎已读出的 Formula）。"""
        ref = _parse_ref(addr, sheet)
        if content is None:
            content = self._raw(ref.sheet, ref.r1, ref.c1)
        limit = sys.getrecursionlimit()
        sys.setrecursionlimit(max(limit, MAX_DEPTH * _FRAMES_PER_LEVEL + 2000))
        try:
            return self._cell_value(self._sheet_name(ref.sheet) or sheet, ref.r1, ref.c1, content)
        finally:
            sys.setrecursionlimit(limit)

    # -------------------------------------------------------------------------------------- 单元格
    def _sheet_name(self, sheet: str) -> str | None:
        return self._names.get(sheet.upper())

    def _raw(self, sheet: str, r: int, c: int) -> Any:
        name = self._sheet_name(sheet)
        if name is None:
            return None
        if (name, r, c) in self.values:
            return self.values[(name, r, c)]
        grid = self.grids.get(name)
        return None if grid is None else grid.get((r, c))

    def _cell_value(self, sheet: str, r: int, c: int, content: Any) -> Outcome:
        addr = f"{col_letters(c)}{r}"
        if not isinstance(content, Formula):
            return Outcome(self._literal(content, sheet, addr))
        key = (sheet.upper(), r, c)
        if key in self._memo:
            return self._memo[key]
        if key in self._stack:
            chain = " → ".join(f"{s}!{col_letters(cc)}{rr}" for s, rr, cc in self._stack[self._stack.index(key):])
            err = XlError("#循环引用", sheet, addr, f"循环引用：{chain} → {sheet}!{addr}")
            return Outcome(err, [Issue("cycle", sheet, addr, err.detail)])
        if len(self._stack) >= MAX_DEPTH:
            return self._unsupported(sheet, addr, content, _Unsupported(f"引用链超过 {MAX_DEPTH} 层"))
        self._stack.append(key)
        try:
            out = self._formula(sheet, addr, content)
        finally:
            self._stack.pop()
        self._memo[key] = out
        return out

    def _formula(self, sheet: str, addr: str, f: Formula) -> Outcome:
        issues: list[Issue] = []
        try:
            tree = parse(f.text)
        except _Unsupported as exc:
            return self._unsupported(sheet, addr, f, exc)
        except RecursionError:
            return self._unsupported(sheet, addr, f, _Unsupported("括号或函数嵌套层数过多"))
        ctx = _Ctx(self, sheet, addr, issues)
        try:
            value = ctx.scalar(ctx.eval(tree))
        except RecursionError:
            return self._unsupported(sheet, addr, f, _Unsupported("引用层数过多"))
        except _Unsupported as exc:
            out = self._unsupported(sheet, addr, f, exc)
            out.issues[:0] = [i for i in issues if i.kind != "blank"]
            return out
        if isinstance(value, Blank):  # =A1 而 A1 为空：Excel 显示 0
            ctx.blank_used(value)
            value = ZERO
        return Outcome(value, _dedupe(issues))

    def _unsupported(self, sheet: str, addr: str, f: Formula, exc: _Unsupported) -> Outcome:
        detail = f"公式 {f.text[:80]} 中的{exc.detail}"
        if f.cached is not None:
            return Outcome(self._literal(f.cached, sheet, addr), [Issue("unsupported-cached", sheet, addr, detail, exc.function)])
        return Outcome(XlError(UNKNOWN_CODE, sheet, addr, detail), [Issue("unsupported", sheet, addr, detail, exc.function)])

    @staticmethod
    def _literal(v: Any, sheet: str, addr: str) -> Any:
        """单元格中的常量 → 求值器的值：数字为 Decimal，空为 Blank，错误值文本为 XlError，日期保留（运算时按序列号）。"""
        if v is None:
            return Blank(sheet, addr)
        if isinstance(v, bool):
            return v
        if isinstance(v, (int, float)):
            if isinstance(v, float) and (v != v or v in (float("inf"), float("-inf"))):
                return XlError("#NUM!", sheet, addr, "数值无效")
            return _to_decimal(v)
        if isinstance(v, Decimal):
            return v
        if isinstance(v, str) and v.strip() in EXCEL_ERRORS:
            return XlError(v.strip(), sheet, addr, f"单元格为错误值 {v.strip()}")
        return v


def _dedupe(issues: list[Issue]) -> list[Issue]:
    seen: set[tuple[str, str, str]] = set()
    out = []
    for i in issues:
        k = (i.kind, i.sheet.upper(), i.cell)
        if k not in seen:
            seen.add(k)
            out.append(i)
    return out


class _Ctx:
    """求值一个公式的上下文：所在单元格（相对引用不需要，但无表名的引用属于本表）与收集到的问题。"""

    def __init__(self, ev: Evaluator, sheet: str, addr: str, issues: list[Issue]):
        self.ev, self.sheet, self.addr, self.issues = ev, sheet, addr, issues

    # ------------------------------------------------------------------ 引用
    def ref(self, text: str) -> RangeRef:
        r = _parse_ref(text, self.sheet)
        if "[" in r.sheet or "\\" in r.sheet or "/" in r.sheet:
            raise _Unsupported(f"外部链接 {text}（引用其他工作簿）", "外部链接")
        name = self.ev._sheet_name(r.sheet)
        if name is None:
            raise _Unsupported(f"引用的工作表“{r.sheet}”不存在", r.sheet)
        return RangeRef(name, r.r1, r.c1, r.r2, r.c2)

    def cell_at(self, sheet: str, r: int, c: int) -> Any:
        out = self.ev._cell_value(sheet, r, c, self.ev._raw(sheet, r, c))
        self.issues.extend(out.issues)
        return out.value

    def cells(self, rng: RangeRef) -> list[list[Any]]:
        """区域中的值（按行）。整行/整列引用只取网格中已有的单元格范围。"""
        r2, c2 = rng.r2, rng.c2
        if rng.r2 - rng.r1 > 10000 or rng.c2 - rng.c1 > 1000:  # 整行、整列：只取已有单元格的范围
            used = list(self.ev.grids.get(rng.sheet, {})) + [(r, c) for s, r, c in self.ev.values if s == rng.sheet]
            r2 = min(r2, max((r for r, _ in used), default=rng.r1))
            c2 = min(c2, max((c for _, c in used), default=rng.c1))
        return [[self.cell_at(rng.sheet, r, c) for c in range(rng.c1, c2 + 1)] for r in range(rng.r1, r2 + 1)]

    def scalar(self, v: Any) -> Any:
        """引用在标量位置：单个单元格取其值；多格区域不能直接参与运算（Excel 旧版的隐式交集，新版溢出）。"""
        if isinstance(v, RangeRef):
            if not v.single:
                raise _Unsupported(f"区域 {v.a1} 直接参与运算（应放在 SUM 等函数中）", v.a1)
            return self.cell_at(v.sheet, v.r1, v.c1)
        return v

    def blank_used(self, b: Blank) -> None:
        if b.cell:
            self.issues.append(Issue("blank", b.sheet, b.cell, f"{b.sheet}!{b.cell} 为空，Excel 按 0 计算"))

    # ------------------------------------------------------------------ 强制转换（Excel 规则）
    def number(self, v: Any) -> Decimal | XlError:
        v = self.scalar(v)
        if isinstance(v, XlError):
            return v
        if isinstance(v, bool):
            return ONE if v else ZERO
        if isinstance(v, Decimal):
            return v
        if isinstance(v, Blank):
            self.blank_used(v)
            return ZERO
        if isinstance(v, (_dt.date, _dt.datetime)):
            return _date_serial(v)
        if isinstance(v, str):
            m = _NUMERIC_TEXT.match(v)
            if m:  # Excel 把像数字的文本（"3"、"1,234"、"95%"）当作数字参与运算
                d = Decimal(m.group(1).replace(",", ""))
                return d / 100 if m.group(2) else d
            if v.startswith(ERROR_PREFIX):
                return XlError("#VALUE!", self.sheet, self.addr, f"单元格函数返回“{v[:80]}”，不是数字")
            return XlError("#VALUE!", self.sheet, self.addr, f"文字“{v[:40]}”不能参与运算")
        return XlError("#VALUE!", self.sheet, self.addr, f"无法作为数字：{v!r}"[:80])

    def number_at(self, v: Any) -> Decimal | XlError:
        """number()，文字的 #VALUE! 指向该文字所在的单元格（引用时）而不是公式所在格。"""
        if isinstance(v, RangeRef) and v.single:
            n = self.number(v)
            if isinstance(n, XlError) and n.code == "#VALUE!" and n.cell == self.addr:
                return XlError(n.code, v.sheet, v.a1, n.detail)
            return n
        return self.number(v)

    def text(self, v: Any) -> str | XlError:
        v = self.scalar(v)
        if isinstance(v, XlError):
            return v
        if isinstance(v, Blank):
            return ""
        if isinstance(v, bool):
            return "TRUE" if v else "FALSE"
        if isinstance(v, Decimal):
            return _general(v)
        if isinstance(v, (_dt.date, _dt.datetime)):
            return _general(_date_serial(v))
        return str(v)

    def boolean(self, v: Any) -> bool | XlError:
        v = self.scalar(v)
        if isinstance(v, XlError):
            return v
        if isinstance(v, bool):
            return v
        if isinstance(v, Blank):
            self.blank_used(v)
            return False
        if isinstance(v, str):
            if v.strip().upper() in ("TRUE", "FALSE"):
                return v.strip().upper() == "TRUE"
            return XlError("#VALUE!", self.sheet, self.addr, f"文字“{v[:40]}”不能作为条件")
        n = self.number(v)
        return n if isinstance(n, XlError) else n != 0

    # ------------------------------------------------------------------ 语法树
    def eval(self, node: tuple | None) -> Any:
        if node is None:
            return Blank()
        kind = node[0]
        if kind == "lit":
            return node[1]
        if kind == "ref":
            return self.ref(node[1])
        if kind == "neg" or kind == "pos":
            n = self.number_at(self.eval(node[1]))
            return n if isinstance(n, XlError) or kind == "pos" else -n
        if kind == "pct":
            n = self.number_at(self.eval(node[1]))
            return n if isinstance(n, XlError) else n / 100
        if kind == "arith":
            return self.arith(node[1], self.eval(node[2]), self.eval(node[3]))
        if kind == "&":
            a, b = self.text(self.eval(node[1])), self.text(self.eval(node[2]))
            return a if isinstance(a, XlError) else b if isinstance(b, XlError) else a + b
        if kind == "cmp":
            return self.compare(node[1], self.eval(node[2]), self.eval(node[3]))
        if kind == "call":
            return self.call(node[1], node[2])
        raise _Unsupported(f"写法 {kind}")  # pragma: no cover - 语法分析只产生以上节点

    def arith(self, op: str, a: Any, b: Any) -> Any:
        """+ − * / ^。精度为 Decimal 默认的 28 位有效数字，与单元格函数的纯函数相同（同一除法得到同一个 Decimal）。"""
        x, y = self.number_at(a), self.number_at(b)
        if isinstance(x, XlError):
            return x
        if isinstance(y, XlError):
            return y
        if op == "/" and y == 0:
            where = b if isinstance(b, RangeRef) and b.single else None
            if where is None:
                return XlError("#DIV/0!", self.sheet, self.addr, "除数为 0")
            return XlError("#DIV/0!", where.sheet, where.a1, f"除数 {where.sheet}!{where.a1} 为 0")
        if op == "^" and x == 0 and y < 0:
            return XlError("#DIV/0!", self.sheet, self.addr, "0 的负数次方")
        if op == "^" and x < 0 and y != y.to_integral_value():
            return XlError("#NUM!", self.sheet, self.addr, "负数的非整数次方")
        try:
            if op == "+":
                r = x + y
            elif op == "-":
                r = x - y
            elif op == "*":
                r = x * y
            elif op == "/":
                r = x / y
            elif y == y.to_integral_value() and abs(y) <= 1000:
                r = x ** int(y)
            else:
                r = Decimal(repr(float(x) ** float(y)))
        except (InvalidOperation, OverflowError, ArithmeticError, ValueError):
            return XlError("#NUM!", self.sheet, self.addr, "数值超出范围")
        return ZERO if r == 0 else r  # 0 ÷ 22.98 在 Decimal 中是 0E+2，显示与比较都按 0

    def compare(self, op: str, a: Any, b: Any) -> Any:
        x, y = self.scalar(a), self.scalar(b)
        for v in (x, y):
            if isinstance(v, XlError):
                return v
        # 空白与数字比较时按 0（与文字比较时按 ""）
        if isinstance(x, Blank):
            x = "" if isinstance(y, str) else self.number(x)
        if isinstance(y, Blank):
            y = "" if isinstance(x, str) else self.number(y)
        if isinstance(x, (_dt.date, _dt.datetime)):
            x = _date_serial(x)
        if isinstance(y, (_dt.date, _dt.datetime)):
            y = _date_serial(y)

        def rank(v: Any) -> int:  # Excel 的排序：数字 < 文字 < 逻辑值
            return 2 if isinstance(v, bool) else 1 if isinstance(v, str) else 0

        kx, ky = (rank(x), x.upper() if isinstance(x, str) else x), (rank(y), y.upper() if isinstance(y, str) else y)
        if kx[0] != ky[0]:
            kx, ky = (kx[0], 0), (ky[0], 0)
        return {"=": kx == ky, "<>": kx != ky, "<": kx < ky, ">": kx > ky, "<=": kx <= ky, ">=": kx >= ky}[op]

    # ------------------------------------------------------------------ 函数
    def call(self, name: str, args: tuple) -> Any:
        if name in BY_NAME:
            return self.udf(name, args)
        impl = _FUNCTIONS.get(name)
        if impl is None:
            raise _Unsupported(f"函数 {name}（jixiao 不支持该函数）", name)
        return impl(self, args)

    def values(self, args: tuple) -> Iterator[tuple[Any, bool]]:
        """函数参数逐个展开：(值, 是否来自区域引用)。Excel 的 SUM 等对区域中的文字、逻辑值、空白忽略，对直接写的参数转换。"""
        for a in args:
            v = self.eval(a)
            if isinstance(v, RangeRef):
                rows = self.cells(v)
                flat = [x for row in rows for x in row]
                if flat and all(isinstance(x, Blank) for x in flat):
                    # 区域全空：SUM 得 0，像是“已填写 0”——点名区域（部分空白是常态，不报）
                    self.issues.append(Issue("blank", v.sheet, v.a1, f"{v.sheet}!{v.a1} 全部为空，Excel 按 0 计算"))
                for x in flat:
                    yield x, True
            else:
                yield v, False

    def numbers(self, args: tuple) -> list[Decimal] | XlError:
        out: list[Decimal] = []
        for v, from_range in self.values(args):
            if isinstance(v, XlError):
                return v
            if from_range:
                if isinstance(v, Decimal):
                    out.append(v)
                elif isinstance(v, (_dt.date, _dt.datetime)):
                    out.append(_date_serial(v))
                continue
            if isinstance(v, Blank):
                continue  # =SUM(,1) 中省略的参数
            n = self.number(v)
            if isinstance(n, XlError):
                return n
            out.append(n)
        return out

    def udf(self, name: str, args: tuple) -> Any:
        """目录中的单元格函数：按 xlwings 的参数形态调用（float / None / list），与 Excel 中得到同样的结果。"""
        required, total = _udf_arity(name)
        if not required <= len(args) <= total:
            raise _Unsupported(f"函数 {name} 的参数个数为 {len(args)}，应为 {required}～{total} 个", name)
        xl_args: list[Any] = []
        refs: list[tuple[RangeRef, Any]] = []
        arg_refs: list[RangeRef | None] = []  # 与参数一一对应：单个单元格的引用，其余为 None
        for a in args:
            v = self.eval(a)
            if isinstance(v, RangeRef):
                rows = [[_xl(x) for x in row] for row in self.cells(v)]
                if v.single:
                    refs.append((v, rows[0][0]))
                arg_refs.append(v if v.single else None)
                xl_args.append(_shape(rows))
            else:
                arg_refs.append(None)
                xl_args.append(_xl(v))
        errors: list[Exception] = []
        result = _call_exact(name, xl_args, errors)
        if isinstance(result, str) and result.startswith(ERROR_PREFIX):
            exc = errors[0] if errors else None
            index = getattr(exc, "arg_index", None)
            # 函数说明了是第几个参数出错（IndicatorError.arg_index）就指向那一格，否则按参数的值推断
            if index is not None and 0 <= index < len(arg_refs) and arg_refs[index] is not None:
                ref = arg_refs[index]
                sheet, cell = ref.sheet, ref.a1
            else:
                sheet, cell = _blame(refs, result) or (self.sheet, self.addr)
            self.issues.append(Issue("udf-error", sheet, cell, result[len(ERROR_PREFIX):], name,
                                     getattr(exc, "reason", None) or ""))
        return result


@lru_cache(maxsize=None)
def _udf_arity(name: str) -> tuple[int, int]:
    """单元格函数的（必填参数数，参数总数）：Excel 不允许输入参数个数不对的公式。"""
    params = list(inspect.signature(BY_NAME[name].func).parameters.values())
    return sum(1 for p in params if p.default is inspect.Parameter.empty), len(params)


def _xl(v: Any) -> Any:
    """求值器的值 → xlwings 传给单元格函数的值（err_to_str=True：错误值为其文本）。"""
    if isinstance(v, Blank):
        return None
    if isinstance(v, XlError):
        return v.code if v.code != UNKNOWN_CODE else "#NAME?"
    if isinstance(v, Decimal):
        return float(v)
    return v


def _shape(rows: list[list[Any]]) -> Any:
    """xlwings 默认转换：单格 → 标量；单行或单列 → 一维 list；多行多列 → 嵌套 list。"""
    if len(rows) == 1 and len(rows[0]) == 1:
        return rows[0][0]
    if len(rows) == 1:
        return rows[0]
    if all(len(r) == 1 for r in rows):
        return [r[0] for r in rows]
    return rows


def _call_exact(name: str, args: list[Any], errors: list[Exception] | None = None) -> Any:
    """与 udfs.xl 的包装相同的错误处理，但数值结果保留 Decimal（不经 float），无界面引擎得到与直接调用纯函数相同的精确值。
    errors：函数报错时放入那个异常（见 udfs.excel.excel_safe）。"""
    from udfs.excel import excel_safe

    try:
        result = excel_safe(BY_NAME[name].func, exact=True, errors=errors)(*args)
    except Exception as exc:  # noqa: BLE001 —— 与 udfs/xl.py 相同：单元格里只出现中文说明
        return f"{ERROR_PREFIX}{name} 无法计算（{type(exc).__name__}）"
    return result


def _blame(refs: list[tuple[RangeRef, Any]], message: str) -> tuple[str, str] | None:
    """单元格函数报错时指向数据所在格：第一个不是数字的参数，否则第一个空白参数，否则最后一个参数（多为分母）。"""
    if not refs:
        return None
    for ref, v in refs:
        if v is None or (isinstance(v, str) and not v.strip()):
            continue
        try:
            parse_number(v)
        except InputError:
            return ref.sheet, ref.a1
    for ref, v in refs:
        try:
            if parse_number(v).value is None:
                return ref.sheet, ref.a1
        except InputError:  # pragma: no cover - 上一循环已处理
            continue
    return refs[-1][0].sheet, refs[-1][0].a1


def _general(d: Decimal) -> str:
    """数字按 Excel“常规”格式转为文本（& 连接时）：最多 15 位有效数字，去掉多余的 0。"""
    if d == d.to_integral_value() and abs(d) < Decimal(10) ** 15:
        return str(int(d))
    s = f"{float(d):.15g}"
    if "e" in s:
        mant, exp = s.split("e")
        return f"{mant}E{'+' if int(exp) >= 0 else '-'}{abs(int(exp)):02d}"
    return s


# ------------------------------------------------------------------------------------------------ 内置函数
def _sum(ctx: _Ctx, args: tuple) -> Any:
    ns = ctx.numbers(args)
    return ns if isinstance(ns, XlError) else sum(ns, ZERO)


def _average(ctx: _Ctx, args: tuple) -> Any:
    ns = ctx.numbers(args)
    if isinstance(ns, XlError):
        return ns
    if not ns:
        return XlError("#DIV/0!", ctx.sheet, ctx.addr, "AVERAGE 没有可计算的数字")
    return sum(ns, ZERO) / len(ns)


def _min(ctx: _Ctx, args: tuple) -> Any:
    ns = ctx.numbers(args)
    return ns if isinstance(ns, XlError) else min(ns, default=ZERO)


def _max(ctx: _Ctx, args: tuple) -> Any:
    ns = ctx.numbers(args)
    return ns if isinstance(ns, XlError) else max(ns, default=ZERO)


def _arity(name: str, args: tuple, lo: int, hi: int) -> None:
    if not lo <= len(args) <= hi:
        raise _Unsupported(f"函数 {name} 的参数个数为 {len(args)}，应为 {lo}～{hi} 个", name)


def _rounder(name: str, mode: str) -> Callable[[_Ctx, tuple], Any]:
    def impl(ctx: _Ctx, args: tuple) -> Any:
        _arity(name, args, 2, 2)
        x, n = ctx.number_at(ctx.eval(args[0])), ctx.number_at(ctx.eval(args[1]))
        if isinstance(x, XlError):
            return x
        if isinstance(n, XlError):
            return n
        places = int(n)  # Excel 截去小数位数的小数部分
        # Excel 的 ROUND 对 .5 远离 0 舍入（Decimal 的 ROUND_HALF_UP 正是如此，负数也一样）；ROUNDUP 远离 0，ROUNDDOWN 向 0
        rounding = {"half": ROUND_HALF_UP, "up": ROUND_UP, "down": ROUND_DOWN}[mode]
        with localcontext() as c:
            c.prec = max(34, x.adjusted() + places + 2)
            return x.quantize(Decimal(1).scaleb(-places), rounding=rounding)

    return impl


def _abs(ctx: _Ctx, args: tuple) -> Any:
    _arity("ABS", args, 1, 1)
    x = ctx.number_at(ctx.eval(args[0]))
    return x if isinstance(x, XlError) else abs(x)


def _if(ctx: _Ctx, args: tuple) -> Any:
    _arity("IF", args, 1, 3)
    cond = ctx.boolean(ctx.eval(args[0]))
    if isinstance(cond, XlError):
        return cond
    if cond:
        return ZERO if len(args) < 2 or args[1] is None else ctx.scalar(ctx.eval(args[1]))
    if len(args) < 3:
        return False
    return ZERO if args[2] is None else ctx.scalar(ctx.eval(args[2]))


def _iferror(ctx: _Ctx, args: tuple) -> Any:
    _arity("IFERROR", args, 2, 2)
    v = ctx.scalar(ctx.eval(args[0]))
    if isinstance(v, XlError) and v.code != UNKNOWN_CODE:
        return ZERO if args[1] is None else ctx.scalar(ctx.eval(args[1]))
    return v


def _logical(name: str, combine: Callable[[list[bool]], bool]) -> Callable[[_Ctx, tuple], Any]:
    def impl(ctx: _Ctx, args: tuple) -> Any:
        bs: list[bool] = []
        for v, from_range in ctx.values(args):
            if isinstance(v, XlError):
                return v
            if from_range and not isinstance(v, (bool, Decimal)):
                continue
            b = ctx.boolean(v)
            if isinstance(b, XlError):
                return b
            bs.append(b)
        if not bs:
            return XlError("#VALUE!", ctx.sheet, ctx.addr, f"{name} 没有可判断的逻辑值")
        return combine(bs)

    return impl


def _not(ctx: _Ctx, args: tuple) -> Any:
    _arity("NOT", args, 1, 1)
    b = ctx.boolean(ctx.eval(args[0]))
    return b if isinstance(b, XlError) else not b


def _first(ctx: _Ctx, v: Any) -> Any:
    if isinstance(v, RangeRef):
        return ctx.cell_at(v.sheet, v.r1, v.c1)
    return v


def _n(ctx: _Ctx, args: tuple) -> Any:
    """N(x)：数字原样，TRUE 为 1，其余（文字、空白）为 0——用户明确写出“空白按 0”，不报空白。"""
    _arity("N", args, 1, 1)
    v = _first(ctx, ctx.eval(args[0]))
    if isinstance(v, XlError) or isinstance(v, Decimal):
        return v
    if isinstance(v, bool):
        return ONE if v else ZERO
    if isinstance(v, (_dt.date, _dt.datetime)):
        return _date_serial(v)
    return ZERO


def _count(ctx: _Ctx, args: tuple) -> Any:
    n = 0
    for v, from_range in ctx.values(args):
        if isinstance(v, (Decimal, _dt.date, _dt.datetime)) and not isinstance(v, bool):
            n += 1
        elif not from_range and (isinstance(v, bool) or (isinstance(v, str) and _NUMERIC_TEXT.match(v))):
            n += 1
    return Decimal(n)


def _counta(ctx: _Ctx, args: tuple) -> Any:
    n = 0
    for a in args:
        v = ctx.eval(a)
        if isinstance(v, RangeRef):
            n += sum(1 for row in ctx.cells(v) for x in row if not isinstance(x, Blank))
        elif a is not None:
            n += 1
    return Decimal(n)


def _is(name: str, test: Callable[[Any], bool]) -> Callable[[_Ctx, tuple], Any]:
    def impl(ctx: _Ctx, args: tuple) -> Any:
        _arity(name, args, 1, 1)
        return test(_first(ctx, ctx.eval(args[0])))

    return impl


_FUNCTIONS: dict[str, Callable[[_Ctx, tuple], Any]] = {
    "SUM": _sum, "AVERAGE": _average, "MIN": _min, "MAX": _max, "ABS": _abs,
    "ROUND": _rounder("ROUND", "half"), "ROUNDUP": _rounder("ROUNDUP", "up"), "ROUNDDOWN": _rounder("ROUNDDOWN", "down"),
    "IF": _if, "IFERROR": _iferror, "AND": _logical("AND", all), "OR": _logical("OR", any), "NOT": _not, "N": _n,
    "COUNT": _count, "COUNTA": _counta,
    "ISBLANK": _is("ISBLANK", lambda v: isinstance(v, Blank)),
    "ISNUMBER": _is("ISNUMBER", lambda v: isinstance(v, (Decimal, _dt.date, _dt.datetime)) and not isinstance(v, bool)),
    "ISERROR": _is("ISERROR", lambda v: isinstance(v, XlError) and v.code != UNKNOWN_CODE),
}
SUPPORTED_FUNCTIONS = tuple(sorted(_FUNCTIONS))


def functions_in(text: str) -> list[str]:
    """公式中调用的函数名（大写，含加载项前缀的写法），供说明与测试用；无法解析时为空。"""
    try:
        tree = parse(text)
    except _Unsupported:
        return []
    out: list[str] = []

    def walk(node: Any) -> None:
        if not isinstance(node, tuple) or not node or node[0] == "lit":
            return
        if node[0] == "call":
            out.append(node[1])
            for arg in node[2]:
                walk(arg)
            return
        for child in node[1:]:
            walk(child)

    walk(tree)
    return out


def display(value: Any) -> Any:
    """求值结果 → 单元格中显示的值（与 formulas 包、Excel 相同的形态）：Decimal 为 float，错误值为其代码，空白为 None。"""
    if isinstance(value, XlError):
        return value.code
    if isinstance(value, Blank):
        return None
    if isinstance(value, Decimal):
        return float(value)
    return value


__all__ = ["Evaluator", "Outcome", "Issue", "XlError", "Blank", "RangeRef", "parse", "tokens", "display", "functions_in",
           "SUPPORTED_FUNCTIONS", "UNKNOWN_CODE", "NA_TEXT"]
