"""工作簿级的数字解析：列出每个应填数字的输入单元格，解析其原值，并记住数字“写到了第几位”。

udfs.numbers.parse_number 负责“一个值能否理解为数字”；这里在其上补充校验需要的三样东西：
- 单元格的位置与中文名称（基础数据表 F4（支出合计·本年决算数）），发现据此指向单元格；
- 数字的书写精度（小数位数）：合计与分项相差是否在舍入误差之内、报告所列数字与重算结果的允许误差都由它决定；
- 原值的写法（以文本存储、括号里另有一个数、公式的保存结果），据此给出提示。
"""
from __future__ import annotations

import re
import unicodedata
from dataclasses import MISSING, dataclass, fields
from decimal import Decimal
from functools import lru_cache
from typing import Any

from udfs.numbers import InputError, is_blank, parse_number
from udfs.scoring import GradeTable
from udfs.targets import Qualitative, Target
from workbook_templates.spec import System

from ..model import SHEET_SCORES, Evaluation, Formula, WorkbookInputs, once

# 超过 9 位小数的只可能是浮点运算的尾差（如公式结果 982.6300000000001），不是有人写出来的精度
MAX_PLACES = 9

# 评分表各输入列的中文表头（消息中使用）
SCORE_FIELD_TITLES = {"points": "分值", "value": "实际值", "override": "调整得分", "stated_value": "报告所列实际值",
                      "stated_score": "报告所列得分", "computed": "计算得分", "final": "得分"}


@dataclass(frozen=True)
class NumCell:
    """一个数字输入单元格的解析结果。

    kind：money 金额 / count 人数等 / rate 比率（满意度）/ points 分值 / score 得分 / value 实际值 / stated 报告所列实际值。
    places：数字书写到的小数位数（比率按比值计，40.98% → 4）；value 为 None（空白、—、无）时无意义。
    known：公式单元格没有保存结果时为 False（不知道 Excel 中显示的是多少），校验跳过它。
    """

    sheet: str
    cell: str
    label: str
    kind: str
    key: tuple
    raw: Any
    value: Decimal | None = None
    alt: Decimal | None = None
    places: int = 0
    as_text: bool = False
    error: str | None = None
    formula: bool = False
    known: bool = True
    note: str = ""
    name: str = ""  # 不含位置的中文名称（项目支出·本年决算数）
    unit: str = ""  # 补充数据的单位（人、平方米……），用于判断是否应为整数

    @property
    def short(self) -> str:
        """消息中列举分项时用的短名：业务工作经费 D12。"""
        return f"{self.name.split('·')[0]} {self.cell}"

    @property
    def where(self) -> tuple[str, str]:
        return (self.sheet, self.cell)

    @property
    def half_unit(self) -> Decimal:
        """所写最后一位的半个单位：整数 → 0.5，两位小数 → 0.005。0 与空白是精确值，误差为 0。"""
        if self.value is None or self.value == 0:
            return Decimal(0)
        return Decimal(5).scaleb(-(self.places + 1))


def decimal_places(d: Decimal) -> int:
    """Decimal 的小数位数（保留书写时的末尾 0：1.50 → 2），超过 MAX_PLACES 的尾差截到 MAX_PLACES。"""
    # 不用科学记数法时，str 正好写出全部 −指数 位小数（Decimal 的 to-sci-string 规则：指数 ≤ 0 且数不太小），小数点后的
    # 字符数即位数；科学记数法才读 as_tuple（它每次构造一个具名元组，慢得多）。NaN、Infinity 两种写法都得 0
    s = str(d)
    if "E" not in s:
        dot = s.find(".")
        return 0 if dot < 0 else min(len(s) - dot - 1, MAX_PLACES)
    exp = d.as_tuple().exponent
    if not isinstance(exp, int):
        return 0
    return min(max(0, -exp), MAX_PLACES)


_TEXT_NUM = re.compile(r"^[+-]?[\d,]+(?:\.(\d+))?(%|‰)?")


def _text_places(text: str) -> int:
    t = unicodedata.normalize("NFKC", text).strip().replace("，", ",").replace(" ", "")
    m = _TEXT_NUM.match(t)
    if not m:
        return 0
    return len(m.group(1) or "") + {"%": 2, "‰": 3}.get(m.group(2) or "", 0)


def parse_cell(raw: Any) -> dict[str, Any]:
    """解析一个单元格原值，返回 NumCell 的数值字段（value/alt/places/as_text/error/formula/known/note）。"""
    out: dict[str, Any] = {"raw": raw}
    if isinstance(raw, Formula):
        out["formula"] = True
        raw = raw.cached
        if raw is None:
            out["known"] = False
            return out
        if isinstance(raw, str) and (raw.startswith("错误：") or raw.strip() == "不适用"):
            # 单元格函数返回的说明文字：不是输入错误，由计分引擎报告
            out["known"] = False
            return out
    try:
        p = parse_number(raw)
    except InputError as exc:
        out["error"] = str(exc)
        return out
    out["value"], out["alt"], out["note"] = p.value, p.alt, p.note
    if p.value is None:
        return out
    if isinstance(raw, str):
        out["as_text"] = True
        out["places"] = _text_places(raw)
    else:
        out["places"] = decimal_places(p.value)
    return out


def _strip_label(label: Any) -> str:
    """去掉行标签里的缩进、“其中：”与序号（（一）、1.），只留名称：“    1.业务工作经费” → “业务工作经费”。"""
    text = str(label or "")
    return _strip_name(text) if len(text) <= CACHE_TEXT_MAX else _strip_name.__wrapped__(text)


@lru_cache(maxsize=1024)  # 同一模板的行标签在每个工作簿里都一样（长文字不进缓存：缓存占的内存有界）
def _strip_name(text: str) -> str:
    t = text.strip()
    t = re.sub(r"^其中[:：]\s*", "", t)
    t = re.sub(r"^[（(][一二三四五六七八九十]+[)）]\s*", "", t)
    t = re.sub(r"^\d+[.．、]\s*", "", t)
    return t.strip() or text.strip()


def table_label(inputs: WorkbookInputs, system: System, key: str, col: str) -> str:
    col_label = next((c.label for c in system.columns if c.key == col), col)
    return f"{_row_label(inputs, system, key)}·{col_label}"


def _row_label(inputs: WorkbookInputs, system: System, key: str) -> str:
    return _strip_label(inputs.table_labels.get(key)) or next((r.label.strip() for r in system.table_rows if r.key == key), key)


# 一个应填数字的单元格，尚未解析：(键, 表, 单元格, 名称, 种类, 单位, 原值)——即 num_cell 的参数
CellSpec = tuple[tuple, str, str, str, str, str, Any]


def input_cells(inputs: WorkbookInputs, system: System, ev: Evaluation | None = None) -> list[NumCell]:
    """工作簿中每个应填数字的单元格（基础数据表的经费表与数字型补充数据；评分表的分值、实际值、调整得分、报告所列数字）。"""
    return [num_cell(*spec) for spec in input_specs(inputs, system, ev)]


def input_specs(inputs: WorkbookInputs, system: System, ev: Evaluation | None = None) -> list[CellSpec]:
    """input_cells 的未解析形式，同序：只用到其中一部分单元格的调用方（校验只逐个检查填了内容的）不必为每个都构造 NumCell。"""
    specs: list[CellSpec] = []
    where_of = inputs.cells.get
    table, scalars = inputs.table, inputs.scalars
    tables, titles, scalar_specs = _frame(system)
    for tr_key, cols in tables:
        values = table.get(tr_key, _NO_VALUES)
        labels = _cell_names(_row_label(inputs, system, tr_key), titles)
        for (key, col_key), name in zip(cols, labels, strict=True):
            where = where_of(key)
            if where is not None:
                specs.append((key, where[0], where[1], name, "money", "", values.get(col_key)))
    for key, s in scalar_specs:
        where = where_of(key)
        if where is not None:
            specs.append((key, where[0], where[1], s.label, s.kind, s.unit, scalars.get(s.key)))

    results = {r.row: r for r in ev.indicators} if ev is not None else {}
    for row in inputs.rows:
        res = results.get(row.row)
        name = str(row.name or (res.name if res else row.code) or row.code).strip()
        rule = res.rule if res else None
        # 文字型实际值（等次、定性完成情况、债务管理“无债务”）不按数字解析
        text_valued = (isinstance(rule, (GradeTable, Qualitative)) or (isinstance(rule, Target) and rule.nature == "定性")
                       or (res is not None and isinstance(res.value, str) and _looks_textual(res.value)))
        cell_of = row.cells.get
        code = row.code
        for f, key, kind, label in _row_cells(code, name, text_valued):
            raw = getattr(row, f)
            if raw is not None:  # 空白（大多数）两条都不会跳过
                if f == "value" and isinstance(raw, Formula):
                    continue  # 公式结果由计分引擎与公式结果核对负责
                if f == "stated_value" and isinstance(raw, str) and not is_blank(raw) and _looks_textual(raw):
                    continue  # 报告所列实际值可以是文字（如“良好”），按文字比对
            cell = cell_of(f)
            if cell:
                specs.append((key, SHEET_SCORES, cell, label, kind, "", raw))
    return specs


def _row_cells_of(code: str, name: str, text_valued: bool) -> tuple[tuple[str, tuple, str, str], ...]:
    """评分表一行的各数字输入格：(字段, 键 ("row", 代码, 字段), 种类, 中文名称“指标名·列名”)。"""
    fields, titles = (_TEXT_ROW_FIELDS, _TEXT_ROW_TITLES) if text_valued else (_ROW_FIELDS, _ROW_TITLES)
    return tuple((f, ("row", code, f), kind, label) for (f, kind, _), label in zip(fields, _names_of(name, titles),
                                                                                   strict=True))


# 同一模板各工作簿的同一行，代码、名称都相同：按 (代码, 名称, 是否文字型) 缓存，各工作簿得到同一组键与名称
# （num_cell 与 by_key 比较键时先比身份）；很长的代码或名称不缓存
_cached_row_cells = lru_cache(maxsize=2048)(_row_cells_of)


def _row_cells(code: str, name: str, text_valued: bool) -> tuple[tuple[str, tuple, str, str], ...]:
    short = type(code) is str and len(code) <= CACHE_TEXT_MAX and len(name) <= CACHE_TEXT_MAX
    return (_cached_row_cells if short else _row_cells_of)(code, name, text_valued)


_NO_VALUES: dict[str, Any] = {}


def _frame(system: System) -> tuple:
    """每个体系的经费表各格 (行键, ((键, 列键), …))、列名与数字型补充数据 (键, Scalar)：只取决于体系（由 once 每个体系推一次）。"""
    return once(system, _derive_frame)


def _derive_frame(system: System) -> tuple:
    col_labels: dict[str, str] = {}  # 同 table_label：列名取第一个同键的列
    for col in system.columns:
        col_labels.setdefault(col.key, col.label)
    tables = tuple((tr.key, tuple((("table", tr.key, c.key), c.key) for c in system.columns)) for tr in system.table_rows)
    titles = tuple(col_labels[c.key] for c in system.columns)
    scalar_specs = tuple((("scalar", s.key), s) for s in system.scalars if s.kind in ("money", "count", "rate"))
    return tables, titles, scalar_specs


def _names_of(name: str, titles: tuple[str, ...]) -> tuple[str, ...]:
    return tuple(f"{name}·{title}" for title in titles)


_cached_names = lru_cache(maxsize=2048)(_names_of)


def _cell_names(name: str, titles: tuple[str, ...]) -> tuple[str, ...]:
    """各格的中文名称“行名·列名”。同一模板各工作簿的名称相同：按名称缓存，各工作簿得到同一个字符串对象（num_cell 的
    缓存键不必逐字比较、重算散列）；很长的名称不缓存。"""
    return _cached_names(name, titles) if len(name) <= CACHE_TEXT_MAX else _names_of(name, titles)


# 评分表各行的数字输入列：(字段, 种类, 中文表头)
_TEXT_ROW_FIELDS = tuple((f, k, SCORE_FIELD_TITLES[f]) for f, k in (("points", "points"), ("override", "score"),
                                                                    ("stated_score", "score")))
_ROW_FIELDS = (*_TEXT_ROW_FIELDS, *((f, k, SCORE_FIELD_TITLES[f]) for f, k in (("value", "value"), ("stated_value", "stated"))))
_TEXT_ROW_TITLES, _ROW_TITLES = (tuple(t for _, _, t in fields) for fields in (_TEXT_ROW_FIELDS, _ROW_FIELDS))
# 作缓存键的文字最长这么多字符：单元格可长达 32,767 个字符，缓存的条数有上限，每条的大小也要有上限
CACHE_TEXT_MAX = 256


def cacheable(raw: Any) -> bool:
    """原值可以作缓存的键：相等的原值写法也相同——None、int、不太长的 str 与非零浮点数。Decimal('1.50') 与
    Decimal('1.5')、0.0 与 -0.0 相等而书写位数或符号不同，True 与 1 相等（键里另有类型），公式带着保存的结果：都不作键。"""
    t = type(raw)
    return raw is None or t is int or (t is str and len(raw) <= CACHE_TEXT_MAX) or (t is float and raw != 0)


# num_cell：解析一个输入单元格（CellSpec）。同一模板的工作簿里，大半输入单元格在同一位置有同样的原值（空白、分值列、
# “无”）；NumCell 只由这些参数决定且不可变，按参数复用，不再逐个解析、构造（只缓存 cacheable 的原值与不太长的名称，
# 满了就清空）。
_CELL_CACHE_MAX = 20_000
_cell_cache: dict[tuple, NumCell] = {}


def num_cell(key: tuple, sheet: str, cell: str, name: str, kind: str, unit: str, raw: Any) -> NumCell:
    if not cacheable(raw) or len(name) > CACHE_TEXT_MAX:
        return _new_cell(key, sheet, cell, name, kind, unit, raw)
    k = (key, sheet, cell, name, kind, unit, type(raw), raw)
    c = _cell_cache.get(k)
    if c is None:
        if len(_cell_cache) >= _CELL_CACHE_MAX:
            _cell_cache.clear()
        c = _cell_cache[k] = _new_cell(key, sheet, cell, name, kind, unit, raw)
    return c


def _new_cell(key: tuple, sheet: str, cell: str, name: str, kind: str, unit: str, raw: Any) -> NumCell:
    """即 NumCell(sheet=…, label=f"{sheet} {cell}（{name}）", …, **parse_cell(raw))。NumCell 是 frozen 的 dataclass，生成的
    __init__ 为每个字段调用一次 object.__setattr__（16 次，每个新工作簿十几个单元格）；这里先按字段次序排好全部字段
    （_CELL_DEFAULTS 是各字段的默认值），一次写入实例的 __dict__：字段、次序与值都与 __init__ 相同（frozen 只拦截
    setattr，没有 __post_init__；tests/test_checks_context 逐项核对）。"""
    d = dict(_CELL_DEFAULTS)
    d.update(sheet=sheet, cell=cell, label=f"{sheet} {cell}（{name}）", kind=kind, key=key, name=name, unit=unit)
    d.update(parse_cell(raw))
    c = _new_instance(NumCell)
    c.__dict__.update(d)
    return c


_new_instance = object.__new__
# NumCell 各字段按定义次序，必填的先占位（_new_cell 随即写入），其余取默认值
_CELL_DEFAULTS = {f.name: None if f.default is MISSING else f.default for f in fields(NumCell)}
if any(f.default_factory is not MISSING for f in fields(NumCell)) or hasattr(NumCell, "__post_init__"):
    raise ImportError("NumCell 有 default_factory 或 __post_init__：_new_cell 须改回调用 NumCell(...)")


def _looks_textual(raw: str) -> bool:
    """不含任何数字的文字（“良好”“达成”）按文字比对，不当作写错的数字。"""
    return not any(ch.isdigit() for ch in unicodedata.normalize("NFKC", raw))
