"""python -m addin.template：重建仓库中的空白模板 workbook_templates/xlsx/*.xlsx。"""
from pathlib import Path

import workbook_templates

from .workbook import build_templates

for p in build_templates(Path(workbook_templates.__file__).parent / "xlsx"):
    print(p)
