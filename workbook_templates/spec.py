"""模板的声明式描述：指标体系（System）由基础数据项、三级指标与等级标准组成。

同一份描述用于：生成 .xlsx 模板（build.py）、读取用户工作簿（addin.scoring.reader）、无界面计分（addin.scoring.engine）。
"""
from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from udfs.excel import BY_NAME
from udfs.rule import Rule
from udfs.scoring import GradeScale


@dataclass(frozen=True)
class Column:
    key: str
    label: str


@dataclass(frozen=True)
class TableRow:
    """基础数据表“经费情况”表的一行。parts：本行应等于哪些行之和（用于校验）。"""

    key: str
    label: str
    indent: int = 0
    parts: tuple[str, ...] = ()


@dataclass(frozen=True)
class Scalar:
    """基础数据表“补充数据”区的一项。kind: money 金额 / count 人数等 / rate 比率 / text 文本 / choice 下拉。"""

    key: str
    label: str
    kind: str = "money"
    unit: str = ""
    choices: tuple[str, ...] = ()
    note: str = ""


@dataclass(frozen=True)
class IndicatorSpec:
    """评分表一行（三级指标）。

    udf/args：实际值由哪个单元格函数、用哪些基础数据计算；args 中 "key" 指补充数据，"key@col" 指经费表单元格，
    以 "=" 开头的是常量。udf 为 None 时实际值由评价人直接填写（定性、等次、扣分、项目完成值）。
    formula（评分表“指标公式说明”列）不写时取单元格函数目录（udfs.excel.CATALOG）中该函数的公式说明；wording 选用
    目录中记下的另一种原文写法（如“子洲”）。
    """

    code: str
    level1: str
    level2: str
    name: str
    rule: Rule
    criterion: str
    formula: str = ""  # 指标公式（中文说明）；udf 指标不写，取自目录
    udf: str | None = None
    args: tuple[str, ...] = ()
    unit: str = "%"  # 实际值的单位：% 比率、等次、分、扣分、人 ……
    value_hint: str = ""
    # 此前版本模板的实际值公式参数（None 表示与 args 相同）：旧工作簿里的这种公式仍按当时的写法计算，不报“公式被修改”
    legacy_args: tuple[str, ...] | None = None
    wording: str = ""

    def __post_init__(self) -> None:
        if self.udf and not self.formula:
            object.__setattr__(self, "formula", BY_NAME[self.udf].formula_text(self.wording))

    @property
    def points(self) -> Decimal:
        return self.rule.points


@dataclass(frozen=True)
class TextSpec:
    key: str
    title: str
    hint: str = ""


@dataclass(frozen=True)
class System:
    key: str
    title: str  # 评分表标题
    kind: str  # dept 部门整体 / key_eval 重点评价 / project 项目支出
    description: str
    table_title: str
    columns: tuple[Column, ...]
    table_rows: tuple[TableRow, ...]
    scalars: tuple[Scalar, ...]
    indicators: tuple[IndicatorSpec, ...]
    grades: GradeScale
    texts: tuple[TextSpec, ...] = ()
    param_headers: tuple[str, ...] = tuple(f"参数{i}" for i in range(1, 11))
    level1_order: tuple[str, ...] = ()
    extra: dict = field(default_factory=dict)

    def indicator(self, code: str) -> IndicatorSpec | None:
        # 读取与计分时每行都要查：第一次用时按代码建索引（同一代码出现多次时取第一个，与逐个查找相同）
        index = self.__dict__.get("_by_code")
        if index is None:
            index = {}
            for s in self.indicators:
                index.setdefault(s.code, s)
            object.__setattr__(self, "_by_code", index)
        return index.get(code)

    @property
    def table_keys(self) -> set[str]:
        return {r.key for r in self.table_rows}

    @property
    def scalar_keys(self) -> set[str]:
        return {s.key for s in self.scalars}


N_PARAMS = 10


@dataclass
class Example:
    """一份填好的工作簿的数据（示例或测试夹具）。未给出的项保持空白。"""

    name: str
    system: str
    scalars: dict[str, Any] = field(default_factory=dict)
    table: dict[str, dict[str, Any]] = field(default_factory=dict)
    table_labels: dict[str, str] = field(default_factory=dict)
    table_notes: dict[str, str] = field(default_factory=dict)
    values: dict[str, Any] = field(default_factory=dict)
    overrides: dict[str, tuple[Any, str]] = field(default_factory=dict)
    stated: dict[str, tuple[Any, Any]] = field(default_factory=dict)
    notes: dict[str, str] = field(default_factory=dict)
    evidence: dict[str, str] = field(default_factory=dict)  # 评分依据/扣分说明
    texts: dict[str, str] = field(default_factory=dict)
    indicators: tuple[IndicatorSpec, ...] | None = None  # 替换体系中的指标行（项目支出自评表）
    params: dict[str, list[Any]] = field(default_factory=dict)  # 改动某行规则参数
    points: dict[str, Any] = field(default_factory=dict)  # 改动某行分值
    description: str = ""
