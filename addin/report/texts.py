"""“文字材料”表在报告中的读法：各项叙述、按行的清单（评价依据、评价过程……）、“部门自评指标”名单，以及报告要用而未填写
的材料（missing-text）。
"""
from __future__ import annotations

import builtins
import re
from decimal import Decimal
from types import SimpleNamespace
from typing import Any, Sequence

from workbook_templates.spec import System

from ..checks import findings as F
from ..model import SHEET_TEXTS, Finding, WorkbookInputs, cell_text
from . import problems as P
from .model import GAP, MARK, ReportError
from .render import _dec, _escape_lines

_LIST_NUMBER = re.compile(r"^(?:\d+\s*[、.．]|（\d+）|\(\d+\)|[一二三四五六七八九十]+、)\s*")
_ITEM_POINTS = re.compile(r"[（(]\s*(\d+(?:\.\d+)?)\s*分\s*[）)]|\s+(\d+(?:\.\d+)?)\s*分$")


class _Texts:
    def __init__(self, system: System, inputs: WorkbookInputs):
        self.titles = {t.key: t.title for t in system.texts}
        self.inputs = inputs
        self.missing: dict[str, str] = {}

    def _known(self, key: str) -> None:
        if key not in self.titles:
            raise ReportError(f"报告模板引用了不存在的文字材料“{key}”，可用的有：{'、'.join(self.titles)}")

    def value(self, key: str) -> str:
        return cell_text(self.inputs.texts.get(key))

    def has(self, key: str) -> bool:
        return key in self.titles and bool(self.value(key))

    def none(self, key: str) -> bool:
        """文字材料写明了“没有”（“无”“无。”“暂无”“—”）：报告已另有内容（如按失分指标写出的建议）时不再单独成段。"""
        return P.says_none(self.value(key))

    def same(self, key: str, other: Any) -> bool:
        """文字材料与另一处填写的文字相同（只差空白与句末标点），报告中不重复写出。"""
        def norm(t: Any) -> str:
            return re.sub(r"\s", "", cell_text(t)).rstrip("。.；;")
        return bool(self.value(key)) and norm(self.value(key)) == norm(other)

    def _gap(self, key: str) -> str:
        self.missing.setdefault(key, self.titles[key])
        return MARK + GAP

    @property
    def all_filled(self) -> bool:
        """全部文字材料都已填写：任何模板都不会记下缺项。"""
        return all(self.value(key) for key in self.titles)

    def __call__(self, key: str, optional: bool = False) -> str:
        self._known(key)
        v = self.value(key)
        if v:
            return _escape_lines(v)
        return "" if optional else self._gap(key)

    def lines(self, key: str, optional: bool = False, numbered: bool = False) -> str:
        """逐行成段的清单（评价依据、评价过程、工作组）；numbered 时统一编号“1.”（去掉原有的“1、”“（1）”）。"""
        self._known(key)
        rows = [ln.strip() for ln in self.value(key).splitlines() if ln.strip()]
        if not rows:
            return "" if optional else self._gap(key)
        if numbered:
            rows = [f"{k}.{_LIST_NUMBER.sub('', ln)}" for k, ln in enumerate(rows, 1)]
        return _escape_lines("\n".join(rows))

    def list(self, key: str) -> list[str]:
        """逐行的清单原文（去掉各行原有的编号），未填写时为空列表（不算缺少）。"""
        if key not in self.titles:
            return []
        return [_LIST_NUMBER.sub("", ln.strip()) for ln in self.value(key).splitlines() if ln.strip()]

    def items(self, key: str) -> builtins.list[SimpleNamespace]:  # 本类的 list 方法遮住了内置的 list
        """名单（部门自评指标）：按换行、顿号、分号、逗号分隔，可注明分值“在职人员控制率（5分）”。"""
        if key not in self.titles:
            return []
        out = []
        for raw in re.split(r"[\n、；;，,]+", self.value(key)):
            t = _LIST_NUMBER.sub("", raw.strip())
            m = _ITEM_POINTS.search(t)
            points = Decimal(m.group(1) or m.group(2)) if m else None
            name = _ITEM_POINTS.sub("", t).strip()
            if name:
                out.append(SimpleNamespace(name=name, points=points))
        return out

    def says(self, keys: str | Sequence[str], number: Any, *words: str) -> bool:
        """文字材料（keys 中任一项）是否已写明这个数：同一句里、数字之前出现 words 之一（不给 words 时只看数字）。
        生成的事实句与文字材料重复时，文字材料优先，生成的那句不写（保靖：编制 33 人写了两遍）。"""
        target = _dec(number)
        if target is None:
            return False
        target = target.normalize()
        for key in [keys] if isinstance(keys, str) else keys:
            text = self.value(key) if key in self.titles else ""
            for m in P.NUMBER.finditer(text):
                if Decimal(m.group()).normalize() != target:
                    continue
                start = max(text.rfind(ch, 0, m.start()) for ch in "。；;\n") + 1
                if not words or any(w in text[start:m.start()] for w in words):
                    return True
        return False

    def findings(self) -> builtins.list[Finding]:
        out = []
        for key, title in self.missing.items():
            sheet, cell = self.inputs.cells.get(("text", key), (SHEET_TEXTS, ""))
            out.append(F.make("missing-text", sheet, cell, title=title))
        return out
