"""模板与示例工作簿：可复现的生成、Excel 级的输入单元格（保护、格式、下拉）、随公式保存的计算结果。"""
from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import openpyxl
import pytest
import xlsxwriter

from addin.cli import main as cli
from addin.io.openpyxl_book import OpenpyxlBook
from addin.scoring.engine import evaluate
from addin.scoring.reader import detect_system, load
from addin.template.workbook import build_workbook
from udfs.rule import NA_POLICIES
from udfs.scoring import RULE_TYPES, GradeTable
from workbook_templates import layout as L
from workbook_templates.layout import RATE_PARAMS
from workbook_templates.systems import SYSTEMS

ROOT = Path(__file__).resolve().parent.parent
CHECKED_IN = ROOT / "workbook_templates" / "xlsx"
SYSTEM_KEYS = ["hunan-dept", "zizhou-dept", "project"]
GOLDEN = {"baojing-2018": (Decimal("94.9"), "优"), "zizhou-2021": (Decimal("85.1"), "良好"),
          "shiping-2022": (Decimal("100"), "优")}
# 签入的 .xlsx 由这个版本的 XlsxWriter 生成；版本不同时只比较单元格内容，不比较字节
XLSXWRITER_BUILT_WITH = "3.3.1"


# ---------------------------------------------------------------- jixiao new
@pytest.mark.parametrize("key", SYSTEM_KEYS)
def test_jixiao_new_writes_a_blank_template(tmp_path, capsys, key):
    out = tmp_path / f"{key}.xlsx"
    assert cli.main(["new", "--system", key, "-o", str(out)]) == 0
    assert "已生成空白模板" in capsys.readouterr().out
    book = OpenpyxlBook(out)
    assert detect_system(book).key == key
    assert book.sheet_names()[:2] == [L.SHEET_DATA, L.SHEET_SCORES]
    # 不覆盖已有文件（除非 --force），并给出中文说明
    before = out.read_bytes()
    assert cli.main(["new", "--system", key, "-o", str(out)]) == 2
    assert "文件已存在" in capsys.readouterr().err
    assert out.read_bytes() == before
    assert cli.main(["new", "--system", key, "-o", str(out), "--force"]) == 0
    # 生成的就是签入的空白模板
    assert _sheet_snapshot(out) == _sheet_snapshot(CHECKED_IN / f"{key}.xlsx")


# ---------------------------------------------------------------- 签入的模板 = 重新生成
def _sheet_snapshot(path: Path) -> dict:
    """逐表记录每个非空单元格的值（公式为公式文本）、类型、数字格式、锁定状态，以及合并区域、数据验证与保护。"""
    wb = openpyxl.load_workbook(path)
    snap = {}
    for ws in wb:
        cells = {c.coordinate: (c.value, c.data_type, c.number_format, c.protection.locked)
                 for row in ws.iter_rows() for c in row if c.value is not None or not c.protection.locked}
        dvs = sorted((str(dv.sqref), dv.type, dv.formula1, dv.formula2, dv.operator)
                     for dv in ws.data_validations.dataValidation)
        snap[ws.title] = {"cells": cells, "merged": sorted(str(m) for m in ws.merged_cells.ranges),
                          "validations": dvs, "protected": bool(ws.protection.sheet)}
    return snap


@pytest.mark.parametrize("key", SYSTEM_KEYS)
def test_checked_in_templates_equal_a_fresh_build(tmp_path, key):
    fresh = build_workbook(key, tmp_path / f"{key}.xlsx")
    a, b = _sheet_snapshot(CHECKED_IN / f"{key}.xlsx"), _sheet_snapshot(fresh)
    assert list(a) == list(b)
    for sheet in a:
        assert a[sheet] == b[sheet], f"{key}/{sheet} 与重新生成的不同：请运行 python -m addin.template"
    assert len(a[L.SHEET_SCORES]["validations"]) > 10


@pytest.mark.parametrize("key", SYSTEM_KEYS)
def test_template_build_is_byte_stable(tmp_path, key):
    one = build_workbook(key, tmp_path / "one.xlsx").read_bytes()
    two = build_workbook(key, tmp_path / "two.xlsx").read_bytes()
    assert one == two, "同样的输入应生成同样的文件（文档属性时间固定）"
    # 仓库中的模板由某一版 XlsxWriter 生成；版本不同时字节可以不同（单元格内容由上一个测试逐格比较）
    if xlsxwriter.__version__ == XLSXWRITER_BUILT_WITH:
        assert one == (CHECKED_IN / f"{key}.xlsx").read_bytes(), "请运行 python -m addin.template"


# ---------------------------------------------------------------- 示例工作簿中的计算结果
def _formula_cells(inputs) -> list[tuple[str, str, str]]:
    """（表, 单元格, 说明）：实际值公式、计算得分、得分、小计、总分、等级。"""
    out = []
    for r in inputs.rows:
        if hasattr(r.value, "text"):
            out.append((L.SHEET_SCORES, r.cells["value"], f"{r.code} 实际值"))
        out.append((L.SHEET_SCORES, r.cells["computed"], f"{r.code} 计算得分"))
        out.append((L.SHEET_SCORES, r.cells["final"], f"{r.code} 得分"))
    for key, (sheet, row) in inputs.cells.items():
        if key[0] in ("subtotal", "total", "grade"):
            out.append((sheet, f"{L.LETTER['final']}{row}", "".join(key)))
    return out


@pytest.mark.parametrize("name", list(GOLDEN))
def test_demo_workbooks_carry_computed_values_for_any_viewer(demo_dir, name):
    from python_calamine import CalamineWorkbook

    path = demo_dir / f"{name}.xlsx"
    _, inputs = load(path)
    ev = evaluate(inputs)
    assert (ev.total, ev.grade) == GOLDEN[name]
    data_only = openpyxl.load_workbook(path, data_only=True)
    calamine = CalamineWorkbook.from_path(str(path))
    grids = {s: calamine.get_sheet_by_name(s).to_python(skip_empty_area=False) for s in (L.SHEET_SCORES,)}

    def cal(sheet: str, addr: str):
        c = openpyxl.utils.cell.coordinate_from_string(addr)
        return grids[sheet][c[1] - 1][openpyxl.utils.column_index_from_string(c[0]) - 1]

    cells = _formula_cells(inputs)
    assert len(cells) >= 2 * len(inputs.rows) + 3
    for sheet, addr, what in cells:
        v = data_only[sheet][addr].value
        assert v is not None and v != "", (what, addr)
        assert cal(sheet, addr) == v or cal(sheet, addr) == pytest.approx(v), (what, addr)
    by_code = {i.code: i for i in ev.indicators}
    for r in inputs.rows:
        assert data_only[L.SHEET_SCORES][r.cells["final"]].value == pytest.approx(float(by_code[r.code].final))
    total_row = inputs.cells[("total",)][1]
    grade_row = inputs.cells[("grade",)][1]
    assert data_only[L.SHEET_SCORES][f"{L.LETTER['final']}{total_row}"].value == pytest.approx(float(GOLDEN[name][0]))
    assert data_only[L.SHEET_SCORES][f"{L.LETTER['final']}{grade_row}"].value == GOLDEN[name][1]
    assert cal(L.SHEET_SCORES, f"{L.LETTER['final']}{grade_row}") == GOLDEN[name][1]


# ---------------------------------------------------------------- Excel 级的输入单元格
def _workbooks(demo_dir: Path):
    for key in SYSTEM_KEYS:
        yield CHECKED_IN / f"{key}.xlsx"
    for name in GOLDEN:
        yield demo_dir / f"{name}.xlsx"


INPUT_FIELDS = ["level1", "level2", "name", "points", "criterion", "formula_text", "unit", "rule", "na", *L.PARAM_FIELDS,
                "override", "reason", "stated_value", "stated_score", "note"]
FORMULA_FIELDS = ["computed", "final"]


def test_inputs_unlocked_formulas_locked_scores_sheet_unprotected(demo_dir):
    """基础数据表受保护（无密码，只防误改）。评分表不设保护：指标体系由用户在表中维护——插入、删除、复制行，
    填写新行的名称、分值、规则与实际值，把上一行的公式向下填充；Excel 不允许在受保护的表中删除含锁定单元格的行。
    输入单元格仍未锁定、公式单元格仍锁定，用户自己再加保护时照样能填写。"""
    for path in _workbooks(demo_dir):
        wb = openpyxl.load_workbook(path)
        _, inputs = load(path)
        assert wb[L.SHEET_DATA].protection.sheet and not wb[L.SHEET_DATA].protection.password, path.name
        assert not wb[L.SHEET_SCORES].protection.sheet, path.name
        for sheet in (L.SHEET_DATA, L.SHEET_SCORES):
            # 每个公式单元格都锁定
            for row in wb[sheet].iter_rows():
                for c in row:
                    if c.data_type == "f":
                        assert c.protection.locked, (path.name, sheet, c.coordinate)
        ws = wb[L.SHEET_SCORES]
        for r in inputs.rows:
            for f in INPUT_FIELDS:
                assert not ws[r.cells[f]].protection.locked, (path.name, r.code, f)
            for f in FORMULA_FIELDS + ["code"]:
                assert ws[r.cells[f]].protection.locked, (path.name, r.code, f)
            value = ws[r.cells["value"]]
            assert value.protection.locked == (value.data_type == "f"), (path.name, r.code, "实际值")
        # 基础数据表：金额、人数、比率等填写项未锁定，“代码”列锁定
        ds = wb[L.SHEET_DATA]
        for key, (_sheet, addr) in inputs.cells.items():
            if key[0] in ("table", "scalar"):
                assert not ds[addr].protection.locked, (path.name, key)
                assert ds[f"A{ds[addr].row}"].protection.locked
        # 等级标准可改（规则），但不是公式
        first = int(inputs.cells[("grades",)][1][1:])
        for k in range(len(inputs.grade_rows)):
            assert not ws[f"B{first + k}"].protection.locked and not ws[f"C{first + k}"].protection.locked


def test_number_formats(demo_dir):
    for path in _workbooks(demo_dir):
        wb = openpyxl.load_workbook(path)
        _, inputs = load(path)
        system = SYSTEMS[inputs.system_key]
        ws, ds = wb[L.SHEET_SCORES], wb[L.SHEET_DATA]
        rate_rows = 0
        for r in inputs.rows:
            spec = system.indicator(r.code)
            if spec is None or spec.unit != "%":
                continue
            rate_rows += 1
            assert ws[r.cells["value"]].number_format == "0.00%", (path.name, r.code)
            for k in RATE_PARAMS.get(r.rule_label, ()):
                cell = ws[r.cells[f"p{k + 1}"]]
                if isinstance(cell.value, (int, float)) and r.rule_label != "目标比较":
                    assert cell.number_format == "0.00%", (path.name, r.code, cell.coordinate)
            for f in FORMULA_FIELDS:
                assert ws[r.cells[f]].number_format == "0.00"
        if system.kind != "project":
            assert rate_rows >= 5, path.name
        for s in system.scalars:
            addr = inputs.cells[("scalar", s.key)][1]
            expected = {"money": "#,##0.00", "rate": "0.00%", "count": "General"}.get(s.kind)
            if expected:
                assert ds[addr].number_format == expected, (path.name, s.key)
        for key, (_sheet, addr) in inputs.cells.items():
            if key[0] == "table":
                assert ds[addr].number_format == "#,##0.00", (path.name, key)


def _validations_at(ws, addr: str) -> list:
    return [dv for dv in ws.data_validations.dataValidation if addr in dv.sqref]


def _list_items(dv) -> list[str]:
    return dv.formula1.strip('"').split(",")


def test_dropdowns_for_grades_and_na_policy(demo_dir):
    seen_grade_rows = 0
    for path in _workbooks(demo_dir):
        wb = openpyxl.load_workbook(path)
        _, inputs = load(path)
        ev = evaluate(inputs)
        ws = wb[L.SHEET_SCORES]
        # 规则类型与无基数时：整列（表头以下直到最后一行）一条下拉，用户插入的行也有
        header = L.SCORE_HEADER_ROW
        for field, items in (("rule", list(RULE_TYPES)), ("na", list(NA_POLICIES))):
            col = L.LETTER[field]
            lists = [dv for dv in ws.data_validations.dataValidation if dv.type == "list" and f"{col}{header + 1}" in dv.sqref]
            assert len(lists) == 1 and _list_items(lists[0]) == items, (path.name, field)
            assert str(lists[0].sqref) == f"{col}{header + 1}:{col}1048576", (path.name, field)
            assert f"{col}{header}" not in lists[0].sqref
        for r, res in zip(inputs.rows, ev.indicators, strict=False):
            # 无基数时：满分/零分/报错
            lists = [dv for dv in _validations_at(ws, r.cells["na"]) if dv.type == "list"]
            assert len(lists) == 1 and _list_items(lists[0]) == list(NA_POLICIES), (path.name, r.code)
            # 等次对照且由评价人填写等次：下拉列表就是该行参数里的等次
            if isinstance(res.rule, GradeTable) and not hasattr(r.value, "text"):
                seen_grade_rows += 1
                lists = [dv for dv in _validations_at(ws, r.cells["value"]) if dv.type == "list"]
                assert len(lists) == 1, (path.name, r.code)
                assert _list_items(lists[0]) == [g for g, _ in res.rule.grades] == [p for p in r.params[0::2] if p]
            # 调整得分：0～分值之间（警告）
            checks = [dv for dv in _validations_at(ws, r.cells["override"]) if dv.type == "decimal"]
            assert len(checks) == 1 and checks[0].operator in (None, "between"), (path.name, r.code)  # 缺省即 between
            assert checks[0].formula1 == "0" and Decimal(checks[0].formula2) == Decimal(str(res.points or 0))
        # 基础数据表的金额：不小于 0
        ds = wb[L.SHEET_DATA]
        for key, (_sheet, addr) in inputs.cells.items():
            if key[0] == "table":
                v = [dv for dv in _validations_at(ds, addr) if dv.type == "decimal"]
                assert v and v[0].operator == "greaterThanOrEqual", (path.name, key)
    assert seen_grade_rows >= 4  # 湖南“重点工作”、子洲“年度目标”等


def test_column_letters_match_openpyxl_for_every_excel_column():
    """A1 地址的两个方向（addin/io/ooxml.py：读取、批量读取器、xlwings 适配器、公式求值器都用它，为了不导入 openpyxl）
    与 openpyxl 逐列一致；版式声明自己的 layout.col_letter（workbook_templates 不导入 addin）与它一致。"""
    from openpyxl.utils import column_index_from_string, get_column_letter

    from addin.io.ooxml import a1, col_index, col_letters, parse_a1
    from workbook_templates.layout import col_letter

    for c in range(1, 16385):
        letters = get_column_letter(c)
        assert col_letters(c) == letters == col_letter(c - 1) and col_index(letters) == c
        assert col_index(letters.lower()) == column_index_from_string(letters)
    assert [a1(7, c) for c in (1, 26, 27, 702, 703, 16384)] == ["A7", "Z7", "AA7", "ZZ7", "AAA7", "XFD7"]
    assert parse_a1("$XFD$1048576") == (1048576, 16384) and parse_a1(" b12 ") == (12, 2)
    for bad in ("", "A", "12", "A1:B2", "1A"):
        with pytest.raises(ValueError):
            parse_a1(bad)
