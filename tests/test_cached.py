"""openpyxl 保存后补回公式结果（addin/cached.py、OpenpyxlBook.save）。"""
from __future__ import annotations

import shutil

import openpyxl
import pytest

from addin.book import CellWrite, OpenpyxlBook
from addin.cached import carry_cached_values


def _formula_results(path):
    """{(表, 地址): 保存的结果}，只取公式格。"""
    wf = openpyxl.load_workbook(path)
    wv = openpyxl.load_workbook(path, data_only=True)
    return {(ws.title, c.coordinate): wv[ws.title][c.coordinate].value
            for ws in wf.worksheets for row in ws.iter_rows() for c in row if c.data_type == "f"}


@pytest.mark.parametrize("name", ["baojing-2018", "zizhou-2021", "shiping-2022"])
@pytest.mark.parametrize("in_place", [False, True])
def test_save_keeps_formula_results(demo_dir, tmp_path, name, in_place):
    src = tmp_path / f"{name}.xlsx"
    shutil.copy(demo_dir / f"{name}.xlsx", src)
    before = _formula_results(src)
    assert before and all(v is not None for v in before.values())
    book = OpenpyxlBook(src)
    book.replace_sheet("报告", [CellWrite(1, 1, "=SUM(1,2)"), CellWrite(2, 1, 94.9, "number")])
    out = src if in_place else tmp_path / "out.xlsx"
    book.save(out)
    assert _formula_results(out) == before  # 每个公式格的结果都回来了，且与原文件一致
    ws = openpyxl.load_workbook(out)["报告"]
    assert ws["A1"].value == "=SUM(1,2)" and ws["A1"].data_type == "s" and ws["A2"].value == 94.9


def test_total_cell_value_and_types(demo_dir, tmp_path):
    book = OpenpyxlBook(demo_dir / "baojing-2018.xlsx")
    book.save(tmp_path / "b.xlsx")
    wv = openpyxl.load_workbook(tmp_path / "b.xlsx", data_only=True)["评分表"]
    values = [c.value for row in wv.iter_rows() for c in row]
    assert 94.9 in values and "优" in values  # 总分（数字）与等级（文本 t="str"）都补回


def test_replaced_sheet_is_skipped_and_bad_source_ignored(demo_dir, tmp_path):
    out = tmp_path / "o.xlsx"
    shutil.copy(demo_dir / "baojing-2018.xlsx", out)
    wb = openpyxl.load_workbook(out)
    wb.save(out)  # 纯 openpyxl 存盘：结果全丢
    assert all(v is None for v in _formula_results(out).values())
    assert carry_cached_values(demo_dir / "baojing-2018.xlsx", out, skip={"评分表", "基础数据表"}) == 0
    n = carry_cached_values(demo_dir / "baojing-2018.xlsx", out)
    assert n == len(_formula_results(out)) > 50
    bad = tmp_path / "bad.xlsx"
    bad.write_bytes(b"not a zip")
    assert carry_cached_values(bad, out) == 0
