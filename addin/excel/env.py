"""加载项所处的环境（Env）与它的配置：平台、解释器、XLSTART、注册表、进程表与 Excel 都经 Env 注入，测试在 Linux 上
用临时目录与替身覆盖每条分支；xlwings 的版本约定（XLWINGS_PIN）、Conda 与解释器设置、xlwings.conf 的读写、DLL 的位置。"""
from __future__ import annotations

import locale
import os
import shutil
import struct
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Mapping

from ..io import safeio
from ..io.book import BookError

# 功能区按钮（ribbon.py）与诊断（doctor.py）的约定：按钮的 Python 端把错误追加到临时目录下的这个日志；
# doctor 经 DoctorRunPython 走与按钮相同的 RunPython 路径，Python 把 DOCTOR_MARK 写进活动工作簿的 A1
RIBBON_LOG = "jixiao-ribbon.log"
DOCTOR_MARK = "jixiao-doctor"
XLWINGS_ADDIN = "xlwings.xlam"
XLWINGS_PIN = "0.37.8"  # 与 pyproject.toml 的 xlwings==… 相同（测试核对）：加载项的 VBA 与 DLL 名称都按这一版
CONF_KEYS = ("INTERPRETER_WIN", "CONDA PATH", "CONDA ENV", "UDF MODULES")
NOT_WINDOWS = (
    "当前系统是 {system}。Excel 加载项（功能区按钮与单元格函数）只能安装在 Windows 版 Excel 中："
    "xlwings 的经典单元格函数只支持 Windows，macOS 版 Excel 不支持，Linux 没有 Excel。\n"
    "在本系统上可以：\n"
    "  jixiao addin build -o dist/    生成完整的 jixiao.xlam（含全部 VBA 模块；安装仍需在 Windows 上运行 jixiao addin install）\n"
    "  jixiao score / check / report / export    不需要 Excel，直接处理 .xlsx 工作簿（与功能区按钮同一套逻辑）\n"
    "不能：安装加载项、在 Excel 中使用“绩效评价”选项卡、运行 jixiao addin doctor。"
)


class InstallError(Exception):
    """安装无法继续（中文说明与处理办法）。"""


def append_traceback(path: Path, header: str, exc: BaseException) -> Path:
    """把一次内部错误的回溯追加到日志（给技术支持看；用户看到的是中文说明与这个路径）。写不进去时不再报错。"""
    import datetime as _dt
    import traceback

    try:
        with open(path, "a", encoding="utf-8") as fh:
            fh.write(f"==== {_dt.datetime.now().isoformat(timespec='seconds')} {header}\n")
            fh.write("".join(traceback.format_exception(type(exc), exc, exc.__traceback__)))
    except OSError:
        pass
    return path


def pip_fix(env: "Env", version: str, force: bool = False) -> str:
    """修复 xlwings 版本或 DLL 的那一条命令。"""
    return (f"在命令提示符运行：\"{env.executable}\" -m pip install {'--force-reinstall ' if force else ''}"
            f"xlwings=={version}")


def _run_xlwings(args: list[str]) -> int:
    """运行 xlwings 命令行（与用户手工输入 ``xlwings addin install`` 相同）。"""
    return subprocess.call([sys.executable, "-m", "xlwings.cli", *args])


def _import_udfs(module_name: str, book_api: Any) -> None:
    from xlwings.udfs import import_udfs  # 只在 Windows 上可导入

    import_udfs(module_name, book_api)


@dataclass
class Env:
    """安装所处的环境；测试注入临时目录与替身。"""

    platform: str
    executable: Path
    prefix: Path
    home: Path
    appdata: Path | None
    xlstart: Path | None = None  # 明确指定的 XLSTART（否则用 %APPDATA%\Microsoft\Excel\XLSTART，即 Excel 的 StartupPath）
    start_excel: Callable[[], Any] | None = None  # 启动隐藏的 Excel（xlwings App）；None 表示没有 Excel
    run_xlwings: Callable[[list[str]], int] = _run_xlwings
    import_udfs: Callable[[str, Any], None] = _import_udfs
    conf_encoding: str = field(default_factory=lambda: "mbcs" if sys.platform.startswith("win")
                               else locale.getpreferredencoding(False))
    out: Callable[[str], None] = print
    environ: Mapping[str, str] = field(default_factory=lambda: dict(os.environ))
    registry: Any = None
    processes: Callable[[], list[str]] = lambda: []
    run_command: Callable[[list[str], float], tuple[int, str]] = lambda args, timeout: (-1, "")
    pe_bits: Callable[[str], int | None] = lambda path: None
    python_bits: int = field(default_factory=lambda: struct.calcsize("P") * 8)
    timeout: float = 120.0
    kill_pid: Callable[[int], None] | None = None

    @classmethod
    def current(cls) -> "Env":
        appdata = os.environ.get("APPDATA")
        env = cls(platform=sys.platform, executable=Path(sys.executable), prefix=Path(sys.prefix), home=Path.home(),
                  appdata=Path(appdata) if appdata else None)
        if env.windows:
            from . import winsys
            from .excel_session import _start_xlwings

            env.start_excel = _start_xlwings
            env.registry = winsys.WinRegistry()
            env.processes = winsys.process_names
            env.run_command = winsys.run_command
            env.pe_bits = winsys.pe_bits
        return env

    @property
    def windows(self) -> bool:
        return self.platform.startswith("win")

    def default_xlstart(self) -> Path | None:
        if self.xlstart is not None:
            return self.xlstart
        if self.appdata is None:
            return None
        return self.appdata / "Microsoft" / "Excel" / "XLSTART"

    @property
    def xlwings_conf(self) -> Path:
        return self.home / ".xlwings" / "xlwings.conf"

    def system_name(self) -> str:
        return {"linux": "Linux", "darwin": "macOS"}.get(self.platform, self.platform)

    def excel_runner(self):
        from .excel_session import ExcelRunner

        if self.start_excel is None:
            raise InstallError("没有可用的 Excel（本机未安装桌面版 Excel，或不是 Windows）")
        runner = ExcelRunner(start=self.start_excel, timeout=self.timeout)
        if self.kill_pid is not None:
            runner.kill_pid = self.kill_pid
        if not self.windows or self.kill_pid is not None:
            runner.com_init = lambda: (lambda: None)
        return runner


def conda_settings(env: Env) -> tuple[str, str] | None:
    """当前解释器是 Conda 环境时，xlwings 配置的 (Conda Path, Conda Env)；否则 None。

    判断：sys.prefix 下有 conda-meta 目录。Conda Path 是含 condabin\\conda.bat 的根目录：prefix 本身（base 环境，
    Conda Env = base）、prefix 的上两级（…\\envs\\名称，Conda Env = 名称），否则取环境变量 CONDA_EXE 所在安装的根目录，
    Conda Env 写环境的完整路径（xlwings 对含反斜杠的 Conda Env 按路径处理，xlwings issue 2655）。"""
    prefix = env.prefix
    if not (prefix / "conda-meta").is_dir():
        return None
    if (prefix / "condabin" / "conda.bat").is_file():
        return str(prefix), "base"
    if prefix.parent.name.lower() == "envs" and (prefix.parent.parent / "condabin" / "conda.bat").is_file():
        return str(prefix.parent.parent), prefix.name
    exe = env.environ.get("CONDA_EXE", "")
    if exe:
        root = Path(exe).parent.parent
        if (root / "condabin" / "conda.bat").is_file():
            return str(root), str(prefix)
    return None


def interpreter_settings(env: Env) -> tuple[dict[str, Any], str]:
    """构建参数（interpreter 或 conda）与一句说明。"""
    conda = conda_settings(env)
    if conda:
        return {"conda": conda}, f"Conda 环境：Conda Path = {conda[0]}，Conda Env = {conda[1]}（按 xlwings 文档不写 Interpreter_Win）"
    if (env.prefix / "conda-meta").is_dir():
        return ({"interpreter": str(env.executable)},
                f"Conda 环境 {env.prefix} 找不到 condabin\\conda.bat（Conda 版本过旧？），改写 Interpreter_Win = {env.executable}")
    return {"interpreter": str(env.executable)}, f"Interpreter_Win = {env.executable}"


def read_conf(path: Path, encoding: str) -> dict[str, str]:
    """读取 xlwings.conf（每行 "KEY","VALUE"）；键转为大写。"""
    import re

    out: dict[str, str] = {}
    if not path.is_file():
        return out
    text = path.read_bytes().decode(encoding, "replace")
    for line in text.splitlines():
        vals = re.findall(r'"([^"]*)"', line)
        if len(vals) >= 2:
            out[vals[0].upper()] = vals[1]
    return out


def update_conf(path: Path, values: dict[str, str | None], encoding: str) -> list[str]:
    """合并写入 xlwings.conf：只改给定的键（值为 None 表示删去该键），其余行原样保留；有变化时先备份原文件。
    返回变化说明。"""
    import re

    lines = path.read_bytes().decode(encoding, "replace").splitlines() if path.is_file() else []
    old = read_conf(path, encoding)
    changes: list[str] = []
    done: set[str] = set()
    out: list[str] = []
    for line in lines:
        vals = re.findall(r'"([^"]*)"', line)
        key = vals[0].upper() if vals else None
        if key in values:
            if key not in done and values[key] is not None:
                out.append(f'"{key}","{values[key]}"')
            done.add(key)
            continue
        out.append(line)
    for key, v in values.items():
        if key not in done and v is not None:
            out.append(f'"{key}","{v}"')
        if v is None:
            if key in old:
                changes.append(f"删去 {key}（原为 {old[key]}）")
        elif old.get(key) != v:
            changes.append(f"{key}：{old[key]} → {v}" if key in old else f"{key} = {v}")
    if not changes:
        return []
    try:
        data = ("\r\n".join(out) + "\r\n").encode(encoding)
    except UnicodeEncodeError:
        raise InstallError(f"路径含有系统代码页无法表示的字符，未写入 {path}（本加载项使用自己的配置表，不受影响）") from None
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        if path.is_file():
            shutil.copy2(path, path.with_name(path.name + ".bak"))
        # 原子替换：中途失败（磁盘满、被占用）时旧配置原样保留，xlwings 不会读到半个文件
        safeio.write_bytes(path, data)
    except (OSError, BookError) as exc:
        raise InstallError(f"未能写入 {path}：{exc}") from None
    return changes


def find_dll(env: Env, version: str, bits: int | None = None) -> Path | None:
    """xlwings 的 DLL：与 VBA 的查找顺序相同——解释器所在目录，其次上一级（虚拟环境）；再看 sys.prefix
    （pip 把 DLL 装在那里）。bits 为 None 时 64 位、32 位都可。"""
    for d in (env.executable.parent, env.executable.parent.parent, env.prefix):
        for b in ((bits,) if bits else (64, 32)):
            p = d / f"xlwings{b}-{version}.dll"
            if p.is_file():
                return p
    return None
