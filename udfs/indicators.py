"""绩效评价指标计算（纯函数，Decimal 精确计算）。

约定：
- 比率返回“比值”（1 表示 100%），不乘 100；显示时用 numbers.fmt_pct。
- 分母为 0 且分子也为 0（如无政府采购预算也无采购、无楼堂馆所项目）时返回 None，表示“不适用/无基数”，
  由评分规则的“无基数时”约定决定得分（通常满分）。
- 分母为 0 而分子不为 0、或必填数据缺失时抛出 IndicatorError（中文说明），不返回误导性的数字。
"""
from __future__ import annotations

from decimal import Decimal

from .numbers import InputError, parse_number

__all__ = [
    "IndicatorError", "staff_control_rate", "sangong_change_rate", "budget_completion_rate",
    "budget_completion_rate_zz", "budget_control_rate", "building_area_control_rate",
    "building_investment_control_rate", "public_expense_control_rate", "public_expense_change_rate",
    "sangong_control_rate", "procurement_execution_rate", "initial_budget_arrival_rate", "carryover_rate",
    "carryover_change_rate", "receivables_change_rate", "debt_status", "asset_utilization_rate",
    "satisfaction", "budget_execution_rate", "budget_execution_rate_by", "execution_denominator", "overstaffing", "target_completion",
    "key_work_completion_rate", "EXECUTION_BASES",
]


class IndicatorError(ValueError):
    """指标无法计算（数据缺失、分母为 0 等），message 为中文说明。"""


def _num(x: object, name: str, *, required: bool = True, default: Decimal | None = None) -> Decimal | None:
    try:
        v = parse_number(x).value
    except InputError as exc:
        raise IndicatorError(f"{name}：{exc}") from None
    if v is None:
        if default is not None:
            return default
        if required:
            raise IndicatorError(f"{name}未填写")
    return v


def _ratio(num: Decimal, den: Decimal, num_name: str, den_name: str, *, zero_zero_na: bool = True) -> Decimal | None:
    if den == 0:
        if num == 0 and zero_zero_na:
            return None
        raise IndicatorError(f"{den_name}为 0，无法计算（{num_name}为 {num}）")
    return num / den


def _change(this: Decimal, prev: Decimal, this_name: str, prev_name: str) -> Decimal | None:
    if prev == 0:
        if this == 0:
            return None
        raise IndicatorError(f"{prev_name}为 0，变动率无法计算（{this_name}为 {this}）")
    return (this - prev) / prev


def staff_control_rate(staff_actual, staff_quota) -> Decimal:
    """在职人员控制率 ＝ 在职人员数 ÷ 编制数 × 100%。"""
    a = _num(staff_actual, "在职人员数")
    q = _num(staff_quota, "编制数")
    r = _ratio(a, q, "在职人员数", "编制数", zero_zero_na=False)
    assert r is not None
    return r


def sangong_change_rate(budget_this, budget_prev) -> Decimal | None:
    """“三公经费”变动率 ＝ （本年度“三公经费”预算数 − 上年度“三公经费”预算数）÷ 上年度“三公经费”预算数 × 100%。

    比较的是两年的**预算数**；两年均为 0 时不适用。
    """
    return _change(_num(budget_this, "本年度“三公经费”预算数"), _num(budget_prev, "上年度“三公经费”预算数"),
                   "本年度“三公经费”预算数", "上年度“三公经费”预算数")


def budget_completion_rate(carry_begin, budget_initial, budget_added, carry_end) -> Decimal:
    """预算完成率（湖南口径）＝（上年结转结余 ＋ 年初预算 ＋ 本年追加 − 年末结转结余）÷（上年结转结余 ＋ 年初预算 ＋ 本年追加）× 100%。"""
    cb = _num(carry_begin, "上年结转和结余", default=Decimal(0))
    bi = _num(budget_initial, "年初预算数")
    ba = _num(budget_added, "本年追加预算数", default=Decimal(0))
    ce = _num(carry_end, "年末结转和结余", default=Decimal(0))
    den = cb + bi + ba
    r = _ratio(den - ce, den, "预算支出", "上年结转结余＋年初预算＋本年追加", zero_zero_na=False)
    assert r is not None
    return r


def budget_completion_rate_zz(expense_total, income_total) -> Decimal:
    """预算完成率（子洲口径）＝ 本年预算支出合计数 ÷ 本年预算收入合计数 × 100%。"""
    r = _ratio(_num(expense_total, "本年预算支出合计数"), _num(income_total, "本年预算收入合计数"),
               "本年预算支出合计数", "本年预算收入合计数", zero_zero_na=False)
    assert r is not None
    return r


def budget_control_rate(budget_added, budget_initial) -> Decimal:
    """预算控制率（预算调整率）＝ 本年预算追加（调整）数 ÷ 年初预算数 × 100%。"""
    r = _ratio(_num(budget_added, "本年预算追加数", default=Decimal(0)), _num(budget_initial, "年初预算数"),
               "本年预算追加数", "年初预算数", zero_zero_na=False)
    assert r is not None
    return r


def building_area_control_rate(area_actual, area_approved) -> Decimal | None:
    """新建楼堂馆所面积控制率 ＝ 实际建设面积 ÷ 批准建设面积 × 100%；无楼堂馆所项目（均为空或 0）时不适用。"""
    a = _num(area_actual, "实际建设面积", default=Decimal(0))
    b = _num(area_approved, "批准建设面积", default=Decimal(0))
    return _ratio(a, b, "实际建设面积", "批准建设面积")


def building_investment_control_rate(invest_actual, invest_approved) -> Decimal | None:
    """新建楼堂馆所投资概算控制率 ＝ 实际投资金额 ÷ 批准投资金额 × 100%；无项目时不适用。"""
    a = _num(invest_actual, "实际投资金额", default=Decimal(0))
    b = _num(invest_approved, "批准投资金额", default=Decimal(0))
    return _ratio(a, b, "实际投资金额", "批准投资金额")


def public_expense_control_rate(actual, budget) -> Decimal:
    """公用经费控制率 ＝ 实际支出公用经费总额 ÷ 预算安排公用经费总额 × 100%。"""
    r = _ratio(_num(actual, "实际支出公用经费"), _num(budget, "预算安排公用经费"),
               "实际支出公用经费", "预算安排公用经费", zero_zero_na=False)
    assert r is not None
    return r


def public_expense_change_rate(final_this, final_prev) -> Decimal | None:
    """公用经费动态变动率 ＝（本年度公用经费决算总额 − 上年度公用经费决算总额）÷ 上年度公用经费决算总额 × 100%。"""
    return _change(_num(final_this, "本年度公用经费决算数"), _num(final_prev, "上年度公用经费决算数"),
                   "本年度公用经费决算数", "上年度公用经费决算数")


def sangong_control_rate(actual, budget) -> Decimal | None:
    """“三公经费”控制率 ＝ “三公经费”实际支出数 ÷ “三公经费”预算安排数 × 100%；预算与支出均为 0 时不适用。"""
    return _ratio(_num(actual, "“三公经费”实际支出数", default=Decimal(0)), _num(budget, "“三公经费”预算数", default=Decimal(0)),
                  "“三公经费”实际支出数", "“三公经费”预算数")


def procurement_execution_rate(actual, budget) -> Decimal | None:
    """政府采购执行率 ＝ 实际政府采购金额 ÷ 政府采购预算数 × 100%；无预算无采购（0 ÷ 0）时不适用（通常视同 100%）。"""
    return _ratio(_num(actual, "实际政府采购金额", default=Decimal(0)), _num(budget, "政府采购预算数", default=Decimal(0)),
                  "实际政府采购金额", "政府采购预算数")


def initial_budget_arrival_rate(budget, final) -> Decimal:
    """年初预算到位率 ＝ 公共财政拨款收入（支出）预算数 ÷ 决算数 × 100%。"""
    r = _ratio(_num(budget, "公共财政拨款预算数"), _num(final, "公共财政拨款决算数"),
               "公共财政拨款预算数", "公共财政拨款决算数", zero_zero_na=False)
    assert r is not None
    return r


def carryover_rate(carry_cum_this, carry_begin, income_total) -> Decimal:
    """结转结余率 ＝ 本年度结转结余数 ÷ 本年收入合计数 × 100%，本年度结转结余数 ＝ 累计结转结余数 − 年初结转结余数。"""
    cum = _num(carry_cum_this, "本年累计结转结余数", default=Decimal(0))
    beg = _num(carry_begin, "年初结转结余数", default=Decimal(0))
    r = _ratio(cum - beg, _num(income_total, "本年收入合计数"), "本年度结转结余数", "本年收入合计数", zero_zero_na=False)
    assert r is not None
    return r


def carryover_change_rate(carry_cum_this, carry_cum_prev) -> Decimal | None:
    """结转结余变动率 ＝（本年度累计结转结余数 − 上年度累计结转结余数）÷ 上年度累计结转结余数 × 100%。"""
    return _change(_num(carry_cum_this, "本年累计结转结余数", default=Decimal(0)),
                   _num(carry_cum_prev, "上年累计结转结余数", default=Decimal(0)),
                   "本年累计结转结余数", "上年累计结转结余数")


def receivables_change_rate(end, begin) -> Decimal | None:
    """债权变动率 ＝（本年年末债权余额 − 年初债权余额）÷ 年初债权余额 × 100%；均为 0 时不适用。"""
    return _change(_num(end, "年末债权余额", default=Decimal(0)), _num(begin, "年初债权余额", default=Decimal(0)),
                   "年末债权余额", "年初债权余额")


def debt_status(begin, end) -> str:
    """债务管理：按年初、年末债务余额判断 —— “无债务” / “减少” / “未变动” / “增加”。"""
    b = _num(begin, "年初债务余额", default=Decimal(0))
    e = _num(end, "年末债务余额", default=Decimal(0))
    if b == 0 and e == 0:
        return "无债务"
    if e < b:
        return "减少"
    if e == b:
        return "未变动"
    return "增加"


def asset_utilization_rate(idle, book) -> Decimal:
    """资产使用率 ＝ 1 − 闲置（不用）资产 ÷ 账面资产总额 × 100%。"""
    i = _num(idle, "闲置资产", default=Decimal(0))
    b = _num(book, "账面资产总额")
    if b == 0:
        raise IndicatorError("账面资产总额为 0，无法计算资产使用率")
    return 1 - i / b


def satisfaction(service, public, staff, w_service="0.5", w_public="0.4", w_staff="0.1") -> Decimal:
    """社会公众或服务对象综合满意度 ＝ 服务对象满意度 × 50% ＋ 社会公众满意度 × 40% ＋ 内部员工满意度 × 10%（权重可调，合计须为 100%）。"""
    ws = [_num(w, n) for w, n in ((w_service, "服务对象权重"), (w_public, "社会公众权重"), (w_staff, "内部员工权重"))]
    if sum(ws) != 1:
        raise IndicatorError(f"满意度权重合计应为 100%，实际为 {sum(ws) * 100}%")
    rates = [_num(service, "服务对象满意度"), _num(public, "社会公众满意度"), _num(staff, "内部员工满意度")]
    for r, n in zip(rates, ("服务对象满意度", "社会公众满意度", "内部员工满意度")):
        if not 0 <= r <= 1:
            raise IndicatorError(f"{n}应在 0%–100% 之间，实际为 {r * 100}%")
    return sum((r * w for r, w in zip(rates, ws)), Decimal(0))


# 预算执行率分母口径：财预〔2020〕10号 部门/财政评价用实际到位资金，自评表用全年预算数，四川用调整后预算数，北京用年初预算数
EXECUTION_BASES = ("全年预算数", "实际到位资金", "调整后预算数", "年初预算数")


def execution_denominator(basis, funds_arrived=None, budget_full=None, budget_adjusted=None, budget_initial=None) -> Decimal:
    """按口径选取预算执行率的分母：全年预算数 / 实际到位资金 / 调整后预算数 / 年初预算数。"""
    b = str(basis).strip() if basis is not None else ""  # 单元格可能传入数字
    b = b or "全年预算数"
    table = {"全年预算数": (budget_full, "全年预算数"), "实际到位资金": (funds_arrived, "实际到位资金"),
             "调整后预算数": (budget_adjusted, "调整后预算数"), "年初预算数": (budget_initial, "年初预算数")}
    if b not in table:
        raise IndicatorError(f"执行率口径“{b}”无效，应为：{'/'.join(EXECUTION_BASES)}")
    raw, name = table[b]
    return _num(raw, name)


def budget_execution_rate(executed, denominator) -> Decimal:
    """预算执行率 ＝ 全年执行数 ÷ 分母 × 100%（分母口径见 execution_denominator）。"""
    r = _ratio(_num(executed, "全年执行数"), _num(denominator, "预算执行率分母"), "全年执行数", "预算执行率分母", zero_zero_na=False)
    assert r is not None
    return r


def budget_execution_rate_by(basis, executed, funds_arrived=None, budget_full=None, budget_adjusted=None,
                             budget_initial=None) -> Decimal:
    """预算执行率（按口径）＝ 全年执行数 ÷ 所选口径的分母（全年预算数/实际到位资金/调整后预算数/年初预算数）× 100%。"""
    return budget_execution_rate(executed, execution_denominator(basis, funds_arrived, budget_full, budget_adjusted,
                                                                 budget_initial))


def overstaffing(staff_quota, staff_actual) -> Decimal:
    """超编人数 ＝ max(0, 实有人数 − 编制数)。"""
    return max(Decimal(0), _num(staff_actual, "实有人数") - _num(staff_quota, "编制数"))


def key_work_completion_rate(done, planned) -> Decimal:
    """重点工作完成率 ＝ 实际完成重点工作数 ÷ 计划重点工作数 × 100%。"""
    r = _ratio(_num(done, "实际完成重点工作数"), _num(planned, "计划重点工作数"), "实际完成重点工作数", "计划重点工作数",
               zero_zero_na=False)
    assert r is not None
    return r


def target_completion(direction: str, target, actual) -> Decimal:
    """项目支出指标完成程度（财预〔2020〕10号）：
    ≥ 方向：完成值 ÷ 指标值；≤ 方向：指标值 ÷ 完成值（完成值 ≤ 指标值即为 100%）；= 方向：相等为 100%，否则取两者之比的较小者；
    指标值是时间（“6月底前”）时越早越好。指标性质、指标值与完成值的各种写法（“不低于”“≥95%”“≥300米”）见 udfs.entries。
    返回比值，可大于 1（超额完成），评分时封顶。
    """
    from .entries import completion, read_target

    try:
        nature, t, unit, _ = read_target(direction, target)
        if nature == "定性":
            raise IndicatorError("指标性质为“定性”时没有完成程度，请用定性三档评分")
        return completion(nature, t, actual, unit).ratio
    except InputError as exc:
        raise IndicatorError(str(exc)) from None
