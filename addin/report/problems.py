"""存在问题与建议：把失分指标按主题归并，像评价人那样写——每个问题一条陈述，带上扣分依据与原因。

主题（种子 001 七、存在问题：预算报表编制问题、预算执行不到位、部门绩效自评问题）：预算编制、预算执行、财务与资产管理、
绩效管理、履职效益。指标归入哪个主题是下面的数据：先按单元格函数，再按指标名称、二级指标、一级指标中的关键词——用户
在评分表中新增的指标也能归类。“文字材料”中的存在问题按条（换行、分号、句号分隔）归入它点名的失分指标所在主题，否则按关键词；
归不进任何主题的条目单独成为一个问题。文字材料已经写明的事实（数字都在其中，或扣分说明原文就在其中）不再由程序重复生成：
文字材料优先。问题与建议的措辞在 workbook_templates/text/problems.j2、suggestions.j2、themes.j2。
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any, Iterable

from udfs.numbers import is_none_token

THEMES = ("预算编制", "预算执行", "财务与资产管理", "绩效管理", "履职效益")

# 按单元格函数（指标的计算口径）归类
BY_UDF = {
    "STAFF_CONTROL_RATE": "预算编制", "OVERSTAFFING": "预算编制", "SANGONG_CHANGE_RATE": "预算编制",
    "BUDGET_CONTROL_RATE": "预算编制", "BUDGET_ARRIVAL_RATE": "预算编制",
    "BUDGET_COMPLETION": "预算执行", "BUDGET_COMPLETION_ZZ": "预算执行", "CARRYOVER_RATE": "预算执行",
    "CARRYOVER_CHANGE_RATE": "预算执行", "PUBLIC_EXPENSE_CONTROL": "预算执行", "PUBLIC_EXPENSE_CHANGE": "预算执行",
    "SANGONG_CONTROL_RATE": "预算执行", "PROCUREMENT_RATE": "预算执行", "BUDGET_EXECUTION": "预算执行",
    "BUDGET_EXECUTION_BY": "预算执行", "BUILDING_AREA_RATE": "预算执行", "BUILDING_INVEST_RATE": "预算执行",
    "RECEIVABLE_CHANGE_RATE": "财务与资产管理", "DEBT_STATUS": "财务与资产管理", "ASSET_USE_RATE": "财务与资产管理",
    "SATISFACTION": "履职效益", "KEY_WORK_RATE": "履职效益",
}
# 其余按名称中的关键词（靠前的先匹配），再按二级指标、一级指标
BY_NAME = (("部门预算", "预算编制"), ("预算编制", "预算编制"), ("绩效目标", "绩效管理"), ("自评", "绩效管理"),
           ("部门评价", "绩效管理"), ("绩效", "绩效管理"), ("决算", "财务与资产管理"), ("制度", "财务与资产管理"),
           ("资金使用", "财务与资产管理"), ("公开", "财务与资产管理"), ("资产", "财务与资产管理"),
           ("采购", "预算执行"), ("满意度", "履职效益"), ("重点工作", "履职效益"), ("年度目标", "履职效益"),
           ("效益", "履职效益"), ("效能", "履职效益"))
BY_LEVEL2 = (("预算编制", "预算编制"), ("预算配置", "预算编制"), ("目标设定", "绩效管理"), ("预算执行", "预算执行"),
             ("预算管理", "财务与资产管理"), ("债", "财务与资产管理"), ("资产", "财务与资产管理"), ("履职", "履职效益"),
             ("效益", "履职效益"), ("满意度", "履职效益"), ("产出", "履职效益"))
BY_LEVEL1 = (("投入", "预算编制"), ("决策", "预算编制"), ("过程", "预算执行"), ("预算执行", "预算执行"),
             ("产出", "履职效益"), ("效果", "履职效益"), ("效益", "履职效益"), ("满意度", "履职效益"))
# 文字材料中的问题按关键词归类（最先出现的关键词决定主题）
TEXT_KEYWORDS = {
    "预算编制": ("预算编制", "编制不", "年初预算", "追加", "预算报表", "预算数据"),
    "预算执行": ("预算执行", "执行率", "完成率", "执行进度", "结转", "结余", "支付进度", "公用经费", "三公经费"),
    "财务与资产管理": ("财务", "资产", "会计", "决算", "内控", "内部控制", "管理制度"),
    "绩效管理": ("绩效目标", "绩效自评", "自评", "绩效考核", "绩效管理", "绩效评价"),
    "履职效益": ("满意度", "效益", "履职", "服务对象"),
}


def _first(text: str, table: Iterable[tuple[str, str]]) -> str:
    for word, theme in table:
        if word and word in text:
            return theme
    return ""


def theme_of(udf: str, name: str, level2: str, level1: str) -> str:
    """指标所属主题（THEMES 之一）。"""
    return (BY_UDF.get(udf or "") or _first(name, BY_NAME) or _first(level2, BY_LEVEL2) or _first(level1, BY_LEVEL1)
            or "预算执行")


def text_theme(item: str) -> str:
    """文字材料中一条问题的主题：最先出现的关键词所属主题；没有关键词时为空串。"""
    best, pos = "", len(item) + 1
    for theme, words in TEXT_KEYWORDS.items():
        for w in words:
            k = item.find(w)
            if 0 <= k < pos:
                best, pos = theme, k
    return best


_SPLIT = re.compile(r"[\n；;。]+")


def says_none(text: str) -> bool:
    """文字写明了“没有”：“无”“无。”“暂无”“没有”“—”等。"""
    t = text.strip().rstrip("。.")
    return t in ("暂无", "没有") or is_none_token(t)


def split_items(text: str) -> list[str]:
    """文字材料按条切分（换行、分号、句号），去掉首尾空白与末尾的逗号。"""
    return [s.strip().rstrip("，,、 ") for s in _SPLIT.split(text or "") if s.strip().rstrip("，,、 ")]


NUMBER = re.compile(r"-?\d+(?:\.\d+)?")


def numbers_in(text: str) -> set[Decimal]:
    """文字中的数（2018、982.63、10.12%→10.12），规范成 Decimal 以便比较（450 与 450.00 相同）。"""
    out = set()
    for m in NUMBER.finditer(text or ""):
        try:
            out.add(Decimal(m.group()).normalize())
        except InvalidOperation:
            pass
    return out


CAUSE_KINDS = ("formula", "na", "value", "status", "target")


@dataclass
class Problem:
    """一个问题：theme 主题（空串为文字材料中无法归类的一条）；indicators 该主题下失分且未被文字材料写明的指标视图；
    texts 归入此主题的文字材料原文；causes 由评分依据得来的原因（没有文字材料时才用）；remarks 评价人调整得分的理由
    （既没有文字材料也没有评分依据时才用）。"""

    theme: str
    indicators: list[Any] = field(default_factory=list)
    texts: list[str] = field(default_factory=list)
    causes: list[str] = field(default_factory=list)
    remarks: list[str] = field(default_factory=list)  # 没有评分依据时：调整得分的理由


def _stated(view: Any, text: str) -> bool:
    """文字材料是否已写明该指标的失分事实：事实中的数字都出现在文字中，或扣分说明原文就在文字中。"""
    figures = numbers_in(view.fact_figures)
    if figures and figures <= numbers_in(text):
        return True
    short = view.short
    return bool(short) and short in text


def group(lost: list[Any], problems_text: str) -> list[Problem]:
    """失分指标（视图，须有 theme/name/kind/evidence/short/fact_figures）与文字材料“存在问题”→ 问题列表（按主题顺序，
    无法归类的文字材料各条在后）。"""
    attached: dict[str, list[str]] = {t: [] for t in THEMES}
    loose: list[str] = []
    for item in split_items(problems_text):
        if says_none(item):
            continue  # 写明“无”：不是一条问题（没有失分指标时模板照写原文）
        named = [v for v in lost if v.name and v.name in item]
        theme = named[0].theme if named else text_theme(item)
        (attached[theme] if theme else loose).append(item)
    out: list[Problem] = []
    for theme in THEMES:
        texts = attached[theme]
        joined = "".join(texts)
        views = [v for v in lost if v.theme == theme and not _stated(v, joined)]
        if not views and not texts:
            continue
        # 公式指标的数字说明不了原因，评分依据里写的才是（保靖：年中增加大量工作人员）；扣分、等次指标的依据本身就是事实。
        # 没有评分依据时用评价人调整得分的理由（评价说明）
        causes = [] if texts else list(dict.fromkeys(v.evidence for v in views if v.kind in CAUSE_KINDS and v.evidence))
        remarks = [] if texts or causes else list(dict.fromkeys(v.reason for v in views if v.kind in CAUSE_KINDS
                                                                and v.changed and v.reason))
        out.append(Problem(theme, views, texts, causes, remarks))
    out += [Problem("", [], [item], []) for item in loose]
    return out
