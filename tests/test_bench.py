"""基准脚本（scripts/bench.py）的测量函数在真实工作簿上确实做了它们声称的事——它不是计时测试，
但一个失败得很快的“测量”会给出虚假的高吞吐（曾因导入错误测出 10671 个/秒）。"""
from __future__ import annotations

import sys
from decimal import Decimal
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "scripts"))
import bench  # noqa: E402
import bench_procs  # noqa: E402


def test_measured_functions_work_on_a_demo_workbook(demo_dir):
    path = str(demo_dir / "zizhou-2021.xlsx")
    assert Decimal(bench.score_openpyxl(path)) == Decimal("85.1")
    for read in (bench.read_calamine, bench.read_fastbook, bench.read_openpyxl, bench.read_openpyxl_ro):
        assert read(path) > 100, read.__name__
    f_ms, e_ms, per_book = bench.formula_cost([path])
    assert per_book == 13 and f_ms > 0 and e_ms > 0  # 子洲 2021 的 13 个实际值公式（用时本身不断言：机器负载会改变它）


def test_pool_rate_stops_when_a_good_file_fails(demo_dir, tmp_path):
    good = str(demo_dir / "zizhou-2021.xlsx")
    bad = tmp_path / "坏文件.xlsx"
    bad.write_text("不是 xlsx")
    secs, rate = bench.pool_rate(bench.read_fastbook, [good, str(bad)], 1, 1, frozenset({bad.name}))
    assert secs > 0 and rate > 0
    with pytest.raises(SystemExit, match="read_fastbook 在 1 个正常文件上失败，例如 坏文件.xlsx"):
        bench.pool_rate(bench.read_fastbook, [good, str(bad)], 1, 1)


def test_tree_memory_sampling_sees_child_processes():
    """峰值内存按进程树合计：一个子进程占的 80 MB 要算进去（否则“内存有界”的数字没有意义）。"""
    code = ("import subprocess, sys, time; "
            "p = subprocess.Popen([sys.executable, '-c', 'x = bytearray(80_000_000); import time; time.sleep(1.5)']); "
            "p.wait()")
    secs, res, peak = bench_procs.tree_run([sys.executable, "-c", code], 1)
    assert res.returncode == 0 and secs > 1
    assert peak > 70, peak


def test_cached_results_counts_what_the_batch_committed(tmp_path, monkeypatch):
    """“中断后续跑”一行靠它判断何时按 Ctrl+C：数的是结果缓存库里已提交的结果。"""
    from addin.batch import cache as cache_mod
    from addin.batch.cache import ResultCache
    from addin.batch.result import DeptResult

    monkeypatch.setattr(cache_mod, "COMMIT_SECONDS", 3600.0)

    root = tmp_path / "汇总.xlsx.jixiao-cache"
    assert bench_procs.cached_results(root) == 0
    cache = ResultCache(root)
    for i in range(3):
        cache.put(DeptResult(f"{i}.xlsx", False, "坏文件", key=f"{i:064x}"))
    assert bench_procs.cached_results(root) == 0  # 还没有提交
    cache.commit()
    assert bench_procs.cached_results(root) == 3
    cache.close()
