"""检查（二）评分表：分值合计、得分范围、保存的小计/总分/等级与重算结果（含“未完成”）、自评等级；评价人的调整
（达标却未给满分、未达标却给满分、其他调整）、扣分依据、理由中引用的分档区间。
"""
from __future__ import annotations

import re
import unicodedata
from collections import defaultdict
from dataclasses import dataclass
from decimal import Decimal
from functools import cached_property, lru_cache
from typing import Any, Iterable

from udfs.rule import RuleError
from udfs.scoring import DeductionChecklist, GradeScale, Manual
from udfs.targets import Qualitative, Target

from ..model import SHEET_SCORES, Finding, Formula, IndicatorResult
from . import findings as F
from .context import (
    POINTS_TOTAL,
    SCORE_TOLERANCE,
    ZERO,
    Context,
    _gap_ok,
    _n,
    _number,
    _pct,
    _raw_text,
    _short,
    _usable,
)


def check_points_total(ctx: Context) -> list[Finding]:
    """各三级指标分值合计应为 100 分（分值为填写的精确数，不设容差）。"""
    points = [r.points for r in ctx.ev.indicators if r.points is not None]
    if not ctx.ev.indicators or len(points) != len(ctx.ev.indicators):
        return []  # 有分值无效的行时，引擎已报告 bad-points，合计无意义
    total = sum(points, ZERO)
    if total == POINTS_TOTAL:
        return []
    row = ctx.inputs.cells.get(("total",), (SHEET_SCORES, ""))[1]
    cell = ctx.score_cell("points", row) if row else ctx.ev.indicators[-1].cells.get("points", "")
    detail = "；".join(f"{k} {_n(v.points)}" for k, v in ctx.ev.level1.items())
    return [F.make("points-total-not-100", SHEET_SCORES, cell, total=_n(total), detail=detail,
                   expected=POINTS_TOTAL, actual=total)]


def check_score_bounds(ctx: Context) -> list[Finding]:
    """每项得分在 0～分值之间（调整得分、手工改写的计算得分都可能越界）。"""
    out: list[Finding] = []
    for res in ctx.ev.indicators:
        final, points = res.final, res.points
        if final is None or points is None or 0 <= final <= points:
            continue
        cell = res.cells.get("override" if res.override is not None else "computed", "")
        if final > points:
            out.append(F.make("score-exceeds-max", SHEET_SCORES, cell, indicator=res.name, score=_n(final),
                              points=_n(points), expected=points, actual=final))
        else:
            out.append(F.make("score-negative", SHEET_SCORES, cell, indicator=res.name, score=_n(final),
                              expected=ZERO, actual=final))
    return out


_REF = re.compile(r"\$?([A-Z]{1,3})\$?(\d+)(?::\$?([A-Z]{1,3})\$?(\d+))?")
_SIMPLE_SUM = re.compile(r"^=\s*(?:SUM\([^()]*\)|\$?[A-Z]{1,3}\$?\d+)(?:\s*\+\s*(?:SUM\([^()]*\)|\$?[A-Z]{1,3}\$?\d+))*\s*$",
                         re.IGNORECASE)
# 模板的小计/总分公式外面的“未完成”判断：=IF(条件,"未完成",汇总)
_GUARDED = re.compile(r'^=\s*IF\((?P<cond>.*),\s*"未完成"\s*,(?P<value>.*)\)\s*$', re.IGNORECASE | re.DOTALL)
_RANGE = r"\$?[A-Z]{1,3}\$?\d+:\$?[A-Z]{1,3}\$?\d+"
# 模板的小计：SUM(区域)−SUMIF(规则类型区域,"",区域)——规则类型为空的父行不计入
_SUM_MINUS_PARENTS = re.compile(rf'^\s*SUM\((?P<a>{_RANGE})\)\s*-\s*SUMIF\((?P<rule>{_RANGE})\s*,\s*""\s*,\s*(?P<b>{_RANGE})\)\s*$',
                                re.IGNORECASE)
INCOMPLETE_TEXT = "未完成"


@dataclass
class _Summary:
    """小计/总分公式汇总的行。rows 可重复（重复即重复计算）；parents_excluded：公式按规则类型排除父行（模板的新式小计）；
    consistent：公式各处引用的区域一致（“未完成”判断与汇总引用同样的行）。"""

    rows: list[int]
    cols: set[str]
    parents_excluded: bool = False
    consistent: bool = True
    guarded: bool = False

    @cached_property
    def row_set(self) -> frozenset[int]:
        return frozenset(self.rows)

    @cached_property
    def repeated(self) -> frozenset[int]:
        """汇总了不止一次的行。"""
        seen: set[int] = set()
        twice: set[int] = set()
        for r in self.rows:
            (twice if r in seen else seen).add(r)
        return frozenset(twice)


def _refs(text: str) -> list[tuple[str, int, str, int]]:
    out = []
    for m in _REF.finditer(text.upper()):
        c1, r1 = m.group(1), int(m.group(2))
        c2, r2 = (m.group(3), int(m.group(4))) if m.group(3) else (c1, r1)
        out.append((c1, min(r1, r2), c2, max(r1, r2)))
    return out


@lru_cache(maxsize=4096)
def _formula_rows(text: str) -> _Summary | None:
    """小计/总分公式 → 汇总的行与列。认识三种写法：只由 SUM(区域) 与单元格相加构成的公式（旧模板与手写）；
    模板的 SUM(区域)−SUMIF(规则类型区域,"",区域)；以及外面套着 IF(…,"未完成",…) 的这两种。其他公式返回 None（不做文本核对）。
    结果缓存（同一模板的小计公式在每个工作簿里都一样），调用方只读不改。"""
    if "#REF!" in text.upper():
        return _Summary([], set(), consistent=False)  # 删除了公式引用的行（如删掉一组中唯一的指标行）
    if "!" in text:
        return None
    guarded = _GUARDED.match(text)
    value = guarded.group("value") if guarded else text.lstrip("=")
    m = _SUM_MINUS_PARENTS.match(value)
    if m:
        a, rule, b = (_refs(m.group(k))[0] for k in ("a", "rule", "b"))
        span = (a[1], a[3])
        summary = _Summary(list(range(span[0], span[1] + 1)), {a[0], a[2]}, parents_excluded=True,
                           consistent=a == b and (rule[1], rule[3]) == span)
    elif _SIMPLE_SUM.match("=" + value):
        rows: list[int] = []
        cols: set[str] = set()
        for c1, r1, c2, r2 in _refs(value):
            cols |= {c1, c2}
            rows.extend(range(r1, r2 + 1))
        summary = _Summary(rows, cols)
    else:
        return None
    if guarded:
        summary.guarded = True
        value_spans = {(r1, r2) for _, r1, _, r2 in _refs(value)}
        cond_spans = {(r1, r2) for _, r1, _, r2 in _refs(guarded.group("cond"))}
        summary.consistent = summary.consistent and cond_spans == value_spans
    return summary


def _cached_number(raw: Any) -> tuple[bool, Decimal | None]:
    """保存的值 → (是否已知, 数值)。公式未保存结果时为未知。"""
    if isinstance(raw, Formula):
        raw = raw.cached
        if raw is None:
            return False, None
    return True, _number(raw)[1]


def _names(results: list[IndicatorResult], limit: int = 3) -> str:
    names = [r.name or r.code for r in results]
    return "、".join(names[:limit]) + ("等" if len(names) > limit else "")


def _incomplete_shown(raw: Any, cell: str, label: str, scope: str, what: str, unscored: list[IndicatorResult],
                      text_only: bool = False) -> list[Finding]:
    """范围内有指标未计分时，保存的小计/总分/等级应是“未完成”；显示成数字（旧模板的 SUM 跳过“错误：…”）或等级就是
    一个看起来完整、其实不完整的结果。"""
    stored = _raw_text(raw)
    if isinstance(raw, Formula) and raw.cached is None:
        return []  # 文件里没有保存的结果（未在 Excel 中计算过）
    if stored == INCOMPLETE_TEXT or stored.startswith("错误：") or not stored:
        return []
    known, v = _cached_number(raw)
    if not text_only and v is None:
        return []
    hint = ""
    if isinstance(raw, Formula) and not _GUARDED.match(raw.text):
        hint = "（这个公式不判断是否有指标未计分：SUM 会跳过“错误：…”的行；请按 docs/workbook.md“按本地指标体系修改模板”改用模板的公式）"
    return [F.make("incomplete-shown-as-final", SHEET_SCORES, cell, label=label, stored=stored, scope=scope,
                   count=len(unscored), names=_names(unscored), what=what, hint=hint, expected=INCOMPLETE_TEXT,
                   actual=v if v is not None else stored)]


def check_sheet_totals(ctx: Context) -> list[Finding]:
    """评分表中保存的小计、总分与等级（Excel 计算后保存的结果，或手工填写的数）与重新计算的一致；有指标未计分时它们
    应显示“未完成”；小计/总分公式正好覆盖对应各行（插入行后 SUM 区域没有扩展是常见原因），父行不被重复计入。"""
    out: list[Finding] = []
    st = ctx.inputs.sheet_totals
    if not st:
        return out
    level_rows: dict[str, set[int]] = defaultdict(set)
    for res in ctx.ev.indicators:
        level_rows[res.level1].add(res.row)
    parent_rows: dict[str, set[int]] = defaultdict(set)
    for p in ctx.ev.parents:
        parent_rows[p.level1].add(p.row)
    all_rows = {res.row for res in ctx.ev.indicators}
    indicator_rows = all_rows | {p.row for p in ctx.ev.parents}
    sub_rows: dict[int, str] = {}
    titles = {"points": "分值", "computed": "计算得分", "final": "得分"}
    letters = {f: ctx.score_letter(f) for f in titles}
    for name, lv in ctx.ev.level1.items():
        where = ctx.inputs.cells.get(("subtotal", name))
        stored = st.get(("subtotal", name))
        if where is None or stored is None:
            continue
        row = int(where[1])
        sub_rows[row] = name
        incomplete = {"points": False, "computed": bool(lv.unscored or lv.computed_unscored), "final": bool(lv.unscored)}
        level_only = level_rows.get(name, _NO_ROWS)
        with_parents = level_only | parent_rows[name] if name in parent_rows else level_only
        for f, value in (("points", lv.points), ("computed", lv.computed), ("final", lv.score)):
            raw = stored.get(f)
            letter = letters[f]
            cell = f"{letter}{row}"  # 即 ctx.score_cell(f, row)
            if isinstance(raw, Formula):
                parsed = _formula_rows(raw.text)
                if parsed is not None:
                    expected = with_parents if parsed.parents_excluded else level_only
                    # 汇总到的指标行（集合运算：公式缓存在各工作簿间共用，区域可长达数千行）；某行汇总了两次即重复计算
                    if (not parsed.consistent or letter not in parsed.cols or parsed.row_set & indicator_rows != expected
                            or not parsed.repeated.isdisjoint(indicator_rows)):
                        out.append(F.make("subtotal-formula-mismatch", SHEET_SCORES, cell, level1=f"一级指标“{name}”小计",
                                          field=titles[f],
                                          formula=raw.text, rows=_rows_text(expected), actual=raw.text))
                        continue
            if incomplete[f]:
                unscored = [r for r in ctx.ev.indicators if r.level1 == name
                            and (r.final is None or (f == "computed" and r.computed is None))]
                out.extend(_incomplete_shown(raw, cell, f"一级指标“{name}”的{titles[f]}小计", "该一级指标", "小计",
                                             unscored))
                continue
            known, v = _cached_number(raw)
            if known and (v is None or not _gap_ok(v, value, SCORE_TOLERANCE)):
                out.append(F.make("subtotal-mismatch", SHEET_SCORES, cell, level1=name, field=titles[f],
                                  stored=_raw_text(raw) or "空白", computed=_n(value), expected=value, actual=v))
    for key, stored in st.items():  # 已没有指标行的一组（整组删掉了）：其小计公式里的 #REF! 会让 Excel 的总分一直“未完成”
        if key[0] != "subtotal" or key[1] in ctx.ev.level1 or ("subtotal", key[1]) not in ctx.inputs.cells:
            continue
        row = int(ctx.inputs.cells[("subtotal", key[1])][1])
        for f in ("points", "computed", "final"):
            raw = stored.get(f)
            parsed = _formula_rows(raw.text) if isinstance(raw, Formula) else None
            if parsed is not None and not parsed.consistent:
                out.append(F.make("subtotal-formula-mismatch", SHEET_SCORES, ctx.score_cell(f, row),
                                  level1=f"一级指标“{key[1]}”小计", field=titles[f], formula=raw.text, rows="—（该组已没有指标行）",
                                  actual=raw.text))
    total_where = ctx.inputs.cells.get(("total",))
    stored = st.get(("total",))
    unscored_all = [r for r in ctx.ev.indicators if r.final is None]
    computed_incomplete = any(lv.unscored or lv.computed_unscored for lv in ctx.ev.level1.values())
    if total_where is not None and stored is not None:
        row = int(total_where[1])
        all_sorted = sorted(all_rows)
        for f, total_value in (("points", ctx.ev.points_total), ("computed", ctx.ev.computed_total),
                               ("final", ctx.ev.total)):
            raw = stored.get(f)
            cell = ctx.score_cell(f, row)
            if isinstance(raw, Formula):
                parsed = _formula_rows(raw.text)
                if parsed is not None:
                    counted: list[int] = []
                    for r in parsed.rows:
                        if r in sub_rows:
                            counted.extend(level_rows.get(sub_rows[r], ()))
                        elif r in all_rows:
                            counted.append(r)
                    if not parsed.consistent or sorted(counted) != all_sorted:
                        out.append(F.make("subtotal-formula-mismatch", SHEET_SCORES, cell, level1="总分行", field=titles[f],
                                          formula=raw.text, rows=_rows_text(set(sub_rows)), actual=raw.text))
                        continue
            if total_value is None or (f == "computed" and computed_incomplete):
                out.extend(_incomplete_shown(raw, cell, f"总分行的{titles[f]}", "全表", "总分", unscored_all or [
                    r for r in ctx.ev.indicators if r.computed is None]))
                continue
            known, v = _cached_number(raw)
            if known and (v is None or not _gap_ok(v, total_value, SCORE_TOLERANCE)):
                out.append(F.make("score-total-mismatch", SHEET_SCORES, cell, field=titles[f],
                                  stored=_raw_text(raw) or "空白", computed=_n(total_value), expected=total_value,
                                  actual=v))
    grade_where = ctx.inputs.cells.get(("grade",))
    raw = st.get(("grade",))
    if grade_where is not None and raw is not None:
        cell = ctx.score_cell("final", grade_where[1])
        text = _raw_text(raw) if not (isinstance(raw, Formula) and raw.cached is None) else None
        if ctx.ev.grade is None:
            out.extend(_incomplete_shown(raw, cell, "评分表的评价等级", "全表", "等级", unscored_all, text_only=True))
        elif text is not None and text != ctx.ev.grade:
            out.append(F.make("grade-mismatch", SHEET_SCORES, cell,
                              label="评分表的评价等级", stored=text or "空白", score=_n(ctx.ev.total),
                              expected_grade=ctx.ev.grade, expected=ctx.ev.grade, actual=text))
    return out


_NO_ROWS: frozenset[int] = frozenset()


def _rows_text(rows: Iterable[int]) -> str:
    rs = sorted(rows)
    if rs and rs == list(range(rs[0], rs[-1] + 1)):
        return f"{rs[0]}～{rs[-1]}"
    return "、".join(str(r) for r in rs)


def check_self_grade(ctx: Context) -> list[Finding]:
    """基础数据表中填写的自评得分与自评等级，按本评分表的等级标准应当对得上（子洲：自评 97 分 → 优秀）。"""
    score = ctx.num(("scalar", "self_score"))
    where = ctx.inputs.cells.get(("scalar", "self_grade"))
    grade = _raw_text(ctx.inputs.scalars.get("self_grade"))
    if not _usable(score) or score.value is None or not grade or where is None:
        return []
    try:
        scale = GradeScale.from_rows(ctx.inputs.grade_rows) if ctx.inputs.grade_rows else ctx.system.grades
    except RuleError:
        return []
    expected = scale.grade(score.value)
    if grade == expected:
        return []
    return [F.make("grade-mismatch", where[0], where[1], label=f"{where[0]} {where[1]}（部门自评等级）", stored=grade,
                   score=_n(score.value), expected_grade=expected, expected=expected, actual=grade)]


def check_overrides(ctx: Context) -> list[Finding]:
    """调整得分与计算得分并列：按规则达标（计算得分为满分）却调低→警告；未达标却调成满分→警告；
    其余有理由的调整→提示（如种子 000 预算控制率 10.12% 按“11–30%”一档给 4 分，模板分档为 3 分）。
    调整而无理由由计分引擎报告（override-without-reason），此处不重复。"""
    out: list[Finding] = []
    for res in ctx.ev.indicators:
        if res.override is None or res.computed is None or res.points is None or res.final is None:
            continue  # 有调整得分时 final 即调整得分，不会为 None
        cell = res.cells.get("override", "")
        reason_text = f"，理由：{_short(res.reason)}" if res.reason else "，且未填写调整理由"
        common = dict(indicator=res.name, computed=_n(res.computed), final=_n(res.final), reason_text=reason_text,
                      expected=res.computed, actual=res.final)
        if res.computed == res.points and res.final < res.points:
            out.append(F.make("met-target-not-full-marks", SHEET_SCORES, cell, **common))
        elif res.computed < res.points and res.final == res.points:
            out.append(F.make("shortfall-full-marks", SHEET_SCORES, cell, **common))
        elif res.reason and res.final != res.computed and 0 <= res.final <= res.points:  # 越界由 check_score_bounds 报告
            out.append(F.make("override-applied", SHEET_SCORES, cell, indicator=res.name, computed=_n(res.computed),
                              override=_n(res.final), reason=_short(res.reason), expected=res.computed, actual=res.final))
    return out


def _judged(res: IndicatorResult) -> bool:
    """得分出自评价人判断（而不是公式）的指标：评价人打分、扣分清单、定性完成情况。这类指标扣分时，
    报告要写出核查发现的事实（种子 001：“报表封皮未盖章，扣 0.5 分”），数字本身说明不了原因。"""
    rule = res.rule
    if isinstance(rule, Target):
        return rule.nature == "定性"
    return isinstance(rule, (Manual, DeductionChecklist, Qualitative))


def check_evidence(ctx: Context) -> list[Finding]:
    """扣了分却没有写依据（missing-evidence 警告）：评价人判断得分的指标得分低于分值，而“评分依据/扣分说明”与
    “备注”都空着，报告只能写出得分，写不出扣分的事实。调整得分时调整理由就是依据，不重复提示。"""
    out: list[Finding] = []
    for res in ctx.ev.indicators:
        if res.final is None or res.points is None or res.final >= res.points or not _judged(res):
            continue
        if res.evidence or res.note or (res.override is not None and res.reason):
            continue
        field_name = "evidence" if "evidence" in res.cells else "note"
        out.append(F.make("missing-evidence", SHEET_SCORES, res.cells.get(field_name, ""), indicator=res.name,
                          lost=_n(res.points - res.final), final=_n(res.final), points=_n(res.points),
                          column="评分依据/扣分说明" if field_name == "evidence" else "备注", actual=res.final))
    return out


# 理由/备注中写出的百分数区间：“11-30%（含）”“10%～20%”“-15%至15%”（NFKC 之后全角～成为 ~）。
# 线性时间：数字只从一串数字的开头匹配，量词都是占有式（不回溯）；原来的 \s*%?\s* 在“1”后接 3 万个空格时
# 要试遍两段空格的每种分法（平方级，一个 32,767 字的理由单元格要 100 秒以上）
_PCT_RANGE = re.compile(r"(?<![\d.])(-?\d++(?:\.\d++)?+)\s*+(?:%\s*+)?+(?:-|–|—|~|至|到)\s*+(-?\d++(?:\.\d++)?+)\s*+%")


def check_cited_bands(ctx: Context) -> list[Finding]:
    """调整理由或备注里写出的评分档次（百分数区间）应包含该指标的实际值。种子 000 报告写“预算控制率＝10.12%……
    预算控制率=11-30%（含）……得分按4分计算”：10.12% 并不在 11%～30% 之内，得分所依据的档次是错的。
    区间两端都按“含”比较（宽松），只在实际值明显落在所写区间之外时报告；每个单元格只报告第一处。"""
    out: list[Finding] = []
    for res in ctx.ev.indicators:
        if res.unit != "%" or not isinstance(res.value, Decimal) or res.value_error is not None:
            continue
        for field_name, text in (("reason", res.reason), ("note", res.note)):
            if not isinstance(text, str) or not text.strip():
                continue  # 大多空着：先看文字，再找单元格
            cell = res.cells.get(field_name)
            if not cell:
                continue
            pct = res.value * 100
            for m in _PCT_RANGE.finditer(unicodedata.normalize("NFKC", text)):
                lo, hi = Decimal(m.group(1)), Decimal(m.group(2))
                if lo >= hi or lo <= pct <= hi:
                    continue
                out.append(F.make("value-outside-cited-band", SHEET_SCORES, cell, indicator=res.name,
                                  field={"reason": "调整理由", "note": "备注"}[field_name], band=m.group(0).strip(),
                                  value=_pct(res.value, 4), lo=_n(lo), hi=_n(hi), computed=_n(res.computed),
                                  final=_n(res.final), expected=f"{_n(lo)}%～{_n(hi)}%", actual=res.value))
                break
    return out


