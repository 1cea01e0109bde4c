"""jixiao addin build | install | uninstall | status | doctor：构建与安装 Excel 加载项（实际工作在 addin/excel/）。

任何错误都以中文消息与退出码 2 结束，不显示 Python 回溯（回溯写入 %TEMP%\\jixiao-addin.log）。
"""
from __future__ import annotations

import sys
import tempfile
from pathlib import Path
from typing import Any, Callable

from ..excel.env import NOT_WINDOWS, Env, InstallError, append_traceback
from ..excel.excel_session import ExcelStepError
from ..excel.install import install, status_lines, uninstall, xlam
from .common import EXIT_FINDINGS, EXIT_OK, EXIT_UNREADABLE, CliError


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
            path = append_traceback(log_path(), f"jixiao addin {name}", exc)
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
    from ..excel.doctor import FAIL, render, run_doctor, to_json

    env = env or _env_from_args(args)
    checks = run_doctor(env, with_excel=not args.no_excel)
    if args.json:
        print(to_json(checks, env))
    else:
        print("绩效评价加载项诊断：")
        print(render(checks))
    return EXIT_UNREADABLE if any(c.status == FAIL for c in checks) else EXIT_OK


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
