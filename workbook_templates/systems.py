"""三套指标体系的声明式描述：湖南部门整体（hunan-dept）、子洲部门整体重点评价（zizhou-dept）、项目支出自评（project）。

分值、评分标准文字与规则参数来自种子报告（../shared/seeds）与 domain.md；规则参数写入评分表的参数单元格，
用户可在 Excel 中修改。模板自带的默认值在此处集中可见。
"""
from __future__ import annotations

from decimal import Decimal as D

from udfs.indicators import EXECUTION_BASES
from udfs.scoring import (
    Bands,
    DeductionChecklist,
    GradeScale,
    GradeTable,
    Linear,
    Manual,
    Range,
    StepDeduction,
    Threshold,
)
from udfs.targets import Target

from .spec import Column, IndicatorSpec, Scalar, System, TableRow, TextSpec

I = IndicatorSpec  # noqa: E741 - 短名让下面的表格更易读

BASE_SCALARS = (
    Scalar("unit_name", "单位名称", "text"),
    Scalar("year", "评价年度", "text"),
    Scalar("money_unit", "金额单位", "choice", choices=("万元", "元")),
)

DEPT_TEXTS = (
    TextSpec("duties", "部门职责", "部门主要职责（可从“三定”方案摘录）"),
    TextSpec("organization", "机构设置", "内设机构、下属单位"),
    TextSpec("staffing", "人员情况", "编制与实有人数说明"),
    TextSpec("spending", "部门支出情况", "收入、支出总体情况的补充说明"),
    TextSpec("projects", "部门项目实施情况", "重点项目与工作实施情况"),
    TextSpec("purpose", "绩效评价目的", ""),
    TextSpec("process", "绩效评价实施过程", ""),
    TextSpec("limitations", "绩效评价局限性", ""),
    TextSpec("problems", "存在问题（补充）", "除自动生成的失分问题外，需补充的问题"),
    TextSpec("lessons", "经验教训", ""),
    TextSpec("suggestions", "建议", ""),
)

# 报告末尾与开头用到的材料。追加在各体系文字材料的最后，已有各项的行号不变
BASIS_TEXT = TextSpec("basis", "评价依据", "评价所依据的文件、资料，每行一项（如《中华人民共和国预算法》）")
REPORT_TEXTS = (
    TextSpec("signature", "署名", "报告末尾的署名（发文机关或单位名称）；不填时用单位名称（重点评价用评价机构）"),
    TextSpec("date", "成文日期", "如 2019年7月19日（也可填日期）；报告定稿必填"),
)
# 重点评价报告（种子 001）另需的材料：绩效目标、评价思路、方法、工作组、部门自评的指标
KEY_TEXTS = (
    TextSpec("management", "部门管理制度", "内控制度、财务制度的建立与执行情况"),
    TextSpec("goals", "部门绩效目标及完成情况", "年初预算下达的绩效目标与年底完成情况"),
    TextSpec("work_group", "评价工作组", "组长、成员、主评人员，每行一项"),
    TextSpec("approach", "评价思路", "前期准备、组织评价、分析总结等工作思路，每行一项"),
    TextSpec("methods", "评价方法", "如：成本效益法、比较法、因素分析法……（不填时按指标体系写明评分方法）"),
    TextSpec("self_eval_indicators", "部门自评指标",
             "部门自评所用的三级指标，每行一个或用顿号分隔，可注明分值，如“在职人员控制率（5分）”（用于差异分析）"),
)

# ---------------------------------------------------------------------------------------------------------
# 湖南 部门整体支出绩效评价（种子 000 保靖县、004 澧县；基础数据表为种子 002 附件3 样式）
# ---------------------------------------------------------------------------------------------------------
HUNAN_COLUMNS = (
    Column("prev_final", "上年决算数"),
    Column("budget_initial", "本年年初预算数"),
    Column("budget_adjusted", "本年调整预算数"),
    Column("final", "本年决算数"),
)

HUNAN_ROWS = (
    TableRow("expense_total", "支出合计", 0, ("basic", "project")),
    TableRow("basic", "（一）基本支出", 1),
    TableRow("public_expense", "    其中：日常公用经费", 2),
    TableRow("sangong", "    其中：“三公经费”", 2, ("sangong_car", "sangong_abroad", "sangong_reception")),
    TableRow("sangong_car", "      1.公务用车购置和维护经费", 3),
    TableRow("sangong_abroad", "      2.因公出国（境）费", 3),
    TableRow("sangong_reception", "      3.公务接待费", 3),
    TableRow("project", "（二）项目支出", 1, ("project_work", "project_special")),
    TableRow("project_work", "    1.业务工作经费", 2),
    TableRow("project_special", "    2.专项经费", 2),
    TableRow("project_item1", "      其中：项目1", 3),
    TableRow("project_item2", "      项目2", 3),
    TableRow("project_item3", "      项目3", 3),
    TableRow("project_item4", "      项目4", 3),
    TableRow("project_item5", "      项目5", 3),
    TableRow("procurement", "补充：政府采购金额", 0),
    TableRow("asset_purchase", "补充：资产购置支出", 0),
)

HUNAN_SCALARS = BASE_SCALARS + (
    Scalar("staff_quota", "编制数", "count", "人"),
    Scalar("staff_actual", "年末在职人员数", "count", "人"),
    Scalar("sangong_budget_prev", "上年“三公经费”预算数", "money", note="三公经费变动率比较两年预算数"),
    Scalar("carry_begin", "上年结转和结余（年初结转结余）", "money", note="没有结转结余填 0"),
    Scalar("budget_added", "本年追加预算数", "money",
           note="没有追加填 0；留空则按 支出合计的本年调整预算数－本年年初预算数 推算（会提示）"),
    Scalar("carry_end", "年末结转和结余", "money", note="没有结转结余填 0"),
    Scalar("building_area_approved", "楼堂馆所批准建设面积", "count", "平方米", note="无项目填 0 或“无”（留空为未填写，不计分）"),
    Scalar("building_area_actual", "楼堂馆所实际建设面积", "count", "平方米", note="无项目填 0 或“无”"),
    Scalar("building_invest_approved", "楼堂馆所批准投资金额", "money", note="无项目填 0 或“无”"),
    Scalar("building_invest_actual", "楼堂馆所实际投资金额", "money", note="无项目填 0 或“无”"),
    Scalar("sat_service", "服务对象满意度", "rate"),
    Scalar("sat_public", "社会公众满意度", "rate"),
    Scalar("sat_staff", "内部员工满意度", "rate"),
)

P = D  # 分值

# 评价等级（总分的下限，左闭右开）：模板写进评分表下方的“等级标准”，用户可改；评分与报告按工作簿中的那张表
HUNAN_GRADES = GradeScale(((D(90), "优"), (D(80), "良"), (D(60), "中"), (D(0), "差")))
ZIZHOU_GRADES = GradeScale(((D(90), "优秀"), (D(80), "良好"), (D(70), "一般"), (D(0), "较差")))
PROJECT_GRADES = GradeScale(((D(90), "优"), (D(80), "良"), (D(60), "中"), (D(0), "差")))

HUNAN_INDICATORS = (
    I("goal_reasonable", "投入", "目标设定", "绩效目标合理性", Manual(P(3)),
      "目标依据充分，符合法律法规、发展规划、部门职责与中长期规划，得满分；每发现一处不符合酌情扣分。", unit="分"),
    I("goal_clear", "投入", "目标设定", "绩效指标明确性", Manual(P(3)),
      "绩效目标细化分解为清晰、可衡量的指标值，与年度任务数及预算相匹配，得满分；否则酌情扣分。", unit="分"),
    I("staff_control", "投入", "预算配置", "在职人员控制率", StepDeduction(P(3), "报错", D(1), D("0.01"), D("0.5"), "超出", "整步"),
      "在职人员控制率≤100%得满分；每超过1个百分点扣0.5分，扣完为止。", udf="STAFF_CONTROL_RATE", args=("staff_actual", "staff_quota")),
    I("sangong_change", "投入", "预算配置", "“三公经费”变动率", StepDeduction(P(4), "满分", D(0), D("0.01"), D("0.5"), "超出", "整步"),
      "“三公经费”变动率≤0得满分；每增长1个百分点扣0.5分，扣完为止；两年均无三公经费预算视同满分。",
      udf="SANGONG_CHANGE_RATE", args=("sangong@budget_initial", "sangong_budget_prev")),
    I("budget_completion", "过程", "预算执行", "预算完成率", StepDeduction(P(5), "报错", D(1), D("0.05"), D(2), "低于", "整步"),
      "预算完成率=100%得满分；每低5个百分点（满5%）扣2分，扣完为止。",
      udf="BUDGET_COMPLETION", args=("carry_begin", "expense_total@budget_initial", "budget_added", "carry_end",
                            "expense_total@budget_adjusted"),
      legacy_args=("carry_begin", "expense_total@budget_initial", "budget_added", "carry_end")),
    I("budget_control", "过程", "预算执行", "预算控制率",
      Bands(P(5), "报错", ((D(0), D(5)), (D("0.1"), D(4)), (D("0.2"), D(3)), (D("0.3"), D(2))), D(0), False),
      "预算控制率=0得5分；0～10%（含）得4分；10%～20%（含）得3分；20%～30%（含）得2分；30%以上得0分。",
      udf="BUDGET_CONTROL_RATE", args=("budget_added", "expense_total@budget_initial", "expense_total@budget_adjusted"),
      legacy_args=("budget_added", "expense_total@budget_initial")),
    I("building_area", "过程", "预算执行", "新建楼堂馆所面积控制率", StepDeduction(P(5), "满分", D(1), D("0.05"), D(2), "超出", "整步"),
      "面积控制率≤100%得满分；每超过5%（满5%）扣2分，扣完为止；无楼堂馆所项目得满分。",
      udf="BUILDING_AREA_RATE", args=("building_area_actual", "building_area_approved")),
    I("building_invest", "过程", "预算执行", "新建楼堂馆所投资概算控制率", StepDeduction(P(5), "满分", D(1), D("0.05"), D(2), "超出", "整步"),
      "投资概算控制率≤100%得满分；每超过5%（满5%）扣2分，扣完为止；无楼堂馆所项目得满分。",
      udf="BUILDING_INVEST_RATE", args=("building_invest_actual", "building_invest_approved")),
    I("public_expense_control", "过程", "预算管理", "公用经费控制率", Threshold(P(8), "报错", "<=", D(1)),
      "公用经费控制率≤100%得满分，超过100%不得分（确因人员增加等客观原因的，由评价人说明后调整得分）。",
      udf="PUBLIC_EXPENSE_CONTROL", args=("public_expense@final", "public_expense@budget_initial")),
    I("sangong_control", "过程", "预算管理", "“三公经费”控制率", Threshold(P(8), "满分", "<=", D(1)),
      "“三公经费”控制率≤100%得满分，超过100%不得分；无三公经费预算且无支出视同满分。",
      udf="SANGONG_CONTROL_RATE", args=("sangong@final", "sangong@budget_initial")),
    I("procurement", "过程", "预算管理", "政府采购执行率", Threshold(P(6), "满分", ">=", D(1)),
      "政府采购执行率=100%得满分，否则不得分；无预算无采购视同100%。",
      udf="PROCUREMENT_RATE", args=("procurement@final", "procurement@budget_initial")),
    I("mgmt_system", "过程", "预算管理", "管理制度健全性", Manual(P(8)),
      "已建立财务、会计核算、专项资金、厉行节约等管理制度且合法合规完整并有效执行，得满分；否则酌情扣分。", unit="分"),
    I("fund_compliance", "过程", "预算管理", "资金使用合规性", Manual(P(6)),
      "支出符合财经法规与预算批复用途，审批手续完整，无截留、挤占、挪用、虚列支出，得满分；否则酌情扣分。", unit="分"),
    I("disclosure", "过程", "预算管理", "预决算信息公开性", Manual(P(5)),
      "按规定时间与内容公开预决算信息，基础数据真实完整准确，得满分；否则酌情扣分。", unit="分"),
    I("key_work", "产出及效率", "职责履行", "重点工作完成率",
      GradeTable(P(8), "报错", (("优秀", D(8)), ("良好", D(6)), ("一般", D(4)), ("较差", D(0)))),
      "按年度绩效考核等次：优秀8分、良好6分、一般4分、较差0分。",  # 等次与得分是参数，可按本地标准修改
      "年度绩效考核（重点工作）等次", unit="等次", value_hint="填写考核等次"),
    I("benefit", "产出及效率", "履职效益", "经济效益和社会效益", Manual(P(6)),
      "年度目标任务全面完成、经济效益和社会效益良好，得满分；否则酌情扣分。", unit="分"),
    I("efficiency", "产出及效率", "履职效益", "行政效能", Manual(P(6)),
      "改进行政管理、提高行政效率、降低行政成本效果较好，得满分；否则酌情扣分。", unit="分"),
    I("satisfaction", "产出及效率", "履职效益", "社会公众或服务对象满意度", Threshold(P(6), "报错", ">=", D("0.9")),
      "综合满意度≥90%得满分，否则不得分。", udf="SATISFACTION", args=("sat_service", "sat_public", "sat_staff")),
)

HUNAN = System(
    key="hunan-dept", title="部门整体支出绩效评价评分表", kind="dept",
    description="湖南省部门整体支出绩效评价（投入13／过程61／产出及效率26）",
    table_title="部门整体支出绩效评价基础数据表", columns=HUNAN_COLUMNS, table_rows=HUNAN_ROWS, scalars=HUNAN_SCALARS,
    indicators=HUNAN_INDICATORS, grades=HUNAN_GRADES, texts=DEPT_TEXTS + (BASIS_TEXT,) + REPORT_TEXTS,
    level1_order=("投入", "过程", "产出及效率"),
)

# ---------------------------------------------------------------------------------------------------------
# 子洲县 部门（单位）整体绩效重点评价（种子 001 附件1）
# ---------------------------------------------------------------------------------------------------------
ZIZHOU_SCALARS = BASE_SCALARS + (
    Scalar("fiscal_budget", "公共财政拨款收入（支出）预算数", "money", note="县本级财政指标数，扣除上级专项"),
    Scalar("fiscal_final", "公共财政拨款收入（支出）决算数", "money"),
    Scalar("budget_expense_total", "本年预算支出合计数", "money"),
    Scalar("budget_income_total", "本年预算收入合计数", "money"),
    Scalar("carry_cum_this", "本年累计结转结余数", "money"),
    Scalar("carry_cum_prev", "上年累计结转结余数（年初结转结余）", "money"),
    Scalar("public_final", "本年公用经费支出决算数", "money"),
    Scalar("public_budget", "本年公用经费支出预算数", "money"),
    Scalar("public_final_prev", "上年公用经费支出决算数", "money"),
    Scalar("sangong_budget", "本年“三公经费”预算数", "money"),
    Scalar("sangong_budget_prev", "上年“三公经费”预算数", "money"),
    Scalar("sangong_actual", "本年“三公经费”支出数", "money"),
    Scalar("procurement_actual", "实际政府采购金额", "money", note="没有采购填 0 或“无”"),
    Scalar("procurement_budget", "政府采购预算数", "money", note="没有采购预算填 0 或“无”"),
    Scalar("staff_quota", "编制人数", "count", "人"),
    Scalar("staff_actual", "实有人数", "count", "人"),
    Scalar("receivable_begin", "年初债权余额", "money"),
    Scalar("receivable_end", "年末债权余额", "money"),
    Scalar("debt_begin", "年初债务余额", "money"),
    Scalar("debt_end", "年末债务余额", "money"),
    Scalar("asset_book", "固定资产账面数", "money"),
    Scalar("asset_idle", "闲置（不用）资产", "money"),
    Scalar("self_score", "部门自评得分", "count", "分", note="用于重点评价与自评的差异分析"),
    Scalar("self_grade", "部门自评等级", "text"),
)


def _deduct(code, level2, name, points, criterion):
    return I(code, "投入" if code.startswith("z1") else "过程", level2, name, DeductionChecklist(P(points)), criterion,
             unit="扣分", value_hint="填写扣分合计；没有扣分填 0 或“无”（留空为未填写，不计分）")


ZIZHOU_INDICATORS = (
    _deduct("z1_1", "预算编制", "部门预算的完整性", 2, "预算公开文字叙述完整、报表齐全得2分；发现1处编报数据不齐全或有错误扣0.5分，扣完为止。"),
    _deduct("z1_2", "预算编制", "部门预算的准确性", 3, "编报数据上下年度一致1分、前后一致1分、报表格式准确1分；每出错1处扣0.5分，扣完为止。"),
    _deduct("z1_3", "预算编制", "部门预算细化性", 3, "按经济科目、功能科目分类精准预算各1分；“其他”科目占比≤10%得1分。"),
    _deduct("z1_4", "预算编制", "部门预算的及时性", 2, "按时完成报送得2分；每超1个工作日扣1分，扣完为止。"),
    _deduct("z1_5", "预算编制", "绩效目标", 6, "整体目标1分、项目目标1分、资金填报准确2分、指标明确量化2分；不明确未量化每处扣0.5分。"),
    I("z1_6", "投入", "预算编制", "年初预算到位率", Linear(P(8), "报错", D(0), D("0.95")),
      "到位率大于95%得满分；小于95%按 到位率÷95%×分值 计分。", udf="BUDGET_ARRIVAL_RATE", args=("fiscal_budget", "fiscal_final")),
    I("z2_1", "过程", "预算执行", "预算完成率", Linear(P(12), "报错", D("0.85"), D("0.95")),
      "≥95%得满分；≤85%得0分；之间按 (完成率－85%)÷(95%－85%)×分值 计分。",
      udf="BUDGET_COMPLETION_ZZ", args=("budget_expense_total", "budget_income_total")),
    I("z2_2a", "过程", "预算执行", "结转结余率", Linear(P(4), "报错", D("0.15"), D("0.05")),
      "≤5%得满分；≥15%得0分；之间按 (15%－结转结余率)÷(15%－5%)×分值 计分。",
      udf="CARRYOVER_RATE", args=("carry_cum_this", "carry_cum_prev", "budget_income_total")),
    I("z2_2b", "过程", "预算执行", "结转结余变动率", Linear(P(5), "满分", D("0.15"), D("0.05")),
      "≤5%得满分；≥15%得0分；之间按公式计分；两年均无结转结余视同满分。", udf="CARRYOVER_CHANGE_RATE", args=("carry_cum_this", "carry_cum_prev")),
    I("z2_3a", "过程", "预算执行", "公用经费控制率", Threshold(P(2), "报错", "<=", D(1)),
      "公用经费控制率≤100%得2分，否则得0分。", wording="子洲", udf="PUBLIC_EXPENSE_CONTROL", args=("public_final", "public_budget")),
    I("z2_3b", "过程", "预算执行", "公用经费动态变动率", Range(P(2), "报错", D("-0.15"), D("0.15")),
      "动态变动率在－15%～15%（含）之间得2分，否则得0分。", udf="PUBLIC_EXPENSE_CHANGE", args=("public_final", "public_final_prev")),
    I("z2_4a", "过程", "预算执行", "三公经费动态变动率", Threshold(P("1.5"), "满分", "<=", D(0)),
      "动态变动率≤0得满分，大于0得0分。", wording="子洲", udf="SANGONG_CHANGE_RATE", args=("sangong_budget", "sangong_budget_prev")),
    I("z2_4b", "过程", "预算执行", "部门三公经费控制率", Threshold(P("1.5"), "满分", "<=", D(1)),
      "控制率≤1得满分，大于1得0分。", wording="子洲", udf="SANGONG_CONTROL_RATE", args=("sangong_actual", "sangong_budget")),
    I("z2_5", "过程", "预算执行", "政府采购预算执行率", Linear(P(3), "满分", D("0.7"), D("0.95")),
      "≥95%得满分；70%～95%按 (执行率－70%)÷(95%－70%)×分值 计分；≤70%得0分；无预算无采购得满分。",
      wording="子洲", udf="PROCUREMENT_RATE", args=("procurement_actual", "procurement_budget")),
    _deduct("z2_6", "预算管理", "部门决算的完整性", 2, "决算公开文字叙述完整、报表齐全得2分；发现1处不齐全或错误扣0.5分，扣完为止。"),
    _deduct("z2_7", "预算管理", "部门决算的准确性", 3, "编报数据上下年度一致1分、前后一致1分、报表格式准确1分；每出错1处扣0.5分。"),
    _deduct("z2_8", "预算管理", "部门决算细化性", 3, "按经济科目、功能科目分类精准编报各1分；“其他”科目占比≤10%得1分。"),
    _deduct("z2_9", "预算管理", "部门决算的及时性", 2, "按时完成报送得2分；每超1个工作日扣1分，扣完为止。"),
    I("z2_10", "过程", "预算管理", "财政供养人员", StepDeduction(P(2), "报错", D(0), D(1), D("0.5"), "超出", "整步"),
      "编制内得满分；超编1人扣0.5分，扣完为止；人员变动长期不办理工资手续扣1分。", udf="OVERSTAFFING", args=("staff_quota", "staff_actual"), unit="人"),
    _deduct("z2_11", "预算管理", "制度建设", 3, "有内控制度和财务制度1分，制度合规并更新1分，按制度运行1分。"),
    _deduct("z2_12", "预算管理", "绩效目标的实现", 2, "全部实现得2分，未实现一处扣0.5分；未公开绩效目标不得分。"),
    _deduct("z2_13", "预算管理", "绩效自评率", 2, "整体自评率100%得1分、项目自评率100%得1分；每低10个百分点扣0.5分。"),
    _deduct("z2_14", "预算管理", "整体自评质量", 2, "指标标准合理1分，报告内容完整1分；一处不合理扣0.5分。"),
    _deduct("z2_15", "预算管理", "项目自评质量", 3, "自评目标与预算目标一致1分，指标标准合理1分，报告内容完整1分。"),
    _deduct("z2_16", "预算管理", "部门评价开展情况", 2, "开展部门评价、网站公开、按时报送、档案齐全各0.5分。"),
    I("z2_17", "过程", "债权债务管理", "债权管理", Bands(P(2), "满分", ((D("0.05"), D(2)), (D("0.1"), D(1))), D(0), True),
      "较上年变动率增减在5%以内得满分，5%～10%得1分，否则不得分。", udf="RECEIVABLE_CHANGE_RATE", args=("receivable_end", "receivable_begin")),
    I("z2_18", "过程", "债权债务管理", "债务管理",
      GradeTable(P(2), "报错", (("无债务", D(2)), ("减少", D(2)), ("未变动", D(1)), ("增加", D(0)))),
      "无债务余额得满分；年初与年末债务余额未变动得1分；年末债务余额大于年初不得分；年末债务余额小于年初的视同满分。",
      wording="子洲", udf="DEBT_STATUS", args=("debt_begin", "debt_end"), unit="等次"),
    I("z2_19", "过程", "资产管理", "资产准确性", DeductionChecklist(P(2)),
      "账面数与资产系统年报一致1分，账面数与实际相符1分。", unit="扣分",
      value_hint="填写扣分合计；没有扣分填 0 或“无”（留空为未填写，不计分）"),
    I("z2_20", "过程", "资产管理", "资产使用率", StepDeduction(P(3), "报错", D(1), D("0.01"), D("0.5"), "低于", "整步"),
      "使用率达100%得满分，每下降一个百分点扣0.5分，扣完为止。", udf="ASSET_USE_RATE", args=("asset_idle", "asset_book")),
    I("z3_1", "效果", "履职效益", "年度目标",
      GradeTable(P(10), "报错", (("优秀", D(10)), ("良好", D(8)), ("一般", D(5)), ("较差", D(0)))),
      "年度县委目标责任考核优秀10分、良好8分、一般5分、较差0分。", "年度目标责任考核等次", unit="等次", value_hint="填写考核等次"),
)

ZIZHOU = System(
    key="zizhou-dept", title="部门（单位）整体绩效重点评价得分情况表", kind="key_eval",
    description="子洲县部门（单位）整体绩效重点评价（投入24／过程66／效果10）",
    table_title="部门整体绩效重点评价基础数据表", columns=(), table_rows=(), scalars=ZIZHOU_SCALARS,
    indicators=ZIZHOU_INDICATORS, grades=ZIZHOU_GRADES, texts=DEPT_TEXTS + (
        TextSpec("evaluator", "评价机构", "如：县财政预算绩效评价中心"),
        TextSpec("self_eval_summary", "部门自评情况", "部门自评的组织与过程（用于差异分析）"),
    ) + KEY_TEXTS + (BASIS_TEXT,) + REPORT_TEXTS, level1_order=("投入", "过程", "效果"),
)

# ---------------------------------------------------------------------------------------------------------
# 项目支出绩效自评表（财预〔2020〕10号 附件2；种子 003 石屏县）
# ---------------------------------------------------------------------------------------------------------
PROJECT_COLUMNS = (Column("budget_initial", "年初预算数"), Column("budget_full", "全年预算数"), Column("executed", "全年执行数"))
PROJECT_ROWS = (
    TableRow("fund_total", "年度资金总额", 0, ("fund_fiscal", "fund_carry", "fund_other")),
    TableRow("fund_fiscal", "  其中：当年财政拨款", 1),
    TableRow("fund_carry", "        上年结转资金", 1),
    TableRow("fund_other", "        其他资金", 1),
)
PROJECT_SCALARS = (
    Scalar("project_name", "项目名称", "text"),
    Scalar("unit_name", "实施单位", "text"),
    Scalar("department", "主管部门", "text"),
    Scalar("year", "评价年度", "text"),
    Scalar("money_unit", "金额单位", "choice", choices=("万元", "元")),
    Scalar("exec_basis", "预算执行率分母口径", "choice", choices=EXECUTION_BASES,
           note="财预〔2020〕10号自评表用全年预算数；部门/财政评价用实际到位资金"),
    Scalar("funds_arrived", "实际到位资金", "money", note="口径选“实际到位资金”时必填"),
    Scalar("goal_planned", "年度总体目标（预期）", "text"),
    Scalar("goal_actual", "年度总体目标（实际完成情况）", "text"),
)
PROJECT_TEXTS = (
    TextSpec("overview", "项目概况", "项目背景、资金实施年度、资金分解下达情况"),
    TextSpec("goals", "项目绩效目标", ""),
    TextSpec("organization", "项目组织管理情况", ""),
    TextSpec("decision", "项目决策情况", "决策依据、决策过程、资金分配"),
    TextSpec("process_mgmt", "过程管理情况", "资金管理、组织管理"),
    TextSpec("experience", "主要经验及做法", ""),
    TextSpec("problems", "存在的问题及原因分析", ""),
    TextSpec("suggestions", "有关建议", ""),
    TextSpec("other", "其他需要说明的问题", ""),
)

EXEC_RATE = I("exec_rate", "预算执行率", "预算执行率", "预算执行率", Target(P(10), "报错", "≥", D(1)),
              "预算执行率×分值，最高10分。",
      udf="BUDGET_EXECUTION_BY", args=("exec_basis", "fund_total@executed", "funds_arrived", "fund_total@budget_full",
                                      "fund_total@budget_full", "fund_total@budget_initial"))

PROJECT_CRITERION = ("≥/≤/=：达到指标值得满分，未达到按完成值与指标值之比×分值计分；定性：达成100%–80%、部分达成80%–60%、"
                     "未达成60%–0%。")


def project_row(code: str, level1: str, level2: str, name: str, points, nature: str, target, unit: str = "") -> IndicatorSpec:
    return I(code, level1, level2, name, Target(P(points), "报错", nature, target if nature == "定性" else D(str(target))),
             PROJECT_CRITERION, unit=unit, value_hint="填写实际完成值")


_BLANK_PROJECT = (
    ("产出指标", "数量指标", 3, 5), ("产出指标", "质量指标", 3, 5), ("产出指标", "时效指标", 2, 5), ("产出指标", "成本指标", 2, 5),
    ("效益指标", "经济效益指标", 1, 6), ("效益指标", "社会效益指标", 2, 6), ("效益指标", "生态效益指标", 1, 6),
    ("效益指标", "可持续影响指标", 1, 6), ("满意度指标", "服务对象满意度指标", 2, 5),
)


def _blank_project_rows() -> tuple[IndicatorSpec, ...]:
    rows, n = [], 0
    for level1, level2, count, pts in _BLANK_PROJECT:
        for _ in range(count):
            n += 1
            rows.append(project_row(f"P{n:02d}", level1, level2, "", pts, "≥", 1))
    return tuple(rows)


PROJECT = System(
    key="project", title="项目支出绩效自评表", kind="project",
    description="项目支出绩效自评（财预〔2020〕10号：预算执行率10／产出50／效益30／满意度10）",
    table_title="项目资金情况", columns=PROJECT_COLUMNS, table_rows=PROJECT_ROWS, scalars=PROJECT_SCALARS,
    indicators=(EXEC_RATE,) + _blank_project_rows(), grades=PROJECT_GRADES, texts=PROJECT_TEXTS + REPORT_TEXTS,
    param_headers=("指标性质", "指标值") + tuple(f"参数{i}" for i in range(3, 11)),
    level1_order=("预算执行率", "产出指标", "效益指标", "满意度指标"),
)

SYSTEMS: dict[str, System] = {s.key: s for s in (HUNAN, ZIZHOU, PROJECT)}
