"""体系与示例数据排到单元格上（layout_inputs）：得到带单元格地址的 WorkbookInputs，与 scoring.reader 从生成的工作簿读出的
结构相同——生成器用它写入各格并（经计分引擎）算出公式的缓存值，测试用它在不写文件的情况下构造输入。"""
from __future__ import annotations

from decimal import Decimal
from typing import Any

from xlsxwriter.utility import xl_rowcol_to_cell

from udfs.words import DEFAULT_QUALITATIVE_WORDS
from workbook_templates import layout as L
from workbook_templates.formulas import final_formula, score_formula
from workbook_templates.spec import N_PARAMS, Example, IndicatorSpec, System

from ..model import Formula, RowInput, WorkbookInputs


def _plain(v: Any) -> Any:
    if isinstance(v, Decimal):
        return int(v) if v == v.to_integral_value() and abs(v) < 10**15 else float(v)
    return v


def indicators_for(system: System, example: Example | None) -> tuple[IndicatorSpec, ...]:
    if example is not None and example.indicators is not None:
        return example.indicators
    return system.indicators


def layout_inputs(system: System, example: Example | None = None) -> WorkbookInputs:
    """把体系与示例数据排到单元格上，返回带单元格地址的 WorkbookInputs（与 addin.scoring.reader 读出的结构相同）。"""
    ex = example or Example("blank", system.key)
    inputs = WorkbookInputs(system.key)
    row = 3
    # 基础数据表：经费情况
    data_rows: dict[str, int] = {}
    if system.table_rows:
        for tr in system.table_rows:
            row += 1
            data_rows[tr.key] = row
            inputs.table[tr.key] = {}
            inputs.table_labels[tr.key] = ex.table_labels.get(tr.key, tr.label)
            for j, c in enumerate(system.columns):
                inputs.table[tr.key][c.key] = ex.table.get(tr.key, {}).get(c.key)
                inputs.cells[("table", tr.key, c.key)] = (L.SHEET_DATA, xl_rowcol_to_cell(row - 1, 2 + j))
        row += 2  # 空一行，再写补充数据表头
    scalar_header = row if system.table_rows else 3
    row = scalar_header
    for s in system.scalars:
        row += 1
        data_rows[s.key] = row
        inputs.scalars[s.key] = ex.scalars.get(s.key)
        inputs.cells[("scalar", s.key)] = (L.SHEET_DATA, f"C{row}")
    inputs.cells[("layout", "scalar_header")] = (L.SHEET_DATA, str(scalar_header))

    # 评分表
    r = L.SCORE_FIRST_ROW - 1
    specs = indicators_for(system, ex)
    for level1 in _level1s(system, specs):
        members = [s for s in specs if s.level1 == level1]
        first = r + 1
        for spec in members:
            r += 1
            rule = spec.rule
            params = list(ex.params.get(spec.code, rule.to_params()))
            params += [None] * (N_PARAMS - len(params))
            if spec.udf:
                value: Any = Formula(L.value_formula(spec.udf, spec.args, inputs.cells, L.table_parts(system)))
            else:
                value = ex.values.get(spec.code)
            ov = ex.overrides.get(spec.code, (None, None))
            st = ex.stated.get(spec.code, (None, None))
            ri = RowInput(
                code=spec.code, level1=spec.level1, level2=spec.level2, name=spec.name,
                points=ex.points.get(spec.code, rule.points), criterion=spec.criterion, formula_text=spec.formula,
                value=value, unit=spec.unit, rule_label=rule.label, na=rule.na, params=params,
                computed=Formula(score_formula(r)), override=ov[0], reason=ov[1],
                final=Formula(final_formula(r)), stated_value=st[0], stated_score=st[1], note=ex.notes.get(spec.code),
                evidence=ex.evidence.get(spec.code),
                row=r, cells={f: f"{L.LETTER[f]}{r}" for f in L.score_fields()})
            ri.cells["params"] = f"{L.LETTER['p1']}{r}:{L.LETTER['p10']}{r}"
            ri.cells["rule"] = f"{L.LETTER['rule']}{r}"
            inputs.rows.append(ri)
        r += 1
        inputs.cells[("subtotal", level1)] = (L.SHEET_SCORES, str(r))
        inputs.cells[("subtotal_range", level1)] = (L.SHEET_SCORES, f"{first}:{r - 1}")
    r += 1
    inputs.cells[("total",)] = (L.SHEET_SCORES, str(r))
    r += 1
    inputs.cells[("grade",)] = (L.SHEET_SCORES, str(r))
    r += 2
    inputs.cells[("grades",)] = (L.SHEET_SCORES, f"B{r + 1}")
    inputs.cells[("grade_header",)] = (L.SHEET_SCORES, str(r))
    for lo, name in system.grades.bands:
        inputs.grade_rows.append((name, lo))
    words_mark = r + len(inputs.grade_rows) + 2  # 等级标准下空一行
    inputs.cells[("words_mark",)] = (L.SHEET_SCORES, str(words_mark))
    inputs.cells[("qual_words",)] = (L.SHEET_SCORES, f"B{words_mark + 1}")
    inputs.qual_words = list(DEFAULT_QUALITATIVE_WORDS)
    for k, t in enumerate(system.texts):
        inputs.texts[t.key] = ex.texts.get(t.key)
        inputs.cells[("text", t.key)] = (L.SHEET_TEXTS, f"C{3 + k}")
    return inputs


def _level1s(system: System, specs) -> list[str]:
    order = list(system.level1_order) + [s.level1 for s in specs if s.level1 not in system.level1_order]
    return [l1 for l1 in dict.fromkeys(order) if any(s.level1 == l1 for s in specs)]
