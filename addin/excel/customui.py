"""功能区 XML（customUI14.xml）与它的 VBA 回调：按钮与回调的清单、customUI 按子集 XSD 校验，回调过程在 VBA 模块中存在且签名
正确（按钮 onAction 收到 IRibbonControl，customUI onLoad 收到 IRibbonUI）。构建加载项（xlam.py）与测试共用。"""
from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from ..io import ooxml
from . import vba_modules

CUSTOMUI_PART = "customUI/customUI14.xml"  # 加载项包中的功能区部件
CUSTOMUI_NS = "http://schemas.microsoft.com/office/2009/07/customui"
RIBBON_XML = Path(__file__).resolve().parent / "ribbon" / "customUI14.xml"
RIBBON_XSD = Path(__file__).resolve().parent / "ribbon" / "customui14-subset.xsd"


@dataclass(frozen=True)
class Callback:
    """customUI 中的一个回调：元素 id、属性名（onAction/onLoad）、VBA 过程（Module.Proc）。"""

    element: str
    attribute: str
    procedure: str


def ribbon_callbacks(xml: bytes) -> list[Callback]:
    root = ooxml.parse_xml(xml, CUSTOMUI_PART)
    out = []
    for el in root.iter():
        if not isinstance(el.tag, str):  # 注释、处理指令
            continue
        for attr in ("onAction", "onLoad"):
            if attr in el.attrib:
                out.append(Callback(el.attrib.get("id", ooxml.local(el.tag)), attr, el.attrib[attr]))
    return out


def ribbon_buttons(xml: bytes) -> list[dict[str, str]]:
    """功能区按钮（按出现顺序）：id、label、onAction 等属性。"""
    root = ooxml.parse_xml(xml, CUSTOMUI_PART)
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

    返回问题列表（中文），空表示通过。vba_sources：模块名 → 源码；默认读 addin/excel/vba/ 下的文件。
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
        files = (vba_modules.CALLBACK_FILE, vba_modules.EVENTS_FILE)
        vba_sources = {vba_module_name(t) or p.stem: t for p in files for t in [p.read_text(encoding="ascii")]}
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
