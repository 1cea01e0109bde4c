"""校验：发现目录（findings.py：稳定的代码 → 严重程度与中文模板，全部发现都经它生成）、检查（按主题：inputs.py 输入与
基础数据表合计，scores.py 评分表得分与小计，formulas.py 公式与实际值，texts.py 文字与单位；context.py 是它们共用的上下文与
具名容差；run.py 的 CHECKS 与 run_checks 汇总）、“其中”分项的文字解析（narrative.py）与“校验结果”工作表（sheet.py）。
检查是普通函数 check(ctx) -> list[Finding]。可导入 addin.model、addin.io、addin.scoring；唯一用到 addin.report 的是
texts.check_report_texts（报告要用哪些文字材料由报告模板决定，延迟导入 report.sections）。
"""
