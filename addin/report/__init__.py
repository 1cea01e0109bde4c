"""绩效评价报告：章节与生成（sections.py，build_report → model.Report）、模板看到的指标与文字材料（views.py、texts.py）、
措辞层（render.py：Jinja2 沙箱环境与过滤器）、存在问题的归类（problems.py）、两套指标按名称对应（matching.py）；写出
“报告”工作表（sheet.py）、Word（word.py，GB/T 9704，样式来自 gongwen.docx）、PDF（pdf.py，LibreOffice）与审核意见
（review.py）。可导入 addin.model、addin.io、addin.scoring 与 addin.checks（发现目录、发现列表）。
"""
