"""财政局的批量处理：要处理哪些文件（files.py）、逐个计分与校验（run.py，进程池，每个文件限时）、结果缓存（cache.py）、
一个文件的结果（result.py）、汇总工作簿（summary.py），以及自评与重点评价的差异分析（compare.py 分析，compare_output.py
写出 .xlsx 与 Word）。可导入 addin.model、addin.io、addin.scoring、addin.checks 与 addin.report。
"""
