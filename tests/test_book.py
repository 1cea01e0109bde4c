"""io/book.py：三个适配器按能力满足的协议——能读（ReadableBook）、能写生成表（WritableBook）、打开在 Excel 中（LiveBook）。
功能区按钮与报告按协议判断能力（isinstance），不逐个探测属性；这里核对每个适配器恰好具备它该有的能力。"""
from __future__ import annotations

import sys
from pathlib import Path

from addin.io.book import LiveBook, ReadableBook, WritableBook
from addin.io.fastbook import FastBook
from addin.io.openpyxl_book import OpenpyxlBook
from addin.io.safebook import open_book
from addin.io.xlbook import XlwingsBook

sys.path.insert(0, str(Path(__file__).parent))
from fake_xlwings import FakeApp, FakeBook  # noqa: E402


def _capabilities(book: object) -> tuple[bool, bool, bool]:
    return isinstance(book, ReadableBook), isinstance(book, WritableBook), isinstance(book, LiveBook)


def test_each_adapter_has_exactly_its_capabilities(demo_dir):
    path = demo_dir / "baojing-2018.xlsx"
    fast = FastBook(path)
    try:
        assert _capabilities(fast) == (True, False, False)  # 批量处理只读，从不写部门的文件
    finally:
        fast.close()
    assert _capabilities(OpenpyxlBook(path)) == (True, True, False)
    assert _capabilities(open_book(path)) == (True, True, False)
    live = XlwingsBook(FakeBook.from_xlsx(path, FakeApp()))
    assert _capabilities(live) == (True, True, True)


def test_capability_check_does_not_touch_the_path(tmp_path):
    """isinstance 只看方法：工作簿存在 OneDrive 网址上时 XlwingsBook.path 抛出中文说明，判断能力时不应触发它。"""
    book = FakeBook.from_xlsx(_blank(tmp_path), FakeApp(), fullname="https://d.docs.live.net/abc/t.xlsx")
    xb = XlwingsBook(book)
    assert isinstance(xb, LiveBook)


def _blank(tmp_path: Path) -> Path:
    from addin.template.workbook import build_workbook

    return build_workbook("project", tmp_path / "t.xlsx")
