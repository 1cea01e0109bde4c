"""写回结果的核对：原文件中不属于 jixiao 的每个部件在结果中逐字节相同；styles.xml 原有记录、workbook.xml 原有工作表
与名称、各关系与内容类型都原样保留；结果能被 openpyxl 打开，表的顺序正确，生成表读回的内容与格式正是要写的。
任何一项不满足即抛出 SpliceError（中文说明）。
"""
from __future__ import annotations

import io
import math
from typing import Any, Mapping, Sequence

from .ooxml import CONTENT_TYPES, NS_MAIN, RT_CALC_CHAIN, RT_EXTENDED, RT_STYLES, rels_name
from .opc import Package, SpliceError, _parse, _rel_of_type, _sheets, _workbook
from .splice import _sheet_index_names, _vba_parts
from .stylemerge import _RECORD_OF, _canon, _local


def _same_number(a: Any, b: Any) -> bool:
    try:
        return math.isclose(float(a), float(b), rel_tol=1e-12, abs_tol=0.0)
    except (TypeError, ValueError):
        return False


def _cell_matches(expected: Any, got: Any, data_type: str | None) -> bool:
    if isinstance(expected, bool) or isinstance(got, bool):
        return expected == got
    if isinstance(expected, str):
        return got == expected and data_type != "f"
    if isinstance(expected, (int, float)) or type(expected).__name__ == "Decimal":
        return not isinstance(got, str) and got is not None and _same_number(expected, got)
    return str(got) == str(expected)


def allowed_changes(base: Package, sheets: Sequence[str], *, convert: bool) -> set[str]:
    """原文件中允许被改动或删除的部件（见模块说明）；其余每个部件都必须逐字节不变。"""
    wb_part, wb = _workbook(base)
    allowed = {CONTENT_TYPES, wb_part, rels_name(wb_part)}
    for rel_type in (RT_STYLES, RT_CALC_CHAIN):
        p = _rel_of_type(base, wb_part, rel_type)
        if p:
            allowed.add(p)
    app = next((r.part for r in base.rels("") if r.type == RT_EXTENDED and r.part), None)
    if app:
        allowed.add(app)
    o_sheets = _sheets(base, wb_part, wb)
    for name in sheets:
        i = _sheet_index_names(o_sheets, name)
        if i is not None and o_sheets[i].part and base.find(o_sheets[i].part or ""):
            part = base.find(o_sheets[i].part or "") or ""
            allowed |= {part, rels_name(part)}
            for p in base.subtree(part):
                allowed |= {p, rels_name(p)}
    if convert:
        for p in _vba_parts(base, wb_part)[0]:
            allowed |= {p, rels_name(p)}
    return {base.find(a) or a for a in allowed}


def verify(original: bytes, result: bytes, sheets: Sequence[str],
           expected: Mapping[str, Mapping[tuple[int, int], tuple[Any, tuple | None]]],
           order: Sequence[str], *, main_type: str | None = None) -> None:
    """核对拼接结果（见模块说明）。不通过时抛出 SpliceError；结果能打开但有部件不一致时，SpliceError.data 为结果。"""
    base = Package(original, "原工作簿")
    out = Package(result, "写出的工作簿")
    wb_part, _ = _workbook(base)
    convert = main_type is not None and base.content_types()[1].get(wb_part.lower()) != main_type
    allowed = allowed_changes(base, sheets, convert=convert)

    problems: list[str] = []
    for name in base.names:
        if name in allowed:
            continue
        real = out.find(name)
        if real is None:
            problems.append(f"部件“{name}”丢失")
        elif out.read(real) != base.read(name):
            problems.append(f"部件“{name}”的内容变了")
    # 结果里新出现的部件只能是生成表及其图形、图表
    r_wb_part, r_wb = _workbook(out)
    r_sheets = _sheets(out, r_wb_part, r_wb)
    owned_parts: set[str] = set()
    for name in sheets:
        i = _sheet_index_names(r_sheets, name)
        if i is None or not r_sheets[i].part or not out.find(r_sheets[i].part or ""):
            problems.append(f"没有写入工作表“{name}”")
            continue
        part = out.find(r_sheets[i].part or "") or ""
        owned_parts |= {part, rels_name(part)}
        for p in out.subtree(part):
            owned_parts |= {p, rels_name(p)}
    for name in out.names:
        if base.find(name) is None and name not in {out.find(p) for p in owned_parts}:
            problems.append(f"多出了部件“{name}”")
    # 引用条目：原有的工作表、关系、内容类型、样式记录都还在
    problems += _verify_workbook(base, out, sheets, allowed)
    problems += _verify_styles(base, out)
    if problems:
        opens = _opens(result, sheets, expected, order) is None
        raise SpliceError("；".join(problems[:5]) + ("……" if len(problems) > 5 else ""), result if opens else None)
    failure = _opens(result, sheets, expected, order)
    if failure:
        raise SpliceError(failure)


def _verify_workbook(base: Package, out: Package, sheets: Sequence[str], allowed: set[str]) -> list[str]:
    """workbook.xml、工作簿关系与内容类型中原有的条目（生成表与允许删除的部件除外）都原样保留。"""
    problems = []
    wb_part, wb = _workbook(base)
    r_wb_part, r_wb = _workbook(out)
    owned = {s.casefold() for s in sheets}
    o_sheets = _sheets(base, wb_part, wb)
    r_sheets = _sheets(out, r_wb_part, r_wb)
    for i, s in enumerate(o_sheets):
        r = r_sheets[i] if i < len(r_sheets) else None
        if s.name.casefold() in owned:
            if r is None or r.name.casefold() != s.name.casefold() or r.rid != s.rid:
                problems.append(f"工作表“{s.name}”的位置变了")
        elif r is None or dict(r.element.attrib) != dict(s.element.attrib):
            problems.append(f"工作表“{s.name}”的位置、编号或属性变了")
    for r in r_sheets[len(o_sheets):]:
        if r.name.casefold() not in owned:
            problems.append(f"多出了工作表“{r.name}”")
    # workbook.xml 中工作表列表与名称之外的内容不变
    skip = {"sheets", "definedNames"}
    if [_canon(c) for c in wb if isinstance(c.tag, str) and _local(c) not in skip] != \
            [_canon(c) for c in r_wb if isinstance(c.tag, str) and _local(c) not in skip]:
        problems.append("workbook.xml 中工作表列表与名称以外的内容变了")
    owned_idx = {str(i) for i, s in enumerate(o_sheets) if s.name.casefold() in owned}
    r_names = {_canon(d) for d in r_wb.iter(f"{{{NS_MAIN}}}definedName")}
    if any(_canon(d) not in r_names for d in wb.iter(f"{{{NS_MAIN}}}definedName")
           if not (d.get("localSheetId") in owned_idx and (d.get("name") or "").startswith("_xlnm."))):
        problems.append("workbook.xml 中用户定义的名称变了")
    # 工作簿关系：指向允许删除部件（calcChain、宏）的可以没有，生成表的关系可以换类型，其余原样
    r_rels = {r.id: r for r in out.rels(r_wb_part)}
    owned_rids = {s.rid for s in o_sheets if s.name.casefold() in owned}
    for rel in base.rels(wb_part):
        got = r_rels.get(rel.id)
        if rel.part and rel.part in allowed and rel.id not in owned_rids and got is None:
            continue
        if got is None or got.target != rel.target or (got.type != rel.type and rel.id not in owned_rids):
            problems.append(f"工作簿关系 {rel.id}（{rel.target}）变了")
    # 内容类型：默认类型全部保留；不在允许范围内的部件类型不变
    o_def, o_over = base.content_types()
    r_def, r_over = out.content_types()
    if any(r_def.get(ext) != t for ext, t in o_def.items()):
        problems.append("[Content_Types].xml 的默认类型变了")
    allowed_lower = {a.lower() for a in allowed}
    for part, t in o_over.items():
        if part not in allowed_lower and base.find(part) is not None and r_over.get(part) != t:
            problems.append(f"部件“{part}”的内容类型变了")
    return problems


def _verify_styles(base: Package, out: Package) -> list[str]:
    wb_part, _ = _workbook(base)
    o = _rel_of_type(base, wb_part, RT_STYLES)
    if not o:
        return []
    r_part = _rel_of_type(out, _workbook(out)[0], RT_STYLES)
    if not r_part or r_part.lower() != o.lower():
        return ["styles.xml 丢失或换了位置"]
    a, b = _parse(base.read(o), o), _parse(out.read(r_part), r_part)
    if base.read(o) == out.read(r_part):
        return []
    problems = []
    ac = {_local(c): c for c in a if isinstance(c.tag, str)}
    bc = {_local(c): c for c in b if isinstance(c.tag, str)}
    if dict(a.attrib) != dict(b.attrib):
        problems.append("styles.xml 的根属性变了")
    for name, el in ac.items():
        other = bc.get(name)
        if other is None:
            problems.append(f"styles.xml 的 {name} 丢失")
            continue
        old = [_canon(c) for c in el if isinstance(c.tag, str)]
        new = [_canon(c) for c in other if isinstance(c.tag, str)]
        if name in _RECORD_OF:
            if new[:len(old)] != old:
                problems.append(f"styles.xml 的原有 {name} 记录变了")
            elif other.get("count") is not None and other.get("count") != str(len(new)):
                problems.append(f"styles.xml 的 {name} 计数与记录数不符")
        elif old != new or dict(el.attrib) != dict(other.attrib):
            problems.append(f"styles.xml 的 {name} 变了")
    for name in bc:
        if name not in ac and name not in _RECORD_OF:
            problems.append(f"styles.xml 多出了 {name}")
    return problems


def _color(c: Any) -> Any:
    return (c.type, c.value) if c is not None else None


def cell_look(cell: Any) -> tuple:
    """单元格的外观（字体、填充、数字格式、对齐）：生成表读回时与要写的比较，样式编号映射错了就会不同。"""
    f, fill, a = cell.font, cell.fill, cell.alignment
    return (f.name, bool(f.b), bool(f.i), f.sz, f.u, _color(f.color),
            fill.patternType, _color(fill.fgColor) if fill.patternType else None,
            cell.number_format, bool(a.wrap_text), a.vertical, a.horizontal)


def _opens(result: bytes, sheets: Sequence[str],
           expected: Mapping[str, Mapping[tuple[int, int], tuple[Any, tuple | None]]],
           order: Sequence[str]) -> str | None:
    """结果能否被 openpyxl 打开，表的顺序、生成表的内容是否正确。返回问题说明，没有问题返回 None。"""
    import warnings

    import openpyxl

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            wb = openpyxl.load_workbook(io.BytesIO(result), read_only=True, keep_vba=False)
    except Exception as exc:  # openpyxl 对坏文件抛出各种异常
        return f"写出的工作簿无法打开（{type(exc).__name__}: {str(exc)[:120]}）"
    try:
        if list(wb.sheetnames) != list(order):
            return f"写出的工作表顺序不对（{'、'.join(wb.sheetnames)}）"
        for name in sheets:
            want = expected.get(name, {})
            got: dict[tuple[int, int], tuple[Any, str | None, tuple]] = {}
            for row in wb[name].iter_rows():
                for c in row:
                    if getattr(c, "value", None) is not None and c.row is not None and c.column is not None:
                        got[(c.row, c.column)] = (c.value, getattr(c, "data_type", None), cell_look(c))
            if set(got) != set(want):
                diff = sorted(set(got) ^ set(want))[:3]
                return f"工作表“{name}”读回的单元格与要写的不同（{diff}）"
            for rc, (value, look) in want.items():
                value_got, data_type, look_got = got[rc]
                if not _cell_matches(value, value_got, data_type):
                    return f"工作表“{name}”第 {rc[0]} 行第 {rc[1]} 列读回的内容与要写的不同"
                if look is not None and look != look_got:
                    return f"工作表“{name}”第 {rc[0]} 行第 {rc[1]} 列读回的格式与要写的不同"
    finally:
        wb.close()
    return None
