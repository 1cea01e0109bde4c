"""jixiao demo：生成种子案例的示例工作簿并计分，再为每个示例校验（一行摘要）、生成报告（“报告”表与同名 .docx）。"""
from __future__ import annotations

from pathlib import Path
from typing import Any

from . import check, report
from .common import EXIT_OK


def register(subparsers: Any) -> None:
    s = subparsers.add_parser("demo", help="生成种子案例的示例工作簿并计分")
    s.add_argument("-o", "--output", default="demo_out")
    s.set_defaults(func=run)


def run(args: Any) -> int:
    from udfs.numbers import fmt_score
    from workbook_templates.examples import EXAMPLES

    from ..io.safeio import atomic_output, regenerating
    from ..scoring.engine import evaluate
    from ..scoring.reader import load
    from ..template.workbook import build_workbook

    out = Path(args.output)
    out.mkdir(parents=True, exist_ok=True)
    # 示例文件可能已被用户改过（在 demo_out 里试填评分）：重新生成前留备份，没改过的不留（safeio.regenerating）
    targets = [out / f"{name}{ext}" for name in EXAMPLES for ext in (".xlsx", ".docx")]
    with regenerating(targets) as kept:
        for name, ex in EXAMPLES.items():
            path = out / f"{name}.xlsx"
            with atomic_output(path) as tmp:
                build_workbook(ex.system, tmp, ex)
            _, inputs = load(path)
            ev = evaluate(inputs)
            if ev.complete:
                print(f"{path}  {ev.unit_name}  总分 {fmt_score(ev.total)}  等级 {ev.grade}")
            else:
                print(f"{path}  {ev.unit_name}  评价未完成：{len(ev.missing)} 项指标无法计分（见 jixiao score）")
        check.demo_summary(out)
        report.demo_reports(out)
    for bak in kept:
        print(f"已修改过的旧文件已备份为：{bak}")
    return EXIT_OK
