"""addin/io/zipparts.py：批量读取器直接从字节读 zip 的中央目录与部件，得到与 zipfile 相同的条目、内容与错误；
不是最常见的写法就交给 zipfile（并确实交给它）。"""
from __future__ import annotations

import io
import struct
import zipfile
import zlib
from pathlib import Path

import pytest

from addin.io import zipparts

PARTS = {"[Content_Types].xml": b"<Types/>", "xl/workbook.xml": b"<workbook>" + b"x" * 3000 + b"</workbook>",
         "xl/worksheets/sheet1.xml": b"<worksheet/>", "xl/\u5de5\u4f5c\u8868.xml": "<t>中文部件名</t>".encode()}


def _zip(parts: dict[str, bytes] = PARTS, compression: int = zipfile.ZIP_DEFLATED, comment: bytes = b"",
         extra: bytes = b"") -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", compression) as z:
        for name, data in parts.items():
            info = zipfile.ZipInfo(name)
            info.compress_type = compression
            info.extra = extra
            z.writestr(info, data)
        z.comment = comment
    return buf.getvalue()


def _outcome(read):
    try:
        return "ok", read()
    except Exception as exc:  # noqa: BLE001 —— 比对两种读法抛出的异常
        return type(exc), str(exc)


def _same_as_zipfile(data: bytes) -> zipparts.Package:
    """Package 与 zipfile.ZipFile 对同一份字节：条目逐项相同，每个部件的内容（或错误）相同。"""
    pkg = zipparts.Package(Path("a.xlsx"), data)
    zf = zipfile.ZipFile(io.BytesIO(data))
    assert [(e.name, e.orig_name, e.flag_bits, e.compress_type, e.crc, e.compress_size, e.file_size, e.header_offset)
            for e in pkg.entries] == [(i.filename, i.orig_filename, i.flag_bits, i.compress_type, i.CRC, i.compress_size,
                                       i.file_size, i.header_offset) for i in zf.infolist()]
    for name in zf.NameToInfo:
        assert _outcome(lambda n=name: pkg.read(n)) == _outcome(lambda n=name: zf.read(n))
    assert pkg.read("没有这个部件") is None and pkg.get("没有这个部件") is None
    return pkg


@pytest.mark.parametrize("compression", [zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED])
def test_the_common_layout_is_read_directly_with_the_same_entries_and_parts(compression):
    data = _zip(compression=compression)
    assert zipparts._directory(data) is not None  # 直接读
    pkg = _same_as_zipfile(data)
    assert pkg.read("xl/\u5de5\u4f5c\u8868.xml") == "<t>中文部件名</t>".encode()


@pytest.mark.parametrize("variant", ["comment", "extra", "prefix"])
def test_other_layouts_go_to_zipfile(variant):
    if variant == "comment":
        data = _zip(comment=b"written by someone")
    elif variant == "extra":
        data = _zip(extra=struct.pack("<HH4s", 0xCAFE, 4, b"abcd"))
    else:  # zip 前面拼接了别的数据（自解压文件之类）：zipfile 照样能读
        data = b"MZ" + b"\0" * 100 + _zip()
    assert zipparts._directory(data) is None
    _same_as_zipfile(data)


@pytest.mark.filterwarnings("ignore:Duplicate name")
def test_names_with_nul_cp437_and_duplicates_are_named_as_zipfile_names_them():
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr("xl/a.xml\0junk", b"<a/>")
        z.writestr("xl/dup.xml", b"<first/>")
        z.writestr("xl/dup.xml", b"<second/>")  # zipfile 警告同名部件；读时取最后一个
    data = buf.getvalue().replace(b"dup.xml", b"d\x81p.xml")  # 没有 UTF-8 标志的非 ASCII 名字按 cp437
    assert zipparts._directory(data) is not None
    pkg = _same_as_zipfile(data)
    assert pkg.read("xl/d\u00fcp.xml") == b"<second/>" and pkg.read("xl/a.xml") == b"<a/>"


def test_a_damaged_part_fails_as_zipfile_fails():
    data = _zip()
    info = zipfile.ZipFile(io.BytesIO(data)).getinfo("xl/workbook.xml")
    at = info.header_offset + 30 + len(info.filename) + info.compress_size // 2
    for damaged in (data[:at] + bytes([data[at] ^ 0xFF]) + data[at + 1:],  # 压缩数据坏了：zlib.error 或 CRC 不符
                    data[:info.header_offset] + b"XX" + data[info.header_offset + 2:]):  # 本地文件头坏了
        assert _outcome(lambda d=damaged: zipparts.Package(Path("a.xlsx"), d).read("xl/workbook.xml"))[0] != "ok"
        _same_as_zipfile(damaged)


@pytest.mark.parametrize("change", ["shorter", "longer", "trailing"])
def test_a_stream_libdeflate_does_not_take_is_read_as_zipfile_reads_it(change):
    """声明的大小与流解出的不一致（少了：zipfile 只取前面那些并按它们核对 CRC；多了），或流后面还有多余的字节：
    内容与错误都与 zipfile 相同（libdeflate 解不出恰好声明的大小时交回 zlib）。"""
    body = b"<workbook>" + bytes(range(256)) * 40 + b"</workbook>"
    data = bytearray(_zip({"b.xml": b"<b/>", "a.xml": body}))  # a 在最后：其数据之后紧接中央目录
    zf = zipfile.ZipFile(io.BytesIO(bytes(data)))
    a, cd = zf.getinfo("a.xml"), zf.start_dir
    entry = data.index(b"a.xml", cd) - 46  # a 的中央目录条目（定长 46 个字节，其后是名字）
    if change == "shorter":  # 只取前 100 个字节，CRC 也是它们的：zipfile 照样读出这 100 个字节
        struct.pack_into("<L", data, entry + 16, zlib.crc32(body[:100]))
        struct.pack_into("<L", data, entry + 24, 100)
    elif change == "longer":
        struct.pack_into("<L", data, entry + 24, len(body) + 7)
    else:  # 流之后多 3 个字节（算在压缩后大小里）：流已结束，zlib 不理会它们
        struct.pack_into("<L", data, entry + 20, a.compress_size + 3)
        data[cd:cd] = b"xyz"
        struct.pack_into("<L", data, len(data) - 6, cd + 3)  # 中央目录结束记录里的中央目录位置
    assert zipparts._directory(bytes(data)) is not None  # 直接读，不是交给 zipfile
    pkg = _same_as_zipfile(bytes(data))
    assert pkg.read("a.xml") == (body[:100] if change == "shorter" else body)  # 声明多了时 zipfile 也只给出解出的那些


def test_stored_is_the_part_as_kept_in_the_package_and_only_for_parts_read_directly(tmp_path):
    data = _zip()
    pkg, zf = zipparts.Package(Path("a.xlsx"), data), zipfile.ZipFile(io.BytesIO(data))
    for i in zf.infolist():
        raw, method, crc, size = pkg.stored(i.filename)
        assert (method, crc, size, len(raw)) == (i.compress_type, i.CRC, i.file_size, i.compress_size)
        assert zlib.decompress(raw, -15) == zf.read(i.filename) == pkg.read(i.filename)
    assert pkg.stored("没有这个部件") is None
    (tmp_path / "a.xlsx").write_bytes(data)
    assert zipparts.Package(tmp_path / "a.xlsx", None).stored("xl/workbook.xml") is None  # 从路径打开：zipfile 读
    info = zf.getinfo("xl/workbook.xml")
    bad_header = data[:info.header_offset] + b"XX" + data[info.header_offset + 2:]
    assert zipparts.Package(Path("a.xlsx"), bad_header).stored("xl/workbook.xml") is None


def test_data_running_into_the_next_part_is_left_to_zipfile():
    """一个部件的数据越过下一个部件的开头（“重叠式”压缩炸弹的做法）：不直接读，交给 zipfile（新版 zipfile 拒绝它）。"""
    data = _zip({"a.xml": b"<a/>" * 100, "b.xml": b"<b/>"}, compression=zipfile.ZIP_STORED)
    zf = zipfile.ZipFile(io.BytesIO(data))
    a = zf.getinfo("a.xml")
    entry = data.index(b"PK\x01\x02", zf.start_dir)  # a 的中央目录条目：压缩后大小多算 40 个字节
    patched = bytearray(data)
    struct.pack_into("<L", patched, entry + 20, a.compress_size + 40)
    pkg = zipparts.Package(Path("a.xlsx"), bytes(patched))
    assert zipparts._member(bytes(patched), pkg.get("a.xml")) is None
    _same_as_zipfile(bytes(patched))


def test_a_truncated_file_is_refused_as_zipfile_refuses_it():
    data = _zip()
    for cut in (data[:-5], data[:len(data) // 2], b"PK\x05\x06" + b"\0" * 18):
        assert _outcome(lambda c=cut: zipparts.Package(Path("a.xlsx"), c).entries) == \
            _outcome(lambda c=cut: zipfile.ZipFile(io.BytesIO(c)).infolist())


def test_a_damaged_worksheet_is_a_chinese_reason_in_batch(tmp_path):
    """工作表部件的压缩数据坏了（打开时中央目录完好，读到该表时才发现）：批量处理列为无法读取，说明是中文，不是程序错误。"""
    from addin.batch.run import process_file
    from addin.template.workbook import build_workbook
    from workbook_templates.examples import ZIZHOU_2021

    good = tmp_path / "好.xlsx"
    build_workbook(ZIZHOU_2021.system, good, ZIZHOU_2021)
    data = good.read_bytes()
    zf = zipfile.ZipFile(io.BytesIO(data))
    info = max((i for i in zf.infolist() if i.filename.startswith("xl/worksheets/")), key=lambda i: i.compress_size)
    at = info.header_offset + 30 + len(info.filename) + len(info.extra) + info.compress_size // 2
    bad = tmp_path / "坏.xlsx"
    bad.write_bytes(data[:at] + bytes([data[at] ^ 0xFF]) + data[at + 1:])
    res = process_file(str(bad), str(tmp_path), bad.read_bytes())
    assert not res.ok
    assert "的压缩数据已损坏" in res.reason and "程序错误" not in res.reason, res.reason
