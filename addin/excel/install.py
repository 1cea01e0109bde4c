"""安装、卸载与状态检查（jixiao addin install | uninstall | status；命令行在 addin/cli/addin.py）。

安装（仅 Windows）默认走“预制 VBA 工程”路线：``jixiao addin build`` 生成的 jixiao.xlam 已含全部 VBA 模块（按钮回调、
事件类、单元格函数包装、函数说明登记，见 addin/excel/vba_modules.py），安装只做这些事，每步失败都给出中文说明与处理办法：
1. 核对 xlwings：包版本等于本版要求的版本（XLWINGS_PIN）、随包模板的 VBA 版本、Python 位数、xlwings32/64-版本.dll。
2. xlwings 自己的加载项：XLSTART 中没有、或其 VBA 版本与 xlwings 包不同，则运行 ``xlwings addin install``。
3. 以当前解释器构建 jixiao.xlam（配置表 Interpreter_Win；Conda 环境写 Conda Path/Conda Env），离线读回 VBA 工程逐个
   模块核对。
4. 在隐藏的 Excel 中打开它（不运行 Workbook_Open），确认 Excel 接受这个 VBA 工程并能运行其中的宏。Excel 不接受时
   自动改走“经 COM 导入”的备用路线（需要“信任对 VBA 工程对象模型的访问”）：由模板的原始工程出发，用
   VBComponents.Import 导入模块、用 xlwings 的 import_udfs 生成单元格函数，保存后再放上功能区。
5. 复制到 Excel 的启动文件夹 XLSTART（默认是受信任位置，宏无需再启用；先写临时文件再替换）。
6. 在 %USERPROFILE%\\.xlwings\\xlwings.conf 写入解释器与 UDF MODULES（供 xlwings 自己的加载项使用）。

Excel 只在隐藏的、有时限的会话中使用（addin/excel/excel_session.py）：无论成败都会退出，卡住时按进程号结束。
所有与 Windows/Excel 相关的操作都通过 Env 注入（平台、路径、解释器、注册表、进程表、Excel），测试在 Linux 上用
临时目录、替身注册表与替身 Excel（tests/fake_xlwings.py）覆盖安装、诊断、卸载、状态检查的每条分支。
"""
from __future__ import annotations

import shutil
import tempfile
from pathlib import Path
from typing import Any, Callable

from ..io import safeio
from ..io.book import BookError
from .env import (
    CONF_KEYS,
    NOT_WINDOWS,
    XLWINGS_ADDIN,
    XLWINGS_PIN,
    Env,
    InstallError,
    find_dll,
    interpreter_settings,
    pip_fix,
    read_conf,
    update_conf,
)
from .excel_session import ExcelStepError


class _LazyXlam:
    """addin.excel.xlam 只在 addin 子命令真正运行时导入：jixiao score/check/report 每次启动都要注册全部子命令，
    而 xlam 连带导入 xml.sax.saxutils → urllib.request，白白多出约 70 ms 冷启动。"""

    def __getattr__(self, name: str):
        from . import xlam as module

        return getattr(module, name)


xlam = _LazyXlam()
TRUST_HELP = ("请在 Excel 中依次点击“文件 → 选项 → 信任中心 → 信任中心设置 → 宏设置”，勾选"
              "“信任对 VBA 工程对象模型的访问”，确定后关闭 Excel，再运行 jixiao addin install --com-import。"
              "该选项被单位组策略锁定（灰色）时，请 IT 启用组策略“信任对 VBA 工程对象模型的访问”（注册表 AccessVBOM = 1），"
              "或改用默认的安装方式 jixiao addin install（不需要这个选项）。")


# =====================================================================================================
# 状态
# =====================================================================================================


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
