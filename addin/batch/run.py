"""批量评价（财政局）的运行：一个文件夹里的全部部门工作簿 → 逐个计分、校验（进程池，每个文件限时）→ 结果交给汇总
（summary.py）。要处理的文件见 files.py，结果缓存见 cache.py。

设计要点：
- 读取用 FastBook（io/fastbook.py）：直接解析 .xlsx 压缩包中的 XML（expat），只取单元格的值、公式与缓存值，
  比 openpyxl 完整加载快一个数量级；得到的单元格网格与 OpenpyxlBook 完全相同（tests/test_batch.py 逐格比对），
  因此 addin.scoring.reader / addin.scoring.engine / addin.checks.run 无需区分来源。
- 每个文件在子进程里独立处理（process_file，可 pickle 的小函数），任何异常都变成“无法读取”的一条记录，绝不中断整批。
- 文件分组交给子进程（_Chunks），子进程交回结果的文字形式（result.encode）；结果缓存只由主进程写（cache.py）。
  主进程每个文件只做解码、累加与写汇总，子进程除 process_file 外只读文件、算 SHA-256 与编码。
"""
from __future__ import annotations

import gc
import os
import sys
import time
from collections import Counter, deque
from pathlib import Path
from typing import Callable, Iterator, Sequence

from ..io import filecheck
from ..io.book import BookError
from ..io.fastbook import FastBook
from ..model import cell_number, cell_text
from .cache import ResultCache
from .result import DeptResult, _oserror_text, _relative, _strip_name, decode, decode_findings, encode

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
# 子进程中的一个文件：读入、算出内容的键；内容已知的只交回“命中”，其余计算后交回结果的文字形式（result.encode）
# =====================================================================================================
# 子进程的状态：进程池启动时 _init_worker 放进来的已知键（结果缓存里已有的），以及本进程这次算过的键。
# 两者都在子进程里，不必每个文件都去问主进程或读库（fork 与 spawn 都一样：initializer 在每个新子进程里运行）。
_KNOWN: frozenset[str] = frozenset()
_SEEN: set[str] = set()

# (相对路径, 键, 概要, 发现, 可缓存)。概要为 None 是“命中”：内容已知，主进程从结果缓存补全
Outcome = tuple[str, str, "str | None", str, bool]


def _init_worker(known: frozenset[str]) -> None:
    global _KNOWN
    _KNOWN = known
    _SEEN.clear()
    # 从主进程继承来的对象（已导入的模块、各种表）一直用到子进程结束：移出垃圾回收器的视野（gc.freeze），此后每次
    # 完整回收只扫描本进程处理文件时新建的对象（每个文件约省 0.1 毫秒），也不再为改写回收标记而复制与主进程共享的内存页
    gc.freeze()


def _work(path: str, root: str, dedup: bool) -> Outcome:
    """子进程中处理一个文件。dedup：有结果缓存，内容已知（缓存里有，或本进程这次算过）的文件不再计算。"""
    import hashlib

    rel = _relative(path, root)
    try:
        size = os.stat(path).st_size
        if 0 < size <= filecheck.MAX_FILE_BYTES:
            with open(path, "rb") as fh:
                data: bytes | None = fh.read()
        else:
            data = None
    except OSError as exc:
        return _outcome(DeptResult(rel, False, f"无法读取：{_oserror_text(exc)}"), False)
    if data is None:
        return _outcome(process_file(path, root), False)  # 空文件、超大文件：由检查给出原因，不读入内存
    key = hashlib.sha256(data).hexdigest()
    if dedup and (key in _KNOWN or key in _SEEN):
        return rel, key, None, "", True
    res = process_file(path, root, data)
    res.key = key
    # 程序错误与内存不足不缓存（修好、换台机器后应重新计算）；读不了的文件、计分校验的结果都只取决于内容与规则
    cacheable = not res.reason.startswith(("处理时发生程序错误", "文件过大，处理时内存不足"))
    if dedup and cacheable:
        _SEEN.add(key)
    return _outcome(res, cacheable)


def _outcome(res: DeptResult, cacheable: bool) -> Outcome:
    head, findings = encode(res)
    return res.file, res.key, head, findings, cacheable


def _work_chunk(paths: list[str], root: str, dedup: bool) -> tuple[list[Outcome], float, float]:
    """一组文件（一个进程池任务），以及处理它们用的 CPU 秒数与经过的秒数（主进程据此定下一组的大小）。"""
    cpu, wall = time.process_time(), time.perf_counter()
    out = [_work(p, root, dedup) for p in paths]
    return out, time.process_time() - cpu, time.perf_counter() - wall


# =====================================================================================================
# 并行运行：文件分组交给子进程，每个文件限时
# =====================================================================================================
DEFAULT_TIMEOUT = 60.0  # 秒：一个正常的工作簿不到 0.1 秒，1 GB/20 秒的规模上限之内的也远小于此
CHUNK_CPU_SECONDS = 0.25  # 一组文件的目标 CPU 用时（按 CPU 而不是经过的时间：机器忙时组不因此变小、调度变多）
MAX_CHUNK = 32  # 中断时最多丢掉每个子进程两组的结果


def _pool_context():
    import multiprocessing as mp

    # Linux 上用 fork：子进程直接继承已导入的模块，免去每个子进程约 0.5 秒的导入
    return mp.get_context("fork") if "fork" in mp.get_all_start_methods() and sys.platform != "darwin" else None


class _Chunks:
    """待处理的文件，一组一组地交出。每个进程池任务在主进程里约花 0.2 毫秒（排队、两次管道往返、唤醒线程），
    比一个文件的其他开销都大，所以一组放几个到几十个文件：按已观察到的每个文件用时，使一组约 CHUNK_CPU_SECONDS 秒的
    CPU，且经过的时间不超过限时的四分之一（读网络盘等慢而不费 CPU 的文件，组不会大到整组超时）。开头还没有观察时一组
    一个文件；快结束时组变小，让每个子进程都分到活。需要单独重做的文件（所在的组超时或子进程退出、命中的结果在缓存里
    读不出来）排在最前，一个一个交出，于是限时与意外退出仍按文件计。"""

    def __init__(self, files: Sequence[Path], jobs: int, dedup: bool, size: int | None, limit: float | None):
        self.todo = deque(str(f) for f in files)
        self.alone: deque[tuple[str, bool]] = deque()
        self.jobs, self.dedup, self.size, self.limit = jobs, dedup, size, limit
        self.per_file: tuple[float, float] | None = None  # 每个文件的 (CPU 秒, 经过的秒)，近期加权平均

    def next(self) -> tuple[list[str], bool] | None:
        if self.alone:
            path, dedup = self.alone.popleft()
            return [path], dedup
        if not self.todo:
            return None
        n = self.size or self._size()
        return [self.todo.popleft() for _ in range(min(n, len(self.todo)))], self.dedup

    def _size(self) -> int:
        if self.per_file is None:
            return 1
        cpu, wall = self.per_file
        n = CHUNK_CPU_SECONDS / max(cpu, 1e-4)
        if self.limit:
            n = min(n, self.limit / 4 / max(wall, 1e-4))
        return max(1, min(MAX_CHUNK, int(n), len(self.todo) // (2 * self.jobs)))

    def observe(self, n: int, cpu: float, wall: float) -> None:
        per = (cpu / n, wall / n)
        old = self.per_file
        self.per_file = per if old is None else (0.7 * old[0] + 0.3 * per[0], 0.7 * old[1] + 0.3 * per[1])

    def redo(self, paths: Sequence[str], dedup: bool) -> None:
        self.alone.extendleft((p, dedup) for p in reversed(paths))


def _failed(path: str, root: Path, exc: BaseException, limit: float | None) -> DeptResult:
    """一个单独处理的文件在子进程里没有结果：超时、子进程意外退出或其他意外。"""
    from concurrent.futures import TimeoutError as FutureTimeout

    from pebble import ProcessExpired

    rel = _relative(path, str(root))
    if isinstance(exc, FutureTimeout) and limit:
        return DeptResult(rel, False, f"处理超过 {limit:g} 秒仍未完成，已停止（文件可能异常庞大或构造特殊）；"
                                      "其余文件照常处理。确需更长时间时用 --timeout 指定秒数")
    if isinstance(exc, ProcessExpired):
        return DeptResult(rel, False, f"处理时子进程意外退出（退出码 {exc.exitcode}，可能是内存不足），已跳过该文件")
    return DeptResult(rel, False, f"处理时发生程序错误（请将此文件反馈给开发者）：{type(exc).__name__}: {str(exc)[:200]}")


def _complete(o: Outcome, cache: ResultCache | None, with_findings: bool, redo: bool) -> DeptResult | None:
    """子进程交回的一项 → 结果；新算出的存进缓存。命中的在缓存里读不出来时为 None（调用方让子进程重新计算）。
    redo：这是为此重新计算的结果，覆盖缓存里读不出来的那一条。"""
    rel, key, head, found, cacheable = o
    try:
        if head is None:
            row = cache.row(key) if cache is not None else None
            if row is None:
                return None
            res = decode(row[0], rel, key, from_cache=True)
            listed = decode_findings(row[1]) if res.n_findings else []  # 读得出来才算命中（写汇总时还要读）
            if with_findings:
                res.findings = listed
            return res
    except (ValueError, TypeError, ArithmeticError):  # ArithmeticError：Decimal 读到不是数的文字
        return None  # 缓存里的条目坏了：重新计算
    stored = cache is not None and cacheable and bool(key)
    # 本批里内容相同的文件（另一个子进程同时算了一遍）：结果相同，记为“已经处理过”，缓存里只存一份
    seen = stored and not redo and cache is not None and cache.has(key)
    if stored and not seen and cache is not None:
        cache.add(key, head, found)
    res = decode(head, rel, key, from_cache=seen)
    if with_findings or not stored:
        res.findings = decode_findings(found)
    return res


def iter_batch(files: Sequence[Path], root: Path, *, jobs: int = 1, timeout: float | None = DEFAULT_TIMEOUT,
               cache: ResultCache | None = None, findings: bool = True, chunk: int | None = None
               ) -> Iterator[DeptResult]:
    """逐个给出处理结果（完成的先给，不按 files 的顺序）。文件分组在子进程中处理（pebble 进程池，见 _Chunks）：超过
    timeout 秒的组被结束（子进程由新的替换），组内文件再逐个单独处理，单独处理仍超时的文件列为无法读取，其余照常进行；
    子进程意外退出（内存耗尽等）同样只影响那个文件。timeout 为 None 或 0 时不限时。

    cache：结果缓存。子进程在进程池启动时拿到缓存里已有的键，内容已知的文件只交回“命中”，由这里从缓存补全；
    新算出的结果由这里（主进程）写入缓存，定期提交，结束或中断时也提交。findings=False 时给出的结果不带发现
    （n_findings 仍是条数；写汇总时用 cache.findings 逐个读回），省去解析。chunk：固定每组的文件数（测试用）。"""
    from concurrent.futures import FIRST_COMPLETED, Future, wait
    from itertools import count

    # 在 fork 之前导入，子进程直接继承（校验找未填写的文字材料用 report.sections 与 required 的表，不生成报告，
    # 所以不必预先编译报告模板；FastBook 认日期格式用 openpyxl 的格式判断，也在这里导入一次，而不是每个子进程各导入一遍）
    import openpyxl.styles.numbers  # noqa: F401
    from pebble import ProcessPool

    from ..checks import run as checks  # noqa: F401
    from ..report import sections  # noqa: F401
    from ..scoring import engine, reader  # noqa: F401

    if not files:
        return
    jobs = max(1, min(jobs, len(files)))
    limit = timeout if timeout and timeout > 0 else None
    chunks = _Chunks(files, jobs, cache is not None, chunk, limit)
    known = cache.keys() if cache is not None else frozenset()
    pool = ProcessPool(max_workers=jobs, context=_pool_context(), initializer=_init_worker, initargs=(known,))
    running: dict[Future, tuple[int, list[str], bool]] = {}
    order = count()
    try:
        while True:
            # 边做边排（组的大小随观察到的用时调整）：每个子进程手上一组、排队一组
            while len(running) < 2 * jobs and (task := chunks.next()) is not None:
                paths, dedup = task
                running[pool.schedule(_work_chunk, args=(paths, str(root), dedup), timeout=limit)] = \
                    (next(order), paths, dedup)
            if not running:
                break
            done, _ = wait(running, return_when=FIRST_COMPLETED)
            # 按交出的先后处理：子进程“本进程算过”的命中，指向的结果一定在更早交出的组里，先存进缓存
            for finished in sorted(done, key=lambda f: running[f][0]):
                _, paths, dedup = running.pop(finished)
                try:
                    outcomes, cpu, wall = finished.result()
                except Exception as exc:  # noqa: BLE001 —— 超时、子进程退出或其他意外：只影响这一组
                    if len(paths) > 1:
                        chunks.redo(paths, dedup)
                    else:
                        yield _failed(paths[0], root, exc, limit)
                    continue
                chunks.observe(len(paths), cpu, wall)
                for path, o in zip(paths, outcomes, strict=True):
                    res = _complete(o, cache, findings, redo=not dedup)
                    if res is None:
                        chunks.redo([path], False)
                    else:
                        yield res
        pool.close()
    except BaseException:
        # 中断（Ctrl+C、调用方不再要结果）：立即结束子进程，不等剩下的文件；已交回的结果在 finally 中提交进缓存
        pool.stop()
        raise
    finally:
        pool.join()
        if cache is not None:
            cache.commit()


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
