"""评分表中由模板写入的公式文本：计算得分（=SCORE(…)，规则由本行的规则类型与参数单元格选择）、得分（=FINAL_SCORE）、
一级指标小计、总分与等级（有指标未计分时显示“未完成”）。只由版式（layout.py）决定；生成器（addin/template）写入它们。"""
from __future__ import annotations

from . import layout as L


def score_formula(r: int) -> str:
    """计算得分：=SCORE(实际值,分值,规则类型,无基数时,参数1:参数10,定性词表)。规则由本行“规则类型”单元格选择，改下拉即改
    评分方式（Excel 与 jixiao score 一样）；最后一个参数是工作簿定义的名称“定性词表”（定性指标的完成情况归入三档），用户改词表，
    Excel 与 jixiao score 同时改变。旧工作簿中的 =SCORE_LINEAR(…) 等按类型的函数、不带词表的 =SCORE(…) 照常有效（用内置词表）。
    计算得分公式只在这里生成。"""
    c = L.LETTER
    return (f"=SCORE({c['value']}{r},{c['points']}{r},{c['rule']}{r},{c['na']}{r},{c['p1']}{r}:{c['p10']}{r},"
            f"{L.WORDS_NAME})")


INCOMPLETE_TEXT = "未完成"


def unscored_count(a: int, b: int, field: str = "final") -> str:
    """第 a～b 行中未计分的行数（Excel 公式片段）：得分不是数字、而该行填了三级指标或得分单元格不空（“错误：…”说明、
    “不适用”、填了名称却没有公式的插入行）。没有名称、得分也空着的行（插入后未填写的空行、三级为空的父行）不算。
    field="computed" 时另计：选了规则类型而计算得分不是数字的行。"""
    c = L.LETTER
    y, d = f"{c['final']}{a}:{c['final']}{b}", f"{c['name']}{a}:{c['name']}{b}"
    text = f'SUMPRODUCT(((({d}<>"")+({y}<>""))>0)*(ISNUMBER({y})=FALSE))'
    if field == "computed":
        v, j = f"{c['computed']}{a}:{c['computed']}{b}", f"{c['rule']}{a}:{c['rule']}{b}"
        text += f'+SUMPRODUCT(({j}<>"")*(ISNUMBER({v})=FALSE))'
    return text


def subtotal_formula(field: str, a: int, b: int) -> str:
    """一级指标小计（第 a～b 行）。只加有规则类型的行：父行（规则类型为空，得分是子行之和）不重复计入；
    得分与计算得分在有指标未计分时显示“未完成”——SUM 会跳过“错误：…”文字，不加判断的小计看起来像是最终结果。"""
    c = L.LETTER
    col, rule = c[field], c["rule"]
    total = f'SUM({col}{a}:{col}{b})-SUMIF({rule}{a}:{rule}{b},"",{col}{a}:{col}{b})'
    if field == "points":
        return "=" + total
    return f'=IF({unscored_count(a, b, field)}>0,"{INCOMPLETE_TEXT}",{total})'


def total_formula(field: str, rows: list[int]) -> str:
    """总分行：各小计之和；任一小计为“未完成”（不是数字）时显示“未完成”。"""
    col = L.LETTER[field]
    cells = ",".join(f"{col}{x}" for x in rows)
    if field == "points":
        return "=" + "+".join(f"{col}{x}" for x in rows)
    return f'=IF(COUNT({cells})<{len(rows)},"{INCOMPLETE_TEXT}",SUM({cells}))'


def grade_formula(total_row: int, first: int, last: int) -> str:
    """评价等级：总分是数字时按等级标准取等级，否则（“未完成”）显示“未完成”，不给出等级。"""
    y = L.LETTER["final"]
    return (f'=IF(ISNUMBER({y}{total_row}),GRADE_OF({y}{total_row},B{first}:B{last},C{first}:C{last}),'
            f'"{INCOMPLETE_TEXT}")')


def final_formula(r: int) -> str:
    # 用 FINAL_SCORE 而不是 IF(W="",V,W)：调整得分按与 jixiao score 相同的规则处理（“—”“无”视为空白、四舍五入到
    # 0.01 分、非数字显示“错误：…”），Excel 显示的得分与无界面引擎一致
    c = L.LETTER
    return f"=FINAL_SCORE({c['computed']}{r},{c['override']}{r})"
