"""报送材料的工作簿：读入并计分的部门与项目工作簿（Workbook）、名称的对应写法、在部门工作簿旁查找属于本部门的项目工作簿。"""
from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

from workbook_templates.spec import System
from workbook_templates.systems import SYSTEMS

from ..model import SHEET_DATA, Evaluation, WorkbookInputs, cell_text
from ..scoring.parsing import NumCell, input_cells

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
    from ..io.book import BookError
    from ..scoring.engine import evaluate
    from ..scoring.reader import ReadError, load_readable

    try:
        book, inputs = load_readable(path, with_cached=True)
    except (BookError, ReadError) as exc:
        raise SubmissionError(str(exc)) from None
    return Workbook(inputs, evaluate(inputs), Path(path), book, external)


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
    from ..io.filecheck import WORKBOOK_SUFFIXES
    from ..io.safeio import is_backup_name, same_path

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
