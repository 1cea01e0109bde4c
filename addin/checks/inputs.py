"""检查（一）输入与基础数据表：输入单元格能否理解为数字（两个数、以文本存储、负数、比率越界）；合计＝各分项之和；
“其中”项不超过所属合计；本年追加预算的推算；三公经费变动率需要上年三公“预算”数。
"""
from __future__ import annotations

from decimal import Decimal
from typing import Any

from udfs.numbers import is_empty, is_none_token
from workbook_templates.spec import TableRow

from ..model import Finding, Formula, once
from ..scoring import derived
from ..scoring.parsing import NumCell
from ..scoring.refs import arg_cell, resolve_arg
from . import findings as F
from .context import (
    FLOAT_NOISE,
    NEGATIVE_ALLOWED,
    ZERO,
    Context,
    _all_usable,
    _gap_ok,
    _n,
    _present,
    _raw_text,
    _ref_label,
    _usable,
)


def check_input_cells(ctx: Context) -> list[Finding]:
    """每个数字输入单元格：不能识别→错误；括号里另有一个数→警告；以文本存储的数字→提示；不应为负却为负→错误。"""
    out: list[Finding] = []
    engine_errors = ctx.engine_error_cells
    for c in ctx.filled:
        value, kind = c.value, c.kind
        if engine_errors and c.where in engine_errors:
            if kind == "rate" and c.error is None and value is not None and value > 1:
                ctx.replaced.add(("indicator-error", c.sheet, c.cell))  # 比率写成 95：下面的说明更具体，取代引擎的
            else:
                continue  # 计分引擎已就该单元格报告了错误（并说明了受影响的指标），不重复
        if c.error is not None:
            out.append(F.make("not-a-number", c.sheet, c.cell, label=c.label, detail=c.error, actual=_raw_text(c.raw)))
            continue
        if value is None or c.formula:
            continue
        raw = c.raw
        if kind in ("money", "count") and isinstance(raw, str) and ("%" in raw or "％" in raw):
            out.append(F.make("not-a-number", c.sheet, c.cell, label=c.label, actual=raw,
                              detail=f"{'金额' if kind == 'money' else '人数等数量'}不应写成百分数（“{raw.strip()}”）"))
            continue
        if c.alt is not None:
            out.append(F.make("two-numbers", c.sheet, c.cell, label=c.label, detail=c.note, expected=value, actual=c.alt))
        elif c.as_text:
            out.append(F.make("text-number", c.sheet, c.cell, label=c.label, raw=str(raw).strip(),
                              value=_n(value, 9), actual=str(raw), expected=value))
        if kind not in _RANGED:
            continue  # 分值、得分、实际值、报告所列数只查上面几项
        if value < 0 and c.key not in NEGATIVE_ALLOWED:
            out.append(F.make("negative-value", c.sheet, c.cell, label=c.label, value=_n(value, 9), actual=value))
        if kind == "count" and c.unit == "人" and value >= 0 and value != value.to_integral_value():
            out.append(F.make("not-whole-number", c.sheet, c.cell, label=c.label, value=_n(value, 9)
                              if abs(value) >= Decimal("0.000001") else f"{value:.3E}", actual=value))
        if kind == "rate" and value > 1:
            out.append(F.make("rate-out-of-range", c.sheet, c.cell, label=c.label, raw=_raw_text(raw),
                              hint=f"，是否应为 {_n(value, 4)}%？" if value <= 100 else "", actual=value))
    return out


# 查负数、整数与比率范围的种类
_RANGED = frozenset({"money", "count", "rate"})


def _part_text(parts: list[NumCell], values: list[Decimal]) -> str:
    return " ＋ ".join(f"{p.short} {_n(v)}" for p, v in zip(parts, values, strict=False))


def check_table_totals(ctx: Context) -> list[Finding]:
    """基础数据表每一列：合计行 ＝ 各分项之和（支出合计＝基本＋项目；三公＝车＋出国＋接待；项目支出＝业务工作经费＋专项经费；
    项目 年度资金总额＝各来源之和）。差额在各数书写精度的舍入误差之内为警告，超出为错误；分项全部空白的列不比较。
    合计写“无”按 0 比较；合计空白而各分项都填了数（实际值公式此时取分项之和，addin/scoring/derived.py）→ total-blank 警告。"""
    out: list[Finding] = []
    unit = ctx.money_unit
    filled = ctx.num_if_filled
    for tr in ctx.system.table_rows:
        if not tr.parts:
            continue
        for col in ctx.system.columns:
            if not any(filled(("table", p, col.key)) is not None for p in tr.parts):
                continue  # 分项全部空白（或没有这一格）：下面 parts 为 None 或 present 为空，同样不比较；不必为空白格构造 NumCell
            total = ctx.num(("table", tr.key, col.key))
            parts = _all_usable([ctx.num(("table", p, col.key)) for p in tr.parts])
            if not _usable(total) or parts is None:
                continue
            present, values = _present(parts)
            if not present:
                continue
            if total.value is None and not is_none_token(_cell_raw(total)):
                if len(present) == len(parts) and not any(p.as_text for p in parts):
                    s = sum(values, ZERO)
                    out.append(F.make("total-blank", total.sheet, total.cell, label=total.label,
                                      parts_text=_part_text(present, values), sum=_n(s), unit=unit,
                                      expected=s, actual=None))
                continue
            total_value = ZERO if total.value is None else total.value  # 写明“无”的合计按 0 比较
            tol = total.half_unit + sum((p.half_unit for p in present), ZERO)
            found = _compare_sum(ctx, total, present, values, total_value, tol, unit, alt=False)
            if found is None and (total.alt is not None or any(p.alt is not None for p in present)):
                # 括号里的第二个数也应自洽（种子 002：3745（2177）＝353＋3392（1824））
                alt_values = [p.alt if p.alt is not None else v for p, v in zip(present, values, strict=True)]
                alt_total = total.alt if total.alt is not None else total_value
                found = _compare_sum(ctx, total, present, alt_values, alt_total, tol, unit, alt=True)
            if found is not None:
                out.append(found)
    return out


def _cell_raw(c: NumCell) -> Any:
    return c.raw.cached if isinstance(c.raw, Formula) else c.raw


def check_budget_added(ctx: Context) -> list[Finding]:
    """本年追加预算数与 本年调整预算数 − 年初预算数 一致（都填了时）。不一致 → 警告：指标按填写的追加数计算，
    而两者必有一处填错（或追加数只计了追加、未减去调减）。追加数空白时由单元格函数推算，计分引擎给出提示。"""
    out: list[Finding] = []
    seen: set[tuple[str, str]] = set()
    for spec in ctx.system.indicators:
        idx = derived.ADDED_ARGS.get(spec.udf or "")
        if idx is None or max(idx) >= len(spec.args):
            continue
        refs = [spec.args[k] for k in idx]
        cells = _all_usable([ctx.num(("table", *r.split("@", 1)) if "@" in r else ("scalar", r)) for r in refs])
        if cells is None:
            continue
        added, initial, adjusted = cells
        if added.where in seen:
            continue
        if added.value is None and not is_none_token(_cell_raw(added)):
            continue  # 空白：已按调整数推算（引擎提示），或未填写（引擎报告）
        a = added.value if added.value is not None else ZERO
        if adjusted.value is None or adjusted.value == 0 or initial.value is None:
            continue
        expected = adjusted.value - initial.value
        tol = added.half_unit + initial.half_unit + adjusted.half_unit
        if _gap_ok(a, expected, tol):
            continue
        seen.add(added.where)
        out.append(F.make("budget-added-mismatch", added.sheet, added.cell, label=added.label, added=_n(a),
                          adjusted_label=adjusted.label, adjusted=_n(adjusted.value), initial_label=initial.label,
                          initial=_n(initial.value), derived=_n(expected), gap=_n(abs(a - expected)), unit=ctx.money_unit,
                          expected=expected, actual=a))
    return out


def _compare_sum(ctx, total: NumCell, parts: list[NumCell], values: list[Decimal], total_value: Decimal,
                 tol: Decimal, unit: str, *, alt: bool) -> Finding | None:
    s = sum(values, ZERO)
    gap = total_value - s
    if abs(gap) <= FLOAT_NOISE:
        return None
    code = "total-rounding-gap" if abs(gap) <= tol else "total-mismatch"
    return F.make(code, total.sheet, total.cell, label=total.label + ("括号内的数" if alt else ""),
                  total=_n(total_value), parts_text=_part_text(parts, values), sum=_n(s), gap=_n(abs(gap)),
                  tolerance=_n(tol), unit=unit, expected=s, actual=total_value)


def _of_which_groups(rows: tuple[TableRow, ...]) -> dict[str, list[list[str]]]:
    """由缩进与“其中”字样推出“其中”关系：父行之下低一级的行是它的“其中”项；以“其中”开头的行开始新的一组，
    后面不带“其中”的行与它同组（同组各项互不重叠，合计不应超过父行；不同组可以重叠，如 日常公用经费 与 三公经费）。
    已作为分项（parts）参与合计的行不在此列。"""
    out: dict[str, list[list[str]]] = {}
    for i, tr in enumerate(rows):
        desc = []
        for tr2 in rows[i + 1:]:
            if tr2.indent <= tr.indent:
                break
            desc.append(tr2)
        if not desc:
            continue
        level = min(d.indent for d in desc)
        groups: list[list[str]] = []
        for d in desc:
            if d.indent != level or d.key in tr.parts:
                continue
            if d.label.strip().startswith("其中") or not groups:
                groups.append([d.key])
            else:
                groups[-1].append(d.key)
        if groups:
            out[tr.key] = groups
    return out


def check_of_which(ctx: Context) -> list[Finding]:
    """“其中”项之和不超过所属的合计（如 日常公用经费 ≤ 基本支出；各项目之和 ≤ 专项经费）。"""
    out: list[Finding] = []
    unit = ctx.money_unit
    for parent, groups in once(ctx.system.table_rows, _of_which_groups).items():
        for col in ctx.system.columns:
            total = ctx.num(("table", parent, col.key))
            if not _usable(total) or total.value is None:
                continue
            for group in groups:
                parts = _all_usable([ctx.num(("table", k, col.key)) for k in group])
                if parts is None:
                    continue
                present, values = _present(parts)
                if not present:
                    continue
                s = sum(values, ZERO)
                tol = total.half_unit + sum((p.half_unit for p in present), ZERO)
                if s - total.value > max(tol, FLOAT_NOISE):
                    out.append(F.make("part-exceeds-total", total.sheet, total.cell, label=total.label,
                                      total=_n(total.value), parts_text=_part_text(present, values),
                                      sum=_n(s), unit=unit, expected=total.value, actual=s))
    return out


def check_prev_sangong_budget(ctx: Context) -> list[Finding]:
    """“三公经费”变动率比较两年的预算数：上年三公预算未填时明确指出（而不是用上年决算数代替）。"""
    out: list[Finding] = []
    specs = ctx.specs()
    for res in ctx.ev.indicators:
        spec = specs.get(res.code)
        if spec is None or spec.udf != "SANGONG_CHANGE_RATE" or len(spec.args) < 2:
            continue
        prev_ref = spec.args[1]
        if not is_empty(resolve_arg(ctx.inputs, prev_ref)):  # 写明 0/无 是“上年没有三公预算”，不是漏填
            continue
        where = arg_cell(ctx.inputs, prev_ref)
        if where is None:
            continue
        hint = ""
        prev_final = ctx.num(("table", "sangong", "prev_final"))
        if _usable(prev_final) and prev_final.value is not None:
            hint = f"；{prev_final.label}是上年决算数（{_n(prev_final.value)}），不能代替预算数"
        out.append(F.make("prev-sangong-budget-missing", where[0], where[1], indicator=res.name,
                          label=f"{where[0]} {where[1]}（{_ref_label(ctx, prev_ref)}）", hint=hint))
        ctx.replaced.add(("missing-value", where[0], where[1]))
    return out
