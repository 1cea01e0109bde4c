"""报告：确定性、与审阅过的期望文本一致、每个数字可由工作簿推出、公文格式 Word、报告表、命令行。

期望文本在 tests/expected/*.txt（已对照种子 000/001/003 审阅）。模板措辞改动后用
JIXIAO_UPDATE_EXPECTED=1 python -m pytest tests/test_report.py 重写，再逐行审阅差异。
报告是评价人的文件：正文里没有单元格地址、校验用语与给填表人的提示（test_reports_speak_as_the_evaluator）；
评分不完整时是草稿（页眉“草稿”、不写总分与等级）。GB/T 9704 的版式在 Word 的 XML 上逐项核对。
"""
from __future__ import annotations

import dataclasses
import hashlib
import os
import re
import shutil
import subprocess
import zipfile
from decimal import Decimal as D
from pathlib import Path

import jinja2
import openpyxl
import pytest

from addin.model import SHEET_REPORT, Formula
from addin.report.model import GAP, Block, Report, ReportError
from addin.report.pdf import write_pdf
from addin.report.render import cn_number, f_date, f_money, f_pct, f_score, h1, h2, h3, h4, make_env, parse_date
from addin.report.sections import build_report, text_findings
from addin.report.sheet import _CHART_ROWS, write_report_sheet
from addin.report.views import full_marks_condition
from addin.report.word import write_docx
from addin.scoring.engine import evaluate
from addin.scoring.reader import load
from addin.template.inputs import layout_inputs
from addin.template.workbook import build_workbook
from udfs.excel import BY_NAME
from udfs.numbers import fmt_num, fmt_pct, fmt_score, parse_number
from workbook_templates.examples import EXAMPLES
from workbook_templates.systems import SYSTEMS

EXPECTED = Path(__file__).parent / "expected"
SEEDS = ("baojing-2018", "zizhou-2021", "shiping-2022")


def _inputs(name: str, **changes):
    ex = EXAMPLES[name]
    if changes:
        ex = dataclasses.replace(ex, **changes)
    inputs = layout_inputs(SYSTEMS[ex.system], ex)
    return inputs, evaluate(inputs)


def _report(name: str, **changes) -> Report:
    inputs, ev = _inputs(name, **changes)
    return build_report(inputs, ev, ev.findings)


def _from_workbook(path: Path) -> tuple:
    _, inputs = load(path)
    ev = evaluate(inputs)
    return inputs, ev, build_report(inputs, ev, ev.findings)


def _section(report: Report, title_part: str) -> list[Block]:
    for title, blocks in report.sections():
        if title_part in title:
            return blocks
    raise AssertionError(f"没有包含“{title_part}”的一级标题：{[t for t, _ in report.sections()]}")


# ---------------------------------------------------------------------------------------------------------
# 过滤器
# ---------------------------------------------------------------------------------------------------------
def test_filters_own_the_rounding_and_ordinals():
    assert [cn_number(n) for n in (1, 4, 10, 11, 20, 21, 99)] == ["一", "四", "十", "十一", "二十", "二十一", "九十九"]
    assert (h1(4), h2(1), h3(2), h4(3)) == ("四、", "（一）", "2.", "（3）")
    assert f_money(D("892.35")) == "892.35" and f_money(1.5) == "1.50" and f_money(D("0.005")) == "0.01"
    assert f_money(D("-0.001")) == "0.00" and f_money(None) == "—"
    assert f_pct(D("39.51") / D("22.98")) == "171.93%"  # 四舍五入，不是种子的截断 171.92%
    assert f_pct(D("0.61") / D("1.5")) == "40.67%"  # 种子误印为 40.98%
    assert f_score(D("7.90")) == "7.9" and f_score(D("13.00")) == "13"
    env = make_env()
    assert env.from_string("{{ x|money }}|{{ x|pct }}|{{ 3|h2 }}").render(x=D("0.10118")) == "0.10|10.12%|（三）"
    with pytest.raises(jinja2.UndefinedError):
        env.from_string("{{ missing }}").render()  # StrictUndefined


# ---------------------------------------------------------------------------------------------------------
# 确定性与期望文本
# ---------------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("name", SEEDS)


def test_report_text_matches_reviewed_expected_file(name, demo_dir):
    text = _report(name).as_text()
    assert _report(name).as_text() == text  # 同一输入，逐字相同
    _, _, from_file = _from_workbook(demo_dir / f"{name}.xlsx")
    assert from_file.as_text() == text  # 从 .xlsx 读回（浮点数单元格）得到同样的文字
    path = EXPECTED / f"{name}.txt"
    if os.environ.get("JIXIAO_UPDATE_EXPECTED"):
        path.write_text(text, encoding="utf-8")
    assert path.read_text(encoding="utf-8") == text


_NUM = re.compile(r"-?\d+(?:\.\d+)?%?")
_ORDINAL = re.compile(r"^(?:\d+\.|（\d+）)")


def _reprs(d) -> set[str]:
    if d is None:
        return set()
    try:
        d = parse_number(d).value if not isinstance(d, D) else d
    except Exception:
        return set()
    if d is None:
        return set()
    out = {f_money(d), fmt_num(d), fmt_score(d), fmt_pct(d), str(d)}
    return out | {s.lstrip("-") for s in out}


def _derivable(inputs, ev, report) -> set[str]:
    """可由工作簿推出的数字的所有显示形式：输入原值、指标值、分值/得分/失分/小计/得分率/总分、规则参数、计数，
    以及单元格中文字（文字材料、评分标准、公式说明、理由、备注、评分依据、指标名称）里原有的数字，
    和由它们数出来的个数（各级指标数、失分指标数）。"""
    nums: list = [0, 1]
    texts: list[str] = [ev.year, ev.unit_name]
    nums += list(inputs.scalars.values())
    nums += [v for row in inputs.table.values() for v in row.values()]
    texts += [str(v) for v in inputs.scalars.values() if isinstance(v, str)]
    texts += [str(v) for v in inputs.texts.values() if v]
    for i in ev.indicators:
        nums += [i.points, i.computed, i.override, i.final, i.lost]
        if isinstance(i.value, D):
            nums.append(i.value)
        texts += [str(i.value), i.name, i.criterion, i.formula, i.reason, i.note, i.evidence]
        if i.rule is not None:
            for p in i.rule.to_params():
                if isinstance(p, D):
                    nums.append(p)
                elif p is not None:
                    texts.append(str(p))
            if hasattr(i.rule, "grades"):
                nums += [s for _, s in i.rule.grades]
    for lv in ev.level1.values():
        nums += [lv.points, lv.score, lv.computed, lv.score / lv.points if lv.points else None]
    groups: dict = {}
    for i in ev.indicators:  # 二级指标小计
        g = groups.setdefault((i.level1, i.level2), [D(0), D(0)])
        g[0] += i.points or 0
        g[1] += i.final or 0
    nums += [x for g in groups.values() for x in g]
    from addin.scoring import derived

    for spec in SYSTEMS[inputs.system_key].indicators:  # 推算的数：分项之和、调整预算数 − 年初预算数
        if spec.udf:
            values, sums = derived.indicator_args(SYSTEMS[inputs.system_key], inputs, spec)
            nums += [x.value for x in sums]
            added = derived.added_derivation(spec, spec.args, values)
            nums += [added.added] if added else []
    spec_args = [desc for spec in SYSTEMS[inputs.system_key].indicators if spec.udf for _, desc in BY_NAME[spec.udf].args]
    texts += spec_args  # 单元格函数参数的说明（如“一年使用不足30日的资产”）
    lost = [i for i in ev.indicators if i.final is not None and i.lost > 0]
    unscored = [i for i in ev.indicators if i.final is None]
    nums += [ev.total, ev.points_total, sum((i.lost for i in lost), D(0)), len(lost), len(unscored)]
    self_score = inputs.scalars.get("self_score")
    if self_score is not None:
        nums.append(parse_number(self_score).value - ev.total)
    nums += [len(ev.level1), len(ev.indicators), len(groups), len(inputs.grade_rows)]
    nums += [len({i.level2 for i in ev.indicators if i.level1 == l1}) for l1 in ev.level1]
    nums += [sum(1 for i in ev.indicators if i.level1 == l1) for l1 in ev.level1]
    nums += [len(v) for v in inputs.texts.values() if v] + [len(str(v).split("、")) for v in inputs.texts.values() if v]
    nums += list(range(1, 20))  # 清单与草稿说明的条目序号
    nums += [lo for _, lo in inputs.grade_rows]  # 等级标准的分数线
    if inputs.texts.get("self_eval_indicators"):  # 差异分析：自评未设置的指标上的失分合计（compare 的对应规则）
        from addin.report.matching import match_names

        names = [n for n in re.split(r"[\n、]", inputs.texts["self_eval_indicators"]) if n]
        only_eval = set(match_names(names, [i.name for i in ev.indicators])[2])
        nums.append(sum((i.lost for i in lost if i.name in only_eval), D(0)))
    allowed = set().union(*(_reprs(n) for n in nums))
    for t in texts:
        allowed |= set(_NUM.findall(t or ""))
    return allowed


@pytest.mark.parametrize("name", SEEDS + ("kaifu-2020",))


def test_every_number_in_the_text_is_derivable_from_the_workbook(name):
    inputs, ev = _inputs(name)
    report = build_report(inputs, ev, ev.findings)
    allowed = _derivable(inputs, ev, report)
    lines = report.as_text().splitlines()
    stray = []
    for line in lines:
        for token in _NUM.findall(_ORDINAL.sub("", line.strip())):
            if token not in allowed and token.lstrip("-") not in allowed:
                stray.append((token, line[:60]))
    assert not stray, stray


def test_numbers_check_can_fail():
    inputs, ev = _inputs("baojing-2018")
    report = build_report(inputs, ev, ev.findings)
    allowed = _derivable(inputs, ev, report)
    assert "40.98%" not in allowed and "171.92%" not in allowed  # 种子报告里的笔误不可推出
    assert "40.67%" in allowed and "171.93%" in allowed


# ---------------------------------------------------------------------------------------------------------
# 保靖 2018（种子 000）
# ---------------------------------------------------------------------------------------------------------
def test_baojing_analysis_has_one_paragraph_per_indicator_with_seed_figures():
    report = _report("baojing-2018")
    blocks = _section(report, "部门整体支出绩效评价分析")
    ind_heads = [k for k, b in enumerate(blocks) if b.kind == "heading" and b.level == 4]
    assert len(ind_heads) == 18
    for k in ind_heads:
        assert blocks[k + 1].kind == "para"
        assert k + 2 == len(blocks) or blocks[k + 2].kind == "heading", blocks[k + 2].text
    paras = {blocks[k].text: blocks[k + 1].text for k in ind_heads}
    control = paras["（2）预算控制率（5分）"]
    assert "预算控制率＝本年预算追加数÷年初预算×100%＝90.29÷892.35×100%＝10.12%" in control
    assert "按评分标准计算得3分，根据评分标准和实际情况调整为4分（说明详见本报告四、需要说明事项）" in control
    assert "本年预算追加（调整）数90.29万元，年初预算数892.35万元" in control
    text = "\n".join(paras.values())
    assert "＝39.51÷22.98×100%＝171.93%" in text
    assert "＝0.61÷1.50×100%＝40.67%" in text
    assert "＝（1.50－4.50）÷4.50×100%＝-66.67%" in text
    assert "＝（0.00＋892.35＋90.29－0.00）÷（0.00＋892.35＋90.29）×100%＝100.00%" in text
    assert "＝94.93%×50%＋94.60%×40%＋94.20%×10%＝94.73%" in text
    assert "＝33÷33×100%＝100.00%" in text
    assert paras["（3）新建楼堂馆所面积控制率（5分）"].startswith("新建楼堂馆所面积控制率＝实际建设面积÷批准建设面积×100%。本年度无新建楼堂馆所项目")


def test_baojing_conclusion_notes_and_problems():
    report = _report("baojing-2018")
    conclusion = _section(report, "绩效评价结论")
    text = "\n".join(b.text for b in conclusion)
    assert "投入绩效为13分，过程绩效为56分，产出及效率绩效为25.9分，总绩效为94.9分。评价结果等次为“优”" in text
    assert any(b.kind == "chart" for b in conclusion)
    notes = [b.text for b in _section(report, "需要说明事项") if b.kind == "para"]
    assert len(notes) == 3
    assert notes[1].startswith("2.关于公用经费控制率的说明：该指标按评分标准计算得0分，调整为4分，理由是：年初人员编制17人")
    # 存在问题按主题：标题 + 一段；文字材料中的问题原文在前，失分事实在后，原因取自评分依据
    heads = [b.text for b in conclusion if b.kind == "heading" and b.level == 3]
    assert heads == ["1.预算编制的精准度有待提高", "2.预算执行与支出控制不到位", "3.履职效益有待提升"]
    paras = {conclusion[k - 1].text: b.text for k, b in enumerate(conclusion) if k and conclusion[k - 1].level == 3}
    assert paras["1.预算编制的精准度有待提高"].startswith("年初预算因本级财政财力原因编制不精确，公用经费标准过低，年中追加预算。"
                                                 "具体表现为：预算控制率为10.12%（本年预算追加（调整）数90.29万元")
    assert paras["2.预算执行与支出控制不到位"].endswith("主要原因是年初预算确定之后，年中增加大量工作人员，公用经费支出随之增加。")
    assert paras["3.履职效益有待提升"].startswith("全县绩效考核通报未附考核得分，影响重点工作完成率的计算。")
    assert [b.name for b in report.chart] == ["投入", "过程", "产出及效率"]
    assert [fmt_pct(b.rate) for b in report.chart] == ["100.00%", "91.80%", "99.62%"]
    assert report.title == "保靖县医疗生育保险管理服务局2018年度部门整体支出绩效评价报告"
    assert [t for t, _ in report.sections()][1:] == ["一、基本情况", "二、绩效评价", "三、部门整体支出绩效评价分析",
                                                     "四、需要说明事项", "五、绩效评价结论", "六、经验教训与建议"]
    # 建议与问题一一对应，针对各自的扣分事项；其后附文字材料中的建议
    lessons = _section(report, "经验教训与建议")
    assert [b.text for b in lessons if b.level == 3] == ["1.提升预算编制水平", "2.提高预算执行能力", "3.提升履职效益"]
    suggestions = "\n".join(b.text for b in lessons)
    assert "针对预算控制率10.12%的问题，提高年初预算编制的准确性和完整性" in suggestions
    assert "针对公用经费控制率171.93%的问题，按实有人员和工作任务合理编制公用经费预算" in suggestions
    assert "加强业务学习，提高预算意识" in suggestions
    assert (report.status, report.signature, report.date) == ("定稿", ["保靖县医疗生育保险管理服务局"], "2019年7月19日")


def test_appendix_rows_follow_the_score_sheet():
    report = _report("baojing-2018")
    rows = [r for r in report.table if r.kind == "row"]
    assert len(rows) == 18
    by_name = {r.name: r for r in rows}
    assert (by_name["预算控制率"].value, by_name["预算控制率"].final) == ("10.12%", D("4.00"))
    assert by_name["预算控制率"].note == "按评分标准计算得3分，调整为4分"
    assert [(r.level1, r.points, r.final) for r in report.table if r.kind == "subtotal"] == [
        ("投入小计", 13, 13), ("过程小计", 61, 56), ("产出及效率小计", 26, D("25.9"))]
    assert report.table[-1].value == "优" and report.table[-2].final == D("94.9")
    assert report.annex_note() == ["附件：保靖县医疗生育保险管理服务局2018年度部门整体支出绩效评价评分表"]


# ---------------------------------------------------------------------------------------------------------
# 子洲 2021（种子 001）与石屏 2022（种子 003）
# ---------------------------------------------------------------------------------------------------------
def test_zizhou_key_evaluation_follows_seed_001_section_by_section():
    report = _report("zizhou-2021")
    titles = [t for t, _ in report.sections()]
    # 种子 001：摘要，一 部门基本情况 … 七 存在问题和建议，附件1 指标体系表、附件2 得分情况表
    assert titles[1:] == ["摘要", "一、部门基本情况", "二、部门绩效目标及实现情况", "三、评价思路", "四、评价方法", "五、指标体系",
                          "六、评价结论、评价结论与自评评价等级的差异分析、绩效分析", "七、存在问题和建议"]
    subheads = {t: [b.text for b in blocks if b.kind == "heading" and b.level == 2] for t, blocks in report.sections()}
    assert subheads["一、部门基本情况"] == ["（一）部门概况", "（二）部门管理制度", "（三）部门预算资金"]
    assert subheads["四、评价方法"] == ["（一）评价过程", "（二）评价依据"]
    assert subheads["五、指标体系"] == ["（一）评价指标的构建思路及分值分布", "（二）评价等级"]
    assert subheads["六、评价结论、评价结论与自评评价等级的差异分析、绩效分析"] == [
        "（一）评价结论", "（二）评价结论与自评评价等级的差异分析", "（三）绩效分析"]
    assert subheads["七、存在问题和建议"] == ["（一）存在的问题", "（二）建议和改进举措"]
    method = [b.text for b in _section(report, "评价方法")]
    assert "1.《中华人民共和国预算法》" in method and "16.科目余额表等有关的财务资料" in method  # 评价依据逐条编号
    assert "8.会议讨论（9月11日—9月20日）：对报告初稿和评分表内容及格式进一步核实修改，形成报告最终稿。" in method
    approach = [b.text for b in _section(report, "评价思路")]
    assert "组长：封志壮" in approach and approach[-1].startswith("3.分析总结并撰写绩效重点评价报告")
    system = "\n".join(b.text for b in _section(report, "指标体系"))
    # 由评分表生成：一级、二级、三级指标的个数与分值，等级标准
    assert "设计了投入、过程、效果3个一级指标，在此基础上细化分解为预算编制、预算执行、预算管理、债权债务管理、资产管理、" \
           "履职效益6个二级指标，进一步细化为30个三级指标，总分100分" in system
    assert "2.过程：设预算执行、预算管理、债权债务管理、资产管理4个二级指标，细化为23个三级指标，共计66分。" in system
    assert "优秀（得分≥90分）；良好（80≤得分＜90分）；一般（70≤得分＜80分）；较差（得分＜70分）" in system
    # 差异分析说出原因：评分体系的差异（用 compare 的对应规则）与核查事实
    diff = "\n".join(b.text for b in _section(report, "差异分析"))
    assert "自评得分为97分（自评等级“优秀”），本次绩效重点评价得分85.1分（等级“良好”），较自评低11.9分，主要原因为：" in diff
    assert "部门自评设计了18个三级指标" in diff and "两套指标体系中可以对应的指标有6个" in diff
    assert "在职人员控制率—财政供养人员" in diff and "重点工作任务—年度目标" in diff
    assert "是部门自评未设置的指标，合计失12.9分" in diff
    assert "根据核查事实扣分的有：部门预算的完整性（报表封皮未盖章，失0.5分）" in diff
    analysis = "\n".join(b.text for b in _section(report, "绩效分析"))
    assert "＝3296.75÷3642.94×100%＝90.50%，得分＝（90.50%－85.00%）÷（95.00%－85.00%）×12＝6.6分" in analysis
    assert "此项综合评价满分为24分，重点评价得分21.5分（占该项满分值的89.58%）" in analysis
    # 评分依据进入指标段落（种子 001：“其他”科目金额=40.5 万元，部门预算总额=512.5 万元；6 月 16 日前公开）
    assert "经核查，预算公开文字叙述完整，报表封皮未盖章，扣0.5分，根据评分标准，该项指标得分1.5分" in analysis
    assert "“其他”科目金额40.5万元，部门预算总额512.5万元" in analysis and "经核查，6月16日前公开，公开及时" in analysis
    # 没有评分依据的满分指标写评分标准中得满分的条件（不写“未发现扣分事项”）
    assert "经核查，编报数据上下年度一致、前后一致、报表格式准确，根据评分标准，该项指标得分3分" in analysis
    assert "未发现扣分事项" not in report.as_text()
    problems = _section(report, "存在问题和建议")
    assert [b.text for b in problems if b.level == 3] == [
        "1.预算编制的精准度有待提高", "2.预算执行与支出控制不到位", "3.绩效管理工作有待加强", "4.履职效益有待提升",
        "1.提升预算编制水平", "2.提高预算执行能力", "3.严格执行预算绩效管理", "4.提升履职效益"]
    assert "主要表现为：报表封皮未盖章（部门预算的完整性扣0.5分）；机关运行经费叙述上下年度对比不一致（部门预算的准确性扣1分）。" \
        in [b.text for b in problems]
    # 附件1 指标体系表（规则）与附件2 得分情况表
    annexes = report.annexes()
    assert [(a.label, a.kind) for a in annexes] == [("附件1", "rules"), ("附件2", "scores")]
    assert annexes[0].rows[0][1][:3] == ["投入（24分）", "预算编制（24分）", "部门预算的完整性"]
    assert annexes[0].rows[-1][1][-1] == "100"
    assert report.annex_note() == ["附件：1. 子洲县医疗保障局2021年度部门整体支出绩效评价指标体系表",
                                   "2. 子洲县医疗保障局2021年度部门整体支出绩效重点评价得分情况表"]
    assert (report.signature, report.date) == (["子洲县财政预算绩效评价中心"], "2022年9月20日")
    # 没有自评得分时不写差异分析，绩效分析的序号前移
    scalars = {k: v for k, v in EXAMPLES["zizhou-2021"].scalars.items() if k not in ("self_score", "self_grade")}
    blocks = _section(_report("zizhou-2021", scalars=scalars), "评价结论")
    assert [b.text for b in blocks if b.kind == "heading" and b.level == 2] == ["（一）评价结论", "（二）绩效分析"]


def test_shiping_project_report_follows_seed_003():
    report = _report("shiping-2022")
    titles = [t for t, _ in report.sections()]
    assert titles[1:] == ["一、基本情况", "二、综合评价情况及评价结论", "三、主要经验及做法", "四、存在的问题及原因分析",
                          "五、有关建议", "六、其他需要说明的问题"]
    text = report.as_text()
    assert "自评得分100分，评价等级为“优”" in text
    # 公式写所选的口径，不写“（所选口径的）预算数”
    assert "全年执行数447704.00元，全年预算数447704.00元。预算执行率＝全年执行数÷全年预算数×100%＝447704.00÷447704.00×100%" in text
    assert "医保信息系统故障应急响应时间：年度指标值≤60分钟，实际完成值10分钟，达到年度指标值" in text
    assert "开展DRG改革的医疗机构：年度指标值“逐步推开”，完成情况为“达成”" in text
    # 文字材料已写明的预算数不再重复，执行数照写
    assert "本项目全年执行数447704.00元。" in text and "年初预算数50000.00元" not in text
    assert report.table_header[4:6] == ["年度指标值", "实际完成值"]
    assert (report.signature, report.date) == (["石屏县医疗保障局"], "2023年4月10日")


def test_project_shortfall_and_override_are_explained():
    values = dict(EXAMPLES["shiping-2022"].values, P04=D("0.81"))  # 覆盖率 81%，指标值 ≥90%
    overrides = {"P11": (4, "应急响应记录不全，评价人酌情扣1分")}
    report = _report("shiping-2022", values=values, overrides=overrides)
    text = report.as_text()
    assert "定点医药机构监督检查覆盖率：年度指标值≥90.00%，实际完成值81.00%，未达到年度指标值，得分＝81.00%÷90.00%×5＝4.5分" in text
    notes = "\n".join(b.text for b in _section(report, "其他需要说明的问题"))
    assert "关于医保信息系统故障应急响应时间的说明：该指标按评分标准计算得5分，调整为4分，理由是：应急响应记录不全" in notes
    problems = _section(report, "存在的问题")
    assert [b.text for b in problems if b.kind == "heading"] == ["（一）履职效益有待提升"]
    assert "定点医药机构监督检查覆盖率年度指标值≥90.00%，实际完成值81.00%（得4.5分，满分5分）" in problems[1].text
    suggestions = [b.text for b in _section(report, "有关建议")]
    assert suggestions[0] == "（一）提升履职效益" and "针对定点医药机构监督检查覆盖率未达到年度指标值" in suggestions[1]


# ---------------------------------------------------------------------------------------------------------
# 文字材料缺失、校验发现、不完整的评分
# ---------------------------------------------------------------------------------------------------------
def test_missing_texts_make_a_draft_and_warnings(tmp_path):
    texts = {k: v for k, v in EXAMPLES["baojing-2018"].texts.items() if k not in ("duties", "lessons")}
    ex = dataclasses.replace(EXAMPLES["baojing-2018"], texts=texts)
    path = build_workbook(ex.system, tmp_path / "b.xlsx", ex)
    inputs, ev, report = _from_workbook(path)
    text = report.as_text()
    # 缺少必需的文字材料：报告是草稿（评分完整，照写总分），缺的位置标“待补充”，正文前列出尚缺的内容；不写单元格
    assert report.draft and report.complete and report.status == "草稿"
    assert GAP in text and "【待填写" not in text and "文字材料!" not in text
    assert report.blocks[0].kind == "note" and "报告文字：部门职责、经验教训" in report.blocks[1].text
    assert "总绩效为94.9分" in text
    assert [(f.code, f.severity, f.sheet, f.cell) for f in report.findings] == [
        ("missing-text", "警告", "文字材料", "C3"), ("missing-text", "警告", "文字材料", "C12")]
    assert "文字材料“部门职责”未填写" in report.findings[0].message
    assert [(m.what, m.sheet, m.cell) for m in report.missing] == [("部门职责", "文字材料", "C3"),
                                                                   ("经验教训", "文字材料", "C12")]
    assert text_findings(inputs) == report.findings
    # 可选材料（补充问题、建议）缺失时不占位
    assert text.count(GAP) == 2
    # 看得见：“报告”表中标黄，Word 中黄色突出显示，页眉标“草稿”
    import docx
    from docx.enum.text import WD_COLOR_INDEX

    book, _ = load(path)
    write_report_sheet(book, report)
    book.save(path)
    marked = [c for c in openpyxl.load_workbook(path)[SHEET_REPORT]["A"] if c.value and GAP in str(c.value)]
    assert len(marked) == 2 and all(c.fill.fgColor.rgb.endswith("FFEB9C") for c in marked)
    doc = docx.Document(str(write_docx(report, tmp_path / "b.docx")))
    runs = [r for p in doc.paragraphs for r in p.runs if GAP in r.text]
    assert len(runs) == 2 and all(r.font.highlight_color == WD_COLOR_INDEX.YELLOW for r in runs)
    section = doc.sections[0]
    assert [p.text for p in section.header.paragraphs] == ["草稿"] == [p.text for p in section.even_page_header.paragraphs]


def test_incomplete_evaluation_is_a_draft_without_total_or_grade():
    """开福（种子 002）：14 项指标未评分（空白不是零：上年结转和结余、楼堂馆所种子未给出）。报告是草稿：不写总分与等级，正文前列出尚缺的内容（评价人的说法，不写单元格），
    未评分的指标段落说明缺什么，附件表的合计与等级写“—”；校验发现不进报告。"""
    report = _report("kaifu-2020")
    inputs, ev = _inputs("kaifu-2020")
    unscored = [i for i in ev.indicators if i.final is None]
    assert len(unscored) == 14 and not report.complete and report.draft
    assert report.total is None and report.grade is None
    text = report.as_text()
    assert text.startswith("［草稿］\n")
    note = [b.text for b in report.blocks if b.kind == "note"]
    assert note[0] == "本稿为草稿，尚有14项指标未评分，暂不计算总分、不评定等级，以下内容待补充后形成定稿："
    assert "3.“三公经费”变动率：尚缺上年度三公经费预算数。" in note
    assert len(note) == 1 + 14 + 1 and note[-1].startswith("15.报告文字：部门职责、")
    assert "总绩效为" not in text and "评价结果等次" not in text and "暂不计算总绩效得分，不评定等次" in text
    assert "尚缺上年度三公经费预算数，该项指标暂未评分。" in text
    assert not report.chart and not any(b.kind == "chart" for b in report.blocks)  # 不完整的得分率不画图
    assert [r.final for r in report.table if r.kind in ("total",)] == [None]
    assert report.table_cells(report.table[-2])[-2] == "—" and report.table[-1].value == "—"
    for word in ("校验", "单元格", "工作表", "请补齐", "重新生成", "待填写", "基础数据表!", "评分表!"):
        assert word not in text, word
    # 单元格只给终端与审核意见
    where = {m.what.split("：")[0]: (m.sheet, m.cell) for m in report.missing}
    sheet, cell = inputs.cells[("scalar", "sangong_budget_prev")]
    assert where["“三公经费”变动率"] == (sheet, cell) and where["成文日期"][0] == "文字材料"


# ---------------------------------------------------------------------------------------------------------
# 用户模板
# ---------------------------------------------------------------------------------------------------------
def test_user_templates_override_and_errors_are_chinese(tmp_path):
    inputs, ev = _inputs("baojing-2018")
    (tmp_path / "dept_0_preamble.j2").write_text("本报告由{{ unit }}编写，总分{{ total|score }}分。\n", encoding="utf-8")
    report = build_report(inputs, ev, [], template_dir=tmp_path)
    assert report.blocks[0].text == "本报告由保靖县医疗生育保险管理服务局编写，总分94.9分。"
    assert report.blocks[1].text == "一、基本情况"  # 其余章节仍用内置模板
    (tmp_path / "dept_0_preamble.j2").write_text("{{ no_such_field }}\n", encoding="utf-8")
    with pytest.raises(ReportError, match="未定义"):
        build_report(inputs, ev, [], template_dir=tmp_path)
    (tmp_path / "dept_0_preamble.j2").write_text("{% if %}\n", encoding="utf-8")
    with pytest.raises(ReportError, match="语法有误"):
        build_report(inputs, ev, [], template_dir=tmp_path)
    (tmp_path / "dept_0_preamble.j2").write_text("{{ text('no_such_text') }}\n", encoding="utf-8")
    with pytest.raises(ReportError, match="不存在的文字材料"):
        build_report(inputs, ev, [], template_dir=tmp_path)


def test_user_text_cannot_create_headings_or_charts():
    texts = dict(EXAMPLES["baojing-2018"].texts, duties="# 不是标题\n@chart\n第二段")
    report = _report("baojing-2018", texts=texts)
    blocks = _section(report, "基本情况")
    i = next(k for k, b in enumerate(blocks) if b.text == "（一）部门职责")
    assert [(b.kind, b.text) for b in blocks[i + 1:i + 4]] == [("para", "# 不是标题"), ("para", "@chart"), ("para", "第二段")]


# ---------------------------------------------------------------------------------------------------------
# “报告”工作表
# ---------------------------------------------------------------------------------------------------------
_XL = "{http://schemas.openxmlformats.org/spreadsheetml/2006/main}"
_XL_REL = "{http://schemas.openxmlformats.org/officeDocument/2006/relationships}"


def _stored_cells(path: Path) -> dict:
    """用户工作表中每个单元格在文件里保存的内容（直接读 XML，不经 openpyxl 解析）：数字是 <v> 中的原文（892.35 就是
    “892.35”，不会变成 892.3500000000001），文字解开共享字符串/内联字符串，公式取公式原文。公式的缓存结果不比——
    它属于计算结果，不是用户输入。"""
    from xml.etree import ElementTree as ET

    with zipfile.ZipFile(path) as z:
        names = set(z.namelist())
        wb = ET.fromstring(z.read("xl/workbook.xml"))
        rels = {r.get("Id"): r.get("Target") for r in ET.fromstring(z.read("xl/_rels/workbook.xml.rels"))}
        shared = []
        if "xl/sharedStrings.xml" in names:
            shared = ["".join(t.text or "" for t in si.iter(_XL + "t"))
                      for si in ET.fromstring(z.read("xl/sharedStrings.xml")).findall(_XL + "si")]
        out = {}
        for sheet in wb.find(_XL + "sheets"):
            if sheet.get("name") == SHEET_REPORT:
                continue
            target = rels[sheet.get(_XL_REL + "id")].lstrip("/")
            for c in ET.fromstring(z.read(target if target.startswith("xl/") else "xl/" + target)).iter(_XL + "c"):
                f, v, t = c.find(_XL + "f"), c.find(_XL + "v"), c.get("t", "n")
                if f is not None:
                    stored = ("formula", f.text)
                elif t == "s":
                    stored = ("text", shared[int(v.text)])
                elif t == "inlineStr":
                    stored = ("text", "".join(x.text or "" for x in c.iter(_XL + "t")))
                else:
                    stored = (t, v.text if v is not None else None)
                if stored[1] not in (None, ""):
                    out[(sheet.get("name"), c.get("r"))] = stored
    return out


def _cells(path: Path) -> dict:
    """用户工作表单元格：保存的内容（_stored_cells）加上数字格式、填充色（黄色输入/绿色规则/灰色公式）与锁定状态。"""
    formats = {}
    for ws in openpyxl.load_workbook(path).worksheets:
        if ws.title == SHEET_REPORT:
            continue
        for row in ws.iter_rows():
            for c in row:
                formats[(ws.title, c.coordinate)] = (c.number_format, c.fill.fgColor.rgb, c.protection.locked)
    stored = _stored_cells(path)
    return {k: (stored.get(k), fmt) for k, fmt in formats.items() if k in stored or fmt[1] not in (None, "00000000")}


def test_report_sheet_text_is_never_a_formula(tmp_path):
    evil = '=HYPERLINK("http://example.com","点我")'
    ex = dataclasses.replace(EXAMPLES["baojing-2018"], scalars=dict(EXAMPLES["baojing-2018"].scalars, unit_name=evil),
                             texts=dict(EXAMPLES["baojing-2018"].texts, duties="=1+1"))
    path = build_workbook(ex.system, tmp_path / "evil.xlsx", ex)
    book, inputs = load(path)
    ev = evaluate(inputs)
    write_report_sheet(book, build_report(inputs, ev, ev.findings))
    book.save(path)
    ws = openpyxl.load_workbook(path)[SHEET_REPORT]
    assert ws["A1"].value.startswith(evil) and ws["A1"].data_type == "s"
    values = [c for row in ws.iter_rows() for c in row if c.value is not None]
    assert not [c.coordinate for c in values if c.data_type == "f"]
    assert any(c.value == "=1+1" for c in values)


def test_report_sheet_has_text_appendix_and_native_chart(demo_dir, tmp_path):
    path = tmp_path / "b.xlsx"
    shutil.copy(demo_dir / "baojing-2018.xlsx", path)
    before = _cells(path)
    book, inputs = load(path)
    ev = evaluate(inputs)
    report = build_report(inputs, ev, ev.findings)
    write_report_sheet(book, report)
    write_report_sheet(book, report)  # 再次生成只替换，不叠加
    book.save(path)
    wb = openpyxl.load_workbook(path)
    assert wb.sheetnames.count(SHEET_REPORT) == 1
    ws = wb[SHEET_REPORT]
    col_a = [ws.cell(r, 1).value for r in range(1, ws.max_row + 1)]
    assert col_a[0] == report.title
    assert any(v and "90.29÷892.35×100%＝10.12%" in v for v in col_a)
    data_row = col_a.index("一级指标") + 1  # 表头所在行号
    assert [ws.cell(data_row + 1 + k, 4).value for k in range(3)] == [1.0, pytest.approx(56 / 61), pytest.approx(25.9 / 26)]
    assert ws.cell(data_row + 1, 4).number_format == "0.00%"
    with zipfile.ZipFile(path) as z:
        charts = [n for n in z.namelist() if n.startswith("xl/charts/chart")]
        assert len(charts) == 1
        xml = z.read(charts[0]).decode("utf-8")
    assert f"'报告'!$D${data_row + 1}:$D${data_row + 3}" in xml and f"<strRef><f>'报告'!$A${data_row + 1}" in xml
    assert _cells(path) == before  # 其他工作表的单元格（值与类型）不变


# ---------------------------------------------------------------------------------------------------------
# Word（公文格式）
# ---------------------------------------------------------------------------------------------------------
def test_control_characters_from_excel_do_not_break_word(tmp_path):
    """经 xlwings 从 Excel 读到的文字可能带 Word 的手动换行 \x0b 等控制字符；Word 文档（XML）不能保存它们。"""
    import docx

    inputs, ev = _inputs("baojing-2018")
    inputs.texts["duties"] = "职责第一行\x0b职责第二行\x07。"
    ev.indicators[0].note = "备注\x0c续\x01"
    report = build_report(inputs, ev, [])
    blocks = _section(report, "基本情况")
    i = next(k for k, b in enumerate(blocks) if b.text == "（一）部门职责")
    assert [b.text for b in blocks[i + 1:i + 3]] == ["职责第一行", "职责第二行。"]
    assert report.table[0].note == "备注续"  # 备注本来就并成一行
    doc = docx.Document(str(write_docx(report, tmp_path / "c.docx")))
    assert "职责第二行。" in [p.text for p in doc.paragraphs]


def test_docx_template_is_reproducible(tmp_path):
    from workbook_templates.docx_template import TEMPLATE_PATH, build_template

    fresh = build_template(tmp_path / "g.docx")
    with zipfile.ZipFile(fresh) as a, zipfile.ZipFile(TEMPLATE_PATH) as b:
        assert a.namelist() == b.namelist()
        for name in a.namelist():
            assert a.read(name) == b.read(name), f"{name} 与仓库中的模板不同：请运行 python -m workbook_templates.docx_template"


def test_docx_has_gongwen_styles_table_chart_and_page_numbers(tmp_path):
    import docx

    report = _report("baojing-2018")
    path = write_docx(report, tmp_path / "b.docx")
    with zipfile.ZipFile(path) as z:
        styles = z.read("word/styles.xml").decode("utf-8")
        footer = "".join(z.read(n).decode("utf-8") for n in z.namelist() if n.startswith("word/footer"))
        media = [n for n in z.namelist() if n.startswith("word/media/")]
    for font in ("仿宋_GB2312", "黑体", "楷体_GB2312", "方正小标宋简体"):
        assert f'w:eastAsia="{font}"' in styles
    assert 'w:line="560" w:lineRule="exact"' in styles  # 固定行距 28 磅
    assert 'w:sz w:val="44"' in styles and 'w:sz w:val="32"' in styles  # 二号标题、三号正文
    # 逐个样式核对：中文字体写在 w:eastAsia 上（python-docx 的 Font.name 只改西文字体），且不被主题字体覆盖
    doc = docx.Document(str(path))
    w = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"

    def fmt(name: str) -> tuple:
        el = doc.styles[name].element
        fonts, size, spacing = el.find(f"{w}rPr/{w}rFonts"), el.find(f"{w}rPr/{w}sz"), el.find(f"{w}pPr/{w}spacing")
        assert not [a for a in fonts.attrib if a.endswith("Theme")], name
        return (fonts.get(f"{w}eastAsia"), fonts.get(f"{w}ascii"), int(size.get(f"{w}val")) / 2,
                spacing.get(f"{w}lineRule"), int(spacing.get(f"{w}line")) / 20)

    assert fmt("Title") == ("方正小标宋简体", "Times New Roman", 22, "exact", 35)  # 二号
    assert fmt("Normal") == ("仿宋_GB2312", "Times New Roman", 16, "exact", 28)  # 三号，固定行距 28 磅
    assert fmt("Heading 1")[:3] == ("黑体", "Times New Roman", 16) and fmt("Heading 2")[0] == "楷体_GB2312"
    assert all(fmt(f"Heading {k}")[3:] == ("exact", 28) for k in (1, 2, 3, 4))
    body = doc.element.body
    assert not list(body.iter(f"{w}rFonts")) and not list(body.iter(f"{w}sz"))  # 字体字号全部来自样式
    sec = doc.sections[0]
    assert (round(sec.page_width.mm), round(sec.page_height.mm), round(sec.top_margin.mm), round(sec.left_margin.mm)) == (
        210, 297, 37, 28)
    assert "PAGE" in footer and "— " in footer and " —" in footer
    assert len(media) == 1 and media[0].endswith(".png")
    paras = [(p.style.name, p.text) for p in doc.paragraphs]
    assert paras[0] == ("Title", "保靖县医疗生育保险管理服务局") and paras[1][0] == "Title"
    assert ("Heading 1", "三、部门整体支出绩效评价分析") in paras
    assert ("Heading 2", "（一）投入") in paras and ("Heading 4", "（2）预算控制率（5分）") in paras
    assert any(s == "Normal" and "90.29÷892.35×100%＝10.12%" in t for s, t in paras)
    assert any("总绩效为94.9分。评价结果等次为“优”" in t for _, t in paras)
    assert ("Annex Label", "附件") in paras
    table = doc.tables[0]
    assert len(table.rows) == 1 + len(report.table)
    assert [c.text for c in table.rows[0].cells] == report.table_header
    assert table.rows[-2].cells[-2].text == "94.9" and table.rows[-1].cells[-2].text == "优"
    assert write_docx(report, tmp_path / "b2.docx").read_bytes() == path.read_bytes()  # 确定性


def test_chart_png_without_cjk_font_uses_numbered_labels(tmp_path, monkeypatch):
    import docx

    from addin.report import word as docx_report

    report = _report("zizhou-2021")
    png, cjk = docx_report.chart_png(report.chart, font_path=None)
    assert png[:8] == b"\x89PNG\r\n\x1a\n" and cjk is False
    monkeypatch.setattr(docx_report, "find_cjk_font", lambda: None)
    doc = docx.Document(str(write_docx(report, tmp_path / "z.docx")))
    caption = next(p.text for p in doc.paragraphs if p.style.name == "Caption")
    assert caption == "图1  一级指标得分率（1—投入；2—过程；3—效果）"


# ---------------------------------------------------------------------------------------------------------
# PDF
# ---------------------------------------------------------------------------------------------------------
def test_pdf_without_libreoffice_gives_a_chinese_message(tmp_path, monkeypatch):
    from addin.report import pdf

    monkeypatch.setattr(pdf, "find_soffice", lambda: None)
    docx_path = write_docx(_report("shiping-2022"), tmp_path / "s.docx")
    with pytest.raises(ReportError, match="未找到 LibreOffice.*apt-get install"):
        write_pdf(docx_path, tmp_path / "s.pdf")
    assert not (tmp_path / "s.pdf").exists()


def _soffice():
    from addin.report.pdf import find_soffice

    return find_soffice()


def _tool_output(*cmd: str) -> str:
    return subprocess.run(list(cmd), capture_output=True, text=True, check=True, timeout=120).stdout


@pytest.mark.skipif(_soffice() is None, reason="未安装 LibreOffice（CI 不安装；apt-get install libreoffice-writer fonts-wqy-zenhei）")


def test_pdf_via_libreoffice_contains_the_chinese_text(tmp_path):
    docx_path = write_docx(_report("baojing-2018"), tmp_path / "b.docx")
    pdf = write_pdf(docx_path, tmp_path / "b.pdf")
    assert pdf.read_bytes()[:5] == b"%PDF-"
    if not shutil.which("pdftotext"):
        pytest.skip("已生成 PDF，但未安装 pdftotext（poppler-utils），无法核对其中的文字")
    compact = re.sub(r"\s+", "", _tool_output("pdftotext", str(pdf), "-"))
    assert "保靖县医疗生育保险管理服务局" in compact and "部门整体支出绩效评价报告" in compact
    assert "90.29÷892.35×100%＝10.12%" in compact and "总绩效为94.9分。评价结果等次为“优”" in compact
    assert "—1—" in compact  # 页脚页码域已计算
    # 页码的位置（GB/T 9704 7.5）：单页居右、双页居左，各空一字（4 号字约 14 磅），一字线距版心下边缘约 7 mm
    boxes = _tool_output("pdftotext", "-f", "1", "-l", "2", "-bbox", str(pdf), "-")
    pages = boxes.split("<page ")[1:]
    for n, page in enumerate(pages, 1):
        width = float(re.search(r'width="([\d.]+)"', page).group(1))
        dashes = [tuple(map(float, m)) for m in re.findall(
            r'<word xMin="([\d.]+)" yMin="([\d.]+)" xMax="([\d.]+)" yMax="([\d.]+)">—</word>', page)]
        number = re.search(rf'<word xMin="([\d.]+)" yMin="[\d.]+" xMax="([\d.]+)" yMax="[\d.]+">{n}</word>', page)
        assert len(dashes) == 2 and number, page[:300]
        right_margin, left_margin = 26 / 25.4 * 72, 28 / 25.4 * 72
        if n % 2:
            assert abs((width - right_margin) - dashes[1][2] - 14) < 3  # 居右空一字
        else:
            assert abs(dashes[0][0] - left_margin - 14) < 3  # 居左空一字
        block_bottom = (297 - 35) / 25.4 * 72
        middle = (dashes[0][1] + dashes[0][3]) / 2
        assert abs((middle - block_bottom) / 72 * 25.4 - 7) < 1.5
    # 文字能提取出来不等于显示正常：缺中文字体时字形是方框（tofu），文字层却照样是汉字。所以再看汉字用的字体：
    # PDF 中嵌入的字体里要有一种是本机 fontconfig 认定支持中文的字体。
    if not (shutil.which("pdffonts") and shutil.which("fc-list")):
        pytest.skip("未安装 pdffonts 或 fc-list，无法核对 PDF 中汉字所用的字体")
    cjk = {re.sub(r"\s+", "", n) for line in _tool_output("fc-list", ":lang=zh", "postscriptname").splitlines()
           for n in line.split(":", 1)[-1].replace("postscriptname=", "").split(",") if n.strip()}
    # pdffonts 每行：名称 类型（可含空格） 编码 emb sub uni 对象号 代号；从右数第 5 列是“是否嵌入”
    embedded = [line.split()[0].split("+", 1)[-1] for line in _tool_output("pdffonts", str(pdf)).splitlines()[2:]
                if len(line.split()) >= 7 and line.split()[-5] == "yes"]
    assert cjk, "本机没有支持中文的字体：PDF 中的汉字会显示为方框（apt-get install fonts-wqy-zenhei）"
    assert any(name in cjk for name in embedded), (embedded, sorted(cjk)[:5])


# ---------------------------------------------------------------------------------------------------------
# 命令行
# ---------------------------------------------------------------------------------------------------------
def _expected_exit(path: Path) -> int:
    from addin.cli.report import _all_findings

    _, inputs = load(path)
    return 1 if any(f.severity == "错误" for f in _all_findings(inputs, evaluate(inputs))) else 0


def test_cli_report_in_place_keeps_user_cells(demo_dir, tmp_path, capsys):
    from addin.cli.main import main

    path = tmp_path / "baojing-2018.xlsx"
    shutil.copy(demo_dir / "baojing-2018.xlsx", path)
    before = _cells(path)
    expected = _expected_exit(path)
    rc = main(["report", str(path), "--docx", str(tmp_path / "b.docx")])
    out = capsys.readouterr().out
    assert rc == expected
    assert "已写入“报告”工作表" in out and "已生成 Word 报告" in out
    assert SHEET_REPORT in openpyxl.load_workbook(path).sheetnames
    assert _cells(path) == before
    assert (tmp_path / "b.docx").stat().st_size > 10000


def test_cli_report_to_other_file_leaves_original_untouched(demo_dir, tmp_path, capsys):
    from addin.cli.main import main

    src = tmp_path / "zizhou-2021.xlsx"
    shutil.copy(demo_dir / "zizhou-2021.xlsx", src)
    digest = hashlib.sha256(src.read_bytes()).hexdigest()
    out = tmp_path / "out.xlsx"
    assert main(["report", str(src), "-o", str(out)]) == _expected_exit(src)
    assert hashlib.sha256(src.read_bytes()).hexdigest() == digest
    assert _cells(out) == _cells(src)  # 另存的文件里，用户的单元格也逐字不变
    ws = openpyxl.load_workbook(out)[SHEET_REPORT]
    assert ws["A1"].value == "子洲县医疗保障局2021年度部门整体支出绩效重点评价报告"
    assert "报告为定稿：总分 85.1 分，等级 良好，成文日期 2022年9月20日" in capsys.readouterr().out.splitlines()
    src = tmp_path / "kaifu-2020.xlsx"
    shutil.copy(demo_dir / "kaifu-2020.xlsx", src)
    main(["report", str(src), "-o", str(tmp_path / "k.xlsx"), "--review", str(tmp_path / "k-review.docx")])
    lines = capsys.readouterr().out.splitlines()
    # 终端（不是报告）告诉填表人缺什么、在哪个单元格补
    assert "报告为草稿（每页页眉标“草稿”，不写总分与等级），尚缺 21 项，补齐后重新生成即为定稿：" in lines
    assert "  “三公经费”变动率：尚缺上年度三公经费预算数（基础数据表!C28）" in lines
    assert "  部门职责：未填写或无法识别（文字材料!C3）" in lines and "  成文日期：未填写或无法识别（文字材料!C16）" in lines
    # 审核意见：报告状态、尚缺的内容（含单元格）、全部校验发现
    import docx

    review = docx.Document(str(tmp_path / "k-review.docx"))
    paras = [p.text for p in review.paragraphs]
    assert paras[0] == "审核意见" and "一、报告状态" in paras and "二、草稿尚缺的内容" in paras
    cells = [[c.text for c in row.cells] for t in review.tables for row in t.rows]
    assert ["“三公经费”变动率：尚缺上年度三公经费预算数", "基础数据表!C28"] in cells
    assert any(row[:2] == ["错误", "基础数据表!D11"] for row in cells)  # 项目支出 3368 ≠ 90＋3308
    ws = openpyxl.load_workbook(tmp_path / "k.xlsx")[SHEET_REPORT]
    assert ws.oddHeader.right.text == "草稿"


def test_cli_report_is_the_reviewed_text_and_check_findings_stay_out(demo_dir, tmp_path):
    """jixiao report 用完整的校验结果，但报告正文不写校验发现（种子笔误 40.98%、171.92% 只进“校验结果”与审核意见）：
    正文与审阅过的期望文本逐字相同；两次运行写出的“报告”表逐字相同。"""
    from addin.cli.main import main
    from addin.cli.report import _all_findings

    src = tmp_path / "baojing-2018.xlsx"
    shutil.copy(demo_dir / "baojing-2018.xlsx", src)
    sheets = []
    for k in (1, 2):
        main(["report", str(src), "-o", str(tmp_path / f"out{k}.xlsx")])
        ws = openpyxl.load_workbook(tmp_path / f"out{k}.xlsx")[SHEET_REPORT]
        sheets.append([[c.value for c in row] for row in ws.iter_rows()])
    assert sheets[0] == sheets[1]
    _, inputs = load(src, with_cached=True)
    ev = evaluate(inputs)
    findings = _all_findings(inputs, ev)
    assert {"stated-value-mismatch", "value-outside-cited-band"} <= {f.code for f in findings}
    report = build_report(inputs, ev, findings)
    column_a = [row[0] for row in sheets[0] if row and row[0] is not None]
    body = [b.text for b in report.blocks if b.kind != "chart"]
    it = iter(column_a)
    assert all(any(v == t for v in it) for t in body), "“报告”表 A 列应依次包含正文各段"
    text = report.as_text()
    assert "40.98%" not in text and "171.92%" not in text and "校验" not in text
    assert text == (EXPECTED / "baojing-2018.txt").read_text(encoding="utf-8")


def test_cli_report_pdf_warns_when_no_chinese_font(demo_dir, tmp_path, capsys, monkeypatch):
    from addin.cli.main import main
    from addin.report import pdf
    from addin.report import word as docx_report

    def fake_pdf(docx_path, pdf_path):  # 不真的调用 LibreOffice：只看命令行对缺少中文字体的提示
        Path(pdf_path).write_bytes(b"%PDF-1.4\n")
        return Path(pdf_path)

    monkeypatch.setattr(pdf, "write_pdf", fake_pdf)
    src = tmp_path / "shiping-2022.xlsx"
    shutil.copy(demo_dir / "shiping-2022.xlsx", src)
    monkeypatch.setattr(docx_report, "find_cjk_font", lambda: "/fonts/simfang.ttf")
    assert main(["report", str(src), "--pdf", str(tmp_path / "s.pdf")]) == 0
    assert "中文字体" not in capsys.readouterr().err
    monkeypatch.setattr(docx_report, "find_cjk_font", lambda: None)
    assert main(["report", str(src), "--pdf", str(tmp_path / "s.pdf")]) == 0
    err = capsys.readouterr().err
    assert "未找到中文字体" in err and "fonts-wqy-zenhei" in err


def test_cli_report_exit_codes(demo_dir, tmp_path, capsys, monkeypatch):
    from addin.cli.main import main
    from addin.report import pdf

    path = tmp_path / "kaifu-2020.xlsx"
    shutil.copy(demo_dir / "kaifu-2020.xlsx", path)
    assert main(["report", str(path)]) == 1  # 14 项无法计分：报告照常生成，退出码 1
    assert SHEET_REPORT in openpyxl.load_workbook(path).sheetnames
    capsys.readouterr()
    assert main(["report", str(tmp_path / "nope.xlsx")]) == 2
    err = capsys.readouterr().err
    assert "找不到" in err and "Traceback" not in err
    monkeypatch.setattr(pdf, "find_soffice", lambda: None)
    assert main(["report", str(path), "--pdf", str(tmp_path / "k.pdf")]) == 2
    assert "未找到 LibreOffice" in capsys.readouterr().err
    assert main(["report", str(path), "--templates", str(tmp_path / "no-such-dir")]) == 2
    assert "模板目录不存在" in capsys.readouterr().err


def test_demo_reports_next_to_the_workbooks(tmp_path, capsys):
    from addin.cli.report import demo_reports

    for name in ("baojing-2018", "kaifu-2020"):
        ex = EXAMPLES[name]
        build_workbook(ex.system, tmp_path / f"{name}.xlsx", ex)
    demo_reports(tmp_path)
    out = capsys.readouterr().out.splitlines()
    assert len(out) == 2 and out[0].endswith("保靖县医疗生育保险管理服务局2018年度部门整体支出绩效评价报告（定稿，2019年7月19日）")
    assert out[1].endswith("（草稿，尚缺 21 项）")
    assert (tmp_path / "baojing-2018.docx").is_file() and (tmp_path / "kaifu-2020.docx").is_file()
    assert not list(tmp_path.glob("*.bak.xlsx"))
    assert SHEET_REPORT in openpyxl.load_workbook(tmp_path / "kaifu-2020.xlsx").sheetnames


def test_formula_valued_text_cells_use_their_cached_result(tmp_path):
    inputs, ev = _inputs("baojing-2018")
    inputs.texts["duties"] = Formula("='基础数据表'!C5", "由公式得到的职责文字")
    report = build_report(inputs, ev, [])
    assert "由公式得到的职责文字" in report.as_text() and not report.draft
    inputs.texts["duties"] = Formula("='基础数据表'!C5", None)
    assert GAP in build_report(inputs, ev, []).as_text()

# ---------------------------------------------------------------------------------------------------------
# 验收：报告是评价人的文件（Word 全文：正文、表格、页眉页脚）；草稿；同一句话不写两遍
# ---------------------------------------------------------------------------------------------------------
_TOOL_WORDS = ("校验", "单元格", "工作表", "±", "种子", "请补齐", "重新生成", "待填写", "““", "””", "基础数据表", "评分表!",
               "模板", "jixiao")
_CELL_REF = re.compile(r"[\u4e00-\u9fff]+!\$?[A-Z]{1,3}\$?\d+")
_DATE_LINE = re.compile(r"^\d{4}年[1-9]\d?月[1-9]\d?日$")


def _word_text(path: Path) -> tuple[list[str], str]:
    """Word 文件的正文段落与全部文字（含表格、页眉、页脚、文档属性）。"""
    import docx

    doc = docx.Document(str(path))
    paras = [p.text for p in doc.paragraphs]
    everything = paras + [c.text for t in doc.tables for row in t.rows for c in row.cells]
    with zipfile.ZipFile(path) as z:
        for name in z.namelist():
            if name.startswith(("word/header", "word/footer", "docProps/")):
                everything.append(re.sub(r"<[^>]+>", " ", z.read(name).decode("utf-8")))
    return paras, "\n".join(everything)


@pytest.mark.parametrize("name", SEEDS)
def test_reports_speak_as_the_evaluator(name, demo_dir, tmp_path):
    """完整的示例（保靖、子洲、石屏）：Word 中没有单元格地址、校验用语、容差、给填表人的提示、示例数据用语与双重引号；
    是定稿（页眉无“草稿”）；以署名和成文日期（阿拉伯数字，年份写全，无虚位）结束正文。"""
    _, _, report = _from_workbook(demo_dir / f"{name}.xlsx")
    path = write_docx(report, tmp_path / f"{name}.docx")
    paras, text = _word_text(path)
    for word in _TOOL_WORDS:
        assert word not in text, word
    assert not _CELL_REF.findall(text)
    assert report.status == "定稿" and "草稿" not in text
    body = paras[:paras.index("附件" if report.kind != "key_eval" else "附件1")]
    while not body[-1]:
        body.pop()
    assert _DATE_LINE.match(body[-1]), body[-1]
    assert body[-1] == report.date and body[-1 - len(report.signature):-1] == report.signature
    assert any(p.startswith("附件：") for p in body[-8:])  # 附件说明在署名之前


@pytest.mark.parametrize("name", SEEDS)
def test_no_sentence_is_written_twice(name):
    report = _report(name)
    seen: dict[str, int] = {}
    for s in report.sentences():
        seen[s] = seen.get(s, 0) + 1
    assert not [s for s, n in seen.items() if n > 1]
    # 测试能失败：同一段文字出现两次就会被发现
    doubled = dataclasses.replace(report, blocks=report.blocks + [b for b in report.blocks if b.kind == "para"][:1])
    assert len(doubled.sentences()) != len(set(doubled.sentences()))


def test_text_material_wins_over_generated_facts():
    """保靖：文字材料已写“编制人数为33名……实有在职人员33人”“全年总支出982.63万元……”，生成的同一事实不再写；
    文字材料没写到的（年初预算、追加预算、“三公经费”支出）照写。"""
    report = _report("baojing-2018")
    basic = "\n".join(b.text for b in _section(report, "基本情况"))
    assert basic.count("33") == 2 and "核定编制33人" not in basic  # 只在文字材料那一句里
    assert "支出合计982.63" not in basic and "基本支出532.63万元（人员经费" in basic
    assert "本单位2018年度年初预算892.35万元，本年追加预算90.29万元，“三公经费”支出0.61万元。" in basic
    texts = dict(EXAMPLES["baojing-2018"].texts, staffing="", spending="")
    basic = "\n".join(b.text for b in _section(_report("baojing-2018", texts=texts), "基本情况"))
    assert "截至2018年末，本单位核定编制33人，实有在职人员33人。" in basic
    assert "支出合计982.63万元" in basic and "基本支出532.63万元" in basic


def test_kaifu_word_is_a_draft_without_total_or_grade(demo_dir, tmp_path):
    import docx

    _, _, report = _from_workbook(demo_dir / "kaifu-2020.xlsx")
    path = write_docx(report, tmp_path / "k.docx")
    doc = docx.Document(str(path))
    section = doc.sections[0]
    assert [p.text for p in section.header.paragraphs] == ["草稿"] == [p.text for p in section.even_page_header.paragraphs]
    paras, text = _word_text(path)
    assert paras[2] == "" and paras[3].startswith("本稿为草稿，尚有14项指标未评分，暂不计算总分、不评定等级")
    assert "总绩效为" not in text and "评价结果等次" not in text and "等级为" not in text
    table = doc.tables[-1]
    assert [c.text for c in table.rows[-2].cells][-2:] == ["—", ""] and table.rows[-1].cells[-2].text == "—"
    for word in ("校验", "单元格", "请补齐", "重新生成", "待填写", "±"):
        assert word not in text, word
    assert not _CELL_REF.findall(text)
    assert doc.core_properties.subject == "草稿"


# ---------------------------------------------------------------------------------------------------------
# 指标段落的依据、评分标准中得满分的条件、成文日期
# ---------------------------------------------------------------------------------------------------------
def test_full_marks_condition_uses_the_rules_own_words():
    f = full_marks_condition
    assert f("预算公开文字叙述完整、报表齐全得2分；发现1处编报数据不齐全或有错误扣0.5分，扣完为止。", D(2)) == \
        "预算公开文字叙述完整、报表齐全"
    assert f("编报数据上下年度一致1分、前后一致1分、报表格式准确1分；每出错1处扣0.5分，扣完为止。", D(3)) == \
        "编报数据上下年度一致、前后一致、报表格式准确"
    assert f("全部实现得2分，未实现一处扣0.5分；未公开绩效目标不得分。", D(2)) == "全部实现"
    assert f("预算控制率=0得5分；0～10%（含）得4分；10%～20%（含）得3分；30%以上得0分。", D(5)) == "预算控制率=0"
    assert f("公用经费控制率≤100%得满分，超过100%不得分（确因人员增加等客观原因的，由评价人说明后调整得分）。", D(8)) == \
        "公用经费控制率≤100%"
    assert f("目标依据充分，符合法律法规、发展规划，得满分；每发现一处不符合酌情扣分。", D(3)) == "目标依据充分，符合法律法规、发展规划"
    assert f("由评价人综合判断。", D(3)) == ""
    # 封顶（“最高10分”）不是条件：“未达到满分标准（预算执行率×分值，最高）”这样的半句不进报告
    assert f("预算执行率×分值，最高10分。", D(10)) == ""
    assert f("完成率≥95%得满分，至多5分。", D(5)) == "完成率≥95%"


def test_evidence_goes_into_the_paragraph_and_blank_evidence_falls_back_to_the_rule():
    report = _report("zizhou-2021")
    analysis = {b.text: None for b in _section(report, "评价结论")}
    assert "经核查，项目自评绩效目标与预算绩效目标不完全一致，指标标准部分不合理；报告内容完整，扣1分，根据评分标准，" \
           "该项指标得分2分。" in analysis
    # 去掉评分依据：扣分写备注（附件2 的简短原因），满分写评分标准中得满分的条件
    report = _report("zizhou-2021", evidence={})
    text = report.as_text()
    assert "经核查，报表封皮未盖章，扣0.5分，根据评分标准，该项指标得分1.5分。" in text
    assert "经核查，按时完成报送，根据评分标准，该项指标得分2分。" in text
    # 既无依据也无备注：照写扣分与得分，校验给出 missing-evidence 警告（见 test_checks）
    notes = {k: v for k, v in EXAMPLES["zizhou-2021"].notes.items() if k != "z1_1"}
    text = _report("zizhou-2021", evidence={}, notes=notes).as_text()
    assert "（1）部门预算的完整性（2分）\n扣0.5分，根据评分标准，该项指标得分1.5分。" in text


def test_dates_are_written_in_arabic_numerals_without_leading_zeros():
    import datetime as dt

    for raw in ("2019年7月19日", "2019-07-19", "2019/7/19", "2019.07.19", "二〇一九年七月十九日", "２０１９年７月１９日",
                dt.datetime(2019, 7, 19), dt.date(2019, 7, 19), 43665):
        assert f_date(raw) == "2019年7月19日", raw
    assert f_date("二〇二二年九月二十日") == "2022年9月20日" and f_date("2021年12月31日") == "2021年12月31日"
    for raw in ("", "七月", "2019年13月1日", "2019年2月30日", None):
        assert f_date(raw) == "" and parse_date(raw) is None
    # 无法识别的成文日期：报告是草稿，给出 bad-date 警告（指向单元格）
    report = _report("baojing-2018", texts=dict(EXAMPLES["baojing-2018"].texts, date="七月中旬"))
    assert report.draft and [f.code for f in report.findings] == ["bad-date"] and report.date == ""
    assert [m.what for m in report.missing] == ["成文日期"]


# ---------------------------------------------------------------------------------------------------------
# GB/T 9704-2012：在 Word 的 XML 上逐项核对
# ---------------------------------------------------------------------------------------------------------
_W = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"
_R_ID = "{http://schemas.openxmlformats.org/officeDocument/2006/relationships}id"


def _xml(z: zipfile.ZipFile, name: str):
    from xml.etree import ElementTree as ET

    return ET.fromstring(z.read(name))


def test_word_follows_gbt_9704(tmp_path):
    report = _report("baojing-2018")
    path = write_docx(report, tmp_path / "b.docx")
    with zipfile.ZipFile(path) as z:
        document, settings, fonts = _xml(z, "word/document.xml"), _xml(z, "word/settings.xml"), _xml(z, "word/fontTable.xml")
        styles = _xml(z, "word/styles.xml")
        rels = {r.get("Id"): r.get("Target") for r in _xml(z, "word/_rels/document.xml.rels")}
        sect = document.find(f"{_W}body/{_W}sectPr")
        footers = {ref.get(f"{_W}type"): _xml(z, "word/" + rels[ref.get(_R_ID)])
                   for ref in sect.findall(f"{_W}footerReference")}
        parts = {n: z.read(n) for n in z.namelist()}
    # 版心 156 × 225 mm：A4，天头 37、订口 28、右 26、下 35 mm（缇）
    pg, mar = sect.find(f"{_W}pgSz"), sect.find(f"{_W}pgMar")
    assert (pg.get(f"{_W}w"), pg.get(f"{_W}h")) == ("11906", "16838")
    twips = {k: int(mar.get(f"{_W}{k}")) for k in ("top", "bottom", "left", "right", "footer")}
    mm = {k: round(v / 1440 * 25.4, 1) for k, v in twips.items()}
    assert (mm["top"], mm["bottom"], mm["left"], mm["right"]) == (37, 35, 28, 26)
    assert round(210 - mm["left"] - mm["right"]) == 156 and round(297 - mm["top"] - mm["bottom"]) == 225
    # 页码：奇偶页不同；单页码居右空一字、双页码居左空一字，“— 1 —”，一字线距版心下边缘约 7 mm
    assert settings.find(f"{_W}evenAndOddHeaders") is not None
    assert set(footers) == {"default", "even"}
    for kind, (jc, side) in {"default": ("right", "right"), "even": ("left", "left")}.items():
        p = footers[kind].find(f"{_W}p")
        assert p.find(f"{_W}pPr/{_W}jc").get(f"{_W}val") == jc
        assert int(p.find(f"{_W}pPr/{_W}ind").get(f"{_W}{side}")) == 280  # 一个 4 号字
        text = "".join(t.text for t in p.iter(f"{_W}t"))
        instr = "".join(t.text for t in p.iter(f"{_W}instrText"))
        assert text == "— 1 —" and instr.strip() == "PAGE"
    line = 14 * 25.4 / 72
    assert abs((mm["bottom"] - mm["footer"] - line / 2) - 7) < 0.3
    footer_style = next(s for s in styles.findall(f"{_W}style") if s.get(f"{_W}styleId") == "Footer")
    fonts_of = footer_style.find(f"{_W}rPr/{_W}rFonts")
    assert (fonts_of.get(f"{_W}ascii"), fonts_of.get(f"{_W}eastAsia")) == ("宋体", "宋体")
    assert footer_style.find(f"{_W}rPr/{_W}sz").get(f"{_W}val") == "28"  # 4 号
    # 字体表：GB2312 字体声明替代字体与 panose、字符集、字族
    table = {f.get(f"{_W}name"): f for f in fonts.findall(f"{_W}font")}
    for name, alt in (("仿宋_GB2312", "仿宋"), ("楷体_GB2312", "楷体"), ("方正小标宋简体", "华文中宋,宋体")):
        entry = table[name]
        assert entry.find(f"{_W}altName").get(f"{_W}val") == alt
        assert entry.find(f"{_W}charset").get(f"{_W}val") == "86"
        assert len(entry.find(f"{_W}panose1").get(f"{_W}val")) == 20 and entry.find(f"{_W}family").get(f"{_W}val")
        for fallback in alt.split(","):
            assert fallback in table  # 替代字体本身也有声明
    # 附件标题二号（22 磅）；成文日期右空四字
    by_id = {s.get(f"{_W}styleId"): s for s in styles.findall(f"{_W}style")}
    annex = next(s for s in by_id.values() if s.find(f"{_W}name").get(f"{_W}val") == "Annex Title")
    assert annex.find(f"{_W}rPr/{_W}sz").get(f"{_W}val") == "44"
    date_style = next(s for s in by_id.values() if s.find(f"{_W}name").get(f"{_W}val") == "Date Line")
    assert date_style.find(f"{_W}pPr/{_W}jc").get(f"{_W}val") == "right"
    assert date_style.find(f"{_W}pPr/{_W}ind").get(f"{_W}right") == str(4 * 320)
    # 文档属性取自工作簿（不写 python-docx，不写固定日期）
    import docx

    cp = docx.Document(str(path)).core_properties
    assert (cp.title, cp.author, cp.created.date().isoformat()) == (report.title, "保靖县医疗生育保险管理服务局", "2019-07-19")
    assert not [n for n, data in parts.items() if b"python-docx" in data]
    assert write_docx(report, tmp_path / "b2.docx").read_bytes() == path.read_bytes()  # 逐字节可复现


def test_review_document_lists_what_the_report_leaves_out(tmp_path):
    import docx

    from addin.cli.report import _all_findings
    from addin.report.review import write_review

    inputs, ev = _inputs("baojing-2018")
    findings = _all_findings(inputs, ev)
    report = build_report(inputs, ev, findings)
    path = write_review(report, ev, findings, tmp_path / "审核意见.docx")
    doc = docx.Document(str(path))
    paras = [p.text for p in doc.paragraphs]
    assert "报告为定稿：18 项指标均已评分，总分 94.9 分，等级“优”；文字材料与成文日期（2019年7月19日）齐全。" in paras
    rows = [[c.text for c in row.cells] for t in doc.tables for row in t.rows]
    assert rows[0] == ["严重程度", "位置", "说明"]
    assert any(r[:2] == ["警告", "评分表!Z14"] and "40.98%" in r[2] for r in rows)  # 种子笔误在审核意见里，不在报告里
    assert len(rows) - 1 == len(findings)


# ---------------------------------------------------------------------------------------------------------
# “报告”工作表：打印设置与图的位置；没有“评分依据”列的旧工作簿
# ---------------------------------------------------------------------------------------------------------
def test_report_sheet_prints_on_a4_and_the_chart_sits_under_its_paragraph(demo_dir, tmp_path):
    path = tmp_path / "b.xlsx"
    shutil.copy(demo_dir / "baojing-2018.xlsx", path)
    book, inputs = load(path)
    ev = evaluate(inputs)
    write_report_sheet(book, build_report(inputs, ev, ev.findings))
    book.save(path)
    ws = openpyxl.load_workbook(path)[SHEET_REPORT]
    ps = ws.page_setup
    assert (ps.paperSize, ps.orientation, ps.fitToWidth, ps.fitToHeight) == (9, "portrait", 1, 0)
    assert ws.sheet_properties.pageSetUpPr.fitToPage and ws.print_title_rows == "$1:$1"
    assert ws.oddHeader.right.text is None and "&P" in ws.oddFooter.center.text
    see_below = next(c.row for c in ws["A"] if c.value == "各一级指标得分率见下图。")
    (chart,) = ws._charts
    assert chart.anchor._from.row + 1 == see_below + 1  # 图紧接在“见下图”之下（锚点行号从 0 起）
    caption = ws.cell(chart.anchor._from.row + 1 + _CHART_ROWS, 1).value
    assert caption.startswith("图1  一级指标得分率")
    widths = sum(ws.column_dimensions[c].width for c in "ABCDE")
    assert widths < 130  # 按页宽缩放后仍可读（约八成）


def test_workbooks_without_the_evidence_column_still_load(demo_dir, tmp_path):
    from workbook_templates import layout as L

    path = tmp_path / "old.xlsx"
    shutil.copy(demo_dir / "zizhou-2021.xlsx", path)
    wb = openpyxl.load_workbook(path)
    ws = wb["评分表"]
    col = L.COL["evidence"] + 1
    assert ws.cell(L.SCORE_HEADER_ROW, col).value == "评分依据/扣分说明"
    ws.delete_cols(col)
    wb.save(path)
    _, inputs = load(path)
    ev = evaluate(inputs)
    assert ev.total == D("85.1") and all(i.evidence == "" for i in ev.indicators)
    text = build_report(inputs, ev, []).as_text()
    assert "经核查，报表封皮未盖章，扣0.5分" in text  # 没有依据列时用备注
    _, inputs = load(demo_dir / "zizhou-2021.xlsx")
    assert {i.code: i.evidence for i in evaluate(inputs).indicators}["z1_4"] == "6月16日前公开，公开及时"


def test_workbooks_built_before_the_new_text_rows_become_drafts_that_say_how_to_add_them(demo_dir, tmp_path, capsys):
    """此前生成的工作簿的“文字材料”表没有“成文日期”等行：报告是草稿，终端说明在哪张表新增哪一行（代码）。"""
    from addin.cli.main import main

    path = tmp_path / "old.xlsx"
    shutil.copy(demo_dir / "shiping-2022.xlsx", path)
    wb = openpyxl.load_workbook(path)
    ws = wb["文字材料"]
    row = next(c.row for c in ws["A"] if c.value == "date")
    ws.delete_rows(row)
    wb.save(path)
    main(["report", str(path), "-o", str(tmp_path / "out.xlsx")])
    out = capsys.readouterr().out
    assert "报告为草稿" in out and "成文日期：未填写或无法识别（“文字材料”表没有这一项：新增一行，A 列填代码 date，C 列填内容）" in out


def test_problem_causes_come_from_evidence_then_text_then_adjustment_reasons():
    """存在问题的原因：文字材料优先；没有时取评分依据；两者都没有时写调整得分的理由（评价说明）。"""
    texts = dict(EXAMPLES["baojing-2018"].texts, problems="")
    report = _report("baojing-2018", texts=texts)
    paras = [b.text for b in _section(report, "绩效评价结论") if b.kind == "para"]
    assert any(p.startswith("主要表现为：预算控制率为10.12%") and p.endswith("评价说明：预算控制率10.12%，按评分标准“11–30%（含）”"
                                                                  "一档，根据评分标准和本单位实际情况按4分计算。") for p in paras)
    assert any(p.endswith("主要原因是年初预算确定之后，年中增加大量工作人员，公用经费支出随之增加。") for p in paras)


def test_key_evaluation_draft_and_weights_keep_headings_on_their_own_lines():
    """重点评价的草稿（年度目标未评分）与自评指标注明分值时：各级标题都是单独的块，没有并进段落里的“### ”。"""
    values = {k: v for k, v in EXAMPLES["zizhou-2021"].values.items() if k != "z3_1"}
    texts = dict(EXAMPLES["zizhou-2021"].texts, self_eval_indicators="在职人员控制率（5分）\n“三公经费”控制率（3分）\n重点工作任务（10分）")
    for report in (_report("zizhou-2021", values=values), _report("zizhou-2021", texts=texts)):
        assert not [b.text for b in report.blocks if "#" in b.text]
    diff = "\n".join(b.text for b in _section(_report("zizhou-2021", texts=texts), "差异分析"))
    assert "可以对应的指标中，部门三公经费控制率分值不同（自评3分，重点评价1.5分）、财政供养人员分值不同（自评5分，重点评价2分）。" \
        in diff
    draft = _report("zizhou-2021", values=values)
    assert draft.draft and "本次绩效重点评价尚未完成评分，两者的差异待评分完成后分析" in draft.as_text()


# ---------------------------------------------------------------------------------------------------------
# 项目自评报告：按二级指标成段的指标写出名称；写明“无”的文字材料与填写过的目标不重复出现
# ---------------------------------------------------------------------------------------------------------
def _project_report(name: str, **changes) -> Report:
    from workbook_templates.examples_projects import PROJECT_EXAMPLES

    ex = PROJECT_EXAMPLES[name]
    if changes:
        ex = dataclasses.replace(ex, **changes)
    inputs = layout_inputs(SYSTEMS[ex.system], ex)
    ev = evaluate(inputs)
    return build_report(inputs, ev, ev.findings)


def test_unscored_project_indicators_are_named_in_their_paragraph():
    report = _project_report("kaifu-2020-p1")
    texts = [b.text for b in report.blocks]
    unscored = [t for t in texts if t.endswith("该项指标暂未评分。")]
    assert unscored == [
        "离休干部医疗费用报销人数：评分标准尚待确定，该项指标暂未评分。",
        "1-6级伤残军人医疗费用报销人数：评分标准尚待确定，该项指标暂未评分。",
        "劳模医疗费用报销人数：评分标准尚待确定，该项指标暂未评分。",
        "机关干部子女医疗费用报销人数：评分标准尚待确定，该项指标暂未评分。",
        "保障对象正常享受公费医疗待遇：尚未取得实际完成值，该项指标暂未评分。",
        "服务对象满意度：评分标准尚待确定，该项指标暂未评分。",
    ]
    # 封顶的评分标准不写成“未达到满分标准（…最高）”
    assert not [t for t in texts if "最高）" in t or "未达到满分标准（预算执行率×分值" in t]
    # 预算执行率＝全年执行数÷全年预算数，线性计分（种子 002 附件5 的资金数）
    rate, funds, points = _p1_execution()
    assert (f"主要表现为：预算执行率为{fmt_pct(rate)}（全年执行数{f_money(funds['executed'])}万元，全年预算数"
            f"{f_money(funds['budget_full'])}万元），得{fmt_score(rate * points)}分（满分{fmt_score(points)}分）。") in texts


def _p1_execution():
    from workbook_templates.examples_projects import PROJECT_EXAMPLES
    from workbook_templates.systems import EXEC_RATE

    funds = {k: D(v) for k, v in PROJECT_EXAMPLES["kaifu-2020-p1"].table["fund_total"].items()}
    return funds["executed"] / funds["budget_full"], funds, EXEC_RATE.points


def test_written_none_and_repeated_goals_do_not_become_paragraphs():
    from workbook_templates.examples_projects import PROJECT_EXAMPLES

    report = _project_report("kaifu-2020-p1")
    texts = [b.text for b in report.blocks]
    suggestions = _section(report, "建议")
    # 文字材料“有关建议”写的是“无”，而报告已按失分指标写出建议：不再单独一段“无”
    assert PROJECT_EXAMPLES["kaifu-2020-p1"].texts["suggestions"].strip() == "无"
    rate, _, _ = _p1_execution()
    assert [b.text for b in suggestions if b.kind == "para"][-1].startswith(f"针对预算执行率{fmt_pct(rate)}的问题")
    assert "无" not in [b.text for b in suggestions]
    # 年度总体目标与文字材料“项目绩效目标”相同：只写一次
    goal = PROJECT_EXAMPLES["kaifu-2020-p1"].scalars["goal_planned"]
    assert sum(goal.rstrip("。") in t for t in texts) == 1
    # 写明“无”的存在问题不是一条问题；没有失分指标时照写原文
    ex = PROJECT_EXAMPLES["kaifu-2020-p1"]
    report = _project_report("kaifu-2020-p1", texts={**ex.texts, "problems": "无。"})
    problems = [b.text for b in _section(report, "存在的问题")]
    assert problems[0] == "（一）预算执行与支出控制不到位"
    assert not [t for t in problems if re.fullmatch(r"(?:（[一二三四五六七八九十]+）|\d+\.)?无。?", t)]
    report = _report("shiping-2022", texts={**EXAMPLES["shiping-2022"].texts, "suggestions": "无"})
    assert [b.text for b in _section(report, "有关建议")] == ["无"]
