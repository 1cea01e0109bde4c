"""实际值单元格里的公式：以工作簿各表为底的求值器（formula_cells），按 Excel 的规则求出实际值，并把求值中的问题
记为发现（formula_value）。"""
from __future__ import annotations

from decimal import Decimal
from typing import Any

from udfs.numbers import fmt_num

from ..checks import findings as F
from ..io.ooxml import parse_a1
from ..model import SHEET_DATA, SHEET_SCORES, Finding, RowInput, WorkbookInputs
from .formula import Evaluator, display
from .formula_syntax import UNKNOWN_CODE, XlError


def formula_cells(inputs: WorkbookInputs) -> Evaluator:
    """工作簿单元格的公式求值器：各表的网格（inputs.grids，读取工作簿时按需加载）之上，基础数据表中读出的各项
    （inputs.table / inputs.scalars）优先——引擎与校验看到的输入就是公式引用到的值。程序构造的输入（生成模板、测试夹具）
    没有网格，评分表各行也按单元格地址排入——两种来源由同一段求值代码计算。"""
    values: dict[tuple[str, int, int], Any] = {}

    def put(sheet: str, addr: str, v: Any) -> None:
        if addr and ":" not in addr:
            values[(sheet, *parse_a1(addr))] = v

    for key, (sheet, addr) in inputs.cells.items():
        if key[0] == "table":
            put(sheet, addr, inputs.table.get(key[1], {}).get(key[2]))
        elif key[0] == "scalar":
            put(sheet, addr, inputs.scalars.get(key[1]))
    if not inputs.grids:
        for row in inputs.rows:
            for f, addr in row.cells.items():
                if f.startswith("p") and f[1:].isdigit():
                    i = int(f[1:]) - 1
                    put(SHEET_SCORES, addr, row.params[i] if i < len(row.params) else None)
                elif hasattr(row, f) and f not in ("cells", "row"):
                    put(SHEET_SCORES, addr, getattr(row, f))
    return Evaluator(inputs.grids or {SHEET_DATA: {}, SHEET_SCORES: {}}, values)




def formula_value(cells: Evaluator, row: RowInput, ind: str, findings: list[Finding]) -> tuple[Any, str | None]:
    """实际值单元格的公式按 Excel 的规则求值，返回 (实际值, 无法计算的原因)，并把求值中的问题记为发现：
    空白按 0 参与运算（值与 Excel 相同，但空白是“未填写”）、无法求值的函数或写法、Excel 错误值、单元格函数的“错误：…”。"""
    addr = row.cells.get("value", "")
    out = cells.cell(SHEET_SCORES, addr, row.value)
    value = out.value
    for issue in out.issues:
        if issue.kind == "blank":
            findings.append(F.make("formula-blank-reference", issue.sheet, issue.cell, indicator=ind,
                                   ref=f"“{issue.sheet}”!{issue.cell}"))
        elif issue.kind == "unsupported":
            findings.append(F.make("formula-unsupported", issue.sheet, issue.cell, indicator=ind, detail=issue.detail,
                                   function=issue.function))
        elif issue.kind == "unsupported-cached":
            cached = cells.cell(issue.sheet, issue.cell).value if issue.cell != addr else value
            findings.append(F.make("formula-unsupported-cached", issue.sheet, issue.cell, indicator=ind,
                                   detail=issue.detail, function=issue.function, cached=_shown(cached)))
    if isinstance(value, XlError):
        if value.code == UNKNOWN_CODE:
            return None, f"公式无法计算（{value.detail}）"
        findings.append(F.make("formula-error", value.sheet or SHEET_SCORES, value.cell or addr, indicator=ind,
                               error=value.code, detail=value.detail))
        return None, f"公式结果为 {value.code}：{value.detail}"
    if isinstance(value, str):
        from udfs.excel import ERROR_PREFIX, NA_TEXT

        if value.startswith(ERROR_PREFIX):
            message = value[len(ERROR_PREFIX):]
            # 出错的那次单元格函数调用（最后一个；外层函数收到的是内层的“错误：…”）：它指出了单元格与原因
            failed = next((i for i in reversed(out.issues) if i.kind == "udf-error"), None)
            sheet, where = (failed.sheet, failed.cell) if failed is not None else (SHEET_SCORES, addr)
            reason = failed.reason if failed is not None else ""
            if reason == "missing":
                findings.append(F.make("missing-value", sheet, where, label=f"{sheet} {where}", indicator=ind,
                                       hint="（空白不按 0 计算；没有的请填 0 或“无”）"))
            else:
                code = "zero-denominator" if reason == "zero-denominator" else "indicator-error"
                findings.append(F.make(code, sheet, where, indicator=ind, detail=message))
            return None, message
        if value.strip() == NA_TEXT:
            return None, None
    return value, None


def _shown(v: Any) -> str:
    if isinstance(v, Decimal):
        return fmt_num(v, 6)
    return str(display(v))
