"""jixiao addin build | install | uninstall | status | doctor，以及 jixiao export（导出定稿）。由 addin.cli.main 自动注册。

安装（仅 Windows）默认走“预制 VBA 工程”路线：``jixiao addin build`` 生成的 jixiao.xlam 已含全部 VBA 模块（按钮回调、
事件类、单元格函数包装、函数说明登记，见 addin/vba_modules.py），安装只做这些事，每步失败都给出中文说明与处理办法：
1. 核对 xlwings：包版本等于本版要求的版本（XLWINGS_PIN）、随包模板的 VBA 版本、Python 位数、xlwings32/64-版本.dll。
2. xlwings 自己的加载项：XLSTART 中没有、或其 VBA 版本与 xlwings 包不同，则运行 ``xlwings addin install``。
3. 以当前解释器构建 jixiao.xlam（配置表 Interpreter_Win；Conda 环境写 Conda Path/Conda Env），离线读回 VBA 工程逐个
   模块核对。
4. 在隐藏的 Excel 中打开它（不运行 Workbook_Open），确认 Excel 接受这个 VBA 工程并能运行其中的宏。Excel 不接受时
   自动改走“经 COM 导入”的备用路线（需要“信任对 VBA 工程对象模型的访问”）：由模板的原始工程出发，用
   VBComponents.Import 导入模块、用 xlwings 的 import_udfs 生成单元格函数，保存后再放上功能区。
5. 复制到 Excel 的启动文件夹 XLSTART（默认是受信任位置，宏无需再启用；先写临时文件再替换）。
6. 在 %USERPROFILE%\\.xlwings\\xlwings.conf 写入解释器与 UDF MODULES（供 xlwings 自己的加载项使用）。

Excel 只在隐藏的、有时限的会话中使用（addin/excel_session.py）：无论成败都会退出，卡住时按进程号结束。
所有与 Windows/Excel 相关的操作都通过 Env 注入（平台、路径、解释器、注册表、进程表、Excel），测试在 Linux 上用
临时目录、替身注册表与替身 Excel（tests/fake_xlwings.py）覆盖安装、诊断、卸载、状态检查的每条分支。
"""
from __future__ import annotations

import datetime as _dt
import locale
import os
import shutil
import struct
import subprocess
import sys
import tempfile
import traceback
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Mapping

from ..cli.main import EXIT_FINDINGS, EXIT_OK, EXIT_UNREADABLE, CliError
from ..io import safeio
from ..io.book import BookError
from .excel_session import ExcelStepError


class _LazyXlam:
    """addin.excel.xlam 只在 addin 子命令真正运行时导入：jixiao score/check/report 每次启动都要注册全部子命令，
    而 xlam 连带导入 xml.sax.saxutils → urllib.request，白白多出约 70 ms 冷启动。"""

    def __getattr__(self, name: str):
        from . import xlam as module

        return getattr(module, name)


xlam = _LazyXlam()

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
TRUST_HELP = ("请在 Excel 中依次点击“文件 → 选项 → 信任中心 → 信任中心设置 → 宏设置”，勾选"
              "“信任对 VBA 工程对象模型的访问”，确定后关闭 Excel，再运行 jixiao addin install --com-import。"
              "该选项被单位组策略锁定（灰色）时，请 IT 启用组策略“信任对 VBA 工程对象模型的访问”（注册表 AccessVBOM = 1），"
              "或改用默认的安装方式 jixiao addin install（不需要这个选项）。")


class InstallError(Exception):
    """安装无法继续（中文说明与处理办法）。"""


def pip_fix(env: "Env", version: str, force: bool = False) -> str:
    """修复 xlwings 版本或 DLL 的那一条命令。"""
    return (f"在命令提示符运行：\"{env.executable}\" -m pip install {'--force-reinstall ' if force else ''}"
            f"xlwings=={version}")


def _run_xlwings(args: list[str]) -> int:
    """运行 xlwings 命令行（与用户手工输入 ``xlwings addin install`` 相同）。"""
    return subprocess.call([sys.executable, "-m", "xlwings.cli", *args])


def _import_udfs(module_name: str, book_api: Any) -> None:
    from xlwings.udfs import import_udfs  # type: ignore[attr-defined]  # 只在 Windows 上可导入

    import_udfs(module_name, book_api)


def _no_registry() -> Any:
    from .winsys import WinRegistry

    return WinRegistry()


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


# =====================================================================================================
# Conda
# =====================================================================================================
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


# =====================================================================================================
# xlwings.conf
# =====================================================================================================
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


# =====================================================================================================
# 状态
# =====================================================================================================
def find_dll(env: Env, version: str, bits: int | None = None) -> Path | None:
    """xlwings 的 DLL：与 VBA 的查找顺序相同——解释器所在目录，其次上一级（虚拟环境）；再看 sys.prefix
    （pip 把 DLL 装在那里）。bits 为 None 时 64 位、32 位都可。"""
    for d in (env.executable.parent, env.executable.parent.parent, env.prefix):
        for b in ((bits,) if bits else (64, 32)):
            p = d / f"xlwings{b}-{version}.dll"
            if p.is_file():
                return p
    return None


def status_lines(env: Env, read_modules: Callable[[Path], dict[str, str]] | None = None
                 ) -> tuple[list[str], bool]:
    """安装状态（中文，每项一行）与是否一切正常：xlwings 包、加载项 VBA、DLL 三者的版本（不一致时给出修复它的
    那一条命令）、加载项文件与配置。不启动 Excel（那是 jixiao addin doctor 的事）。"""
    from .doctor import FAIL, LABELS, check_versions_and_files

    try:
        pkg = xlam.xlwings_version()
    except Exception:  # noqa: BLE001
        return ["没有安装 xlwings：请运行 pip install jixiao（会一并安装 xlwings）"], False
    lines = [f"xlwings 包版本：{pkg}"]
    ok = True
    tpl_version = xlam.vba_xlwings_version(xlam.read_vba_modules(xlam.template_path()))
    if tpl_version != pkg:
        ok = False
        lines.append(f"xlwings 随包模板的 VBA 版本为 {tpl_version}，与包版本 {pkg} 不一致：xlwings 安装不完整——"
                     + pip_fix(env, pkg, force=True))
    if not env.windows:
        lines.append(f"平台：{env.system_name()}（加载项只能安装在 Windows 版 Excel 中）")
        return lines, False
    for c in check_versions_and_files(env):
        line = f"{c.title}：{c.detail}" if c.status != FAIL else f"{c.title}【{LABELS[c.status]}】：{c.detail}——{c.remedy}"
        lines.append(line)
        ok = ok and c.status != FAIL
    xconf = read_conf(env.xlwings_conf, env.conf_encoding)
    if xconf:
        lines.append(f"xlwings.conf（{env.xlwings_conf}）：" + "；".join(f"{k} = {xconf[k]}" for k in CONF_KEYS if k in xconf))
    return lines, ok


def _safe_version(read_modules, path: Path) -> str | None:
    try:
        return xlam.vba_xlwings_version(read_modules(path))
    except xlam.XlamError:
        return None


# =====================================================================================================
# 安装 / 卸载
# =====================================================================================================
def preflight(env: Env) -> None:
    """安装前的版本、位数与 DLL 检查；不满足时抛出 InstallError（附修复命令）。"""
    pkg = xlam.xlwings_version()
    if pkg != XLWINGS_PIN:
        raise InstallError(f"已安装的 xlwings 是 {pkg}，本版 jixiao 需要 {XLWINGS_PIN}（加载项的 VBA 与 DLL 名称都按这一版）："
                           + pip_fix(env, XLWINGS_PIN) + " 后重试")
    tpl = xlam.vba_xlwings_version(xlam.read_vba_modules(xlam.template_path()))
    if tpl != pkg:
        raise InstallError(f"xlwings 随包模板的 VBA 版本 {tpl} 与包版本 {pkg} 不一致：" + pip_fix(env, pkg, force=True) + " 后重试")
    if env.python_bits != 64:
        raise InstallError(f"当前 Python 是 {env.python_bits} 位：xlwings {pkg} 只有 64 位 Windows 的安装包带 DLL。"
                           "请安装 64 位 Python 3.11 或更新版本，在其中安装 jixiao 后重试。")
    if find_dll(env, pkg) is None:
        raise InstallError(f"找不到 xlwings64-{pkg}.dll（应在 {env.executable.parent} 或 {env.prefix}）："
                           + pip_fix(env, pkg, force=True) + " 后重试")


class _PrebuiltRejected(ExcelStepError):
    """Excel 打开了加载项，但不接受预制的 VBA 工程（install 据此改走经 COM 导入的路线）。"""

    def __init__(self, reason: str):
        super().__init__("检查预制的 VBA 工程", reason)

    def __str__(self) -> str:
        return self.reason


def verify_in_excel(env: Env, built: Path, xlstart: Path) -> list[str]:
    """在隐藏的 Excel 中打开刚构建的加载项（不触发 Workbook_Open），确认 VBA 工程在、宏能运行。返回说明。"""
    from .doctor import FAIL, check_vba_policies
    from .excel_session import com_message

    notes: list[str] = []
    shipped = xlam.shipped_callbacks_version()

    def job(s) -> None:
        app = s.app
        with s.step("关闭事件（不运行加载项的 Workbook_Open）"):
            app.api.EnableEvents = False
        with s.step("打开加载项", "加载项文件可能被安全软件拦截或损坏：请把本消息发给技术支持，并可改用 "
                                   "jixiao addin install --com-import"):
            book = app.books.open(str(built))
        with s.step("检查 VBA 工程"):
            has = book.api.HasVBProject
        if not has:
            raise _PrebuiltRejected("Excel 打开加载项后没有 VBA 工程（它丢弃了预制的工程）")
        with s.step("运行加载项中的宏"):
            try:
                got = app.api.Run(f"'{built.name}'!{xlam.CALLBACK_MODULE}.CallbacksVersion")
            except Exception as exc:  # noqa: BLE001 —— 宏不能运行：策略禁止，还是工程不能用？
                blocked = [c for c in check_vba_policies(env) if c.status == FAIL]
                if blocked:
                    raise ExcelStepError("运行加载项中的宏", f"{com_message(exc)}；{blocked[0].detail}",
                                         blocked[0].remedy) from None
                raise _PrebuiltRejected(f"Excel 不能运行预制工程中的宏（{com_message(exc)}）") from None
        if str(got) != shipped:
            raise _PrebuiltRejected(f"预制工程中的回调模块版本为 {got!r}，应为 {shipped}")
        with s.step("核对 Excel 启动文件夹"):
            startup = app.api.StartupPath
        if startup and Path(str(startup)).resolve() != xlstart.resolve() \
                and str(startup).rstrip("\\/").lower() != str(xlstart).rstrip("\\/").lower():
            notes.append(f"注意：Excel 的启动文件夹是 {startup}，与安装位置 {xlstart} 不同——如 Excel 启动后没有“绩效评价”"
                         f"选项卡，请运行 jixiao addin install --xlstart \"{startup}\"")

    env.excel_runner().run(job)
    notes.insert(0, "已在隐藏的 Excel 中打开加载项：VBA 工程可用，回调模块可以运行")
    return notes


def com_import(env: Env, tmpdir: Path, settings: dict[str, Any],
               read_modules: Callable[[Path], dict[str, str]]) -> Path:
    """备用路线：由模板的原始 VBA 工程出发，在隐藏的 Excel 中经 COM 导入模块与单元格函数，保存后放上功能区。"""
    from udfs.excel import CATALOG

    from . import vba_modules

    built = xlam.build_xlam(tmpdir / xlam.ADDIN_NAME, vba=xlam.TEMPLATE_VBA, **settings)
    files = []
    for f in xlam.VBA_FILES:
        t = tmpdir / f.name
        t.write_bytes(xlam.vba_text_for_import(f))
        files.append(t)
    functions = tmpdir / f"{vba_modules.FUNCTIONS_MODULE}.bas"
    functions.write_bytes(vba_modules.functions_module_source().encode("ascii"))
    files.append(functions)
    this_code = vba_modules.crlf(vba_modules.THISWORKBOOK_CODE.read_text(encoding="ascii"))

    def job(s) -> None:
        app = s.app
        with s.step("关闭事件（不运行加载项的 Workbook_Open）"):
            app.api.EnableEvents = False
        with s.step("打开加载项"):
            book = app.books.open(str(built))
        with s.step("访问 VBA 工程", "Excel 拒绝访问加载项的 VBA 工程。" + TRUST_HELP):
            components = book.api.VBProject.VBComponents
            _ = components.Count
        for f in files:
            with s.step(f"导入 {f.name}"):
                try:
                    components.Remove(components.Item(f.stem))
                except Exception:  # noqa: BLE001 —— 首次导入时不存在
                    pass
                components.Import(str(f))
        with s.step("写入 ThisWorkbook 的 Workbook_Open"):
            components.Item("ThisWorkbook").CodeModule.AddFromString(this_code)
        with s.step("删去模板的示例模块 RibbonMyAddin"):
            try:
                components.Remove(components.Item("RibbonMyAddin"))
            except Exception:  # noqa: BLE001 —— 不影响使用
                pass
        # MacroOptions 对隐藏的工作簿（加载项）报“不能编辑隐藏工作簿中的宏”：导入期间暂时取消 IsAddin
        with s.step("生成单元格函数（xlwings import_udfs，含 MacroOptions 说明）"):
            book.api.IsAddin = False
            env.import_udfs(xlam.UDF_MODULES, book.api)
            book.api.IsAddin = True
        with s.step("保存加载项", "请确认临时文件夹可写、磁盘未满后重试"):
            book.save()

    env.excel_runner().run(job)
    xlam.add_ribbon(built)
    modules = read_modules(built)
    missing = [m for m in (xlam.CALLBACK_MODULE, xlam.EVENTS_MODULE, xlam.FUNCTIONS_MODULE) if m not in modules]
    if missing:
        raise InstallError(f"VBA 模块 {'、'.join(missing)} 未能导入加载项。" + TRUST_HELP)
    lost = [s.name for s in CATALOG if s.name.upper() not in xlam.imported_udfs(modules)]
    if lost:
        raise InstallError(f"有 {len(lost)} 个单元格函数未能导入（{'、'.join(lost[:5])}…）。" + TRUST_HELP)
    return built


def install(env: Env, *, skip_xlwings_addin: bool = False, com_import_route: bool = False, verify: bool = True,
            read_modules: Callable[[Path], dict[str, str]] | None = None) -> list[str]:
    """安装（见模块说明）。返回完成的步骤说明；失败时抛出 InstallError（Excel 中的失败带步骤名与处理办法）。"""
    from udfs.excel import CATALOG

    read_modules = read_modules or xlam.read_vba_modules
    if not env.windows:
        raise InstallError(NOT_WINDOWS.format(system=env.system_name()))
    preflight(env)
    pkg = xlam.xlwings_version()
    done: list[str] = []
    xlstart = env.default_xlstart()
    if xlstart is None:
        raise InstallError("无法确定 Excel 启动文件夹（XLSTART）：环境变量 APPDATA 未设置，请用 --xlstart 指定")
    try:
        xlstart.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise InstallError(f"无法创建 Excel 启动文件夹 {xlstart}：{exc}") from None

    # xlwings 自己的加载项：缺失或版本不一致时（重新）安装
    if not skip_xlwings_addin:
        xw_addin = xlstart / XLWINGS_ADDIN
        v = _safe_version(read_modules, xw_addin) if xw_addin.is_file() else None
        if v != pkg:
            rc = env.run_xlwings(["addin", "install"])
            if rc != 0 or _safe_version(read_modules, xw_addin) != pkg:
                raise InstallError(f"xlwings addin install 未成功（退出码 {rc}）：请先退出 Excel，再手工运行 "
                                   "xlwings addin install 后重试（或加 --skip-xlwings-addin 跳过，本加载项不依赖它）")
            done.append(f"已安装 xlwings 加载项 {pkg}" + (f"（替换了版本 {v}）" if v else ""))
        else:
            done.append(f"xlwings 加载项 {pkg} 已安装，版本一致")

    settings, note = interpreter_settings(env)
    with tempfile.TemporaryDirectory(prefix="jixiao-addin-") as tmp:
        tmpdir = Path(tmp)
        if com_import_route:
            try:
                built = com_import(env, tmpdir, settings, read_modules)
            except ExcelStepError as exc:
                raise InstallError("经 COM 导入未能完成。" + exc.message) from None
            done.append(f"已经 COM 导入功能区回调与 {len(CATALOG)} 个单元格函数（{note}）")
        else:
            built = xlam.build_xlam(tmpdir / xlam.ADDIN_NAME, **settings)
            problems = xlam.verify_vba(built)
            if problems:
                raise InstallError("生成的加载项 VBA 工程读回后与应有的不一致：" + "；".join(problems) + "。请把本消息发给技术支持。")
            done.append(f"已生成加载项：VBA 工程含回调、事件与 {len(CATALOG)} 个单元格函数（预制，不需要“信任对 VBA 工程对象"
                        f"模型的访问”）；{note}")
            if verify and env.start_excel is not None:
                try:
                    done += verify_in_excel(env, built, xlstart)
                except _PrebuiltRejected as exc:
                    done.append(f"Excel 未接受预制的 VBA 工程（{exc}），自动改用经 COM 导入的方式")
                    com_dir = tmpdir / "com"
                    com_dir.mkdir()
                    try:
                        built = com_import(env, com_dir, settings, read_modules)
                    except ExcelStepError as exc2:
                        raise InstallError(f"Excel 未接受预制的 VBA 工程（{exc}）；备用的经 COM 导入也未能完成。" + exc2.message) from None
                    done.append(f"已经 COM 导入功能区回调与 {len(CATALOG)} 个单元格函数")
                except ExcelStepError as exc:
                    raise InstallError("在 Excel 中检查加载项未能完成。" + exc.message
                                       + "\n（如需跳过这一检查直接安装，可加 --no-verify，之后用 jixiao addin doctor 诊断。）") from None
            elif verify:
                done.append("没有可用的 Excel，跳过在 Excel 中的检查")
        target = xlstart / xlam.ADDIN_NAME
        try:
            # 先写同目录临时文件再替换：复制中断不会在 XLSTART 留下 Excel 启动时打不开的半个 .xlam
            with safeio.atomic_output(target) as out:
                shutil.copyfile(built, out)
        except BookError:
            raise InstallError(f"无法写入 {target}：Excel 正在使用旧的加载项，请完全退出 Excel（任务管理器中没有 "
                               "EXCEL.EXE）后重试") from None
        done.append(f"已安装绩效评价加载项：{target}")

    conda = settings.get("conda")
    values: dict[str, str | None] = ({"CONDA PATH": conda[0], "CONDA ENV": conda[1], "INTERPRETER_WIN": None} if conda
                                     else {"INTERPRETER_WIN": settings["interpreter"]})
    values["UDF MODULES"] = xlam.UDF_MODULES
    try:
        changes = update_conf(env.xlwings_conf, values, env.conf_encoding)
        done.append(f"已更新 {env.xlwings_conf}：" + "；".join(changes) if changes else f"{env.xlwings_conf} 无需修改")
    except InstallError as exc:
        done.append(str(exc))
    done.append("完成。请重新启动 Excel：功能区将出现“绩效评价”选项卡，单元格中可使用 BUDGET_COMPLETION 等函数。"
                "运行 jixiao addin doctor 可在 Excel 中逐项验证。")
    return done


def uninstall(env: Env, *, remove_xlwings_addin: bool = False) -> list[str]:
    if not env.windows:
        raise InstallError(NOT_WINDOWS.format(system=env.system_name()))
    xlstart = env.default_xlstart()
    if xlstart is None:
        raise InstallError("无法确定 Excel 启动文件夹（XLSTART）：环境变量 APPDATA 未设置，请用 --xlstart 指定")
    done = []
    target = xlstart / xlam.ADDIN_NAME
    if target.is_file():
        try:
            target.unlink()
        except OSError:
            raise InstallError(f"无法删除 {target}：请先完全退出 Excel 后重试") from None
        done.append(f"已删除 {target}")
    else:
        done.append(f"绩效评价加载项未安装（{target} 不存在）")
    if remove_xlwings_addin:
        rc = env.run_xlwings(["addin", "remove"])
        done.append("已运行 xlwings addin remove" if rc == 0 else f"xlwings addin remove 未成功（退出码 {rc}）")
    else:
        done.append("xlwings 加载项与 xlwings.conf 保留未动（其他 xlwings 工具可能在用）；"
                    "如需一并删除请加 --all，或运行 xlwings addin remove")
    done.append("已用本加载项函数的工作簿在未安装时会显示 #NAME? 或旧路径；发给他人前请用“导出定稿”。")
    return done


# =====================================================================================================
# 命令行：任何错误都以中文消息与退出码 2 结束，不显示 Python 回溯（回溯写入 %TEMP%\jixiao-addin.log）
# =====================================================================================================
def log_path() -> Path:
    return Path(tempfile.gettempdir()) / "jixiao-addin.log"


def _guarded(name: str, fn: Callable[[Any], int]) -> Callable[[Any], int]:
    def run(args: Any) -> int:
        try:
            return fn(args)
        except (CliError, SystemExit, KeyboardInterrupt):
            raise
        except Exception as exc:  # noqa: BLE001 —— 任何错误都以中文消息结束
            if isinstance(exc, (InstallError, ExcelStepError)):
                print(f"jixiao：{exc}", file=sys.stderr)
                return EXIT_UNREADABLE
            if isinstance(exc, OSError):
                print(f"jixiao：jixiao addin {name} 未能完成：{exc.strerror or exc}"
                      + (f"（{exc.filename}）" if exc.filename else "") + "。请检查文件夹权限与磁盘空间后重试。", file=sys.stderr)
                return EXIT_UNREADABLE
            path = log_path()
            try:
                with open(path, "a", encoding="utf-8") as fh:
                    fh.write(f"==== {_dt.datetime.now().isoformat(timespec='seconds')} jixiao addin {name}\n")
                    fh.write("".join(traceback.format_exception(type(exc), exc, exc.__traceback__)))
            except OSError:
                pass
            print(f"jixiao：jixiao addin {name} 未能完成：内部错误（{type(exc).__name__}：{exc}）。"
                  f"详细信息已写入 {path}，请把该文件发给技术支持。", file=sys.stderr)
            return EXIT_UNREADABLE

    return run


def cmd_build(args) -> int:
    try:
        path = xlam.build_xlam(args.output, interpreter=args.interpreter)
    except xlam.XlamError as exc:
        raise CliError(str(exc)) from None
    info = xlam.inspect_xlam(path)
    modules = xlam.read_vba_modules(path)
    print(f"已生成 {path}（{path.stat().st_size // 1024} KB）")
    print(f"  基于 xlwings {xlam.xlwings_version()} 的功能区加载项模板；功能区：{info.ribbon_part}；"
          f"配置表 {info.conf_sheet}：" + "；".join(f"{k} = {v}" for k, v in info.conf.items()))
    print(f"  VBA 工程：{'、'.join(modules)}（单元格函数 {len(xlam.imported_udfs(modules))} 个）")
    print("  在 Windows 上用 jixiao addin install 安装（写入本机的 Python 路径）；不需要“信任对 VBA 工程对象模型的访问”。")
    return EXIT_OK


def _env_from_args(args) -> Env:
    env = Env.current()
    if getattr(args, "xlstart", None):
        env.xlstart = Path(args.xlstart)
    if getattr(args, "timeout", None):
        env.timeout = float(args.timeout)
    return env


def cmd_install(args, env: Env | None = None) -> int:
    env = env or _env_from_args(args)
    try:
        for line in install(env, skip_xlwings_addin=args.skip_xlwings_addin, com_import_route=args.com_import,
                            verify=not args.no_verify):
            print(line)
    except InstallError as exc:
        print(f"jixiao：{exc}", file=sys.stderr)
        return EXIT_UNREADABLE
    lines, ok = status_lines(env)
    print("\n安装后检查：")
    for line in lines:
        print("  " + line)
    return EXIT_OK if ok else EXIT_FINDINGS


def cmd_uninstall(args, env: Env | None = None) -> int:
    try:
        for line in uninstall(env or _env_from_args(args), remove_xlwings_addin=args.all):
            print(line)
    except InstallError as exc:
        print(f"jixiao：{exc}", file=sys.stderr)
        return EXIT_UNREADABLE
    return EXIT_OK


def cmd_status(args, env: Env | None = None) -> int:
    env = env or _env_from_args(args)
    lines, ok = status_lines(env)
    print("绩效评价加载项状态：")
    for line in lines:
        print("  " + line)
    if not env.windows:
        print(NOT_WINDOWS.format(system=env.system_name()), file=sys.stderr)
        return EXIT_UNREADABLE
    return EXIT_OK if ok else EXIT_FINDINGS


def cmd_doctor(args, env: Env | None = None) -> int:
    from .doctor import FAIL, render, run_doctor, to_json

    env = env or _env_from_args(args)
    checks = run_doctor(env, with_excel=not args.no_excel)
    if args.json:
        print(to_json(checks, env))
    else:
        print("绩效评价加载项诊断：")
        print(render(checks))
    return EXIT_UNREADABLE if any(c.status == FAIL for c in checks) else EXIT_OK


def cmd_export(args) -> int:
    from ..io.book import BookError
    from ..io.safeio import open_book
    from .export import ExportError, export_final

    try:
        book = open_book(args.file, with_cached=True)
        result = export_final(book, args.output)
    except (BookError, ExportError) as exc:
        raise CliError(str(exc)) from None
    print(result.message())
    return EXIT_OK


def register(subparsers: Any) -> None:
    p = subparsers.add_parser("addin", help="Excel 加载项：构建 jixiao.xlam、在 Windows 上安装/卸载/检查/诊断",
                              description="Excel 加载项（功能区“绩效评价”与单元格函数）。install/uninstall/doctor 只能在 "
                                          "Windows 上运行；build 与 status 在任何系统上都可运行。")
    sub = p.add_subparsers(dest="addin_command", required=True)
    b = sub.add_parser("build", help="生成完整的 jixiao.xlam（含全部 VBA 模块；任何系统）")
    b.add_argument("-o", "--output", default="dist", help="输出目录或 .xlam 文件路径（默认 dist/）")
    b.add_argument("--interpreter", help="写入加载项配置表的 Python 解释器（Interpreter_Win），默认不写")
    b.set_defaults(func=_guarded("build", cmd_build))
    i = sub.add_parser("install", help="在 Windows 上安装加载项（复制预制的 jixiao.xlam 到 Excel 启动文件夹并写配置）")
    i.add_argument("--skip-xlwings-addin", action="store_true", help="不检查/安装 xlwings 自己的加载项")
    i.add_argument("--xlstart", help="指定 Excel 启动文件夹（默认 %%APPDATA%%\\Microsoft\\Excel\\XLSTART）")
    i.add_argument("--com-import", action="store_true",
                   help="备用方式：在 Excel 中经 COM 导入 VBA 模块（需要“信任对 VBA 工程对象模型的访问”）")
    i.add_argument("--no-verify", action="store_true", help="不在隐藏的 Excel 中检查预制的 VBA 工程")
    i.add_argument("--timeout", type=float, help="隐藏 Excel 中每次操作的时限（秒，默认 120）")
    i.set_defaults(func=_guarded("install", cmd_install))
    u = sub.add_parser("uninstall", help="从 Excel 启动文件夹删除 jixiao.xlam")
    u.add_argument("--all", action="store_true", help="同时运行 xlwings addin remove")
    u.add_argument("--xlstart", help="指定 Excel 启动文件夹")
    u.set_defaults(func=_guarded("uninstall", cmd_uninstall))
    s = sub.add_parser("status", help="检查安装状态：xlwings 包/加载项 VBA/DLL 版本是否一致、加载项文件与配置（不启动 Excel）")
    s.add_argument("--xlstart", help="指定 Excel 启动文件夹")
    s.set_defaults(func=_guarded("status", cmd_status))
    d = sub.add_parser("doctor", help="在 Windows 上逐项诊断：位数、DLL、版本、策略、Defender 规则、安全软件、在 Excel 中调用")
    d.add_argument("--json", action="store_true", help="以 JSON 输出（给 IT 人员）")
    d.add_argument("--no-excel", action="store_true", help="不启动 Excel，只做注册表与文件检查")
    d.add_argument("--xlstart", help="指定 Excel 启动文件夹")
    d.add_argument("--timeout", type=float, help="隐藏 Excel 中每次操作的时限（秒，默认 120）")
    d.set_defaults(func=_guarded("doctor", cmd_doctor))

    e = subparsers.add_parser("export", help="导出定稿：单元格函数换成计算结果的副本（发给未安装加载项的人）",
                              description="在原文件旁生成“文件名_定稿.xlsx”：调用本加载项函数的公式换成计算结果，"
                                          "其余内容逐字节不变；原文件不改动。")
    e.add_argument("file", help="工作簿 .xlsx")
    e.add_argument("-o", "--output", help="输出文件（默认：原文件名_定稿.xlsx）")
    e.set_defaults(func=cmd_export)
