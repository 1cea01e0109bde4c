"""黄金用例：种子报告中的得分由规则与数据重新算出。"""
from decimal import Decimal as D

from tests.conftest import evaluate_example


def _by_code(ev):
    return {i.code: i for i in ev.indicators}


def test_baojing_2018_totals_94_9_you():
    ev = evaluate_example("baojing-2018")
    assert ev.total == D("94.9") and ev.grade == "优"
    assert {k: v.score for k, v in ev.level1.items()} == {"投入": 13, "过程": 56, "产出及效率": D("25.9")}
    assert {k: v.points for k, v in ev.level1.items()} == {"投入": 13, "过程": 61, "产出及效率": 26}
    assert not [f for f in ev.findings if f.severity == "错误"]


def test_baojing_overrides_keep_computed_and_final_side_by_side():
    rows = _by_code(evaluate_example("baojing-2018"))
    # 预算控制率 10.12% 按模板分档（10%～20% 含）计算为 3 分，评价人按 4 分并写明理由
    assert (rows["budget_control"].computed, rows["budget_control"].final) == (3, 4)
    assert (rows["public_expense_control"].computed, rows["public_expense_control"].final) == (0, 4)
    assert (rows["key_work"].computed, rows["key_work"].final) == (8, D("7.90"))
    assert all(rows[c].reason for c in ("budget_control", "public_expense_control", "key_work"))
    assert round(rows["public_expense_control"].value * 100, 2) == D("171.93")
    assert rows["procurement"].value is None and rows["procurement"].final == 6  # 0÷0 视同满分


def test_zizhou_2021_reproduces_every_line_of_annex2():
    ev = evaluate_example("zizhou-2021")
    assert ev.total == D("85.1") and ev.grade == "良好"
    assert {k: v.score for k, v in ev.level1.items()} == {"投入": D("21.5"), "过程": D("55.6"), "效果": 8}
    annex2 = {"z1_1": "1.5", "z1_2": "2", "z1_3": "3", "z1_4": "2", "z1_5": "5", "z1_6": "8", "z2_1": "6.6", "z2_2a": "4",
              "z2_2b": "5", "z2_3a": "0", "z2_3b": "0", "z2_4a": "1.5", "z2_4b": "1.5", "z2_5": "3", "z2_6": "2",
              "z2_7": "3", "z2_8": "3", "z2_9": "2", "z2_10": "2", "z2_11": "3", "z2_12": "2", "z2_13": "2", "z2_14": "2",
              "z2_15": "2", "z2_16": "2", "z2_17": "2", "z2_18": "2", "z2_19": "2", "z2_20": "3", "z3_1": "8"}
    rows = _by_code(ev)
    assert {c: rows[c].final for c in annex2} == {c: D(v) for c, v in annex2.items()}
    assert all(r.override is None for r in rows.values())  # 全部由规则算出，无人工调整
    assert round(rows["z2_1"].value * 100, 1) == D("90.5")
    assert round(rows["z2_3a"].value * 100) == 355 and round(rows["z2_3b"].value * 100, 2) == D("-79.09")


def test_shiping_2022_project_100_you():
    ev = evaluate_example("shiping-2022")
    assert ev.total == 100 and ev.grade == "优"
    assert {k: v.points for k, v in ev.level1.items()} == {"预算执行率": 10, "产出指标": 50, "效益指标": 30, "满意度指标": 10}


def test_built_workbook_reads_back_to_the_same_scores(demo_dir):
    from addin.scoring.engine import evaluate
    from addin.scoring.reader import load

    for name, total, grade in (("baojing-2018", D("94.9"), "优"), ("zizhou-2021", D("85.1"), "良好"),
                               ("shiping-2022", D(100), "优")):
        _, inputs = load(demo_dir / f"{name}.xlsx")
        ev = evaluate(inputs)
        assert (ev.total, ev.grade) == (total, grade), name
        assert [i.final for i in ev.indicators] == [i.final for i in evaluate_example(name).indicators]


def test_edited_value_formula_is_flagged_and_excel_result_used(demo_dir, tmp_path):
    import shutil

    import openpyxl

    from addin.scoring.engine import evaluate
    from addin.scoring.reader import load

    path = tmp_path / "b.xlsx"
    shutil.copy(demo_dir / "baojing-2018.xlsx", path)
    wb = openpyxl.load_workbook(path)
    ws = wb["评分表"]
    row = next(r for r in range(4, 40) if ws.cell(r, 1).value == "staff_control")
    # 用户把在职人员控制率的分子改成编制数（引用错误）；Excel 会算出 100%，但公式与模板不同
    ws.cell(row, 8).value = ws.cell(row, 8).value.replace("$C$", "$X$", 1)
    wb.save(path)
    _, inputs = load(path)
    ev = evaluate(inputs)
    changed = [f for f in ev.findings if f.code == "formula-changed"]
    assert [(f.sheet, f.cell) for f in changed] == [("评分表", f"H{row}")]
    assert "STAFF_CONTROL_RATE" in changed[0].expected
