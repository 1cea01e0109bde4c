"""工作簿的小型类型化模型：输入（WorkbookInputs）与计分结果（Evaluation）。"""
from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, Callable, Mapping, TypeVar

from udfs.numbers import InputError, parse_number
from udfs.rule import Rule


@dataclass(frozen=True)
class Formula:
    """单元格中的公式；cached 为文件中保存的计算结果（openpyxl 非 data_only 读取时未知为 None）。"""

    text: str
    cached: Any = None


@dataclass(frozen=True)
class Finding:
    """一条校验发现。code 为稳定的英文代码；severity：错误/警告/提示；cell 为 A1 地址。"""

    code: str
    severity: str
    sheet: str
    cell: str
    message: str
    expected: Any = None
    actual: Any = None

    def as_dict(self) -> dict[str, Any]:
        return {"code": self.code, "severity": self.severity, "sheet": self.sheet, "cell": self.cell,
                "message": self.message, "expected": _plain(self.expected), "actual": _plain(self.actual)}


def _plain(v: Any) -> Any:
    """JSON 可表示的值：Decimal 转文本；日期、时间等单元格里可能出现的其他类型也转成文本（--json 不能因此崩溃）。"""
    if isinstance(v, Decimal):
        return str(v)
    if v is None or isinstance(v, (str, int, float, bool)):
        return v
    return v.isoformat() if hasattr(v, "isoformat") else str(v)


SHEET_DATA = "基础数据表"
SHEET_SCORES = "评分表"
SHEET_TEXTS = "文字材料"
SHEET_CHECKS = "校验结果"
SHEET_REPORT = "报告"
GENERATED_SHEETS = (SHEET_CHECKS, SHEET_REPORT)


def cell_text(x: Any) -> str:
    """单元格内容作文本用：公式取保存的结果，空为 ""，整数值的浮点数不带“.0”（Excel 里的 2018 读成 2018.0），去首尾空白。"""
    if isinstance(x, Formula):
        x = x.cached
    if x is None:
        return ""
    if isinstance(x, float) and x.is_integer():
        x = int(x)
    return str(x).strip()


def cell_number(x: Any) -> Decimal | None:
    """单元格内容作数值用（如工作簿填写的自评得分）：公式取保存的结果，按 udfs.numbers.parse_number 解析，无法识别为 None。"""
    if isinstance(x, Formula):
        x = x.cached
    try:
        return parse_number(x).value
    except InputError:
        return None


@dataclass
class RowInput:
    """评分表一行（三级指标）的原始内容；cells 为各字段所在单元格地址（评分表内）。"""

    code: str
    level1: Any = None
    level2: Any = None
    name: Any = None
    points: Any = None
    criterion: Any = None
    formula_text: Any = None
    value: Any = None  # 原值，或 Formula
    unit: Any = None
    rule_label: Any = None
    na: Any = None
    params: list[Any] = field(default_factory=list)
    computed: Any = None  # 计算得分单元格（通常为 Formula）
    override: Any = None
    reason: Any = None
    final: Any = None
    stated_value: Any = None
    stated_score: Any = None
    note: Any = None
    evidence: Any = None  # 评分依据/扣分说明（报告中该指标段落的核查事实）
    row: int = 0
    cells: dict[str, str] = field(default_factory=dict)


@dataclass
class WorkbookInputs:
    system_key: str
    table: dict[str, dict[str, Any]] = field(default_factory=dict)
    table_labels: dict[str, Any] = field(default_factory=dict)
    scalars: dict[str, Any] = field(default_factory=dict)
    rows: list[RowInput] = field(default_factory=list)
    grade_rows: list[tuple[Any, Any]] = field(default_factory=list)
    texts: dict[str, Any] = field(default_factory=dict)
    # ("table", key, col) / ("scalar", key) / ("text", key) / ("subtotal", level1, field) / ("total", field) → (sheet, A1)
    cells: dict[tuple, tuple[str, str]] = field(default_factory=dict)
    # 评分表中小计/总分/等级单元格的原内容（用于核对）
    sheet_totals: dict[tuple, Any] = field(default_factory=dict)
    read_findings: list[Finding] = field(default_factory=list)
    # 表名 → 网格 {(行, 列): 原值或 Formula}：实际值公式可引用的单元格（addin/scoring/formula.py 求值用）；读取工作簿时按需加载
    grids: Mapping[str, Any] = field(default_factory=dict)
    # 评分表“定性词表”区域的各行 (词语, 档次)；工作簿没有该区域（旧模板）时为 None，定性规则用内置词表
    qual_words: list[tuple[Any, Any]] | None = None


@dataclass
class IndicatorResult:
    code: str
    level1: str
    level2: str
    name: str
    points: Decimal | None
    criterion: str
    formula: str
    unit: str
    value: Decimal | str | None
    value_error: str | None
    value_typed: bool  # 实际值为手工填写（非公式）
    rule: Rule | None
    computed: Decimal | None
    override: Decimal | None
    reason: str
    final: Decimal | None
    stated_value: Any
    stated_score: Any
    note: str
    row: int
    cells: dict[str, str]
    evidence: str = ""  # 评分依据/扣分说明（评价人填写的核查事实）

    @property
    def lost(self) -> Decimal:
        if self.points is None or self.final is None:
            return Decimal(0)
        return self.points - self.final


@dataclass
class Level1Result:
    """一级指标小计。score/computed 是已计分各行之和；unscored > 0 时小计不完整（Excel 中小计单元格显示“未完成”）。"""

    name: str
    points: Decimal
    score: Decimal
    computed: Decimal
    unscored: int = 0  # 得分无法计算的三级指标数
    computed_unscored: int = 0  # 计算得分无法计算的三级指标数

    @property
    def complete(self) -> bool:
        return self.unscored == 0


@dataclass
class ParentResult:
    """父行：分值等于其下各行分值之和、没有规则类型与实际值的行（如“数量指标 20 分”下列 4 个三级指标）。
    得分＝各子行得分之和（任一子行未计分则为 None）；父行不计入小计、总分与分值合计，避免重复计算。
    children 为直接子行的行号（子行可以又是父行）。"""

    code: str
    level1: str
    level2: str
    name: str
    points: Decimal
    score: Decimal | None
    computed: Decimal | None
    row: int
    cells: dict[str, str]
    children: tuple[int, ...]
    leaves: tuple[int, ...]  # 全部叶子行（三级指标）的行号


@dataclass
class Evaluation:
    system_key: str
    unit_name: str
    year: str
    money_unit: str
    indicators: list[IndicatorResult]
    level1: dict[str, Level1Result]
    points_total: Decimal
    total: Decimal | None  # 有指标未计分时为 None（不完整的总分从不显示、不参与计算）
    computed_total: Decimal
    grade: str | None  # 同上
    findings: list[Finding]
    inputs: WorkbookInputs
    # 未计分的指标：{"code", "name", "sheet", "cell"（如“评分表!H12”，应去修改的单元格）, "reason"（使之无法计分的发现的中文说明）}
    missing: list[dict[str, Any]] = field(default_factory=list)
    parents: list[ParentResult] = field(default_factory=list)

    @property
    def complete(self) -> bool:
        return not self.missing and all(i.final is not None for i in self.indicators)

    def as_json(self) -> dict[str, Any]:
        def num(x):
            return None if x is None else float(x) if isinstance(x, Decimal) else _plain(x)

        complete = self.complete
        return {
            "system": self.system_key, "unit": self.unit_name, "year": self.year, "money_unit": self.money_unit,
            "complete": complete, "total": num(self.total) if complete else None,
            "grade": self.grade if complete else None, "missing": [dict(m) for m in self.missing],
            "level1": {k: {"max": num(v.points), "score": num(v.score) if v.complete else None, "complete": v.complete}
                       for k, v in self.level1.items()},
            "indicators": [{
                "code": i.code, "name": i.name, "level1": i.level1, "level2": i.level2, "value": num(i.value),
                "max": num(i.points), "computed_score": num(i.computed), "score": num(i.final),
                "override_reason": i.reason or None, "row": i.row} for i in self.indicators],
            "parents": [{"code": p.code, "name": p.name, "level1": p.level1, "level2": p.level2, "row": p.row,
                         "max": num(p.points), "score": num(p.score), "children": list(p.children)}
                        for p in self.parents],
            "findings": [f.as_dict() for f in self.findings],
        }


T = TypeVar("T")
# 由指标体系的定义（不可变的元组、System 对象）推出的表（计分与校验都用），每个定义只推一次：按对象身份为键，并留住对象本身（身份不会被回收后的新对象冒用）
_ONCE: dict[tuple[int, Callable], tuple[object, Any]] = {}


def once(definition: object, derive: Callable[[Any], T]) -> T:
    """derive(definition)，同一个定义对象只算一次。调用方只读不改。"""
    hit = _ONCE.get((id(definition), derive))
    if hit is None or hit[0] is not definition:
        if len(_ONCE) >= 256:
            _ONCE.clear()
        hit = _ONCE[(id(definition), derive)] = (definition, derive(definition))
    return hit[1]
