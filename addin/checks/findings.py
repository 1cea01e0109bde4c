"""校验发现的唯一消息目录：code → (严重程度, 中文消息模板)。新增检查在此登记代码与措辞。"""
from __future__ import annotations

from typing import Any

from ..model import Finding

ERROR, WARNING, INFO = "错误", "警告", "提示"
SEVERITY_ORDER = {ERROR: 0, WARNING: 1, INFO: 2}

CATALOGUE: dict[str, tuple[str, str]] = {
    # 读取与解析
    "not-a-number": (ERROR, "{label}应为数字：{detail}"),
    "two-numbers": (WARNING, "{label}：{detail}"),
    "text-number": (INFO, "{label}是以文本存储的数字“{raw}”，已按 {value} 计算"),
    "year-is-date": (INFO, "{label}填写为日期 {raw}（Excel 自动转换），已按 {value} 年处理；请把单元格格式改为“常规”后填写年份"),
    "missing-value": (ERROR, "{label}未填写，指标“{indicator}”无法计算{hint}"),
    "missing-sheet": (ERROR, "工作簿缺少工作表“{sheet_name}”"),
    "header-changed": (WARNING, "{detail}"),
    "code-missing": (WARNING, "“{sheet_name}”此行的代码为“{raw}”，应为“{expected_code}”（代码被删除或改动）；已按名称“{label}”读取该行，"
                              "请恢复代码"),
    "duplicate-code": (INFO, "“评分表”此行的代码“{code_text}”与第 {first_row} 行相同（复制的行）：两行分别计分、互不合并，本行按自己的"
                             "单元格读取（标识为 {row_id}）；请把此行代码清空或改为另一个值"),
    "level-inferred": (INFO, "{label}的一级指标为空，且是第 {mark_row} 行小计所汇总的一组中的第一行：已按该小计行归入“{level1}”；"
                             "如应属于上一组，请填写一级指标"),
    "bad-choice": (WARNING, "{label}填写为“{raw}”，应为下拉选项之一：{choices}"),
    # 计分
    "indicator-error": (ERROR, "指标“{indicator}”无法计算：{detail}"),
    "zero-denominator": (ERROR, "指标“{indicator}”的分母为 0：{detail}"),
    "rule-error": (ERROR, "指标“{indicator}”的评分规则有误：{detail}"),
    "value-error": (ERROR, "指标“{indicator}”的实际值无法评分：{detail}"),
    "bad-points": (ERROR, "指标“{indicator}”的分值无效：{detail}"),
    "bad-override": (ERROR, "指标“{indicator}”的调整得分无效：{detail}"),
    "override-without-reason": (ERROR, "指标“{indicator}”填写了调整得分 {override} 分（计算得分 {computed} 分），但未填写调整理由"),
    "value-typed-over-formula": (WARNING, "指标“{indicator}”的实际值是手工填写的 {raw}，不是公式；计分以该值为准，请确认"),
    "score-typed-over-formula": (WARNING, "指标“{indicator}”的计算得分是手工填写的 {raw}，不是公式；请改用“调整得分”并写明理由"),
    "formula-changed": (INFO, "指标“{indicator}”的实际值公式与模板不同（模板为 {template_formula}）；jixiao 与 Excel 一样按单元格中的"
                              "公式计算，请确认公式引用"),
    "formula-blank-reference": (ERROR, "指标“{indicator}”的实际值公式引用的 {ref} 为空：Excel 按 0 计算，jixiao 给出同样的结果，"
                                       "但空白表示未填写——请填写该单元格（确实为 0 请填 0）"),
    "formula-unsupported": (ERROR, "指标“{indicator}”的实际值无法计算：{detail}，文件中也没有 Excel 保存的结果；该指标无法计分"
                                   "（请改用 jixiao 支持的函数，或在 Excel 中计算后保存）"),
    "formula-unsupported-cached": (WARNING, "指标“{indicator}”的实际值用到 jixiao 无法计算的部分：{detail}；采用文件中 Excel 保存的"
                                            "结果 {cached}，jixiao 无法核对"),
    "entry-interpreted": (INFO, "指标“{indicator}”的{field}{note}"),
    "formula-error": (ERROR, "指标“{indicator}”的实际值公式结果为 {error}（{detail}），与 Excel 相同；该指标无法计分"),
    "bad-grade-table": (ERROR, "等级标准有误：{detail}"),
    # 推算与封顶（addin/scoring/derived.py）：凡是不照单元格原样计算的，都说出来
    "total-from-parts": (INFO, "指标“{indicator}”：{detail}"),
    "budget-added-derived": (INFO, "{label}未填写，已按 {adjusted_label} {adjusted} － {initial_label} {initial} ＝ {added} {unit} "
                                   "推算本年追加数（预算控制率、预算完成率按此计算；没有追加请填 0）"),
    "over-100-capped": (WARNING, "指标“{indicator}”的实际值 {rate} 超过 100%：{detail}按满分 {points} 分计（评分规则封顶），"
                                 "请核对数据"),
    "level1-missing": (WARNING, "指标“{indicator}”的一级指标未填写，也不在任何小计行汇总的一组之内：已单独汇总为“{level1}”；"
                                "请填写一级指标并把该行移到对应一组中"),
    "parent-row": (INFO, "“{name}”（第 {row} 行）没有规则类型与实际值，分值 {points} 等于其下第 {rows} 行的分值之和：按父行读取，"
                         "得分为各子行得分之和（{score}），不重复计入小计与总分{hint}"),
    # 校验（addin/checks/；容差见该模块的具名常量）
    "negative-value": (ERROR, "{label}为负数 {value}，该项不应为负"),
    "not-whole-number": (ERROR, "{label}为 {value}，人数应为整数"),
    "rate-out-of-range": (ERROR, "{label}填写为 {raw}，比率应在 0%～100% 之间（请填 95% 或 0.95 这样的比率）{hint}"),
    "total-mismatch": (ERROR, "{label}为 {total}，但 {parts_text} ＝ {sum}，相差 {gap} {unit}，超出各数取整的舍入误差（±{tolerance} {unit}）"),
    "total-rounding-gap": (WARNING, "{label}为 {total}，而 {parts_text} ＝ {sum}，相差 {gap} {unit}，在各数取整的舍入误差"
                                    "（±{tolerance} {unit}）以内，请核对是否为四舍五入所致"),
    "part-exceeds-total": (ERROR, "{label}为 {total}，但其中 {parts_text} ＝ {sum} {unit}，超过了合计数"),
    "total-blank": (WARNING, "{label}未填写，而 {parts_text} ＝ {sum} {unit}；请填写合计（引用合计的指标按分项之和计算）"),
    "budget-added-mismatch": (WARNING, "{label}为 {added}，而 {adjusted_label} {adjusted} － {initial_label} {initial} ＝ {derived}，"
                                       "相差 {gap} {unit}；指标按填写的追加数计算，请核对"),
    "points-total-not-100": (ERROR, "各指标分值合计为 {total} 分，应为 100 分（{detail}）"),
    "score-exceeds-max": (ERROR, "指标“{indicator}”得分 {score} 分，超过分值 {points} 分"),
    "score-negative": (ERROR, "指标“{indicator}”得分 {score} 分为负数，得分应在 0～分值之间"),
    "subtotal-formula-mismatch": (ERROR, "{level1}的{field}公式 {formula} 没有正好汇总应汇总的各行（第 {rows} 行），"
                                         "插入或删除行后请检查公式区域"),
    "incomplete-shown-as-final": (ERROR, "{label}显示为 {stored}，但{scope}有 {count} 项指标未计分（{names}），这个{what}并不完整，"
                                         "应显示“未完成”{hint}"),
    "subtotal-mismatch": (ERROR, "一级指标“{level1}”的{field}小计单元格为 {stored}，按各行重新计算应为 {computed}"),
    "score-total-mismatch": (ERROR, "总分行的{field}单元格为 {stored}，按各一级指标重新计算应为 {computed}"),
    "grade-mismatch": (ERROR, "{label}为“{stored}”，按等级标准 {score} 分应为“{expected_grade}”"),
    "formula-reference-mismatch": (ERROR, "指标“{indicator}”的公式 {formula} 与模板不一致：{detail}；jixiao 按模板计算，"
                                          "Excel 中显示的结果可能不同"),
    "formula-result-mismatch": (WARNING, "指标“{indicator}”的{field}单元格保存的结果为 {stored}，按工作簿数据重新计算为 {computed}"
                                         "（请在 Excel 中重新计算后保存；仍不一致时检查该单元格的公式）"),
    "value-differs-from-data": (ERROR, "指标“{indicator}”的实际值手工填写为 {typed}，按基础数据表计算应为 {computed}"),
    "zero-rate-with-spending": (ERROR, "指标“{indicator}”的实际值为 0，但{spending}，确有支出时执行率不应为 0"),
    "met-target-not-full-marks": (WARNING, "指标“{indicator}”按评分规则已达标（计算得分为满分 {computed} 分），"
                                           "却调整为 {final} 分{reason_text}"),
    "shortfall-full-marks": (WARNING, "指标“{indicator}”按评分规则未达标（计算得分 {computed} 分），却调整为满分 {final} 分{reason_text}"),
    "value-outside-cited-band": (WARNING, "指标“{indicator}”的{field}写有区间“{band}”，但实际值 {value} 不在 {lo}%～{hi}% 之内，"
                                          "请核对得分所依据的档次（计算得分 {computed} 分，得分 {final} 分）"),
    "missing-evidence": (WARNING, "指标“{indicator}”扣 {lost} 分（得 {final} 分，满分 {points} 分），但没有写明扣分依据：报告中"
                                  "只能写出得分；请在“{column}”列写明核查发现的事实（如“报表封皮未盖章”“其他科目40.5万元，"
                                  "占预算总额512.5万元的7.9%”）"),
    "override-applied": (INFO, "指标“{indicator}”计算得分 {computed} 分，评价人调整为 {override} 分，理由：{reason}"),
    "unit-mismatch": (WARNING, "{detail}"),
    "prev-sangong-budget-missing": (ERROR, "{label}未填写：指标“{indicator}”比较的是本年与上年的“三公经费”预算数，"
                                           "需要上年预算数{hint}"),
    "stated-value-mismatch": (WARNING, "指标“{indicator}”报告所列实际值 {stated} 与按数据重新计算的 {computed} 不一致"
                                       "（按所列位数允许误差 ±{tolerance}）{hint}"),
    "stated-score-mismatch": (WARNING, "指标“{indicator}”报告所列得分 {stated} 分与评分表得分 {final} 分不一致{hint}"),
    # 报告
    "text-sum-mismatch": (WARNING, "文字材料“{title}”写“{excerpt}”：其中 {parts_text} ＝ {sum} {unit}，与总数 {total} 相差 {gap} {unit}"
                                   "{hint}"),
    "missing-text": (WARNING, "文字材料“{title}”未填写：报告缺少这部分内容，只能作为草稿生成（页眉标“草稿”，不作定稿）"),
    "bad-date": (WARNING, "成文日期“{raw}”无法识别为日期：请写成“2019年7月19日”或填入日期，报告定稿须有成文日期"),
    # 报送材料：部门工作簿与项目工作簿之间（addin/submission/）。项目工作簿中的单元格写作“[文件名]工作表”
    "project-funds-mismatch": (ERROR, "{dept_cell}为 {dept_value}，而项目“{project}”的 {project_cell}为 {project_value}"
                                      "{converted}，相差 {gap} {unit}，超出两数取整的舍入误差（±{tolerance} {unit}）"),
    "project-funds-rounding-gap": (WARNING, "{dept_cell}为 {dept_value}，而项目“{project}”的 {project_cell}为 {project_value}"
                                            "{converted}，相差 {gap} {unit}，在两数取整的舍入误差（±{tolerance} {unit}）以内，"
                                            "请核对是否为四舍五入所致"),
    "project-total-mismatch": (ERROR, "{dept_cell}为 {total}，而{parts_text} ＝ {sum}，相差 {gap} {unit}，超出各数取整的舍入误差"
                                      "（±{tolerance} {unit}）{hint}"),
    "project-total-rounding-gap": (WARNING, "{dept_cell}为 {total}，而{parts_text} ＝ {sum}，相差 {gap} {unit}，在各数取整的舍入"
                                            "误差（±{tolerance} {unit}）以内，请核对是否为四舍五入所致"),
    "project-unit-mismatch": (ERROR, "项目“{project}”（{file}）的主管部门 {department_cell}“{department}”与实施单位 {unit_cell}"
                                     "“{unit}”都不是 {dept_cell}的单位名称“{dept_unit}”：这份自评表不属于本部门，或单位名称写法不同"),
    "project-year-mismatch": (ERROR, "项目“{project}”的 {project_cell}评价年度为“{project_year}”，与 {dept_cell}的评价年度“{year}”不同"),
    "project-duplicate": (ERROR, "项目“{project}”有两份项目支出绩效自评工作簿：{first_cell}与 {second_cell}；报送材料只采用前一份，"
                                 "请删去或改正另一份"),
    "project-incomplete": (ERROR, "项目“{project}”（{file}）评价未完成：{count} 项指标无法计分（{names}），不能给出项目的自评得分与"
                                  "等级，报送材料只能是草稿；先补 {first_cell}"),
    "project-name-missing": (ERROR, "项目支出绩效自评工作簿“{file}”的项目名称 {project_cell}未填写，无法与部门的项目对应"),
    "project-not-listed": (WARNING, "项目“{project}”（{project_cell}）在部门基础数据表的项目行（{rows}）中找不到同名的项目：请在项目行"
                                    "写明项目名称（如“项目1（{project}）”），或统一两处的名称；报送材料照样收入这份自评表"),
    "project-workbook-missing": (WARNING, "{dept_cell}列有项目“{project}”，但没有它的项目支出绩效自评工作簿（项目名称为“{project}”、"
                                          "主管部门或实施单位为“{dept_unit}”）：报送材料缺这个项目的自评表{hint}"),
    "project-name-loose-match": (INFO, "{dept_cell}的项目“{dept_name}”与 {project_cell}的项目“{project}”名称不完全相同，按一个名称"
                                       "包含另一个对应为同一项目；请统一两处的项目名称"),
}


def make(code: str, sheet: str, cell: str, /, *, expected: Any = None, actual: Any = None, **fields: Any) -> Finding:
    # code/sheet/cell 只按位置传入，消息模板里也可以有名为 code、sheet、cell 的字段（如“应为代码 {code}”）
    severity, template = CATALOGUE[code]
    try:
        message = template.format(**fields)
    except KeyError as exc:  # 模板字段缺失是程序错误，应在测试中暴露
        raise KeyError(f"finding {code} is missing field {exc}") from None
    return Finding(code, severity, sheet, cell, message, expected, actual)


def sort_findings(findings: list[Finding]) -> list[Finding]:
    return sorted(findings, key=lambda f: (SEVERITY_ORDER.get(f.severity, 9), f.sheet, _cell_key(f.cell), f.code))


def _cell_key(cell: str) -> tuple[int, str]:
    digits = "".join(ch for ch in cell if ch.isdigit())
    letters = "".join(ch for ch in cell if ch.isalpha())
    return (int(digits) if digits else 0, letters)
