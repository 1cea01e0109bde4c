"""绩效评价指标计算（纯函数，Decimal 精确计算）。

约定：
- 比率返回“比值”（1 表示 100%），不乘 100；显示时用 numbers.fmt_pct。
- 空白不是零：参数为空白（None、空串、只有空格）表示“未填写”，抛出 IndicatorError（code="missing"），指标不计分；
  写明的 0、“无”、“—”等（numbers.NONE_TOKENS）表示“没有”，按 0 计算。
- 分母为 0 且分子也为 0（如无政府采购预算也无采购、无楼堂馆所项目——都须写明 0 或“无”）时返回 None，表示“不适用/无基数”，
  由评分规则的“无基数时”约定决定得分（通常满分）。
- 分母为 0 而分子不为 0、或必填数据缺失时抛出 IndicatorError（中文说明），不返回误导性的数字。
  IndicatorError.arg_index 是出错参数的序号（与单元格函数的参数顺序相同），调用方据此指向该参数所在的单元格。
"""
from __future__ import annotations

from decimal import Decimal

from .numbers import InputError, is_empty, parse_number

__all__ = [
    "IndicatorError", "staff_control_rate", "sangong_change_rate", "budget_completion_rate",
    "budget_completion_rate_zz", "budget_control_rate", "building_area_control_rate",
    "building_investment_control_rate", "public_expense_control_rate", "public_expense_change_rate",
    "sangong_control_rate", "procurement_execution_rate", "initial_budget_arrival_rate", "carryover_rate",
    "carryover_change_rate", "receivables_change_rate", "debt_status", "asset_utilization_rate",
    "satisfaction", "budget_execution_rate", "budget_execution_rate_by", "execution_denominator", "overstaffing", "target_completion",
    "key_work_completion_rate", "EXECUTION_BASES", "derived_budget_added",
]

ZERO = Decimal(0)


class IndicatorError(ValueError):
    """指标无法计算（数据缺失、分母为 0 等），message 为中文说明。

    arg_index：出错的参数序号（0 起，与单元格函数的参数顺序相同；未知为 None）；
    code："missing" 未填写 / "zero-denominator" 分母为 0 / "invalid" 无法识别或不合理 / None。
    调用方按这两项指向单元格、选择发现代码，不读消息文字。
    """

    def __init__(self, message: str = "", arg_index: int | None = None, code: str | None = None):
        super().__init__(message)
        self.arg_index = arg_index
        self.code = code


def _num(x: object, name: str, i: int | None = None, *, none_ok: bool = True) -> Decimal | None:
    """一个可以不填的参数 → Decimal；未填写返回 None。写明的“无”“—”为 0（none_ok=False 时为错误）。"""
    try:
        p = parse_number(x)
    except InputError as exc:
        raise IndicatorError(f"{name}：{exc}", i, "invalid") from None
    if p.value is not None:
        return p.value
    if p.none:
        if none_ok:
            return ZERO
        raise IndicatorError(f"{name}写作“{str(x).strip()}”，应填写数值", i, "invalid")
    return None


def _req(x: object, name: str, i: int | None = None, *, none_ok: bool = True) -> Decimal:
    """一个必填参数 → Decimal；未填写抛出 IndicatorError（code="missing"）。"""
    v = _num(x, name, i, none_ok=none_ok)
    if v is None:
        raise IndicatorError(f"{name}未填写", i, "missing")
    return v


def _quotient(num: Decimal, den: Decimal, num_name: str, den_name: str, den_index: int | None = None) -> Decimal:
    """num ÷ den；分母为 0 时抛出 IndicatorError（code="zero-denominator"，arg_index 为分母的参数序号）。"""
    if den == 0:
        raise IndicatorError(f"{den_name}为 0，无法计算（{num_name}为 {num}）", den_index, "zero-denominator")
    return num / den


def _ratio(num: Decimal, den: Decimal, num_name: str, den_name: str, den_index: int | None = None) -> Decimal | None:
    """同 _quotient，但 0 ÷ 0（两项都写明 0 或“无”）返回 None：不适用/无基数。"""
    if den == 0 and num == 0:
        return None
    return _quotient(num, den, num_name, den_name, den_index)


def _change(this: Decimal, prev: Decimal, this_name: str, prev_name: str,
            prev_index: int | None = None) -> Decimal | None:
    if prev == 0:
        if this == 0:
            return None
        raise IndicatorError(f"{prev_name}为 0，变动率无法计算（{this_name}为 {this}）", prev_index, "zero-denominator")
    return (this - prev) / prev


def staff_control_rate(staff_actual: object, staff_quota: object) -> Decimal:
    """在职人员控制率 ＝ 在职人员数 ÷ 编制数 × 100%。"""
    a = _req(staff_actual, "在职人员数", 0)
    q = _req(staff_quota, "编制数", 1)
    return _quotient(a, q, "在职人员数", "编制数", den_index=1)


def sangong_change_rate(budget_this: object, budget_prev: object) -> Decimal | None:
    """“三公经费”变动率 ＝ （本年度“三公经费”预算数 − 上年度“三公经费”预算数）÷ 上年度“三公经费”预算数 × 100%。

    比较的是两年的**预算数**；两年均为 0（写明 0 或“无”）时不适用。
    """
    return _change(_req(budget_this, "本年度“三公经费”预算数", 0), _req(budget_prev, "上年度“三公经费”预算数", 1),
                   "本年度“三公经费”预算数", "上年度“三公经费”预算数", 1)


def derived_budget_added(budget_added: object, budget_initial: object, budget_adjusted: object, added_index: int,
                         initial_index: int, adjusted_index: int) -> tuple[Decimal, Decimal, bool]:
    """本年追加预算数：填写了就用填写的数；未填写而本年调整预算数已填（且不为 0）时，按 调整预算数 − 年初预算数 推算。

    返回 (本年追加, 年初预算, 是否推算)。两者都未填写时追加数“未填写”（不按 0 计算：那样预算控制率会是 0%、满分）。
    """
    bi = _req(budget_initial, "年初预算数", initial_index)
    ba = _num(budget_added, "本年追加预算数", added_index)
    if ba is not None:
        return ba, bi, False
    adj = _num(budget_adjusted, "本年调整预算数", adjusted_index)
    if adj is None or adj == 0:
        raise IndicatorError("本年追加预算数未填写（没有追加填 0；或填写本年调整预算数，按 调整预算数－年初预算数 推算）",
                             added_index, "missing")
    return adj - bi, bi, True


def budget_completion_rate(carry_begin: object, budget_initial: object, budget_added: object, carry_end: object,
                           budget_adjusted: object = None) -> Decimal:
    """预算完成率（湖南口径）＝（上年结转结余 ＋ 年初预算 ＋ 本年追加 − 年末结转结余）÷（上年结转结余 ＋ 年初预算 ＋ 本年追加）× 100%。

    本年追加未填写而本年调整预算数已填时，本年追加 ＝ 调整预算数 − 年初预算数。没有结转结余须写明 0 或“无”。
    """
    cb = _req(carry_begin, "上年结转和结余", 0)
    ba, bi, _ = derived_budget_added(budget_added, budget_initial, budget_adjusted, 2, 1, 4)
    ce = _req(carry_end, "年末结转和结余", 3)
    den = cb + bi + ba
    return _quotient(den - ce, den, "预算支出", "上年结转结余＋年初预算＋本年追加", den_index=1)


def budget_completion_rate_zz(expense_total: object, income_total: object) -> Decimal:
    """预算完成率（子洲口径）＝ 本年预算支出合计数 ÷ 本年预算收入合计数 × 100%。"""
    return _quotient(_req(expense_total, "本年预算支出合计数", 0), _req(income_total, "本年预算收入合计数", 1),
               "本年预算支出合计数", "本年预算收入合计数", den_index=1)


def budget_control_rate(budget_added: object, budget_initial: object, budget_adjusted: object = None) -> Decimal:
    """预算控制率（预算调整率）＝ 本年预算追加（调整）数 ÷ 年初预算数 × 100%。

    本年追加未填写而本年调整预算数已填时，本年追加 ＝ 调整预算数 − 年初预算数（开福区：3951 − 3691 ＝ 260）。
    """
    ba, bi, _ = derived_budget_added(budget_added, budget_initial, budget_adjusted, 0, 1, 2)
    return _quotient(ba, bi, "本年预算追加数", "年初预算数", den_index=1)


def building_area_control_rate(area_actual: object, area_approved: object) -> Decimal | None:
    """新建楼堂馆所面积控制率 ＝ 实际建设面积 ÷ 批准建设面积 × 100%；无楼堂馆所项目（两项都写明 0 或“无”）时不适用。"""
    a = _req(area_actual, "实际建设面积", 0)
    b = _req(area_approved, "批准建设面积", 1)
    return _ratio(a, b, "实际建设面积", "批准建设面积", den_index=1)


def building_investment_control_rate(invest_actual: object, invest_approved: object) -> Decimal | None:
    """新建楼堂馆所投资概算控制率 ＝ 实际投资金额 ÷ 批准投资金额 × 100%；无项目（两项都写明 0 或“无”）时不适用。"""
    a = _req(invest_actual, "实际投资金额", 0)
    b = _req(invest_approved, "批准投资金额", 1)
    return _ratio(a, b, "实际投资金额", "批准投资金额", den_index=1)


def public_expense_control_rate(actual: object, budget: object) -> Decimal:
    """公用经费控制率 ＝ 实际支出公用经费总额 ÷ 预算安排公用经费总额 × 100%。"""
    return _quotient(_req(actual, "实际支出公用经费", 0), _req(budget, "预算安排公用经费", 1),
               "实际支出公用经费", "预算安排公用经费", den_index=1)


def public_expense_change_rate(final_this: object, final_prev: object) -> Decimal | None:
    """公用经费动态变动率 ＝（本年度公用经费决算总额 − 上年度公用经费决算总额）÷ 上年度公用经费决算总额 × 100%。"""
    return _change(_req(final_this, "本年度公用经费决算数", 0), _req(final_prev, "上年度公用经费决算数", 1),
                   "本年度公用经费决算数", "上年度公用经费决算数", 1)


def sangong_control_rate(actual: object, budget: object) -> Decimal | None:
    """“三公经费”控制率 ＝ “三公经费”实际支出数 ÷ “三公经费”预算安排数 × 100%；预算与支出均为 0 时不适用。"""
    return _ratio(_req(actual, "“三公经费”实际支出数", 0), _req(budget, "“三公经费”预算数", 1),
                  "“三公经费”实际支出数", "“三公经费”预算数", den_index=1)


def procurement_execution_rate(actual: object, budget: object) -> Decimal | None:
    """政府采购执行率 ＝ 实际政府采购金额 ÷ 政府采购预算数 × 100%；无预算无采购（两项都写明 0 或“无”，0 ÷ 0）时不适用
    （通常视同 100%）；空白是未填写，不是“无采购”。"""
    return _ratio(_req(actual, "实际政府采购金额", 0), _req(budget, "政府采购预算数", 1),
                  "实际政府采购金额", "政府采购预算数", den_index=1)


def initial_budget_arrival_rate(budget: object, final: object) -> Decimal:
    """年初预算到位率 ＝ 公共财政拨款收入（支出）预算数 ÷ 决算数 × 100%。"""
    return _quotient(_req(budget, "公共财政拨款预算数", 0), _req(final, "公共财政拨款决算数", 1),
               "公共财政拨款预算数", "公共财政拨款决算数", den_index=1)


def carryover_rate(carry_cum_this: object, carry_begin: object, income_total: object) -> Decimal:
    """结转结余率 ＝ 本年度结转结余数 ÷ 本年收入合计数 × 100%，本年度结转结余数 ＝ 累计结转结余数 − 年初结转结余数。"""
    cum = _req(carry_cum_this, "本年累计结转结余数", 0)
    beg = _req(carry_begin, "年初结转结余数", 1)
    return _quotient(cum - beg, _req(income_total, "本年收入合计数", 2), "本年度结转结余数", "本年收入合计数", den_index=2)


def carryover_change_rate(carry_cum_this: object, carry_cum_prev: object) -> Decimal | None:
    """结转结余变动率 ＝（本年度累计结转结余数 − 上年度累计结转结余数）÷ 上年度累计结转结余数 × 100%。"""
    return _change(_req(carry_cum_this, "本年累计结转结余数", 0), _req(carry_cum_prev, "上年累计结转结余数", 1),
                   "本年累计结转结余数", "上年累计结转结余数", 1)


def receivables_change_rate(end: object, begin: object) -> Decimal | None:
    """债权变动率 ＝（本年年末债权余额 − 年初债权余额）÷ 年初债权余额 × 100%；均为 0（写明 0 或“无”）时不适用。"""
    return _change(_req(end, "年末债权余额", 0), _req(begin, "年初债权余额", 1), "年末债权余额", "年初债权余额", 1)


def debt_status(begin: object, end: object) -> str:
    """债务管理：按年初、年末债务余额判断 —— “无债务” / “减少” / “未变动” / “增加”（没有债务须写明 0 或“无”）。"""
    b = _req(begin, "年初债务余额", 0)
    e = _req(end, "年末债务余额", 1)
    if b == 0 and e == 0:
        return "无债务"
    if e < b:
        return "减少"
    if e == b:
        return "未变动"
    return "增加"


def asset_utilization_rate(idle: object, book: object) -> Decimal:
    """资产使用率 ＝ 1 − 闲置（不用）资产 ÷ 账面资产总额 × 100%（没有闲置资产须写明 0 或“无”）。"""
    i = _req(idle, "闲置资产", 0)
    b = _req(book, "账面资产总额", 1)
    if b == 0:
        raise IndicatorError("账面资产总额为 0，无法计算资产使用率", 1, "zero-denominator")
    return 1 - i / b


def satisfaction(service: object, public: object, staff: object, w_service: object = "0.5", w_public: object = "0.4",
                 w_staff: object = "0.1") -> Decimal:
    """社会公众或服务对象综合满意度 ＝ 服务对象满意度 × 50% ＋ 社会公众满意度 × 40% ＋ 内部员工满意度 × 10%（权重可调，合计须为 100%）。

    满意度写“无”“—”不是 0%：须填写调查结果。省略权重参数时用默认权重；引用了空白单元格的权重是未填写。
    """
    ws = [_req(w, n, 3 + k) for k, (w, n) in enumerate(((w_service, "服务对象权重"), (w_public, "社会公众权重"),
                                                        (w_staff, "内部员工权重")))]
    if sum(ws) != 1:
        raise IndicatorError(f"满意度权重合计应为 100%，实际为 {sum(ws) * 100}%", 3, "invalid")
    names = ("服务对象满意度", "社会公众满意度", "内部员工满意度")
    rates = [_req(x, n, k, none_ok=False) for k, (x, n) in enumerate(zip((service, public, staff), names, strict=True))]
    for k, (r, n) in enumerate(zip(rates, names, strict=True)):
        if not 0 <= r <= 1:
            raise IndicatorError(f"{n}应在 0%–100% 之间，实际为 {r * 100}%", k, "invalid")
    return sum((r * w for r, w in zip(rates, ws, strict=True)), ZERO)


# 预算执行率分母口径：财预〔2020〕10号 部门/财政评价用实际到位资金，自评表用全年预算数，四川用调整后预算数，北京用年初预算数
EXECUTION_BASES = ("全年预算数", "实际到位资金", "调整后预算数", "年初预算数")


def execution_denominator(basis: object, funds_arrived: object = None, budget_full: object = None,
                          budget_adjusted: object = None, budget_initial: object = None) -> Decimal:
    """按口径选取预算执行率的分母：全年预算数 / 实际到位资金 / 调整后预算数 / 年初预算数。"""
    b = str(basis).strip() if basis is not None else ""  # 单元格可能传入数字
    b = b or "全年预算数"
    table = {"全年预算数": (budget_full, "全年预算数", 2), "实际到位资金": (funds_arrived, "实际到位资金", 1),
             "调整后预算数": (budget_adjusted, "调整后预算数", 3), "年初预算数": (budget_initial, "年初预算数", 4)}
    if b not in table:
        raise IndicatorError(f"执行率口径“{b}”无效，应为：{'/'.join(EXECUTION_BASES)}", 0, "invalid")
    raw, name, i = table[b]
    return _req(raw, name, i)


def budget_execution_rate(executed: object, denominator: object) -> Decimal:
    """预算执行率 ＝ 全年执行数 ÷ 分母 × 100%（分母口径见 execution_denominator）。"""
    return _quotient(_req(executed, "全年执行数", 0), _req(denominator, "预算执行率分母", 1), "全年执行数", "预算执行率分母", den_index=1)


def budget_execution_rate_by(basis: object, executed: object, funds_arrived: object = None, budget_full: object = None,
                             budget_adjusted: object = None, budget_initial: object = None) -> Decimal:
    """预算执行率（按口径）＝ 全年执行数 ÷ 所选口径的分母（全年预算数/实际到位资金/调整后预算数/年初预算数）× 100%。"""
    try:
        den = execution_denominator(basis, funds_arrived, budget_full, budget_adjusted, budget_initial)
    except IndicatorError as exc:  # execution_denominator 的第 k 个参数（k ≥ 1）是本函数的第 k + 1 个
        i = exc.arg_index
        raise IndicatorError(str(exc), i + 1 if i else i, exc.code) from None
    den_index = {"实际到位资金": 2, "调整后预算数": 4, "年初预算数": 5}.get(str(basis or "").strip(), 3)
    return _quotient(_req(executed, "全年执行数", 1), den, "全年执行数", "预算执行率分母", den_index=den_index)


def overstaffing(staff_quota: object, staff_actual: object) -> Decimal:
    """超编人数 ＝ max(0, 实有人数 − 编制数)。"""
    return max(ZERO, _req(staff_actual, "实有人数", 1) - _req(staff_quota, "编制数", 0))


def key_work_completion_rate(done: object, planned: object) -> Decimal:
    """重点工作完成率 ＝ 实际完成重点工作数 ÷ 计划重点工作数 × 100%。"""
    return _quotient(_req(done, "实际完成重点工作数", 0), _req(planned, "计划重点工作数", 1), "实际完成重点工作数", "计划重点工作数", den_index=1)


def target_completion(direction: str, target: object, actual: object) -> Decimal:
    """项目支出指标完成程度（财预〔2020〕10号）：
    ≥ 方向：完成值 ÷ 指标值；≤ 方向：指标值 ÷ 完成值（完成值 ≤ 指标值即为 100%）；= 方向：相等为 100%，否则取两者之比的较小者；
    指标值是时间（“6月底前”）时越早越好。指标性质、指标值与完成值的各种写法（“不低于”“≥95%”“≥300米”）见 udfs.entries。
    返回比值，可大于 1（超额完成），评分时封顶。
    """
    from .entries import completion, read_target

    # 空白（Excel 传入 None）是未填写：指出是哪个参数，不按“无”处理
    if is_empty(target):
        raise IndicatorError("指标值未填写", 1, "missing")
    if is_empty(actual):
        raise IndicatorError("实际完成值未填写", 2, "missing")
    try:
        nature, t, unit, _ = read_target(direction, target)
    except InputError as exc:
        raise IndicatorError(str(exc), None, "invalid") from None  # 指标性质或指标值写法无法识别
    if nature == "定性":
        raise IndicatorError("指标性质为“定性”时没有完成程度，请用定性三档评分", 0, "invalid")
    try:
        return completion(nature, t, actual, unit).ratio
    except InputError as exc:
        raise IndicatorError(str(exc), 2, "invalid") from None
