"""实际值公式求值器（addin/scoring/formula.py）：Excel 的运算规则、引用、函数与单元格函数的调用方式，以及计分引擎如何
把求值中的问题写成点名单元格的发现。算术与比较另用 formulas 包（纯 Python 的 Excel 引擎）作对照，随机表达式逐个比较。"""
from __future__ import annotations

import shutil
from decimal import Decimal as D
from pathlib import Path

import openpyxl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import tests.fixtures_checks as fx
from addin.checks import findings as F
from addin.model import Formula
from addin.scoring.engine import evaluate
from addin.scoring.formula import Evaluator
from addin.scoring.formula_functions import functions_in
from addin.scoring.formula_syntax import XlError, parse, tokens
from addin.scoring.reader import load
from udfs.excel import call
from udfs.indicators import public_expense_control_rate

DATA, SCORES = "基础数据表", "评分表"


def book(**sheets) -> Evaluator:
    """sheets：表名 → {"A1": 值}；公式写成以“=”开头的文本。"""
    grids = {}
    for name, cells in sheets.items():
        g = {}
        for addr, v in cells.items():
            col = "".join(ch for ch in addr if ch.isalpha())
            r, c = int(addr[len(col):]), openpyxl.utils.column_index_from_string(col)
            g[(r, c)] = Formula(v) if isinstance(v, str) and v.startswith("=") else v
        grids[name] = g
    return Evaluator(grids)


def run(text: str, **sheets):
    ev = book(**({"评分表": {}} | sheets))
    return ev.cell("评分表", "H20", Formula(text))


DATA_CELLS = {"D6": 22.98, "F6": 39.51, "D7": 1.5, "F7": 0.61, "C9": "无", "C10": "3745（2177）", "C11": "95%",
              "C5": 100, "C12": "=SUM(C5,F6)"}


# ---------------------------------------------------------------------------------------------- 运算与引用
@pytest.mark.parametrize("text,expected", [
    ("=1+2*3", D(7)), ("=(1+2)*3", D(9)), ("=-2^2", D(4)), ("=2^3^2", D(64)), ("=5%*2", D("0.1")), ("=-5%", D("-0.05")),
    ("=2^-1", D("0.5")), ('="3"+1', D(4)), ('="95%"*2', D("1.9")), ("=TRUE+1", D(2)), ("=10/4", D("2.5")),
    ('="a"&1.5&TRUE', "a1.5TRUE"), ("=1=1", True), ('="A"="a"', True), ('="a"<1', False), ("=1<\"a\"", True),
    ("=ROUND(2.5,0)", D(3)), ("=ROUND(-2.5,0)", D(-3)), ("=ROUND(1.005,2)", D("1.01")), ("=ROUND(1234,-2)", D(1200)),
    ("=ROUNDUP(-2.1,0)", D(-3)), ("=ROUNDDOWN(2.99,1)", D("2.9")), ("=ABS(-3)", D(3)), ("=MIN(3,1,2)", D(1)),
    ("=MAX(3,1,2)", D(3)), ("=AVERAGE(1,2,4)", D(7) / 3), ("=IF(1>2,3)", False), ("=IF(1<2,3)", D(3)),
    ('=IF(0,"是","否")', "否"), ('=IFERROR(1/0,"x")', "x"), ("=IFERROR(2,0)", D(2)), ("=AND(1,0)", False),
    ("=OR(1,0)", True), ("=NOT(0)", True), ('=N("a")', D(0)), ("=N(TRUE)", D(1)), ("=COUNT(1,\"2\",TRUE)", D(3)),
    ("=1/0", "#DIV/0!"), ('="x"+1', "#VALUE!"), ("=#N/A+1", "#N/A"), ("=_xlfn.IFERROR(1/0,2)", D(2)),
])
def test_excel_operators_and_functions(text, expected):
    v = run(text).value
    if isinstance(expected, str) and expected.startswith("#"):
        assert isinstance(v, XlError) and v.code == expected
    elif isinstance(expected, D):
        assert isinstance(v, D) and v == expected, v
    else:
        assert v == expected


@pytest.mark.parametrize("text", [
    "='基础数据表'!$F$6/'基础数据表'!$D$6", "=基础数据表!F6/基础数据表!D6", "='基础数据表'!F6/基础数据表!$D6",
    "=PUBLIC_EXPENSE_CONTROL('基础数据表'!$F$6,'基础数据表'!$D$6)", "=[1]!PUBLIC_EXPENSE_CONTROL(基础数据表!F6,基础数据表!D6)",
    r"='C:\Users\张三\AppData\Roaming\Microsoft\Excel\XLSTART\jixiao.xlam'!PUBLIC_EXPENSE_CONTROL(基础数据表!F6,基础数据表!D6)",
    "=jixiao.xlam!PUBLIC_EXPENSE_CONTROL(基础数据表!F6,基础数据表!D6)", "=_xludf.PUBLIC_EXPENSE_CONTROL(基础数据表!F6,基础数据表!D6)",
])
def test_references_and_addin_prefixes_give_the_indicator_value(text):
    out = run(text, 基础数据表=DATA_CELLS)
    assert out.issues == []
    assert out.value == public_expense_control_rate(D("39.51"), D("22.98"))  # 171.93%


def test_ranges_cross_sheet_and_formula_cells_are_evaluated_recursively():
    sheets = {"基础数据表": DATA_CELLS, "附表 一": {"B2": "=基础数据表!C12*2", "B3": 1}}
    c12 = D(100) + D("39.51")  # =SUM(C5,F6)
    # 区域中的文字（“无”、“3745（2177）”、文本“95%”）被 SUM 忽略，与 Excel 相同
    assert run("=SUM(基础数据表!C5:C12)", **sheets).value == D(100) + c12
    assert run("='附表 一'!B2+SUM('附表 一'!B2:B3)", **sheets).value == 4 * c12 + 1
    assert run("=COUNTA(基础数据表!C5:C12)", **sheets).value == 5
    assert run("=ISBLANK(基础数据表!C8)", **sheets).value is True
    assert run("=ISBLANK(基础数据表!C9)", **sheets).value is False


def test_cycles_are_reported_not_recursed_forever():
    out = run("=基础数据表!A1", 基础数据表={"A1": "=A2+1", "A2": "=A1"})
    assert isinstance(out.value, XlError) and out.value.code == "#循环引用"
    assert [i.kind for i in out.issues] == ["cycle"]


def test_blank_in_arithmetic_is_zero_as_in_excel_but_named():
    out = run("=基础数据表!F20/基础数据表!D6", 基础数据表=DATA_CELLS)
    assert out.value == 0
    assert [(i.kind, i.sheet, i.cell) for i in out.issues] == [("blank", DATA, "F20")]
    out = run("=基础数据表!F6/基础数据表!D20", 基础数据表=DATA_CELLS)
    assert out.value.code == "#DIV/0!" and (out.value.sheet, out.value.cell) == (DATA, "D20")
    # 区域中部分空白是常态（不报）；整个区域都空，SUM 得 0 像是“填了 0”——报
    assert run("=SUM(基础数据表!C5:C8)", 基础数据表=DATA_CELLS).issues == []
    assert [i.cell for i in run("=SUM(基础数据表!G1:G3)", 基础数据表=DATA_CELLS).issues] == ["G1:G3"]
    # 直接引用一个空白格：Excel 显示 0
    out = run("=基础数据表!C30", 基础数据表=DATA_CELLS)
    assert out.value == 0 and [i.cell for i in out.issues] == ["C30"]
    # N() 是用户明确写出“空白按 0”，不报
    assert run("=N(基础数据表!C30)+1", 基础数据表=DATA_CELLS).issues == []


def test_text_in_arithmetic_is_value_error_naming_the_text_cell():
    out = run("=基础数据表!C9+1", 基础数据表=DATA_CELLS)
    assert out.value.code == "#VALUE!" and (out.value.sheet, out.value.cell) == (DATA, "C9")
    assert run("=基础数据表!C11*2", 基础数据表=DATA_CELLS).value == D("1.9")  # 像数字的文本照 Excel 参与运算


@pytest.mark.parametrize("text,function", [
    ("=VLOOKUP(1,A1:B2,2,FALSE)", "VLOOKUP"), ("=[1]Sheet1!A1+1", "外部链接"), ("='[预算.xlsx]表1'!A1", "外部链接"),
    ("=SUM({1,2})", "{…}"), ("=预算合计*2", "预算合计"), ("=不存在的表!A1", "不存在的表"), ("=SUM(A1:B2 B1:C3)", ""),
    ("=PUBLIC_EXPENSE_CONTROL(1)", "PUBLIC_EXPENSE_CONTROL"), ("=基础数据表!C5:C6*2", "C5:C6"),
])
def test_what_cannot_be_evaluated_is_named_never_blank(text, function):
    out = run(text, 基础数据表=DATA_CELLS)
    assert isinstance(out.value, XlError) and out.value.code == "?"
    assert [i.kind for i in out.issues] == ["unsupported"] and out.issues[0].cell == "H20"
    assert out.issues[0].function == function or not function
    # 文件中有 Excel 保存的结果时采用它，并说明无法核对
    ev = book(评分表={}, 基础数据表=DATA_CELLS)
    cached = ev.cell("评分表", "H20", Formula(text, 0.875))
    assert cached.value == D("0.875") and [i.kind for i in cached.issues] == ["unsupported-cached"]


def test_udfs_get_what_xlwings_passes_and_return_the_same_texts():
    data = {**DATA_CELLS, "L1": 0.85, "M1": 0.95, "A30": "优", "A31": "良", "B30": 90, "B31": 80}
    # 区域 → 一维 list（单行/单列）；与直接以 list 调用单元格函数相同
    out = run("=SCORE_LINEAR(0.9,12,\"报错\",基础数据表!L1:U1)", 基础数据表=data)
    assert float(out.value) == call("SCORE_LINEAR", 0.9, 12.0, "报错", [0.85, 0.95] + [None] * 8)
    assert run("=GRADE_OF(85,基础数据表!A30:A31,基础数据表!B30:B31)", 基础数据表=data).value == "良"
    # 单元格函数的中文说明一字不差；空白参数被点名
    out = run("=PUBLIC_EXPENSE_CONTROL(基础数据表!F6,基础数据表!D20)", 基础数据表=DATA_CELLS)
    assert out.value == call("PUBLIC_EXPENSE_CONTROL", 39.51, None)
    assert [(i.kind, i.cell) for i in out.issues] == [("udf-error", "D20")]
    # 两数单元格、文字：与 Excel 中同样的说明
    assert run("=PUBLIC_EXPENSE_CONTROL(基础数据表!C10,基础数据表!C5)", 基础数据表=DATA_CELLS).value == \
        D("37.45")
    assert run("=SCORE_TARGET(基础数据表!C9,5,\"报错\",\"≥\")", 基础数据表=DATA_CELLS).value == \
        call("SCORE_TARGET", "无", 5.0, "报错", "≥")
    # 嵌套使用单元格函数的错误文字：Excel 为 #VALUE!
    assert run("=ROUND(PUBLIC_EXPENSE_CONTROL(1,0),2)").value.code == "#VALUE!"


def test_tokens_and_functions_in():
    assert functions_in("=IF(SUM(A1:A2)>0,ROUND(PUBLIC_EXPENSE_CONTROL(A1,A2),4),0)") == \
        ["IF", "SUM", "ROUND", "PUBLIC_EXPENSE_CONTROL"]
    assert [k for k, _ in tokens("'基础数据表'!$F$6/SUM(A1:B2)")] == ["ref", "op", "func", "op", "ref", "op"]
    with pytest.raises(ValueError):
        tokens("A1 ? B2")
    assert parse("=1+1") is parse("=1+1")  # 同一文本只解析一次


# ---------------------------------------------------------------------------------------------- 与 formulas 包对照
def _expr():
    leaf = st.one_of(st.integers(-20, 20).map(str), st.sampled_from(["0.5", "2.25", "10%", "3", "0"]))

    def extend(children):
        return st.one_of(
            st.tuples(children, st.sampled_from(["+", "-", "*", "/"]), children).map(lambda t: f"({t[0]}{t[1]}{t[2]})"),
            st.tuples(children, st.sampled_from(["=", "<>", "<", ">", "<=", ">="]), children).map(
                lambda t: f"IF({t[0]}{t[1]}{t[2]},1,0)"),
            children.map(lambda c: f"-{c}"), children.map(lambda c: f"ROUND({c},2)"), children.map(lambda c: f"ABS({c})"),
            st.tuples(children, children).map(lambda t: f"MAX({t[0]},{t[1]})"),
            st.tuples(children, children).map(lambda t: f"IFERROR({t[0]},{t[1]})"),
        )

    return st.recursive(leaf, extend, max_leaves=8)


@settings(max_examples=60, deadline=None, derandomize=True)
@given(_expr())
def test_random_arithmetic_agrees_with_the_formulas_engine(expr):
    formulas = pytest.importorskip("formulas")
    expected = formulas.Parser().ast("=" + expr)[1].compile()()
    expected = getattr(expected, "tolist", lambda: expected)()
    while isinstance(expected, list):
        expected = expected[0]
    mine = run("=" + expr).value
    if isinstance(mine, XlError):
        assert str(expected) == mine.code, (expr, expected, mine)
    else:
        assert isinstance(expected, (int, float)), (expr, expected, mine)
        assert float(mine) == pytest.approx(float(expected), rel=1e-9, abs=1e-9), expr


# ---------------------------------------------------------------------------------------------- 计分引擎
def _shiping(out: Path, edits: dict) -> Path:
    return fx.edit_cells(fx.build(fx.SHIPING_2022, out), edits)


def test_user_formula_without_cached_value_is_computed_not_blank(tmp_path, capsys):
    """issue 13：用户写的 ='基础数据表'!F6/'基础数据表'!D6 在没有保存结果的文件里曾被读成空白（“实际值为空”）。"""
    p = fx.build(fx.BAOJING_2018, tmp_path)
    _, inputs = load(p)
    row = next(r for r in inputs.rows if r.code == "public_expense_control")
    fx.edit_cells(p, {(SCORES, row.cells["value"]): "='基础数据表'!F6/'基础数据表'!D6"})
    _, out = fx.score_json(p, capsys)
    ind = next(i for i in out["indicators"] if i["code"] == "public_expense_control")
    assert ind["value"] == pytest.approx(39.51 / 22.98, rel=1e-15)
    assert ind["computed_score"] == 0  # ≤ 100% 满分，171.93% 不满足：与模板公式算得相同
    changed = [f for f in out["findings"] if f["code"] == "formula-changed"]
    assert [(f["severity"], f["cell"]) for f in changed] == [(F.INFO, row.cells["value"])]


def test_formula_problems_become_findings_naming_the_cell(tmp_path):
    p = fx.build(fx.BAOJING_2018, tmp_path)
    _, inputs = load(p)
    cells = {r.code: r.cells["value"] for r in inputs.rows}
    fx.edit_cells(p, {(SCORES, cells["public_expense_control"]): "='基础数据表'!F6/'基础数据表'!X40",
                      (SCORES, cells["sangong_control"]): "=VLOOKUP('基础数据表'!F7,'基础数据表'!A1:F40,2,FALSE)",
                      (SCORES, cells["procurement"]): "='基础数据表'!B4+1"})
    _, inputs = load(p)
    ev = evaluate(inputs)
    by = {i.code: i for i in ev.indicators}
    found = {(f.code, f.sheet, f.cell): f for f in ev.findings}
    # 空白分母：Excel 为 #DIV/0!，点名空白格；指标无法计分
    assert ("formula-blank-reference", DATA, "X40") in found and found[("formula-blank-reference", DATA, "X40")].severity == F.ERROR
    assert ("formula-error", DATA, "X40") in found and by["public_expense_control"].computed is None  # （该行另有评价人调整得分）
    # 不支持的函数：点名单元格与函数；不是空白，不是满分
    f = found[("formula-unsupported", SCORES, cells["sangong_control"])]
    assert "VLOOKUP" in f.message and by["sangong_control"].computed is None
    # 文字参与运算：#VALUE!，点名文字所在格
    assert ("formula-error", DATA, "B4") in found and by["procurement"].computed is None
    assert ev.complete is False


def test_blank_reference_keeps_excels_value_with_an_error_finding(tmp_path):
    p = fx.build(fx.BAOJING_2018, tmp_path)
    _, inputs = load(p)
    row = next(r for r in inputs.rows if r.code == "public_expense_control")
    fx.edit_cells(p, {(SCORES, row.cells["value"]): "='基础数据表'!X40/'基础数据表'!D6"})
    _, inputs = load(p)
    ev = evaluate(inputs)
    ind = next(i for i in ev.indicators if i.code == "public_expense_control")
    assert ind.value == 0 and ind.computed == ind.points  # 与 Excel 相同：0% ≤ 100% 满分……
    blank = [f for f in ev.findings if f.code == "formula-blank-reference"]
    assert [(f.severity, f.cell) for f in blank] == [(F.ERROR, "X40")]  # ……但不是悄悄的满分


def test_unsupported_with_excels_saved_result_uses_it_and_says_so(demo_dir, tmp_path):
    from addin.io.openpyxl_book import OpenpyxlBook
    from addin.scoring.reader import read_inputs

    p = tmp_path / "b.xlsx"
    shutil.copy(demo_dir / "baojing-2018.xlsx", p)
    book_ = OpenpyxlBook(p, with_cached=True)
    inputs = read_inputs(book_)
    row = next(r for r in inputs.rows if r.code == "sangong_control")
    row.value = Formula("=_xlfn.XLOOKUP(1,A1:A2,B1:B2)", 0.4067)
    ev = evaluate(inputs)
    ind = next(i for i in ev.indicators if i.code == "sangong_control")
    assert ind.value == D("0.4067") and ind.final is not None
    f = next(f for f in ev.findings if f.code == "formula-unsupported-cached")
    assert f.severity == F.WARNING and f.cell == row.cells["value"] and "XLOOKUP" in f.message


def test_data_total_typed_as_a_formula_is_evaluated(tmp_path):
    """基础数据表的合计写成 =SUM(…)（openpyxl 保存，文件里没有计算结果）：模板的实际值公式引用它时递归求值，而不是读成空白。"""
    from udfs.indicators import budget_control_rate

    p = fx.build(fx.BAOJING_2018, tmp_path)
    _, inputs = load(p)
    total = inputs.cells[("table", "expense_total", "budget_initial")][1]
    basic = inputs.cells[("table", "basic", "budget_initial")][1]
    project = inputs.cells[("table", "project", "budget_initial")][1]
    fx.edit_cells(p, {(DATA, basic): 600.5, (DATA, project): 291.85, (DATA, total): f"=SUM({basic},{project})"})
    _, inputs = load(p)
    assert isinstance(inputs.table["expense_total"]["budget_initial"], Formula)
    parts = D("600.5") + D("291.85")
    ind = next(i for i in evaluate(inputs).indicators if i.code == "budget_control")
    assert ind.value_error is None
    assert ind.value == budget_control_rate(inputs.scalars["budget_added"], parts)  # 本年追加 ÷ 年初预算（合计公式）


def test_inputs_read_by_the_engine_are_what_formulas_see(demo_dir):
    """公式引用基础数据表中的项目时，取的是引擎读出的 inputs.table / inputs.scalars（读取后整理过的值也算数），与按模板参数计算一致。"""
    from udfs.indicators import budget_control_rate

    _, inputs = load(demo_dir / "baojing-2018.xlsx")
    inputs.scalars["budget_added"] = 100
    ind = next(i for i in evaluate(inputs).indicators if i.code == "budget_control")
    assert ind.value == budget_control_rate(100, inputs.table["expense_total"]["budget_initial"])


def test_long_reference_chains_and_deep_nesting_never_crash():
    """逐行累计的合计列（每格引用上一格）照常计算；超过上限的引用链与过深的嵌套是“无法计算”的说明，不是 Python 的递归错误。"""
    chain = {f"A{r}": f"=A{r + 1}+1" for r in range(1, 300)} | {"A300": 5}
    assert run("=附表!A1", 附表=chain).value == 5 + 299
    too_long = {f"A{r}": f"=A{r + 1}+1" for r in range(1, 1000)} | {"A1000": 5}
    out = run("=附表!A1", 附表=too_long)
    assert out.value.code == "?" and out.issues[0].kind == "unsupported" and "引用链超过" in out.issues[0].detail
    out = run("=" + "(" * 3000 + "1" + ")" * 3000)
    assert out.value.code == "?" and "嵌套" in out.issues[0].detail


def test_addin_prefix_saved_by_excel_is_not_a_changed_formula(demo_dir, tmp_path):
    """Excel 保存时把加载项函数记成 [1]!NAME(…) 或带 .xlam 路径：计算相同，也不算“公式与模板不同”。"""
    p = tmp_path / "b.xlsx"
    shutil.copy(demo_dir / "baojing-2018.xlsx", p)
    _, inputs = load(p)
    row = next(r for r in inputs.rows if r.code == "public_expense_control")
    edits = {(SCORES, row.cells["value"]): "=[1]!" + row.value.text[1:]}
    other = next(r for r in inputs.rows if r.code == "sangong_control")
    edits[(SCORES, other.cells["value"])] = "='C:\\Users\\张三\\XLSTART\\jixiao.xlam'!" + other.value.text[1:]
    fx.edit_cells(p, edits)
    _, edited = load(p)
    ev, before = evaluate(edited), evaluate(inputs)
    assert not [f for f in ev.findings if f.code == "formula-changed"]
    assert [i.value for i in ev.indicators] == [i.value for i in before.indicators]
