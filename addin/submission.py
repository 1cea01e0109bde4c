"""报送材料：一个部门交给财政局的是一套材料，而不是一份报告（种子 004 “报告需要以下附件：1．部门整体支出绩效评价基础数据表
2．部门整体支出绩效自评表 3．项目支出绩效自评表（一个项目支出一张表）”；种子 002 开福区的附件3 基础数据表与附件5 三个
项目的自评报告）。

这里做三件事：
1. 项目工作簿归属部门：部门基础数据表的项目行（“其中：项目1（公费医疗）”……）写明它的项目；项目支出绩效自评工作簿
   （财预〔2020〕10号 模板）按“项目名称”与行中的名称对应（同名，或一个名称包含另一个），按“主管部门/实施单位”与部门的
   “单位名称”对应。没有指定项目工作簿时，取部门工作簿所在文件夹中主管部门或实施单位是本部门的项目工作簿。
2. 部门与项目之间的校验（发现的代码在 addin/findings.py，以“project-”开头）：部门所列每个项目的资金与该项目自评表的
   “年度资金总额”逐列相符；部门的“项目支出”与 业务工作经费＋各项目资金 相符；主管部门/实施单位、评价年度与部门一致；
   同一项目不出现两次；项目评价已完成。容差与 addin/checks.py 的合计校验相同：每个数按书写位数可能差半个末位单位。
   指向项目工作簿单元格的发现，工作表写作“[文件名]工作表”（Excel 引用另一工作簿的写法）；错误在说明里同时写出部门与
   项目两处单元格。
3. 组装报送材料（Package）：部门报告（“部门项目实施情况”逐项写出各项目的资金、执行率、自评得分与等级，取自项目
   工作簿）、附件1 基础数据表、附件2 评分表、附件3… 每个项目一张 10号 附件2 样式的自评表及其自评报告。Word 由
   addin/submission_docx.py 写出。部门或任一项目评价未完成、缺材料，或部门与项目之间有“错误”时，报送材料是草稿。

列的对应（种子 002：医疗救助 部门表 1080/1168/981，项目资金表 年初预算1080、安排1168、实际使用981）：

| 部门基础数据表 | 项目支出绩效自评表（年度资金总额） |
|---|---|
| 本年年初预算数 | 年初预算数 |
| 本年调整预算数 | 全年预算数 |
| 本年决算数 | 全年执行数 |

上年决算数没有对应的列，不比较。项目工作簿的金额单位是元、部门是万元时（或相反）按 1 万元＝10000 元换算后比较。
"""
from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from types import SimpleNamespace
from typing import Any, Sequence

from udfs.numbers import fmt_num
from workbook_templates.spec import System
from workbook_templates.systems import SYSTEMS

from . import findings as F
from .checks import FLOAT_NOISE
from .model import SHEET_DATA, SHEET_SCORES, Evaluation, Finding, WorkbookInputs, cell_text
from .parsing import NumCell, input_cells

# 部门基础数据表：项目支出、业务工作经费、逐项列出的项目（“其中：项目1”……）
DEPT_PROJECT_TOTAL = "project"
DEPT_WORK = "project_work"
DEPT_ITEM_PREFIX = "project_item"
# 项目支出绩效自评表：年度资金总额
PROJECT_FUNDS = "fund_total"
# (部门列, 项目列)
COLUMN_MAP = (("budget_initial", "budget_initial"), ("budget_adjusted", "budget_full"), ("final", "executed"))
# 预算执行率指标（10号 自评表“项目资金”一栏的分值、执行率、得分）
EXECUTION_UDFS = ("BUDGET_EXECUTION_BY", "BUDGET_EXECUTION")
WAN = Decimal(10000)
ZERO = Decimal(0)
PACKAGE_DRAFT_TEMPLATE = "package_draft.j2"


class SubmissionError(Exception):
    """报送材料无法生成（不是部门工作簿、项目工作簿无法读取……），message 为中文说明。"""


# ---------------------------------------------------------------------------------------------------------
# 名称
# ---------------------------------------------------------------------------------------------------------
_ITEM_LABEL = re.compile(r"^(?:其中\s*[:：]\s*)?项目\s*[0-9０-９一二三四五六七八九十]+\s*(.*)$")
_BRACKETED = re.compile(r"^[（(](.*)[）)]$")


def item_name(label: Any) -> str:
    """部门项目行的项目名称：“其中：项目1（公费医疗）”→“公费医疗”，“项目2：医疗救助”→“医疗救助”，“项目3”→“”（未写名称），
    其他写法（“其他只造预算项目（城乡居民医保区级配套补助）”）照原文。"""
    t = cell_text(label).strip()
    t = re.sub(r"^其中\s*[:：]\s*", "", t)
    m = _ITEM_LABEL.match(t)
    if not m:
        return t
    rest = re.sub(r"^[:：、.．]\s*", "", m.group(1).strip())
    b = _BRACKETED.match(rest)
    return (b.group(1) if b else rest).strip()


def norm(text: Any) -> str:
    """对应用的名称：全角半角统一、去掉空白与引号。"""
    t = unicodedata.normalize("NFKC", cell_text(text))
    return re.sub(r"[\s“”\"'‘’「」《》]", "", t)


# ---------------------------------------------------------------------------------------------------------
# 工作簿
# ---------------------------------------------------------------------------------------------------------
@dataclass
class Workbook:
    """读入的一个工作簿。external：项目工作簿（发现指向它的单元格时，工作表写作“[文件名]工作表”）。"""

    inputs: WorkbookInputs
    ev: Evaluation
    path: Path | None = None
    book: Any = None
    external: bool = False
    _cells: dict[tuple, NumCell] | None = field(default=None, repr=False)

    @property
    def system(self) -> System:
        return SYSTEMS[self.inputs.system_key]

    @property
    def file(self) -> str:
        return self.path.name if self.path is not None else "当前工作簿"

    def text(self, key: str) -> str:
        return cell_text(self.inputs.scalars.get(key))

    @property
    def unit(self) -> str:
        return self.text("unit_name")

    @property
    def name(self) -> str:
        """项目名称（项目工作簿）。"""
        return self.text("project_name")

    @property
    def money_unit(self) -> str:
        return self.ev.money_unit or "万元"

    def num(self, key: tuple) -> NumCell | None:
        if self._cells is None:
            self._cells = {c.key: c for c in input_cells(self.inputs, self.system, self.ev)}
        return self._cells.get(key)

    def sheet(self, sheet: str) -> str:
        """发现的“工作表”：部门工作簿照写，项目工作簿写作“[文件名]工作表”。"""
        return f"[{self.file}]{sheet}" if self.external else sheet

    def where(self, sheet: str, cell: str, label: str = "") -> str:
        """消息中的单元格：“基础数据表 C21（单位名称）”，项目工作簿前加文件名。"""
        text = f"{sheet} {cell}" + (f"（{label}）" if label else "")
        return f"{self.file} {text}" if self.external else text

    def scalar_where(self, key: str) -> tuple[str, str, str]:
        """补充数据一项的 (发现的工作表, 单元格, 消息中的写法)。"""
        sheet, cell = self.inputs.cells.get(("scalar", key), (SHEET_DATA, ""))
        label = next((s.label for s in self.system.scalars if s.key == key), key)
        return self.sheet(sheet), cell, self.where(sheet, cell, label)

    def cell_where(self, c: NumCell) -> str:
        return f"{self.file} {c.label}" if self.external else c.label

    def convert(self, to_unit: str) -> Decimal:
        """本工作簿的金额换算到 to_unit 的倍数（元→万元 1/10000）。"""
        mine = self.money_unit
        if mine == to_unit:
            return Decimal(1)
        if mine == "元" and to_unit == "万元":
            return 1 / WAN
        if mine == "万元" and to_unit == "元":
            return WAN
        return Decimal(1)

    def execution(self):
        """预算执行率指标的计分结果（10号 自评表“项目资金”一栏），没有时为 None。"""
        for ind in self.ev.indicators:
            spec = self.system.indicator(ind.code)
            if spec is not None and spec.udf in EXECUTION_UDFS:
                return ind
        return None


def load_workbook(path: str | Path, *, external: bool = False) -> Workbook:
    """读取并计分（带公式的保存结果，文字材料是公式时用其结果）。无法读取时抛出 SubmissionError（中文说明）。"""
    from .book import BookError
    from .engine import evaluate
    from .reader import ReadError, load

    p = Path(path)
    if not p.exists():
        raise SubmissionError(f"找不到文件：{p}")
    if p.is_dir():
        raise SubmissionError(f"“{p}”是文件夹，不是工作簿")
    try:
        book, inputs = load(p, with_cached=True)
    except (BookError, ReadError) as exc:
        raise SubmissionError(str(exc)) from None
    except Exception as exc:  # 损坏或非 jixiao 工作簿可能以各种方式失败：说明原因，不显示回溯
        raise SubmissionError(f"无法读取工作簿“{p.name}”：{type(exc).__name__}: {str(exc)[:200]}") from None
    return Workbook(inputs, evaluate(inputs), p, book, external)


def open_department(path: str | Path) -> Workbook:
    dept = load_workbook(path)
    require_department(dept)
    return dept


KIND_NAMES = {"dept": "部门整体支出绩效自评", "key_eval": "部门整体支出绩效重点评价", "project": "项目支出绩效自评"}


def require_department(dept: Workbook) -> None:
    if dept.system.kind != "dept":
        raise SubmissionError(f"“{dept.file}”是{KIND_NAMES.get(dept.system.kind, dept.system.title)}工作簿，不是部门整体支出绩效自评"
                              f"工作簿：报送材料由部门的工作簿生成，项目工作簿列在它后面")


def open_project(path: str | Path) -> Workbook:
    p = load_workbook(path, external=True)
    if p.system.kind != "project":
        raise SubmissionError(f"“{p.file}”是{KIND_NAMES.get(p.system.kind, p.system.title)}工作簿，不是项目支出绩效自评工作簿")
    return p


def _candidates(folder: Path, skip: Path | None) -> list[Path]:
    from .safeio import WORKBOOK_SUFFIXES, is_backup_name, same_path

    out = []
    try:
        entries = sorted(folder.iterdir())
    except OSError:
        return []
    for p in entries:
        name = p.name
        if name.startswith((".", "~$")) or is_backup_name(name) or not name.lower().endswith(WORKBOOK_SUFFIXES):
            continue  # 隐藏文件、Excel 的锁文件、jixiao 的备份
        if not p.is_file() or (skip is not None and same_path(p, skip)):
            continue
        out.append(p)
    return out


def discover(dept: Workbook, folder: Path | None = None) -> tuple[list[Workbook], list[str]]:
    """部门工作簿所在文件夹中属于本部门的项目工作簿（主管部门或实施单位是部门的单位名称），按文件名排序；
    返回 (项目工作簿, 说明)，说明列出读不了而跳过的文件。部门的单位名称未填写时找不到任何项目。"""
    folder = folder or (dept.path.parent if dept.path is not None else None)
    notes: list[str] = []
    if folder is None or not norm(dept.unit):
        return [], notes
    found = []
    for path in _candidates(folder, dept.path):
        try:
            p = load_workbook(path, external=True)
        except SubmissionError as exc:
            notes.append(f"跳过“{path.name}”：{exc}")
            continue
        if p.system.kind == "project" and norm(dept.unit) in (norm(p.text("department")), norm(p.unit)):
            found.append(p)
    return found, notes


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
    from .safeio import same_path

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
    listed = sorted((p for p in kept if row_of[id(p)] is not None), key=lambda p: order[row_of[id(p)].key])
    unlisted = [p for p in kept if row_of[id(p)] is None]
    taken = {row_of[id(p)].key for p in listed}
    return Pairing(listed + unlisted, row_of, loose, [r for r in rows if r.key not in taken], duplicates, rows)


# ---------------------------------------------------------------------------------------------------------
# 部门与项目之间的校验
# ---------------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Issue:
    """一条部门与项目之间的发现；plain 是写进草稿说明的评价人说法（不写单元格），不进草稿说明的为空串。"""

    finding: Finding
    plain: str = ""


def _usable(c: NumCell | None) -> bool:
    return c is not None and c.error is None and c.known and c.value is not None


def _n(x: Decimal) -> str:
    return fmt_num(x, 6)


def _money(x: Decimal) -> str:
    from .report import f_money

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
            first = p.ev.missing[0] if p.ev.missing else {}
            names = "、".join(str(m.get("name") or m.get("code")) for m in p.ev.missing[:3])
            if len(p.ev.missing) > 3:
                names += f"等 {len(p.ev.missing)} 项"
            cell = str(first.get("cell", ""))
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


def _agree(a: NumCell, a_value: Decimal, b_value: Decimal, tol: Decimal) -> tuple[bool, Decimal]:
    """两数（a 可以是括号里另有一个数的“两数单元格”）相符：差额不超过浮点尾差；返回 (相符, 差额)。"""
    gap = a_value - b_value
    if abs(gap) <= FLOAT_NOISE:
        return True, gap
    if a.alt is not None and abs(a.alt - b_value) <= max(tol, FLOAT_NOISE):
        return True, a.alt - b_value
    return False, gap


def _row_funds(dept: Workbook, row: ProjectRow, p: Workbook) -> list[Issue]:
    """部门所列这个项目的资金与项目自评表的年度资金总额，逐列比较（列的对应见模块说明）。"""
    out: list[Issue] = []
    scale = p.convert(dept.money_unit)
    converted = f"（{p.money_unit}，按 1 万元＝10000 元换算）" if scale != 1 else ""
    for dcol, pcol in COLUMN_MAP:
        d = dept.num(("table", row.key, dcol))
        q = p.num(("table", PROJECT_FUNDS, pcol))
        if not (_usable(d) and _usable(q)):
            continue
        qv = q.value * scale
        tol = d.half_unit + q.half_unit * scale
        ok, gap = _agree(d, d.value, qv, tol)
        if ok:
            continue
        code = "project-funds-rounding-gap" if abs(gap) <= tol else "project-funds-mismatch"
        plain = "" if code.endswith("gap") else (
            f"附件1所列“{row.name or p.name}”{_col_label(dept.system, dcol)}{_money(d.value)}{dept.money_unit}，与其项目支出绩效"
            f"自评表的{_col_label(p.system, pcol)}{_money(qv)}{dept.money_unit}不一致")
        out.append(Issue(F.make(code, d.sheet, d.cell, dept_cell=d.label, dept_value=_n(d.value), project=p.name,
                                project_cell=p.cell_where(q), project_value=_n(q.value), converted=converted,
                                gap=_n(abs(gap)), tolerance=_n(tol), unit=dept.money_unit, expected=qv, actual=d.value),
                         plain))
    return out


def _total_funds(dept: Workbook, pairing: Pairing) -> list[Issue]:
    """部门的“项目支出”（每一列）＝ 业务工作经费 ＋ 各项目的资金：有自评表的项目取自评表的年度资金总额，没有自评表的
    项目取部门所列的数，没有列出的自评表也计入。只在至少有一个项目自评表给出这一列时比较。"""
    out: list[Issue] = []
    matched = {pairing.row(p).key: p for p in pairing.projects if pairing.row(p) is not None}
    unlisted = [p for p in pairing.projects if pairing.row(p) is None]
    for dcol, pcol in COLUMN_MAP:
        total = dept.num(("table", DEPT_PROJECT_TOTAL, dcol))
        if not _usable(total):
            continue
        parts: list[tuple[str, Decimal, Decimal]] = []  # (写法, 值, 半个末位单位)
        from_projects = 0
        converted = False
        work = dept.num(("table", DEPT_WORK, dcol))
        if _usable(work):
            parts.append((f"{work.label} {_n(work.value)}", work.value, work.half_unit))
        for row in pairing.rows:
            p = matched.get(row.key)
            if p is None:
                c = dept.num(("table", row.key, dcol))
                if _usable(c):
                    parts.append((f"{c.label} {_n(c.value)}", c.value, c.half_unit))
                continue
            q = p.num(("table", PROJECT_FUNDS, pcol))
            if _usable(q):
                scale = p.convert(dept.money_unit)
                converted |= scale != 1
                parts.append((f"{p.cell_where(q)} {_n(q.value)}", q.value * scale, q.half_unit * scale))
                from_projects += 1
        for p in unlisted:
            q = p.num(("table", PROJECT_FUNDS, pcol))
            if _usable(q):
                scale = p.convert(dept.money_unit)
                converted |= scale != 1
                parts.append((f"{p.cell_where(q)} {_n(q.value)}", q.value * scale, q.half_unit * scale))
                from_projects += 1
        if not from_projects:
            continue
        s = sum((v for _, v, _ in parts), ZERO)
        tol = total.half_unit + sum((h for _, _, h in parts), ZERO)
        ok, gap = _agree(total, total.value, s, tol)
        if ok:
            continue
        code = "project-total-rounding-gap" if abs(gap) <= tol else "project-total-mismatch"
        hint = "；项目工作簿的金额已按 1 万元＝10000 元换算" if converted else ""
        plain = "" if code.endswith("gap") else (
            f"附件1所列项目支出{_col_label(dept.system, dcol)}{_money(total.value)}{dept.money_unit}，与业务工作经费及各项目资金"
            f"合计{_money(s)}{dept.money_unit}不一致")
        fields = dict(dept_cell=total.label, total=_n(total.value), parts_text=" ＋ ".join(t for t, _, _ in parts),
                      sum=_n(s), gap=_n(abs(gap)), tolerance=_n(tol), unit=dept.money_unit, expected=s, actual=total.value)
        if code == "project-total-mismatch":
            fields["hint"] = hint
        out.append(Issue(F.make(code, total.sheet, total.cell, **fields), plain))
    return out


def cross_findings(dept: Workbook, projects: Sequence[Workbook]) -> list[Finding]:
    """jixiao check DEPT --projects …：部门与项目之间的发现。"""
    return [i.finding for i in cross_check(dept, pair(dept, projects))]


# ---------------------------------------------------------------------------------------------------------
# 报送材料
# ---------------------------------------------------------------------------------------------------------
@dataclass
class ProjectPart:
    """报送材料中的一个项目：工作簿、它的自评报告、附件编号。"""

    workbook: Workbook
    report: Any  # addin.report.Report
    annex: str  # “附件3”
    row: ProjectRow | None

    @property
    def name(self) -> str:
        return self.workbook.name or self.workbook.file

    @property
    def annex_title(self) -> str:
        """附件标题：“公费医疗项目支出绩效自评表”（名称已以“项目”结尾时不重复）。"""
        name = self.name
        return f"{name}{'' if name.endswith('项目') else '项目'}支出绩效自评表"


@dataclass
class Package:
    dept: Workbook
    report: Any  # 部门报告（addin.report.Report），“部门项目实施情况”含各项目的概况
    projects: list[ProjectPart]
    issues: list[Issue]
    notes: list[str] = field(default_factory=list)  # 查找项目工作簿时跳过的文件等（只给终端）
    dept_findings: list[Finding] = field(default_factory=list)
    annex_titles: list[str] = field(default_factory=list)  # 附件1、附件2 的标题（其后是各项目）
    draft_blocks: list[Any] = field(default_factory=list)  # 报送材料的草稿说明（评价人的说法，接在部门报告的草稿说明之后）

    @property
    def findings(self) -> list[Finding]:
        return F.sort_findings([i.finding for i in self.issues])

    @property
    def errors(self) -> list[Finding]:
        return [f for f in self.findings if f.severity == F.ERROR]

    @property
    def draft(self) -> bool:
        """部门或任一项目的报告是草稿（评价未完成、缺材料），或部门与项目之间有“错误”。"""
        return bool(self.report.draft or any(p.report.draft for p in self.projects) or self.errors)

    @property
    def status(self) -> str:
        return "草稿" if self.draft else "定稿"

    def all_annex_titles(self) -> list[str]:
        return self.annex_titles + [p.annex_title for p in self.projects]

    def annex_note(self) -> list[str]:
        """附件说明（GB/T 9704 7.3.6）：全部附件逐行编号。"""
        titles = self.all_annex_titles()
        if len(titles) == 1:
            return [f"附件：{titles[0]}"]
        return [("附件：" if k == 1 else "") + f"{k}. {t}" for k, t in enumerate(titles, 1)]

    def report_missing_lines(self) -> list[str]:
        """部门与各项目的报告尚缺的内容及其单元格（项目前写文件名）。"""
        out = [f"  部门：{_missing_text(m)}" for m in self.report.missing]
        for part in self.projects:
            out += [f"  项目“{part.name}”（{part.workbook.file}）：{_missing_text(m)}" for m in part.report.missing]
        return out

    def missing_lines(self) -> list[str]:
        """草稿尚缺与待核实的全部内容：报告尚缺的内容与单元格，部门与项目之间的错误（两处单元格都在说明里）。"""
        # 项目评价未完成（project-incomplete）的各项指标已逐项列在报告尚缺的内容里
        return self.report_missing_lines() + [f"  {f.message}" for f in self.errors if f.code != "project-incomplete"]


def _missing_text(m: Any) -> str:
    what = m.what if m.kind == "indicator" else f"{m.what}：未填写或无法识别"
    return f"{what}（{m.sheet}!{m.cell}）" if m.cell else what


def project_summary(dept: Workbook, part: ProjectPart) -> SimpleNamespace:
    """部门报告“部门项目实施情况”中一个项目的概况：资金（部门的金额单位）、预算执行率、自评得分与等级。"""
    p = part.workbook
    scale = p.convert(dept.money_unit)

    def amount(col: str) -> Decimal | None:
        c = p.num(("table", PROJECT_FUNDS, col))
        return c.value * scale if _usable(c) else None

    execution = p.execution()
    rate = execution.value if execution is not None and isinstance(execution.value, Decimal) else None
    return SimpleNamespace(name=part.name, annex=part.annex, budget_initial=amount("budget_initial"),
                           budget_full=amount("budget_full"), executed=amount("executed"), rate=rate,
                           complete=p.ev.complete, total=p.ev.total if p.ev.complete else None,
                           grade=p.ev.grade if p.ev.complete else None, unscored=len(p.ev.missing))


def build_package(dept: Workbook, projects: Sequence[Workbook], *, template_dir: str | Path | None = None,
                  notes: Sequence[str] = ()) -> Package:
    """组装报送材料（确定性：同样的工作簿得到同样的内容）。"""
    from .checks import run_checks
    from .report import build_report, make_env

    require_department(dept)
    pairing = pair(dept, projects)
    issues = cross_check(dept, pairing)
    parts = [ProjectPart(p, build_report(p.inputs, p.ev, [], template_dir=template_dir), f"附件{k}", pairing.row(p))
             for k, p in enumerate(pairing.projects, 3)]
    summaries = [project_summary(dept, part) for part in parts]
    report = build_report(dept.inputs, dept.ev, [], template_dir=template_dir, projects=summaries)
    basic_title = f"{dept.unit or '×××'}{dept.ev.year or '××××'}年度{dept.system.table_title}"
    pkg = Package(dept, report, parts, issues, list(notes), run_checks(dept.inputs, dept.ev),
                  [basic_title, report.annex_titles[0]])
    if pkg.draft:
        pkg.draft_blocks = _draft_blocks(pkg, make_env(template_dir))
    return pkg


def _draft_blocks(pkg: Package, env) -> list[Any]:
    """报送材料的草稿说明（package_draft.j2）：各项目尚缺的内容与部门、项目之间不一致之处，评价人的说法。"""
    from .report import Block, _parse, _render

    items = []
    for part in pkg.projects:
        r = part.report
        if not r.draft:
            continue
        what = []
        unscored = [m for m in r.missing if m.kind == "indicator"]
        if unscored:
            what.append(f"尚有{len(unscored)}项指标未评分")
        texts = [m.what for m in r.missing if m.kind != "indicator"]
        if texts:
            what.append("自评报告尚缺" + "、".join(texts))
        items.append(f"项目“{part.name}”的自评{'，'.join(what)}")
    items += [i.plain for i in pkg.issues if i.plain and i.finding.severity == F.ERROR]
    if not items:
        return []
    text = _render(env, PACKAGE_DRAFT_TEMPLATE, {"items": items, "dept_draft": pkg.report.draft})
    return [Block("note", b.text, 0, True) for b in _parse(text)]
