"""批量读取器的 zip 读法：部件目录（中央目录）与部件内容。

批量处理先把文件整个读入内存。常见的写法（Excel、WPS、openpyxl 写出的：中央目录结束记录在文件末尾、没有注释与
zip64、条目没有附加字段、前面没有别的数据）直接从这些字节读，省去 zipfile 为每个条目建 ZipInfo、逐块读取的开销；
部件内容同样核对本地文件头、文件名与 CRC。其他写法（以及从路径打开时）一律交给 zipfile：这里只读 zipfile 也会照样
读出的那一种写法，遇到别的就交回，所以得到的条目、内容与错误都与 zipfile 相同（tests/test_zipparts.py 比对）。
解压与 CRC 用 libdeflate（deflate 包）：整块解压比 zlib 逐块快约一倍，CRC 快十倍；它解不出恰好声明大小的内容时
交回 zlib 的读法（zipfile 的做法），错误也就与 zipfile 相同。
"""
from __future__ import annotations

import io
import os
import struct
import zipfile
import zlib
from pathlib import Path
from typing import NamedTuple

import deflate

_END = struct.Struct("<4s4H2LH")  # 中央目录结束记录（zipfile.structEndArchive）
_CENTRAL = struct.Struct("<4s4B4HL2L5H2L")  # 中央目录条目（zipfile.structCentralDir）
_LOCAL = struct.Struct("<4s2xH18xHH")  # 本地文件头：签名、标志、文件名长、附加字段长


class Entry(NamedTuple):
    """中央目录的一个条目（zipfile.ZipInfo 中批量读取要用的那几项）。end：下一个条目（或中央目录）开始的位置。"""

    name: str
    orig_name: str
    flag_bits: int
    compress_type: int
    crc: int
    compress_size: int
    file_size: int
    header_offset: int
    end: int


def _directory(data: bytes) -> list[Entry] | None:
    """最常见写法的中央目录（zipfile._RealGetContents 对它做的事）；别的写法 None。"""
    if len(data) < _END.size:
        return None
    sig, disk, cd_disk, _, count, cd_size, cd_offset, comment = _END.unpack_from(data, len(data) - _END.size)
    # 末尾就是结束记录、没有注释，前面不是 zip64 记录，中央目录紧接在它前面（zip 前面没有拼接别的数据）
    if (sig != b"PK\x05\x06" or comment or disk or cd_disk or data[-42:-38] == b"PK\x06\x07"
            or cd_offset + cd_size != len(data) - _END.size):
        return None
    rows: list[tuple] = []
    pos, stop = cd_offset, cd_offset + cd_size
    while pos < stop:
        if pos + _CENTRAL.size > stop:
            return None
        (sig, _, _, extract_version, _, flags, method, _, _, crc, csize, size, name_len, extra_len, comment_len,
         _, _, _, offset) = _CENTRAL.unpack_from(data, pos)
        if sig != b"PK\x01\x02" or extra_len or extract_version > zipfile.MAX_EXTRACT_VERSION:
            return None
        raw = data[pos + _CENTRAL.size:pos + _CENTRAL.size + name_len]
        try:
            orig = raw.decode("utf-8" if flags & 0x800 or raw.isascii() else "cp437")
        except UnicodeDecodeError:
            return None
        name = orig
        if "\0" in name or os.sep != "/":  # 与 zipfile.ZipInfo 相同：在 NUL 处截断，统一用“/”
            name = name.split("\0", 1)[0].replace(os.sep, "/")
        rows.append((name, orig, flags, method, crc, csize, size, offset))
        pos += _CENTRAL.size + name_len + comment_len
    if pos != stop or len(rows) != count:
        return None
    return _entries(rows, cd_offset)


def _entries(rows: list[tuple], cd_start: int) -> list[Entry]:
    """(名称, 原名, 标志, 压缩方式, CRC, 压缩后大小, 大小, 位置) → Entry，补上每个条目数据的终点：按位置排序后下一个
    条目的开始（最后一个到中央目录为止）。tuple.__new__ 正是 NamedTuple 的构造，省去每个条目一次 Python 调用。"""
    ends: dict[int, int] = {}
    end = cd_start
    for offset in sorted({row[7] for row in rows}, reverse=True):
        ends[offset], end = end, offset
    return [tuple.__new__(Entry, (*row, ends[row[7]])) for row in rows]


class Package:
    """zip 包的部件：entries 按中央目录的顺序，read(name) 给出部件内容（没有这个部件时 None）。
    打不开时与 zipfile.ZipFile 抛出同样的异常（BadZipFile、OSError……）；部件损坏时 read 抛出 BadZipFile、zlib.error 等。"""

    def __init__(self, path: Path, data: bytes | None):
        self._data = data
        self._zf: zipfile.ZipFile | None = None
        entries = _directory(data) if data is not None else None
        if entries is None:
            self._zf = zf = zipfile.ZipFile(path if data is None else io.BytesIO(data))
            entries = _entries([(i.filename, i.orig_filename, i.flag_bits, i.compress_type, i.CRC, i.compress_size,
                                 i.file_size, i.header_offset) for i in zf.infolist()], zf.start_dir)
        self.entries = entries
        self._by_name = {e.name: e for e in self.entries}  # 同名的取最后一个，与 zipfile 相同

    def get(self, name: str) -> Entry | None:
        return self._by_name.get(name)

    def read(self, name: str) -> bytes | None:
        entry = self._by_name.get(name)
        if entry is None:
            return None
        if self._data is not None:
            got = _member(self._data, entry)
            if got is not None:
                return got
        if self._zf is None:
            self._zf = zipfile.ZipFile(io.BytesIO(self._data))  # type: ignore[arg-type]
        return self._zf.read(name)

    def stored(self, name: str) -> tuple[bytes, int, int, int] | None:
        """部件在包里存放的样子：(压缩后的字节, 压缩方式, CRC, 大小)。这几项相同，read 的结果（内容或错误）就相同——
        解压是确定的，核对的是同一个 CRC——所以可以代替内容作缓存的键，命中时不必解压。不直接读的部件 None。"""
        entry = self._by_name.get(name)
        if entry is None or self._data is None:
            return None
        raw = _raw(self._data, entry)
        return None if raw is None else (raw, entry.compress_type, entry.crc, entry.file_size)

    def close(self) -> None:
        if self._zf is not None:
            self._zf.close()


def _member(data: bytes, e: Entry) -> bytes | None:
    """zipfile.ZipFile.read 对内存中 stored/deflate 部件所做的事：核对本地文件头与其中的文件名（_raw），按中央目录的大小
    解压（只取前 file_size 个字节）并核对 CRC；CRC 不符时同样抛出 BadZipFile，解压出错时同样抛出 zlib.error。_raw 交回的
    情形返回 None，交给 zipfile。"""
    raw = _raw(data, e)
    if raw is None:
        return None
    out = _inflate(raw, e.file_size) if e.compress_type == zipfile.ZIP_DEFLATED else raw[:e.file_size]
    if deflate.crc32(out) != e.crc:  # 与 zlib.crc32 同一个 CRC-32，只是快
        raise zipfile.BadZipFile(f"Bad CRC-32 for file {e.name!r}")
    return out


def _raw(data: bytes, e: Entry) -> bytes | None:
    """部件压缩后的字节（核对过本地文件头与其中的文件名）；加密等标志、别的压缩方式、空部件、越界、与下一部件重叠
    （新版 zipfile 拒绝它）、本地文件头不符时 None。"""
    off, size = e.header_offset, e.file_size
    if (e.flag_bits & 0x61 or e.compress_type not in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED) or size <= 0
            or off < 0 or off + _LOCAL.size > len(data)):
        return None
    sig, flags, name_len, extra_len = _LOCAL.unpack_from(data, off)
    name = data[off + _LOCAL.size:off + _LOCAL.size + name_len]
    start = off + _LOCAL.size + name_len + extra_len
    if sig != b"PK\x03\x04" or start + e.compress_size > e.end:
        return None
    try:  # 文件名的编码与 zipfile 相同：标志位 0x800 为 UTF-8，否则 cp437（ASCII 的名字两者相同，按更快的 UTF-8 解码）
        if name.decode("utf-8" if flags & 0x800 or name.isascii() else "cp437") != e.orig_name:
            return None
    except UnicodeDecodeError:
        return None
    return data[start:start + e.compress_size]


def _inflate(raw: bytes, size: int) -> bytes:
    """zipfile 的解压：raw deflate 流解压后的前 size 个字节（zlib 出错时抛出 zlib.error）。流完整且恰好解出 size 个字节
    时 libdeflate 一次解出的就是这些字节（deflate 的解码是确定的）；其他情形（解出的多了或少了、流坏了）照 zipfile 用 zlib。"""
    try:
        out = deflate.deflate_decompress(raw, size)
    except deflate.DeflateError:
        out = None
    if out is not None and len(out) == size:
        return bytes(out)  # deflate_decompress 给出的是 bytearray
    return zlib.decompressobj(-15).decompress(raw, size)
