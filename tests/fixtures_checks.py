"""校验测试用的夹具工作簿：每个种子笔误一个小工作簿，外加错误输入、单位混用等情形。

做法：以种子 000 保靖县示例去掉“调整得分”与“报告所列”两列得到一份没有任何发现的干净基线（CLEAN_HUNAN），
每个夹具只在基线上加入一处笔误，因此测试可以断言完整的发现集合恰好是那一条。
基础数据表的“上年决算数”列不参与任何指标的计算，种子 002 的合计笔误放在这一列，不会牵动得分。
"""
from __future__ import annotations

import copy
from dataclasses import replace
from decimal import Decimal as D
from pathlib import Path
from typing import Any

from addin.template.workbook import build_workbook
from workbook_templates.examples import BAOJING_2018, SHIPING_2022, ZIZHOU_2021
from workbook_templates.spec import Example
from workbook_templates.systems import EXEC_RATE, PROJECT_TEXTS, project_row


def _with(ex: Example, name: str, **changes: Any) -> Example:
    """复制示例（深拷贝字典，避免夹具之间互相影响）并替换部分字段。"""
    base = replace(ex, name=name, scalars=copy.deepcopy(ex.scalars), table=copy.deepcopy(ex.table),
                   values=dict(ex.values), overrides=dict(ex.overrides), stated=dict(ex.stated), texts=dict(ex.texts),
                   notes=dict(ex.notes), points=dict(ex.points), table_labels=dict(ex.table_labels),
                   evidence=dict(ex.evidence))
    return replace(base, **changes)


CLEAN_HUNAN = _with(BAOJING_2018, "clean-hunan", overrides={}, stated={}, notes={})
CLEAN_ZIZHOU = _with(ZIZHOU_2021, "clean-zizhou", stated={})


def hunan(name: str, *, table: dict | None = None, scalars: dict | None = None, **changes: Any) -> Example:
    """在干净基线上修改：table 按 {行: {列: 值}} 合并，scalars 按键合并。"""
    ex = _with(CLEAN_HUNAN, name, **changes)
    for row, cols in (table or {}).items():
        ex.table.setdefault(row, {}).update(cols)
    ex.scalars.update(scalars or {})
    return ex


# ---------------- 种子 000 保靖县：报告所列数字与分档 ----------------
# “三公经费”控制率 0.61 ÷ 1.5 = 40.67%，报告印成 40.98%
SEED000_SANGONG = hunan("seed000-sangong", stated={"sangong_control": (D("0.4098"), 8)})
# 公用经费控制率 39.51 ÷ 22.98 = 171.932…%，报告印成截断的 171.92%
SEED000_PUBLIC = hunan("seed000-public", stated={"public_expense_control": (D("1.7192"), None)})
# 预算控制率 10.12%：模板分档（10%～20%（含）3 分）算得 3 分；评价人照种子报告原文把它放进“11-30%（含）”一档给 4 分
SEED000_BAND_TEXT = ("预算控制率＝（本年预算追加数÷年初预算）×100%＝10.12%。预算控制率=11-30%（含），"
                     "根据评分标准和本单位实际情况，本单位该项指标得分按4分计算。")  # 种子 000 第 128 行原文
SEED000_BAND = hunan("seed000-band", overrides={"budget_control": (4, SEED000_BAND_TEXT)})

# ---------------- 种子 001 子洲县：2.7 部门决算的准确性，正文 2 分、附件2 3 分 ----------------
SEED001_Z2_7 = _with(ZIZHOU_2021, "seed001-z2_7", stated={"z2_7": (None, 2)})

# ---------------- 种子 002 开福区：基础数据表笔误（放在“上年决算数”列） ----------------
# 支出合计 1536，基本 303 ＋ 项目 1234 ＝ 1537：整数万元的取整差 → 警告
SEED002_ROUNDING = hunan("seed002-rounding", table={"expense_total": {"prev_final": 1536}, "basic": {"prev_final": 303},
                                                   "project": {"prev_final": 1234}})
# 项目支出 3368，业务工作经费 90 ＋ 专项经费 3308 ＝ 3398：相差 30 万元 → 错误
SEED002_PROJECT_SUM = hunan("seed002-project-sum", table={"project": {"prev_final": 3368},
                                                         "project_work": {"prev_final": 90},
                                                         "project_special": {"prev_final": 3308}})
# 一个单元格里两个数：3745（2177）、3392（1824）（括号内的数也自洽：2177 ＝ 353 ＋ 1824）
SEED002_TWO_NUMBERS = hunan("seed002-two-numbers", table={"expense_total": {"prev_final": "3745（2177）"},
                                                         "basic": {"prev_final": 353},
                                                         "project": {"prev_final": "3392（1824）"}})


# 医疗救助：项目自评表“项目资金情况”列 中央、省、市资金 538 万元（1168 ＝ 630 ＋ 538），正文写“上级财政下拨502万元”。
# 把正文的分项填进项目支出自评表的资金来源，年度资金总额的合计校验就会发现 630 ＋ 502 ＝ 1132 ≠ 1168。
def medical_aid(upper_funds: Any) -> Example:
    rows = (EXEC_RATE,
            project_row("P01", "产出指标", "数量指标", "困难对象医疗救助覆盖率", 50, "=", D(1), "%"),
            project_row("P02", "效益指标", "社会效益指标", "应救尽救", 30, "定性", "应救尽救"),
            project_row("P03", "满意度指标", "服务对象满意度指标", "救助对象满意度", 10, "≥", D("0.9"), "%"))
    return Example(
        name=f"seed002-medical-aid-{upper_funds}", system="project",
        scalars={"project_name": "医疗救助", "unit_name": "长沙市开福区医疗保障局", "department": "长沙市开福区医疗保障局",
                 "year": "2020", "money_unit": "万元", "exec_basis": "全年预算数"},
        table={"fund_total": {"budget_initial": 1080, "budget_full": 1168, "executed": 981},
               "fund_fiscal": {"budget_full": 630, "executed": 443},
               "fund_other": {"budget_full": upper_funds, "executed": 538}},
        table_labels={"fund_fiscal": "  其中：当年财政拨款（区本级）", "fund_other": "        其他资金（中央、省、市下拨）"},
        indicators=rows, values={"P01": D(1), "P02": "达成", "P03": D("0.95")},
        # 其余叙述与这处笔误无关，填“略”：校验只报这一处（未填的叙述会有 missing-text 警告）
        texts={t.key: "略" for t in PROJECT_TEXTS} | {"date": "2021年6月30日"}
        | {"overview": "年初预算区本级1080万元，实际拨付1168万元，其中区本级630万元，上级财政下拨502万元，本年度实际使用981万元。"},
    )


SEED002_MEDICAL_AID_TEXT = medical_aid(502)
SEED002_MEDICAL_AID_TABLE = medical_aid(538)


def build(ex: Example, out_dir: Path) -> Path:
    return build_workbook(ex.system, Path(out_dir) / f"{ex.name}.xlsx", ex)


def score_json(path: Path, capsys: Any) -> tuple[int, dict]:
    """`jixiao score 文件 --json` 的退出码与结果（capsys 截获的输出）。"""
    import json

    from addin.cli.main import main

    capsys.readouterr()
    code = main(["score", str(path), "--json"])
    return code, json.loads(capsys.readouterr().out)


def edit_cells(path: Path, edits: dict[tuple[str, str], Any]) -> Path:
    """用 openpyxl 改写若干单元格（模拟用户在 Excel 中的改动）。注意：openpyxl 保存后公式的保存结果会丢失。"""
    import openpyxl

    wb = openpyxl.load_workbook(path)
    for (sheet, cell), value in edits.items():
        wb[sheet][cell].value = value
    wb.save(path)
    return path


SHIPING_IN_WAN = _with(SHIPING_2022, "shiping-wan", scalars={**SHIPING_2022.scalars, "money_unit": "万元"})
