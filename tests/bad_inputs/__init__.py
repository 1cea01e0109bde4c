"""坏输入语料：每一项是“取一本示例工作簿、改几个单元格”的声明，或一个不是工作簿的文件。

tests/test_bad_inputs.py 在临时目录里生成这些文件（示例工作簿来自 conftest 的 demo_dir，复制后再改，绝不改动原件），
再经命令行（jixiao score / jixiao check）逐一运行：零回溯，每项都有指名单元格（或文件）的中文发现或错误。

Case.mutate(wb) 就地修改 openpyxl 工作簿并返回期望被点名的 (工作表, 单元格)；返回 None 表示只要求不崩溃、
且 Case.check(评分 JSON) 成立（这些是程序应当正确理解的“怪”输入，如全角数字）。
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any, Callable

from openpyxl.workbook import Workbook

from tests import excel_rows

DATA, SCORES = "基础数据表", "评分表"
Where = tuple[str, str]


@dataclass(frozen=True)
class Case:
    id: str
    base: str  # 示例工作簿名（demo_dir 下的 {base}.xlsx）
    mutate: Callable[[Workbook], Where | None]
    # 期望：where 为被点名的单元格时，score/check 的发现中须有一条指向它；否则 check(score_json) 须为真
    check: Callable[[dict], bool] | None = None
    note: str = ""
    # False：程序应当照常理解的“怪”输入（插入的行、多余的工作表、远处的一格……），没有可点名的错误单元格，
    # 只要求不崩溃且 check 成立；True：必须有一条指向 mutate 所返回单元格的中文发现
    names_cell: bool = True
    code: str = ""  # 指向该格的发现中应有这个代码（发现目录 addin/checks/findings.py）


@dataclass(frozen=True)
class FileCase:
    """不是（正常）工作簿的文件：退出码 2，stderr 为点名文件的中文说明。"""

    id: str
    name: str
    make: Callable[[Any], bytes]  # make(demo_dir) → 文件内容
    fragment: str  # 说明中应包含的关键词


# ---------------------------------------------------------------------------------------------------------------
# 定位：按“代码”列与表头找单元格（示例之间、插入行之后都适用）
# ---------------------------------------------------------------------------------------------------------------
def _row_of(ws, code: str) -> int:
    for (r, c), cell in sorted(ws._cells.items()):
        if c == 1 and cell.value == code:
            return r
    raise KeyError(code)


def _col_of(ws, header: str, header_row: int) -> int:
    for c in range(1, ws.max_column + 1):
        if ws.cell(header_row, c).value == header:
            return c
    raise KeyError(header)


def data_addr(wb: Workbook, key: str, column: str | None = None) -> str:
    """基础数据表：补充数据项 key 的数值格（C 列），或经费表行 key 的 column 列（按表头文字）。"""
    ws = wb[DATA]
    r = _row_of(ws, key)
    if column is None:
        return f"C{r}"
    header_row = max(rr for (rr, c), cell in ws._cells.items() if c == 1 and cell.value == "代码" and rr < r)
    return ws.cell(r, _col_of(ws, column, header_row)).coordinate


def score_addr(wb: Workbook, code: str, header: str) -> str:
    ws = wb[SCORES]
    return ws.cell(_row_of(ws, code), _col_of(ws, header, _row_of(ws, "代码"))).coordinate


# 语料中填进单元格的每个值：test_bad_inputs 也把它们逐个传给每个单元格函数（udfs/xl.py 的包装）
TYPED_VALUES: list[Any] = []


def set_data(key: str, value: Any, column: str | None = None) -> Callable[[Workbook], Where]:
    TYPED_VALUES.append(value)

    def m(wb):
        a = data_addr(wb, key, column)
        wb[DATA][a] = value
        return DATA, a
    return m


def set_score(code: str, header: str, value: Any, *, expect: str | None = None) -> Callable[[Workbook], Where]:
    """改评分表一格；expect 为期望被点名的另一列（默认即所改的格）。"""
    TYPED_VALUES.append(value)

    def m(wb):
        a = score_addr(wb, code, header)
        wb[SCORES][a] = value
        return SCORES, score_addr(wb, code, expect) if expect else a
    return m


def total_is(expected: str) -> Callable[[dict], bool]:
    from decimal import Decimal

    return lambda js: js["total"] is not None and Decimal(str(js["total"])) == Decimal(expected)


def then(*steps: Callable[[Workbook], Where | None]) -> Callable[[Workbook], Where | None]:
    """依次执行几步修改，期望点名最后一步返回的单元格。"""
    def m(wb):
        where = None
        for s in steps:
            where = s(wb)
        return where
    return m


# ---------------------------------------------------------------------------------------------------------------
# 结构性修改
# ---------------------------------------------------------------------------------------------------------------
def rename_sheet(old: str, new: str):
    def m(wb):
        wb[old].title = new
    return m


def delete_sheet(name: str, expect: Where | None = None):
    def m(wb):
        del wb[name]
        return expect
    return m


def rename_header(sheet: str, old: str, new: str, expect_cell: bool = True):
    def m(wb):
        ws = wb[sheet]
        for _rc, cell in sorted(ws._cells.items()):
            if cell.value == old:
                cell.value = new
                return (sheet, cell.coordinate) if expect_cell else None
        raise KeyError(old)
    return m


def clear_code(sheet: str, code: str, expect: str = "A"):
    """删去“代码”列的值（用户清空了 A 列某格）。期望点名该行 expect 列。"""
    def m(wb):
        ws = wb[sheet]
        r = _row_of(ws, code)
        ws.cell(r, 1).value = None
        return sheet, f"{expect}{r}"
    return m


def merge(sheet: str, first: Callable[[Workbook], str], last: Callable[[Workbook], str], expect_last: bool = True):
    """合并单元格（被合并的格内容丢失）；期望点名丢失内容的那一格。"""
    def m(wb):
        a, b = first(wb), last(wb)
        wb[sheet].merge_cells(f"{a}:{b}")
        return (sheet, b) if expect_last else None
    return m


def insert_rows(sheet: str, before_code: str, n: int, fill: dict[int, Any] | None = None, expect_col: str | None = None):
    """在代码为 before_code 的行之前插入 n 行（用户插入空行或说明行）；公式中的引用像 Excel 一样随之下移。
    fill：给第一行按列号填内容。"""
    def m(wb):
        ws = wb[sheet]
        r = _row_of(ws, before_code)
        excel_rows.insert_rows(wb, sheet, r, n)
        for c, v in (fill or {}).items():
            ws.cell(r, c).value = v
        return (sheet, f"{expect_col}{r}") if expect_col else None
    return m


def far_cell(wb):
    wb[DATA]["XFD1048576"] = "远处的一格"
    wb[SCORES]["XFD1048576"] = 1


def extra_sheets(wb):
    for i in range(30):
        wb.create_sheet(f"附表{i}")["A1"] = "=1/0"
    wb.move_sheet(SCORES, offset=-wb.sheetnames.index(SCORES))
    wb.create_sheet("校验结果")["A1"] = '=HYPERLINK("http://x","旧的校验结果")'


def user_indicator_row(wb):
    """用户在“产出及效率”内自建一行：无代码，填了指标名、分值、规则与评价人给分。"""
    ws = wb[SCORES]
    r = _row_of(ws, "benefit")
    excel_rows.insert_rows(wb, SCORES, r, 1)
    for header, v in (("一级指标", "产出及效率"), ("三级指标", "自建指标"), ("分值", 0), ("实际值", 0),
                      ("规则类型", "评价人打分"), ("无基数时", "报错")):
        ws.cell(r, _col_of(ws, header, _row_of(ws, "代码"))).value = v


def xlsx_bytes_of(demo_dir, name="baojing-2018") -> bytes:
    return (demo_dir / f"{name}.xlsx").read_bytes()


DATE = dt.datetime(2018, 12, 31)
LONG_TEXT = "很长的说明" * 6553  # 32765 个字符，接近 Excel 单元格上限 32767


CASES: list[Case] = [
    # --- 基础数据表：数字格里的各种东西 ---
    Case("text-in-number", "baojing-2018", set_data("staff_actual", "三十三"), code="indicator-error"),
    Case("fullwidth-digits", "baojing-2018", set_data("staff_actual", "３３"), total_is("94.9"),
         "全角数字照常识别"),
    Case("fullwidth-percent", "baojing-2018", set_data("sat_service", "94.93％"), total_is("94.9")),
    Case("two-numbers", "baojing-2018", set_data("expense_total", "892.35（800）", "本年年初预算数")),
    Case("div0-cached-error", "baojing-2018", set_data("sat_public", "#DIV/0!")),
    Case("na-error", "baojing-2018", set_data("staff_quota", "#N/A")),
    Case("blank-required", "baojing-2018", set_data("expense_total", None, "本年年初预算数")),
    Case("dash-as-blank", "baojing-2018", set_data("expense_total", "—", "本年年初预算数")),
    Case("negative-budget", "baojing-2018", set_data("expense_total", -892.35, "本年年初预算数")),
    Case("negative-staff", "baojing-2018", set_data("staff_quota", -33)),
    Case("date-in-number", "baojing-2018", set_data("staff_quota", DATE)),
    Case("time-in-number", "baojing-2018", set_data("sat_staff", dt.time(12, 0))),
    Case("huge-float", "baojing-2018", set_data("expense_total", 1e308, "本年年初预算数")),
    Case("huge-int", "baojing-2018", set_data("staff_actual", 10 ** 30)),
    # 编制数 1e-300：控制率 3.3e301 超出任何合理范围，指向该指标的实际值
    Case("tiny-float", "baojing-2018",
         then(set_data("staff_quota", 1e-300), lambda wb: (SCORES, score_addr(wb, "staff_control", "实际值")))),
    Case("bool-in-number", "baojing-2018", set_data("sat_service", True)),
    Case("long-text-in-number", "baojing-2018", set_data("staff_actual", LONG_TEXT)),
    Case("long-digits", "baojing-2018", set_data("staff_actual", "9" * 400)),
    Case("rate-over-100", "baojing-2018", set_data("sat_service", 1.5)),
    Case("zero-quota", "baojing-2018", set_data("staff_quota", 0)),
    Case("formula-injection-text", "baojing-2018", set_data("staff_actual", '=HYPERLINK("http://x","33")')),
    Case("long-unit-name", "baojing-2018", then(set_data("unit_name", LONG_TEXT), lambda wb: None), total_is("94.9"),
         names_cell=False),
    Case("money-unit-typo", "baojing-2018", set_data("money_unit", "万圆"), code="bad-choice"),
    # Excel 把“2018-12-31”自动变成日期：按 2018 年处理并提示（报告标题不出现“2018-12-31 00:00:00年度”）
    Case("year-as-date", "baojing-2018", set_data("year", DATE), lambda js: js["year"] == "2018" and js["total"] == 94.9,
         code="year-is-date"),
    # --- 工作表与表头 ---
    Case("missing-data-sheet", "baojing-2018", delete_sheet(DATA, (DATA, "A1")), code="missing-sheet"),
    Case("renamed-data-sheet", "baojing-2018", then(rename_sheet(DATA, "基础数据"), lambda wb: (DATA, "A1"))),
    Case("renamed-data-header", "baojing-2018", rename_header(DATA, "本年决算数", "决算数"), code="header-changed"),
    Case("extra-and-reordered-sheets", "baojing-2018", extra_sheets, total_is("94.9"), names_cell=False),
    Case("far-away-cell", "baojing-2018", far_cell, total_is("94.9"), names_cell=False),
    # --- 代码列被删、单元格被合并、用户插入行 ---
    # 代码被删或打错：按名称找回该行（得分不变），并提示恢复代码
    Case("deleted-scalar-code", "baojing-2018", clear_code(DATA, "staff_actual"), total_is("94.9")),
    Case("deleted-table-code", "baojing-2018", clear_code(DATA, "public_expense"), total_is("94.9")),
    Case("deleted-score-code", "baojing-2018", clear_code(SCORES, "staff_control"), total_is("94.9")),
    Case("garbled-score-code", "baojing-2018", set_score("staff_control", "代码", "staff_contrl"), total_is("94.9")),
    Case("merged-over-inputs", "baojing-2018",
         merge(DATA, lambda wb: data_addr(wb, "staff_quota"), lambda wb: data_addr(wb, "staff_actual"))),
    Case("merged-score-points", "baojing-2018",
         merge(SCORES, lambda wb: score_addr(wb, "staff_control", "分值"),
               lambda wb: score_addr(wb, "sangong_change", "分值"))),
    Case("rows-inserted-data", "baojing-2018",
         then(insert_rows(DATA, "basic", 2), insert_rows(DATA, "staff_quota", 3)), total_is("94.9"), names_cell=False),
    Case("rows-inserted-scores", "baojing-2018",
         then(insert_rows(SCORES, "staff_control", 1), insert_rows(SCORES, "mgmt_system", 2)), total_is("94.9"),
         names_cell=False),
    Case("note-row-inserted-scores", "baojing-2018",
         insert_rows(SCORES, "budget_control", 1, {4: "注：本行为评价组说明"}, expect_col="E")),
    Case("user-indicator-row", "baojing-2018", user_indicator_row, total_is("94.9"), names_cell=False),
    # --- 规则与分值 ---
    Case("rule-type-typo", "baojing-2018", set_score("budget_control", "规则类型", "分挡")),
    Case("empty-param", "baojing-2018", set_score("public_expense_control", "参数2", None)),
    Case("text-param", "baojing-2018", set_score("staff_control", "参数2", "一个百分点")),
    Case("op-typo", "baojing-2018", set_score("public_expense_control", "参数1", "小于等于")),
    Case("na-policy-typo", "baojing-2018", set_score("sangong_change", "无基数时", "满份")),
    Case("bands-not-increasing", "baojing-2018", set_score("budget_control", "参数3", 0)),
    Case("points-text", "baojing-2018", set_score("staff_control", "分值", "三分"), code="bad-points"),
    Case("points-negative", "baojing-2018", set_score("staff_control", "分值", -3)),
    Case("points-bool", "baojing-2018", set_score("staff_control", "分值", True)),
    Case("points-huge", "baojing-2018", set_score("mgmt_system", "分值", 1e308)),
    Case("points-error-value", "baojing-2018", set_score("staff_control", "分值", "#REF!")),
    Case("points-blank", "baojing-2018", set_score("staff_control", "分值", None)),
    # --- 评价人填写 ---
    Case("override-text", "baojing-2018", set_score("budget_control", "调整得分", "四分"), code="bad-override"),
    Case("override-without-reason", "baojing-2018", set_score("budget_control", "调整理由", None)),
    Case("override-over-points", "baojing-2018",
         then(set_score("goal_reasonable", "调整理由", "评价组意见"), set_score("goal_reasonable", "调整得分", 100))),
    Case("override-negative", "baojing-2018",
         then(set_score("goal_reasonable", "调整理由", "评价组意见"), set_score("goal_reasonable", "调整得分", -1))),
    Case("manual-over-points", "baojing-2018", set_score("goal_reasonable", "实际值", 5)),
    Case("manual-text", "baojing-2018", set_score("mgmt_system", "实际值", "优")),
    Case("manual-blank", "baojing-2018", set_score("mgmt_system", "实际值", None)),
    Case("grade-unknown", "baojing-2018", set_score("key_work", "实际值", "很好")),
    Case("computed-overwritten", "baojing-2018", set_score("staff_control", "计算得分", 3),
         code="score-typed-over-formula"),
    Case("value-overwritten", "baojing-2018", set_score("staff_control", "实际值", 1)),
    Case("value-overwritten-text", "baojing-2018", set_score("staff_control", "实际值", "很高")),
    Case("value-bool", "baojing-2018", set_score("mgmt_system", "实际值", False)),
    Case("grade-table-text", "baojing-2018", lambda wb: _grade_low(wb, 0, "九十"), code="bad-grade-table"),
    Case("grade-table-duplicate", "baojing-2018", lambda wb: _grade_low(wb, 1, 90)),
    # --- 项目支出（石屏）与子洲 ---
    Case("target-value-text", "shiping-2022", lambda wb: _project_param(wb, 2, "很多")),
    Case("target-nature-typo", "shiping-2022", lambda wb: _project_param(wb, 1, "≧=")),
    Case("target-actual-two-numbers", "shiping-2022", lambda wb: _project_value(wb, "100%（95%）")),
    Case("target-actual-blank", "shiping-2022", lambda wb: _project_value(wb, None)),
    Case("target-actual-date", "shiping-2022", lambda wb: _project_value(wb, DATE)),
    Case("zizhou-negative-income", "zizhou-2021", lambda wb: _first_number_scalar(wb, -1)),
    Case("zizhou-text-income", "zizhou-2021", lambda wb: _first_number_scalar(wb, "约三千万")),
    # 评分表待填：部分指标无法计分，评价未完成——没有总分与等级，missing 列出每一项（不是“总分 34 等级 差”）
    Case("kaifu-as-is", "kaifu-2020", lambda wb: None,
         lambda js: (js["complete"], js["total"], js["grade"]) == (False, None, None)
         and [m["code"] for m in js["missing"]] == [i["code"] for i in js["indicators"] if i["score"] is None] != [],
         names_cell=False),
]


def _grade_low(wb, i: int, value):
    ws = wb[SCORES]
    r = _row_of(ws, "等级标准") + 1 + i
    ws.cell(r, 3).value = value
    return SCORES, f"B{_row_of(ws, '等级标准') + 1}"


def _project_row(wb):
    """项目支出表中规则为“目标比较”、指标性质为 ≥ 或 ≤、实际值由评价人填写（不是公式）的第一行。"""
    ws = wb[SCORES]
    hr = _row_of(ws, "代码")
    rule_c, value_c = _col_of(ws, "规则类型", hr), _col_of(ws, "实际值", hr)
    p1 = _col_of(ws, "无基数时", hr) + 1  # 项目表的参数1、参数2 表头是“指标性质”“指标值”
    for r in range(hr + 1, ws.max_row + 1):
        v = ws.cell(r, value_c).value
        if ws.cell(r, rule_c).value == "目标比较" and ws.cell(r, p1).value in ("≥", "≤") \
                and isinstance(v, (int, float)):
            return ws, r, p1, value_c
    raise KeyError("目标比较")


def _project_param(wb, i: int, value):
    ws, r, p1, _ = _project_row(wb)
    c = ws.cell(r, p1 + i - 1)
    c.value = value
    return SCORES, c.coordinate


def _project_value(wb, value):
    ws, r, _, value_c = _project_row(wb)
    c = ws.cell(r, value_c)
    c.value = value
    return SCORES, c.coordinate


def _first_number_scalar(wb, value):
    """子洲：第一项数值型补充数据（本年预算收入等）。"""
    ws = wb[DATA]
    for (r, c), cell in sorted(ws._cells.items()):
        if c == 3 and r > 1 and isinstance(cell.value, (int, float)) and not isinstance(cell.value, bool) \
                and cell.value > 100:
            cell.value = value
            return DATA, cell.coordinate
    raise KeyError("number")


# ---------------------------------------------------------------------------------------------------------------
# 不是工作簿的文件
# ---------------------------------------------------------------------------------------------------------------
def _zip_bytes(members: dict[str, bytes]) -> bytes:
    import io
    import zipfile

    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        for n, d in members.items():
            zf.writestr(n, d)
    return buf.getvalue()


def _replace_member(data: bytes, name: str, new: bytes) -> bytes:
    import io
    import zipfile

    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as zin, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as zout:
        for item in zin.infolist():
            zout.writestr(item, new if item.filename == name else zin.read(item))
    return out.getvalue()


_OLE = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(504)
_LAUGHS = (b'<?xml version="1.0"?><!DOCTYPE l [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;">]>'
           b'<sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><si><t>&b;</t></si></sst>')

FILE_CASES: list[FileCase] = [
    FileCase("empty-file", "空.xlsx", lambda d: b"", "空文件"),
    FileCase("csv-renamed", "导出.xlsx", lambda d: "代码,数值\nstaff_quota,33\n".encode("gb18030"), "CSV"),
    FileCase("random-bytes", "乱码.xlsx", lambda d: bytes(range(256)) * 16, "无法识别"),
    FileCase("truncated", "半个.xlsx", lambda d: xlsx_bytes_of(d)[:5000], "损坏"),
    FileCase("legacy-xls", "旧版.xlsx", lambda d: _OLE + bytes(2048), ".xls"),
    FileCase("password", "加密.xlsx", lambda d: _OLE + "EncryptedPackage".encode("utf-16-le") + bytes(64), "密码"),
    FileCase("ratio-bomb", "炸弹.xlsx", lambda d: _zip_bytes({"[Content_Types].xml": b"<T/>", "xl/workbook.xml": b"<w/>",
                                                            "xl/worksheets/sheet1.xml": bytes(30 << 20)}), "压缩"),
    FileCase("billion-laughs", "实体.xlsx", lambda d: _replace_member(xlsx_bytes_of(d), "xl/sharedStrings.xml", _LAUGHS),
             "DTD"),
    FileCase("docx-renamed", "报告.xlsx", lambda d: _zip_bytes({"word/document.xml": b"<w/>"}), "Word"),
    FileCase("plain-zip", "压缩包.xlsx", lambda d: _zip_bytes({"a.txt": b"x"}), "zip"),
    FileCase("wrong-extension", "工作簿.txt", lambda d: xlsx_bytes_of(d), "扩展名"),
    FileCase("pdf-renamed", "报告.xlsx", lambda d: b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n", "PDF"),
    FileCase("not-a-jixiao-workbook", "普通.xlsx", lambda d: _plain_workbook(), "不是 jixiao"),
    FileCase("unknown-system", "体系.xlsx", lambda d: _mutated_bytes(d, "B2", "foo"), "B2"),
    FileCase("no-system-label", "标记.xlsx", lambda d: _mutated_bytes(d, "A2", None), "指标体系"),
    FileCase("score-header-renamed", "表头.xlsx", lambda d: _mutated_bytes(d, "E3", "分数"), "分值"),
    FileCase("score-code-header-deleted", "代码.xlsx", lambda d: _mutated_bytes(d, "A3", None), "代码"),
    FileCase("renamed-scores-sheet", "改名.xlsx", lambda d: _renamed_scores(d), "评分表"),
]


def _plain_workbook() -> bytes:
    import io

    import openpyxl

    wb = openpyxl.Workbook()
    wb.active["A1"] = "随便一张表"
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def _mutated_bytes(demo_dir, cell: str, value) -> bytes:
    import io

    import openpyxl

    wb = openpyxl.load_workbook(demo_dir / "baojing-2018.xlsx")
    wb[SCORES][cell] = value
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def _renamed_scores(demo_dir) -> bytes:
    import io

    import openpyxl

    wb = openpyxl.load_workbook(demo_dir / "baojing-2018.xlsx")
    wb[SCORES].title = "评分"
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()
