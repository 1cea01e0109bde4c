"""指标参数的引用：体系描述中的参数（key / key@col / =常量）在工作簿中的原值与单元格。计分引擎、实际值推算、校验与报告共用。"""
from __future__ import annotations

from functools import lru_cache
from typing import Any

from ..model import Formula, WorkbookInputs


def _cached_or_raw(x: Any) -> Any:
    return x.cached if isinstance(x, Formula) else x


@lru_cache(maxsize=4096)
def parse_ref(ref: str) -> tuple[str, str, str]:
    """参数引用的三部分：“=常量” → ("=", 常量, "")，“key@col” → ("@", key, col)，“key” → ("", key, "")。
    每个工作簿的每个指标都要拆同样的几个引用：结果缓存。"""
    if ref.startswith("="):
        return "=", ref[1:], ""
    if "@" in ref:
        key, col = ref.split("@", 1)
        return "@", key, col
    return "", ref, ""


def resolve_arg(inputs: WorkbookInputs, ref: str) -> Any:
    """把描述中的参数引用（key / key@col / =常量）换成工作簿中的原值。"""
    return resolve_parsed(inputs, *parse_ref(ref))


def resolve_parsed(inputs: WorkbookInputs, kind: str, key: str, col: str) -> Any:
    """resolve_arg，引用已由 parse_ref 拆开（每个指标都要取的几个参数不再各拆两次）。"""
    if kind == "=":
        return key
    if kind == "@":
        row = inputs.table.get(key)
        x = row.get(col) if row is not None else None
    else:
        x = inputs.scalars.get(key)
    return _cached_or_raw(x)


def arg_cell(inputs: WorkbookInputs, ref: str) -> tuple[str, str] | None:
    if ref.startswith("="):
        return None
    if "@" in ref:
        key, col = ref.split("@", 1)
        return inputs.cells.get(("table", key, col))
    return inputs.cells.get(("scalar", ref))
