"""校验发现的唯一消息目录：code → (严重程度, 中文消息模板)。新增检查在此登记代码与措辞。"""
from __future__ import annotations

from typing import Any

from .model import Finding

ERROR, WARNING, INFO = "错误", "警告", "提示"
SEVERITY_ORDER = {ERROR: 0, WARNING: 1, INFO: 2}

CATALOGUE: dict[str, tuple[str, str]] = {
    # 读取与解析
    "not-a-number": (ERROR, "{label}应为数字：{detail}"),
    "two-numbers": (WARNING, "{label}：{detail}"),
    "text-number": (INFO, "{label}是以文本存储的数字“{raw}”，已按 {value} 计算"),
    "missing-value": (ERROR, "{label}未填写，指标“{indicator}”无法计算"),
    "missing-sheet": (ERROR, "工作簿缺少工作表“{sheet_name}”"),
    "unknown-system": (ERROR, "无法识别指标体系：{detail}"),
    "header-changed": (WARNING, "{detail}"),
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
    "bad-grade-table": (ERROR, "等级标准有误：{detail}"),
    # 报告
    "missing-text": (WARNING, "文字材料“{title}”未填写，报告中显示为“【待填写：{title}】”"),
}


def make(code: str, sheet: str, cell: str, *, expected: Any = None, actual: Any = None, **fields: Any) -> Finding:
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
