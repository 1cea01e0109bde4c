"""jixiao.xlam 的构建与离线检查（Linux 上可运行，不需要 Excel）。

构建：以 xlwings 随包附带的功能区加载项模板 ``quickstart_addin_ribbon.xlam`` 为底（``xlwings quickstart NAME
--addin --ribbon`` 复制的正是这个文件，测试逐字节核对），做三处改动后另存为 jixiao.xlam：

1. 功能区：删去模板的 customUI/customUI.xml，换成本包的 ``addin/excel/ribbon/customUI14.xml``（Office 2010 起的
   2009/07 命名空间，关系类型 ``…/2007/relationships/ui/extensibility``），并改写 _rels/.rels 中的那条关系；
   customUI 部件的内容类型由 [Content_Types].xml 里 xml 扩展名的默认类型（application/xml）覆盖，无需 Override。
2. 配置表：模板里停用的 ``_myaddin.conf`` 表改名为 ``myaddin.conf``（xlwings 的 VBA 按常量 PROJECT_NAME = "myaddin"
   找 ``PROJECT_NAME & ".conf"`` 表；xlwings 模块原样保留，所以沿用这个名字），写入 ``UDF Modules = udfs.xl`` 与
   （安装时）``Interpreter_Win``，或 Conda 环境的 ``Conda Path``/``Conda Env``。只写有值的键：xlwings 读表时键存在
   即采用，空值会遮住用户配置文件里的设置。
3. VBA 工程（xl/vbaProject.bin）：按 [MS-OVBA] 写出完整的工程（addin/excel/vbaproject.py、addin/excel/cfb.py）——模板的
   xlwings 模块与 Dictionary 类、按钮回调 JixiaoRibbon、事件类 JixiaoEvents、xlwings 为 udfs.xl 生成的单元格函数
   包装 xlwings_udfs、登记函数说明的 JixiaoFunctions（模块表见 addin/excel/vba_modules.py）。安装因此只需复制文件，
   不需要 Excel 选项“信任对 VBA 工程对象模型的访问”。

离线检查：``read_vba_modules`` 用 olefile 打开 vbaProject.bin、按 [MS-OVBA] 解压出各模块源码；``verify_vba``
逐个模块与应有的源码逐字节比较（安装前与测试中都做）。``jixiao addin status`` 用它核对加载项 VBA 的 xlwings
版本是否等于已安装的 xlwings 包版本（不一致时单元格函数无法加载 xlwings64-版本.dll，是最常见的故障）。
"""
from __future__ import annotations

import importlib.util
import io
import re
import zipfile
from dataclasses import dataclass
from pathlib import Path
from xml.sax.saxutils import escape

from ..io import ooxml
from . import vba_modules, vbaproject
from .customui import CUSTOMUI_PART, RIBBON_XML, check_customui

ADDIN_NAME = "jixiao.xlam"
TEMPLATE_NAME = "quickstart_addin_ribbon.xlam"
PROJECT_NAME = "myaddin"  # 模板 VBA 中的常量 PROJECT_NAME；配置表与用户配置文件都以它命名
CONF_SHEET = f"{PROJECT_NAME}.conf"
TEMPLATE_CONF_SHEET = f"_{PROJECT_NAME}.conf"
UDF_MODULES = "udfs.xl"

RIBBON_REL_TYPE = "http://schemas.microsoft.com/office/2007/relationships/ui/extensibility"
RIBBON_REL_TYPE_2006 = "http://schemas.microsoft.com/office/2006/relationships/ui/extensibility"
ADDIN_MAIN_CT = "application/vnd.ms-excel.addin.macroEnabled.main+xml"
VBA_CT = "application/vnd.ms-office.vbaProject"

CALLBACK_MODULE = vba_modules.CALLBACK_MODULE
EVENTS_MODULE = vba_modules.EVENTS_MODULE
FUNCTIONS_MODULE = vba_modules.FUNCTIONS_MODULE
UDF_VBA_MODULE = vba_modules.UDF_VBA_MODULE  # xlwings.udfs.import_udfs 生成的模块名

PACKAGE_DIR = Path(__file__).resolve().parent
VBA_DIR = PACKAGE_DIR / "vba"
VBA_FILES = (vba_modules.CALLBACK_FILE, vba_modules.EVENTS_FILE)

_ZIP_DATE = (1980, 1, 1, 0, 0, 0)  # 固定时间戳：同样的输入构建出逐字节相同的 .xlam


class XlamError(Exception):
    """加载项无法构建或读取（中文说明）。"""


# =====================================================================================================
# 模板与功能区
# =====================================================================================================
def xlwings_dir() -> Path:
    """已安装的 xlwings 包目录（不导入 xlwings：只找文件）。"""
    spec = importlib.util.find_spec("xlwings")
    if spec is None or not spec.submodule_search_locations:
        raise XlamError("没有安装 xlwings（pip install xlwings），无法取得加载项模板")
    return Path(list(spec.submodule_search_locations)[0])


def xlwings_version() -> str:
    from importlib.metadata import version

    return version("xlwings")


def template_path() -> Path:
    path = xlwings_dir() / TEMPLATE_NAME
    if not path.is_file():
        raise XlamError(f"xlwings 包中没有功能区加载项模板 {TEMPLATE_NAME}（xlwings 版本 {xlwings_version()}）")
    return path


# =====================================================================================================
# 构建
# =====================================================================================================
def addin_config(interpreter: str | None = None, udf_modules: str = UDF_MODULES,
                 extra: dict[str, str] | None = None, conda: tuple[str, str] | None = None) -> dict[str, str]:
    """加载项配置表的内容（键按 xlwings 的写法，读取时不区分大小写）。

    conda = (Conda Path, Conda Env)：Conda 环境按 xlwings 文档写这两个键、不写 Interpreter_Win——xlwings 的 VBA
    先运行 ``conda activate`` 再启动 python，否则 numpy 等依赖 Conda 环境变量的 DLL 无法加载。"""
    conf: dict[str, str] = {}
    if conda:
        conf["Conda Path"], conf["Conda Env"] = conda
    elif interpreter:
        conf["Interpreter_Win"] = interpreter
    conf["UDF Modules"] = udf_modules
    for k, v in (extra or {}).items():
        if v:
            conf[k] = v
    return conf


def _conf_sheet_xml(conf: dict[str, str], code_name: str) -> bytes:
    rows = []
    for i, (k, v) in enumerate(conf.items(), 1):
        rows.append(f'<row r="{i}"><c r="A{i}" s="1" t="inlineStr"><is><t>{escape(k)}</t></is></c>'
                    f'<c r="B{i}" s="1" t="inlineStr"><is><t xml:space="preserve">{escape(v)}</t></is></c></row>')
    n = max(len(conf), 1)
    return (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
        f'<worksheet xmlns="{ooxml.NS_MAIN}" xmlns:r="{ooxml.NS_R}">'
        f'<sheetPr codeName="{escape(code_name)}"/><dimension ref="A1:B{n}"/>'
        '<sheetViews><sheetView tabSelected="1" workbookViewId="0"/></sheetViews>'
        '<sheetFormatPr defaultRowHeight="15.75"/>'
        '<cols><col min="1" max="1" width="18" customWidth="1"/><col min="2" max="2" width="70" customWidth="1"/></cols>'
        f'<sheetData>{"".join(rows)}</sheetData>'
        '<pageMargins left="0.7" right="0.7" top="0.75" bottom="0.75" header="0.3" footer="0.3"/></worksheet>'
    ).encode("utf-8")


def _conf_sheet_part(parts: dict[str, bytes]) -> tuple[str, str]:
    """模板中配置表的部件路径与 codeName。"""
    _, sheets = ooxml.sheet_map(parts.get)
    sheet = next((s for s in sheets if s.name == TEMPLATE_CONF_SHEET), None)
    if sheet is None:
        raise XlamError(f"模板 xl/workbook.xml 中没有配置表“{TEMPLATE_CONF_SHEET}”（xlwings 模板结构已变化）")
    if not sheet.part:
        raise XlamError(f"模板中配置表的关系 {sheet.rid} 不存在")
    code = re.search(rb'<sheetPr[^>]*codeName="([^"]+)"', parts[sheet.part])
    return sheet.part, code.group(1).decode() if code else "Sheet1"


PREBUILT, TEMPLATE_VBA = "prebuilt", "template"


def build_xlam(out: str | Path, *, interpreter: str | None = None, udf_modules: str = UDF_MODULES,
               extra_config: dict[str, str] | None = None, template: str | Path | None = None,
               ribbon_xml: bytes | None = None, conda: tuple[str, str] | None = None,
               vba: str = PREBUILT) -> Path:
    """由 xlwings 模板构建 jixiao.xlam。out 为目录（写入 out/jixiao.xlam）或以 .xlam 结尾的文件路径。

    vba=PREBUILT（默认）：写入完整的 VBA 工程（addin/excel/vba_modules.py 的模块表），安装只需复制文件。
    vba=TEMPLATE：保留模板的 vbaProject.bin 且不放功能区——“经 COM 导入”的备用路线由 Excel 导入模块后再调用
    add_ribbon（在模块存在之前打开带 onLoad 回调的功能区，Excel 会弹“无法运行宏”的对话框）。
    """
    if vba not in (PREBUILT, TEMPLATE_VBA):
        raise ValueError(vba)
    out = Path(out)
    target = out if out.suffix.lower() == ".xlam" else out / ADDIN_NAME
    src = Path(template) if template else template_path()
    ribbon = ribbon_xml if ribbon_xml is not None else RIBBON_XML.read_bytes()
    problems = check_customui(ribbon)
    if problems:
        raise XlamError("功能区定义有误：" + "；".join(problems))
    parts = _read_parts(src, "加载项模板")
    for required in ("xl/workbook.xml", "xl/vbaProject.bin", "_rels/.rels", "[Content_Types].xml"):
        if required not in parts:
            raise XlamError(f"加载项模板缺少部件 {required}（xlwings 模板结构已变化）")

    # 1. 功能区
    if not _remove_ribbon(parts):
        raise XlamError("模板 _rels/.rels 中的功能区关系不是恰好一条（xlwings 模板结构已变化）")
    if vba == PREBUILT:
        _put_ribbon(parts, ribbon)

    # 2. 配置表
    conf_part, code_name = _conf_sheet_part(parts)
    conf = addin_config(interpreter, udf_modules, extra_config, conda)
    parts[conf_part] = _conf_sheet_xml(conf, code_name)
    for name in ("xl/workbook.xml", "docProps/app.xml"):
        if name in parts:
            parts[name] = parts[name].replace(f">{TEMPLATE_CONF_SHEET}<".encode(), f">{CONF_SHEET}<".encode()) \
                .replace(f'"{TEMPLATE_CONF_SHEET}"'.encode(), f'"{CONF_SHEET}"'.encode())
    # 模板记录了作者电脑上的绝对路径（x15ac:absPath），与本加载项无关，去掉
    parts["xl/workbook.xml"] = re.sub(rb"<mc:AlternateContent[^>]*><mc:Choice Requires=\"x15\"><x15ac:absPath[^>]*/>"
                                      rb"</mc:Choice></mc:AlternateContent>", b"", parts["xl/workbook.xml"])
    if "docProps/core.xml" in parts:
        parts["docProps/core.xml"] = _core_props(parts["docProps/core.xml"], xlwings_version())

    # 3. VBA 工程
    if vba == PREBUILT:
        base = read_vba_project(parts["xl/vbaProject.bin"])
        if code_name not in {m.name for m in base.modules}:
            raise XlamError(f"模板 VBA 工程中没有配置表的代码模块 {code_name}（xlwings 模板结构已变化）")
        try:
            modules = vba_modules.addin_modules(base)
            parts["xl/vbaProject.bin"] = vbaproject.write_project(base, modules, vba_modules.PROJECT_NAME)
        except (ValueError, vbaproject.VbaProjectError) as exc:
            raise XlamError(f"无法生成 VBA 工程：{exc}") from None
    _write_parts(target, parts)
    return target


def _read_parts(path: Path, what: str) -> dict[str, bytes]:
    try:
        with zipfile.ZipFile(path) as z:
            return {i.filename: z.read(i) for i in z.infolist() if not i.is_dir()}
    except (OSError, zipfile.BadZipFile) as exc:
        raise XlamError(f"无法读取{what} {path}：{exc}") from None


def _write_parts(target: Path, parts: dict[str, bytes]) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_name(target.name + ".tmp")
    with zipfile.ZipFile(tmp, "w", zipfile.ZIP_DEFLATED) as z:
        # [Content_Types].xml 放在最前（OPC 不要求，但 Excel 自己也这样写，个别工具依赖它）
        order = ["[Content_Types].xml"] + sorted(k for k in parts if k != "[Content_Types].xml")
        for name in order:
            info = zipfile.ZipInfo(name, date_time=_ZIP_DATE)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o644 << 16
            z.writestr(info, parts[name])
    tmp.replace(target)


_RIBBON_REL = re.compile(r'<Relationship [^>]*Type="(?:' + re.escape(RIBBON_REL_TYPE) + "|"
                         + re.escape(RIBBON_REL_TYPE_2006) + r')"[^>]*/>')


def _remove_ribbon(parts: dict[str, bytes]) -> int:
    """删去功能区部件与 _rels/.rels 中指向它的关系；返回删去的关系条数。"""
    rels = parts["_rels/.rels"].decode("utf-8")
    for m in _RIBBON_REL.finditer(rels):
        target = re.search(r'Target="([^"]+)"', m.group(0))
        if target:
            parts.pop(target.group(1).lstrip("/"), None)
    rels, n = _RIBBON_REL.subn("", rels)
    parts["_rels/.rels"] = rels.encode("utf-8")
    return n


def _put_ribbon(parts: dict[str, bytes], ribbon: bytes) -> None:
    # customUI 部件的内容类型由 [Content_Types].xml 里 xml 扩展名的默认类型 application/xml 覆盖
    parts[CUSTOMUI_PART] = ribbon
    rels = parts["_rels/.rels"].decode("utf-8")
    rels = rels.replace("</Relationships>", f'<Relationship Id="jixiaoRibbon" Type="{RIBBON_REL_TYPE}" '
                                            f'Target="{CUSTOMUI_PART}"/></Relationships>')
    parts["_rels/.rels"] = rels.encode("utf-8")


def add_ribbon(path: str | Path, ribbon_xml: bytes | None = None) -> None:
    """给（Excel 保存过的）.xlam 放上本包的功能区：COM 导入路线在模块导入、保存之后调用。"""
    path = Path(path)
    parts = _read_parts(path, "加载项")
    if "_rels/.rels" not in parts:
        raise XlamError(f"{path.name} 缺少 _rels/.rels")
    ct = parts.get("[Content_Types].xml", b"").decode("utf-8")
    if 'Extension="xml"' not in ct:
        raise XlamError(f"{path.name} 的 [Content_Types].xml 没有 xml 扩展名的默认类型")
    _remove_ribbon(parts)
    _put_ribbon(parts, ribbon_xml if ribbon_xml is not None else RIBBON_XML.read_bytes())
    _write_parts(path, parts)


def _core_props(core: bytes, xw_version: str) -> bytes:
    """在 core.xml 中记录构建信息（标题、说明），便于在“文件 → 信息”中辨认。"""
    try:
        from importlib.metadata import version

        jx = version("jixiao")
    except Exception:  # noqa: BLE001 —— 源码树中未安装时
        jx = "dev"
    text = core.decode("utf-8")
    desc = f"jixiao {jx} 绩效评价加载项；基于 xlwings {xw_version} 功能区加载项模板"
    text = re.sub(r"<dc:title>.*?</dc:title>|<dc:title\s*/>", "", text)
    text = re.sub(r"<dc:description>.*?</dc:description>|<dc:description\s*/>", "", text)
    text = text.replace("</cp:coreProperties>", f"<dc:title>绩效评价</dc:title><dc:description>{escape(desc)}"
                                                 "</dc:description></cp:coreProperties>")
    return text.encode("utf-8")


@dataclass(frozen=True)
class XlamInfo:
    """一个 .xlam 的结构摘要（测试与 status 使用）。"""

    parts: tuple[str, ...]
    content_types: dict[str, str]  # 部件 → 内容类型（Override 优先，否则按扩展名 Default）
    ribbon_part: str | None
    ribbon_rel_type: str | None
    conf_sheet: str | None
    conf: dict[str, str]


def inspect_xlam(path: str | Path) -> XlamInfo:
    with zipfile.ZipFile(path) as z:
        names = tuple(i.filename for i in z.infolist())

        def read(name: str) -> bytes | None:
            return z.read(name) if name in names else None

        defaults, overrides = ooxml.content_types(z.read(ooxml.CONTENT_TYPES))
        cts = {n: overrides.get(n) or defaults.get(n.rsplit(".", 1)[-1].lower(), "") for n in names}
        ribbon = [(r.part, r.type) for r in ooxml.read_rels(read(ooxml.ROOT_RELS), "")
                  if r.type in (RIBBON_REL_TYPE, RIBBON_REL_TYPE_2006)]
        _, sheets = ooxml.sheet_map(read)
        conf: dict[str, str] = {}
        conf_name = sheets[0].name if sheets else None
        if sheets and sheets[0].part:
            conf = _read_conf_sheet(z.read(sheets[0].part), read("xl/sharedStrings.xml"))
    return XlamInfo(names, cts, ribbon[0][0] if ribbon else None, ribbon[0][1] if ribbon else None,
                    conf_name, conf)


def _read_conf_sheet(sheet_xml: bytes, shared: bytes | None) -> dict[str, str]:
    ns = {"m": ooxml.NS_MAIN}
    strings = []
    if shared:
        for si in ooxml.parse_xml(shared, "xl/sharedStrings.xml").iterfind("m:si", ns):
            strings.append("".join(t.text or "" for t in si.iter(f"{{{ooxml.NS_MAIN}}}t")))
    cells: dict[str, str] = {}
    for c in ooxml.parse_xml(sheet_xml, CONF_SHEET).iter(f"{{{ooxml.NS_MAIN}}}c"):
        t = c.get("t")
        if t == "inlineStr":
            v = "".join(x.text or "" for x in c.iter(f"{{{ooxml.NS_MAIN}}}t"))
        else:
            ve = c.find("m:v", ns)
            if ve is None:
                continue
            text = ve.text or ""
            v = strings[int(text)] if t == "s" else ("TRUE" if text == "1" else "FALSE") if t == "b" else text
        cells[c.get("r", "")] = v
    out = {}
    for ref, key in cells.items():
        if ref.startswith("A") and key:
            out[key] = cells.get("B" + ref[1:], "")
    return out


# =====================================================================================================
# VBA 工程：读（olefile + [MS-OVBA] 解压，见 addin/excel/vbaproject.py）
# =====================================================================================================
def decompress_vba(data: bytes) -> bytes:
    """[MS-OVBA] 2.4.1 CompressedContainer 解压。"""
    try:
        return vbaproject.decompress(data)
    except vbaproject.VbaProjectError as exc:
        raise XlamError(str(exc)) from None


def vba_project_bytes(source: str | Path | bytes) -> bytes:
    """.xlam/.xlsm（路径或字节）中的 xl/vbaProject.bin；本身就是复合文件的字节时原样返回。"""
    if isinstance(source, (bytes, bytearray)):
        data = bytes(source)
        if data[:2] == b"PK":
            try:
                return zipfile.ZipFile(io.BytesIO(data)).read("xl/vbaProject.bin")
            except KeyError:
                raise XlamError("工作簿中没有 VBA 工程") from None
        return data
    try:
        with zipfile.ZipFile(source) as z:
            return z.read("xl/vbaProject.bin")
    except KeyError:
        raise XlamError(f"{Path(source).name} 中没有 VBA 工程") from None
    except (OSError, zipfile.BadZipFile) as exc:
        raise XlamError(f"无法读取 {Path(source).name}：{exc}") from None


def read_vba_project(source: str | Path | bytes) -> vbaproject.Project:
    try:
        return vbaproject.read_project(vba_project_bytes(source))
    except vbaproject.VbaProjectError as exc:
        raise XlamError(str(exc)) from None


def read_vba_modules(source: str | Path | bytes) -> dict[str, str]:
    """读出 .xlam/.xlsm（或 vbaProject.bin 的字节）中每个 VBA 模块的源码：模块名 → 文本。"""
    return {m.name: m.source for m in read_vba_project(source).modules}


def expected_modules(template: str | Path | None = None) -> list[vbaproject.Module]:
    """本版本构建出的 jixiao.xlam 应含的 VBA 模块（源码即 VBA 保存的文本）。"""
    return vba_modules.addin_modules(read_vba_project(Path(template) if template else template_path()))


def verify_vba(path: str | Path, expected: list[vbaproject.Module] | None = None) -> list[str]:
    """读回 .xlam 的 VBA 工程，逐个模块与应有的源码逐字节比较。返回问题（中文），空表示一致。"""
    expected = expected if expected is not None else expected_modules()
    try:
        project = read_vba_project(path)
    except XlamError as exc:
        return [str(exc)]
    got = {m.name: m for m in project.modules}
    problems = []
    for m in expected:
        g = got.get(m.name)
        if g is None:
            problems.append(f"缺少 VBA 模块 {m.name}")
        elif g.kind != m.kind:
            problems.append(f"VBA 模块 {m.name} 的种类为 {g.kind}，应为 {m.kind}")
        elif g.source != m.source:
            problems.append(f"VBA 模块 {m.name} 的源码与应有的不一致")
    extra = sorted(set(got) - {m.name for m in expected})
    if extra:
        problems.append(f"多出 VBA 模块 {'、'.join(extra)}")
    return problems


_VERSION_RE = re.compile(r'XLWINGS_VERSION\s+As\s+String\s*=\s*"([^"]+)"', re.I)
_CALLBACKS_RE = re.compile(r'JIXIAO_CALLBACKS_VERSION\s+As\s+String\s*=\s*"([^"]+)"', re.I)


def vba_xlwings_version(modules: dict[str, str]) -> str | None:
    """VBA 中 xlwings 的版本常量（模板为模块 xlwings，xlwings 自己的加载项为模块 Main）。"""
    for text in modules.values():
        m = _VERSION_RE.search(text)
        if m:
            return m.group(1)
    return None


def callbacks_version(text: str) -> str | None:
    m = _CALLBACKS_RE.search(text)
    return m.group(1) if m else None


def shipped_callbacks_version() -> str:
    v = callbacks_version(VBA_FILES[0].read_text(encoding="ascii"))
    if v is None:
        raise XlamError(f"{VBA_FILES[0].name} 缺少 JIXIAO_CALLBACKS_VERSION")
    return v


_UDF_DECL_RE = re.compile(r"^\s*Function\s+(\w+)\s*\(", re.M | re.I)


def imported_udfs(modules: dict[str, str]) -> set[str]:
    """xlwings_udfs 模块中已生成的单元格函数名。"""
    return {m.group(1).upper() for m in _UDF_DECL_RE.finditer(modules.get(UDF_VBA_MODULE, ""))}


def vba_text_for_import(path: Path) -> bytes:
    """导入 VBA 编辑器的文本：CRLF 行尾、纯 ASCII（VBComponents.Import 按系统 ANSI 代码页读取）。"""
    text = path.read_text(encoding="ascii")
    return vba_modules.crlf(text).encode("ascii")


_DESC_RE = re.compile(r"jixiao (\S+) 绩效评价加载项；基于 xlwings (\S+) ")


def build_info(path: str | Path) -> tuple[str | None, str | None]:
    """加载项 core.xml 中记录的 (jixiao 版本, xlwings 版本)；读不到为 None。"""
    try:
        with zipfile.ZipFile(path) as z:
            core = z.read("docProps/core.xml").decode("utf-8")
    except (OSError, KeyError, zipfile.BadZipFile):
        return None, None
    m = _DESC_RE.search(core)
    return (m.group(1), m.group(2)) if m else (None, None)

