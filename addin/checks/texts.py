"""检查（四）文字与单位：元与万元混用、报告所列数字（实际值、得分）的复核、文字材料中“其中”分项之和（narrative.py），
以及报告要用而未填写的文字材料（由报告模板决定，report.sections.text_findings——校验唯一用到 report/ 的地方）。
"""
from __future__ import annotations

import re
import unicodedata
from decimal import ROUND_DOWN, ROUND_HALF_UP, Decimal
from functools import cache, lru_cache
from statistics import median
from typing import Callable

from udfs.numbers import InputError, is_blank, parse_number

from ..model import SHEET_DATA, SHEET_SCORES, Evaluation, Finding, IndicatorResult, WorkbookInputs
from ..scoring.parsing import NumCell, _looks_textual
from . import findings as F
from . import narrative
from .context import (
    PERCENT_MIN_PLACES,
    UNIT_OUTLIER_FACTOR,
    WAN_YUAN_MEDIAN_MAX,
    YUAN_MAX_PLACES,
    YUAN_TOTAL_MIN,
    Context,
    _gap_ok,
    _n,
    _pct,
    _raw_text,
    _short,
    _usable,
)

# 即 (?:金额)?单位…：以字面的两种开头写出，正则引擎先按首字（金、单）跳过其余位置，而不是在每个位置都试一遍
_UNIT_DECL = re.compile(r"(?:金额单位|单位)\s*+[:：]\s*+(万元|元)")
_UNIT_PAREN = re.compile(r"[（(]\s*+(万元|元)\s*+[)）]")


def check_money_unit(ctx: Context) -> list[Finding]:
    """“金额单位”与金额的量级、与文字中写明的单位一致（元与万元不混用）。"""
    out: list[Finding] = []
    unit = ctx.money_unit
    unit_where = ctx.inputs.cells.get(("scalar", "money_unit"), (SHEET_DATA, ""))
    # 填了非零金额的单元格与其数
    amounts = [(c, c.value) for c in ctx.filled  # 即 _usable(c)（filled 中没有 None）且填了非零的数
               if c.kind == "money" and c.error is None and c.known and c.value is not None and c.value != 0]
    money = [c for c, _ in amounts]
    magnitudes = [abs(v) for _, v in amounts]
    # 最大的金额不到 10 万、也不到最小金额的 1 万倍时，中位数（介于两者之间）两条都不会触发：不必排序求中位数
    suspect = unit == "万元" and bool(money)
    if suspect:
        largest = max(magnitudes)
        suspect = largest >= WAN_YUAN_MEDIAN_MAX or largest >= UNIT_OUTLIER_FACTOR * min(magnitudes)
    if suspect:
        med = Decimal(median(magnitudes))
        if len(money) >= 2 and med >= WAN_YUAN_MEDIAN_MAX:
            out.append(F.make("unit-mismatch", unit_where[0], unit_where[1], actual=med, expected="万元",
                              detail=f"金额单位为万元，但金额的中位数为 {_n(med)}（即 {_n(med / 10000)} 亿元），像是按元填写；"
                                     f"请把金额单位改为“元”，或把金额换算为万元"))
        elif len(money) >= 3 and med > 0:
            outlier = UNIT_OUTLIER_FACTOR * med
            for c, v in amounts:
                if abs(v) >= outlier:
                    out.append(F.make("unit-mismatch", c.sheet, c.cell, actual=v, expected=v / 10000,
                                      detail=f"{c.label}为 {_n(v)}，是其他金额中位数（{_n(med)}）的 "
                                             f"{_n(abs(v) / med, 0)} 倍，疑似按元填写（金额单位为万元，"
                                             f"应为 {_n(v / 10000)}）"))
    if unit == "元":
        for c in money:
            if c.places > YUAN_MAX_PLACES and not c.formula:
                out.append(F.make("unit-mismatch", c.sheet, c.cell, actual=c.value,
                                  detail=f"{c.label}为 {_n(c.value, 9)}，元的金额最多两位小数（角、分），疑似按万元填写"))
        top_cells = [ctx.num(("table", tr.key, col.key)) for tr in ctx.system.table_rows if tr.indent == 0 and tr.parts
                     for col in ctx.system.columns]
        tops = [(c, c.value) for c in top_cells if _usable(c) and c.value is not None and c.value > 0]
        if tops and max(v for _, v in tops) < YUAN_TOTAL_MIN:
            big, big_value = max(tops, key=lambda t: t[1])
            out.append(F.make("unit-mismatch", unit_where[0], unit_where[1], actual=big_value, expected="元",
                              detail=f"金额单位为元，但最大的合计数 {big.label} 只有 {_n(big_value)} 元，像是按万元填写"))
    # 单元格里写明了另一种单位：万元表中的“1234元”、元表中的“12.5万元”（parse_number 去掉单位后缀按数字计算，
    # 差 1 万倍却不会报错，这里必须指出）
    for c, v in amounts:
        if not isinstance(c.raw, str):
            continue
        t = unicodedata.normalize("NFKC", c.raw).strip()
        written = "万元" if t.endswith("万元") else "元" if t.endswith("元") else None
        if written is None or written == unit:
            continue
        converted = v / 10000 if written == "元" else v * 10000
        out.append(F.make("unit-mismatch", c.sheet, c.cell, actual=c.raw.strip(), expected=converted,
                          detail=f"{c.label}写作“{c.raw.strip()}”，而基础数据表的金额单位为{unit}，已按 {_n(v, 9)} "
                                 f"{unit}计算；应换算为 {_n(converted, 9)}（只填数字）"))
    # 文字中写明的单位
    labelled = _texts_with_yuan(ctx)
    for (kind, _key), text, where in labelled:
        # 单位声明必含“单位”二字：不含的文字（多数）不必逐字试 _UNIT_DECL
        declared = list(_UNIT_DECL.finditer(text)) if "单位" in text else []
        for m in declared + (list(_UNIT_PAREN.finditer(text)) if kind == "table" else []):
            if m.group(1) != unit:
                out.append(F.make("unit-mismatch", where[0], where[1], actual=m.group(0), expected=unit,
                                  detail=f"{where[0]} {where[1]} 写明“{m.group(0).strip()}”，与基础数据表的金额单位“{unit}”不一致"))
                break
    # 文字材料里与表中同一个数、却写了另一种单位（“982.63元”而表中为 982.63 万元）
    figures: set[Decimal] | None = None
    for (kind, _key), text, where in labelled:
        if kind != "text":
            continue
        for amount in narrative.text_amounts(text):
            if amount.unit == unit:
                continue
            if figures is None:
                figures = {v for _, v in amounts if abs(v) >= 1}
            if amount.value in figures:
                out.append(F.make("unit-mismatch", where[0], where[1], actual=amount.text,
                                  expected=f"{amount.number}{unit}",
                                  detail=f"{where[0]} {where[1]} 写“{amount.text}”，而基础数据表中的 {_n(amount.value)} "
                                         f"单位为{unit}"))
                break
    return out


def _texts_with_yuan(ctx: Context) -> list[tuple[tuple[str, str], str, tuple[str, str]]]:
    """写了“元”字的文字：表中的行标签、文字材料、评分表的备注，各带位置。单位声明（_UNIT_DECL、_UNIT_PAREN）与金额
    （narrative._MONEY）都以“元”结尾，不含“元”字的文字两样都不会有。"""
    out = []
    sheet_cells = ctx.inputs.cells
    first_col = ctx.system.columns[0].key if ctx.system.columns else None
    for key, label in ctx.inputs.table_labels.items():
        if not isinstance(label, str) or "元" not in label:
            continue
        where = sheet_cells.get(("table", key, first_col)) if first_col else None
        if where:
            out.append((("table", key), label, (where[0], _label_cell(where[1]))))
    for key, text in ctx.inputs.texts.items():
        if not isinstance(text, str) or "元" not in text:
            continue
        where = sheet_cells.get(("text", key))
        if where:
            out.append((("text", key), text, where))
    for row in ctx.inputs.rows:
        if isinstance(row.note, str) and "元" in row.note and row.cells.get("note"):
            out.append((("note", row.code), row.note, (SHEET_SCORES, row.cells["note"])))
    return out


@lru_cache(maxsize=4096)
def _label_cell(cell: str) -> str:
    """同一行的标签单元格（B 列）：F12 → B12。"""
    return "B" + "".join(ch for ch in cell if ch.isdigit())


def check_stated_figures(ctx: Context) -> list[Finding]:
    """“报告所列实际值/得分”两列与重新计算的实际值/得分比对，允许误差为所列数字最后一位的半个单位
    （90.5% 与 90.497% 一致；40.98% 与 40.67% 不一致；171.92% 是 171.932…% 截断所得，按四舍五入应为 171.93%）。"""
    out: list[Finding] = []
    for res, row in ctx.results():
        if res.stated_value is not None:  # 空白的没有可比对的（_stated_value 同样返回）
            out.extend(_stated_value(ctx, res, row))
        c = ctx.num_if_filled(("row", res.code, "stated_score"))  # 空白的没有数值（_stated_score 同样返回）
        if c is not None:
            out.extend(_stated_score(ctx, res, c))
    return out


def _stated_value(ctx: Context, res: IndicatorResult, row) -> list[Finding]:
    raw = res.stated_value
    if is_blank(raw) or res.value_error is not None or res.value is None:
        return []
    cell = res.cells.get("stated_value", "")
    if isinstance(res.value, str) or (isinstance(raw, str) and _looks_textual(raw)):
        stated_text, value_text = _raw_text(raw), _raw_text(res.value)
        if stated_text != value_text:
            return [F.make("stated-value-mismatch", SHEET_SCORES, cell, indicator=res.name, stated=stated_text,
                           computed=value_text, tolerance="文字须一致", hint="", expected=value_text, actual=stated_text)]
        return []
    c = ctx.num(("row", res.code, "stated_value"))
    if c is None or c.error is not None or c.value is None:
        return []
    try:
        value = parse_number(res.value).value
    except InputError:
        return []
    if value is None:
        return []
    pct = res.unit == "%"
    places = max(c.places, PERCENT_MIN_PLACES) if pct else c.places
    tol = Decimal(5).scaleb(-(places + 1))
    if _gap_ok(c.value, value, tol):
        return []
    if pct and _gap_ok(c.value / 100, value, tol / 100):
        return []  # 在百分数格式以外把 40.98% 写成了 40.98：按百分点理解，数值一致
    q = Decimal(1).scaleb(-places)
    rounded = value.quantize(q, rounding=ROUND_HALF_UP)
    hint = ""
    if value.quantize(q, rounding=ROUND_DOWN) == c.value:
        hint = f"；所列数字是截断而非四舍五入的结果，按四舍五入应为 {_show(rounded, pct, places)}"
    shown_tol = f"{_n(tol * 100, 9)} 个百分点" if pct else _n(tol, 9)
    return [F.make("stated-value-mismatch", SHEET_SCORES, cell, indicator=res.name, stated=_show(c.value, pct, places),
                   computed=_show(rounded, pct, places), tolerance=shown_tol, hint=hint, expected=rounded, actual=c.value)]


def _show(v: Decimal, pct: bool, places: int) -> str:
    return _pct(v, places) if pct else _n(v, places)


def _stated_score(ctx: Context, res: IndicatorResult, c: NumCell) -> list[Finding]:
    if c.error is not None or c.value is None or res.final is None:
        return []
    tol = Decimal(5).scaleb(-(c.places + 1))
    if _gap_ok(c.value, res.final, tol):
        return []
    hint = ""
    if res.override is not None and res.computed is not None and _gap_ok(c.value, res.computed, tol):
        hint = "（与调整前的计算得分一致，调整后报告未同步）"
    return [F.make("stated-score-mismatch", SHEET_SCORES, res.cells.get("stated_score", ""), indicator=res.name,
                   stated=_n(c.value), final=_n(res.final), hint=hint, expected=res.final, actual=c.value)]


def check_text_sums(ctx: Context) -> list[Finding]:
    """文字材料里“总数，其中分项……”的分项之和应等于总数（种子 002：实际拨付1168万元，其中区本级630万元，
    上级财政下拨502万元——630＋502＝1132）。只报差额超出各数书写精度、又不超过总数 NEAR_MISS 的（见 narrative）。
    若把某个分项换成表中的一个金额就正好相符（1168 − 630 ＝ 538，而表中上级资金为 538），一并指出那个单元格。"""
    out: list[Finding] = []
    for key, text in ctx.inputs.texts.items():
        where = ctx.inputs.cells.get(("text", key))
        if where is None or not isinstance(text, str):
            continue
        for claim in narrative.text_slips(text):
            titles = {t.key: t.title for t in ctx.system.texts}
            money = [c for c in ctx.filled if c.kind == "money" and _usable(c) and c.value is not None and c.value > 0]
            out.append(F.make("text-sum-mismatch", where[0], where[1], expected=claim.parts_sum, actual=claim.total.value,
                              title=titles.get(key, key), excerpt=_short(claim.excerpt, 80),
                              total=claim.total.text, parts_text=claim.parts_text(), sum=_n(claim.parts_sum),
                              gap=_n(abs(claim.gap)), unit=claim.unit, hint=_table_hint(ctx, claim, money)))
            # 每个单元格只报第一处：run_checks 按（代码, 表, 单元格）去重，后面的本来也不会出现；引文要从分句开头
            # 截取，成千上万处不自洽的“其中”都截一遍是平方级
            break
    return out


def _table_hint(ctx: Context, claim: narrative.OfWhich, money: list[NumCell]) -> str:
    if claim.unit != ctx.money_unit:
        return ""
    for part, value in zip(claim.parts, claim.part_values, strict=False):
        needed = claim.total.value - (claim.parts_sum - value)
        if needed <= 0 or needed == value:
            continue
        for c in money:
            if c.value is not None and _gap_ok(c.value, needed, c.half_unit):
                return (f"；{c.label}为 {_n(c.value)} {claim.unit}，"
                        f"正文的“{part.text}”是否应为 {_n(c.value)} {claim.unit}")
    return ""


def check_report_texts(ctx: Context) -> list[Finding]:
    """报告要用而“文字材料”表中未填写的叙述与成文日期（missing-text、bad-date 警告）：缺了它们报告只能是草稿，校验时就提示。
    哪些材料必填由报告模板决定：内置模板按 addin/report/required.py 的表（与模板逐处核对）判断，不生成报告
    （addin.report.sections.text_findings）。"""
    return _text_findings()(ctx.inputs, ctx.ev)


@cache
def _text_findings() -> Callable[[WorkbookInputs, Evaluation], list[Finding]]:
    """addin.report.sections.text_findings：第一次用到时才导入（只有这项检查需要 jinja2 与报告模板），之后不再走导入机制。"""
    from ..report.sections import text_findings

    return text_findings
