"""要处理哪些文件：文件夹（默认含子文件夹）中的 .xlsx/.xlsm 工作簿，以及一个不漏地列出的跳过条目（悬空或循环的符号链接、
FIFO 与设备、读不了的文件夹与文件、旧格式 .xls）。有意不读的是隐藏文件、Excel 的 ~$ 锁文件、jixiao 的备份、汇总文件本身
与它的结果缓存文件夹。
"""
from __future__ import annotations

import os
import stat
from pathlib import Path
from typing import Iterable

from ..io import safeio
from .cache import CACHE_SUFFIX
from .result import DeptResult, _oserror_text

# 扫描的扩展名：.xls/.et 也收进来，只为在“无法读取”表里明确告诉用户需要另存为 .xlsx
WORKBOOK_SUFFIXES = (".xlsx", ".xlsm")
LEGACY_SUFFIXES = (".xls", ".et")


def collect_entries(folder: str | Path, *, recursive: bool = True, exclude: Iterable[Path] = ()
                    ) -> tuple[list[Path], list[DeptResult]]:
    """列出文件夹中的工作簿（默认含子文件夹），按相对路径排序；另列出读不了、也不会去读的条目及原因
    （作为 ok=False 的结果，列入“无法读取”表并打印在终端）：指向不存在目标的符号链接、循环的符号链接、
    命名管道（FIFO）与设备文件、打不开的子文件夹、没有读取权限的工作簿、指向文件夹的符号链接（不进入，免得重复或循环）。

    不列出（有意不读）：隐藏文件与隐藏文件夹、Excel 打开文件时产生的 ~$ 锁文件、jixiao 的备份文件、输出的汇总文件本身
    与它的结果缓存文件夹、扩展名不是工作簿的普通文件。.xls/.et 旧格式列为工作簿，以便在“无法读取”表中说明原因。
    """
    folder = Path(folder)
    skip = {p.resolve() for p in exclude}
    files: list[Path] = []
    skipped: list[DeptResult] = []

    def rel(p: Path) -> str:
        return p.relative_to(folder).as_posix()

    def walk_error(exc: OSError) -> None:
        where = Path(exc.filename) if exc.filename else folder
        skipped.append(DeptResult(rel(where) + "/" if where != folder else "./", False,
                                  f"无法打开这个文件夹：{_oserror_text(exc)}；其中的工作簿没有处理"))

    if recursive:
        walker: Iterable = os.walk(folder, onerror=walk_error)
    else:
        try:
            walker = [(str(folder), [], os.listdir(folder))]
        except OSError as exc:
            walk_error(exc)
            walker = []
    found: list[tuple[str, Path]] = []  # (相对路径, 路径)：相对路径每个文件夹只算一次，排序也用它
    for dirpath, dirnames, filenames in walker:
        base = Path(dirpath)
        prefix = "" if base == folder else rel(base) + "/"
        kept = []
        for d in sorted(dirnames):
            if d.startswith(".") or d.endswith(CACHE_SUFFIX):
                continue
            if (base / d).is_symlink():
                skipped.append(DeptResult(rel(base / d) + "/", False,
                                          "是指向文件夹的符号链接，没有进入（以免同一批工作簿被处理两次，或链接循环）；"
                                          "如需处理，请直接把那个文件夹作为批量处理的对象"))
                continue
            kept.append(d)
        dirnames[:] = kept
        for name in filenames:
            if name.startswith((".", "~$")) or safeio.is_backup_name(name):
                continue  # jixiao 写回前留的备份（名称.YYYYmmdd-HHMMSS.bak.xlsx）不是另一个部门
            p = base / name
            is_workbook = name.lower().endswith(WORKBOOK_SUFFIXES + LEGACY_SUFFIXES)
            why = _unreadable_entry(p, is_workbook)
            if why is not None:
                if why:
                    skipped.append(DeptResult(rel(p), False, why))
                continue
            if not is_workbook or (skip and p.resolve() in skip):
                continue
            found.append((prefix + name, p))
    found.sort(key=lambda x: x[0])
    files.extend(p for _, p in found)
    return files, sorted(skipped, key=lambda r: r.file)


def _unreadable_entry(p: Path, is_workbook: bool) -> str | None:
    """None：普通文件，照常处理；""：不处理也不必说明；其他：不处理的原因。"""
    try:
        st = os.stat(p)  # 跟随符号链接
    except OSError as exc:
        if p.is_symlink():
            import errno

            if exc.errno == errno.ELOOP:
                return "是循环的符号链接（链接最终又指向自己），没有可读的内容"
            return f"是符号链接，但它指向的“{os.readlink(p)}”{_oserror_text(exc)}"
        return f"无法访问：{_oserror_text(exc)}" if is_workbook else ""
    mode = st.st_mode
    if stat.S_ISREG(mode):
        if is_workbook and not os.access(p, os.R_OK):
            return "没有读取权限（请检查文件的权限或共享设置）"
        return None
    if stat.S_ISDIR(mode):
        return None  # os.walk 另行处理
    kind = ("命名管道（FIFO）" if stat.S_ISFIFO(mode) else "套接字" if stat.S_ISSOCK(mode)
            else "设备文件" if stat.S_ISCHR(mode) or stat.S_ISBLK(mode) else "特殊文件")
    return f"是{kind}，不是普通文件，没有读取（读取它可能永远等不到结束）"


def collect_files(folder: str | Path, *, recursive: bool = True, exclude: Iterable[Path] = ()) -> list[Path]:
    """collect_entries 的工作簿部分。"""
    return collect_entries(folder, recursive=recursive, exclude=exclude)[0]
