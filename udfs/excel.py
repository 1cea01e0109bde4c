"""Excel 单元格函数（UDF）的纯 Python 实现与目录。

本模块不依赖 xlwings：xl.py 只是把这里的每个函数用 @xw.func 注册到 Excel；公式引擎测试（formulas 包）
也注册同样的函数。因此 Excel、命令行与测试走同一段代码。

Excel 传入：数字为 float，空白为 None，文本为 str，区域为 list（或嵌套 list）。
空白不是零：空白单元格（None、空串）是“未填写”，函数返回“错误：…未填写”；写明的 0、“无”、“—”表示“没有”
（见 numbers.NONE_TOKENS），另一个函数返回的“不适用”同样按“没有”处理（评分函数按“无基数时”定分）。
返回：数字为 float；不适用返回“不适用”；无法计算返回以“错误：”开头的中文说明（不抛出异常，单元格里不出现 Python 回溯）。
"""
from __future__ import annotations

from dataclasses import dataclass, fields
from decimal import Decimal
from typing import Any, Callable

from . import expressions as X
from . import indicators as ind
from .expressions import Expression, head
from .indicators import IndicatorError
from .numbers import InputError, is_blank
from .rule import RuleError
from .scoring import RULE_TYPES, GradeScale, with_words

NA_TEXT = "不适用"
ERROR_PREFIX = "错误："


def flatten(x: Any) -> list[Any]:
    """把 Excel 区域（list / 嵌套 list / numpy 数组 / 单值）展平为一维列表。"""
    if x is None or isinstance(x, (str, int, float, Decimal, bool)):
        return [x]
    if hasattr(x, "tolist"):
        x = x.tolist()
    out: list[Any] = []
    for item in x:
        out.extend(flatten(item) if isinstance(item, (list, tuple)) or hasattr(item, "tolist") else [item])
    return out


def _in(x: Any) -> Any:
    """Excel 传入值的规范化：单格区域取其值；空串与只有空格的文本视为空白（None，未填写）。
    “不适用”（另一个单元格函数的结果）原样传入：它是写明的“没有”（numbers.NONE_TOKENS），不是未填写。"""
    if isinstance(x, (list, tuple)) and len(x) == 1:
        x = x[0]
    if isinstance(x, str) and not x.strip():
        return None
    return x


def _value_filled(value: Any) -> None:
    """评分函数的实际值：空白单元格（Excel 传入 None）是未填写，不按“无基数时”计分。"""
    if value is None:
        raise RuleError("实际值未填写")


def _out(v: Any) -> Any:
    if v is None:
        return NA_TEXT
    if isinstance(v, Decimal):
        return float(v)
    return v


def excel_safe(func: Callable[..., Any], *, exact: bool = False,
               errors: list[Exception] | None = None) -> Callable[..., Any]:
    """把纯函数包装成单元格函数：转换输入输出，所有已知错误变成“错误：…”文本。

    exact=True 时数值结果保留为 Decimal（其余与 Excel 中完全相同）：无界面的公式求值器（addin/scoring/formula.py）用它，
    得到与直接调用纯函数相同的精确值，而“错误：…”“不适用”文本与 Excel 单元格中显示的一字不差。
    errors 不为 None 时，变成“错误：…”的那个异常也放进其中：求值器由它的 arg_index、code 指出出错的单元格与发现代码，
    不去读消息文字。"""

    def wrapper(*args: Any) -> Any:
        for a in args:
            if isinstance(a, str) and a.startswith(ERROR_PREFIX):
                return ERROR_PREFIX + "引用的单元格有错误（" + a[len(ERROR_PREFIX):][:60] + "）"
        try:
            v = func(*[_in(a) for a in args])
            return NA_TEXT if exact and v is None else v if exact else _out(v)
        except (IndicatorError, RuleError, InputError) as exc:
            if errors is not None:
                errors.append(exc)
            return ERROR_PREFIX + str(exc)
        except (ArithmeticError, ValueError, TypeError) as exc:  # 兜底：不让回溯出现在单元格里
            return ERROR_PREFIX + f"无法计算（{type(exc).__name__}）"

    wrapper.__name__ = func.__name__
    wrapper.__doc__ = func.__doc__
    return wrapper


def _uses_words(label: str) -> bool:
    return "words" in {f.name for f in fields(RULE_TYPES[label])}


def _score_with(label: str) -> Callable[..., Any]:
    cls = RULE_TYPES[label]

    def score(value: Any, points: Any, na: Any = None, params: Any = None) -> Any:
        rule = cls.from_params(points, flatten(params) if params is not None else [], na)
        _value_filled(value)
        return rule.score(value)

    def score_words(value: Any, points: Any, na: Any = None, params: Any = None, words: Any = None) -> Any:
        # words：评分表“定性词表”区域（词语、档次两列）；省略时（旧工作簿的公式）用内置词表
        rule = with_words(cls.from_params(points, flatten(params) if params is not None else [], na), words)
        _value_filled(value)
        return rule.score(value)

    f = score_words if _uses_words(label) else score
    f.__name__ = cls.udf.lower()
    return f


def score_any(value: Any, points: Any, rule_type: Any, na: Any = None, params: Any = None, words: Any = None) -> Any:
    """按“规则类型”文本选择规则评分；words 为“定性词表”区域（省略时用内置词表）。"""
    from .scoring import rule_from_params

    rule = rule_from_params(rule_type, points, flatten(params) if params is not None else [], na, words)
    _value_filled(value)
    return rule.score(value)


def grade_of(total: Any, names: Any, lows: Any) -> str:
    """按等级标准（等级名称区域、下限区域）给出总分的评价等级。总分是“未完成”（有指标未计分）时不给出等级。"""
    if is_blank(total):
        raise RuleError("总分为空")
    if isinstance(total, str) and total.strip() == "未完成":
        raise RuleError("总分未完成（有指标未计分），不给出等级")
    scale = GradeScale.from_rows(list(zip(flatten(names), flatten(lows), strict=False)))
    from .numbers import parse_number

    t = parse_number(total).value
    assert t is not None
    return scale.grade(t)


def final_score(computed: Any, adjusted: Any) -> Any:
    """最终得分：有调整得分时取调整得分（四舍五入到 0.01 分，与 jixiao score 相同），否则取计算得分。

    调整得分或计算得分不是数字（如“abc”、错误值）时报错，而不是把文本当作得分原样显示。
    """
    from .numbers import parse_number, round2

    label, raw = ("计算得分", computed) if is_blank(adjusted) else ("调整得分", adjusted)
    try:
        v = parse_number(raw).value
    except InputError as exc:
        raise RuleError(f"{label}：{exc}") from None
    return None if v is None else round2(v)


@dataclass(frozen=True)
class UdfSpec:
    """目录中的一个单元格函数。指标函数的这一条是该指标唯一的来源：公式说明（评分表“指标公式说明”列的默认文字、
    报告“名称＝公式”的公式）、报告代入数字的写法（expression）、函数向导的说明（由名称与公式生成），以及计分与校验
    要知道的参数位置（ratio、added）。"""

    name: str
    func: Callable[..., Any]  # 纯函数（Decimal 进出）
    title: str  # 指标名称（“在职人员控制率”）；没有公式说明的函数是函数向导的整句说明
    args: tuple[tuple[str, str], ...]  # (参数名, 说明)
    kind: str = "indicator"
    formula: str = ""  # 公式说明（模板默认的写法），如“在职人员数÷编制数×100%”
    note: str = ""  # 函数向导说明中公式之后的补充
    expression: Expression | None = None  # 报告中代入数字的算式（参数顺序即 args 的顺序）
    wordings: tuple[tuple[str, str], ...] = ()  # (来源, 公式说明)：种子报告原文的另一种写法，如子洲的评分表
    ratio: tuple[int, int | None] | None = None  # 比率＝分子÷分母：(分子参数序号, 分母参数序号；None 为按口径)
    added: tuple[int, int, int] | None = None  # (本年追加, 年初预算, 调整预算数) 的参数序号：追加空白时按后两者推算

    @property
    def description(self) -> str:
        """Excel 函数向导显示的说明（≤ 255 字符）。"""
        if not self.formula:
            return self.title
        return head(self.title, self.formula) + (f"；{self.note}" if self.note else "")

    def formula_text(self, source: str = "") -> str:
        """公式说明：默认写法，或某一来源（如“子洲”）的原文写法。"""
        return dict(self.wordings)[source] if source else self.formula

    @property
    def excel(self) -> Callable[..., Any]:
        return excel_safe(self.func)


_P = ("参数", "评分表该行的参数1～参数10区域")
_W = ("定性词表", "评分表下方“定性词表”区域（词语、档次两列）；省略时用内置词表")
_SCORE_ARGS = (("实际值", "指标实际值（比率、等次或扣分）"), ("分值", "该指标分值"), ("无基数时", "不适用时：满分/零分/报错"), _P)
_ADDED_NOTE = "本年追加空白时按 调整预算数－年初预算数"
_BASES = "全年预算数/实际到位资金/调整后预算数/年初预算数"


def _score_spec(label: str, desc: str) -> UdfSpec:
    cls = RULE_TYPES[label]
    args = _SCORE_ARGS + ((_W,) if _uses_words(label) else ())
    return UdfSpec(cls.udf, _score_with(label), desc, args, "score")


def _indicator(name: str, func: Callable[..., Any], title: str, formula: str, args: tuple[tuple[str, str], ...],
               expression: Expression, note: str = "", **more: Any) -> UdfSpec:
    return UdfSpec(name, func, title, args, formula=formula, note=note, expression=expression, **more)


CATALOG: tuple[UdfSpec, ...] = (
    _indicator("STAFF_CONTROL_RATE", ind.staff_control_rate, "在职人员控制率", "在职人员数÷编制数×100%",
               (("在职人员数", "年末实有在职人数"), ("编制数", "核定编制人数")), X.ratio),
    _indicator("SANGONG_CHANGE_RATE", ind.sangong_change_rate, "“三公经费”变动率",
               "（本年度“三公经费”预算数－上年度“三公经费”预算数）÷上年度“三公经费”预算数×100%",
               (("本年预算数", "本年度三公经费预算数"), ("上年预算数", "上年度三公经费预算数")), X.change,
               wordings=(("子洲", "（本年三公经费预算－上年三公经费预算）÷上年三公经费预算×100%"),)),
    _indicator("BUDGET_COMPLETION", ind.budget_completion_rate, "预算完成率（湖南）",
               "（上年结转和结余＋年初预算＋本年追加预算－年末结转和结余）÷（上年结转和结余＋年初预算＋本年追加预算）×100%",
               (("上年结转结余", "年初结转和结余"), ("年初预算", "年初预算数"), ("本年追加", "本年追加预算数"),
                ("年末结转结余", "年末结转和结余"), ("调整预算数", "本年调整预算数")), X.budget_completion, _ADDED_NOTE,
               added=(2, 1, 4)),
    _indicator("BUDGET_COMPLETION_ZZ", ind.budget_completion_rate_zz, "预算完成率（子洲）",
               "本年预算支出合计数÷本年预算收入合计数×100%",
               (("预算支出合计", "本年预算支出合计数"), ("预算收入合计", "本年预算收入合计数")), X.ratio, ratio=(0, 1)),
    _indicator("BUDGET_CONTROL_RATE", ind.budget_control_rate, "预算控制率（预算调整率）", "本年预算追加数÷年初预算×100%",
               (("本年追加", "本年预算追加（调整）数"), ("年初预算", "年初预算数"), ("调整预算数", "本年调整预算数")),
               X.ratio_of_first_two, _ADDED_NOTE, added=(0, 1, 2)),
    _indicator("BUILDING_AREA_RATE", ind.building_area_control_rate, "新建楼堂馆所面积控制率", "实际建设面积÷批准建设面积×100%",
               (("实际面积", "实际建设面积"), ("批准面积", "批准建设面积")), X.ratio, "无项目时返回“不适用”"),
    _indicator("BUILDING_INVEST_RATE", ind.building_investment_control_rate, "新建楼堂馆所投资概算控制率",
               "实际投资金额÷批准投资金额×100%", (("实际投资", "实际投资金额"), ("批准投资", "批准投资金额")), X.ratio,
               "无项目时返回“不适用”"),
    _indicator("PUBLIC_EXPENSE_CONTROL", ind.public_expense_control_rate, "公用经费控制率",
               "实际支出公用经费总额÷预算安排公用经费总额×100%",
               (("实际支出", "实际支出公用经费总额"), ("预算安排", "预算安排公用经费总额")), X.ratio,
               wordings=(("子洲", "公用经费支出决算数÷公用经费支出预算数×100%"),)),
    _indicator("PUBLIC_EXPENSE_CHANGE", ind.public_expense_change_rate, "公用经费动态变动率",
               "（本年公用经费决算－上年公用经费决算）÷上年公用经费决算×100%",
               (("本年决算", "本年度公用经费决算数"), ("上年决算", "上年度公用经费决算数")), X.change),
    _indicator("SANGONG_CONTROL_RATE", ind.sangong_control_rate, "“三公经费”控制率",
               "“三公经费”实际支出数÷“三公经费”预算安排数×100%",
               (("实际支出", "三公经费实际支出数"), ("预算数", "三公经费预算安排数")), X.ratio, "均为0时“不适用”",
               wordings=(("子洲", "三公经费支出数÷三公经费预算数"),)),
    _indicator("PROCUREMENT_RATE", ind.procurement_execution_rate, "政府采购执行率", "实际政府采购金额÷政府采购预算数×100%",
               (("实际采购", "实际政府采购金额"), ("采购预算", "政府采购预算数")), X.ratio, "无预算无采购时“不适用”",
               wordings=(("子洲", "实际政府采购金额÷年度政府采购预算数×100%"),), ratio=(0, 1)),
    _indicator("BUDGET_ARRIVAL_RATE", ind.initial_budget_arrival_rate, "年初预算到位率",
               "公共财政拨款收入（支出）预算数÷决算数×100%",
               (("预算数", "公共财政拨款收入（支出）预算数"), ("决算数", "公共财政拨款收入（支出）决算数")), X.ratio,
               ratio=(0, 1)),
    _indicator("CARRYOVER_RATE", ind.carryover_rate, "结转结余率", "（本年累计结转结余－年初结转结余）÷本年收入合计×100%",
               (("累计结转结余", "本年累计结转结余数"), ("年初结转结余", "年初（上年累计）结转结余数"), ("收入合计", "本年收入合计数")),
               X.carryover),
    _indicator("CARRYOVER_CHANGE_RATE", ind.carryover_change_rate, "结转结余变动率",
               "（本年累计结转结余－上年累计结转结余）÷上年累计结转结余×100%",
               (("本年累计", "本年度累计结转结余数"), ("上年累计", "上年度累计结转结余数")), X.change),
    _indicator("RECEIVABLE_CHANGE_RATE", ind.receivables_change_rate, "债权变动率", "（年末债权余额－年初债权余额）÷年初债权余额×100%",
               (("年末债权", "本年年末债权余额"), ("年初债权", "年初债权余额")), X.change),
    UdfSpec("DEBT_STATUS", ind.debt_status, "债务管理：按年初、年末债务余额返回 无债务/减少/未变动/增加",
            (("年初债务", "年初债务余额"), ("年末债务", "年末债务余额")), expression=X.no_figures,
            wordings=(("子洲", "比较年初、年末债务余额"),)),
    _indicator("ASSET_USE_RATE", ind.asset_utilization_rate, "资产使用率", "1－不用资产÷账面总资产×100%",
               (("闲置资产", "一年使用不足30日的资产"), ("账面资产", "账面资产总额")), X.asset_use),
    _indicator("SATISFACTION", ind.satisfaction, "综合满意度", "服务对象满意度×50%＋社会公众满意度×40%＋内部员工满意度×10%",
               (("服务对象", "服务对象满意度"), ("社会公众", "社会公众满意度"), ("内部员工", "内部员工满意度"),
                ("服务对象权重", "默认50%"), ("社会公众权重", "默认40%"), ("内部员工权重", "默认10%")), X.satisfaction,
               "权重可改"),
    UdfSpec("EXEC_DENOMINATOR", ind.execution_denominator, f"按口径取预算执行率分母：{_BASES}",
            (("口径", _BASES), ("实际到位资金", ""), ("全年预算数", ""), ("调整后预算数", ""), ("年初预算数", ""))),
    _indicator("BUDGET_EXECUTION", ind.budget_execution_rate, "预算执行率", "全年执行数÷分母×100%",
               (("执行数", "全年执行数"), ("分母", "所选口径的预算数或到位资金")), X.ratio,
               "分母口径由 EXEC_DENOMINATOR 选取", ratio=(0, 1)),
    _indicator("BUDGET_EXECUTION_BY", ind.budget_execution_rate_by, "预算执行率", f"全年执行数÷{X.BASIS_PLACEHOLDER}×100%",
               (("口径", "分母口径"), ("执行数", "全年执行数"), ("实际到位资金", ""), ("全年预算数", ""), ("调整后预算数", ""),
                ("年初预算数", "")), X.execution_by, f"口径：{_BASES}", ratio=(1, None)),
    _indicator("OVERSTAFFING", ind.overstaffing, "超编人数", "超编人数＝实有人数－编制数",
               (("编制数", "核定编制数"), ("实有人数", "实有人数")), X.overstaffing, "不超编时为 0"),
    _indicator("KEY_WORK_RATE", ind.key_work_completion_rate, "重点工作完成率", "实际完成重点工作数÷计划重点工作数×100%",
               (("完成数", "实际完成重点工作数"), ("计划数", "计划重点工作数")), X.ratio, ratio=(0, 1)),
    UdfSpec("TARGET_COMPLETION", ind.target_completion,
            "项目指标完成程度：≥ 完成值÷指标值；≤ 指标值÷完成值；= 相等为100%；时间目标越早越好",
            (("指标性质", "≥ ≤ = > <（或 不低于、不超过……）"), ("指标值", "年度指标值（可写 ≥95%、6月底前）"),
             ("实际完成值", "全年实际完成值"))),
    _score_spec("达标满分", "达标满分：实际值满足“比较符 阈值”（参数1、参数2）得满分，否则0分"),
    _score_spec("区间满分", "区间满分：下限≤实际值≤上限（参数1、参数2，含端点）得满分，否则0分"),
    _score_spec("分档", "分档：参数为 上限1,得分1,…上限4,得分4,以上得分,取绝对值；区间含上限不含下限"),
    _score_spec("线性插值", "线性插值：参数1零分点、参数2满分点，之间按比例给分（两点均含）"),
    _score_spec("按步扣分", "按步扣分：参数为 基准、步长、每步扣分、方向(超出/低于)、计步方式(整步/进位/比例)"),
    _score_spec("目标比较", "项目指标：参数1指标性质(≥ ≤ = 定性)、参数2指标值；未达标按完成比例给分，封顶分值"),
    _score_spec("等次对照", "等次对照：参数为 等次1,得分1,…等次5,得分5；实际值为等次文本"),
    _score_spec("扣分清单", "扣分清单：得分＝分值－扣分合计（参数1填每处扣分时实际值为处数），扣完为止"),
    _score_spec("定性三档", "定性三档：达成100%、部分达成80%、未达成60%（取档内上限），或填写得分系数"),
    _score_spec("评价人打分", "评价人打分：实际值即评价人所给得分，须在0～分值之间"),
    UdfSpec("SCORE", score_any, "按规则类型（达标满分/分档/线性插值/…）评分",
            (("实际值", "指标实际值"), ("分值", "该指标分值"), ("规则类型", "评分表“规则类型”"), ("无基数时", "满分/零分/报错"), _P,
             _W), "score"),
    UdfSpec("GRADE_OF", grade_of, "按等级标准（等级名称区域、下限区域，左闭右开）返回总分的评价等级",
            (("总分", "总得分"), ("等级名称", "等级名称区域"), ("下限", "各等级下限区域")), "grade"),
    UdfSpec("FINAL_SCORE", final_score, "最终得分：有调整得分取调整得分，否则取计算得分",
            (("计算得分", "规则计算得分"), ("调整得分", "评价人调整得分")), "score"),
)

BY_NAME: dict[str, UdfSpec] = {s.name: s for s in CATALOG}


def call(name: str, *args: Any) -> Any:
    """按名称调用单元格函数（Excel 语义：返回 float/文本，不抛异常）。"""
    return BY_NAME[name].excel(*args)
