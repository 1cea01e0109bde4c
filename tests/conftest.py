from __future__ import annotations

from pathlib import Path

import pytest

from addin.engine import evaluate
from workbook_templates.build import build_workbook, layout_inputs
from workbook_templates.examples import EXAMPLES
from workbook_templates.systems import SYSTEMS


@pytest.fixture(scope="session")
def demo_dir(tmp_path_factory) -> Path:
    """种子示例工作簿（与 jixiao demo 生成的相同），整个测试会话共用，测试不得修改它们。"""
    out = tmp_path_factory.mktemp("demo")
    for name, ex in EXAMPLES.items():
        build_workbook(ex.system, out / f"{name}.xlsx", ex)
    return out


def evaluate_example(name: str):
    ex = EXAMPLES[name]
    return evaluate(layout_inputs(SYSTEMS[ex.system], ex))
