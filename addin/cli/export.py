"""jixiao export：导出定稿——调用本加载项函数的公式换成计算结果的副本，发给未安装加载项的人（见 addin/excel/export.py）。"""
from __future__ import annotations

from typing import Any

from .common import EXIT_OK, CliError


def register(subparsers: Any) -> None:
    e = subparsers.add_parser("export", help="导出定稿：单元格函数换成计算结果的副本（发给未安装加载项的人）",
                              description="在原文件旁生成“文件名_定稿.xlsx”：调用本加载项函数的公式换成计算结果，"
                                          "其余内容逐字节不变；原文件不改动。")
    e.add_argument("file", help="工作簿 .xlsx")
    e.add_argument("-o", "--output", help="输出文件（默认：原文件名_定稿.xlsx）")
    e.set_defaults(func=run)


def run(args: Any) -> int:
    from ..excel.export import ExportError, export_final
    from ..io.book import BookError
    from ..io.safebook import open_book

    try:
        book = open_book(args.file, with_cached=True)
        result = export_final(book, args.output)
    except (BookError, ExportError) as exc:
        raise CliError(str(exc)) from None
    print(result.message())
    return EXIT_OK
