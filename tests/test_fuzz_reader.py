"""读取器的模糊测试（hypothesis 生成工作簿）：随便怎么改工作簿，jixiao 要么读出来并给出中文发现，要么以中文说明拒绝，
绝不抛出其他异常（用户会看到回溯）。

两个目标：
1. 单元格级：取一本示例工作簿，随机改单元格（文本、全角数字、错误值、日期、超大数、公式……）、插入/删除行、合并单元格、
   改名/删除工作表，再经 reader.load → 计分 → 校验 → 生成报告；
2. 文件级：把某个 XML 部件截断、插入乱码或 DTD、删除部件、翻转文件字节，再经 safebook.open_book → reader.load。

CI 中只跑少量固定的例子（derandomize=True：每次运行生成同样的例子，失败可复现）。本地多跑：
    JIXIAO_FUZZ_EXAMPLES=2000 .venv/bin/python -m pytest -q tests/test_fuzz_reader.py
"""
from __future__ import annotations

import datetime as dt
import io
import os
import re
import zipfile
from decimal import Decimal
from pathlib import Path

import openpyxl
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

from addin.checks.run import run_checks
from addin.io.book import BookError
from addin.report.sections import build_report
from addin.scoring.engine import evaluate
from addin.scoring.reader import ReadError, load

EXAMPLES = int(os.environ.get("JIXIAO_FUZZ_EXAMPLES", "12"))
# 不缩小失败例子（Phase.shrink）：每个例子要存取一次工作簿，缩小可能耗时数分钟；失败时报告原始例子即可复现
FUZZ = settings(max_examples=EXAMPLES, derandomize=True, deadline=None, database=None,
                phases=(Phase.explicit, Phase.reuse, Phase.generate),
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture,
                                       HealthCheck.data_too_large])
CHINESE = re.compile(r"[\u4e00-\u9fff]")
SEVERITIES = {"错误", "警告", "提示"}
A1 = re.compile(r"^\$?[A-Z]{1,3}\$?\d+(:\$?[A-Z]{1,3}\$?\d+)?$")
BASES = ["baojing-2018", "zizhou-2021", "shiping-2022", "kaifu-2020"]
SHEETS = ["基础数据表", "评分表", "文字材料"]

# 人们会往单元格里填的东西（以及一些恶意的）
cell_values = st.one_of(
    st.none(),
    st.sampled_from(["", " ", "—", "-", "无", "不适用", "#DIV/0!", "#N/A", "#REF!", "95％", "３７４５", "3745（2177）",
                     "1,234.5", "30人", "优秀", "良好", "达成", "部分达成", "≥", "≤", "分档", "线性插值", "满分", "报错",
                     '=HYPERLINK("http://x","y")', "=1/0", "=SUM(A1:A3)", "@SUM(A1)", "+1", "-", "是", "否",
                     "万元", "元", "hunan-dept", "staff_quota", "代码", "分值", "等级标准", "\x00", "很长" * 2000]),
    st.text(max_size=12),
    st.integers(min_value=-10 ** 20, max_value=10 ** 20),
    st.floats(allow_nan=False, allow_infinity=False),
    st.decimals(min_value=-10 ** 6, max_value=10 ** 6, places=4, allow_nan=False, allow_infinity=False),
    st.booleans(),
    st.datetimes(min_value=dt.datetime(1900, 3, 1), max_value=dt.datetime(2100, 1, 1)),
)

mutation = st.one_of(
    st.tuples(st.just("set"), st.sampled_from(SHEETS), st.integers(1, 70), st.integers(1, 26), cell_values),
    st.tuples(st.just("insert"), st.sampled_from(SHEETS), st.integers(1, 60), st.integers(1, 3)),
    st.tuples(st.just("delete"), st.sampled_from(SHEETS), st.integers(1, 60), st.integers(1, 2)),
    st.tuples(st.just("merge"), st.sampled_from(SHEETS), st.integers(1, 60), st.integers(1, 20), st.integers(0, 2),
              st.integers(0, 2)),
    st.tuples(st.just("rename"), st.sampled_from(SHEETS), st.sampled_from(["基础数据", "评分表 ", "Sheet1", "评分表2"])),
    st.tuples(st.just("drop"), st.sampled_from(SHEETS)),
)


_BASES: dict[str, bytes] = {}


def _base(demo_dir: Path, name: str) -> bytes:
    """示例工作簿的字节（缓存；不作为 hypothesis 的参数，免得失败报告里打印整个文件）。"""
    if name not in _BASES:
        _BASES[name] = (demo_dir / f"{name}.xlsx").read_bytes()
    return _BASES[name]


def _apply(wb, m) -> None:
    kind, sheet = m[0], m[1]
    if sheet not in wb.sheetnames:
        return
    ws = wb[sheet]
    if kind == "set":
        _, _, r, c, v = m
        cell = ws.cell(r, c)
        if type(cell).__name__ == "MergedCell":  # 合并区域中的格不可写（Excel 同样不允许）
            return
        if isinstance(v, str):
            v = ILLEGAL_CHARACTERS_RE.sub("", v)  # openpyxl 拒绝控制字符（Excel 也存不进去），不是可能的输入
        cell.value = v
    elif kind == "insert":
        ws.insert_rows(m[2], m[3])
    elif kind == "delete":
        ws.delete_rows(m[2], m[3])
    elif kind == "merge":
        _, _, r, c, dr, dc = m
        if dr or dc:
            ws.merge_cells(start_row=r, start_column=c, end_row=r + dr, end_column=c + dc)
    elif kind == "rename":
        if m[2] not in wb.sheetnames:
            ws.title = m[2]
    elif kind == "drop":
        del wb[sheet]


def _check_result(path: Path) -> str:
    """运行读取 → 计分 → 校验 → 报告；返回结果说明。只允许 BookError/ReadError（中文说明）。"""
    try:
        book, inputs = load(path, with_cached=True)
    except (BookError, ReadError) as exc:
        assert CHINESE.search(str(exc)), str(exc)
        assert "Traceback" not in str(exc)
        return "refused"
    ev = evaluate(inputs)
    findings = run_checks(inputs, ev)
    for f in findings:
        assert f.severity in SEVERITIES, f
        assert CHINESE.search(f.message), f
        assert isinstance(f.sheet, str) and f.sheet
        assert not f.cell or A1.match(f.cell), f
    for ind in ev.indicators:
        if ind.points is None:
            continue
        for s in (ind.computed, ind.final):
            # 规则算出的得分总在 [0, 分值]；评价人手填的得分（调整得分、改写的计算得分）超出时与 Excel 的 FINAL_SCORE
            # 一样原样计入，但必须有一条指向该行的“错误”
            if s is not None and not 0 <= s <= ind.points:
                rows = {int(re.sub(r"\D", "", f.cell.split(":")[0]) or 0) for f in findings
                        if f.severity == "错误" and f.sheet == "评分表" and f.cell}
                assert ind.row in rows, (ind.code, s, ind.points)
    # 总分只在全部指标计分时给出；未计分的每一项都在 missing 中，指向一个单元格并有中文原因
    assert (ev.total is None) == (not ev.complete) == bool(ev.missing)
    assert [m["code"] for m in ev.missing] == [i.code for i in ev.indicators if i.final is None]
    assert all(CHINESE.search(m["reason"]) and "!" in m["cell"] for m in ev.missing)
    if ev.total is not None:
        assert isinstance(ev.total, Decimal) and isinstance(ev.grade, str)
        assert ev.total >= 0 or any(ind.final is not None and ind.final < 0 for ind in ev.indicators)
    report = build_report(inputs, ev, findings)
    assert report.title and report.blocks
    return "read"


@FUZZ
@given(base=st.sampled_from(BASES), mutations=st.lists(mutation, min_size=1, max_size=6))
def test_reader_survives_generated_workbooks(demo_dir, tmp_path_factory, base, mutations):
    wb = openpyxl.load_workbook(io.BytesIO(_base(demo_dir, base)))
    for m in mutations:
        _apply(wb, m)
    path = tmp_path_factory.mktemp("fuzz") / "f.xlsx"
    try:
        wb.save(path)
    except (ValueError, TypeError, IndexError):  # openpyxl 写不出的工作簿（非法值、没有可见的表；Excel 也存不了）
        return
    _check_result(path)


# ---------------------------------------------------------------------------------------------------------------
# 文件级
# ---------------------------------------------------------------------------------------------------------------
def _rezip(data: bytes, name: str, new: bytes | None) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as zin, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as zout:
        for item in zin.infolist():
            if item.filename != name:
                zout.writestr(item, zin.read(item))
            elif new is not None:
                zout.writestr(item, new)
    return out.getvalue()


part_edit = st.one_of(
    st.tuples(st.just("truncate"), st.floats(0, 1)),
    st.tuples(st.just("insert"), st.floats(0, 1), st.binary(min_size=1, max_size=20)),
    st.tuples(st.just("insert"), st.floats(0, 1), st.sampled_from([b"<", b"&", b"]]>", b'"', b"<x>", b"</row>",
                                                                 b'<c r="ZZZZ1"><v>1</v></c>', b"\xff\xfe"])),
    st.tuples(st.just("doctype"),),
    st.tuples(st.just("remove"),),
)


@FUZZ
@given(base=st.sampled_from(BASES), member=st.integers(0, 50), edit=part_edit,
       flips=st.lists(st.tuples(st.floats(0, 1), st.integers(0, 255)), max_size=3))
def test_open_survives_damaged_files(demo_dir, tmp_path_factory, base, member, edit, flips):
    data = _base(demo_dir, base)
    names = [n for n in zipfile.ZipFile(io.BytesIO(data)).namelist() if not n.endswith("/")]
    name = names[member % len(names)]
    xml = zipfile.ZipFile(io.BytesIO(data)).read(name)
    if edit[0] == "truncate":
        data = _rezip(data, name, xml[: int(len(xml) * edit[1])])
    elif edit[0] == "insert":
        k = int(len(xml) * edit[1])
        data = _rezip(data, name, xml[:k] + edit[2] + xml[k:])
    elif edit[0] == "doctype":
        data = _rezip(data, name, b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "b">]>' + xml.split(b"?>", 1)[-1])
    else:
        data = _rezip(data, name, None)
    raw = bytearray(data)
    for pos, byte in flips:  # 再翻转几个字节（压缩数据、文件头或中央目录）
        raw[min(int(len(raw) * pos), len(raw) - 1)] = byte
    path = tmp_path_factory.mktemp("fuzz") / "f.xlsx"
    path.write_bytes(bytes(raw))
    result = _check_result(path)
    if edit[0] == "doctype":
        assert result == "refused"


def test_fuzz_targets_see_both_outcomes(demo_dir, tmp_path):
    """防止模糊测试空转：同样的检查对好文件给出“read”，对坏文件给出“refused”。"""
    good = tmp_path / "g.xlsx"
    good.write_bytes(_base(demo_dir, "baojing-2018"))
    assert _check_result(good) == "read"
    bad = tmp_path / "b.xlsx"
    bad.write_bytes(_rezip(_base(demo_dir, "baojing-2018"), "xl/workbook.xml", b"<workbook"))
    assert _check_result(bad) == "refused"
