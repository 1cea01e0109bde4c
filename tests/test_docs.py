"""文档是否跟得上代码（sqlite-utils 的 test_docs 做法）：每个命令与选项、每个发现代码、每个单元格函数都写在 README.md
或 docs/*.md 中；每个发现代码都有测试产生并断言它。加了命令、选项、代码或函数而没写文档，这里就失败。

命令与选项从 addin.cli.main.build_parser 遍历 argparse 得到；命令要有一个标题写着它（如“### jixiao addin install”），
它的每个选项要出现在该标题下的那一节中。发现代码取自 addin.checks.findings.CATALOGUE，单元格函数取自 udfs.excel.CATALOG。
“有测试产生”按语法树判断：代码字符串出现在 assert 语句里、与某个 .code / ["code"] 比较、作为 by_code 之类的下标、
pytest 参数化的参数，或坏输入语料 Case(code=…) 的期望（tests/test_bad_inputs.py 断言它）——只在注释、文档字符串或
一份清单里提到不算。
"""
from __future__ import annotations

import argparse
import ast
import re
from pathlib import Path
from typing import Iterable, Iterator

import pytest

from addin.checks.findings import CATALOGUE
from addin.cli.main import build_parser
from udfs.excel import CATALOG

ROOT = Path(__file__).resolve().parent.parent
HEADING = re.compile(r"^(#{1,6})\s+(.*)$")


def doc_files() -> list[Path]:
    return [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]


def docs_text() -> str:
    return "\n".join(p.read_text(encoding="utf-8") for p in doc_files())


# ---------------------------------------------------------------------------------------------------------
# 命令与选项
# ---------------------------------------------------------------------------------------------------------
def commands(parser: argparse.ArgumentParser, path: tuple[str, ...] = ()
             ) -> Iterator[tuple[tuple[str, ...], argparse.ArgumentParser]]:
    """(命令路径, 它的解析器)，如 (("addin", "install"), …)，深度优先。"""
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, sub in action.choices.items():
                yield path + (name,), sub
                yield from commands(sub, path + (name,))


def options(parser: argparse.ArgumentParser) -> list[str]:
    """解析器的选项（有长名用长名），不含 -h/--help 与子命令。"""
    out = []
    for a in parser._actions:
        if a.option_strings and not isinstance(a, argparse._HelpAction):
            long = [o for o in a.option_strings if o.startswith("--")]
            out.append(long[0] if long else a.option_strings[0])
    return out


def sections(text: str) -> list[tuple[str, str]]:
    """Markdown 的每个标题与它的一节（到下一个同级或更高级的标题为止，含下级标题的内容）。"""
    lines = text.splitlines()
    heads = [(i, len(m.group(1)), m.group(2)) for i, line in enumerate(lines) if (m := HEADING.match(line))]
    out = []
    for k, (i, level, title) in enumerate(heads):
        end = next((j for j, lv, _ in heads[k + 1:] if lv <= level), len(lines))
        out.append((title, "\n".join(lines[i + 1:end])))
    return out


def _names_command(title: str, path: tuple[str, ...]) -> bool:
    # “jixiao addin”不算写了“jixiao addin install”的标题：命令名之后不能紧跟另一个小写的子命令名
    return re.search(r"jixiao " + re.escape(" ".join(path)) + r"(?![\w-])(?! [a-z])", title) is not None


def _mentions(option: str, text: str) -> bool:
    return re.search(r"(?<![\w-])" + re.escape(option) + r"(?![\w-])", text) is not None


def undocumented_cli(parser: argparse.ArgumentParser, text: str) -> list[str]:
    """没有标题的命令、不在其命令一节中的选项。"""
    secs = sections(text)
    missing = []
    for path, sub in commands(parser):
        body = "\n".join(b for title, b in secs if _names_command(title, path))
        name = "jixiao " + " ".join(path)
        if not any(_names_command(title, path) for title, _ in secs):
            missing.append(name)
            continue
        missing += [f"{name} {o}" for o in options(sub) if not _mentions(o, body)]
    return missing


def test_every_command_and_option_is_documented():
    assert undocumented_cli(build_parser(), docs_text()) == []


# ---------------------------------------------------------------------------------------------------------
# 发现代码与单元格函数
# ---------------------------------------------------------------------------------------------------------
def undocumented_names(names: Iterable[str], text: str) -> list[str]:
    """没有以 `名称` 的形式写进文档的代码或函数名。"""
    return [n for n in names if f"`{n}`" not in text]


def test_every_finding_code_is_documented():
    assert undocumented_names(CATALOGUE, docs_text()) == []


def test_every_cell_function_is_documented():
    assert undocumented_names((s.name for s in CATALOG), docs_text()) == []


def _is_code_expr(node: ast.AST) -> bool:
    if isinstance(node, ast.Attribute):
        return node.attr == "code"
    if isinstance(node, ast.Subscript):
        return isinstance(node.slice, ast.Constant) and node.slice.value == "code"
    return False


def asserted_codes(source: str, codes: set[str]) -> set[str]:
    """源码中处于“断言”位置的发现代码（见模块说明）。"""
    found: set[str] = set()

    def take(node: ast.AST) -> None:
        found.update(n.value for n in ast.walk(node) if isinstance(n, ast.Constant) and n.value in codes)

    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Assert):
            take(node)
        elif isinstance(node, ast.Compare) and any(_is_code_expr(x) for x in [node.left, *node.comparators]):
            take(node)
        elif isinstance(node, ast.Subscript) and isinstance(node.value, ast.Name) and "code" in node.value.id:
            take(node.slice)  # by_code["total-mismatch"]：没有这条发现就是 KeyError
        elif isinstance(node, ast.Subscript) and isinstance(node.slice, ast.Tuple) and node.slice.elts:
            take(node.slice.elts[0])  # found[("formula-unsupported", 工作表, 单元格)]：按 (代码, …) 取发现
        elif isinstance(node, ast.Call):
            if isinstance(node.func, ast.Attribute) and node.func.attr == "parametrize":
                take(node)
            for kw in node.keywords:
                if kw.arg == "code":
                    take(kw.value)
    return found


def _test_sources() -> dict[str, str]:
    here = Path(__file__).resolve()
    return {str(p.relative_to(ROOT)): p.read_text(encoding="utf-8")
            for p in sorted((ROOT / "tests").rglob("*.py")) if p.resolve() != here}


def test_every_finding_code_is_produced_and_asserted_by_a_test():
    codes = set(CATALOGUE)
    seen: set[str] = set()
    for source in _test_sources().values():
        seen |= asserted_codes(source, codes)
    assert sorted(codes - seen) == []


# ---------------------------------------------------------------------------------------------------------
# 检查器本身：加了命令、选项、代码或函数而没写文档，会失败
# ---------------------------------------------------------------------------------------------------------
def test_checker_fails_when_a_command_or_option_is_added_undocumented():
    parser = build_parser()
    text = docs_text()
    before = undocumented_cli(parser, text)  # 文档齐全时为空（上一个测试）；这里只看新加的
    sub = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    new = sub.add_parser("frobnicate")
    new.add_argument("--wibble")
    sub.choices["score"].add_argument("--shiny-new-flag", action="store_true")
    nested = next(a for a in sub.choices["addin"]._actions if isinstance(a, argparse._SubParsersAction))
    nested.add_parser("polish").add_argument("-q")
    added = [x for x in undocumented_cli(parser, text) if x not in before]
    assert added == ["jixiao score --shiny-new-flag", "jixiao addin polish", "jixiao frobnicate"]
    # 写了命令的标题但没写它的选项：只报选项；选项写在别的命令一节里不算
    more = text + "\n\n## jixiao frobnicate\n\n说明。\n\n## jixiao addin polish\n\n`-q` 安静。\n\n## 另一节\n\n`--wibble`\n"
    added = [x for x in undocumented_cli(parser, more) if x not in before]
    assert added == ["jixiao score --shiny-new-flag", "jixiao frobnicate --wibble"]


def test_checker_fails_when_a_code_or_function_is_added_undocumented():
    text = docs_text()
    assert undocumented_names([*CATALOGUE, "brand-new-code"], text)[-1:] == ["brand-new-code"]
    assert undocumented_names([*(s.name for s in CATALOG), "NEW_UDF"], text)[-1:] == ["NEW_UDF"]
    assert undocumented_names(["total-mismatch", "brand-new-code"], text) == ["brand-new-code"]
    assert undocumented_names(["total-mismatch"], "只写了 total-mismatch 而没有代码格式") == ["total-mismatch"]


@pytest.mark.parametrize("source, counted", [
    ('assert "new-code" in {f.code for f in fs}', True),
    ('f = next(f for f in fs if f.code == "new-code")', True),
    ('rows = [f for f in out["findings"] if f["code"] == "new-code"]', True),
    ('x = by_code["new-code"]', True),
    ('f = found[("new-code", "评分表", "H12")]', True),
    ('m = CATALOGUE["new-code"]', False),
    ('Case("id", "base", mutate, code="new-code")', True),
    ('@pytest.mark.parametrize("code", ["new-code"])\ndef test_x(code): pass', True),
    ('"""提到 new-code 的文档字符串"""\nCODES = ["new-code"]  # 只是一份清单', False),
    ('print("new-code")', False),
])
def test_a_mere_mention_does_not_count_as_producing_a_code(source, counted):
    assert (asserted_codes(source, {"new-code"}) == {"new-code"}) is counted


# ---------------------------------------------------------------------------------------------------------
# README 的上手步骤真的能运行
# ---------------------------------------------------------------------------------------------------------
def readme_commands(heading: str) -> list[tuple[str, str]]:
    """README 中某一节第一个 bash 代码块的命令行：(命令, 行尾注释)。注释与命令之间至少两个空格。"""
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    body = next(b for title, b in sections(text) if title.startswith(heading))
    block = re.search(r"```bash\n(.*?)```", body, re.S)
    assert block, heading
    out = []
    for line in block.group(1).splitlines():
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        m = re.match(r"^(.*?)\s{2,}#\s*(.*)$", line)
        out.append((m.group(1), m.group(2)) if m else (line.strip(), ""))
    return out


def _dev_shim(tmp: Path) -> None:
    """临时目录中的 ./dev 与 .venv/bin/python：取真实 ./dev 的命令分派（case … esac），只把 .venv 换成本测试的解释器。
    真实的 ./dev 还会 cd 到仓库、首次安装依赖——这里已经装好，输出要落在临时目录里。"""
    import sys

    dev = (ROOT / "dev").read_text(encoding="utf-8")
    case = dev[dev.index('case "$cmd" in'):dev.index("esac") + len("esac")]
    assert '.venv/bin/jixiao demo -o "${1:-demo_out}"' in case and '.venv/bin/jixiao "$@"' in case
    case = case.replace(".venv/bin/python", f'"{sys.executable}"')
    case = case.replace(".venv/bin/jixiao", f'"{sys.executable}" -m addin.cli')
    (tmp / "dev").write_text('#!/usr/bin/env bash\nset -euo pipefail\ncmd=${1:-}\n[ $# -gt 0 ] && shift\n' + case + "\n",
                             encoding="utf-8")
    (tmp / ".venv" / "bin").mkdir(parents=True)
    (tmp / ".venv" / "bin" / "python").write_text(f'#!/bin/sh\nexec "{sys.executable}" "$@"\n', encoding="utf-8")
    for p in (tmp / "dev", tmp / ".venv" / "bin" / "python"):
        p.chmod(0o755)


def test_readme_walkthrough_runs_as_written(tmp_path):
    import subprocess

    _dev_shim(tmp_path)
    demo = [c for c in readme_commands("两条命令") if c[0].startswith("./dev demo")]
    steps = demo + readme_commands("然后运行 jixiao") + readme_commands("五分钟上手")
    assert len(steps) >= 10 and steps[1][0] == "./dev jixiao score demo_out/baojing-2018.xlsx"
    for command, comment in steps:
        done = subprocess.run(["bash", "-c", command], cwd=tmp_path, capture_output=True, text=True, timeout=300)
        rc = re.search(r"退出码 (\d)", comment)
        assert done.returncode == (int(rc.group(1)) if rc else 0), (command, done.stdout[-2000:], done.stderr[-2000:])
        assert "Traceback" not in done.stderr, (command, done.stderr)
        if "→" in comment:
            expected = re.sub(r"（退出码 \d）", "", comment.split("→", 1)[1]).strip()
            assert " ".join(expected.split()) in " ".join(done.stdout.split()), (command, expected, done.stdout[-2000:])
    for made in ("demo_out/baojing-2018.xlsx", "练习/空白.xlsx", "练习/保靖报告.docx", "练习/开福报送材料.docx"):
        assert (tmp_path / made).stat().st_size > 0, made
