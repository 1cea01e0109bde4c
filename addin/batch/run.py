"""批量评价（财政局）：一个文件夹里的全部部门工作簿 → 计分、校验 → 一本汇总工作簿。

设计要点：
- 读取用 FastBook：直接解析 .xlsx 压缩包中的 XML（expat），只取单元格的值、公式与缓存值，
  比 openpyxl 完整加载快一个数量级；得到的单元格网格与 OpenpyxlBook 完全相同（tests/test_batch.py 逐格比对），
  因此 addin.scoring.reader / addin.scoring.engine / addin.checks.run 无需区分来源。
- 每个文件在子进程里独立处理（process_file，可 pickle 的小函数），任何异常都变成“无法读取”的一条记录，绝不中断整批。
- 汇总用 XlsxWriter 写出；从单元格复制来的文字一律 write_string，以 = + - @ 开头也只是文本。
- 汇总的排名（并列同名次）、等级分布与失分统计用 pandas 分组；只在 summarise 中导入，逐文件处理的子进程不加载它。
"""
from __future__ import annotations

import io
import os
import stat
import sys
from collections import Counter
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any, Callable, Iterable, Iterator, Sequence

from ..io import filecheck, locks, safeio
from ..io.book import BookError
from ..io.fastbook import FastBook
from ..model import cell_number, cell_text

# 扫描的扩展名：.xls/.et 也收进来，只为在“无法读取”表里明确告诉用户需要另存为 .xlsx
WORKBOOK_SUFFIXES = (".xlsx", ".xlsm")
LEGACY_SUFFIXES = (".xls", ".et")


# =====================================================================================================
# FastBook：只读、只取值的 .xlsx 读取器
# =====================================================================================================


# =====================================================================================================
# 单个文件的处理（在子进程中运行；参数与返回值都是可 pickle 的简单类型）
# =====================================================================================================
@dataclass
class DeptResult:
    """一个文件的处理结果。ok=False 时只有 file 与 reason 有意义。"""

    file: str  # 相对于批量目录的路径（/ 分隔）
    ok: bool
    reason: str = ""
    unit: str = ""
    system: str = ""
    year: str = ""
    total: Decimal | None = None
    points_total: Decimal | None = None
    grade: str = ""
    unscored: int = 0  # 无法计分的指标数
    level1: list[tuple[str, Decimal | None, Decimal]] = field(default_factory=list)  # (名称, 得分, 满分)
    counts: dict[str, int] = field(default_factory=dict)  # 严重程度 → 条数
    findings: list[tuple[str, str, str, str, str]] = field(default_factory=list)  # (严重程度, 表, 单元格, 代码, 说明)
    indicators: list[tuple[str, str, Decimal | None, Decimal | None]] = field(default_factory=list)  # (一级, 指标, 分值, 得分)
    self_score: Any = None
    self_grade: str = ""
    key: str = ""  # 文件内容的 SHA-256（结果缓存的键）；没有读入内容时为空
    from_cache: bool = False  # 本次取自结果缓存，没有重新计算
    n_findings: int = 0  # 发现条数（findings 为了省内存被清空后仍可知道有多少条）

    @property
    def complete(self) -> bool:
        return self.ok and self.unscored == 0

    @property
    def errors(self) -> int:
        return self.counts.get("错误", 0)

    @property
    def warnings(self) -> int:
        return self.counts.get("警告", 0)


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


def _strip_name(reason: str, name: str) -> str:
    """汇总表已有“文件”列：去掉原因开头重复的“无法读取工作簿“文件名”：”。"""
    for prefix in (f"无法读取工作簿“{name}”：", f"无法读取工作簿“{name}”的", f"文件“{name}”的"):
        if reason.startswith(prefix):
            return reason[len(prefix):]
    return reason.replace(f"文件“{name}”", "该文件", 1).replace(f"工作簿“{name}”", "该工作簿", 1)


def _relative(path: str, root: str) -> str:
    p = Path(path)
    if root:
        try:
            return p.relative_to(root).as_posix()
        except ValueError:
            pass
    return p.name


# =====================================================================================================
# 扫描文件夹：跳过的每一项都说明原因
# =====================================================================================================
CACHE_SUFFIX = ".jixiao-cache"  # 结果缓存文件夹：汇总文件名 + 此后缀（汇总.xlsx.jixiao-cache/）


def _oserror_text(exc: OSError) -> str:
    """常见的文件系统错误 → 中文（strerror 是英文）。"""
    import errno

    return {errno.EACCES: "没有读取权限", errno.EPERM: "没有读取权限", errno.ENOENT: "不存在（可能已被移走或删除）",
            errno.ELOOP: "是循环的符号链接（链接最终又指向自己）", errno.ENAMETOOLONG: "路径过长",
            errno.EIO: "读取时发生输入输出错误（磁盘或网络盘故障）"}.get(exc.errno or 0, exc.strerror or str(exc))


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
    for dirpath, dirnames, filenames in walker:
        base = Path(dirpath)
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
            if not is_workbook or p.resolve() in skip:
                continue
            files.append(p)
    return sorted(files, key=rel), sorted(skipped, key=lambda r: r.file)


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


# =====================================================================================================
# 结果缓存：按文件内容（SHA-256）保存每个工作簿的结果；中断后再运行，处理过的文件不再计算
# =====================================================================================================
def rules_fingerprint() -> str:
    """jixiao 的版本与全部规则、校验、报告模板源码的指纹：任何一处改动，旧缓存都不再使用。"""
    import hashlib
    from importlib import metadata

    h = hashlib.sha256()
    try:
        h.update(metadata.version("jixiao").encode())
    except metadata.PackageNotFoundError:
        h.update(b"dev")
    pkg_root = Path(__file__).resolve().parents[2]
    for pkg in ("addin", "udfs", "workbook_templates"):
        for f in sorted((pkg_root / pkg).rglob("*")):
            if f.suffix in (".py", ".j2") and f.is_file():
                h.update(f.relative_to(pkg_root).as_posix().encode())
                h.update(f.read_bytes())
    return h.hexdigest()[:16]


_CACHE_README = """这个文件夹是 jixiao batch 的结果缓存（可以删除）。

每个工作簿按文件内容（SHA-256）保存一份计分、校验结果。批量处理被中断（关机、Ctrl+C）后再运行同一命令，
内容没有变化的工作簿直接取用这里的结果，不再计算；改过的工作簿按新内容重新计算。jixiao 升级或规则改动后，
旧的结果自动作废并删除。不想使用缓存时加 --no-cache。
"""


class ResultCache:
    """root/<规则指纹>/<键的前两位>/<键>.json。写入先写临时文件再改名：中断时不会留下半个结果。"""

    def __init__(self, root: str | Path, fingerprint: str | None = None, *, temporary: bool = False):
        self.root = Path(root)
        self.fingerprint = fingerprint or rules_fingerprint()
        self.dir = self.root / self.fingerprint
        self.temporary = temporary
        try:
            self.dir.mkdir(parents=True, exist_ok=True)
            if not temporary:
                (self.root / "说明.txt").write_text(_CACHE_README, encoding="utf-8")
        except OSError as exc:
            raise BookError(f"无法建立结果缓存文件夹“{self.root}”：{_oserror_text(exc)}（可加 --no-cache 不用缓存）") from None
        for old in self.root.iterdir():  # 旧版本、旧规则的结果作废
            if old.is_dir() and old.name != self.fingerprint:
                import shutil

                shutil.rmtree(old, ignore_errors=True)

    def _path(self, key: str) -> Path:
        return self.dir / key[:2] / f"{key}.json"

    def get(self, key: str, rel: str) -> DeptResult | None:
        try:
            data = self._path(key).read_text(encoding="utf-8")
        except OSError:
            return None
        try:
            return _from_json(data, rel)
        except (ValueError, KeyError, TypeError):
            return None  # 损坏的缓存条目：重新计算

    def put(self, res: DeptResult) -> None:
        if not res.key:
            return
        path = self._path(res.key)
        try:
            path.parent.mkdir(exist_ok=True)
            tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
            tmp.write_text(_to_json(res), encoding="utf-8")
            os.replace(tmp, path)
        except OSError:
            pass  # 缓存只是加速：写不进去（磁盘满）时照常汇总

    def findings(self, res: DeptResult) -> list[tuple[str, str, str, str, str]]:
        if res.findings or not res.n_findings:
            return res.findings
        cached = self.get(res.key, res.file)
        return cached.findings if cached is not None else []

    def close(self) -> None:
        if self.temporary:
            import shutil

            shutil.rmtree(self.root, ignore_errors=True)


def _to_json(res: DeptResult) -> str:
    import json

    def num(x: Any) -> Any:
        return None if x is None else str(x)

    return json.dumps({
        "ok": res.ok, "reason": res.reason, "unit": res.unit, "system": res.system, "year": res.year,
        "total": num(res.total), "points_total": num(res.points_total), "grade": res.grade, "unscored": res.unscored,
        "level1": [[n, num(a), num(b)] for n, a, b in res.level1], "counts": res.counts,
        "findings": [list(f) for f in res.findings],
        "indicators": [[a, b, num(c), num(d)] for a, b, c, d in res.indicators],
        "self_score": num(res.self_score), "self_grade": res.self_grade, "key": res.key,
    }, ensure_ascii=False)


def _from_json(text: str, rel: str) -> DeptResult:
    import json

    d = json.loads(text)

    def dec(x: Any) -> Decimal | None:
        return None if x is None else Decimal(x)

    findings = [tuple(f) for f in d["findings"]]
    return DeptResult(
        file=rel, ok=d["ok"], reason=d["reason"], unit=d["unit"], system=d["system"], year=d["year"],
        total=dec(d["total"]), points_total=dec(d["points_total"]), grade=d["grade"], unscored=d["unscored"],
        level1=[(n, dec(a), dec(b)) for n, a, b in d["level1"]], counts=d["counts"], findings=findings,  # type: ignore[misc]
        indicators=[(a, b, dec(c), dec(e)) for a, b, c, e in d["indicators"]], self_score=dec(d["self_score"]),
        self_grade=d["self_grade"], key=d["key"], from_cache=True, n_findings=len(findings))


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
    from concurrent.futures import TimeoutError as FutureTimeout
    from concurrent.futures import as_completed

    from pebble import ProcessExpired, ProcessPool

    from ..checks import run as checks  # noqa: F401  在 fork 之前导入，子进程直接继承
    from ..report import sections as report

    # 报告模板在 fork 之前编译好（校验要用报告模板找出未填写的文字材料；每个子进程不必各自编译一遍）
    env = report.make_env(None)
    for name in [sec.template for sections in report.SECTIONS.values() for sec in sections] + \
            list(report.TITLE_TEMPLATE.values()) + [report.DRAFT_TEMPLATE]:
        env.get_template(name)

    if not files:
        return
    jobs = max(1, min(jobs, len(files)))
    limit = timeout if timeout and timeout > 0 else None
    pool = ProcessPool(max_workers=jobs, context=_pool_context())
    try:
        futures = {pool.schedule(_work, args=(str(f), str(root), cache), timeout=limit): f for f in files}
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


# =====================================================================================================
# 汇总：排名、等级分布、失分指标
# =====================================================================================================
@dataclass
class LossRow:
    system: str
    name: str
    level1: str
    points: str  # 分值（各工作簿不一致时显示范围）
    count: int  # 失分的工作簿数
    lost: Decimal  # 失分合计
    scored: int  # 参与计分的工作簿数
    unscored: int  # 无法计分的工作簿数

    @property
    def average(self) -> Decimal:
        return (self.lost / self.count).quantize(Decimal("0.01")) if self.count else Decimal(0)


@dataclass
class Summary:
    results: list[DeptResult]
    ok: list[DeptResult]
    failed: list[DeptResult]
    rank: dict[str, int]  # 文件 → 总排名（未完成计分的不参与排名）
    rank_in_system: dict[str, int]
    level1_names: list[str]
    grade_dist: dict[str, list[tuple[str, int]]]  # 体系 → [(等级, 家数)]，按等级从高到低；末尾为“未完成计分”
    losses: list[LossRow]


class SummaryBuilder:
    """逐个接收结果（顺序不限），汇总需要的只留一份精简的行：每个三级指标的失分当场累加，不保留各单位的指标清单；
    keep_findings=False 时也不保留发现（写汇总时再从结果缓存逐个读回），一万个单位也只占几十 MB。"""

    def __init__(self, *, keep_findings: bool = True):
        self.keep_findings = keep_findings
        self.rows: list[DeptResult] = []
        # (体系, 指标名) → [最先的文件, 一级指标, 分值集合, 失分单位数, 失分合计, 参与计分数, 总数]
        self._loss: dict[tuple[str, str], list[Any]] = {}

    def add(self, r: DeptResult) -> None:
        import dataclasses

        for level1, name, points, final in (r.indicators if r.ok else ()):
            key = (r.system, " ".join(name.split()))
            a = self._loss.get(key)
            if a is None:
                a = self._loss[key] = [r.file, level1, set(), 0, Decimal(0), 0, 0]
            elif r.file < a[0]:
                a[0], a[1] = r.file, level1  # 一级指标取文件名最前的那个（与顺序无关）
            if points is not None:
                a[2].add(points)
            scored = final is not None and points is not None
            if scored and final < points:
                a[3] += 1
                a[4] += points - final
            a[5] += scored
            a[6] += 1
        self.rows.append(dataclasses.replace(r, indicators=[], findings=r.findings if self.keep_findings else [],
                                             n_findings=max(r.n_findings, len(r.findings))))

    def finish(self) -> Summary:
        return _summary(sorted(self.rows, key=lambda r: r.file), self._loss)


def summarise(results: Sequence[DeptResult]) -> Summary:
    """由逐个文件的结果计算排名、等级分布与失分最多的指标（SummaryBuilder 的列表形式；结果保持原顺序）。"""
    b = SummaryBuilder()
    for r in results:
        b.add(r)
    return _summary(b.rows, b._loss)


def _summary(results: list[DeptResult], loss: dict[tuple[str, str], list[Any]]) -> Summary:
    """排名与等级分布用 pandas 分组（金额与分数仍是精确的 Decimal）。"""
    import pandas as pd

    from workbook_templates.systems import SYSTEMS

    ok = [r for r in results if r.ok]
    failed = [r for r in results if not r.ok]
    systems = list(dict.fromkeys([k for k in SYSTEMS if any(r.system == k for r in ok)] + [r.system for r in ok]))
    level1_names = list(dict.fromkeys(n for key in systems for r in ok if r.system == key for n, _, _ in r.level1))

    # 一行一个工作簿：总排名与体系内排名（未完成计分的不参与排名）。并列名次 1、2、2、4 即 rank(method="min")；
    # 得分是 2 位小数的 Decimal，转成 float 后大小与相等关系不变，排名与 Decimal 比较一致
    depts = pd.DataFrame({"file": [r.file for r in ok], "system": [r.system for r in ok],
                          "grade": [r.grade for r in ok], "complete": [r.complete for r in ok],
                          "total": [float(r.total) if r.complete else float("nan") for r in ok]})
    # astype(bool)：没有可计分的工作簿时列为空的 object 类型，pandas 会把它当成列名列表而不是布尔筛选
    ranked = depts[depts["complete"].astype(bool)]
    rank = dict(zip(ranked["file"], ranked["total"].rank(method="min", ascending=False).astype(int)))
    rank_sys = dict(zip(ranked["file"],
                        ranked.groupby("system")["total"].rank(method="min", ascending=False).astype(int)))

    grade_dist: dict[str, list[tuple[str, int]]] = {}
    for key in systems:
        members = depts[depts["system"] == key]
        counts = members[members["complete"]]["grade"].value_counts()
        names = [n for _, n in SYSTEMS[key].grades.bands] if key in SYSTEMS else []
        names += sorted(g for g in counts.index if g not in names)  # 用户改过等级标准时出现的其他等级名
        grade_dist[key] = [(g, int(counts.get(g, 0))) for g in names] + [("未完成计分", int((~members["complete"]).sum()))]

    losses = []
    for (system, name), (_, level1, pts_set, count, lost, scored, n) in loss.items():
        if not count:
            continue
        pts = sorted(pts_set)
        shown = _num_text(pts[0]) if len(pts) == 1 else f"{_num_text(pts[0])}～{_num_text(pts[-1])}" if pts else ""
        losses.append(LossRow(system, name, level1, shown, count, lost, scored, n - scored))
    sys_order = {k: i for i, k in enumerate(systems)}
    losses.sort(key=lambda x: (sys_order.get(x.system, 99), -x.count, -x.lost, x.name))
    return Summary(list(results), ok, failed, rank, rank_sys, level1_names, grade_dist, losses)


def _num_text(x: Decimal) -> str:
    s = format(x.normalize(), "f") if isinstance(x, Decimal) else str(x)
    return s


# =====================================================================================================
# 写出汇总工作簿（XlsxWriter）
# =====================================================================================================
SHEET_SUMMARY = "汇总"
SHEET_GRADES = "等级分布"
SHEET_LOSSES = "失分指标"
SHEET_FINDINGS = "校验发现"
SHEET_FAILED = "无法读取"
SHEET_ABOUT = "说明"


class _Writer:
    """对 XlsxWriter 工作表的薄包装：文字一律 write_string（绝不成为公式），数字 write_number，空值留空。"""

    def __init__(self, ws, fmt):
        self.ws = ws
        self.fmt = fmt

    def cell(self, r: int, c: int, v: Any, style: str | None = None) -> None:
        f = self.fmt.get(style) if style else None
        if v is None or v == "":
            if f is not None:
                self.ws.write_blank(r, c, None, f)
        elif isinstance(v, bool):
            self.ws.write_boolean(r, c, v, f)
        elif isinstance(v, (int, float, Decimal)):
            self.ws.write_number(r, c, float(v), f)
        else:
            self.ws.write_string(r, c, str(v), f)

    def row(self, r: int, values: Sequence[Any], styles: Sequence[str | None] | str | None = None) -> None:
        for c, v in enumerate(values):
            st = styles if isinstance(styles, str) or styles is None else styles[c]
            self.cell(r, c, v, st)


def write_summary(summary: Summary, out: str | Path, *, folder: str = "",
                  findings_of: Callable[[DeptResult], list] | None = None) -> Path:
    """把汇总写成 .xlsx：汇总（按排名）、等级分布、失分指标、校验发现、无法读取、说明。先写临时文件再替换，避免半截文件。

    findings_of(r)：取某个单位的发现（批量处理从结果缓存逐个读回，内存里不必同时放着全部发现）；默认 r.findings。
    XlsxWriter 用 constant_memory：每写完一行就落到临时文件，十万条发现也不占多少内存。"""
    import tempfile

    import xlsxwriter
    from workbook_templates.systems import SYSTEMS

    out = Path(out)
    findings_of = findings_of or (lambda r: r.findings)
    locks.check_writable(out)  # 汇总正在 Excel/WPS 中打开（锁文件）、只读或文件夹不存在时，先于生成就拒绝
    buf = io.BytesIO()  # 汇总（压缩后）在内存中生成，再一次性经 safeio.atomic_output 写出
    scratch = tempfile.TemporaryDirectory(prefix="jixiao-summary-")
    wb = xlsxwriter.Workbook(buf, {"constant_memory": True, "tmpdir": scratch.name, "strings_to_formulas": False,
                                   "strings_to_numbers": False, "strings_to_urls": False})
    wb.set_properties({"title": SUMMARY_TITLE, "author": "jixiao", "created": _FIXED_TIME})
    base = {"font_name": "宋体", "font_size": 10, "valign": "vcenter"}
    fmt = {
        "header": wb.add_format({**base, "bold": True, "bg_color": "#D9E1F2", "border": 1, "text_wrap": True,
                                 "align": "center"}),
        "title": wb.add_format({**base, "font_name": "黑体", "font_size": 14, "bold": True}),
        "text": wb.add_format({**base, "border": 1}),
        "wrap": wb.add_format({**base, "border": 1, "text_wrap": True}),
        "score": wb.add_format({**base, "border": 1, "num_format": "0.00"}),
        "int": wb.add_format({**base, "border": 1, "num_format": "0"}),
        "pct": wb.add_format({**base, "border": 1, "num_format": "0.0%"}),
        "错误": wb.add_format({**base, "border": 1, "bg_color": "#FFC7CE"}),
        "警告": wb.add_format({**base, "border": 1, "bg_color": "#FFEB9C"}),
        "提示": wb.add_format({**base, "border": 1, "bg_color": "#DDEBF7"}),
        "note": wb.add_format({**base, "italic": True, "font_color": "#555555"}),
        "link": wb.add_format({**base, "border": 1, "font_color": "#0563C1", "underline": 1}),
    }
    s = summary

    # ---------------- 汇总 ----------------
    ws = wb.add_worksheet(SHEET_SUMMARY)
    w = _Writer(ws, fmt)
    has_self = any(r.self_score is not None or r.self_grade for r in s.ok)
    headers = ["排名", "体系内排名", "文件", "单位", "指标体系", "年度", "总分", "等级"] + s.level1_names + \
              ["错误", "警告", "提示", "无法计分指标"] + (["自评得分", "自评等级", "自评−评价"] if has_self else []) + ["备注"]
    w.row(0, headers, "header")
    ordered = sorted(s.ok, key=lambda r: (s.rank.get(r.file, 10**9), -(r.total or 0), r.file))
    # 每个单位在“校验发现”表中的第一行（该表按文件排序）：汇总表的“文件”单元格链接过去，点一下即看到该单位的全部发现
    first_finding: dict[str, int] = {}
    row_no = 2
    for r in sorted(s.ok, key=lambda r: r.file):
        n_found = max(r.n_findings, len(r.findings))
        if n_found:
            first_finding[r.file] = row_no
            row_no += n_found
    for n, r in enumerate(ordered, 1):
        lv = {name: score for name, score, _ in r.level1}
        note = "" if r.complete else f"有 {r.unscored} 项指标无法计分，总分不完整，未参与排名与等级分布"
        vals: list[Any] = [s.rank.get(r.file), s.rank_in_system.get(r.file), r.file, r.unit, r.system, r.year,
                           r.total, r.grade] + [lv.get(x) for x in s.level1_names] + \
                          [r.errors, r.warnings, r.counts.get("提示", 0), r.unscored]
        styles: list[str | None] = ["int", "int", "text", "text", "text", "text", "score", "text"] + \
                                   ["score"] * len(s.level1_names) + ["int"] * 4
        if has_self:
            diff = r.self_score - r.total if r.self_score is not None and r.total is not None else None
            vals += [r.self_score, r.self_grade, diff]
            styles += ["score", "text", "score"]
        vals.append(note)
        styles.append("text")
        w.row(n, vals, styles)
        if r.file in first_finding:  # 内部链接（不是公式），显示文字仍按文本写入
            ws.write_url(n, 2, f"internal:'{SHEET_FINDINGS}'!A{first_finding[r.file]}", fmt["link"], string=r.file,
                         tip=f"查看该单位的 {max(r.n_findings, len(r.findings))} 条校验发现")
    widths = [6, 8, 28, 26, 12, 6, 8, 6] + [9] * len(s.level1_names) + [6, 6, 6, 8] + ([8, 8, 9] if has_self else []) + [40]
    for c, wd in enumerate(widths):
        ws.set_column(c, c, wd)
    ws.freeze_panes(1, 4)
    if ordered:
        ws.autofilter(0, 0, len(ordered), len(headers) - 1)
    ws.activate()

    # ---------------- 等级分布 ----------------
    ws = wb.add_worksheet(SHEET_GRADES)
    w = _Writer(ws, fmt)
    w.row(0, ["指标体系", "等级", "单位数", "占比"], "header")
    r0 = 1
    for key, rows in s.grade_dist.items():
        total = sum(c for _, c in rows)
        for g, c in rows:
            w.row(r0, [key, g, c, (c / total) if total else 0], ["text", "text", "int", "pct"])
            r0 += 1
        w.row(r0, [key, "合计", total, 1 if total else 0], ["header", "header", "int", "pct"])
        r0 += 2
    ws.set_column(0, 0, 14)
    ws.set_column(1, 1, 12)
    ws.set_column(2, 3, 9)

    # ---------------- 失分指标 ----------------
    ws = wb.add_worksheet(SHEET_LOSSES)
    w = _Writer(ws, fmt)
    w.row(0, ["指标体系", "一级指标", "三级指标", "分值", "失分单位数", "失分合计", "平均失分", "参与计分单位数", "无法计分单位数"],
          "header")
    for n, x in enumerate(s.losses, 1):
        pts: Any = Decimal(x.points) if x.points and "～" not in x.points else x.points
        w.row(n, [x.system, x.level1, x.name, pts, x.count, x.lost, x.average, x.scored, x.unscored],
              ["text", "text", "text", "score", "int", "score", "score", "int", "int"])
    for c, wd in enumerate([12, 12, 30, 8, 10, 9, 9, 12, 12]):
        ws.set_column(c, c, wd)
    ws.freeze_panes(1, 3)
    if s.losses:
        ws.autofilter(0, 0, len(s.losses), 8)

    # ---------------- 校验发现（全部单位一张表） ----------------
    ws = wb.add_worksheet(SHEET_FINDINGS)
    w = _Writer(ws, fmt)
    w.row(0, ["文件", "单位", "严重程度", "工作表", "单元格", "代码", "说明"], "header")
    n = 0
    for r in sorted(s.ok, key=lambda r: r.file):
        for sev, sheet, cell, code, msg in (findings_of(r) if max(r.n_findings, len(r.findings)) else ()):
            n += 1
            w.row(n, [r.file, r.unit, sev, sheet, cell, code, msg],
                  ["text", "text", sev if sev in fmt else "text", "text", "text", "text", "wrap"])
    for c, wd in enumerate([28, 24, 8, 10, 8, 22, 80]):
        ws.set_column(c, c, wd)
    ws.freeze_panes(1, 0)
    if n:
        ws.autofilter(0, 0, n, 6)

    # ---------------- 无法读取 ----------------
    ws = wb.add_worksheet(SHEET_FAILED)
    w = _Writer(ws, fmt)
    w.row(0, ["文件", "原因"], "header")
    for n, r in enumerate(sorted(s.failed, key=lambda r: r.file), 1):
        w.row(n, [r.file, r.reason], ["text", "wrap"])
    ws.set_column(0, 0, 30)
    ws.set_column(1, 1, 100)

    # ---------------- 说明 ----------------
    ws = wb.add_worksheet(SHEET_ABOUT)
    w = _Writer(ws, fmt)
    complete = sum(1 for r in s.ok if r.complete)
    lines = [
        ("绩效评价批量汇总", "title"),
        (f"目录：{folder}" if folder else "", None),
        (f"共 {len(s.results)} 个文件：{len(s.ok)} 个已计分（其中 {complete} 个全部指标可计分），{len(s.failed)} 个无法读取。", None),
        ("排名：按总分从高到低，同分并列同一名次，下一名次顺延（1、2、2、4）；“体系内排名”只在同一指标体系内比较。", None),
        ("有指标无法计分的工作簿总分不完整，不参与排名与等级分布，原因见“校验发现”表中的“错误”。", None),
        ("一级指标列为该一级指标的得分；不同指标体系的同名一级指标满分不同（见下表）。", None),
        ("失分指标：按指标体系与三级指标名称归并，统计得分低于分值的单位数与失分合计。", None),
        ("校验发现：所有单位的发现在一张表中（按“文件”筛选即可查看某一单位），比数百张工作表更便于筛选与排序；"
         "“汇总”表中有发现的单位，其“文件”单元格链接到该单位的第一条发现。", None),
    ]
    r0 = 0
    for text, st in lines:
        if text:
            w.cell(r0, 0, text, st)
        r0 += 1
    r0 += 1
    w.row(r0, ["指标体系", "说明", "一级指标（满分）"], "header")
    for key in s.grade_dist:
        r0 += 1
        sysd = SYSTEMS.get(key)
        l1 = ""
        sample = next((r for r in s.ok if r.system == key), None)
        if sample:
            l1 = "；".join(f"{n} {_num_text(p)}" for n, _, p in sample.level1)
        w.row(r0, [key, sysd.description if sysd else "", l1], ["text", "text", "text"])
    ws.set_column(0, 0, 16)
    ws.set_column(1, 1, 70)
    ws.set_column(2, 2, 50)

    wb.close()
    scratch.cleanup()
    # safeio 原子写入：fsync 后替换；覆盖旧汇总前留带时间戳的备份（内容相同时不留）；
    # 被占用、没有写权限等 OSError 由它变成指明文件的 BookError
    with safeio.atomic_output(out, backup=True) as final:
        final.write_bytes(buf.getvalue())
    return out


_FIXED_TIME = __import__("datetime").datetime(2026, 1, 1)
SUMMARY_TITLE = "绩效评价批量汇总"  # 汇总工作簿的文档标题：batch 据此认出上次的汇总（可以覆盖，不当作部门读取）
