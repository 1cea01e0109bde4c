"""打开前的文件检查：在 openpyxl（或批量读取器）解析任何内容之前拒绝坏文件与恶意文件，说明用中文，指明文件与部件。

- 文件大小上限 MAX_FILE_BYTES；空文件、文件夹、不存在的路径给出中文说明；
- 识别非 xlsx 文件：Excel 97-2003（.xls）、设置了打开密码的工作簿（加密后是 OLE 复合文档）、改了扩展名的 CSV/文本、
  .xlsb、.ods、Word 文档、普通 zip、损坏或不完整的文件；
- 压缩炸弹：只读 zip 中央目录（不解压）即可判断——解压后总大小上限 MAX_UNCOMPRESSED_BYTES、单个部件压缩比上限
  MAX_RATIO、部件数上限 MAX_MEMBERS、部件数据区重叠（“重叠式”压缩炸弹）。Python 的 zipfile 解压时不会超过中央目录
  声明的大小，所以声明值可信；一个解压后 2 GB 的文件在毫秒级被拒绝；
- XML 炸弹与外部实体：OOXML 部件从不包含 DTD，凡含 <!DOCTYPE / <!ENTITY 的文件一律拒绝（按内容判断哪些部件是 XML，
  编码只许 UTF-8/UTF-16 且与 BOM、XML 声明一致）；openpyxl 自身也在 defusedxml 保护下解析，未启用时拒绝工作；
- 读取代价有界：随同一遍流式解压数出单元格、行与列的格式记录、合并与超链接覆盖的格数（MAX_CELLS）、共享字符串条数
  （MAX_SHARED_STRINGS）与单个 XML 部件的大小（MAX_PART_XML_BYTES），超出即拒绝并说出是哪张工作表。
"""
from __future__ import annotations

import io
import re
import stat
import zipfile
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable, Iterator

from . import ooxml
from .book import BookError

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
    for (_, end), (start, _) in zip(spans, spans[1:], strict=False):
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


# XML 部件的编码：Office Open XML 只用 UTF-8 或 UTF-16（ECMA-376 第 2 部分）。UTF-7、UTF-32、EBCDIC、GBK 之类的编码，
# 或 BOM 与 XML 声明互相矛盾，都可能让某个解析器看到与字节扫描不同的内容（藏起 <!DOCTYPE），一律拒绝
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
    written = m.group(1) if m else ""  # 声明中写的编码名（原样）
    declared = written.strip().lower()
    if enc == "utf-8":
        if declared in _UTF16:
            raise refuse(f"的 XML 声明写的是 {written} 编码，实际内容却是 {bom or 'UTF-8/ASCII'}")
        if declared and (declared not in _ASCII_COMPATIBLE or (bom and declared not in ("utf-8", "utf8"))):
            raise refuse(f"声明使用 {written} 编码")
    elif declared and declared not in _UTF16:
        raise refuse(f"的 XML 声明写的是 {written} 编码，实际内容却是 UTF-16")
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
    """工作表部件 → 工作表名称（ooxml.sheet_map）。只在报告超限时调用；读不出来时返回空表。"""

    def read(name: str) -> bytes | None:
        try:
            return zf.read(name)  # 调用前 _scan_parts 已确认没有任何部件含 DTD
        except KeyError:
            return None

    try:
        _, sheets = ooxml.sheet_map(read)
    except Exception:  # noqa: BLE001 —— 只用于让消息更具体；读不出来就退回部件名
        return {}
    return {s.part: s.name for s in sheets if s.part}
