"""代码门禁：ruff（E、F、I、B）与 mypy（addin、udfs、workbook_templates、scripts；udfs 按 --strict）都必须通过。
配置在 pyproject.toml 的 [tool.ruff]、[tool.mypy]；失败时显示工具的完整输出。"""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", *args], cwd=ROOT, capture_output=True, text=True, timeout=600)


def test_ruff_is_clean():
    r = _run("ruff", "check", "--no-cache", ".")
    assert r.returncode == 0, r.stdout + r.stderr


def test_mypy_is_clean():
    """[tool.mypy] 的 files：全部项目代码；udfs 的逐项严格检查在同一次运行中（见 overrides）。"""
    r = _run("mypy")
    assert r.returncode == 0, r.stdout + r.stderr


def test_udfs_pass_mypy_strict():
    """udfs/ 用 mypy 自己的 --strict 再查一遍：pyproject 中逐项列出的严格选项不会少于 --strict。"""
    r = _run("mypy", "--strict", "-p", "udfs")
    assert r.returncode == 0, r.stdout + r.stderr
