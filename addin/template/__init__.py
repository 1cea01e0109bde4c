"""由指标体系的声明（workbook_templates：systems、layout、formulas、examples）生成 .xlsx 工作簿——空白模板（jixiao new，
python -m addin.template 重建 workbook_templates/xlsx/）与种子示例（jixiao demo）。公式连同计算结果一起写入，缓存值由计分
引擎算出，所以它在 addin 之内、scoring 之上（workbook_templates 只有声明，不导入 addin）。可导入 addin.model、addin.io 与
addin.scoring。
"""
