"""校验（addin.checks.run）：每个种子笔误在重现它的工作簿上被报告，且指向正确的单元格与数字。"""
from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal as D
from pathlib import Path

import openpyxl
import pytest

from addin.checks import findings as F
from addin.checks.run import CHECKS, run_checks, summary
from addin.checks.sheet import highlight_targets, link_target, write_findings_sheet
from addin.cli.main import main
from addin.model import Finding, Formula
from addin.scoring.engine import evaluate
from addin.scoring.parsing import decimal_places, parse_cell
from addin.scoring.reader import load
from addin.template.inputs import layout_inputs
from tests import fixtures_checks as fx
from workbook_templates.systems import SYSTEMS

DATA, SCORES, TEXTS = "基础数据表", "评分表", "文字材料"


def check_file(path: Path) -> list[Finding]:
    _, inputs = load(path, with_cached=True)
    return run_checks(inputs)


def keys(findings) -> set[tuple[str, str, str]]:
    return {(f.code, f.sheet, f.cell) for f in findings}


def one(findings, code: str) -> Finding:
    hits = [f for f in findings if f.code == code]
    assert len(hits) == 1, [(f.code, f.cell) for f in findings]
    return hits[0]


@pytest.fixture(scope="module")
def out(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("checks")


# --------------------------------------------------------------------------------------------------------------
# 种子笔误：每个夹具只有一处笔误，发现集合恰好是那一条
# --------------------------------------------------------------------------------------------------------------
def test_clean_baselines_have_no_findings(out):
    assert check_file(fx.build(fx.CLEAN_HUNAN, out)) == []
    assert check_file(fx.build(fx.CLEAN_ZIZHOU, out)) == []


def test_seed000_sangong_control_40_98_vs_40_67(out):
    fs = check_file(fx.build(fx.SEED000_SANGONG, out))
    assert keys(fs) == {("stated-value-mismatch", SCORES, "Z14")}
    f = fs[0]
    assert f.severity == F.WARNING
    assert "40.98%" in f.message and "40.67%" in f.message
    assert (f.actual, f.expected) == (D("0.4098"), D("0.4067"))


def test_seed000_public_expense_171_92_vs_171_93(out):
    fs = check_file(fx.build(fx.SEED000_PUBLIC, out))
    assert keys(fs) == {("stated-value-mismatch", SCORES, "Z13")}
    assert "171.92%" in fs[0].message and "171.93%" in fs[0].message
    # 39.51 ÷ 22.98 = 1.719321…：截断到两位百分数也是 171.93%，所以 171.92% 不是截断所致，不给“截断”的解释
    assert "截断" not in fs[0].message


def test_truncated_stated_figure_is_explained(out):
    fs = check_file(fx.build(fx.hunan("truncated", stated={"sangong_control": (D("0.4066"), 8)}), out))
    assert keys(fs) == {("stated-value-mismatch", SCORES, "Z14")}
    assert "截断而非四舍五入" in fs[0].message and "40.67%" in fs[0].message


def test_seed000_budget_control_10_12_placed_in_11_30_band(out):
    """种子 000 原文“预算控制率＝…＝10.12%。预算控制率=11-30%（含）……按4分计算”作为调整理由：
    10.12% 不在所写的 11%～30% 之内（警告，指向理由单元格），调整本身列为提示（计算得分 3 分 → 4 分）。"""
    fs = check_file(fx.build(fx.SEED000_BAND, out))
    assert keys(fs) == {("override-applied", SCORES, "W10"), ("value-outside-cited-band", SCORES, "X10")}
    f = one(fs, "override-applied")
    assert f.severity == F.INFO and (f.expected, f.actual) == (D(3), D(4))
    assert "计算得分 3 分，评价人调整为 4 分" in f.message and "11-30%（含）" in f.message
    band = one(fs, "value-outside-cited-band")
    assert band.severity == F.WARNING and band.expected == "11%～30%"
    assert band.actual.quantize(D("0.0001")) == D("0.1012")  # 90.29 ÷ 892.35
    assert "区间“11-30%”" in band.message and "实际值 10.12% 不在 11%～30% 之内" in band.message
    assert "计算得分 3 分，得分 4 分" in band.message


@pytest.mark.parametrize("reason, expected", [
    ("按10%～20%（含）一档计3分", set()),  # 10.12% 在区间内
    ("按 0-10% 一档计", {("value-outside-cited-band", SCORES, "X10")}),
    ("按１１－３０％一档计", {("value-outside-cited-band", SCORES, "X10")}),  # 全角
    ("追加预算 90.29 万元，占 10.12%", set()),  # 没有区间
    ("2018-2019年度追加", set()),  # 年份区间不是百分数
])
def test_cited_band_variants(reason, expected):
    ex = fx.hunan("band", overrides={"budget_control": (3, reason)})
    fs = run_checks(layout_inputs(SYSTEMS["hunan-dept"], ex))
    assert keys(fs) == expected


def test_seed001_z2_7_text_2_vs_annex_3(out):
    fs = check_file(fx.build(fx.SEED001_Z2_7, out))
    assert keys(fs) == {("stated-score-mismatch", SCORES, "AA20")}
    assert (fs[0].actual, fs[0].expected) == (D(2), D(3))
    assert "部门决算的准确性" in fs[0].message


def test_seed002_one_wanyuan_gap_is_a_rounding_warning(out):
    fs = check_file(fx.build(fx.SEED002_ROUNDING, out))
    assert keys(fs) == {("total-rounding-gap", DATA, "C4")}
    f = fs[0]
    assert f.severity == F.WARNING and (f.expected, f.actual) == (D(1537), D(1536))
    assert "相差 1 万元" in f.message and "±1.5 万元" in f.message


def test_seed002_thirty_wanyuan_gap_is_an_error(out):
    fs = check_file(fx.build(fx.SEED002_PROJECT_SUM, out))
    assert keys(fs) == {("total-mismatch", DATA, "C11")}
    f = fs[0]
    assert f.severity == F.ERROR and (f.expected, f.actual) == (D(3398), D(3368))
    assert "业务工作经费 C12 90 ＋ 专项经费 C13 3308 ＝ 3398" in f.message and "相差 30 万元" in f.message


def test_seed002_two_number_cells_name_both_numbers(out):
    fs = check_file(fx.build(fx.SEED002_TWO_NUMBERS, out))
    assert keys(fs) == {("two-numbers", DATA, "C4"), ("two-numbers", DATA, "C11")}
    c4 = next(f for f in fs if f.cell == "C4")
    assert "3745" in c4.message and "2177" in c4.message and (c4.expected, c4.actual) == (D(3745), D(2177))


def test_seed002_medical_aid_538_in_table_502_in_text(out):
    """正文的“上级财政下拨502万元”填入资金来源时，年度资金总额 1168 ≠ 630 ＋ 502；按项目表 538 填写则自洽。"""
    fs = check_file(fx.build(fx.SEED002_MEDICAL_AID_TEXT, out))
    assert keys(fs) == {("total-mismatch", DATA, "D4"), ("text-sum-mismatch", TEXTS, "C3")}
    assert (fs[0].expected, fs[0].actual) == (D(1132), D(1168)) and "502" in fs[0].message and "相差 36 万元" in fs[0].message


def test_seed002_medical_aid_text_502_against_table_538(out):
    """种子原样：项目表的资金来源自洽（1168 ＝ 630 ＋ 538），正文“实际拨付1168万元，其中区本级630万元，上级财政下拨502万元”
    不自洽——文字材料的“其中”校验指出正文，并指出表中使它相符的 538。"""
    fs = check_file(fx.build(fx.SEED002_MEDICAL_AID_TABLE, out))
    assert keys(fs) == {("text-sum-mismatch", TEXTS, "C3")}
    f = fs[0]
    assert (f.severity, f.expected, f.actual) == (F.WARNING, D(1132), D(1168))
    assert "文字材料“项目概况”写“实际拨付1168万元，其中区本级630万元，上级财政下拨502万元”：其中 630＋502 ＝ 1132 万元，" \
           "与总数 1168万元 相差 36 万元" in f.message
    assert "基础数据表 D7（其他资金（中央、省、市下拨）·全年预算数）为 538 万元" in f.message


# --------------------------------------------------------------------------------------------------------------
# 示例工作簿
# --------------------------------------------------------------------------------------------------------------
def test_kaifu_2020_as_transcribed(demo_dir):
    fs = check_file(demo_dir / "kaifu-2020.xlsx")
    # 评分表待评价人填写：空白的实际值是“未填写”，不按 0 或“无基数时”计分
    blank_scores = {("missing-value", SCORES, f"H{r}") for r in (4, 5, 16, 17, 18, 20, 21, 22)}
    assert keys(fs) == blank_scores | {
        ("total-rounding-gap", DATA, "C4"),  # 1536 vs 303 + 1234
        ("total-mismatch", DATA, "D11"), ("total-mismatch", DATA, "E11"), ("total-mismatch", DATA, "F11"),  # 30 万元
        ("two-numbers", DATA, "F4"), ("two-numbers", DATA, "F11"),  # 3745（2177）、3392（1824）
        ("prev-sangong-budget-missing", DATA, "C28"),  # 取代引擎的 missing-value
        ("missing-value", DATA, "C29"),  # 上年结转和结余：种子未给出，空白不是 0（预算完成率不再是 100% 满分）
        ("missing-value", DATA, "C33"), ("missing-value", DATA, "C35"),  # 楼堂馆所：种子未写明“无项目”
        ("missing-value", DATA, "F6"),  # 公用经费 决算数 未填
        ("missing-value", DATA, "C36"),  # 满意度未填
        ("budget-added-derived", DATA, "C30"),  # 本年追加空白：3951 − 3691 ＝ 260，预算控制率 7.04%（不是 0% 满分）
        ("text-sum-mismatch", TEXTS, "C7"),  # 正文 1168 万元“其中”630 ＋ 502 ＝ 1132
    } | {("missing-text", TEXTS, f"C{r}") for r in (3, 4, 8, 9, 10, 12, 16)}  # 报告要用的叙述与成文日期未转录
    gaps = {f.cell: (f.expected, f.actual) for f in fs if f.code == "total-mismatch"}
    assert gaps == {"D11": (D(3398), D(3368)), "E11": (D(3626), D(3596)), "F11": (D(3422), D(3392))}
    assert one(fs, "total-rounding-gap").severity == F.WARNING
    assert "上年决算数（0），不能代替预算数" in one(fs, "prev-sangong-budget-missing").message
    derived = one(fs, "budget-added-derived")
    assert derived.severity == F.INFO and derived.expected == D(3951) - D(3691)
    assert "基础数据表 E4（支出合计·本年调整预算数） 3951 － 基础数据表 D4（支出合计·本年年初预算数） 3691 ＝ 260" in derived.message
    # 同一段正文里另外三处“其中”（353、133、90 万元）都自洽，不报
    text = one(fs, "text-sum-mismatch")
    assert (text.expected, text.actual) == (D(1132), D(1168)) and "630＋502" in text.message


def test_baojing_2018_warns_about_its_printed_slips_only(demo_dir):
    fs = check_file(demo_dir / "baojing-2018.xlsx")
    assert keys(fs) == {
        ("stated-value-mismatch", SCORES, "Z14"),  # 40.98%
        ("stated-value-mismatch", SCORES, "Z13"),  # 171.92%
        ("met-target-not-full-marks", SCORES, "W20"),  # 重点工作 优秀=8 分，按主管部门得分 7.90
        ("override-applied", SCORES, "W10"),  # 预算控制率 3 → 4
        ("value-outside-cited-band", SCORES, "X10"),  # 理由写“11–30%（含）”一档，实际值 10.12%
        ("override-applied", SCORES, "W13"),  # 公用经费控制率 0 → 4
    }
    assert not [f for f in fs if f.severity == F.ERROR]
    assert "理由：本单位为县人社局下设机构" in one(fs, "met-target-not-full-marks").message


def test_zizhou_2021_warns_about_2_7_only(demo_dir):
    # 90.5%（90.497%）、-9%、-97.7%、355%、-79.09% 均在所列位数的半个末位单位之内
    assert keys(check_file(demo_dir / "zizhou-2021.xlsx")) == {("stated-score-mismatch", SCORES, "AA20")}


def test_shiping_2022_is_clean(demo_dir):
    assert check_file(demo_dir / "shiping-2022.xlsx") == []


def test_in_memory_inputs_give_the_same_findings_as_the_file(demo_dir):
    """layout_inputs（无文件）与读回的文件得到相同的发现（文件另有小计/总分的核对，示例中均一致）。"""
    for name, ex in (("baojing-2018", fx.BAOJING_2018), ("shiping-2022", fx.SHIPING_2022)):
        mem = run_checks(layout_inputs(SYSTEMS[ex.system], ex))
        assert keys(mem) == keys(check_file(demo_dir / f"{name}.xlsx")), name


# --------------------------------------------------------------------------------------------------------------
# 评分表：分值、得分范围、调整、小计/总分/等级、公式
# --------------------------------------------------------------------------------------------------------------
def test_points_must_total_100(out):
    fs = check_file(fx.build(fx.hunan("pts", points={"goal_clear": 4}), out))
    assert keys(fs) == {("points-total-not-100", SCORES, "E25")}
    assert fs[0].actual == D(101) and "101" in fs[0].message


def test_deduction_without_evidence_is_a_warning(out):
    """评价人判断的扣分（扣分清单、评价人打分）既无“评分依据/扣分说明”也无“备注”：missing-evidence 警告，指向依据单元格。
    有依据或备注、或调整得分写了理由、或公式指标（数据本身说明了失分）都不报。"""
    from workbook_templates import layout as L

    notes = {k: v for k, v in fx.CLEAN_ZIZHOU.notes.items() if k != "z1_1"}
    evidence = {k: v for k, v in fx.CLEAN_ZIZHOU.evidence.items() if k != "z1_1"}
    fs = check_file(fx.build(fx._with(fx.CLEAN_ZIZHOU, "no-evidence", notes=notes, evidence=evidence), out))
    f = one(fs, "missing-evidence")
    assert (f.severity, f.sheet, f.cell) == (F.WARNING, SCORES, f"{L.LETTER['evidence']}4")
    assert "部门预算的完整性" in f.message and "扣 0.5 分" in f.message and "评分依据/扣分说明" in f.message
    assert keys(fs) == {("missing-evidence", SCORES, f"{L.LETTER['evidence']}4")}
    # 湖南评价人打分：3 分中给 2 分，没写依据 → 警告；写了依据 → 无发现
    ex = fx.hunan("manual-no-evidence", values={**fx.CLEAN_HUNAN.values, "goal_clear": 2},
                  evidence={k: v for k, v in fx.CLEAN_HUNAN.evidence.items() if k != "goal_clear"})
    assert keys(check_file(fx.build(ex, out))) == {("missing-evidence", SCORES, f"{L.LETTER['evidence']}5")}
    ex = fx.hunan("manual-evidence", values={**fx.CLEAN_HUNAN.values, "goal_clear": 2})
    assert check_file(fx.build(ex, out)) == []


def test_override_above_points_and_met_target_and_shortfall(out):
    ex = fx.hunan("ovr", overrides={"goal_clear": (4, "多给"), "staff_control": (2, "人员偏紧"),
                                    "public_expense_control": (8, "客观原因")})
    fs = check_file(fx.build(ex, out))
    assert keys(fs) == {("score-exceeds-max", SCORES, "W5"), ("met-target-not-full-marks", SCORES, "W6"),
                        ("shortfall-full-marks", SCORES, "W13")}
    assert one(fs, "score-exceeds-max").severity == F.ERROR
    assert {one(fs, c).severity for c in ("met-target-not-full-marks", "shortfall-full-marks")} == {F.WARNING}


def test_negative_score_zero_denominator_and_fractional_headcount():
    """得分 < 0、x ÷ 0（三公预算 0 而有支出）、编制数 17.5：各自指向出错的单元格。"""
    def run(ex):
        return run_checks(layout_inputs(SYSTEMS["hunan-dept"], ex))

    fs = run(fx.hunan("neg", overrides={"goal_clear": (-1, "扣光")}))
    assert keys(fs) == {("score-negative", SCORES, "W5"), ("met-target-not-full-marks", SCORES, "W5")}
    assert one(fs, "score-negative").severity == F.ERROR and one(fs, "score-negative").actual == D(-1)
    # 三公预算合计与各分项都是 0 而有支出：x ÷ 0 指向分母单元格
    fs = run(fx.hunan("zd", table={"sangong": {"budget_initial": 0}, "sangong_reception": {"budget_initial": 0}}))
    assert keys(fs) == {("zero-denominator", DATA, "D7")}
    assert "实际支出数为 0.61" in one(fs, "zero-denominator").message
    # 合计填 0 而分项填了数：指标按分项之和 1.5 计算（不丢），合计行报 total-mismatch，指标处提示按分项之和
    fs = run(fx.hunan("zt", table={"sangong": {"budget_initial": 0}}))
    assert keys(fs) == {("total-mismatch", DATA, "D7"), ("total-from-parts", SCORES, "H7"),
                        ("total-from-parts", SCORES, "H14")}
    assert (one(fs, "total-mismatch").expected, one(fs, "total-mismatch").actual) == (D("1.5"), D(0))
    fs = run(fx.hunan("nw", scalars={"staff_quota": 17.5}))
    assert keys(fs) == {("not-whole-number", DATA, "C26")} and "17.5" in fs[0].message


def test_override_without_reason_is_not_duplicated(out):
    fs = check_file(fx.build(fx.hunan("noreason", overrides={"budget_control": (4, "")}), out))
    # 引擎报告缺理由；校验不再另报“调整”提示
    assert keys(fs) == {("override-without-reason", SCORES, "X10")}


def test_stored_subtotal_total_and_grade_are_compared(out):
    p = fx.build(fx.hunan("sheet-totals"), out)
    fx.edit_cells(p, {(SCORES, "Y8"): "=SUM(Y4:Y6)", (SCORES, "Y25"): 85, (SCORES, "Y26"): "良"})
    fs = check_file(p)
    assert keys(fs) == {("subtotal-formula-mismatch", SCORES, "Y8"), ("score-total-mismatch", SCORES, "Y25"),
                        ("grade-mismatch", SCORES, "Y26")}
    assert "第 4～7 行" in one(fs, "subtotal-formula-mismatch").message
    assert one(fs, "score-total-mismatch").expected == D(90)  # 干净基线（无调整：94.9 − 1 − 4 ＋ 0.1）的总分
    assert "应为“优”" in one(fs, "grade-mismatch").message


def test_cached_results_are_compared_with_the_engine(demo_dir):
    _, inputs = load(demo_dir / "baojing-2018.xlsx", with_cached=True)
    row = next(r for r in inputs.rows if r.code == "sangong_control")
    row.value = Formula(row.value.text, 0.5)  # Excel 中显示 50%，而数据算得 40.67%
    sub = inputs.sheet_totals[("subtotal", "投入")]
    sub["final"] = Formula(sub["final"].text, 12)
    fs = run_checks(inputs)
    baseline = keys(check_file(demo_dir / "baojing-2018.xlsx"))
    assert keys(fs) - baseline == {("formula-result-mismatch", SCORES, "H14"), ("subtotal-mismatch", SCORES, "Y8")}
    assert one(fs, "subtotal-mismatch").actual == D(12)
    assert "40.67%" in one(fs, "formula-result-mismatch").message


def test_changed_formulas(out):
    p = fx.build(fx.hunan("formula-ref"), out)
    fx.edit_cells(p, {(SCORES, "H14"): "=SANGONG_CONTROL_RATE('基础数据表'!$F$6,'基础数据表'!$D$7)",
                      (SCORES, "V13"): "=SCORE_LINEAR(H13,E13,K13,L13:U13)"})
    fs = check_file(p)
    # 实际值公式被改：计分引擎报告（formula-changed），校验不重复；计算得分公式与规则类型不符：校验报告
    assert keys(fs) == {("formula-changed", SCORES, "H14"), ("formula-reference-mismatch", SCORES, "V13")}
    assert "SCORE_THRESHOLD" in one(fs, "formula-reference-mismatch").message


def test_value_typed_over_formula_is_checked_against_the_data(out):
    p = fx.build(fx.hunan("typed"), out)
    fx.edit_cells(p, {(SCORES, "H14"): 0.5, (SCORES, "H13"): "171.93%"})
    fs = check_file(p)
    assert ("value-differs-from-data", SCORES, "H14") in keys(fs)  # 50% ≠ 40.67%
    assert ("value-differs-from-data", SCORES, "H13") not in keys(fs)  # 171.93% 与数据一致
    assert ("value-typed-over-formula", SCORES, "H13") in keys(fs)
    assert ("text-number", SCORES, "H13") in keys(fs)


def test_zero_execution_rate_with_spending(out):
    p = fx.build(fx.SHIPING_2022, out)
    fx.edit_cells(p, {(SCORES, "H4"): 0})
    fs = check_file(p)
    assert keys(fs) == {("zero-rate-with-spending", SCORES, "H4"), ("value-differs-from-data", SCORES, "H4"),
                        ("value-typed-over-formula", SCORES, "H4")}
    assert one(fs, "zero-rate-with-spending").severity == F.ERROR
    assert "447704" in one(fs, "zero-rate-with-spending").message


# --------------------------------------------------------------------------------------------------------------
# 基础数据表：“其中”项、单位、上年三公预算、自评等级
# --------------------------------------------------------------------------------------------------------------
def test_of_which_items_cannot_exceed_their_parent(out):
    ex = fx.hunan("of-which", table={"project_special": {"prev_final": 100}, "project_item1": {"prev_final": 60},
                                     "project_item2": {"prev_final": 50}})
    fs = check_file(fx.build(ex, out))
    assert keys(fs) == {("part-exceeds-total", DATA, "C13")}
    assert fs[0].actual == D(110)


def test_prev_sangong_budget_missing_replaces_generic_error(out):
    fs = check_file(fx.build(fx.hunan("no-prev", scalars={"sangong_budget_prev": None}), out))
    assert keys(fs) == {("prev-sangong-budget-missing", DATA, "C28")}
    assert "预算数" in fs[0].message


def test_units_yuan_figures_in_wan_table(out):
    fs = check_file(fx.build(fx.SHIPING_IN_WAN, out))
    assert keys(fs) == {("unit-mismatch", DATA, "C14"), ("unit-mismatch", TEXTS, "C3")}


def test_units_wan_figures_in_yuan_table_and_outlier(out):
    fs = check_file(fx.build(fx.hunan("yuan", scalars={"money_unit": "元"}), out))
    # 支出合计 982.63 元不像一个部门的全年支出；文字材料写的是“982.63万元”
    assert keys(fs) == {("unit-mismatch", DATA, "C25"), ("unit-mismatch", TEXTS, "C6")}
    fs = check_file(fx.build(fx.hunan("outlier", table={"public_expense": {"prev_final": 395100}}), out))
    assert keys(fs) == {("unit-mismatch", DATA, "C6")}
    assert "39.51" in fs[0].message


def test_units_text_declaration_contradicts(out):
    ex = fx.hunan("decl", texts={**fx.CLEAN_HUNAN.texts, "spending": "金额单位：元。全年总支出982.63元。"})
    fs = check_file(fx.build(ex, out))
    assert keys(fs) == {("unit-mismatch", TEXTS, "C6")}


def test_self_grade_must_match_the_band(out):
    ex = fx._with(fx.CLEAN_ZIZHOU, "self-grade", scalars={**fx.CLEAN_ZIZHOU.scalars, "self_grade": "良好"})
    fs = check_file(fx.build(ex, out))
    assert len(fs) == 1 and fs[0].code == "grade-mismatch" and fs[0].sheet == DATA
    assert "应为“优秀”" in fs[0].message


# --------------------------------------------------------------------------------------------------------------
# 真实的输入：每一种写法都被理解或报告，不出现回溯
# --------------------------------------------------------------------------------------------------------------
TABLE_CELL = ("table", "project_item1", "prev_final", "C14")  # 不参与合计与指标的单元格


@pytest.mark.parametrize("raw, expected", [
    ("１２３", ("text-number", D(123))),  # 全角数字
    ("1,234.5", ("text-number", D("1234.5"))),  # 千分位
    ("１，２３４", ("text-number", D(1234))),  # 全角千分位
    ("420", ("text-number", D(420))),  # 以文本存储的数字
    ("420（400）", ("two-numbers", D(420))),
    ("—", None), ("-", None), ("无", None), ("", None), ("  ", None),
    ("abc", ("not-a-number", None)),
    ("95%", ("not-a-number", None)),  # 金额不应写成百分数
    ("#DIV/0!", ("not-a-number", None)),
    (True, ("not-a-number", None)),
    (-5, ("negative-value", D(-5))),
    (dt.datetime(2020, 1, 1), ("not-a-number", None)),  # 单元格格式被设成日期
])
def test_every_kind_of_typed_table_value(raw, expected):
    ex = fx.hunan("typed-table", table={"project_item1": {"prev_final": raw}})
    fs = run_checks(layout_inputs(SYSTEMS["hunan-dept"], ex))
    got = [f for f in fs if (f.sheet, f.cell) == (DATA, TABLE_CELL[3])]
    if expected is None:
        assert fs == []
        return
    assert [f.code for f in got] == [expected[0]]
    assert all(f.code == expected[0] for f in fs)
    if expected[0] == "text-number":
        assert got[0].expected == expected[1]


def test_typed_values_round_trip_through_a_file(out):
    """同样的写法写进 .xlsx 再读回（文本保持文本，日期由 openpyxl 读成 datetime）。"""
    ex = fx.hunan("typed-file", table={"project_item1": {"prev_final": "１２３"}, "project_item2": {"prev_final": "abc"},
                                       "project_item3": {"prev_final": "3745（2177）"}, "project_item4": {"prev_final": -5},
                                       "asset_purchase": {"prev_final": "—"}},
                  scalars={"sat_service": "95％", "carry_begin": "0"})
    p = fx.build(ex, out)
    fx.edit_cells(p, {(DATA, "C18"): dt.datetime(2020, 1, 1)})
    fs = check_file(p)
    assert keys(fs) == {("text-number", DATA, "C14"), ("not-a-number", DATA, "C15"), ("two-numbers", DATA, "C16"),
                        ("negative-value", DATA, "C17"), ("not-a-number", DATA, "C18"),
                        ("text-number", DATA, "C36"), ("text-number", DATA, "C29")}
    assert "日期" in next(f for f in fs if f.cell == "C18").message


def test_rate_typed_as_95_instead_of_95_percent():
    ex = fx.hunan("rate95", scalars={"sat_service": 95})
    fs = run_checks(layout_inputs(SYSTEMS["hunan-dept"], ex))
    f = next(f for f in fs if f.code == "rate-out-of-range")
    assert (f.sheet, f.cell) == (DATA, "C36") and "95%" in f.message


WEIRD = ["abc", "１２３", "1,234", "95%", "95％", "3745（2177）", "—", "无", -3, True, dt.date(2021, 5, 1), "#REF!",
         "=1+1", "1e5", "½", "  12  ", float("nan"), 1e300, -1e-300]


@pytest.mark.parametrize("raw", WEIRD)
def test_no_traceback_for_weird_values_in_any_input(raw):
    """任何数字输入单元格里的任何写法：得到发现，而不是异常。"""
    ex = fx.hunan("weird")
    inputs = layout_inputs(SYSTEMS["hunan-dept"], ex)
    for k in inputs.table:
        inputs.table[k]["final"] = raw
    for k in ("staff_quota", "sangong_budget_prev", "sat_service", "budget_added", "money_unit"):
        inputs.scalars[k] = raw
    for row in inputs.rows[:6]:
        row.override, row.stated_value, row.stated_score, row.points = raw, raw, raw, raw
        if not isinstance(row.value, Formula):
            row.value = raw
    fs = run_checks(inputs)
    assert all(isinstance(f, Finding) and f.message for f in fs)


def test_parse_cell_places():
    assert parse_cell("40.98%")["places"] == 4 and parse_cell("95%")["places"] == 2
    assert parse_cell(1536)["places"] == 0 and parse_cell(892.35)["places"] == 2 and parse_cell("1.50")["places"] == 2
    assert decimal_places(D("982.6300000000001")) == 9  # 浮点尾差不算书写精度
    assert parse_cell(Formula("=A1", None))["known"] is False


# --------------------------------------------------------------------------------------------------------------
# 输出：校验结果表、高亮、命令行
# --------------------------------------------------------------------------------------------------------------
def test_checks_are_plain_functions_with_docstrings():
    assert len(CHECKS) >= 10 and all(callable(c) and c.__doc__ for c in CHECKS)


def test_highlight_targets_keep_most_severe_per_cell():
    fs = [Finding("two-numbers", F.WARNING, DATA, "F11", "m"), Finding("total-mismatch", F.ERROR, DATA, "F11", "m"),
          Finding("x", F.INFO, "校验结果", "A1", "m"), Finding("y", F.INFO, SCORES, "", "m"),
          Finding("z", F.INFO, SCORES, "W10", "m")]
    assert highlight_targets(fs) == [(DATA, "F11", F.ERROR), (SCORES, "W10", F.INFO)]
    assert link_target("评分表", "H12") == "'评分表'!H12" and link_target("O'Brien", "A1") == "'O''Brien'!A1"


def _sheet_values(path: Path, data_only: bool = False) -> dict[str, dict[str, object]]:
    wb = openpyxl.load_workbook(path, data_only=data_only)
    return {ws.title: {c.coordinate: c.value for row in ws.iter_rows() for c in row if c.value is not None}
            for ws in wb.worksheets if ws.title != "校验结果"}


def test_write_findings_sheet_replaces_only_its_sheet(demo_dir, tmp_path):
    import shutil

    p = tmp_path / "kaifu.xlsx"
    shutil.copy(demo_dir / "kaifu-2020.xlsx", p)
    before, shown = _sheet_values(p), _sheet_values(p, data_only=True)
    assert main(["check", str(p), "--write"]) == 1
    assert main(["check", str(p), "--write"]) == 1  # 第二次：整表替换，不叠加
    wb = openpyxl.load_workbook(p)
    assert wb.sheetnames == ["基础数据表", "评分表", "文字材料", "校验结果"]
    assert _sheet_values(p) == before
    assert _sheet_values(p, data_only=True) == shown  # 公式的保存结果也还在（没有 Excel 的查看器照样看得到）
    ws = wb["校验结果"]
    rows = [[c.value for c in r] for r in ws.iter_rows(min_row=5)]
    assert len(rows) == 29 and rows[0][1] == "错误"
    links = {c.value: (c.hyperlink.location, c.hyperlink.target) for c in ws["C"][4:] if c.hyperlink}
    assert links["基础数据表!D11"] == ("'基础数据表'!D11", None)  # 工作簿内位置，不是外部链接
    assert ws["B5"].fill.fgColor.rgb.endswith("FFC7CE")
    assert ws["A2"].value.startswith("错误 17 项，警告 11 项，提示 1 项")


def test_findings_sheet_writes_text_never_formulas(tmp_path):
    from addin.io.openpyxl_book import OpenpyxlBook

    p = fx.build(fx.CLEAN_HUNAN, tmp_path)
    book = OpenpyxlBook(p)
    write_findings_sheet(book, [Finding("formula-reference-mismatch", F.ERROR, SCORES, "H14", "=HYPERLINK(\"x\")",
                                        expected="=1+1", actual="=SUM(A1)")])
    book.save()
    ws = openpyxl.load_workbook(p)["校验结果"]
    assert [ws[c].data_type for c in ("D5", "E5", "F5")] == ["s", "s", "s"]
    assert ws["D5"].value == '=HYPERLINK("x")'


def test_empty_findings_sheet(tmp_path):
    from addin.io.openpyxl_book import OpenpyxlBook

    p = fx.build(fx.CLEAN_HUNAN, tmp_path)
    book = OpenpyxlBook(p)
    write_findings_sheet(book, [])
    book.save()
    ws = openpyxl.load_workbook(p)["校验结果"]
    assert ws["A5"].value == "未发现问题。" and ws["A2"].value.startswith("错误 0 项，警告 0 项，提示 0 项")


def test_cli_exit_codes_and_json(demo_dir, tmp_path, capsys):
    assert main(["check", str(demo_dir / "baojing-2018.xlsx")]) == 0  # 只有警告与提示
    assert main(["check", str(demo_dir / "shiping-2022.xlsx")]) == 0
    assert main(["check", str(demo_dir / "kaifu-2020.xlsx")]) == 1
    capsys.readouterr()
    assert main(["check", str(demo_dir / "kaifu-2020.xlsx"), "--json"]) == 1
    data = json.loads(capsys.readouterr().out)
    assert data["summary"] == {"errors": 17, "warnings": 11, "infos": 1}
    got = {(f["code"], f["sheet"], f["cell"]): f for f in data["findings"]}
    assert set(got) == keys(check_file(demo_dir / "kaifu-2020.xlsx"))
    assert got[("total-rounding-gap", DATA, "C4")]["severity"] == F.WARNING
    assert got[("total-mismatch", DATA, "F11")]["severity"] == F.ERROR
    assert not (demo_dir / "kaifu-2020.xlsx").with_suffix(".bak.xlsx").exists()


@pytest.mark.parametrize("make", [
    lambda d: d / "missing.xlsx",
    lambda d: (d / "text.xlsx").write_text("not a workbook") and d / "text.xlsx",
    lambda d: (d / "empty.xlsx").write_bytes(b"") or d / "empty.xlsx",
    lambda d: d,  # 文件夹
    lambda d: _foreign_workbook(d / "foreign.xlsx"),
])
def test_cli_unreadable_exit_2_with_chinese_message(make, tmp_path, capsys):
    path = make(tmp_path)
    assert main(["check", str(path)]) == 2
    err = capsys.readouterr().err
    assert err.startswith("jixiao：") and "Traceback" not in err


def _foreign_workbook(p: Path) -> Path:
    wb = openpyxl.Workbook()
    wb.active["A1"] = "不是 jixiao 工作簿"
    wb.save(p)
    return p


def test_demo_prints_one_check_line_per_workbook(tmp_path, capsys):
    assert main(["demo", "-o", str(tmp_path)]) == 0
    lines = [ln for ln in capsys.readouterr().out.splitlines() if ln.startswith("校验 ")]
    assert lines == ["校验 baojing-2018.xlsx：错误 0 项，警告 4 项，提示 2 项",
                     "校验 zizhou-2021.xlsx：错误 0 项，警告 1 项，提示 0 项",
                     "校验 shiping-2022.xlsx：错误 0 项，警告 0 项，提示 0 项",
                     "校验 kaifu-2020.xlsx：错误 17 项，警告 11 项，提示 1 项"]


def test_summary_counts():
    fs = [Finding("a", F.ERROR, DATA, "A1", "m"), Finding("b", F.WARNING, DATA, "A2", "m")]
    assert summary(fs) == {F.ERROR: 1, F.WARNING: 1, F.INFO: 0}


def test_run_checks_accepts_a_precomputed_evaluation(demo_dir):
    _, inputs = load(demo_dir / "zizhou-2021.xlsx", with_cached=True)
    ev = evaluate(inputs)
    assert run_checks(inputs, ev) == run_checks(inputs)


# --------------------------------------------------------------------------------------------------------------
# 多个文件、单元格中写明的单位、Excel 中的高亮
# --------------------------------------------------------------------------------------------------------------
def test_cli_checks_several_files_worst_exit_code_wins(demo_dir, tmp_path, capsys):
    """`jixiao check demo_out/*.xlsx`：每个文件一段；退出码取最严重的（2 无法读取 > 1 有错误 > 0）。"""
    clean = [str(demo_dir / f"{n}.xlsx") for n in ("baojing-2018", "shiping-2022", "zizhou-2021")]
    assert main(["check", *clean]) == 0
    heads = [ln for ln in capsys.readouterr().out.splitlines() if not ln.startswith("  ")]
    assert heads == ["baojing-2018.xlsx  保靖县医疗生育保险管理服务局  错误 0 项，警告 4 项，提示 2 项",
                     "shiping-2022.xlsx  石屏县医疗保障局  错误 0 项，警告 0 项，提示 0 项",
                     "zizhou-2021.xlsx  子洲县医疗保障局  错误 0 项，警告 1 项，提示 0 项"]
    assert main(["check", *clean, str(demo_dir / "kaifu-2020.xlsx")]) == 1
    capsys.readouterr()
    bad = tmp_path / "坏文件.xlsx"
    bad.write_text("不是工作簿")
    assert main(["check", "--json", clean[0], str(bad), str(demo_dir / "kaifu-2020.xlsx")]) == 2
    captured = capsys.readouterr()
    data = json.loads(captured.out)
    assert [d["file"] for d in data] == [clean[0], str(bad), str(demo_dir / "kaifu-2020.xlsx")]
    assert data[0]["summary"] == {"errors": 0, "warnings": 4, "infos": 2}
    assert data[2]["summary"] == {"errors": 17, "warnings": 11, "infos": 1}
    assert "坏文件.xlsx" in data[1]["error"] and "Traceback" not in captured.err
    assert captured.err.startswith("jixiao：文件“坏文件.xlsx”")


def test_cli_internal_error_is_a_chinese_message(demo_dir, capsys, monkeypatch):
    """检查自身出错（程序缺陷）时也不显示回溯：说明文件与异常，退出码 2。"""
    from addin.checks import run as checks

    def boom(inputs, ev=None):
        raise ValueError("坏了")

    monkeypatch.setattr(checks, "run_checks", boom)
    assert main(["check", str(demo_dir / "shiping-2022.xlsx")]) == 2
    err = capsys.readouterr().err
    assert "校验“shiping-2022.xlsx”时出现内部错误（ValueError: 坏了）" in err and "Traceback" not in err


@pytest.mark.parametrize("unit, raw, expected", [
    ("万元", "1234元", D("0.1234")),  # 万元表里写了元
    ("万元", "１２３４元", D("0.1234")),  # 全角
    ("元", "12.5万元", D(125000)),  # 元表里写了万元
])
def test_unit_written_in_the_cell_contradicts_the_table(unit, raw, expected):
    ex = fx.hunan("unit-cell", table={"project_item1": {"prev_final": raw}}, scalars={"money_unit": unit})
    fs = [f for f in run_checks(layout_inputs(SYSTEMS["hunan-dept"], ex)) if f.code == "unit-mismatch"]
    cell = [f for f in fs if f.cell == "C14"]
    assert len(cell) == 1 and cell[0].sheet == DATA and cell[0].expected == expected
    assert f"金额单位为{unit}" in cell[0].message and raw in cell[0].message


def test_unit_written_in_the_cell_that_agrees_is_only_a_text_number():
    ex = fx.hunan("unit-ok", table={"project_item1": {"prev_final": "420万元"}})
    assert keys(run_checks(layout_inputs(SYSTEMS["hunan-dept"], ex))) == {("text-number", DATA, "C14")}


def test_ribbon_check_highlights_the_cells_until_the_next_run(demo_dir, tmp_path):
    """功能区“校验”（xlwings 适配器，替身 Excel）：按 highlight_targets 给问题单元格加条件格式；改正后再校验，
    上次的标色被清除、只标仍有问题的单元格；“校验结果”表整表替换。"""
    import shutil
    import sys

    sys.path.insert(0, str(Path(__file__).parent))
    from fake_xlwings import FakeApp, FakeBook

    from addin.excel import ribbon
    from addin.io.xlbook import HIGHLIGHT_MARKER, XlwingsBook

    p = tmp_path / "baojing-2018.xlsx"
    shutil.copy(demo_dir / "baojing-2018.xlsx", p)
    book = FakeBook.from_xlsx(p, FakeApp())

    def marked() -> dict[tuple[str, str], int]:
        return {(s.name, fc.AppliesTo.replace("$", "")): fc.Interior.Color for s in book.sheets
                for fc in s.format_conditions if fc.Formula1 == HIGHLIGHT_MARKER}

    first = ribbon.do_check(XlwingsBook(book))
    targets = highlight_targets(first.data)
    assert {(s, c) for s, c, _ in targets} == {(SCORES, c) for c in ("X10", "Z13", "Z14", "W20", "W10", "W13")}
    got = marked()
    assert set(got) == {(s, c) for s, c, _ in targets}
    warn, info = 0x9CEBFF, 0xF7EBDD  # Interior.Color 为 BGR：黄 FFEB9C、浅蓝 DDEBF7
    assert {c: got[(SCORES, c)] for c in ("X10", "Z13", "Z14", "W20", "W10", "W13")} == {
        "X10": warn, "Z13": warn, "Z14": warn, "W20": warn, "W10": info, "W13": info}
    rows_before = sum(1 for (r, c) in book.sheets["校验结果"].cells if c == 1 and r >= 5)

    book.sheets[SCORES].range("Z14").value = None  # 改正：删去报告所列的 40.98%
    second = ribbon.do_check(XlwingsBook(book))
    assert ("stated-value-mismatch", SCORES, "Z14") not in keys(second.data)
    assert set(marked()) == set(got) - {(SCORES, "Z14")}
    assert sum(1 for (r, c) in book.sheets["校验结果"].cells if c == 1 and r >= 5) == rows_before - 1
    assert [s.name for s in book.sheets].count("校验结果") == 1
