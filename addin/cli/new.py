"""jixiao new：生成空白模板（三种指标体系之一）。"""
from __future__ import annotations

from pathlib import Path
from typing import Any

from workbook_templates.systems import SYSTEMS

from .common import EXIT_OK, fail


def register(subparsers: Any) -> None:
    s = subparsers.add_parser("new", help="生成空白模板")
    s.add_argument("--system", required=True, choices=list(SYSTEMS))
    s.add_argument("-o", "--output", required=True)
    s.add_argument("--force", action="store_true")
    s.set_defaults(func=run)


def run(args: Any) -> int:
    from ..io.safeio import atomic_output
    from ..template.workbook import build_workbook

    out = Path(args.output)
    if out.exists() and not args.force:
        return fail(f"文件已存在：{out}（如需覆盖请加 --force）")
    with atomic_output(out, backup=True) as tmp:  # 覆盖（--force）前保留备份；写到一半出错不留半个文件
        build_workbook(args.system, tmp)
    print(f"已生成空白模板：{out}")
    return EXIT_OK
