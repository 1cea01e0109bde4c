"""批量处理与冷启动基准（脚本，不是测试）：一次运行打印全部数字、它们的下限与目标。

    .venv/bin/python scripts/bench.py [-n 200] [--jobs 2] [--repeat 3] [--keep DIR]

测什么：
1. jixiao batch（计分 + 校验，--jobs N）的吞吐：命令行全程（含解释器启动、导入、写汇总）与 run_batch 本身；
2. 同一批文件的“只读取”下限：python-calamine（Rust，只给值不给公式）、jixiao 的 FastBook（expat 直接解析 XML）、
   openpyxl 完整加载、openpyxl read_only；以及“计分 + 校验但用 openpyxl 读取”作对照——说明批量为何用 FastBook；
3. 冷启动：jixiao report（若尚无 report 子命令则测 jixiao score，并注明）单个工作簿，
   对照 python -c "import openpyxl; load_workbook; save" 与空解释器；
4. UDF 模块导入时间：python -X importtime -c "import udfs.xl" 的累计时间（冷启动，含 xlwings 及它顺带导入的可选依赖）；
   新解释器中先导入 xlwings（Excel 的 UDF 服务器在加载我们的模块前已导入它）再计时 import udfs.xl；纯核心 udfs.excel。
   并列出 xlwings 顺带导入了哪些可选的大模块（numpy、pandas）与自身耗时最多的几个模块。
机器上同时有其他负载时数字会变差：开头打印 1 分钟平均负载，以便判断。
目标：计分+校验 ≥ 100 个/秒（2 核），不超过 calamine 只读取下限的 3 倍（下限紧挨 batch 前后各量一次取平均）；单个报告冷启动 ≤ 1 秒；UDF 模块导入 ≤ 150 毫秒。
整省规模：-n 10000（生成约需数分钟）另打印峰值内存、首次/续跑/中断后续跑的用时；大批量时不测 openpyxl 的对照行。
"""
from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Callable, Sequence

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(Path(__file__).resolve().parent))

import gen_workbooks  # noqa: E402
from bench_procs import (  # noqa: E402
    TEST_ONLY_HEAVY,
    has_command,
    importtime_cold_ms,
    importtime_top,
    interrupt_half,
    optional_heavy_imports,
    tree_run,
    udf_import_ms,
    wall,
)

PY = sys.executable
TARGET_RATE = 100.0
TARGET_FLOOR_RATIO = 3.0
TARGET_COLD = 1.0
TARGET_UDF_MS = 150.0


# ----------------------------------------------------------------------------- 读取下限（子进程中运行）
def read_calamine(path: str) -> int:
    from python_calamine import CalamineWorkbook

    wb = CalamineWorkbook.from_path(path)
    n = 0
    for name in wb.sheet_names:
        n += sum(len(r) for r in wb.get_sheet_by_name(name).to_python())
    return n


def read_openpyxl(path: str) -> int:
    import openpyxl

    wb = openpyxl.load_workbook(path)  # 与 OpenpyxlBook 相同：data_only=False，要区分公式与数值
    return sum(1 for ws in wb.worksheets for row in ws.iter_rows(values_only=True) for _ in row)


def read_openpyxl_ro(path: str) -> int:
    import openpyxl

    wb = openpyxl.load_workbook(path, read_only=True)
    n = sum(1 for ws in wb.worksheets for row in ws.iter_rows(values_only=True) for _ in row)
    wb.close()
    return n


def read_fastbook(path: str) -> int:
    from addin.io.fastbook import FastBook

    b = FastBook(path)
    n = sum(len(b.grid(s)) for s in b.sheet_names())
    b.close()
    return n


def score_openpyxl(path: str) -> str:
    """对照：计分 + 校验，但用 OpenpyxlBook（openpyxl 完整加载，两次：公式与缓存值）读取。"""
    from addin.checks.run import run_checks
    from addin.io.openpyxl_book import OpenpyxlBook
    from addin.scoring.engine import evaluate
    from addin.scoring.reader import read_inputs

    inputs = read_inputs(OpenpyxlBook(path, with_cached=True))
    ev = evaluate(inputs)
    run_checks(inputs, ev)
    return str(ev.total)


def formula_cost(paths: Sequence[str], repeat: int = 1) -> tuple[float, float, float]:
    """实际值公式求值器（addin/scoring/formula.py）的代价，单进程：每个工作簿先读入（FastBook，不计时），再分别计时
    (1) 只做公式求值：与 evaluate() 中相同的调用，逐个实际值公式求值（每个工作簿先清空语法树缓存，即单独运行一个工作簿的代价）；
    (2) 整个 evaluate()（含公式求值与评分）作对照。返回 (每个工作簿公式求值毫秒, 每个工作簿 evaluate 毫秒, 平均每个工作簿的公式数)。"""
    from addin.io.fastbook import FastBook
    from addin.model import Formula
    from addin.scoring.engine import evaluate
    from addin.scoring.formula_syntax import parse
    from addin.scoring.reader import read_inputs
    from addin.scoring.values import formula_cells, formula_value

    books = []
    for path in paths:
        try:
            books.append(read_inputs(FastBook(path)))
        except Exception:  # 生成的坏文件
            continue
    best_f = best_e = float("inf")
    n_formulas = sum(1 for inputs in books for r in inputs.rows if isinstance(r.value, Formula))
    for _ in range(repeat):
        t_f = 0.0
        for inputs in books:
            parse.cache_clear()
            t = time.perf_counter()
            cells = formula_cells(inputs)
            for row in inputs.rows:
                if isinstance(row.value, Formula):
                    formula_value(cells, row, "", [])
            t_f += time.perf_counter() - t
        t = time.perf_counter()
        for inputs in books:
            evaluate(inputs)
        best_f, best_e = min(best_f, t_f), min(best_e, time.perf_counter() - t)
    n = max(len(books), 1)
    return best_f / n * 1000, best_e / n * 1000, n_formulas / n


def _safe(func, path) -> str | None:
    """运行 func(path)；失败时返回“文件名：异常”（坏文件本该失败，只计读取尝试的时间；好文件失败见 pool_rate）。"""
    try:
        func(path)
        return None
    except Exception as exc:
        return f"{Path(path).name}：{type(exc).__name__}: {exc}"


def _call(args):
    return _safe(*args)


def pool_rate(func, files: list[str], jobs: int, repeat: int, expected_bad: frozenset[str] = frozenset()
              ) -> tuple[float, float]:
    """用与 jixiao batch 相同的方式（fork 进程池、分块）跑 func，返回 (最短用时, 个/秒)。
    除 expected_bad（生成的坏文件名）外有文件失败时中止：失败得快的测量不是测量（曾因导入错误测出 10671 个/秒）。"""
    import multiprocessing as mp

    from addin.batch.run import _pool_context

    best = float("inf")
    chunk = max(1, min(16, len(files) // (jobs * 8)))
    for _ in range(repeat):
        t = time.perf_counter()
        if jobs > 1:
            with ProcessPoolExecutor(jobs, mp_context=_pool_context() or mp.get_context()) as ex:
                errors = list(ex.map(_call, [(func, f) for f in files], chunksize=chunk))
        else:
            errors = [_safe(func, f) for f in files]
        best = min(best, time.perf_counter() - t)
        unexpected = [e for f, e in zip(files, errors, strict=True) if e and Path(f).name not in expected_bad]
        if unexpected:
            raise SystemExit(f"基准中止：{func.__name__} 在 {len(unexpected)} 个正常文件上失败，例如 {unexpected[0]}")
    return best, len(files) / best


# ----------------------------------------------------------------------------- 子进程计时


def mark(ok: bool) -> str:
    return "达标" if ok else "未达标"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description="jixiao 批量处理与冷启动基准")
    ap.add_argument("-n", type=int, default=200, help="生成的工作簿数（另加 3 个坏文件）")
    ap.add_argument("--jobs", type=int, default=2)
    ap.add_argument("--repeat", type=int, default=3, help="每项重复次数（取最短/中位数）")
    ap.add_argument("--seed", type=int, default=2024)
    ap.add_argument("--keep", help="把生成的文件保留在此目录（默认用临时目录并删除）")
    a = ap.parse_args(argv)

    # 冷启动按正式安装衡量：pip 安装时会把 .py 编译成 .pyc；开发环境若设了 PYTHONDONTWRITEBYTECODE，
    # 每次启动都要重新编译 jixiao 自己的模块（约 0.15 秒），先编译一次（已存在的 .pyc 即使在该设置下也会被读取）
    subprocess.run([PY, "-m", "compileall", "-q", "addin", "udfs", "workbook_templates"], cwd=str(ROOT), check=False)
    work = Path(a.keep) if a.keep else Path(tempfile.mkdtemp(prefix="jixiao-bench-"))
    work.mkdir(parents=True, exist_ok=True)
    src = work / "部门工作簿"
    try:
        if src.exists():
            shutil.rmtree(src)
        t = time.perf_counter()
        paths = gen_workbooks.generate(src, a.n, a.seed, jobs=a.jobs)
        bad = gen_workbooks.make_corrupt(src, paths[0])
        gen_s = time.perf_counter() - t
        if hasattr(os, "sync"):
            # 生成的几百 MB 文件先写回磁盘：否则测第一项时内核还在后台写回（占 CPU），测到的不只是 jixiao
            os.sync()
        files = [str(p) for p in paths + bad]
        nfiles = len(files)
        load = f"；1 分钟平均负载 {os.getloadavg()[0]:.2f}" if hasattr(os, "getloadavg") else ""
        print(f"jixiao 基准：{a.n} 个生成的部门工作簿（三种指标体系混合）+ {len(bad)} 个坏文件；--jobs {a.jobs}；"
              f"本机 {os.cpu_count()} 核；Python {sys.version.split()[0]}{load}")
        print(f"（生成用时 {gen_s:.1f} 秒，不计入）\n")

        rows: list[tuple[str, str, str, str]] = []

        # 1. jixiao batch 命令行全程：--no-cache 每次都重新计算；进程树（主进程 + 子进程）合计的峰值内存
        out = work / "汇总.xlsx"
        cmd = [PY, "-m", "addin.cli", "batch", str(src), "-o", str(out), "--jobs", str(a.jobs), "-q"]
        big = a.n > 1000
        repeat = 1 if big else a.repeat
        expected_bad = frozenset(Path(b).name for b in bad)
        # calamine 下限紧挨着 batch 前后各量一次，倍数用两次的平均：这台共享的机器上，相隔几分钟的两次计时可差 ±15%，
        # 与几分钟后才量的下限相比，倍数会随别人的负载摆动
        floor_before, _ = pool_rate(read_calamine, files, a.jobs, repeat, expected_bad)
        t_cli, res, peak = tree_run(cmd + ["--no-cache"], repeat, cwd=str(ROOT))
        floor_after, _ = pool_rate(read_calamine, files, a.jobs, repeat, expected_bad)
        floor_paired = (floor_before + floor_after) / 2
        if res.returncode not in (0, 1):
            print(res.stdout, res.stderr)
            raise SystemExit("jixiao batch 运行失败")
        rate_cli = nfiles / t_cli
        rows.append(("jixiao batch 计分+校验（命令行全程，含启动与写汇总，--no-cache）", f"{t_cli:.2f} s", f"{rate_cli:.0f}",
                     f"≥ {TARGET_RATE:.0f}/s {mark(rate_cli >= TARGET_RATE)}"))
        rows.append((f"  峰值内存：主进程 + {a.jobs} 个子进程合计（/proc 每 0.1 秒采样）", f"{peak:.0f} MB", "", ""))

        # 2. 结果缓存：首次（写缓存）、全部已在缓存、在一半处中断后续跑
        cache_dir = out.with_name(out.name + ".jixiao-cache")
        shutil.rmtree(cache_dir, ignore_errors=True)
        t_first, _, _ = tree_run(cmd, 1, cwd=str(ROOT))
        rows.append(("  首次运行（写结果缓存）", f"{t_first:.2f} s", f"{nfiles / t_first:.0f}", ""))
        t_again, _, _ = tree_run(cmd, 1, cwd=str(ROOT))
        rows.append(("  再次运行：内容未变，全部取自缓存", f"{t_again:.2f} s", f"{nfiles / t_again:.0f}", ""))
        shutil.rmtree(cache_dir, ignore_errors=True)
        done_at_stop = interrupt_half(cmd, cache_dir, nfiles, cwd=str(ROOT))
        t_resume, _, _ = tree_run(cmd, 1, cwd=str(ROOT))
        rows.append((f"  中断后续跑（Ctrl+C 时已完成 {done_at_stop} 个，其余重新计算）", f"{t_resume:.2f} s",
                     f"{(nfiles - done_at_stop) / t_resume:.0f}", ""))

        from addin.batch.cache import ResultCache
        from addin.batch.files import collect_files
        from addin.batch.run import run_batch
        from addin.batch.summary import summarise

        results = run_batch(collect_files(src), src, jobs=a.jobs, cache=ResultCache(cache_dir))  # 已全部在缓存
        s = summarise(results)
        if not big and a.jobs > 1:
            # 单进程对照：机器上有其他负载时，多进程的数字受可用核数影响，单核吞吐 × 核数是无负载时的近似上限
            best1 = float("inf")
            for _ in range(a.repeat):
                t = time.perf_counter()
                run_batch(collect_files(src), src, jobs=1)
                best1 = min(best1, time.perf_counter() - t)
            rows.append(("  run_batch --jobs 1（单进程，每核吞吐）", f"{best1:.2f} s", f"{nfiles / best1:.0f}", ""))

        # 3. 下限与对照（同一批文件、同样的进程池）。openpyxl 的几行在大批量时不测（每个文件 0.1 秒以上）
        floors: list[tuple[str, Callable[[str], object]]] = [
            ("下限：python-calamine 只读取（只有值，没有公式）", read_calamine),
            ("下限：FastBook 只读取（jixiao 批量用的读取器）", read_fastbook)]
        if not big:
            floors += [("下限：openpyxl 只读取（完整加载）", read_openpyxl),
                       ("下限：openpyxl read_only 只读取", read_openpyxl_ro),
                       ("对照：计分+校验改用 openpyxl 读取", score_openpyxl)]
        for label, func in floors:
            if func is read_calamine:
                ratio = t_cli / floor_paired
                rows.append((label + "，紧挨 batch 前后两次的平均", f"{floor_paired:.2f} s", f"{nfiles / floor_paired:.0f}",
                             f"jixiao batch 为它的 {ratio:.1f} 倍，目标 ≤ {TARGET_FLOOR_RATIO:.0f} 倍 "
                             f"{mark(ratio <= TARGET_FLOOR_RATIO)}"))
                rows.append(("  其中 batch 之前／之后", f"{floor_before:.2f}／{floor_after:.2f} s", "", ""))
                continue
            secs, rate = pool_rate(func, files, a.jobs, repeat, expected_bad)
            rows.append((label, f"{secs:.2f} s", f"{rate:.0f}", ""))

        # 3b. 实际值公式求值器：每个工作簿的代价（单进程），以及它在计分中的占比
        ok_files = [f for f in files if Path(f).name not in {Path(b).name for b in bad}]
        f_ms, e_ms, per_book = formula_cost(ok_files, a.repeat)
        rows.append((f"实际值公式求值（每个工作簿 {per_book:.0f} 个公式，单进程）", f"{f_ms:.2f} ms", "",
                     f"占 evaluate() {e_ms:.2f} ms 的 {f_ms / e_ms:.0%}" if e_ms else ""))

        # 4. 冷启动
        demo = work / "冷启动"
        demo.mkdir(exist_ok=True)
        one = demo / "zizhou-2021.xlsx"
        from addin.template.workbook import build_workbook
        from workbook_templates.examples import ZIZHOU_2021

        build_workbook(ZIZHOU_2021.system, one, ZIZHOU_2021)
        if has_command("report"):
            cold_label = "冷启动：jixiao report 单个工作簿"
            copy = demo / "report-copy.xlsx"

            def report_cold(without: Sequence[str] = ()) -> tuple[float, subprocess.CompletedProcess]:
                # 每次从同一份工作簿开始（report 会写回“报告”表）；without：模拟没有安装这些模块的正式环境
                block = "".join(f"sys.modules[{m!r}] = None; " for m in without)
                cmd = [PY, "-c", f"import sys; {block}from addin.cli.main import main; sys.exit(main(['report', {str(copy)!r}]))"]
                times, r = [], None
                for _ in range(a.repeat + 2):
                    shutil.copy(one, copy)
                    t = time.perf_counter()
                    r = subprocess.run(cmd, capture_output=True, text=True, cwd=str(demo))
                    times.append(time.perf_counter() - t)
                assert r is not None  # 至少运行两次
                return statistics.median(times), r

            t_cold, r = report_cold()
            if r.returncode not in (0, 1):
                cold_label += f"（退出码 {r.returncode}：{(r.stderr or r.stdout).strip()[:80]}）"
            rows.append((cold_label, f"{t_cold:.2f} s", "", f"≤ {TARGET_COLD:.0f} s {mark(t_cold <= TARGET_COLD)}"))
            if optional_heavy_imports("openpyxl"):  # openpyxl 有 numpy 就导入它
                t_bare, _ = report_cold(TEST_ONLY_HEAVY)
                rows.append((f"  同上，正式安装的环境（没有 {'/'.join(TEST_ONLY_HEAVY)}）", f"{t_bare:.2f} s", "",
                             f"≤ {TARGET_COLD:.0f} s {mark(t_bare <= TARGET_COLD)}"))
        else:
            cold_label = "冷启动：jixiao score 单个工作簿（尚无 report 子命令）"
            t_cold, _ = wall([PY, "-m", "addin.cli", "score", str(one)], a.repeat + 2, cwd=str(demo))
            rows.append((cold_label, f"{t_cold:.2f} s", "", f"≤ {TARGET_COLD:.0f} s {mark(t_cold <= TARGET_COLD)}"))
        t_score, _ = wall([PY, "-m", "addin.cli", "score", str(one)], a.repeat + 2, cwd=str(demo))
        rows.append(("冷启动：jixiao score 单个工作簿", f"{t_score:.2f} s", "", ""))
        t_check, _ = wall([PY, "-m", "addin.cli", "check", str(one)], a.repeat + 2, cwd=str(demo))
        rows.append(("冷启动：jixiao check 单个工作簿", f"{t_check:.2f} s", "", ""))
        t_ox, _ = wall([PY, "-c", f"import openpyxl; wb=openpyxl.load_workbook(r'{one}'); wb.save(r'{demo / 'ox.xlsx'}')"],
                       a.repeat + 2)
        rows.append(("对照：python -c \"import openpyxl\" + load/save", f"{t_ox:.2f} s", "", ""))
        t_imp, _ = wall([PY, "-c", "import openpyxl"], a.repeat + 2)
        rows.append(("对照：python -c \"import openpyxl\"", f"{t_imp:.2f} s", "", ""))
        t_py, _ = wall([PY, "-c", "pass"], a.repeat + 2)
        rows.append(("对照：python -c pass（解释器本身）", f"{t_py:.2f} s", "", ""))

        # 5. UDF 模块导入
        heavy: list[str] = []
        try:
            cold = importtime_cold_ms("udfs.xl", a.repeat + 2)
            heavy = optional_heavy_imports("udfs.xl")
            rows.append(("UDF 冷导入：python -X importtime -c \"import udfs.xl\"（含 xlwings 本身，参考）", f"{cold:.0f} ms",
                         "", ""))
            if any(m in heavy for m in TEST_ONLY_HEAVY):
                bare = importtime_cold_ms("udfs.xl", a.repeat + 2, without=TEST_ONLY_HEAVY)
                rows.append((f"  同上，正式安装的环境（没有 {'/'.join(TEST_ONLY_HEAVY)}）", f"{bare:.0f} ms", "", ""))
            ms = udf_import_ms("udfs.xl", "import xlwings", a.repeat + 2)
            rows.append(("UDF 模块导入：import udfs.xl（xlwings 已导入，即 Excel 中）", f"{ms:.0f} ms", "",
                         f"≤ {TARGET_UDF_MS:.0f} ms {mark(ms <= TARGET_UDF_MS)}"))
            top = importtime_top("udfs.xl", "import xlwings")
        except RuntimeError as exc:
            rows.append((f"UDF 模块导入：udfs.xl 无法导入（{exc}）", "", "", ""))
            top = []
        ms_core = udf_import_ms("udfs.excel", "", a.repeat + 2)
        rows.append(("UDF 模块导入：import udfs.excel（纯核心，无 xlwings）", f"{ms_core:.0f} ms", "",
                     f"≤ {TARGET_UDF_MS:.0f} ms {mark(ms_core <= TARGET_UDF_MS)}"))
        ms_xw = udf_import_ms("xlwings", "", a.repeat + 2)
        rows.append(("对照：import xlwings（不计入 UDF 模块）", f"{ms_xw:.0f} ms", "", ""))

        width = max(_w(r[0]) for r in rows) + 2
        print(_pad("项目", width) + f"{'用时':>10}  {'个/秒':>7}  目标")
        for label, shown, shown_rate, target in rows:
            print(_pad(label, width) + f"{shown:>10}  {shown_rate:>7}  {target}")
        print(f"\n汇总检查：{len(s.ok)} 个已计分，{len(s.failed)} 个无法读取（"
              f"{'、'.join(Path(r.file).name for r in s.failed)}），{len(s.rank)} 个参与排名。")
        if heavy:
            print(f"注意：import xlwings 顺带导入了本环境中装有的 {'、'.join(heavy)}（xlwings 的可选依赖，冷导入时间的大头）。"
                  "Excel 的 UDF 服务进程启动时先导入 xlwings（付一次），之后加载 UDF 模块只是上面“xlwings 已导入”一行；"
                  f"目标 ≤ {TARGET_UDF_MS:.0f} ms 按该行衡量。{'/'.join(TEST_ONLY_HEAVY)} 只是测试依赖带来的。")
        if top:
            print("udfs.xl 导入中自身耗时最多的模块（-X importtime，微秒）：" +
                  "；".join(f"{name.strip()} {us}" for name, us in top))
    finally:
        if not a.keep:
            shutil.rmtree(work, ignore_errors=True)
    return 0


def _w(s: str) -> int:
    import unicodedata

    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in s)


def _pad(s: str, width: int) -> str:
    return s + " " * max(0, width - _w(s))


if __name__ == "__main__":
    sys.exit(main())
