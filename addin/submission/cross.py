"""部门与项目之间的校验：部门基础数据表的项目行与项目工作簿的对应（同名，或一个名称包含另一个），资金逐列相符、
项目支出＝业务工作经费＋各项目、单位与年度一致、项目不重复、项目评价已完成。发现的代码以“project-”开头（addin.checks.findings）。"""
from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Sequence

from udfs.numbers import fmt_num
from workbook_templates.spec import System

from ..checks import findings as F
from ..checks.context import FLOAT_NOISE
from ..model import SHEET_DATA, SHEET_SCORES, Finding, cell_text
from ..scoring.parsing import NumCell
from .workbooks import (
    COLUMN_MAP,
    DEPT_ITEM_PREFIX,
    DEPT_PROJECT_TOTAL,
    DEPT_WORK,
    PROJECT_FUNDS,
    ZERO,
    Workbook,
    item_name,
    norm,
)


# ---------------------------------------------------------------------------------------------------------
# 部门的项目行与项目工作簿的对应
# ---------------------------------------------------------------------------------------------------------
@dataclass
class ProjectRow:
    """部门基础数据表的一个项目行（写了名称或金额的）。"""

    key: str
    label: str
    name: str
    sheet: str
    cell: str  # 项目名称所在的单元格（B 列）


def project_rows(dept: Workbook) -> list[ProjectRow]:
    out = []
    for tr in dept.system.table_rows:
        if not tr.key.startswith(DEPT_ITEM_PREFIX):
            continue
        label = cell_text(dept.inputs.table_labels.get(tr.key))
        first = dept.inputs.cells.get(("table", tr.key, dept.system.columns[0].key))
        if first is None:
            continue
        filled = any(cell_text(v) for v in dept.inputs.table.get(tr.key, {}).values())
        name = item_name(label)
        if not name and not filled:
            continue  # 模板留下的空行（“项目4”）
        sheet, cell = first
        out.append(ProjectRow(tr.key, label, name, sheet, "B" + "".join(ch for ch in cell if ch.isdigit())))
    return out


@dataclass
class Pairing:
    """对应的结果：每个项目工作簿对应的行（或 None）、是否按包含关系对应；没有工作簿的行；重复的项目。"""

    projects: list[Workbook]  # 去重后、按部门项目行的顺序（未列出的排在后面）
    row_of: dict[int, ProjectRow | None]  # id(项目) → 行
    loose: set[int]
    rows_without: list[ProjectRow]
    duplicates: list[tuple[Workbook, Workbook]]  # (采用的, 多出的)
    rows: list[ProjectRow]

    def row(self, p: Workbook) -> ProjectRow | None:
        return self.row_of.get(id(p))


def pair(dept: Workbook, projects: Sequence[Workbook]) -> Pairing:
    """按项目名称对应：先同名，再“一个名称包含另一个”（唯一时）。同一个文件或同名同实施单位的项目第二次出现是重复。"""
    from ..io.safeio import same_path

    kept: list[Workbook] = []
    duplicates: list[tuple[Workbook, Workbook]] = []
    for p in projects:
        first = next((k for k in kept if (k.path is not None and p.path is not None and same_path(k.path, p.path))
                      or (norm(k.name) and norm(k.name) == norm(p.name) and norm(k.unit) == norm(p.unit))), None)
        if first is not None:
            duplicates.append((first, p))
        else:
            kept.append(p)
    rows = project_rows(dept)
    free = [r for r in rows if norm(r.name)]
    row_of: dict[int, ProjectRow | None] = {}
    loose: set[int] = set()
    for p in kept:
        r = next((r for r in free if norm(r.name) == norm(p.name)), None) if norm(p.name) else None
        if r is not None:
            free.remove(r)
        row_of[id(p)] = r
    for p in kept:
        key = norm(p.name)
        if row_of[id(p)] is not None or len(key) < 2:
            continue
        hits = [r for r in free if len(norm(r.name)) >= 2 and (key in norm(r.name) or norm(r.name) in key)]
        if len(hits) == 1:
            free.remove(hits[0])
            row_of[id(p)] = hits[0]
            loose.add(id(p))
    order = {r.key: k for k, r in enumerate(rows)}
    placed = [(order[r.key], p) for p in kept if (r := row_of[id(p)]) is not None]
    listed = [p for _, p in sorted(placed, key=lambda x: x[0])]
    unlisted = [p for p in kept if row_of[id(p)] is None]
    taken = {r.key for p in listed if (r := row_of[id(p)]) is not None}
    return Pairing(listed + unlisted, row_of, loose, [r for r in rows if r.key not in taken], duplicates, rows)


# ---------------------------------------------------------------------------------------------------------
# 部门与项目之间的校验
# ---------------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Issue:
    """一条部门与项目之间的发现；plain 是写进草稿说明的评价人说法（不写单元格），不进草稿说明的为空串。"""

    finding: Finding
    plain: str = ""


@dataclass(frozen=True)
class Amount:
    """一个可以比较的金额单元格：没有读取错误、Excel 保存了结果、填了数（空白与写明“无”的不比较）。"""

    cell: NumCell
    value: Decimal

    @property
    def half_unit(self) -> Decimal:
        return self.cell.half_unit


def amount(c: NumCell | None) -> Amount | None:
    if c is None or c.error is not None or not c.known or c.value is None:
        return None
    return Amount(c, c.value)


def _n(x: Decimal) -> str:
    return fmt_num(x, 6)


def _money(x: Decimal) -> str:
    from ..report.render import f_money

    return f_money(x)


def _col_label(system: System, col: str) -> str:
    return next((c.label for c in system.columns if c.key == col), col)


def cross_check(dept: Workbook, pairing: Pairing) -> list[Issue]:
    """部门与项目之间的全部发现（按严重程度与位置排序之前的顺序：先各项目，再合计）。"""
    out: list[Issue] = []
    unit_sheet, unit_cell, unit_where = dept.scalar_where("unit_name")
    year_sheet, year_cell, year_where = dept.scalar_where("year")
    listed_rows = "、".join(f"{r.cell}" for r in pairing.rows) or "未写项目名称"
    for first, extra in pairing.duplicates:
        f_sheet, f_cell, f_where = first.scalar_where("project_name")
        _, s_cell, s_where = extra.scalar_where("project_name")
        out.append(Issue(F.make("project-duplicate", extra.sheet(SHEET_DATA), s_cell, project=first.name or extra.file,
                                first_cell=f_where, second_cell=s_where),
                         f"项目“{first.name or extra.name}”有两份自评表，尚须确定采用哪一份"))
    for p in pairing.projects:
        n_sheet, n_cell, n_where = p.scalar_where("project_name")
        if not norm(p.name):
            out.append(Issue(F.make("project-name-missing", n_sheet, n_cell, file=p.file, project_cell=n_where),
                             f"自评表“{p.file}”未写明项目名称"))
        label = p.name or p.file
        dep_sheet, dep_cell, dep_where = p.scalar_where("department")
        _, u_cell, u_where = p.scalar_where("unit_name")
        if norm(dept.unit) and norm(dept.unit) not in (norm(p.text("department")), norm(p.unit)):
            out.append(Issue(F.make("project-unit-mismatch", dep_sheet, dep_cell, project=label, file=p.file,
                                    department_cell=dep_where, department=p.text("department") or "未填写",
                                    unit_cell=u_where, unit=p.unit or "未填写", dept_cell=unit_where, dept_unit=dept.unit),
                             f"项目“{label}”的自评表所列主管部门与实施单位都不是{dept.unit}"))
        y_sheet, y_cell, y_where = p.scalar_where("year")
        if dept.ev.year and p.ev.year and p.ev.year != dept.ev.year:
            out.append(Issue(F.make("project-year-mismatch", y_sheet, y_cell, project=label, project_cell=y_where,
                                    project_year=p.ev.year, dept_cell=year_where, year=dept.ev.year),
                             f"项目“{label}”的自评表评价年度为{p.ev.year}年，与本报告的{dept.ev.year}年度不同"))
        if not p.ev.complete:
            first_missing = p.ev.missing[0] if p.ev.missing else {}
            names = "、".join(str(m.get("name") or m.get("code")) for m in p.ev.missing[:3])
            if len(p.ev.missing) > 3:
                names += f"等 {len(p.ev.missing)} 项"
            cell = str(first_missing.get("cell", ""))
            sheet, _, a1 = cell.partition("!")
            out.append(Issue(F.make("project-incomplete", p.sheet(sheet or SHEET_SCORES), a1, project=label, file=p.file,
                                    count=len(p.ev.missing), names=names,
                                    first_cell=f"{p.file} {sheet} {a1}" if a1 else p.file)))
        row = pairing.row(p)
        if row is None:
            if pairing.rows or any(t.key.startswith(DEPT_ITEM_PREFIX) for t in dept.system.table_rows):
                out.append(Issue(F.make("project-not-listed", n_sheet, n_cell, project=label, project_cell=n_where,
                                        rows=listed_rows)))
            continue
        if id(p) in pairing.loose:
            out.append(Issue(F.make("project-name-loose-match", row.sheet, row.cell, dept_cell=f"{row.sheet} {row.cell}",
                                    dept_name=row.name, project_cell=n_where, project=p.name)))
        out += _row_funds(dept, row, p)
    for row in pairing.rows_without:
        hint = ("（只列预算、不做绩效自评的项目可不附自评表）" if row.name else
                "；这一行没有写项目名称，请写明（如“项目3（××）”），项目工作簿按名称与它对应")
        out.append(Issue(F.make("project-workbook-missing", row.sheet, row.cell, dept_cell=f"{row.sheet} {row.cell}",
                                project=row.name or row.label.strip(), dept_unit=dept.unit or "本部门", hint=hint)))
    out += _total_funds(dept, pairing)
    return out


def _agree(a: Amount, b_value: Decimal, tol: Decimal) -> tuple[bool, Decimal]:
    """两数（a 可以是括号里另有一个数的“两数单元格”）相符：差额不超过浮点尾差；返回 (相符, 差额)。"""
    gap = a.value - b_value
    if abs(gap) <= FLOAT_NOISE:
        return True, gap
    alt = a.cell.alt
    if alt is not None and abs(alt - b_value) <= max(tol, FLOAT_NOISE):
        return True, alt - b_value
    return False, gap


def _row_funds(dept: Workbook, row: ProjectRow, p: Workbook) -> list[Issue]:
    """部门所列这个项目的资金与项目自评表的年度资金总额，逐列比较（列的对应见模块说明）。"""
    out: list[Issue] = []
    scale = p.convert(dept.money_unit)
    converted = f"（{p.money_unit}，按 1 万元＝10000 元换算）" if scale != 1 else ""
    for dcol, pcol in COLUMN_MAP:
        d = amount(dept.num(("table", row.key, dcol)))
        q = amount(p.num(("table", PROJECT_FUNDS, pcol)))
        if d is None or q is None:
            continue
        qv = q.value * scale
        tol = d.half_unit + q.half_unit * scale
        ok, gap = _agree(d, qv, tol)
        if ok:
            continue
        code = "project-funds-rounding-gap" if abs(gap) <= tol else "project-funds-mismatch"
        plain = "" if code.endswith("gap") else (
            f"附件1所列“{row.name or p.name}”{_col_label(dept.system, dcol)}{_money(d.value)}{dept.money_unit}，与其项目支出绩效"
            f"自评表的{_col_label(p.system, pcol)}{_money(qv)}{dept.money_unit}不一致")
        out.append(Issue(F.make(code, d.cell.sheet, d.cell.cell, dept_cell=d.cell.label, dept_value=_n(d.value),
                                project=p.name, project_cell=p.cell_where(q.cell), project_value=_n(q.value),
                                converted=converted,
                                gap=_n(abs(gap)), tolerance=_n(tol), unit=dept.money_unit, expected=qv, actual=d.value),
                         plain))
    return out


_Part = tuple[str, Decimal, Decimal]  # (写法, 值, 半个末位单位)


def _dept_part(dept: Workbook, key: str, col: str) -> _Part | None:
    """合计的一个分项：部门基础数据表的一行（业务工作经费、没有自评表的项目）。"""
    c = amount(dept.num(("table", key, col)))
    return None if c is None else (f"{c.cell.label} {_n(c.value)}", c.value, c.half_unit)


def _project_part(dept: Workbook, p: Workbook, col: str) -> _Part | None:
    """合计的一个分项：项目自评表的年度资金总额，换算到部门的金额单位。"""
    q = amount(p.num(("table", PROJECT_FUNDS, col)))
    if q is None:
        return None
    scale = p.convert(dept.money_unit)
    return f"{p.cell_where(q.cell)} {_n(q.value)}", q.value * scale, q.half_unit * scale


def _total_funds(dept: Workbook, pairing: Pairing) -> list[Issue]:
    """部门的“项目支出”（每一列）＝ 业务工作经费 ＋ 各项目的资金：有自评表的项目取自评表的年度资金总额，没有自评表的
    项目取部门所列的数，没有列出的自评表也计入。只在至少有一个项目自评表给出这一列时比较。"""
    out: list[Issue] = []
    matched = {r.key: p for p in pairing.projects if (r := pairing.row(p)) is not None}
    unlisted = [p for p in pairing.projects if pairing.row(p) is None]
    for dcol, pcol in COLUMN_MAP:
        total = amount(dept.num(("table", DEPT_PROJECT_TOTAL, dcol)))
        if total is None:
            continue
        # 按部门所列的顺序：业务工作经费、各项目行（有自评表的取自评表），再是没有列出的自评表
        candidates: list[tuple[Workbook | None, _Part | None]] = [(None, _dept_part(dept, DEPT_WORK, dcol))]
        for row in pairing.rows:
            p = matched.get(row.key)
            candidates.append((p, _project_part(dept, p, pcol) if p is not None else _dept_part(dept, row.key, dcol)))
        candidates += [(p, _project_part(dept, p, pcol)) for p in unlisted]
        parts = [part for _, part in candidates if part is not None]
        from_wb = [p for p, part in candidates if p is not None and part is not None]
        if not from_wb:
            continue
        converted = any(p.convert(dept.money_unit) != 1 for p in from_wb)
        s = sum((v for _, v, _ in parts), ZERO)
        tol = total.half_unit + sum((h for _, _, h in parts), ZERO)
        ok, gap = _agree(total, s, tol)
        if ok:
            continue
        code = "project-total-rounding-gap" if abs(gap) <= tol else "project-total-mismatch"
        hint = "；项目工作簿的金额已按 1 万元＝10000 元换算" if converted else ""
        plain = "" if code.endswith("gap") else (
            f"附件1所列项目支出{_col_label(dept.system, dcol)}{_money(total.value)}{dept.money_unit}，与业务工作经费及各项目资金"
            f"合计{_money(s)}{dept.money_unit}不一致")
        fields = dict(dept_cell=total.cell.label, total=_n(total.value), parts_text=" ＋ ".join(t for t, _, _ in parts),
                      sum=_n(s), gap=_n(abs(gap)), tolerance=_n(tol), unit=dept.money_unit, expected=s, actual=total.value)
        if code == "project-total-mismatch":
            fields["hint"] = hint
        out.append(Issue(F.make(code, total.cell.sheet, total.cell.cell, **fields), plain))
    return out


def cross_findings(dept: Workbook, projects: Sequence[Workbook]) -> list[Finding]:
    """jixiao check DEPT --projects …：部门与项目之间的发现。"""
    return [i.finding for i in cross_check(dept, pair(dept, projects))]
