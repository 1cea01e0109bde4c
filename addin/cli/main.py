"""jixiao 命令行：与功能区按钮做同样的事，无需 Excel。

COMMANDS 是命令表：每个命令一个模块（register 建立它的参数，run 执行），按这里的顺序出现在 jixiao --help 中。
命令模块在顶层只导入本包的 common；各自的实际工作在 run 里才导入，jixiao score 之类的命令因此启动得快。

退出码：0 正常；1 score：评价未完成（有指标无法计分），check/report/batch：有“错误”级别的发现；2 文件无法读取或参数有误
（中文说明，无回溯）。各命令的详细约定见 docs/commands.md。
"""
from __future__ import annotations

import argparse
import os
import sys

from . import addin, batch, check, compare, demo, export, new, package, report, score
from .common import EXIT_OK, CliError, fail

COMMANDS = (score, new, demo, check, report, package, batch, compare, addin, export)


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="jixiao", description="绩效评价：计分、校验、报告（Excel 加载项的命令行版）")
    sub = p.add_subparsers(dest="command", required=True)
    for command in COMMANDS:
        command.register(sub)
    return p


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return args.func(args)
    except CliError as exc:
        return fail(str(exc))
    except BrokenPipeError:
        # 输出被提前关闭（jixiao score … | head）：不是错误。把 stdout 指向 devnull，免得解释器退出时再报一次
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return EXIT_OK
    except Exception as exc:
        # 各子命令未转换的 BookError（保存被拒绝等）/ ReadError 也以中文说明退出，不显示回溯
        from ..io.book import BookError
        from ..scoring.reader import ReadError

        if isinstance(exc, (BookError, ReadError)):
            return fail(str(exc))
        raise
    except KeyboardInterrupt:
        return fail("已中断")


if __name__ == "__main__":
    sys.exit(main())
