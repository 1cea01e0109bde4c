"""Excel 加载项（issue 6）：功能区定义、VBA 回调、.xlam 构建、xlwings 适配器与替身、按钮入口、导出定稿、安装命令。

Linux 上没有 Excel：功能区 XML 用架构子集校验并逐个核对回调；.xlam 检查部件与内容类型；xlwings 适配器在
tests/fake_xlwings.py 的替身上运行（替身本身先按 xlwings / 微软文档的行为测试）；按钮入口在 openpyxl 与替身两种
适配器上端到端运行，并与命令行的结果逐项比较；Windows 专有的安装步骤通过注入的环境在临时目录中运行。
"""
from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import zipfile
from decimal import Decimal
from pathlib import Path

import openpyxl
import pytest
from defusedxml import ElementTree as SafeET

from addin.cli import addin as addin_cmd
from addin.cli.main import main as cli_main
from addin.excel import customui, export, ribbon, xlam
from addin.excel import env as xlenv
from addin.excel import install as addin_install
from addin.io.book import BookError, CellWrite
from addin.io.openpyxl_book import OpenpyxlBook
from addin.io.xlbook import HIGHLIGHT_MARKER, XlwingsBook, excel_text
from addin.model import Formula
from udfs.excel import CATALOG

sys.path.insert(0, str(Path(__file__).parent))
from fake_xlwings import Cell, FakeApp, FakeBook, FakeComError, XlError  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
GOLDEN = {"baojing-2018": ("94.9", "优"), "zizhou-2021": ("85.1", "良好"), "shiping-2022": ("100", "优")}


@pytest.fixture()
def work(tmp_path, demo_dir):
    """demo 工作簿的副本（测试可以改写；会话级 fixture 中的原件不动）。"""

    def copy(name: str) -> Path:
        dst = tmp_path / f"{name}.xlsx"
        shutil.copyfile(demo_dir / f"{name}.xlsx", dst)
        return dst

    return copy


def fake_book(path: Path, app: FakeApp | None = None, fullname: str | None = None) -> FakeBook:
    return FakeBook.from_xlsx(path, app or FakeApp(), fullname=fullname)


# =====================================================================================================
# 功能区 XML 与 VBA 回调
# =====================================================================================================
def test_customui_validates_against_schema_and_callbacks():
    xml = customui.RIBBON_XML.read_bytes()
    assert customui.check_customui(xml) == []
    from lxml import etree

    schema = etree.XMLSchema(etree.parse(str(customui.RIBBON_XSD)))
    assert schema.validate(etree.fromstring(xml))
    root = SafeET.fromstring(xml)
    assert root.tag == f"{{{customui.CUSTOMUI_NS}}}customUI"
    tabs = list(root.iter(f"{{{customui.CUSTOMUI_NS}}}tab"))
    assert [t.get("label") for t in tabs] == ["绩效评价"]


@pytest.mark.parametrize("mutate, fragment", [
    (lambda x: x.replace('onAction="JixiaoRibbon.OnCheck"', 'onaction="JixiaoRibbon.OnCheck"'), "onaction"),
    (lambda x: x.replace('keytip="C"', 'keytip="CHECK"'), "keytip"),
    (lambda x: x.replace('id="jixiaoHelp"', 'id="jixiaoCheck"'), "jixiaoCheck"),
    (lambda x: x.replace('size="large"', 'size="huge"', 1), "huge"),
    (lambda x: x.replace("JixiaoRibbon.OnHelp", "JixiaoRibbon.OnHelpMe"), "OnHelpMe"),
    (lambda x: x.replace("JixiaoRibbon.OnReport", "OnReport"), "模块前缀"),
    (lambda x: x.replace("JixiaoRibbon.OnRibbonLoad", "JixiaoRibbon.OnCheck"), "IRibbonUI"),
])
def test_customui_check_catches_mistakes(mutate, fragment):
    bad = mutate(customui.RIBBON_XML.read_text(encoding="utf-8")).encode("utf-8")
    problems = customui.check_customui(bad)
    assert problems and fragment in " ".join(problems)


def _vba(name: str) -> str:
    return (xlam.VBA_DIR / name).read_text(encoding="ascii")


def test_every_button_maps_to_one_vba_callback_and_one_python_entry_point():
    xml = customui.RIBBON_XML.read_bytes()
    bas = _vba("JixiaoRibbon.bas")
    procs = customui.vba_procedures(bas)
    buttons = customui.ribbon_buttons(xml)
    assert [b["label"] for b in buttons] == list(ribbon.ENTRY_POINTS.values())
    seen = set()
    for b in buttons:
        module, proc = b["onAction"].split(".")
        assert module == customui.vba_module_name(bas) == "JixiaoRibbon"
        kind, private, args = procs[proc]
        assert (kind, private) == ("Sub", False) and re.fullmatch(r"control As IRibbonControl", args)
        body = re.search(rf"Sub {proc}\(.*?\)(.*?)End Sub", bas, re.S).group(1)
        entry = re.fullmatch(r'\s*RunEntryPoint "(\w+)"\s*', body).group(1)
        assert ribbon.ENTRY_POINTS[entry] == b["label"]
        assert callable(getattr(ribbon, entry)) and entry in ribbon.ACTIONS
        seen.add(entry)
    assert seen == set(ribbon.ENTRY_POINTS)
    # RunPython 执行的 Python 语句能在本包中执行到这些入口
    stmt = re.search(r'RunPython "([^"]+)" & entryPoint & "\(\)"', bas).group(1)
    namespace: dict = {}
    exec(stmt.rstrip(". ").rsplit(";", 1)[0], namespace)  # noqa: S102 —— "from addin import ribbon"
    assert namespace["ribbon"] is ribbon


def _chrw_text(source: str, function: str) -> str:
    body = re.search(rf"Function {function}\(\) As String(.*?)End Function", source, re.S).group(1)
    return "".join(chr(int(h, 16)) for h in re.findall(r"ChrW\(&H([0-9A-F]+)\)", body))


def test_vba_is_ascii_and_its_chinese_texts_match_python():
    for f in xlam.VBA_FILES:
        f.read_bytes().decode("ascii")  # VBComponents.Import 按 ANSI 代码页读：必须是纯 ASCII
        assert b"\r\n" in xlam.vba_text_for_import(f) and b"\n" not in xlam.vba_text_for_import(f).replace(b"\r\n", b"")
    bas = _vba("JixiaoRibbon.bas")
    assert _chrw_text(bas, "TitleText") == ribbon.TITLE
    assert _chrw_text(bas, "RunningText") == ribbon.RUNNING_TEXT
    assert _chrw_text(bas, "NoWorkbookText") == ribbon.NO_WORKBOOK_TEXT
    assert xlam.callbacks_version(bas) == xlam.shipped_callbacks_version()


def test_events_class_relinks_every_opened_workbook():
    cls = _vba("JixiaoEvents.cls")
    assert cls.startswith("VERSION 1.0 CLASS\nBEGIN\n")
    assert customui.vba_module_name(cls) == xlam.EVENTS_MODULE
    assert re.search(r"Public WithEvents App As Application", cls)
    assert re.search(r"Private Sub App_WorkbookOpen\(ByVal Wb As Workbook\)\s+JixiaoRibbon\.RelinkToThisAddin Wb", cls)
    bas = _vba("JixiaoRibbon.bas")
    assert customui.vba_procedures(bas)["RelinkToThisAddin"][:2] == ("Sub", False)
    relink = re.search(r"Sub RelinkToThisAddin(.*?)End Sub", bas, re.S).group(1)
    # KB 817578：只改文件名等于本加载项、路径不同的链接，改为本加载项自己的完整路径
    assert "LinkSources(xlExcelLinks)" in relink and "ThisWorkbook.Name" in relink
    assert "ChangeLink Name:=source, NewName:=ThisWorkbook.FullName" in relink
    assert "Set mEvents.App = Application" in bas


# =====================================================================================================
# .xlam
# =====================================================================================================
def test_xlwings_quickstart_copies_the_template_we_build_from(tmp_path):
    rc = subprocess.run([sys.executable, "-m", "xlwings.cli", "quickstart", "jixiao", "--addin", "--ribbon"],
                        cwd=tmp_path, capture_output=True, text=True)
    assert rc.returncode == 0, rc.stderr
    made = tmp_path / "jixiao" / "jixiao.xlam"
    assert made.read_bytes() == xlam.template_path().read_bytes()
    modules = xlam.read_vba_modules(made)
    # 模板的唯一回调不告诉 Python 按下的是哪个按钮：只会运行 import <xlam 名>; <xlam 名>.main()
    assert 'RunPython "import " & mymodule & ";" & mymodule & ".main()"' in modules["RibbonMyAddin"]
    assert "ThisWorkbook.Name" in modules["RibbonMyAddin"]
    assert 'PROJECT_NAME As String = "myaddin"' in modules["xlwings"]


def test_build_xlam_parts_content_types_and_relationships(tmp_path):
    path = xlam.build_xlam(tmp_path, interpreter=r"C:\Python311\python.exe")
    assert path == tmp_path / "jixiao.xlam"
    info = xlam.inspect_xlam(path)
    assert set(info.parts) == {
        "[Content_Types].xml", "_rels/.rels", "customUI/customUI14.xml", "docProps/app.xml", "docProps/core.xml",
        "xl/_rels/workbook.xml.rels", "xl/sharedStrings.xml", "xl/styles.xml", "xl/theme/theme1.xml",
        "xl/vbaProject.bin", "xl/workbook.xml", "xl/worksheets/sheet1.xml"}
    assert info.parts[0] == "[Content_Types].xml"
    assert all(info.content_types[p] for p in info.parts if p != "[Content_Types].xml")
    assert info.content_types["xl/workbook.xml"] == xlam.ADDIN_MAIN_CT
    assert info.content_types["xl/vbaProject.bin"] == xlam.VBA_CT
    assert info.content_types["customUI/customUI14.xml"] == "application/xml"
    assert (info.ribbon_part, info.ribbon_rel_type) == ("customUI/customUI14.xml", xlam.RIBBON_REL_TYPE)
    with zipfile.ZipFile(path) as z:
        for name in info.parts:
            if name.endswith((".xml", ".rels")):
                SafeET.fromstring(z.read(name))  # 每个 XML 部件都能解析
        rels = z.read("_rels/.rels").decode()
        assert rels.count("ui/extensibility") == 1
        assert z.read("customUI/customUI14.xml") == customui.RIBBON_XML.read_bytes()
        wb_rels = z.read("xl/_rels/workbook.xml.rels").decode()
        assert 'relationships/vbaProject" Target="vbaProject.bin"' in wb_rels
        assert xlam.verify_vba(path) == []  # VBA 工程：每个模块与应有的源码逐字节相同
        assert "absPath" not in z.read("xl/workbook.xml").decode()
        core = z.read("docProps/core.xml").decode()
        assert core.count("<dc:title>") == 1 and f"xlwings {xlam.xlwings_version()}" in core
    assert info.conf_sheet == xlam.CONF_SHEET == "myaddin.conf"
    assert info.conf == {"Interpreter_Win": r"C:\Python311\python.exe", "UDF Modules": "udfs.xl"}
    modules = xlam.read_vba_modules(path)
    assert xlam.vba_xlwings_version(modules) == xlam.xlwings_version()
    assert 'PROJECT_NAME As String = "myaddin"' in modules["xlwings"]  # 配置表名与 VBA 常量一致
    # 模板 VBA 读配置表的方式：表名 PROJECT_NAME & ".conf"，键转大写后比较——所以表中写 "Interpreter_Win"、
    # "UDF Modules" 即对应 GetConfig("INTERPRETER_WIN") 与 GetConfig("UDF MODULES")
    vba = modules["xlwings"]
    assert 'Set sht = wb.Sheets(PROJECT_NAME & ".conf")' in vba and "d.Add UCase(cell.Value)" in vba
    assert 'GetConfig("INTERPRETER_WIN", "")' in vba and 'GetConfig("UDF MODULES")' in vba
    assert {k.upper() for k in info.conf} == {"INTERPRETER_WIN", "UDF MODULES"}
    # RunPython 把活动工作簿（不是加载项本身）交给 Python：xw.Book.caller() 得到用户点按钮时的工作簿
    assert '" --wb=" & """" & ActiveWorkbook.Name' in vba
    # 同样的输入，逐字节相同
    again = xlam.build_xlam(tmp_path / "again.xlam", interpreter=r"C:\Python311\python.exe")
    assert hashlib.sha256(again.read_bytes()).digest() == hashlib.sha256(path.read_bytes()).digest()


def test_build_without_interpreter_leaves_the_key_out(tmp_path):
    # xlwings 读配置表时键存在即采用（空值也会遮住用户配置文件），所以没有值的键不写
    conf = xlam.inspect_xlam(xlam.build_xlam(tmp_path)).conf
    assert conf == {"UDF Modules": "udfs.xl"}


def test_jixiao_addin_build_command(tmp_path, capsys):
    assert cli_main(["addin", "build", "-o", str(tmp_path / "dist")]) == 0
    assert (tmp_path / "dist" / "jixiao.xlam").is_file()
    assert "已生成" in capsys.readouterr().out


def test_vba_reader_decompresses_spec_style_chunks():
    # [MS-OVBA] 2.4.1：签名 0x01；块头 0xB000|（块长−3）；标志字节逐位：0 为字面字节，1 为复制令牌
    assert xlam.decompress_vba(b"\x01\x08\xb0\x00abcdefgh") == b"abcdefgh"
    # 3 个字面字节后一个复制令牌：偏移 3、长度 6（位数 4：令牌 = (3−1)<<12 | (6−3)）
    assert xlam.decompress_vba(b"\x01\x05\xb0\x08abc\x03\x20") == b"abcabcabc"
    with pytest.raises(xlam.XlamError):
        xlam.decompress_vba(b"\x02\x00")


def test_vba_reader_reads_the_xlwings_addins():
    tpl = xlam.read_vba_modules(xlam.template_path())
    assert set(tpl) == {"Dictionary", "RibbonMyAddin", "Sheet2", "ThisWorkbook", "xlwings"}
    assert "Sub RunMain(control As IRibbonControl)" in tpl["RibbonMyAddin"]
    xw_addin = xlam.read_vba_modules(xlam.xlwings_dir() / "addin" / "xlwings.xlam")
    assert xlam.vba_xlwings_version(xw_addin) == xlam.xlwings_version()
    assert {"Main", "RibbonXlwings", "Config"} <= set(xw_addin)


def test_vba_reader_agrees_with_oletools():
    olevba = pytest.importorskip("oletools.olevba")
    for path in (xlam.template_path(), xlam.xlwings_dir() / "addin" / "xlwings.xlam"):
        mine = xlam.read_vba_modules(path)
        theirs = {stream.split("/")[-1]: code for _, stream, _, code in olevba.VBA_Parser(str(path)).extract_macros()}
        assert set(theirs) <= set(mine)
        for name, code in theirs.items():
            assert mine[name].replace("\r\n", "\n").rstrip() == code.replace("\r\n", "\n").rstrip()


# =====================================================================================================
# 单元格函数目录
# =====================================================================================================
def _udf_functions() -> dict[str, object]:
    """Excel 中注册的单元格函数：udfs/xl.py 的包装函数（另一项工作提供；缺失时用目录本身的 Excel 版本）。"""
    try:
        from udfs import xl
    except ImportError:
        return {s.name: s.excel for s in CATALOG}
    return dict(xl.WRAPPERS)


def test_every_udf_has_pure_counterpart_chinese_description_and_readme_entry():
    from udfs.excel import BY_NAME

    readme = (ROOT / "docs" / "rules.md").read_text(encoding="utf-8")  # 单元格函数（UDF）一节
    functions = _udf_functions()
    assert set(functions) == {s.name for s in CATALOG}
    for name, fn in functions.items():
        spec = BY_NAME[name]
        assert spec.func.__module__.startswith("udfs.") and "xlwings" not in spec.func.__module__, name
        desc = getattr(fn, "__doc__", None) or spec.description  # 函数向导显示的说明（xlwings 取 __doc__）
        assert 0 < len(desc) <= 255 and re.search(r"[\u4e00-\u9fff]", desc), name
        assert 0 < len(spec.description) <= 255, name
        assert re.search(rf"`{name}`", readme), f"docs/rules.md 缺少 {name}"


# =====================================================================================================
# 替身：按 xlwings / Excel 文档的行为
# =====================================================================================================
def _blank_sheet():
    app = FakeApp()
    book = FakeBook(app, "t.xlsx", "/tmp/t.xlsx")
    app.books._list.append(book)
    return book, book.sheets.add("Sheet1")


def test_fake_values_follow_xlwings_datastructures_docs():
    _, sh = _blank_sheet()
    sh.range("A1").value = 1
    sh.range("A2").value = "Hello"
    sh.range("A4").value = dt.datetime(2000, 1, 1)
    assert sh.range("A1").value == 1.0 and isinstance(sh.range("A1").value, float)
    assert sh.range("A2").value == "Hello"
    assert sh.range("A3").value is None
    assert sh.range("A4").value == dt.datetime(2000, 1, 1)
    sh.range("A1").value = [[1], [2], [3]]
    assert sh.range("A1:A3").value == [1.0, 2.0, 3.0]  # 一列 → 一维 list
    sh.range("A1").value = [1, 2, 3]
    assert sh.range("A1:C1").value == [1.0, 2.0, 3.0]  # 一行 → 一维 list
    assert sh.range("A1:C1").options(ndim=2).value == [[1.0, 2.0, 3.0]]
    assert sh.range("A1").options(ndim=2).value == [[1.0]]
    sh.range("A1").value = [[1, "x"], [None, 2.5]]
    assert sh.range("A1:B2").value == [[1.0, "x"], [None, 2.5]]


def test_fake_errors_and_formulas_follow_the_docs():
    _, sh = _blank_sheet()
    sh.cells[(1, 1)] = Cell(XlError("#DIV/0!"), "=1/0")
    assert sh.range("A1").value is None  # 默认错误读成 None
    assert sh.range("A1").options(err_to_str=True).value == "#DIV/0!"
    sh.range("B1").value = 12
    sh.range("C1").value = "=B1*2"
    sh.range("D1").value = "文本"
    assert sh.range("A1").formula == "=1/0"
    assert sh.range("B1").formula == "12"  # 常量：返回常量本身
    assert sh.range("E1").formula == ""  # 空单元格：空串
    assert sh.range("C1").formula == "=B1*2"
    assert sh.range("B1:E1").formula == (("12", "=B1*2", "文本", ""),)  # 多格：二维元组（pywin32）


def test_fake_input_rules_and_sheets():
    book, sh = _blank_sheet()
    sh.range("A1").value = "'=SUM(B1)"
    sh.range("A2").value = "'001"
    sh.range("A3").value = "001"
    sh.range("A4").value = "12%"
    sh.range("A5").value = "="
    assert sh.range("A1").value == "=SUM(B1)" and sh.range("A1").formula == "=SUM(B1)"
    assert sh.range("A2").value == "001"
    assert sh.range("A3").value == 1.0 and sh.range("A4").value == 0.12
    assert sh.range("A5").value == "="
    with pytest.raises(ValueError):
        book.sheets.add("sheet1")  # 同名（不区分大小写）
    s2 = book.sheets.add("数据", after=sh)
    assert [s.name for s in book.sheets] == ["Sheet1", "数据"] and book.active_sheet is s2
    s2.range("C5").value = [[1, 2], [3, 4]]
    ur = s2.used_range
    assert (ur.row, ur.column, ur.shape) == (5, 3, (2, 2))
    assert book.sheets.add("新").used_range.address == "$A$1"


def _xlwings_windows_cleaner() -> dict:
    """xlwings/_xlwindows.py 中把 COM 原值清洗成 Python 值的代码（cell_errors 与 _clean_value_data_element），
    取自已安装的 xlwings 源码原文。该模块导入 pywin32，Linux 上不能整体导入，所以只编译这两段。"""
    import ast

    import xlwings

    tree = ast.parse((Path(xlwings.__file__).parent / "_xlwindows.py").read_text(encoding="utf-8"))
    body = [n for n in tree.body
            if (isinstance(n, ast.Assign) and any(getattr(t, "id", None) == "cell_errors" for t in n.targets))
            or (isinstance(n, ast.FunctionDef) and n.name == "_clean_value_data_element")]
    assert len(body) == 2, "xlwings/_xlwindows.py 的结构变了：重新核对替身"
    # pywin32 的日期类型在这里不会出现（测试只给 datetime）；日期换算函数按原样返回
    ns: dict = {"time_types": (dt.date, dt.datetime), "_com_time_to_datetime": lambda v, _builder: v}
    exec(compile(ast.Module(body=body, type_ignores=[]), "xlwings/_xlwindows.py", "exec"), ns)  # noqa: S102
    return ns


def test_fake_reads_equal_xlwings_own_conversion_of_com_values(monkeypatch):
    """替身的 Range.value 与真 xlwings 的读取管线（conversion.read：Ensure2D → 清洗 → ndim 调整）对同一份 COM 原值
    （pywin32 的形状：单格为标量、多格为二维元组；错误为 COM 错误码；空白为 None；货币格式为 Decimal）给出相同结果。"""
    import xlwings
    import xlwings.conversion as conversion

    ns = _xlwings_windows_cleaner()
    code_of = {text: code for code, text in ns["cell_errors"].items()}

    class WindowsImpl:  # xlwings 读取时只用到引擎的这几个成员
        name, type = "excel", "desktop"

        @staticmethod
        def clean_value_data(data, dates, empty, numbers, err_to_str):
            return [[ns["_clean_value_data_element"](c, dates, empty, numbers, err_to_str) for c in row] for row in data]

    monkeypatch.setitem(xlwings.engines.engines_by_name, "excel", xlwings.main.Engine(impl=WindowsImpl()))

    _, sh = _blank_sheet()
    sh.range("A1").value = [[1, "文本", None], [2.5, True, dt.datetime(2021, 3, 4)], ["", 0, "=1"]]
    sh.cells[(1, 3)] = Cell(XlError("#DIV/0!"), "=1/0")
    sh.cells[(3, 3)] = Cell(XlError("#NAME?"), "=SCORE_X(A1)")
    sh.cells[(2, 4)] = Cell(Decimal("12.3400"))  # 货币格式：pywin32 给 Decimal

    def com_value(addr: str):
        (r1, c1, r2, c2), = __import__("fake_xlwings").parse_address(addr)

        def raw(r, c):
            cell = sh.cells.get((r, c))
            v = None if cell is None else cell.value
            return code_of[v.text] if isinstance(v, XlError) else v

        rows = tuple(tuple(raw(r, c) for c in range(c1, c2 + 1)) for r in range(r1, r2 + 1))
        return rows[0][0] if (r1, c1) == (r2, c2) else rows

    checked = 0
    for addr in ("A1", "C1", "C3", "E9", "D2", "A1:D1", "A1:A3", "C1:C3", "A1:D3", "B2:C3"):
        for opts in ({}, {"ndim": 2}, {"err_to_str": True}, {"ndim": 2, "err_to_str": True}):
            want = conversion.read(None, com_value(addr), dict(opts))
            assert sh.range(addr).options(**opts).value == want, (addr, opts)
            checked += 1
    assert checked == 40
    # 抽查几个结果本身（防止两边一起错）
    assert conversion.read(None, com_value("C1"), {"err_to_str": True}) == "#DIV/0!"
    assert conversion.read(None, com_value("A1:A3"), {}) == [1.0, 2.5, None]
    assert conversion.read(None, com_value("A1"), {"ndim": 2}) == [[1.0]]


def test_fake_has_the_xlwings_members_the_adapter_calls():
    """XlwingsBook 调用的每个 xlwings 成员：真 xlwings 类上存在，替身上也存在，且两边都接受适配器的调用方式。"""
    import inspect

    import xlwings.main as xm
    from fake_xlwings import FakeChart, FakeFont

    book, sh = _blank_sheet()
    app, rng, chart = book.app, sh.range("A1"), FakeChart(0, 0, 1, 1)
    members = [
        (xm.App, app, ["books", "alert", "api", "calculate"]),
        (xm.Books, app.books, ["open"]),
        (xm.Book, book, ["name", "fullname", "sheets", "app", "api", "save", "close"]),
        (xm.Sheets, book.sheets, ["add", "__getitem__", "__len__", "__iter__", "__call__"]),
        (xm.Sheet, sh, ["name", "range", "used_range", "delete", "activate", "charts", "api"]),
        (xm.Range, rng, ["value", "formula", "options", "row", "column", "shape", "address", "color", "number_format",
                         "wrap_text", "font", "column_width", "row_height", "left", "top", "add_hyperlink", "api"]),
        (xm.Font, FakeFont(rng), ["name", "size", "bold", "color"]),
        (xm.Charts, sh.charts, ["add"]),
        (xm.Chart, chart, ["set_source_data", "chart_type", "api"]),
    ]
    for real, fake, names in members:
        for n in names:
            assert hasattr(real, n), f"xlwings {real.__name__} 没有 {n}"
            assert hasattr(fake, n), f"替身 {type(fake).__name__} 没有 {n}"
    calls = [  # (真方法, 替身方法, 位置参数, 关键字参数)——与 addin/io/xlbook.py 中的调用一致
        (xm.Sheets.add, book.sheets.add, ("报告",), {"before": None}),
        (xm.Sheets.add, book.sheets.add, ("报告",), {"after": None}),
        (xm.Range.options, rng.options, (), {"ndim": 2, "err_to_str": True}),
        (xm.Range.add_hyperlink, rng.add_hyperlink, ("#'评分表'!H12",), {"text_to_display": "H12", "screen_tip": "跳转"}),
        (xm.App.alert, app.alert, ("消息", ), {"title": "绩效评价", "mode": "critical"}),
        (xm.Charts.add, sh.charts.add, (), {"left": 0, "top": 0, "width": 453.6, "height": 226.8}),
        (xm.Chart.set_source_data, chart.set_source_data, (rng,), {}),
        (xm.Sheet.range, sh.range, ((1, 1), (2, 2)), {}),
        (xm.Sheet.range, sh.range, ("A1",), {}),
        (xm.Books.open, app.books.open, ("C:\\a.xlsx",), {}),
    ]
    for real, fake, args, kwargs in calls:
        inspect.signature(real).bind(None, *args, **kwargs)
        inspect.signature(fake).bind(*args, **kwargs)
    assert set(inspect.signature(xm.App.alert).parameters) >= {"prompt", "title", "mode"}


def test_real_and_fake_sheets_add_reject_duplicate_names_alike():
    """xlwings Sheets.add 在 Python 侧检查重名（不区分大小写，抛 ValueError）：用真 xlwings 类与最小的 impl 验证，
    替身给出同样的异常与消息。"""
    import xlwings.main as xm

    class SheetImpl:
        def __init__(self, name):
            self.name = name

    class SheetsImpl(list):  # COM Worksheets：Item(i) 从 1 起
        def __call__(self, key):
            return self[key - 1] if isinstance(key, int) else next(s for s in self if s.name == key)

        def add(self, before, after, name):
            self.append(SheetImpl(name))
            return self[-1]

    real = xm.Sheets(impl=SheetsImpl([SheetImpl("Data"), SheetImpl("评分表")]))
    book, _ = _blank_sheet()
    fake = book.sheets
    fake.add("Data", before=fake[0])
    fake.add("评分表", after=fake["Sheet1"])
    fake["Sheet1"].delete()
    assert [s.name for s in real] == [s.name for s in fake] == ["Data", "评分表"]
    for sheets in (real, fake):
        with pytest.raises(ValueError, match="Sheet named '评分表' already present in workbook"):
            sheets.add("评分表")
        with pytest.raises(ValueError, match="'DATA' already present"):
            sheets.add("DATA")  # 不区分大小写
        assert sheets[1].name == "评分表" and sheets(1).name == "Data"  # [] 从 0 起、() 从 1 起
    assert real.add("报告").name == "报告"


def test_fake_protection_blocks_locked_cells():
    _, sh = _blank_sheet()
    sh.api.Protect("", True, True, True, False, AllowFormattingCells=False)
    with pytest.raises(FakeComError):
        sh.range("A1").value = 1
    with pytest.raises(FakeComError):
        sh.range("A1").api.FormatConditions.Add(Type=2, Formula1="=TRUE")
    sh.api.Unprotect("")
    sh.range("A1").value = 1
    sh.api.Protect("pw")
    with pytest.raises(FakeComError):
        sh.api.Unprotect("")


# =====================================================================================================
# XlwingsBook
# =====================================================================================================
@pytest.mark.parametrize("name", ["baojing-2018", "zizhou-2021", "shiping-2022", "kaifu-2020"])
def test_xlwings_grid_equals_openpyxl_grid(demo_dir, name):
    path = demo_dir / f"{name}.xlsx"
    ob = OpenpyxlBook(path, with_cached=True)
    xb = XlwingsBook(fake_book(path))
    assert xb.sheet_names() == ob.sheet_names()
    for sheet in ob.sheet_names():
        assert xb.grid(sheet) == ob.grid(sheet), sheet


def test_xlwings_grid_offsets_and_formula_detection():
    book, sh = _blank_sheet()
    sh.range("C5").value = [["=", "'=A1"], [3, "=C6*2"]]
    sh.cells[(6, 4)].value = 6.0  # 公式的计算结果
    sh.range("E7").value = 2.5
    g = XlwingsBook(book).grid("Sheet1")
    assert g == {(5, 3): "=", (5, 4): "=A1", (6, 3): 3, (6, 4): Formula("=C6*2", 6), (7, 5): 2.5}
    assert isinstance(g[(6, 3)], int)
    with pytest.raises(BookError):
        XlwingsBook(book).grid("没有这张表")


def test_xlwings_grid_reads_currency_cells_as_numbers():
    # 货币格式单元格：pywin32 把 COM Currency 给成 Decimal；openpyxl 读同一格是 float/int，两种适配器须一致
    book, sh = _blank_sheet()
    sh.cells[(1, 1)] = Cell(Decimal("12.3400"))
    sh.cells[(1, 2)] = Cell(Decimal("7.0000"))
    g = XlwingsBook(book).grid("Sheet1")
    assert g == {(1, 1): 12.34, (1, 2): 7} and type(g[(1, 1)]) is float and type(g[(1, 2)]) is int


def test_workbook_on_onedrive_gets_a_chinese_explanation():
    book, _ = _blank_sheet()
    book.fullname = "https://d.docs.live.net/abc123/文档/保靖.xlsx"
    with pytest.raises(BookError, match="OneDrive/SharePoint"):
        _ = XlwingsBook(book).path

    class Unresolvable:  # xlwings 无法把网址换成本地路径时 Book.fullname 抛 XlwingsError（英文）
        @property
        def fullname(self):
            raise RuntimeError("Couldn't find your local OneDrive folder")

    with pytest.raises(BookError, match="另存为"):
        _ = XlwingsBook(Unresolvable()).path
    assert XlwingsBook(_blank_sheet()[0]).path == Path("/tmp/t.xlsx")


def test_replace_sheet_writes_text_as_text_and_keeps_other_sheets(work):
    path = work("baojing-2018")
    book = fake_book(path)
    before = {s.name: dict(s.cells) for s in book.sheets}
    xb = XlwingsBook(book)
    writes = [CellWrite(1, 1, "标题", "title"), CellWrite(2, 1, "=SUM(A1:A9)", "text"), CellWrite(2, 2, "001"),
              CellWrite(2, 3, "12%"), CellWrite(3, 1, 0.1234, "percent"), CellWrite(3, 2, "评分表!H12", "link", "'评分表'!H12"),
              CellWrite(4, 4, "错误", "error")]
    xb.replace_sheet("校验结果", writes, {1: 30}, {3: 40})
    xb.replace_sheet("报告", [CellWrite(1, 1, "报告")])
    xb.replace_sheet("校验结果", writes)  # 再次替换：位置不变
    assert [s.name for s in book.sheets] == ["基础数据表", "评分表", "文字材料", "校验结果", "报告"]
    sh = book.sheets["校验结果"]
    g = xb.grid("校验结果")
    assert g[(2, 1)] == "=SUM(A1:A9)" and not isinstance(g[(2, 1)], Formula)
    assert g[(2, 2)] == "001" and g[(2, 3)] == "12%" and g[(3, 1)] == 0.1234
    assert sh.styles[(1, 1)]["font.bold"] and sh.styles[(3, 1)]["number_format"] == "0.00%"
    assert sh.styles[(4, 4)]["color"] == (0xFF, 0xC7, 0xCE)
    assert sh.hyperlinks[(3, 2)][0] == "#'评分表'!H12"
    for s in book.sheets:
        if s.name in before:
            assert s.cells == before[s.name], s.name


def test_highlight_uses_conditional_formats_and_restores_protection(work):
    book = fake_book(work("baojing-2018"))
    xb = XlwingsBook(book)
    scores = book.sheets["评分表"]
    assert not scores.protected  # 评分表不设保护（指标行由用户维护）；用户自己加了保护时照样高亮并恢复保护
    user_rule = scores.range("A1").api.FormatConditions.Add(Type=2, Formula1="=A1>0")  # 用户自己的条件格式
    scores.api.Protect("", True, True, True, False, AllowFormattingColumns=True)
    notes = xb.highlight([("评分表", "H12", "错误"), ("评分表", "R12:R14", "警告"), ("基础数据表", "C5", "提示")])
    assert notes == []
    ours = [fc for fc in scores.format_conditions if fc.Formula1 == HIGHLIGHT_MARKER]
    assert [(fc.AppliesTo, fc.Interior.Color) for fc in ours] == [("$H$12", 0xCEC7FF), ("$R$12:$R$14", 0x9CEBFF)]
    assert scores.protected and scores.protection.AllowFormattingColumns  # 保护按原选项恢复
    xb.highlight([("评分表", "B2", "错误")])  # 下次校验：先清除上次的
    assert [fc.AppliesTo for fc in scores.format_conditions if fc.Formula1 == HIGHLIGHT_MARKER] == ["$B$2"]
    assert user_rule in scores.format_conditions
    assert not [fc for fc in book.sheets["基础数据表"].format_conditions if fc.Formula1 == HIGHLIGHT_MARKER]
    scores.password = "secret"
    assert "密码" in xb.highlight([("评分表", "H12", "错误")])[0]


def test_excel_text_prefixes_strings():
    assert excel_text("=1+1") == "'=1+1" and excel_text("") is None and excel_text(3) == 3


# =====================================================================================================
# 按钮入口：openpyxl 适配器（命令行同一路径）与命令行结果一致
# =====================================================================================================
DEMOS = ["baojing-2018", "zizhou-2021", "shiping-2022", "kaifu-2020"]


def _cli(capsys, *args: str) -> tuple[int, str]:
    rc = cli_main(list(args))
    return rc, capsys.readouterr().out


def _docx_text(path: Path) -> list[str]:
    import docx as python_docx

    doc = python_docx.Document(str(path))
    return [p.text for p in doc.paragraphs] + [c.text for t in doc.tables for row in t.rows for c in row.cells]


@pytest.mark.parametrize("name", DEMOS)
def test_every_ribbon_action_equals_the_cli_on_every_demo(work, tmp_path, name, capsys, monkeypatch):
    """验收：每个按钮在每个示例工作簿上无界面运行，与命令行结果相同——经 openpyxl 适配器（命令行同一路径）
    与经 xlwings 适配器（替身，即 Excel 中的路径，按钮入口连同消息框完整运行）各一遍。"""
    from udfs.numbers import fmt_score

    src = work(name)
    # ---- 命令行 ----
    rc, out = _cli(capsys, "score", str(src), "--json")
    score = json.loads(out)
    # 开福 2020 评分表待填：评价未完成，退出码 1，没有总分与等级（按钮的消息同样说“评价未完成”）
    assert rc == (0 if name != "kaifu-2020" else 1) and (score["total"] is not None) == score["complete"]
    rc_check, out = _cli(capsys, "check", str(src), "--json")
    check = json.loads(out)
    cli_xlsx, cli_docx, cli_final = tmp_path / "cli_报告.xlsx", tmp_path / "cli.docx", tmp_path / "cli_定稿.xlsx"
    assert _cli(capsys, "report", str(src), "-o", str(cli_xlsx), "--docx", str(cli_docx))[0] in (0, 1)
    assert _cli(capsys, "export", str(src), "-o", str(cli_final))[0] == 0
    cli_report_grid = OpenpyxlBook(cli_xlsx).grid("报告")
    headline = (f"总分 {fmt_score(Decimal(str(score['total'])))} 分，等级：{score['grade']}" if score["complete"]
                else f"评价未完成：{len(score['missing'])} 项指标无法计分，不给出总分与等级")

    # ---- 按钮逻辑 + openpyxl 适配器 ----
    rec = ribbon.do_recalculate(OpenpyxlBook(src, with_cached=True))
    assert rec.data == score and headline in rec.message and "不一致" not in rec.message
    book = OpenpyxlBook(src, with_cached=True)
    chk = ribbon.do_check(book)
    assert [f.as_dict() for f in chk.data] == check["findings"]
    assert chk.critical == (rc_check == 1) and f"错误 {check['summary']['errors']} 项" in chk.message
    assert book.grid("校验结果")[(1, 1)] == "校验结果" and chk.activate == "校验结果"
    book = OpenpyxlBook(src, with_cached=True)
    rep = ribbon.do_report(book, tmp_path / "ribbon.docx")
    assert book.grid("报告") == cli_report_grid
    # 评分完整才报总分与等级；不完整（开福）时报告是草稿，消息列出尚缺的内容
    assert (headline in rep.message) == rep.data["report"].complete != ("报告为草稿" in rep.message)
    assert _docx_text(tmp_path / "ribbon.docx") == _docx_text(cli_docx)
    exp = ribbon.do_export_final(OpenpyxlBook(src, with_cached=True)).data
    assert exp.target == src.with_name(f"{name}_定稿.xlsx")
    with zipfile.ZipFile(exp.target) as a, zipfile.ZipFile(cli_final) as b:
        assert {n: a.read(n) for n in a.namelist()} == {n: b.read(n) for n in b.namelist()}

    # ---- 按钮入口 + xlwings 适配器（替身） ----
    app = FakeApp()
    fb = fake_book(src, app)
    monkeypatch.setattr(ribbon, "caller_book", lambda: XlwingsBook(fb))
    monkeypatch.setattr(ribbon, "log_path", lambda: tmp_path / "jixiao-ribbon.log")
    assert ribbon.recalculate().data == score
    x_chk = ribbon.check()
    assert [f.as_dict() for f in x_chk.data] == check["findings"] and x_chk.critical == (rc_check == 1)
    x_rep = ribbon.report()
    assert XlwingsBook(fb).grid("报告") == cli_report_grid
    # 打印设置与命令行（openpyxl）相同：A4 纵向、一页宽、标题行每页重复、草稿在页眉标出
    ps = fb.sheets["报告"].page_setup.props
    assert (ps["PaperSize"], ps["Orientation"], ps["FitToPagesWide"], ps["PrintTitleRows"]) == (9, 1, 1, "$1:$1")
    assert ps["RightHeader"] == ("草稿" if x_rep.data["report"].draft else "") == (
        openpyxl.load_workbook(cli_xlsx)["报告"].oddHeader.right.text or "")
    assert _docx_text(x_rep.data["docx"]) == _docx_text(cli_docx)
    x_exp = ribbon.export_final().data
    assert x_exp.replaced == exp.replaced
    assert [a["title"] for a in app.alerts] == [f"绩效评价 - {ribbon.ENTRY_POINTS[e]}"
                                                for e in ("recalculate", "check", "report", "export_final")]
    assert not any("内部错误" in a["prompt"] for a in app.alerts)
    # 定稿（Excel 中另存的副本）：任何工作表都没有单元格函数；原来是单元格函数的格，数值与命令行定稿逐格相同
    copy = app.files[str(x_exp.target)]
    final = openpyxl.load_workbook(cli_final)
    source = openpyxl.load_workbook(src)
    shown = openpyxl.load_workbook(src, data_only=True)  # 原工作簿里保存的计算结果（用户在 Excel 中看到的数）
    compared = 0
    for sh in copy.sheets:
        assert not [rc for rc, cell in sh.cells.items() if cell.formula and export.udf_calls(cell.formula)], sh.name
        if sh.name not in source.sheetnames:
            continue  # 校验结果、报告：本次会话生成、尚未保存的表，SaveCopyAs 照样带上
        for row in source[sh.name].iter_rows():
            for c in row:
                if c.data_type == "f" and export.udf_calls(c.value):
                    want = final[sh.name].cell(c.row, c.column).value
                    got = sh.cells[(c.row, c.column)].value
                    assert want == shown[sh.name].cell(c.row, c.column).value, (sh.name, c.coordinate)
                    assert got == (float(want) if isinstance(want, int) else want), (sh.name, c.coordinate)
                    compared += 1
    assert compared == exp.replaced


def test_report_writes_sheet_and_word_next_to_workbook(work):
    path = work("baojing-2018")
    book = OpenpyxlBook(path, with_cached=True)
    outcome = ribbon.do_report(book)
    docx = path.with_name("baojing-2018_绩效评价报告.docx")
    assert outcome.data["docx"] == docx and docx.is_file()
    text = " ".join(str(v) for v in book.grid("报告").values())
    assert "94.9" in text and "优" in text
    import docx as python_docx

    body = "\n".join(p.text for p in python_docx.Document(str(docx)).paragraphs)
    assert "94.9" in body
    assert "总分 94.9 分，等级：优" in outcome.message


def test_help_lists_every_button():
    msg = ribbon.do_help().message
    for label in ribbon.ENTRY_POINTS.values():
        assert f"· {label}" in msg or label == "帮助"
    assert "xlwings 包版本" in msg


# =====================================================================================================
# 按钮入口：经 xlwings 适配器（替身）完整运行
# =====================================================================================================
@pytest.fixture()
def excel(work, monkeypatch):
    """模拟在 Excel 中打开 baojing-2018.xlsx 后点按钮：返回 (app, book)。"""
    path = work("baojing-2018")
    app = FakeApp()
    book = fake_book(path, app)
    monkeypatch.setattr(ribbon, "caller_book", lambda: XlwingsBook(book))
    monkeypatch.setattr(ribbon, "log_path", lambda: path.with_name("jixiao-ribbon.log"))
    return app, book


def test_all_buttons_in_excel(excel):
    app, book = excel
    original = {s.name: dict(s.cells) for s in book.sheets}
    for entry, label in ribbon.ENTRY_POINTS.items():
        outcome = getattr(ribbon, entry)()
        alert = app.alerts[-1]
        assert alert["title"] == f"绩效评价 - {label}"
        assert "Traceback" not in alert["prompt"] and "内部错误" not in alert["prompt"], alert["prompt"]
        assert alert["prompt"] == outcome.message
    assert [s.name for s in book.sheets][-2:] == ["校验结果", "报告"]
    assert app.calculations == ["CalculateFull"]  # 计算得分：完全重算（Ctrl+Alt+F9），不是只算“脏”单元格
    assert "总分 94.9 分，等级：优" in app.alerts[1]["prompt"]
    for name, cells in original.items():  # 用户的工作表一格未动
        assert book.sheets[name].cells == cells
    copy = app.files[str(Path(book.fullname).with_name("baojing-2018_定稿.xlsx"))]
    assert not [c for s in copy.sheets for c in s.cells.values() if c.formula and export.udf_calls(c.formula)]
    assert copy.sheets["基础数据表"].protected and not copy.sheets["评分表"].protected
    assert len(book.sheets["报告"].charts) == 1


def test_recalculate_reports_cells_that_show_name_errors(excel):
    app, book = excel
    sh = book.sheets["评分表"]
    bad = [rc for rc, c in sh.cells.items() if c.formula and c.formula.startswith("=FINAL_SCORE")][:2]
    assert bad
    for rc in bad:
        sh.cells[rc].value = XlError("#NAME?")
    outcome = ribbon.recalculate()
    assert outcome.critical and "不一致" in outcome.message and "#NAME?" in outcome.message


def test_errors_become_chinese_messages(excel, monkeypatch):
    app, book = excel
    book.sheets["评分表"].name = "别的表"
    ribbon.check()
    assert app.alerts[-1]["mode"] == "critical" and "评分表" in app.alerts[-1]["prompt"]
    book.sheets["别的表"].name = "评分表"

    def boom(b):
        raise ZeroDivisionError("意外")

    monkeypatch.setitem(ribbon.ACTIONS, "check", boom)
    ribbon.check()
    prompt = app.alerts[-1]["prompt"]
    assert "内部错误（ZeroDivisionError" in prompt and "Traceback" not in prompt
    assert "Traceback" in ribbon.log_path().read_text(encoding="utf-8")


def test_unsaved_workbook_cannot_report_or_export(excel):
    app, book = excel
    book.fullname = "工作簿1"
    ribbon.report()
    assert "请先保存" in app.alerts[-1]["prompt"]
    ribbon.export_final()
    assert "请先保存" in app.alerts[-1]["prompt"]
    book.fullname = "https://contoso.sharepoint.com/sites/财务/保靖.xlsx"
    for entry in (ribbon.report, ribbon.export_final):
        entry()
        assert "OneDrive/SharePoint" in app.alerts[-1]["prompt"] and app.alerts[-1]["mode"] == "critical"


def test_no_excel_exits_with_one_chinese_line(monkeypatch, capsys):
    def no_caller():
        raise RuntimeError("not called from Excel")

    monkeypatch.setattr(ribbon, "caller_book", no_caller)
    monkeypatch.setattr(ribbon, "log_path", lambda: Path("/dev/null"))
    with pytest.raises(SystemExit) as exc:
        ribbon.help()
    assert exc.value.code == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "无法连接到 Excel" in err


# =====================================================================================================
# 导出定稿
# =====================================================================================================
def test_udf_calls_recognises_every_spelling():
    assert export.udf_calls("=STAFF_CONTROL_RATE(C5,C6)") == {"STAFF_CONTROL_RATE"}
    assert export.udf_calls("=[1]!score_linear(H12,E12,K12,L12:U12)") == {"SCORE_LINEAR"}
    assert export.udf_calls("='C:\\Users\\张三\\XLSTART\\jixiao.xlam'!GRADE_OF(R40,B43:B46,C43:C46)") == {"GRADE_OF"}
    assert export.udf_calls("=_xludf.FINAL_SCORE(P12,Q12)") == {"FINAL_SCORE"}
    assert export.udf_calls('=IF(A1="SCORE(",SUM(A1:A3),0)') == set()
    assert export.udf_calls("=MY.SCORE(A1)+XSCORE(A2)") == set()


def _parts(path: Path) -> dict[str, bytes]:
    with zipfile.ZipFile(path) as z:
        return {n: z.read(n) for n in z.namelist()}


def test_export_replaces_only_udf_formulas(work):
    path = work("zizhou-2021")
    result = export.export_final(OpenpyxlBook(path, with_cached=True))
    before, after = _parts(path), _parts(result.target)
    changed = {n for n in before if before[n] != after.get(n)}
    assert changed <= {"xl/worksheets/sheet2.xml", "xl/calcChain.xml"}  # 只有评分表
    assert set(after) <= set(before)
    wb = openpyxl.load_workbook(result.target)
    cached = openpyxl.load_workbook(result.target, data_only=True)
    orig = openpyxl.load_workbook(path, data_only=True)
    orig_f = openpyxl.load_workbook(path)
    kept = 0
    for ws in wb.worksheets:
        for row in ws.iter_rows():
            for c in row:
                o = orig_f[ws.title].cell(c.row, c.column)
                if o.data_type == "f" and export.udf_calls(o.value):
                    assert c.data_type != "f"
                    assert c.value == orig[ws.title].cell(c.row, c.column).value  # 数值 = 原缓存结果
                elif o.data_type == "f":
                    kept += 1  # 内置函数公式保留，且缓存结果仍在
                    assert c.value == o.value
                    assert cached[ws.title].cell(c.row, c.column).value == orig[ws.title].cell(c.row, c.column).value
                else:
                    assert c.value == o.value
    assert kept > 0
    assert wb["基础数据表"].protection.sheet  # 工作表保护原样
    assert result.replaced == 74 and not result.from_engine


def test_export_of_openpyxl_saved_workbook_uses_engine_values(work, tmp_path):
    path = work("baojing-2018")
    resaved = tmp_path / "resaved.xlsx"
    openpyxl.load_workbook(path).save(resaved)  # openpyxl 保存：公式的计算结果全部丢失
    assert openpyxl.load_workbook(resaved, data_only=True)["评分表"]["H12"].value is None
    result = export.export_final(OpenpyxlBook(resaved, with_cached=True))
    assert len(result.from_engine) == result.replaced > 40
    orig = openpyxl.load_workbook(path, data_only=True)["评分表"]
    new = openpyxl.load_workbook(result.target)["评分表"]
    f = openpyxl.load_workbook(path)["评分表"]
    for row in f.iter_rows():
        for c in row:
            if c.data_type == "f" and export.udf_calls(c.value):
                want, got = orig.cell(c.row, c.column).value, new.cell(c.row, c.column).value
                if isinstance(want, float):
                    assert got == pytest.approx(want, abs=1e-9), c.coordinate
                else:
                    assert got == want, c.coordinate


def test_export_refuses_cells_without_any_value(work, tmp_path):
    path = work("baojing-2018")
    wb = openpyxl.load_workbook(path)
    wb["基础数据表"]["H2"] = "=STAFF_CONTROL_RATE(C5,C6)"  # 用户自己加的函数，没有保存结果
    out = tmp_path / "user.xlsx"
    wb.save(out)
    with pytest.raises(export.ExportError, match=r"基础数据表”!H2"):
        export.export_final(OpenpyxlBook(out, with_cached=True))
    with pytest.raises(export.ExportError, match="不能覆盖"):
        export.export_final(OpenpyxlBook(path, with_cached=True), path)


def _excel_saved(src: Path, dst: Path, alice_path: str) -> None:
    """模拟在张三电脑上用 Excel 保存过的工作簿：函数写成 [1]!NAME(…)，[1] 指向张三的 jixiao.xlam，
    另有一个指向其他工作簿的外部链接 [2]（单元格 基础数据表!H1 引用它），评分表的实际值列用共享公式。"""
    parts = _parts(src)
    ct = parts["[Content_Types].xml"].decode()
    ct = ct.replace("</Types>", '<Override PartName="/xl/externalLinks/externalLink1.xml" ContentType="application/'
                    'vnd.openxmlformats-officedocument.spreadsheetml.externalLink+xml"/><Override PartName="/xl/'
                    'externalLinks/externalLink2.xml" ContentType="application/vnd.openxmlformats-officedocument.'
                    'spreadsheetml.externalLink+xml"/></Types>')
    parts["[Content_Types].xml"] = ct.encode()
    rels = parts["xl/_rels/workbook.xml.rels"].decode()
    lt = "http://schemas.openxmlformats.org/officeDocument/2006/relationships/externalLink"
    rels = rels.replace("</Relationships>", f'<Relationship Id="rIdX1" Type="{lt}" Target="externalLinks/externalLink1.xml"/>'
                        f'<Relationship Id="rIdX2" Type="{lt}" Target="externalLinks/externalLink2.xml"/></Relationships>')
    parts["xl/_rels/workbook.xml.rels"] = rels.encode()
    wbx = parts["xl/workbook.xml"].decode()
    wbx = wbx.replace("</sheets>", '</sheets><externalReferences><externalReference r:id="rIdX1"/>'
                      '<externalReference r:id="rIdX2"/></externalReferences>', 1)
    parts["xl/workbook.xml"] = wbx.encode()
    main = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
    path_type = "http://schemas.openxmlformats.org/officeDocument/2006/relationships/externalLinkPath"
    for i, (target, names) in enumerate([(alice_path, [s.name for s in CATALOG]), ("other.xlsx", [])], 1):
        body = "".join(f'<definedName name="{n}"/>' for n in names)
        parts[f"xl/externalLinks/externalLink{i}.xml"] = (
            f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?><externalLink xmlns="{main}" xmlns:r='
            f'"http://schemas.openxmlformats.org/officeDocument/2006/relationships"><externalBook r:id="rId1">'
            f'<sheetNames><sheetName val="Sheet1"/></sheetNames><definedNames>{body}</definedNames></externalBook>'
            "</externalLink>").encode()
        parts[f"xl/externalLinks/_rels/externalLink{i}.xml.rels"] = (
            '<?xml version="1.0" encoding="UTF-8" standalone="yes"?><Relationships xmlns="http://schemas.openxmlformats'
            f'.org/package/2006/relationships"><Relationship Id="rId1" Type="{path_type}" Target="{target}" '
            'TargetMode="External"/></Relationships>').encode()
    sheets = {}
    for name in [n for n in parts if n.startswith("xl/worksheets/sheet")]:
        xml = parts[name].decode()
        for s in CATALOG:
            xml = re.sub(rf"<f>{s.name}\(", f"<f>[1]!{s.name}(", xml)
        sheets[name] = xml
    # 基础数据表（sheet1）H1 引用另一个工作簿
    sheets["xl/worksheets/sheet1.xml"] = re.sub(r'(<row r="1"[^>]*>.*?)(</row>)', r'\1<c r="H1"><f>[2]Sheet1!A1*2</f><v>4</v></c>\2',
                                                sheets["xl/worksheets/sheet1.xml"], count=1, flags=re.S)
    # 评分表：把前两个计算得分单元格改成一个共享公式组（主单元格带文本，成员为空 <f/>）
    xml = sheets["xl/worksheets/sheet2.xml"]
    cells = re.findall(r'<c r="(V\d+)"[^>]*><f>([^<]*)</f>', xml)[:2]
    if len(cells) == 2:
        (r1, f1), (r2, _) = cells
        xml = xml.replace(f'<c r="{r1}"', f'<c r="{r1}"', 1)
        xml = re.sub(rf'(<c r="{r1}"[^>]*>)<f>([^<]*)</f>', rf'\1<f t="shared" ref="{r1}:{r2}" si="0">\2</f>', xml,
                     count=1)
        xml = re.sub(rf'(<c r="{r2}"[^>]*>)<f>([^<]*)</f>', r'\1<f t="shared" si="0"/>', xml, count=1)
    sheets["xl/worksheets/sheet2.xml"] = xml
    parts.update({k: v.encode() for k, v in sheets.items()})
    with zipfile.ZipFile(dst, "w", zipfile.ZIP_DEFLATED) as z:
        for n, data in parts.items():
            z.writestr(n, data)


def test_export_of_excel_saved_workbook_drops_addin_link_and_renumbers(work, tmp_path):
    src = work("baojing-2018")
    saved = tmp_path / "张三.xlsx"
    alice = "file:///C:\\Users\\张三\\AppData\\Roaming\\Microsoft\\Excel\\XLSTART\\jixiao.xlam"
    _excel_saved(src, saved, alice)
    wb = openpyxl.load_workbook(saved)
    assert wb["评分表"]["H12"].value.startswith("=[1]!")
    assert len(wb._external_links) == 2
    result = export.export_final(OpenpyxlBook(saved, with_cached=True))
    assert any("jixiao.xlam" in n for n in result.notes)
    out = openpyxl.load_workbook(result.target)
    links = [lk.file_link.Target for lk in out._external_links]
    assert links == ["other.xlsx"]
    assert out["基础数据表"]["H1"].value == "=[1]Sheet1!A1*2"  # [2] 重排为 [1]
    parts = _parts(result.target)
    assert "xl/externalLinks/externalLink1.xml" not in parts and "xl/calcChain.xml" not in parts
    assert "externalLink1.xml" not in parts["[Content_Types].xml"].decode()
    assert parts["xl/workbook.xml"].decode().count("<externalReference ") == 1
    for ws in out.worksheets:
        for row in ws.iter_rows():
            for c in row:
                assert not (c.data_type == "f" and export.udf_calls(c.value)), c.coordinate
    # 导出后的定稿仍能计分，结果与原件相同
    from addin.scoring.engine import evaluate
    from addin.scoring.reader import read_inputs

    assert evaluate(read_inputs(OpenpyxlBook(result.target, with_cached=True))).total == Decimal("94.90")


def test_excel_export_breaks_addin_links_and_leaves_the_open_book_alone(work):
    app = FakeApp()
    book = fake_book(work("baojing-2018"), app)
    book.links = ["C:\\Users\\张三\\XLSTART\\jixiao.xlam", "D:\\数据\\other.xlsx"]
    before = {s.name: dict(s.cells) for s in book.sheets}
    xb = XlwingsBook(book)
    result = export.export_final(xb)
    copy = app.files[str(result.target)]
    assert copy.links == ["D:\\数据\\other.xlsx"]
    assert any("jixiao.xlam" in n for n in result.notes)
    assert book.links == ["C:\\Users\\张三\\XLSTART\\jixiao.xlam", "D:\\数据\\other.xlsx"]
    assert {s.name: dict(s.cells) for s in book.sheets} == before
    assert list(app.books) == [book]  # 打开的副本已关闭


# =====================================================================================================
# 安装、诊断、卸载、状态（注入的 Windows 环境：临时目录、替身注册表、替身 Excel）
# =====================================================================================================
from argparse import Namespace  # noqa: E402

from fake_xlwings import ExcelWorld, FakeRegistry, fake_import_udfs  # noqa: E402

from addin.excel import doctor, vba_modules, winsys  # noqa: E402
from addin.excel.excel_session import ExcelRunner, ExcelStepError  # noqa: E402

OFFICE = r"HKCU\Software\Microsoft\Office\16.0"
POLICY = r"HKCU\Software\Policies\Microsoft\Office\16.0"
ASR_POLICY = r"HKLM\SOFTWARE\Policies\Microsoft\Windows Defender\Windows Defender Exploit Guard\ASR\Rules"


def _pe(path: Path, machine: int) -> str:
    """最小的 PE 头：MZ、e_lfanew、PE\\0\\0、机器类型。"""
    data = bytearray(b"MZ" + b"\0" * 0x3A + (0x40).to_bytes(4, "little"))
    data += b"PE\0\0" + machine.to_bytes(2, "little") + b"\0" * 64
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(bytes(data))
    return str(path)


@pytest.fixture()
def win(tmp_path):
    home = tmp_path / "Users" / "张三"
    prefix = tmp_path / "venv"
    exe = prefix / "Scripts" / "python.exe"
    exe.parent.mkdir(parents=True)
    exe.write_bytes(b"")
    for bits in (32, 64):
        (prefix / f"xlwings{bits}-{xlam.xlwings_version()}.dll").write_bytes(b"")
    appdata = home / "AppData" / "Roaming"
    world = ExcelWorld()
    reg = FakeRegistry({
        OFFICE + r"\Excel\Options": {"Font": "宋体,11"},
        r"HKLM\SOFTWARE\Microsoft\Windows\CurrentVersion\App Paths\excel.exe":
            {"": _pe(tmp_path / "Office16" / "EXCEL.EXE", 0x8664)},
    })
    xlwings_calls = []

    def run_xlwings(args):
        xlwings_calls.append(args)
        if args == ["addin", "install"]:
            d = appdata / "Microsoft" / "Excel" / "XLSTART"
            d.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(xlam.xlwings_dir() / "addin" / "xlwings.xlam", d / "xlwings.xlam")
        return 0

    env = xlenv.Env(platform="win32", executable=exe, prefix=prefix, home=home, appdata=appdata,
                        start_excel=world.start, kill_pid=world.kill, import_udfs=fake_import_udfs,
                        run_xlwings=run_xlwings, conf_encoding="gbk", environ={}, registry=reg,
                        processes=lambda: ["explorer.exe", "EXCEL.EXE"], pe_bits=winsys.pe_bits, python_bits=64,
                        timeout=20)
    env.world = world  # type: ignore[attr-defined]
    env.xlwings_calls = xlwings_calls  # type: ignore[attr-defined]
    return env


def _xlstart(env) -> Path:
    return env.appdata / "Microsoft" / "Excel" / "XLSTART"


def _addin(env, command: str, capsys, **opts) -> tuple[int, str, str]:
    """经命令行入口（含不显示回溯的保护层）运行 install/doctor/status/uninstall。"""
    defaults = {"install": dict(skip_xlwings_addin=False, com_import=False, no_verify=False),
                "doctor": dict(json=False, no_excel=False), "status": {}, "uninstall": dict(all=False)}[command]
    args = Namespace(**{**defaults, **opts})
    fn = {"install": addin_cmd.cmd_install, "doctor": addin_cmd.cmd_doctor, "status": addin_cmd.cmd_status,
          "uninstall": addin_cmd.cmd_uninstall}[command]
    rc = addin_cmd._guarded(command, lambda a: fn(a, env))(args)
    out = capsys.readouterr()
    assert "Traceback" not in out.out + out.err
    return rc, out.out, out.err


def test_install_copies_the_prebuilt_addin_and_doctor_passes(win, capsys):
    world = win.world
    rc, out, err = _addin(win, "install", capsys)
    assert rc == 0, err
    installed = _xlstart(win) / "jixiao.xlam"
    assert xlam.verify_vba(installed) == []  # 完整的预制 VBA 工程，安装时没有改动它
    assert xlam.inspect_xlam(installed).conf == {"Interpreter_Win": str(win.executable), "UDF Modules": "udfs.xl"}
    assert "不需要“信任对 VBA 工程对象模型的访问”" in out and "VBA 工程可用" in out
    # 检查用的隐藏 Excel：关闭了事件（Workbook_Open 不运行）、没有访问 VBProject、已退出
    assert len(world.apps) == 1 and world.all_closed and world.apps[0].quit_called
    assert world.apps[0].api.EnableEvents is False
    assert world.ops == ["start", "open", "HasVBProject", "Run"]  # 没有访问 VBProject、没有导入、没有保存
    conf = xlenv.read_conf(win.xlwings_conf, "gbk")
    assert conf == {"INTERPRETER_WIN": str(win.executable), "UDF MODULES": "udfs.xl"}
    lines, ok = addin_install.status_lines(win)
    assert ok, lines
    assert f"VBA 模块与本版一致，单元格函数 {len(CATALOG)} 个" in "\n".join(lines)
    rc, out, err = _addin(win, "doctor", capsys)
    assert rc == 0, out
    expected = doctor.expected_probe()
    assert expected == Decimal(str(90.29 / 892.35)) and doctor.percent(expected) == "10.12%"
    assert "[通过] 单元格函数" in out and "（10.12%）" in out
    assert f"已登记 {len(CATALOG)} 个函数" in out and f"写回“{ribbon.DOCTOR_MARK}" in out
    assert "[失败]" not in out and world.all_closed
    data = json.loads(_addin(win, "doctor", capsys, json=True)[1])
    assert data["ok"] is True and {c["id"] for c in data["checks"]} >= {
        "python-bits", "excel-bits", "xlwings-version", "xlwings-dll", "addin-file", "conf", "access-vbom",
        "macro-policy", "asr", "security-software", "udf", "ribbon", "descriptions"}
    # 第二次安装：xlwings 加载项版本一致，不再运行 xlwings addin install
    assert _addin(win, "install", capsys)[0] == 0 and win.xlwings_calls == [["addin", "install"]]


def test_access_vbom_locked_only_matters_for_com_import(win, capsys):
    win.world.vbom_trusted = False
    win.registry.set(POLICY + r"\Excel\Security", "AccessVBOM", 0)
    rc, out, err = _addin(win, "install", capsys, com_import=True)
    assert rc == 2 and "第“访问 VBA 工程”步失败" in err and "不信任到 Visual Basic Project" in err
    assert "信任对 VBA 工程对象模型的访问" in err and "请 IT 启用组策略" in err and "jixiao addin install（不需要这个选项）" in err
    assert not (_xlstart(win) / "jixiao.xlam").exists() and win.world.all_closed
    rc, out, err = _addin(win, "install", capsys)  # 默认路线不需要它
    assert rc == 0, err
    rc, out, _ = _addin(win, "doctor", capsys)
    assert rc == 0 and "[提示] 信任对 VBA 工程对象模型的访问：被组策略禁止" in out


def test_com_import_route_builds_the_same_modules(win, capsys):
    rc, out, err = _addin(win, "install", capsys, com_import=True)
    assert rc == 0, err
    installed = _xlstart(win) / "jixiao.xlam"
    modules = xlam.read_vba_modules(installed)
    assert {"JixiaoRibbon", "JixiaoEvents", "JixiaoFunctions", "xlwings_udfs"} <= set(modules)
    assert "RibbonMyAddin" not in modules and "Workbook_Open" in modules["ThisWorkbook"]
    assert modules["xlwings_udfs"] == vba_modules.udf_wrapper_source()
    assert xlam.imported_udfs(modules) == {s.name.upper() for s in CATALOG}
    info = xlam.inspect_xlam(installed)
    assert (info.ribbon_part, info.ribbon_rel_type) == ("customUI/customUI14.xml", xlam.RIBBON_REL_TYPE)
    assert win.world.all_closed


def test_install_falls_back_to_com_import_when_excel_drops_the_prebuilt_project(win, capsys, monkeypatch):
    world = win.world
    world.drop_vba_project = vba_modules.PROJECT_NAME  # Excel 丢弃由本包写的工程，接受模板原来的工程
    rc, out, err = _addin(win, "install", capsys)
    assert rc == 0, err
    assert "Excel 未接受预制的 VBA 工程（Excel 打开加载项后没有 VBA 工程" in out and "自动改用经 COM 导入" in out
    modules = xlam.read_vba_modules(_xlstart(win) / "jixiao.xlam")
    assert xlam.imported_udfs(modules) == {s.name.upper() for s in CATALOG} and "JixiaoRibbon" in modules
    assert len(world.apps) == 2 and world.all_closed
    # 备用路线也走不通（AccessVBOM 被锁）：两条原因都说明
    world.vbom_trusted = False
    (_xlstart(win) / "jixiao.xlam").unlink()
    rc, out, err = _addin(win, "install", capsys)
    assert rc == 2 and "Excel 未接受预制的 VBA 工程" in err and "备用的经 COM 导入也未能完成" in err
    assert "信任对 VBA 工程对象模型的访问" in err and not (_xlstart(win) / "jixiao.xlam").exists()


@pytest.mark.parametrize("op, step, com", [
    ("start", "启动 Excel", False), ("open", "打开加载项", False), ("HasVBProject", "检查 VBA 工程", False),
    ("open", "打开加载项", True), ("VBProject", "访问 VBA 工程", True), ("Import", "导入 JixiaoRibbon.bas", True),
    ("AddFromString", "写入 ThisWorkbook 的 Workbook_Open", True),
    ("import_udfs", "生成单元格函数（xlwings import_udfs，含 MacroOptions 说明）", True),
    ("MacroOptions", "生成单元格函数（xlwings import_udfs，含 MacroOptions 说明）", True),
    ("save", "保存加载项", True),
])
def test_com_error_at_each_install_step_is_a_chinese_message(win, capsys, op, step, com):
    win.world.fail[op] = "发生意外。"
    rc, out, err = _addin(win, "install", capsys, com_import=com)
    assert rc == 2
    assert f"第“{step}”步失败：发生意外。" in err and "处理办法：" in err
    assert not (_xlstart(win) / "jixiao.xlam").exists()
    assert win.world.apps == [] if op == "start" else win.world.all_closed


def test_macro_that_cannot_run_without_a_blocking_policy_means_the_prebuilt_project_is_unusable(win, capsys):
    """宏不能运行、而策略没有禁止宏：视为 Excel 不接受预制的工程，改走经 COM 导入的路线（那里不需要 Run）。"""
    win.world.fail["Run"] = "发生意外。"
    rc, out, err = _addin(win, "install", capsys)
    assert rc == 0, err
    assert "Excel 未接受预制的 VBA 工程（Excel 不能运行预制工程中的宏（发生意外。））" in out and "自动改用" in out
    assert win.world.all_closed and len(win.world.apps) == 2


def test_excel_that_hangs_is_killed_after_the_timeout(win, capsys):
    win.world.hang.add("open")
    win.timeout = 1
    rc, out, err = _addin(win, "install", capsys)
    assert rc == 2 and "第“打开加载项”步失败：超时（1 秒）" in err and "已强制关闭这个隐藏的 Excel" in err
    assert win.world.killed == [win.world.apps[0].pid] and win.world.all_closed


def test_quit_failure_kills_excel_and_runner_reports_steps():
    world = ExcelWorld(fail={"quit": "拒绝访问"})
    runner = ExcelRunner(start=world.start, timeout=10, kill_pid=world.kill, com_init=lambda: (lambda: None))

    def job(s):
        with s.step("做第一件事"):
            pass
        with s.step("做第二件事", "换一种方式"):
            raise FakeComError("类型不匹配。")

    with pytest.raises(ExcelStepError) as e:
        runner.run(job)
    assert (e.value.step, e.value.reason, e.value.remedy) == ("做第二件事", "类型不匹配。", "换一种方式")
    assert world.apps[0].quit_called and world.killed == [world.apps[0].pid] and world.all_closed
    assert runner.run(lambda s: 42) == 42


def test_doctor_child_processes_blocked(win, capsys):
    assert _addin(win, "install", capsys)[0] == 0
    win.world.child_processes_blocked = True
    win.registry.set(ASR_POLICY, "D4F940AB-401B-4EFC-AADC-AD5F3C50688A", "1")
    win.processes = lambda: ["EXCEL.EXE", "HipsTray.exe", "360Tray.exe"]
    rc, out, err = _addin(win, "doctor", capsys)
    assert rc == 2
    assert "[失败] Defender 规则“阻止所有 Office 应用程序创建子进程”：处于“阻止”模式" in out
    assert "d4f940ab-401b-4efc-aadc-ad5f3c50688a" in out and "请 IT" in out
    assert "[警告] 安全软件：正在运行：360 安全卫士、火绒安全" in out
    assert "[失败] 单元格函数" in out and "Could not activate Python COM server" in out and "子进程被拦截" in out
    assert "[失败] 在 Excel 中调用：第“功能区按钮（Application.Run → RunPython）”步失败：运行时错误 '70'" in out
    assert win.world.all_closed


def test_doctor_reads_asr_from_get_mppreference(win):
    win.run_command = lambda args, timeout: (0, json.dumps({
        "AttackSurfaceReductionRules_Ids": ["d4f940ab-401b-4efc-aadc-ad5f3c50688a", "x"],
        "AttackSurfaceReductionRules_Actions": [6, 1]}))
    assert doctor.asr_mode(win) == (6, "Get-MpPreference")
    win.registry.set(r"HKLM\SOFTWARE\Microsoft\PolicyManager\current\device\Defender", "AttackSurfaceReductionRules",
                     "be9ba2d9-53ea-4cdc-84e5-9b1eeee46550=1|d4f940ab-401b-4efc-aadc-ad5f3c50688a=2")
    assert doctor.asr_mode(win)[0] == 2


def test_doctor_dll_missing(win, capsys):
    assert _addin(win, "install", capsys)[0] == 0
    for p in win.prefix.glob("xlwings*.dll"):
        p.unlink()
    rc, out, err = _addin(win, "doctor", capsys)
    fix = f'"{win.executable}" -m pip install --force-reinstall xlwings=={xlam.xlwings_version()}'
    assert rc == 2 and "[失败] xlwings 动态库：找不到 xlwings64-" in out and fix in out
    assert "[失败] 单元格函数" in out and "Could not load xlwings64-" in out
    rc, out, err = _addin(win, "install", capsys)
    assert rc == 2 and f"找不到 xlwings64-{xlam.xlwings_version()}.dll" in err and fix in err


@pytest.mark.parametrize("op, step", [
    ("start", "启动 Excel"), ("open", "打开加载项"), ("add", "新建空白工作簿"), ("Evaluate", "单元格函数"),
    ("Run", "功能区按钮（Application.Run → RunPython）"),
])
def test_com_error_at_each_doctor_step(win, capsys, op, step):
    assert _addin(win, "install", capsys)[0] == 0
    win.world.fail[op] = "发生意外。"
    rc, out, err = _addin(win, "doctor", capsys)
    assert rc == 2 and f"[失败] 在 Excel 中调用：第“{step}”步失败：发生意外。" in out and "处理办法：" in out
    assert win.world.all_closed


def test_doctor_kills_an_excel_waiting_on_a_message_box(win, capsys):
    """解释器不存在时 xlwings 的 RunPython 弹 MsgBox：隐藏的 Excel 卡住，到时限后被结束，报告卡在哪一步。"""
    assert _addin(win, "install", capsys)[0] == 0
    win.executable.unlink()
    win.timeout = 2
    rc, out, err = _addin(win, "doctor", capsys)
    assert rc == 2 and "Interpreter_Win = " in out and "不存在" in out
    assert "[失败] 单元格函数" in out and "配置的解释器不存在" in out
    assert "第“功能区按钮（Application.Run → RunPython）”步失败：超时（2 秒）" in out
    assert win.world.killed and win.world.all_closed


def test_bitness_mismatch(win, capsys, tmp_path):
    # 32 位 Python：xlwings 0.37.8 没有带 DLL 的 32 位安装包
    win.python_bits = 32
    rc, out, err = _addin(win, "install", capsys)
    assert rc == 2 and "当前 Python 是 32 位" in err and "64 位 Python" in err
    rc, out, err = _addin(win, "doctor", capsys, no_excel=True)
    assert rc == 2 and "[失败] Python 位数" in out
    # 32 位 Excel、64 位 Python：可以用（进程外），但要有 xlwings32-….dll
    win.python_bits = 64
    win.registry.set(r"HKLM\SOFTWARE\Microsoft\Windows\CurrentVersion\App Paths\excel.exe", "",
                     _pe(tmp_path / "x86" / "EXCEL.EXE", 0x014C))
    rc, out, _ = _addin(win, "doctor", capsys, no_excel=True)
    assert "[通过] Excel 位数：32 位" in out and "位数不同也可以使用" in out
    (win.prefix / f"xlwings32-{xlam.xlwings_version()}.dll").unlink()
    rc, out, _ = _addin(win, "doctor", capsys, no_excel=True)
    assert rc == 2 and "[失败] Excel 位数：Excel 是 32 位" in out and "xlwings32-" in out and "--force-reinstall" in out


def test_xlwings_version_drift(win, capsys, monkeypatch):
    assert _addin(win, "install", capsys)[0] == 0
    monkeypatch.setattr(xlam, "xlwings_version", lambda: "0.38.0")  # 有人运行了 pip install -U xlwings
    fix = f'"{win.executable}" -m pip install xlwings=={xlenv.XLWINGS_PIN}'
    rc, out, err = _addin(win, "status", capsys)
    assert rc == 1 and "xlwings64-0.37.8.dll" in out and fix in out
    rc, out, err = _addin(win, "doctor", capsys, no_excel=True)
    assert rc == 2 and "[失败] xlwings 版本：已安装 xlwings 0.38.0，本版 jixiao 要求 0.37.8" in out and fix in out
    rc, out, err = _addin(win, "install", capsys)
    assert rc == 2 and fix in err


def test_doctor_macro_policies(win, capsys):
    assert _addin(win, "install", capsys)[0] == 0
    win.registry.set(POLICY + r"\Common", "vbaoff", 1)
    win.registry.set(POLICY + r"\Excel\Security", "RequireAddinSig", 1)
    win.world.macros_blocked = True
    rc, out, _ = _addin(win, "doctor", capsys)
    assert rc == 2 and "[失败] 宏与加载项策略：组策略禁用了 Office 中的 VBA" in out and "受信任的发布者" in out
    assert "请 IT 为本机" in out and "#NAME?" in out


def test_install_refuses_when_macro_policy_blocks_the_prebuilt_check(win, capsys):
    win.world.macros_blocked = True
    win.registry.set(POLICY + r"\Common", "vbaoff", 1)
    rc, out, err = _addin(win, "install", capsys)
    assert rc == 2 and "第“运行加载项中的宏”步失败：无法运行宏" in err and "请 IT 为本机" in err
    assert len(win.world.apps) == 1  # 策略问题不是工程问题：不改走 COM 导入


@pytest.mark.parametrize("layout, expected", [
    ("base", lambda root, prefix: (str(root), "base")),
    ("envs", lambda root, prefix: (str(root), "jx")),
    ("elsewhere", lambda root, prefix: (str(root), str(prefix))),
    ("old", lambda root, prefix: None),
    ("venv", lambda root, prefix: None),
])
def test_conda_detection(tmp_path, layout, expected):
    root = tmp_path / "Miniconda3"
    prefix = {"base": root, "envs": root / "envs" / "jx", "elsewhere": tmp_path / "D" / "envs2" / "jx",
              "old": tmp_path / "oldconda", "venv": tmp_path / "venv"}[layout]
    prefix.mkdir(parents=True)
    if layout != "venv":
        (prefix / "conda-meta").mkdir()
    if layout != "old":
        (root / "condabin").mkdir(parents=True, exist_ok=True)
        (root / "condabin" / "conda.bat").write_text("@echo off")
    env = xlenv.Env(platform="win32", executable=prefix / "python.exe", prefix=prefix, home=tmp_path, appdata=None,
                        environ={"CONDA_EXE": str(root / "Scripts" / "conda.exe")})
    assert xlenv.conda_settings(env) == expected(root, prefix)
    settings, note = xlenv.interpreter_settings(env)
    assert ("conda" in settings) == (expected(root, prefix) is not None)
    if layout == "old":
        assert "Conda 版本过旧" in note and settings == {"interpreter": str(prefix / "python.exe")}


def test_install_in_a_conda_env_writes_conda_keys(win, capsys):
    root = win.prefix.parent / "Miniconda3"
    prefix = root / "envs" / "jx"
    (prefix / "conda-meta").mkdir(parents=True)
    (root / "condabin").mkdir(parents=True)
    (root / "condabin" / "conda.bat").write_text("@echo off")
    for bits in (32, 64):
        (prefix / f"xlwings{bits}-{xlam.xlwings_version()}.dll").write_bytes(b"")
    win.prefix, win.executable = prefix, prefix / "python.exe"
    win.executable.write_bytes(b"")
    win.xlwings_conf.parent.mkdir(parents=True)
    win.xlwings_conf.write_bytes('"INTERPRETER_WIN","C:\\旧\\python.exe"\r\n'.encode("gbk"))
    rc, out, err = _addin(win, "install", capsys)
    assert rc == 0, err
    conf = xlam.inspect_xlam(_xlstart(win) / "jixiao.xlam").conf
    assert conf == {"Conda Path": str(root), "Conda Env": "jx", "UDF Modules": "udfs.xl"}
    assert xlenv.read_conf(win.xlwings_conf, "gbk") == {"CONDA PATH": str(root), "CONDA ENV": "jx",
                                                             "UDF MODULES": "udfs.xl"}
    assert "删去 INTERPRETER_WIN（原为 C:\\旧\\python.exe）" in out
    rc, out, _ = _addin(win, "doctor", capsys)
    assert rc == 0, out
    assert "Conda Path = " in out and "[通过] 单元格函数" in out


def test_xlwings_pin_matches_pyproject_and_template():
    text = (ROOT / "pyproject.toml").read_text(encoding="utf-8")
    assert re.search(r'"xlwings==([\d.]+)"', text).group(1) == xlenv.XLWINGS_PIN == xlam.xlwings_version()
    assert xlam.vba_xlwings_version(xlam.read_vba_modules(xlam.template_path())) == xlenv.XLWINGS_PIN
    assert f'"xlwings64-{xlenv.XLWINGS_PIN}.dll"' in xlam.read_vba_modules(xlam.template_path())["xlwings"]


def test_unexpected_error_is_a_chinese_message_with_a_log(win, capsys, monkeypatch, tmp_path):
    monkeypatch.setattr(addin_cmd, "log_path", lambda: tmp_path / "jixiao-addin.log")

    def boom(*a, **k):
        raise RuntimeError("意外")

    monkeypatch.setattr(addin_cmd, "install", boom)
    rc, out, err = _addin(win, "install", capsys)
    assert rc == 2 and "jixiao addin install 未能完成：内部错误（RuntimeError：意外）" in err
    assert "Traceback" in (tmp_path / "jixiao-addin.log").read_text(encoding="utf-8")


def test_install_replaces_xlwings_addin_of_another_version(win, capsys):
    d = _xlstart(win)
    d.mkdir(parents=True)
    shutil.copyfile(xlam.template_path(), d / "xlwings.xlam")
    zipfile.ZipFile(d / "xlwings.xlam", "a").close()
    old = xlam.read_vba_project(d / "xlwings.xlam")
    mods = [m for m in old.modules]
    for m in mods:
        m.source = m.source.replace(f'XLWINGS_VERSION As String = "{xlam.xlwings_version()}"',
                                    'XLWINGS_VERSION As String = "0.30.0"')
    from addin.excel import vbaproject

    with zipfile.ZipFile(xlam.template_path()) as z:
        parts = {i.filename: z.read(i) for i in z.infolist()}
    parts["xl/vbaProject.bin"] = vbaproject.write_project(old, mods)
    with zipfile.ZipFile(d / "xlwings.xlam", "w") as z:
        for k, v in parts.items():
            z.writestr(k, v)
    rc, out, _ = _addin(win, "install", capsys)
    assert rc == 0 and win.xlwings_calls == [["addin", "install"]] and "替换了版本 0.30.0" in out


def test_status_finds_stale_addin(win, capsys):
    assert _addin(win, "install", capsys)[0] == 0
    installed = _xlstart(win) / "jixiao.xlam"
    project = xlam.read_vba_project(installed)
    mods = [m for m in project.modules if m.name != "xlwings_udfs"]
    from addin.excel import vbaproject

    with zipfile.ZipFile(installed) as z:
        parts = {i.filename: z.read(i) for i in z.infolist()}
    parts["xl/vbaProject.bin"] = vbaproject.write_project(project, mods)
    with zipfile.ZipFile(installed, "w") as z:
        for k, v in parts.items():
            z.writestr(k, v)
    win.executable.unlink()
    rc, out, _ = _addin(win, "status", capsys)
    assert rc == 1 and "缺少 VBA 模块 xlwings_udfs" in out and "运行 jixiao addin install" in out
    assert "不存在" in out


def test_install_keeps_old_addin_when_excel_holds_it(win, capsys, monkeypatch):
    """Excel 占用旧 .xlam 时替换失败：旧文件原样保留、不留临时文件，中文说明如何处理。"""
    assert _addin(win, "install", capsys)[0] == 0
    xlstart = _xlstart(win)
    before = (xlstart / "jixiao.xlam").read_bytes()
    before_names = sorted(p.name for p in xlstart.iterdir())

    def busy(src, dst):
        if Path(dst) == xlstart / "jixiao.xlam":
            raise PermissionError(13, "Permission denied")
        return real_replace(src, dst)

    real_replace = os.replace
    monkeypatch.setattr(os, "replace", busy)
    rc, out, err = _addin(win, "install", capsys, no_verify=True)
    assert rc == 2 and "完全退出 Excel" in err
    assert (xlstart / "jixiao.xlam").read_bytes() == before
    assert sorted(p.name for p in xlstart.iterdir()) == before_names


def test_update_conf_failure_keeps_old_config(tmp_path, monkeypatch):
    conf = tmp_path / ".xlwings" / "xlwings.conf"
    conf.parent.mkdir()
    old = '"INTERPRETER_WIN","C:\\旧\\python.exe"\r\n'.encode("gbk")
    conf.write_bytes(old)

    def disk_full(src, dst):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "replace", disk_full)
    with pytest.raises(xlenv.InstallError, match="未能写入.*xlwings.conf"):
        xlenv.update_conf(conf, {"INTERPRETER_WIN": "C:\\新\\python.exe"}, "gbk")
    assert conf.read_bytes() == old
    assert sorted(p.name for p in conf.parent.iterdir()) == ["xlwings.conf", "xlwings.conf.bak"]


def test_update_conf_keeps_other_lines(tmp_path):
    conf = tmp_path / ".xlwings" / "xlwings.conf"
    conf.parent.mkdir()
    conf.write_bytes('"INTERPRETER_WIN","C:\\旧\\python.exe"\r\n"LICENSE_KEY","abc"\r\n'.encode("gbk"))
    changes = xlenv.update_conf(conf, {"INTERPRETER_WIN": "C:\\新\\python.exe", "UDF MODULES": "udfs.xl"}, "gbk")
    assert changes == ["INTERPRETER_WIN：C:\\旧\\python.exe → C:\\新\\python.exe", "UDF MODULES = udfs.xl"]
    assert conf.read_bytes().decode("gbk").splitlines() == [
        '"INTERPRETER_WIN","C:\\新\\python.exe"', '"LICENSE_KEY","abc"', '"UDF MODULES","udfs.xl"']
    assert conf.with_name("xlwings.conf.bak").is_file()
    assert xlenv.update_conf(conf, {"UDF MODULES": "udfs.xl"}, "gbk") == []


def test_uninstall(win, capsys):
    with pytest.raises(xlenv.InstallError):
        addin_install.uninstall(xlenv.Env(platform="linux", executable=win.executable, prefix=win.prefix,
                                          home=win.home, appdata=None))
    assert "未安装" in addin_install.uninstall(win)[0]
    assert _addin(win, "install", capsys)[0] == 0
    done = addin_install.uninstall(win)
    assert not (_xlstart(win) / "jixiao.xlam").exists()
    assert "已删除" in done[0] and any("导出定稿" in d for d in done)
    addin_install.uninstall(win, remove_xlwings_addin=True)
    assert win.xlwings_calls[-1] == ["addin", "remove"]


def _windows_guide() -> str:
    return (ROOT / "docs" / "excel.md").read_text(encoding="utf-8")


def test_readme_windows_guide_names_every_button_and_setting():
    guide = _windows_guide()
    for entry, label in ribbon.ENTRY_POINTS.items():
        assert f"| {label} | `ribbon.{entry}()` |" in guide, label
    # 用户必须动的每个 Excel 设置与提示，写法与程序给出的中文说明一致
    assert "信任对 VBA 工程对象模型的访问" in guide and "信任对 VBA 工程对象模型的访问" in addin_install.TRUST_HELP
    for setting in ("“文件” → “选项” → “信任中心” → “信任中心设置…” → “受信任位置”", "“宏设置”页", "禁用所有受信任位置",
                    "受保护的视图", "启用编辑", "禁用的项目", "已禁用链接的自动更新", "KB 817578",
                    doctor.ASR_CHILD_PROCESS, doctor.ASR_NAME, "AccessVBOM = 1", "vbaoff", "RequireAddinSig"):
        assert setting in guide, setting
    for cmd in ("jixiao addin build -o dist", "jixiao addin install", "jixiao addin uninstall", "jixiao addin status",
                "jixiao addin doctor", "--com-import", "--json", "jixiao export FILE", "jixiao demo -o",
                f"pip install xlwings=={xlenv.XLWINGS_PIN}", f"--force-reinstall xlwings=={xlenv.XLWINGS_PIN}"):
        assert cmd in guide, cmd
    assert f"VBA 模块与本版一致，单元格函数 {len(CATALOG)} 个" in guide and f"已登记 {len(CATALOG)} 个函数" in guide
    assert f'Application.Evaluate("{doctor.PROBE_FORMULA}") = 0.101182…（{doctor.percent(doctor.expected_probe())}）' in guide
    for name in ("Conda Path", "Conda Env", "xlwings==0.37.8", "HasVBProject", "Cannot edit a macro on a hidden workbook",
                 "Application.OnTime"):
        assert name in guide, name
    assert xlam.CONF_SHEET in guide and xlam.UDF_MODULES in guide and xlam.RIBBON_REL_TYPE in guide


def test_readme_manual_test_expectations_are_what_the_code_produces(work, tmp_path):
    """手工测试脚本里写的预期数字与文字，由同一段按钮逻辑在示例工作簿上算出（脚本不会与程序脱节）。"""
    from udfs import xl

    guide = _windows_guide()
    path = work("baojing-2018")
    rec = ribbon.do_recalculate(OpenpyxlBook(path, with_cached=True)).message.splitlines()
    assert f"弹窗“{rec[0]}”" in guide
    for line in rec[1:]:
        assert f"“{line.strip()}”" in guide, line
    assert f"A1 显示 {str(xl.WRAPPERS['BUDGET_CONTROL_RATE'](90.29, 892.35))[:8]}…" in guide
    # 第 7 步：“优”的下限 90 → 95，总分 94.9 的等级变为“良”
    assert xl.WRAPPERS["GRADE_OF"](94.9, [["优"], ["良"], ["中"], ["差"]], [[95], [80], [60], [0]]) == "良"
    assert "把 90 改成 95" in guide and "Y26 立即变为“良”" in guide
    # 第 8 步：清空 X13 的调整理由 → 校验报 1 项错误，指向 评分表!X13
    wb = openpyxl.load_workbook(path)
    assert wb["评分表"]["X13"].value and wb["评分表"]["W13"].value == 4
    wb["评分表"]["X13"] = None
    noreason = tmp_path / "noreason.xlsx"
    wb.save(noreason)
    chk = ribbon.do_check(OpenpyxlBook(noreason, with_cached=True))
    errors = [f for f in chk.data if f.severity == "错误"]
    assert [(f.sheet, f.cell) for f in errors] == [("评分表", "X13")] and "未填写调整理由" in errors[0].message
    assert "校验完成：错误 1 项" in chk.message and "未填写调整理由" in guide and "评分表!X13" in guide
    # 第 10、11、12 步
    rep = ribbon.do_report(OpenpyxlBook(path, with_cached=True))
    sentence = "预算控制率＝本年预算追加数÷年初预算×100%＝90.29÷892.35×100%＝10.12%"
    assert sentence in guide and sentence in "\n".join(_docx_text(rep.data["docx"]))
    exp = ribbon.do_export_final(OpenpyxlBook(path, with_cached=True)).data
    assert f"共 {exp.replaced} 个单元格函数已替换为计算结果" in guide
    final = openpyxl.load_workbook(exp.target)["评分表"]
    assert final["H13"].data_type == "n" and f"数值 {str(final['H13'].value)[:6]}…" in guide
    shown = openpyxl.load_workbook(exp.target, data_only=True)["评分表"]
    # 内置函数的总分公式保留，结果随文件保存
    assert final["Y25"].value == '=IF(COUNT(Y8,Y19,Y24)<3,"未完成",SUM(Y8,Y19,Y24))' and shown["Y25"].value == 94.9
    assert final["Y26"].value == "优"  # GRADE_OF 换成了值


def test_non_windows_explains_and_exits_nonzero(capsys):
    if sys.platform.startswith("win"):
        pytest.skip("仅在非 Windows 上检查")
    for cmd in (["addin", "install"], ["addin", "uninstall"], ["addin", "status"]):
        assert cli_main(cmd) == 2
        captured = capsys.readouterr()
        assert "只能安装在 Windows 版 Excel 中" in captured.err
        assert "jixiao addin build" in captured.err and "Traceback" not in captured.err
    lines, ok = addin_install.status_lines(xlenv.Env.current())
    assert not ok and lines[0] == f"xlwings 包版本：{xlam.xlwings_version()}"
