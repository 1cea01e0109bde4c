"""评分表的结构由用户在 Excel 中决定：插入、删除、复制、调换的行，改过的名称与分值，父行——jixiao score/check 照表读取，
Excel 中的公式（formulas 引擎按单元格公式重算，注册真实的单元格函数）与 jixiao score 逐行一致。

夹具只像用户那样改工作簿：在生成的模板/示例上改输入与规则单元格，用 tests/excel_rows.py 模拟 Excel 的插入行、删除行、
复制行、剪切行（连同公式引用一起改写，openpyxl 自己的 insert_rows 不改公式），新行的“计算得分”“得分”由上一行向下填充。
期望值按评分规则由填入的数字直接算出，不抄程序的输出。
"""
from __future__ import annotations

import json
import shutil
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path

import openpyxl
import pytest

from addin.checks.run import run_checks
from addin.cli import main as cli
from addin.model import Formula
from addin.scoring.engine import evaluate
from addin.scoring.reader import load
from tests.excel_rows import copy_row, delete_row, fill_down, insert_rows, move_row
from tests.fixtures_checks import score_json
from tests.test_formulas_engine import Calculated, engine_functions  # noqa: F401 - fixture
from workbook_templates import layout as L

S = L.SHEET_SCORES
C = L.LETTER  # 各字段的列字母：A 代码 … H 实际值 … J 规则类型 … V 计算得分 … Y 得分
TEMPLATES = Path(__file__).resolve().parent.parent / "workbook_templates" / "xlsx"
D = Decimal


def q2(x: Decimal) -> Decimal:
    return x.quantize(D("0.01"), rounding=ROUND_HALF_UP)


def rows_by_code(ws) -> dict[str, int]:
    return {ws.cell(r, 1).value: r for r in range(1, ws.max_row + 1) if ws.cell(r, 1).value}


def mark_rows(ws, mark: str) -> list[int]:
    return [r for r in range(1, ws.max_row + 1) if ws.cell(r, 1).value == mark]


def set_row(ws, r: int, **fields) -> None:
    """按字段名填写一行（只填输入与规则单元格）；params 为参数1、参数2……"""
    params = fields.pop("params", None)
    for f, v in fields.items():
        ws[f"{C[f]}{r}"] = v
    if params is not None:
        for i, v in enumerate(params, 1):
            ws[f"{C[f'p{i}']}{r}"] = v


def new_indicator_formulas(wb, src: int, dst: int) -> None:
    """新行的“计算得分”“得分”：用户把上一行的这两格向下填充（复制）。"""
    fill_down(wb, S, src, dst, [C["computed"], C["final"]])


def copy_of(src: Path, tmp_path: Path, name: str) -> Path:
    p = tmp_path / name
    shutil.copy(src, p)
    return p


def excel_agrees(path: Path, ev) -> Calculated:
    """formulas 按单元格公式重算（Excel 会显示的值）：每行得分、每个小计、总分与等级都与 jixiao score 相同。"""
    calc = Calculated(path)
    y = C["final"]
    for ind in ev.indicators:
        shown = calc(S, f"{y}{ind.row}")
        if ind.final is None:
            assert isinstance(shown, str) or shown is None, (ind.code, shown)
        else:
            assert shown == pytest.approx(float(ind.final), abs=1e-9), (ind.code, ind.row, shown, ind.final)
    for name, lv in ev.level1.items():
        row = ev.inputs.cells[("subtotal", name)][1]
        shown = calc(S, f"{y}{row}")
        if lv.complete:
            assert shown == pytest.approx(float(lv.score), abs=1e-9), (name, shown, lv.score)
            assert calc(S, f"{C['points']}{row}") == pytest.approx(float(lv.points)), name
        else:
            assert shown == "未完成", (name, shown)
    total = calc(S, f"{y}{ev.inputs.cells[('total',)][1]}")
    grade = calc(S, f"{y}{ev.inputs.cells[('grade',)][1]}")
    if ev.complete:
        assert total == pytest.approx(float(ev.total), abs=1e-9) and grade == ev.grade, (total, grade)
    else:
        assert (total, grade) == ("未完成", "未完成")
    return calc


# =====================================================================================================
# 湖南（保靖 2018，94.9 优）：插入、删除、调换、改名、合并单元格、改规则类型
# =====================================================================================================
@pytest.fixture
def baojing(demo_dir, tmp_path):
    return copy_of(demo_dir / "baojing-2018.xlsx", tmp_path, "baojing.xlsx")


def test_inserted_indicator_row_with_new_names_and_chosen_rule(baojing, engine_functions, capsys):  # noqa: F811
    """在“过程”组中插入一行：一级、二级留空（属于上方的组），三级指标名称、分值、规则类型（下拉选“达标满分”）、参数、
    实际值都由用户填写，计算得分与得分由上一行向下填充；同时把“管理制度健全性”从 8 分调为 3 分，总分仍是 100 分。"""
    wb = openpyxl.load_workbook(baojing)
    ws = wb[S]
    rows = rows_by_code(ws)
    new = rows["disclosure"]  # 在“预决算信息公开性”之前插入：在小计区域之内
    insert_rows(wb, S, new)
    set_row(ws, new, name="绩效自评质量", points=5, criterion="自评覆盖率≥90%得满分，否则不得分", value=0.95, unit="%",
            rule="达标满分", na="报错", params=["≥", 0.9])
    new_indicator_formulas(wb, new - 1, new)
    mgmt = rows["mgmt_system"]
    set_row(ws, mgmt, points=3, value=3)
    wb.save(baojing)

    _, inputs = load(baojing)
    ev = evaluate(inputs)
    by_row = {i.row: i for i in ev.indicators}
    added = by_row[new]
    # 新行是一个独立的指标：标识为行号，一级/二级取上方的组，规则取自它自己的单元格：95% ≥ 90% → 满分 5 分
    assert (added.code, added.level1, added.level2, added.name) == (f"row{new}", "过程", "预算管理", "绩效自评质量")
    assert (added.points, added.rule.label, added.final) == (5, "达标满分", D(5))
    assert by_row[mgmt].final == 3
    assert ev.complete and ev.points_total == 100
    assert (ev.total, ev.grade) == (D("94.9") - 8 + 3 + 5, "优")
    assert ev.level1["过程"].score == D(56) - 8 + 3 + 5
    findings = run_checks(inputs, ev)
    assert not [f for f in findings if f.severity == "错误"], [(f.code, f.cell) for f in findings]
    assert not [f for f in findings if f.code in ("subtotal-formula-mismatch", "points-total-not-100")]
    excel_agrees(baojing, ev)


def test_changing_the_rule_type_drop_down_changes_excel_and_cli_alike(baojing, engine_functions):  # noqa: F811
    """公用经费控制率的规则类型从“达标满分”（≤100%）改为“线性插值”（零分点 200%、满分点 100%）：计算得分公式是
    =SCORE(…,J13,…)，Excel 与 jixiao score 都按新规则算，结果相同。"""
    wb = openpyxl.load_workbook(baojing)
    ws, ds = wb[S], wb[L.SHEET_DATA]
    r = rows_by_code(ws)["public_expense_control"]
    assert ws[f"{C['computed']}{r}"].value == f"=SCORE(H{r},E{r},J{r},K{r},L{r}:U{r},定性词表)"
    set_row(ws, r, rule="线性插值", params=[2, 1])
    wb.save(baojing)
    _, inputs = load(baojing)
    ev = evaluate(inputs)
    res = next(i for i in ev.indicators if i.row == r)
    # 公用经费控制率 = 实际支出 ÷ 预算安排（取实际值公式引用的两个基础数据单元格），线性插值：(200% − 率) ÷ 100% × 8
    actual, budget = (D(str(ds[ref.split("!")[1].replace("$", "")].value))
                      for ref in ws[f"H{r}"].value[len("=PUBLIC_EXPENSE_CONTROL("):-1].split(","))
    expected = q2(8 * (2 - actual / budget) / (2 - 1))
    assert expected == D("2.25") and res.computed == expected
    calc = Calculated(baojing)
    assert calc(S, f"{C['computed']}{r}") == pytest.approx(float(expected))
    assert res.final == 4  # 评价人的调整得分（有理由）仍然优先


def test_deleted_row(baojing, engine_functions, capsys):  # noqa: F811
    """删除“行政效能”（6 分）一行：小计区域随之缩小；分值合计 94 分是 points-total-not-100（错误），不会崩溃；
    总分 94.9 − 6 ＝ 88.9，等级“良”，Excel 与 jixiao score 相同。"""
    wb = openpyxl.load_workbook(baojing)
    r = rows_by_code(wb[S])["efficiency"]
    delete_row(wb, S, r)
    wb.save(baojing)
    _, inputs = load(baojing)
    ev = evaluate(inputs)
    assert "efficiency" not in {i.code for i in ev.indicators}
    assert (ev.total, ev.grade, ev.points_total) == (D("88.9"), "良", D(94))
    findings = run_checks(inputs, ev)
    points = [f for f in findings if f.code == "points-total-not-100"]
    assert len(points) == 1 and points[0].cell == f"{C['points']}{inputs.cells[('total',)][1]}"
    assert not [f for f in findings if f.code == "subtotal-formula-mismatch"]
    excel_agrees(baojing, ev)
    code, out = score_json(baojing, capsys)
    assert code == 0 and (out["complete"], out["total"], out["grade"]) == (True, 88.9, "良")


def test_reordered_rows(baojing, engine_functions, demo_dir):  # noqa: F811
    """组内调换顺序（把“公用经费控制率”剪切到“新建楼堂馆所面积控制率”之前）：得分、总分与发现都不变，Excel 相同。"""
    _, base_inputs = load(demo_dir / "baojing-2018.xlsx", with_cached=True)
    base = sorted(f.code for f in run_checks(base_inputs))
    wb = openpyxl.load_workbook(baojing)
    rows = rows_by_code(wb[S])
    moved = move_row(wb, S, rows["public_expense_control"], rows["building_area"])
    wb.save(baojing)
    _, inputs = load(baojing, with_cached=True)
    ev = evaluate(inputs)
    assert [i.code for i in ev.indicators][5:8] == ["budget_control", "public_expense_control", "building_area"]
    assert next(i for i in ev.indicators if i.code == "public_expense_control").row == moved
    assert (ev.total, ev.grade) == (D("94.9"), "优")
    assert sorted(f.code for f in run_checks(inputs, ev)) == base
    excel_agrees(baojing, ev)


def test_moves_that_leave_a_subtotal_range_are_reported(baojing, engine_functions):  # noqa: F811
    """Excel 的小计区域跟着区域两端的单元格走：把一行剪切到一组的第一行之上，它就落在小计区域之外，Excel 的小计少算了它。
    jixiao score 按表读取，总分仍然正确；jixiao check 指出那个小计公式（subtotal-formula-mismatch），不会悄悄算错。
    把“绩效指标明确性”剪切到“过程”组中（一级指标仍写着“投入”）：两个小计都被指出。删掉一组唯一的一行，小计公式变成
    #REF!，也被指出。"""
    wb = openpyxl.load_workbook(baojing)
    rows = rows_by_code(wb[S])
    move_row(wb, S, rows["public_expense_control"], rows["budget_completion"])
    wb.save(baojing)
    _, inputs = load(baojing)
    ev = evaluate(inputs)
    assert (ev.total, ev.grade) == (D("94.9"), "优")
    subtotals = mark_rows(openpyxl.load_workbook(baojing)[S], L.SUBTOTAL_MARK)
    mismatched = {f.cell for f in run_checks(inputs, ev) if f.code == "subtotal-formula-mismatch"}
    assert mismatched == {f"{C[f]}{subtotals[1]}" for f in ("points", "computed", "final")}
    calc = Calculated(baojing)
    assert calc(S, f"{C['final']}{subtotals[1]}") == pytest.approx(56 - 4)  # Excel 少算了移出区域的 4 分

    wb = openpyxl.load_workbook(baojing)
    rows = rows_by_code(wb[S])
    move_row(wb, S, rows["goal_clear"], rows["mgmt_system"])
    wb.save(baojing)
    _, inputs = load(baojing)
    ev = evaluate(inputs)
    assert ev.total == D("94.9") and ev.level1["投入"].score == 13
    mismatched = {f.cell for f in run_checks(inputs, ev) if f.code == "subtotal-formula-mismatch"}
    subtotals = mark_rows(openpyxl.load_workbook(baojing)[S], L.SUBTOTAL_MARK)
    assert {f"{C['final']}{subtotals[0]}", f"{C['final']}{subtotals[1]}"} <= mismatched

    wb = openpyxl.load_workbook(baojing)
    ws = wb[S]
    rows = rows_by_code(ws)
    delete_row(wb, S, rows["satisfaction"])
    delete_row(wb, S, rows["efficiency"])
    delete_row(wb, S, rows["benefit"])
    delete_row(wb, S, rows["key_work"])
    sub = mark_rows(ws, L.SUBTOTAL_MARK)[2]
    assert "#REF!" in ws[f"{C['final']}{sub}"].value
    wb.save(baojing)
    _, inputs = load(baojing)
    found = {f.cell for f in run_checks(inputs) if f.code == "subtotal-formula-mismatch"}
    assert f"{C['final']}{sub}" in found


def test_renamed_indicators_and_merged_level_cells(baojing, engine_functions):  # noqa: F811
    """一级、二级、三级指标名称都是输入：把“投入”改名为“决策”（只在合并单元格的第一格写，下面几格为空）、改一个三级指标名称，
    jixiao 照表读取，小计仍对应它汇总的那一组。"""
    wb = openpyxl.load_workbook(baojing)
    ws = wb[S]
    rows = rows_by_code(ws)
    first, last = rows["goal_reasonable"], rows["sangong_change"]
    ws[f"{C['level1']}{first}"] = "决策"
    for r in range(first + 1, last + 1):
        ws[f"{C['level1']}{r}"] = None
    ws.merge_cells(f"{C['level1']}{first}:{C['level1']}{last}")
    ws[f"{C['name']}{rows['staff_control']}"] = "在职人员控制率（含聘用人员）"
    wb.save(baojing)
    _, inputs = load(baojing, with_cached=True)
    ev = evaluate(inputs)
    assert list(ev.level1) == ["决策", "过程", "产出及效率"]
    assert ev.level1["决策"].score == 13 and [i.level1 for i in ev.indicators[:4]] == ["决策"] * 4
    staff = next(i for i in ev.indicators if i.code == "staff_control")
    assert staff.name == "在职人员控制率（含聘用人员）" and staff.final == 3
    assert (ev.total, ev.grade) == (D("94.9"), "优")
    findings = run_checks(inputs, ev)
    assert not [f for f in findings if f.code.startswith(("subtotal", "score-total", "level"))], findings
    excel_agrees(baojing, ev)


# =====================================================================================================
# 项目支出自评表：复制行（重复代码）、6 个数量指标与 20 分的执行率、110 分、父行
# =====================================================================================================
def test_copied_row_gets_its_own_identity(demo_dir, tmp_path, engine_functions, capsys):  # noqa: F811
    """复制“信息数据安全”一行再插入：两行代码相同。jixiao 不合并、不重复计算——复制的行按自己的单元格单独计分，
    标识为行号，并给出指向代码单元格的提示。先不改分值：分值合计 105（points-total-not-100），总分 105；
    再把两行都改为 2.5 分、改名：合计 100 分，总分 100。"""
    path = copy_of(demo_dir / "shiping-2022.xlsx", tmp_path, "shiping.xlsx")
    wb = openpyxl.load_workbook(path)
    src = rows_by_code(wb[S])["P01"]
    dup = copy_row(wb, S, src, src + 1)
    wb.save(path)
    _, inputs = load(path)
    ev = evaluate(inputs)
    assert len(ev.indicators) == 25 and len({i.code for i in ev.indicators}) == 25
    first, copy = (next(i for i in ev.indicators if i.row == r) for r in (src, dup))
    assert (first.code, copy.code) == ("P01", f"row{dup}") and first.name == copy.name == "信息数据安全"
    assert (first.final, copy.final) == (5, 5)
    hint = [f for f in ev.findings if f.code == "duplicate-code"]
    assert [(f.severity, f.sheet, f.cell) for f in hint] == [("提示", S, f"A{dup}")]
    assert f"第 {src} 行" in hint[0].message and "P01" in hint[0].message
    assert (ev.total, ev.points_total) == (105, 105)
    assert "points-total-not-100" in {f.code for f in run_checks(inputs, ev)}
    excel_agrees(path, ev)

    wb = openpyxl.load_workbook(path)
    ws = wb[S]
    set_row(ws, src, points=2.5)
    set_row(ws, dup, points=2.5, name="信息数据安全（备份）")
    wb.save(path)
    code, out = score_json(path, capsys)
    scores = {i["row"]: i["score"] for i in out["indicators"]}
    assert code == 0 and (out["total"], out["grade"]) == (100, "优") and (scores[src], scores[dup]) == (2.5, 2.5)


def _target_score(points: Decimal, nature: str, target: Decimal, actual: Decimal) -> Decimal:
    """财预〔2020〕10号：达到指标值得满分；≥ 未达到按 完成值÷指标值×分值，≤ 按 指标值÷完成值×分值，封顶分值。"""
    ratio = actual / target if nature == "≥" else target / actual
    return q2(points * min(ratio, D(1)))


# 用户自己的项目自评表：数量指标 6 个（模板只有 3 个），执行率 20 分（模板 10 分），删去时效、成本指标与一个质量指标
QUANTITY = [("培训人次", "≥", 1200, 1260), ("印发宣传册", "≥", 5000, 4500), ("义诊场次", "≥", 24, 24),
            ("入户走访户数", "≥", 300, 310), ("投诉办结时长（天）", "≤", 5, 4), ("覆盖乡镇数", "≥", 12, 9)]


def _project_table(tmp_path: Path) -> tuple[Path, dict]:
    """从空白项目模板（jixiao new --system project）出发，像用户那样在 Excel 中录入上述表格。返回路径与期望值。"""
    path = copy_of(TEMPLATES / "project.xlsx", tmp_path, "project.xlsx")
    wb = openpyxl.load_workbook(path)
    ws, ds = wb[S], wb[L.SHEET_DATA]
    # 基础数据：年度资金总额 全年预算数 100、全年执行数 90（执行率 90%）
    data = {ds.cell(r, 1).value: r for r in range(1, ds.max_row + 1)}
    ds[f"D{data['fund_total']}"], ds[f"E{data['fund_total']}"] = 100, 90
    ds[f"D{data['fund_fiscal']}"], ds[f"E{data['fund_fiscal']}"] = 100, 90
    for key, v in (("unit_name", "某县卫生健康局"), ("year", "2023"), ("project_name", "基层卫生服务能力提升"),
                   ("exec_basis", "全年预算数")):
        ds[f"C{data[key]}"] = v
    rows = rows_by_code(ws)
    set_row(ws, rows["exec_rate"], points=20)
    # 删去时效、成本与一个质量指标（自下而上删，行号不乱）
    for code in ("P10", "P09", "P08", "P07", "P06"):
        delete_row(wb, S, rows_by_code(ws)[code])
    # 数量指标多 3 个：在第 2 个数量指标前插入 3 行（在小计区域之内），一级/二级留空，公式由上一行向下填充
    at = rows_by_code(ws)["P02"]
    insert_rows(wb, S, at, 3)
    for r in range(at, at + 3):
        new_indicator_formulas(wb, at - 1, r)
        set_row(ws, r, rule="目标比较", na="报错")
    quantity_rows = [rows_by_code(ws)["P01"], at, at + 1, at + 2, rows_by_code(ws)["P02"], rows_by_code(ws)["P03"]]
    expected: dict[int, Decimal] = {}
    for r, (name, nature, target, actual) in zip(quantity_rows, QUANTITY, strict=False):
        set_row(ws, r, name=name, points=5, value=actual, params=[nature, target])
        expected[r] = _target_score(D(5), nature, D(target), D(actual))
    rows = rows_by_code(ws)
    quality = [("检测合格率", "≥", 0.95, 0.98), ("病历书写合格率", "≥", 0.9, 0.81)]
    for code, (name, nature, target, actual) in zip(("P04", "P05"), quality, strict=True):
        set_row(ws, rows[code], name=name, points=5, value=actual, params=[nature, target])
        expected[rows[code]] = _target_score(D(5), nature, D(str(target)), D(str(actual)))
    benefit = [("P11", "群众就医负担", "定性", "有所减轻", "达成"), ("P12", "基层首诊率", "≥", 0.6, 0.66),
               ("P13", "家庭医生签约率", "≥", 0.7, 0.63), ("P14", "医疗废物规范处置率", "≥", 1, 1),
               ("P15", "服务能力持续提升", "定性", "持续提升", "达成")]
    for code, name, nature, target, actual in benefit:
        set_row(ws, rows[code], name=name, points=6, value=actual, params=[nature, target])
        expected[rows[code]] = D(6) if nature == "定性" else _target_score(D(6), nature, D(str(target)), D(str(actual)))
    for code, name, actual in (("P16", "患者满意度", 0.92), ("P17", "医务人员满意度", 0.85)):
        set_row(ws, rows[code], name=name, points=5, value=actual, params=["≥", 0.9])
        expected[rows[code]] = _target_score(D(5), "≥", D("0.9"), D(str(actual)))
    expected[rows["exec_rate"]] = q2(D(20) * D(90) / D(100))  # 预算执行率 × 分值
    wb.save(path)
    return path, {"rows": expected, "quantity": quantity_rows}


def test_project_table_with_six_quantity_indicators_and_20_point_execution_rate(tmp_path, engine_functions,  # noqa: F811
                                                                                 capsys):
    path, exp = _project_table(tmp_path)
    _, inputs = load(path)
    ev = evaluate(inputs)
    by_row = {i.row: i for i in ev.indicators}
    assert {r: by_row[r].final for r in exp["rows"]} == exp["rows"]
    assert len(ev.indicators) == len(exp["rows"]) == 1 + 8 + 5 + 2
    quantity = [by_row[r] for r in exp["quantity"]]
    assert [(i.level1, i.level2) for i in quantity] == [("产出指标", "数量指标")] * 6  # 插入行的空白一级/二级属于上方的组
    assert [i.name for i in quantity] == [q[0] for q in QUANTITY]
    assert {k: v.points for k, v in ev.level1.items()} == {"预算执行率": 20, "产出指标": 40, "效益指标": 30, "满意度指标": 10}
    assert ev.complete and ev.total == sum(exp["rows"].values())
    findings = run_checks(inputs, ev)
    assert not [f for f in findings if f.severity == "错误"], [(f.code, f.cell, f.message) for f in findings]
    excel_agrees(path, ev)
    code, out = score_json(path, capsys)
    assert code == 0 and out["complete"] and D(str(out["total"])) == ev.total


def test_110_point_table_is_a_finding_not_a_crash(tmp_path, capsys):
    path, exp = _project_table(tmp_path)
    wb = openpyxl.load_workbook(path)
    set_row(wb[S], exp["quantity"][0], points=15)  # 原 5 分，改成 15 分：合计 110
    wb.save(path)
    code, out = score_json(path, capsys)
    assert code == 0 and out["complete"]  # 每项都计了分；分值合计不对是校验的错误
    capsys.readouterr()
    assert cli.main(["check", str(path), "--json"]) == 1
    found = [f for f in json.loads(capsys.readouterr().out)["findings"] if f["code"] == "points-total-not-100"]
    assert len(found) == 1 and "110" in found[0]["message"] and found[0]["severity"] == "错误"


def test_parent_row_with_sub_rows_is_summed_once(tmp_path, engine_functions):  # noqa: F811
    """父行：在两个质量指标之上插入“质量指标”一行（二级指标写“质量指标”，三级为空，分值 10 = 5 + 5，不选规则类型、不填
    实际值），得分填 =SUM(两个子行的得分)。jixiao 把它当作父行：得分是子行之和，不重复计入小计、总分与分值合计，并给出提示；
    Excel 的小计只加选了规则类型的行，同样不重复。"""
    path, exp = _project_table(tmp_path)
    wb = openpyxl.load_workbook(path)
    ws = wb[S]
    rows = rows_by_code(ws)
    parent = rows["P04"]
    insert_rows(wb, S, parent)
    y, v = C["final"], C["computed"]
    set_row(ws, parent, level2="质量指标", points=10)
    ws[f"{y}{parent}"] = f"=SUM({y}{parent + 1}:{y}{parent + 2})"
    ws[f"{v}{parent}"] = f"=SUM({v}{parent + 1}:{v}{parent + 2})"
    wb.save(path)
    _, inputs = load(path)
    ev = evaluate(inputs)
    assert parent not in {i.row for i in ev.indicators}
    (p,) = ev.parents
    children = (exp["rows"][rows["P04"]], exp["rows"][rows["P05"]])
    assert (p.row, p.points, p.children, p.score) == (parent, 10, (parent + 1, parent + 2), sum(children))
    assert ev.points_total == 100 and ev.total == sum(exp["rows"].values())  # 不重复计算
    assert ev.level1["产出指标"].points == 40
    info = [f for f in ev.findings if f.code == "parent-row"]
    assert [(f.severity, f.cell) for f in info] == [("提示", f"{C['points']}{parent}")]
    findings = run_checks(inputs, ev)
    assert not [f for f in findings if f.severity == "错误"], [(f.code, f.cell, f.message) for f in findings]
    calc = excel_agrees(path, ev)
    assert calc(S, f"{y}{parent}") == pytest.approx(float(sum(children)))
    # Excel 中父行显示的得分（SUM 区域写错了）与子行之和不同：指出父行的得分单元格
    row = next(r for r in inputs.rows if r.row == parent)
    row.final = Formula(row.final.text, float(sum(children)) - 1)
    found = [f for f in run_checks(inputs, ev) if f.code == "formula-result-mismatch"]
    assert [f.cell for f in found] == [f"{y}{parent}"] and "子行得分之和" in found[0].message


def test_nested_parent_rows():
    """父行可以套父行：“产出指标 20 分”下有“数量指标 10 分”（两个 5 分的子行）与一个 10 分的质量指标——叶子各计一次。"""
    from addin.model import RowInput, WorkbookInputs

    def row(r: int, level2: str, name: str, points, value=None, rule: str = "") -> RowInput:
        ri = RowInput(code=f"row{r}", level1="产出指标", level2=level2, name=name, points=points, value=value,
                      rule_label=rule, na="报错", params=["≥", 1] if rule else [], row=r)
        ri.cells = {f: f"{C[f]}{r}" for f in L.score_fields()}
        return ri

    inputs = WorkbookInputs("project")
    inputs.rows = [row(4, "", "", 20), row(5, "数量指标", "", 10),
                   row(6, "数量指标", "培训人次", 5, 1, "目标比较"), row(7, "数量指标", "印发手册", 5, 0.5, "目标比较"),
                   row(8, "质量指标", "合格率", 10, 1, "目标比较")]
    ev = evaluate(inputs)
    assert [i.row for i in ev.indicators] == [6, 7, 8]
    outer, inner = sorted(ev.parents, key=lambda p: p.row)
    assert (inner.row, inner.children, inner.score) == (5, (6, 7), D("7.5"))
    assert (outer.row, outer.children, outer.leaves, outer.score) == (4, (5, 8), (6, 7, 8), D("17.5"))
    assert (ev.points_total, ev.total) == (20, D("17.5"))


def test_parent_row_without_sum_formula_and_a_mismatched_parent(tmp_path):
    """父行的得分单元格空着：jixiao 照样按子行之和计分，提示里写明 Excel 中该填的公式。分值与子行之和对不上（12 ≠ 10）的
    行不是父行：它没有规则类型，是无法计分的指标——评价未完成，missing 指向它的规则类型单元格。"""
    path, exp = _project_table(tmp_path)
    wb = openpyxl.load_workbook(path)
    ws = wb[S]
    parent = rows_by_code(ws)["P04"]
    insert_rows(wb, S, parent)
    set_row(ws, parent, level2="质量指标", points=10)
    wb.save(path)
    _, inputs = load(path)
    ev = evaluate(inputs)
    info = next(f for f in ev.findings if f.code == "parent-row")
    y = C["final"]
    assert f"{y}{parent} 填写 =SUM({y}{parent + 1}:{y}{parent + 2})" in info.message
    assert ev.complete and ev.total == sum(exp["rows"].values())

    set_row(ws, parent, points=12)
    wb.save(path)
    _, inputs = load(path)
    ev = evaluate(inputs)
    assert not ev.parents and (ev.complete, ev.total, ev.grade) == (False, None, None)
    (m,) = ev.missing  # 指向这一行：它既没有规则类型也没有实际值
    assert m["code"] == f"row{parent}" and m["cell"] in (f"{S}!{C['rule']}{parent}", f"{S}!{C['value']}{parent}")
    assert f"{S}!{C['rule']}{parent}" in {f"{f.sheet}!{f.cell}" for f in ev.findings if f.code == "rule-error"}


def test_rows_outside_a_group(baojing, capsys):
    """紧接“投入”小计之下插入的行（“过程”组第一行之上）：一级指标留空时按“过程”小计归组并提示（也可能是想放进上一组的）；
    它不在 Excel 的小计区域内，check 指出。总分行与小计行之间插入、一级指标留空的行：不属于任何一组，单独汇总为“未分组”并警告。"""
    wb = openpyxl.load_workbook(baojing)
    ws = wb[S]
    top = mark_rows(ws, L.SUBTOTAL_MARK)[0] + 1
    insert_rows(wb, S, top)
    set_row(ws, top, name="预算编制科学性", points=2, value=2, rule="评价人打分", na="报错")
    new_indicator_formulas(wb, top + 1, top)
    set_row(ws, rows_by_code(ws)["mgmt_system"], points=6, value=6)
    wb.save(baojing)
    _, inputs = load(baojing)
    ev = evaluate(inputs)
    added = next(i for i in ev.indicators if i.row == top)
    assert (added.code, added.level1, added.final) == (f"row{top}", "过程", 2)
    inferred = [f for f in ev.findings if f.code == "level-inferred"]
    assert [(f.severity, f.cell) for f in inferred] == [("提示", f"{C['level1']}{top}")] and "过程" in inferred[0].message
    assert (ev.total, ev.points_total) == (D("94.9"), 100)
    subtotal = mark_rows(ws, L.SUBTOTAL_MARK)[1]
    assert f"{C['final']}{subtotal}" in {f.cell for f in run_checks(inputs, ev) if f.code == "subtotal-formula-mismatch"}

    wb = openpyxl.load_workbook(baojing)
    ws = wb[S]
    total = mark_rows(ws, L.TOTAL_MARK)[0]
    insert_rows(wb, S, total)
    set_row(ws, total, name="创新加分", points=1, value=1, rule="评价人打分", na="报错")
    fill_down(wb, S, total - 2, total, [C["computed"], C["final"]])
    wb.save(baojing)
    _, inputs = load(baojing)
    ev = evaluate(inputs)
    assert ev.level1["未分组"].score == 1 and ev.total == D("95.9")
    missing = [f for f in ev.findings if f.code == "level1-missing"]
    assert [(f.severity, f.cell) for f in missing] == [("警告", f"{C['level1']}{total}")]


def test_blank_named_row_is_not_taken_for_a_deleted_template_row(tmp_path):
    """项目模板的指标行名称为空：删掉一行（P06）再插入一个名称为空的行，它是新的一行，不会凭“名称相同（都为空）”被认成 P06。"""
    path = copy_of(TEMPLATES / "project.xlsx", tmp_path, "project.xlsx")
    wb = openpyxl.load_workbook(path)
    ws = wb[S]
    delete_row(wb, S, rows_by_code(ws)["P06"])
    at = rows_by_code(ws)["P05"]
    insert_rows(wb, S, at)
    set_row(ws, at, points=5, rule="目标比较", na="报错", params=["≥", 1])
    wb.save(path)
    _, inputs = load(path)
    ev = evaluate(inputs)
    assert next(i for i in ev.indicators if i.row == at).code == f"row{at}"
    assert "code-missing" not in {f.code for f in ev.findings}


def test_grade_of_never_grades_an_incomplete_total():
    from udfs.excel import call

    shown = call("GRADE_OF", "未完成", ["优", "良", "中", "差"], [90, 80, 60, 0])
    assert shown.startswith("错误：") and "未完成" in shown
    assert call("GRADE_OF", 94.9, ["优", "良", "中", "差"], [90, 80, 60, 0]) == "优"


# =====================================================================================================
# 空白模板：评价未完成
# =====================================================================================================
@pytest.mark.parametrize("system", ["hunan-dept", "zizhou-dept", "project"])
def test_blank_template_is_incomplete(system, tmp_path, capsys):
    path = tmp_path / "空白.xlsx"
    assert cli.main(["new", "--system", system, "-o", str(path)]) == 0
    code, out = score_json(path, capsys)
    assert code == 1 and (out["complete"], out["total"], out["grade"]) == (False, None, None)
    assert [m["code"] for m in out["missing"]] == [i["code"] for i in out["indicators"] if i["score"] is None]
    assert all(v["score"] is None and v["complete"] is False for v in out["level1"].values())
    capsys.readouterr()
    assert cli.main(["score", str(path)]) == 1
    text = capsys.readouterr().out
    assert "评价未完成" in text and "总分：" not in text and "等级：" not in text
    assert out["missing"][0]["cell"] in text and out["missing"][0]["reason"] in text


# =====================================================================================================
# 校验：两种计算得分公式、旧模板的 SUM 小计
# =====================================================================================================
def test_score_formula_forms(baojing):
    """=SCORE(…,本行规则类型,…) 与旧模板按类型的 =SCORE_THRESHOLD(…) 都有效；规则类型参数指向别的行、写明另一种类型，
    或按类型的函数与规则类型不符，都是 formula-reference-mismatch。"""
    wb = openpyxl.load_workbook(baojing)
    ws = wb[S]
    r = rows_by_code(ws)["public_expense_control"]
    cases = {f"=SCORE_THRESHOLD(H{r},E{r},K{r},L{r}:U{r})": None,
             f'=SCORE(H{r},E{r},"达标满分",K{r},L{r}:U{r})': None,
             f"=SCORE(H{r},E{r},J{r + 1},K{r},L{r}:U{r})": f"J{r + 1}",
             f'=SCORE(H{r},E{r},"线性插值",K{r},L{r}:U{r})': "线性插值",
             f"=SCORE_LINEAR(H{r},E{r},K{r},L{r}:U{r})": "SCORE_LINEAR"}
    for formula, fragment in cases.items():
        ws[f"V{r}"] = formula
        wb.save(baojing)
        found = [f for f in check_file(baojing) if f.code == "formula-reference-mismatch"]
        if fragment is None:
            assert not found, formula
        else:
            assert [f.cell for f in found] == [f"V{r}"] and fragment in found[0].message, formula


def check_file(path: Path):
    _, inputs = load(path, with_cached=True)
    return run_checks(inputs)


def test_old_sum_subtotals_that_hide_unscored_rows_are_errors(demo_dir):
    """旧模板（或手写）的 =SUM 小计与总分跳过“错误：…”的行，在 Excel 中显示得像最终结果（开福 2020：总分 34 等级 差）。
    有指标未计分时，保存的小计/总分/等级不是“未完成”就是错误，指向该单元格；新模板显示“未完成”，没有这条发现。"""
    _, inputs = load(demo_dir / "kaifu-2020.xlsx", with_cached=True)
    before = {f.code for f in run_checks(inputs)}
    assert "incomplete-shown-as-final" not in before
    sub = inputs.cells[("subtotal", "投入")][1]
    total, grade = inputs.cells[("total",)][1], inputs.cells[("grade",)][1]
    y = C["final"]
    inputs.sheet_totals[("subtotal", "投入")]["final"] = Formula(f"=SUM({y}4:{y}{int(sub) - 1})", 3)
    inputs.sheet_totals[("total",)]["final"] = Formula(f"={y}8+{y}19+{y}24", 34)
    inputs.sheet_totals[("grade",)] = Formula(f"=GRADE_OF({y}{total},B29:B32,C29:C32)", "差")
    found = [f for f in run_checks(inputs) if f.code == "incomplete-shown-as-final"]
    assert {f.cell for f in found} == {f"{y}{sub}", f"{y}{total}", f"{y}{grade}"}
    assert all(f.severity == "错误" and "未完成" in f.message for f in found)
    shown_total = next(f for f in found if f.cell == f"{y}{total}")
    unscored = sum(1 for i in evaluate(inputs).indicators if i.final is None)
    assert "34" in shown_total.message and f"{unscored} 项" in shown_total.message and "SUM" in shown_total.message


# =====================================================================================================
# 模拟 Excel 的行编辑本身
# =====================================================================================================
def test_excel_row_emulation_rewrites_references_like_excel():
    """tests/excel_rows.py 本身：插入、删除、复制、剪切后公式引用按 Excel 的规则改写。"""
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "表"
    other = wb.create_sheet("别的表")
    for r in range(1, 6):
        ws[f"A{r}"] = r
    ws["B1"] = "=SUM(A1:A5)"
    ws["B2"] = "=A3*2+$A$5"
    other["A1"] = "='表'!A4+SUM('表'!A2:A3)"
    insert_rows(wb, "表", 3)  # 在第 3 行前插入：区域 A1:A5 扩为 A1:A6，A3→A4，$A$5→$A$6，别的表里的引用同样改写
    assert (ws["B1"].value, ws["B2"].value) == ("=SUM(A1:A6)", "=A4*2+$A$6")
    assert other["A1"].value == "='表'!A5+SUM('表'!A2:A4)"
    insert_rows(wb, "表", 7)  # 紧接区域之后插入：区域不扩展
    assert ws["B1"].value == "=SUM(A1:A6)"
    delete_row(wb, "表", 7)
    delete_row(wb, "表", 4)  # 删除原来的第 3 行：指向它的引用变成 #REF!，区域缩小一行
    assert (ws["B1"].value, ws["B2"].value) == ("=SUM(A1:A5)", "=#REF!*2+$A$5")
    assert other["A1"].value == "='表'!A4+SUM('表'!A2:A3)"
    ws["C5"] = "=A5+1"
    assert copy_row(wb, "表", 5, 6) == 6  # 复制第 5 行插入到第 6 行：公式按相对引用平移，区域扩到新行之前为止
    assert (ws["A6"].value, ws["C6"].value, ws["B1"].value) == (5, "=A6+1", "=SUM(A1:A5)")
    ws["D1"] = "=A4"
    assert move_row(wb, "表", 4, 2) == 2  # 剪切第 4 行插入到第 2 行前：指向它的引用跟着走
    assert (ws["A2"].value, ws["D1"].value) == (4, "=A2")
    assert ws["B1"].value == "=SUM(A1:A5)"
