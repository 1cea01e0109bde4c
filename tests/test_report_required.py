"""addin/report/required.py：内置报告模板要用的文字材料表与模板本身一致——模板里每一处 text(…)/lines(…) 都在表中
（或属于只在已填写时调用的 NEVER_MISSING），表中每一行都确有其调用，可选条件与模板的 optional= 对应。
两种做法得到的发现逐条相同由 tests/test_limits.py 核对。"""
from __future__ import annotations

from jinja2 import nodes

from addin.report.render import TEXT_DIR, make_env
from addin.report.required import NEVER_MISSING, REQUIRED_TEXTS
from addin.report.sections import SECTIONS


def _calls() -> dict[tuple[str, str], list[nodes.Call]]:
    """模板中的 text("key", …) 与 lines("key", …) 调用：(模板, 材料) → 调用节点。"""
    env = make_env(None)
    out: dict[tuple[str, str], list[nodes.Call]] = {}
    for path in sorted(TEXT_DIR.glob("*.j2")):
        tree = env.parse(path.read_text(encoding="utf-8"))
        for call in tree.find_all(nodes.Call):
            if isinstance(call.node, nodes.Name) and call.node.name in ("text", "lines"):
                assert call.args and isinstance(call.args[0], nodes.Const), (path.name, call)
                out.setdefault((path.name, call.args[0].value), []).append(call)
    return out


def _optional(call: nodes.Call) -> nodes.Expr | None:
    return next((kw.value for kw in call.kwargs if kw.key == "optional"), None)


def test_every_text_call_in_the_templates_is_in_the_table():
    calls = _calls()
    table = {(tpl, key) for rows in REQUIRED_TEXTS.values() for tpl, key, _ in rows}
    assert set(calls) == table | NEVER_MISSING
    assert not table & NEVER_MISSING


def test_optional_conditions_follow_the_templates():
    calls = _calls()
    for rows in REQUIRED_TEXTS.values():
        for tpl, key, optional in rows:
            exprs = [_optional(c) for c in calls[(tpl, key)]]
            if optional is None:  # 必填：模板里没有 optional=
                assert exprs == [None], (tpl, key)
            else:  # 条件可选：optional= 是一个取决于数据的表达式（不是常量）
                assert len(exprs) == 1 and exprs[0] is not None and not isinstance(exprs[0], nodes.Const), (tpl, key)
    for tpl, key in NEVER_MISSING:
        for c in calls[(tpl, key)]:
            opt = _optional(c)
            # optional=true，或在 has_text(key) 分支之内（由模板文本核对：同一模板有 has_text("key")）
            if not (isinstance(opt, nodes.Const) and opt.value is True):
                assert f'has_text("{key}")' in (TEXT_DIR / tpl).read_text(encoding="utf-8"), (tpl, key)


def test_table_lists_templates_of_its_own_kind_in_section_order():
    for kind, rows in REQUIRED_TEXTS.items():
        order = [s.template for s in SECTIONS[kind]]
        positions = [order.index(tpl) for tpl, _, _ in rows]
        assert positions == sorted(positions), kind
