"""工作簿模板：声明式描述（systems.py）、版式（layout.py）、生成器（build.py）、种子示例（examples.py）与报告文字模板。"""
