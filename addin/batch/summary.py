"""汇总工作簿：排名（并列同名次）、等级分布、失分最多的指标、全部校验发现与无法读取的文件。SummaryBuilder 随结果到达
逐个累加（不保留发现列表），“校验发现”表从缓存流式写出（XlsxWriter constant_memory）；排名与分组统计用 pandas，只在这里导入
（导入约 0.3 秒，每次汇总付一次，与工作簿个数无关）。
从单元格复制来的文字一律按文本写入。
"""
from __future__ import annotations

import copy
import io
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any, Callable, Sequence

from ..io import locks, safeio
from .result import DeptResult


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
        loss = self._loss
        for level1, name, points, final in (r.indicators if r.ok else ()):
            key = (r.system, _squash(name))
            a = loss.get(key)
            if a is None:
                a = loss[key] = [r.file, level1, set(), 0, Decimal(0), 0, 0]
            elif r.file < a[0]:
                a[0], a[1] = r.file, level1  # 一级指标取文件名最前的那个（与顺序无关）
            if points is not None:
                a[2].add(points)
            scored = final is not None and points is not None
            if final is not None and points is not None and final < points:  # 即 scored 且失分
                a[3] += 1
                a[4] += points - final
            a[5] += scored
            a[6] += 1
        row = copy.copy(r)  # 浅复制后换掉两个列表：调用方的结果不变
        row.indicators = []
        row.n_findings = max(r.n_findings, len(r.findings))
        if not self.keep_findings:
            row.findings = []
        self.rows.append(row)

    def finish(self) -> Summary:
        return _summary(sorted(self.rows, key=lambda r: r.file), self._loss)


def summarise(results: Sequence[DeptResult]) -> Summary:
    """由逐个文件的结果计算排名、等级分布与失分最多的指标（SummaryBuilder 的列表形式；结果保持原顺序）。"""
    b = SummaryBuilder()
    for r in results:
        b.add(r)
    return _summary(b.rows, b._loss)


def preload_in_background() -> None:
    """在后台线程里导入写汇总要用的 pandas 与 XlsxWriter（约 0.4 秒）。批量处理在第一个结果到来后调用：子进程已经启动
    （先 fork 后开线程，子进程不会继承进行到一半的导入），主线程此时只在等结果，导入与子进程的计分同时进行，
    而不是在全部处理完之后单独等它。主线程随后的 import 会等这个导入完成；导入失败时留给真正用到的地方报告。"""
    import gc
    import threading

    def load() -> None:
        try:
            import pandas  # noqa: F401
            import xlsxwriter  # noqa: F401
        except ImportError:
            return
        gc.freeze()  # 刚导入的模块（约十万个对象）一直用到退出：同 batch 命令，不让完整回收反复扫描它们

    threading.Thread(target=load, name="jixiao-summary-imports", daemon=True).start()


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
                          "total": [float(r.total) if r.complete and r.total is not None else float("nan")
                                    for r in ok]})
    # astype(bool)：没有可计分的工作簿时列为空的 object 类型，pandas 会把它当成列名列表而不是布尔筛选
    ranked = depts[depts["complete"].astype(bool)]
    rank = dict(zip(ranked["file"], ranked["total"].rank(method="min", ascending=False).astype(int), strict=True))
    rank_sys = dict(zip(ranked["file"],
                        ranked.groupby("system")["total"].rank(method="min", ascending=False).astype(int), strict=True))

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


_SQUASHED: dict[str, str] = {}


def _squash(name: str) -> str:
    """指标名称的空白规范化（归并同名指标用）。同一体系的名称在各工作簿里反复出现，记下结果（上限 10000 条）。"""
    got = _SQUASHED.get(name)
    if got is None:
        if len(_SQUASHED) > 10000:
            _SQUASHED.clear()
        got = _SQUASHED[name] = " ".join(name.split())
    return got


def _num_text(x: Decimal) -> str:
    s = format(x.normalize(), "f") if isinstance(x, Decimal) else str(x)
    return s


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
        self._put(r, c, v, self.fmt.get(style) if style else None)

    def _put(self, r: int, c: int, v: Any, f: Any) -> None:
        if v is None or v == "":
            if f is not None:
                self.ws.write_blank(r, c, None, f)
        elif isinstance(v, bool):
            self.ws.write_boolean(r, c, v, f)
        elif isinstance(v, (int, float, Decimal)):
            self.ws.write_number(r, c, float(v), f)
        else:
            self.ws.write_string(r, c, str(v), f)

    def formats(self, styles: Sequence[str | None] | str | None, n: int) -> list[Any]:
        """一行 n 个单元格的格式（按名称取一次，逐行写大表时不再每格查找）。"""
        if isinstance(styles, str) or styles is None:
            return [self.fmt.get(styles) if styles else None] * n
        return [self.fmt.get(st) if st else None for st in styles]

    def row(self, r: int, values: Sequence[Any], styles: Sequence[str | None] | str | None = None) -> None:
        self.put_row(r, values, self.formats(styles, len(values)))

    def put_row(self, r: int, values: Sequence[Any], formats: Sequence[Any]) -> None:
        ws = self.ws
        for c, v in enumerate(values):
            t = type(v)  # 绝大多数单元格是非空文字或数：按确切类型直接写，其余与 _put 相同
            if t is str and v:
                ws.write_string(r, c, v, formats[c])
            elif t is Decimal or t is int or t is float:
                ws.write_number(r, c, float(v), formats[c])
            else:
                self._put(r, c, v, formats[c])


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
    row_formats = w.formats(["int", "int", "text", "text", "text", "text", "score", "text"] + ["score"] * len(s.level1_names)
                            + ["int"] * 4 + (["score", "text", "score"] if has_self else []) + ["text"], len(headers))
    for n, r in enumerate(ordered, 1):
        lv = {name: score for name, score, _ in r.level1}
        note = "" if r.complete else f"有 {r.unscored} 项指标无法计分，总分不完整，未参与排名与等级分布"
        vals: list[Any] = [s.rank.get(r.file), s.rank_in_system.get(r.file), r.file, r.unit, r.system, r.year,
                           r.total, r.grade] + [lv.get(x) for x in s.level1_names] + \
                          [r.errors, r.warnings, r.counts.get("提示", 0), r.unscored]
        if has_self:
            diff = r.self_score - r.total if r.self_score is not None and r.total is not None else None
            vals += [r.self_score, r.self_grade, diff]
        vals.append(note)
        w.put_row(n, vals, row_formats)
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
    by_severity: dict[str, list[Any]] = {}
    for r in sorted(s.ok, key=lambda r: r.file):
        for sev, sheet, cell, code, msg in (findings_of(r) if max(r.n_findings, len(r.findings)) else ()):
            n += 1
            formats = by_severity.get(sev)
            if formats is None:
                formats = by_severity[sev] = w.formats(
                    ["text", "text", sev if sev in fmt else "text", "text", "text", "text", "wrap"], 7)
            w.put_row(n, [r.file, r.unit, sev, sheet, cell, code, msg], formats)
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
