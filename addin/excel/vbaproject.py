"""VBA 工程（xl/vbaProject.bin）的读写，按 [MS-OVBA]。

写：以 xlwings 模板自带的 vbaProject.bin 为底——它的工程信息与引用记录（PROJECTINFORMATION、PROJECTREFERENCES，
dir 流中 PROJECTMODULES 之前的全部记录）原样保留，只换工程名与模块表——写出一个新的工程：
- 每个模块一个流，内容为压缩后的源码，源码偏移 0（没有性能缓存）；
- ``_VBA_PROJECT`` 流与模板相同（7 字节，版本 0xFFFF：[MS-OVBA] 2.3.4.1 规定此时应用程序忽略性能缓存、按源码重新
  编译——xlwings 的模板与 xlwings.xlam 都是这样写的，在 Excel 中正常使用）；
- dir 流、PROJECT 流、PROJECTwm 流按规范重写；cookie 按规范写 0xFFFF；
- 复合文件由 addin/excel/cfb.py 写出。

读：olefile 打开复合文件，``decompress`` 解压 dir 流与模块源码。

源码一律用 PROJECTCODEPAGE 指定的代码页（模板为 1252）编码；本包写入的模块都是 ASCII，中文在 VBA 中用 ChrW 拼出
（与 VBComponents.Import 的要求一致），所以在任何语言的 Windows 上读出的都是同一段源码。
"""
from __future__ import annotations

import io
import re
import struct
from dataclasses import dataclass, field

from .cfb import write_cfb

# dir 流记录号（[MS-OVBA] 2.3.4.2）
PROJECTCODEPAGE = 0x0003
PROJECTNAME = 0x0004
PROJECTVERSION = 0x0009
PROJECTMODULES = 0x000F
PROJECTCOOKIE = 0x0013
DIR_TERMINATOR = 0x0010
MODULENAME = 0x0019
MODULENAMEUNICODE = 0x0047
MODULESTREAMNAME = 0x001A
MODULESTREAMNAME_UNICODE = 0x0032
MODULEDOCSTRING = 0x001C
MODULEDOCSTRING_UNICODE = 0x0048
MODULEOFFSET = 0x0031
MODULEHELPCONTEXT = 0x001E
MODULECOOKIE = 0x002C
MODULETYPE_PROCEDURAL = 0x0021
MODULETYPE_OTHER = 0x0022  # 文档模块、类模块、设计器
MODULEREADONLY = 0x0025
MODULEPRIVATE = 0x0028
MODULE_TERMINATOR = 0x002B

STANDARD, CLASS, DOCUMENT = "Module", "Class", "Document"


class VbaProjectError(ValueError):
    """VBA 工程无法读取或写入（中文说明）。"""


# =====================================================================================================
# [MS-OVBA] 2.4.1 压缩容器
# =====================================================================================================
_CHUNK = 4096


def _bit_count(difference: int) -> int:
    """CopyToken 中偏移占的位数（[MS-OVBA] 2.4.1.3.19.1 CopyToken Help）。"""
    return max((difference - 1).bit_length(), 4)


def compress(data: bytes) -> bytes:
    """按 [MS-OVBA] 2.4.1.3 压缩：每 4096 字节一个块，块内以 3 字节前缀的哈希链找最长匹配（等长取最近的一个，
    与规范的匹配过程相同），压缩后超过 4098 字节的整块改存原文。"""
    out = bytearray(b"\x01")
    for start in range(0, len(data), _CHUNK):
        out += _compress_chunk(data[start:start + _CHUNK])
    return bytes(out)


def _compress_chunk(chunk: bytes) -> bytes:
    body = bytearray()
    heads: dict[bytes, list[int]] = {}
    pos, n = 0, len(chunk)
    while pos < n:
        flag_at = len(body)
        body.append(0)
        flags = 0
        for bit in range(8):
            if pos >= n:
                break
            best_len, best_off = 0, 0
            if pos >= 1 and pos + 3 <= n:
                bc = _bit_count(pos)
                max_len = min((0xFFFF >> bc) + 3, n - pos)
                for cand in reversed(heads.get(chunk[pos:pos + 3], ())):
                    length = 3
                    while length < max_len and chunk[cand + length] == chunk[pos + length]:
                        length += 1
                    if length > best_len:
                        best_len, best_off = length, pos - cand
                        if length == max_len:
                            break
            if best_len >= 3:
                bc = _bit_count(pos)
                body += struct.pack("<H", ((best_off - 1) << (16 - bc)) | (best_len - 3))
                flags |= 1 << bit
                step = best_len
            else:
                body.append(chunk[pos])
                step = 1
            for p in range(pos, pos + step):
                if p + 3 <= n:
                    heads.setdefault(chunk[p:p + 3], []).append(p)
            pos += step
        body[flag_at] = flags
    if len(body) > _CHUNK:  # 不可压缩：存原文（规范要求原文块正好 4096 字节，不足时补零）
        return struct.pack("<H", 0x3FFF) + chunk.ljust(_CHUNK, b"\0")
    return struct.pack("<H", 0xB000 | (len(body) + 2 - 3)) + bytes(body)


def decompress(data: bytes) -> bytes:
    """[MS-OVBA] 2.4.1.3.1 解压。"""
    if not data or data[0] != 1:
        raise VbaProjectError("VBA 压缩数据签名不对")
    out = bytearray()
    pos = 1
    while pos < len(data) - 1:
        header = struct.unpack_from("<H", data, pos)[0]
        chunk_end = min(pos + (header & 0x0FFF) + 3, len(data))
        pos += 2
        chunk_start = len(out)
        if not header & 0x8000:
            out += data[pos:pos + _CHUNK]
            pos += _CHUNK
            continue
        while pos < chunk_end:
            flags = data[pos]
            pos += 1
            for bit in range(8):
                if pos >= chunk_end:
                    break
                if not flags & (1 << bit):
                    out.append(data[pos])
                    pos += 1
                    continue
                if pos + 2 > chunk_end:
                    raise VbaProjectError("VBA 压缩数据已损坏（复制令牌不完整）")
                token = struct.unpack_from("<H", data, pos)[0]
                pos += 2
                bc = _bit_count(len(out) - chunk_start)
                length = (token & (0xFFFF >> bc)) + 3
                offset = (token >> (16 - bc)) + 1
                if offset > len(out) - chunk_start:
                    raise VbaProjectError("VBA 压缩数据已损坏（复制偏移越界）")
                for _ in range(length):
                    out.append(out[-offset])
    return bytes(out)


# =====================================================================================================
# dir 流
# =====================================================================================================
def dir_records(data: bytes) -> list[tuple[int, bytes]]:
    """把解压后的 dir 流拆成 (记录号, 内容)。PROJECTVERSION 的 Size 字段是保留值 4，其后实际有 6 字节。"""
    out = []
    pos = 0
    while pos + 6 <= len(data):
        rid, size = struct.unpack_from("<HI", data, pos)
        pos += 6
        if rid == PROJECTVERSION:
            size = 6
        out.append((rid, data[pos:pos + size]))
        pos += size
        if rid == DIR_TERMINATOR:
            break
    return out


def _record(rid: int, body: bytes) -> bytes:
    if rid == PROJECTVERSION:
        return struct.pack("<HI", rid, 4) + body
    return struct.pack("<HI", rid, len(body)) + body


@dataclass
class Module:
    """一个 VBA 模块：名称、种类（Module/Class/Document）、源码（VBA 保存的文本：Attribute 行 + 代码，CRLF）。"""

    name: str
    kind: str
    source: str
    docstring: str = ""
    private: bool = False


@dataclass
class Project:
    """解析出的 VBA 工程：代码页、dir 中模块表之前的记录、PROJECT 流的文本行、模块。"""

    codepage: int
    info_records: list[tuple[int, bytes]]
    project_lines: list[str]
    modules: list[Module] = field(default_factory=list)
    vba_project_stream: bytes = b""

    @property
    def encoding(self) -> str:
        return f"cp{self.codepage}"

    @property
    def name(self) -> str:
        for rid, body in self.info_records:
            if rid == PROJECTNAME:
                return body.decode(self.encoding)
        return ""


def read_project(data: bytes) -> Project:
    """读出 vbaProject.bin（复合文件字节）中的 VBA 工程。"""
    import olefile

    try:
        ole = olefile.OleFileIO(io.BytesIO(data))
    except OSError as exc:
        raise VbaProjectError(f"vbaProject.bin 不是有效的复合文件：{exc}") from None
    try:
        try:
            records = dir_records(decompress(ole.openstream("VBA/dir").read()))
        except OSError:
            raise VbaProjectError("VBA 工程缺少 dir 流") from None
        codepage = 1252
        for rid, body in records:
            if rid == PROJECTCODEPAGE:
                codepage = struct.unpack("<H", body)[0]
        enc = f"cp{codepage}"
        try:
            "".encode(enc)
        except LookupError:
            enc, codepage = "cp1252", 1252
        split = next((i for i, (rid, _) in enumerate(records) if rid == PROJECTMODULES), len(records))
        project_text = ole.openstream("PROJECT").read().decode(enc, "replace") if ole.exists("PROJECT") else ""
        kinds = {}
        for line in project_text.splitlines():
            m = re.match(r"(Document|Module|Class|BaseClass|Package)=([^/]+)", line)
            if m:
                kinds[m.group(2).lower()] = DOCUMENT if m.group(1) == "Document" else \
                    STANDARD if m.group(1) == "Module" else CLASS
        modules: list[Module] = []
        cur: dict = {}
        for rid, body in records[split:]:
            if rid == MODULENAME:
                cur = {"name": body.decode(enc, "replace"), "stream": body.decode(enc, "replace"), "offset": 0,
                       "doc": "", "private": False, "procedural": False}
            elif rid == MODULESTREAMNAME:
                cur["stream"] = body.decode(enc, "replace")
            elif rid == MODULEDOCSTRING:
                cur["doc"] = body.decode(enc, "replace")
            elif rid == MODULEOFFSET:
                cur["offset"] = struct.unpack("<I", body)[0]
            elif rid == MODULETYPE_PROCEDURAL:
                cur["procedural"] = True
            elif rid == MODULEPRIVATE:
                cur["private"] = True
            elif rid == MODULE_TERMINATOR and cur:
                stream = f"VBA/{cur['stream']}"
                raw = ole.openstream(stream).read() if ole.exists(stream) else b""
                text = decompress(raw[cur["offset"]:]).decode(enc, "replace") if cur["offset"] < len(raw) else ""
                kind = STANDARD if cur["procedural"] else kinds.get(cur["name"].lower(), CLASS)
                modules.append(Module(cur["name"], kind, text, cur["doc"], cur["private"]))
                cur = {}
        vba_project = ole.openstream("VBA/_VBA_PROJECT").read() if ole.exists("VBA/_VBA_PROJECT") else b""
    finally:
        ole.close()
    return Project(codepage, records[:split], project_text.split("\r\n"), modules, vba_project)


# =====================================================================================================
# 写
# =====================================================================================================
VBA_PROJECT_NO_CACHE = b"\xcc\x61\xff\xff\x00\x01\x00"  # Reserved1 0x61CC，版本 0xFFFF（无性能缓存），与模板相同


def _module_records(m: Module, enc: str) -> bytes:
    name = m.name.encode(enc)
    uname = m.name.encode("utf-16-le")
    doc = m.docstring.encode(enc)
    out = _record(MODULENAME, name) + _record(MODULENAMEUNICODE, uname)
    out += _record(MODULESTREAMNAME, name) + _record(MODULESTREAMNAME_UNICODE, uname)
    out += _record(MODULEDOCSTRING, doc) + _record(MODULEDOCSTRING_UNICODE, m.docstring.encode("utf-16-le"))
    out += _record(MODULEOFFSET, struct.pack("<I", 0))
    out += _record(MODULEHELPCONTEXT, struct.pack("<I", 0))
    out += _record(MODULECOOKIE, struct.pack("<H", 0xFFFF))
    out += struct.pack("<HI", MODULETYPE_PROCEDURAL if m.kind == STANDARD else MODULETYPE_OTHER, 0)
    if m.private:
        out += struct.pack("<HI", MODULEPRIVATE, 0)
    return out + struct.pack("<HI", MODULE_TERMINATOR, 0)


def _project_stream(base: Project, name: str, modules: list[Module]) -> bytes:
    """PROJECT 流：沿用模板的行（ID、保护状态 CMG/DPB/GC 等），换掉模块行、工程名与 [Workspace] 节。"""
    lines: list[str] = []
    placed = False
    section = ""
    for line in base.project_lines:
        if line.startswith("["):
            section = line
        if section == "[Workspace]":
            continue
        if re.match(r"(Document|Module|Class|BaseClass|Package)=", line):
            if not placed:
                for m in modules:
                    lines.append(f"Document={m.name}/&H00000000" if m.kind == DOCUMENT else f"{m.kind}={m.name}")
                placed = True
            continue
        if line.startswith("Name="):
            line = f'Name="{name}"'
        lines.append(line)
    while lines and lines[-1] == "":
        lines.pop()
    lines += ["", "[Workspace]"] + [f"{m.name}=0, 0, 0, 0, C" for m in modules] + ["", ""]
    return "\r\n".join(lines).encode(base.encoding)


def write_project(base: Project, modules: list[Module], name: str | None = None) -> bytes:
    """以 base（模板工程）的工程信息与引用写出含 modules 的 vbaProject.bin。"""
    enc = base.encoding
    name = name or base.name
    seen: set[str] = set()
    for m in modules:
        if not re.fullmatch(r"[A-Za-z][A-Za-z0-9_]{0,30}", m.name) or m.name.lower() in seen:
            raise VbaProjectError(f"VBA 模块名无效或重复：{m.name}")
        seen.add(m.name.lower())
        try:
            m.source.encode(enc)
        except UnicodeEncodeError:
            raise VbaProjectError(f"模块 {m.name} 的源码含有代码页 {base.codepage} 无法表示的字符") from None
        if not m.source.startswith(f'Attribute VB_Name = "{m.name}"'):
            raise VbaProjectError(f"模块 {m.name} 的源码应以 Attribute VB_Name = \"{m.name}\" 开头")
    info = b""
    for rid, body in base.info_records:
        if rid == PROJECTNAME:
            body = name.encode(enc)
        info += _record(rid, body)
    dir_stream = info + _record(PROJECTMODULES, struct.pack("<H", len(modules)))
    dir_stream += _record(PROJECTCOOKIE, struct.pack("<H", 0xFFFF))
    dir_stream += b"".join(_module_records(m, enc) for m in modules)
    dir_stream += struct.pack("<HI", DIR_TERMINATOR, 0)
    wm = b"".join(m.name.encode(enc) + b"\0" + m.name.encode("utf-16-le") + b"\0\0" for m in modules) + b"\0\0"
    streams = {
        "PROJECT": _project_stream(base, name, modules),
        "PROJECTwm": wm,
        "VBA/_VBA_PROJECT": VBA_PROJECT_NO_CACHE,
        "VBA/dir": compress(dir_stream),
    }
    for m in modules:
        streams[f"VBA/{m.name}"] = compress(m.source.encode(enc))
    return write_cfb(streams)
