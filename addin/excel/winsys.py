"""读 Windows 的注册表、进程表与 PowerShell 输出——只在 Windows 上真正执行；测试注入替身（Linux 上不导入 winreg）。"""
from __future__ import annotations

import subprocess
import sys
from typing import Any, Protocol

_ROOTS = {"HKCU": "HKEY_CURRENT_USER", "HKLM": "HKEY_LOCAL_MACHINE"}


class Registry(Protocol):
    def value(self, key: str, name: str) -> Any | None:
        """键（如 ``HKCU\\Software\\Microsoft\\Office``）中名为 name 的值（默认值 name=""）；没有则 None。"""

    def subkeys(self, key: str) -> list[str]:
        """键的直接子键名；键不存在则空表。"""

    def values(self, key: str) -> dict[str, Any]:
        """键中全部值：名称 → 数据；键不存在则空字典。"""


class WinRegistry:
    """真实注册表（winreg）。64 位视图：ASR 等策略在 64 位 Windows 上写在 64 位视图里。"""

    def _open(self, key: str):
        if sys.platform != "win32":  # 与在其他平台上 import winreg 相同的异常；mypy 据此在其他平台上不检查下面的调用
            raise ModuleNotFoundError("No module named 'winreg'")
        import winreg

        root, _, sub = key.partition("\\")
        hive = getattr(winreg, _ROOTS.get(root.upper(), root.upper()))
        return winreg.OpenKey(hive, sub, 0, winreg.KEY_READ | winreg.KEY_WOW64_64KEY)

    def value(self, key: str, name: str) -> Any | None:
        if sys.platform != "win32":  # 与在其他平台上 import winreg 相同的异常；mypy 据此在其他平台上不检查下面的调用
            raise ModuleNotFoundError("No module named 'winreg'")
        import winreg

        try:
            with self._open(key) as k:
                return winreg.QueryValueEx(k, name)[0]
        except OSError:
            return None

    def subkeys(self, key: str) -> list[str]:
        if sys.platform != "win32":  # 与在其他平台上 import winreg 相同的异常；mypy 据此在其他平台上不检查下面的调用
            raise ModuleNotFoundError("No module named 'winreg'")
        import winreg

        out: list[str] = []
        try:
            with self._open(key) as k:
                i = 0
                while True:
                    try:
                        out.append(winreg.EnumKey(k, i))
                    except OSError:
                        break
                    i += 1
        except OSError:
            pass
        return out

    def values(self, key: str) -> dict[str, Any]:
        if sys.platform != "win32":  # 与在其他平台上 import winreg 相同的异常；mypy 据此在其他平台上不检查下面的调用
            raise ModuleNotFoundError("No module named 'winreg'")
        import winreg

        out: dict[str, Any] = {}
        try:
            with self._open(key) as k:
                i = 0
                while True:
                    try:
                        name, data, _ = winreg.EnumValue(k, i)
                    except OSError:
                        break
                    out[name] = data
                    i += 1
        except OSError:
            pass
        return out


def run_command(args: list[str], timeout: float) -> tuple[int, str]:
    """运行一个命令，返回 (退出码, 标准输出)；找不到命令或超时返回 (-1, "")。不弹出控制台窗口。"""
    try:
        flags = getattr(subprocess, "CREATE_NO_WINDOW", 0)
        done = subprocess.run(args, capture_output=True, timeout=timeout, creationflags=flags)
    except (OSError, subprocess.TimeoutExpired):
        return -1, ""
    out = done.stdout
    for enc in ("utf-8", "gbk", "latin-1"):
        try:
            return done.returncode, out.decode(enc)
        except UnicodeDecodeError:
            continue
    return done.returncode, ""


def process_names() -> list[str]:
    """正在运行的进程映像名（tasklist）。"""
    import csv
    import io

    rc, out = run_command(["tasklist", "/FO", "CSV", "/NH"], 30)
    if rc != 0:
        return []
    return [row[0] for row in csv.reader(io.StringIO(out)) if row]


def pe_bits(path: str) -> int | None:
    """Windows 可执行文件（PE）头中的机器类型：x64/ARM64 → 64，x86 → 32；读不出为 None。"""
    import struct

    try:
        with open(path, "rb") as fh:
            head = fh.read(4096)
    except OSError:
        return None
    if head[:2] != b"MZ" or len(head) < 0x40:
        return None
    off = struct.unpack_from("<I", head, 0x3C)[0]
    if off + 6 > len(head) or head[off:off + 4] != b"PE\0\0":
        return None
    machine = struct.unpack_from("<H", head, off + 4)[0]
    return {0x8664: 64, 0xAA64: 64, 0x014C: 32}.get(machine)
