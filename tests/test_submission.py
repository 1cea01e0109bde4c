"""报送材料（issue 18）：项目工作簿归属部门、部门与项目之间的校验、jixiao package 的 Word（表格逐格对照工作簿）、
jixiao check --projects、功能区按钮“生成报送材料”、demo 的开福区项目工作簿。

期望值一律由 openpyxl 从工作簿单元格独立读出（或按财预〔2020〕10号 的公式独立算出），不抄程序的输出。
"""
from __future__ import annotations

import dataclasses
import re
import sys
import zipfile
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path

import docx
import openpyxl
import pytest

from addin.checks import findings as F
from addin.cli.main import main
from addin.excel import ribbon
from addin.io.xlbook import XlwingsBook
from addin.submission import cross, package, workbooks
from addin.submission.workbooks import item_name
from addin.template.workbook import build_workbook
from workbook_templates.examples import BAOJING_2018, EXAMPLES, SHIPING_2022
from workbook_templates.examples_projects import PROJECT_EXAMPLES

sys.path.insert(0, str(Path(__file__).parent))
from fake_xlwings import FakeApp, FakeBook  # noqa: E402

KAIFU = ("kaifu-2020", "kaifu-2020-p1", "kaifu-2020-p2", "kaifu-2020-p3")
BAOJING_UNIT = "保靖县医疗生育保险管理服务局"


def _cli(capsys, *argv) -> tuple[int, str, str]:
    code = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    assert "Traceback" not in out + err
    return code, out, err


@pytest.fixture(scope="module")
def kaifu_dir(tmp_path_factory) -> Path:
    """开福区：部门工作簿（种子 002 附件3）与三个项目工作簿（附件5），与 jixiao demo 写出的相同。"""
    d = tmp_path_factory.mktemp("kaifu")
    build_workbook("hunan-dept", d / "kaifu-2020.xlsx", EXAMPLES["kaifu-2020"])
    for name, ex in PROJECT_EXAMPLES.items():
        build_workbook(ex.system, d / f"{name}.xlsx", ex)
    return d


# ---------------------------------------------------------------------------------------------------------
# 一个评价完成、部门与项目数字相符的部门：保靖 2018（94.9 优）列出两个项目；项目按石屏 2022 的自评表（100 分）改写
# ---------------------------------------------------------------------------------------------------------
def _dept(**project_rows) -> object:
    table = dict(BAOJING_2018.table)
    table.update({"project": {"final": 450}, "project_work": {"final": 50}, "project_special": {"final": 400}})
    labels = {}
    for k, (label, final) in enumerate(project_rows.values(), 1):
        table[f"project_item{k}"] = {"final": final}
        labels[f"project_item{k}"] = f"      其中：项目{k}（{label}）" if k == 1 else f"      项目{k}（{label}）"
    return dataclasses.replace(BAOJING_2018, name="dept", table=table, table_labels=labels)


def _project(name: str, executed, *, unit: str = "万元", unit_name: str = BAOJING_UNIT, year: str = "2018",
             budget=None) -> object:
    budget = executed if budget is None else budget
    funds = {"budget_initial": budget, "budget_full": budget, "executed": executed}
    return dataclasses.replace(
        SHIPING_2022, name=name,
        scalars={**SHIPING_2022.scalars, "project_name": name, "unit_name": unit_name, "department": BAOJING_UNIT,
                 "year": year, "money_unit": unit},
        table={"fund_total": dict(funds), "fund_fiscal": dict(funds),
               "fund_carry": {"budget_initial": 0, "budget_full": 0, "executed": 0},
               "fund_other": {"budget_initial": 0, "budget_full": 0, "executed": 0}})


def _write(d: Path, file: str, ex) -> Path:
    p = d / file
    build_workbook(ex.system, p, ex)
    return p


@pytest.fixture()
def clean(tmp_path) -> tuple[Path, list[Path]]:
    """部门项目支出 450 ＝ 业务工作经费 50 ＋ 经办能力建设 300 ＋ 信息化建设 100（项目工作簿按元填写：1000000 元）。"""
    dept = _write(tmp_path, "dept.xlsx", _dept(a=("医保经办能力建设", 300), b=("医保信息化建设", 100)))
    pa = _write(tmp_path, "p-a.xlsx", _project("医保经办能力建设", 300))
    pb = _write(tmp_path, "p-b.xlsx", _project("医保信息化建设", 1000000, unit="元"))
    return dept, [pa, pb]


def _package(dept: Path, projects: list[Path] | None = None):
    d = workbooks.open_department(dept)
    ps = [workbooks.open_project(p) for p in projects] if projects is not None else workbooks.discover(d)[0]
    return package.build_package(d, ps)


def _codes(findings) -> list[str]:
    return [f.code for f in findings]


# ---------------------------------------------------------------------------------------------------------
# 名称与对应
# ---------------------------------------------------------------------------------------------------------
def test_project_row_labels_name_their_projects():
    assert item_name("      其中：项目1（公费医疗）") == "公费医疗"
    assert item_name("项目2: 医疗救助") == "医疗救助"
    assert item_name("      项目3(特困企业退休职工基本医疗)") == "特困企业退休职工基本医疗"
    assert item_name("      项目4") == ""
    assert item_name("      其他只造预算项目（城乡居民医保区级配套补助）") == "其他只造预算项目（城乡居民医保区级配套补助）"


def test_kaifu_projects_are_found_beside_the_department_and_matched_by_name(kaifu_dir, tmp_path):
    dept = workbooks.open_department(kaifu_dir / "kaifu-2020.xlsx")
    found, notes = workbooks.discover(dept)
    assert [p.file for p in found] == ["kaifu-2020-p1.xlsx", "kaifu-2020-p2.xlsx", "kaifu-2020-p3.xlsx"] and not notes
    pairing = cross.pair(dept, list(reversed(found)))
    # 附件按部门基础数据表中项目行的顺序，不按给出的顺序
    assert [p.name for p in pairing.projects] == ["公费医疗", "医疗救助", "特困企业退休职工基本医疗保险"]
    assert [pairing.row(p).key for p in pairing.projects] == ["project_item1", "project_item2", "project_item3"]
    # 项目3 部门写“特困企业退休职工基本医疗”，项目工作簿写“…基本医疗保险”：按包含关系对应，并提示统一名称
    assert [p.name for p in pairing.projects if id(p) in pairing.loose] == ["特困企业退休职工基本医疗保险"]
    # 只造预算、没有自评表的项目
    assert [r.name for r in pairing.rows_without] == ["其他只造预算项目（城乡居民医保区级配套补助）"]
    # 别的单位的项目工作簿不算本部门的
    build_workbook("project", tmp_path / "shiping.xlsx", SHIPING_2022)
    build_workbook("hunan-dept", tmp_path / "kaifu-2020.xlsx", EXAMPLES["kaifu-2020"])
    assert workbooks.discover(workbooks.open_department(tmp_path / "kaifu-2020.xlsx"))[0] == []


# ---------------------------------------------------------------------------------------------------------
# 部门与项目之间的校验
# ---------------------------------------------------------------------------------------------------------
def test_matching_department_and_projects_give_no_cross_errors(clean):
    dept, projects = clean
    pkg = _package(dept, projects)
    assert pkg.findings == [] and not pkg.draft and pkg.status == "定稿"


def test_project_funds_that_differ_beyond_the_written_precision_are_an_error_naming_both_cells(tmp_path):
    dept = _write(tmp_path, "dept.xlsx", _dept(a=("医保经办能力建设", 300), b=("医保信息化建设", 100)))
    pa = _write(tmp_path, "p-a.xlsx", _project("医保经办能力建设", 305))
    pb = _write(tmp_path, "p-b.xlsx", _project("医保信息化建设", 100))
    pkg = _package(dept, [pa, pb])
    ws = openpyxl.load_workbook(dept)["基础数据表"]
    cell = {ws.cell(r, 1).value: r for r in range(1, ws.max_row + 1)}
    pws = openpyxl.load_workbook(pa)["基础数据表"]
    prow = next(r for r in range(1, pws.max_row + 1) if pws.cell(r, 1).value == "fund_total")
    errors = {f.code: f for f in pkg.errors}
    assert set(errors) == {"project-funds-mismatch", "project-total-mismatch"}
    row = errors["project-funds-mismatch"]
    # 部门的单元格（本年决算数列 F）是发现的位置；说明里同时写出项目工作簿的单元格（全年执行数列 E）与文件名
    assert (row.sheet, row.cell) == ("基础数据表", f"F{cell['project_item1']}")
    assert f"基础数据表 F{cell['project_item1']}" in row.message and f"p-a.xlsx 基础数据表 E{prow}" in row.message
    assert "相差 5 万元" in row.message and (row.expected, row.actual) == (Decimal(305), Decimal(300))
    total = errors["project-total-mismatch"]
    assert (total.sheet, total.cell) == ("基础数据表", f"F{cell['project']}")
    assert f"p-a.xlsx 基础数据表 E{prow}" in total.message and f"基础数据表 F{cell['project_work']}" in total.message
    assert total.expected == Decimal(50 + 305 + 100) and total.actual == Decimal(450)
    assert pkg.draft  # 部门与项目之间有错误：报送材料是草稿


def test_differences_within_the_written_precision_are_only_a_warning(tmp_path):
    """300 与 300.4：整数 300 可能是 299.5～300.5 取整而来，差额 0.4 在 0.5＋0.05 之内。"""
    dept = _write(tmp_path, "dept.xlsx", _dept(a=("医保经办能力建设", 300), b=("医保信息化建设", 100)))
    pa = _write(tmp_path, "p-a.xlsx", _project("医保经办能力建设", Decimal("300.4")))
    pb = _write(tmp_path, "p-b.xlsx", _project("医保信息化建设", 100))
    pkg = _package(dept, [pa, pb])
    assert pkg.errors == []
    assert sorted(_codes(pkg.findings)) == ["project-funds-rounding-gap", "project-total-rounding-gap"]
    assert all(f.severity == F.WARNING for f in pkg.findings) and not pkg.draft


def test_yuan_projects_are_converted_to_the_departments_wan_yuan(tmp_path):
    dept = _write(tmp_path, "dept.xlsx", _dept(a=("医保经办能力建设", 300), b=("医保信息化建设", 100)))
    pa = _write(tmp_path, "p-a.xlsx", _project("医保经办能力建设", 300))
    pb = _write(tmp_path, "p-b.xlsx", _project("医保信息化建设", 1010000, unit="元"))  # 101 万元
    errors = _package(dept, [pa, pb]).errors
    row = next(f for f in errors if f.code == "project-funds-mismatch")
    assert "1010000（元，按 1 万元＝10000 元换算）" in row.message and "相差 1 万元" in row.message


def test_unit_year_duplicate_unlisted_and_missing_projects(tmp_path):
    dept = _write(tmp_path, "dept.xlsx", _dept(a=("医保经办能力建设", 300), b=("医保信息化建设", 100)))
    pa = _write(tmp_path, "p-a.xlsx", _project("医保经办能力建设", 300))
    again = _write(tmp_path, "p-a2.xlsx", _project("医保经办能力建设", 300))
    other = _write(tmp_path, "other.xlsx", _project("医保宣传", 20, unit_name="别的单位", year="2019"))
    other_wb = openpyxl.load_workbook(other)
    ws = other_wb["基础数据表"]
    dep_row = next(r for r in range(1, ws.max_row + 1) if ws.cell(r, 1).value == "department")
    ws.cell(dep_row, 3).value = "别的主管部门"
    other_wb.save(other)
    pkg = _package(dept, [pa, again, other])
    by_code = {f.code: f for f in pkg.findings}
    assert by_code["project-duplicate"].severity == F.ERROR and "p-a.xlsx" in by_code["project-duplicate"].message
    assert "p-a2.xlsx" in by_code["project-duplicate"].message
    unit = by_code["project-unit-mismatch"]
    assert unit.sheet == "[other.xlsx]基础数据表" and BAOJING_UNIT in unit.message and "别的主管部门" in unit.message
    assert by_code["project-year-mismatch"].severity == F.ERROR and "2019" in by_code["project-year-mismatch"].message
    assert by_code["project-not-listed"].severity == F.WARNING and "医保宣传" in by_code["project-not-listed"].message
    missing = by_code["project-workbook-missing"]
    assert missing.severity == F.WARNING and "医保信息化建设" in missing.message
    # 重复的那份不进报送材料，也不计入合计
    assert [p.workbook.file for p in pkg.projects] == ["p-a.xlsx", "other.xlsx"]
    # 草稿说明是评价人的说法：不写单元格与文件名
    note = "\n".join(b.text for b in pkg.draft_blocks)
    assert "医保经办能力建设" in note and "两份自评表" in note and "!" not in note and ".xlsx" not in note


def test_project_without_a_name_is_an_error_naming_its_cell(tmp_path):
    dept = _write(tmp_path, "dept.xlsx", _dept(a=("医保经办能力建设", 300), b=("医保信息化建设", 100)))
    nameless = _write(tmp_path, "nameless.xlsx", _project("", 300))
    pkg = _package(dept, [nameless])
    f = next(f for f in pkg.findings if f.code == "project-name-missing")
    ws = openpyxl.load_workbook(nameless)["基础数据表"]
    row = next(r for r in range(1, ws.max_row + 1) if ws.cell(r, 1).value == "project_name")
    assert f.severity == F.ERROR and f.sheet == "[nameless.xlsx]基础数据表" and f.cell == f"C{row}"
    assert "nameless.xlsx" in f.message and pkg.draft


def test_incomplete_projects_make_the_package_a_draft(kaifu_dir):
    pkg = _package(kaifu_dir / "kaifu-2020.xlsx")
    incomplete = [f for f in pkg.errors if f.code == "project-incomplete"]
    assert [f.sheet for f in incomplete] == [f"[{n}.xlsx]评分表" for n in KAIFU[1:]]
    for f, part in zip(incomplete, pkg.projects, strict=True):
        assert f"{len(part.workbook.ev.missing)} 项指标无法计分" in f.message
    assert pkg.draft and pkg.report.draft and all(p.report.draft for p in pkg.projects)


def test_kaifu_cross_checks_find_the_seeds_differences(kaifu_dir):
    """种子 002：公费医疗 部门表 620/620，项目资金表 安排626（其中其他来源6）、实际使用588。医疗救助、特困两项相符。"""
    pkg = _package(kaifu_dir / "kaifu-2020.xlsx")
    rows = [f for f in pkg.findings if f.code == "project-funds-mismatch"]
    d = openpyxl.load_workbook(kaifu_dir / "kaifu-2020.xlsx")["基础数据表"]
    r1 = next(r for r in range(1, d.max_row + 1) if d.cell(r, 1).value == "project_item1")
    assert [(f.cell, f.actual, f.expected) for f in rows] == [(f"E{r1}", d.cell(r1, 5).value, 626),
                                                             (f"F{r1}", d.cell(r1, 6).value, 588)]
    loose = [f for f in pkg.findings if f.code == "project-name-loose-match"]
    assert len(loose) == 1 and "特困企业退休职工基本医疗保险" in loose[0].message


# ---------------------------------------------------------------------------------------------------------
# jixiao package：开福区（验收命令）
# ---------------------------------------------------------------------------------------------------------
def _logical(row) -> list[str]:
    """一行的逻辑单元格（横向合并的格只算一次）。"""
    out, last = [], None
    for c in row.cells:
        if c._tc is last:
            continue
        last = c._tc
        out.append(c.text)
    return out


def _shown(v) -> str:
    """单元格在附件表中应有的写法（独立于程序）：数字照所填，文字照原文。"""
    if v is None:
        return ""
    if isinstance(v, float):
        return str(int(v)) if v.is_integer() else repr(v)
    return " ".join(str(v).split())


def _rate(num, den) -> str:
    return f"{(Decimal(str(num)) / Decimal(str(den)) * 100).quantize(Decimal('0.01'), ROUND_HALF_UP)}%"


def _score(v) -> str:
    if not isinstance(v, (int, float)):
        return "—"
    d = Decimal(str(v)).quantize(Decimal("0.01"), ROUND_HALF_UP)
    return format(d.normalize(), "f") if d != d.to_integral_value() else str(int(d))


def _rows_by_code(ws) -> dict[str, int]:
    return {ws.cell(r, 1).value: r for r in range(1, ws.max_row + 1) if isinstance(ws.cell(r, 1).value, str)}


def _header_cols(ws) -> dict[str, int]:
    hr = next(r for r in range(1, 10) if ws.cell(r, 1).value == "代码")
    return {ws.cell(hr, c).value: c for c in range(1, ws.max_column + 1) if ws.cell(hr, c).value}


@pytest.fixture(scope="module")
def kaifu_package(kaifu_dir, tmp_path_factory):
    out = tmp_path_factory.mktemp("pkg") / "开福.docx"
    argv = [str(kaifu_dir / f"{n}.xlsx") for n in KAIFU]
    code = main(["package", *argv, "-o", str(out)])
    return code, out


def test_package_command_writes_one_docx_with_project_annexes_and_rates(kaifu_package, kaifu_dir, capsys):
    code, out = kaifu_package
    assert code == 1 and out.is_file()  # 有错误（评价未完成、部门与项目不符）：已生成，退出码 1
    paras = [p.text for p in docx.Document(str(out)).paragraphs]
    # 三个项目的名称在“附件N”之下的标题里，附件说明列出全部五个附件
    for k, name in enumerate(KAIFU[1:], 3):
        project = openpyxl.load_workbook(kaifu_dir / f"{name}.xlsx")["基础数据表"]
        pname = project.cell(_rows_by_code(project)["project_name"], 3).value
        i = paras.index(f"附件{k}")
        assert pname in paras[i + 1] and paras[i + 1].endswith("支出绩效自评表")
        note = next(p for p in paras if re.match(rf"^(附件：)?{k}\. ", p))
        assert note.endswith(paras[i + 1])
    # 部门报告“部门项目实施情况”逐项写出执行率，由项目工作簿的全年执行数÷全年预算数独立算出
    start = paras.index("（四）部门项目实施情况")
    section = paras[start + 1:paras.index("二、绩效评价")]
    for name in KAIFU[1:]:
        ws = openpyxl.load_workbook(kaifu_dir / f"{name}.xlsx")["基础数据表"]
        rows = _rows_by_code(ws)
        pname = ws.cell(rows["project_name"], 3).value
        rate = _rate(ws.cell(rows["fund_total"], 5).value, ws.cell(rows["fund_total"], 4).value)
        line = next(p for p in section if p.split("：")[0].split(".", 1)[-1] == pname)
        assert f"预算执行率{rate}" in line and "尚有" in line and "自评得分" not in line.split("；")[0]
    assert any(p.startswith("附件：1. ") for p in paras)


def test_package_tables_match_the_workbooks_cell_by_cell(kaifu_package, kaifu_dir):
    _, out = kaifu_package
    tables = docx.Document(str(out)).tables
    assert len(tables) == 3 + 3  # 基础数据表、补充数据、评分表，三个项目的自评表
    # ---- 附件1：基础数据表，经费情况每一格与部门工作簿相同 ----
    ws = openpyxl.load_workbook(kaifu_dir / "kaifu-2020.xlsx")["基础数据表"]
    expected = []
    for r in range(1, ws.max_row + 1):
        code = ws.cell(r, 1).value
        if not isinstance(code, str) or code not in {t.key for t in workbooks.SYSTEMS["hunan-dept"].table_rows}:
            continue
        cells = [_shown(ws.cell(r, c).value) for c in range(3, 7)]
        label = str(ws.cell(r, 2).value).rstrip()
        if code.startswith("project_item") and not item_name(label) and not any(cells):
            continue
        expected.append([label] + cells + [_shown(ws.cell(r, 7).value)])
    got = [_logical(row) for row in tables[0].rows]
    assert got[0] == ["项目", "上年决算数", "本年年初预算数", "本年调整预算数", "本年决算数", "备注"]
    assert got[1:] == expected and ["支出合计", "1536", "3691", "3951", "3745（2177）"] == got[1][:5]
    # 补充数据：数字型的每一项
    scal = [_logical(row) for row in tables[1].rows][1:]
    by_label = {ws.cell(r, 2).value: ws.cell(r, 3).value for r in range(1, ws.max_row + 1)}
    for label, value, _unit in scal:
        assert value == _shown(by_label[label]), label
    # ---- 附件2：评分表，每个指标的名称、分值与得分 ----
    sc = openpyxl.load_workbook(kaifu_dir / "kaifu-2020.xlsx", data_only=True)["评分表"]
    col = _header_cols(sc)
    want = [(sc.cell(r, col["三级指标"]).value, _shown(sc.cell(r, col["分值"]).value), _score(sc.cell(r, col["得分"]).value))
            for r in range(1, sc.max_row + 1)
            if sc.cell(r, 1).value != "代码" and sc.cell(r, col["规则类型"]).value and sc.cell(r, col["三级指标"]).value]
    got2 = [(c[2], c[3], c[5]) for c in (_logical(row) for row in tables[2].rows[1:]) if len(c) == 7 and c[2]]
    assert got2 == want and len(want) == 18
    # ---- 附件3–5：10号 自评表 ----
    for t, name in zip(tables[3:], KAIFU[1:], strict=True):
        path = kaifu_dir / f"{name}.xlsx"
        data = openpyxl.load_workbook(path)["基础数据表"]
        rows = _rows_by_code(data)
        rows_got = [_logical(row) for row in t.rows]
        assert rows_got[0][1] == data.cell(rows["project_name"], 3).value
        assert rows_got[1][1:] == [data.cell(rows["department"], 3).value, "实施单位", data.cell(rows["unit_name"], 3).value]
        assert rows_got[2][1:6] == ["", "年初预算数", "全年预算数", "全年执行数", "分值"]
        for k, key in enumerate(("fund_total", "fund_fiscal", "fund_carry", "fund_other")):
            r = rows[key]
            assert rows_got[3 + k][1:5] == [str(data.cell(r, 2).value).strip()] + [_shown(data.cell(r, c).value)
                                                                                for c in (3, 4, 5)]
        sc = openpyxl.load_workbook(path, data_only=True)["评分表"]
        col = _header_cols(sc)
        srows = _rows_by_code(sc)
        ex = srows["exec_rate"]
        ft = rows["fund_total"]
        assert rows_got[3][5:] == [_shown(sc.cell(ex, col["分值"]).value),
                                   _rate(data.cell(ft, 5).value, data.cell(ft, 4).value), _score(sc.cell(ex, col["得分"]).value)]
        assert rows_got[7][1:] == ["预期目标", "实际完成情况"]
        assert rows_got[8][1:] == [data.cell(rows["goal_planned"], 3).value, data.cell(rows["goal_actual"], 3).value]
        indicators = [r for code, r in srows.items() if re.fullmatch(r"P\d\d", code)]
        got3 = rows_got[10:10 + len(indicators)]
        for r, cells in zip(indicators, got3, strict=True):
            assert cells[3] == sc.cell(r, col["三级指标"]).value
            assert cells[6] == _shown(sc.cell(r, col["分值"]).value) and cells[7] == _score(sc.cell(r, col["得分"]).value)
            typed = sc.cell(r, col["实际值"]).value
            if typed is not None:  # 评价人填写的实际完成值照样写在表里（百分数按比率写）
                shown = f"{Decimal(str(typed)) * 100:.2f}%" if sc.cell(r, col["单位"]).value == "%" else _shown(typed)
                assert cells[5].startswith(shown), (cells, typed)
            target = sc.cell(r, col["指标值"]).value
            assert cells[4] == "" if target is None else str(target) in cells[4]
        total = rows_got[10 + len(indicators)]
        assert total[0] == "总分" and total[1] == "100" and total[2] == "—"


def test_package_word_speaks_as_the_evaluator_and_is_a_draft(kaifu_package):
    _, out = kaifu_package
    d = docx.Document(str(out))
    text = "\n".join([p.text for p in d.paragraphs] + [c.text for t in d.tables for r in t.rows for c in r.cells])
    for word in ("校验", "单元格", "工作表", "±", "种子", "请补齐", "重新生成", "待填写", "““", "””", "评分表!", "模板",
                 "jixiao", ".xlsx"):
        assert word not in text, word
    assert not re.search(r"[\u4e00-\u9fff\]]+!\$?[A-Z]{1,3}\$?\d+", text)
    # “基础数据表”只作为附件1 的名称出现（种子 004 的附件名）
    assert {m for m in re.findall(r"[^\n]{0,30}基础数据表", text) if not m.endswith("部门整体支出绩效评价基础数据表")} == set()
    with zipfile.ZipFile(out) as z:
        headers = [z.read(n).decode() for n in z.namelist() if n.startswith("word/header")]
        body = z.read("word/document.xml").decode()
        settings = z.read("word/settings.xml").decode()
    assert headers and all("草稿" in h for h in headers)
    # 分节：部门（纵向）＋ 每个项目一节横向自评表、一节纵向自评报告；后面各节沿用第一节的页眉页脚（无引用），页码不重新起算
    sects = re.findall(r"<w:sectPr.*?</w:sectPr>", body, re.S)
    assert len(sects) == 1 + 2 * 3
    assert "w:headerReference" in sects[0] and "w:footerReference" in sects[0]
    assert all("w:headerReference" not in s and "w:footerReference" not in s for s in sects[1:])
    assert not re.search(r"<w:pgNumType[^>]*w:start", body) and "w:evenAndOddHeaders" in settings
    orient = ["landscape" if 'w:orient="landscape"' in s else "portrait" for s in sects]
    assert orient == ["portrait"] + ["landscape", "portrait"] * 3
    for s in sects[1::2]:  # 横向：A4 横放，版心 225 mm 宽
        assert re.search(r'w:w="16838"', s) and re.search(r'w:h="11906"', s)


def test_package_is_reproducible_and_refuses_to_overwrite_an_input(kaifu_dir, tmp_path, capsys):
    a, b = tmp_path / "a.docx", tmp_path / "b.docx"
    argv = [kaifu_dir / f"{n}.xlsx" for n in KAIFU]
    assert _cli(capsys, "package", *argv, "-o", a)[0] == 1
    assert _cli(capsys, "package", *argv, "-o", b)[0] == 1
    assert a.read_bytes() == b.read_bytes()
    code, _, err = _cli(capsys, "package", *argv, "-o", kaifu_dir / "kaifu-2020.xlsx")
    assert code == 2 and "docx" in err
    code, _, err = _cli(capsys, "package", kaifu_dir / "kaifu-2020-p1.xlsx")
    assert code == 2 and "不是部门整体支出绩效自评工作簿" in err
    code, _, err = _cli(capsys, "package", argv[0], kaifu_dir / "无此文件.xlsx", "-o", tmp_path / "x.docx")
    assert code == 2 and "无此文件.xlsx" in err and not (tmp_path / "x.docx").exists()


def test_package_without_project_list_takes_the_projects_beside_the_department(kaifu_dir, tmp_path, capsys):
    out = tmp_path / "默认.docx"
    code, text, _ = _cli(capsys, "package", kaifu_dir / "kaifu-2020.xlsx", "-o", out)
    assert code == 1 and out.is_file()
    assert [ln.split("（")[1].split("）")[0] for ln in text.splitlines() if ln.startswith("  附件3") or
            ln.startswith("  附件4") or ln.startswith("  附件5")] == ["kaifu-2020-p1.xlsx", "kaifu-2020-p2.xlsx",
                                                                       "kaifu-2020-p3.xlsx"]
    # 终端列出尚缺的内容与单元格（部门与各项目，项目前写文件名）
    assert "报送材料为草稿" in text and "项目“公费医疗”（kaifu-2020-p1.xlsx）：" in text and "（评分表!" in text


def test_complete_package_is_final(clean, tmp_path, capsys):
    dept, projects = clean
    out = tmp_path / "定稿.docx"
    code, text, _ = _cli(capsys, "package", dept, *projects, "-o", out)
    assert code == 0 and "报送材料为定稿" in text
    d = docx.Document(str(out))
    paras = [p.text for p in d.paragraphs]
    with zipfile.ZipFile(out) as z:
        assert not [n for n in z.namelist() if n.startswith("word/header") and "草稿" in z.read(n).decode()]
    section = paras[paras.index("（四）部门项目实施情况") + 1:]
    # 项目评价完成：写出自评得分与等级（取自项目工作簿的总分与等级单元格）
    for p in projects:
        sc = openpyxl.load_workbook(p, data_only=True)["评分表"]
        rows = _rows_by_code(sc)
        total = sc.cell(rows["总分"], _header_cols(sc)["得分"]).value
        grade = sc.cell(rows["等级"], _header_cols(sc)["得分"]).value
        assert any(f"自评得分{_score(total)}分，评价等级为“{grade}”" in s for s in section[:4])
    # 元填写的项目，概况按部门的万元写
    assert any("全年执行数100.00万元" in s for s in section[:4])


def test_package_pdf_pages_are_numbered_straight_through_and_the_self_evaluation_tables_are_landscape(clean, tmp_path,
                                                                                                    capsys):
    """LibreOffice 把报送材料转成 PDF（CI 安装 LibreOffice 与 poppler-utils）：第 k 页的页码是 k，附件3、附件4 的自评表页是横向，
    其后的自评报告回到纵向。"""
    import subprocess

    dept, projects = clean
    pdf = tmp_path / "定稿.pdf"
    code, _, err = _cli(capsys, "package", dept, *projects, "-o", tmp_path / "定稿.docx", "--pdf", pdf)
    assert code == 0 and pdf.read_bytes()[:5] == b"%PDF-", err
    info = subprocess.run(["pdfinfo", "-f", "1", "-l", "999", str(pdf)], capture_output=True, text=True, check=True).stdout
    sizes = [tuple(float(x) for x in m) for m in re.findall(r"Page\s+\d+ size:\s+([\d.]+) x ([\d.]+)", info)]
    assert len(sizes) > 6
    landscape_pages = []
    for k, (w, h) in enumerate(sizes, 1):
        text = subprocess.run(["pdftotext", "-f", str(k), "-l", str(k), str(pdf), "-"], capture_output=True, text=True,
                              check=True).stdout
        assert re.search(rf"—\s*{k}\s*—", text), (k, text[-200:])
        if w > h:
            landscape_pages.append(k)
            assert "指标" in text and "绩效自评报告" not in text, text[:200]  # 自评表的页（表可以跨页），不是自评报告
        for label in ("附件3", "附件4"):
            if re.search(rf"^{label}\s*$", text, re.M):
                assert w > h, (label, k)
    assert landscape_pages and sizes[-1][0] < sizes[-1][1]  # 最后一页（自评报告）是纵向


# ---------------------------------------------------------------------------------------------------------
# jixiao check --projects
# ---------------------------------------------------------------------------------------------------------
def test_check_with_projects_adds_cross_workbook_findings(kaifu_dir, clean, capsys):
    import json

    dept, projects = clean
    assert _cli(capsys, "check", dept, "--projects", *projects)[0] == 0
    code, out, _ = _cli(capsys, "check", "--json", kaifu_dir / "kaifu-2020.xlsx", "--projects")
    data = json.loads(out)
    codes = {f["code"] for f in data["findings"]}
    assert code == 1 and {"project-funds-mismatch", "project-total-mismatch", "project-incomplete"} <= codes
    # 项目工作簿的单元格写作“[文件名]工作表”
    assert any(f["sheet"] == "[kaifu-2020-p1.xlsx]评分表" for f in data["findings"])
    # 不加 --projects 时照旧只校验这一个工作簿
    _, plain, _ = _cli(capsys, "check", "--json", kaifu_dir / "kaifu-2020.xlsx")
    assert not {f["code"] for f in json.loads(plain)["findings"]} & {c for c in F.CATALOGUE if c.startswith("project-")}
    code, _, err = _cli(capsys, "check", dept, kaifu_dir / "kaifu-2020.xlsx", "--projects", *projects)
    assert code == 2 and "只能校验一个部门工作簿" in err


def test_every_project_code_is_in_the_catalogue_and_the_readme():
    root = Path(__file__).resolve().parents[1]
    readme = "\n".join(p.read_text(encoding="utf-8") for p in [root / "README.md", *sorted((root / "docs").glob("*.md"))])
    codes = [c for c in F.CATALOGUE if c.startswith("project-")]
    assert len(codes) == 12
    for c in codes:
        assert f"`{c}`" in readme, c
    for cmd in ("jixiao package DEPT.xlsx", "jixiao check DEPT.xlsx --projects", "kaifu-2020-p1.xlsx", "生成报送材料"):
        assert cmd in readme, cmd
    assert "| `package` |" in readme


# ---------------------------------------------------------------------------------------------------------
# Excel：功能区按钮“生成报送材料”
# ---------------------------------------------------------------------------------------------------------
def test_ribbon_button_lists_the_projects_and_writes_the_package_beside_the_workbook(kaifu_dir, kaifu_package,
                                                                                    tmp_path, monkeypatch):
    import shutil

    for n in KAIFU:
        shutil.copyfile(kaifu_dir / f"{n}.xlsx", tmp_path / f"{n}.xlsx")
    app = FakeApp()
    book = FakeBook.from_xlsx(tmp_path / "kaifu-2020.xlsx", app)
    monkeypatch.setattr(ribbon, "caller_book", lambda: XlwingsBook(book))
    monkeypatch.setattr(ribbon, "log_path", lambda: tmp_path / "jixiao-ribbon.log")
    before = {s.name: dict(s.cells) for s in book.sheets}
    outcome = ribbon.package()
    ask, told = app.alerts[-2], app.alerts[-1]
    assert ask["buttons"] == "ok_cancel" and ask["title"] == "绩效评价 - 生成报送材料"
    for n in KAIFU[1:]:
        assert f"{n}.xlsx" in ask["prompt"]
    target = tmp_path / "kaifu-2020_报送材料.docx"
    assert outcome.data["docx"] == target and target.is_file() and told["prompt"] == outcome.message
    assert outcome.critical and "草稿" in outcome.message and "内部错误" not in outcome.message
    # 与命令行（openpyxl 读取）写出的是同一份材料
    _, cli_docx = kaifu_package
    assert [p.text for p in docx.Document(str(target)).paragraphs] == [p.text for p in
                                                                       docx.Document(str(cli_docx)).paragraphs]
    assert {s.name: dict(s.cells) for s in book.sheets} == before  # 工作簿一格未动
    # 用户点“取消”：什么也不写
    target.unlink()
    monkeypatch.setattr(FakeApp, "alert", lambda self, prompt, title=None, buttons="ok", mode=None, callback=None:
                        (self.alerts.append({"prompt": prompt, "title": title, "buttons": buttons, "mode": mode})
                         or ("cancel" if buttons == "ok_cancel" else "ok")))
    outcome = ribbon.package()
    assert "已取消" in outcome.message and not target.exists()


# ---------------------------------------------------------------------------------------------------------
# jixiao demo
# ---------------------------------------------------------------------------------------------------------
def test_demo_writes_the_kaifu_projects_and_prints_the_package_command(tmp_path, capsys):
    code, out, _ = _cli(capsys, "demo", "-o", tmp_path)
    assert code == 0
    lines = out.splitlines()
    for n in KAIFU[1:]:
        assert (tmp_path / f"{n}.xlsx").is_file()
        assert any(ln.startswith(f"{tmp_path / n}.xlsx  长沙市开福区医疗保障局 ") and "评价未完成" in ln for ln in lines)
    command = next(ln.split("：", 1)[1] for ln in lines if "jixiao package" in ln)
    argv = command.split()[1:]
    assert argv[:5] == ["package"] + [str(tmp_path / f"{n}.xlsx") for n in KAIFU]
    code, out, _ = _cli(capsys, *argv)
    assert code == 1 and Path(argv[-1]).is_file() and "已生成报送材料（草稿）" in out
    # 种子没有给出的项目指标值留空：这些指标未计分（空白不是零），项目没有总分与等级
    from addin.scoring.engine import evaluate
    from addin.scoring.reader import load

    for name, ex in PROJECT_EXAMPLES.items():
        blank = {c for c, params in ex.params.items() if params[1] is None}
        ev = evaluate(load(tmp_path / f"{name}.xlsx")[1])
        assert blank and blank <= {m["code"] for m in ev.missing} and ev.total is None and ev.grade is None
