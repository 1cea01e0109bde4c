"""jixiao batch 的整省规模：跳过的每一项都列出原因、每个文件限时（超时的子进程被结束，整批继续）、结果缓存（中断后再运行
不重算已完成的文件；版本或规则改动后作废；--no-cache 不留缓存）、逐个接收结果的汇总与一次性汇总相同。
速度与内存的目标在 scripts/bench.py 里测量，这里只核对正确性（小批量）。"""
from __future__ import annotations

import errno
import os
import shutil
import time
from pathlib import Path

import openpyxl
import pytest

from addin.batch import run as batch
from addin.batch.cache import ResultCache, rules_fingerprint
from addin.batch.files import collect_entries
from addin.batch.run import iter_batch, process_file, run_batch
from addin.batch.summary import SummaryBuilder, summarise
from addin.cli.main import main


@pytest.fixture()
def folder(tmp_path, demo_dir) -> Path:
    d = tmp_path / "部门"
    d.mkdir()
    for name in ("baojing-2018", "zizhou-2021", "shiping-2022"):
        shutil.copy(demo_dir / f"{name}.xlsx", d / f"{name}.xlsx")
    return d


def _failed(out: Path) -> dict[str, str]:
    ws = openpyxl.load_workbook(out)["无法读取"]
    return {r[0]: r[1] for r in ws.iter_rows(min_row=2, values_only=True) if r[0]}


# --------------------------------------------------------------------------------------------- 跳过的条目
def test_every_skipped_entry_is_listed_with_its_reason(folder, tmp_path, capsys, monkeypatch):
    """原来：指向不存在目标的符号链接、循环链接、FIFO、打不开的子文件夹、无权读取的文件都被悄悄跳过。"""
    os.symlink(folder / "不存在.xlsx", folder / "断链.xlsx")
    os.symlink(folder / "环.xlsx", folder / "环.xlsx")
    os.mkfifo(folder / "管道.xlsx")
    (folder / "锁住的科室").mkdir()
    shutil.copy(folder / "baojing-2018.xlsx", folder / "锁住的科室" / "a.xlsx")
    shutil.copy(folder / "baojing-2018.xlsx", folder / "无权读取.xlsx")
    (tmp_path / "别处").mkdir()
    os.symlink(tmp_path / "别处", folder / "链接的文件夹")
    (folder / "说明.txt").write_text("不是工作簿，不必列出")
    # 本机以 root 运行，权限拦不住：模拟文件夹打不开、文件没有读权限
    real_scandir, real_access = os.scandir, os.access

    def scandir(path="."):
        if isinstance(path, (str, os.PathLike)) and Path(path).name == "锁住的科室":
            raise PermissionError(errno.EACCES, "Permission denied", str(path))
        return real_scandir(path)

    monkeypatch.setattr(os, "scandir", scandir)
    monkeypatch.setattr(os, "access", lambda p, mode, **kw: Path(p).name != "无权读取.xlsx" and real_access(p, mode, **kw))
    files, skipped = collect_entries(folder)
    assert [p.name for p in files] == ["baojing-2018.xlsx", "shiping-2022.xlsx", "zizhou-2021.xlsx"]
    reasons = {r.file: r.reason for r in skipped}
    assert set(reasons) == {"断链.xlsx", "环.xlsx", "管道.xlsx", "锁住的科室/", "无权读取.xlsx", "链接的文件夹/"}
    assert "指向的" in reasons["断链.xlsx"] and "不存在" in reasons["断链.xlsx"]
    assert "循环" in reasons["环.xlsx"]
    assert "命名管道（FIFO）" in reasons["管道.xlsx"]
    assert "无法打开这个文件夹：没有读取权限" in reasons["锁住的科室/"]
    assert "没有读取权限" in reasons["无权读取.xlsx"]
    assert "指向文件夹的符号链接" in reasons["链接的文件夹/"]

    out = tmp_path / "汇总.xlsx"
    assert main(["batch", str(folder), "-o", str(out), "--jobs", "1", "-q"]) == 1
    printed = capsys.readouterr().out
    for name in reasons:
        assert f"  无法读取：{name}：{reasons[name]}" in printed
    assert _failed(out) == reasons
    assert "已处理 9 个文件：3 个已计分，6 个无法读取" in printed


# --------------------------------------------------------------------------------------------- 每个文件限时
def _slow_for(name: str, seconds: float):
    real = batch.process_file

    def process(path, root="", data=None):
        if Path(path).name == name:
            time.sleep(seconds)
        return real(path, root, data)

    return process


@pytest.mark.parametrize("jobs", [1, 2])
def test_a_file_over_the_time_limit_is_listed_and_the_batch_goes_on(folder, monkeypatch, jobs):
    monkeypatch.setattr(batch, "process_file", _slow_for("shiping-2022.xlsx", 300))
    started = time.perf_counter()
    results = run_batch(collect_entries(folder)[0], folder, jobs=jobs, timeout=2)
    spent = time.perf_counter() - started
    by = {r.file: r for r in results}
    assert by["baojing-2018.xlsx"].ok and by["zizhou-2021.xlsx"].ok
    slow = by["shiping-2022.xlsx"]
    assert not slow.ok and slow.reason.startswith("处理超过 2 秒仍未完成，已停止")
    assert spent < 60, "超时的子进程应被结束，而不是等它睡完 300 秒"


def test_timeout_option_and_message_in_the_summary(folder, tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(batch, "process_file", _slow_for("zizhou-2021.xlsx", 300))
    out = tmp_path / "汇总.xlsx"
    assert main(["batch", str(folder), "-o", str(out), "--timeout", "1.5", "-q"]) == 1
    assert "无法读取：zizhou-2021.xlsx：处理超过 1.5 秒仍未完成" in capsys.readouterr().out
    assert _failed(out)["zizhou-2021.xlsx"].startswith("处理超过 1.5 秒")
    assert main(["batch", str(folder), "-o", str(out), "--timeout", "-1"]) == 2


# --------------------------------------------------------------------------------------------- 结果缓存与续跑
@pytest.fixture()
def forty(tmp_path, demo_dir) -> Path:
    """40 个工作簿：四个示例各复制十份（内容相同的文件共用一条缓存），另有一个坏文件。"""
    d = tmp_path / "四十"
    for i in range(10):
        sub = d / f"县{i}"
        sub.mkdir(parents=True)
        for name in ("baojing-2018", "zizhou-2021", "shiping-2022", "kaifu-2020"):
            shutil.copy(demo_dir / f"{name}.xlsx", sub / f"{name}.xlsx")
    (d / "坏.xlsx").write_text("不是工作簿")
    return d


def _table(summary) -> list:
    return [(r.file, r.ok, r.reason, r.total, r.grade, r.counts, summary.rank.get(r.file)) for r in summary.results]


def test_an_interrupted_batch_resumes_without_redoing_finished_files(forty, tmp_path):
    files = collect_entries(forty)[0]
    cache_root = tmp_path / "汇总.xlsx.jixiao-cache"
    cache = ResultCache(cache_root)
    # 第一次运行：拿到 12 个结果后中断（如同 Ctrl+C）：子进程立即结束，已完成的结果都在缓存里
    done = []
    run = iter_batch(files, forty, jobs=2, cache=cache)
    for res in run:
        done.append(res)
        if len(done) == 12:
            break
    run.close()
    entries = ResultCache(cache_root).keys()  # 另一个连接读到的：已提交进缓存库的键
    assert 1 <= len(entries) <= 5  # 内容只有 5 种（四个示例与一个坏文件）
    # 再运行：内容已在缓存里的文件直接取用
    again = run_batch(files, forty, jobs=2, cache=ResultCache(cache_root))
    cached_keys = entries
    assert {r.file for r in again if r.from_cache} == {r.file for r in again if r.key in cached_keys}
    assert sum(r.from_cache for r in again) >= 12 - 5  # 至少重复内容的都没有重算
    # 第三次：全部取自缓存，汇总与不用缓存时逐项相同
    third = run_batch(files, forty, jobs=2, cache=ResultCache(cache_root))
    assert all(r.from_cache for r in third)
    fresh = run_batch(files, forty, jobs=1)
    assert not any(r.from_cache for r in fresh)
    assert _table(summarise(third)) == _table(summarise(fresh))
    assert [r.findings for r in third] == [r.findings for r in fresh]


def test_cli_resume_and_no_cache(forty, tmp_path, capsys):
    out = tmp_path / "汇总.xlsx"
    assert main(["batch", str(forty), "-o", str(out), "-q"]) == 1
    capsys.readouterr()  # 同一批里内容相同的文件也只算一次（可能已有取自缓存的）
    cache_dir = tmp_path / "汇总.xlsx.jixiao-cache"
    assert (cache_dir / "说明.txt").exists()
    summary_first = openpyxl.load_workbook(out)
    assert main(["batch", str(forty), "-o", str(out), "-q"]) == 1
    second = capsys.readouterr().out
    assert "其中 41 个文件的内容已经处理过" in second
    again = openpyxl.load_workbook(out)
    for sheet in ("汇总", "校验发现", "失分指标", "等级分布", "无法读取"):
        assert [[c.value for c in row] for row in again[sheet].iter_rows()] == \
               [[c.value for c in row] for row in summary_first[sheet].iter_rows()], sheet
    # --no-cache：不读也不留缓存
    shutil.rmtree(cache_dir)
    other = tmp_path / "另一份.xlsx"
    assert main(["batch", str(forty), "-o", str(other), "-q", "--no-cache"]) == 1
    assert "取自缓存" not in capsys.readouterr().out
    assert not (tmp_path / "另一份.xlsx.jixiao-cache").exists()
    assert [[c.value for c in row] for row in openpyxl.load_workbook(other)["校验发现"].iter_rows()] == \
           [[c.value for c in row] for row in summary_first["校验发现"].iter_rows()]


def test_cache_is_invalidated_by_a_new_version_or_rules(tmp_path, demo_dir):
    res = process_file(str(demo_dir / "zizhou-2021.xlsx"), str(demo_dir))
    res.key = "ab" * 32
    old = ResultCache(tmp_path / "c", "旧规则")
    old.put(res)
    assert old.get(res.key, res.file).total == res.total
    new = ResultCache(tmp_path / "c", "新规则")
    assert new.get(res.key, res.file) is None
    assert not (tmp_path / "c" / "旧规则").exists()
    # 指纹随源码变化：同一份代码两次相同
    assert rules_fingerprint() == rules_fingerprint()


def test_a_cached_result_is_the_same_result(demo_dir, tmp_path):
    cache = ResultCache(tmp_path / "c")
    res = process_file(str(demo_dir / "kaifu-2020.xlsx"), str(demo_dir))
    res.key = "cd" * 32
    cache.put(res)
    back = cache.get(res.key, res.file)
    assert back.from_cache and (back.total, back.level1, back.indicators, back.findings, back.counts) == \
        (res.total, res.level1, res.indicators, res.findings, res.counts)


def test_builder_in_any_order_equals_summarise(forty):
    results = run_batch(collect_entries(forty)[0], forty, jobs=2)
    b = SummaryBuilder(keep_findings=False)
    for r in reversed(results):
        b.add(r)
    streamed, whole = b.finish(), summarise(results)
    assert _table(streamed) == _table(whole)
    assert streamed.losses == whole.losses and streamed.grade_dist == whole.grade_dist
    assert all(not r.findings and not r.indicators for r in streamed.results)
