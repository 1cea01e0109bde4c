"""校验的入口：CHECKS 是全部检查（一组普通函数，各自只读 Context、返回发现列表，按主题放在 inputs / scores / formulas /
texts 中）；run_checks 汇总计分引擎已有的发现与各项检查的发现，去重、排序后返回。每条发现都指向一个单元格。
加一项检查就是在主题模块里加一个函数、在 CHECKS 里加一行。每项容差都是 context.py 中的具名常量。

容差的来历：
- 合计与分项：每个数字按其书写位数可能被四舍五入了半个末位单位（整数 ±0.5，两位小数 ±0.005），合计与分项之差
  不超过这些半单位之和时，可能只是各自取整造成的（种子 002：1536 与 303＋1234＝1537 相差 1 万元）→ 警告；
  超过则是错误（项目支出 3368 与 90＋3308＝3398 相差 30 万元）。0 与空白是精确值。
- 报告所列数字：按所列数字最后一位的半个单位比对（90.5% 与 90.497% 一致；40.98% 与 40.67% 不一致）。
- 得分：每项得分四舍五入到 0.01 分，保存的得分与重算结果相差不超过 0.005 分视为一致。
"""
from __future__ import annotations

from typing import Iterable

from ..model import Evaluation, Finding, WorkbookInputs
from ..scoring.engine import evaluate
from . import findings as F
from .context import CheckFn, Context, make_context
from .formulas import check_formula_references, check_formula_results, check_typed_values, check_zero_rate_with_spending
from .inputs import check_budget_added, check_input_cells, check_of_which, check_prev_sangong_budget, check_table_totals
from .scores import (
    check_cited_bands,
    check_evidence,
    check_overrides,
    check_points_total,
    check_score_bounds,
    check_self_grade,
    check_sheet_totals,
)
from .texts import check_money_unit, check_report_texts, check_stated_figures, check_text_sums

CHECKS: list[CheckFn] = [
    check_input_cells,
    check_table_totals,
    check_budget_added,
    check_of_which,
    check_points_total,
    check_score_bounds,
    check_sheet_totals,
    check_self_grade,
    check_formula_references,
    check_formula_results,
    check_typed_values,
    check_zero_rate_with_spending,
    check_overrides,
    check_cited_bands,
    check_evidence,
    check_money_unit,
    check_prev_sangong_budget,
    check_stated_figures,
    check_text_sums,
    check_report_texts,
]


def run_checks(inputs: WorkbookInputs, ev: Evaluation | None = None, *,
               checks: Iterable[CheckFn] | None = None) -> list[Finding]:
    """全部校验：计分引擎的发现（读取、计算）加上各项检查（默认 CHECKS）的发现，去重并按严重程度、位置排序。"""
    if ev is None:
        ev = evaluate(inputs)
    ctx = make_context(inputs, ev)
    mine: list[Finding] = []
    for check in CHECKS if checks is None else checks:
        mine.extend(check(ctx))
    engine = [f for f in ev.findings if (f.code, f.sheet, f.cell) not in ctx.replaced]
    seen: set[tuple[str, str, str]] = set()
    out: list[Finding] = []
    for f in engine + mine:
        k = (f.code, f.sheet, f.cell)
        if k in seen:
            continue
        seen.add(k)
        out.append(f)
    return F.sort_findings(out)


def summary(findings: Iterable[Finding]) -> dict[str, int]:
    counts = {F.ERROR: 0, F.WARNING: 0, F.INFO: 0}
    for f in findings:
        counts[f.severity] = counts.get(f.severity, 0) + 1
    return counts


def summary_text(findings: Iterable[Finding]) -> str:
    c = summary(findings)
    return f"错误 {c[F.ERROR]} 项，警告 {c[F.WARNING]} 项，提示 {c[F.INFO]} 项"


__all__ = ["CHECKS", "CheckFn", "Context", "run_checks", "summary", "summary_text"]
