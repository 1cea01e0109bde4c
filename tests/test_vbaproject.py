"""VBA 工程的写入（addin/excel/vbaproject.py、addin/excel/cfb.py）与 jixiao.xlam 中的模块（addin/excel/vba_modules.py）。

证明方式：用三个独立的读取者读回构建出的工程——oletools（olevba）、本包的读取（olefile + 自己的解压）、
LibreOffice（把 .xlam 转成 .ods，VBA 源码成为 Basic 库）——每个模块的源码都与应有的文本逐字节相同。
"""
from __future__ import annotations

import inspect
import io
import os
import random
import re
import shutil
import subprocess
import zipfile
from pathlib import Path

import olefile
import pytest
from oletools.olevba import VBA_Parser, decompress_stream

from addin.excel import cfb, vba_modules, vbaproject, xlam
from udfs.excel import BY_NAME, CATALOG


@pytest.fixture(scope="module")
def built(tmp_path_factory) -> Path:
    return xlam.build_xlam(tmp_path_factory.mktemp("xlam"), interpreter=r"C:\Python311\python.exe")


# =====================================================================================================
# [MS-OVBA] 压缩
# =====================================================================================================
def test_compression_reproduces_the_spec_example():
    # [MS-OVBA] 3.2.2 Normal Compression Example：输入与压缩结果都取自规范
    text = b"#aaabcdefaaaaghijaaaaaklaaamnopqaaaaaaaaaaaarstuvwxyzaaa"
    spec = bytes.fromhex("012FB00023616161626364658266007061676869 6A013808616B6C00206D6E6F7006710270040072"
                         "73747576107778797A002C".replace(" ", ""))
    assert vbaproject.compress(text) == spec
    assert vbaproject.decompress(spec) == text


@pytest.mark.parametrize("data", [
    b"", b"a", b"ab" * 5000, bytes(range(256)) * 40,
    random.Random(1).randbytes(4096),  # 不可压缩的整块：存原文
    random.Random(2).randbytes(9000),
    b"Attribute VB_Name = \"x\"\r\n" + b"    Dim a As Long\r\n" * 700,
])
def test_compression_round_trips_through_oletools(data):
    packed = vbaproject.compress(data)
    assert bytes(decompress_stream(bytearray(packed))) == data  # oletools 的独立实现
    assert vbaproject.decompress(packed) == data


def test_compression_of_the_xlwings_module_is_as_small_as_excels():
    tpl = zipfile.ZipFile(xlam.template_path()).read("xl/vbaProject.bin")
    ole = olefile.OleFileIO(io.BytesIO(tpl))
    theirs = ole.openstream("VBA/xlwings").read()  # 模板里 xlwings 模块的压缩流（偏移 0）
    source = vbaproject.decompress(theirs)
    ours = vbaproject.compress(source)
    assert vbaproject.decompress(ours) == source and len(ours) <= len(theirs) + 16


def test_decompress_rejects_corrupt_data():
    with pytest.raises(vbaproject.VbaProjectError):
        vbaproject.decompress(b"\x02\x00")
    with pytest.raises(vbaproject.VbaProjectError, match="越界"):
        vbaproject.decompress(b"\x01\x03\xb0\x01\xff\xff")


# =====================================================================================================
# [MS-CFB] 写入
# =====================================================================================================
def test_cfb_writer_reads_back_with_olefile():
    rnd = random.Random(3)
    streams = {"PROJECT": b"ID=\r\n", "VBA/dir": rnd.randbytes(1300), "VBA/big": rnd.randbytes(70000),
               "VBA/edge": rnd.randbytes(4096), "VBA/small": rnd.randbytes(4095), "VBA/empty": b""}
    streams.update({f"VBA/m{i:02d}": rnd.randbytes(rnd.randrange(1, 9000)) for i in range(20)})
    data = cfb.write_cfb(streams)
    assert len(data) % cfb.SECTOR == 0
    ole = olefile.OleFileIO(io.BytesIO(data))
    assert sorted("/".join(p) for p in ole.listdir()) == sorted(streams)
    for path, content in streams.items():
        assert ole.openstream(path).read() == content, path
    # 目录项全黑；每个存储的子项按 [MS-CFB] 2.6.4 排序、只用右兄弟串成链（与 xlwings 模板的 vbaProject.bin 相同）
    entries = [e for e in ole.direntries if e is not None]
    assert all(e.color == 1 and e.sid_left == cfb.NOSTREAM for e in entries)
    vba = next(e for e in entries if e.name == "VBA")
    chain, sid = [], vba.sid_child
    while sid != cfb.NOSTREAM:
        chain.append(ole.direntries[sid].name)
        sid = ole.direntries[sid].sid_right
    assert chain == sorted(chain, key=cfb.sort_key) and len(chain) == len(streams) - 1
    assert cfb.write_cfb(streams) == data  # 同样的输入，同样的字节


def test_cfb_writer_refuses_bad_names():
    with pytest.raises(cfb.CfbError):
        cfb.write_cfb({"x" * 32: b"1"})
    with pytest.raises(cfb.CfbError):
        cfb.write_cfb({"A": b"1", "a": b"2"})


# =====================================================================================================
# 构建出的 VBA 工程
# =====================================================================================================
def _olevba_modules(path: Path) -> dict[str, str]:
    parser = VBA_Parser(str(path))
    try:
        return {stream.split("/")[-1]: code for _, stream, _, code in parser.extract_macros()}
    finally:
        parser.close()


def test_oletools_reads_every_module_byte_for_byte(built):
    expected = xlam.expected_modules()
    assert [m.name for m in expected] == ["ThisWorkbook", "Sheet2", "Dictionary", "xlwings", "JixiaoRibbon",
                                          "JixiaoEvents", "JixiaoFunctions", "xlwings_udfs"]
    theirs = _olevba_modules(built)
    assert set(theirs) == {m.name for m in expected}
    for m in expected:
        assert theirs[m.name].encode("cp1252") == m.source.encode("cp1252"), m.name
    ours = xlam.read_vba_project(built)
    assert [(m.name, m.kind) for m in ours.modules] == [(m.name, m.kind) for m in expected]
    assert [m.source for m in ours.modules] == [m.source for m in expected]
    assert ours.name == "Jixiao" and ours.codepage == 1252
    assert xlam.verify_vba(built) == []


def test_modules_are_their_sources(built):
    modules = xlam.read_vba_modules(built)
    tpl = xlam.read_vba_modules(xlam.template_path())
    # xlwings 的模块与配置表的文档模块原样来自模板；模板的示例回调 RibbonMyAddin 不再需要
    for name in ("Sheet2", "Dictionary", "xlwings"):
        assert modules[name] == tpl[name]
    assert "RibbonMyAddin" not in modules
    assert xlam.vba_xlwings_version(modules) == xlam.xlwings_version()
    code = (xlam.VBA_DIR / "ThisWorkbook.vba").read_text(encoding="ascii").replace("\n", "\r\n")
    assert modules["ThisWorkbook"] == tpl["ThisWorkbook"] + code
    bas = (xlam.VBA_DIR / "JixiaoRibbon.bas").read_text(encoding="ascii")
    assert modules["JixiaoRibbon"] == bas.replace("\n", "\r\n")
    cls = (xlam.VBA_DIR / "JixiaoEvents.cls").read_text(encoding="ascii")
    # 类模块文件的 VERSION…BEGIN…END 头由 VBComponents.Import 读掉，不进工程；VBA 编辑器加上 VB_Base 等三行
    body = cls.split("END\n", 1)[1]
    assert modules["JixiaoEvents"].replace("\r\n", "\n") == body.replace(
        'VB_Name = "JixiaoEvents"\n', f'VB_Name = "JixiaoEvents"\n{vba_modules.CLASS_BASE}\n').replace(
        "VB_Exposed = False\n", "VB_Exposed = False\nAttribute VB_TemplateDerived = False\nAttribute VB_Customizable = False\n")
    for name in ("ThisWorkbook", "JixiaoRibbon", "JixiaoEvents", "JixiaoFunctions", "xlwings_udfs"):
        modules[name].encode("ascii")
        assert "\n" not in modules[name].replace("\r\n", "")  # 与 VBA 编辑器保存的一样用 CRLF（模板的 xlwings 模块用 LF，原样保留）


@pytest.mark.parametrize("name", ["Dictionary.cls", "IWebAuthenticator.cls", "WebRequest.cls", "WebResponse.cls",
                                  "Config.bas", "License.bas", "WebHelpers.bas"])
def test_stored_text_is_what_excel_stores_for_an_imported_file(name):
    """xlwings 随包带着它的加载项 VBA 的源文件（addin/*.bas、*.cls）与 Excel 保存的 xlwings.xlam：由文件得到的
    “保存的源码”与 Excel 在 xlwings.xlam 中保存的逐字节相同（类模块的文件头去掉、VB_Base 等三行由 VBA 编辑器加上）。"""
    folder = xlam.xlwings_dir() / "addin"
    stored = xlam.read_vba_modules(folder / "xlwings.xlam")[Path(name).stem]
    assert vba_modules.stored_text((folder / name).read_text(encoding="utf-8")) == stored


def test_workbook_open_defers_function_registration():
    this = vba_modules.THISWORKBOOK_CODE.read_text(encoding="ascii")
    assert re.search(r"Private Sub Workbook_Open\(\)", this)
    assert f"Application.OnTime Now, \"'\" & ThisWorkbook.Name & \"'!{vba_modules.REGISTER_SUB}\"" in this
    src = vba_modules.functions_module_source()
    assert f"Public Sub {vba_modules.REGISTER_SUB}()" in src and f"Public Function {vba_modules.REGISTER_NOW}()" in src
    # 隐藏的加载项上 MacroOptions 会失败：登记期间 IsAddin = False，结束后恢复，并保持“未修改”状态
    body = src.split(f"Public Function {vba_modules.REGISTER_NOW}")[1].split("End Function")[0]
    assert body.index("ThisWorkbook.IsAddin = False") < body.index("Register(") < body.index("ThisWorkbook.IsAddin = True")
    assert "ThisWorkbook.Saved = wasSaved" in body


def _wrapper_params(source: str) -> dict[str, list[str]]:
    return {m.group(1): [p.strip() for p in m.group(2).split(",") if p.strip()]
            for m in re.finditer(r"^Function (\w+)\(([^)]*)\)\r$", source, re.M)}


def test_every_catalogue_function_has_a_wrapper_and_a_description(built):
    from udfs import xl

    modules = xlam.read_vba_modules(built)
    wrappers = _wrapper_params(modules["xlwings_udfs"])
    registered = {o["name"]: o for o in vba_modules.decode_functions_module(modules["JixiaoFunctions"])}
    for spec in CATALOG:
        assert spec.name in wrappers, f"{spec.name} 没有 VBA 包装"
        params = inspect.signature(xl.WRAPPERS[spec.name]).parameters.values()
        assert wrappers[spec.name] == [("Optional " if p.default is not p.empty else "") + p.name for p in params]
        body = modules["xlwings_udfs"].split(f"Function {spec.name}(")[1].split("End Function")[0]
        assert f'XLPy.CallUDF("udfs.xl", "{spec.name}", Array(' in body and "ActiveWorkbook, Application.Caller" in body
        reg = registered[spec.name]
        assert reg["description"] == spec.description[:255]
        assert reg["args"] == [xl.arg_doc(cn, desc) for cn, desc in spec.args]
    assert set(wrappers) == set(registered) == {s.name for s in CATALOG}


def test_missing_catalogue_function_is_caught(built, monkeypatch):
    """从包装模块中拿掉一个函数：verify_vba 与上面的逐项核对都会发现。"""
    modules = xlam.expected_modules()
    udfs = next(m for m in modules if m.name == "xlwings_udfs")
    name = CATALOG[0].name
    start = udfs.source.index(f"Function {name}(")
    end = udfs.source.index("End Function\r\n", start) + len("End Function\r\n")
    udfs.source = udfs.source[:start] + udfs.source[end:]
    tpl = xlam.read_vba_project(xlam.template_path())
    broken = built.parent / "broken.xlam"
    shutil.copyfile(built, broken)
    with zipfile.ZipFile(built) as z:
        parts = {i.filename: z.read(i) for i in z.infolist()}
    parts["xl/vbaProject.bin"] = vbaproject.write_project(tpl, modules, "Jixiao")
    with zipfile.ZipFile(broken, "w") as z:
        for k, v in parts.items():
            z.writestr(k, v)
    assert xlam.verify_vba(broken) == ["VBA 模块 xlwings_udfs 的源码与应有的不一致"]
    assert name not in _wrapper_params(xlam.read_vba_modules(broken)["xlwings_udfs"])


def test_wrappers_are_written_by_xlwings_itself():
    """包装由 xlwings.udfs.generate_vba_wrapper 写出；文件头三行与 xlwings 的 import_udfs 中写的相同。"""
    xu = vba_modules.xlwings_udfs()
    assert xu.__file__ == str(Path(xlam.xlwings_dir()) / "udfs.py")
    source = Path(xu.__file__).read_text(encoding="utf-8")
    body = source.split("def import_udfs(")[1].split("\ndef ")[0]
    assert "vba.writeln('Attribute VB_Name = \"xlwings_udfs\"')" in body
    for line in vba_modules.UDF_HEADER[1:]:
        assert line.replace('"', "") in body.replace('"', "").replace("\\", "")
    text = vba_modules.udf_wrapper_source()
    assert text.startswith("\r\n".join(vba_modules.UDF_HEADER) + "\r\n")
    # 加载项里的包装用 ActiveWorkbook（generate_vba_wrapper 按工作簿名 .xlam 选择）
    assert "ThisWorkbook" not in text
    ns = vba_modules.udf_namespace()
    meta = ns.BUDGET_CONTROL_RATE.__xlfunc__
    assert meta["category"] == "绩效评价" and meta["ret"]["doc"] == BY_NAME["BUDGET_CONTROL_RATE"].description[:255]
    # 替身只在装入期间放进 sys.modules
    import sys

    assert "pythoncom" not in sys.modules or sys.platform.startswith("win")


def test_libreoffice_lists_every_module_as_basic(built, tmp_path):
    """LibreOffice 打开 .xlam 时把 VBA 源码导入 Basic 库：转成 .ods 后逐个比较（LibreOffice 去掉 Attribute 行，
    在开头加上 Rem Attribute VBA_ModuleType=… 与 Option VBASupport 1 等行）。"""
    soffice = shutil.which("soffice") or shutil.which("libreoffice")
    assert soffice, "需要 LibreOffice（CI 安装了它）"
    src = tmp_path / "jixiao.xlam"
    shutil.copyfile(built, src)
    env = dict(os.environ, HOME=str(tmp_path))
    run = subprocess.run([soffice, "--headless", f"-env:UserInstallation=file://{tmp_path}/profile",
                          "--infilter=Calc MS Excel 2007 VBA XML", "--convert-to", "ods", "--outdir", str(tmp_path),
                          str(src)], capture_output=True, text=True, timeout=180, env=env)
    ods = tmp_path / "jixiao.ods"
    assert ods.is_file(), run.stdout + run.stderr
    from defusedxml import ElementTree as SafeET

    kinds = {"Document": "document", "Class": "class", "Module": "normal"}
    with zipfile.ZipFile(ods) as z:
        names = sorted(n for n in z.namelist() if n.startswith("Basic/Jixiao/") and not n.endswith("script-lb.xml"))
        expected = xlam.expected_modules()
        assert names == sorted(f"Basic/Jixiao/{m.name}.xml" for m in expected)
        for m in expected:
            root = SafeET.fromstring(z.read(f"Basic/Jixiao/{m.name}.xml"))
            assert root.get("{http://openoffice.org/2000/script}moduleType") == kinds[m.kind]
            lines = (root.text or "").split("\n")
            assert lines[0].startswith("Rem Attribute VBA_ModuleType=") and lines[1] == "Option VBASupport 1"
            body = lines[3:] if m.kind == "Class" else lines[2:]
            ours = [x for x in m.source.replace("\r\n", "\n").split("\n") if not x.startswith("Attribute ")]
            assert "\n".join(body).rstrip("\n") == "\n".join(ours).rstrip("\n"), m.name
