"""jixiao demo：生成种子案例的示例工作簿并计分，再为每个示例校验（一行摘要）、生成报告（“报告”表与同名 .docx）；
最后在 kaifu-2020.xlsx 旁写出开福区的三个项目工作簿（报送材料的示例，jixiao package）。"""
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
    project_examples(out)
    return EXIT_OK


def project_examples(out_dir: Path) -> None:
    """在 kaifu-2020.xlsx 旁写出种子 002 的三个项目工作簿并计分，打印开福区报送材料的命令。"""
    from workbook_templates.examples_projects import DEPT_EXAMPLE, PROJECT_EXAMPLES

    from ..io.safeio import atomic_output, regenerating
    from ..scoring.engine import evaluate
    from ..scoring.reader import load
    from ..template.workbook import build_workbook

    out = Path(out_dir)
    dept = out / f"{DEPT_EXAMPLE}.xlsx"
    if not dept.is_file():
        return
    paths = [out / f"{name}.xlsx" for name in PROJECT_EXAMPLES]
    with regenerating(paths) as kept:
        for path, ex in zip(paths, PROJECT_EXAMPLES.values(), strict=True):
            with atomic_output(path) as tmp:
                build_workbook(ex.system, tmp, ex)
            _, inputs = load(path)
            ev = evaluate(inputs)
            name = str(inputs.scalars.get("project_name") or "")
            state = "评价完成" if ev.complete else f"评价未完成：{len(ev.missing)} 项指标无法计分（见 jixiao score）"
            print(f"{path}  {ev.unit_name} {name}  {state}")
    for bak in kept:
        print(f"已修改过的旧文件已备份为：{bak}")
    print("开福区报送材料（部门整体报告＋附件＋三个项目的自评）：jixiao package " +
          " ".join(str(p) for p in [dept, *paths]) + f" -o {out / (DEPT_EXAMPLE + '-报送材料.docx')}")
