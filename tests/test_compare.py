"""jixiao compare：自评与重点评价的差异分析（种子 001 §六（二）：自评 97 分，重点评价 85.1 分）。

自评工作簿：种子 001 的部门自评用的是另一套 18 个三级指标，jixiao 没有这套体系；这里用湖南部门整体体系（保靖 2018 的数据）
改成子洲县医疗保障局 2021 年度，把“公用经费控制率”的调整得分改为 6 分、重点工作完成率不再调整，得到与种子相同的 97 分。
"""
from __future__ import annotations

import dataclasses
from decimal import Decimal as D
from pathlib import Path

import openpyxl
import pytest
from docx import Document

from addin.batch.compare import SHEET_COMPARE, analyse
from addin.cli.main import main
from addin.report.matching import normalise_name
from addin.scoring.engine import evaluate
from addin.template.inputs import layout_inputs
from addin.template.workbook import build_workbook
from workbook_templates.examples import BAOJING_2018, ZIZHOU_2021
from workbook_templates.systems import SYSTEMS

SELF_REASON = "年中职工医保并入增加人员，公用经费超支系人员增加所致，自评酌情给6分"
SELF_2021 = dataclasses.replace(
    BAOJING_2018, name="zizhou-self-2021",
    scalars={**BAOJING_2018.scalars, "unit_name": "子洲县医疗保障局", "year": "2021"},
    overrides={"budget_control": BAOJING_2018.overrides["budget_control"],
               "public_expense_control": (D(6), SELF_REASON)})


def _ev(ex):
    return evaluate(layout_inputs(SYSTEMS[ex.system], ex))


@pytest.fixture(scope="module")
def comp():
    return analyse(_ev(SELF_2021), _ev(ZIZHOU_2021))


@pytest.fixture(scope="module")
def self_xlsx(tmp_path_factory) -> Path:
    return build_workbook(SELF_2021.system, tmp_path_factory.mktemp("self") / "自评.xlsx", SELF_2021)


def test_totals_grades_and_no_spurious_warnings(comp):
    assert (comp.self_side.total, comp.self_side.grade) == (D("97.00"), "优")
    assert (comp.eval_side.total, comp.eval_side.grade) == (D("85.10"), "良好")
    assert comp.total_diff == D("-11.90")
    assert comp.warnings == []  # 同一单位、同一年度，工作簿记录的自评得分 97 与自评工作簿一致
    first = comp.paragraphs[0].text
    assert "自评得分为 97 分（优），本次绩效重点评价得分 85.1 分（良好），相差 11.9 分" in first
    assert first.endswith("主要原因为：")


def test_level1_differences_reconcile_to_total(comp):
    lv = {x.name: x for x in comp.level1}
    assert list(lv) == ["投入", "过程", "产出及效率", "效果"]
    assert (lv["投入"].self_score, lv["投入"].self_points, lv["投入"].eval_score, lv["投入"].eval_points) == \
        (D("13.00"), D(13), D("21.50"), D(24))
    assert lv["投入"].score_diff == D("8.50")
    assert round(lv["投入"].rate_diff * 100, 2) == D("-10.42")  # 100% → 89.58%
    assert lv["过程"].score_diff == D("-2.40")  # 58/61 → 55.6/66
    assert lv["产出及效率"].eval_points is None and lv["产出及效率"].score_diff == D("-26.00")
    assert lv["效果"].self_points is None and lv["效果"].score_diff == D("8.00")
    assert sum(x.score_diff for x in comp.level1) == comp.total_diff
    text = next(p.text for p in comp.paragraphs if p.heading and "一级指标" in p.heading)
    assert "投入：自评 13 分中得 13 分（得分率 100.00%），重点评价 24 分中得 21.5 分（得分率 89.58%），重点评价得分率低 10.42 个百分点" in text
    assert "产出及效率（仅自评设置）：26 分中得 26 分" in text


def test_indicator_pairs_scores_formulas_and_reasons(comp):
    pairs = {(d.self_name, d.eval_name): d for d in comp.indicators}
    assert set(pairs) == {("预算完成率", "预算完成率"), ("公用经费控制率", "公用经费控制率"),
                          ("“三公经费”变动率", "三公经费动态变动率"), ("“三公经费”控制率", "部门三公经费控制率"),
                          ("政府采购执行率", "政府采购预算执行率"), ("在职人员控制率", "财政供养人员"),
                          ("重点工作完成率", "年度目标")}
    d = pairs[("预算完成率", "预算完成率")]
    assert (d.self_score, d.self_points, d.eval_score, d.eval_points, d.score_diff) == \
        (D("5.00"), D(5), D("6.60"), D(12), D("1.60"))
    assert not d.same_formula and "计算公式不同" in d.formula_note
    assert (d.self_value, d.eval_value) == ("100.00%", "90.50%")
    d = pairs[("公用经费控制率", "公用经费控制率")]
    assert d.same_formula and d.score_diff == D("-6.00")
    assert d.self_reasons == [f"调整得分 6 分（计算得分 0 分）：{SELF_REASON}"]
    assert d.eval_reasons == ["备注：公用经费控制 355%>100%"]
    assert pairs[("在职人员控制率", "财政供养人员")].match == "相近"
    # 只在一方设置的指标：18 − 7 与 30 − 7，各带得分
    assert len(comp.self_only_rows) == 11 and len(comp.eval_only_rows) == 23
    assert {r.name: r.score for r in comp.self_only_rows}["预算控制率"] == D("4.00")


def test_deductions_on_both_sides_with_reasons(comp):
    ev = {d.name: d for d in comp.eval_deductions}
    assert len(ev) == 8 and sum(d.lost for d in ev.values()) == D("14.90")  # 100 − 85.1
    assert ev["部门预算的完整性"].reasons == ["备注：报表封皮未盖章"]
    assert ev["预算完成率"].lost == D("5.40")
    me = {d.name: d for d in comp.self_deductions}
    assert {k: v.lost for k, v in me.items()} == {"预算控制率": D("1.00"), "公用经费控制率": D("2.00")}  # 100 − 97
    headings = [p.heading for p in comp.paragraphs if p.heading]
    assert headings == ["1、评分体系存在差异", "2、一级指标得分差异", "3、共有指标的得分差异", "4、重点评价扣分情况",
                        "5、自评扣分情况", "6、评价过程的差异"]
    text = {p.heading: p.text for p in comp.paragraphs}
    assert "重点评价共在 8 个指标上失分，合计 14.9 分" in text["4、重点评价扣分情况"]
    assert "自评共在 2 个指标上失分，合计 3 分" in text["5、自评扣分情况"]
    assert "18 个三级指标" in text["1、评分体系存在差异"] and "30 个三级指标" in text["1、评分体系存在差异"]


def test_single_workbook_uses_stated_self_score():
    c = analyse(None, _ev(ZIZHOU_2021))
    assert (c.self_side.total, c.self_side.grade, c.total_diff) == (D("97.00"), "优秀", D("-11.90"))
    assert c.level1 == [] and c.indicators == [] and c.self_only_rows == []
    assert "相差 11.9 分，评价等级由自评的“优秀”变为“良好”" in c.paragraphs[0].text


def test_mismatched_unit_year_and_stated_score_are_warned():
    c = analyse(_ev(BAOJING_2018), _ev(ZIZHOU_2021))
    assert len(c.warnings) == 3
    assert "单位名称不同" in c.warnings[0] and "评价年度不同" in c.warnings[1]
    assert "记录的部门自评得分为 97 分，按自评工作簿计算为 94.9 分" in c.warnings[2]


def test_normalise_name():
    assert normalise_name("“三公经费”变动率") == normalise_name("三公经费动态变动率")
    assert normalise_name("部门三公经费控制率") == "三公经费控制率"
    assert normalise_name("部门预算") == "部门预算"  # 太短的不去“部门”前缀


def test_cli_writes_sheet_and_report_section(self_xlsx, demo_dir, tmp_path, capsys):
    xlsx, docx = tmp_path / "差异分析.xlsx", tmp_path / "差异分析.docx"
    before = (demo_dir / "zizhou-2021.xlsx").read_bytes()
    assert main(["compare", str(self_xlsx), str(demo_dir / "zizhou-2021.xlsx"), "-o", str(xlsx),
                 "--docx", str(docx)]) == 0
    out = capsys.readouterr().out
    assert "自评得分为 97 分（优），本次绩效重点评价得分 85.1 分（良好），相差 11.9 分" in out
    assert (demo_dir / "zizhou-2021.xlsx").read_bytes() == before  # 输入的工作簿不修改

    ws = openpyxl.load_workbook(xlsx)[SHEET_COMPARE]
    rows = [[v for v in r if v is not None] for r in ws.iter_rows(values_only=True)]
    assert ["总分", 97, 85.1, pytest.approx(-11.9)] in rows
    assert ["等级", "优", "良好", "优 → 良好"] in rows
    level1 = {r[0]: r for r in rows if r and r[0] in ("投入", "过程", "合计")}
    assert level1["投入"][-1] == 8.5 and level1["过程"][-1] == pytest.approx(-2.4)
    assert level1["合计"][-1] == pytest.approx(-11.9)
    reasons = [r for r in rows if r[:2] == ["自评", "公用经费控制率"]]
    assert reasons and reasons[0][-1].endswith(SELF_REASON)
    assert any(r[:2] == ["重点评价", "部门预算的完整性"] and r[-1] == "备注：报表封皮未盖章" for r in rows)
    assert ["5、自评扣分情况"] in rows

    doc = Document(str(docx))
    texts = [p.text for p in doc.paragraphs]
    assert texts[:2] == ["子洲县医疗保障局2021年度", "评价结论与自评评价等级的差异分析"]
    assert "6、评价过程的差异" in texts
    assert [c.text for c in doc.tables[0].rows[-1].cells] == ["合计", "97/100", "85.1/100", "", "-11.9"]


def test_cli_compare_errors_are_chinese(demo_dir, tmp_path, capsys):
    z = str(demo_dir / "zizhou-2021.xlsx")
    assert main(["compare", z, z, z]) == 2
    assert "最多接受两个文件" in capsys.readouterr().err
    assert main(["compare", z, "-o", str(tmp_path / "x.csv")]) == 2
    assert "应以 .xlsx 结尾" in capsys.readouterr().err
    assert main(["compare", z, "--docx", str(tmp_path / "nope" / "x.docx")]) == 2
    assert "输出文件夹不存在" in capsys.readouterr().err
    assert main(["compare", z, "-o", z]) == 2
    assert "就是输入的工作簿" in capsys.readouterr().err
    assert main(["compare", str(tmp_path / "没有.xlsx")]) == 2
    err = capsys.readouterr().err
    assert "没有.xlsx" in err and "Traceback" not in err
