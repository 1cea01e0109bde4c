"""每条消息都是中文并说出位置：超长的单位名称、NaN/INF 数值单元格、任何部件（含改了名、扩展名古怪的部件）里的 DTD、
编码花招（UTF-16 的 XML、BOM、声明的编码与实际不符）——命令行给出指明部件或单元格的中文说明，从不显示回溯。"""
from __future__ import annotations

import dataclasses
import zipfile
from pathlib import Path

import docx
import pytest

from addin.cli import main
from workbook_templates.build import build_workbook
from workbook_templates.examples import ZIZHOU_2021

LONG_UNIT = "某某县" + "医疗保障局" * 50  # 253 个字符


def test_long_unit_name_report_and_compare_write_word_files(tmp_path, capsys):
    """python-docx 的文档属性最多 255 个字符：单位名称 240 字以上时 report --docx、compare --docx 原来以 ValueError 回溯退出。"""
    ex = dataclasses.replace(ZIZHOU_2021, scalars={**ZIZHOU_2021.scalars, "unit_name": LONG_UNIT})
    book = build_workbook(ex.system, tmp_path / "长名称.xlsx", ex)
    assert len(LONG_UNIT) > 240
    report_docx, compare_docx = tmp_path / "报告.docx", tmp_path / "差异分析.docx"
    assert main(["report", str(book), "-o", str(tmp_path / "out.xlsx"), "--docx", str(report_docx)]) in (0, 1)
    assert main(["compare", str(book), "--docx", str(compare_docx)]) == 0
    captured = capsys.readouterr()
    assert "Traceback" not in captured.err + captured.out
    for path in (report_docx, compare_docx):
        d = docx.Document(str(path))
        title = d.core_properties.title
        assert len(title) == 255 and title.startswith(LONG_UNIT[:200]) and title.endswith("…")
        assert any(LONG_UNIT in p.text for p in d.paragraphs), f"{path.name}：正文照写单位全称"
