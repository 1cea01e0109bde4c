"""内置报告模板要用的文字材料（REQUIRED_TEXTS）：校验找出“未填写的必需文字材料”时不必生成整份报告，按这张表与报告看到的
同一组数据（views.scalar_view / _table_view）判断即可——批量校验一万个工作簿时，生成报告曾占每个工作簿一半以上的时间。

表与模板的对应由测试核对：tests/test_report_required.py 扫描 workbook_templates/text/*.j2 中每一处 text(…)/lines(…)，
每一处都必须在这张表里（按章节），或属于 NEVER_MISSING（只在已填写时调用：has_text(…) 之后、`已有值 or text(…)`，或
optional=true）；tests/test_limits.py 对各种空白组合比对两种做法得到的发现逐条相同。改了模板里的文字材料调用，就改这张表。
用户自己的模板目录（--templates）不在此列：那时仍生成报告来判断（sections.text_findings）。
"""
from __future__ import annotations

from functools import cached_property
from typing import Any, Callable

from workbook_templates.spec import Scalar, System

from ..model import WorkbookInputs
from .texts import _Texts
from .views import _table_view, scalar_view


class Views:
    """模板看到的 scal（views._scalars_view）与 tab（views._table_view），用到哪项算哪项：多数工作簿的文字材料齐全，
    可选条件一个也不必判断；判断时也只用到其中一两项。"""

    def __init__(self, system: System, inputs: WorkbookInputs):
        self.system, self.inputs = system, inputs

    def scal(self, key: str) -> Any:
        """scal[key]。"""
        return scalar_view(self._scalars[key], self.inputs.scalars.get(key))

    @cached_property
    def _scalars(self) -> dict[str, Scalar]:
        return {s.key: s for s in self.system.scalars}  # 同名取最后一项，与 _scalars_view 的字典相同

    @cached_property
    def tab(self) -> dict[str, dict[str, Any]]:
        return _table_view(self.system, self.inputs)


# optional(v)：模板中 optional= 的表达式（为真时这项材料可以不填）；None 表示必填
Optional_ = Callable[[Views], bool] | None


def _staff_known(v: Views) -> bool:
    return v.scal("staff_quota") is not None and v.scal("staff_actual") is not None


def _spending_known(v: Views) -> bool:
    return v.tab["expense_total"]["final"] is not None


def _money_known(v: Views) -> bool:
    return v.scal("budget_income_total") is not None and v.scal("budget_expense_total") is not None


def _in_package(v: Views) -> bool:
    """模板的条件是 projects|length > 0：只有报送材料（jixiao package）带着各项目的概况；单独生成报告与校验时没有，必填。"""
    return False


def _goal_known(v: Views) -> bool:
    return v.scal("goal_planned") is not None


# 体系类别 → [(章节模板, 文字材料, optional)]，按报告生成的顺序（sections.build_report：“需要说明事项”先生成，其余按章节顺序；
# 同一章节内按模板中出现的顺序）。缺项的发现按单元格排序，这个顺序只在单元格相同时（未登记位置）起作用。
REQUIRED_TEXTS: dict[str, tuple[tuple[str, str, Optional_], ...]] = {
    "dept": (
        ("dept_1_basic.j2", "duties", None),
        ("dept_1_basic.j2", "organization", None),
        ("dept_1_basic.j2", "staffing", _staff_known),
        ("dept_1_basic.j2", "spending", _spending_known),
        ("dept_1_basic.j2", "projects", _in_package),
        ("dept_2_evaluation.j2", "purpose", None),
        ("dept_2_evaluation.j2", "process", None),
        ("dept_2_evaluation.j2", "limitations", None),
        ("dept_6_lessons.j2", "lessons", None),
    ),
    "key_eval": (
        ("key_0_preamble.j2", "evaluator", None),  # {{ evaluator or text("evaluator") }}：未填写时才调用，即缺项
        ("key_1_basic.j2", "organization", None),
        ("key_1_basic.j2", "management", None),
        ("key_1_basic.j2", "spending", _money_known),
        ("key_2_goals.j2", "duties", None),
        ("key_2_goals.j2", "projects", None),
        ("key_2_goals.j2", "goals", None),
        ("key_3_approach.j2", "work_group", None),
        ("key_3_approach.j2", "approach", None),
        ("key_4_method.j2", "process", None),
        ("key_4_method.j2", "basis", None),
    ),
    "project": (
        ("project_1_basic.j2", "overview", None),
        ("project_1_basic.j2", "goals", _goal_known),
        ("project_1_basic.j2", "organization", None),
        ("project_2_conclusion.j2", "decision", None),
        ("project_2_conclusion.j2", "process_mgmt", None),
        ("project_3_experience.j2", "experience", None),
    ),
}

# 模板中只在材料已填写时才调用的 text(…)（不会记下缺项）：(模板, 文字材料)
NEVER_MISSING = frozenset({
    ("key_1_basic.j2", "staffing"),  # optional=true
    ("key_4_method.j2", "methods"),  # {% if has_text("methods") %}
    ("key_6_conclusion.j2", "self_eval_summary"),  # optional=true
    ("problems.j2", "problems"),  # {% elif has_text("problems") %}
    ("suggestions.j2", "suggestions"),  # {% if has_text("suggestions") %}
    ("project_6_notes.j2", "other"),  # {% if has_text("other") %}
})


def missing_texts(system: System, inputs: WorkbookInputs, texts: _Texts) -> dict[str, str] | None:
    """内置模板生成报告时会记下的缺项 {文字材料: 名称}（与 texts._Texts.missing 同序）；texts.value(key) 是材料的文本
    （去首尾空白）。模板引用了体系里没有的材料时报告无法生成，返回 None（与生成报告时相同）。"""
    titles = texts.titles  # 即 {t.key: t.title for t in system.texts}
    rows = REQUIRED_TEXTS[system.kind]
    if any(key not in titles for _, key, _ in rows):
        return None
    views = Views(system, inputs)
    out: dict[str, str] = {}
    for _, key, optional in rows:
        if key in out or texts.value(key):
            continue
        if optional is not None and optional(views):
            continue
        out[key] = titles[key]
    return out
