"""命令行各命令共用的约定：退出码、以中文说明结束的错误（CliError）、读取工作簿并打印读取提示。"""
from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

EXIT_OK, EXIT_FINDINGS, EXIT_UNREADABLE = 0, 1, 2


class CliError(Exception):
    """命令无法完成：消息是给用户的中文说明，main 打印它并以退出码 2 结束（不显示回溯）。"""


def fail(msg: str) -> int:
    print(f"jixiao：{msg}", file=sys.stderr)
    return EXIT_UNREADABLE


def print_notices(book: Any) -> None:
    """safeio 打开文件时的提示（含宏、文件正在 Excel 中打开等），打印到 stderr。"""
    for notice in book.notices:
        print(f"jixiao：提示：{notice}", file=sys.stderr)


def load(path: str | Path, *, with_cached: bool = False) -> tuple[Any, Any]:
    """打开并读取工作簿；无法读取时（找不到、是文件夹、损坏或不是 jixiao 工作簿）抛出 CliError（中文说明，退出码 2）。"""
    from ..io.book import BookError
    from ..scoring.reader import ReadError, load_readable

    try:
        book, inputs = load_readable(path, with_cached=with_cached)
    except (BookError, ReadError) as exc:
        raise CliError(str(exc)) from None
    print_notices(book)
    return book, inputs
