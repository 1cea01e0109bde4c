"""实际值公式求值器支持的 Excel 内置函数（SUM、IF、ROUND……），各按 Excel 的规则处理空白、文本与错误值。"""
from __future__ import annotations

import datetime as _dt
import inspect
from decimal import ROUND_DOWN, ROUND_HALF_UP, ROUND_UP, Decimal, localcontext
from functools import lru_cache
from typing import TYPE_CHECKING, Any, Callable

from udfs.excel import BY_NAME, ERROR_PREFIX
from udfs.numbers import InputError, parse_number

from .formula_syntax import (
    _NUMERIC_TEXT,
    ONE,
    UNKNOWN_CODE,
    ZERO,
    Blank,
    RangeRef,
    XlError,
    _date_serial,
    _Unsupported,
    parse,
)

if TYPE_CHECKING:  # 只用于类型标注：求值上下文在 formula.py，它调用这里的函数
    from .formula import _Ctx


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
