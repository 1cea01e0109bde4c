"""文件读写的安全关口：打开前先检查文件，写入时不丢数据。

为什么需要它：一个绩效评价工作簿是单位一年的工作，jixiao 绝不能损坏它，也不能因为一个恶意文件而被利用。

读取（open_book）——在 openpyxl 解析任何内容之前：
- 文件大小上限 MAX_FILE_BYTES；空文件、文件夹、不存在的路径给出中文说明；
- 识别非 xlsx 文件：Excel 97-2003（.xls）、设置了打开密码的工作簿（加密后是 OLE 复合文档）、改了扩展名的 CSV/文本、
  .xlsb、.ods、Word 文档、普通 zip、损坏或不完整的文件；
- 压缩炸弹：只读 zip 中央目录（不解压）即可判断——解压后总大小上限 MAX_UNCOMPRESSED_BYTES、单个部件压缩比上限
  MAX_RATIO、部件数上限 MAX_MEMBERS、部件数据区重叠（“重叠式”压缩炸弹）。Python 的 zipfile 解压时不会超过中央目录
  声明的大小，所以声明值可信；一个解压后 2 GB 的文件在毫秒级被拒绝；
- XML 炸弹与外部实体：OOXML 部件从不包含 DTD，凡含 <!DOCTYPE / <!ENTITY 的文件一律拒绝；openpyxl 自身也在
  defusedxml 保护下解析（openpyxl.DEFUSEDXML 为真，工作表与共享字符串用 defusedxml.iterparse，其余部件用
  resolve_entities=False 的 lxml 解析器）；未启用 defusedxml 时拒绝工作（宁可不读，也不冒险）；
- 含宏工作簿（.xlsm/.xltm）：openpyxl 从不执行 VBA，且以 keep_vba=False 打开——宏代码既不运行也不读取；
- 文件只读一次（检查、解析与写回时拼接的底本是同一份字节），并记下它的身份（大小、修改时间、inode、SHA-256）。

写入（save_book / atomic_output）：
- 写回工作簿只改 jixiao 拥有的部件：生成表（报告、校验结果）及其图形/图表、引用它们的条目、styles.xml 末尾追加的
  样式记录；其余每个部件逐字节不变（addin/package.py：拼接与核对）。核对不通过时原文件不替换，结果另存为
  `名称.YYYYmmdd-HHMMSS.未写回.xlsx` 并说明原因；
- 同一个文件同时只有一个 jixiao 在“读取—修改—写回”：写入锁 `名称.xlsx.jixiao.lock`（write_lock；另一个 jixiao
  正在写时等待，超时以中文说明拒绝；持有者已不在的遗留锁自动清除；结束时——包括出错与 Ctrl+C——删除）；
- 先写同目录下的临时文件，fsync 后以 os.replace 原子替换：中途断电、磁盘满、程序出错时，
  原文件要么是旧的完整内容，要么是新的完整内容，不会出现半个文件；
- 覆盖已有文件前保留带时间戳的备份：`名称.YYYYmmdd-HHMMSS.bak.xlsx`（与原文件同目录，同一秒内再次备份加 -2、-3；
  新内容与原文件逐字节相同时不备份——没有可丢失的内容；jixiao 从不删除有用的备份，批量处理不把备份当作部门工作簿）；
  jixiao demo 重新生成示例时同样先备份，生成后只删除与新文件内容相同（仅保存时间不同）的多余备份；
- Excel 打开文件时会在旁边建立锁文件 `~$名称.xlsx`（LibreOffice 为 `.~lock.名称.xlsx#`），发现锁文件、
  文件只读或目录不可写时拒绝写入并说明；
- 读取之后文件在磁盘上又被修改（例如在 Excel 里保存过）时拒绝覆盖，免得冲掉新内容——开始写之前核对一次，
  紧挨着 os.replace 之前再核对一次（文件身份的每一项，包括内容哈希）；
- 输出路径不得是任何一个输入（refuse_overwrite：解析符号链接、大小写、硬链接后比较）；
- .xlsm 可以写回：宏（vbaProject.bin）与其他部件一样逐字节保留；另存为 .xlsx 时去掉宏部件（.xlsx 不能含宏）。

公式注入：从单元格复制到生成表的文本一律按文本写入。openpyxl 写入时把 data_type 设为 "s"（book.OpenpyxlBook.replace_sheet
已这样做）；XlsxWriter 用 write_string 或 Workbook(options=XLSXWRITER_OPTIONS)；经 Excel COM（xlwings）或 CSV 写出的
文本用 excel_text()/csv_text() 加前导撇号。
"""
from __future__ import annotations

import contextlib
import contextvars
import datetime as _dt
import filecmp
import getpass
import hashlib
import io
import json
import os
import re
import shutil
import socket
import stat
import sys
import tempfile
import time
import uuid
import zipfile
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterable, Iterator

from .book import BookError, OpenpyxlBook

__all__ = [
    "MAX_FILE_BYTES", "MAX_UNCOMPRESSED_BYTES", "MAX_RATIO", "RATIO_MIN_BYTES", "MAX_MEMBERS", "MAX_CELLS",
    "MAX_PART_XML_BYTES", "MAX_SHARED_STRINGS", "too_many_cells",
    "FileInfo", "FileIdentity", "SafeBook", "inspect_file", "open_book", "save_book", "atomic_output", "write_bytes",
    "write_text", "check_writable", "lock_file_for", "backup_name", "is_backup_name", "regenerating", "same_content",
    "write_lock", "jixiao_lock_path", "confirm_unchanged", "current_identity", "same_path", "refuse_overwrite",
    "require_suffix",
    "is_formula_like", "excel_text", "csv_text", "XLSXWRITER_OPTIONS", "defusedxml_active",
]

MB = 1024 * 1024
# 一份绩效评价工作簿通常不到 1 MB；上限留足余量给用户粘贴的明细表
MAX_FILE_BYTES = 25 * MB
MAX_UNCOMPRESSED_BYTES = 100 * MB
# 正常工作簿部件的压缩比约 2～15 倍（10 万行全 0 的工作表约 13 倍），压缩炸弹是成百上千倍
MAX_RATIO = 100
RATIO_MIN_BYTES = 1 * MB  # 小部件即使压缩比高也无害，不计
MAX_MEMBERS = 5000
# 规模上限：读取代价主要与单元格数成正比，与字节数关系不大（本机实测，2 核、openpyxl 3.1：每个单元格或带格式的行
# 约 35 微秒 CPU、1.2 KB 内存——jixiao check 加载两次（公式与保存的结果）；30 万个约 12 秒、400 MB，report 另加保存；
# 30 MB 的长文字只要 0.6 秒）。一份绩效评价工作簿约 5,000 个。计数包括：单元格元素、行与列的格式记录、合并单元格与
# 超链接覆盖的区域（openpyxl 会为其中每一格建对象：一个 30 KB 的文件合并 A100:XFD1048576 就永远读不完）
MAX_CELLS = 300_000
MAX_PART_XML_BYTES = 50 * MB  # 单个 XML 部件（工作表、共享字符串……）解压后的大小
MAX_SHARED_STRINGS = 300_000  # 共享字符串条数（每条至少被一个单元格使用）

WORKBOOK_SUFFIXES = (".xlsx", ".xlsm", ".xltx", ".xltm")
MACRO_SUFFIXES = (".xlsm", ".xltm")

_OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
_ZIP_MAGIC = (b"PK\x03\x04", b"PK\x05\x06")
_ENCRYPTED_MARK = "EncryptedPackage".encode("utf-16-le")
_DTD_RE = re.compile(b"|".join(re.escape(t.encode(enc)) for t in ("<!DOCTYPE", "<!ENTITY")
                               for enc in ("utf-8", "utf-16-le", "utf-16-be")), re.IGNORECASE)

@dataclass
class FileInfo:
    """inspect_file 的结果：文件已通过全部检查。"""

    path: Path
    size: int
    uncompressed: int
    members: int
    has_macros: bool


def defusedxml_active() -> bool:
    """openpyxl 是否启用了 defusedxml（安装了 defusedxml 且未被环境变量 OPENPYXL_DEFUSEDXML 关闭）。"""
    import openpyxl

    return bool(openpyxl.DEFUSEDXML)


def _name(path: Path) -> str:
    return f"“{path.name}”"


def _fmt_mb(n: int) -> str:
    return f"{n / MB:.1f} MB" if n >= MB else f"{n} 字节"


def inspect_file(path: str | Path, data: bytes | None = None) -> FileInfo:
    """不解析任何 XML、只看文件头与 zip 中央目录（加上对 XML 部件的流式 DTD 扫描），判断能否安全交给 openpyxl。

    data：已读入内存的文件内容（open_book 只读一次文件，检查与解析的是同一份字节）。
    通不过时抛出 BookError（中文说明，指明文件）。
    """
    p = Path(path)
    try:
        st = p.stat()
    except FileNotFoundError:
        raise BookError(f"找不到文件：{p}") from None
    except OSError as exc:
        raise BookError(f"无法访问文件 {p}：{exc.strerror or exc}") from None
    if stat.S_ISDIR(st.st_mode):
        raise BookError(f"{p} 是文件夹，不是工作簿文件（批量处理文件夹请用 jixiao batch）")
    if st.st_size == 0:
        raise BookError(f"文件{_name(p)}是空文件（0 字节），不是有效的工作簿")
    if st.st_size > MAX_FILE_BYTES:
        raise BookError(f"文件{_name(p)}过大（{_fmt_mb(st.st_size)}，上限 {_fmt_mb(MAX_FILE_BYTES)}），"
                        f"绩效评价工作簿通常不到 1 MB；请删除无关的工作表或图片后再试")
    try:
        if data is None:
            with open(p, "rb") as fh:
                head = fh.read(4096)
        else:
            head = data[:4096]
    except OSError as exc:
        raise BookError(f"无法读取文件{_name(p)}：{exc.strerror or exc}") from None
    if head.startswith(_OLE_MAGIC):
        if (_ENCRYPTED_MARK in data) if data is not None else _file_contains(p, _ENCRYPTED_MARK):
            raise BookError(f"工作簿{_name(p)}设置了打开密码（文件已加密），jixiao 无法读取。请在 Excel 中打开，"
                            "“文件 → 信息 → 保护工作簿 → 用密码进行加密”清空密码并保存后再试（工作表保护不影响读取）")
        raise BookError(f"文件{_name(p)}是 Excel 97-2003 旧格式（.xls），jixiao 只读取 .xlsx。"
                        "请在 Excel 中“另存为 → Excel 工作簿（*.xlsx）”后再试")
    if not head.startswith(_ZIP_MAGIC):
        raise BookError(f"文件{_name(p)}不是 Excel 工作簿（.xlsx）：{_sniff(head)}")
    try:
        zf = zipfile.ZipFile(p if data is None else io.BytesIO(data))
    except (zipfile.BadZipFile, OSError, ValueError, EOFError):
        raise BookError(f"文件{_name(p)}已损坏或不完整（zip 结构无法读取），可能下载或复制时中断；请重新获取原文件") from None
    with zf:
        info = _check_archive(p, zf)
    info.size = st.st_size if data is None else len(data)
    return info


def _file_contains(p: Path, needle: bytes, chunk: int = MB) -> bool:
    tail = b""
    with open(p, "rb") as fh:
        while block := fh.read(chunk):
            if needle in tail + block:
                return True
            tail = block[-len(needle):]
    return False


def _sniff(head: bytes) -> str:
    """给改了扩展名的常见文件一个具体的说明。"""
    if head.startswith(b"%PDF"):
        return "这是 PDF 文件"
    if head.startswith(b"{\\rtf"):
        return "这是 RTF 文档"
    low = head.lstrip(b"\xef\xbb\xbf \t\r\n").lower()
    if low.startswith((b"<?xml", b"<html", b"<!doctype", b"<table")):
        return "这是 XML 或网页文件（可能是“Excel 2003 XML 表格”或网页导出），请在 Excel 中另存为 .xlsx"
    for enc in ("utf-8", "gb18030", "utf-16"):
        try:
            text = head.decode(enc)
        except UnicodeDecodeError:
            continue
        if text and all(ch.isprintable() or ch in "\r\n\t" for ch in text[:2000]):
            sep = "，" if ("," in text or "，" in text) else ""
            return (f"这是文本文件{'（看起来是 CSV）' if sep else ''}，只是扩展名被改成了工作簿。"
                    "请在 Excel 中打开后“另存为 → Excel 工作簿（*.xlsx）”")
    return "文件内容无法识别（既不是 zip 结构的 .xlsx，也不是旧版 .xls）"


def _check_archive(p: Path, zf: zipfile.ZipFile) -> FileInfo:
    infos = zf.infolist()
    if len(infos) > MAX_MEMBERS:
        raise BookError(f"文件{_name(p)}包含 {len(infos)} 个部件（上限 {MAX_MEMBERS}），不像正常的工作簿，拒绝读取")
    total = 0
    for i in infos:
        total += i.file_size
        if i.flag_bits & 0x1:
            raise BookError(f"文件{_name(p)}的压缩包内容被加密，无法读取")
        if i.file_size >= RATIO_MIN_BYTES and i.file_size > MAX_RATIO * max(i.compress_size, 1):
            raise BookError(f"文件{_name(p)}中的部件“{i.filename[:80]}”解压后 {_fmt_mb(i.file_size)}、压缩比 "
                            f"{i.file_size // max(i.compress_size, 1)} 倍（上限 {MAX_RATIO} 倍），疑似“压缩炸弹”，拒绝读取")
    if total > MAX_UNCOMPRESSED_BYTES:
        raise BookError(f"文件{_name(p)}解压后共 {_fmt_mb(total)}，超过上限 {_fmt_mb(MAX_UNCOMPRESSED_BYTES)}，"
                        "疑似“压缩炸弹”或包含大量无关数据，拒绝读取")
    _check_overlap(p, infos)
    names = {i.filename for i in infos}
    if "xl/workbook.xml" not in names:
        raise BookError(f"文件{_name(p)}不是 Excel 工作簿（.xlsx）：{_what_zip(names)}")
    suffix = p.suffix.lower()
    if suffix not in WORKBOOK_SUFFIXES:
        raise BookError(f"文件{_name(p)}的内容是 Excel 工作簿，但扩展名“{p.suffix or '（无）'}”不是 .xlsx；"
                        "请把扩展名改为 .xlsx 后再试")
    costs: dict[str, Counter] = {}
    _scan_parts(p, zf, infos, costs)
    _check_costs(p, zf, costs)
    return FileInfo(p, 0, total, len(infos), "xl/vbaProject.bin" in names or suffix in MACRO_SUFFIXES)


def _check_overlap(p: Path, infos: list[zipfile.ZipInfo]) -> None:
    """部件的数据区互相重叠是“重叠式压缩炸弹”的特征，正常的 zip 不会这样。"""
    spans = sorted((i.header_offset, i.header_offset + 30 + len(i.orig_filename.encode("utf-8", "replace"))
                    + i.compress_size) for i in infos)
    for (_, end), (start, _) in zip(spans, spans[1:]):
        if start < end:
            raise BookError(f"文件{_name(p)}的压缩包结构异常（部件数据互相重叠），疑似“压缩炸弹”，拒绝读取")


def _what_zip(names: set[str]) -> str:
    if "xl/workbook.bin" in names:
        return "这是 Excel 二进制工作簿（.xlsb），请在 Excel 中另存为 .xlsx"
    if "mimetype" in names or "content.xml" in names:
        return "这是 OpenDocument 表格（.ods，WPS/LibreOffice），请另存为 Excel 工作簿（.xlsx）"
    if "word/document.xml" in names:
        return "这是 Word 文档"
    if "ppt/presentation.xml" in names:
        return "这是 PowerPoint 演示文稿"
    return "这是一个普通的 zip 压缩包，里面没有工作簿（xl/workbook.xml）"


def _scan_parts(p: Path, zf: zipfile.ZipFile, infos: list[zipfile.ZipInfo],
                costs: dict[str, Counter] | None = None) -> None:
    """流式解压每个 XML 部件——按内容判断，不看扩展名（改了名的部件照样会被 openpyxl 解析）：编码只能是 UTF-8 或
    UTF-16（且与 BOM、XML 声明一致），含 DTD 即拒绝；（costs 不为 None 时）顺带统计每个部件的单元格、行列、
    合并/超链接区域与共享字符串的个数，供 _check_costs 判断规模。"""
    for i in infos:
        if i.is_dir():
            continue
        counter: Counter = Counter()
        try:
            with zf.open(i) as fh:
                head = fh.read(_SNIFF_BYTES)
                encoding = _xml_encoding(p, i.filename, head)
                if encoding is None:
                    continue  # 图片、VBA 等二进制部件：不是 XML，任何 XML 解析器都不会读它
                if i.file_size > MAX_PART_XML_BYTES:
                    raise BookError(f"文件{_name(p)}的部件“{i.filename[:80]}”解压后 {_fmt_mb(i.file_size)}，"
                                    f"超过单个 XML 部件的上限 {_fmt_mb(MAX_PART_XML_BYTES)}（一份绩效评价工作簿的工作表通常"
                                    "不到 1 MB），拒绝读取；请删除与绩效评价无关的工作表或明细后再试")
                for chunk in _complete_tags(_decoded(head, fh, encoding)):
                    if _DTD_RE.search(chunk):
                        raise BookError(f"文件{_name(p)}的部件“{i.filename[:80]}”含有 XML 文档类型/实体声明（DTD）。"
                                        "正常的 Excel 文件从不包含它，这是 XML 炸弹或外部实体攻击的特征，拒绝读取")
                    if costs is not None:
                        _count_costs(chunk, counter)
        except BookError:
            raise
        except Exception as exc:  # BadZipFile（CRC 错）、zlib.error、EOFError、不支持的压缩方式……都说明文件坏了
            raise BookError(f"文件{_name(p)}已损坏（部件“{i.filename[:80]}”无法解压：{type(exc).__name__}），"
                            "请重新获取原文件") from None
        if costs is not None and counter:
            costs[i.filename] = counter


# ------------------------------------------------------------------------------------------------------------------
# XML 部件的编码：Office Open XML 只用 UTF-8 或 UTF-16（ECMA-376 第 2 部分）。UTF-7、UTF-32、EBCDIC、GBK 之类的编码，
# 或 BOM 与 XML 声明互相矛盾，都可能让某个解析器看到与字节扫描不同的内容（藏起 <!DOCTYPE），一律拒绝
# ------------------------------------------------------------------------------------------------------------------
_SNIFF_BYTES = 512
_ASCII_COMPATIBLE = {"utf-8", "utf8", "us-ascii", "ascii", "iso-8859-1", "latin-1", "latin1"}
_UTF16 = {"utf-16", "utf16", "utf-16le", "utf-16be"}
_DECL_ENCODING = re.compile(r"""^<\?xml\b[^>]{0,200}?\bencoding\s*=\s*["']([^"']{0,40})["']""")


def _xml_encoding(p: Path, part: str, head: bytes) -> str | None:
    """部件开头的字节 → 解码用的编码（utf-8 / utf-16-le / utf-16-be）；不是 XML（图片等）返回 None；
    编码不允许或自相矛盾时抛出 BookError（指明部件）。判断方法见 XML 1.0 附录 F。"""
    import codecs

    def refuse(why: str) -> BookError:
        return BookError(f"文件{_name(p)}的部件“{part[:80]}”{why}。Office Open XML 只使用 UTF-8 或 UTF-16 编码，"
                         "这样的文件不是 Excel 生成的，可能被改动过，拒绝读取")

    if head.startswith((codecs.BOM_UTF32_LE, codecs.BOM_UTF32_BE)) or head[:4] in (b"\0\0\0<", b"<\0\0\0"):
        raise refuse("使用 UTF-32 编码")
    if head[:4] == b"\x4c\x6f\xa7\x94":
        raise refuse("使用 EBCDIC 编码")
    bom = ""
    if head.startswith(codecs.BOM_UTF8):
        enc, bom, body = "utf-8", "UTF-8", head[3:]
    elif head.startswith(codecs.BOM_UTF16_LE):
        enc, bom, body = "utf-16-le", "UTF-16", head[2:]
    elif head.startswith(codecs.BOM_UTF16_BE):
        enc, bom, body = "utf-16-be", "UTF-16", head[2:]
    elif head[:2] == b"<\0" or head[:2] == b" \0":
        enc, body = "utf-16-le", head
    elif head[:2] == b"\0<" or head[:2] == b"\0 ":
        enc, body = "utf-16-be", head
    else:
        enc, body = "utf-8", head
    text = body.decode(enc, "replace")
    if not text.lstrip(" \t\r\n").startswith("<"):
        if bom:
            raise refuse(f"以 {bom} 的 BOM 开头，内容却不是 XML")
        return None
    m = _DECL_ENCODING.match(text)
    declared = m.group(1).strip().lower() if m else ""
    if enc == "utf-8":
        if declared in _UTF16:
            raise refuse(f"的 XML 声明写的是 {m.group(1)} 编码，实际内容却是 {bom or 'UTF-8/ASCII'}")
        if declared and (declared not in _ASCII_COMPATIBLE or (bom and declared not in ("utf-8", "utf8"))):
            raise refuse(f"声明使用 {m.group(1)} 编码")
    elif declared and declared not in _UTF16:
        raise refuse(f"的 XML 声明写的是 {m.group(1)} 编码，实际内容却是 UTF-16")
    return enc


def _decoded(head: bytes, fh, encoding: str, chunk: int = MB) -> Iterator[bytes]:
    """部件的全部内容，按块给出，统一为 UTF-8（或与 ASCII 兼容的）字节：UTF-16 逐块解码再编码，扫描只需一套字节模式。"""
    if encoding == "utf-8":
        yield head
        while block := fh.read(chunk):
            yield block
        return
    import codecs

    dec = codecs.getincrementaldecoder(encoding)("replace")
    yield dec.decode(head).encode("utf-8")
    while block := fh.read(chunk):
        yield dec.decode(block).encode("utf-8")
    yield dec.decode(b"", final=True).encode("utf-8")


def _complete_tags(blocks: Iterable[bytes]) -> Iterator[bytes]:
    """把连续的字节块切成只在“<”之前断开的片段：每个标签完整地落在一个片段里，计数与 DTD 检查既不漏也不重复。"""
    pending = b""
    for block in blocks:
        buf = pending + block if pending else block
        cut = buf.rfind(b"<")
        if cut <= 0:
            if cut < 0:  # 整块都是文字
                yield buf
                pending = b""
            else:
                pending = buf
            continue
        yield buf[:cut]
        pending = buf[cut:]
    if pending:
        yield pending


_COST_TAGS = re.compile(rb"<(?:[A-Za-z_][\w.-]*:)?(c|row|col|si|mergeCell|hyperlink)(?=[\s/>])")
_RANGE_TAG = re.compile(rb"<(?:[A-Za-z_][\w.-]*:)?(?:mergeCell|hyperlink)\s[^>]*")
_REF_ATTR = re.compile(rb"""\sref\s*=\s*["']\$?([A-Za-z]{1,3})\$?(\d{1,9})(?::\$?([A-Za-z]{1,3})\$?(\d{1,9}))?["']""")


def _col_number(letters: bytes) -> int:
    n = 0
    for ch in letters.upper():
        n = n * 26 + ch - 64
    return n


def _count_costs(chunk: bytes, counter: Counter) -> None:
    """一段 XML 里的单元格（c）、行（row）、列（col）、共享字符串（si）元素个数，以及合并单元格与超链接覆盖的格数。"""
    counter.update(_COST_TAGS.findall(chunk))
    if b"mergeCell" in chunk or b"hyperlink" in chunk:
        for tag in _RANGE_TAG.finditer(chunk):
            m = _REF_ATTR.search(tag.group(0))
            if m and m.group(3):
                rows = abs(int(m.group(4)) - int(m.group(2))) + 1
                cols = abs(_col_number(m.group(3)) - _col_number(m.group(1))) + 1
                counter[b"area"] += rows * cols


def _cells_of_part(counter: Counter) -> int:
    return sum(counter[k] for k in (b"c", b"row", b"col", b"area"))


def too_many_cells(where: str, cells: int) -> str:
    """超过单元格上限的中文说明（safeio 与批量读取器 FastBook 共用）。"""
    return (f"{where}约有 {cells:,} 个单元格（含行、列的格式记录与合并单元格、超链接覆盖的区域），超过 jixiao 的上限 "
            f"{MAX_CELLS:,} 个（一份绩效评价工作簿约 5,000 个）；读取这样的文件要数十秒到数分钟、占用数 GB 内存，拒绝读取。"
            "请删除与绩效评价无关的工作表、明细或整行整列的合并与超链接后再试")


def _check_costs(p: Path, zf: zipfile.ZipFile, costs: dict[str, Counter]) -> None:
    """单元格总数与共享字符串条数不超过上限；超过时说出是哪张工作表（或哪个部件）、有多大。"""
    cells = {part: _cells_of_part(c) for part, c in costs.items()}
    strings = {part: c[b"si"] for part, c in costs.items() if c[b"si"]}
    total = sum(cells.values())
    if total <= MAX_CELLS and sum(strings.values()) <= MAX_SHARED_STRINGS:
        return
    names = _sheet_names_by_part(zf)

    def where(part: str) -> str:
        sheet = names.get(part)
        return f"工作表“{sheet}”" if sheet else f"部件“{part[:80]}”"

    if total > MAX_CELLS:
        biggest = sorted(cells.items(), key=lambda kv: -kv[1])
        part, n = biggest[0]
        if n > MAX_CELLS:
            raise BookError(f"文件{_name(p)}的{too_many_cells(where(part), n)}")
        listed = "、".join(f"{where(q)} {m:,} 个" for q, m in biggest[:3] if m)
        raise BookError(f"文件{_name(p)}的各工作表（{listed}……）合计{too_many_cells('', total)}")
    part, n = max(strings.items(), key=lambda kv: kv[1])
    raise BookError(f"文件{_name(p)}的共享字符串表（部件“{part[:80]}”）有 {sum(strings.values()):,} 条，超过上限 "
                    f"{MAX_SHARED_STRINGS:,} 条（一份绩效评价工作簿约几百条），拒绝读取；"
                    "请删除与绩效评价无关的工作表或明细后再试")


def _sheet_names_by_part(zf: zipfile.ZipFile) -> dict[str, str]:
    """工作表部件 → 工作表名称（_rels/.rels → 工作簿部件 → 其关系表）。只在报告超限时调用；读不出来时返回空表。"""
    from xml.parsers import expat

    def parse(name: str, on_start) -> None:
        # 调用前 _scan_parts 已确认没有任何部件含 DTD
        pr = expat.ParserCreate()
        pr.StartElementHandler = on_start
        pr.Parse(zf.read(name), True)

    def rels_of(part: str) -> dict[str, str]:
        folder, _, base = part.rpartition("/")
        out: dict[str, str] = {}

        def start(tag, attrs):
            if tag.rsplit(":", 1)[-1] == "Relationship" and attrs.get("TargetMode") != "External":
                target = attrs.get("Target", "")
                path = target.lstrip("/") if target.startswith("/") else f"{folder}/{target}" if folder else target
                out[attrs.get("Id", "")] = os.path.normpath(path).replace(os.sep, "/")

        parse(f"{folder}/_rels/{base}.rels" if folder else f"_rels/{base}.rels", start)
        return out

    try:
        book = "xl/workbook.xml"

        def root_start(tag, attrs):
            nonlocal book
            if tag.rsplit(":", 1)[-1] == "Relationship" and attrs.get("Type", "").endswith("/officeDocument"):
                book = attrs.get("Target", book).lstrip("/")

        parse("_rels/.rels", root_start)
        sheets: list[tuple[str, str]] = []

        def book_start(tag, attrs):
            if tag.rsplit(":", 1)[-1] == "sheet":
                rid = next((v for k, v in attrs.items() if k.rsplit(":", 1)[-1] == "id"), "")
                sheets.append((attrs.get("name", ""), rid))

        parse(book, book_start)
        targets = rels_of(book)
        return {targets[rid]: name for name, rid in sheets if rid in targets}
    except Exception:  # noqa: BLE001 —— 只用于让消息更具体；读不出来就退回部件名
        return {}


class SafeBook(OpenpyxlBook):
    """通过 safeio 检查后打开的工作簿；info 记录检查结果，identity 是读取时文件的身份（写回前核对），
    notices 是给用户的提示（中文）。"""

    info: FileInfo
    identity: FileIdentity
    notices: list[str]

    @property
    def has_macros(self) -> bool:
        return self.info.has_macros


def open_book(path: str | Path, *, with_cached: bool = False) -> SafeBook:
    """安全地打开工作簿：先 inspect_file（大小、格式、压缩炸弹、DTD），再交给 openpyxl（keep_vba=False，不执行任何宏）。

    文件只读一次：检查、解析、写回时拼接的底本都是这同一份字节，读取时记下文件的身份（大小、修改时间、inode、
    内容的 SHA-256），写回前（紧挨着 os.replace）再核对一次。
    inspect_file 在导入 openpyxl 之前运行：恶意文件在毫秒级被拒绝，不必等 openpyxl 与 numpy 的导入（约 0.4 秒）。"""
    p = Path(path)
    got = _read_with_identity(p)
    if got is None:
        inspect_file(p)  # 不存在、是文件夹、空文件、过大、不可读：给出具体的中文说明
        raise BookError(f"无法读取文件{_name(p)}")
    data, identity = got
    info = inspect_file(p, data)
    if not defusedxml_active():
        raise BookError("安全组件 defusedxml 未启用（未安装，或环境变量 OPENPYXL_DEFUSEDXML 被设为 False），"
                        "为防止恶意 XML，jixiao 拒绝读取工作簿；请 pip install defusedxml")
    try:
        book = SafeBook(info.path, with_cached=with_cached, data=data)
    except BookError as exc:
        raise _diagnose(info.path) or exc from None
    book.info = info
    book.identity = identity
    book.notices = []
    if info.has_macros:
        book.notices.append(f"{_name(info.path)}含有宏：jixiao 只读取单元格内容，不读取也不运行宏；"
                            "写回本文件时宏（vbaProject.bin）逐字节保留（另存为 .xlsx 时去掉）")
    lock = lock_file_for(info.path)
    if lock is not None:
        book.notices.append(f"{_name(info.path)}似乎正在 Excel 中打开（发现锁文件“{lock.name}”）：读取的是最近一次保存的内容，"
                            "Excel 中未保存的修改不会被计入")
    return book


def _diagnose(path: Path) -> BookError | None:
    """openpyxl 读不了的文件，它的异常是英文且不说位置（`<v>NaN</v>` 得到 “invalid literal for int()”）：
    用批量读取器 FastBook 再读一遍全部工作表，它的说明指明工作表与单元格（或部件）；它也读得了就返回 None。"""
    from ..batch.run import FastBook

    try:
        fb = FastBook(path)
        try:
            for sheet in fb.sheet_names():
                fb.grid(sheet)
        finally:
            fb.close()
    except BookError as exc:
        return exc
    except Exception:  # noqa: BLE001 —— 诊断本身出错时保留 openpyxl 的说明
        return None
    return None


# ------------------------------------------------------------------------------------------------------------------
# 文件身份：读取时记下，写回前核对（不丢失别人的修改）
# ------------------------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class FileIdentity:
    """读取时文件的身份。写回前文件的这些属性有任何一项不同，就说明读取之后有人（Excel、另一个程序）改过它。"""

    size: int
    mtime_ns: int
    inode: int
    device: int
    sha256: str


def _identity(st: os.stat_result, data: bytes) -> FileIdentity:
    return FileIdentity(st.st_size, st.st_mtime_ns, st.st_ino, st.st_dev, hashlib.sha256(data).hexdigest())


def _read_with_identity(p: Path, attempts: int = 3) -> tuple[bytes, FileIdentity] | None:
    """读入整个文件并记下身份；读的过程中文件被改（大小或修改时间变了）就重读。不是可读的普通文件、空文件或超过
    上限时返回 None（由 inspect_file 给出说明，过大的文件不读入内存）。"""
    for _ in range(attempts):
        try:
            # 先看类型再打开：打开命名管道（FIFO）会一直等待写入方
            first = os.stat(p)
            if not stat.S_ISREG(first.st_mode) or not 0 < first.st_size <= MAX_FILE_BYTES:
                return None
            with open(p, "rb") as fh:
                st = os.fstat(fh.fileno())
                if not stat.S_ISREG(st.st_mode) or not 0 < st.st_size <= MAX_FILE_BYTES:
                    return None
                data = fh.read(MAX_FILE_BYTES + 1)
                after = os.fstat(fh.fileno())
        except OSError:
            return None
        if st.st_size == after.st_size == len(data) and st.st_mtime_ns == after.st_mtime_ns:
            return data, _identity(after, data)
    raise BookError(f"文件{_name(p)}在读取过程中一直在变化（可能正在被复制或保存），请稍后再试")


def current_identity(path: str | Path) -> FileIdentity | None:
    """文件现在的身份（不存在或无法读取时为 None）。"""
    try:
        with open(path, "rb") as fh:
            data = fh.read()
            return _identity(os.fstat(fh.fileno()), data)
    except OSError:
        return None


def confirm_unchanged(path: str | Path, expected: FileIdentity) -> None:
    """文件自读取以来没有被改过（大小、修改时间、inode、内容哈希都相同），否则抛出 BookError（原文件不动）。"""
    p = Path(path)
    now = current_identity(p)
    if now != expected:
        what = "被删除或改名了" if now is None else "又被修改过（可能刚在 Excel 中保存，或另一个程序写入了它）"
        raise BookError(f"{_name(p)}在 jixiao 读取之后{what}。为避免覆盖新内容，本次未写入，文件保持现状；请重新运行")


# ------------------------------------------------------------------------------------------------------------------
# jixiao 自己的写入锁：同一个文件同时只有一个 jixiao 在“读取—修改—写回”
# ------------------------------------------------------------------------------------------------------------------
LOCK_SUFFIX = ".jixiao.lock"
LOCK_WAIT_SECONDS = 60.0  # 另一个 jixiao 正在写同一个文件时最多等待这么久（一次写回通常一两秒）
LOCK_STALE_SECONDS = 600.0  # 其他计算机上的锁超过这么久即视为遗留（写回从不需要这么久）
_EMPTY_LOCK_GRACE = 10.0  # 刚建立、尚未写入内容的锁；超过这么久仍为空即视为遗留
_HELD: dict[str, tuple[Path, str, int]] = {}  # 本进程持有的锁：键 → (锁文件, 令牌, 重入次数)


def jixiao_lock_path(path: str | Path) -> Path:
    """jixiao 写入 path 时持有的锁文件：`名称.xlsx.jixiao.lock`，与文件在同一文件夹，用户看得见。
    按解析符号链接后的真实路径命名：经不同路径写同一个文件的 jixiao 用同一把锁。
    它不是 Excel 的 `~$` 锁文件，其他 jixiao 命令不会把它当作“文件正在 Excel 中打开”；批量处理不把它当作工作簿。"""
    p = _real(Path(path))
    return p.with_name(p.name + LOCK_SUFFIX)


def _real(p: Path) -> Path:
    try:
        return p.resolve()
    except (OSError, RuntimeError):  # 符号链接循环等
        return Path(os.path.abspath(p))


def _host() -> str:
    return socket.gethostname() or "?"


def _pid_alive(pid: int) -> bool:
    """本机上进程 pid 是否还在运行。"""
    if pid <= 0:
        return False
    if os.name == "nt":  # Windows 上 os.kill(pid, 0) 会结束进程，不能用
        import ctypes

        kernel32 = ctypes.windll.kernel32  # type: ignore[attr-defined]
        handle = kernel32.OpenProcess(0x1000, False, pid)  # PROCESS_QUERY_LIMITED_INFORMATION
        if not handle:
            return ctypes.get_last_error() == 5  # 拒绝访问：进程存在，属于别的用户
        code = ctypes.c_ulong()
        kernel32.GetExitCodeProcess(handle, ctypes.byref(code))
        kernel32.CloseHandle(handle)
        return code.value == 259  # STILL_ACTIVE
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:
        return True  # 没有权限：进程存在
    return True


def _lock_info(lock: Path) -> dict[str, Any] | None:
    try:
        info = json.loads(lock.read_text("utf-8"))
    except (OSError, ValueError, UnicodeDecodeError):
        return None
    return info if isinstance(info, dict) else None


def _holder(info: dict[str, Any] | None) -> str:
    if not info:
        return "另一个 jixiao 进程"
    who = f"进程 {info.get('pid', '?')}，计算机“{info.get('host', '?')}”"
    if info.get("user"):
        who += f"，用户 {info['user']}"
    if info.get("since"):
        who += f"，{info['since']} 开始"
    return f"另一个 jixiao（{who}）"


def _stale(lock: Path, info: dict[str, Any] | None) -> bool:
    """遗留的锁：持有它的进程已经不在了（本机：进程号已不存在；其他计算机：超过 LOCK_STALE_SECONDS）。"""
    try:
        age = time.time() - lock.stat().st_mtime
    except OSError:
        return False  # 已被释放：下一轮重试
    if info is None:
        return age > _EMPTY_LOCK_GRACE
    if age > LOCK_STALE_SECONDS:
        return True
    try:
        pid = int(info.get("pid", 0))
    except (TypeError, ValueError):
        pid = 0
    return info.get("host") == _host() and not _pid_alive(pid)


def _break_stale(lock: Path, info: dict[str, Any] | None) -> None:
    """移走遗留的锁。先改名再核对令牌：另一个进程恰好在此刻拿到了新锁时，把它的锁放回去。"""
    aside = lock.with_name(f"{lock.name}.stale-{os.getpid()}-{uuid.uuid4().hex[:8]}")
    try:
        os.replace(lock, aside)
    except OSError:
        return
    moved = _lock_info(aside)
    if moved is not None and info is not None and moved.get("token") != info.get("token"):
        with contextlib.suppress(OSError):
            os.link(aside, lock)  # 不会覆盖：此刻若又有新锁，os.link 失败
    with contextlib.suppress(OSError):
        aside.unlink()


@contextlib.contextmanager
def write_lock(path: str | Path, *, wait: float | None = None) -> Iterator[Path]:
    """在 with 块内持有 path 的 jixiao 写入锁（`名称.xlsx.jixiao.lock`，内容为持有者的进程号、计算机、用户、开始时间）。

    另一个 jixiao 正持有时等待（最多 wait 秒，默认 LOCK_WAIT_SECONDS），仍未释放则以中文说明拒绝（BookError），
    什么也不写；持有者已不在（本机进程已结束、其他计算机上超过 LOCK_STALE_SECONDS）的遗留锁被清除。同一进程内可重入。
    with 块结束（包括出错、Ctrl+C）时删除锁文件。"""
    key = os.path.normcase(str(jixiao_lock_path(path)))
    if key in _HELD:
        lock, token, depth = _HELD[key]
        _HELD[key] = (lock, token, depth + 1)
        try:
            yield lock
        finally:
            lock, token, depth = _HELD[key]
            _HELD[key] = (lock, token, depth - 1)
        return
    lock = jixiao_lock_path(path)
    token = uuid.uuid4().hex
    deadline = time.monotonic() + (LOCK_WAIT_SECONDS if wait is None else wait)
    while True:
        try:
            fd = os.open(lock, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644)
        except FileExistsError:
            info = _lock_info(lock)
            if _stale(lock, info):
                _break_stale(lock, info)
                continue
            if time.monotonic() >= deadline:
                raise BookError(f"{_name(Path(path))}正由{_holder(info)}写入，等待 "
                                f"{LOCK_WAIT_SECONDS if wait is None else wait:.0f} 秒后仍未结束，本次未写入任何内容；请稍后重试。"
                                f"如果确认没有 jixiao 在运行，可删除锁文件“{lock.name}”") from None
            time.sleep(0.1)
            continue
        except PermissionError:
            raise BookError(f"无法写入{_name(Path(path))}：没有文件夹 {lock.parent} 的写权限") from None
        except FileNotFoundError:
            raise BookError(f"无法写入{_name(Path(path))}：文件夹 {lock.parent} 不存在") from None
        except OSError as exc:
            raise BookError(f"无法写入{_name(Path(path))}：不能在文件夹 {lock.parent} 中建立锁文件"
                            f"（{exc.strerror or exc}）") from None
        try:
            user = ""
            with contextlib.suppress(Exception):
                user = getpass.getuser()
            record = {"程序": "jixiao", "pid": os.getpid(), "host": _host(), "user": user,
                      "since": _dt.datetime.now().strftime("%Y-%m-%d %H:%M:%S"), "token": token,
                      "说明": "jixiao 正在写入旁边的同名文件；结束后自动删除"}
            os.write(fd, json.dumps(record, ensure_ascii=False).encode("utf-8"))
            os.close(fd)
        except BaseException:
            os.close(fd)
            with contextlib.suppress(OSError):
                lock.unlink()
            raise
        break
    _HELD[key] = (lock, token, 1)
    try:
        yield lock
    finally:
        _HELD.pop(key, None)
        info = _lock_info(lock)
        if info is not None and info.get("token") == token:
            with contextlib.suppress(OSError):
                lock.unlink()


# ------------------------------------------------------------------------------------------------------------------
# 写入
# ------------------------------------------------------------------------------------------------------------------
def lock_file_for(path: str | Path) -> Path | None:
    """Excel/WPS 打开文件时建立的锁文件 `~$名称`（Word 对长文件名去掉前一两个字符），LibreOffice 为 `.~lock.名称#`。"""
    p = Path(path)
    candidates = [p.with_name("~$" + p.name), p.with_name(".~lock." + p.name + "#")]
    if len(p.stem) > 2:  # Word/WPS：主名 7 个字符去掉首字符、8 个及以上去掉前两个字符
        candidates += [p.with_name("~$" + p.name[1:]), p.with_name("~$" + p.name[2:])]
    for c in candidates:
        if c.exists():
            return c
    return None


def check_writable(path: str | Path) -> None:
    """写入前的检查：目录存在且可写、文件未被 Excel 打开（锁文件）、文件不是只读、未被其他程序占用。"""
    p = Path(path)
    parent = p.parent if str(p.parent) else Path(".")
    if not parent.is_dir():
        raise BookError(f"无法写入{_name(p)}：文件夹 {parent} 不存在")
    if p.is_dir():
        raise BookError(f"无法写入 {p}：这是一个文件夹")
    lock = lock_file_for(p)
    if lock is not None:
        raise BookError(f"{_name(p)}正在被 Excel（或 WPS、LibreOffice）打开（发现锁文件“{lock.name}”）。"
                        "请先保存并关闭该文件再运行；如果确认已关闭，可删除这个锁文件")
    if p.exists():
        mode = p.stat().st_mode
        if not os.access(p, os.W_OK) or not mode & (stat.S_IWUSR | stat.S_IWGRP | stat.S_IWOTH):
            raise BookError(f"无法写入{_name(p)}：文件是只读的（请在文件属性中取消“只读”）")
        try:
            # Windows 上被 Excel 打开的文件无法以读写方式打开；这里不改动文件内容
            with open(p, "r+b"):
                pass
        except PermissionError:
            raise BookError(f"无法写入{_name(p)}：文件正被其他程序占用（请先在 Excel 中关闭该文件）") from None
        except OSError as exc:
            raise BookError(f"无法写入{_name(p)}：{exc.strerror or exc}") from None
    if not os.access(parent, os.W_OK | os.X_OK):
        raise BookError(f"无法写入{_name(p)}：没有文件夹 {parent} 的写权限")


def backup_name(path: str | Path, when: _dt.datetime | None = None) -> Path:
    """备份文件名：`名称.YYYYmmdd-HHMMSS.bak.扩展名`，同一秒已有备份时依次加 -2、-3……（不覆盖已有备份）。"""
    p = Path(path)
    stamp = (when or _dt.datetime.now()).strftime("%Y%m%d-%H%M%S")
    candidate = p.with_name(f"{p.stem}.{stamp}.bak{p.suffix}")
    n = 2
    while candidate.exists():
        candidate = p.with_name(f"{p.stem}.{stamp}-{n}.bak{p.suffix}")
        n += 1
    return candidate


_BACKUP_RE = re.compile(r"\.\d{8}-\d{6}(?:-\d+)?\.(?:bak|未写回)\.[^.]+$", re.IGNORECASE)


def is_backup_name(name: str | Path) -> bool:
    """文件名是否为 jixiao 留下的备份（backup_name）或未写回的结果副本（批量处理据此跳过，免得同一部门被计两次）。"""
    return bool(_BACKUP_RE.search(Path(name).name))


def same_content(a: str | Path, b: str | Path) -> bool:
    """两个文件内容是否相同：逐字节相同；或同为 zip（xlsx/docx），各部件相同，仅 docProps/core.xml 中的
    创建/修改时间不同（openpyxl 每次保存都写入当前时间）。"""
    a, b = Path(a), Path(b)
    try:
        if filecmp.cmp(a, b, shallow=False):
            return True
        with zipfile.ZipFile(a) as za, zipfile.ZipFile(b) as zb:
            if sorted(za.namelist()) != sorted(zb.namelist()):
                return False
            for name in za.namelist():
                x, y = za.read(name), zb.read(name)
                if name == "docProps/core.xml":
                    x, y = _CORE_TIMES_RE.sub(b"", x), _CORE_TIMES_RE.sub(b"", y)
                if x != y:
                    return False
            return True
    except (OSError, zipfile.BadZipFile, EOFError, ValueError):
        return False


_REGENERATING: contextvars.ContextVar[frozenset[str]] = contextvars.ContextVar("jixiao_regenerating", default=frozenset())


def _key(p: Path) -> str:
    return os.path.normcase(os.path.abspath(p))


_CORE_TIMES_RE = re.compile(rb"<dcterms:(created|modified)\b[^>]*>[^<]*</dcterms:\1>")


@contextlib.contextmanager
def regenerating(paths: Iterable[str | Path]) -> Iterator[list[Path]]:
    """重新生成一组已知文件（jixiao demo）：开始前检查全部目标可写（任一被 Excel 打开即一个也不写），给已存在的
    每个文件留带时间戳的备份；with 块正常结束后，删除与新文件内容相同（same_content）的多余备份——用户没有改过
    的示例不必留备份，改过的（例如填写了评分）一定留下。得到的列表在结束后为保留下来的备份。
    with 块出错时全部备份保留。各文件本身仍应经 atomic_output/save_book 写入。"""
    targets = [Path(p) for p in paths]
    for p in targets:
        check_writable(p)
    backups: dict[Path, Path] = {}
    for p in targets:
        if p.is_file():
            bak = backup_name(p)
            shutil.copy2(p, bak)
            backups[p] = bak
    kept: list[Path] = []
    # 块内对这些文件的写入（atomic_output(backup=True)，如 Word 报告）不再各自备份：备份已在上面留好
    token = _REGENERATING.set(_REGENERATING.get() | {_key(p) for p in targets})
    try:
        yield kept
    finally:
        _REGENERATING.reset(token)
    for p, bak in backups.items():
        if p.is_file() and same_content(p, bak):
            bak.unlink()
        else:
            kept.append(bak)


def _new_file_mode() -> int:
    umask = os.umask(0)
    os.umask(umask)
    return 0o666 & ~umask


@dataclass
class Written:
    """一次原子写入的结果：path 为目标文件，backup 为覆盖前保留的备份（没有覆盖或未要求备份时为 None）。"""

    path: Path
    backup: Path | None = None


@contextlib.contextmanager
def atomic_output(path: str | Path, *, backup: bool = False, expect: FileIdentity | None = None) -> Iterator[Path]:
    """原子写入一个文件：`with atomic_output(p) as tmp: doc.save(tmp)`。

    tmp 在目标同目录（同一文件系统，os.replace 才是原子的），扩展名与目标相同；with 块正常结束后 fsync 并替换目标，
    出错时删除临时文件、目标保持原样。整个过程持有目标的 jixiao 写入锁（write_lock）。backup=True 且目标已存在时，
    替换前先复制一份带时间戳的备份（新内容与目标逐字节相同时不备份：例如再次生成同一份 Word 报告）。
    expect：目标在读取时的身份（写回读入的文件时）；紧挨着 os.replace 之前核对，文件在此期间被改过（例如在 Excel 中
    保存）则拒绝替换，目标保持现状（刚留的备份也删除）。
    with 语句得到的对象是临时文件路径；写入结果（含备份路径）可在结束后通过 tmp.written 读取。
    """
    target = Path(path)
    check_writable(target)
    with write_lock(target):
        fd, tmp_name = tempfile.mkstemp(prefix=".~jixiao-", suffix="-" + target.name, dir=target.parent or ".")
        os.close(fd)
        tmp = _TempPath(tmp_name)
        bak = None
        try:
            yield tmp
            if not tmp.exists() or tmp.stat().st_size == 0:
                raise BookError(f"写入{_name(target)}失败：没有生成任何内容")
            _fsync(tmp)
            existed = target.exists()
            os.chmod(tmp, stat.S_IMODE(target.stat().st_mode) if existed else _new_file_mode())
            if backup and existed and _key(target) not in _REGENERATING.get() \
                    and not filecmp.cmp(target, tmp, shallow=False):
                bak = backup_name(target)
                shutil.copy2(target, bak)
            # 最后的核对，紧挨着替换：期间文件在 Excel 中打开、被保存过，都不替换
            lock = lock_file_for(target)
            if lock is not None:
                raise BookError(f"{_name(target)}刚刚在 Excel（或 WPS、LibreOffice）中打开了（发现锁文件“{lock.name}”），"
                                "本次未写入；请先保存并关闭该文件再运行")
            if expect is not None:
                confirm_unchanged(target, expect)
            try:
                os.replace(tmp, target)
            except PermissionError:
                raise BookError(f"无法写入{_name(target)}：文件正被其他程序占用（请先在 Excel 中关闭该文件）") from None
            bak_done, bak = bak, None
            _fsync_dir(target.parent)
            tmp.written = Written(target, bak_done)
        except OSError as exc:
            raise BookError(f"写入{_name(target)}失败：{exc.strerror or exc}（原文件未改动）") from None
        finally:
            with contextlib.suppress(OSError):
                os.unlink(tmp_name)
            if bak is not None:  # 没有替换：备份多余
                with contextlib.suppress(OSError):
                    bak.unlink()


class _TempPath(type(Path())):  # type: ignore[misc]
    """临时文件路径，结束后附带写入结果。"""

    written: Written | None = None


def _fsync(p: Path) -> None:
    with open(p, "rb") as fh:
        os.fsync(fh.fileno())


def _fsync_dir(d: Path) -> None:
    if os.name != "posix":
        return
    with contextlib.suppress(OSError):
        fd = os.open(d or ".", os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def write_bytes(path: str | Path, data: bytes, *, backup: bool = False) -> Written:
    """原子写入字节（批量汇总、报告等新文件）。"""
    with atomic_output(path, backup=backup) as tmp:
        tmp.write_bytes(data)
    return tmp.written


def write_text(path: str | Path, text: str, *, encoding: str = "utf-8", backup: bool = False) -> Written:
    """原子写入文本（JSON、CSV 等）。CSV 单元格请先经过 csv_text()。"""
    return write_bytes(path, text.encode(encoding), backup=backup)


def save_book(book: OpenpyxlBook, path: str | Path | None = None, *, backup: bool = True) -> Written:
    """保存工作簿：原文件的字节 + 拼接的生成表（addin/package.py），核对后经临时文件原子替换；覆盖已有文件时先备份。

    path 为空时写回打开的文件。以下情况拒绝（BookError，中文说明，文件不动）：目标被 Excel 打开（~$ 锁文件）、只读、
    扩展名不是 Excel 工作簿、另一个 jixiao 正在写它（等待 LOCK_WAIT_SECONDS 后）、原文件在读取后被修改过（核对两次：
    开始写之前，以及紧挨着 os.replace 之前）。核对写出结果发现原文件的某个部件会被改变时，原文件不替换，结果另存为
    `名称.YYYYmmdd-HHMMSS.未写回.xlsx` 并在说明中指出。
    """
    from .splice import SpliceError

    source = Path(book.path)
    target = Path(path) if path is not None else source
    if target.suffix.lower() not in WORKBOOK_SUFFIXES:
        raise BookError(f"输出文件{_name(target)}的扩展名应为 .xlsx（或 .xlsm 等 Excel 工作簿）")
    same = path is None or same_path(source, target)
    identity: FileIdentity | None = getattr(book, "identity", None) if same else None
    check_writable(target)  # 先于生成：文件正在 Excel 中打开、只读时不必白做
    with write_lock(target):
        if identity is not None:
            confirm_unchanged(target, identity)
        try:
            data = book.package(target.suffix)
        except SpliceError as exc:
            if same and exc.data is not None:
                copy = _unreplaced_copy(target, exc.data)
                raise BookError(f"{_name(target)}未写回：核对写出结果时发现{exc}。为免改动原文件中 jixiao 不该改的内容，"
                                f"原文件保持不变；结果已另存为“{copy.name}”，请在 Excel 中检查，并把原文件与此说明发给维护者") from None
            raise BookError(f"无法写出{_name(target)}：{exc}（{'原文件未改动' if same else '没有写出文件'}）") from None
        if not _is_complete_zip(data):
            raise BookError(f"写入{_name(target)}失败：生成的文件校验不通过（{'原文件未改动' if same else '没有写出文件'}）")
        with atomic_output(target, backup=backup, expect=identity) as tmp:
            tmp.write_bytes(data)
        if same:
            book.source = data
            now = current_identity(target)
            if now is not None:
                book.identity = now
    return tmp.written


def _is_complete_zip(data: bytes) -> bool:
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as zf:
            return zf.testzip() is None
    except (zipfile.BadZipFile, OSError, ValueError, EOFError):
        return False


def _unreplaced_copy(target: Path, data: bytes) -> Path:
    """核对未通过时另存结果的文件名：`名称.YYYYmmdd-HHMMSS.未写回.xlsx`（批量处理不把它当作部门工作簿）。"""
    stamp = _dt.datetime.now().strftime("%Y%m%d-%H%M%S")
    copy = target.with_name(f"{target.stem}.{stamp}.未写回{target.suffix}")
    n = 2
    while copy.exists():
        copy = target.with_name(f"{target.stem}.{stamp}-{n}.未写回{target.suffix}")
        n += 1
    write_bytes(copy, data)
    return copy


# ------------------------------------------------------------------------------------------------------------------
# 不覆盖输入：每个输出路径与每个输入比较
# ------------------------------------------------------------------------------------------------------------------
def same_path(a: str | Path, b: str | Path) -> bool:
    """a 与 b 是否是同一个文件：解析符号链接后路径相同（Windows 上不分大小写；不区分大小写的文件系统上按大小写折叠
    比较），或两者都存在且是同一个文件（硬链接、只有大小写不同的名字、挂载到两处的同一文件夹）。"""
    pa, pb = Path(a), Path(b)
    ra, rb = _real(pa), _real(pb)
    if os.path.normcase(str(ra)) == os.path.normcase(str(rb)):
        return True
    if str(ra).casefold() == str(rb).casefold() and _case_insensitive(ra.parent):
        return True
    try:
        return os.path.samefile(pa, pb)
    except (OSError, ValueError):
        return False


def _case_insensitive(folder: Path) -> bool:
    """folder 所在的文件系统是否不区分大小写（Windows、macOS 默认如此）。"""
    text = str(folder)
    alt = text.swapcase()
    if alt == text:  # 路径里没有字母（例如全是中文）：无法试探，按系统的默认
        return os.name == "nt" or sys.platform == "darwin"
    try:
        return os.path.samefile(text, alt)
    except OSError:
        return False


def refuse_overwrite(inputs: Iterable[str | Path], outputs: Iterable[tuple[str, str | Path | None]]) -> None:
    """输出不得是任何一个输入，也不得两个输出是同一个文件（same_path）；否则抛出 BookError，什么也不写。
    outputs：(说明, 路径)，路径为空的跳过。"""
    ins = [Path(i) for i in inputs]
    outs = [(label, Path(o)) for label, o in outputs if o]
    for label, o in outs:
        for i in ins:
            if same_path(o, i):
                alias = "" if o.name == i.name else "（两个名字指向同一个文件）"
                raise BookError(f"{label}“{o}”就是输入的工作簿“{i.name}”{alias}，写出会覆盖它。请换一个输出文件名；"
                                "本次没有写入任何文件")
    for k, (la, a) in enumerate(outs):
        for lb, b in outs[k + 1:]:
            if same_path(a, b):
                raise BookError(f"{la}与{lb}是同一个文件“{a}”，后写的会覆盖先写的。请分别指定；本次没有写入任何文件")


def require_suffix(label: str, path: str | Path, suffixes: tuple[str, ...]) -> None:
    """输出文件的扩展名必须是 suffixes 之一（否则 BookError）：例如 --docx 写成 .xlsx 会把工作簿换成 Word 文档。"""
    p = Path(path)
    if p.suffix.lower() not in suffixes:
        hint = "（这是 Excel 工作簿的扩展名）" if p.suffix.lower() in WORKBOOK_SUFFIXES else ""
        raise BookError(f"{label}应以 {' 或 '.join(suffixes)} 结尾：“{p}”{hint}；本次没有写入任何文件")


# ------------------------------------------------------------------------------------------------------------------
# 公式注入
# ------------------------------------------------------------------------------------------------------------------
# Excel（以及 LibreOffice/WPS）把以这些字符开头的输入当作公式；Tab/回车开头在 CSV 中同样危险（OWASP CSV 注入）
FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r", "＝", "＋", "－", "＠")

# XlsxWriter 的 worksheet.write() 默认把 "=…" 写成公式、"http://…" 写成超链接；生成输出时一律关闭
XLSXWRITER_OPTIONS = {"strings_to_formulas": False, "strings_to_urls": False, "strings_to_numbers": False}


def is_formula_like(value: Any) -> bool:
    """文本是否会被 Excel 当作公式（或 DDE）输入。"""
    return isinstance(value, str) and value.startswith(FORMULA_TRIGGERS)


def excel_text(value: Any) -> Any:
    """经 Excel COM（xlwings 的 range.value = …）写入文本时使用：公式样文本前加撇号，Excel 存为文本且不显示撇号。"""
    return "'" + value if is_formula_like(value) else value


def csv_text(value: Any) -> Any:
    """写入 CSV 的单元格：公式样文本前加撇号（CSV 没有单元格类型，Excel 打开时撇号可见，但绝不会执行）。"""
    return "'" + value if is_formula_like(value) else value
