"""基准脚本（bench.py）的进程级测量：进程树的峰值内存、命令的墙钟时间（多次取中位数）、中途中断再续跑、导入耗时与导入了哪些重模块。"""
from __future__ import annotations

import os
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Sequence

ROOT = Path(__file__).resolve().parent.parent
PY = sys.executable


def _tree_rss_mb(pid: int) -> float:
    """进程及其全部子孙的常驻内存合计（MB），读 /proc（Linux）。"""
    total, todo = 0, [pid]
    while todo:
        p = todo.pop()
        try:
            with open(f"/proc/{p}/status") as fh:
                for line in fh:
                    if line.startswith("VmRSS:"):
                        total += int(line.split()[1])
                        break
            for task in os.listdir(f"/proc/{p}/task"):
                with open(f"/proc/{p}/task/{task}/children") as fh:
                    todo += [int(c) for c in fh.read().split()]
        except (OSError, ValueError):
            continue
    return total / 1024


def tree_run(cmd: list[str], repeat: int, cwd: str | None = None) -> tuple[float, subprocess.CompletedProcess, float]:
    """运行命令 repeat 次：(最短用时, 最后一次的结果, 进程树合计的峰值内存 MB)。"""
    import threading

    best, peak, last = float("inf"), 0.0, None
    for _ in range(repeat):
        t = time.perf_counter()
        proc = subprocess.Popen(cmd, cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        top = [0.0]
        stop = threading.Event()

        def sample(pid: int, top: list[float], stop: threading.Event) -> None:
            while not stop.wait(0.1):
                top[0] = max(top[0], _tree_rss_mb(pid))

        th = threading.Thread(target=sample, args=(proc.pid, top, stop), daemon=True)
        th.start()
        out, err = proc.communicate()
        stop.set()
        th.join()
        best = min(best, time.perf_counter() - t)
        peak = max(peak, top[0])
        last = subprocess.CompletedProcess(cmd, proc.returncode, out, err)
    if last is None:
        raise ValueError("repeat 至少为 1")
    return best, last, peak


def interrupt_half(cmd: list[str], cache_dir: Path, nfiles: int, cwd: str | None = None) -> int:
    """运行 jixiao batch，结果缓存里已提交一半文件时按 Ctrl+C（SIGINT）；返回中断后缓存里的结果数。"""
    import signal

    proc = subprocess.Popen(cmd, cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    done = 0
    while proc.poll() is None:
        time.sleep(0.2)
        done = cached_results(cache_dir)
        if done >= nfiles // 2:
            proc.send_signal(signal.SIGINT)
            break
    proc.communicate()
    return cached_results(cache_dir) or done


def cached_results(cache_dir: Path) -> int:
    """结果缓存（addin/batch/cache.py 的 SQLite 库）里已提交的结果数：另开一个只读连接去数，库还没建好时为 0。"""
    import sqlite3

    from addin.batch.cache import DB_NAME

    total = 0
    for db in cache_dir.glob(f"*/{DB_NAME}") if cache_dir.exists() else ():
        try:
            with sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=5) as con:
                total += con.execute("SELECT count(*) FROM result").fetchone()[0]
        except sqlite3.Error:
            continue
    return total


def wall(cmd: list[str], repeat: int, cwd: str | None = None, env: dict | None = None,
         stat=statistics.median) -> tuple[float, subprocess.CompletedProcess]:
    """子进程墙钟时间：冷启动取中位数；吞吐取最短（stat=min，与 run_batch、读取下限的取法一致）。"""
    times, last = [], None
    for _ in range(repeat):
        t = time.perf_counter()
        last = subprocess.run(cmd, capture_output=True, text=True, cwd=cwd, env=env)
        times.append(time.perf_counter() - t)
    if last is None:
        raise ValueError("repeat 至少为 1")
    return stat(times), last


def has_command(name: str) -> bool:
    out = subprocess.run([PY, "-m", "addin.cli", "--help"], capture_output=True, text=True).stdout
    return "{" in out and name in out.split("{", 1)[1].split("}", 1)[0].split(",")


def udf_import_ms(module: str, pre: str, repeat: int) -> float:
    code = (f"import time\n{pre}\nt=time.perf_counter()\nimport {module}\n"
            "print((time.perf_counter()-t)*1000)")
    vals = []
    for _ in range(repeat):
        r = subprocess.run([PY, "-c", code], capture_output=True, text=True, cwd=str(ROOT))
        if r.returncode != 0:
            raise RuntimeError(r.stderr.strip().splitlines()[-1] if r.stderr.strip() else f"import {module} failed")
        vals.append(float(r.stdout.strip()))
    return statistics.median(vals)


# 开发环境里有、jixiao 正式安装时没有的模块（测试依赖 oletools 带来的）；xlwings 有则导入
TEST_ONLY_HEAVY = ("cryptography",)


# xlwings 有则顺带导入的可选大模块：pandas（jixiao 的批量汇总依赖它）及其 numpy——Excel 的 UDF 服务启动时付一次
XLWINGS_OPTIONAL = ("numpy", "pandas", "cryptography")


def importtime_cold_ms(module: str, repeat: int, *, without: Sequence[str] = ()) -> float:
    """python -X importtime -c "import module"：取顶层 module 一行的累计时间（微秒 → 毫秒），多次取中位数。

    without：先把这些模块设为 None（import 时 ImportError），模拟没有安装它们的正式环境。"""
    pre = "".join(f"sys.modules[{m!r}] = None; " for m in without)
    code = (f"import sys; {pre}" if pre else "") + f"import {module}"
    vals = []
    for _ in range(repeat):
        r = subprocess.run([PY, "-X", "importtime", "-c", code], capture_output=True, text=True,
                           cwd=str(ROOT))
        if r.returncode != 0:
            raise RuntimeError(r.stderr.strip().splitlines()[-1] if r.stderr.strip() else f"import {module} failed")
        for ln in r.stderr.splitlines():
            parts = ln.split("|")
            if len(parts) == 3 and parts[2].rstrip() == f" {module}":
                vals.append(int(parts[1]) / 1000)
    return statistics.median(vals)


def optional_heavy_imports(module: str) -> list[str]:
    code = f"import sys, {module}; print(' '.join(m for m in {XLWINGS_OPTIONAL!r} if m in sys.modules))"
    r = subprocess.run([PY, "-c", code], capture_output=True, text=True, cwd=str(ROOT))
    return r.stdout.split()


def importtime_top(module: str, pre: str, n: int = 5) -> list[tuple[str, int]]:
    """-X importtime：在 pre 已导入之后，module 带来的各模块自身耗时（微秒）最多的几个。"""
    r = subprocess.run([PY, "-X", "importtime", "-c", f"{pre}\nimport {module}"], capture_output=True, text=True,
                       cwd=str(ROOT))
    lines = r.stderr.splitlines()
    marker = f" {pre.split()[-1]}" if pre else None
    start = 0
    if marker:
        for i, ln in enumerate(lines):
            if ln.rstrip().endswith(marker) and "|" in ln and not ln.split("|")[-1].startswith("  "):
                start = i + 1
    rows = []
    for ln in lines[start:]:
        parts = ln.split("|")
        if len(parts) == 3 and parts[0].strip().split(":")[-1].strip().isdigit():
            rows.append((parts[2].rstrip(), int(parts[0].split(":")[-1])))
    return sorted(rows, key=lambda x: -x[1])[:n]
