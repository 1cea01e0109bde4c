"""文字材料中的“其中”分项（addin/narrative.py）：种子 002 正文的四处“其中”，以及不该报的写法。"""
from __future__ import annotations

from decimal import Decimal as D

import pytest
from hypothesis import given
from hypothesis import strategies as st

from addin.checks.narrative import NEAR_MISS, amounts, of_which_claims, sentences

# 种子 002（长沙市开福区医疗保障局 2020）正文原样，含“印刷费5万元我”
SEED002 = (
    "基本支出情况：本年度基本支出353万元，其中工资福利支出293万元，商品服务支出26万元，对个人和家庭的补助34万元。\n"
    "专项经费2：医疗救助，年初预算区本级1080万元(含精神病药物救助80万元和健康扶贫“一站式”结算财政兜底资金100万元)，"
    "实际拨付1168万元(含精神病药物救助116万元和健康扶贫“一站式”结算财政兜底资金100万元)，其中区本级630万元"
    "(含精神病药物救助80万元和健康扶贫“一站式”结算财政兜底资金100万元)，上级财政下拨502万元，本年度实际使用981万元，"
    "因上年度专户结余160万元未列入决算报表，本年度年初数不包含160万元，故冲减本年度支出，故报表中支出数为981万元。\n"
    "专项经费3：特困企业退休职工基本医疗保险，年初预算安排150万元，项目支出133万元，其中上解区级配套资金60万元，"
    "拨付区属特困企业退休职工医疗门诊个人账户73万元。\n"
    "本年度业务工作经费90万元，其中机关服务工作经费60万元（包括办公费48万元，印刷费5万元我，委托业务费4万元，"
    "其他商品服务支出3万元），一般行政管理事务经费30万元（包括村党组书记商业保险和体检费24万元，医保政策资料及宣传费用6万元）。"
)


def _summary(text: str) -> list[tuple[D, list[D], bool]]:
    return [(c.total.value, c.part_values, c.adds_up) for c in of_which_claims(text)]


def test_seed002_four_of_which_one_slip():
    assert _summary(SEED002) == [
        (D(353), [D(293), D(26), D(34)], True),
        (D(1168), [D(630), D(502)], False),  # 981 万元“实际使用”不是分项：加上它超过总数
        (D(133), [D(60), D(73)], True),
        (D(90), [D(60), D(30)], True),  # 括号里的“包括”明细不当分项
    ]
    slip = of_which_claims(SEED002)[1]
    assert (slip.parts_sum, slip.gap, slip.tolerance) == (D(1132), D(36), D("1.5"))
    assert slip.parts_text() == "630＋502" and slip.total.text == "1168万元"
    assert slip.excerpt == "实际拨付1168万元，其中区本级630万元，上级财政下拨502万元"
    assert of_which_claims(SEED002)[0].excerpt == "本年度基本支出353万元，其中工资福利支出293万元，商品服务支出26万元，对个人和家庭的补助34万元"


@pytest.mark.parametrize("text, expected", [
    # 以“其中”开头的下一句接上一句；千分位、小数、全角数字、元与万元换算
    ("支出合计1000万元。其中：基本支出300万元，项目支出700万元。", [(D(1000), [D(300), D(700)], True)]),
    ("合计1,000.50万元，其中A 300.5万元、B 7,000,000元", [(D("1000.50"), [D("300.5"), D(700)], True)]),
    ("支出１０００万元（含追加１００万元），其中：甲６００万元，乙３９０万元", [(D(1000), [D(600), D(390)], False)]),
    # 分项之和超过总数不多：写错（种子 002 基础数据表 3368 与 90＋3308 的写法）
    ("项目支出3368万元，其中业务工作经费90万元，专项经费3308万元。", [(D(3368), [D(90), D(3308)], False)]),
    # 四舍五入之内：相符
    ("支出1537万元，其中基本303.4万元，项目1233.9万元", [(D(1537), [D("303.4"), D("1233.9")], True)]),
    ("支出1537万元，其中基本303.4万元，项目1234.4万元", [(D(1537), [D("303.4"), D("1234.4")], False)]),  # 差 0.8 > 0.6
])
def test_claims(text, expected):
    assert _summary(text) == expected


@pytest.mark.parametrize("text", [
    "支出合计1537万元，其中基本支出303万元。",  # 只点出一项
    "支出1000万元，其中人员经费300万元，公用经费200万元。",  # 只列部分分项：差 50%，不报
    "支出1000万元，其中人员300万元，其中工资200万元，公用700万元",  # 嵌套的“其中”各自不足两项
    "拨付1168万元，本年度其中630万元用于救助，502万元结转",  # “其中”前不是紧接总数
    "支出1000万元（其中人员600万元，公用390万元）",  # 括号里的说明不校验
    "满意度95%，其中群众满意度96%，单位满意度94%",  # 不是金额
    "",
])
def test_not_claims(text):
    assert of_which_claims(text) == []


def test_amounts_and_sentences():
    got = [(m.number, m.value, m.unit, m.places) for m in amounts("计1,234.50万元、3亿元、12元5角、２０万元")]
    assert got == [("1,234.50", D("1234.50"), "万元", 2), ("3", D(3), "亿元", 0), ("12", D(12), "元", 0),
                   ("２０", D(20), "万元", 0)]
    assert sentences("甲。其中乙；丙\n\n丁") == ["甲。其中乙", "丙", "丁"]


@given(total=st.integers(1, 10**7), split=st.integers(0, 10**7), gap=st.integers(-10**6, 10**6))
def test_generated_sentences(total, split, gap):
    """任意总数与两个分项：相符 ⇔ 差额为 0；报为写错 ⇔ 0 < |差额| ≤ 总数的 NEAR_MISS（整数，容差 1.5）。"""
    a = split % (total + 1)
    b = total - a + gap
    if b < 0:
        return
    claims = of_which_claims(f"支出{total}万元，其中甲{a}万元，乙{b}万元。")
    if gap == 0:
        assert [c.adds_up for c in claims] == [True]
    elif abs(gap) <= 1:
        assert [c.adds_up for c in claims] == [True]  # 整数各差半个单位，±1.5 之内
    elif abs(gap) <= total * NEAR_MISS:
        assert [(c.adds_up, c.gap) for c in claims] == [(False, D(-gap))]
    else:
        assert claims == []
