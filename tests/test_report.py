"""报告：确定性、与审阅过的期望文本一致、每个数字可由工作簿推出、公文格式 Word、报告表、命令行。

期望文本在 tests/expected/*.txt（已对照种子 000/001/003 审阅）。模板措辞改动后用
JIXIAO_UPDATE_EXPECTED=1 python -m pytest tests/test_report.py 重写，再逐行审阅差异。
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

import openpyxl
import pytest

from addin import report as R
from addin.engine import evaluate
from addin.model import SHEET_REPORT, Formula
from addin.reader import load
from udfs.excel import BY_NAME
from udfs.numbers import fmt_num, fmt_pct, fmt_score, parse_number
from workbook_templates.build import build_workbook, layout_inputs
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


def _report(name: str, **changes) -> R.Report:
    inputs, ev = _inputs(name, **changes)
    return R.build_report(inputs, ev, ev.findings)


def _from_workbook(path: Path) -> tuple:
    _, inputs = load(path)
    ev = evaluate(inputs)
    return inputs, ev, R.build_report(inputs, ev, ev.findings)


def _section(report: R.Report, title_part: str) -> list[R.Block]:
    for title, blocks in report.sections():
        if title_part in title:
            return blocks
    raise AssertionError(f"没有包含“{title_part}”的一级标题：{[t for t, _ in report.sections()]}")


# ---------------------------------------------------------------------------------------------------------
# 过滤器
# ---------------------------------------------------------------------------------------------------------
def test_filters_own_the_rounding_and_ordinals():
    assert [R.cn_number(n) for n in (1, 4, 10, 11, 20, 21, 99)] == ["一", "四", "十", "十一", "二十", "二十一", "九十九"]
    assert (R.h1(4), R.h2(1), R.h3(2), R.h4(3)) == ("四、", "（一）", "2.", "（3）")
    assert R.f_money(D("892.35")) == "892.35" and R.f_money(1.5) == "1.50" and R.f_money(D("0.005")) == "0.01"
    assert R.f_money(D("-0.001")) == "0.00" and R.f_money(None) == "—"
    assert R.f_pct(D("39.51") / D("22.98")) == "171.93%"  # 四舍五入，不是种子的截断 171.92%
    assert R.f_pct(D("0.61") / D("1.5")) == "40.67%"  # 种子误印为 40.98%
    assert R.f_score(D("7.90")) == "7.9" and R.f_score(D("13.00")) == "13"
    env = R.make_env()
    assert env.from_string("{{ x|money }}|{{ x|pct }}|{{ 3|h2 }}").render(x=D("0.10118")) == "0.10|10.12%|（三）"
    with pytest.raises(Exception):
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
    out = {R.f_money(d), fmt_num(d), fmt_score(d), fmt_pct(d), str(d)}
    return out | {s.lstrip("-") for s in out}


def _derivable(inputs, ev, report) -> set[str]:
    """可由工作簿推出的数字的所有显示形式：输入原值、指标值、分值/得分/失分/小计/得分率/总分、规则参数、计数，
    以及单元格中文字（文字材料、评分标准、公式说明、理由、备注、指标名称）里原有的数字。"""
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
        texts += [str(i.value), i.name, i.criterion, i.formula, i.reason, i.note]
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
    from addin import derived

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
    texts += [f"{f.message} {f.cell}" for f in ev.findings]  # 校验发现的原文与单元格地址
    allowed = set().union(*(_reprs(n) for n in nums))
    for t in texts:
        allowed |= set(_NUM.findall(t or ""))
    return allowed


@pytest.mark.parametrize("name", SEEDS + ("kaifu-2020",))
def test_every_number_in_the_text_is_derivable_from_the_workbook(name):
    inputs, ev = _inputs(name)
    report = R.build_report(inputs, ev, ev.findings)
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
    report = R.build_report(inputs, ev, ev.findings)
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
    conclusion = "\n".join(b.text for b in _section(report, "绩效评价结论"))
    assert "投入绩效为13分，过程绩效为56分，产出及效率绩效为25.9分，总绩效为94.9分。评价结果等次为“优”" in conclusion
    assert "共有3项指标未得满分，合计失5.1分" in conclusion
    assert any(b.kind == "chart" for b in _section(report, "绩效评价结论"))
    notes = [b.text for b in _section(report, "需要说明事项") if b.kind == "para"]
    assert len(notes) == 3
    assert notes[1].startswith("2.关于公用经费控制率的说明：该指标按评分标准计算得0分，评价人调整为4分。调整理由：年初人员编制17人")
    assert [b.name for b in report.chart] == ["投入", "过程", "产出及效率"]
    assert [fmt_pct(b.rate) for b in report.chart] == ["100.00%", "91.80%", "99.62%"]
    assert report.title == "保靖县医疗生育保险管理服务局2018年度部门整体支出绩效评价报告"
    assert [t for t, _ in report.sections()][1:] == ["一、基本情况", "二、绩效评价", "三、部门整体支出绩效评价分析",
                                                     "四、需要说明事项", "五、绩效评价结论", "六、经验教训与建议"]
    suggestions = "\n".join(b.text for b in _section(report, "经验教训与建议"))
    assert "减少年中追加调整" in suggestions and "加强业务学习，提高预算意识" in suggestions  # 生成的建议 + 文字材料原文


def test_appendix_rows_follow_the_score_sheet():
    report = _report("baojing-2018")
    rows = [r for r in report.table if r.kind == "row"]
    assert len(rows) == 18
    by_name = {r.name: r for r in rows}
    assert (by_name["预算控制率"].value, by_name["预算控制率"].final) == ("10.12%", D("4.00"))
    assert by_name["预算控制率"].note == "计算得分3分，调整为4分"
    assert [(r.level1, r.points, r.final) for r in report.table if r.kind == "subtotal"] == [
        ("投入小计", 13, 13), ("过程小计", 61, 56), ("产出及效率小计", 26, D("25.9"))]
    assert report.table[-1].value == "优" and report.table[-2].final == D("94.9")


# ---------------------------------------------------------------------------------------------------------
# 子洲 2021（种子 001）与石屏 2022（种子 003）
# ---------------------------------------------------------------------------------------------------------
def test_zizhou_key_evaluation_structure_and_difference_analysis():
    report = _report("zizhou-2021")
    titles = [t for t, _ in report.sections()]
    assert titles[1:] == ["摘要", "一、部门基本情况", "二、评价结论", "三、评价结论与自评等级的差异分析", "四、绩效分析",
                          "五、存在问题和建议"]
    diff = "\n".join(b.text for b in _section(report, "差异分析"))
    assert "自评得分为97分（自评等级“优秀”），本次重点评价得分85.1分（等级“良好”），较自评低11.9分" in diff
    analysis = "\n".join(b.text for b in _section(report, "绩效分析"))
    assert "＝3296.75÷3642.94×100%＝90.50%，得分＝（90.50%－85.00%）÷（95.00%－85.00%）×12＝6.6分" in analysis
    assert "此项综合评价满分为24分，重点评价得分21.5分（占该项满分值的89.58%）" in analysis
    assert "经核查，报表封皮未盖章，扣0.5分，根据评分标准，该项指标得分1.5分" in analysis
    # 没有自评得分时不写差异分析，后面的章节序号前移
    scalars = {k: v for k, v in EXAMPLES["zizhou-2021"].scalars.items() if k not in ("self_score", "self_grade")}
    titles = [t for t, _ in _report("zizhou-2021", scalars=scalars).sections()]
    assert "三、绩效分析" in titles and not any("差异分析" in t for t in titles)


def test_shiping_project_report_follows_seed_003():
    report = _report("shiping-2022")
    titles = [t for t, _ in report.sections()]
    assert titles[1:] == ["一、基本情况", "二、综合评价情况及评价结论", "三、主要经验及做法", "四、存在的问题及原因分析",
                          "五、有关建议", "六、其他需要说明的问题"]
    text = report.as_text()
    assert "自评得分100分，评价等级为“优”" in text
    assert "预算执行率＝全年执行数÷（所选口径的）预算数×100%＝447704.00÷447704.00×100%＝100.00%" in text
    assert "医保信息系统故障应急响应时间：年度指标值≤60分钟，实际完成值10分钟，达到年度指标值" in text
    assert "开展DRG改革的医疗机构：年度指标值“逐步推开”，完成情况为“达成”" in text
    assert report.table_header[4:6] == ["年度指标值", "实际完成值"]


def test_project_shortfall_and_override_are_explained():
    values = dict(EXAMPLES["shiping-2022"].values, P04=D("0.81"))  # 覆盖率 81%，指标值 ≥90%
    overrides = {"P11": (4, "应急响应记录不全，评价人酌情扣1分")}
    report = _report("shiping-2022", values=values, overrides=overrides)
    text = report.as_text()
    assert "定点医药机构监督检查覆盖率：年度指标值≥90.00%，实际完成值81.00%，未达到年度指标值，得分＝81.00%÷90.00%×5＝4.5分" in text
    notes = "\n".join(b.text for b in _section(report, "其他需要说明的问题"))
    assert "关于医保信息系统故障应急响应时间的说明：该指标按评分标准计算得5分，评价人调整为4分。调整理由：应急响应记录不全" in notes
    problems = "\n".join(b.text for b in _section(report, "存在的问题"))
    assert "定点医药机构监督检查覆盖率得4.5分（满分5分），失0.5分" in problems


# ---------------------------------------------------------------------------------------------------------
# 文字材料缺失、校验发现、不完整的评分
# ---------------------------------------------------------------------------------------------------------
def test_missing_texts_become_placeholders_and_warnings(tmp_path):
    texts = {k: v for k, v in EXAMPLES["baojing-2018"].texts.items() if k not in ("duties", "lessons")}
    ex = dataclasses.replace(EXAMPLES["baojing-2018"], texts=texts)
    path = build_workbook(ex.system, tmp_path / "b.xlsx", ex)
    inputs, ev, report = _from_workbook(path)
    text = report.as_text()
    assert "【待填写：部门职责】" in text and "【待填写：经验教训】" in text
    assert [(f.code, f.severity, f.sheet, f.cell) for f in report.findings] == [
        ("missing-text", "警告", "文字材料", "C3"), ("missing-text", "警告", "文字材料", "C12")]
    assert "文字材料“部门职责”未填写" in report.findings[0].message
    assert R.text_findings(inputs) == report.findings
    assert any(b.placeholder for b in report.blocks)
    # 可选材料（补充问题、建议）缺失时不占位
    assert "【待填写：存在问题" not in text
    # 看得见：“报告”表中标黄，Word 中黄色突出显示
    import docx
    from docx.enum.text import WD_COLOR_INDEX

    book, _ = load(path)
    R.write_report_sheet(book, report)
    book.save(path)
    marked = [c for c in openpyxl.load_workbook(path)[SHEET_REPORT]["A"] if c.value and "【待填写：" in c.value]
    assert len(marked) == 2 and all(c.fill.fgColor.rgb.endswith("FFEB9C") for c in marked)
    doc = docx.Document(str(R.write_docx(report, tmp_path / "b.docx")))
    runs = [r for p in doc.paragraphs for r in p.runs if "【待填写：" in r.text]
    assert len(runs) == 2 and all(r.font.highlight_color == WD_COLOR_INDEX.YELLOW for r in runs)


def test_check_findings_and_unscored_indicators_are_problems():
    report = _report("kaifu-2020")
    inputs, ev = _inputs("kaifu-2020")
    conclusion = "\n".join(b.text for b in _section(report, "绩效评价结论"))
    # 空白不是零：上年结转和结余、楼堂馆所两项种子未给出，这三项也尚未计分（此前被当作 0 或“无项目”给了满分）
    assert "有14项指标尚未计分" in conclusion and "数据校验发现14项错误、0项警告" in conclusion
    assert "（另有6项，详见“校验结果”表）" in conclusion
    assert "“三公经费”变动率尚未计分：上年度“三公经费”预算数未填写。" in report.as_text()
    # 报告自身的 missing-text 不算作“数据校验”问题
    again = R.build_report(inputs, ev, ev.findings + report.findings)
    assert "数据校验发现14项错误、0项警告" in again.as_text()


# ---------------------------------------------------------------------------------------------------------
# 用户模板
# ---------------------------------------------------------------------------------------------------------
def test_user_templates_override_and_errors_are_chinese(tmp_path):
    inputs, ev = _inputs("baojing-2018")
    (tmp_path / "dept_0_preamble.j2").write_text("本报告由{{ unit }}编写，总分{{ total|score }}分。\n", encoding="utf-8")
    report = R.build_report(inputs, ev, [], template_dir=tmp_path)
    assert report.blocks[0].text == "本报告由保靖县医疗生育保险管理服务局编写，总分94.9分。"
    assert report.blocks[1].text == "一、基本情况"  # 其余章节仍用内置模板
    (tmp_path / "dept_0_preamble.j2").write_text("{{ no_such_field }}\n", encoding="utf-8")
    with pytest.raises(R.ReportError, match="未定义"):
        R.build_report(inputs, ev, [], template_dir=tmp_path)
    (tmp_path / "dept_0_preamble.j2").write_text("{% if %}\n", encoding="utf-8")
    with pytest.raises(R.ReportError, match="语法有误"):
        R.build_report(inputs, ev, [], template_dir=tmp_path)
    (tmp_path / "dept_0_preamble.j2").write_text("{{ text('no_such_text') }}\n", encoding="utf-8")
    with pytest.raises(R.ReportError, match="不存在的文字材料"):
        R.build_report(inputs, ev, [], template_dir=tmp_path)


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
    R.write_report_sheet(book, R.build_report(inputs, ev, ev.findings))
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
    report = R.build_report(inputs, ev, ev.findings)
    R.write_report_sheet(book, report)
    R.write_report_sheet(book, report)  # 再次生成只替换，不叠加
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
    report = R.build_report(inputs, ev, [])
    blocks = _section(report, "基本情况")
    i = next(k for k, b in enumerate(blocks) if b.text == "（一）部门职责")
    assert [b.text for b in blocks[i + 1:i + 3]] == ["职责第一行", "职责第二行。"]
    assert report.table[0].note == "备注续"  # 备注本来就并成一行
    doc = docx.Document(str(R.write_docx(report, tmp_path / "c.docx")))
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
    path = R.write_docx(report, tmp_path / "b.docx")
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
    assert R.write_docx(report, tmp_path / "b2.docx").read_bytes() == path.read_bytes()  # 确定性


def test_chart_png_without_cjk_font_uses_numbered_labels(tmp_path, monkeypatch):
    import docx

    from addin import docx_report

    report = _report("zizhou-2021")
    png, cjk = docx_report.chart_png(report.chart, font_path=None)
    assert png[:8] == b"\x89PNG\r\n\x1a\n" and cjk is False
    monkeypatch.setattr(docx_report, "find_cjk_font", lambda: None)
    doc = docx.Document(str(R.write_docx(report, tmp_path / "z.docx")))
    caption = next(p.text for p in doc.paragraphs if p.style.name == "Caption")
    assert caption == "图1  一级指标得分率（1—投入；2—过程；3—效果）"


# ---------------------------------------------------------------------------------------------------------
# PDF
# ---------------------------------------------------------------------------------------------------------
def test_pdf_without_libreoffice_gives_a_chinese_message(tmp_path, monkeypatch):
    from addin import pdf

    monkeypatch.setattr(pdf, "find_soffice", lambda: None)
    docx_path = R.write_docx(_report("shiping-2022"), tmp_path / "s.docx")
    with pytest.raises(R.ReportError, match="未找到 LibreOffice.*apt-get install"):
        R.write_pdf(docx_path, tmp_path / "s.pdf")
    assert not (tmp_path / "s.pdf").exists()


def _soffice():
    from addin.pdf import find_soffice

    return find_soffice()


def _tool_output(*cmd: str) -> str:
    return subprocess.run(list(cmd), capture_output=True, text=True, check=True, timeout=120).stdout


@pytest.mark.skipif(_soffice() is None, reason="未安装 LibreOffice（CI 不安装；apt-get install libreoffice-writer fonts-wqy-zenhei）")
def test_pdf_via_libreoffice_contains_the_chinese_text(tmp_path):
    docx_path = R.write_docx(_report("baojing-2018"), tmp_path / "b.docx")
    pdf = R.write_pdf(docx_path, tmp_path / "b.pdf")
    assert pdf.read_bytes()[:5] == b"%PDF-"
    if not shutil.which("pdftotext"):
        pytest.skip("已生成 PDF，但未安装 pdftotext（poppler-utils），无法核对其中的文字")
    compact = re.sub(r"\s+", "", _tool_output("pdftotext", str(pdf), "-"))
    assert "保靖县医疗生育保险管理服务局" in compact and "部门整体支出绩效评价报告" in compact
    assert "90.29÷892.35×100%＝10.12%" in compact and "总绩效为94.9分。评价结果等次为“优”" in compact
    assert "—1—" in compact  # 页脚页码域已计算
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
    from addin.report_cli import _all_findings

    _, inputs = load(path)
    return 1 if any(f.severity == "错误" for f in _all_findings(inputs, evaluate(inputs))) else 0


def test_cli_report_in_place_keeps_user_cells(demo_dir, tmp_path, capsys):
    from addin.cli import main

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
    from addin.cli import main

    src = tmp_path / "zizhou-2021.xlsx"
    shutil.copy(demo_dir / "zizhou-2021.xlsx", src)
    digest = hashlib.sha256(src.read_bytes()).hexdigest()
    out = tmp_path / "out.xlsx"
    assert main(["report", str(src), "-o", str(out)]) == _expected_exit(src)
    assert hashlib.sha256(src.read_bytes()).hexdigest() == digest
    assert _cells(out) == _cells(src)  # 另存的文件里，用户的单元格也逐字不变
    ws = openpyxl.load_workbook(out)[SHEET_REPORT]
    assert ws["A1"].value == "子洲县医疗保障局2021年度部门整体支出绩效重点评价报告"
    assert not any("待填写" in ln for ln in capsys.readouterr().out.splitlines())  # 子洲示例的文字材料已填全
    src = tmp_path / "kaifu-2020.xlsx"
    shutil.copy(demo_dir / "kaifu-2020.xlsx", src)
    main(["report", str(src), "-o", str(tmp_path / "k.xlsx")])
    assert ("警告：6 项文字材料未填写，报告中以“【待填写：…】”标出：部门职责（文字材料!C3）、机构设置（文字材料!C4）、"
            "绩效评价目的（文字材料!C8）、绩效评价实施过程（文字材料!C9）、"
            "绩效评价局限性（文字材料!C10）、经验教训（文字材料!C12）") in capsys.readouterr().out.splitlines()


def test_cli_report_is_the_reviewed_text_plus_check_findings(demo_dir, tmp_path):
    """jixiao report 用完整的校验结果（不只是计分引擎的发现）写“存在问题”：除校验那两段外，与审阅过的期望文本逐字
    相同；两次运行写出的“报告”表逐字相同。"""
    from addin.cli import main
    from addin.report_cli import _all_findings

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
    report = R.build_report(inputs, ev, _all_findings(inputs, ev))
    column_a = [row[0] for row in sheets[0] if row and row[0] is not None]
    body = [b.text for b in report.blocks if b.kind != "chart"]
    it = iter(column_a)
    assert all(any(v == t for v in it) for t in body), "“报告”表 A 列应依次包含正文各段"
    check_lines = [ln for ln in report.as_text().splitlines() if "数据校验发现" in ln]
    assert len(check_lines) == 2 and "40.98%" in check_lines[0] and "171.92%" in check_lines[0]  # 种子笔误进入“存在问题”
    assert check_lines[1] == "4.对数据校验发现的问题逐项核实更正，确保基础数据表、评分表与报告中的数字一致。"
    rest = [ln for ln in report.as_text().splitlines() if ln not in check_lines]
    assert rest == (EXPECTED / "baojing-2018.txt").read_text(encoding="utf-8").splitlines()


def test_cli_report_pdf_warns_when_no_chinese_font(demo_dir, tmp_path, capsys, monkeypatch):
    from addin import docx_report, pdf
    from addin.cli import main

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
    from addin import pdf
    from addin.cli import main

    path = tmp_path / "kaifu-2020.xlsx"
    shutil.copy(demo_dir / "kaifu-2020.xlsx", path)
    assert main(["report", str(path)]) == 1  # 11 项无法计分：报告照常生成，退出码 1
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


def test_demo_hook_writes_reports_next_to_the_workbooks(tmp_path, capsys):
    from addin.report_cli import demo_hook

    for name in ("baojing-2018", "kaifu-2020"):
        ex = EXAMPLES[name]
        build_workbook(ex.system, tmp_path / f"{name}.xlsx", ex)
    demo_hook(tmp_path)
    out = capsys.readouterr().out.splitlines()
    assert len(out) == 2 and out[0].endswith("保靖县医疗生育保险管理服务局2018年度部门整体支出绩效评价报告")
    assert "6 处待填写" in out[1]
    assert (tmp_path / "baojing-2018.docx").is_file() and (tmp_path / "kaifu-2020.docx").is_file()
    assert not list(tmp_path.glob("*.bak.xlsx"))
    assert SHEET_REPORT in openpyxl.load_workbook(tmp_path / "kaifu-2020.xlsx").sheetnames


def test_formula_valued_text_cells_use_their_cached_result(tmp_path):
    inputs, ev = _inputs("baojing-2018")
    inputs.texts["duties"] = Formula("='基础数据表'!C5", "由公式得到的职责文字")
    report = R.build_report(inputs, ev, [])
    assert "由公式得到的职责文字" in report.as_text()
    inputs.texts["duties"] = Formula("='基础数据表'!C5", None)
    assert "【待填写：部门职责】" in R.build_report(inputs, ev, []).as_text()
