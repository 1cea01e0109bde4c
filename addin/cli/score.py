"""jixiao score：计算各指标得分、一级指标小计、总分与等级；有指标无法计分时“评价未完成”，列出每一项与该去改的单元格。

退出码：0 全部指标已计分（有总分与等级）；1 评价未完成（不给出总分与等级）；2 无法读取。
"""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from .common import EXIT_FINDINGS, EXIT_OK, load


def register(subparsers: Any) -> None:
    s = subparsers.add_parser("score", help="计算工作簿的各项得分、总分与等级")
    s.add_argument("file")
    s.add_argument("--json", action="store_true", help="以 JSON 输出")
    s.set_defaults(func=run)


def run(args: Any) -> int:
    from udfs.numbers import fmt_score

    from ..scoring.engine import evaluate

    _, inputs = load(args.file)
    ev = evaluate(inputs)
    if args.json:
        print(json.dumps(ev.as_json(), ensure_ascii=False, indent=2))
        return EXIT_OK if ev.complete else EXIT_FINDINGS
    print(f"{ev.unit_name or Path(args.file).name}  {ev.year}  指标体系：{ev.system_key}")
    for name, lv in ev.level1.items():
        shown = fmt_score(lv.score) if lv.complete else f"未完成（{lv.unscored} 项未计分）"
        print(f"  {name}：{shown} / {fmt_score(lv.points)}")
    if ev.complete:
        print(f"  总分：{fmt_score(ev.total)}  等级：{ev.grade}")
        errors = [f for f in ev.findings if f.severity == "错误"]
        if errors:
            print(f"  另有 {len(errors)} 项错误（运行 jixiao check 查看）")
        return EXIT_OK
    print(f"  评价未完成：{len(ev.missing)} 项指标无法计分，不给出总分与等级。需要处理：")
    for m in ev.missing:
        print(f"    {m['cell']}  {m['name'] or m['code']}：{m['reason']}")
    return EXIT_FINDINGS
