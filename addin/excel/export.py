"""导出定稿：另存一份把单元格函数（UDF）换成计算结果的副本，对方电脑没装本加载项也能打开、数字不变。

为什么需要：工作簿里的 =BUDGET_COMPLETION(…) 等函数来自 jixiao.xlam。Excel 保存时把它们记成指向加载项完整路径的
外部链接（如 'C:\\Users\\张三\\…\\XLSTART\\jixiao.xlam'!BUDGET_COMPLETION），在另一台电脑上这个路径不存在，
打开时提示“更新链接”、单元格显示 #NAME? 或旧路径（微软知识库 KB 817578）。装了本加载项的电脑由功能区的
打开事件自动改链（addin/excel/vba/JixiaoRibbon.bas 的 RelinkToThisAddin）；发给没装加载项的人则用本功能。

做法（两种适配器共用同一份“替换计划”）：
1. ``plan_export(book)``：找出所有调用了本加载项函数的公式单元格（识别 ``NAME(``、``[1]!NAME(``、
   ``'…\\jixiao.xlam'!NAME(``、``_xludf.NAME(`` 等写法），取其数值：优先用工作簿中保存的计算结果（即用户在 Excel
   里看到的数）；没有保存结果（文件由 openpyxl 之类的程序保存过）或结果是 #NAME? 之类错误时，用计分引擎对同一单元格
   算出的值（实际值、计算得分、得分、等级，与单元格函数同一段代码）；两者都没有则拒绝导出并指出单元格。
2. 应用计划：
   - Excel 中（XlwingsBook.export_values_copy）：SaveCopyAs 另存副本、打开副本逐格写入数值、BreakLink 断开指向
     .xlam 的链接、保存关闭；正在编辑的工作簿不受影响。
   - 命令行/无 Excel（``write_values_copy``）：直接改写 .xlsx 压缩包中的工作表 XML：只把这些单元格的 <f> 去掉、
     值写成数字或内联文本，其余字节原样保留（样式、保护、数据验证、图表、其他公式及其缓存结果都不变，openpyxl
     读写一遍会丢掉图表与缓存结果，所以不用它）；删除 calcChain（Excel 打开时自动重建），删除只被这些公式使用的
     指向 .xlam 的外部链接并把其余外部链接的编号 [n] 顺次重排。
"""
from __future__ import annotations

import html
import re
import zipfile
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any
from xml.sax.saxutils import escape

from udfs.excel import CATALOG, ERROR_PREFIX, NA_TEXT

from ..io import ooxml
from ..io.book import BookError, LiveBook
from ..io.ooxml import a1, parse_a1
from ..model import GENERATED_SHEETS, SHEET_SCORES, Formula

UDF_NAMES = frozenset(s.name.upper() for s in CATALOG)
FINAL_SUFFIX = "_定稿"

# 公式中的函数调用：可选的外部引用前缀（[1]!、'路径\jixiao.xlam'!、jixiao.xlam!）或 _xludf. 前缀，再是函数名与“(”
_CALL_RE = re.compile(r"(?<![A-Za-z0-9_.])(?:'(?:[^']|'')*'!|\[\d+\]!|[A-Za-z0-9_.\-]+\.xla[mx]?!|_xludf\.)?"
                      r"([A-Za-z_][A-Za-z0-9_.]*)\s*\(", re.I)
_STRING_RE = re.compile(r'"(?:[^"]|"")*"')


class ExportError(Exception):
    """无法导出定稿（中文说明，指出单元格）。"""


def udf_calls(formula: str) -> set[str]:
    """公式中调用的本加载项函数名（大写）。字符串常量中的文字不算。"""
    code = _STRING_RE.sub('""', formula)
    return {m.group(1).upper() for m in _CALL_RE.finditer(code)} & UDF_NAMES


def final_path(source: str | Path) -> Path:
    """定稿副本的默认路径：与原文件同一文件夹，文件名加“_定稿”。"""
    p = Path(source)
    stem = p.stem[: -len(FINAL_SUFFIX)] if p.stem.endswith(FINAL_SUFFIX) else p.stem
    return p.with_name(f"{stem}{FINAL_SUFFIX}{p.suffix or '.xlsx'}")


@dataclass
class ExportPlan:
    values: dict[str, dict[tuple[int, int], Any]] = field(default_factory=dict)
    from_engine: list[str] = field(default_factory=list)  # 用引擎值代替缺失缓存的单元格（'表'!A1）
    problems: list[str] = field(default_factory=list)

    @property
    def count(self) -> int:
        return sum(len(v) for v in self.values.values())


def _usable(cached: Any) -> bool:
    return cached is not None and not (isinstance(cached, str) and cached.startswith("#"))


def _engine_values(book) -> dict[tuple[str, str], Any]:
    """计分引擎对评分表中各公式单元格的值（与单元格函数的返回值同样的形式：数字 / “不适用” / “错误：…” / 等级）。"""
    from ..scoring.engine import evaluate
    from ..scoring.reader import ReadError, read_inputs

    try:
        inputs = read_inputs(book)
    except (ReadError, BookError):
        return {}
    ev = evaluate(inputs)
    out: dict[tuple[str, str], Any] = {}
    final_col = None
    for r in ev.indicators:
        if r.value_error:
            v: Any = ERROR_PREFIX + r.value_error
        elif r.value is None:
            v = NA_TEXT
        else:
            v = float(r.value) if isinstance(r.value, Decimal) else r.value
        if r.cells.get("value"):
            out[(SHEET_SCORES, r.cells["value"])] = v
        if r.cells.get("computed"):
            out[(SHEET_SCORES, r.cells["computed"])] = float(r.computed) if r.computed is not None else ERROR_PREFIX + "无法计分"
        if r.cells.get("final") and r.final is not None:
            out[(SHEET_SCORES, r.cells["final"])] = float(r.final)
            final_col = ooxml.col_part(r.cells["final"])
    grade = inputs.cells.get(("grade",))
    if grade and final_col:
        out[(grade[0], f"{final_col}{grade[1]}")] = ev.grade if ev.grade is not None else "未完成"  # 与模板的等级公式相同
    return out


def plan_export(book) -> ExportPlan:
    """找出全部单元格函数公式及其应替换成的数值（见模块说明）。book：任一 Book 适配器（需带公式缓存值）。"""
    plan = ExportPlan()
    engine: dict[tuple[str, str], Any] | None = None
    for sheet in book.sheet_names():
        if sheet in GENERATED_SHEETS:  # 程序生成的表只有文字，从不含公式
            continue
        for (r, c), v in sorted(book.grid(sheet).items()):
            if not isinstance(v, Formula) or not udf_calls(v.text):
                continue
            ref = a1(r, c)
            if _usable(v.cached):
                value = v.cached
            else:
                if engine is None:
                    engine = _engine_values(book)
                if (sheet, ref) in engine:
                    value = engine[(sheet, ref)]
                    plan.from_engine.append(f"'{sheet}'!{ref}")
                else:
                    plan.problems.append(f"“{sheet}”!{ref} 的公式 {v.text[:60]} 没有可用的计算结果")
                    continue
            plan.values.setdefault(sheet, {})[(r, c)] = value
    return plan


@dataclass
class ExportResult:
    target: Path
    replaced: int
    from_engine: list[str]
    notes: list[str]

    def message(self) -> str:
        lines = [f"已导出定稿：{self.target}",
                 f"共 {self.replaced} 个单元格函数已替换为计算结果，对方电脑无需安装绩效评价加载项即可打开；其余内容与原工作簿相同。"]
        if self.from_engine:
            lines.append(f"其中 {len(self.from_engine)} 个单元格文件中没有保存计算结果，已按评分规则重新计算后填入。")
        lines += self.notes
        return "\n".join(lines)


def export_final(book, target: str | Path | None = None) -> ExportResult:
    """导出定稿副本（Excel 中经 XlwingsBook；否则改写 book.path 指向的文件）。"""
    source = book.path
    if target is None:
        if source is None:
            raise ExportError("工作簿尚未保存，无法确定定稿副本的位置：请先保存工作簿，再导出定稿")
        target = final_path(source)
    target = Path(target)
    from ..io.filecheck import WORKBOOK_SUFFIXES
    from ..io.safeio import same_path

    if source is not None and same_path(source, target):
        raise ExportError(f"定稿副本“{target}”就是原工作簿{'' if target.name == Path(source).name else '（同一个文件的另一个名字）'}，"
                          "不能覆盖它，请换一个文件名；本次没有写入任何文件")
    if target.suffix.lower() not in WORKBOOK_SUFFIXES:
        raise ExportError(f"定稿副本应以 .xlsx 结尾：“{target}”；本次没有写入任何文件")
    plan = plan_export(book)
    if plan.problems:
        raise ExportError("无法导出定稿：" + "；".join(plan.problems[:5])
                          + ("…" if len(plan.problems) > 5 else "")
                          + "。请在装有本加载项的 Excel 中打开工作簿、按“计算得分”后保存，再导出")
    if isinstance(book, LiveBook):  # Excel 中：另存副本后在 Excel 里替换（用户正在编辑的工作簿不动）
        notes = book.export_values_copy(target, plan.values)
    else:
        if source is None:
            raise ExportError("找不到工作簿文件")
        notes = write_values_copy(Path(source), target, plan.values)
    return ExportResult(target, plan.count, plan.from_engine, notes)


# =====================================================================================================
# .xlsx 压缩包的定点改写
# =====================================================================================================
_CELL_RE = re.compile(r"<(?P<p>\w+:)?c\b(?P<attrs>[^>]*?)(?:/>|>(?P<body>.*?)</(?P=p)?c>)", re.S)
_F_RE = re.compile(r"<(?P<p>\w+:)?f\b(?P<attrs>[^>]*?)(?:/>|>(?P<text>.*?)</(?P=p)?f>)", re.S)
_ATTR_RE = re.compile(r'\s([\w:]+)="([^"]*)"')


def _attrs(s: str) -> dict[str, str]:
    return {k: html.unescape(v) for k, v in _ATTR_RE.findall(s)}


def _attr_str(attrs: dict[str, str]) -> str:
    return "".join(f' {k}="{escape(v, {chr(34): "&quot;"})}"' for k, v in attrs.items())


def _cell_xml(prefix: str, attrs: dict[str, str], value: Any) -> str:
    keep = {k: v for k, v in attrs.items() if k not in ("t", "cm", "vm")}
    tag = f"{prefix}c"
    if value is None:
        return f"<{tag}{_attr_str(keep)}/>"
    if isinstance(value, bool):
        return f'<{tag}{_attr_str({**keep, "t": "b"})}><{prefix}v>{int(value)}</{prefix}v></{tag}>'
    if isinstance(value, (int, float, Decimal)):
        num = repr(float(value)) if isinstance(value, float) else str(value)
        if num.endswith(".0"):
            num = num[:-2]
        return f"<{tag}{_attr_str(keep)}><{prefix}v>{num}</{prefix}v></{tag}>"
    text = str(value)
    return (f'<{tag}{_attr_str({**keep, "t": "inlineStr"})}><{prefix}is><{prefix}t xml:space="preserve">'
            f"{escape(text)}</{prefix}t></{prefix}is></{tag}>")


def _map_formula_text(text_xml: str, fn) -> str:
    """对 XML 转义过的公式文本做变换（先反转义、变换、再转义）。"""
    return escape(fn(html.unescape(text_xml)))


def _renumber_external(formula: str, mapping: dict[int, int]) -> str:
    """把公式中外部工作簿编号 [n] 按 mapping 改写；字符串常量与结构化引用（Table1[2018]）不动。"""
    out = []
    pos = 0
    for m in _STRING_RE.finditer(formula):
        out.append(_renumber_code(formula[pos:m.start()], mapping))
        out.append(m.group(0))
        pos = m.end()
    out.append(_renumber_code(formula[pos:], mapping))
    return "".join(out)


def _renumber_code(code: str, mapping: dict[int, int]) -> str:
    return re.sub(r"(?<![A-Za-z0-9_\]])\[(\d+)\]", lambda m: f"[{mapping.get(int(m.group(1)), int(m.group(1)))}]", code)


def write_values_copy(source: Path, target: Path, values: dict[str, dict[tuple[int, int], Any]]) -> list[str]:
    """把 source 中 values 所列单元格的公式换成数值，写到 target（其余部件逐字节保留）。返回说明。"""
    try:
        with zipfile.ZipFile(source) as z:
            infos = z.infolist()
            parts = {i.filename: z.read(i) for i in infos if not i.is_dir()}
    except FileNotFoundError:
        raise ExportError(f"找不到文件：{source}") from None
    except (OSError, zipfile.BadZipFile) as exc:
        raise ExportError(f"无法读取“{source.name}”：{exc}") from None
    notes: list[str] = []
    _, sheets = ooxml.sheet_map(parts.get)
    sheet_parts = {s.name: s.part for s in sheets if s.part}

    # 1. 公式单元格 → 数值
    for sheet, cells in values.items():
        part = sheet_parts.get(sheet)
        if part is None or part not in parts:
            raise ExportError(f"工作簿中找不到工作表“{sheet}”的数据部件")
        xml = parts[part].decode("utf-8")
        pending = dict(cells)
        replaced_shared: set[str] = set()
        kept_shared_members: dict[str, str] = {}

        # 本轮的 pending 等作为默认参数绑定：fix 只在本轮的 _CELL_RE.sub 中调用，绑定让这一点不依赖循环变量
        def fix(m: re.Match[str], pending: dict[tuple[int, int], Any] = pending,
                replaced_shared: set[str] = replaced_shared,
                kept_shared_members: dict[str, str] = kept_shared_members) -> str:
            a = _attrs(m.group("attrs"))
            if "r" not in a:  # 省略 r 的单元格（Excel 不这样写）不在计划内
                return m.group(0)
            rc = parse_a1(a["r"])
            body = m.group("body") or ""
            fm = _F_RE.search(body)
            fa = _attrs(fm.group("attrs")) if fm else {}
            if rc not in pending:
                if fa.get("t") == "shared" and "si" in fa:
                    kept_shared_members.setdefault(fa["si"], a.get("r", ""))
                return m.group(0)
            if fm is not None and fa.get("t") == "shared" and fm.group("text"):
                replaced_shared.add(fa.get("si", ""))
            return _cell_xml(m.group("p") or "", a, pending.pop(rc))

        xml = _CELL_RE.sub(fix, xml)
        if pending:
            missing = ", ".join(a1(*rc) for rc in sorted(pending)[:5])
            raise ExportError(f"“{sheet}”中找不到单元格 {missing}（文件结构与读取结果不一致）")
        orphaned = replaced_shared & set(kept_shared_members)
        if orphaned:
            cell = kept_shared_members[sorted(orphaned)[0]]
            raise ExportError(f"“{sheet}”!{cell} 与已替换的单元格共用一个公式（共享公式），无法单独保留；"
                              "请在 Excel 中导出定稿")
        parts[part] = xml.encode("utf-8")

    # 2. calcChain 列的是公式单元格，已过时：删除（Excel 打开时重建）
    _drop_part(parts, "xl/calcChain.xml", ooxml.RT_CALC_CHAIN)

    # 3. 指向 .xlam 的外部链接
    notes += _drop_addin_links(parts, sheet_parts)

    remaining = [f"“{s}”" for s, p in sheet_parts.items() if p in parts and _has_udf(parts[p])]
    if remaining:
        raise ExportError(f"替换后 {'、'.join(remaining)} 中仍有单元格函数（内部错误），未写出定稿")

    from ..io.safeio import atomic_output

    try:
        # 临时文件 + 原子替换（safeio）：目标被 Excel 打开、只读或被占用时给出中文说明，目标保持原样；
        # 覆盖已有的定稿前留带时间戳的备份（定稿发出后常被再改）
        with atomic_output(target, backup=True) as tmp:
            with zipfile.ZipFile(tmp, "w", zipfile.ZIP_DEFLATED) as z:
                for info in infos:
                    if info.is_dir() or info.filename not in parts:
                        continue
                    ni = zipfile.ZipInfo(info.filename, date_time=info.date_time)
                    ni.compress_type = zipfile.ZIP_DEFLATED
                    ni.external_attr = info.external_attr
                    z.writestr(ni, parts[info.filename])
    except BookError as exc:
        raise ExportError(str(exc)) from None
    return notes


def _has_udf(sheet_xml: bytes) -> bool:
    for m in _F_RE.finditer(sheet_xml.decode("utf-8")):
        if m.group("text") and udf_calls(html.unescape(m.group("text"))):
            return True
    return False


def _drop_part(parts: dict[str, bytes], part: str, rel_type: str) -> None:
    if part not in parts:
        return
    del parts[part]
    rels_name = "xl/_rels/workbook.xml.rels"
    rels = parts[rels_name].decode("utf-8")
    rels = re.sub(r'<Relationship\b[^>]*Type="' + re.escape(rel_type) + r'"[^>]*/>', "", rels)
    parts[rels_name] = rels.encode("utf-8")
    ct = parts["[Content_Types].xml"].decode("utf-8")
    ct = re.sub(r'<Override\b[^>]*PartName="/' + re.escape(part) + r'"[^>]*/>', "", ct)
    parts["[Content_Types].xml"] = ct.encode("utf-8")


def _drop_addin_links(parts: dict[str, bytes], sheet_parts: dict[str, str]) -> list[str]:
    wb_name, rels_name = "xl/workbook.xml", "xl/_rels/workbook.xml.rels"
    wb = parts[wb_name].decode("utf-8")
    rels = parts[rels_name].decode("utf-8")
    rel_by_id = {r.id: r for r in ooxml.read_rels(parts[rels_name], wb_name)}
    refs = re.findall(r"<(?:\w+:)?externalReference\b([^>]*)/>", wb)
    if not refs:
        return []
    links = []  # (序号 1 起, rId, 部件, 目标路径)
    for i, raw in enumerate(refs, 1):
        a = _attrs(raw)
        rid = a.get("r:id") or next((v for k, v in a.items() if k.endswith(":id")), "")
        rel = rel_by_id.get(rid)
        part = ooxml.resolve_target(wb_name, rel.target if rel else "")
        link_rels = ooxml.read_rels(parts.get(ooxml.rels_name(part)), part)
        target = link_rels[0].target if link_rels else ""
        links.append((i, rid, part, target))

    # 仍在使用的外部编号（替换之后剩下的公式与名称定义）
    texts = [html.unescape(t) for p in sheet_parts.values() if p in parts
             for t in re.findall(r"<(?:\w+:)?f\b[^>]*>(.*?)</(?:\w+:)?f>", parts[p].decode("utf-8"), re.S)]
    texts += [html.unescape(t) for t in re.findall(r"<(?:\w+:)?definedName\b[^>]*>(.*?)</(?:\w+:)?definedName>", wb, re.S)]
    code = " ".join(_STRING_RE.sub('""', t) for t in texts)
    used = {int(n) for n in re.findall(r"(?<![A-Za-z0-9_\]])\[(\d+)\]", code)}

    drop = [lk for lk in links if lk[3].lower().rstrip("/").endswith((".xlam", ".xla")) and lk[0] not in used]
    if not drop:
        return []
    dropped_idx = {lk[0] for lk in drop}
    mapping, n = {}, 0
    for i, *_ in links:
        if i not in dropped_idx:
            n += 1
            mapping[i] = n
    notes = []
    for _i, rid, part, target in drop:
        wb = re.sub(r"<(?:\w+:)?externalReference\b[^>]*\b[\w:]*id=\"" + re.escape(rid) + r"\"[^>]*/>", "", wb, count=1)
        rels = re.sub(r'<Relationship\b[^>]*Id="' + re.escape(rid) + r'"[^>]*/>', "", rels, count=1)
        parts.pop(part, None)
        parts.pop(ooxml.rels_name(part), None)
        ct = parts["[Content_Types].xml"].decode("utf-8")
        parts["[Content_Types].xml"] = re.sub(r'<Override\b[^>]*PartName="/' + re.escape(part) + r'"[^>]*/>', "",
                                              ct).encode("utf-8")
        notes.append(f"已删除指向加载项的外部链接：{target}")
    wb = re.sub(r"<((?:\w+:)?)externalReferences>\s*</\1externalReferences>", "", wb)
    if any(mapping[i] != i for i in mapping):
        for p in sheet_parts.values():
            if p in parts:
                xml = parts[p].decode("utf-8")
                xml = _F_RE.sub(lambda m: m.group(0) if not m.group("text") else
                                f"<{m.group('p') or ''}f{m.group('attrs')}>"
                                f"{_map_formula_text(m.group('text'), lambda f: _renumber_external(f, mapping))}"
                                f"</{m.group('p') or ''}f>", xml)
                parts[p] = xml.encode("utf-8")
        wb = re.sub(r"(<(?:\w+:)?definedName\b[^>]*>)(.*?)(</(?:\w+:)?definedName>)",
                    lambda m: m.group(1) + _map_formula_text(m.group(2), lambda f: _renumber_external(f, mapping))
                    + m.group(3), wb, flags=re.S)
    parts[wb_name] = wb.encode("utf-8")
    parts[rels_name] = rels.encode("utf-8")
    return notes
