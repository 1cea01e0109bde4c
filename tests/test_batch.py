"""jixiao batch：快速读取器与 openpyxl 逐格一致；汇总的排名、计数与逐个文件独立计算的结果一致；坏文件列出原因。"""
from __future__ import annotations

import importlib.util
import os
import shutil
import sys
import zipfile
from collections import Counter
from decimal import Decimal
from pathlib import Path

import openpyxl
import pytest

from addin.batch.files import collect_files
from addin.batch.run import process_file, run_batch
from addin.batch.summary import summarise
from addin.cli.main import main
from addin.io.book import BookError
from addin.io.fastbook import FastBook
from addin.io.openpyxl_book import OpenpyxlBook
from addin.scoring.engine import evaluate
from addin.scoring.reader import load

ROOT = Path(__file__).resolve().parent.parent


def _gen():
    spec = importlib.util.spec_from_file_location("gen_workbooks", ROOT / "scripts" / "gen_workbooks.py")
    mod = importlib.util.module_from_spec(spec)
    # 登记到 sys.modules：generate(jobs=2) 把 gen_workbooks._build_one 交给子进程，pickle 按模块名找函数
    sys.modules.setdefault("gen_workbooks", mod)
    spec.loader.exec_module(mod)
    return sys.modules["gen_workbooks"]


gen = _gen()


def _checks(inputs, ev):
    """与批量处理相同的校验入口：addin.checks.run.run_checks（若已有），否则引擎的发现。"""
    try:
        from addin.checks.run import run_checks
    except ModuleNotFoundError:
        return list(ev.findings)
    return run_checks(inputs, ev)


# --------------------------------------------------------------------------- FastBook 与 openpyxl 一致
def _same_grids(path: Path) -> None:
    a, b = OpenpyxlBook(path, with_cached=True), FastBook(path)
    assert a.sheet_names() == b.sheet_names()
    for s in a.sheet_names():
        assert a.grid(s) == b.grid(s), f"{path.name} {s}"
    b.close()


def test_fastbook_matches_openpyxl_on_demo_workbooks(demo_dir):
    for p in sorted(demo_dir.glob("*.xlsx")):
        _same_grids(p)


def test_fastbook_matches_openpyxl_after_openpyxl_roundtrip(demo_dir, tmp_path):
    # openpyxl 保存的文件（不同的 XML 写法：无缓存值、不同的样式表）
    wb = openpyxl.load_workbook(demo_dir / "zizhou-2021.xlsx")
    wb.save(tmp_path / "rt.xlsx")
    _same_grids(tmp_path / "rt.xlsx")
    _, inputs = load(tmp_path / "rt.xlsx")
    assert evaluate(inputs).total == Decimal("85.10")


def test_fastbook_cell_types_dates_booleans_and_text_formulas(tmp_path):
    import datetime

    import xlsxwriter

    p = tmp_path / "types.xlsx"
    wb = xlsxwriter.Workbook(str(p), {"strings_to_formulas": False})
    ws = wb.add_worksheet("表一")
    ws.write_datetime(0, 0, datetime.datetime(2021, 12, 31), wb.add_format({"num_format": "yyyy-mm-dd"}))
    ws.write_boolean(0, 1, True)
    ws.write_string(0, 2, "=不是公式")
    ws.write_string(0, 3, "  前后空格  ")
    ws.write_number(0, 4, 1.5)
    ws.write_number(0, 5, 3)
    ws.write_formula(0, 6, '="文本"&"结果"', None, "文本结果")
    ws.write_formula(0, 7, "=1/0", None, "#DIV/0!")
    ws.write_rich_string(0, 8, "富", wb.add_format({"bold": True}), "文本")
    ws.write_string(5, 2, "第六行")
    wb.close()
    _same_grids(p)
    g = FastBook(p).grid("表一")
    assert g[(1, 1)] == datetime.datetime(2021, 12, 31)
    assert g[(1, 3)] == "=不是公式"  # 以 = 开头的文本仍是文本
    assert g[(1, 7)].text == '="文本"&"结果"' and g[(1, 7)].cached == "文本结果"
    assert g[(1, 9)] == "富文本"
    assert g[(6, 3)] == "第六行"


def _minimal_xlsx(path: Path, sheet_xml: str) -> None:
    """手写的最小 .xlsx：带命名空间前缀、共享公式、内联字符串（Excel 与其他软件会这样写）。"""
    with zipfile.ZipFile(path, "w") as z:
        z.writestr("[Content_Types].xml", '<?xml version="1.0"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
                   '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
                   '<Default Extension="xml" ContentType="application/xml"/>'
                   '<Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>'
                   '<Override PartName="/xl/worksheets/sheet1.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>'
                   '</Types>')
        z.writestr("_rels/.rels", '<?xml version="1.0"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
                   '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="xl/workbook.xml"/>'
                   '</Relationships>')
        z.writestr("xl/workbook.xml", '<?xml version="1.0"?><x:workbook xmlns:x="http://schemas.openxmlformats.org/spreadsheetml/2006/main" '
                   'xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships"><x:sheets>'
                   '<x:sheet name="评分表" sheetId="1" r:id="rId1"/></x:sheets></x:workbook>')
        z.writestr("xl/_rels/workbook.xml.rels", '<?xml version="1.0"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
                   '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" Target="/xl/worksheets/sheet1.xml"/>'
                   '</Relationships>')
        z.writestr("xl/worksheets/sheet1.xml", sheet_xml)


def test_fastbook_shared_formulas_inline_strings_and_prefixes(tmp_path):
    p = tmp_path / "shared.xlsx"
    _minimal_xlsx(p, '<?xml version="1.0"?><x:worksheet xmlns:x="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><x:sheetData>'
                     '<x:row r="1"><x:c r="A1"><x:f t="shared" ref="A1:A3" si="0">B1*2</x:f><x:v>2</x:v></x:c>'
                     '<x:c r="B1"><x:v>1</x:v></x:c><x:c r="C1" t="inlineStr"><x:is><x:t>内联</x:t></x:is></x:c></x:row>'
                     '<x:row r="2"><x:c r="A2"><x:f t="shared" si="0"/><x:v>4</x:v></x:c><x:c r="B2"><x:v>2</x:v></x:c></x:row>'
                     '<x:row><x:c><x:v>7</x:v></x:c><x:c t="b"><x:v>0</x:v></x:c></x:row>'
                     '</x:sheetData></x:worksheet>')
    _same_grids(p)
    g = FastBook(p).grid("评分表")
    assert g[(2, 1)].text == "=B2*2" and g[(2, 1)].cached == 4
    assert g[(3, 1)] == 7 and g[(3, 2)] is False
    assert g[(1, 3)] == "内联"


def test_fastbook_refuses_dtd(tmp_path):
    p = tmp_path / "dtd.xlsx"
    _minimal_xlsx(p, '<?xml version="1.0"?><!DOCTYPE lol [<!ENTITY a "aaaa">]><worksheet '
                     'xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData/></worksheet>')
    with pytest.raises(BookError, match="DTD"):
        FastBook(p).grid("评分表")


# --------------------------------------------------------------------------- 排名
def test_competition_ranks_ties_share_rank():
    from addin.batch.result import DeptResult

    totals = ("90", "95.5", "90", "80", "95.5", "70")
    rs = [DeptResult(f"f{i}", True, system="hunan-dept", total=Decimal(t)) for i, t in enumerate(totals)]
    s = summarise(rs)
    assert [s.rank[r.file] for r in rs] == [3, 1, 3, 5, 1, 6]
    assert [s.rank_in_system[r.file] for r in rs] == [3, 1, 3, 5, 1, 6]
    # 整批都无法读取（没有一个可计分的工作簿）：汇总照常生成，只有“无法读取”
    only_failed = summarise([DeptResult("bad", False, reason="坏文件")])
    assert only_failed.rank == {} and only_failed.grade_dist == {} and [r.file for r in only_failed.failed] == ["bad"]


# --------------------------------------------------------------------------- 整批运行
def _expected(paths: list[Path], root: Path, *, reader: str = "openpyxl") -> dict[str, dict]:
    """独立计算：逐个文件读取 + addin.scoring.engine 计分 + 校验，在本进程内，不经 run_batch/summarise/write_summary。

    reader="openpyxl"：用 openpyxl（与批量用的 FastBook 完全无关的读取器）；reader="fast"：用 FastBook（快约 10 倍，
    读取器本身与 openpyxl 的一致性由 _same_grids 另行逐格检查）。"""
    from addin.scoring.reader import read_inputs

    out = {}
    for p in paths:
        if reader == "openpyxl":
            _, inputs = load(p, with_cached=True)
        else:
            book = FastBook(p)
            inputs = read_inputs(book)
            book.close()
        ev = evaluate(inputs)
        c = Counter(f.severity for f in _checks(inputs, ev))
        out[p.relative_to(root).as_posix()] = {
            "total": ev.total, "grade": ev.grade, "system": ev.system_key, "unit": ev.unit_name,
            "complete": ev.complete, "errors": c.get("错误", 0), "warnings": c.get("警告", 0),
            "level1": {k: v.score if v.complete else None for k, v in ev.level1.items()},
            "lost": {(ev.system_key, i.name): (i.points - i.final) for i in ev.indicators
                     if i.final is not None and i.points is not None and i.final < i.points}}
    return out


def _rows(ws) -> list[dict]:
    it = ws.iter_rows(values_only=True)
    head = next(it)
    return [dict(zip(head, r, strict=True)) for r in it if any(v is not None for v in r)]


def _check_summary(out: Path, expected: dict[str, dict], bad: set[str]) -> None:
    wb = openpyxl.load_workbook(out)
    assert wb.sheetnames[:6] == ["汇总", "等级分布", "失分指标", "校验发现", "无法读取", "说明"]
    rows = _rows(wb["汇总"])
    assert {r["文件"] for r in rows} == set(expected)
    complete = {f: e for f, e in expected.items() if e["complete"]}
    for r in rows:
        e = expected[r["文件"]]
        # 评价未完成的工作簿：总分、等级与不完整的一级指标小计都空着，不写出部分得分
        assert (None if r["总分"] is None else Decimal(str(r["总分"]))) == e["total"], r["文件"]
        assert (r["等级"], r["指标体系"], r["单位"]) == (e["grade"], e["system"], e["unit"])
        assert (r["错误"], r["警告"]) == (e["errors"], e["warnings"])
        for name, score in e["level1"].items():
            assert (None if r[name] is None else Decimal(str(r[name]))) == score
        if e["complete"]:
            # 并列名次：1 + 总分严格更高的（可计分）工作簿数
            assert r["排名"] == 1 + sum(1 for x in complete.values() if x["total"] > e["total"])
            assert r["体系内排名"] == 1 + sum(1 for x in complete.values()
                                          if x["system"] == e["system"] and x["total"] > e["total"])
            assert r["备注"] is None
        else:
            assert r["排名"] is None and "未参与排名" in r["备注"]
    ranks = [r["排名"] for r in rows if r["排名"] is not None]
    assert ranks == sorted(ranks), "汇总表按名次排列"

    # 等级分布
    dist = {(r["指标体系"], r["等级"]): r["单位数"] for r in _rows(wb["等级分布"]) if r["等级"] != "合计"}
    want = Counter((e["system"], e["grade"]) for e in complete.values())
    for key, n in want.items():
        assert dist[key] == n
    assert sum(n for (s, g), n in dist.items() if g != "未完成计分") == len(complete)
    assert sum(n for (s, g), n in dist.items() if g == "未完成计分") == len(expected) - len(complete)

    # 失分指标：每个（体系, 指标）的失分单位数与失分合计
    lost_count, lost_sum = Counter(), Counter()
    for e in expected.values():
        for k, v in e["lost"].items():
            lost_count[k] += 1
            lost_sum[k] += v
    loss_rows = _rows(wb["失分指标"])
    assert len(loss_rows) == len(lost_count)
    for r in loss_rows:
        k = (r["指标体系"], r["三级指标"])
        assert r["失分单位数"] == lost_count[k]
        assert Decimal(str(r["失分合计"])).quantize(Decimal("0.01")) == lost_sum[k]
    for system in {r["指标体系"] for r in loss_rows}:
        ns = [r["失分单位数"] for r in loss_rows if r["指标体系"] == system]
        assert ns == sorted(ns, reverse=True)

    # 校验发现：一张表，条数等于各文件错误+警告+提示之和
    findings = _rows(wb["校验发现"])
    assert Counter(r["严重程度"] for r in findings)["错误"] == sum(e["errors"] for e in expected.values())
    # 汇总表“文件”单元格链接到该单位在“校验发现”表中的第一条（每个单位的发现一点即达）
    fws, linked = wb["校验发现"], set()
    for row in wb["汇总"].iter_rows(min_row=2, max_col=3):
        cell = row[2]
        if cell.hyperlink is None:
            continue
        sheet, ref = cell.hyperlink.location.split("!")
        assert sheet == "'校验发现'" and cell.data_type == "s"
        target = fws[ref].row
        assert fws.cell(target, 1).value == cell.value and fws.cell(target - 1, 1).value != cell.value
        linked.add(cell.value)
    assert linked == {r["文件"] for r in findings}

    # 无法读取：坏文件各一行，原因为中文
    failed = {r["文件"]: r["原因"] for r in _rows(wb["无法读取"])}
    assert set(failed) == bad
    for reason in failed.values():
        assert any("\u4e00" <= ch <= "\u9fff" for ch in reason) and "Traceback" not in reason


@pytest.fixture(scope="module")
def gen200(tmp_path_factory) -> tuple[Path, list[Path]]:
    """验收用的 200 个生成工作簿 + 3 个坏文件，本模块只生成一次（两个进程并行，生成结果与逐个生成相同）。"""
    d = tmp_path_factory.mktemp("batch200")
    paths = gen.generate(d, 200, seed=2024, jobs=2)
    gen.make_corrupt(d, paths[0])
    return d, paths


@pytest.fixture(scope="module")
def batch_dir(tmp_path_factory, gen200) -> tuple[Path, list[Path]]:
    """前 30 个（复制自 gen200，省去再生成）+ 一个并列的复本 + 3 个坏文件；期望值用 openpyxl 独立读取计算。"""
    src, all_paths = gen200
    d = tmp_path_factory.mktemp("batch")
    paths = []
    for p in all_paths[:30]:
        q = d / p.relative_to(src)
        q.parent.mkdir(parents=True, exist_ok=True)
        paths.append(Path(shutil.copy(p, q)))
    # 人为制造并列：同一工作簿复制到另一子文件夹
    (d / "复本").mkdir()
    tie = d / "复本" / ("副本_" + paths[0].name)
    shutil.copy(paths[0], tie)
    paths.append(tie)
    gen.make_corrupt(d, paths[1])
    return d, paths


BAD = {"截断的文件.xlsx", "其实是文本.xlsx", "缺少评分表.xlsx"}


def test_batch_cli_summary_matches_independent_evaluation(batch_dir, tmp_path, capsys):
    d, paths = batch_dir
    out = tmp_path / "汇总.xlsx"
    rc = main(["batch", str(d), "-o", str(out), "--jobs", "2"])
    printed = capsys.readouterr().out
    assert rc == 1  # 有无法读取的文件
    assert "34 个文件" in printed and "31 个已计分" in printed and "3 个无法读取" in printed
    expected = _expected(paths, d)
    # 生成的数据确实覆盖了各种情况
    assert {e["system"] for e in expected.values()} == {"hunan-dept", "zizhou-dept", "project"}
    assert any(not e["complete"] for e in expected.values())
    assert any(e["errors"] for e in expected.values())
    _check_summary(out, expected, BAD)
    rows = {r["文件"]: r for r in _rows(openpyxl.load_workbook(out)["汇总"])}
    first = paths[0].relative_to(d).as_posix()
    assert rows[first]["排名"] == rows["复本/副本_" + paths[0].name]["排名"]  # 同分同名次


def test_bad_files_have_specific_chinese_reasons(batch_dir):
    d, _ = batch_dir
    reasons = {n: process_file(str(d / n), str(d)) for n in BAD}
    assert all(not r.ok for r in reasons.values())
    assert "不完整" in reasons["截断的文件.xlsx"].reason
    assert "文本文件" in reasons["其实是文本.xlsx"].reason
    assert "缺少“评分表”" in reasons["缺少评分表.xlsx"].reason
    # 汇总表已有“文件”列，原因不再重复文件名
    assert not any("截断的文件.xlsx" in r.reason or "其实是文本.xlsx" in r.reason for r in reasons.values())


def test_run_batch_sequential_equals_parallel(batch_dir):
    d, _ = batch_dir
    files = collect_files(d)
    a = run_batch(files, d, jobs=1)
    b = run_batch(files, d, jobs=2)
    assert [(r.file, r.ok, r.total, r.grade, r.counts) for r in a] == [(r.file, r.ok, r.total, r.grade, r.counts) for r in b]


def test_collect_files_skips_locks_hidden_output_and_reports_xls(tmp_path, demo_dir):
    shutil.copy(demo_dir / "baojing-2018.xlsx", tmp_path / "a.xlsx")
    (tmp_path / "~$a.xlsx").write_bytes(b"lock")
    (tmp_path / ".hidden.xlsx").write_bytes(b"x")
    (tmp_path / "sub").mkdir()
    shutil.copy(demo_dir / "zizhou-2021.xlsx", tmp_path / "sub" / "b.xlsm")
    (tmp_path / "old.xls").write_bytes(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 100)
    (tmp_path / "notes.txt").write_text("x")
    out = tmp_path / "汇总.xlsx"
    out.write_bytes(b"previous run")
    names = [p.relative_to(tmp_path).as_posix() for p in collect_files(tmp_path, exclude=[out])]
    assert names == ["a.xlsx", "old.xls", "sub/b.xlsm"]
    assert [p.name for p in collect_files(tmp_path, recursive=False, exclude=[out])] == ["a.xlsx", "old.xls"]
    res = run_batch(collect_files(tmp_path, exclude=[out]), tmp_path, jobs=1)
    by = {r.file: r for r in res}
    assert by["a.xlsx"].total == Decimal("94.90") and by["sub/b.xlsm"].total == Decimal("85.10")
    assert not by["old.xls"].ok and by["old.xls"].reason.startswith("该文件是 Excel 97-2003 旧格式")


def test_cell_text_starting_with_formula_chars_is_written_as_text(tmp_path):
    import dataclasses

    from addin.template.workbook import build_workbook
    from workbook_templates.examples import BAOJING_2018

    for n, name in enumerate(['=HYPERLINK("http://example.com","点我")', "+1", "-2", "@SUM(A1)"]):
        ex = dataclasses.replace(BAOJING_2018, scalars={**BAOJING_2018.scalars, "unit_name": name})
        build_workbook(ex.system, tmp_path / f"{n}.xlsx", ex)
    out = tmp_path / "out" / "汇总.xlsx"
    out.parent.mkdir()
    assert main(["batch", str(tmp_path), "-o", str(out), "--jobs", "1", "-q"]) == 0
    ws = openpyxl.load_workbook(out)["汇总"]
    units = [ws.cell(row=r, column=4) for r in range(2, 6)]
    assert all(c.data_type == "s" for c in units)
    assert {c.value for c in units} == {'=HYPERLINK("http://example.com","点我")', "+1", "-2", "@SUM(A1)"}
    assert [ws.cell(row=r, column=1).value for r in range(2, 6)] == [1, 1, 1, 1]  # 四份相同数据：并列第 1


def test_batch_cli_errors_are_chinese(tmp_path, capsys):
    assert main(["batch", str(tmp_path / "nope"), "-o", str(tmp_path / "o.xlsx")]) == 2
    assert "找不到文件夹" in capsys.readouterr().err
    assert main(["batch", str(tmp_path), "-o", str(tmp_path / "o.xlsx")]) == 2
    assert "没有 .xlsx" in capsys.readouterr().err
    assert main(["batch", str(tmp_path), "-o", str(tmp_path / "o.csv")]) == 2
    assert ".xlsx 结尾" in capsys.readouterr().err


def test_summarise_excludes_incomplete_from_ranking():
    from addin.batch.result import DeptResult

    D = Decimal
    rs = [DeptResult("a", True, system="hunan-dept", total=D("90"), grade="优"),
          DeptResult("b", True, system="hunan-dept", total=D("95"), grade="优", unscored=2),
          DeptResult("c", True, system="zizhou-dept", total=D("90"), grade="优秀"),
          DeptResult("d", False, reason="坏文件")]
    s = summarise(rs)
    assert s.rank == {"a": 1, "c": 1}
    assert s.rank_in_system == {"a": 1, "c": 1}
    assert dict(s.grade_dist["hunan-dept"]) == {"优": 1, "良": 0, "中": 0, "差": 0, "未完成计分": 1}
    assert [r.file for r in s.failed] == ["d"]


def test_batch_200_acceptance(gen200, tmp_path, capsys):
    """验收：200 个生成的工作簿 + 3 个坏文件，--jobs 2；汇总的排名、体系内排名、等级分布、失分指标、发现条数逐项核对，
    3 个坏文件列在“无法读取”表并打印在终端。

    期望值在本进程内逐个文件计算（FastBook 读取，约 3 秒）；FastBook 与 openpyxl 的逐格一致性在每第 20 个文件上检查。
    设置 JIXIAO_SLOW=1 时改用 openpyxl 读取全部 200 个计算期望值（多约 30 秒）。"""
    d, paths = gen200
    out = tmp_path / "汇总.xlsx"
    assert main(["batch", str(d), "-o", str(out), "--jobs", "2", "-q"]) == 1
    printed = capsys.readouterr().out
    assert "已处理 203 个文件：200 个已计分，3 个无法读取" in printed
    assert {line.split("：")[1] for line in printed.splitlines() if line.startswith("  无法读取：")} == BAD
    slow = bool(os.environ.get("JIXIAO_SLOW"))
    expected = _expected(paths, d, reader="openpyxl" if slow else "fast")
    if not slow:
        for p in paths[::20]:
            _same_grids(p)
    # 生成的数据确实覆盖了各种情况：三种体系、无法计分（不参与排名）、“错误”、并列名次
    assert Counter(e["system"] for e in expected.values()) == {"hunan-dept": 88, "zizhou-dept": 77, "project": 35}
    assert sum(1 for e in expected.values() if not e["complete"]) == 13  # 序号 i % 15 == 7：漏填基础数据
    # 序号 i % 11 == 4：调整得分没写理由，每个至少一条“错误”（其他检查可能另有发现，所以只要求至少）
    injected = [p.relative_to(d).as_posix() for i, p in enumerate(paths) if i % 11 == 4]
    assert len(injected) == 18 and all(expected[f]["errors"] >= 1 for f in injected)
    complete_totals = [e["total"] for e in expected.values() if e["complete"]]
    assert len(set(complete_totals)) < len(complete_totals)  # 有同分（并列名次要经受检验）
    _check_summary(out, expected, BAD)
