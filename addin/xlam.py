"""jixiao.xlam 的构建与离线检查（Linux 上可运行，不需要 Excel）。

构建：以 xlwings 随包附带的功能区加载项模板 ``quickstart_addin_ribbon.xlam`` 为底（``xlwings quickstart NAME
--addin --ribbon`` 复制的正是这个文件，测试逐字节核对），做三处改动后另存为 jixiao.xlam：

1. 功能区：删去模板的 customUI/customUI.xml，换成本包的 ``addin/ribbon/customUI14.xml``（Office 2010 起的
   2009/07 命名空间，关系类型 ``…/2007/relationships/ui/extensibility``），并改写 _rels/.rels 中的那条关系；
   customUI 部件的内容类型由 [Content_Types].xml 里 xml 扩展名的默认类型（application/xml）覆盖，无需 Override。
2. 配置表：模板里停用的 ``_myaddin.conf`` 表改名为 ``myaddin.conf``（xlwings 的 VBA 按常量 PROJECT_NAME = "myaddin"
   找 ``PROJECT_NAME & ".conf"`` 表；不改 VBA，所以沿用这个名字），写入 ``UDF Modules = udfs.xl`` 与（安装时）
   ``Interpreter_Win = 当前解释器``。只写有值的键：xlwings 读表时键存在即采用，空值会遮住用户配置文件里的设置。
3. VBA 工程（xl/vbaProject.bin）原样保留：Linux 上无法编写 VBA。按钮回调模块 ``addin/vba/JixiaoRibbon.bas`` 与
   ``JixiaoEvents.cls``、以及单元格函数的 VBA 包装（xlwings_udfs）在 Windows 上由 ``jixiao addin install`` 通过
   Excel 导入（见 addin_cli.py 与 README 中的理由）。

离线检查：``read_vba_modules`` 按 [MS-CFB]（复合文件）与 [MS-OVBA]（VBA 源码压缩）读出 .xlam 中各 VBA 模块的源码，
不依赖 olefile/oletools。``jixiao addin status`` 用它核对加载项 VBA 的 xlwings 版本是否等于已安装的 xlwings 包版本
（不一致时单元格函数无法加载 xlwings64-版本.dll，是最常见的故障）、回调模块与单元格函数是否已导入。
"""
from __future__ import annotations

import importlib.util
import io
import re
import struct
import zipfile
from dataclasses import dataclass
from pathlib import Path
from xml.sax.saxutils import escape

from defusedxml import ElementTree as SafeET

ADDIN_NAME = "jixiao.xlam"
TEMPLATE_NAME = "quickstart_addin_ribbon.xlam"
PROJECT_NAME = "myaddin"  # 模板 VBA 中的常量 PROJECT_NAME；配置表与用户配置文件都以它命名
CONF_SHEET = f"{PROJECT_NAME}.conf"
TEMPLATE_CONF_SHEET = f"_{PROJECT_NAME}.conf"
UDF_MODULES = "udfs.xl"

CUSTOMUI_PART = "customUI/customUI14.xml"
TEMPLATE_CUSTOMUI_PART = "customUI/customUI.xml"
CUSTOMUI_NS = "http://schemas.microsoft.com/office/2009/07/customui"
RIBBON_REL_TYPE = "http://schemas.microsoft.com/office/2007/relationships/ui/extensibility"
RIBBON_REL_TYPE_2006 = "http://schemas.microsoft.com/office/2006/relationships/ui/extensibility"
PKG_REL_NS = "http://schemas.openxmlformats.org/package/2006/relationships"
CT_NS = "http://schemas.openxmlformats.org/package/2006/content-types"
MAIN_NS = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
ADDIN_MAIN_CT = "application/vnd.ms-excel.addin.macroEnabled.main+xml"
VBA_CT = "application/vnd.ms-office.vbaProject"

CALLBACK_MODULE = "JixiaoRibbon"
EVENTS_MODULE = "JixiaoEvents"
UDF_VBA_MODULE = "xlwings_udfs"  # xlwings.udfs.import_udfs 生成的模块名
TEMPLATE_VBA_MODULE = "xlwings"  # 模板中含 RunPython 与 XLWINGS_VERSION 的模块

PACKAGE_DIR = Path(__file__).resolve().parent
RIBBON_XML = PACKAGE_DIR / "ribbon" / "customUI14.xml"
RIBBON_XSD = PACKAGE_DIR / "ribbon" / "customui14-subset.xsd"
VBA_DIR = PACKAGE_DIR / "vba"
VBA_FILES = (VBA_DIR / f"{CALLBACK_MODULE}.bas", VBA_DIR / f"{EVENTS_MODULE}.cls")

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


@dataclass(frozen=True)
class Callback:
    """customUI 中的一个回调：元素 id、属性名（onAction/onLoad）、VBA 过程（Module.Proc）。"""

    element: str
    attribute: str
    procedure: str


def ribbon_callbacks(xml: bytes) -> list[Callback]:
    root = SafeET.fromstring(xml)
    out = []
    for el in root.iter():
        for attr in ("onAction", "onLoad"):
            if attr in el.attrib:
                out.append(Callback(el.attrib.get("id", _local(el.tag)), attr, el.attrib[attr]))
    return out


def ribbon_buttons(xml: bytes) -> list[dict[str, str]]:
    """功能区按钮（按出现顺序）：id、label、onAction 等属性。"""
    root = SafeET.fromstring(xml)
    return [dict(el.attrib) for el in root.iter(f"{{{CUSTOMUI_NS}}}button")]


_VBA_PROC = re.compile(r"^\s*(?:Public\s+|Private\s+)?(Sub|Function)\s+(\w+)\s*\(([^)]*)\)", re.M | re.I)


def vba_procedures(source: str) -> dict[str, tuple[str, bool, str]]:
    """VBA 源码中的过程：名称 → (Sub/Function, 是否 Private, 参数表)。"""
    out = {}
    for m in _VBA_PROC.finditer(source):
        private = m.group(0).lstrip().lower().startswith("private")
        out[m.group(2)] = (m.group(1).capitalize(), private, m.group(3).strip())
    return out


def vba_module_name(source: str) -> str | None:
    m = re.search(r'^Attribute VB_Name = "([^"]+)"', source, re.M)
    return m.group(1) if m else None


# 功能区回调的固定签名（Office RibbonX）：按钮 onAction 收到 IRibbonControl，customUI onLoad 收到 IRibbonUI
_CALLBACK_ARG = {"onAction": "IRibbonControl", "onLoad": "IRibbonUI"}


def check_customui(xml: bytes, vba_sources: dict[str, str] | None = None) -> list[str]:
    """核对功能区 XML：符合 customUI 架构子集、每个回调都能在随附的 VBA 模块中找到签名正确的 Public Sub。

    返回问题列表（中文），空表示通过。vba_sources：模块名 → 源码；默认读 addin/vba/ 下的文件。
    """
    problems: list[str] = []
    try:
        from lxml import etree

        schema = etree.XMLSchema(etree.parse(str(RIBBON_XSD)))
        doc = etree.fromstring(xml, etree.XMLParser(resolve_entities=False, no_network=True))
        if not schema.validate(doc):
            problems += [f"customUI 第 {e.line} 行：{e.message}" for e in schema.error_log]
    except ImportError:  # lxml 随 python-docx 安装；缺失时只做下面的结构检查
        pass
    except Exception as exc:  # noqa: BLE001 —— 解析错误也作为问题报告
        problems.append(f"customUI 无法解析：{exc}")
        return problems
    if vba_sources is None:
        vba_sources = {vba_module_name(t) or p.stem: t for p in VBA_FILES for t in [p.read_text(encoding="ascii")]}
    for cb in ribbon_callbacks(xml):
        module, _, proc = cb.procedure.rpartition(".")
        if not module:
            problems.append(f"{cb.element} 的 {cb.attribute}=“{cb.procedure}”没有模块前缀（易与其他加载项冲突）")
            continue
        if module not in vba_sources:
            problems.append(f"{cb.element} 的 {cb.attribute} 指向的模块 {module} 不在随附的 VBA 中")
            continue
        found = vba_procedures(vba_sources[module]).get(proc)
        if found is None:
            problems.append(f"{cb.element} 的 {cb.attribute} 指向的过程 {cb.procedure} 不存在")
        elif found[0] != "Sub" or found[1]:
            problems.append(f"{cb.procedure} 必须是 Public Sub")
        elif not re.fullmatch(rf"\w+\s+As\s+{_CALLBACK_ARG[cb.attribute]}", found[2], re.I):
            problems.append(f"{cb.procedure} 的参数应为 (… As {_CALLBACK_ARG[cb.attribute]})，实际为 ({found[2]})")
    return problems


# =====================================================================================================
# 构建
# =====================================================================================================
def addin_config(interpreter: str | None = None, udf_modules: str = UDF_MODULES,
                 extra: dict[str, str] | None = None) -> dict[str, str]:
    """加载项配置表的内容（键按 xlwings 的写法，读取时不区分大小写）。"""
    conf: dict[str, str] = {}
    if interpreter:
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
        f'<worksheet xmlns="{MAIN_NS}" xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships">'
        f'<sheetPr codeName="{escape(code_name)}"/><dimension ref="A1:B{n}"/>'
        '<sheetViews><sheetView tabSelected="1" workbookViewId="0"/></sheetViews>'
        '<sheetFormatPr defaultRowHeight="15.75"/>'
        '<cols><col min="1" max="1" width="18" customWidth="1"/><col min="2" max="2" width="70" customWidth="1"/></cols>'
        f'<sheetData>{"".join(rows)}</sheetData>'
        '<pageMargins left="0.7" right="0.7" top="0.75" bottom="0.75" header="0.3" footer="0.3"/></worksheet>'
    ).encode("utf-8")


def _rels_targets(rels_xml: bytes) -> list[tuple[str, str, str]]:
    root = SafeET.fromstring(rels_xml)
    return [(r.get("Id", ""), r.get("Type", ""), r.get("Target", "")) for r in root.iter(f"{{{PKG_REL_NS}}}Relationship")]


def _conf_sheet_part(parts: dict[str, bytes]) -> tuple[str, str]:
    """模板中配置表的部件路径与 codeName。"""
    wb = parts["xl/workbook.xml"].decode("utf-8")
    m = re.search(r'<sheet name="' + re.escape(TEMPLATE_CONF_SHEET) + r'"[^>]*r:id="(rId\d+)"', wb)
    if not m:
        raise XlamError(f"模板 xl/workbook.xml 中没有配置表“{TEMPLATE_CONF_SHEET}”（xlwings 模板结构已变化）")
    rid = m.group(1)
    target = next((t for i, _, t in _rels_targets(parts["xl/_rels/workbook.xml.rels"]) if i == rid), None)
    if not target:
        raise XlamError(f"模板中配置表的关系 {rid} 不存在")
    part = "xl/" + target.lstrip("/").removeprefix("xl/")
    code = re.search(rb'<sheetPr[^>]*codeName="([^"]+)"', parts[part])
    return part, code.group(1).decode() if code else "Sheet1"


def build_xlam(out: str | Path, *, interpreter: str | None = None, udf_modules: str = UDF_MODULES,
               extra_config: dict[str, str] | None = None, template: str | Path | None = None,
               ribbon_xml: bytes | None = None) -> Path:
    """由 xlwings 模板构建 jixiao.xlam。out 为目录（写入 out/jixiao.xlam）或以 .xlam 结尾的文件路径。"""
    out = Path(out)
    target = out if out.suffix.lower() == ".xlam" else out / ADDIN_NAME
    src = Path(template) if template else template_path()
    ribbon = ribbon_xml if ribbon_xml is not None else RIBBON_XML.read_bytes()
    problems = check_customui(ribbon)
    if problems:
        raise XlamError("功能区定义有误：" + "；".join(problems))
    try:
        with zipfile.ZipFile(src) as z:
            parts = {i.filename: z.read(i) for i in z.infolist() if not i.is_dir()}
    except (OSError, zipfile.BadZipFile) as exc:
        raise XlamError(f"无法读取加载项模板 {src}：{exc}") from None
    for required in ("xl/workbook.xml", "xl/vbaProject.bin", "_rels/.rels", "[Content_Types].xml"):
        if required not in parts:
            raise XlamError(f"加载项模板缺少部件 {required}（xlwings 模板结构已变化）")

    # 1. 功能区
    parts.pop(TEMPLATE_CUSTOMUI_PART, None)
    parts[CUSTOMUI_PART] = ribbon
    rels = parts["_rels/.rels"].decode("utf-8")
    rels, n = re.subn(r'<Relationship [^>]*Type="' + re.escape(RIBBON_REL_TYPE) + r'"[^>]*/>', "", rels)
    rels, n2 = re.subn(r'<Relationship [^>]*Type="' + re.escape(RIBBON_REL_TYPE_2006) + r'"[^>]*/>', "", rels)
    if n + n2 != 1:
        raise XlamError("模板 _rels/.rels 中的功能区关系不是恰好一条（xlwings 模板结构已变化）")
    rels = rels.replace("</Relationships>", f'<Relationship Id="jixiaoRibbon" Type="{RIBBON_REL_TYPE}" '
                                            f'Target="{CUSTOMUI_PART}"/></Relationships>')
    parts["_rels/.rels"] = rels.encode("utf-8")

    # 2. 配置表
    conf_part, code_name = _conf_sheet_part(parts)
    conf = addin_config(interpreter, udf_modules, extra_config)
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
    return target


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
        ct_root = SafeET.fromstring(z.read("[Content_Types].xml"))
        defaults = {e.get("Extension", "").lower(): e.get("ContentType", "") for e in ct_root.iter(f"{{{CT_NS}}}Default")}
        overrides = {e.get("PartName", "").lstrip("/"): e.get("ContentType", "") for e in ct_root.iter(f"{{{CT_NS}}}Override")}
        cts = {n: overrides.get(n) or defaults.get(n.rsplit(".", 1)[-1].lower(), "") for n in names}
        ribbon = [(t, ty) for _, ty, t in _rels_targets(z.read("_rels/.rels")) if ty in (RIBBON_REL_TYPE, RIBBON_REL_TYPE_2006)]
        wb = z.read("xl/workbook.xml").decode("utf-8")
        sheet = re.search(r'<sheet name="([^"]+)"', wb)
        conf: dict[str, str] = {}
        conf_name = sheet.group(1) if sheet else None
        if conf_name:
            rid = re.search(r'<sheet name="[^"]+"[^>]*r:id="(rId\d+)"', wb).group(1)
            tgt = next(t for i, _, t in _rels_targets(z.read("xl/_rels/workbook.xml.rels")) if i == rid)
            conf = _read_conf_sheet(z.read("xl/" + tgt.lstrip("/").removeprefix("xl/")),
                                    z.read("xl/sharedStrings.xml") if "xl/sharedStrings.xml" in names else None)
    return XlamInfo(names, cts, ribbon[0][0].lstrip("/") if ribbon else None, ribbon[0][1] if ribbon else None,
                    conf_name, conf)


def _read_conf_sheet(sheet_xml: bytes, shared: bytes | None) -> dict[str, str]:
    ns = {"m": MAIN_NS}
    strings = []
    if shared:
        for si in SafeET.fromstring(shared).iterfind("m:si", ns):
            strings.append("".join(t.text or "" for t in si.iter(f"{{{MAIN_NS}}}t")))
    cells: dict[str, str] = {}
    for c in SafeET.fromstring(sheet_xml).iter(f"{{{MAIN_NS}}}c"):
        t = c.get("t")
        if t == "inlineStr":
            v = "".join(x.text or "" for x in c.iter(f"{{{MAIN_NS}}}t"))
        else:
            ve = c.find("m:v", ns)
            if ve is None:
                continue
            v = strings[int(ve.text)] if t == "s" else ("TRUE" if ve.text == "1" else "FALSE") if t == "b" else ve.text or ""
        cells[c.get("r", "")] = v
    out = {}
    for ref, key in cells.items():
        if ref.startswith("A") and key:
            out[key] = cells.get("B" + ref[1:], "")
    return out


# =====================================================================================================
# 离线读取 VBA：[MS-CFB] 复合文件 + [MS-OVBA] 压缩
# =====================================================================================================
_CFB_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
_ENDOFCHAIN, _FREESECT = 0xFFFFFFFE, 0xFFFFFFFF


class _Cfb:
    """只读的复合文件读取器：够读出 vbaProject.bin 中的流。"""

    def __init__(self, data: bytes):
        if data[:8] != _CFB_MAGIC:
            raise XlamError("vbaProject.bin 不是复合文件（OLE）格式")
        self.data = data
        self.sector_size = 1 << struct.unpack_from("<H", data, 0x1E)[0]
        self.mini_size = 1 << struct.unpack_from("<H", data, 0x20)[0]
        n_fat, first_dir = struct.unpack_from("<II", data, 0x2C)
        self.cutoff, first_minifat, n_minifat, first_difat, n_difat = struct.unpack_from("<IIIII", data, 0x38)
        difat = list(struct.unpack_from("<109I", data, 0x4C))
        sect = first_difat
        per = self.sector_size // 4
        for _ in range(n_difat):
            if sect in (_ENDOFCHAIN, _FREESECT):
                break
            vals = struct.unpack_from(f"<{per}I", data, self._off(sect))
            difat += vals[:-1]
            sect = vals[-1]
        fat_sectors = [s for s in difat if s not in (_ENDOFCHAIN, _FREESECT)][:n_fat]
        self.fat: list[int] = []
        for s in fat_sectors:
            self.fat += struct.unpack_from(f"<{per}I", data, self._off(s))
        dir_bytes = self._chain(first_dir)
        self.entries = []
        for i in range(len(dir_bytes) // 128):
            e = dir_bytes[i * 128:(i + 1) * 128]
            name_len = struct.unpack_from("<H", e, 0x40)[0]
            name = e[:max(name_len - 2, 0)].decode("utf-16-le", "replace")
            etype = e[0x42]
            left, right, child = struct.unpack_from("<III", e, 0x44)
            start, size = struct.unpack_from("<IQ", e, 0x74)
            if self.sector_size == 512:
                size &= 0xFFFFFFFF  # 版本 3：高 32 位未定义
            self.entries.append((name, etype, left, right, child, start, size))
        root = self.entries[0]
        self.ministream = self._chain(root[5])[:root[6]] if root[6] else b""
        self.minifat: list[int] = []
        if n_minifat:
            mf = self._chain(first_minifat)
            self.minifat = list(struct.unpack_from(f"<{len(mf) // 4}I", mf))
        self.paths: dict[str, int] = {}
        self._walk(root[4], "")

    def _off(self, sect: int) -> int:
        return (sect + 1) * self.sector_size

    def _chain(self, start: int) -> bytes:
        out = bytearray()
        sect, guard = start, 0
        while sect not in (_ENDOFCHAIN, _FREESECT) and sect < len(self.fat):
            out += self.data[self._off(sect):self._off(sect) + self.sector_size]
            sect = self.fat[sect]
            guard += 1
            if guard > len(self.fat):
                raise XlamError("vbaProject.bin 的扇区链有环，文件已损坏")
        return bytes(out)

    def _walk(self, idx: int, prefix: str, depth: int = 0) -> None:
        if idx == _FREESECT or idx >= len(self.entries) or depth > 64:
            return
        name, etype, left, right, child, *_ = self.entries[idx]
        self._walk(left, prefix, depth + 1)
        path = f"{prefix}{name}"
        self.paths[path.lower()] = idx
        if etype == 1:  # storage
            self._walk(child, path + "/", depth + 1)
        self._walk(right, prefix, depth + 1)

    def stream(self, path: str) -> bytes:
        idx = self.paths.get(path.lower())
        if idx is None:
            raise KeyError(path)
        _, _, _, _, _, start, size = self.entries[idx]
        if size < self.cutoff:
            out = bytearray()
            sect, guard = start, 0
            while sect not in (_ENDOFCHAIN, _FREESECT) and sect < len(self.minifat) and guard <= len(self.minifat):
                out += self.ministream[sect * self.mini_size:(sect + 1) * self.mini_size]
                sect = self.minifat[sect]
                guard += 1
            return bytes(out[:size])
        return self._chain(start)[:size]


def decompress_vba(data: bytes) -> bytes:
    """[MS-OVBA] 2.4.1 CompressedContainer 解压。"""
    if not data or data[0] != 1:
        raise XlamError("VBA 压缩数据签名不对")
    out = bytearray()
    pos = 1
    while pos < len(data) - 1:
        header = struct.unpack_from("<H", data, pos)
        header = header[0]
        chunk_size = (header & 0x0FFF) + 3
        compressed = header & 0x8000
        chunk_end = min(pos + chunk_size, len(data))
        pos += 2
        chunk_start = len(out)
        if not compressed:
            out += data[pos:pos + 4096]
            pos += 4096
            continue
        while pos < chunk_end:
            flags = data[pos]
            pos += 1
            for bit in range(8):
                if pos >= chunk_end:
                    break
                if not flags & (1 << bit):
                    out.append(data[pos])
                    pos += 1
                    continue
                token = struct.unpack_from("<H", data, pos)[0]
                pos += 2
                diff = len(out) - chunk_start
                bit_count = max((diff - 1).bit_length(), 4)
                length_mask = 0xFFFF >> bit_count
                length = (token & length_mask) + 3
                offset = (token >> (16 - bit_count)) + 1
                if offset > len(out):
                    raise XlamError("VBA 压缩数据已损坏（复制偏移越界）")
                for _ in range(length):
                    out.append(out[-offset])
    return bytes(out)


def _dir_modules(dir_data: bytes) -> tuple[str, list[tuple[str, str, int]]]:
    """解析 VBA/dir 流：返回 (代码页编码, [(模块名, 流名, 源码偏移)])。"""
    pos = 0
    codec = "cp1252"
    modules: list[tuple[str, str, int]] = []
    cur: dict[str, object] = {}
    while pos + 6 <= len(dir_data):
        rid, size = struct.unpack_from("<HI", dir_data, pos)
        pos += 6
        if rid == 0x0009:  # PROJECTVERSION：Size 字段固定为 4，实际跟 6 个字节
            size = 6
        body = dir_data[pos:pos + size]
        pos += size
        if rid == 0x0003:
            codec = f"cp{struct.unpack_from('<H', body)[0]}"
        elif rid == 0x0019:
            cur = {"name": body}
        elif rid == 0x001A:
            cur["stream"] = body
        elif rid == 0x0031:
            cur["offset"] = struct.unpack_from("<I", body)[0]
        elif rid == 0x002B and cur:
            modules.append((cur["name"], cur.get("stream", cur["name"]), cur.get("offset", 0)))  # type: ignore[arg-type]
            cur = {}
    try:
        "".encode(codec)
    except LookupError:
        codec = "cp1252"
    return codec, [(n.decode(codec, "replace"), s.decode(codec, "replace"), o) for n, s, o in modules]  # type: ignore[union-attr]


def read_vba_modules(source: str | Path | bytes) -> dict[str, str]:
    """读出 .xlam/.xlsm（或 vbaProject.bin 的字节）中每个 VBA 模块的源码：模块名 → 文本。"""
    if isinstance(source, (bytes, bytearray)):
        data = bytes(source)
        if data[:2] == b"PK":
            data = zipfile.ZipFile(io.BytesIO(data)).read("xl/vbaProject.bin")
    else:
        try:
            with zipfile.ZipFile(source) as z:
                data = z.read("xl/vbaProject.bin")
        except KeyError:
            raise XlamError(f"{Path(source).name} 中没有 VBA 工程") from None
        except (OSError, zipfile.BadZipFile) as exc:
            raise XlamError(f"无法读取 {Path(source).name}：{exc}") from None
    cfb = _Cfb(data)
    try:
        codec, modules = _dir_modules(decompress_vba(cfb.stream("VBA/dir")))
    except KeyError:
        raise XlamError("VBA 工程缺少 dir 流") from None
    out: dict[str, str] = {}
    for name, stream, offset in modules:
        try:
            raw = cfb.stream(f"VBA/{stream}")
        except KeyError:
            continue
        out[name] = decompress_vba(raw[offset:]).decode(codec, "replace") if offset < len(raw) else ""
    return out


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


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def vba_text_for_import(path: Path) -> bytes:
    """导入 VBA 编辑器的文本：CRLF 行尾、纯 ASCII（VBComponents.Import 按系统 ANSI 代码页读取）。"""
    text = path.read_text(encoding="ascii")
    return text.replace("\r\n", "\n").replace("\n", "\r\n").encode("ascii")

