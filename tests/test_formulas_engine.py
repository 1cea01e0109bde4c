"""没有 Excel 也能证明单元格公式：用 formulas 包（纯 Python 的 Excel 公式引擎）计算工作簿。

把 udfs.xl 中的单元格函数（Excel 经 xlwings 调用的正是这些函数）注册为 formulas 的自定义函数，然后让 formulas 按工作簿
里的公式——`=BUDGET_COMPLETION_ZZ('基础数据表'!$C$9,…)`、`=SCORE_LINEAR(H11,E11,K11,L11:U11)`、`=FINAL_SCORE(V11,W11)`、
SUM 小计、`=GRADE_OF(…)`——重新计算全部单元格，结果必须与无界面引擎（addin.scoring.engine.evaluate，即 jixiao score）逐格一致。
第二个测试改动评分表中的规则参数与等级标准单元格，证明公式与 jixiao score 都以用户改过的单元格为准。
"""
from __future__ import annotations

import json
import shutil
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path
from typing import Any

import pytest

formulas = pytest.importorskip("formulas")
np = pytest.importorskip("numpy")
sh = pytest.importorskip("schedula")

from formulas.functions import wrap_ranges_func  # noqa: E402
from formulas.tokens.operand import XlError  # noqa: E402

from addin.cli import main as cli  # noqa: E402
from addin.model import Formula  # noqa: E402
from addin.scoring.engine import evaluate  # noqa: E402
from addin.scoring.reader import load  # noqa: E402
from addin.scoring.refs import arg_cell  # noqa: E402
from tests.fixtures_checks import score_json  # noqa: E402
from udfs import xl  # noqa: E402
from udfs.excel import ERROR_PREFIX, NA_TEXT  # noqa: E402
from workbook_templates import layout as L  # noqa: E402
from workbook_templates.systems import SYSTEMS  # noqa: E402

INCOMPLETE = "未完成"
GOLDEN = {"baojing-2018": (Decimal("94.9"), "优"), "zizhou-2021": (Decimal("85.1"), "良好"),
          "shiping-2022": (Decimal("100"), "优")}


# ---------------------------------------------------------------- formulas → xlwings 的参数形态
def _scalar(v: Any) -> Any:
    """formulas 的单元格值 → xlwings 传给 UDF 的值：空白 None，错误值为 “#DIV/0!” 文本（err_to_str），numpy 标量转 Python。"""
    if v is sh.EMPTY:
        return None
    if isinstance(v, XlError):
        return str(v)
    if isinstance(v, np.generic):
        return v.item()
    return v


def _as_xlwings(arg: Any) -> Any:
    """区域参数：单个单元格 → 标量；单行/单列 → 一维 list；多行多列 → 嵌套 list（与 xlwings 默认转换相同）。"""
    if not isinstance(arg, np.ndarray):
        return _scalar(arg)
    rows = [[_scalar(v) for v in row] for row in np.atleast_2d(arg).tolist()]
    if len(rows) == 1 and len(rows[0]) == 1:
        return rows[0][0]
    if len(rows) == 1:
        return rows[0]
    if all(len(r) == 1 for r in rows):
        return [r[0] for r in rows]
    return rows


def _register(name: str, udf) -> Any:
    def call(*args):
        return udf(*[_as_xlwings(a) for a in args])

    call.__name__ = name
    return wrap_ranges_func(call)  # 把 formulas 的 Ranges 换成取值后的数组


@pytest.fixture(scope="module")
def engine_functions():
    """注册 udfs.xl 的全部单元格函数；模块结束后移除，避免影响其他测试。"""
    funcs = formulas.get_functions()
    for name, udf in xl.WRAPPERS.items():
        funcs[name] = _register(name, udf)
    yield funcs
    for name in xl.WRAPPERS:
        funcs.pop(name, None)


class Calculated:
    """formulas 计算后的工作簿：按 表名 + A1 地址取单元格的值（Python 标量）。"""

    def __init__(self, path: Path):
        model = formulas.ExcelModel().loads(str(path)).finish()
        solution = model.calculate()
        self.values: dict[str, Any] = {}
        for key, rng in solution.items():
            value = getattr(rng, "value", rng)
            if isinstance(value, np.ndarray) and value.size == 1:
                self.values[key.upper()] = _scalar(value.ravel()[0])
        self.book = path.name.upper()

    def __call__(self, sheet: str, addr: str) -> Any:
        key = f"'[{self.book}]{sheet}'!{addr}".upper()
        if key not in self.values:
            raise KeyError(f"formulas 没有计算单元格 {sheet}!{addr}")
        return self.values[key]


def _score_cell(calc: Calculated, addr: str) -> Any:
    return calc(L.SHEET_SCORES, addr)


def _assert_score(cell_value: Any, expected: Decimal | None, where: str) -> None:
    if expected is None:  # 引擎无法计分：单元格应显示中文说明，而不是数字或 Python 回溯
        assert isinstance(cell_value, str) and cell_value.startswith((ERROR_PREFIX, NA_TEXT)), (where, cell_value)
    else:
        assert isinstance(cell_value, (int, float)) and not isinstance(cell_value, bool), (where, cell_value)
        assert cell_value == pytest.approx(float(expected), abs=1e-9), where


TEMPLATES = Path(__file__).resolve().parent.parent / "workbook_templates" / "xlsx"


def _path(demo_dir: Path, name: str) -> Path:
    """种子示例在 demo_dir（与 jixiao demo 相同），空白模板是仓库中签入的文件。"""
    return TEMPLATES / f"{name}.xlsx" if (TEMPLATES / f"{name}.xlsx").exists() else demo_dir / f"{name}.xlsx"


@pytest.fixture(scope="module")
def calculated(engine_functions, demo_dir):
    """每个工作簿只加载计算一次（约 1 秒），供本模块的几个测试共用。"""
    cache: dict[str, tuple[Calculated, Any]] = {}

    def get(name: str):
        if name not in cache:
            path = _path(demo_dir, name)
            _, inputs = load(path)
            cache[name] = (Calculated(path), evaluate(inputs))
        return cache[name]

    return get


@pytest.mark.parametrize("name", ["baojing-2018", "zizhou-2021", "shiping-2022", "kaifu-2020"])
def test_formulas_engine_matches_python_engine(calculated, name):
    calc, ev = calculated(name)
    inputs = ev.inputs
    final, computed, value = L.LETTER["final"], L.LETTER["computed"], L.LETTER["value"]
    for ind in ev.indicators:
        # 每一行的 得分、计算得分 与 实际值
        _assert_score(_score_cell(calc, f"{final}{ind.row}"), ind.final, f"{ind.code} 得分")
        _assert_score(_score_cell(calc, f"{computed}{ind.row}"), ind.computed, f"{ind.code} 计算得分")
        shown = _score_cell(calc, f"{value}{ind.row}")
        if ind.value_error and ind.value_typed:  # 评价人未填写的实际值：单元格空白，计算得分显示“错误：实际值未填写”
            assert shown is None, (ind.code, shown)
        elif ind.value_error:
            assert isinstance(shown, str) and shown.startswith(ERROR_PREFIX), (ind.code, shown)
        elif isinstance(ind.value, Decimal):
            assert shown == pytest.approx(float(ind.value), rel=1e-12), ind.code
        elif ind.value is None:
            assert shown in (None, NA_TEXT), (ind.code, shown)
        else:
            assert shown == ind.value, ind.code
    # 一级指标小计、总分与等级：有指标未计分的一级指标，小计显示“未完成”（两边一致）
    for level1, lv in ev.level1.items():
        row = inputs.cells[("subtotal", level1)][1]
        if lv.complete:
            _assert_score(_score_cell(calc, f"{final}{row}"), lv.score, f"{level1} 小计")
        else:
            assert _score_cell(calc, f"{final}{row}") == INCOMPLETE, level1
    total_row = inputs.cells[("total",)][1]
    grade_row = inputs.cells[("grade",)][1]
    if name in GOLDEN:
        _assert_score(_score_cell(calc, f"{final}{total_row}"), ev.total, "总分")
        assert _score_cell(calc, f"{final}{grade_row}") == ev.grade
        assert (ev.total, ev.grade) == GOLDEN[name]
        assert not [i.code for i in ev.indicators if i.final is None]
    else:  # 开福 2020：评分表待填，部分指标无法计分——Excel 的总分与等级显示“未完成”，jixiao score 给不出总分与等级
        assert (ev.total, ev.grade, ev.complete) == (None, None, False)
        assert len(ev.missing) == sum(1 for i in ev.indicators if i.final is None) > 0
        assert _score_cell(calc, f"{final}{total_row}") == INCOMPLETE
        assert _score_cell(calc, f"{final}{grade_row}") == INCOMPLETE
        assert [lv.complete for lv in ev.level1.values()] == [False, False, False]  # 三组都有待填的指标


@pytest.mark.parametrize("name", ["hunan-dept", "zizhou-dept", "project"])
def test_blank_template_total_and_grade_show_incomplete(calculated, demo_dir, name, capsys):
    """空白模板：Excel（formulas 按单元格公式重算）的每个小计、总分与等级都是“未完成”，不是“总分 24 等级 差”；
    jixiao score --json 给出 complete false、total/grade null、missing 列出每一行，退出码 1。"""
    calc, ev = calculated(name)
    final = L.LETTER["final"]
    inputs = ev.inputs
    for level1 in ev.level1:
        assert _score_cell(calc, f"{final}{inputs.cells[('subtotal', level1)][1]}") == INCOMPLETE
    assert _score_cell(calc, f"{final}{inputs.cells[('total',)][1]}") == INCOMPLETE
    assert _score_cell(calc, f"{final}{inputs.cells[('grade',)][1]}") == INCOMPLETE
    capsys.readouterr()
    assert cli.main(["score", str(_path(demo_dir, name)), "--json"]) == 1
    out = json.loads(capsys.readouterr().out)
    assert (out["complete"], out["total"], out["grade"]) == (False, None, None)
    unscored = [i["code"] for i in out["indicators"] if i["score"] is None]
    assert unscored and [m["code"] for m in out["missing"]] == unscored
    for m in out["missing"]:
        assert m["reason"] and m["cell"].split("!")[0] in (L.SHEET_SCORES, L.SHEET_DATA) and m["name"] is not None


@pytest.mark.parametrize("name", ["baojing-2018", "zizhou-2021", "shiping-2022", "kaifu-2020",
                                  "hunan-dept", "zizhou-dept", "project"])
def test_cached_values_are_what_excel_recalculates(calculated, demo_dir, name):
    """文件里随公式保存的计算结果（查看器、pandas、calamine 显示的值）与重新计算的结果逐格相同，包括“错误：…”说明。"""
    import openpyxl

    calc, _ = calculated(name)
    path = _path(demo_dir, name)
    formulas_wb = openpyxl.load_workbook(path)
    cached_wb = openpyxl.load_workbook(path, data_only=True)
    checked = 0
    for ws in formulas_wb:
        for row in ws.iter_rows():
            for cell in row:
                if cell.data_type != "f":
                    continue
                cached = cached_wb[ws.title][cell.coordinate].value
                fresh = calc(ws.title, cell.coordinate)
                assert cached is not None, (ws.title, cell.coordinate)
                if isinstance(fresh, (int, float)) and not isinstance(fresh, bool):
                    assert cached == pytest.approx(fresh, rel=1e-12, abs=1e-12), (ws.title, cell.coordinate)
                else:
                    assert cached == fresh, (ws.title, cell.coordinate)
                checked += 1
    assert checked > 40


def _linear(points: Decimal, value: Decimal, zero: Decimal, full: Decimal) -> Decimal:
    """线性插值规则（评分表“线性插值”）：零分点与满分点之间按比例给分，两端封顶，四舍五入到 0.01 分。"""
    frac = (value - zero) / (full - zero)
    frac = min(max(frac, Decimal(0)), Decimal(1))
    return (points * frac).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)


def _grade_for(total: Decimal, rows: list[tuple[str, Decimal]]) -> str:
    """等级标准：取下限不超过总分的最高一档（左闭右开）。"""
    return max((lo, name) for name, lo in rows if total >= lo)[1]


def test_editing_rule_cells_changes_excel_and_cli_alike(engine_functions, demo_dir, tmp_path, capsys):
    """子洲 2021：把“预算完成率”的满分点 95% 改成 92%、“良好”下限 80 改成 88，再给一项填调整得分——
    用户改的单元格就是规则，Excel 显示的与 jixiao score 算出的同时变化、结果相同。"""
    import openpyxl

    src = demo_dir / "zizhou-2021.xlsx"
    _, inputs = load(src)
    before = evaluate(inputs)
    assert (before.total, before.grade) == (Decimal("85.1"), "良好")
    row = next(r for r in inputs.rows if r.code == "z2_1")
    assert row.rule_label == "线性插值" and Decimal(str(row.params[0])) == Decimal("0.85")
    old_score = next(i for i in before.indicators if i.code == "z2_1").final
    assert old_score == Decimal("6.60")

    path = tmp_path / "zizhou-edited.xlsx"
    shutil.copy(src, path)
    wb = openpyxl.load_workbook(path)
    ws_data, ws = wb[L.SHEET_DATA], wb[L.SHEET_SCORES]
    ws[row.cells["p2"]] = 0.92  # 满分点
    grade_first = int(inputs.cells[("grades",)][1][1:])
    assert ws[f"B{grade_first + 1}"].value == "良好"
    ws[f"C{grade_first + 1}"] = 88
    # 评价人调整得分写了三位小数：Excel（FINAL_SCORE）与 jixiao score 都四舍五入到 0.01 分
    adjusted = next(r for r in inputs.rows if r.code == "z1_1")
    ws[adjusted.cells["override"]] = 1.455
    ws[adjusted.cells["reason"]] = "复核后调整"
    wb.save(path)

    # 期望值直接由规则与基础数据算出：预算完成率 = 本年预算支出合计 ÷ 本年预算收入合计（取实际值公式引用的两个单元格）
    spec = SYSTEMS["zizhou-dept"].indicator("z2_1")
    assert spec.udf == "BUDGET_COMPLETION_ZZ"
    expense, income = (Decimal(str(ws_data[arg_cell(inputs, a)[1]].value)) for a in spec.args)
    rate = expense / income
    new_score = _linear(Decimal(str(row.points)), rate, Decimal("0.85"), Decimal("0.92"))
    assert new_score != old_score
    old_adjusted = next(i for i in before.indicators if i.code == "z1_1").final
    new_adjusted = Decimal("1.455").quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
    new_total = before.total - old_score + new_score - old_adjusted + new_adjusted
    grade_rows = [(n, Decimal(str(lo))) for n, lo in inputs.grade_rows]
    grade_rows[1] = ("良好", Decimal(88))
    new_grade = _grade_for(new_total, grade_rows)
    assert new_grade == "一般"  # 87.92 < 88：等级随用户改过的等级标准变化

    # formulas（Excel 会显示的值）
    calc = Calculated(path)
    assert _score_cell(calc, f"{L.LETTER['final']}{row.row}") == pytest.approx(float(new_score), abs=1e-9)
    assert _score_cell(calc, f"{L.LETTER['final']}{adjusted.row}") == pytest.approx(float(new_adjusted), abs=1e-9)
    total_row = inputs.cells[("total",)][1]
    grade_row = inputs.cells[("grade",)][1]
    assert _score_cell(calc, f"{L.LETTER['final']}{total_row}") == pytest.approx(float(new_total), abs=1e-9)
    assert _score_cell(calc, f"{L.LETTER['final']}{grade_row}") == new_grade

    # jixiao score --json（无界面引擎读同一个文件）
    capsys.readouterr()
    assert cli.main(["score", str(path), "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert Decimal(str(out["total"])) == new_total
    assert out["grade"] == new_grade
    scores = {i["code"]: Decimal(str(i["score"])) for i in out["indicators"]}
    assert (scores["z2_1"], scores["z1_1"]) == (new_score, new_adjusted)


# ---------------------------------------------------------------------------------------------- 用户扩展的模板（issue 13 第 2 项）
def _row_of(ws, code: str) -> int:
    return next(r for r in range(1, ws.max_row + 1) if ws.cell(r, 1).value == code)


def _copy_style(ws, src: int, dst: int) -> None:
    """Excel 插入行时新行沿用上一行的格式（输入格仍是黄色、规则格仍是绿色）。"""
    from copy import copy

    for c in range(1, ws.max_column + 1):
        s, d = ws.cell(src, c), ws.cell(dst, c)
        d._style = copy(s._style)


def _user_extended_baojing(src: Path, dst: Path) -> dict[str, int]:
    """保靖 2018 按本地指标体系改过：基础数据表末尾加两行（其中一行是公式合计），评分表删去“新建楼堂馆所投资概算控制率”，
    在“过程”中插入两个新指标（名称、规则类型、参数、自写的实际值公式），并把“公用经费控制率”的实际值改成算术公式。
    用 openpyxl 保存——文件中没有任何公式的计算结果，Excel 与 jixiao 都只能按公式计算。返回新指标所在行。"""
    import openpyxl

    from tests.excel_rows import delete_row, insert_rows

    shutil.copy(src, dst)
    wb = openpyxl.load_workbook(dst)
    data, ws = wb[L.SHEET_DATA], wb[L.SHEET_SCORES]
    # 基础数据表：用户加的两行（无代码）
    last = _row_of(data, "sat_staff")
    other, total = last + 1, last + 2
    for r in (other, total):
        _copy_style(data, last, r)
    data.cell(other, 2).value, data.cell(other, 3).value = "其他商品和服务支出（公用）", 5.26
    data.cell(total, 2).value, data.cell(total, 3).value = "公用经费合计（含其他）", f"=F6+C{other}"
    # 评分表：删去一行，插入两行
    gone = _row_of(ws, "building_invest")
    delete_row(wb, L.SHEET_SCORES, gone)
    at = _row_of(ws, "sangong_control")
    insert_rows(wb, L.SHEET_SCORES, at, 2)
    col = {h: c for c in range(1, ws.max_column + 1) if (h := ws.cell(L.SCORE_HEADER_ROW, c).value)}
    letter = {h: openpyxl.utils.get_column_letter(c) for h, c in col.items()}

    def fill(r: int, name: str, points, formula: str, rule: str, params: list, unit: str = "%") -> None:
        _copy_style(ws, r + 2 if r == at else r + 1, r)  # 沿用下方模板行的格式
        v, e, k, p1, p10 = (letter[h] for h in ("实际值", "分值", "无基数时", "参数1", "参数10"))
        udf = {"达标满分": "SCORE_THRESHOLD", "线性插值": "SCORE_LINEAR"}[rule]
        for h, value in (("一级指标", "过程"), ("二级指标", "预算管理"), ("三级指标", name), ("分值", points),
                         ("评分标准", "本局自定"), ("实际值", formula), ("单位", unit), ("规则类型", rule), ("无基数时", "报错"),
                         ("计算得分", f"={udf}({v}{r},{e}{r},{k}{r},{p1}{r}:{p10}{r})"),
                         ("得分", f"=FINAL_SCORE({letter['计算得分']}{r},{letter['调整得分']}{r})")):
            ws.cell(r, col[h]).value = value
        for i, p in enumerate(params):
            ws.cell(r, col["参数1"] + i).value = p

    fill(at, "公用经费控制率（含其他公用经费）", 3,
         f"=PUBLIC_EXPENSE_CONTROL('{L.SHEET_DATA}'!$C${total},'{L.SHEET_DATA}'!$D$6)", "达标满分", ["≤", 2])
    fill(at + 1, "其他公用经费占比", 2,
         f"=IF(SUM('{L.SHEET_DATA}'!$F$6,'{L.SHEET_DATA}'!$C${other})>0,"
         f"ROUND('{L.SHEET_DATA}'!$C${other}/SUM('{L.SHEET_DATA}'!$F$6,'{L.SHEET_DATA}'!$C${other}),4),0)",
         "线性插值", [0.5, 0.05])
    pub = _row_of(ws, "public_expense_control")
    ws.cell(pub, col["实际值"]).value = f"='{L.SHEET_DATA}'!F6/'{L.SHEET_DATA}'!D6"
    wb.save(dst)
    return {"added": at, "added2": at + 1, "public": pub}


def test_user_extended_template_agrees_with_the_formula_engine_row_by_row(engine_functions, demo_dir, tmp_path, capsys):
    """issue 13 “Done when”：用户扩展的模板（加 2 个指标、删 1 个、自写公式，文件中没有保存的计算结果），
    formulas 引擎的重算（即 Excel 会显示的）与 jixiao score --json 逐行给出相同的实际值与得分，小计、总分、等级也相同。"""
    import openpyxl

    path = tmp_path / "保靖-本地指标体系.xlsx"
    rows = _user_extended_baojing(demo_dir / "baojing-2018.xlsx", path)
    cached = openpyxl.load_workbook(path, data_only=True)
    assert all(c.value is None for ws in cached for row in ws.iter_rows() for c in row
               if openpyxl.load_workbook(path)[ws.title][c.coordinate].data_type == "f")

    calc = Calculated(path)
    capsys.readouterr()
    code = cli.main(["score", str(path), "--json"])
    out = json.loads(capsys.readouterr().out)
    _, inputs = load(path)
    by_row = {r.row: r for r in inputs.rows}
    indicators = dict(zip([r.code for r in inputs.rows], out["indicators"], strict=True))
    assert len(out["indicators"]) == len(inputs.rows) == len(load(demo_dir / "baojing-2018.xlsx")[1].rows) - 1 + 2
    assert "building_invest" not in indicators
    value_col, computed_col, final_col = L.LETTER["value"], L.LETTER["computed"], L.LETTER["final"]
    for r, row in by_row.items():
        ind = indicators[row.code]
        assert ind["name"] == str(row.name)
        shown = calc(L.SHEET_SCORES, f"{value_col}{r}")
        if isinstance(row.value, Formula) and ind["value"] is None:  # 不适用（0÷0）或无法计算：两边都是说明文字
            assert isinstance(shown, str) and shown.startswith((NA_TEXT, ERROR_PREFIX)), (r, shown)
        elif isinstance(row.value, Formula):
            assert isinstance(shown, float) and ind["value"] == pytest.approx(shown, rel=1e-12), (r, shown, ind)
        _assert_score(calc(L.SHEET_SCORES, f"{computed_col}{r}"), _d(ind["computed_score"]), f"第 {r} 行计算得分")
        _assert_score(calc(L.SHEET_SCORES, f"{final_col}{r}"), _d(ind["score"]), f"第 {r} 行得分")
    for level1, lv in out["level1"].items():
        row = inputs.cells[("subtotal", level1)][1]
        _assert_score(calc(L.SHEET_SCORES, f"{final_col}{row}"), _d(lv["score"]), f"{level1} 小计")
    _assert_score(calc(L.SHEET_SCORES, f"{final_col}{inputs.cells[('total',)][1]}"), _d(out["total"]), "总分")
    assert calc(L.SHEET_SCORES, f"{final_col}{inputs.cells[('grade',)][1]}") == out["grade"]

    # 新指标的实际值确由自写公式从基础数据算出（期望值直接由基础数据与规则算得，不抄输出）
    f6, d6 = Decimal("39.51"), Decimal("22.98")
    added, added2 = (indicators[by_row[rows[k]].code] for k in ("added", "added2"))
    assert Decimal(str(added["value"])) == pytest.approx((f6 + Decimal("5.26")) / d6)
    assert added["computed_score"] == (3 if (f6 + Decimal("5.26")) / d6 <= 2 else 0) == 3  # 194.82% ≤ 200%
    share = (Decimal("5.26") / (f6 + Decimal("5.26"))).quantize(Decimal("0.0001"), rounding=ROUND_HALF_UP)
    assert Decimal(str(added2["value"])) == share
    assert Decimal(str(added2["computed_score"])) == _linear(Decimal(2), share, Decimal("0.5"), Decimal("0.05"))
    assert out["total"] is not None and code in (0, 1)


def _d(x) -> Decimal | None:
    return None if x is None else Decimal(str(x))


def test_entries_and_the_users_word_list_agree_with_the_formula_engine(engine_functions, demo_dir, tmp_path, capsys):
    """项目自评表按真实表格的写法填写（“不低于”“≥95%”“6月底前”“2022年8月”“已完成”“较好”），并改了“定性词表”
    （加“完全达成”，把“较好”改为部分达成）：Excel 的 SCORE_TARGET(…,定性词表) 与 jixiao score 逐行得分相同。"""
    import openpyxl

    path = tmp_path / "石屏-写法.xlsx"
    shutil.copy(demo_dir / "shiping-2022.xlsx", path)
    _, inputs = load(path)
    row = {r.code: r for r in inputs.rows}
    words_at = int(inputs.cells[("qual_words",)][1][1:])
    wb = openpyxl.load_workbook(path)
    ws = wb[L.SHEET_SCORES]
    words = {ws.cell(r, 2).value: r for r in range(words_at, words_at + 40) if ws.cell(r, 2).value}
    ws.cell(words["较好"], 3).value = "部分达成"
    free = max(words.values()) + 1
    ws.cell(free, 2).value, ws.cell(free, 3).value = "完全达成", "达成"
    edits = {("P04", "p1"): "不低于", ("P04", "p2"): "≥90%", ("P04", "value"): "≥95%",
             ("P05", "p1"): "≤", ("P05", "p2"): "6月底前", ("P05", "value"): "2022年8月",
             ("P03", "value"): "较好", ("P06", "p1"): "定性", ("P06", "value"): "完全达成",
             ("P10", "value"): "已完成。", ("P11", "value"): "≤10分钟", ("P07", "value"): "已完成"}
    for (code, f), v in edits.items():
        ws[row[code].cells[f]] = v
    wb.save(path)

    calc = Calculated(path)
    _, out = score_json(path, capsys)
    by = {i["code"]: i for i in out["indicators"]}
    for code, r in row.items():
        _assert_score(calc(L.SHEET_SCORES, r.cells["computed"]), _d(by[code]["computed_score"]), f"{code} 计算得分")
        _assert_score(calc(L.SHEET_SCORES, r.cells["final"]), _d(by[code]["score"]), f"{code} 得分")
    # 期望值由规则直接算出：较好 → 部分达成（80%），完全达成 → 达成（100%），6月底前而 8 月完成 → 6/8
    assert _d(by["P03"]["computed_score"]) == (_d(by["P03"]["max"]) * Decimal("0.8")).quantize(Decimal("0.01"))
    assert _d(by["P06"]["computed_score"]) == _d(by["P06"]["max"])
    assert _d(by["P05"]["computed_score"]) == (_d(by["P05"]["max"]) * 6 / 8).quantize(Decimal("0.01"), ROUND_HALF_UP)
    assert _d(by["P04"]["computed_score"]) == _d(by["P04"]["max"])
    assert _d(by["P11"]["computed_score"]) == _d(by["P11"]["max"])
    notes = {f["cell"] for f in out["findings"] if f["code"] == "entry-interpreted"}
    assert {row["P04"].cells["p1"], row["P04"].cells["value"], row["P05"].cells["p2"], row["P03"].cells["value"],
            row["P06"].cells["value"], row["P10"].cells["value"], row["P11"].cells["value"]} <= notes
    # “已完成”填在数量指标（= 100%）里：有歧义，两边都无法计分（Excel 显示“错误：…”），jixiao 点名该格
    assert by["P07"]["score"] is None
    assert [f["severity"] for f in out["findings"] if f["code"] == "value-error" and f["cell"] == row["P07"].cells["value"]] \
        == ["错误"]
