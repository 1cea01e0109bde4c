"""绩效评价报告：由工作簿（输入、计分结果）生成评价人口吻的报告，写入“报告”表、Word（公文格式）与 PDF。

报告是评价人的文件：正文里没有单元格地址、校验用语、容差或给填表人的提示。校验发现写在“校验结果”表，按需另出
“审核意见”（addin.review）。评分不完整（有指标未评分）或缺少必需的文字材料、成文日期时，报告是“草稿”：每页页眉标
“草稿”，开头列出尚缺的内容（评价人的说法，不写单元格），不写总分与等级；齐全时是“定稿”。

报告里的每个数字都来自工作簿：指标段落中的“公式＝数字＝结果”用的是计分引擎同一组基础数据原值（IndicatorSpec.args
经 engine.resolve_arg 取得），按与单元格函数相同的参数顺序代入；金额、百分数、得分的舍入由命名的 Jinja 过滤器
（money / pct / score / num）统一负责，它们就是 udfs.numbers 的 fmt_* 规则。每项扣分带上评分表“评分依据/扣分说明”中的
核查事实；存在问题按主题归并（addin.problems）。措辞在 workbook_templates/text/*.j2（每节一个模板，StrictUndefined），
用户可复制到自己的目录修改（build_report(template_dir=…) / jixiao report --templates）。

同一工作簿生成的报告逐字相同（不含当天日期、随机数或字典无序遍历）。
"""
from __future__ import annotations

import datetime as _dt
import math
import re
import unicodedata
from dataclasses import dataclass, field, replace
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

from . import derived
from . import findings as F
from . import problems as P
from .book import Book, CellWrite
from .engine import arg_cell, evaluate, resolve_arg
from .model import (SHEET_REPORT, SHEET_SCORES, SHEET_TEXTS, Evaluation, Finding, IndicatorResult, WorkbookInputs,
                    cell_number, cell_text)

TEXT_DIR = Path(__file__).resolve().parent.parent / "workbook_templates" / "text"
CHART_TITLE = "一级指标得分率"
FINAL, DRAFT = "定稿", "草稿"
MARK = "@mark "  # 模板输出中突出显示的段落（草稿说明、尚缺的材料）
GAP = "（此部分内容待补充）"  # 草稿中缺少的文字材料所在位置
BLANK_UNIT = "×××"  # 单位名称、年度未填写时标题中的空位（草稿）
ZERO = Decimal(0)


class ReportError(Exception):
    """报告无法生成（模板有误、缺少 LibreOffice 等），message 为中文说明。"""


# ---------------------------------------------------------------------------------------------------------
# 报告模型
# ---------------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Block:
    """报告正文的一块：heading 标题（level 1～4：一、（一）1.（1））、para 段落、chart 图（一级指标得分率）、
    note 草稿说明（正文之前）、title 另起一页重复的报告标题（重点评价：摘要之后）。mark：突出显示（草稿说明与草稿中尚缺的部分）。"""

    kind: str
    text: str = ""
    level: int = 0
    mark: bool = False


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
class RuleRow:
    """附件“指标体系表”的一行（种子 001 附件1）：各级指标、评分标准、指标解释（公式）与分值。"""

    level1: str
    level2: str
    name: str
    criterion: str
    formula: str
    points: Decimal | None


@dataclass(frozen=True)
class ChartBar:
    name: str
    points: Decimal
    score: Decimal

    @property
    def rate(self) -> Decimal | None:
        return self.score / self.points if self.points else None


@dataclass(frozen=True)
class Annex:
    """一个附件（另页）：label“附件1”，title 标题，header 表头，rows [(kind, 各列文字, 纵向合并键)]。"""

    label: str
    title: str
    kind: str  # rules 指标体系表 / scores 得分表
    header: list[str]
    rows: list[tuple[str, list[str], tuple[str, str]]]


@dataclass(frozen=True)
class Missing:
    """草稿中尚缺的一项：what 评价人的说法（写进报告）；sheet/cell 在哪里补（只进终端与审核意见）。"""

    what: str
    sheet: str
    cell: str  # 空串：工作簿里没有这一项（此前的模板没有这一行）
    kind: str  # indicator 指标未评分 / text 文字材料 / date 成文日期
    key: str = ""  # 文字材料的代码（“文字材料”表 A 列），没有这一行时据此新增


@dataclass
class Report:
    system_key: str
    kind: str
    title_lines: list[str]
    blocks: list[Block]
    signature: list[str]
    date: str  # 成文日期（2019年7月19日）；缺少时为空串（草稿）
    annex_titles: list[str]
    table_header: list[str]
    table: list[TableRow]
    chart: list[ChartBar]
    rules: list[RuleRow] = field(default_factory=list)
    chart_title: str = CHART_TITLE
    complete: bool = True  # 每个指标都已评分
    missing: list[Missing] = field(default_factory=list)  # 草稿尚缺的内容
    findings: list[Finding] = field(default_factory=list)  # 报告自身的发现（文字材料未填写）
    unit: str = ""
    year: str = ""
    issued: _dt.date | None = None  # 成文日期（文档属性用）
    total: Decimal | None = None  # 总分与等级：评分不完整时为 None（报告中不写）
    grade: str | None = None

    @property
    def status(self) -> str:
        """定稿 / 草稿。"""
        return DRAFT if self.missing else FINAL

    @property
    def draft(self) -> bool:
        return bool(self.missing)

    @property
    def title(self) -> str:
        return "".join(self.title_lines)

    @property
    def author(self) -> str:
        return "".join(self.signature)

    def table_cells(self, row: TableRow) -> list[str]:
        """附件得分表一行的显示文本（与 table_header 对应）。"""
        pts = "" if row.points is None else fmt_score(row.points)
        fin = "—" if row.final is None and row.kind != "grade" else ("" if row.final is None else fmt_score(row.final))
        if row.kind == "grade":
            return [row.level1, "", "", "", *([""] if self.kind == "project" else []), "", row.value, ""]
        cells = [row.level1, row.level2, row.name, pts]
        if self.kind == "project":
            cells.append(row.target)
        return cells + [row.value, fin, row.note]

    def annexes(self) -> list[Annex]:
        """各附件：重点评价为 附件1 指标体系表、附件2 得分情况表（种子 001）；其余为一个附件（评分表）。"""
        contents = ANNEX_CONTENT[self.kind]
        out = []
        for k, (what, title) in enumerate(zip(contents, self.annex_titles), 1):
            label = f"附件{k}" if len(contents) > 1 else "附件"
            if what == "rules":
                rows = [("row", [r.level1, r.level2, r.name, r.criterion, r.formula, fmt_score(r.points)],
                         (r.level1, r.level2)) for r in self.rules]
                total = sum((r.points or ZERO for r in self.rules), ZERO)
                rows.append(("total", ["总分", "", "", "", "", fmt_score(total)], ("", "")))
                out.append(Annex(label, title, what, list(RULES_HEADER), rows))
            else:
                rows = [(r.kind, self.table_cells(r), (r.level1, r.level2)) for r in self.table]
                out.append(Annex(label, title, what, list(self.table_header), rows))
        return out

    def annex_note(self) -> list[str]:
        """附件说明（GB/T 9704 7.3.6）：“附件：1. ××”，多个附件时逐行编号；附件名称后不加标点。"""
        titles = self.annex_titles[:len(ANNEX_CONTENT[self.kind])]
        if len(titles) == 1:
            return [f"附件：{titles[0]}"]
        return [("附件：" if k == 1 else "") + f"{k}. {t}" for k, t in enumerate(titles, 1)]

    def chart_legend(self) -> str:
        return "；".join(f"{b.name} {fmt_pct(b.rate)}（{fmt_score(b.score)}/{fmt_score(b.points)}分）" for b in self.chart)

    def as_text(self) -> str:
        """纯文本形式（测试与审阅用）：草稿标记、标题、正文（标题与段落各占一行）、附件说明、署名、成文日期、各附件表
        （制表符分隔）。"""
        out = ([f"［{DRAFT}］"] if self.draft else []) + list(self.title_lines) + [""]
        for b in self.blocks:
            if b.kind == "chart":
                out.append(f"［图］{self.chart_title}：{self.chart_legend()}")
            else:
                out.append(b.text)
        out += [""] + self.annex_note() + [""] + self.signature + ([self.date] if self.date else [])
        for annex in self.annexes():
            out += ["", annex.label, annex.title, "\t".join(annex.header)]
            out += ["\t".join(cells).rstrip("\t") for _, cells, _ in annex.rows]
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

    def sentences(self) -> list[str]:
        """正文段落按句（。！？）切分后的各句（不含标题与附件）：用来检查同一句话没有写两遍。"""
        out = []
        for b in self.blocks:
            if b.kind == "para":
                out += [s.strip() for s in re.split(r"(?<=[。！？])", b.text) if s.strip()]
        return out


RULES_HEADER = ("一级指标", "二级指标", "三级指标", "评分标准", "指标解释", "分值")
ANNEX_CONTENT = {"dept": ("scores",), "key_eval": ("rules", "scores"), "project": ("scores",)}


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


def f_clause(x: Any) -> str:
    """作分句嵌入句中：并成一行，去掉末尾的句号、分号、逗号（“经核查，{{ x|clause }}，扣 0.5 分”）。"""
    return f_oneline(x).strip().rstrip("。；;，,、 ")


def f_quoted(x: Any) -> str:
    """加引号，文字本身已带引号时不再加（避免“““三公经费”控制率”这样的双重引号）。"""
    t = str(x).strip()
    return t if not t or "“" in t or "”" in t else f"“{t}”"


def heading_number(n: int, level: int) -> str:
    """第 level 级标题的序号：1 一、 2 （一） 3 1. 4 （1）。"""
    return (h1, h2, h3, h4)[max(1, min(4, int(level))) - 1](n)


_CN_DIGIT = {c: i for i, c in enumerate("〇一二三四五六七八九")} | {"○": 0, "零": 0, "Ｏ": 0, "O": 0}


def _cn_int(s: str) -> int | None:
    """十九→19，二十→20，三十一→31，七→7。"""
    if not s or any(ch not in _CN_DIGIT and ch != "十" for ch in s):
        return None
    if "十" not in s:
        return _CN_DIGIT[s] if len(s) == 1 else None
    tens, _, ones = s.partition("十")
    return (_CN_DIGIT.get(tens, 0) if tens else 1) * 10 + (_CN_DIGIT.get(ones, 0) if ones else 0)


_DATE_DIGITS = re.compile(r"(\d{4})\s*[年\-/.]\s*(\d{1,2})\s*[月\-/.]\s*(\d{1,2})\s*日?")
_DATE_CN = re.compile(r"([〇○零一二三四五六七八九OＯ]{4})\s*年\s*([一二三四五六七八九十]{1,3})\s*月\s*([一二三四五六七八九十]{1,3})\s*日")


def parse_date(raw: Any) -> _dt.date | None:
    """成文日期：日期单元格、Excel 日期序号、“2019年7月19日”“2019-07-19”“2019/7/19”“二〇一九年七月十九日”。无法识别为 None。"""
    if isinstance(raw, _dt.datetime):
        return raw.date()
    if isinstance(raw, _dt.date):
        return raw
    if isinstance(raw, (int, float, Decimal)) and not isinstance(raw, bool) and 20000 <= raw <= 80000:
        return _dt.date(1899, 12, 30) + _dt.timedelta(days=int(raw))  # Excel 1900 日期系统的序号
    t = unicodedata.normalize("NFKC", cell_text(raw))
    m = _DATE_DIGITS.search(t)
    if m:
        y, mo, d = (int(g) for g in m.groups())
    else:
        m = _DATE_CN.search(t)
        if not m:
            return None
        y = int("".join(str(_CN_DIGIT[ch]) for ch in m.group(1)))
        mo, d = _cn_int(m.group(2)), _cn_int(m.group(3))
        if mo is None or d is None:
            return None
    try:
        return _dt.date(y, mo, d)
    except ValueError:
        return None


def f_date(x: Any) -> str:
    """成文日期的写法（GB/T 9704-2012 7.3.5）：阿拉伯数字，年份写全，月、日不编虚位（2019年7月19日）。"""
    d = x if isinstance(x, _dt.date) else parse_date(x)
    return f"{d.year}年{d.month}月{d.day}日" if d else ""


FILTERS: dict[str, Callable[..., str]] = {
    "money": f_money, "pct": f_pct, "score": f_score, "num": f_num, "cn": cn_number,
    "h1": h1, "h2": h2, "h3": h3, "h4": h4, "hn": heading_number, "oneline": f_oneline, "para": _escape_lines,
    "sentence": f_sentence, "clause": f_clause, "quoted": f_quoted, "date": f_date,
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
            return f"{self.label}无数据"
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
    return _Expr(f"{f[1]}÷{f[idx]}×100%", shown=(1, idx))


def _overstaffing(f: list[str]) -> _Expr:
    quota, actual = _dec(f[0].strip("（）")), _dec(f[1].strip("（）"))
    if quota is not None and actual is not None and actual <= quota:
        return _Expr(f"{f[1]}－{f[0]}≤0，未超编", result="")
    return _Expr(f"{f[1]}－{f[0]}")


# 单元格函数 → 数字表达式（参数顺序与 udfs.excel.CATALOG 中的参数顺序相同）
EXPRESSIONS: dict[str, Callable[[list[str]], _Expr]] = {
    "STAFF_CONTROL_RATE": _div,
    "SANGONG_CHANGE_RATE": _change,
    # 最后一个参数（本年调整预算数）只用于推算空白的本年追加，不列入数据句
    "BUDGET_COMPLETION": lambda f: _Expr(f"（{f[0]}＋{f[1]}＋{f[2]}－{f[3]}）÷（{f[0]}＋{f[1]}＋{f[2]}）×100%",
                                         shown=(0, 1, 2, 3)),
    "BUDGET_COMPLETION_ZZ": _div,
    "BUDGET_CONTROL_RATE": lambda f: _Expr(f"{f[0]}÷{f[1]}×100%", shown=(0, 1)),
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
        raw = derived.total_or_parts(system, inputs, ref)[0]  # 合计行空白/为 0 时与实际值公式一样取分项之和
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


# 评分标准里的得分字样（“得满分”“得2分”“各1分”“1分”）、扣分或不得分的分句、括号内的说明
_SCORE_MENTION = re.compile(r"(?:各\s*|得\s*)?(?:满分|\d+(?:\.\d+)?\s*分)")
_NEGATIVE = re.compile(r"扣|不得分|否则|不得|未|得\s*0\s*分")
_PAREN = re.compile(r"（[^（）]*）|\([^()]*\)")


def full_marks_condition(criterion: str, points: Decimal | None) -> str:
    """评分标准中得满分的条件，用评分标准自己的话：“预算公开文字叙述完整、报表齐全得2分；发现1处……扣0.5分”→
    “预算公开文字叙述完整、报表齐全”。去掉括号内的说明、扣分与不得分的分句和“得X分”字样；有写明得满分（或得分等于分值）
    的分句时只取这些分句，否则取全部得分分句（“各1分”累加的标准）。满分的定性指标据此写出核查了什么。"""
    full: list[str] = []
    positive: list[str] = []
    for sentence in re.split(r"[；;。]", _PAREN.sub("", criterion or "")):
        kept = [c.strip() for c in re.split(r"[，,]", sentence) if c.strip() and not _NEGATIVE.search(c)]
        mentions = [m for c in kept for m in _SCORE_MENTION.findall(c)]
        if not mentions:
            continue
        cleaned = "，".join(x for x in (_SCORE_MENTION.sub("", c).strip(" ，、") for c in kept) if x)
        if not cleaned:
            continue
        positive.append(cleaned)
        if any("满分" in m or (points is not None and _mention_points(m) == points) for m in mentions):
            full.append(cleaned)
    return "，".join(full or positive)


def _mention_points(mention: str) -> Decimal | None:
    m = re.search(r"\d+(?:\.\d+)?", mention)
    return Decimal(m.group()) if m else None


def _kind(ind: IndicatorResult, udf: str) -> str:
    rule = ind.rule
    if ind.final is None:
        return "error"
    if isinstance(rule, Manual):
        return "manual"
    if isinstance(rule, DeductionChecklist):
        return "deduct"
    if udf == "DEBT_STATUS" and not ind.value_typed:
        return "status"
    if isinstance(rule, GradeTable):
        return "grade"
    if isinstance(rule, Target) and not udf:
        return "qualitative" if rule.nature == "定性" else "target"
    if isinstance(rule, Qualitative):
        return "qualitative"
    if udf and not ind.value_typed:
        return "na" if ind.value is None else "formula"
    return "value"


def _missing_inputs(system: System, inputs: WorkbookInputs, ind: IndicatorResult, spec: Any, args: list[_Arg],
                    shown: Sequence[int]) -> tuple[str, str, str]:
    """未评分指标缺什么：(评价人的说法, 工作表, 单元格)。公式指标列出为空的基础数据（指向其单元格）；评价人打分、
    等次、完成值未填写时指向评分表中的实际值单元格。"""
    value_cell = ind.cells.get("value", "")
    if args:
        blank = [i for i in shown if i < len(args) and args[i].kind != "text" and args[i].value is None]
        if blank:
            where = arg_cell(inputs, spec.args[blank[0]]) or (SHEET_SCORES, value_cell)
            return "尚缺" + "、".join(args[i].label for i in blank), where[0], where[1]
        return "所需数据尚待核实", SHEET_SCORES, value_cell
    if ind.rule is None:
        return "评分标准尚待确定", SHEET_SCORES, ind.cells.get("rule", value_cell)
    if ind.value is not None and ind.value_error is None and ind.computed is not None:  # 调整得分无效
        return "调整后的得分尚待确定", SHEET_SCORES, ind.cells.get("override", value_cell)
    if isinstance(ind.rule, Manual):
        return "尚未评分", SHEET_SCORES, value_cell
    if isinstance(ind.rule, GradeTable):
        return f"尚未取得{_clean(ind.formula) or '考核等次'}", SHEET_SCORES, value_cell
    if isinstance(ind.rule, (Target, Qualitative)):
        return "尚未取得实际完成值", SHEET_SCORES, value_cell
    return "尚未评分", SHEET_SCORES, value_cell


def _indicator_view(system: System, inputs: WorkbookInputs, ev: Evaluation, ind: IndicatorResult) -> SimpleNamespace:
    spec = system.indicator(ind.code)
    udf = spec.udf if spec is not None and spec.udf else ""
    rule = ind.rule
    kind = _kind(ind, udf)
    name, formula = _clean(ind.name), _clean(ind.formula)
    data_text, figures, result = "", "", _value_text(ind.value, ind.unit)
    args: list[_Arg] = []
    shown: Sequence[int] = ()
    if udf and not ind.value_typed and spec is not None:
        args = _args_for(system, inputs, ev, udf, spec.args)
        added = derived.added_derivation(spec, spec.args, [a.raw for a in args])
        if added is not None:  # 本年追加空白：报告代入推算的数（调整预算数－年初预算数），与实际值一致
            k = derived.ADDED_ARGS[udf][0]
            args[k] = replace(args[k], raw=added.added, value=added.added)
        expr = EXPRESSIONS.get(udf, lambda f: _Expr(""))([a.fig() for a in args])
        shown = expr.shown if expr.shown is not None else tuple(range(len(args)))
        data_text = "，".join(args[i].described() for i in shown if i < len(args))
        figures = expr.figures
        if expr.result is not None:
            result = expr.result
        if udf == "BUDGET_EXECUTION_BY" and args:  # 公式说明写的是“（所选口径的）预算数”：换成所选的口径
            formula = formula.replace("（所选口径的）预算数", _clean(args[0].raw) or "全年预算数")
    deduction = _dec(ind.value) if kind == "deduct" else None
    if isinstance(rule, DeductionChecklist) and rule.per_item is not None and deduction is not None:
        deduction = deduction * rule.per_item
    lost = ind.lost if ind.final is not None else ZERO
    evidence, note = f_clause(_clean(ind.evidence)), _clean(ind.note)
    value_text = (result or _value_text(ind.value, ind.unit)) if kind == "formula" else _value_text(ind.value, ind.unit)
    missing, m_sheet, m_cell = _missing_inputs(system, inputs, ind, spec, args, shown) if kind == "error" else ("", "", "")
    judged = kind in ("deduct", "manual", "qualitative")
    short = f_clause(note or evidence) if judged else ""  # 扣分的简短说法（附件“备注”或扣分说明）
    level1, level2 = _clean(ind.level1), _clean(ind.level2)
    if kind in ("formula", "na", "value", "status"):
        issue = f"{name}{value_text}"
    elif kind == "grade" and ind.computed is not None and ind.points is not None and ind.computed >= ind.points:
        issue = f"{name}得{f_score(ind.final)}分"  # 等次已是最高档，失分来自调整得分
    elif kind == "grade":
        issue = f"{formula or name}为“{value_text}”"
    elif kind == "target":
        issue = f"{name}未达到年度指标值"
    else:
        issue = short or name
    return SimpleNamespace(
        code=ind.code, name=name, level1=level1, level2=level2, kind=kind, udf=udf,
        points=ind.points, computed=ind.computed, override=ind.override, final=ind.final,
        adjusted=ind.override is not None, changed=ind.override is not None and ind.override != ind.computed,
        reason=f_clause(_clean(ind.reason)), note=note, evidence=evidence, short=short, issue=issue,
        criterion=_clean(ind.criterion), checked=full_marks_condition(_clean(ind.criterion), ind.points),
        formula=formula, unit=ind.unit, value_text=value_text, data_text=data_text, figures=figures,
        fact_figures=f"{value_text} {data_text}" if kind in ("formula", "value", "status") else (short or value_text),
        equation=_equation(name, formula, figures, result) if kind == "formula" else "",
        formula_head=_equation(name, formula, "", ""), formula_text=formula,
        score_expr=_score_expr(ind) if not ind.override else "", na_policy=rule.na if rule else "",
        target=_target_text(rule, ind.unit) if isinstance(rule, Target) and not udf else "",
        met=ind.computed is not None and ind.points is not None and ind.computed >= ind.points,
        deduction=deduction or ZERO,
        grades="、".join(f"{n}{f_score(s)}分" for n, s in rule.grades) if isinstance(rule, GradeTable) else "",
        missing=missing, missing_where=(m_sheet, m_cell), lost=lost, row=ind.row,
        theme=P.theme_of(udf, name, level2, level1))


# ---------------------------------------------------------------------------------------------------------
# 文字材料：缺少的在草稿中标出“待补充”，并记为警告（单元格只进终端、校验与审核意见）
# ---------------------------------------------------------------------------------------------------------
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

    def items(self, key: str) -> list[SimpleNamespace]:
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
    "dept": (  # 种子 000
        SectionSpec("preamble", "dept_0_preamble.j2", numbered=False),
        SectionSpec("basic", "dept_1_basic.j2"),
        SectionSpec("evaluation", "dept_2_evaluation.j2"),
        SectionSpec("analysis", "dept_3_analysis.j2"),
        SectionSpec("notes", "dept_4_notes.j2"),
        SectionSpec("conclusion", "dept_5_conclusion.j2"),
        SectionSpec("lessons", "dept_6_lessons.j2"),
    ),
    "key_eval": (  # 种子 001
        SectionSpec("summary", "key_0_summary.j2", numbered=False),  # 种子 001：摘要在前，开头段在正文之首
        SectionSpec("preamble", "key_0_preamble.j2", numbered=False),
        SectionSpec("basic", "key_1_basic.j2"),
        SectionSpec("goals", "key_2_goals.j2"),
        SectionSpec("approach", "key_3_approach.j2"),
        SectionSpec("method", "key_4_method.j2"),
        SectionSpec("system", "key_5_system.j2"),
        SectionSpec("conclusion", "key_6_conclusion.j2"),
        SectionSpec("problems", "key_7_problems.j2"),
        SectionSpec("notes", "key_8_notes.j2", when=lambda c: bool(c["overrides"])),
    ),
    "project": (  # 种子 003
        SectionSpec("preamble", "project_0_preamble.j2", numbered=False),
        SectionSpec("basic", "project_1_basic.j2"),
        SectionSpec("conclusion", "project_2_conclusion.j2"),
        SectionSpec("experience", "project_3_experience.j2"),
        SectionSpec("problems", "project_4_problems.j2"),
        SectionSpec("suggestions", "project_5_suggestions.j2"),
        SectionSpec("notes", "project_6_notes.j2"),
    ),
}
DRAFT_TEMPLATE = "draft.j2"
TITLE_TEMPLATE = {"dept": "dept_title.j2", "key_eval": "key_title.j2", "project": "project_title.j2"}
TABLE_HEADER = {
    "dept": ["一级指标", "二级指标", "三级指标", "分值", "实际值", "得分", "备注"],
    "key_eval": ["一级指标", "二级指标", "三级指标", "分值", "实际值", "得分", "备注"],
    "project": ["一级指标", "二级指标", "三级指标", "分值", "年度指标值", "实际完成值", "得分", "备注"],
}

_HEADING_RE = re.compile(r"^(#{1,4})\s+(.*)$")


def _parse(text: str) -> list[Block]:
    """模板输出 → 块：“# ”～“#### ”开头为 1～4 级标题，单独一行“@chart”为图，“@mark ”开头为突出显示的段落，
    “@title ”开头为另起一页重复的报告标题（种子 001：摘要之后正文之前），
    其余非空行各为一段（“\\”开头的行是转义过的用户文字）。"""
    blocks: list[Block] = []
    for raw in text.splitlines():
        line = raw.strip()
        if not line:
            continue
        if line.startswith("\\"):
            blocks.append(Block("para", line[1:]))
            continue
        if line.startswith("@title "):
            blocks.append(Block("title", line[len("@title "):].strip()))
            continue
        if line.startswith(MARK.strip()):
            blocks.append(Block("para", line[len(MARK.strip()):].strip(), mark=True))
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
                            score=sum((v.final or ZERO for v in vs), ZERO),
                            complete=all(v.final is not None for v in vs)) for k, vs in order.items()]


def _grade_scale(system: System, inputs: WorkbookInputs) -> GradeScale:
    try:
        return GradeScale.from_rows(inputs.grade_rows) if inputs.grade_rows else system.grades
    except RuleError:
        return system.grades


def _grade_bands(scale: GradeScale) -> list[str]:
    """等级标准的写法（种子 001：优秀（得分≥90分）；良好（80≤得分＜90分）……；较差（得分＜70分））。"""
    bands = sorted(scale.bands, key=lambda b: b[0], reverse=True)
    out = []
    for k, (lo, name) in enumerate(bands):
        hi = bands[k - 1][0] if k else None
        if hi is None:
            out.append(f"{name}（得分≥{f_score(lo)}分）")
        elif lo is None or lo <= 0:
            out.append(f"{name}（得分＜{f_score(hi)}分）")
        else:
            out.append(f"{name}（{f_score(lo)}≤得分＜{f_score(hi)}分）")
    return out


def _difference(views: list[SimpleNamespace], texts: _Texts, lost: list[SimpleNamespace]) -> SimpleNamespace:
    """重点评价与部门自评的差异（种子 001 六（二））：两套指标体系的对应关系用 addin.compare 的同一规则（同名、同义、
    相近指标）；重点评价的失分分成“自评未设置的指标”与按核查事实扣分的指标，说出差异的原因。"""
    from .compare import match_names

    items = texts.items("self_eval_indicators")
    self_points = {i.name: i.points for i in items}
    pairs, only_self, only_eval = match_names([i.name for i in items], [v.name for v in views])
    by_name = {v.name: v for v in views}
    pair_views = [SimpleNamespace(self_name=a, eval_name=b, match=m, self_points=self_points.get(a),
                                  eval_points=by_name[b].points) for _, a, b, m in pairs]
    only_eval_set = set(only_eval) if items else set()
    eval_only_lost = [v for v in lost if v.name in only_eval_set]
    return SimpleNamespace(
        self_names=[i.name for i in items], pairs=pair_views, only_self=only_self if items else [],
        only_eval=only_eval if items else [],
        weights=[p for p in pair_views if p.self_points is not None and p.self_points != p.eval_points],
        eval_only_lost=eval_only_lost, eval_only_lost_total=sum((v.lost for v in eval_only_lost), ZERO),
        judged_lost=[v for v in lost if v.kind in ("deduct", "manual", "qualitative", "grade")],
        computed_lost=[v for v in lost if v.kind not in ("deduct", "manual", "qualitative", "grade")])


def build_report(inputs: WorkbookInputs, ev: Evaluation, findings: Sequence[Finding] | None = None, *,
                 template_dir: str | Path | None = None, projects: Sequence[Any] = ()) -> Report:
    """由工作簿输入与计分结果生成报告（确定性：同一工作簿逐字相同）。

    findings（校验发现）不写进报告：报告是评价人的文件，校验发现写在“校验结果”表与审核意见（addin.review）中；
    参数保留给调用方统一传入。返回的 Report.findings 是报告自身的发现：必需而未填写的文字材料（missing-text，警告）；
    Report.missing 是草稿尚缺的内容（指标未评分、文字材料、成文日期）。
    projects：报送材料（addin.submission）中部门各项目的概况（资金、执行率、自评得分与等级，取自项目工作簿），
    部门报告的“部门项目实施情况”据此逐项写出；单独生成报告时为空。
    """
    system = SYSTEMS[inputs.system_key]
    env = make_env(template_dir)
    texts = _Texts(system, inputs)
    views = [_indicator_view(system, inputs, ev, i) for i in ev.indicators]
    unscored = [v for v in views if v.final is None]
    complete = not unscored and bool(ev.complete)
    level1s = []
    for name, lv in ev.level1.items():
        members = [v for v in views if v.level1 == name]
        done = all(v.final is not None for v in members)
        level1s.append(SimpleNamespace(name=name, points=lv.points, score=lv.score if done else None,
                                       computed=lv.computed, rate=lv.score / lv.points if lv.points and done else None,
                                       complete=done, unscored=[v for v in members if v.final is None],
                                       indicators=members, groups=_groups(members)))
    scal = _scalars_view(system, inputs)
    scale = _grade_scale(system, inputs)
    total, grade = (ev.total, ev.grade) if complete else (None, None)
    self_score = scal.get("self_score")
    self_grade = scal.get("self_grade") or (scale.grade(self_score) if self_score is not None else "")
    evaluator = texts.value("evaluator") if "evaluator" in texts.titles else ""
    lost = [v for v in views if v.final is not None and v.lost > 0]
    problems = P.group(lost, texts.value("problems") if "problems" in texts.titles else "")
    ctx: dict[str, Any] = dict(
        kind=system.kind, system_title=system.title, unit=ev.unit_name or BLANK_UNIT, year=ev.year or "××××",
        money_unit=ev.money_unit, text=texts, has_text=texts.has, lines=texts.lines, text_list=texts.list,
        says=texts.says, scal=scal, tab=_table_view(system, inputs), indicators=views, level1s=level1s, groups=_groups(views), total=total,
        points_total=ev.points_total, grade=grade, complete=complete, unscored=unscored,
        overrides=[v for v in views if v.adjusted], lost=lost, lost_total=sum((v.lost for v in lost), ZERO),
        problems=problems, themed=[p for p in problems if p.theme], grade_bands=_grade_bands(scale),
        self_score=self_score, self_grade=self_grade,
        diff=(self_score - total) if self_score is not None and total is not None else None,
        difference=_difference(views, texts, lost) if system.kind == "key_eval" else None,
        project=scal.get("project_name") or "", notes_ref="", evaluator=evaluator, projects=list(projects),
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
        blocks = _parse(_render(env, s.template, {**ctx, "no": numbers.get(s.key, 0)}))
        rendered[s.key] = blocks
        if s.key == "notes":
            ctx["notes_ref"] = next((b.text for b in blocks if b.kind == "heading"), "")
    blocks = [b for s in specs for b in rendered[s.key]]
    parts = _title_parts(_render(env, TITLE_TEMPLATE[system.kind], ctx))
    signature = [ln.strip() for ln in texts.value("signature").splitlines() if ln.strip()] or parts["落款"]
    raw_date = inputs.texts.get("date")
    issued = parse_date(raw_date.cached if hasattr(raw_date, "cached") else raw_date)

    # 草稿：尚缺的内容（评价人的说法写进报告；单元格只给终端与审核意见）
    missing = [Missing(f"{v.name}：{v.missing}", *v.missing_where, "indicator") for v in unscored]
    report_findings = texts.findings()
    for title, sheet, cell in _identity_gaps(inputs, ev):
        report_findings.append(F.make("missing-text", sheet, cell, title=title))
        missing.append(Missing(title, sheet, cell, "text"))
    for key, title in texts.missing.items():
        sheet, cell = inputs.cells.get(("text", key), (SHEET_TEXTS, ""))
        missing.append(Missing(title, sheet, cell, "text", key))
    if issued is None:
        sheet, cell = inputs.cells.get(("text", "date"), (SHEET_TEXTS, ""))
        raw = cell_text(raw_date)
        missing.append(Missing("成文日期", sheet, cell, "date", "date"))
        if raw:
            report_findings.append(F.make("bad-date", sheet, cell, raw=raw[:40]))
        elif "date" in texts.titles and "date" not in texts.missing:
            report_findings.append(F.make("missing-text", sheet, cell, title=texts.titles["date"]))
    if missing:
        note = _parse(_render(env, DRAFT_TEMPLATE, {**ctx, "missing": missing,
                                                    "missing_indicators": [m for m in missing if m.kind == "indicator"],
                                                    "missing_texts": [m for m in missing if m.kind != "indicator"]}))
        blocks = [Block("note", b.text, 0, True) for b in note] + blocks
    rules = [RuleRow(xml_safe(v.level1), xml_safe(v.level2), xml_safe(v.name), xml_safe(v.criterion),
                     xml_safe(v.formula), v.points) for v in views]
    return Report(system_key=system.key, kind=system.kind, title_lines=parts["标题"] or [system.title], blocks=blocks,
                  signature=signature, date=f_date(issued) if issued else "", issued=issued,
                  annex_titles=parts["附件"] or [system.title], table_header=list(TABLE_HEADER[system.kind]),
                  table=_table_rows(system, ev, views, complete), rules=_rule_rows(rules, level1s),
                  chart=[ChartBar(xml_safe(l1.name), l1.points, l1.score) for l1 in level1s if l1.points and complete],
                  complete=complete, missing=missing, findings=F.sort_findings(report_findings),
                  unit=ev.unit_name, year=ev.year, total=total, grade=grade)


def _rule_rows(rows: list[RuleRow], level1s: list[SimpleNamespace]) -> list[RuleRow]:
    """附件1 的一级、二级指标写上分值（种子 001：“投入 (24分)”“预算编制 (24分)”）。"""
    pts1 = {l1.name: l1.points for l1 in level1s}
    pts2 = {(l1.name, g.name): g.points for l1 in level1s for g in l1.groups}
    return [RuleRow(f"{r.level1}（{f_score(pts1.get(r.level1))}分）" if r.level1 in pts1 else r.level1,
                    f"{r.level2}（{f_score(pts2[(r.level1, r.level2)])}分）" if (r.level1, r.level2) in pts2 else r.level2,
                    r.name, r.criterion, r.formula, r.points) for r in rows]


def _identity_gaps(inputs: WorkbookInputs, ev: Evaluation) -> list[tuple[str, str, str]]:
    """单位名称、评价年度未填写（标题里只能写“×××”）：(名称, 表, 单元格)。"""
    out = []
    for key, title, value in (("unit_name", "单位名称", ev.unit_name), ("year", "评价年度", ev.year)):
        if not value:
            sheet, cell = inputs.cells.get(("scalar", key), ("基础数据表", ""))
            out.append((title, sheet, cell))
    return out


def _title_parts(text: str) -> dict[str, list[str]]:
    """标题模板的输出分三段：“[标题]”下每行一行标题，“[落款]”下为默认署名，“[附件]”下为各附件标题。"""
    parts: dict[str, list[str]] = {"标题": [], "落款": [], "附件": []}
    current = None
    for raw in text.splitlines():
        line = raw.strip()
        if line in ("[标题]", "[落款]", "[附件]"):
            current = line[1:-1]
        elif line and current:
            parts[current].append(line[1:] if line.startswith("\\") else line)
    return parts


def _table_rows(system: System, ev: Evaluation, views: list[SimpleNamespace], complete: bool) -> list[TableRow]:
    """附件得分表：每个三级指标一行、一级指标小计、总分、等级。评分不完整时，未评分的指标、含未评分指标的小计、
    总分与等级都写“—”（不写不完整的合计）。"""
    rows: list[TableRow] = []
    for name, lv in ev.level1.items():
        members = [x for x in views if x.level1 == name]
        for v in members:
            if v.kind == "error":
                note = "尚未评分"
            elif v.adjusted and v.changed:
                note = f"按评分标准计算得{f_score(v.computed)}分，调整为{f_score(v.final)}分"
            else:
                note = v.note
            value = v.value_text if v.kind not in ("manual", "error") else ""
            if v.kind == "deduct":
                value = f"扣{f_score(v.deduction)}分" if v.deduction else "无扣分"
            rows.append(TableRow("row", xml_safe(v.level1), xml_safe(v.level2), xml_safe(v.name), v.points,
                                 xml_safe(v.target), xml_safe(value), v.final, xml_safe(note)))
        done = all(v.final is not None for v in members)
        rows.append(TableRow("subtotal", xml_safe(f"{name}小计"), "", "", lv.points, "", "", lv.score if done else None,
                             ""))
    rows.append(TableRow("total", "总分", "", "", ev.points_total, "", "", ev.total if complete else None, ""))
    rows.append(TableRow("grade", "评价等级", "", "", None, "", xml_safe(ev.grade or "") if complete else "—", None, ""))
    return rows


def text_findings(inputs: WorkbookInputs, ev: Evaluation | None = None, *, template_dir: str | Path | None = None
                  ) -> list[Finding]:
    """报告所需而未填写（或无法识别）的文字材料（missing-text/bad-date 警告，指向“文字材料”表的内容单元格），
    供校验汇总调用。"""
    ev = ev if ev is not None else evaluate(inputs)
    raw_date = inputs.texts.get("date")
    if _Texts(SYSTEMS[inputs.system_key], inputs).all_filled and \
            parse_date(raw_date.cached if hasattr(raw_date, "cached") else raw_date) is not None:
        # 文字材料都已填写、成文日期读得出：任何章节都不会记下缺项，不必生成报告（批量校验时省下大半时间）；
        # 与生成整份报告得到的发现相同（tests/test_limits.py 核对）
        return F.sort_findings([F.make("missing-text", sheet, cell, title=title)
                                for title, sheet, cell in _identity_gaps(inputs, ev)])
    try:
        return build_report(inputs, ev, [], template_dir=template_dir).findings
    except ReportError:
        return []


# ---------------------------------------------------------------------------------------------------------
# “报告”工作表：A4 纵向、按页宽缩放打印，标题行每页重复；图放在“见下图”那一段的下方
# ---------------------------------------------------------------------------------------------------------
_TEXT_WIDTH = 64  # A 列宽（字符）：正文每段一行
_CHART_ROWS = 17  # 图占的行数（每行 15 磅，约 9 厘米）


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
    """（重新）生成“报告”工作表：正文每段一行（文本，绝不作为公式），附件说明、署名、成文日期，各附件表，
    一级指标得分率数据与原生柱状图（在正文“见下图”之下）。只替换“报告”表，其他工作表不动。"""
    writes: list[CellWrite] = []
    heights: dict[int, float] = {}
    r = 1
    writes.append(CellWrite(r, 1, report.title, "title"))
    heights[r] = 24
    chart_rows: list[tuple[int, int]] = []  # (图的锚点行, 图题行)
    r += 1
    for b in report.blocks:
        r += 1
        if b.kind in ("heading", "title"):
            writes.append(CellWrite(r, 1, b.text, "heading" if b.level <= 1 else "subheading"))
        elif b.kind == "chart":
            anchor = r
            r += _CHART_ROWS
            writes.append(CellWrite(r, 1, f"图{len(chart_rows) + 1}  {report.chart_title}（{report.chart_legend()}）",
                                    "paragraph"))
            heights[r] = _row_height(writes[-1].value)
            chart_rows.append((anchor, r))
        else:
            writes.append(CellWrite(r, 1, b.text, "warning" if b.mark else "paragraph"))
            heights[r] = _row_height(b.text)
    r += 1
    for line in report.annex_note():
        r += 1
        writes.append(CellWrite(r, 1, line, "text"))
    r += 1
    for line in report.signature + ([report.date] if report.date else []):
        r += 1
        writes.append(CellWrite(r, 1, line, "text"))
    # 各附件：A 列为“一级／二级／三级”指标（指标体系表另附评分标准）
    for annex in report.annexes():
        r += 2
        writes.append(CellWrite(r, 1, f"{annex.label}：{annex.title}", "heading"))
        r += 1
        if annex.kind == "rules":
            header = ["指标（一级／二级／三级）及评分标准", "分值"]
        else:
            header = ["指标（一级／二级／三级）", "分值"] + (["年度指标值"] if report.kind == "project" else []) + \
                ["实际值", "得分", "备注"]
        for c, h in enumerate(header, 1):
            writes.append(CellWrite(r, c, h, "header"))
        for kind, cells, _ in annex.rows:
            r += 1
            if annex.kind == "rules":
                label = "／".join(x for x in cells[:3] if x) + (f"：{cells[3]}" if cells[3] else "")
                row_cells: list[tuple[Any, str]] = [(label, "text" if kind == "row" else "header"),
                                                    (_num(_dec(cells[5])), "number")]
                heights[r] = _row_height(label)
            else:
                label = "／".join(x for x in cells[:3] if x) if kind == "row" else cells[0]
                n = len(cells)
                row_cells = [(label, "text" if kind == "row" else "header"), (_num(_dec(cells[3])), "number")]
                if report.kind == "project":
                    row_cells.append((cells[4], "text"))
                row_cells += [(cells[n - 3], "text"), (_num(_dec(cells[n - 2])) if kind != "grade" else None, "number"),
                              (cells[n - 1], "text")]
                if kind != "row" and cells[n - 2] == "—":
                    row_cells[-2] = ("—", "text")
            for c, (v, style) in enumerate(row_cells, 1):
                if v is None or v == "":
                    continue
                writes.append(CellWrite(r, c, v, style))
    # 图表数据与原生柱状图（引用本表单元格）
    data_header = None
    if report.chart:
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
            # Excel 只保存 15 位有效数字（openpyxl 写文件时也截到 16 位）：先按 15 位取值，两个适配器写出的是同一个数（18 ÷ 61）
            writes.append(CellWrite(r, 4, float(format(bar.rate, ".15g")) if bar.rate is not None else None, "percent"))
        captions = {cap for _, cap in chart_rows}
        # 图题链接到图表数据
        writes = [CellWrite(w.row, w.col, w.value, w.style, f"'{SHEET_REPORT}'!A{data_header}")
                  if w.row in captions and w.col == 1 else w for w in writes]
    widths = ({1: _TEXT_WIDTH, 2: 7, 3: 12, 4: 12, 5: 7, 6: 24} if report.kind == "project"
              else {1: _TEXT_WIDTH, 2: 7, 3: 12, 4: 7, 5: 28})
    book.replace_sheet(SHEET_REPORT, writes, widths, heights=heights)
    setup = getattr(book, "set_page_setup", None)
    if setup is not None:
        setup(SHEET_REPORT, title_rows="1:1", header=DRAFT if report.draft else "", footer="第 &P 页，共 &N 页")
    add_chart = getattr(book, "add_bar_chart", None)
    if add_chart is not None and data_header is not None:
        for anchor, _ in chart_rows:
            add_chart(SHEET_REPORT, title=report.chart_title, categories=(1, data_header + 1, r),
                      values=(4, data_header, r), anchor=f"A{anchor}", y_title="得分率")


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
