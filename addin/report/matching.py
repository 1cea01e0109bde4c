"""两套指标体系的指标按名称对应：规范化后同名、同义（SYNONYMS）、相近（RELATED，衡量同一事项、口径不同）。
重点评价报告的差异分析（sections.py）与 jixiao compare（batch/compare.py）用同一规则。"""
from __future__ import annotations

import re
from typing import Sequence

# 同义名（规范化之后）：不同体系对同一指标的叫法
SYNONYMS = {
    "三公经费动态变动率": "三公经费变动率",
    "政府采购预算执行率": "政府采购执行率",
    "国有资产使用率": "资产使用率",
    "固定资产利用率": "资产使用率",
    "预决算信息公开性和完善性": "预决算信息公开性",
    "国有资产准确性": "资产准确性",
}
# 相近指标：衡量同一事项但口径不同（规范化名称对）
RELATED = (
    ("在职人员控制率", "财政供养人员"),
    ("重点工作完成率", "年度目标"),
    ("重点工作任务", "年度目标"),
)
_QUOTES = re.compile(r"[“”\"'‘’「」『』\s]")


def normalise_name(name: str) -> str:
    """指标名规范化：去引号与空白、去“部门/单位”前缀，再按同义名表归并。"""
    n = _QUOTES.sub("", name or "")
    for prefix in ("部门", "单位"):
        if n.startswith(prefix) and len(n) > len(prefix) + 2:
            n = n[len(prefix):]
    return SYNONYMS.get(n, n)


def match_names(self_names: Sequence[str], eval_names: Sequence[str]
                ) -> tuple[list[tuple[str, str, str, str]], list[str], list[str]]:
    """两套指标按名称对应：规范化后同名的为“同名”，RELATED 中的为“相近”（各用一次）。
    返回 (对应对 [(键, 自评名称, 重点评价名称, 同名/相近)]（按重点评价的指标顺序）, 只在自评的名称, 只在重点评价的名称)。
    重点评价报告的差异分析（addin.report.sections）只有部门自评的指标名单，也用它对应。"""
    by_self: dict[str, str] = {}
    for n in self_names:
        by_self.setdefault(normalise_name(n), n)
    by_eval: dict[str, str] = {}
    for n in eval_names:
        by_eval.setdefault(normalise_name(n), n)
    pairs: list[tuple[str, str, str, str]] = []
    used_s, used_e = set(), set()
    for key, b in by_eval.items():
        if key in by_self:
            pairs.append((key, by_self[key], b, "同名"))
            used_s.add(key)
            used_e.add(key)
    for ka, kb in RELATED:
        for x, y in ((ka, kb), (kb, ka)):
            if x in by_self and y in by_eval and x not in used_s and y not in used_e:
                pairs.append((f"{x}/{y}", by_self[x], by_eval[y], "相近"))
                used_s.add(x)
                used_e.add(y)
    order = {normalise_name(n): k for k, n in enumerate(eval_names)}
    pairs.sort(key=lambda p: order.get(p[0].split("/")[-1], order.get(p[0], 999)))
    only_self = [n for k, n in by_self.items() if k not in used_s]
    only_eval = [n for k, n in by_eval.items() if k not in used_e]
    return pairs, only_self, only_eval
