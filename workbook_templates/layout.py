"""工作簿版式：工作表名、评分表列、区块标记。生成模板（build.py）与读取工作簿（addin.scoring.reader）共用。"""
from __future__ import annotations

import re
from functools import lru_cache

from .spec import N_PARAMS, System

SHEET_DATA = "基础数据表"
SHEET_SCORES = "评分表"
SHEET_TEXTS = "文字材料"

TABLE_MARK = "经费情况"
SCALAR_MARK = "补充数据"
CODE_HEADER = "代码"
SYSTEM_LABEL = "指标体系"
SUBTOTAL_MARK = "小计"
TOTAL_MARK = "总分"
GRADE_MARK = "等级"
GRADE_TABLE_MARK = "等级标准"
# 定性词表：评分表等级标准下方的区域（B 列词语、C 列档次），工作簿定义的名称 WORDS_NAME 指向标记行下方 WORDS_ROWS 行；
# 目标比较、定性三档与 SCORE 的计算得分公式把它作为最后一个参数，无界面引擎读取同一区域
WORDS_MARK = "定性词表"
WORDS_NAME = "定性词表"
WORDS_ROWS = 200

# 评分表各列：字段名 → 表头（参数列表头由指标体系给出）
SCORE_FIELDS_BEFORE = [("code", CODE_HEADER), ("level1", "一级指标"), ("level2", "二级指标"), ("name", "三级指标"),
                       ("points", "分值"), ("criterion", "评分标准"), ("formula_text", "指标公式"), ("value", "实际值"),
                       ("unit", "单位"), ("rule", "规则类型"), ("na", "无基数时")]
SCORE_FIELDS_AFTER = [("computed", "计算得分"), ("override", "调整得分"), ("reason", "调整理由"), ("final", "得分"),
                      ("stated_value", "报告所列实际值"), ("stated_score", "报告所列得分"), ("note", "备注"),
                      ("evidence", "评分依据/扣分说明")]
# 后加的列：此前生成的工作簿没有它们，读取时缺少也照常读取（该字段视为空白）
OPTIONAL_SCORE_FIELDS = frozenset({"evidence"})
PARAM_FIELDS = [f"p{i}" for i in range(1, N_PARAMS + 1)]


def score_fields() -> list[str]:
    return [f for f, _ in SCORE_FIELDS_BEFORE] + PARAM_FIELDS + [f for f, _ in SCORE_FIELDS_AFTER]


def score_headers(system: System) -> list[str]:
    return [h for _, h in SCORE_FIELDS_BEFORE] + list(system.param_headers) + [h for _, h in SCORE_FIELDS_AFTER]


COL = {f: i for i, f in enumerate(score_fields())}  # 0-based
def col_letter(i: int) -> str:
    """0 起的列号 → 列字母（0 → A，27 → AB）。不借用 xlsxwriter：读取工作簿的路径不必导入它。"""
    out = ""
    i += 1
    while i:
        i, r = divmod(i - 1, 26)
        out = chr(65 + r) + out
    return out


LETTER = {f: col_letter(i) for f, i in COL.items()}

SCORE_HEADER_ROW = 3  # 1-based
SCORE_FIRST_ROW = 4


def quote_sheet(name: str) -> str:
    return "'" + name.replace("'", "''") + "'"


def table_parts(system: System) -> dict[str, tuple[str, ...]]:
    """经费表中有分项的合计行：合计行 key → 分项行 key（支出合计 ＝ 基本 ＋ 项目；年度资金总额 ＝ 各来源……）。"""
    return {r.key: r.parts for r in system.table_rows if r.parts}


def value_formula(udf: str, args, cells, parts: dict[str, tuple[str, ...]] | None = None) -> str:
    """实际值单元格的公式：=UDF('基础数据表'!$C$5,...)。cells 为 WorkbookInputs.cells（引用随用户插入行而更新）。

    给出 parts（table_parts）时，引用合计行的参数写成“合计空白或为 0 而分项都填了数时取分项之和”：
    IF(AND(N(合计)=0,COUNT(分项…)=分项数),SUM(分项…),IF(ISBLANK(合计),"",合计))——合计空白且分项不全时传给函数的是
    空串（未填写），不是 0。addin.scoring.derived.total_or_parts 按同一规则取值，命令行与 Excel 结果相同。
    不给 parts 得到的是此前版本的模板公式（直接引用合计单元格），读取旧工作簿时用来识别它。
    """

    def addr(key: tuple) -> str:
        sheet, cell = cells[key]
        col = "".join(ch for ch in cell if ch.isalpha())
        return f"{quote_sheet(sheet)}!${col}${cell[len(col):]}"

    def ref(a: str) -> str:
        if a.startswith("="):
            return f'"{a[1:]}"'
        if "@" not in a:
            return addr(("scalar", a))
        key, col = a.split("@", 1)
        total = addr(("table", key, col))
        subs = (parts or {}).get(key, ())
        if not subs:
            return total
        p = ",".join(addr(("table", k, col)) for k in subs)
        return f'IF(AND(N({total})=0,COUNT({p})={len(subs)}),SUM({p}),IF(ISBLANK({total}),"",{total}))'

    return f"={udf}({','.join(ref(a) for a in args)})"


# Excel 保存时给加载项函数加的前缀：[1]!（外部链接序号）、'…\jixiao.xlam'!（加载项路径）、_xludf.（未加载时）
_ADDIN_PREFIX = re.compile(r"'[^']*\.xla[mx]?'!|\[\d+\]!(?=[A-Za-z_])|\b[A-Za-z0-9_.\-]+\.xla[mx]?!|_xludf\.", re.I)


@lru_cache(maxsize=16384)
def normalise_formula(text: str) -> str:
    """比较公式时忽略空白、$、引号与大小写（Excel 对不含空格的表名可能去掉引号），以及 Excel 给加载项函数加的前缀
    （这些前缀不是用户的改动）。批量校验时同一模板的公式在每个工作簿里都要比较，结果缓存。"""
    return "".join(ch for ch in _ADDIN_PREFIX.sub("", text) if not ch.isspace() and ch not in "$'").upper()


# 哪些参数是比率（显示为百分数）：规则类型 → 参数序号（0 起）
RATE_PARAMS = {"达标满分": (1,), "区间满分": (0, 1), "分档": (0, 2, 4, 6), "线性插值": (0, 1), "按步扣分": (0, 1),
               "目标比较": (1,)}
