"""jixiao 命令行：与功能区按钮做同样的事，无需 Excel。

退出码：0 正常；1 score：评价未完成（有指标无法计分），check/report/batch：有“错误”级别的发现；2 文件无法读取或参数有误
（中文说明，无回溯）。各命令的详细约定见 README“命令行”。
"""
from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path
from typing import Callable

EXIT_OK, EXIT_FINDINGS, EXIT_UNREADABLE = 0, 1, 2


def _fail(msg: str) -> int:
    print(f"jixiao：{msg}", file=sys.stderr)
    return EXIT_UNREADABLE


def _load(path: str, *, with_cached: bool = False):
    from .book import BookError
    from .reader import ReadError, load

    try:
        book, inputs = load(path, with_cached=with_cached)
    except (BookError, ReadError) as exc:
        raise CliError(str(exc)) from None
    for notice in getattr(book, "notices", ()):  # safeio：含宏、文件正在 Excel 中打开等
        print(f"jixiao：提示：{notice}", file=sys.stderr)
    return book, inputs


class CliError(Exception):
    pass


def cmd_score(args) -> int:
    """计分。退出码：0 全部指标已计分（有总分与等级）；1 评价未完成（有指标无法计分，不给出总分与等级）；2 无法读取。"""
    from udfs.numbers import fmt_score

    from .engine import evaluate

    _, inputs = _load(args.file)
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


def cmd_new(args) -> int:
    from workbook_templates.build import build_workbook

    out = Path(args.output)
    if out.exists() and not args.force:
        return _fail(f"文件已存在：{out}（如需覆盖请加 --force）")
    from .safeio import atomic_output

    with atomic_output(out, backup=True) as tmp:  # 覆盖（--force）前保留备份；写到一半出错不留半个文件
        build_workbook(args.system, tmp)
    print(f"已生成空白模板：{out}")
    return EXIT_OK


def cmd_demo(args) -> int:
    from udfs.numbers import fmt_score
    from workbook_templates.build import build_workbook
    from workbook_templates.examples import EXAMPLES

    from .engine import evaluate
    from .reader import load
    from .safeio import atomic_output, regenerating

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
        for hook in DEMO_HOOKS:
            hook(out)
    for bak in kept:
        print(f"已修改过的旧文件已备份为：{bak}")
    return EXIT_OK


# 其他模块可以在 demo 生成工作簿后追加步骤（例如生成报告）
DEMO_HOOKS: list[Callable[[Path], None]] = []


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="jixiao", description="绩效评价：计分、校验、报告（Excel 加载项的命令行版）")
    sub = p.add_subparsers(dest="command", required=True)

    s = sub.add_parser("score", help="计算工作簿的各项得分、总分与等级")
    s.add_argument("file")
    s.add_argument("--json", action="store_true", help="以 JSON 输出")
    s.set_defaults(func=cmd_score)

    s = sub.add_parser("new", help="生成空白模板")
    s.add_argument("--system", required=True, choices=["hunan-dept", "zizhou-dept", "project"])
    s.add_argument("-o", "--output", required=True)
    s.add_argument("--force", action="store_true")
    s.set_defaults(func=cmd_new)

    s = sub.add_parser("demo", help="生成种子案例的示例工作簿并计分")
    s.add_argument("-o", "--output", default="demo_out")
    s.set_defaults(func=cmd_demo)

    for register in EXTRA_COMMANDS:
        register(sub)
    return p


def _extra_commands() -> list[Callable]:
    """各功能模块注册自己的子命令（模块内定义 register(subparsers)）；导入放在这里，让 jixiao score 等保持快速启动。"""
    from . import addin_cli, batch_cli, checks_cli, report_cli, submission_cli

    return [checks_cli.register, report_cli.register, submission_cli.register, batch_cli.register, addin_cli.register]


EXTRA_COMMANDS: list[Callable] = []


def main(argv: list[str] | None = None) -> int:
    EXTRA_COMMANDS[:] = _extra_commands()
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return args.func(args)
    except CliError as exc:
        return _fail(str(exc))
    except BrokenPipeError:
        # 输出被提前关闭（jixiao score … | head）：不是错误。把 stdout 指向 devnull，免得解释器退出时再报一次
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return EXIT_OK
    except Exception as exc:
        # 各子命令未转换的 BookError（保存被拒绝等）/ ReadError 也以中文说明退出，不显示回溯
        from .book import BookError
        from .reader import ReadError

        if isinstance(exc, (BookError, ReadError)):
            return _fail(str(exc))
        raise
    except KeyboardInterrupt:
        return _fail("已中断")


if __name__ == "__main__":
    sys.exit(main())
