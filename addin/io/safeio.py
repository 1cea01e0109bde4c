"""写入不丢数据：原子替换、覆盖前备份、替换前核对文件未被改动、不覆盖输入、公式注入防护。

为什么需要它：一个绩效评价工作簿是单位一年的工作，jixiao 绝不能损坏它。读取一侧的关口在 filecheck.py（打开前检查文件）
与 safebook.py（open_book），写入锁与文件身份在 locks.py。

写入（save_book / atomic_output）：
- 写回工作簿只改 jixiao 拥有的部件：生成表（报告、校验结果）及其图形/图表、引用它们的条目、styles.xml 末尾追加的
  样式记录；其余每个部件逐字节不变（addin/io/splice.py 拼接，verify.py 核对）。核对不通过时原文件不替换，结果另存为
  `名称.YYYYmmdd-HHMMSS.未写回.xlsx` 并说明原因；
- 同一个文件同时只有一个 jixiao 在“读取—修改—写回”：写入锁 `名称.xlsx.jixiao.lock`（locks.write_lock）；
- 先写同目录下的临时文件，fsync 后以 os.replace 原子替换：中途断电、磁盘满、程序出错时，
  原文件要么是旧的完整内容，要么是新的完整内容，不会出现半个文件；
- 覆盖已有文件前保留带时间戳的备份：`名称.YYYYmmdd-HHMMSS.bak.xlsx`（与原文件同目录，同一秒内再次备份加 -2、-3；
  新内容与原文件逐字节相同时不备份——没有可丢失的内容；jixiao 从不删除有用的备份，批量处理不把备份当作部门工作簿）；
  jixiao demo 重新生成示例时同样先备份，生成后只删除与新文件内容相同（仅保存时间不同）的多余备份；
- Excel 打开文件时会在旁边建立锁文件 `~$名称.xlsx`（LibreOffice 为 `.~lock.名称.xlsx#`），发现锁文件、
  文件只读或目录不可写时拒绝写入并说明（locks.check_writable）；
- 读取之后文件在磁盘上又被修改（例如在 Excel 里保存过）时拒绝覆盖，免得冲掉新内容——开始写之前核对一次，
  紧挨着 os.replace 之前再核对一次（文件身份的每一项，包括内容哈希）；
- 输出路径不得是任何一个输入（refuse_overwrite：解析符号链接、大小写、硬链接后比较）；
- .xlsm 可以写回：宏（vbaProject.bin）与其他部件一样逐字节保留；另存为 .xlsx 时去掉宏部件（.xlsx 不能含宏）。

公式注入：从单元格复制到生成表的文本一律按文本写入。openpyxl 写入时把 data_type 设为 "s"（OpenpyxlBook.replace_sheet
已这样做）；XlsxWriter 用 write_string 或 Workbook(options=XLSXWRITER_OPTIONS)；经 Excel COM（xlwings）或 CSV 写出的
文本用 excel_text()/csv_text() 加前导撇号。
"""
from __future__ import annotations

import contextlib
import contextvars
import datetime as _dt
import filecmp
import io
import os
import re
import shutil
import stat
import sys
import tempfile
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterable, Iterator

from .book import BookError
from .filecheck import WORKBOOK_SUFFIXES, _name
from .locks import FileIdentity, _real, check_writable, confirm_unchanged, current_identity, lock_file_for, write_lock
from .openpyxl_book import OpenpyxlBook
from .safebook import SafeBook

__all__ = [
    "save_book", "atomic_output", "write_bytes", "write_text", "backup_name", "is_backup_name", "regenerating",
    "same_content", "same_path", "refuse_overwrite", "require_suffix",
    "is_formula_like", "excel_text", "csv_text", "XLSXWRITER_OPTIONS",
]








# ------------------------------------------------------------------------------------------------------------------
# 写入
# ------------------------------------------------------------------------------------------------------------------


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
def atomic_output(path: str | Path, *, backup: bool = False, expect: FileIdentity | None = None) -> Iterator[_TempPath]:
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


class _TempPath(type(Path())):  # type: ignore[misc]  # Python 3.11 的 Path 不能直接继承，基类是 PosixPath/WindowsPath
    """临时文件路径，结束后附带写入结果。"""

    written: Written | None = None

    @property
    def result(self) -> Written:
        """with 块正常结束后的写入结果。"""
        if self.written is None:
            raise RuntimeError("atomic_output 的 with 块尚未正常结束，没有写入结果")
        return self.written


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
    return tmp.result


def write_text(path: str | Path, text: str, *, encoding: str = "utf-8", backup: bool = False) -> Written:
    """原子写入文本（JSON、CSV 等）。CSV 单元格请先经过 csv_text()。"""
    return write_bytes(path, text.encode(encoding), backup=backup)


def save_book(book: OpenpyxlBook, path: str | Path | None = None, *, backup: bool = True) -> Written:
    """保存工作簿：原文件的字节 + 拼接的生成表（addin/io/splice.py），核对后经临时文件原子替换；覆盖已有文件时先备份。

    path 为空时写回打开的文件。以下情况拒绝（BookError，中文说明，文件不动）：目标被 Excel 打开（~$ 锁文件）、只读、
    扩展名不是 Excel 工作簿、另一个 jixiao 正在写它（等待 LOCK_WAIT_SECONDS 后）、原文件在读取后被修改过（核对两次：
    开始写之前，以及紧挨着 os.replace 之前）。核对写出结果发现原文件的某个部件会被改变时，原文件不替换，结果另存为
    `名称.YYYYmmdd-HHMMSS.未写回.xlsx` 并在说明中指出。
    """
    from .opc import SpliceError

    source = Path(book.path)
    target = Path(path) if path is not None else source
    if target.suffix.lower() not in WORKBOOK_SUFFIXES:
        raise BookError(f"输出文件{_name(target)}的扩展名应为 .xlsx（或 .xlsm 等 Excel 工作簿）")
    same = path is None or same_path(source, target)
    identity: FileIdentity | None = book.identity if same and isinstance(book, SafeBook) else None
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
            if now is not None and isinstance(book, SafeBook):  # 只有 SafeBook 记着文件身份
                book.identity = now
    return tmp.result


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
