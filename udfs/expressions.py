"""报告怎样写出一个指标的算式：“名称＝公式＝代入的数字＝结果”。

每个指标单元格函数在目录（excel.CATALOG）中带一个 expression：由按参数顺序格式化好的数字（金额、百分数、人数）
写出代入的算式，如 预算执行率 的 ["588.00", "626.00"] → “588.00÷626.00×100%”。equation 把名称、公式说明、代入的
数字与结果连成报告中的一句：预算执行率＝全年执行数÷全年预算数×100%＝588.00÷626.00×100%＝93.93%。
这里只拼字符串：数字由调用方（报告）按工作簿的单位格式化后传入。
"""
from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Callable

from .numbers import InputError, fmt_num, parse_number


@dataclass(frozen=True)
class Expr:
    figures: str  # 代入数字的算式（不含“＝结果”）
    result: str | None = None  # 代替默认的“＝结果”；"" 表示不再写结果
    shown: tuple[int, ...] | None = None  # 数据句中列出哪些参数（默认全部）
    formula: tuple[str, str] | None = None  # 公式说明中要换掉的字样（旧, 新），如所选的分母口径


Expression = Callable[[list[str]], Expr]


def _figure(text: str) -> Decimal | None:
    """代入的数字（“（12.50）”“50.00”）读回 Decimal（与单元格内容同样解析）；读不出为 None。"""
    try:
        return parse_number(text).value
    except InputError:
        return None


def ratio(f: list[str]) -> Expr:
    """分子÷分母×100%。"""
    return Expr(f"{f[0]}÷{f[1]}×100%")


def ratio_of_first_two(f: list[str]) -> Expr:
    """分子÷分母×100%，其后的参数（本年调整预算数，只用于推算空白的本年追加）不列入数据句。"""
    return Expr(f"{f[0]}÷{f[1]}×100%", shown=(0, 1))


def change(f: list[str]) -> Expr:
    """（本期－上期）÷上期×100%。"""
    return Expr(f"（{f[0]}－{f[1]}）÷{f[1]}×100%")


def budget_completion(f: list[str]) -> Expr:
    """预算完成率（湖南）；最后一个参数（本年调整预算数）只用于推算空白的本年追加，不列入数据句。"""
    return Expr(f"（{f[0]}＋{f[1]}＋{f[2]}－{f[3]}）÷（{f[0]}＋{f[1]}＋{f[2]}）×100%", shown=(0, 1, 2, 3))


def carryover(f: list[str]) -> Expr:
    return Expr(f"（{f[0]}－{f[1]}）÷{f[2]}×100%")


def asset_use(f: list[str]) -> Expr:
    return Expr(f"（1－{f[0]}÷{f[1]}）×100%")


SATISFACTION_WEIGHTS = (Decimal("0.5"), Decimal("0.4"), Decimal("0.1"))


def satisfaction(f: list[str]) -> Expr:
    """服务对象×50%＋社会公众×40%＋内部员工×10%；写了权重参数时用所写的权重。"""
    weights = list(SATISFACTION_WEIGHTS)
    for i, w in enumerate(f[3:6]):
        d = _figure(w.rstrip("%")) if w else None
        if d is not None:
            weights[i] = d / 100 if w.endswith("%") else d
    terms = [f"{f[i]}×{fmt_num(weights[i] * 100)}%" for i in range(3)]
    return Expr("＋".join(terms), shown=(0, 1, 2))


# 预算执行率（按口径）：口径 → 分母是第几个参数（BUDGET_EXECUTION_BY 的参数顺序）
BASIS_ARG = {"全年预算数": 3, "实际到位资金": 2, "调整后预算数": 4, "年初预算数": 5}
DEFAULT_BASIS = "全年预算数"
BASIS_PLACEHOLDER = "（所选口径的）预算数"  # 模板公式说明中的字样，报告换成所选的口径


def basis_arg(basis: object) -> int:
    """所选口径的分母参数序号；空白或认不出的口径按全年预算数。"""
    return BASIS_ARG.get(str(basis or "").strip() or DEFAULT_BASIS, BASIS_ARG[DEFAULT_BASIS])


def execution_by(f: list[str]) -> Expr:
    idx = BASIS_ARG.get((f[0] or DEFAULT_BASIS).strip(), BASIS_ARG[DEFAULT_BASIS])
    return Expr(f"{f[1]}÷{f[idx]}×100%", shown=(1, idx), formula=(BASIS_PLACEHOLDER, f[0] or DEFAULT_BASIS))


def overstaffing(f: list[str]) -> Expr:
    quota, actual = _figure(f[0].strip("（）")), _figure(f[1].strip("（）"))
    if quota is not None and actual is not None and actual <= quota:
        return Expr(f"{f[1]}－{f[0]}≤0，未超编", result="")
    return Expr(f"{f[1]}－{f[0]}")


def no_figures(f: list[str]) -> Expr:
    """结果是文字（债务管理：无债务/减少/……）：不写算式与结果。"""
    return Expr("", result="")


def head(name: str, formula: str) -> str:
    """算式的开头：公式说明自带“名称＝”时（“超编人数＝实有人数－编制数”）照写，否则写成“名称＝公式”。"""
    formula = formula.replace("=", "＝")
    return formula if "＝" in formula else (f"{name}＝{formula}" if formula else name)


def equation(name: str, formula: str, figures: str = "", result: str = "") -> str:
    """名称＝公式＝代入的数字＝结果（代入的数字或结果为空时省去那一段）。"""
    h = head(name, formula)
    eq = f"{h}＝{figures}" if figures else h
    return f"{eq}＝{result}" if result else eq
