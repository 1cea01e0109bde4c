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
import sys
from decimal import Decimal, InvalidOperation
from typing import Any, Iterator, Mapping

from udfs.excel import BY_NAME, ERROR_PREFIX
from udfs.indicators import IndicatorError

from ..io.ooxml import col_letters
from ..model import Formula
from .formula_functions import _FUNCTIONS, _blame, _call_exact, _general, _shape, _udf_arity, _xl
from .formula_syntax import (
    _NUMERIC_TEXT,
    EXCEL_ERRORS,
    ONE,
    UNKNOWN_CODE,
    ZERO,
    Blank,
    Issue,
    Outcome,
    RangeRef,
    XlError,
    _date_serial,
    _parse_ref,
    _to_decimal,
    _Unsupported,
    parse,
)

Grid = Mapping[tuple[int, int], Any]
MAX_DEPTH = 400  # 公式单元格引用链的最大深度（逐行累计的合计列也够用；超过即说明无法计算）
_FRAMES_PER_LEVEL = 12  # 每层引用用到的 Python 调用帧（求值时按需放宽递归上限；3.11 起纯 Python 调用不占 C 栈）


# ------------------------------------------------------------------------------------------------ 值


# ------------------------------------------------------------------------------------------------ 词法


# ------------------------------------------------------------------------------------------------ 语法（Excel 运算优先级）


# ------------------------------------------------------------------------------------------------ 求值


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
                                     (exc.code or "") if isinstance(exc, IndicatorError) else ""))
        return result


# ------------------------------------------------------------------------------------------------ 内置函数


def display(value: Any) -> Any:
    """求值结果 → 单元格中显示的值（与 formulas 包、Excel 相同的形态）：Decimal 为 float，错误值为其代码，空白为 None。"""
    if isinstance(value, XlError):
        return value.code
    if isinstance(value, Blank):
        return None
    if isinstance(value, Decimal):
        return float(value)
    return value


__all__ = ["Evaluator", "display"]
