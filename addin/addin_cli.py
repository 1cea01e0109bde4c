"""jixiao addin build | install | uninstall | status，以及 jixiao export（导出定稿）。由 addin.cli 自动注册。

安装（仅 Windows，需要 Excel）分这几步，每步失败都给出中文说明与处理办法：
1. 核对 xlwings：包版本、随包模板的 VBA 版本、xlwings64-版本.dll 是否在解释器目录（单元格函数要加载它）。
2. xlwings 自己的加载项：XLSTART 中没有、或其 VBA 版本与 xlwings 包不同，则运行 ``xlwings addin install``。
3. 由模板构建 jixiao.xlam（配置表写入 Interpreter_Win = 当前解释器、UDF Modules = udfs.xl）。
4. 用 Excel 打开它（隐藏窗口），导入 addin/vba/ 下的按钮回调模块与事件类，并用 xlwings 的 import_udfs 把
   udfs.xl 中的单元格函数生成为加载项里的 VBA 函数（含中文说明），保存。这一步需要 Excel 选项
   “信任对 VBA 工程对象模型的访问”（与 xlwings 的“Import Functions”要求相同）。
5. 离线读回 VBA 核对模块与函数都已导入，再复制到 Excel 的启动文件夹 XLSTART（该文件夹默认是受信任位置，
   加载项中的宏无需再启用）。
6. 在 %USERPROFILE%\\.xlwings\\xlwings.conf 写入 INTERPRETER_WIN 与 UDF MODULES（供 xlwings 自己的加载项使用）。

为何用导入 VBA 模块而不是“不改 VBA”的方案：模板的回调 RunMain 不把按下的是哪个按钮传给 Python，五个按钮无法区分；
而导入单元格函数本来就要求“信任对 VBA 工程对象模型的访问”，多导入一个回调模块不增加任何设置；
工作簿打开时自动改链（KB 817578）也只能由 VBA 的应用程序事件完成。

所有与 Windows/Excel 相关的操作都通过 Env 注入（平台、路径、解释器、Excel 自动化、xlwings 命令），测试在 Linux 上
用临时目录与替身覆盖安装、卸载、状态检查的每条分支。
"""
from __future__ import annotations

import locale
import os
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Protocol

from . import safeio
from .book import BookError
from .cli import EXIT_FINDINGS, EXIT_OK, EXIT_UNREADABLE, CliError


class _LazyXlam:
    """addin.xlam 只在 addin 子命令真正运行时导入：jixiao score/check/report 每次启动都要注册全部子命令，
    而 xlam 连带导入 xml.sax.saxutils → urllib.request，白白多出约 70 ms 冷启动。"""

    def __getattr__(self, name: str):
        from . import xlam as module

        return getattr(module, name)


xlam = _LazyXlam()

XLWINGS_ADDIN = "xlwings.xlam"
CONF_KEYS = ("INTERPRETER_WIN", "UDF MODULES")

NOT_WINDOWS = (
    "当前系统是 {system}。Excel 加载项（功能区按钮与单元格函数）只能安装在 Windows 版 Excel 中："
    "xlwings 的经典单元格函数只支持 Windows，macOS 版 Excel 不支持，Linux 没有 Excel。\n"
    "在本系统上可以：\n"
    "  jixiao addin build -o dist/    生成 jixiao.xlam（安装仍需在 Windows 上运行 jixiao addin install）\n"
    "  jixiao score / check / report / export    不需要 Excel，直接处理 .xlsx 工作簿（与功能区按钮同一套逻辑）\n"
    "不能：安装加载项、导入单元格函数、在 Excel 中使用“绩效评价”选项卡。"
)
TRUST_HELP = ("请在 Excel 中依次点击“文件 → 选项 → 信任中心 → 信任中心设置 → 宏设置”，勾选"
              "“信任对 VBA 工程对象模型的访问”，确定后关闭 Excel，再运行 jixiao addin install。")


class InstallError(Exception):
    """安装无法继续（中文说明与处理办法）。"""


class ExcelAutomation(Protocol):
    def startup_path(self) -> Path | None: ...

    def prepare_addin(self, xlam_path: Path, vba_files: list[Path], udf_module: str) -> None: ...


class WindowsExcel:
    """真实的 Excel 自动化（xlwings + COM）。只在 Windows 上使用。"""

    def startup_path(self) -> Path | None:
        import xlwings as xw

        try:
            if xw.apps.count:
                return Path(xw.apps.active.startup_path)
            with xw.App(visible=False, add_book=False) as app:
                return Path(app.startup_path)
        except Exception:  # noqa: BLE001 —— 拿不到就用默认路径
            return None

    def prepare_addin(self, xlam_path: Path, vba_files: list[Path], udf_module: str) -> None:
        import xlwings as xw
        from xlwings.udfs import import_udfs

        try:
            app = xw.App(visible=False, add_book=False)
        except Exception as exc:  # noqa: BLE001
            raise InstallError(f"无法启动 Excel（{type(exc).__name__}）：请确认已安装桌面版 Microsoft Excel") from None
        try:
            app.display_alerts = False
            book = app.books.open(str(xlam_path))
            try:
                components = book.api.VBProject.VBComponents
                _ = components.Count
            except Exception:  # noqa: BLE001 —— 未信任时 COM 拒绝访问 VBProject
                raise InstallError("Excel 拒绝访问加载项的 VBA 工程。" + TRUST_HELP) from None
            for f in vba_files:
                name = f.stem
                try:
                    components.Remove(components.Item(name))
                except Exception:  # noqa: BLE001 —— 首次导入时不存在
                    pass
                components.Import(str(f))
            import_udfs(udf_module, book.api)
            book.save()
        finally:
            try:
                app.quit()
            except Exception:  # noqa: BLE001
                pass


def _run_xlwings(args: list[str]) -> int:
    """运行 xlwings 命令行（与用户手工输入 ``xlwings addin install`` 相同）。"""
    return subprocess.call([sys.executable, "-m", "xlwings.cli", *args])


@dataclass
class Env:
    """安装所处的环境；测试注入临时目录与替身。"""

    platform: str
    executable: Path
    prefix: Path
    home: Path
    appdata: Path | None
    xlstart: Path | None = None  # 明确指定的 XLSTART（否则问 Excel，再否则用 %APPDATA% 下的默认位置）
    excel: ExcelAutomation | None = None
    run_xlwings: Callable[[list[str]], int] = _run_xlwings
    conf_encoding: str = field(default_factory=lambda: "mbcs" if sys.platform.startswith("win")
                               else locale.getpreferredencoding(False))
    out: Callable[[str], None] = print

    @classmethod
    def current(cls) -> "Env":
        appdata = os.environ.get("APPDATA")
        return cls(platform=sys.platform, executable=Path(sys.executable), prefix=Path(sys.prefix), home=Path.home(),
                   appdata=Path(appdata) if appdata else None,
                   excel=WindowsExcel() if sys.platform.startswith("win") else None)

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


def update_conf(path: Path, values: dict[str, str], encoding: str) -> list[str]:
    """合并写入 xlwings.conf：只改给定的键，其余行原样保留；值有变化时先备份原文件。返回变化说明。"""
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
            if key not in done:
                out.append(f'"{key}","{values[key]}"')
                done.add(key)
            continue
        out.append(line)
    for key, v in values.items():
        if key not in done:
            out.append(f'"{key}","{v}"')
        if old.get(key) != v:
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
def find_dll(env: Env, version: str) -> Path | None:
    """xlwings 的 DLL：与 VBA 的查找顺序相同——解释器所在目录，其次上一级（虚拟环境）。"""
    for d in (env.executable.parent, env.executable.parent.parent, env.prefix):
        for bits in ("64", "32"):
            p = d / f"xlwings{bits}-{version}.dll"
            if p.is_file():
                return p
    return None


def status_lines(env: Env, read_modules: Callable[[Path], dict[str, str]] | None = None
                 ) -> tuple[list[str], bool]:
    """安装状态（中文，每项一行）与是否一切正常。"""
    from udfs.excel import CATALOG

    read_modules = read_modules or xlam.read_vba_modules

    lines: list[str] = []
    ok = True
    try:
        pkg = xlam.xlwings_version()
        lines.append(f"xlwings 包版本：{pkg}")
    except Exception:  # noqa: BLE001
        return ["没有安装 xlwings：请运行 pip install jixiao（会一并安装 xlwings）"], False
    tpl_version = xlam.vba_xlwings_version(read_modules(xlam.template_path()))
    if tpl_version != pkg:
        ok = False
        lines.append(f"xlwings 随包模板的 VBA 版本为 {tpl_version}，与包版本 {pkg} 不一致：xlwings 安装不完整，"
                     f"请运行 pip install --force-reinstall xlwings=={pkg}")
    if not env.windows:
        lines.append(f"平台：{env.system_name()}（加载项只能安装在 Windows 版 Excel 中）")
        return lines, False
    dll = find_dll(env, pkg)
    if dll:
        lines.append(f"xlwings 动态库：{dll}")
    else:
        ok = False
        lines.append(f"找不到 xlwings64-{pkg}.dll（应在 {env.executable.parent} 或其上一级）：单元格函数将无法计算。"
                     f"请运行 pip install --force-reinstall xlwings=={pkg}")
    xlstart = env.default_xlstart()
    if xlstart is None:
        return lines + ["无法确定 Excel 启动文件夹（XLSTART）：环境变量 APPDATA 未设置"], False
    # xlwings 自己的加载项
    xw_addin = xlstart / XLWINGS_ADDIN
    if xw_addin.is_file():
        v = _safe_version(read_modules, xw_addin)
        if v == pkg:
            lines.append(f"xlwings 加载项：已安装（{xw_addin}），VBA 版本 {v}，与 xlwings 包一致")
        else:
            ok = False
            lines.append(f"xlwings 加载项：VBA 版本 {v or '未知'} 与 xlwings 包 {pkg} 不一致——请运行 xlwings addin install")
    else:
        lines.append(f"xlwings 加载项：未安装（不影响本加载项；jixiao addin install 会一并安装）")
    # 本加载项
    addin = xlstart / xlam.ADDIN_NAME
    if not addin.is_file():
        return lines + [f"绩效评价加载项：未安装（应在 {addin}）——请运行 jixiao addin install"], False
    lines.append(f"绩效评价加载项：已安装（{addin}）")
    try:
        modules = read_modules(addin)
    except xlam.XlamError as exc:
        return lines + [f"  无法读取加载项的 VBA：{exc}——请重新运行 jixiao addin install"], False
    v = xlam.vba_xlwings_version(modules)
    if v == pkg:
        lines.append(f"  VBA 中的 xlwings 版本 {v}，与 xlwings 包一致")
    else:
        ok = False
        lines.append(f"  VBA 中的 xlwings 版本 {v or '未知'} 与 xlwings 包 {pkg} 不一致（升级过 xlwings？）："
                     "单元格函数会报“找不到 xlwings64-….dll”——请重新运行 jixiao addin install")
    cb = modules.get(xlam.CALLBACK_MODULE)
    shipped = xlam.shipped_callbacks_version()
    if cb is None:
        ok = False
        lines.append(f"  功能区回调模块 {xlam.CALLBACK_MODULE}：未导入，按钮无法使用——请重新运行 jixiao addin install")
    elif xlam.callbacks_version(cb) != shipped:
        ok = False
        lines.append(f"  功能区回调模块版本 {xlam.callbacks_version(cb)}，本程序为 {shipped}——请重新运行 jixiao addin install")
    else:
        lines.append(f"  功能区回调模块：已导入（版本 {shipped}）")
    if xlam.EVENTS_MODULE not in modules:
        ok = False
        lines.append(f"  事件模块 {xlam.EVENTS_MODULE}：未导入，打开别人发来的工作簿时不会自动改链")
    imported = xlam.imported_udfs(modules)
    names = [s.name for s in CATALOG]
    missing = [n for n in names if n.upper() not in imported]
    if not imported:
        ok = False
        lines.append("  单元格函数：未导入——请重新运行 jixiao addin install")
    elif missing:
        ok = False
        lines.append(f"  单元格函数：缺少 {len(missing)} 个（{'、'.join(missing[:6])}{'…' if len(missing) > 6 else ''}）"
                     "——本程序升级后需重新运行 jixiao addin install")
    else:
        lines.append(f"  单元格函数：已导入全部 {len(names)} 个")
    conf = xlam.inspect_xlam(addin).conf
    interp = conf.get("Interpreter_Win", "")
    if interp and not Path(interp).is_file():
        ok = False
        lines.append(f"  配置的 Python 解释器不存在：{interp}——请在要使用的 Python 中重新运行 jixiao addin install")
    elif interp:
        same = Path(interp) == env.executable
        lines.append(f"  Python 解释器：{interp}" + ("" if same else f"（当前运行的是 {env.executable}）"))
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
def install(env: Env, *, skip_xlwings_addin: bool = False,
            read_modules: Callable[[Path], dict[str, str]] | None = None) -> list[str]:
    """安装（见模块说明）。返回完成的步骤说明；失败时抛出 InstallError。"""
    from udfs.excel import CATALOG

    read_modules = read_modules or xlam.read_vba_modules

    if not env.windows:
        raise InstallError(NOT_WINDOWS.format(system=env.system_name()))
    if env.excel is None:
        raise InstallError("没有可用的 Excel 自动化接口")
    done: list[str] = []
    pkg = xlam.xlwings_version()
    tpl = xlam.vba_xlwings_version(read_modules(xlam.template_path()))
    if tpl != pkg:
        raise InstallError(f"xlwings 随包模板的 VBA 版本 {tpl} 与包版本 {pkg} 不一致：请运行 "
                           f"pip install --force-reinstall xlwings=={pkg} 后重试")
    if find_dll(env, pkg) is None:
        raise InstallError(f"找不到 xlwings64-{pkg}.dll（应在 {env.executable.parent}）：请运行 "
                           f"pip install --force-reinstall xlwings=={pkg} 后重试")
    xlstart = env.xlstart or env.excel.startup_path() or env.default_xlstart()
    if xlstart is None:
        raise InstallError("无法确定 Excel 启动文件夹（XLSTART）")
    xlstart.mkdir(parents=True, exist_ok=True)

    # xlwings 自己的加载项：缺失或版本不一致时（重新）安装
    if not skip_xlwings_addin:
        xw_addin = xlstart / XLWINGS_ADDIN
        v = _safe_version(read_modules, xw_addin) if xw_addin.is_file() else None
        if v != pkg:
            rc = env.run_xlwings(["addin", "install"])
            if rc != 0 or _safe_version(read_modules, xw_addin) != pkg:
                raise InstallError(f"xlwings addin install 未成功（退出码 {rc}）：请先退出 Excel，再手工运行 "
                                   "xlwings addin install 后重试")
            done.append(f"已安装 xlwings 加载项 {pkg}" + (f"（替换了版本 {v}）" if v else ""))
        else:
            done.append(f"xlwings 加载项 {pkg} 已安装，版本一致")

    with tempfile.TemporaryDirectory(prefix="jixiao-addin-") as tmp:
        tmpdir = Path(tmp)
        built = xlam.build_xlam(tmpdir / xlam.ADDIN_NAME, interpreter=str(env.executable))
        vba_files = []
        for f in xlam.VBA_FILES:
            t = tmpdir / f.name
            t.write_bytes(xlam.vba_text_for_import(f))
            vba_files.append(t)
        env.excel.prepare_addin(built, vba_files, xlam.UDF_MODULES)
        modules = read_modules(built)
        missing = [m for m in (xlam.CALLBACK_MODULE, xlam.EVENTS_MODULE) if m not in modules]
        if missing:
            raise InstallError(f"VBA 模块 {'、'.join(missing)} 未能导入加载项。" + TRUST_HELP)
        lost = [s.name for s in CATALOG if s.name.upper() not in xlam.imported_udfs(modules)]
        if lost:
            raise InstallError(f"有 {len(lost)} 个单元格函数未能导入（{'、'.join(lost[:5])}…）。" + TRUST_HELP)
        done.append(f"已导入功能区回调与 {len(CATALOG)} 个单元格函数")
        target = xlstart / xlam.ADDIN_NAME
        try:
            # 先写同目录临时文件再替换：复制中断不会在 XLSTART 留下 Excel 启动时打不开的半个 .xlam
            with safeio.atomic_output(target) as tmp:
                shutil.copyfile(built, tmp)
        except BookError:
            raise InstallError(f"无法写入 {target}：Excel 正在使用旧的加载项，请完全退出 Excel（任务管理器中没有 "
                               "EXCEL.EXE）后重试") from None
        done.append(f"已安装绩效评价加载项：{target}")

    try:
        changes = update_conf(env.xlwings_conf, {"INTERPRETER_WIN": str(env.executable),
                                                 "UDF MODULES": xlam.UDF_MODULES}, env.conf_encoding)
        done.append(f"已更新 {env.xlwings_conf}：" + "；".join(changes) if changes else f"{env.xlwings_conf} 无需修改")
    except InstallError as exc:
        done.append(str(exc))
    done.append("完成。请重新启动 Excel：功能区将出现“绩效评价”选项卡，单元格中可使用 BUDGET_COMPLETION 等函数。")
    return done


def uninstall(env: Env, *, remove_xlwings_addin: bool = False) -> list[str]:
    if not env.windows:
        raise InstallError(NOT_WINDOWS.format(system=env.system_name()))
    xlstart = env.xlstart or (env.excel.startup_path() if env.excel else None) or env.default_xlstart()
    if xlstart is None:
        raise InstallError("无法确定 Excel 启动文件夹（XLSTART）")
    done = []
    target = xlstart / xlam.ADDIN_NAME
    if target.is_file():
        try:
            target.unlink()
        except PermissionError:
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
# 命令行
# =====================================================================================================
def cmd_build(args) -> int:
    try:
        path = xlam.build_xlam(args.output, interpreter=args.interpreter)
    except xlam.XlamError as exc:
        raise CliError(str(exc)) from None
    info = xlam.inspect_xlam(path)
    print(f"已生成 {path}（{path.stat().st_size // 1024} KB）")
    print(f"  基于 xlwings {xlam.xlwings_version()} 的功能区加载项模板；功能区：{info.ribbon_part}；"
          f"配置表 {info.conf_sheet}：" + "；".join(f"{k} = {v}" for k, v in info.conf.items()))
    print("  回调模块与单元格函数在 Windows 上由 jixiao addin install 导入（需要 Excel）。")
    return EXIT_OK


def _env_from_args(args) -> Env:
    env = Env.current()
    if getattr(args, "xlstart", None):
        env.xlstart = Path(args.xlstart)
    return env


def cmd_install(args) -> int:
    env = _env_from_args(args)
    try:
        for line in install(env, skip_xlwings_addin=args.skip_xlwings_addin):
            print(line)
    except InstallError as exc:
        print(f"jixiao：{exc}", file=sys.stderr)
        return EXIT_UNREADABLE
    lines, ok = status_lines(env)
    print("\n安装后检查：")
    for line in lines:
        print("  " + line)
    return EXIT_OK if ok else EXIT_FINDINGS


def cmd_uninstall(args) -> int:
    try:
        for line in uninstall(_env_from_args(args), remove_xlwings_addin=args.all):
            print(line)
    except InstallError as exc:
        print(f"jixiao：{exc}", file=sys.stderr)
        return EXIT_UNREADABLE
    return EXIT_OK


def cmd_status(args) -> int:
    env = _env_from_args(args)
    lines, ok = status_lines(env)
    print("绩效评价加载项状态：")
    for line in lines:
        print("  " + line)
    if not env.windows:
        print(NOT_WINDOWS.format(system=env.system_name()), file=sys.stderr)
        return EXIT_UNREADABLE
    return EXIT_OK if ok else EXIT_FINDINGS


def cmd_export(args) -> int:
    from .book import BookError
    from .export import ExportError, export_final
    from .safeio import open_book

    try:
        book = open_book(args.file, with_cached=True)
        result = export_final(book, args.output)
    except (BookError, ExportError) as exc:
        raise CliError(str(exc)) from None
    print(result.message())
    return EXIT_OK


def register(subparsers: Any) -> None:
    p = subparsers.add_parser("addin", help="Excel 加载项：构建 jixiao.xlam、在 Windows 上安装/卸载/检查",
                              description="Excel 加载项（功能区“绩效评价”与单元格函数）。install/uninstall 只能在 "
                                          "Windows 上运行；build 与 status 在任何系统上都可运行。")
    sub = p.add_subparsers(dest="addin_command", required=True)
    b = sub.add_parser("build", help="由 xlwings 功能区加载项模板生成 jixiao.xlam（任何系统）")
    b.add_argument("-o", "--output", default="dist", help="输出目录或 .xlam 文件路径（默认 dist/）")
    b.add_argument("--interpreter", help="写入加载项配置表的 Python 解释器（Interpreter_Win），默认不写")
    b.set_defaults(func=cmd_build)
    i = sub.add_parser("install", help="在 Windows 上安装加载项（需要 Excel 与“信任对 VBA 工程对象模型的访问”）")
    i.add_argument("--skip-xlwings-addin", action="store_true", help="不检查/安装 xlwings 自己的加载项")
    i.add_argument("--xlstart", help="指定 Excel 启动文件夹（默认询问 Excel）")
    i.set_defaults(func=cmd_install)
    u = sub.add_parser("uninstall", help="从 Excel 启动文件夹删除 jixiao.xlam")
    u.add_argument("--all", action="store_true", help="同时运行 xlwings addin remove")
    u.add_argument("--xlstart", help="指定 Excel 启动文件夹")
    u.set_defaults(func=cmd_uninstall)
    s = sub.add_parser("status", help="检查安装状态：版本一致性、回调模块、单元格函数、解释器")
    s.add_argument("--xlstart", help="指定 Excel 启动文件夹")
    s.set_defaults(func=cmd_status)

    e = subparsers.add_parser("export", help="导出定稿：单元格函数换成计算结果的副本（发给未安装加载项的人）",
                              description="在原文件旁生成“文件名_定稿.xlsx”：调用本加载项函数的公式换成计算结果，"
                                          "其余内容逐字节不变；原文件不改动。")
    e.add_argument("file", help="工作簿 .xlsx")
    e.add_argument("-o", "--output", help="输出文件（默认：原文件名_定稿.xlsx）")
    e.set_defaults(func=cmd_export)
