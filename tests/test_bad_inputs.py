"""坏输入语料（tests/bad_inputs）：≥ 50 个坏输入，经命令行与单元格函数运行，零回溯，每项都有指名单元格或文件的中文说明。"""
from __future__ import annotations

import datetime as dt
import importlib.util
import json
import re
import shutil
import traceback
from decimal import Decimal
from pathlib import Path

import openpyxl
import pytest

from addin.cli.main import main
from tests.bad_inputs import CASES, FILE_CASES, TYPED_VALUES, Case, FileCase
from udfs import xl
from udfs.excel import CATALOG, ERROR_PREFIX, NA_TEXT

HAS_CHECK = importlib.util.find_spec("addin.cli.check") is not None
CHINESE = re.compile(r"[\u4e00-\u9fff]")


def run_cli(capsys, *argv: str) -> tuple[int, str, str]:
    """在进程内运行 jixiao；任何逃出 main 的异常都是“回溯”，直接判失败。"""
    try:
        code = main(list(argv))
    except SystemExit as exc:  # argparse 参数错误
        code = exc.code
    except BaseException:  # noqa: BLE001 - 正是要抓住一切
        pytest.fail(f"jixiao {' '.join(argv)} 抛出了异常（用户会看到回溯）：\n{traceback.format_exc()}")
    out, err = capsys.readouterr()
    assert "Traceback" not in out + err
    assert code in (0, 1, 2), (code, err)
    return code, out, err


def _build(case: Case, demo_dir: Path, tmp_path: Path) -> tuple[Path, tuple[str, str] | None]:
    src = tmp_path / "src.xlsx"
    shutil.copy(demo_dir / f"{case.base}.xlsx", src)  # 只改副本
    wb = openpyxl.load_workbook(src)
    where = case.mutate(wb)
    path = tmp_path / f"{case.id}.xlsx"
    wb.save(path)
    return path, where


def _names_cell(finding: dict, sheet: str, cell: str) -> bool:
    if finding["sheet"] != sheet:
        return False
    f = finding["cell"] or ""
    if f == cell:
        return True
    if ":" in f:  # 区域（参数1:参数10）：看是否覆盖该格
        from openpyxl.utils.cell import range_boundaries

        c1, r1, c2, r2 = range_boundaries(f)
        col, row = openpyxl.utils.cell.coordinate_from_string(cell)
        ci = openpyxl.utils.column_index_from_string(col)
        return c1 <= ci <= c2 and r1 <= row <= r2
    return False


def test_corpus_has_at_least_50_bad_inputs():
    assert len(CASES) + len(FILE_CASES) >= 50
    # 其中至少 50 个必须得到点名单元格（或文件）的中文发现；其余是应当照常理解的“怪”输入
    assert sum(c.names_cell for c in CASES) + len(FILE_CASES) >= 50
    assert all(c.check is not None for c in CASES if not c.names_cell)
    assert len({c.id for c in CASES} | {c.id for c in FILE_CASES}) == len(CASES) + len(FILE_CASES)


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.id)
def test_bad_workbook_gives_a_chinese_finding_naming_the_cell(case: Case, demo_dir, tmp_path, capsys):
    path, where = _build(case, demo_dir, tmp_path)
    assert (where is not None) == case.names_cell, where
    code, out, err = run_cli(capsys, "score", "--json", str(path))
    findings: list[dict] = []
    score_json = None
    if code == 2:
        assert CHINESE.search(err), err
    else:
        score_json = json.loads(out)
        findings += score_json["findings"]
    if HAS_CHECK:
        ccode, cout, cerr = run_cli(capsys, "check", "--json", str(path))
        if ccode != 2:
            findings += json.loads(cout)["findings"]
        assert (ccode == 2) == (code == 2), (cerr, err)
    # 文本输出（非 JSON）也不能崩溃：格式化超大数、日期等
    run_cli(capsys, "score", str(path))
    for f in findings:
        assert CHINESE.search(f["message"]), f
    if where is not None:
        sheet, cell = where
        if code == 2:
            assert sheet in err or cell in err, (where, err)
        else:
            named = [f for f in findings if _names_cell(f, sheet, cell)]
            assert named, (f"没有指向 {sheet}!{cell} 的发现；现有：" +
                           "; ".join(f"{f['sheet']}!{f['cell']} {f['message']}" for f in findings))
            assert not case.code or case.code in {f["code"] for f in named}, (case.code, named)
    if case.check is not None:
        assert score_json is not None and case.check(score_json), score_json and score_json["total"]


@pytest.mark.parametrize("case", FILE_CASES, ids=lambda c: c.id)
def test_bad_file_is_refused_with_a_chinese_message(case: FileCase, demo_dir, tmp_path, capsys):
    path = tmp_path / case.name
    path.write_bytes(case.make(demo_dir))
    commands = [("score", str(path)), ("score", "--json", str(path))]
    if HAS_CHECK:
        commands.append(("check", str(path)))
    for argv in commands:
        code, out, err = run_cli(capsys, *argv)
        assert code == 2, (argv, out, err)
        assert CHINESE.search(err) and case.fragment in err, err
        assert path.name in err or case.fragment in err


def test_missing_path_and_folder(tmp_path, capsys):
    code, _, err = run_cli(capsys, "score", str(tmp_path / "无此文件.xlsx"))
    assert code == 2 and "找不到文件" in err
    code, _, err = run_cli(capsys, "score", str(tmp_path))
    assert code == 2 and "文件夹" in err


def test_blank_template_scores_without_crashing(tmp_path, capsys):
    p = tmp_path / "空白.xlsx"
    assert run_cli(capsys, "new", "--system", "hunan-dept", "-o", str(p))[0] == 0
    code, out, _ = run_cli(capsys, "score", "--json", str(p))
    js = json.loads(out)
    assert code in (0, 1) and any(f["severity"] == "错误" for f in js["findings"])


# ---------------------------------------------------------------------------------------------------------------
# 单元格函数（UDF）：坏参数只会得到“错误：…”文本或“不适用”，绝不抛出异常
# ---------------------------------------------------------------------------------------------------------------
BAD_ARGS = [None, "", "abc", "三十三", "#DIV/0!", "#N/A", True, False, dt.datetime(2018, 1, 1), dt.time(1, 2),
            dt.timedelta(days=1), 1e308, -1e308, 10 ** 30, -1, 0, 0.0, "95％", "3745（2177）", "１２３", "—", "不适用",
            ERROR_PREFIX + "上游错误", [], [None], [[1, 2], [3, "x"]], (1,), "=1+1", "\x00", " " * 5, float("nan"),
            Decimal("NaN"), Decimal("1e999999"), object()]
TEXT_RESULTS = {"DEBT_STATUS": {"无债务", "减少", "未变动", "增加"}}


def _acceptable(name: str, result) -> bool:
    if isinstance(result, bool):
        return False
    if isinstance(result, float):
        return result == result and abs(result) != float("inf")
    if isinstance(result, str):
        return result == NA_TEXT or result.startswith(ERROR_PREFIX) or result in TEXT_RESULTS.get(name, ()) \
            or name in ("GRADE_OF", "FINAL_SCORE")
    return name == "FINAL_SCORE"  # 原样返回所给的计算得分/调整得分


@pytest.mark.parametrize("spec", CATALOG, ids=lambda s: s.name)
@pytest.mark.parametrize("layer", ["excel", "xl"])
def test_udf_wrappers_never_raise_on_bad_arguments(spec, layer):
    """BAD_ARGS 与语料中填进单元格的每个值（TYPED_VALUES），逐个放到每个参数位置：纯 Python 层（UdfSpec.excel）
    与 Excel 实际调用的 xlwings 包装（udfs/xl.py）都只返回数字、“不适用”或“错误：…”。"""
    fn = spec.excel if layer == "excel" else xl.WRAPPERS[spec.name]
    n = len(spec.args)
    for bad in BAD_ARGS + TYPED_VALUES:
        for pos in range(n):
            args = [1] * n
            args[pos] = bad
            try:
                result = fn(*args)
            except Exception:  # noqa: BLE001
                pytest.fail(f"{spec.name}{tuple(args)!r} 抛出异常：\n{traceback.format_exc()}")
            assert _acceptable(spec.name, result), (spec.name, args, result)
        try:
            result = fn(*([bad] * n))
        except Exception:  # noqa: BLE001
            pytest.fail(f"{spec.name}({bad!r}…) 抛出异常：\n{traceback.format_exc()}")
        assert _acceptable(spec.name, result), (spec.name, bad, result)


@pytest.mark.parametrize("spec", [s for s in CATALOG if s.kind == "indicator"], ids=lambda s: s.name)
def test_udf_error_names_the_bad_argument(spec):
    """单元格函数没有单元格地址可报，就点名参数：同一个坏值放在不同参数位置，得到不同的、引用该值的中文说明。"""
    from tests.test_xl import SAMPLES

    good, _ = SAMPLES[spec.name]
    fine = xl.WRAPPERS[spec.name](*good)
    messages = {}
    for pos, arg in enumerate(good):
        if isinstance(arg, str):  # 口径、指标性质：文本参数另有“无效”说明
            continue
        args = list(good)
        args[pos] = "三十三"
        r = xl.WRAPPERS[spec.name](*args)
        if r == fine and spec.name in ("EXEC_DENOMINATOR", "BUDGET_EXECUTION_BY"):
            continue  # 未选中的口径的分母不参与计算，其中的文字不影响结果
        assert isinstance(r, str) and r.startswith(ERROR_PREFIX) and CHINESE.search(r[len(ERROR_PREFIX):]), (pos, r)
        assert "三十三" in r or "未填写" in r, r
        messages[pos] = r
    assert messages and len(set(messages.values())) == len(messages), messages


@pytest.mark.parametrize("argv_case", ["text-in-number", "ratio-bomb", "billion-laughs", "truncated"])
def test_real_process_prints_chinese_not_a_traceback(argv_case, demo_dir, tmp_path):
    """与用户的终端一样：真正启动 jixiao 进程（不是进程内 main()），stderr 里是中文说明、没有回溯。"""
    import subprocess
    import sys

    case = next((c for c in CASES if c.id == argv_case), None)
    if case is not None:
        path, _ = _build(case, demo_dir, tmp_path)
        fragment = "三十三"
    else:
        fc = next(c for c in FILE_CASES if c.id == argv_case)
        path = tmp_path / fc.name
        path.write_bytes(fc.make(demo_dir))
        fragment = fc.fragment
    cmd = ["check", str(path)] if HAS_CHECK else ["score", str(path)]
    proc = subprocess.run([sys.executable, "-m", "addin.cli", *cmd], capture_output=True, text=True, timeout=120,
                          cwd=Path(__file__).resolve().parent.parent)
    assert "Traceback" not in proc.stdout + proc.stderr, proc.stderr
    assert proc.returncode in (0, 1, 2)
    assert fragment in proc.stdout + proc.stderr and CHINESE.search(proc.stdout + proc.stderr)


def test_udf_error_text_is_chinese():
    r = next(s for s in CATALOG if s.name == "STAFF_CONTROL_RATE").excel("三十三", 33)
    assert r.startswith(ERROR_PREFIX) and "在职人员数" in r
