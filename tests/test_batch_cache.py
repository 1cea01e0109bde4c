"""结果缓存的库（addin/batch/cache.py）：被中断或被强行结束后再运行，从已提交的结果接着做；库坏了重建并说明，坏的条目
重新计算；两个批量处理同时用同一个缓存文件夹不会把它弄坏；提交失败时结果留在内存里不丢；分组交给子进程时每个文件
仍然单独限时；同一批里内容相同的文件按确切的数目计为“已经处理过”；spawn 启动的子进程同样拿到已知的键。"""
from __future__ import annotations

import multiprocessing as mp
import os
import shutil
import signal
import sqlite3
import subprocess
import sys
import time
import zipfile
from pathlib import Path

import openpyxl
import pytest

from addin.batch import cache as cache_mod
from addin.batch import run as batch
from addin.batch.cache import ResultCache
from addin.batch.files import collect_entries
from addin.batch.result import DeptResult
from addin.batch.run import iter_batch, run_batch
from addin.cli.main import main

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = ("baojing-2018", "zizhou-2021", "shiping-2022", "kaifu-2020")


@pytest.fixture()
def distinct(tmp_path, demo_dir) -> Path:
    """16 个内容各不相同的工作簿：四个示例各四份，只有压缩包的注释不同（计分与校验的结果相同，缓存的键不同）。"""
    d = tmp_path / "十六"
    d.mkdir()
    for name in EXAMPLES:
        for i in range(4):
            p = d / f"{name}-{i}.xlsx"
            shutil.copy(demo_dir / f"{name}.xlsx", p)
            with zipfile.ZipFile(p, "a") as z:
                z.comment = f"副本 {i}".encode()
    return d


def _sheets(path: Path) -> dict[str, list]:
    wb = openpyxl.load_workbook(path)
    return {ws.title: [[c.value for c in row] for row in ws.iter_rows()] for ws in wb.worksheets}


def _rows(cache_root: Path) -> int:
    """另一个连接（只读）看到的已提交结果数；库还没建好时为 0。"""
    dbs = list(cache_root.glob(f"*/{cache_mod.DB_NAME}"))
    if not dbs:
        return 0
    try:
        with sqlite3.connect(f"file:{dbs[0]}?mode=ro", uri=True, timeout=5) as db:
            return db.execute("SELECT count(*) FROM result").fetchone()[0]
    except sqlite3.Error:
        return 0


def _fresh(folder: Path, tmp_path: Path, capsys) -> dict[str, list]:
    out = tmp_path / "不用缓存.xlsx"
    assert main(["batch", str(folder), "-o", str(out), "-q", "--no-cache"]) == 1
    capsys.readouterr()
    return _sheets(out)


def _reused(printed: str) -> int:
    import re

    m = re.search(r"其中 (\d+) 个文件的内容已经处理过", printed)
    return int(m.group(1)) if m else 0


# --------------------------------------------------------------------------------------------- 中断与续跑
def test_ctrl_c_commits_what_was_done_and_the_rerun_continues(distinct, tmp_path, capsys, monkeypatch):
    from addin.batch import summary

    out = tmp_path / "汇总.xlsx"
    real_add = summary.SummaryBuilder.add
    seen = []

    def add(self, r):
        seen.append(r.file)
        if len(seen) == 6:
            raise KeyboardInterrupt
        real_add(self, r)

    monkeypatch.setattr(summary.SummaryBuilder, "add", add)
    assert main(["batch", str(distinct), "-o", str(out), "-q"]) == 2
    err = capsys.readouterr().err
    assert "已中断（完成 5 / 16 个文件，未写汇总）" in err and "再次运行同一命令即从中断处继续" in err
    assert not out.exists()
    committed = _rows(tmp_path / "汇总.xlsx.jixiao-cache")
    assert committed >= 5  # 交给汇总之前已存进缓存，中断时提交
    monkeypatch.setattr(summary.SummaryBuilder, "add", real_add)
    assert main(["batch", str(distinct), "-o", str(out), "-q"]) == 1
    assert _reused(capsys.readouterr().out) == committed
    assert _sheets(out) == _fresh(distinct, tmp_path, capsys)


def test_a_killed_run_loses_at_most_the_uncommitted_results(distinct, tmp_path, capsys):
    """kill -9（关机、任务管理器结束进程）：已提交的结果都在，再运行不重算它们。"""
    out = tmp_path / "汇总.xlsx"
    cache_root = tmp_path / "汇总.xlsx.jixiao-cache"
    code = ("import sys, time\n"
            "from addin.batch import cache, run\n"
            "cache.COMMIT_EVERY = 3\n"
            "real = run.process_file\n"
            "def slow(path, root='', data=None):\n"
            "    time.sleep(0.3)\n"
            "    return real(path, root, data)\n"
            "run.process_file = slow\n"
            "from addin.cli.main import main\n"
            "sys.exit(main(sys.argv[1:]))\n")
    proc = subprocess.Popen([sys.executable, "-c", code, "batch", str(distinct), "-o", str(out), "-j", "1", "-q"],
                            cwd=ROOT, start_new_session=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 60
        while _rows(cache_root) < 3 and time.monotonic() < deadline and proc.poll() is None:
            time.sleep(0.05)
    finally:
        os.killpg(proc.pid, signal.SIGKILL)  # 连同子进程
        proc.wait()
    committed = _rows(cache_root)
    assert 3 <= committed < 16
    assert main(["batch", str(distinct), "-o", str(out), "-q"]) == 1
    assert _reused(capsys.readouterr().out) >= committed
    assert _sheets(out) == _fresh(distinct, tmp_path, capsys)


# --------------------------------------------------------------------------------------------- 损坏的库
@pytest.mark.parametrize("damage", ["garbage", "truncated"])
def test_a_corrupt_store_is_rebuilt_with_a_notice(distinct, tmp_path, capsys, damage):
    out = tmp_path / "汇总.xlsx"
    assert main(["batch", str(distinct), "-o", str(out), "-q"]) == 1
    capsys.readouterr()
    db = next((tmp_path / "汇总.xlsx.jixiao-cache").glob(f"*/{cache_mod.DB_NAME}"))
    data = db.read_bytes()
    db.write_bytes(b"\x00jixiao" * 4000 if damage == "garbage" else data[: len(data) // 2])
    assert main(["batch", str(distinct), "-o", str(out), "-q"]) == 1
    printed = capsys.readouterr()
    assert "jixiao：提示：结果缓存" in printed.err and "已损坏" in printed.err and "已删除并重建" in printed.err
    assert _reused(printed.out) == 0
    assert _sheets(out) == _fresh(distinct, tmp_path, capsys)
    assert main(["batch", str(distinct), "-o", str(out), "-q"]) == 1  # 重建的库照常使用
    printed = capsys.readouterr()
    assert _reused(printed.out) == 16 and "已损坏" not in printed.err


def test_an_unreadable_entry_is_recomputed_and_replaced(distinct, tmp_path, capsys):
    out = tmp_path / "汇总.xlsx"
    assert main(["batch", str(distinct), "-o", str(out), "-q"]) == 1
    capsys.readouterr()
    db_path = next((tmp_path / "汇总.xlsx.jixiao-cache").glob(f"*/{cache_mod.DB_NAME}"))
    with sqlite3.connect(db_path) as db:
        keys = [k for (k,) in db.execute("SELECT key FROM result ORDER BY key")]
        db.execute("UPDATE result SET head = '{' WHERE key = ?", (keys[0],))
        db.execute("UPDATE result SET findings = '[[1, 2]]' WHERE key = ?", (keys[1],))
        db.execute("UPDATE result SET head = replace(head, '\"', '''') WHERE key = ?", (keys[2],))
    assert main(["batch", str(distinct), "-o", str(out), "-q"]) == 1
    assert _reused(capsys.readouterr().out) == 16 - 3
    assert _sheets(out) == _fresh(distinct, tmp_path, capsys)
    assert main(["batch", str(distinct), "-o", str(out), "-q"]) == 1
    assert _reused(capsys.readouterr().out) == 16  # 坏条目已被新结果替换


# --------------------------------------------------------------------------------------------- 同时运行
def test_two_batches_at_once_share_the_cache_folder_safely(distinct, tmp_path, capsys):
    out = tmp_path / "汇总.xlsx"
    cmd = [sys.executable, "-m", "addin.cli", "batch", str(distinct), "-o", str(out), "-j", "1", "-q"]
    procs = [subprocess.Popen(cmd, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
             for _ in range(2)]
    results = [p.communicate(timeout=300) for p in procs]
    assert [p.returncode for p in procs] == [1, 1], results
    db = next((tmp_path / "汇总.xlsx.jixiao-cache").glob(f"*/{cache_mod.DB_NAME}"))
    with sqlite3.connect(db) as con:
        assert con.execute("PRAGMA integrity_check").fetchone() == ("ok",)
        assert con.execute("SELECT count(*) FROM result").fetchone() == (16,)
    assert main(["batch", str(distinct), "-o", str(out), "-q"]) == 1
    assert _reused(capsys.readouterr().out) == 16
    assert _sheets(out) == _fresh(distinct, tmp_path, capsys)


def _writer(root: str, who: int, n: int) -> None:
    cache_mod.COMMIT_EVERY = 7
    cache = ResultCache(root, "同一指纹")
    for i in range(n):
        # 一半的键各进程共用（同一内容），一半各自的
        key = f"{i:064x}" if i % 2 else f"{who:02x}{i:062x}"
        cache.put(DeptResult(f"{who}/{i}.xlsx", False, f"第 {i} 个", key=key))
    cache.close()


def test_concurrent_writers_keep_the_store_intact(tmp_path):
    ctx = mp.get_context("fork")
    procs = [ctx.Process(target=_writer, args=(str(tmp_path / "c"), who, 200)) for who in range(3)]
    for p in procs:
        p.start()
    for p in procs:
        p.join(120)
    assert [p.exitcode for p in procs] == [0, 0, 0]
    cache = ResultCache(tmp_path / "c", "同一指纹")
    assert len(cache.keys()) == 100 + 3 * 100
    assert cache.get(f"{1:02x}{4:062x}", "x").reason == "第 4 个"
    with sqlite3.connect(cache.path) as con:
        assert con.execute("PRAGMA integrity_check").fetchone() == ("ok",)


# --------------------------------------------------------------------------------------------- 提交失败
class _Failing:
    """代替 sqlite3 连接：开始写事务时失败（磁盘满、被别的程序长时间锁住），其余照常。"""

    def __init__(self, db: sqlite3.Connection):
        self.db, self.fail = db, True

    def execute(self, sql: str, *args):
        if self.fail and sql.startswith("BEGIN"):
            raise sqlite3.OperationalError("database is locked")
        return self.db.execute(sql, *args)

    def __getattr__(self, name: str):
        return getattr(self.db, name)


def test_results_stay_in_memory_when_a_commit_fails(tmp_path, demo_dir):
    cache = ResultCache(tmp_path / "c")
    res = batch.process_file(str(demo_dir / "baojing-2018.xlsx"), str(demo_dir))
    res.key = "ef" * 32
    assert res.findings
    cache._db = _Failing(cache._db)  # type: ignore[assignment]
    cache.put(res)
    assert cache.commit() is False
    slim = DeptResult(res.file, True, key=res.key, n_findings=len(res.findings))
    assert cache.findings(slim) == res.findings  # 汇总照样写得出全部发现
    assert ResultCache(tmp_path / "c").keys() == frozenset()
    cache._db.fail = False  # type: ignore[attr-defined]
    cache.close()  # 结束时再试一次
    assert ResultCache(tmp_path / "c").get(res.key, res.file).findings == res.findings


# --------------------------------------------------------------------------------------------- 分组与命中
def test_a_group_over_the_time_limit_is_redone_file_by_file(distinct, monkeypatch):
    real = batch.process_file

    def process(path, root="", data=None):
        if Path(path).name == "zizhou-2021-1.xlsx":
            time.sleep(300)
        return real(path, root, data)

    monkeypatch.setattr(batch, "process_file", process)
    files = [f for f in collect_entries(distinct)[0] if f.name.startswith(("shiping", "zizhou"))][:6]
    started = time.perf_counter()
    results = list(iter_batch(files, distinct, jobs=2, timeout=2, chunk=3))
    assert time.perf_counter() - started < 60
    by = {r.file: r for r in results}
    assert sorted(by) == sorted(f.name for f in files)
    assert by["zizhou-2021-1.xlsx"].reason.startswith("处理超过 2 秒仍未完成，已停止")
    assert all(r.ok for name, r in by.items() if name != "zizhou-2021-1.xlsx")


def test_a_hit_missing_from_the_store_is_recomputed(distinct, tmp_path, monkeypatch):
    files = collect_entries(distinct)[0]
    fresh = run_batch(files, distinct, jobs=1)
    cache = ResultCache(tmp_path / "c")
    monkeypatch.setattr(cache, "keys", lambda: frozenset(r.key for r in fresh))  # 子进程以为这些都在缓存里
    again = run_batch(files, distinct, jobs=2, cache=cache)
    assert not any(r.from_cache for r in again)
    assert [(r.file, r.total, r.findings) for r in again] == [(r.file, r.total, r.findings) for r in fresh]
    assert cache.keys() == frozenset(r.key for r in fresh)


def test_duplicates_in_one_batch_are_counted_exactly(tmp_path, demo_dir, capsys):
    d = tmp_path / "重复"
    for i in range(5):
        (d / f"县{i}").mkdir(parents=True)
        for name in EXAMPLES:
            shutil.copy(demo_dir / f"{name}.xlsx", d / f"县{i}" / f"{name}.xlsx")
    assert main(["batch", str(d), "-o", str(tmp_path / "汇总.xlsx"), "-q", "-j", "2"]) == 1
    assert _reused(capsys.readouterr().out) == 20 - 4


def test_spawned_workers_learn_the_known_keys(distinct, tmp_path, monkeypatch):
    files = collect_entries(distinct)[0][:4]
    root = tmp_path / "c"
    first = run_batch(files, distinct, jobs=2, cache=ResultCache(root))
    monkeypatch.setattr(batch, "_pool_context", lambda: mp.get_context("spawn"))
    again = run_batch(files, distinct, jobs=2, cache=ResultCache(root))
    assert all(r.from_cache for r in again)
    assert [(r.file, r.total, r.findings) for r in again] == [(r.file, r.total, r.findings) for r in first]
