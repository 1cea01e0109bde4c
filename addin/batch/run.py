"""批量评价（财政局）的运行：一个文件夹里的全部部门工作簿 → 逐个计分、校验（进程池，每个文件限时）→ 结果交给汇总
（summary.py）。要处理的文件见 files.py，结果缓存见 cache.py。

设计要点：
- 读取用 FastBook（io/fastbook.py）：直接解析 .xlsx 压缩包中的 XML（expat），只取单元格的值、公式与缓存值，
  比 openpyxl 完整加载快一个数量级；得到的单元格网格与 OpenpyxlBook 完全相同（tests/test_batch.py 逐格比对），
  因此 addin.scoring.reader / addin.scoring.engine / addin.checks.run 无需区分来源。
- 每个文件在子进程里独立处理（process_file，可 pickle 的小函数），任何异常都变成“无法读取”的一条记录，绝不中断整批。
- 汇总（summary.py）用 pandas 分组；只在 summarise 中导入，逐文件处理的子进程不加载它。
"""
from __future__ import annotations

import os
import sys
from collections import Counter
from pathlib import Path
from typing import Callable, Iterator, Sequence

from ..io import filecheck
from ..io.book import BookError
from ..io.fastbook import FastBook
from ..model import cell_number, cell_text
from .cache import ResultCache
from .result import DeptResult, _oserror_text, _relative, _strip_name

# =====================================================================================================
# 单个文件的处理（在子进程中运行；参数与返回值都是可 pickle 的简单类型）
# =====================================================================================================


def process_file(path: str, root: str = "", data: bytes | None = None) -> DeptResult:
    """读取、计分、校验一个工作簿。任何问题都记录在结果里，从不抛出异常（批量运行不会因一个文件中断）。
    data 为已读入的文件内容（不再从磁盘读）。"""
    from ..checks.run import run_checks
    from ..scoring.engine import evaluate
    from ..scoring.reader import ReadError, read_inputs

    rel = _relative(path, root)
    book = None
    try:
        book = FastBook(path, data=data)
        inputs = read_inputs(book)
        ev = evaluate(inputs)
        findings = run_checks(inputs, ev)
    except (BookError, ReadError) as exc:
        return DeptResult(rel, False, _strip_name(str(exc), Path(path).name))
    except MemoryError:
        return DeptResult(rel, False, "文件过大，处理时内存不足")
    except Exception as exc:  # 程序缺陷也不能中断整批：记录下来，交给开发者
        return DeptResult(rel, False, f"处理时发生程序错误（请将此文件反馈给开发者）：{type(exc).__name__}: {str(exc)[:200]}")
    finally:
        if book is not None:
            book.close()
    counts = Counter(f.severity for f in findings)
    return DeptResult(
        file=rel, ok=True, unit=ev.unit_name, system=ev.system_key, year=ev.year, total=ev.total,
        points_total=ev.points_total, grade=ev.grade or "", unscored=sum(1 for i in ev.indicators if i.final is None),
        # 有指标未计分的一级指标没有小计（与总分一样，不写出不完整的数）
        level1=[(name, lv.score if lv.complete else None, lv.points) for name, lv in ev.level1.items()],
        counts=dict(counts),
        findings=[(f.severity, f.sheet, f.cell, f.code, f.message) for f in findings], n_findings=len(findings),
        indicators=[(i.level1, i.name, i.points, i.final) for i in ev.indicators],
        self_score=cell_number(inputs.scalars.get("self_score")), self_grade=cell_text(inputs.scalars.get("self_grade")))


# =====================================================================================================
# 子进程中的一个文件：结果缓存（cache.py）里有就取用，没有就计算并写入
# =====================================================================================================


def _work(path: str, root: str, cache: ResultCache | None) -> DeptResult:
    """子进程中处理一个文件：读入内容、算出指纹；缓存里有就取用，没有就计算并写入缓存。"""
    import hashlib

    rel = _relative(path, root)
    try:
        size = os.stat(path).st_size
        data = Path(path).read_bytes() if 0 < size <= filecheck.MAX_FILE_BYTES else None
    except OSError as exc:
        return DeptResult(rel, False, f"无法读取：{_oserror_text(exc)}")
    if data is None:
        return process_file(path, root)  # 空文件、超大文件：由检查给出原因，不读入内存
    key = hashlib.sha256(data).hexdigest()
    if cache is not None:
        hit = cache.get(key, rel)
        if hit is not None:
            return hit
    res = process_file(path, root, data)
    res.key = key
    # 程序错误与内存不足不缓存（修好、换台机器后应重新计算）；读不了的文件、计分校验的结果都只取决于内容与规则
    if cache is not None and not res.reason.startswith(("处理时发生程序错误", "文件过大，处理时内存不足")):
        cache.put(res)
    return res


# =====================================================================================================
# 并行运行：每个文件限时
# =====================================================================================================
DEFAULT_TIMEOUT = 60.0  # 秒：一个正常的工作簿不到 0.1 秒，1 GB/20 秒的规模上限之内的也远小于此


def _pool_context():
    import multiprocessing as mp

    # Linux 上用 fork：子进程直接继承已导入的模块，免去每个子进程约 0.5 秒的导入
    return mp.get_context("fork") if "fork" in mp.get_all_start_methods() and sys.platform != "darwin" else None


def iter_batch(files: Sequence[Path], root: Path, *, jobs: int = 1, timeout: float | None = DEFAULT_TIMEOUT,
               cache: ResultCache | None = None) -> Iterator[DeptResult]:
    """逐个给出处理结果（完成的先给，不按 files 的顺序）。每个文件在子进程中处理（pebble 进程池）：超过 timeout 秒
    的文件列为无法读取，处理它的子进程被结束并由新的替换，其余文件照常进行；子进程意外退出（内存耗尽等）同样只影响那个文件。
    timeout 为 None 或 0 时不限时。"""
    from concurrent.futures import Future, as_completed
    from concurrent.futures import TimeoutError as FutureTimeout

    from pebble import ProcessExpired, ProcessPool

    # 在 fork 之前导入，子进程直接继承（校验找未填写的文字材料用 report.sections 与 required 的表，不生成报告，
    # 所以不必预先编译报告模板）
    from ..checks import run as checks  # noqa: F401
    from ..report import sections  # noqa: F401
    from ..scoring import engine, reader  # noqa: F401

    if not files:
        return
    jobs = max(1, min(jobs, len(files)))
    limit = timeout if timeout and timeout > 0 else None
    pool = ProcessPool(max_workers=jobs, context=_pool_context())
    try:
        futures: dict[Future[DeptResult], Path] = {
            pool.schedule(_work, args=(str(f), str(root), cache), timeout=limit): f for f in files}
        for fut in as_completed(futures):
            f = futures.pop(fut)
            rel = _relative(str(f), str(root))
            try:
                res = fut.result()
            except FutureTimeout:
                res = DeptResult(rel, False, f"处理超过 {limit:g} 秒仍未完成，已停止（文件可能异常庞大或构造特殊）；"
                                             "其余文件照常处理。确需更长时间时用 --timeout 指定秒数")
            except ProcessExpired as exc:
                res = DeptResult(rel, False, f"处理时子进程意外退出（退出码 {exc.exitcode}，可能是内存不足），已跳过该文件")
            except Exception as exc:  # noqa: BLE001 —— 任何意外都只影响这一个文件
                res = DeptResult(rel, False, f"处理时发生程序错误（请将此文件反馈给开发者）：{type(exc).__name__}: "
                                             f"{str(exc)[:200]}")
            yield res
        pool.close()
    except BaseException:
        # 中断（Ctrl+C、调用方不再要结果）：立即结束子进程，不等剩下的文件；已完成的结果都已写入缓存
        pool.stop()
        raise
    finally:
        pool.join()


def run_batch(files: Sequence[Path], root: Path, *, jobs: int = 1,
              progress: Callable[[DeptResult], None] | None = None, timeout: float | None = DEFAULT_TIMEOUT,
              cache: ResultCache | None = None) -> list[DeptResult]:
    """处理全部文件，结果按 files 的顺序返回（iter_batch 的列表形式；大批量请用 iter_batch + SummaryBuilder）。"""
    order = {_relative(str(f), str(root)): i for i, f in enumerate(files)}
    out: list[DeptResult] = []
    for res in iter_batch(files, root, jobs=jobs, timeout=timeout, cache=cache):
        out.append(res)
        if progress:
            progress(res)
    return sorted(out, key=lambda r: order.get(r.file, len(order)))
