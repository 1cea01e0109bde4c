"""每条消息都是中文并说出位置：超长的单位名称、NaN/INF 数值单元格、任何部件（含改了名、扩展名古怪的部件）里的 DTD、
编码花招（UTF-16 的 XML、BOM、声明的编码与实际不符）——命令行给出指明部件或单元格的中文说明，从不显示回溯。"""
from __future__ import annotations

import codecs
import dataclasses
import re
import zipfile
from pathlib import Path

import docx
import pytest

from addin.cli.main import main
from addin.template.workbook import build_workbook
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


# ---------------------------------------------------------------------------------------------------------------------
# 改动过的文件：NaN/INF、任何部件里的 DTD、编码花招
# ---------------------------------------------------------------------------------------------------------------------
def _tamper(src: Path, dst: Path, fn) -> Path:
    """逐个部件交给 fn(name, data)：返回新的字节、(新名称, 字节)，或 None（删去该部件）。"""
    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(dst, "w", zipfile.ZIP_DEFLATED) as zout:
        for info in zin.infolist():
            out = fn(info.filename, zin.read(info.filename))
            if out is None:
                continue
            name, data = out if isinstance(out, tuple) else (info.filename, out)
            zout.writestr(name, data)
    return dst


def _sheet_part(book: Path, sheet: str) -> str:
    from addin.io.fastbook import FastBook

    fb = FastBook(book)
    try:
        return fb._sheet_parts[sheet]
    finally:
        fb.close()


def _set_value(book: Path, dst: Path, sheet: str, ref: str, text: str) -> Path:
    """把某个数值单元格保存的 <v> 改成 text（不经任何写入程序，模拟其他软件生成或手工改过的文件）。"""
    part = _sheet_part(book, sheet)

    def fn(name, data):
        if name != part:
            return data
        new, n = re.subn(rf'(<c r="{ref}"(?: [^>]*)?>)(?:<f>[^<]*</f>)?<v>[^<]*</v>'.encode(),
                         lambda m: m.group(1) + f"<v>{text}</v>".encode(), data)
        assert n == 1, (ref, data[:300])
        return new

    return _tamper(book, dst, fn)


def _run(capsys, *argv) -> tuple[int, str]:
    rc = main([str(a) for a in argv])
    c = capsys.readouterr()
    assert "Traceback" not in c.out + c.err
    return rc, c.out + c.err


@pytest.fixture(scope="module")
def zizhou(demo_dir) -> Path:
    return demo_dir / "zizhou-2021.xlsx"


def _money_cell(book: Path) -> str:
    """基础数据表里第一个保存了数值的金额单元格（C 列）。"""
    from addin.io.fastbook import FastBook

    fb = FastBook(book)
    try:
        g = fb.grid("基础数据表")
    finally:
        fb.close()
    return next(f"C{r}" for (r, c), v in sorted(g.items()) if c == 3 and isinstance(v, (int, float)) and v > 10)


@pytest.mark.parametrize("raw", ["NaN", "INF", "-inf", "nan", "Infinity"])
def test_nan_and_inf_cells_are_named_by_sheet_and_cell(zizhou, tmp_path, capsys, raw):
    """openpyxl 对 <v>NaN</v> 只说 “invalid literal for int() with base 10: 'NaN'”，不说在哪里。"""
    ref = _money_cell(zizhou)
    bad = _set_value(zizhou, tmp_path / f"{raw}.xlsx", "基础数据表", ref, raw)
    rc, out = _run(capsys, "check", bad)
    assert rc == 2
    assert f"工作表“基础数据表”：单元格 {ref} 保存的数值“{raw}”不是有效的数字" in out
    assert "invalid literal" not in out and "ValueError" not in out
    # 批量：列在“无法读取”，原因相同
    from addin.batch.run import process_file

    res = process_file(str(bad), str(tmp_path))
    assert not res.ok and res.reason.startswith(f"工作表“基础数据表”：单元格 {ref} 保存的数值“{raw}”")


def test_an_overflowing_number_is_read_and_reported_at_its_cell(zizhou, tmp_path, capsys):
    """1E999 是合法的 XML 数字，读出来是无穷大：不拒绝整个文件，而在该单元格给出中文发现；报告照常生成。"""
    ref = _money_cell(zizhou)
    bad = _set_value(zizhou, tmp_path / "inf.xlsx", "基础数据表", ref, "1E999")
    rc, out = _run(capsys, "check", bad)
    assert rc == 1 and f"基础数据表!{ref}" in out and "数值无效（非数字或无穷大）" in out
    rc, out = _run(capsys, "report", bad, "-o", tmp_path / "out.xlsx", "--docx", tmp_path / "out.docx")
    assert rc in (0, 1) and (tmp_path / "out.docx").exists()


def test_a_dtd_in_a_renamed_part_is_refused_naming_the_part(zizhou, tmp_path, capsys):
    """扫描按内容而不是扩展名：工作表改名为 .dat（关系与内容类型随之改），里面的 DTD 照样在解析之前被拒绝。
    原来只扫描 .xml/.rels/.vml，openpyxl 随后给出英文的 DTDForbidden。"""
    part = _sheet_part(zizhou, "文字材料")
    renamed = part.rsplit(".", 1)[0] + ".dat"

    def fn(name, data):
        if name == part:
            return renamed, b'<?xml version="1.0"?><!DOCTYPE w [<!ENTITY a "aaaa">]>' + data.split(b"?>", 1)[-1]
        if name in ("xl/_rels/workbook.xml.rels", "[Content_Types].xml"):
            return data.replace(part.split("/", 1)[1].encode(), renamed.split("/", 1)[1].encode())
        return data

    bad = _tamper(zizhou, tmp_path / "改名.xlsx", fn)
    rc, out = _run(capsys, "check", bad)
    assert rc == 2 and f"部件“{renamed}”含有 XML 文档类型/实体声明（DTD）" in out
    from addin.batch.run import process_file

    res = process_file(str(bad), str(tmp_path))
    assert not res.ok and f"部件“{renamed}”含有 DTD" in res.reason


def _prolog_free(data: bytes) -> str:
    return data.split(b"?>", 1)[1].decode() if data.startswith(b"<?xml") else data.decode()


ENCODING_TRICKS = {
    # 名称: (把工作表 XML 变成什么, 消息里应有的话)
    "UTF-32": (lambda x: codecs.BOM_UTF32_LE + x.encode("utf-32-le"), "使用 UTF-32 编码"),
    "UTF-7 藏起 DTD": (lambda x: b'<?xml version="1.0" encoding="UTF-7"?>+ADwAIQ-DOCTYPE w +AFsAPAAh-ENTITY a '
                                 b'+ACI-aaaa+ACIAPgBdAD4-' + x.encode(), "声明使用 UTF-7 编码"),
    "GBK": (lambda x: b'<?xml version="1.0" encoding="GBK"?>' + x.encode("gbk"), "声明使用 GBK 编码"),
    "UTF-8 的 BOM，声明 UTF-16": (lambda x: codecs.BOM_UTF8 + b'<?xml version="1.0" encoding="UTF-16"?>' + x.encode(),
                                 "XML 声明写的是 UTF-16 编码，实际内容却是 UTF-8"),
    "UTF-16 的内容，声明 UTF-8": (lambda x: codecs.BOM_UTF16_LE + ('<?xml version="1.0" encoding="UTF-8"?>' + x)
                                 .encode("utf-16-le"), "XML 声明写的是 UTF-8 编码，实际内容却是 UTF-16"),
    "ASCII 的内容，声明 UTF-16": (lambda x: b'<?xml version="1.0" encoding="UTF-16"?>' + x.encode(),
                                 "XML 声明写的是 UTF-16 编码，实际内容却是 UTF-8/ASCII"),
    "UTF-16 的 DTD": (lambda x: codecs.BOM_UTF16_BE + ('<!DOCTYPE w [<!ENTITY a "aaaa">]>' + x).encode("utf-16-be"),
                     "含有 XML 文档类型/实体声明（DTD）"),
}


@pytest.mark.parametrize("trick", sorted(ENCODING_TRICKS))
def test_encoding_tricks_are_refused_naming_the_part(zizhou, tmp_path, capsys, trick):
    make, words = ENCODING_TRICKS[trick]
    part = _sheet_part(zizhou, "文字材料")
    bad = _tamper(zizhou, tmp_path / "编码.xlsx", lambda n, d: make(_prolog_free(d)) if n == part else d)
    rc, out = _run(capsys, "check", bad)
    assert rc == 2 and f"部件“{part}”" in out and words in out, out
    from addin.batch.run import process_file

    res = process_file(str(bad), str(tmp_path))
    assert not res.ok and f"部件“{part}”" in res.reason, res.reason


def test_a_genuine_utf16_workbook_part_is_read_like_utf8(zizhou, tmp_path, capsys):
    """UTF-16（带 BOM、声明一致）是 Office Open XML 允许的：照常读取，结果与原文件相同，两个读取器一致。"""
    part = _sheet_part(zizhou, "评分表")
    utf16 = _tamper(zizhou, tmp_path / "utf16.xlsx", lambda n, d: codecs.BOM_UTF16_LE + (
        '<?xml version="1.0" encoding="UTF-16"?>' + _prolog_free(d)).encode("utf-16-le") if n == part else d)
    rc, out = _run(capsys, "score", utf16)
    assert rc == 0 and re.search(r"总分：?\s*85\.1\b", out), out
    from addin.io.fastbook import FastBook
    from addin.io.openpyxl_book import OpenpyxlBook

    assert FastBook(utf16).grid("评分表") == OpenpyxlBook(utf16, with_cached=True).grid("评分表")
