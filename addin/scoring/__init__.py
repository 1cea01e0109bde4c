"""从工作簿到计分结果：读取（reader.py，任何 ReadableBook → WorkbookInputs，评分表的结构就是数据）、单元格原值的解析
（parsing.py）、指标参数的引用（refs.py）、实际值公式求值器（formula*.py，与 Excel 相同的运算规则，单元格函数与 Excel 中调用
的是同一段 udfs 代码；values.py 求实际值单元格）、实际值参数的推算（derived.py）、计分引擎（engine.py：WorkbookInputs →
Evaluation；score_cache.py 是它按单元格原值缓存的结果）。这是 design.md 流程中“WorkbookInputs → evaluate”一段，放在一个包里是因为它们一起回答“这本工作簿得多少分”，
且都不写任何东西。可导入 addin.model、addin.io（读取）与发现目录 addin.checks.findings（只依赖 model 的一个模块），以及 udfs、
workbook_templates；不导入校验、报告与输出。
"""
