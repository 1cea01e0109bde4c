"""不丢失别人的修改：文件身份（读取时记下，写回前核对）、jixiao 自己的写入锁、Excel/WPS/LibreOffice 的锁文件。

写入锁 `名称.xlsx.jixiao.lock`：同一个文件同时只有一个 jixiao 在“读取—修改—写回”；另一个 jixiao 正在写时等待，
超时以中文说明拒绝；持有者已不在的遗留锁自动清除；结束时——包括出错与 Ctrl+C——删除。
"""
from __future__ import annotations

import contextlib
import datetime as _dt
import getpass
import hashlib
import json
import os
import socket
import stat
import sys
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterator

from .book import BookError
from .filecheck import MAX_FILE_BYTES, _name


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
    if sys.platform == "win32":  # Windows 上 os.kill(pid, 0) 会结束进程，不能用
        import ctypes

        kernel32 = ctypes.windll.kernel32
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
