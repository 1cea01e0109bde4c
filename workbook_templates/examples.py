"""种子报告的示例数据（../shared/seeds）：jixiao demo 用它们生成填好的工作簿，测试用它们做黄金用例。

只录入种子报告中写明的数字；报告没写的项目留空。每一处“调整得分”都带有种子报告中的原因。
“报告所列”两列记录种子报告正文里印出的数字（含其笔误），供校验比对。
"""
from __future__ import annotations

from decimal import Decimal as D

from .build import Example
from .systems import project_row

# ---------------- 种子 000：保靖县医疗生育保险管理服务局 2018 年度部门整体支出绩效自评（湖南） ----------------
BAOJING_2018 = Example(
    name="baojing-2018", system="hunan-dept",
    description="保靖县医疗生育保险管理服务局 2018 年度部门整体支出绩效评价（种子 000），94.9 分，优",
    scalars={"unit_name": "保靖县医疗生育保险管理服务局", "year": "2018", "money_unit": "万元",
             "staff_quota": 33, "staff_actual": 33, "sangong_budget_prev": 4.5, "carry_begin": 0, "budget_added": 90.29,
             "carry_end": 0, "sat_service": D("0.9493"), "sat_public": D("0.946"), "sat_staff": D("0.942"),
             # 种子：本年无新建楼堂馆所项目，两项控制率得满分。空白是“未填写”，没有项目要写明“无”（或 0）
             "building_area_approved": "无", "building_area_actual": "无", "building_invest_approved": "无",
             "building_invest_actual": "无"},
    table={"expense_total": {"budget_initial": 892.35, "final": 982.63},
           "basic": {"final": 532.63},
           "public_expense": {"budget_initial": 22.98, "final": 39.51},
           "sangong": {"budget_initial": 1.5, "final": 0.61},
           "sangong_car": {"budget_initial": 0, "final": 0},
           "sangong_abroad": {"budget_initial": 0, "final": 0},
           "sangong_reception": {"budget_initial": 1.5, "final": 0.61},
           "project": {"final": 450},
           "procurement": {"budget_initial": 0, "final": 0}},
    values={"goal_reasonable": 3, "goal_clear": 3, "mgmt_system": 8, "fund_compliance": 6, "disclosure": 5,
            "key_work": "优秀", "benefit": 6, "efficiency": 6},
    overrides={
        "budget_control": (4, "预算控制率10.12%，评价人按评分标准“11–30%（含）”一档并结合本单位实际情况按4分计算（种子报告原文）；"
                              "按模板分档标准（10%～20%（含）得3分）计算为3分"),
        "public_expense_control": (4, "年初人员编制17人，年初预算安排公用经费22.98万元；年中职工医保并入增加16人、乡镇合管办14人集中办公，"
                                      "实际支出公用经费超出年初预算系人员增加所致，并非公用经费控制不严，根据评分标准和本单位实际情况得4分"),
        "key_work": (D("7.90"), "本单位为县人社局下设机构，未参加2018年度全县五个文明建设绩效考核；主管部门县人社局考核等次为优秀，"
                                "通报未附考核得分，参考州直单位评分标准按主管部门得分7.90分计算"),
    },
    stated={"staff_control": (1, 3), "sangong_change": (D("-0.6667"), 4), "budget_completion": (1, 5),
            "budget_control": (D("0.1012"), 4), "building_area": (None, 5), "building_invest": (None, 5),
            "public_expense_control": (D("1.7192"), 4), "sangong_control": (D("0.4098"), 8), "procurement": (1, 6),
            "mgmt_system": (None, 8), "fund_compliance": (None, 6), "disclosure": (None, 5), "key_work": (None, D("7.9")),
            "benefit": (None, 6), "efficiency": (None, 6), "satisfaction": (D("0.9473"), 6),
            "goal_reasonable": (None, 3), "goal_clear": (None, 3)},
    texts={
        "duties": "保靖县医疗生育保险管理服务局系保靖县人力资源和社会保障局下属正科级全额拨款事业机构。主要职责为：贯彻执行国家基本医疗保险法律、法规、"
                  "规章和方针政策；指导全县城镇职工基本医疗保险、生育保险、城乡居民基本医疗保险经办业务的管理；负责县本级医疗、生育保险基金及相关费用的"
                  "筹集、支付和管理；承担县委、县政府交办的其他工作任务。",
        "organization": "本单位共设内设机构7个：医疗保险基金管理中心、城乡居民医疗保险管理服务中心、办公室、财务审计股、基金征缴股、医疗监管股、"
                        "异地就医和信息管理股。",
        "staffing": "截止2018年12月31日，经县编委核定的在职人员编制人数为33名，年末实有在职人员33人。",
        "spending": "本单位2018年度收入总计982.63万元，其中财政拨款收入982.63万元；全年总支出982.63万元，其中基本支出532.63万元"
                    "（人员经费493.12万元、日常公用经费39.51万元），项目支出450.00万元。",
        "projects": "围绕精准扶贫、精准脱贫工作，创新宣传方式保障政策落实，结合专项行动保障基金安全，推行一站结算保障服务水平，加强风险防控保障制度管理。",
        "purpose": "规范财政资金管理，通过评价本单位2018年度财政资金预算支出的绩效状况，为今后预算安排提供决策支持。",
        "process": "成立绩效评价工作领导小组和工作组，制定工作方案与评价指标；核实数据、查阅资料、发放调查问卷、归纳汇总、分析评分，形成自评报告。",
        "limitations": "绩效评价涉及多个专业领域，仅依靠财务人员独立评价具有一定局限性；部分指标设计不尽合理；问卷调查对象对单位情况了解有限。",
        "problems": "年初预算因本级财政财力原因编制不精确，公用经费标准过低，年中追加预算；全县绩效考核通报未附考核得分，影响重点工作完成率的计算。",
        "lessons": "绩效管理需要从年初预算编制抓起，结合事业发展计划科学合理地编制部门预算；在抓好财政支出的同时注重产出及效率。",
        "suggestions": "加强业务学习，提高预算意识；加强预算管理，提高预算编制的科学性；完善绩效评价指标体系；加强事前准备，提升评价质量。",
    },
)

# ---------------- 种子 001：子洲县医疗保障局 2021 年度部门整体支出绩效重点评价 ----------------
ZIZHOU_2021 = Example(
    name="zizhou-2021", system="zizhou-dept",
    description="子洲县医疗保障局 2021 年度部门整体支出绩效重点评价（种子 001），85.1 分，良好；部门自评 97 分",
    scalars={"unit_name": "子洲县医疗保障局", "year": "2021", "money_unit": "万元", "fiscal_budget": 1826.09,
             "fiscal_final": 1826.09, "budget_expense_total": 3296.75, "budget_income_total": 3642.94,
             "carry_cum_this": 7.77, "carry_cum_prev": 341.89, "public_final": 37.3, "public_budget": 10.5,
             "public_final_prev": 178.42, "sangong_budget": 0, "sangong_budget_prev": 0, "sangong_actual": 0,
             "procurement_actual": 0, "procurement_budget": 0, "staff_quota": 7, "staff_actual": 6,
             "receivable_begin": 0.01, "receivable_end": 0.01, "debt_begin": 0, "debt_end": 0, "asset_book": 44.49,
             "asset_idle": 0, "self_score": 97, "self_grade": "优秀"},
    # 扣分清单：附件2 得满分的各项写明扣分 0（空白是“未填写”，不计分）
    values={"z1_1": 0.5, "z1_2": 1, "z1_3": 0, "z1_4": 0, "z1_5": 1, "z2_6": 0, "z2_7": 0, "z2_8": 0, "z2_9": 0,
            "z2_11": 0, "z2_12": 0, "z2_13": 0, "z2_14": 0, "z2_15": 1, "z2_16": 0, "z2_19": 0, "z3_1": "良好"},
    notes={"z1_1": "报表封皮未盖章", "z1_2": "机关运行经费叙述上下年度对比不一致", "z1_5": "绩效目标编制部分不明确、未量化",
           "z2_1": "预算完成率=90.5%", "z2_3a": "公用经费控制 355%>100%", "z2_3b": "公用经费动态变动率=-79.09%<-15%",
           "z2_15": "项目自评绩效目标与预算绩效目标不完全一致，指标标准部分不合理", "z3_1": "目标责任考核为：良好"},
    # 附件2 的得分；z2_7 记录的是正文“2.7 部门决算的准确性……得 2 分”（附件2 为 3 分，两处不一致）
    stated={"z1_1": (None, D("1.5")), "z1_2": (None, 2), "z1_3": (None, 3), "z1_4": (None, 2), "z1_5": (None, 5),
            "z1_6": (1, 8), "z2_1": (D("0.905"), D("6.6")), "z2_2a": (D("-0.09"), 4), "z2_2b": (D("-0.977"), 5),
            "z2_3a": (D("3.55"), 0), "z2_3b": (D("-0.7909"), 0), "z2_4a": (0, D("1.5")), "z2_4b": (0, D("1.5")),
            "z2_5": (None, 3), "z2_6": (None, 2), "z2_7": (None, 2), "z2_8": (None, 3), "z2_9": (None, 2),
            "z2_10": (None, 2), "z2_11": (None, 3), "z2_12": (None, 2), "z2_13": (None, 2), "z2_14": (None, 2),
            "z2_15": (None, 2), "z2_16": (None, 2), "z2_17": (0, 2), "z2_18": (None, 2), "z2_19": (None, 2),
            "z2_20": (1, 3), "z3_1": ("良好", 8)},
    texts={
        "duties": "子洲县医疗保障局负责全县医疗保险、生育保险、医疗救助等医疗保障制度的组织实施和基金监管。",
        "organization": "子洲县医疗保障局是子洲县机构改革新组建的政府工作部门，属正科级建制，是全额财政拨款独立预算部门。"
                        "设局长1名，副局长2名；六个科室：政秘科，基金科，待遇保障科，信息统计科，法规检查科，药品耗材科。"
                        "下设2个事业单位：子洲县医疗保险经办中心和子洲县医疗保障基金安全防控中心。",  # 种子 001 第 48 行
        "evaluator": "子洲县财政预算绩效评价中心",
        "self_eval_summary": "部门自评设计了18个三级指标（在职人员控制率、“三公经费”变动率、重点支出安排率、预算调整率、支付进度等），"
                             "自评得分97分。",
        "problems": "预算报表封皮未盖章，机关运行经费叙述上下年度对比不一致；部门绩效自评中项目自评绩效目标与预算绩效目标不完全一致。",
        "suggestions": "提升预算编制水平；提高预算执行能力；严格执行预算绩效自评。",
    },
)

# ---------------- 种子 003：石屏县医疗保障局 2022 年度项目支出绩效自评（金额单位：元） ----------------
_SP = [  # (一级, 二级, 三级, 分值, 指标性质, 指标值, 单位, 实际完成值)
    ("产出指标", "质量指标", "信息数据安全", 5, "=", D(1), "%", D(1)),
    ("产出指标", "质量指标", "医保人才培训合格率", 5, "=", D(1), "%", D(1)),
    ("产出指标", "质量指标", "开展DRG改革的医疗机构", 5, "定性", "逐步推开", "", "达成"),
    ("产出指标", "质量指标", "定点医药机构监督检查覆盖率", 5, "≥", D("0.9"), "%", D(1)),
    ("产出指标", "质量指标", "医保信息系统正常运行率", 4, "≥", D("0.9"), "%", D(1)),
    ("产出指标", "质量指标", "医保信息系统验收合格率", 4, "≥", D("0.9"), "%", D(1)),
    ("产出指标", "质量指标", "县域内一站式结算覆盖率", 4, "=", D(1), "%", D(1)),
    ("产出指标", "成本指标", "信息系统运维成本占比", 4, "≤", D(1), "%", D(1)),
    ("产出指标", "成本指标", "成交价包含运维年数", 4, "≥", D(1), "年", D(1)),
    ("产出指标", "时效指标", "设备配置时间", 5, "定性", "2022年前逐步配置到位", "", "达成"),
    ("产出指标", "时效指标", "医保信息系统故障应急响应时间", 5, "≤", D(60), "分钟", D(10)),
    ("效益指标", "社会效益指标", "系统全年正常运行时长", 3, "≥", D(7200), "小时", D(7200)),
    ("效益指标", "可持续影响指标", "系统正常使用年限", 3, "≥", D(1), "年", D(1)),
    ("效益指标", "社会效益指标", "公共服务事项限时办结率", 3, "≥", D("0.85"), "%", D("0.85")),
    ("效益指标", "社会效益指标", "基金预警和风险防控能力", 3, "定性", "有所提高", "", "达成"),
    ("效益指标", "社会效益指标", "医保法制建设能力", 3, "定性", "有所提高", "", "达成"),
    ("效益指标", "社会效益指标", "医保经办服务能力", 3, "定性", "有所提高", "", "达成"),
    ("效益指标", "社会效益指标", "医保宣传能力", 3, "定性", "显著提升", "", "达成"),
    ("效益指标", "社会效益指标", "医保标准化水平", 3, "定性", "显著提升", "", "达成"),
    ("效益指标", "社会效益指标", "医保综合监督能力", 3, "定性", "显著提升", "", "达成"),
    ("效益指标", "社会效益指标", "公共服务事项网上可办率", 3, "≥", D("0.7"), "%", D("0.7")),
    ("满意度指标", "服务对象满意度指标", "使用人员满意度", 5, "≥", D("0.85"), "%", D(1)),
    ("满意度指标", "服务对象满意度指标", "参保人员对医疗保障满意度", 5, "≥", D("0.7"), "%", D(1)),
]


def _shiping_rows():
    from .systems import EXEC_RATE

    rows = [EXEC_RATE]
    for n, (l1, l2, name, pts, nature, target, unit, _) in enumerate(_SP, 1):
        rows.append(project_row(f"P{n:02d}", l1, l2, name, pts, nature, target, unit))
    return tuple(rows)


SHIPING_2022 = Example(
    name="shiping-2022", system="project",
    description="石屏县医疗保障局 2022 年度项目支出绩效自评（种子 003），100 分，优；全年执行数按自评满分推定为全额执行",
    scalars={"project_name": "2022年工作经费及非税收入成本性支出补助资金", "unit_name": "石屏县医疗保障局",
             "department": "石屏县医疗保障局", "year": "2022", "money_unit": "元", "exec_basis": "全年预算数",
             "goal_planned": "提升信息化水平、加强网络与信息安全建设，加强打击欺诈骗保工作力度，加快推进医保支付方式改革和DRG试点工作，"
                             "有效提升综合监管、宣传引导、经办服务、人才队伍建设等医疗保障服务能力。",
             "goal_actual": "有效提升信息化建设、综合监管、宣传引导、经办服务、人才化建设等医疗保障服务能力。"},
    table={"fund_total": {"budget_initial": 50000, "budget_full": 447704, "executed": 447704},
           "fund_fiscal": {"budget_initial": 50000, "budget_full": 447704, "executed": 447704},
           "fund_carry": {"budget_initial": 0, "budget_full": 0, "executed": 0},
           "fund_other": {"budget_initial": 0, "budget_full": 0, "executed": 0}},
    indicators=_shiping_rows(),
    values={f"P{n:02d}": row[7] for n, row in enumerate(_SP, 1)},
    stated={"P08": (D(1), None)},
    notes={"P08": "报告原文为“﹤100%”（上限表述），按100%录入"},
    texts={
        "overview": "石屏县医疗保障局2022年实施项目共4个，项目预算资金447704元。其中年初预算批复的项目1个，项目资金50000元，"
                    "年中追加项目3个，项目资金397704元。",
        "goals": "提升信息化水平、加强网络与信息安全，加强打击欺诈骗保，加快推进医保支付方式改革和DRG试点工作。",
        "organization": "项目经费严格执行财务管理制度，每一笔经济业务按程序审批，实行项目专项管理；重大支出事项集体研究决策。",
        # 以下三项摘自种子 003 “项目决策情况分析”“过程管理情况分析”“主要经验及做法”
        "decision": "贯彻执行《中华人民共和国预算法》《中华人民共和国预算法实施条例》；补助资金按规定履行立项审批、预算评审等报批程序，"
                    "下达预算指标的同时明确绩效目标；资金按需求因素、财力因素、绩效因素等采取因素法分配，与绩效评价结果挂钩。",
        "process_mgmt": "项目经费由财务统一管理，报销需有正规发票作为原始单据，由经手人、单位负责人签字审批；"
                        "制定财务管理制度、政府采购管理制度及业务流程图，加强资金监管。",
        "experience": "建立了有效的工作机制，制定了部门绩效管理办法及项目工作实施方案，项目资金使用管理规范，"
                      "做到专款专用，充分发挥资金使用效益。",
        "problems": "一是医疗保障工作经费补助资金体量小；二是医疗保障工作经费压力大。",
        "suggestions": "建议加大医疗保障工作经费补助资金量投入，缓解医保部门经费压力。",
        "other": "无",
    },
)

# ---------------- 种子 002：长沙市开福区医疗保障局 2020 年度基础数据表（原样转录，含其笔误） ----------------
KAIFU_2020 = Example(
    name="kaifu-2020", system="hunan-dept",
    description="长沙市开福区医疗保障局 2020 年度部门整体支出绩效评价基础数据表（种子 002 附件3，原样转录，含笔误）；"
                "种子未给出评分表得分，评分表留待评价人填写",
    scalars={"unit_name": "长沙市开福区医疗保障局", "year": "2020", "money_unit": "万元", "staff_quota": 11, "staff_actual": 12},
    table={
        "expense_total": {"prev_final": 1536, "budget_initial": 3691, "budget_adjusted": 3951, "final": "3745（2177）"},
        "basic": {"prev_final": 303, "budget_initial": 323, "budget_adjusted": 355, "final": 353},
        "sangong": {"prev_final": 0, "budget_initial": 0, "budget_adjusted": 0, "final": 0},
        "sangong_car": {"prev_final": 0, "budget_initial": 0, "budget_adjusted": 0, "final": 0},
        "sangong_abroad": {"prev_final": 0, "budget_initial": 0, "budget_adjusted": 0, "final": 0},
        "sangong_reception": {"prev_final": 0, "budget_initial": 0, "budget_adjusted": 0, "final": 0},
        "project": {"prev_final": 1234, "budget_initial": 3368, "budget_adjusted": 3596, "final": "3392（1824）"},
        "project_work": {"prev_final": 46, "budget_initial": 90, "budget_adjusted": 90, "final": 90},
        "project_special": {"prev_final": 1188, "budget_initial": 3308, "budget_adjusted": 3536, "final": 3332},
        "project_item1": {"prev_final": 420, "budget_initial": 420, "budget_adjusted": 620, "final": 620},
        "project_item2": {"prev_final": 637, "budget_initial": 1080, "budget_adjusted": 1168, "final": 981},
        "project_item3": {"prev_final": 131, "budget_initial": 150, "budget_adjusted": 150, "final": 133},
        "project_item4": {"budget_initial": 1628, "budget_adjusted": 1568, "final": 1568},
        "procurement": {"prev_final": 21, "budget_initial": 0, "budget_adjusted": 0, "final": 0},
        "asset_purchase": {"prev_final": 21, "budget_initial": 0, "budget_adjusted": 0, "final": 0},
    },
    table_labels={"project_item1": "      其中：项目1（公费医疗）", "project_item2": "      项目2（医疗救助）",
                  "project_item3": "      项目3（特困企业退休职工基本医疗）",
                  "project_item4": "      其他只造预算项目（城乡居民医保区级配套补助）"},
    table_notes={"expense_total": "决算报表决算数2177万元，不包含居民医保配套补助上解数1568万元",
                 "project": "城乡居民医保我局造预算，财政局直接上解资金，决算数据不包含城乡居民医保资金",
                 "project_item1": "含子女统筹区内部政策", "project_item2": "民生资金，2019年已评价项目；正文称上级财政下拨502万元，"
                 "项目自评表列中央、省、市资金538万元", "project_item3": "每年两笔按政策上解和拨付"},
    texts={
        "staffing": "区医保局核定机关行政编制5名、所属事业单位事业编制6名；实有行政编制人员6人、事业编制人员6人、聘用人员5人。",
        # 种子 002 正文原样（含笔误：1168 万元“其中区本级630万元，上级财政下拨502万元”，项目表的上级资金为 538 万元）
        "spending": "基本支出情况：本年度基本支出353万元，其中工资福利支出293万元，商品服务支出26万元，对个人和家庭的补助34万元。",
        "projects": "专项经费2：医疗救助，年初预算区本级1080万元(含精神病药物救助80万元和健康扶贫“一站式”结算财政兜底资金100万元)，"
                    "实际拨付1168万元(含精神病药物救助116万元和健康扶贫“一站式”结算财政兜底资金100万元)，其中区本级630万元"
                    "(含精神病药物救助80万元和健康扶贫“一站式”结算财政兜底资金100万元)，上级财政下拨502万元，本年度实际使用981万元，"
                    "因上年度专户结余160万元未列入决算报表，本年度年初数不包含160万元，故冲减本年度支出，故报表中支出数为981万元。\n"
                    "专项经费3：特困企业退休职工基本医疗保险，年初预算安排150万元，项目支出133万元，其中上解区级配套资金60万元，"
                    "拨付区属特困企业退休职工医疗门诊个人账户73万元。\n"
                    "业务工作经费支出情况：本年度业务工作经费90万元，其中机关服务工作经费60万元（包括办公费48万元，印刷费5万元我，"
                    "委托业务费4万元，其他商品服务支出3万元），一般行政管理事务经费30万元（包括村党组书记商业保险和体检费24万元，"
                    "医保政策资料及宣传费用6万元）。",
    },
)

EXAMPLES = {e.name: e for e in (BAOJING_2018, ZIZHOU_2021, SHIPING_2022, KAIFU_2020)}
