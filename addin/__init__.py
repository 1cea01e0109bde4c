"""jixiao 加载项：读取工作簿为模型、计分、校验、生成报告、写回结果（openpyxl 与 xlwings 两个适配器）。"""
