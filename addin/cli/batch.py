"""jixiao batch：财政局的批量汇总——一个文件夹里的全部部门工作簿逐个计分、校验，写出汇总工作簿（实际工作在 addin/batch/）。"""
from __future__ import annotations

import gc
import os
import sys
import time
from pathlib import Path
from typing import Any, Callable

from .common import EXIT_FINDINGS, EXIT_OK, CliError


def run(args) -> int:
    import tempfile

    from udfs.numbers import fmt_score

    from ..batch.cache import CACHE_SUFFIX, ResultCache
    from ..batch.run import iter_batch
    from ..batch.summary import SummaryBuilder, preload_in_background, write_summary
    from ..io.book import BookError

    folder = Path(args.folder)
    if not folder.is_dir():
        raise CliError(f"找不到文件夹：{folder}")
    out = Path(args.output)
    if out.suffix.lower() != ".xlsx":
        raise CliError(f"汇总文件应以 .xlsx 结尾：{out}")
    if not out.parent.exists():
        raise CliError(f"输出文件夹不存在：{out.parent}")
    if args.timeout is not None and args.timeout < 0:
        raise CliError("--timeout 应为正数（秒），0 表示不限时")
    files, skipped = _inputs_without_output(folder, out, recursive=not args.no_recursive)
    if not files:
        where = "（含子文件夹）" if not args.no_recursive else ""
        raise CliError(f"文件夹“{folder}”{where}中没有 .xlsx / .xlsm 工作簿")
    # 进程数不超过文件数：结束时报告的是实际用了几个进程
    jobs = min(args.jobs if args.jobs and args.jobs > 0 else (os.cpu_count() or 1), len(files))
    # 结果缓存：汇总文件旁的“汇总.xlsx.jixiao-cache/”，中断后再运行不重算已完成的文件；--no-cache 时同样的库放在
    # 临时文件夹（写汇总时从中读回各单位的发现，内存里不留），结束即删除
    try:
        if args.no_cache:
            cache = ResultCache(tempfile.mkdtemp(prefix="jixiao-batch-"), temporary=True)
        else:
            cache = ResultCache(out.with_name(out.name + CACHE_SUFFIX))
    except BookError as exc:
        raise CliError(str(exc)) from None
    if cache.notice:
        print(f"jixiao：提示：{cache.notice}", file=sys.stderr)

    started = time.perf_counter()
    bar = None
    if sys.stderr.isatty() and not args.quiet:
        from tqdm import tqdm

        bar = tqdm(total=len(files), unit="个", desc="计分与校验", file=sys.stderr, leave=False)
    builder = SummaryBuilder(keep_findings=False)
    reused = 0
    try:
        try:
            for res in iter_batch(files, folder, jobs=jobs, timeout=args.timeout, cache=cache, findings=False):
                # 主进程的对象（已导入的模块、留到写完汇总的全部结果：一万个单位约几十万个，没有引用环）都用到最后，
                # 垃圾回收器的完整回收却会一遍遍扫描它们（一次 0.1–0.3 秒）：第一个结果到来时（子进程已启动）与此后每
                # 1000 个，把已有的对象移出它的视野（gc.freeze 只是挪动链表，不遍历），结束时 gc.unfreeze 还原
                if len(builder.rows) % 1000 == 0:
                    gc.freeze()
                    if not builder.rows:
                        preload_in_background()
                builder.add(res)
                reused += res.from_cache
                if bar is not None:
                    bar.update(1)
        except KeyboardInterrupt:
            if args.no_cache:
                raise CliError(f"已中断（完成 {len(builder.rows)} / {len(files)} 个文件，未写汇总）") from None
            raise CliError(f"已中断（完成 {len(builder.rows)} / {len(files)} 个文件，未写汇总）。已完成的结果保存在 {cache.root}，"
                           "再次运行同一命令即从中断处继续") from None
        for res in skipped:
            builder.add(res)
        gc.freeze()  # 写汇总时大量新建的小对象触发的完整回收，也不必再扫描全部结果
        summary = builder.finish()
        try:
            write_summary(summary, out, folder=str(folder), findings_of=cache.findings)
        except BookError as exc:
            raise CliError(str(exc)) from None
    finally:
        gc.unfreeze()
        if bar is not None:
            bar.close()
        cache.close()
    elapsed = time.perf_counter() - started

    incomplete = sum(1 for r in summary.ok if not r.complete)
    errors = sum(r.errors for r in summary.ok)
    warnings = sum(r.warnings for r in summary.ok)
    print(f"已处理 {len(summary.results)} 个文件：{len(summary.ok)} 个已计分，{len(summary.failed)} 个无法读取；"
          f"错误 {errors} 条，警告 {warnings} 条" + (f"；{incomplete} 个有指标无法计分（未参与排名）" if incomplete else ""))
    if reused and not args.no_cache:
        print(f"  其中 {reused} 个文件的内容已经处理过（上次运行，或本批中内容相同的文件），结果取自缓存 {cache.root}"
              "（不想用缓存时加 --no-cache）")
    if not args.quiet:
        top = sorted((r for r in summary.ok if r.file in summary.rank), key=lambda r: summary.rank[r.file])[:3]
        for r in top:
            print(f"  第 {summary.rank[r.file]} 名  {r.unit or r.file}  {fmt_score(r.total)} 分  {r.grade}")
    # 无法读取、跳过的条目即使 --quiet 也逐个列出：这些单位不在汇总里，需要有人去要一份能打开的文件
    for r in summary.failed:
        print(f"  无法读取：{r.file}：{r.reason}")
    rate = len(files) / elapsed if elapsed > 0 else 0
    print(f"汇总已写入：{out}（用时 {elapsed:.1f} 秒，{rate:.0f} 个/秒，{jobs} 个进程）")
    return EXIT_FINDINGS if summary.failed or errors else EXIT_OK


def _inputs_without_output(folder: Path, out: Path, *, recursive: bool) -> tuple[list[Path], list]:
    """文件夹中的部门工作簿（不含汇总文件本身）与跳过的条目（batch.collect_entries）。汇总文件是某个部门的工作簿
    （同名、硬链接、符号链接、大小写不同的同一文件）时拒绝：那会用汇总覆盖该部门的文件；是上次生成的汇总时照常覆盖
    （先留备份），它也从不被当作部门读取。"""
    from ..batch.files import collect_entries
    from ..batch.summary import SUMMARY_TITLE
    from ..io import safeio

    files, skipped = collect_entries(folder, recursive=recursive)
    could_be_out = _could_be(out)
    clash = [f for f in files if could_be_out(f) and safeio.same_path(f, out)]
    if clash and not _is_summary(out, SUMMARY_TITLE):
        raise CliError(f"汇总文件“{out}”就是文件夹中的部门工作簿“{clash[0].relative_to(folder).as_posix()}”，写出会覆盖它。"
                       "请用 -o 指定另一个文件名（例如放在文件夹之外）；本次没有写入任何文件")
    return [f for f in files if f not in clash], skipped


def _could_be(out: Path) -> Callable[[Path], bool]:
    """文件夹中的文件 f 可能就是 out 吗——只对这些调用解析全部符号链接的 safeio.same_path（一万个文件时省下约一秒）。
    f 是存在的文件；它与 out 是同一个文件时（同名、符号链接、硬链接、文件系统不分大小写时名字只差大小写）out 也存在，
    两者 stat 的设备与 inode 相同。名字相同（不分大小写）的也交给 same_path。"""
    try:
        st = os.stat(out)
        target: tuple[int, int] | None = (st.st_dev, st.st_ino)
    except FileNotFoundError:
        target = None
    except OSError:
        return lambda f: True  # 看不清 out：每个都交给 same_path
    name = out.name.casefold()

    def could(f: Path) -> bool:
        if f.name.casefold() == name:
            return True
        if target is None:
            return False
        try:
            fs = os.stat(f)
        except OSError:
            return True  # 说不准：交给 same_path
        return (fs.st_dev, fs.st_ino) == target

    return could


def _is_summary(path: Path, title: str) -> bool:
    """path 是否是 jixiao batch 生成的汇总（文档属性的标题）。"""
    import zipfile

    try:
        with zipfile.ZipFile(path) as z:
            core = z.read("docProps/core.xml")
    except (OSError, KeyError, zipfile.BadZipFile, ValueError):
        return False
    return f">{title}<".encode() in core


def register(sub: Any) -> None:
    s = sub.add_parser("batch", help="批量计分与校验一个文件夹中的全部工作簿，生成汇总工作簿（财政局）",
                       description="读取文件夹（默认含子文件夹）中的全部 .xlsx/.xlsm 工作簿，逐个计分与校验，"
                                   "写出汇总：排名、等级分布、失分最多的指标、全部校验发现与无法读取的文件。"
                                   "退出码：0 全部正常；1 有无法读取的文件或“错误”级发现；2 无法运行。")
    s.add_argument("folder", help="部门工作簿所在文件夹")
    s.add_argument("-o", "--output", default="汇总.xlsx", help="汇总工作簿路径（默认 汇总.xlsx）")
    s.add_argument("--jobs", "-j", type=int, default=0, help="并行进程数（默认为 CPU 核数；1 为不并行）")
    s.add_argument("--no-recursive", action="store_true", help="只读取该文件夹本身，不进入子文件夹")
    s.add_argument("--quiet", "-q", action="store_true", help="不显示进度条与名次摘要（无法读取的文件仍逐个列出）")
    s.add_argument("--timeout", type=float, default=60.0, metavar="SECONDS",
                   help="每个文件最多处理多少秒（默认 60；0 为不限时）：超时的文件列入“无法读取”，其余照常处理")
    s.add_argument("--no-cache", action="store_true",
                   help="不使用结果缓存（默认把每个文件的结果按内容存在“汇总文件名.jixiao-cache”文件夹，"
                        "中断后再运行时内容未变的文件不再计算）")
    s.set_defaults(func=run)
