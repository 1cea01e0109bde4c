"""有界的代价：自由文字（调整理由、备注、文字材料、表中的标签）的解析是线性时间；过大的工作表在 openpyxl 加载之前被拒绝，
消息说出是哪张表、有多大；NaN/INF 数值、任何部件里的 DTD、编码花招都以中文说明并指明部件或单元格。

文字解析的线性由两样东西保证，测试分别核对：
1. 结构：扫描自由文字的正则表达式里，所有不限次数的量词都是占有式（*+、++、?+），匹配失败时不回溯——
   嵌套或相邻的可回溯量词（原来的 \\s*%?\\s*）正是平方级、指数级耗时的来源；
2. 行为：Excel 单元格最多 32,767 个字符，用这个长度的各种“最坏”文字（空格、数字、全角数字、分隔符、百分号、
   “其中”、括号及其混合）填进理由、备注、文字材料与标签，全部校验（run_checks）在 1 秒内完成（线性实现约 0.05 秒，
   原来的实现要 7 秒到数分钟）。
"""
from __future__ import annotations

import copy
import random
import re
import re._constants as sre_c  # type: ignore[import-not-found]
import re._parser as sre_parse  # type: ignore[import-not-found]
import subprocess
import sys
import time
import zipfile
from pathlib import Path

import pytest

from addin.checks import narrative, scores, texts
from addin.checks.run import run_checks
from addin.io import filecheck
from addin.io.book import BookError
from addin.scoring.engine import evaluate
from addin.scoring.reader import load

ROOT = Path(__file__).resolve().parent.parent
EXCEL_MAX_CHARS = 32767

# 扫描用户自由文字的正则（新加的也要登记在这里）
FREE_TEXT_PATTERNS = {
    "scores._PCT_RANGE": scores._PCT_RANGE,
    "texts._UNIT_DECL": texts._UNIT_DECL,
    "texts._UNIT_PAREN": texts._UNIT_PAREN,
    "narrative._MONEY": narrative._MONEY,
    "narrative._SENTENCE_END": narrative._SENTENCE_END,
}


def _backtracking_repeats(pattern: re.Pattern) -> list[str]:
    """模式中可回溯的不限次数量词（greedy/lazy 的 *、+、{n,}），占有式量词与原子组内的除外。"""
    found: list[str] = []

    def walk(items, atomic: bool) -> None:
        for op, av in items:
            if op in (sre_c.MAX_REPEAT, sre_c.MIN_REPEAT):
                lo, hi, sub = av
                if hi == sre_c.MAXREPEAT and not atomic:
                    found.append(f"{op} {{{lo},}} {list(sub)!r}"[:120])
                walk(sub, atomic)
            elif op == sre_c.POSSESSIVE_REPEAT:
                walk(av[2], True)
            elif op == sre_c.ATOMIC_GROUP:
                walk(av, True)
            elif op == sre_c.SUBPATTERN:
                walk(av[-1], atomic)
            elif op == sre_c.BRANCH:
                for alt in av[1]:
                    walk(alt, atomic)
            elif op in (sre_c.ASSERT, sre_c.ASSERT_NOT):
                walk(av[1], atomic)

    walk(sre_parse.parse(pattern.pattern, pattern.flags), False)
    return found


@pytest.mark.parametrize("name", sorted(FREE_TEXT_PATTERNS))
def test_free_text_patterns_never_backtrack_into_unbounded_repeats(name):
    assert _backtracking_repeats(FREE_TEXT_PATTERNS[name]) == [], name


def test_the_structural_check_catches_the_old_band_pattern():
    old = re.compile(r"(?<![\d.])(-?\d+(?:\.\d+)?)\s*%?\s*(?:-|–|—|~|至|到)\s*(-?\d+(?:\.\d+)?)\s*%")
    assert len(_backtracking_repeats(old)) == 8  # 四处 \d+、四处 \s*
    assert _backtracking_repeats(re.compile(r"a*+(?>b+)c")) == []


def test_possessive_band_pattern_finds_what_the_old_one_found():
    old = re.compile(r"(?<![\d.])(-?\d+(?:\.\d+)?)\s*%?\s*(?:-|–|—|~|至|到)\s*(-?\d+(?:\.\d+)?)\s*%")
    rng = random.Random(14)
    alphabet = ["1", "12", "3.5", "0", " ", "  ", "%", "-", "–", "~", "至", "到", ".", "x", "含", "(", "-1", "11-30%"]
    for _ in range(5000):
        text = "".join(rng.choice(alphabet) for _ in range(rng.randint(0, 14)))
        assert [m.groups() for m in scores._PCT_RANGE.finditer(text)] == [m.groups() for m in old.finditer(text)], text


def _worst_texts() -> dict[str, str]:
    """各种 32,767 个字符的“最坏”文字。"""
    n = EXCEL_MAX_CHARS

    def fill(unit: str, head: str = "") -> str:
        body = head + unit * ((n - len(head)) // len(unit) + 1)
        return body[:n]

    rng = random.Random(2024)
    mixed_alphabet = list("1１2 　%％-~～至到.．,，元万亿其中（）()。；\n") + ["其中", "万元", "11-30%"]
    return {
        "空格": " " * n,
        "1 后接空格": fill(" ", "1"),
        "1 后接空格再接百分号与空格": ("1" + " " * (n // 2) + "%" + " " * n)[:n],
        "数字": "1" * n,
        "全角数字": "１" * n,
        "数字空格交替": fill("1 "),
        "数字与分隔符": fill("1-"),
        "数字、空格与分隔符": fill("1 - "),
        "百分号": fill("1%"),
        "区间": fill("11-30% "),
        "小数点": fill("1."),
        "千分位": fill("1,000,"),
        "负号": fill("-1"),
        "分隔符后接空格": fill(" ", "10%-"),
        "其中": fill("其中"),
        "其中句": fill("其中。"),
        "金额其中": fill("1元其中"),
        "不自洽的其中（无标点）": fill("100元其中50元45元"),
        "不自洽的其中（有标点）": fill("100万元，其中50万元，45万元，"),
        "零元分项": fill("0元", "1亿元，其中"),
        "括号": fill("（"),
        "括号金额": fill("(1元"),
        "单位声明": fill("单位：", "金额") ,
        "单位后接空格": fill(" ", "单位"),
        "混合": "".join(rng.choice(mixed_alphabet) for _ in range(n))[:n],
    }


@pytest.fixture(scope="module")
def baojing(demo_dir):
    _, inputs = load(demo_dir / "baojing-2018.xlsx", with_cached=True)
    return inputs


def _with_text(inputs, text: str):
    """把一段文字填进：一个百分比指标的调整理由与备注、第一项文字材料、基础数据表第一行的标签。"""
    inp = copy.deepcopy(inputs)
    ev = evaluate(inp)
    pct_rows = {r.row for r in ev.indicators if r.unit == "%"}
    row = next(r for r in inp.rows if r.row in pct_rows)
    row.reason = text
    row.note = text
    first_text = next(iter(inp.texts))
    inp.texts[first_text] = text
    first_label = next(iter(inp.table_labels))
    inp.table_labels[first_label] = text
    return inp


@pytest.mark.parametrize("kind", sorted(_worst_texts()))
def test_checks_on_the_worst_32767_character_cells_take_well_under_a_second(baojing, kind):
    text = _worst_texts()[kind]
    assert len(text) == EXCEL_MAX_CHARS
    inp = _with_text(baojing, text)
    ev = evaluate(inp)
    started = time.process_time()
    findings = run_checks(inp, ev)
    spent = time.process_time() - started
    # 线性实现约 0.05 秒；原来的实现在“1 后接空格”上 7 秒、在“不自洽的其中”上数分钟。上限留 20 倍余量：
    # 用的是本进程的 CPU 时间，机器上其他进程的负载不计入
    assert spent < 1.0, f"{kind}：{spent:.2f} 秒"
    assert all(f.message for f in findings)


# =====================================================================================================================
# 规模上限：在 openpyxl 加载之前，由 zip 中央目录与一次流式计数判断
# =====================================================================================================================
def _add_sheet(src: Path, dst: Path, name: str, body: str, *, extra_parts: dict[str, bytes] | None = None,
               tail: str = "") -> Path:
    """在工作簿里加一张工作表（sheetData 内容为 body，其后接 tail），其余部件原样复制。"""
    sheet_part = "xl/worksheets/sheet99.xml"
    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(dst, "w", zipfile.ZIP_DEFLATED) as zout:
        for info in zin.infolist():
            data = zin.read(info.filename)
            if info.filename == "xl/workbook.xml":
                data = data.replace(b"</sheets>", (
                    '<sheet xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships" '
                    f'name="{name}" sheetId="99" r:id="rId99"/></sheets>').encode())
            elif info.filename == "xl/_rels/workbook.xml.rels":
                data = data.replace(b"</Relationships>", (
                    '<Relationship Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" '
                    f'Target="/{sheet_part}" Id="rId99"/></Relationships>').encode())
            elif info.filename == "[Content_Types].xml":
                data = data.replace(b"</Types>", (
                    f'<Override PartName="/{sheet_part}" ContentType="application/'
                    'vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/></Types>').encode())
            zout.writestr(info, data)
        zout.writestr(sheet_part, '<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
                                  f'<sheetData>{body}</sheetData>{tail}</worksheet>')
        for part, data in (extra_parts or {}).items():
            zout.writestr(part, data)
    return dst


def _cells(n: int, cols: int = 10) -> str:
    """n 个数值单元格，每行 cols 个。"""
    letters = "ABCDEFGHIJ"[:cols]
    rows = []
    for r in range((n + cols - 1) // cols):
        k = min(cols, n - r * cols)
        rows.append(f'<row r="{r + 1}">' + "".join(f'<c r="{letters[j]}{r + 1}"><v>{r}</v></c>' for j in range(k)) + "</row>")
    return "".join(rows)


def _counted(path: Path) -> int:
    """inspect_file 的计数（单元格 + 行 + 列 + 合并/超链接区域），与上限比较的就是它。"""
    costs: dict = {}
    with zipfile.ZipFile(path) as zf:
        filecheck._scan_parts(path, zf, zf.infolist(), costs)
    return sum(filecheck._cells_of_part(c) for c in costs.values())


@pytest.fixture(scope="module")
def demo_book(demo_dir) -> Path:
    return demo_dir / "zizhou-2021.xlsx"


def test_a_sheet_over_the_cell_limit_is_refused_naming_it_and_its_size(demo_book, tmp_path):
    base = _counted(demo_book)
    assert 1000 < base < 20000  # 一份真实大小的工作簿
    # 到上限为止照常通过检查（不加载）；超出：拒绝，说出是哪张表、有多少
    fits = filecheck.MAX_CELLS - base
    n_fit = fits - (fits + 10) // 11  # 每 10 个单元格一个 <row>：n 个单元格计 n + ceil(n/10)
    ok = _add_sheet(demo_book, tmp_path / "恰好.xlsx", "明细", _cells(n_fit))
    filecheck.inspect_file(ok)
    over = _add_sheet(demo_book, tmp_path / "超出.xlsx", "明细", _cells(n_fit + 11))
    with pytest.raises(BookError) as e:
        filecheck.inspect_file(over)
    msg = str(e.value)
    # 这张表本身未超，但与其他表合计超了：列出最大的几张表与合计
    assert re.search(r"各工作表（工作表“明细” 2\d\d,\d{3} 个、工作表“评分表” [\d,]+ 个、.*）合计约有 300,0\d\d 个单元格"
                     r".*超过 jixiao 的上限 300,000 个", msg), msg


def test_the_batch_reader_stops_at_the_same_limit(demo_book, tmp_path, monkeypatch):
    """批量读取器 FastBook 只解析它要读的表；解析到超过上限的那一格就停下，说法与单文件命令相同。"""
    from addin.io.fastbook import FastBook

    monkeypatch.setattr(filecheck, "MAX_CELLS", 500)
    big = _add_sheet(demo_book, tmp_path / "大.xlsx", "明细", _cells(2000))
    fb = FastBook(big)
    with pytest.raises(BookError, match="工作表“明细”约有 501 个单元格.*上限 500 个"):
        fb.grid("明细")
    fb.close()


def test_sheets_under_the_limit_each_but_over_it_together_are_refused(demo_book, tmp_path, monkeypatch):
    monkeypatch.setattr(filecheck, "MAX_CELLS", _counted(demo_book) + 150)
    two = _add_sheet(demo_book, tmp_path / "a.xlsx", "明细一", _cells(100))
    assert _counted(two) <= filecheck.MAX_CELLS
    with zipfile.ZipFile(two) as zin, zipfile.ZipFile(tmp_path / "b.xlsx", "w") as zout:
        for info in zin.infolist():
            zout.writestr(info, zin.read(info.filename))
        zout.writestr("xl/worksheets/sheet98.xml", zin.read("xl/worksheets/sheet99.xml"))
    with pytest.raises(BookError, match="各工作表（.*）合计约有"):
        filecheck.inspect_file(tmp_path / "b.xlsx")


@pytest.mark.parametrize("tail, label", [
    ('<mergeCells count="1"><mergeCell ref="A100:XFD1048576"/></mergeCells>', "合并单元格"),
    ('<hyperlinks><hyperlink ref="A100:XFD1048576" location="A1"/></hyperlinks>', "超链接"),
])
def test_a_tiny_file_whose_merge_or_hyperlink_covers_the_whole_sheet_is_refused_at_once(demo_book, tmp_path, tail,
                                                                                           label):
    """openpyxl 为合并区域与超链接区域里的每一格建对象：30 KB 的文件让 jixiao check 永远读不完（原来要强行结束）。
    在子进程里运行，原来的实现会超时而不是让测试卡住。"""
    bomb = _add_sheet(demo_book, tmp_path / f"{label}.xlsx", "附表", "", tail=tail)
    assert bomb.stat().st_size < 100_000
    try:
        r = subprocess.run([sys.executable, "-m", "addin.cli", "check", str(bomb)], capture_output=True, text=True,
                           timeout=120, cwd=str(ROOT))
    except subprocess.TimeoutExpired:
        pytest.fail(f"{label}覆盖整张表：jixiao check 两分钟没有结束")
    assert r.returncode == 2, r.stdout + r.stderr
    area = (1048576 - 100 + 1) * 16384
    assert f"工作表“附表”约有 {area:,} 个单元格" in r.stderr and "Traceback" not in r.stderr


def test_formatted_rows_count_like_cells(demo_book, tmp_path):
    """只有行高、没有单元格的行也要 openpyxl 建对象（本机 50 万行 19 秒、640 MB）。"""
    rows = "".join(f'<row r="{r}" ht="20" customHeight="1"/>' for r in range(1, filecheck.MAX_CELLS + 2))
    big = _add_sheet(demo_book, tmp_path / "行.xlsx", "格式", rows)
    with pytest.raises(BookError, match="工作表“格式”约有"):
        filecheck.inspect_file(big)


def test_shared_string_count_limit(demo_book, tmp_path, monkeypatch):
    n = filecheck.MAX_SHARED_STRINGS + 1
    sst = ('<sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
           + "".join(f"<si><t>{i}</t></si>" for i in range(n)) + "</sst>").encode()
    # 计数按内容，不按部件名：另放一个共享字符串表（改名的部件）同样被数到
    big = _add_sheet(demo_book, tmp_path / "sst.xlsx", "附表", "", extra_parts={"xl/strings2.xml": sst})
    with pytest.raises(BookError, match=r"共享字符串表（部件“xl/strings2.xml”）有 300,\d{3} 条，超过上限 300,000 条"):
        filecheck.inspect_file(big)
    from addin.io.fastbook import FastBook

    monkeypatch.setattr(filecheck, "MAX_SHARED_STRINGS", 5)  # 批量读取器解析共享字符串表时同样计数
    fb = FastBook(demo_book)
    with pytest.raises(BookError, match="共享字符串表有 [\\d,]+ 条，超过上限 5 条"):
        fb.grid("评分表")
    fb.close()


def test_part_size_limit_names_the_part(demo_book, tmp_path, monkeypatch):
    monkeypatch.setattr(filecheck, "MAX_PART_XML_BYTES", 200_000)
    big = _add_sheet(demo_book, tmp_path / "大.xlsx", "附表", _cells(20_000))
    with pytest.raises(BookError, match="部件“xl/worksheets/sheet99.xml”解压后 .*超过单个 XML 部件的上限"):
        filecheck.inspect_file(big)
    from addin.io.fastbook import FastBook

    fb = FastBook(big)
    with pytest.raises(BookError, match="工作表“附表”（部件“xl/worksheets/sheet99.xml”）解压后"):
        fb.grid("附表")
    fb.close()


def test_counting_is_not_fooled_by_chunk_boundaries_prefixes_or_utf16(tmp_path):
    """计数按完整的标签进行：标签跨过 1 MB 的读块边界、带命名空间前缀、UTF-16 编码，都一个不漏。"""
    import codecs

    pad = "x" * (filecheck.MB - 5)
    xml = (f'<x:worksheet xmlns:x="urn:x"><x:sheetData><x:row r="1"><x:c r="A1"><x:is><x:t>{pad}</x:t></x:is></x:c>'
           '<x:c r="B1"/></x:row></x:sheetData><x:mergeCells><x:mergeCell ref="A2:B3"/></x:mergeCells></x:worksheet>')
    for name, data in (("utf8", xml.encode()), ("utf16", codecs.BOM_UTF16_LE + xml.encode("utf-16-le"))):
        p = tmp_path / f"{name}.zip"
        with zipfile.ZipFile(p, "w", zipfile.ZIP_DEFLATED) as z:
            z.writestr("xl/worksheets/sheet1.xml", data)
        costs: dict = {}
        with zipfile.ZipFile(p) as zf:
            filecheck._scan_parts(p, zf, zf.infolist(), costs)
        c = costs["xl/worksheets/sheet1.xml"]
        assert (c[b"c"], c[b"row"], c[b"area"]) == (2, 1, 4), name


# =====================================================================================================================
# 校验中的“文字材料未填写”只生成用到文字材料的章节：结果与生成整份报告逐条相同
# =====================================================================================================================
def test_text_findings_equal_the_full_report_findings_for_any_blank_texts():
    from addin.report.sections import build_report, text_findings
    from addin.template.inputs import layout_inputs
    from workbook_templates.examples import EXAMPLES
    from workbook_templates.systems import SYSTEMS

    rng = random.Random(15)
    compared, with_missing = 0, set()
    for name, ex in EXAMPLES.items():
        base = layout_inputs(SYSTEMS[ex.system], ex)
        keys = [t.key for t in SYSTEMS[ex.system].texts]
        scalar_keys = [s.key for s in SYSTEMS[ex.system].scalars]
        blanks = [[], keys] + [[k] for k in keys] + [rng.sample(keys, rng.randint(1, len(keys))) for _ in range(6)]
        for blank in blanks:
            for drop_scalars in ([], rng.sample(scalar_keys, min(4, len(scalar_keys)))):
                inp = copy.deepcopy(base)
                for k in blank:
                    inp.texts[k] = None
                for k in drop_scalars:  # 人数、金额等未填时，有些文字材料改为可选（staff_known、money_known……）
                    inp.scalars[k] = None
                ev = evaluate(inp)
                full = build_report(inp, ev, []).findings
                assert text_findings(inp, ev) == full, (name, blank, drop_scalars)
                compared += 1
                with_missing |= {(name, f.cell) for f in full}
    assert compared > 80 and len(with_missing) >= 12  # 比较里确有各种缺项（四个示例的不同单元格）
