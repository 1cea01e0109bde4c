"""udfs/xl.py：xlwings 单元格函数薄层。

Linux 上 xw.func/xw.arg 是空操作，包装函数就是普通函数，这里直接调用它们；Excel 端“Import Functions”会生成的
VBA 与函数向导说明，则在子进程里用 xlwings 自己的 udfs.py（以桩模块代替 pywin32）生成并检查。
"""
from __future__ import annotations

import inspect
import json
import re
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from udfs import xl
from udfs.excel import CATALOG, ERROR_PREFIX, NA_TEXT, call

ROOT = Path(__file__).resolve().parent.parent
CJK = re.compile(r"[\u4e00-\u9fff]")
VBA_IDENT = re.compile(r"^[A-Za-z][A-Za-z0-9_]*$")

# 每个单元格函数的一组正常输入与独立算出的期望值（比率为小数：0.95 = 95%）
SAMPLES: dict[str, tuple[tuple, object]] = {
    "STAFF_CONTROL_RATE": ((29.0, 30.0), 29 / 30),
    "SANGONG_CHANGE_RATE": ((9.0, 10.0), -0.1),
    "BUDGET_COMPLETION": ((10.0, 100.0, 10.0, 12.0), 108 / 120),
    "BUDGET_COMPLETION_ZZ": ((3296.75, 3642.94), 3296.75 / 3642.94),
    "BUDGET_CONTROL_RATE": ((5.0, 100.0), 0.05),
    "BUILDING_AREA_RATE": ((0.0, 0.0), NA_TEXT),
    "BUILDING_INVEST_RATE": ((90.0, 100.0), 0.9),
    "PUBLIC_EXPENSE_CONTROL": ((37.3, 10.5), 37.3 / 10.5),
    "PUBLIC_EXPENSE_CHANGE": ((37.3, 178.42), (37.3 - 178.42) / 178.42),
    "SANGONG_CONTROL_RATE": ((0.0, 0.0), NA_TEXT),
    "PROCUREMENT_RATE": ((95.0, 100.0), 0.95),
    "BUDGET_ARRIVAL_RATE": ((1826.09, 1826.09), 1.0),
    "CARRYOVER_RATE": ((7.77, 341.89, 3642.94), (7.77 - 341.89) / 3642.94),
    "CARRYOVER_CHANGE_RATE": ((7.77, 341.89), (7.77 - 341.89) / 341.89),
    "RECEIVABLE_CHANGE_RATE": ((110.0, 100.0), 0.1),
    "DEBT_STATUS": ((100.0, 80.0), "减少"),
    "ASSET_USE_RATE": ((1.0, 100.0), 0.99),
    "SATISFACTION": ((0.9, 0.8, 1.0), 0.9 * 0.5 + 0.8 * 0.4 + 1.0 * 0.1),
    "EXEC_DENOMINATOR": (("实际到位资金", 80.0, 100.0, 90.0, 70.0), 80.0),
    "BUDGET_EXECUTION": ((49.88, 100.0), 0.4988),
    "BUDGET_EXECUTION_BY": (("年初预算数", 63.0, 80.0, 100.0, 90.0, 70.0), 0.9),
    "OVERSTAFFING": ((7.0, 9.0), 2.0),
    "KEY_WORK_RATE": ((9.0, 10.0), 0.9),
    "TARGET_COMPLETION": (("≤", 10.0, 12.5), 0.8),
    "SCORE_THRESHOLD": ((1.01, 2.0, "报错", ["≤", 1.0] + [None] * 8), 0.0),
    "SCORE_RANGE": ((-0.15, 2.0, "报错", [-0.15, 0.15] + [None] * 8), 2.0),
    "SCORE_BANDS": ((0.07, 2.0, "满分", [0.05, 2.0, 0.1, 1.0, None, None, None, None, 0.0, "是"]), 1.0),
    "SCORE_LINEAR": ((3296.75 / 3642.94, 12.0, "报错", [0.85, 0.95] + [None] * 8), 6.6),
    "SCORE_STEP": ((0.955, 3.0, "报错", [1.0, 0.01, 0.5, "低于", "整步"] + [None] * 5), 1.0),
    "SCORE_TARGET": ((80.0, 10.0, "报错", ["≥", 100.0] + [None] * 8), 8.0),
    "SCORE_GRADE": (("良好", 10.0, "报错", ["优秀", 10.0, "良好", 8.0, "一般", 5.0, "较差", 0.0, None, None]), 8.0),
    "SCORE_DEDUCT": ((0.5, 2.0, "报错", [None] * 10), 1.5),
    "SCORE_QUALITATIVE": (("部分达成", 5.0, "报错", [None] * 10), 4.0),
    "SCORE_MANUAL": ((3.5, 4.0, "报错", [None] * 10), 3.5),
    "SCORE": ((0.905, 12.0, "线性插值", "报错", [0.85, 0.95] + [None] * 8), 6.6),
    "GRADE_OF": ((85.1, ["优秀", "良好", "一般", "较差"], [90.0, 80.0, 70.0, 0.0]), "良好"),
    "FINAL_SCORE": ((6.6, 4.0), 4.0),
}


def test_every_catalog_entry_has_a_module_level_wrapper():
    names = [s.name for s in CATALOG]
    assert sorted(xl.__all__) == sorted(names) == sorted(xl.WRAPPERS)
    assert set(SAMPLES) == set(names), "每个单元格函数都要有样例"
    for spec in CATALOG:
        f = getattr(xl, spec.name)
        # xlwings 用 __name__ 生成 VBA，再用 getattr(模块, 名称) 找回函数：两者必须一致
        assert f.__name__ == spec.name and f is xl.WRAPPERS[spec.name]
        assert f.udf_spec is spec
    # 同一函数对象不能以两个名字出现在模块里（否则 VBA 中出现重名函数）
    funcs = [v for k, v in vars(xl).items() if callable(v) and getattr(v, "udf_spec", None) is not None]
    assert len(funcs) == len({id(f) for f in funcs}) == len(CATALOG)


@pytest.mark.parametrize("spec", CATALOG, ids=lambda s: s.name)
def test_wrapper_metadata_and_signature(spec):
    f = getattr(xl, spec.name)
    assert f.__doc__ == spec.description and 0 < len(f.__doc__) <= 255 and CJK.search(f.__doc__)
    params = list(inspect.signature(f).parameters.values())
    pure = list(inspect.signature(spec.func).parameters.values())
    assert len(params) == len(spec.args) == len(pure)
    names = [p.name for p in params]
    assert len({n.lower() for n in names}) == len(names)
    for p, q, (cn, desc) in zip(params, pure, spec.args, strict=True):
        assert p.kind is inspect.Parameter.POSITIONAL_OR_KEYWORD
        assert VBA_IDENT.match(p.name) and len(p.name) <= 255, p.name
        assert p.name.lower() not in xl.VBA_RESERVED and p.name.lower() != spec.name.lower()
        # 纯函数有默认值的参数在 Excel 中是可选参数
        assert (p.default is xl.OMITTED) == (q.default is not inspect.Parameter.empty)
        doc = xl.arg_doc(cn, desc)
        assert len(doc) <= 255 and doc.startswith(cn) and CJK.search(doc)
    assert VBA_IDENT.match(spec.name) and spec.name.lower() not in xl.VBA_RESERVED


@pytest.mark.parametrize("spec", CATALOG, ids=lambda s: s.name)
def test_wrapper_returns_what_the_catalog_returns(spec):
    args, expected = SAMPLES[spec.name]
    got = getattr(xl, spec.name)(*args)
    assert got == call(spec.name, *args)
    if isinstance(expected, float):
        assert isinstance(got, float) and got == pytest.approx(expected, rel=1e-12, abs=1e-12), got
    else:
        assert got == expected


@pytest.mark.parametrize("spec", CATALOG, ids=lambda s: s.name)
@pytest.mark.parametrize("bad", ["abc", None, "#DIV/0!", "#N/A"])
def test_bad_input_gives_chinese_text_not_an_exception(spec, bad):
    f = getattr(xl, spec.name)
    n = len(spec.args)
    got = f(*([bad] * n))
    assert isinstance(got, (str, float)), got
    if isinstance(got, str):
        assert "Traceback" not in got and CJK.search(got), got
    if bad is not None:  # 文本与 Excel 错误值：一律“错误：…”
        assert got.startswith(ERROR_PREFIX), got
    # 把一个参数换成坏值（其余为正常样例），也只能得到文本说明
    good, _ = SAMPLES[spec.name]
    for i in range(len(good)):
        args = list(good)
        args[i] = bad
        got = f(*args)
        assert isinstance(got, (str, float)), (i, got)
        assert not isinstance(got, str) or "Traceback" not in got


def test_required_numbers_left_blank_are_reported():
    assert xl.STAFF_CONTROL_RATE(None, 30.0) == ERROR_PREFIX + "在职人员数未填写"
    assert xl.BUDGET_COMPLETION_ZZ(3296.75, "#DIV/0!").startswith(ERROR_PREFIX + "本年预算收入合计数")
    assert "#DIV/0!" in xl.BUDGET_COMPLETION_ZZ(3296.75, "#DIV/0!")
    # 参数区域里的 Excel 错误值
    got = xl.SCORE_LINEAR(0.9, 12.0, "报错", [0.85, "#REF!"] + [None] * 8)
    assert got.startswith(ERROR_PREFIX) and "#REF!" in got
    # 引用了显示“错误：…”的单元格：错误沿公式链传递，仍是中文说明
    assert xl.SCORE_LINEAR(ERROR_PREFIX + "本年预算收入合计数为 0", 12.0, "报错", [0.85, 0.95]).startswith(ERROR_PREFIX)
    assert xl.FINAL_SCORE(6.6, "abc") == ERROR_PREFIX + "调整得分：无法识别为数字：“abc”"
    assert xl.FINAL_SCORE(6.6, None) == 6.6 and xl.FINAL_SCORE(NA_TEXT, None) == NA_TEXT


def test_blank_value_cell_is_unfilled_in_excel_and_written_none_is_no_base():
    """Excel 把空白单元格作为 None 传入：评分函数显示“错误：实际值未填写”，不按“无基数时”给满分；
    写明的“无”“—”、以及实际值函数返回的“不适用”才按“无基数时”。"""
    assert xl.SCORE_DEDUCT(None, 2.0, "报错", [None] * 10) == ERROR_PREFIX + "实际值未填写"
    assert xl.SCORE_DEDUCT("", 2.0, "报错", [None] * 10) == ERROR_PREFIX + "实际值未填写"
    for none in (0.0, "无", "—"):
        assert xl.SCORE_DEDUCT(none, 2.0, "报错", [None] * 10) == 2.0
    params = [1.0, 0.05, 2.0, "超出", "整步"] + [None] * 5
    assert xl.SCORE_STEP(None, 5.0, "满分", params) == ERROR_PREFIX + "实际值未填写"
    assert xl.SCORE_STEP(NA_TEXT, 5.0, "满分", params) == 5.0
    assert xl.SCORE_STEP("无", 5.0, "满分", params) == 5.0
    assert xl.SCORE(None, 5.0, "按步扣分", "满分", params) == ERROR_PREFIX + "实际值未填写"
    # 楼堂馆所：两项写明“无”是 0÷0 →“不适用”；空白是未填写
    assert xl.BUILDING_AREA_RATE("无", "无") == NA_TEXT and xl.BUILDING_AREA_RATE(0.0, 0.0) == NA_TEXT
    assert xl.BUILDING_AREA_RATE(None, None) == ERROR_PREFIX + "实际建设面积未填写"
    assert xl.PROCUREMENT_RATE(None, 0.0) == ERROR_PREFIX + "实际政府采购金额未填写"
    # 本年追加空白：有调整预算数时推算，否则未填写（旧模板公式只有两个参数）
    assert xl.BUDGET_CONTROL_RATE(None, 3691.0, 3951.0) == pytest.approx(260 / 3691)
    assert xl.BUDGET_CONTROL_RATE(None, 3691.0).startswith(ERROR_PREFIX + "本年追加预算数未填写")
    assert xl.BUDGET_CONTROL_RATE(0.0, 3691.0, 3951.0) == 0.0


def test_unexpected_argument_types_never_raise():
    for weird in (object(), {"a": 1}, [[1.0, "x"], [None, 2.0]], float("nan"), True):
        for spec in CATALOG:
            got = getattr(xl, spec.name)(*([weird] * len(spec.args)))
            assert isinstance(got, (str, float)), (spec.name, weird, got)


def test_omitted_optional_arguments_use_the_defaults():
    # Excel 中 =SATISFACTION(B1,B2,B3) 省略权重：xlwings 传入参数默认值 OMITTED，按 50/40/10 计算
    o = xl.OMITTED
    assert xl.SATISFACTION(0.9, 0.8, 1.0, o, o, o) == xl.SATISFACTION(0.9, 0.8, 1.0) == pytest.approx(0.87)
    assert xl.SATISFACTION(0.9, 0.8, 1.0, 0.5, 0.5, 0.0) == pytest.approx(0.85)
    # 中间省略的参数视为空白
    assert xl.SATISFACTION(0.9, 0.8, 1.0, 0.5, o, 0.1).startswith(ERROR_PREFIX)
    assert xl.SCORE_DEDUCT(0.5, 2.0) == 1.5
    assert xl.SCORE_DEDUCT(value=0.5, points=2.0) == 1.5  # 真实签名：可按参数名调用


def test_udfs_core_never_imports_excel_libraries():
    code = textwrap.dedent("""
        import json, sys
        import udfs, udfs.numbers, udfs.indicators, udfs.scoring, udfs.excel
        print(json.dumps(sorted(m for m in ("xlwings", "openpyxl", "pandas", "xlsxwriter") if m in sys.modules)))
    """)
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True)
    assert json.loads(out.stdout) == []
    # xl.py 自己也不导入 openpyxl/pandas 代码（xlwings 是否加载 pandas 由 xlwings 决定，这里只查源码）
    src = (ROOT / "udfs" / "xl.py").read_text(encoding="utf-8")
    assert not re.search(r"^\s*(import|from)\s+(pandas|openpyxl|numpy)\b", src, re.M)


# 子进程：以桩模块代替 pywin32，导入 xlwings 在 Windows 上真正使用的 udfs.py，让 xw.func/xw.arg 生效，
# 再调用 xlwings 的 generate_vba_wrapper 生成“Import Functions”会写入的 VBA 模块
_XLWINGS_WINDOWS_PROBE = textwrap.dedent("""
    import io, json, sys, types
    for name in ("pythoncom", "pywintypes", "win32com", "win32com.client"):
        sys.modules[name] = types.ModuleType(name)
    sys.modules["pythoncom"].CoInitialize = lambda: None
    sys.modules["pywintypes"].com_error = type("com_error", (Exception,), {})
    sys.modules["win32com.client"].Dispatch = lambda *a, **k: None
    sys.modules["win32com"].client = sys.modules["win32com.client"]
    import xlwings
    import xlwings.udfs as xu
    xlwings.func, xlwings.arg, xlwings.ret = xu.xlfunc, xu.xlarg, xu.xlret
    import udfs.xl as module

    class Workbook:
        Name = "jixiao.xlam"

    vba = io.StringIO()
    xu.generate_vba_wrapper("udfs.xl", module, vba, Workbook())
    meta = {}
    for attr in dir(module):
        f = getattr(module, attr)
        if hasattr(f, "__xlfunc__"):
            x = f.__xlfunc__
            meta[attr] = {"name": x["name"], "category": x["category"], "doc": x["ret"]["doc"],
                          "ret_options": x["ret"]["options"], "sub": x["sub"],
                          "args": [{"name": a["name"], "doc": a["doc"], "optional": "optional" in a,
                                    "options": a["options"], "vba": a["vba"]} for a in x["args"]],
                          "callable": getattr(module, x["name"]) is f}
    print(json.dumps({"vba": vba.getvalue(), "meta": meta}, ensure_ascii=False))
""")


@pytest.fixture(scope="module")
def windows_registration():
    out = subprocess.run([sys.executable, "-c", _XLWINGS_WINDOWS_PROBE], cwd=ROOT, capture_output=True, text=True,
                         encoding="utf-8")
    if out.returncode != 0 and "xlwings" in out.stderr and "ImportError" in out.stderr:
        pytest.skip(f"此版本 xlwings 的 udfs.py 无法在桩模块下导入：{out.stderr[-300:]}")
    assert out.returncode == 0, out.stderr
    return json.loads(out.stdout)


def test_xlwings_registers_every_wrapper_with_chinese_docs(windows_registration):
    meta = windows_registration["meta"]
    assert sorted(meta) == sorted(s.name for s in CATALOG)
    for spec in CATALOG:
        m = meta[spec.name]
        assert m["name"] == spec.name and m["callable"] and not m["sub"]
        assert m["category"] == xl.CATEGORY == "绩效评价"
        assert m["doc"] == spec.description and len(m["doc"]) <= 255
        assert m["ret_options"] == {}  # 无类型注解：返回值走 xlwings 默认转换
        pure = list(inspect.signature(spec.func).parameters.values())
        assert [a["doc"] for a in m["args"]] == [xl.arg_doc(cn, d) for cn, d in spec.args]
        assert all(len(a["doc"]) <= 255 and CJK.search(a["doc"]) for a in m["args"])
        assert [a["optional"] for a in m["args"]] == [p.default is not inspect.Parameter.empty for p in pure]
        assert all(a["options"] == {"err_to_str": True} and a["vba"] is None for a in m["args"])


def test_generated_vba_declares_each_function_once_with_ascii_parameters(windows_registration):
    vba = windows_registration["vba"]
    assert vba.isascii(), "VBA 模块以 ANSI 导入：不能含中文"
    declared = re.findall(r"^Function (\w+)\((.*)\)$", vba, re.M)
    assert sorted(n for n, _ in declared) == sorted(s.name for s in CATALOG)
    sig = dict(declared)
    assert sig["SCORE_LINEAR"] == "value, points, Optional na, Optional params"
    assert sig["RECEIVABLE_CHANGE_RATE"] == "balance_end, balance_begin"
    assert sig["SATISFACTION"] == ("service, public_rate, staff, Optional w_service, Optional w_public, "
                                   "Optional w_staff")
    assert ('SCORE_LINEAR = XLPy.CallUDF("udfs.xl", "SCORE_LINEAR", Array(value, points, na, params), '
            'ActiveWorkbook, Application.Caller)') in vba
    # VBA 规定：Optional 之后的参数也必须是 Optional
    for name, params in declared:
        flags = ["Optional " in p for p in params.split(", ")] if params else []
        assert flags == sorted(flags), name
