"""安全地打开一本工作簿（open_book）：先经 filecheck 检查，再交给 openpyxl；文件只读一次并记下它的身份（locks）。"""
from __future__ import annotations

from pathlib import Path

from .book import BookError
from .filecheck import FileInfo, _name, defusedxml_active, inspect_file
from .locks import FileIdentity, _read_with_identity, lock_file_for
from .openpyxl_book import OpenpyxlBook


class SafeBook(OpenpyxlBook):
    """通过 safeio 检查后打开的工作簿；info 记录检查结果，identity 是读取时文件的身份（写回前核对），
    notices 是给用户的提示（中文）。"""

    info: FileInfo
    identity: FileIdentity
    notices: list[str]

    @property
    def has_macros(self) -> bool:
        return self.info.has_macros


def open_book(path: str | Path, *, with_cached: bool = False) -> SafeBook:
    """安全地打开工作簿：先 inspect_file（大小、格式、压缩炸弹、DTD），再交给 openpyxl（keep_vba=False，不执行任何宏）。

    文件只读一次：检查、解析、写回时拼接的底本都是这同一份字节，读取时记下文件的身份（大小、修改时间、inode、
    内容的 SHA-256），写回前（紧挨着 os.replace）再核对一次。
    inspect_file 在导入 openpyxl 之前运行：恶意文件在毫秒级被拒绝，不必等 openpyxl 与 numpy 的导入（约 0.4 秒）。"""
    p = Path(path)
    got = _read_with_identity(p)
    if got is None:
        inspect_file(p)  # 不存在、是文件夹、空文件、过大、不可读：给出具体的中文说明
        raise BookError(f"无法读取文件{_name(p)}")
    data, identity = got
    info = inspect_file(p, data)
    if not defusedxml_active():
        raise BookError("安全组件 defusedxml 未启用（未安装，或环境变量 OPENPYXL_DEFUSEDXML 被设为 False），"
                        "为防止恶意 XML，jixiao 拒绝读取工作簿；请 pip install defusedxml")
    try:
        book = SafeBook(info.path, with_cached=with_cached, data=data)
    except BookError as exc:
        raise _diagnose(info.path) or exc from None
    book.info = info
    book.identity = identity
    book.notices = []
    if info.has_macros:
        book.notices.append(f"{_name(info.path)}含有宏：jixiao 只读取单元格内容，不读取也不运行宏；"
                            "写回本文件时宏（vbaProject.bin）逐字节保留（另存为 .xlsx 时去掉）")
    lock = lock_file_for(info.path)
    if lock is not None:
        book.notices.append(f"{_name(info.path)}似乎正在 Excel 中打开（发现锁文件“{lock.name}”）：读取的是最近一次保存的内容，"
                            "Excel 中未保存的修改不会被计入")
    return book


def _diagnose(path: Path) -> BookError | None:
    """openpyxl 读不了的文件，它的异常是英文且不说位置（`<v>NaN</v>` 得到 “invalid literal for int()”）：
    用批量读取器 FastBook 再读一遍全部工作表，它的说明指明工作表与单元格（或部件）；它也读得了就返回 None。"""
    from .fastbook import FastBook

    try:
        fb = FastBook(path)
        try:
            for sheet in fb.sheet_names():
                fb.grid(sheet)
        finally:
            fb.close()
    except BookError as exc:
        return exc
    except Exception:  # noqa: BLE001 —— 诊断本身出错时保留 openpyxl 的说明
        return None
    return None
