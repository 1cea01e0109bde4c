"""addin/io/splice.py：写回只改 jixiao 拥有的部件（生成表、它的图形图表、引用它们的条目、追加的样式记录），其余部件逐字节不变。"""
from __future__ import annotations

import io
import re
import shutil
from pathlib import Path

import openpyxl
import pytest
from corpus_package import REFERENCE_PARTS, SHEET, VBA, build_corpus, parts_of, soffice_convert, zip_of

from addin.io import opc, safebook, safeio, splice, stylemerge
from addin.io.book import BookError, CellWrite
from addin.io.openpyxl_book import OpenpyxlBook

OWNED = ("报告", "校验结果")


def _cli(capsys, *argv) -> tuple[int, str, str]:
    from addin.cli.main import main

    code = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    assert "Traceback" not in out + err
    return code, out, err


def _sheet_parts(parts: dict[str, bytes]) -> dict[str, str]:
    """表名 → 部件（经 workbook.xml 与它的关系，独立于 addin/io/splice.py 的实现）。"""
    wb = parts["xl/workbook.xml"].decode("utf-8")
    rels = dict(re.findall(r'Id="([^"]+)"[^>]*?Target="([^"]+)"', parts["xl/_rels/workbook.xml.rels"].decode()))
    rels.update({k: v for v, k in re.findall(r'Target="([^"]+)"[^>]*?Id="([^"]+)"',
                                             parts["xl/_rels/workbook.xml.rels"].decode())})
    out = {}
    for name, rid in re.findall(r'<(?:\w+:)?sheet\b[^>]*?name="([^"]+)"[^>]*?r:id="([^"]+)"', wb):
        t = rels[rid]
        out[name] = t.lstrip("/") if t.startswith("/") else "xl/" + t
    return out


def _reachable(parts: dict[str, bytes], part: str) -> set[str]:
    import posixpath

    seen: set[str] = set()
    todo = [part]
    while todo:
        p = todo.pop()
        d, b = posixpath.split(p)
        rels = parts.get(f"{d}/_rels/{b}.rels")
        if rels is None:
            continue
        seen.add(f"{d}/_rels/{b}.rels")
        for target, mode in re.findall(r'Target="([^"]+)"(?:[^>]*TargetMode="(\w+)")?', rels.decode()):
            if mode == "External":
                continue
            q = target.lstrip("/") if target.startswith("/") else posixpath.normpath(posixpath.join(d, target))
            if q not in seen:
                seen.add(q)
                todo.append(q)
    return seen


def _changes(before: dict[str, bytes], after: dict[str, bytes]) -> tuple[set[str], set[str], set[str]]:
    changed = {n for n in before if n in after and before[n] != after[n]}
    removed = set(before) - set(after)
    added = set(after) - set(before)
    return changed, removed, added


def _owned_parts(parts: dict[str, bytes]) -> set[str]:
    sp = _sheet_parts(parts)
    out: set[str] = set()
    for name in OWNED:
        if name in sp:
            out |= {sp[name]} | _reachable(parts, sp[name])
    return out


def _records(styles: bytes, coll: str) -> str:
    m = re.search(rf"<{coll}\b[^>]*>(.*?)</{coll}>".encode(), styles, re.S)
    return m.group(1).decode() if m else ""


def _assert_only_owned_parts_changed(before: dict[str, bytes], after: dict[str, bytes]) -> None:
    changed, removed, added = _changes(before, after)
    owned = _owned_parts(after)
    assert removed <= _owned_parts(before), removed
    assert added <= owned, added - owned
    assert changed <= REFERENCE_PARTS | owned, changed - REFERENCE_PARTS - owned
    # styles.xml：原有记录原样在前，只在末尾追加
    for coll in ("numFmts", "fonts", "fills", "borders", "cellStyleXfs", "cellXfs", "cellStyles", "dxfs"):
        old = _records(before["xl/styles.xml"], coll)
        assert _records(after["xl/styles.xml"], coll).startswith(old), coll


# ---------------------------------------------------------------------------------------------------------------
# 语料：openpyxl 读写一遍就会丢失的内容
# ---------------------------------------------------------------------------------------------------------------
CORPUS_PARTS = [  # 语料中要逐字节保留的代表部件（还有其余全部非生成表部件，见 _assert_only_owned_parts_changed）
    "xl/sharedStrings.xml", "xl/metadata.xml", "xl/calcChain.xml", "xl/vbaProject.bin",
    "xl/printerSettings/printerSettings1.bin", "xl/ctrlProps/ctrlProp1.xml", "xl/charts/style1.xml",
    "xl/charts/colors1.xml", "customXml/item1.xml", "customXml/itemProps1.xml", "docProps/core.xml",
    "docProps/custom.xml", "xl/theme/theme1.xml",
]


@pytest.mark.parametrize("suffix", [".xlsx", ".xlsm"])
def test_corpus_report_and_check_write_change_only_owned_parts(suffix, demo_dir, tmp_path, capsys):
    corpus = build_corpus(demo_dir / "baojing-2018.xlsx", tmp_path / f"corpus{suffix}")
    p = shutil.copy(corpus, tmp_path / f"单位{suffix}")
    before = parts_of(corpus)
    user = _sheet_parts(before)
    # 语料确实带着这些内容（否则“逐字节不变”什么也说明不了）
    sheet_xml = before[user[SHEET]].decode("utf-8")
    assert 'cm="1"' in sheet_xml and "<ignoredErrors>" in sheet_xml and "customSheetView" in sheet_xml
    assert "<v>6</v>" in sheet_xml and "x14:dataValidation" in sheet_xml
    drawing = next(n for n in before if n.startswith("xl/drawings/drawing"))
    assert all(t in before[drawing] for t in (b"<cxnSp", b"<sp ", b"<pic>", b"<graphicFrame"))
    assert b'ObjectType="Button"' in b"".join(v for n, v in before.items() if n.endswith(".vml"))
    assert b"<x:Visible/>" in b"".join(v for n, v in before.items() if n.endswith(".vml"))
    assert '<r><rPr><b val="1"/><color rgb="FFFF0000"/></rPr><t>重点：</t></r>'.encode() in before["xl/sharedStrings.xml"]
    assert "某县财政局".encode() in before["docProps/app.xml"]

    code, _, err = _cli(capsys, "report", p)
    assert code in (0, 1), err
    code, _, err = _cli(capsys, "check", p, "--write")
    assert code in (0, 1), err
    after = parts_of(Path(p))
    _assert_only_owned_parts_changed(before, after)
    for name in CORPUS_PARTS + [user[n] for n in user] + [n for n in before if n.startswith(("xl/drawings/",
                                                                                                "xl/charts/",
                                                                                                "xl/comments",
                                                                                                "xl/media/"))]:
        assert after[name] == before[name], name
    # 引用条目里的用户内容也在：自定义工作簿视图、文档属性、宏的关系与内容类型
    assert "审核视图".encode() in after["xl/workbook.xml"]
    assert "某县财政局".encode() in after["docProps/app.xml"] and "张三".encode() in after["docProps/app.xml"]
    assert b"metadata.xml" in after["xl/_rels/workbook.xml.rels"]
    assert after["xl/vbaProject.bin"] == VBA
    if suffix == ".xlsm":
        assert b"vbaProject" in after["xl/_rels/workbook.xml.rels"]
        assert b"macroEnabled.main+xml" in after["[Content_Types].xml"]
    # 生成表：读回来就是报告与校验结果，文本是内联字符串（sharedStrings 不动），没有公式，不是“选定”的表
    wb = openpyxl.load_workbook(p)
    assert wb.sheetnames == ["基础数据表", "评分表", "文字材料", SHEET, "报告", "校验结果"]
    from addin.report.sections import build_report
    from addin.scoring.engine import evaluate
    from addin.scoring.reader import load

    _, inputs = load(corpus, with_cached=True)
    ev = evaluate(inputs)
    report = build_report(inputs, ev, ev.findings)
    col_a = [c.value for c in wb["报告"]["A"]]
    assert col_a[0] == report.title and sum(1 for b in report.blocks if b.text in col_a) >= len(report.blocks) - 2
    assert wb["校验结果"]["A1"].value == "校验结果" and wb["校验结果"]["A1"].font.b
    sp = _sheet_parts(after)
    for name in OWNED:
        xml = after[sp[name]]
        assert b't="s"' not in xml and b"<f>" not in xml and b"tabSelected" not in xml
    # 图表在“报告”表自己的图形部件里
    assert any(n.startswith("xl/charts/chart") for n in _reachable(after, sp["报告"]))


def test_rerunning_report_leaves_the_file_byte_identical(demo_dir, tmp_path, capsys):
    """同一份报告再生成一次：结果与上次逐字节相同（部件名、样式记录都复用），不留多余的备份。"""
    p = shutil.copy(demo_dir / "zizhou-2021.xlsx", tmp_path / "a.xlsx")
    assert _cli(capsys, "report", p)[0] in (0, 1)
    first = Path(p).read_bytes()
    assert _cli(capsys, "report", p)[0] in (0, 1)
    assert Path(p).read_bytes() == first
    assert len([b for b in tmp_path.iterdir() if safeio.is_backup_name(b.name)]) == 1


def test_libreoffice_saved_workbook(demo_dir, tmp_path, capsys):
    """LibreOffice 另存的工作簿（它自己的 styles.xml、共享字符串、关系写法）：写回同样只改生成表；写出的结果
    LibreOffice 也能打开，读到报告、图表与用户表上的图片。"""
    corpus = build_corpus(demo_dir / "baojing-2018.xlsx", tmp_path / "corpus.xlsx")
    saved = soffice_convert(corpus, tmp_path / "lo")
    before = parts_of(saved)
    p = shutil.copy(saved, tmp_path / "lo.xlsx")
    assert _cli(capsys, "report", p)[0] in (0, 1)
    assert _cli(capsys, "check", p, "--write")[0] in (0, 1)
    after = parts_of(Path(p))
    _assert_only_owned_parts_changed(before, after)
    assert after["xl/sharedStrings.xml"] == before["xl/sharedStrings.xml"]
    reopened = soffice_convert(Path(p), tmp_path / "again")
    wb = openpyxl.load_workbook(reopened)
    assert wb.sheetnames[-2:] == ["报告", "校验结果"]
    assert wb["报告"]["A1"].value.endswith("绩效评价报告") and wb["报告"]["A1"].font.b
    assert len(wb["报告"]._charts) == 1 and len(wb[SHEET]._images) == 1


# ---------------------------------------------------------------------------------------------------------------
# 拼接的细节
# ---------------------------------------------------------------------------------------------------------------
def _formula_results(path):
    wf = openpyxl.load_workbook(path)
    wv = openpyxl.load_workbook(path, data_only=True)
    return {(ws.title, c.coordinate): wv[ws.title][c.coordinate].value
            for ws in wf.worksheets for row in ws.iter_rows() for c in row if c.data_type == "f"}


@pytest.mark.parametrize("in_place", [False, True])
def test_formula_results_stay_as_excel_saved_them(demo_dir, tmp_path, in_place):
    src = shutil.copy(demo_dir / "shiping-2022.xlsx", tmp_path / "a.xlsx")
    before = _formula_results(src)
    assert before and all(v is not None for v in before.values())
    book = safebook.open_book(src)
    book.replace_sheet("报告", [CellWrite(1, 1, "=SUM(1,2)"), CellWrite(2, 1, 94.9, "number")])
    out = safeio.save_book(book, None if in_place else tmp_path / "out.xlsx").path
    assert _formula_results(out) == before
    ws = openpyxl.load_workbook(out)["报告"]
    assert ws["A1"].value == "=SUM(1,2)" and ws["A1"].data_type == "s" and ws["A2"].value == 94.9


def test_app_xml_lists_the_new_sheets(demo_dir, tmp_path):
    p = shutil.copy(demo_dir / "baojing-2018.xlsx", tmp_path / "a.xlsx")
    before = parts_of(Path(p))["docProps/app.xml"].decode()
    book = OpenpyxlBook(p)
    book.replace_sheet("校验结果", [CellWrite(1, 1, "x")])
    book.save()
    app = parts_of(Path(p))["docProps/app.xml"].decode()
    parts = re.search(r"<TitlesOfParts>(.*?)</TitlesOfParts>", app, re.S).group(1)
    titles = re.findall(r"<vt:lpstr>([^<]*)</vt:lpstr>", parts)
    # 先是各工作表（新表在最后一张表之后），再是定义的名称（定性词表），名称不动
    assert titles == ["基础数据表", "评分表", "文字材料", "校验结果", "定性词表"]
    assert "<vt:lpstr>Worksheets</vt:lpstr></vt:variant><vt:variant><vt:i4>4</vt:i4>" in app
    assert 'vt:vector size="5" baseType="lpstr"' in app

    def others(x: str) -> bytes:  # 表名列表之外的属性（程序名、公司……）原样（规范形式：<a></a> 与 <a/> 相同）
        from lxml import etree

        rest = re.sub(r"<(HeadingPairs|TitlesOfParts)>.*?</\1>", "", x, flags=re.S)
        return etree.tostring(etree.fromstring(rest.split("?>", 1)[1].encode()), method="c14n")

    assert others(app) == others(before) and b"<Application>" in others(app)


def test_replaced_sheet_keeps_its_position_and_print_setup_is_carried(demo_dir, tmp_path):
    """“报告”在用户的表中间：替换后位置不变；生成表的打印设置（横向、适应页宽、打印标题）随表写出，
    打印标题作为该表的内置名称，旧的同名名称被替换，其他表的名称不动。"""
    src = tmp_path / "a.xlsx"
    wb = openpyxl.load_workbook(demo_dir / "baojing-2018.xlsx")
    ws = wb.create_sheet("报告", 1)
    ws["A1"] = "旧报告"
    ws.print_title_rows = "1:1"
    wb["评分表"].print_title_rows = "1:3"
    wb.save(src)
    book = OpenpyxlBook(src)
    book.replace_sheet("报告", [CellWrite(1, 1, "新报告", "title"), CellWrite(2, 1, "正文", "paragraph")])
    rep = book.wb["报告"]
    rep.print_title_rows = "1:2"
    rep.page_setup.orientation = "landscape"
    rep.page_setup.fitToWidth = 1
    rep.page_setup.fitToHeight = 0
    rep.sheet_properties.pageSetUpPr.fitToPage = True
    book.replace_sheet("校验结果", [CellWrite(1, 1, "校验结果")])
    book.save()
    out = openpyxl.load_workbook(src)
    assert out.sheetnames == ["基础数据表", "报告", "评分表", "文字材料", "校验结果"]
    r = out["报告"]
    assert r["A1"].value == "新报告" and r["A2"].alignment.wrap_text
    assert r.print_title_rows == "$1:$2" and r.page_setup.orientation == "landscape"
    assert r.sheet_properties.pageSetUpPr.fitToPage and r.page_setup.fitToWidth == 1
    assert out["评分表"].print_title_rows == "$1:$3"
    wb_xml = parts_of(src)["xl/workbook.xml"].decode()
    assert wb_xml.count("_xlnm.Print_Titles") == 2


def test_only_parts_of_the_old_sheet_are_removed(demo_dir, tmp_path):
    """旧“报告”表的图片与用户表共用一个媒体部件：旧报告的图形部件删除，共用的图片保留且不变。"""
    from openpyxl.drawing.image import Image
    from PIL import Image as PILImage

    buf = io.BytesIO()
    PILImage.new("RGB", (20, 20), (0, 0, 255)).save(buf, format="PNG")
    src = tmp_path / "a.xlsx"
    wb = openpyxl.load_workbook(demo_dir / "baojing-2018.xlsx")
    wb["文字材料"].add_image(Image(io.BytesIO(buf.getvalue())), "H2")
    wb.create_sheet("报告").add_image(Image(io.BytesIO(buf.getvalue())), "B2")
    wb.save(src)
    parts = parts_of(src)
    sp = _sheet_parts(parts)
    old_report = _reachable(parts, sp["报告"])
    old_drawing = next(n for n in old_report if n.startswith("xl/drawings/drawing"))
    media = sorted(n for n in parts if n.startswith("xl/media/"))
    assert len(media) == 2
    # 让旧报告的图形指向用户表的那张图片（Excel 会这样共用相同的图片）
    user_media = next(m for m in media if m not in old_report)
    rels = old_drawing.replace("drawings/", "drawings/_rels/") + ".rels"
    report_media = next(m for m in media if m in old_report)
    parts[rels] = parts[rels].replace(Path(report_media).name.encode(), Path(user_media).name.encode())
    del parts[report_media]
    src.write_bytes(zip_of(parts))
    book = OpenpyxlBook(src)
    book.replace_sheet("报告", [CellWrite(1, 1, "新报告")])
    book.save()
    after = parts_of(src)
    assert after[user_media] == parts[user_media]
    assert old_drawing not in after and rels not in after
    assert f'PartName="/{old_drawing}"'.encode() not in after["[Content_Types].xml"]
    assert openpyxl.load_workbook(src)["文字材料"]._images


def test_old_sheet_with_formulas_drops_the_calculation_chain(demo_dir, tmp_path):
    """用户在旧“报告”表里写过公式：calcChain 列着它们，替换后已过时——删除（Excel 打开时重建）；其余不动。"""
    src = tmp_path / "a.xlsx"
    wb = openpyxl.load_workbook(demo_dir / "baojing-2018.xlsx")
    wb.create_sheet("报告")["A1"] = "=1+1"
    wb.save(src)
    parts = parts_of(src)
    parts["xl/calcChain.xml"] = (b'<calcChain xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
                                 b'<c r="A1" i="4"/></calcChain>')
    parts["xl/_rels/workbook.xml.rels"] = parts["xl/_rels/workbook.xml.rels"].replace(
        b"</Relationships>", b'<Relationship Id="rIdCC" Type="http://schemas.openxmlformats.org/officeDocument/2006/'
                             b'relationships/calcChain" Target="calcChain.xml"/></Relationships>')
    parts["[Content_Types].xml"] = parts["[Content_Types].xml"].replace(
        b"</Types>", b'<Override PartName="/xl/calcChain.xml" ContentType="application/vnd.openxmlformats-'
                     b'officedocument.spreadsheetml.calcChain+xml"/></Types>')
    src.write_bytes(zip_of(parts))
    book = OpenpyxlBook(src)
    book.replace_sheet("报告", [CellWrite(1, 1, "新报告")])
    book.save()
    after = parts_of(src)
    assert "xl/calcChain.xml" not in after and b"calcChain" not in after["xl/_rels/workbook.xml.rels"]
    assert b"calcChain" not in after["[Content_Types].xml"]
    assert openpyxl.load_workbook(src)["报告"]["A1"].value == "新报告"


# ---------------------------------------------------------------------------------------------------------------
# 核对：不通过时不替换原文件
# ---------------------------------------------------------------------------------------------------------------
def test_a_changed_user_part_is_caught_and_the_result_goes_to_a_copy(demo_dir, tmp_path, monkeypatch, capsys):
    """拼接若（因缺陷）改动了用户的部件：原文件不替换，结果另存为“未写回”副本，中文说明指出部件；批量处理不读副本。"""
    p = shutil.copy(demo_dir / "baojing-2018.xlsx", tmp_path / "保靖.xlsx")
    original = Path(p).read_bytes()
    real = splice.splice

    def faulty(original_bytes, scratch, sheets, **kw):
        data = real(original_bytes, scratch, sheets, **kw)
        parts = parts_of(io.BytesIO(data))  # type: ignore[arg-type]
        parts["xl/sharedStrings.xml"] = parts["xl/sharedStrings.xml"].replace("保靖".encode(), "保清".encode())
        return zip_of(parts)

    monkeypatch.setattr(splice, "splice", faulty)
    code, _, err = _cli(capsys, "report", p)
    assert code == 2 and "保靖.xlsx" in err and "sharedStrings.xml" in err and "未写回" in err, err
    assert Path(p).read_bytes() == original
    (copy,) = [f for f in tmp_path.iterdir() if "未写回" in f.name]
    assert copy.name in err and safeio.is_backup_name(copy.name)
    assert "报告" in openpyxl.load_workbook(copy).sheetnames


def test_a_wrong_style_mapping_is_caught_before_writing(demo_dir, tmp_path, monkeypatch):
    """生成表读回的格式与要写的不同（样式编号映射错了）：不写出，也不留副本（结果本身不对）。"""
    p = shutil.copy(demo_dir / "baojing-2018.xlsx", tmp_path / "a.xlsx")
    original = Path(p).read_bytes()
    book = safebook.open_book(p)
    book.replace_sheet("报告", [CellWrite(1, 1, "标题", "title")])
    monkeypatch.setattr(stylemerge.StyleMerger, "xf", lambda self, i: 0)
    with pytest.raises(BookError, match="读回的格式与要写的不同") as ei:
        safeio.save_book(book)
    assert "原文件未改动" in str(ei.value) and "a.xlsx" in str(ei.value)
    assert Path(p).read_bytes() == original and sorted(f.name for f in tmp_path.iterdir()) == ["a.xlsx"]


def test_splice_refuses_strict_or_broken_packages(demo_dir):
    with pytest.raises(opc.SpliceError, match="zip"):
        splice.splice(b"not a zip", b"", ["报告"])
    parts = parts_of(demo_dir / "baojing-2018.xlsx")
    parts["xl/workbook.xml"] = parts["xl/workbook.xml"].replace(
        b"http://schemas.openxmlformats.org/spreadsheetml/2006/main", b"http://purl.oclc.org/ooxml/spreadsheetml/main")
    book = OpenpyxlBook(demo_dir / "baojing-2018.xlsx")
    book.replace_sheet("报告", [CellWrite(1, 1, "x")])
    with pytest.raises(opc.SpliceError, match="Strict|常规"):
        splice.splice(zip_of(parts), book.owned_package(), ["报告"])


def test_style_records_are_appended_in_any_writer_s_dialect():
    """原 styles.xml 用带前缀的命名空间（某些 .NET 库这样写）、没有 numFmts、dxfs 是空元素：新记录照样追加到各表末尾，
    原有记录与编号不变，已有的相同记录复用。"""
    ns = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
    original = (f'<?xml version="1.0" encoding="UTF-8"?><x:styleSheet xmlns:x="{ns}">'
                '<x:fonts count="1"><x:font><x:sz val="11"/><x:name val="宋体"/></x:font></x:fonts>'
                '<x:fills count="2"><x:fill><x:patternFill patternType="none"/></x:fill>'
                '<x:fill><x:patternFill patternType="gray125"/></x:fill></x:fills>'
                '<x:borders count="1"><x:border/></x:borders>'
                '<x:cellStyleXfs count="1"><x:xf numFmtId="0" fontId="0" fillId="0" borderId="0"/></x:cellStyleXfs>'
                '<x:cellXfs count="1"><x:xf numFmtId="0" fontId="0" fillId="0" borderId="0" xfId="0"/></x:cellXfs>'
                '<x:cellStyles count="1"><x:cellStyle name="常规" xfId="0" builtinId="0"/></x:cellStyles>'
                '<x:dxfs count="0"/></x:styleSheet>').encode()
    scratch = (f'<styleSheet xmlns="{ns}"><numFmts count="1"><numFmt numFmtId="164" formatCode="0.0%"/></numFmts>'
               '<fonts count="2"><font><sz val="11"/><name val="宋体"/></font><font><b val="1"/><name val="黑体"/>'
               '</font></fonts><fills count="2"><fill><patternFill/></fill><fill><patternFill patternType="gray125"/>'
               '</fill></fills><borders count="1"><border/></borders>'
               '<cellXfs count="3"><xf numFmtId="0" fontId="0" fillId="0" borderId="0"/>'
               '<xf numFmtId="164" fontId="1" fillId="0" borderId="0" applyFont="1"/>'
               '<xf numFmtId="0" fontId="0" fillId="0" borderId="0"/></cellXfs>'
               '<dxfs count="1"><dxf><font><b val="1"/></font></dxf></dxfs></styleSheet>').encode()
    m = stylemerge.StyleMerger(original, scratch)
    assert m.xf(0) == 0  # 原有的格式：原编号
    assert m.xf(1) == 1 and m.xf(1) == 1  # 新格式：追加一次
    assert m.xf(2) == 0  # 与原有记录相同：复用
    assert m.dxf(0) == 0
    out = m.result().decode()
    assert out.startswith(original.decode().split("<x:fonts")[0])
    assert '<x:fonts count="2"><x:font><x:sz val="11"/><x:name val="宋体"/></x:font><x:font><x:b val="1"/>' in out
    assert '<x:numFmts count="1"><x:numFmt numFmtId="164" formatCode="0.0%"/></x:numFmts><x:fonts' in out
    assert '<x:cellXfs count="2"><x:xf numFmtId="0" fontId="0" fillId="0" borderId="0" xfId="0"/><x:xf ' in out
    assert '<x:dxfs count="1"><x:dxf><x:font><x:b val="1"/></x:font></x:dxf></x:dxfs>' in out
    wb = openpyxl.load_workbook(_with_styles(out.encode()))
    assert wb is not None


def _with_styles(styles: bytes) -> io.BytesIO:
    """一个最小的工作簿，styles.xml 换成给定内容（确认 openpyxl 能读）。"""
    buf = io.BytesIO()
    openpyxl.Workbook().save(buf)
    parts = parts_of(io.BytesIO(buf.getvalue()))  # type: ignore[arg-type]
    parts["xl/styles.xml"] = styles
    return io.BytesIO(zip_of(parts))
