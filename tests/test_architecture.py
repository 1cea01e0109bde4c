"""代码的形状（issue 17）：项目模块之间没有导入环；测试之外没有超过 500 行的模块；addin 的各子包只导入它的说明里
允许的子包（每个 __init__.py 的说明写着“可以导入什么”，这里是同一张表）。

导入图由语法树得出（ast）：模块顶层与函数内的 import 都算（延迟导入同样构成依赖），只有 `if TYPE_CHECKING:` 中的
导入不算（运行时不执行）。"""
from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("addin", "udfs", "workbook_templates")
MAX_LINES = 500

# addin 的子包（及顶层模块 model）→ 它可以导入的 addin 子包。scoring 取用发现目录 checks.findings（只有这一个模块，
# 它只依赖 model）；checks 取用 report.sections 判断报告要用哪些文字材料（check_report_texts）。
ALLOWED = {
    "model": set(),
    "io": {"model"},
    "scoring": {"io", "model", "checks.findings"},
    "checks": {"io", "model", "scoring", "report.sections"},
    "report": {"io", "model", "scoring", "checks"},
    "template": {"io", "model", "scoring"},
    "submission": {"io", "model", "scoring", "checks", "report"},
    "batch": {"io", "model", "scoring", "checks", "report"},
    "excel": {"io", "model", "scoring", "checks", "report", "submission"},
    "cli": {"io", "model", "scoring", "checks", "report", "template", "batch", "excel", "submission"},
}


def _modules() -> dict[str, tuple[Path, bool]]:
    mods = {}
    for pkg in PACKAGES:
        for p in sorted((ROOT / pkg).rglob("*.py")):
            parts = list(p.relative_to(ROOT).with_suffix("").parts)
            is_pkg = parts[-1] == "__init__"
            mods[".".join(parts[:-1] if is_pkg else parts)] = (p, is_pkg)
    return mods


def _imports(name: str, path: Path, is_pkg: bool, mods: dict) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    skip: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and getattr(node.test, "id", getattr(node.test, "attr", "")) == "TYPE_CHECKING":
            skip.update(id(n) for stmt in node.body for n in ast.walk(stmt))
    targets: set[str] = set()
    for node in ast.walk(tree):
        if id(node) in skip:
            continue
        if isinstance(node, ast.Import):
            targets.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = name.split(".") if is_pkg else name.split(".")[:-1]
                base = base[: len(base) - (node.level - 1)]
                module = ".".join(base + ([node.module] if node.module else []))
            else:
                module = node.module or ""
            for a in node.names:  # from 包 import 模块 依赖的是那个模块；from 模块 import 名字 依赖的是模块
                targets.add(f"{module}.{a.name}" if f"{module}.{a.name}" in mods else module)
    out = set()
    for t in targets:
        while t and t not in mods:
            t = t.rpartition(".")[0]
        if t and t != name:
            out.add(t)
    return out


def import_graph() -> dict[str, set[str]]:
    mods = _modules()
    return {name: _imports(name, path, is_pkg, mods) for name, (path, is_pkg) in mods.items()}


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """强连通分量中多于一个模块的（Tarjan），即导入环。"""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in sorted(graph[v]):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                found.append(sorted(comp))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return found


def test_no_import_cycles_among_project_modules():
    graph = import_graph()
    assert len(graph) > 80 and graph["addin.cli.main"]  # 图确实建出来了
    assert cycles(graph) == []


def test_the_cycle_finder_finds_a_cycle():
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
    assert cycles({"a": {"b"}, "b": set()}) == []


def test_no_module_over_500_lines_outside_tests():
    files = [p for d in (*PACKAGES, "scripts") for p in (ROOT / d).rglob("*.py")]
    sizes = {str(p.relative_to(ROOT)): len(p.read_text(encoding="utf-8").splitlines()) for p in files}
    assert len(sizes) > 80
    assert {f: n for f, n in sizes.items() if n > MAX_LINES} == {}


def _unit(module: str) -> str | None:
    """addin 内的模块 → 它所属的单位（子包名，或顶层模块 model）。"""
    parts = module.split(".")
    if parts[0] != "addin" or len(parts) < 2:
        return None
    return parts[1]


def test_addin_subpackages_import_only_what_their_docstring_allows():
    graph = import_graph()
    assert set(ALLOWED) == {p.name for p in (ROOT / "addin").iterdir() if (p / "__init__.py").exists()} | {"model"}
    wrong = []
    for module, targets in graph.items():
        unit = _unit(module)
        if unit is None:
            continue
        for t in targets:
            other = _unit(t)
            if other is None or other == unit:
                continue
            allowed = ALLOWED[unit]
            if other not in allowed and ".".join(t.split(".")[1:3]) not in allowed:
                wrong.append(f"{module} → {t}")
    assert wrong == []


def test_lower_layers_do_not_import_addin():
    """udfs（纯函数）不导入 addin 与 workbook_templates；workbook_templates（声明）不导入 addin。"""
    graph = import_graph()
    back = [f"{m} → {t}" for m, ts in graph.items() for t in ts
            if (m.startswith("udfs") and not t.startswith("udfs"))
            or (m.startswith("workbook_templates") and t.startswith("addin"))]
    assert back == []


def test_pyproject_lists_every_package_folder():
    """wheel 只打包 pyproject.toml 列出的包（数据文件夹 ribbon/、vba/、xlsx/ 也是）：每个文件夹都要在列，
    否则装好的 jixiao 缺模块。"""
    import tomllib

    listed = set(tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["tool"]["setuptools"]["packages"])
    folders = {".".join(d.relative_to(ROOT).parts) for pkg in PACKAGES for d in [ROOT / pkg, *(ROOT / pkg).rglob("*")]
               if d.is_dir() and d.name != "__pycache__" and any(f.is_file() for f in d.iterdir())}
    assert listed == folders
