"""jixiao addin doctor：逐项检查这台 Windows 电脑能否使用加载项，每个失败项都给出中文处理办法（向 IT 要什么）。

不需要 Excel 的检查（读注册表、文件、进程）先做；随后在一个隐藏的 Excel 中打开已安装的加载项，做三次真实调用：
单元格函数 ``Application.Evaluate("=BUDGET_CONTROL_RATE(90.29,892.35)")`` 应得 10.12%，功能区按钮的路径
（``Application.Run`` → RunPython → 启动 Python → 写回标记），函数说明的登记（MacroOptions）。
所有与 Windows 相关的读取都经 Env 注入（注册表、进程表、PowerShell、Excel），测试在 Linux 上用替身运行。
"""
from __future__ import annotations

import json
import re
from dataclasses import asdict, dataclass
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Any

from . import xlam
from .excel_session import ExcelStepError, Session

if TYPE_CHECKING:
    from .env import Env

OK, INFO, WARN, FAIL, SKIP = "ok", "info", "warn", "fail", "skip"
LABELS = {OK: "通过", INFO: "提示", WARN: "警告", FAIL: "失败", SKIP: "跳过"}

ASR_CHILD_PROCESS = "d4f940ab-401b-4efc-aadc-ad5f3c50688a"
ASR_NAME = "阻止所有 Office 应用程序创建子进程"
ASR_KEYS = (r"HKLM\SOFTWARE\Policies\Microsoft\Windows Defender\Windows Defender Exploit Guard\ASR\Rules",
            r"HKLM\SOFTWARE\Microsoft\Windows Defender\Windows Defender Exploit Guard\ASR\Rules")
ASR_MDM_KEY = r"HKLM\SOFTWARE\Microsoft\PolicyManager\current\device\Defender"
ASR_MODES = {0: "关闭", 1: "阻止", 2: "审核", 6: "警告"}

# 国内常见安全软件的进程（映像名小写）→ 软件名
SECURITY_SOFTWARE = {
    "360tray.exe": "360 安全卫士", "360sd.exe": "360 杀毒", "zhudongfangyu.exe": "360 主动防御",
    "360rps.exe": "360 杀毒实时防护", "hipstray.exe": "火绒安全", "hipsdaemon.exe": "火绒安全",
    "usysdiag.exe": "火绒安全", "qqpctray.exe": "腾讯电脑管家", "qqpcrtp.exe": "腾讯电脑管家",
    "kxetray.exe": "金山毒霸", "kxescore.exe": "金山毒霸",
}

PROBE_FORMULA = "=BUDGET_CONTROL_RATE(90.29,892.35)"
XL_ERRORS = {-2146826281: "#DIV/0!", -2146826246: "#N/A", -2146826259: "#NAME?", -2146826288: "#NULL!",
             -2146826252: "#NUM!", -2146826265: "#REF!", -2146826273: "#VALUE!"}


@dataclass
class Check:
    id: str
    title: str
    status: str
    detail: str
    remedy: str = ""


def office_versions(env: "Env") -> list[str]:
    """装有 Excel 设置的 Office 版本号（16.0 = 2016/2019/2021/2024/365），新的在前。"""
    reg = env.registry
    found = [v for v in reg.subkeys(r"HKCU\Software\Microsoft\Office") if re.fullmatch(r"\d+\.0", v)
             and "excel" in {k.lower() for k in reg.subkeys(rf"HKCU\Software\Microsoft\Office\{v}")}]
    return sorted(found, key=lambda v: float(v), reverse=True) or ["16.0"]


def _policy(env: "Env", ver: str, sub: str, name: str) -> tuple[Any, str] | None:
    """组策略（HKCU/HKLM 的 Software\\Policies）优先于用户设置；返回 (值, 来源)。"""
    reg = env.registry
    for root in ("HKCU", "HKLM"):
        key = rf"{root}\Software\Policies\Microsoft\Office\{ver}\{sub}"
        v = reg.value(key, name)
        if v is not None:
            return v, f"组策略 {key}\\{name}"
    key = rf"HKCU\Software\Microsoft\Office\{ver}\{sub}"
    v = reg.value(key, name)
    return (v, f"用户设置 {key}\\{name}") if v is not None else None


# =====================================================================================================
# 不需要 Excel 的检查
# =====================================================================================================
def check_bitness(env: "Env") -> list[Check]:
    from .env import find_dll

    out: list[Check] = []
    py = env.python_bits
    pkg = xlam.xlwings_version()
    if py != 64:
        out.append(Check("python-bits", "Python 位数", FAIL, f"当前 Python 是 {py} 位（{env.executable}）。",
                         f"xlwings {pkg} 只为 64 位 Windows 的 Python 提供带 xlwings32/64-{pkg}.dll 的安装包，32 位 Python "
                         "中没有这两个文件，单元格函数无法加载。请安装 64 位 Python 3.11 或更新版本（python.org 的"
                         "“Windows installer (64-bit)”），在其中重新安装 jixiao，再运行 jixiao addin install。"))
    else:
        out.append(Check("python-bits", "Python 位数", OK, f"64 位（{env.executable}）"))
    excel_path = env.registry.value(r"HKLM\SOFTWARE\Microsoft\Windows\CurrentVersion\App Paths\excel.exe", "")
    bits = env.pe_bits(str(excel_path)) if excel_path else None
    if bits is None:
        out.append(Check("excel-bits", "Excel 位数", WARN, "注册表中找不到 EXCEL.EXE 的位置，无法判断 Excel 是 32 位还是 64 位。",
                         "如果确实装了桌面版 Excel，请在 Excel 中“文件 → 账户 → 关于 Excel”查看位数，并确认本机有对应的 "
                         f"xlwings32-{pkg}.dll 或 xlwings64-{pkg}.dll（位置见上一项）。"))
        return out
    dll = find_dll(env, pkg, bits)
    if dll is None:
        out.append(Check("excel-bits", "Excel 位数", FAIL,
                         f"Excel 是 {bits} 位（{excel_path}），但找不到它要加载的 xlwings{bits}-{pkg}.dll"
                         f"（应在 {env.executable.parent} 或 {env.prefix}）。",
                         f"在命令提示符运行：\"{env.executable}\" -m pip install --force-reinstall xlwings=={pkg}"
                         "（64 位 Python 的 xlwings 安装包同时带 32 位与 64 位的 DLL）。"))
    else:
        note = "" if bits == py else f"；Python 是 {py} 位——xlwings 在独立的 Python 进程中运行，位数不同也可以使用"
        out.append(Check("excel-bits", "Excel 位数", OK, f"{bits} 位（{excel_path}），DLL：{dll}{note}"))
    return out


def check_vba_policies(env: "Env") -> list[Check]:
    out: list[Check] = []
    ver = office_versions(env)[0]
    vbom = _policy(env, ver, r"Excel\Security", "AccessVBOM")
    locked = vbom is not None and vbom[1].startswith("组策略") and not vbom[0]
    if vbom and vbom[0]:
        detail = f"已允许（{vbom[1]} = {vbom[0]}）"
    elif locked:
        detail = f"被组策略禁止（{vbom[1]} = 0）" if vbom else ""
    else:
        detail = "未允许（Excel 默认）"
    out.append(Check("access-vbom", "信任对 VBA 工程对象模型的访问", INFO,
                     detail + "。默认的安装方式（预制的 VBA 工程）不需要它；只有 jixiao addin install --com-import 需要。",
                     "如要用 --com-import：请 IT 在组策略“用户配置 → 管理模板 → Microsoft Excel 2016 → Excel 选项 → 安全性 → "
                     "信任中心 → 信任对 VBA 工程对象模型的访问”设为“已启用”（注册表 AccessVBOM = 1）。" if locked else ""))
    vbaoff = None
    for root in ("HKCU", "HKLM"):
        v = env.registry.value(rf"{root}\Software\Policies\Microsoft\Office\{ver}\Common", "vbaoff")
        if v:
            vbaoff = f"{root}\\Software\\Policies\\Microsoft\\Office\\{ver}\\Common\\vbaoff = {v}"
    warnings = _policy(env, ver, r"Excel\Security", "VBAWarnings")
    locations_off = None
    for root in ("HKCU", "HKLM"):
        for base in (rf"{root}\Software\Policies\Microsoft\Office\{ver}\Excel\Security\Trusted Locations",
                     rf"{root}\Software\Microsoft\Office\{ver}\Excel\Security\Trusted Locations"):
            if env.registry.value(base, "AllLocationsDisabled"):
                locations_off = base + "\\AllLocationsDisabled = 1"
    require_sig = _policy(env, ver, r"Excel\Security", "RequireAddinSig")
    problems = []
    if vbaoff:
        problems.append(f"组策略禁用了 Office 中的 VBA（{vbaoff}）")
    if locations_off and warnings and int(warnings[0]) >= 2:
        problems.append(f"组策略禁用了所有受信任位置（{locations_off}），且宏设置为 {warnings[0]}（{warnings[1]}）："
                        "启动文件夹 XLSTART 中加载项的宏不能运行")
    if require_sig and require_sig[0]:
        problems.append(f"要求应用程序加载项由受信任的发布者签名（{require_sig[1]} = 1）：未签名的 jixiao.xlam 会被禁用")
    if problems:
        out.append(Check("macro-policy", "宏与加载项策略", FAIL, "；".join(problems) + "。",
                         "请 IT 为本机（或本用户）放开：允许 VBA（取消 vbaoff）；保留受信任位置（不要启用“禁用所有受信任位置”），"
                         "或把 %APPDATA%\\Microsoft\\Excel\\XLSTART 加为受信任位置；或为 jixiao.xlam 做代码签名并把证书设为受信任的发布者。"))
    else:
        detail = "加载项放在 Excel 启动文件夹 XLSTART（默认的受信任位置）中，宏可以运行"
        if warnings:
            detail += f"；宏设置 {warnings[0]}（{warnings[1]}）"
        out.append(Check("macro-policy", "宏与加载项策略", OK, detail))
    return out


def asr_mode(env: "Env") -> tuple[int | None, str]:
    """Defender 攻击面减少规则“阻止所有 Office 应用程序创建子进程”的模式与来源；查不到为 (None, 说明)。"""
    for key in ASR_KEYS:
        for name, data in env.registry.values(key).items():
            if name.strip("{}").lower() == ASR_CHILD_PROCESS:
                try:
                    return int(str(data).strip()), f"注册表 {key}"
                except ValueError:
                    pass
    mdm = env.registry.value(ASR_MDM_KEY, "AttackSurfaceReductionRules")
    if mdm:
        for item in str(mdm).split("|"):
            guid, _, mode = item.partition("=")
            if guid.strip("{} ").lower() == ASR_CHILD_PROCESS and mode.strip().isdigit():
                return int(mode.strip()), f"Intune/MDM 策略 {ASR_MDM_KEY}"
    rc, text = env.run_command(["powershell", "-NoProfile", "-NonInteractive", "-Command",
                                "Get-MpPreference | Select-Object AttackSurfaceReductionRules_Ids,"
                                "AttackSurfaceReductionRules_Actions | ConvertTo-Json -Compress"], 30)
    if rc == 0 and text.strip():
        try:
            data = json.loads(text)
            ids = data.get("AttackSurfaceReductionRules_Ids") or []
            acts = data.get("AttackSurfaceReductionRules_Actions") or []
            ids = [ids] if isinstance(ids, str) else ids
            acts = [acts] if isinstance(acts, (int, str)) else acts
            for guid, act in zip(ids, acts, strict=False):
                if str(guid).strip("{}").lower() == ASR_CHILD_PROCESS:
                    return int(act), "Get-MpPreference"
            return 0, "Get-MpPreference（未配置该规则）"
        except (ValueError, TypeError, AttributeError):
            pass
    return None, "注册表与 Get-MpPreference 中都没有该规则的设置（未配置，或本机使用其他杀毒软件）"


def check_child_processes(env: "Env") -> list[Check]:
    out: list[Check] = []
    mode, source = asr_mode(env)
    remedy = (f"按钮（RunPython）与单元格函数都要由 Excel 启动 cmd.exe 与 python.exe。请 IT 在 Microsoft Defender 攻击面减少规则"
              f"“{ASR_NAME}”（GUID {ASR_CHILD_PROCESS}）中为本机关闭或改为“审核”，或按 IT 的规范为 "
              f"{env.executable} 添加该规则的排除项（组策略：计算机配置 → 管理模板 → Windows 组件 → Microsoft Defender 防病毒 → "
              "Microsoft Defender 攻击防护 → 攻击面减少 → 配置攻击面减少规则）。")
    if mode == 1:
        out.append(Check("asr", f"Defender 规则“{ASR_NAME}”", FAIL, f"处于“阻止”模式（{source}）：按钮与单元格函数都无法启动 Python。",
                         remedy))
    elif mode == 6:
        out.append(Check("asr", f"Defender 规则“{ASR_NAME}”", WARN, f"处于“警告”模式（{source}）：每次启动 Python 都会弹出拦截提示，"
                         "需用户选择“解除阻止”。", remedy))
    elif mode is None:
        out.append(Check("asr", f"Defender 规则“{ASR_NAME}”", INFO, source))
    else:
        out.append(Check("asr", f"Defender 规则“{ASR_NAME}”", OK, f"{ASR_MODES.get(mode, mode)}（{source}）"))
    running = sorted({SECURITY_SOFTWARE[p.lower()] for p in env.processes() if p.lower() in SECURITY_SOFTWARE})
    if running:
        out.append(Check("security-software", "安全软件", WARN, f"正在运行：{'、'.join(running)}。它们的“主动防御/进程防护”可能"
                         "拦截 Excel 启动 cmd.exe 与 python.exe（表现为按钮没有反应、单元格显示 Could not activate Python COM server）。",
                         f"如果下方的单元格函数或按钮检查失败，请在该软件的信任区（白名单）中加入 {env.executable}、"
                         "C:\\Windows\\System32\\cmd.exe 与 EXCEL.EXE 的“允许创建子进程”，或请 IT 在终端安全管理平台中放行。"))
    else:
        out.append(Check("security-software", "安全软件", OK, "未发现 360、火绒、腾讯电脑管家、金山毒霸的进程"))
    return out


def check_versions_and_files(env: "Env") -> list[Check]:
    """xlwings 包、加载项 VBA、DLL 三者的版本是否一致（不一致时给出修复它的那一条命令），加载项文件与配置。"""
    from .env import XLWINGS_PIN, conda_settings, find_dll, pip_fix

    out: list[Check] = []
    pkg = xlam.xlwings_version()
    if pkg != XLWINGS_PIN:
        out.append(Check("xlwings-version", "xlwings 版本", FAIL,
                         f"已安装 xlwings {pkg}，本版 jixiao 要求 {XLWINGS_PIN}（加载项的 VBA 与 DLL 名称都按这一版）。",
                         pip_fix(env, XLWINGS_PIN)))
    else:
        out.append(Check("xlwings-version", "xlwings 版本", OK, f"{pkg}（与 jixiao 要求的版本一致）"))
    dll = find_dll(env, pkg)
    if dll is None:
        out.append(Check("xlwings-dll", "xlwings 动态库", FAIL,
                         f"找不到 xlwings64-{pkg}.dll / xlwings32-{pkg}.dll（应在 {env.executable.parent} 或 {env.prefix}）："
                         "单元格函数会显示 Could not load xlwings64-….dll。", pip_fix(env, pkg, force=True)))
    else:
        out.append(Check("xlwings-dll", "xlwings 动态库", OK, str(dll)))
    xlstart = env.default_xlstart()
    addin = xlstart / xlam.ADDIN_NAME if xlstart else None
    if addin is None or not addin.is_file():
        out.append(Check("addin-file", "加载项文件", FAIL, f"未安装（应在 {addin}）。", "运行 jixiao addin install"))
        return out
    jx, _ = xlam.build_info(addin)
    try:
        modules = xlam.read_vba_modules(addin)
    except xlam.XlamError as exc:
        out.append(Check("addin-file", "加载项文件", FAIL, f"{addin} 的 VBA 工程无法读取：{exc}", "运行 jixiao addin install"))
        return out
    vba_version = xlam.vba_xlwings_version(modules)
    detail = f"{addin}（jixiao {jx or '未知'}，VBA 中的 xlwings {vba_version or '未知'}）"
    if vba_version != pkg:
        out.append(Check("addin-file", "加载项文件", FAIL, detail + f"：加载项的 VBA 要加载 xlwings64-{vba_version}.dll，"
                         f"而本机 xlwings 是 {pkg}，单元格函数会报“Could not load xlwings64-{vba_version}.dll”。",
                         "运行 jixiao addin install（按本机的 xlwings 重建加载项）" if pkg == XLWINGS_PIN
                         else pip_fix(env, vba_version or XLWINGS_PIN)))
    else:
        stale = xlam.verify_vba(addin)
        if stale:
            out.append(Check("addin-file", "加载项文件", FAIL, detail + "：与本版 jixiao 不一致（" + "；".join(stale[:3]) + "）。",
                             "运行 jixiao addin install"))
        else:
            n = len(xlam.imported_udfs(modules))
            out.append(Check("addin-file", "加载项文件", OK, detail + f"；VBA 模块与本版一致，单元格函数 {n} 个"))
    conf = {k.upper(): v for k, v in xlam.inspect_xlam(addin).conf.items()}
    problems = []
    if conf.get("UDF MODULES") != xlam.UDF_MODULES:
        problems.append(f"UDF Modules 应为 {xlam.UDF_MODULES}，实际为 {conf.get('UDF MODULES') or '空'}")
    interp = conf.get("INTERPRETER_WIN", "")
    conda_path, conda_env = conf.get("CONDA PATH", ""), conf.get("CONDA ENV", "")
    if conda_path or conda_env:
        if not (Path(conda_path) / "condabin" / "conda.bat").is_file():
            problems.append(f"Conda Path = {conda_path} 下没有 condabin\\conda.bat")
        env_dir = Path(conda_path) if conda_env == "base" else Path(conda_env) if "\\" in conda_env or "/" in conda_env \
            else Path(conda_path) / "envs" / conda_env
        if not env_dir.is_dir():
            problems.append(f"Conda Env = {conda_env} 对应的目录 {env_dir} 不存在")
        want = conda_settings(env)
        if want and (conda_path, conda_env) != want:
            problems.append(f"配置的 Conda 环境（{conda_path}，{conda_env}）不是当前运行 jixiao 的环境（{want[0]}，{want[1]}）")
    elif interp:
        if not Path(interp).is_file():
            problems.append(f"Interpreter_Win = {interp} 不存在")
        elif Path(interp) != env.executable:
            problems.append(f"Interpreter_Win = {interp}，不是当前运行 jixiao 的 {env.executable}")
    else:
        problems.append("既没有 Interpreter_Win 也没有 Conda Path/Conda Env：xlwings 会用 PATH 中的 python")
    if problems:
        out.append(Check("conf", "加载项配置", FAIL, "；".join(problems) + "。",
                         "在要使用的 Python 环境中运行 jixiao addin install（重写配置表）"))
    else:
        shown = "；".join(f"{k} = {v}" for k, v in xlam.inspect_xlam(addin).conf.items())
        out.append(Check("conf", "加载项配置", OK, shown))
    return out


# =====================================================================================================
# 隐藏 Excel 中的真实调用
# =====================================================================================================
def expected_probe() -> Decimal:
    """BUDGET_CONTROL_RATE(90.29, 892.35) 按纯函数算出的值（不抄字面量）。"""
    from udfs.excel import BY_NAME

    return Decimal(str(BY_NAME["BUDGET_CONTROL_RATE"].excel(90.29, 892.35)))


def percent(v: Decimal | float) -> str:
    return f"{(Decimal(str(v)) * 100).quantize(Decimal('0.01'), rounding=ROUND_HALF_UP)}%"


def _diagnose_udf(text: str, env: "Env") -> str:
    """把单元格中的错误说明（xlwings VBA 的 Err.Description）翻成处理办法。"""
    from .env import pip_fix

    low = text.lower()
    if "could not load xlwings" in low:
        return f"xlwings 的 DLL 加载失败。{pip_fix(env, xlam.xlwings_version(), force=True)}；再运行 jixiao addin install。"
    if "could not activate python com server" in low or "-2147024891" in low or "access" in low and "denied" in low:
        return ("Excel 无法启动 Python：子进程被拦截，或配置的解释器不存在。请对照上面的“加载项配置”、Defender 规则与安全软件"
                f"各项；被拦截时向 IT 申请放行 {env.executable} 与 cmd.exe。")
    if "#name?" in low:
        return "Excel 不认识这个函数：加载项没有打开或其 VBA 被禁用。请运行 jixiao addin install，并检查上面的宏与加载项策略。"
    if "modulenotfounderror" in low or "no module named" in low:
        return "Python 中找不到 jixiao：配置的解释器不是安装 jixiao 的那个。请在装有 jixiao 的环境中运行 jixiao addin install。"
    return "请把以上文字发给技术支持；通常重新运行 jixiao addin install 可以解决。"


def excel_checks(env: "Env", addin: Path) -> list[Check]:
    """在隐藏的 Excel 中打开已安装的加载项，做单元格函数、按钮、函数说明三次真实调用。"""
    from udfs.excel import CATALOG

    from .env import DOCTOR_MARK, RIBBON_LOG

    results: list[Check] = []
    expected = expected_probe()
    name = addin.name

    def job(s: Session) -> None:
        app = s.app
        with s.step("关闭事件（不运行加载项的 Workbook_Open）"):
            app.api.EnableEvents = False  # 函数说明的登记下面直接调用；事件中的对话框会让隐藏的 Excel 卡住
        with s.step("打开加载项", "请先运行 jixiao addin install；若提示文件损坏，请把本消息发给技术支持并改用 "
                                   "jixiao addin install --com-import。"):
            app.books.open(str(addin))
        with s.step("新建空白工作簿"):
            book = app.books.add()
        with s.step("单元格函数"):
            v = app.api.Evaluate(PROBE_FORMULA)
        if isinstance(v, (int, float)) and not isinstance(v, bool) and int(v) not in XL_ERRORS \
                and abs(Decimal(str(v)) - expected) < Decimal("1e-9"):
            results.append(Check("udf", "单元格函数", OK, f"Application.Evaluate(\"{PROBE_FORMULA}\") = {v!r}（{percent(v)}）"))
        else:
            shown = XL_ERRORS.get(int(v), v) if isinstance(v, (int, float)) and not isinstance(v, bool) else v
            with s.step("单元格函数（在单元格中重试以取得错误说明）"):
                cell = book.sheets[0]["A1"]
                cell.formula = PROBE_FORMULA
                app.calculate()
                text = cell.value
            results.append(Check("udf", "单元格函数", FAIL,
                                 f"Application.Evaluate(\"{PROBE_FORMULA}\") 得到 {shown!r}，应为 {float(expected)!r}"
                                 f"（{percent(expected)}）；单元格中显示：{text!r}", _diagnose_udf(str(text), env)))
        with s.step("功能区按钮（Application.Run → RunPython）"):
            version = app.api.Run(f"'{name}'!{xlam.CALLBACK_MODULE}.CallbacksVersion")
            book.sheets[0]["A1"].value = None
            app.api.Run(f"'{name}'!{xlam.CALLBACK_MODULE}.DoctorRunPython")
            mark = book.sheets[0]["A1"].value
        if isinstance(mark, str) and mark.startswith(DOCTOR_MARK):
            results.append(Check("ribbon", "功能区按钮", OK, f"回调模块版本 {version}；RunPython 启动 Python 并写回“{mark}”"))
        else:
            results.append(Check("ribbon", "功能区按钮", FAIL, f"回调模块版本 {version}；RunPython 没有写回标记（读到 {mark!r}）。",
                                 "Excel 没能启动 Python 或 Python 中出错：请对照上面的 Defender 规则、安全软件与加载项配置各项；"
                                 f"Python 端的错误记录在 {RIBBON_LOG}（%TEMP% 中）。"))
        with s.step("函数说明登记（Application.MacroOptions）"):
            n = app.api.Run(f"'{name}'!{xlam.vba_modules.REGISTER_NOW}")
        if n == len(CATALOG):
            results.append(Check("descriptions", "函数说明", OK, f"已登记 {n} 个函数的类别、说明与参数说明"))
        else:
            results.append(Check("descriptions", "函数说明", WARN, f"只登记了 {n} / {len(CATALOG)} 个函数的说明（插入函数对话框中"
                                 "缺少中文说明，计算不受影响）。", "重新启动 Excel 后再运行 jixiao addin doctor；仍然如此请反馈。"))

    try:
        env.excel_runner().run(job)
    except ExcelStepError as exc:
        results.append(Check("excel", "在 Excel 中调用", FAIL, f"第“{exc.step}”步失败：{exc.reason}", exc.remedy))
    return results


def run_doctor(env: "Env", with_excel: bool = True) -> list[Check]:
    from .env import NOT_WINDOWS

    if not env.windows:
        return [Check("platform", "操作系统", FAIL, NOT_WINDOWS.format(system=env.system_name()),
                      "在装有桌面版 Excel 的 Windows 电脑上运行 jixiao addin doctor。")]
    checks = check_bitness(env) + check_versions_and_files(env) + check_vba_policies(env) + check_child_processes(env)
    xlstart = env.default_xlstart()
    addin = xlstart / xlam.ADDIN_NAME if xlstart else None
    if not with_excel:
        checks.append(Check("excel", "在 Excel 中调用", SKIP, "按 --no-excel 跳过"))
    elif addin is None or not addin.is_file():
        checks.append(Check("excel", "在 Excel 中调用", SKIP, "加载项未安装，跳过"))
    else:
        checks += excel_checks(env, addin)
    return checks


def render(checks: list[Check]) -> str:
    lines = []
    for c in checks:
        lines.append(f"[{LABELS[c.status]}] {c.title}：{c.detail}")
        if c.remedy and c.status in (FAIL, WARN):
            lines.append(f"        处理办法：{c.remedy}")
    failed = [c for c in checks if c.status == FAIL]
    lines.append("")
    lines.append(f"共 {len(checks)} 项：失败 {len(failed)} 项，警告 {sum(c.status == WARN for c in checks)} 项。"
                 + ("可以使用。" if not failed else "请按“处理办法”处理（需要 IT 的，把本页内容发给 IT），再运行 jixiao addin doctor。"))
    return "\n".join(lines)


def to_json(checks: list[Check], env: "Env") -> str:
    data: dict[str, Any] = {"ok": not any(c.status == FAIL for c in checks), "python": str(env.executable),
                            "python_bits": env.python_bits, "checks": [asdict(c) for c in checks]}
    try:
        data["xlwings"] = xlam.xlwings_version()
    except Exception:  # noqa: BLE001
        data["xlwings"] = None
    return json.dumps(data, ensure_ascii=False, indent=2)
