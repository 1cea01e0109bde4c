"""绩效评价报告：由工作簿（输入、计分结果、校验发现）生成结构化报告，写入“报告”表、Word（公文格式）与 PDF。

报告里的每个数字都来自工作簿：指标段落中的“公式＝数字＝结果”用的是计分引擎同一组基础数据原值（IndicatorSpec.args
经 engine.resolve_arg 取得），按与单元格函数相同的参数顺序代入；金额、百分数、得分的舍入由命名的 Jinja 过滤器
（money / pct / score / num）统一负责，它们就是 udfs.numbers 的 fmt_* 规则。措辞在 workbook_templates/text/*.j2
（每节一个模板，StrictUndefined），用户可复制到自己的目录修改（build_report(template_dir=…) / jixiao report --templates）。

同一工作簿生成的报告逐字相同（不含日期、随机数或字典无序遍历）。
"""
from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from types import SimpleNamespace
from typing import Any, Callable, Sequence

import jinja2
from jinja2.sandbox import SandboxedEnvironment

from udfs.excel import BY_NAME
from udfs.numbers import fmt_num, fmt_pct, fmt_score, round2
from udfs.scoring import DeductionChecklist, GradeScale, GradeTable, Linear, Manual, Qualitative, RuleError, Target
from workbook_templates.spec import System
from workbook_templates.systems import SYSTEMS

from . import findings as F
from .book import Book, CellWrite
from .engine import evaluate, resolve_arg
from .model import SHEET_REPORT, SHEET_TEXTS, Evaluation, Finding, IndicatorResult, WorkbookInputs, cell_number, cell_text

TEXT_DIR = Path(__file__).resolve().parent.parent / "workbook_templates" / "text"
PLACEHOLDER = "【待填写：{title}】"
PLACEHOLDER_OPEN = "【待填写："
CHART_TITLE = "一级指标得分率"
ZERO = Decimal(0)


class ReportError(Exception):
    """报告无法生成（模板有误、缺少 LibreOffice 等），message 为中文说明。"""


# ---------------------------------------------------------------------------------------------------------
# 报告模型
# ---------------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Block:
    """报告正文的一块：heading 标题（level 1～4：一、（一）1.（1））、para 段落、chart 图（一级指标得分率）。"""

    kind: str
    text: str = ""
    level: int = 0

    @property
    def placeholder(self) -> bool:
        return PLACEHOLDER_OPEN in self.text


@dataclass(frozen=True)
class TableRow:
    """附件评分表的一行。kind：row 三级指标 / subtotal 一级指标小计 / total 总分 / grade 等级。"""

    kind: str
    level1: str
    level2: str
    name: str
    points: Decimal | None
    target: str  # 项目支出：年度指标值；部门整体：空
    value: str  # 实际值（已格式化）
    final: Decimal | None
    note: str


@dataclass(frozen=True)
class ChartBar:
    name: str
    points: Decimal
    score: Decimal

    @property
    def rate(self) -> Decimal | None:
        return self.score / self.points if self.points else None


@dataclass
class Report:
    system_key: str
    kind: str
    title_lines: list[str]
    blocks: list[Block]
    signature: list[str]
    appendix_title: str
    table_header: list[str]
    table: list[TableRow]
    chart: list[ChartBar]
    chart_title: str = CHART_TITLE
    findings: list[Finding] = field(default_factory=list)  # 报告自身的发现（文字材料未填写）

    @property
    def title(self) -> str:
        return "".join(self.title_lines)

    def table_cells(self, row: TableRow) -> list[str]:
        """附件表一行的显示文本（与 table_header 对应）。"""
        pts = "" if row.points is None else fmt_score(row.points)
        fin = "—" if row.final is None and row.kind != "grade" else ("" if row.final is None else fmt_score(row.final))
        if row.kind == "grade":
            return [row.level1, "", "", "", *([""] if self.kind == "project" else []), "", row.value, ""]
        cells = [row.level1, row.level2, row.name, pts]
        if self.kind == "project":
            cells.append(row.target)
        return cells + [row.value, fin, row.note]

    def chart_legend(self) -> str:
        return "；".join(f"{b.name} {fmt_pct(b.rate)}（{fmt_score(b.score)}/{fmt_score(b.points)}分）" for b in self.chart)

    def as_text(self) -> str:
        """纯文本形式（测试与审阅用）：标题、正文（标题与段落各占一行）、落款、附件表（制表符分隔）。"""
        out = list(self.title_lines) + [""]
        for b in self.blocks:
            if b.kind == "chart":
                out.append(f"［图］{self.chart_title}：{self.chart_legend()}")
            else:
                out.append(b.text)
        out += [""] + self.signature + ["", "附件：" + self.appendix_title, "\t".join(self.table_header)]
        out += ["\t".join(self.table_cells(r)).rstrip("\t") for r in self.table]
        return "\n".join(out) + "\n"

    def sections(self) -> list[tuple[str, list[Block]]]:
        """按一级标题切分正文：[(一级标题文字, 该节的块)]；第一个一级标题之前的块标题为空串。"""
        out: list[tuple[str, list[Block]]] = [("", [])]
        for b in self.blocks:
            if b.kind == "heading" and b.level == 1:
                out.append((b.text, []))
            else:
                out[-1][1].append(b)
        return out


# ---------------------------------------------------------------------------------------------------------
# 命名过滤器：舍入规则只在这里（沿用 udfs.numbers）
# ---------------------------------------------------------------------------------------------------------
_CN = "零一二三四五六七八九"


def cn_number(n: int) -> str:
    """1→一，10→十，12→十二，20→二十，99→九十九（标题序号用）。"""
    n = int(n)
    if not 0 < n < 100:
        return str(n)
    tens, ones = divmod(n, 10)
    if not tens:
        return _CN[ones]
    return ("" if tens == 1 else _CN[tens]) + "十" + (_CN[ones] if ones else "")


def h1(n: int) -> str:
    """一级标题序号：一、"""
    return cn_number(n) + "、"


def h2(n: int) -> str:
    """二级标题序号：（一）"""
    return f"（{cn_number(n)}）"


def h3(n: int) -> str:
    """三级标题序号：1."""
    return f"{int(n)}."


def h4(n: int) -> str:
    """四级标题序号：（1）"""
    return f"（{int(n)}）"


def _dec(x: Any) -> Decimal | None:
    # 计分引擎算出的 Decimal 原样使用；单元格内容按 model.cell_number 解析
    return x if isinstance(x, Decimal) else cell_number(x)


def f_money(x: Any) -> str:
    """金额：四舍五入保留 2 位小数（892.35、1.50、0.00）；空为“—”。"""
    d = _dec(x)
    if d is None:
        return "—"
    q = round2(d)
    return "0.00" if q == 0 else format(q, "f")


def f_pct(x: Any) -> str:
    """比率→百分数，2 位小数（0.10118…→10.12%）；不适用为“不适用”。"""
    return fmt_pct(_dec(x))


def f_score(x: Any) -> str:
    """得分：最多 2 位小数，去掉末尾 0（7.90→7.9，13.00→13）；空为“—”。"""
    return fmt_score(_dec(x))


def f_num(x: Any) -> str:
    """人数、面积等：最多 2 位小数，去掉末尾 0。"""
    return fmt_num(_dec(x))


def f_oneline(x: Any) -> str:
    """把多行内容并成一段（各行去掉首尾空白后直接相连）。"""
    return "".join(line.strip() for line in str(x).splitlines())


def f_sentence(x: Any) -> str:
    """补上句末标点：文字不以 。！？；… 结尾时加“。”。"""
    t = str(x).strip()
    return t if not t or t[-1] in "。！？；…”）)." else t + "。"


def _escape_lines(text: str) -> str:
    """用户文字逐行作为段落；以 # @ \\ 开头的行前加反斜杠，避免被当成标题或图的标记。"""
    lines = [ln.strip() for ln in str(text).replace("\r\n", "\n").replace("\r", "\n").split("\n")]
    return "\n".join(("\\" + ln) if ln[:1] in ("#", "@", "\\") else ln for ln in lines if ln)


FILTERS: dict[str, Callable[..., str]] = {
    "money": f_money, "pct": f_pct, "score": f_score, "num": f_num, "cn": cn_number,
    "h1": h1, "h2": h2, "h3": h3, "h4": h4, "oneline": f_oneline, "para": _escape_lines,
    "sentence": f_sentence,
}


_BUILTIN_ENV: jinja2.Environment | None = None


def make_env(template_dir: str | Path | None = None) -> jinja2.Environment:
    """报告模板环境：先找用户目录（若给出），再找 workbook_templates/text；未定义变量一律报错。

    只用内置模板时复用同一个环境：编译模板占生成一份报告九成以上的时间，而校验（text_findings）与批量处理
    会对每个工作簿各生成一次。Jinja 按文件修改时间重新加载改动过的模板。用户目录每次新建环境——用户刚改完
    模板就重新生成时，不依赖文件系统时间戳的精度。"""
    global _BUILTIN_ENV
    if not template_dir:
        if _BUILTIN_ENV is None:
            _BUILTIN_ENV = _new_env(None)
        return _BUILTIN_ENV
    return _new_env(template_dir)


class _BytecodeCache(jinja2.FileSystemBytecodeCache):
    """编译好的模板存盘（按模板源码校验和，模板改了就重新编译）：命令行每次都是新进程，编译 29 个模板约 0.2 秒，
    是 jixiao report 冷启动里最大的一块。缓存只是加速：写不进去（磁盘满、无权限）时照常生成报告。"""

    def dump_bytecode(self, bucket) -> None:
        try:
            super().dump_bytecode(bucket)
        except OSError:
            pass


def _bytecode_cache() -> jinja2.BytecodeCache | None:
    try:
        # 默认目录是临时目录下按用户区分、权限 0700 的 _jinja2-cache-<uid>，Jinja 会拒绝别人建的同名目录
        return _BytecodeCache()
    except (OSError, RuntimeError):
        return None


def _new_env(template_dir: str | Path | None) -> jinja2.Environment:
    paths = ([str(template_dir)] if template_dir else []) + [str(TEXT_DIR)]
    # 沙箱环境：--templates 目录里的模板可能来自别人（随工作簿一起转发），模板只能读取传入的数据与过滤器，
    # 不能经 __class__/__globals__ 之类的属性触及 Python 内部、执行代码（SSTI）
    env = SandboxedEnvironment(loader=jinja2.FileSystemLoader(paths), undefined=jinja2.StrictUndefined,
                               trim_blocks=True, lstrip_blocks=True, autoescape=False, keep_trailing_newline=True,
                               bytecode_cache=_bytecode_cache())
    env.filters.update(FILTERS)
    return env


# ---------------------------------------------------------------------------------------------------------
# 指标的“数字表达式”：按单元格函数的参数顺序代入原值
# ---------------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class _Arg:
    label: str
    raw: Any
    value: Decimal | None
    kind: str  # money / count / rate / text
    unit: str

    def fig(self) -> str:
        """代入公式的数字（空白按 0，与单元格函数一致）。"""
        if self.kind == "text":
            return str(self.raw or "")
        v = self.value if self.value is not None else ZERO
        s = f_money(v) if self.kind == "money" else f_pct(v) if self.kind == "rate" else f_num(v)
        return f"（{s}）" if s.startswith("-") else s

    def described(self) -> str:
        if self.kind == "text":
            return f"{self.label}为“{self.raw or ''}”"
        if self.value is None:
            return f"{self.label}未填写"
        if self.kind == "money":
            return f"{self.label}{f_money(self.value)}{self.unit}"
        if self.kind == "rate":
            return f"{self.label}{f_pct(self.value)}"
        return f"{self.label}{f_num(self.value)}{self.unit}"


@dataclass(frozen=True)
class _Expr:
    figures: str
    result: str | None = None  # 代替默认的“＝结果”；"" 表示不再写结果
    shown: tuple[int, ...] | None = None  # 数据句中列出哪些参数（默认全部）


def _div(f: list[str]) -> _Expr:
    return _Expr(f"{f[0]}÷{f[1]}×100%")


def _change(f: list[str]) -> _Expr:
    return _Expr(f"（{f[0]}－{f[1]}）÷{f[1]}×100%")


def _satisfaction(f: list[str]) -> _Expr:
    weights = [Decimal("0.5"), Decimal("0.4"), Decimal("0.1")]
    for i, w in enumerate(f[3:6]):
        d = _dec(w.rstrip("%")) if w else None
        if d is not None:
            weights[i] = d / 100 if w.endswith("%") else d
    terms = [f"{f[i]}×{fmt_num(weights[i] * 100)}%" for i in range(3)]
    return _Expr("＋".join(terms), shown=(0, 1, 2))


_BASIS_ARG = {"全年预算数": 3, "实际到位资金": 2, "调整后预算数": 4, "年初预算数": 5}


def _execution_by(f: list[str]) -> _Expr:
    idx = _BASIS_ARG.get((f[0] or "全年预算数").strip(), 3)
    return _Expr(f"{f[1]}÷{f[idx]}×100%", shown=(0, 1, idx))


def _overstaffing(f: list[str]) -> _Expr:
    quota, actual = _dec(f[0].strip("（）")), _dec(f[1].strip("（）"))
    if quota is not None and actual is not None and actual <= quota:
        return _Expr(f"{f[1]}－{f[0]}≤0，未超编", result="")
    return _Expr(f"{f[1]}－{f[0]}")


# 单元格函数 → 数字表达式（参数顺序与 udfs.excel.CATALOG 中的参数顺序相同）
EXPRESSIONS: dict[str, Callable[[list[str]], _Expr]] = {
    "STAFF_CONTROL_RATE": _div,
    "SANGONG_CHANGE_RATE": _change,
    "BUDGET_COMPLETION": lambda f: _Expr(f"（{f[0]}＋{f[1]}＋{f[2]}－{f[3]}）÷（{f[0]}＋{f[1]}＋{f[2]}）×100%"),
    "BUDGET_COMPLETION_ZZ": _div,
    "BUDGET_CONTROL_RATE": _div,
    "BUILDING_AREA_RATE": _div,
    "BUILDING_INVEST_RATE": _div,
    "PUBLIC_EXPENSE_CONTROL": _div,
    "PUBLIC_EXPENSE_CHANGE": _change,
    "SANGONG_CONTROL_RATE": _div,
    "PROCUREMENT_RATE": _div,
    "BUDGET_ARRIVAL_RATE": _div,
    "CARRYOVER_RATE": lambda f: _Expr(f"（{f[0]}－{f[1]}）÷{f[2]}×100%"),
    "CARRYOVER_CHANGE_RATE": _change,
    "RECEIVABLE_CHANGE_RATE": _change,
    "ASSET_USE_RATE": lambda f: _Expr(f"（1－{f[0]}÷{f[1]}）×100%"),
    "SATISFACTION": _satisfaction,
    "BUDGET_EXECUTION": _div,
    "BUDGET_EXECUTION_BY": _execution_by,
    "OVERSTAFFING": _overstaffing,
    "KEY_WORK_RATE": _div,
    "DEBT_STATUS": lambda f: _Expr("", result=""),
}


def _args_for(system: System, inputs: WorkbookInputs, ev: Evaluation, udf: str, refs: Sequence[str]) -> list[_Arg]:
    names = BY_NAME[udf].args
    scalars = {s.key: s for s in system.scalars}
    out = []
    for i, ref in enumerate(refs):
        name, desc = names[i] if i < len(names) else (ref, "")
        raw = resolve_arg(system, inputs, ref)
        if ref.startswith("="):
            kind, unit = "text", ""
        elif "@" in ref:
            kind, unit = "money", ev.money_unit
        else:
            s = scalars.get(ref)
            k = s.kind if s else "money"
            kind = {"money": "money", "count": "count", "rate": "rate"}.get(k, "text")
            unit = ev.money_unit if kind == "money" else (s.unit if s else "")
        value = _dec(raw) if kind != "text" else None
        if kind == "text":
            raw = "" if raw is None else str(raw).strip()
        out.append(_Arg(desc or name, raw, value, kind, unit))
    return out


# ---------------------------------------------------------------------------------------------------------
# 每个指标的视图（模板里的 ind.*）
# ---------------------------------------------------------------------------------------------------------
def _clean(x: Any) -> str:
    return f_oneline(cell_text(x)).strip()


def _value_text(value: Any, unit: str) -> str:
    if value is None:
        return "不适用"
    if isinstance(value, str):
        return value.strip()
    d = _dec(value)
    if d is None:
        return _clean(value)
    if unit == "%":
        return f_pct(d)
    if unit in ("分", "扣分"):
        return f"{f_score(d)}分"
    return f"{f_num(d)}{unit}"


def _target_text(rule: Target, unit: str) -> str:
    if rule.nature == "定性":
        return f"“{_clean(rule.target)}”"
    nature = "＝" if rule.nature == "=" else rule.nature
    return nature + _value_text(_dec(rule.target), unit)


def _equation(name: str, formula: str, figures: str, result: str) -> str:
    formula = formula.replace("=", "＝")
    head = formula if "＝" in formula else (f"{name}＝{formula}" if formula else name)
    eq = f"{head}＝{figures}" if figures else head
    return f"{eq}＝{result}" if result else eq


def _score_expr(ind: IndicatorResult) -> str:
    """线性插值与项目指标未达标时，写出得分的算式（种子 001：得分=[90.5%-85%]÷[95%-85%]×12=6.6）。"""
    rule, v, c = ind.rule, ind.value, ind.computed
    if c is None or ind.points is None or not (ZERO < c < ind.points) or not isinstance(v, Decimal):
        return ""
    pts = f_score(ind.points)
    if isinstance(rule, Linear):
        lo, hi = rule.zero_at, rule.full_at
        if hi > lo:
            return f"得分＝（{f_pct(v)}－{f_pct(lo)}）÷（{f_pct(hi)}－{f_pct(lo)}）×{pts}＝{f_score(c)}分"
        return f"得分＝（{f_pct(lo)}－{f_pct(v)}）÷（{f_pct(lo)}－{f_pct(hi)}）×{pts}＝{f_score(c)}分"
    if isinstance(rule, Target) and rule.nature in ("≥", "≤"):
        t = _dec(rule.target)
        if t is None:
            return ""
        a, b = (_value_text(v, ind.unit), _value_text(t, ind.unit))
        num, den = (a, b) if rule.nature == "≥" else (b, a)
        return f"得分＝{num}÷{den}×{pts}＝{f_score(c)}分"
    return ""


def _error_text(ind: IndicatorResult, ev: Evaluation) -> str:
    if ind.value_error:
        return ind.value_error
    for f in ev.findings:
        if f"“{ind.name}”" in f.message:
            return f.message
    return "实际值或评分规则不完整"


def _indicator_view(system: System, inputs: WorkbookInputs, ev: Evaluation, ind: IndicatorResult) -> SimpleNamespace:
    spec = system.indicator(ind.code)
    udf = spec.udf if spec is not None and spec.udf else ""
    rule = ind.rule
    kind = "value"
    if ind.final is None:
        kind = "error"
    elif isinstance(rule, Manual):
        kind = "manual"
    elif isinstance(rule, DeductionChecklist):
        kind = "deduct"
    elif udf == "DEBT_STATUS" and not ind.value_typed:
        kind = "status"
    elif isinstance(rule, GradeTable):
        kind = "grade"
    elif isinstance(rule, Target) and not udf:
        kind = "qualitative" if rule.nature == "定性" else "target"
    elif isinstance(rule, Qualitative):
        kind = "qualitative"
    elif udf and not ind.value_typed:
        kind = "na" if ind.value is None else "formula"

    data_text, figures, result = "", "", _value_text(ind.value, ind.unit)
    if udf and not ind.value_typed and spec is not None:
        args = _args_for(system, inputs, ev, udf, spec.args)
        expr = EXPRESSIONS.get(udf, lambda f: _Expr(""))([a.fig() for a in args])
        shown = expr.shown if expr.shown is not None else tuple(range(len(args)))
        data_text = "，".join(args[i].described() for i in shown if i < len(args))
        figures = expr.figures
        if expr.result is not None:
            result = expr.result
    deduction = _dec(ind.value) if kind == "deduct" else None
    if isinstance(rule, DeductionChecklist) and rule.per_item is not None and deduction is not None:
        deduction = deduction * rule.per_item
    lost = ind.lost if ind.final is not None else ZERO
    return SimpleNamespace(
        code=ind.code, name=_clean(ind.name), level1=_clean(ind.level1), level2=_clean(ind.level2), kind=kind, udf=udf,
        points=ind.points, computed=ind.computed, override=ind.override, final=ind.final,
        adjusted=ind.override is not None, changed=ind.override is not None and ind.override != ind.computed,
        reason=_clean(ind.reason), note=_clean(ind.note), criterion=_clean(ind.criterion), formula=_clean(ind.formula),
        unit=ind.unit, value_text=(result or _value_text(ind.value, ind.unit)) if kind == "formula"
        else _value_text(ind.value, ind.unit),
        data_text=data_text, figures=figures,
        equation=_equation(_clean(ind.name), _clean(ind.formula), figures, result) if kind == "formula" else "",
        formula_head=_equation(_clean(ind.name), _clean(ind.formula), "", ""), formula_text=_clean(ind.formula),
        score_expr=_score_expr(ind) if not ind.override else "", na_policy=rule.na if rule else "",
        target=_target_text(rule, ind.unit) if isinstance(rule, Target) and not udf else "",
        met=ind.computed is not None and ind.points is not None and ind.computed >= ind.points,
        deduction=deduction or ZERO,
        grades="、".join(f"{n}{f_score(s)}分" for n, s in rule.grades) if isinstance(rule, GradeTable) else "",
        error=_error_text(ind, ev) if kind == "error" else "", lost=lost, row=ind.row)


# ---------------------------------------------------------------------------------------------------------
# 文字材料：缺失的显示占位符并记为警告
# ---------------------------------------------------------------------------------------------------------
class _Texts:
    def __init__(self, system: System, inputs: WorkbookInputs):
        self.titles = {t.key: t.title for t in system.texts}
        self.inputs = inputs
        self.missing: dict[str, str] = {}

    def value(self, key: str) -> str:
        return cell_text(self.inputs.texts.get(key))

    def has(self, key: str) -> bool:
        return bool(self.value(key))

    @property
    def all_filled(self) -> bool:
        """全部文字材料都已填写：任何模板都不会记下缺项。"""
        return all(self.value(key) for key in self.titles)

    def __call__(self, key: str, optional: bool = False) -> str:
        if key not in self.titles:
            raise ReportError(f"报告模板引用了不存在的文字材料“{key}”，可用的有：{'、'.join(self.titles)}")
        v = self.value(key)
        if v:
            return _escape_lines(v)
        if optional:
            return ""
        self.missing.setdefault(key, self.titles[key])
        return PLACEHOLDER.format(title=self.titles[key])

    def findings(self) -> list[Finding]:
        out = []
        for key, title in self.missing.items():
            sheet, cell = self.inputs.cells.get(("text", key), (SHEET_TEXTS, ""))
            out.append(F.make("missing-text", sheet, cell, title=title))
        return out


# ---------------------------------------------------------------------------------------------------------
# 章节：每种评价一组模板，按顺序编号（条件不满足的章节不出现，也不占序号）
# ---------------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class SectionSpec:
    key: str
    template: str
    numbered: bool = True
    when: Callable[[dict], bool] | None = None


SECTIONS: dict[str, tuple[SectionSpec, ...]] = {
    "dept": (
        SectionSpec("preamble", "dept_0_preamble.j2", numbered=False),
        SectionSpec("basic", "dept_1_basic.j2"),
        SectionSpec("evaluation", "dept_2_evaluation.j2"),
        SectionSpec("analysis", "dept_3_analysis.j2"),
        SectionSpec("notes", "dept_4_notes.j2"),
        SectionSpec("conclusion", "dept_5_conclusion.j2"),
        SectionSpec("lessons", "dept_6_lessons.j2"),
    ),
    "key_eval": (
        SectionSpec("preamble", "key_0_preamble.j2", numbered=False),
        SectionSpec("summary", "key_0_summary.j2", numbered=False),
        SectionSpec("basic", "key_1_basic.j2"),
        SectionSpec("conclusion", "key_2_conclusion.j2"),
        SectionSpec("difference", "key_3_difference.j2", when=lambda c: c["self_score"] is not None),
        SectionSpec("analysis", "key_4_analysis.j2"),
        SectionSpec("problems", "key_5_problems.j2"),
        SectionSpec("notes", "key_6_notes.j2", when=lambda c: bool(c["overrides"])),
    ),
    "project": (
        SectionSpec("preamble", "project_0_preamble.j2", numbered=False),
        SectionSpec("basic", "project_1_basic.j2"),
        SectionSpec("conclusion", "project_2_conclusion.j2"),
        SectionSpec("experience", "project_3_experience.j2"),
        SectionSpec("problems", "project_4_problems.j2"),
        SectionSpec("suggestions", "project_5_suggestions.j2"),
        SectionSpec("notes", "project_6_notes.j2"),
    ),
}
TITLE_TEMPLATE = {"dept": "dept_title.j2", "key_eval": "key_title.j2", "project": "project_title.j2"}
TABLE_HEADER = {
    "dept": ["一级指标", "二级指标", "三级指标", "分值", "实际值", "得分", "备注"],
    "key_eval": ["一级指标", "二级指标", "三级指标", "分值", "实际值", "得分", "备注"],
    "project": ["一级指标", "二级指标", "三级指标", "分值", "年度指标值", "实际完成值", "得分", "备注"],
}

_HEADING_RE = re.compile(r"^(#{1,4})\s+(.*)$")


def _parse(text: str) -> list[Block]:
    """模板输出 → 块：“# ”～“#### ”开头为 1～4 级标题，单独一行“@chart”为图，其余非空行各为一段。"""
    blocks: list[Block] = []
    for raw in text.splitlines():
        line = raw.strip()
        if not line:
            continue
        if line.startswith("\\"):
            blocks.append(Block("para", line[1:]))
            continue
        m = _HEADING_RE.match(line)
        if m:
            blocks.append(Block("heading", m.group(2).strip(), len(m.group(1))))
        elif line == "@chart":
            blocks.append(Block("chart"))
        else:
            blocks.append(Block("para", line))
    return blocks


# XML 1.0 不允许的控制字符：Word 文档（lxml）写入时会报错。经 Excel（xlwings）读来的文字里可能有：从 Word 粘贴的
# 手动换行是 \x0b、分页符是 \x0c——当作换行；其余（\x07 等）删去。openpyxl 读文件时这些字符保持 _x000B_ 转义形式，碰不到。
_LINE_BREAK_CTRL = re.compile("[\x0b\x0c]")
_BAD_XML_CHARS = re.compile("[\x00-\x08\x0e-\x1f\ufffe\uffff\ud800-\udfff]")


def xml_safe(text: str) -> str:
    """去掉 Word/Excel 文件中不能保存的控制字符（\x0b、\x0c 换成换行）。"""
    return _BAD_XML_CHARS.sub("", _LINE_BREAK_CTRL.sub("\n", text))


def _uses_texts(env: jinja2.Environment, name: str, _seen: frozenset[str] = frozenset()) -> bool:
    """模板（连同它 include/import/extends 的模板）是否用到文字材料 text：没用到的模板不会记下缺项。
    按模板的语法树判断（jinja2.meta：运行时从上下文取 text 即算用到，含别名与宏），结果按环境缓存；
    读不出或引用的模板名是动态的，一律当作用到（照常生成）。"""
    from jinja2 import meta

    cache: dict[str, bool] = env.__dict__.setdefault("_jixiao_uses_texts", {})
    if name in cache:
        return cache[name]
    if name in _seen:
        return False
    try:
        source, _, _ = env.loader.get_source(env, name)  # type: ignore[union-attr]
        ast = env.parse(source)
    except Exception:  # noqa: BLE001 —— 模板错误由 _render 报告
        return True
    uses = "text" in meta.find_undeclared_variables(ast) or any(
        ref is None or _uses_texts(env, ref, _seen | {name}) for ref in meta.find_referenced_templates(ast))
    cache[name] = uses
    return uses


def _render(env: jinja2.Environment, name: str, ctx: dict) -> str:
    try:
        return xml_safe(env.get_template(name).render(**ctx))
    except jinja2.TemplateNotFound as exc:
        raise ReportError(f"找不到报告模板“{exc.name}”（模板目录：{TEXT_DIR}）") from None
    except jinja2.TemplateSyntaxError as exc:
        raise ReportError(f"报告模板“{exc.name or name}”第 {exc.lineno} 行语法有误：{exc.message}") from None
    except jinja2.UndefinedError as exc:
        raise ReportError(f"报告模板“{name}”引用了未定义的内容：{exc.message}") from None
    except ReportError:
        raise
    except Exception as exc:  # 用户改动的模板可能出现任意运行错误：给出中文说明而不是回溯
        raise ReportError(f"报告模板“{name}”无法生成：{type(exc).__name__}: {exc}") from None


# ---------------------------------------------------------------------------------------------------------
# build_report
# ---------------------------------------------------------------------------------------------------------
def _scalars_view(system: System, inputs: WorkbookInputs) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for s in system.scalars:
        raw = inputs.scalars.get(s.key)
        out[s.key] = _dec(raw) if s.kind in ("money", "count", "rate") else (_clean(raw) or None)
    return out


def _table_view(system: System, inputs: WorkbookInputs) -> dict[str, dict[str, Decimal | None]]:
    return {r.key: {c.key: _dec(inputs.table.get(r.key, {}).get(c.key)) for c in system.columns}
            for r in system.table_rows}


def _groups(views: list[SimpleNamespace]) -> list[SimpleNamespace]:
    order: dict[str, list[SimpleNamespace]] = {}
    for v in views:
        order.setdefault(v.level2, []).append(v)
    return [SimpleNamespace(name=k, indicators=vs, points=sum((v.points or ZERO for v in vs), ZERO),
                            score=sum((v.final or ZERO for v in vs), ZERO)) for k, vs in order.items()]


def _check_summary(findings: Sequence[Finding]) -> SimpleNamespace:
    """校验发现中的“错误”“警告”（报告自身的 missing-text 除外），按严重程度排序，最多列 8 条。"""
    relevant = [f for f in F.sort_findings(list(findings)) if f.severity in (F.ERROR, F.WARNING) and f.code != "missing-text"]
    items = [f"{f.message}（{f.sheet}!{f.cell}）" if f.cell else f.message for f in relevant]
    return SimpleNamespace(errors=sum(1 for f in relevant if f.severity == F.ERROR),
                           warnings=sum(1 for f in relevant if f.severity == F.WARNING),
                           items=items[:8], more=max(0, len(items) - 8), any=bool(relevant))


def _grade_scale(system: System, inputs: WorkbookInputs) -> GradeScale:
    try:
        return GradeScale.from_rows(inputs.grade_rows) if inputs.grade_rows else system.grades
    except RuleError:
        return system.grades


def build_report(inputs: WorkbookInputs, ev: Evaluation, findings: Sequence[Finding] | None = None, *,
                 template_dir: str | Path | None = None, only_texts: bool = False) -> Report:
    """由工作簿输入、计分结果与校验发现生成报告（确定性：同一工作簿逐字相同）。

    findings 通常为 addin.checks.run_checks 的结果（没有时用 ev.findings）；其中的“错误”“警告”写入“存在问题”。
    返回的 Report.findings 是报告自身的发现：未填写的文字材料（missing-text，警告）。
    only_texts=True（text_findings 用）：只求 findings——不用文字材料（text）的模板不生成，文字材料全部填写时一个也不生成；
    得到的 findings 与完整生成时相同，正文不完整。
    """
    system = SYSTEMS[inputs.system_key]
    findings = list(ev.findings if findings is None else findings)
    env = make_env(template_dir)
    texts = _Texts(system, inputs)
    views = [_indicator_view(system, inputs, ev, i) for i in ev.indicators]
    level1s = []
    for name, lv in ev.level1.items():
        members = [v for v in views if v.level1 == name]
        level1s.append(SimpleNamespace(name=name, points=lv.points, score=lv.score, computed=lv.computed,
                                       rate=lv.score / lv.points if lv.points else None, indicators=members,
                                       groups=_groups(members)))
    scal = _scalars_view(system, inputs)
    self_score = scal.get("self_score")
    scale = _grade_scale(system, inputs)
    unscored = [v for v in views if v.final is None]
    ctx: dict[str, Any] = dict(
        kind=system.kind, system_title=system.title, unit=ev.unit_name or PLACEHOLDER.format(title="单位名称"),
        year=ev.year or PLACEHOLDER.format(title="评价年度"), money_unit=ev.money_unit, text=texts, has_text=texts.has, scal=scal, tab=_table_view(system, inputs),
        indicators=views, level1s=level1s, total=ev.total, points_total=ev.points_total, grade=ev.grade,
        complete=not unscored, unscored=unscored, overrides=[v for v in views if v.adjusted],
        lost=[v for v in views if v.final is not None and v.lost > 0], check=_check_summary(findings),
        lost_total=sum((v.lost for v in views if v.final is not None), ZERO),
        self_score=self_score, self_grade=(scal.get("self_grade") or (scale.grade(self_score) if self_score is not None else "")),
        diff=(self_score - ev.total) if self_score is not None else None,
        project=scal.get("project_name") or "", notes_ref="",
    )
    specs = [s for s in SECTIONS[system.kind] if s.when is None or s.when(ctx)]
    numbers: dict[str, int] = {}
    for s in specs:
        if s.numbered:
            numbers[s.key] = len(numbers) + 1
    ctx["sec"] = {k: h1(n) for k, n in numbers.items()}
    rendered: dict[str, list[Block]] = {}
    # “需要说明事项”先生成：其他章节要引用它的标题（如“说明详见本报告四、需要说明事项”）
    for s in sorted(specs, key=lambda s: s.key != "notes"):
        if only_texts and (texts.all_filled or (s.key != "notes" and not _uses_texts(env, s.template))):
            rendered[s.key] = []  # 不会记下任何缺项（“需要说明事项”的标题其他章节要引用，照常生成）
            continue
        blocks = _parse(_render(env, s.template, {**ctx, "no": numbers.get(s.key, 0)}))
        rendered[s.key] = blocks
        if s.key == "notes":
            ctx["notes_ref"] = next((b.text for b in blocks if b.kind == "heading"), "")
    blocks = [b for s in specs for b in rendered[s.key]]
    if only_texts and (texts.all_filled or not _uses_texts(env, TITLE_TEMPLATE[system.kind])):
        parts = _title_parts("")
    else:
        parts = _title_parts(_render(env, TITLE_TEMPLATE[system.kind], ctx))
    report_findings = texts.findings() + _identity_findings(inputs, ev)
    return Report(system_key=system.key, kind=system.kind, title_lines=parts["标题"] or [system.title], blocks=blocks,
                  signature=parts["落款"], appendix_title="".join(parts["附件"]) or system.title, table_header=list(TABLE_HEADER[system.kind]),
                  table=_table_rows(system, ev, views, scale), chart=[ChartBar(xml_safe(l.name), l.points, l.score) for l in level1s
                                                                      if l.points],
                  findings=F.sort_findings(report_findings))


def _identity_findings(inputs: WorkbookInputs, ev: Evaluation) -> list[Finding]:
    """单位名称、评价年度未填写（报告标题里显示为待填写）。"""
    out = []
    for key, title, value in (("unit_name", "单位名称", ev.unit_name), ("year", "评价年度", ev.year)):
        if not value:
            sheet, cell = inputs.cells.get(("scalar", key), ("基础数据表", ""))
            out.append(F.make("missing-text", sheet, cell, title=title))
    return out


def _title_parts(text: str) -> dict[str, list[str]]:
    """标题模板的输出分三段：“[标题]”下每行一行标题，“[落款]”下为落款各行，“[附件]”下为附件表标题。"""
    parts: dict[str, list[str]] = {"标题": [], "落款": [], "附件": []}
    current = None
    for raw in text.splitlines():
        line = raw.strip()
        if line in ("[标题]", "[落款]", "[附件]"):
            current = line[1:-1]
        elif line and current:
            parts[current].append(line[1:] if line.startswith("\\") else line)
    return parts


def _table_rows(system: System, ev: Evaluation, views: list[SimpleNamespace], scale: GradeScale) -> list[TableRow]:
    rows: list[TableRow] = []
    for name, lv in ev.level1.items():
        for v in (x for x in views if x.level1 == name):
            if v.kind == "error":
                note = "无法计分：" + v.error
            elif v.adjusted:
                note = f"计算得分{f_score(v.computed)}分，调整为{f_score(v.final)}分" + (f"（{v.note}）" if v.note else "")
            else:
                note = v.note
            value = v.value_text if v.kind not in ("manual",) else ""
            if v.kind == "deduct":
                value = f"扣{f_score(v.deduction)}分" if v.deduction else "无扣分"
            rows.append(TableRow("row", xml_safe(v.level1), xml_safe(v.level2), xml_safe(v.name), v.points,
                                 xml_safe(v.target), xml_safe(value), v.final, xml_safe(note)))
        rows.append(TableRow("subtotal", xml_safe(f"{name}小计"), "", "", lv.points, "", "", lv.score, ""))
    rows.append(TableRow("total", "总分", "", "", ev.points_total, "", "", ev.total, ""))
    rows.append(TableRow("grade", "评价等级", "", "", None, "", xml_safe(ev.grade or ""), None, ""))
    return rows


def text_findings(inputs: WorkbookInputs, ev: Evaluation | None = None, *, template_dir: str | Path | None = None
                  ) -> list[Finding]:
    """报告所需的文字材料中未填写的项（missing-text 警告，指向“文字材料”表的内容单元格），供校验汇总调用。
    只生成用到文字材料的章节（build_report only_texts）：结果与生成整份报告相同，批量校验时省下大半时间。"""
    ev = ev if ev is not None else evaluate(inputs)
    if _Texts(SYSTEMS[inputs.system_key], inputs).all_filled:
        return F.sort_findings(_identity_findings(inputs, ev))  # 没有可缺的文字材料：不必准备任何章节
    try:
        return build_report(inputs, ev, [], template_dir=template_dir, only_texts=True).findings
    except ReportError:
        return []


# ---------------------------------------------------------------------------------------------------------
# “报告”工作表
# ---------------------------------------------------------------------------------------------------------
_TEXT_WIDTH = 90  # A 列宽（字符）


def _display_width(text: str) -> int:
    return sum(2 if ord(ch) > 0x2E7F else 1 for ch in text)


def _row_height(text: str, width: int = _TEXT_WIDTH, line: float = 15.0) -> float:
    # Excel 不会为 openpyxl 写入的换行文本自动调整行高；按显示宽度估算行数（中文字符按 2 个字符宽计）
    lines = max(1, math.ceil(_display_width(text) / max(1, width - 2)))
    return round(lines * line + 3, 1)


def _num(x: Decimal | None) -> Any:
    if x is None:
        return None
    return int(x) if x == x.to_integral_value() else float(x)


def write_report_sheet(book: Book, report: Report) -> None:
    """（重新）生成“报告”工作表：正文每段一行（文本，绝不作为公式），附件评分表，一级指标得分率数据与原生柱状图。
    只替换“报告”表，其他工作表不动。"""
    writes: list[CellWrite] = []
    heights: dict[int, float] = {}
    r = 1
    writes.append(CellWrite(r, 1, report.title, "title"))
    heights[r] = 24
    chart_caption_rows: list[int] = []
    r += 1
    for b in report.blocks:
        r += 1
        if b.kind == "heading":
            writes.append(CellWrite(r, 1, b.text, "heading" if b.level == 1 else "subheading"))
        elif b.kind == "chart":
            writes.append(CellWrite(r, 1, f"图：{report.chart_title}（{report.chart_legend()}）", "paragraph"))
            chart_caption_rows.append(r)
            heights[r] = _row_height(writes[-1].value)
        else:
            writes.append(CellWrite(r, 1, b.text, "warning" if b.placeholder else "paragraph"))
            heights[r] = _row_height(b.text)
    r += 1
    for line in report.signature:
        r += 1
        writes.append(CellWrite(r, 1, line, "text"))
    # 附件评分表：A 列为“一级／二级／三级”指标
    r += 2
    writes.append(CellWrite(r, 1, "附件：" + report.appendix_title, "heading"))
    r += 1
    header = ["指标（一级／二级／三级）", "分值"] + (["年度指标值"] if report.kind == "project" else []) + ["实际值", "得分", "备注"]
    for c, h in enumerate(header, 1):
        writes.append(CellWrite(r, c, h, "header"))
    for row in report.table:
        r += 1
        if row.kind == "row":
            label = "／".join(x for x in (row.level1, row.level2, row.name) if x)
        else:
            label = row.level1
        cells: list[tuple[Any, str]] = [(label, "text"), (_num(row.points), "number")]
        if report.kind == "project":
            cells.append((row.target, "text"))
        cells += [(row.value, "text"), (_num(row.final), "number"), (row.note, "text")]
        for c, (v, style) in enumerate(cells, 1):
            if v is None or v == "":
                continue
            writes.append(CellWrite(r, c, v, "header" if row.kind != "row" and c == 1 else style))
    # 图表数据与原生柱状图（引用本表单元格）
    r += 2
    writes.append(CellWrite(r, 1, f"图表数据：{report.chart_title}", "heading"))
    data_header = r + 1
    for c, h in enumerate(["一级指标", "分值", "得分", "得分率"], 1):
        writes.append(CellWrite(data_header, c, h, "header"))
    r = data_header
    for bar in report.chart:
        r += 1
        writes.append(CellWrite(r, 1, bar.name, "text"))
        writes.append(CellWrite(r, 2, _num(bar.points), "number"))
        writes.append(CellWrite(r, 3, _num(bar.score), "number"))
        writes.append(CellWrite(r, 4, float(bar.rate) if bar.rate is not None else None, "percent"))
    if chart_caption_rows:
        # 正文中图的位置链接到图表数据
        writes = [CellWrite(w.row, w.col, w.value, w.style, f"'{SHEET_REPORT}'!A{data_header}")
                  if w.row in chart_caption_rows and w.col == 1 else w for w in writes]
    widths = {1: _TEXT_WIDTH, 2: 10, 3: 14, 4: 14, 5: 12, 6: 30, 7: 30}
    book.replace_sheet(SHEET_REPORT, writes, widths, heights=heights)
    add_chart = getattr(book, "add_bar_chart", None)
    if add_chart is not None and report.chart:
        add_chart(SHEET_REPORT, title=report.chart_title, categories=(1, data_header + 1, r), values=(4, data_header, r),
                  anchor=f"F{data_header}", y_title="得分率")


# ---------------------------------------------------------------------------------------------------------
# Word 与 PDF（实现分别在 docx_report.py、pdf.py；此处保留约定的接口名）
# ---------------------------------------------------------------------------------------------------------
def write_docx(report: Report, path: str | Path, *, template: str | Path | None = None) -> Path:
    """按党政机关公文格式（GB/T 9704）生成 Word 报告，见 addin.docx_report。"""
    from .docx_report import write_docx as _write

    return _write(report, path, template=template)


def write_pdf(docx_path: str | Path, pdf_path: str | Path) -> Path:
    """用 LibreOffice（headless）把 .docx 转为 PDF；未安装时抛出 ReportError（中文说明），见 addin.pdf。"""
    from .pdf import write_pdf as _write

    return _write(docx_path, pdf_path)
