"""jixiao 纯计算核心：指标（indicators）、评分规则（scoring）、数值解析与舍入（numbers）、单元格函数目录（excel）。

本包不导入 xlwings、openpyxl 或 pandas；xl.py 是唯一与 xlwings 打交道的薄层，由 Excel 的 UDF 服务加载。
"""
from .numbers import fmt_pct, fmt_score, parse_number, round2  # noqa: F401
