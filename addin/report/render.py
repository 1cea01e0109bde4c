"""报告的措辞层：Jinja2 环境（沙箱，StrictUndefined；先找用户的 --templates 目录，再找 workbook_templates/text）、数字与
标题的过滤器（money / pct / score / num / h1…h4 / date……，金额与百分数 2 位小数、四舍五入，即 udfs.numbers 的 fmt_* 规则）、
成文日期的读法，以及把模板输出切成正文块（标题、段落、突出显示）的规则。
"""
from __future__ import annotations

import datetime as _dt
import re
import unicodedata
from decimal import Decimal
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable

from udfs.numbers import fmt_num, fmt_pct, fmt_score, round2

from ..model import cell_number, cell_text
from .model import MARK, Block, ReportError

if TYPE_CHECKING:
    import jinja2
# jinja2 只在生成报告时导入（make_env、render_template）：校验与批量处理用到本模块的格式化函数，却从不渲染模板，
# 不必为它付约 0.08 秒的导入（批量处理在启动子进程之前导入校验，这段时间另一个核空着）

TEXT_DIR = Path(__file__).resolve().parents[2] / "workbook_templates" / "text"
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
    if type(raw) is str and len(raw) <= 64:
        return _parse_date_text(raw)
    return _parse_date(raw)


@lru_cache(maxsize=256)
def _parse_date_text(raw: str) -> _dt.date | None:
    """文字写的成文日期（只取决于文字本身；date 不可变，可以共用）：同一批工作簿里常常相同，按文字缓存。"""
    return _parse_date(raw)


def _parse_date(raw: Any) -> _dt.date | None:
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
        month, day = _cn_int(m.group(2)), _cn_int(m.group(3))
        if month is None or day is None:
            return None
        mo, d = month, day
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


def _bytecode_cache() -> jinja2.BytecodeCache | None:
    """编译好的模板存盘（按模板源码校验和，模板改了就重新编译）：命令行每次都是新进程，编译 29 个模板约 0.2 秒，
    是 jixiao report 冷启动里最大的一块。缓存只是加速：写不进去（磁盘满、无权限）时照常生成报告。"""
    import jinja2

    class _BytecodeCache(jinja2.FileSystemBytecodeCache):
        def dump_bytecode(self, bucket) -> None:
            try:
                super().dump_bytecode(bucket)
            except OSError:
                pass

    try:
        # 默认目录是临时目录下按用户区分、权限 0700 的 _jinja2-cache-<uid>，Jinja 会拒绝别人建的同名目录
        return _BytecodeCache()
    except (OSError, RuntimeError):
        return None


def _new_env(template_dir: str | Path | None) -> jinja2.Environment:
    import jinja2
    from jinja2.sandbox import SandboxedEnvironment

    paths = ([str(template_dir)] if template_dir else []) + [str(TEXT_DIR)]
    # 沙箱环境：--templates 目录里的模板可能来自别人（随工作簿一起转发），模板只能读取传入的数据与过滤器，
    # 不能经 __class__/__globals__ 之类的属性触及 Python 内部、执行代码（SSTI）
    env = SandboxedEnvironment(loader=jinja2.FileSystemLoader(paths), undefined=jinja2.StrictUndefined,
                               trim_blocks=True, lstrip_blocks=True, autoescape=False, keep_trailing_newline=True,
                               bytecode_cache=_bytecode_cache())
    env.filters.update(FILTERS)
    return env


_HEADING_RE = re.compile(r"^(#{1,4})\s+(.*)$")


def parse_blocks(text: str) -> list[Block]:
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


def render_template(env: jinja2.Environment, name: str, ctx: dict) -> str:
    import jinja2

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
