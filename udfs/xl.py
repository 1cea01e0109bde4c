"""Excel 单元格函数（xlwings UDF）的薄层：把 udfs.excel.CATALOG 中的每个函数注册为 Excel 函数。

在 Excel 中（Windows，xlwings 加载项的 UDF Modules 填 ``udfs.xl``）点击“Import Functions”后，xlwings 为本模块中
每个带 ``__xlfunc__`` 元数据的函数生成一个 VBA 函数并用 MacroOptions 写入说明。xlwings 读取元数据的方式
（xlwings/udfs.py）决定了这里的写法：

- 函数名取 ``f.__name__``，调用时又用 ``getattr(模块, 函数名)`` 找回函数——所以每个包装函数的 ``__name__``
  必须等于它在本模块中的属性名（即 CATALOG 中的名称），且同一函数对象不能以两个名字出现（否则生成重复的 VBA 函数）；
- 参数表取 ``inspect.signature(f)``，参数名原样写进 VBA 的 ``Function 名称(参数, Optional 参数…)``——所以参数名必须是
  ASCII 标识符且不是 VBA 关键字（End、Public 等），有默认值的参数成为 Optional；
- 函数说明取 ``f.__doc__``（截为 255 个字符），参数说明取 ``@xw.arg(名称, doc=…)``，类别取 ``@xw.func(category=…)``。

在 Linux/macOS 上 ``xw.func``/``xw.arg`` 是原样返回函数的空操作，包装函数就是普通 Python 函数，测试直接调用它们。

Excel 经 xlwings 传入：数字为 float，空白为 None，文本为 str，区域为 list（单行/单列为一维，多行多列为嵌套 list），
错误单元格为 “#DIV/0!” 之类的文本（``err_to_str=True``），省略的可选参数为该参数的默认值。
计算一律交给 ``UdfSpec.excel``（与命令行、测试同一段代码），它把所有可预见的错误变成以“错误：”开头的中文文本。

本模块只导入 xlwings 与 udfs 自身，不导入 pandas/openpyxl（xlwings 自己是否加载 pandas 由它决定）。
"""
from __future__ import annotations

import inspect
from typing import Any, Callable

import xlwings as xw

from .excel import CATALOG, ERROR_PREFIX, UdfSpec

CATEGORY = "绩效评价"
MAX_DOC = 255  # Excel 函数向导截断说明的长度

# 纯函数的参数名里与 VBA 关键字冲突的，换成不冲突的名字（VBA 不区分大小写）
VBA_RENAMES = {"end": "balance_end", "begin": "balance_begin", "public": "public_rate"}

# VBA 保留字与内置语句名（作参数名会导致生成的模块无法编译）；测试用它检查全部参数名
VBA_RESERVED = frozenset(w.lower() for w in (
    "AddressOf And Any As Boolean ByRef Byte ByVal Call Case CBool CByte CCur CDate CDbl CDec CInt CLng CLngLng "
    "CLngPtr Close Const CSng CStr Currency CVar CVErr Date Debug Declare DefBool DefByte DefCur DefDate DefDbl "
    "DefInt DefLng DefLngLng DefLngPtr DefObj DefSng DefStr DefVar Dim Do Double Each Else ElseIf Empty End Enum "
    "Eqv Erase Error Event Exit False For Friend Function Get Global GoSub GoTo If Imp Implements In Input Integer "
    "Is LBound Len Let Lib Like LongLong LongPtr Long Loop LSet Me Mod Name New Next Not Nothing Null Object On "
    "Open Option Optional Or ParamArray Preserve Print Private Property PtrSafe Public Put RaiseEvent ReDim Rem "
    "Resume Return RSet Seek Select Set Single Static Step Stop String Sub Then To True Type TypeOf UBound Until "
    "Variant Wend While With WithEvents Write Xor caller").split())


class _Omitted:
    """Excel 调用时省略的可选参数（区别于引用了空白单元格的 None）。"""

    _instance: _Omitted | None = None

    def __new__(cls) -> _Omitted:
        if cls._instance is None:
            cls._instance = super().__new__(cls)
        return cls._instance

    def __repr__(self) -> str:
        return "省略"


OMITTED = _Omitted()


def vba_name(py_name: str) -> str:
    """纯函数参数名 → VBA 参数名。"""
    return VBA_RENAMES.get(py_name, py_name)


def arg_doc(cn_name: str, desc: str) -> str:
    """函数向导里的参数说明：VBA 参数名只能是英文，中文名称写在说明开头。"""
    text = f"{cn_name}：{desc}" if desc else cn_name
    return text[:MAX_DOC]


def _make_wrapper(spec: UdfSpec, func: Callable[..., Any] = xw.func, arg: Callable[..., Any] = xw.arg
                  ) -> Callable[..., Any]:
    """为一个目录项生成单元格函数：真实的签名（inspect.signature 可读）、正确的 __name__ 与 __doc__。

    func/arg 是 xlwings 的装饰器（默认 xw.func/xw.arg）；构建加载项时传入 xlwings.udfs 的 xlfunc/xlarg，以便在任何
    系统上得到与 Windows 上相同的 ``__xlfunc__`` 元数据（见 addin/excel/vba_modules.py）。"""
    impl = spec.excel
    py_params = list(inspect.signature(spec.func).parameters.values())
    if len(py_params) != len(spec.args):  # 目录与纯函数不一致是开发错误，导入时就报出
        raise RuntimeError(f"{spec.name}：目录中的参数说明（{len(spec.args)} 个）与函数参数（{len(py_params)} 个）不一致")
    params = [inspect.Parameter(vba_name(p.name), inspect.Parameter.POSITIONAL_OR_KEYWORD,
                                default=OMITTED if p.default is not inspect.Parameter.empty else inspect.Parameter.empty)
              for p in py_params]
    signature = inspect.Signature(params)

    def udf(*args: Any, **kwargs: Any) -> Any:
        bound = signature.bind(*args, **kwargs)
        bound.apply_defaults()
        values = list(bound.arguments.values())
        # 末尾省略的可选参数不传，让纯函数用它自己的默认值（如满意度权重 50/40/10）；中间省略的视为空白
        while values and values[-1] is OMITTED:
            values.pop()
        values = [None if v is OMITTED else v for v in values]
        try:
            return impl(*values)
        except Exception as exc:  # noqa: BLE001 —— 单元格里绝不出现 Python 回溯
            return f"{ERROR_PREFIX}{spec.name} 无法计算（{type(exc).__name__}）"

    # xlwings 把类型注解当作转换器（get_type_hints → options["convert"]），返回值注解 Any 会让 Excel 端写回结果时
    # 找不到转换器而出错；这里的输入输出都用 xlwings 的默认转换，所以清空注解
    udf.__annotations__ = {}
    udf.__name__ = udf.__qualname__ = spec.name
    udf.__doc__ = spec.description[:MAX_DOC]
    udf.__module__ = __name__
    udf.__signature__ = signature  # type: ignore[attr-defined]
    udf.udf_spec = spec  # type: ignore[attr-defined]  # 测试与文档用：对应的目录项

    # 与手写 @xw.func / @xw.arg 装饰器等价：先逐个参数写说明，最后 func 设定类别（func 必须最后应用，
    # 因为 xw.arg 首次调用时会以默认类别“xlwings”初始化元数据）
    for p, (cn, desc) in zip(params, spec.args, strict=True):
        udf = arg(p.name, doc=arg_doc(cn, desc), err_to_str=True)(udf)
    registered: Callable[..., Any] = func(category=CATEGORY)(udf)
    return registered


def decorated_wrappers(func: Callable[..., Any], arg: Callable[..., Any]) -> dict[str, Callable[..., Any]]:
    """目录中每个函数的包装，用给定的装饰器注册（名称 → 函数，与 WRAPPERS 同序）。"""
    return {spec.name: _make_wrapper(spec, func, arg) for spec in CATALOG}


WRAPPERS: dict[str, Callable[..., Any]] = {}
for _spec in CATALOG:
    WRAPPERS[_spec.name] = globals()[_spec.name] = _make_wrapper(_spec)
del _spec

__all__ = [s.name for s in CATALOG]
