"""addin/io/fastsheet.py：FastBook 的正则快速路径与 expat 逐元素解析逐格相同——同样的值、同样的错误说明；不规整的部件
交回 expat（并确实交回），规整的确实走快速路径。"""
from __future__ import annotations

import zipfile
from pathlib import Path

import pytest

from addin.io import fastsheet
from addin.io.book import BookError
from addin.io.fastbook import FastBook
from addin.io.openpyxl_book import OpenpyxlBook

NS = 'xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"'
STYLES = (f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?><styleSheet {NS}>'
          '<numFmts count="1"><numFmt numFmtId="164" formatCode="yyyy-mm-dd"/></numFmts>'
          '<fonts count="1"><font><sz val="11"/><name val="Calibri"/></font></fonts><fills count="1"><fill><patternFill '
          'patternType="none"/></fill></fills><borders count="1"><border><left/><right/><top/><bottom/><diagonal/></border>'
          '</borders>'
          '<cellStyleXfs count="1"><xf numFmtId="0" fontId="0" fillId="0" borderId="0"/></cellStyleXfs><cellXfs count="3">'
          + "".join(f'<xf numFmtId="{n}" fontId="0" fillId="0" borderId="0" xfId="0"/>' for n in (0, 164, 10))
          + '</cellXfs><cellStyles count="1"><cellStyle name="Normal" xfId="0" builtinId="0"/></cellStyles></styleSheet>')
SST = (f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?><sst {NS} count="4" uniqueCount="4">'
       '<si><t>评分表</t></si><si><t xml:space="preserve"> 前后 空格 </t></si><si><t>A&amp;B &lt;1&gt; &quot;引&apos;</t></si>'
       '<si><t>末</t></si></sst>')
ROWS = ('<row r="1" spans="1:9" ht="30" customHeight="1" x14ac:dyDescent="0.25"><c r="A1" s="1" t="s"><v>0</v></c>'
        '<c r="B1" t="s"><v>1</v></c><c r="C1" t="s"><v>2</v></c><c r="D1" t="s"><v>3</v></c><c r="E1" s="1"/>'
        '<c r="F1"><v>12</v></c><c r="G1" s="2"><v>0.125</v></c><c r="H1"><v>1.5E-3</v></c><c r="I1"><v>-7</v></c></row>'
        '<row r="2"><c r="A2" s="1"><v>44561</v></c><c r="B2" t="b"><v>1</v></c><c r="C2" t="e"><v>#DIV/0!</v></c>'
        '<c r="D2" t="str"><f>"a"&amp;"&lt;b&gt;"</f><v>a&lt;b&gt;</v></c><c r="E2"><f>SUM(F1:I1)</f><v>5.1265</v></c>'
        '<c r="F2"><f t="shared" ref="F2:F4" si="0">F1*2</f><v>24</v></c><c r="G2"><f/><v>3</v></c>'
        '<c r="H2" cm="1" t="str"><f>IF(F1&gt;1,"是","否")</f><v>是</v></c><c r="I2"><v/></c></row>'
        '<row r="3"/><row r="4"><c r="F4"><f t="shared" si="0"/><v>0</v></c></row>')


def _sheet(rows: str, before: str = "", after: str = "") -> str:
    return (f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?><worksheet {NS} '
            'xmlns:x14ac="http://schemas.microsoft.com/office/spreadsheetml/2009/9/ac">'
            f'<dimension ref="A1:I4"/>{before}<sheetData>{rows}</sheetData>{after}</worksheet>')


def _book(path: Path, sheet: str, sst: str = SST) -> Path:
    rel = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
    with zipfile.ZipFile(path, "w") as z:
        z.writestr("[Content_Types].xml", '<?xml version="1.0"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/'
                   'content-types"><Default Extension="rels" ContentType="application/vnd.openxmlformats-package.'
                   'relationships+xml"/><Default Extension="xml" ContentType="application/xml"/><Override PartName='
                   '"/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.'
                   'main+xml"/><Override PartName="/xl/worksheets/sheet1.xml" ContentType="application/vnd.openxmlformats-'
                   'officedocument.spreadsheetml.worksheet+xml"/><Override PartName="/xl/styles.xml" ContentType="application/'
                   'vnd.openxmlformats-officedocument.spreadsheetml.styles+xml"/><Override PartName="/xl/sharedStrings.xml" '
                   'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sharedStrings+xml"/></Types>')
        z.writestr("_rels/.rels", '<?xml version="1.0"?><Relationships xmlns="http://schemas.openxmlformats.org/package/'
                   f'2006/relationships"><Relationship Id="rId1" Type="{rel}/officeDocument" Target="xl/workbook.xml"/>'
                   '</Relationships>')
        z.writestr("xl/workbook.xml", f'<?xml version="1.0"?><workbook {NS} xmlns:r="{rel}"><sheets>'
                   '<sheet name="评分表" sheetId="1" r:id="rId1"/></sheets></workbook>')
        z.writestr("xl/_rels/workbook.xml.rels", '<?xml version="1.0"?><Relationships xmlns="http://schemas.'
                   f'openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="{rel}/worksheet" '
                   f'Target="worksheets/sheet1.xml"/><Relationship Id="rId2" Type="{rel}/styles" Target="styles.xml"/>'
                   f'<Relationship Id="rId3" Type="{rel}/sharedStrings" Target="sharedStrings.xml"/></Relationships>')
        z.writestr("xl/worksheets/sheet1.xml", sheet)
        z.writestr("xl/styles.xml", STYLES)
        z.writestr("xl/sharedStrings.xml", sst)
    return path


def _read(path: Path, fast: bool, monkeypatch) -> tuple[str, object, bool]:
    """(结果类别, 网格或错误说明, 是否走了快速路径)。"""
    used = []
    real = fastsheet.sheet_cells

    def spy(*a, **k):
        got = real(*a, **k) if fast else None
        used.append(got is not None)
        return got

    with monkeypatch.context() as m:
        m.setattr(fastsheet, "sheet_cells", spy)
        if not fast:
            m.setattr(fastsheet, "shared_strings", lambda data: None)
        try:
            b = FastBook(path, data=path.read_bytes())  # 与批量处理相同：从内存中的字节读
            try:
                return "ok", b.grid("评分表"), any(used)
            finally:
                b.close()
        except BookError as exc:
            return "error", str(exc), any(used)


def test_regular_sheet_takes_the_fast_path_and_matches_expat_and_openpyxl(tmp_path, monkeypatch):
    p = _book(tmp_path / "regular.xlsx", _sheet(ROWS, '<cols><col min="1" max="2" width="9"/></cols>',
                                              '<mergeCells count="1"><mergeCell ref="A3:B3"/></mergeCells>'))
    kind, fast, used = _read(p, True, monkeypatch)
    assert kind == "ok" and used
    assert _read(p, False, monkeypatch)[1] == fast
    assert OpenpyxlBook(p, with_cached=True).grid("评分表") == fast
    assert fast[(1, 2)] == " 前后 空格 " and fast[(1, 3)] == 'A&B <1> "引\'' and fast[(1, 4)] == "末"
    assert fast[(2, 4)].text == '="a"&"<b>"' and fast[(2, 4)].cached == "a<b>"
    assert fast[(4, 6)].text == "=F3*2" and (2, 9) not in fast and (1, 5) not in fast
    assert fastsheet.shared_strings(SST.encode()) == ["评分表", " 前后 空格 ", 'A&B <1> "引\'', "末"]
    assert fastsheet.shared_strings(SST.replace("<t>末</t>", "<t/>").encode())[-1] == ""  # 与 expat 路径相同


@pytest.mark.parametrize("rows, sst", [
    (ROWS.replace("</c><c", "</c>\n  <c"), SST),  # 元素之间有空白
    (ROWS.replace('<v>12</v>', '<v>1&#50;</v>'), SST),  # 数字字符引用
    (ROWS.replace('<c r="F1"><v>12</v></c>', '<c r="F1" t="inlineStr"><is><t>内联</t></is></c>'), SST),
    (ROWS.replace('<v>#DIV/0!</v>', '<v><![CDATA[#DIV/0!]]></v>'), SST),
    (ROWS.replace('"a"&amp;', '"a\r\n"&amp;'), SST),  # 换行归一化交给 expat
    (ROWS.replace('<row r="3"/>', '<!-- 注释 --><row r="3"/>'), SST),
    (ROWS, SST.replace("<si><t>末</t></si>", "<si><r><rPr><b/></rPr><t>富</t></r><r><t>文本</t></r></si>")),
    (ROWS, SST.replace("<si><t>末</t></si>", "<si><t>注音</t><rPh sb=\"0\" eb=\"1\"><t>zhu</t></rPh></si>")),
])
def test_irregular_parts_go_back_to_expat_with_the_same_cells(tmp_path, monkeypatch, rows, sst):
    p = _book(tmp_path / "irregular.xlsx", _sheet(rows), sst)
    kind, fast, used = _read(p, True, monkeypatch)
    assert kind == "ok" and used == (rows == ROWS)  # 不规整的工作表交回 expat
    assert _read(p, False, monkeypatch)[1] == fast
    assert OpenpyxlBook(p, with_cached=True).grid("评分表") == fast


@pytest.mark.parametrize("rows, after", [
    (ROWS.replace("<v>12</v>", "<v>NaN</v>"), ""),  # 坏的数字
    (ROWS.replace('t="s"><v>3</v>', 't="s"><v>9</v>'), ""),  # 不存在的共享字符串
    (ROWS.replace('t="b"><v>1</v>', 't="b"><v>x</v>'), ""),  # 坏的逻辑值
    (ROWS.replace('<c r="A2" s="1">', '<c r="A2" s="x">'), ""),  # 坏的样式编号
    (ROWS, '<mergeCells count="1"><mergeCell ref="A3:B3"></mergeCells>'),  # sheetData 之后的 XML 错误
    (ROWS.replace("&amp;", "&bogus;"), ""),  # 未声明的实体
    (ROWS.replace("<v>-7</v>", "<v>-7\x01</v>"), ""),  # XML 不允许的字符
])
def test_errors_are_reported_exactly_as_the_expat_path_does(tmp_path, monkeypatch, rows, after):
    p = _book(tmp_path / "bad.xlsx", _sheet(rows, after=after))
    kind, message, _ = _read(p, True, monkeypatch)
    assert kind == "error" and ("评分表" in message or "部件" in message)
    assert _read(p, False, monkeypatch)[:2] == (kind, message)


def test_sheet_over_the_cell_limit_is_refused_by_the_expat_path(tmp_path, monkeypatch):
    from addin.io import filecheck

    monkeypatch.setattr(filecheck, "MAX_CELLS", 20)
    p = _book(tmp_path / "big.xlsx", _sheet(ROWS))
    kind, message, used = _read(p, True, monkeypatch)
    assert kind == "error" and "单元格" in message and not used
    assert _read(p, False, monkeypatch)[:2] == (kind, message)



# --------------------------------------------------------------------------- 值之间的标记按字节缓存、其余部分的核对
def _three_ways(path: Path, monkeypatch) -> tuple[tuple, tuple]:
    """(快速路径的结果, expat 路径的结果)，各为 (结果类别, 网格或错误说明, 是否走了快速路径)；结果为网格时再与 openpyxl 比对。"""
    fast, slow = _read(path, True, monkeypatch), _read(path, False, monkeypatch)
    if fast[0] == "ok":
        assert OpenpyxlBook(path, with_cached=True).grid("评分表") == fast[1]
    return fast, slow


def test_same_markup_with_other_values_reuses_the_parsed_markup_but_not_the_values(tmp_path, monkeypatch):
    """同一模板的两份工作簿：值之间的标记逐字节相同（第二份只查缓存），值各是各的。"""
    other = ROWS.replace("<v>12</v>", "<v>13</v>").replace("<v>0.125</v>", "<v>7</v>").replace('t="s"><v>2</v>',
                                                                                          't="s"><v>3</v>')
    grids = []
    for i, rows in enumerate((ROWS, other)):
        fast, slow = _three_ways(_book(tmp_path / f"{i}.xlsx", _sheet(rows)), monkeypatch)
        assert fast[0] == "ok" and fast[2] and fast[1] == slow[1]
        grids.append(fast[1])
    assert (grids[0][(1, 6)], grids[1][(1, 6)]) == (12, 13) and grids[1][(1, 7)] == 7 and grids[1][(1, 3)] == "末"


@pytest.mark.parametrize("rows", [
    '<row r="1"><c r="A1"><f>1+1</f></c><c r="B1"><v>2</v></c><c r="C1"><f>B1</f><v/></c></row>'
    '<row r="2"><c r="A2" t="s"><v>0</v></c><c r="B2"><f>A1</f></c></row><row r="3"><c r="C3"><f>C1</f></c></row>',
    '<row r="1"><c r="A1"><f>1+1</f></c></row><row r="2"/>',  # 整张表没有一个值
    "",
])
def test_formulas_without_saved_results_anywhere_in_the_markup(tmp_path, monkeypatch, rows):
    fast, slow = _three_ways(_book(tmp_path / "f.xlsx", _sheet(rows)), monkeypatch)
    assert fast == (*slow[:2], True)


def test_a_sheet_data_inside_a_comment_is_not_read_as_cells(tmp_path, monkeypatch):
    """注释里的 <sheetData>…</sheetData>：真正的 sheetData 是空的（expat 与 openpyxl 都读不到单元格）。"""
    sheet = _sheet(ROWS).replace("<sheetData>", "<!-- <sheetData>").replace("</sheetData>", "</sheetData> --><sheetData/>")
    fast, slow = _three_ways(_book(tmp_path / "comment.xlsx", sheet), monkeypatch)
    assert fast == ("ok", {}, False) and slow[:2] == fast[:2]


@pytest.mark.parametrize("rows", [
    ROWS + '<c r="J9"><v>5</v></c>',  # 行外的单元格（openpyxl 不读）
    ROWS.replace('<row r="3"/>', '<row r="3">'),  # 行没有结束
    ROWS.replace('<c r="F1">', '<c r="F1" s="1" s="2">'),  # 重复的属性
    ROWS.replace('<row r="2">', '<row r="2" r="2">'),
    ROWS.replace('<row r="2">', '<row r="2" x="\x01">'),  # 属性值里 XML 不允许的字符
    ROWS.replace('<c r="B1" t="s">', '<c r="A1" t="s">'),  # 同一格出现两次（后出现的为准）
    ROWS.replace("<v>是</v>", "<v>是\ufffe</v>"),  # XML 不允许的字符 U+FFFE
    ROWS.replace("<v>是</v>", "<v>是]]&gt;</v>"),
    ROWS.replace("<v>-7</v>", "<v> -7</v>"),  # 数值两边的空白：openpyxl 照样转换
    ROWS.replace("<v>-7</v>", "<v>\x0b-7</v>"),
    ROWS.replace('<c r="A1" s="1" t="s"><v>0</v>', '<c r="A1" s="1" t="s"><v> 0</v>'),
])
def test_markup_that_only_looks_regular_is_read_as_expat_and_openpyxl_read_it(tmp_path, monkeypatch, rows):
    fast, slow = _three_ways(_book(tmp_path / "x.xlsx", _sheet(rows)), monkeypatch)
    assert fast[:2] == slow[:2]


def test_a_declared_single_byte_encoding_is_read_as_declared(tmp_path, monkeypatch):
    """声明 ISO-8859-1 的部件按声明的编码读（与 openpyxl 相同），不按 UTF-8 的快速路径。"""
    sheet = _sheet(ROWS).replace('encoding="UTF-8"', 'encoding="ISO-8859-1"').replace("<v>是</v>", "<v>é</v>")
    p = tmp_path / "latin.xlsx"
    _book(p, "")
    with zipfile.ZipFile(p) as z:
        parts = {n: z.read(n) for n in z.namelist()}
    parts["xl/worksheets/sheet1.xml"] = sheet.encode("utf-8")
    with zipfile.ZipFile(p, "w") as z:
        for n, d in parts.items():
            z.writestr(n, d)
    fast, slow = _three_ways(p, monkeypatch)
    assert fast == (*slow[:2], False) and fast[1][(2, 8)].cached == "Ã©"


def test_a_tail_of_the_same_length_as_a_good_one_is_checked_again(tmp_path, monkeypatch):
    good = '<mergeCells count="1"><mergeCell ref="A3:B3"/></mergeCells>'
    bad = '<mergeCells count="1"><mergeCell ref="A3:B3"!></mergeCells>'
    assert _read(_book(tmp_path / "good.xlsx", _sheet(ROWS, after=good)), True, monkeypatch)[:1] == ("ok",)
    fast, slow = _three_ways(_book(tmp_path / "bad.xlsx", _sheet(ROWS, after=bad)), monkeypatch)
    assert fast[0] == "error" and fast[:2] == slow[:2]


@pytest.mark.parametrize("compression", [zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED])
def test_parts_read_from_memory_match_zipfile_and_a_bad_crc_says_the_same(tmp_path, compression):
    p = _book(tmp_path / "ok.xlsx", _sheet(ROWS))
    with zipfile.ZipFile(p) as z:
        parts = {n: z.read(n) for n in z.namelist()}
    with zipfile.ZipFile(p, "w", compression) as z:
        for n, d in parts.items():
            z.writestr(n, d)
    data = p.read_bytes()
    assert FastBook(p, data=data).grid("评分表") == FastBook(p).grid("评分表")
    with zipfile.ZipFile(p) as z:
        info = z.getinfo("xl/worksheets/sheet1.xml")
    at = info.header_offset + 30 + len(info.filename.encode()) + info.compress_size // 2
    broken = tmp_path / "broken.xlsx"
    broken.write_bytes(data[:at] + bytes([data[at] ^ 0x55]) + data[at + 1:])
    outcomes = []
    for book in (lambda: FastBook(broken, data=broken.read_bytes()), lambda: FastBook(broken)):
        with pytest.raises(Exception) as e:  # noqa: B017 —— 两种读法抛出同样的异常、同样的说明
            book().grid("评分表")
        outcomes.append((type(e.value), str(e.value)))
    assert outcomes[0] == outcomes[1] and outcomes[0][0] is BookError
    assert "部件“xl/worksheets/sheet1.xml”的压缩数据已损坏" in outcomes[0][1]


def test_caches_are_bounded_and_a_cleared_cache_reads_the_same(tmp_path, monkeypatch):
    """值之间的标记、整表的标记、其余部分的核对结论都按字节缓存：超过上限即清空，清空后读到的与之前相同。"""
    books = [_book(tmp_path / f"{i}.xlsx", _sheet(rows)) for i, rows in enumerate((ROWS, ROWS.replace("<v>12</v>", "")))]
    first = [_read(p, True, monkeypatch) for p in books]
    assert all(kind == "ok" and used for kind, _, used in first)
    monkeypatch.setattr(fastsheet, "_MAX_CACHE_BYTES", 300)
    for cache in (fastsheet._SEGMENTS, fastsheet._EDGES, fastsheet._MARKUPS):
        cache.clear()
    for _ in range(2):
        assert [_read(p, True, monkeypatch) for p in books] == first
        assert len(fastsheet._SEGMENTS) + len(fastsheet._EDGES) <= 2 and len(fastsheet._MARKUPS) <= 1
    for i in range(300):  # 其余部分各不相同的工作表：核对结论的缓存不会无限增长
        fastsheet._rest_ok(b'<?xml version="1.0"?><worksheet x="' + b"y" * i + b'"><sheetData>', b"</sheetData></worksheet>",
                           "sheetData", "c")
    assert len(fastsheet._REST_OK) <= 257 and all(len(v) <= 8 for v in fastsheet._REST_OK.values())


def test_an_sst_differing_only_in_its_counts_is_checked_once(monkeypatch):
    """同一模板的共享字符串表只是 count/uniqueCount 不同：良构核对只做一次；其余任何不同（重复的属性）照样核对、交回 expat。"""
    from addin.io import ooxml

    parsed = []
    real = ooxml.expat_parser
    monkeypatch.setattr(ooxml, "expat_parser", lambda: parsed.append(1) or real())
    fastsheet._REST_OK.clear()
    for count in (4, 4000, 17):
        sst = SST.replace('count="4" uniqueCount="4"', f'count="{count}" uniqueCount="{count + 1}"').encode()
        assert fastsheet.shared_strings(sst) == ["评分表", " 前后 空格 ", 'A&B <1> "引\'', "末"]
    assert len(parsed) == 1
    assert fastsheet.shared_strings(SST.replace('count="4"', 'count="4" count="5"').encode()) is None


def test_package_parts_stored_alike_are_parsed_and_inflated_once(tmp_path, monkeypatch):
    """第二个工作簿的根关系、workbook.xml 与它的关系表压缩后逐字节相同：直接用解析过的结果，不再解压；网格相同。"""
    from addin.io import fastbook

    fastbook._PARSED.clear()
    first = _book(tmp_path / "a.xlsx", _sheet(ROWS))
    second = _book(tmp_path / "b.xlsx", _sheet(ROWS.replace("<v>12</v>", "<v>13</v>")))
    read: list[str] = []
    real = FastBook._part
    monkeypatch.setattr(FastBook, "_part", lambda self, name: read.append(name) or real(self, name))
    grids = []
    for p in (first, second):
        read.clear()
        b = FastBook(p, data=p.read_bytes())
        grids.append(b.grid("评分表"))
    assert sorted(read) == ["xl/sharedStrings.xml", "xl/worksheets/sheet1.xml"]  # 只有表与共享字符串
    assert grids[1] == {**grids[0], (1, 6): 13}
    assert OpenpyxlBook(second, with_cached=True).grid("评分表") == grids[1]


# --------------------------------------------------------------------------- 共享字符串逐条缓存
def test_shared_strings_are_checked_and_decoded_once_per_entry(monkeypatch):
    """同一模板的共享字符串表大多数条目逐字节相同：按条目的字节缓存解析结果；没见过的条目照样逐条核对——有控制字符、
    不允许的实体、“]]>”、坏的 UTF-8、非字符、多余的标记的表都交回 expat，缓存有上限。"""
    fastsheet._TEXTS.clear()
    expected = ["评分表", " 前后 空格 ", 'A&B <1> "引\'', "末"]
    assert fastsheet.shared_strings(SST.encode()) == expected
    assert set(fastsheet._TEXTS.values()) == set(expected)
    assert fastsheet.shared_strings(SST.encode()) == expected
    other = SST.replace("<t>末</t>", "<t>新</t>").encode()
    assert fastsheet.shared_strings(other) == [*expected[:3], "新"]
    for bad in ("新\x01", "新&bogus;", "新]]>", "新\ufffe", "新<b/>", "新</t><t>"):
        assert fastsheet.shared_strings(SST.replace("<t>末</t>", f"<t>{bad}</t>").encode()) is None, bad
    assert fastsheet.shared_strings(SST.encode().replace("末".encode(), b"\xe6\x9c")) is None
    monkeypatch.setattr(fastsheet, "_MAX_CACHE_BYTES", 4 * 300)
    for i in range(50):
        assert fastsheet.shared_strings(SST.replace("<t>末</t>", f"<t>第 {i} 条</t>").encode())[-1] == f"第 {i} 条"
        assert fastsheet._texts_bytes <= 300 + 64
    assert fastsheet.shared_strings(SST.encode()) == expected


# --------------------------------------------------------------------------- 网格的键的索引（GridKeys）
def test_grid_keys_are_what_a_scan_of_the_grid_finds_and_reading_with_them_is_the_same(demo_dir, monkeypatch):
    """快速路径读出的表带着键的索引：按列、按行取出的键与逐格扫描网格得到的相同（顺序也相同）；读取器用它与不用它
    （以及 openpyxl）读到的 WorkbookInputs 相同。"""
    from addin.scoring.reader import read_inputs

    for p in sorted(demo_dir.glob("*.xlsx")):
        book = FastBook(p, data=p.read_bytes())
        for s in book.sheet_names():
            g, keys = book.grid(s), book.grid_keys(s)
            assert keys is not None and keys.keys == tuple(g)
            for c in (1, 2, 3, 99):
                assert keys.column(c) == tuple(k for k in g if k[1] == c)
            for r in {k[0] for k in g} | {10_000}:
                assert keys.row(r) == tuple(k for k in g if k[0] == r)
            assert keys.last_row() == max(g)[0]
        indexed = read_inputs(book)
        with monkeypatch.context() as m:
            m.setattr(FastBook, "grid_keys", lambda self, sheet: None)
            assert read_inputs(FastBook(p, data=p.read_bytes())) == indexed
        assert read_inputs(OpenpyxlBook(p, with_cached=True)) == indexed


@pytest.mark.parametrize("rows", [
    '<row r="1"><c r="A1"><f>1+1</f></c><c r="B1"><v>2</v></c></row>',  # 没有结果的公式单元格
    '<row r="1"><c r="A1" t="inlineStr"><v>1</v></c><c r="B1"><v>2</v></c></row>',  # 有值却不成为单元格
])
def test_grids_whose_keys_are_not_those_of_the_markup_have_no_index(tmp_path, monkeypatch, rows):
    p = _book(tmp_path / "k.xlsx", _sheet(rows))
    fast, slow = _three_ways(p, monkeypatch)
    assert fast[:2] == slow[:2] and fast[2]
    assert FastBook(p, data=p.read_bytes()).grid_keys("评分表") is None


def test_words_reaching_the_last_row_are_read_with_and_without_the_index(demo_dir):
    """定性词表是最后一个标记、词语一直写到表的最后一行：表尾取自索引（last_row）与取自网格相同，最后一个词语读到。"""
    from addin.scoring.reader import read_inputs
    from workbook_templates import layout as L

    class Book:  # 读取器只用到 sheet_names、grid，以及（有时）grid_keys
        def __init__(self, grids: dict, indexed: bool):
            self.grids, self.indexed = grids, indexed

        def sheet_names(self):
            return list(self.grids)

        def grid(self, sheet):
            return self.grids[sheet]

        def grid_keys(self, sheet):
            return fastsheet.GridKeys(tuple(self.grids[sheet])) if self.indexed else None

    src = FastBook(demo_dir / "zizhou-2021.xlsx")
    grids = {s: dict(src.grid(s)) for s in src.sheet_names()}
    scores = grids[L.SHEET_SCORES]
    mark = next(k[0] for k in scores if k[1] == 1 and scores[k] == L.WORDS_MARK)
    last = max(scores)[0] + 1
    assert all(k[0] <= mark or k[1] != 1 or not str(scores[k]).strip() for k in scores)  # 下方没有别的标记
    scores[(last, 2)], scores[(last, 3)] = "新词", "好"
    got = [read_inputs(Book(grids, indexed)).qual_words for indexed in (True, False)]
    assert got[0] == got[1] and got[0][-1] == ("新词", "好")
