"""[MS-CFB] 复合文件的写入：把 vbaProject.bin 的各个流写成一个版本 3（512 字节扇区）的复合文件。

读取用 olefile（维护良好的通用实现）；olefile 只能改写同样大小的流、不能新建文件，所以写入由这里完成。只实现
vbaProject.bin 需要的部分，按规范的最简形式写：
- 扇区 512 字节；小于 4096 字节的流放在迷你流（64 字节迷你扇区）中，其余放在普通扇区；
- 目录项全部为黑色，每个存储的子项按 [MS-CFB] 2.6.4 的顺序（名称长度，再按大写比较）排成只用右兄弟的链——
  规范明说“全部标为黑色即退化为普通二叉树”是允许的，xlwings 随包的 vbaProject.bin 正是这样排列的；
- 时间戳、CLSID 全为零，同样的输入写出逐字节相同的文件。
"""
from __future__ import annotations

import struct
from dataclasses import dataclass, field

SECTOR = 512
MINI_SECTOR = 64
MINI_CUTOFF = 4096
ENTRIES_PER_FAT = SECTOR // 4
MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
FREESECT, ENDOFCHAIN, FATSECT, NOSTREAM = 0xFFFFFFFF, 0xFFFFFFFE, 0xFFFFFFFD, 0xFFFFFFFF
_STORAGE, _STREAM, _ROOT = 1, 2, 5
_BLACK = 1


class CfbError(ValueError):
    """无法写成复合文件（名称过长、文件过大等）。"""


@dataclass
class _Node:
    name: str
    kind: int
    data: bytes = b""
    children: dict[str, "_Node"] = field(default_factory=dict)
    sid: int = 0
    start: int = ENDOFCHAIN


def sort_key(name: str) -> tuple[int, str]:
    """[MS-CFB] 2.6.4：先比较 UTF-16 名称长度，短者在前；等长时逐字符按大写比较。"""
    return len(name.encode("utf-16-le")) // 2, name.upper()


def write_cfb(streams: dict[str, bytes]) -> bytes:
    """streams：路径（“VBA/dir”，用 / 分隔存储）→ 内容。返回复合文件的字节。"""
    root = _Node("Root Entry", _ROOT)
    for path, data in streams.items():
        parts = path.split("/")
        node = root
        for storage in parts[:-1]:
            node = node.children.setdefault(storage.upper(), _Node(storage, _STORAGE))
            if node.kind != _STORAGE:
                raise CfbError(f"{path}：{storage} 既是流又是存储")
        if parts[-1].upper() in node.children:
            raise CfbError(f"重复的流 {path}")
        node.children[parts[-1].upper()] = _Node(parts[-1], _STREAM, bytes(data))
    nodes: list[_Node] = []

    def number(n: _Node) -> None:
        if len(n.name) > 31:
            raise CfbError(f"名称过长（最多 31 个字符）：{n.name}")
        n.sid = len(nodes)
        nodes.append(n)
        for child in sorted(n.children.values(), key=lambda c: sort_key(c.name)):
            number(child)

    number(root)

    # 迷你流：小流依次放入，每个按 64 字节对齐
    ministream = bytearray()
    minifat: list[int] = []
    big: list[_Node] = []
    for n in nodes:
        if n.kind != _STREAM:
            continue
        if len(n.data) >= MINI_CUTOFF:
            big.append(n)
            continue
        if not n.data:
            n.start = ENDOFCHAIN
            continue
        count = -(-len(n.data) // MINI_SECTOR)
        n.start = len(minifat)
        minifat += list(range(n.start + 1, n.start + count)) + [ENDOFCHAIN]
        ministream += n.data.ljust(count * MINI_SECTOR, b"\0")

    sectors: list[bytes] = []
    fat: list[int] = []

    def allocate(data: bytes) -> int:
        if not data:
            return ENDOFCHAIN
        count = -(-len(data) // SECTOR)
        first = len(sectors)
        for i in range(count):
            sectors.append(data[i * SECTOR:(i + 1) * SECTOR].ljust(SECTOR, b"\0"))
        fat.extend(list(range(first + 1, first + count)) + [ENDOFCHAIN])
        return first

    for n in big:
        n.start = allocate(n.data)
    root.start = allocate(bytes(ministream))
    root.data = bytes(ministream)
    minifat_bytes = struct.pack(f"<{len(minifat)}I", *minifat) if minifat else b""
    if minifat_bytes:
        minifat_bytes = minifat_bytes.ljust(-(-len(minifat_bytes) // SECTOR) * SECTOR, b"\xff")
    first_minifat = allocate(minifat_bytes)
    n_minifat = len(minifat_bytes) // SECTOR

    directory = b"".join(_dir_entry(n, nodes) for n in nodes)
    per_sector = SECTOR // 128
    if len(nodes) % per_sector:
        directory += _EMPTY_ENTRY * (per_sector - len(nodes) % per_sector)
    first_dir = allocate(directory)

    # FAT 扇区放在最后：它们自己也要在 FAT 中登记（FATSECT）
    n_fat = 1
    while n_fat * ENTRIES_PER_FAT < len(sectors) + n_fat:
        n_fat += 1
    if n_fat > 109:
        raise CfbError("VBA 工程过大（需要 DIFAT 扇区）")
    fat_start = len(sectors)
    fat += [FATSECT] * n_fat
    fat += [FREESECT] * (n_fat * ENTRIES_PER_FAT - len(fat))
    fat_bytes = struct.pack(f"<{len(fat)}I", *fat)
    for i in range(n_fat):
        sectors.append(fat_bytes[i * SECTOR:(i + 1) * SECTOR])

    difat = list(range(fat_start, fat_start + n_fat)) + [FREESECT] * (109 - n_fat)
    header = (MAGIC + b"\0" * 16 + struct.pack("<HHHHH", 0x003E, 0x0003, 0xFFFE, 9, 6) + b"\0" * 6
              + struct.pack("<IIIIIIIII", 0, n_fat, first_dir, 0, MINI_CUTOFF,
                            first_minifat if n_minifat else ENDOFCHAIN, n_minifat, ENDOFCHAIN, 0)
              + struct.pack("<109I", *difat))
    assert len(header) == SECTOR
    return header + b"".join(sectors)


_EMPTY_ENTRY = b"\0" * 64 + struct.pack("<HBBIII", 0, 0, 0, NOSTREAM, NOSTREAM, NOSTREAM) + b"\0" * 52


def _dir_entry(n: _Node, nodes: list[_Node]) -> bytes:
    name = n.name.encode("utf-16-le") + b"\0\0"
    # 右兄弟链：同一存储中按顺序排在它后面的那个子项
    right = NOSTREAM
    for parent in nodes:
        kids = sorted(parent.children.values(), key=lambda c: sort_key(c.name))
        for a, b in zip(kids, kids[1:], strict=False):
            if a is n:
                right = b.sid
    kids = sorted(n.children.values(), key=lambda c: sort_key(c.name))
    child = kids[0].sid if kids else NOSTREAM
    size = len(n.data) if n.kind in (_STREAM, _ROOT) else 0
    start = n.start if n.kind in (_STREAM, _ROOT) else 0
    if n.kind == _ROOT and not n.data:
        start = ENDOFCHAIN
    return (name.ljust(64, b"\0") + struct.pack("<HBBIII", len(name), n.kind, _BLACK, NOSTREAM, right, child)
            + b"\0" * 16 + struct.pack("<I", 0) + b"\0" * 16 + struct.pack("<IQ", start, size))
