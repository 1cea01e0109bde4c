"""工作簿的窄接口，按能力分成三个协议：能读（ReadableBook）、能写生成表（WritableBook）、打开在 Excel 中（LiveBook）。

逻辑层只通过这些协议访问工作簿；需要某种能力的地方用 isinstance 判断（协议是 runtime_checkable），不逐个探测属性。
写入生成表的单元格是 CellWrite；打不开、写不了的工作簿抛出 BookError（中文说明）。
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, Mapping, Protocol, Sequence, runtime_checkable


class BookError(Exception):
    """工作簿无法打开或保存（中文说明）。"""


@dataclass(frozen=True)
class CellWrite:
    """写入生成表的一个单元格。style：title/header/text/number/percent/error/warning/info；link：跳转目标（'表名'!A1）。"""

    row: int  # 1 起
    col: int  # 1 起
    value: Any
    style: str = "text"
    link: str | None = None


Grid = dict[tuple[int, int], Any]


@runtime_checkable
class ReadableBook(Protocol):
    """能读的工作簿：工作表名与某张表的非空单元格（公式以 Formula 表示）。三个适配器都是：OpenpyxlBook（文件，
    openpyxl_book.py）、FastBook（文件，只读、批量处理用，fastbook.py）、XlwingsBook（Excel 中打开的工作簿，xlbook.py）。

    各适配器另有 path 属性（磁盘上的位置；从未保存的新工作簿为 None）。它不列在协议里：runtime_checkable 的 isinstance
    会逐个取协议里的属性，而 XlwingsBook.path 对 OneDrive 网址抛出中文 BookError——那应在真正要用路径时才说。"""

    def sheet_names(self) -> list[str]: ...

    def grid(self, sheet: str) -> Grid: ...


@runtime_checkable
class WritableBook(ReadableBook, Protocol):
    """还能写的工作簿：整表替换程序生成的工作表（校验结果、报告），在生成表上加原生柱状图、设打印格式，保存。
    OpenpyxlBook 与 XlwingsBook 是；批量读取器 FastBook 不是（批量处理从不修改部门的工作簿）。"""

    def replace_sheet(self, name: str, writes: Sequence[CellWrite], widths: Mapping[int, float] | None = None,
                      heights: Mapping[int, float] | None = None) -> None: ...

    def add_bar_chart(self, sheet: str, *, title: str, categories: tuple[int, int, int], values: tuple[int, int, int],
                      anchor: str, y_title: str = "", percent: bool = True) -> None: ...

    def set_page_setup(self, sheet: str, *, title_rows: str = "", header: str = "", footer: str = "") -> None: ...

    def save(self, path: str | Path | None = None) -> None: ...


@runtime_checkable
class LiveBook(WritableBook, Protocol):
    """打开在 Excel 中的工作簿（XlwingsBook）另外能做的事：完全重算、消息框（含“确定/取消”）、切换到某张表、用条件格式标出问题单元格、
    另存一份单元格函数换成数值的定稿副本。功能区按钮用 isinstance(book, LiveBook) 判断，命令行传来的文件工作簿没有这些。"""

    def recalculate(self) -> None: ...

    def alert(self, message: str, title: str, *, critical: bool = False) -> None: ...

    def confirm(self, message: str, title: str) -> bool: ...

    def activate(self, sheet: str) -> None: ...

    def highlight(self, targets: Sequence[tuple[str, str, str]]) -> list[str]: ...

    def export_values_copy(self, target: Path, values: dict[str, dict[tuple[int, int], Any]]) -> list[str]: ...
