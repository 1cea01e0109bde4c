"""jixiao package：一个部门的报送材料（部门整体报告＋附件1 基础数据表＋附件2 评分表＋每个项目的自评表与自评报告）。

    jixiao package DEPT.xlsx [PROJECT.xlsx …] [-o 报送材料.docx] [--pdf 报送材料.pdf] [--templates DIR]

不列项目工作簿时，取部门工作簿所在文件夹中主管部门或实施单位是本部门的项目工作簿。只读工作簿、只写 Word（与 PDF）。
另有：jixiao check DEPT.xlsx --projects [PROJECT.xlsx …] 的部门与项目之间的校验（addin/checks_cli.py 调用
check_projects），Excel 功能区按钮“生成报送材料”（addin/ribbon.py → do_package），jixiao demo 的开福区项目工作簿。

退出码：0 已生成，部门、项目与两者之间都没有“错误”；1 已生成，但有“错误”（含评价未完成）；2 无法读取、参数有误、
PDF 无法生成、输出被占用。
"""
from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

from .cli import DEMO_HOOKS, EXIT_FINDINGS, EXIT_OK, EXIT_UNREADABLE, CliError

PACKAGE_SUFFIX = "_报送材料.docx"


def package_docx_path(dept: Path) -> Path:
    """默认的报送材料位置：部门工作簿旁，“工作簿名_报送材料.docx”。"""
    return dept.with_name(dept.stem + PACKAGE_SUFFIX)


def make_package(dept_path: str | Path, project_paths: list[str] | None = None, *, output: str | Path | None = None,
                 pdf: str | Path | None = None, template_dir: str | Path | None = None):
    """读取部门与项目工作簿 → 校验 → 组装 → 写出 Word（与 PDF）。返回 (Package, Word 路径)。先核对全部输出路径，有问题什么也不写。"""
    from .book import BookError
    from .report import ReportError, write_pdf
    from .safeio import refuse_overwrite, require_suffix
    from .submission import SubmissionError, build_package, discover, open_department, open_project
    from .submission_docx import write_package_docx

    if template_dir is not None and not Path(template_dir).is_dir():
        raise ReportError(f"报告模板目录不存在：{template_dir}")
    target = Path(output) if output else package_docx_path(Path(dept_path))
    try:
        require_suffix("-o/--output（报送材料 Word）", target, (".docx",))
        if pdf:
            require_suffix("--pdf", pdf, (".pdf",))
        refuse_overwrite([dept_path, *(project_paths or [])], [("-o/--output", target), ("--pdf", pdf)])
    except BookError as exc:
        raise CliError(str(exc)) from None
    try:
        dept = open_department(dept_path)
        notes: list[str] = []
        if project_paths:
            projects = [open_project(p) for p in project_paths]
        else:
            projects, notes = discover(dept)
        pkg = build_package(dept, projects, template_dir=template_dir, notes=notes)
    except SubmissionError as exc:
        raise CliError(str(exc)) from None
    for notice in getattr(dept.book, "notices", ()):
        print(f"jixiao：提示：{notice}", file=sys.stderr)
    write_package_docx(pkg, target)
    if pdf:
        write_pdf(target, pdf)
    return pkg, target


def own_findings(pkg) -> dict[str, list]:
    """各工作簿自己的校验发现（文件名 → 发现）：部门、各项目。"""
    from .checks import run_checks

    out = {pkg.dept.file: pkg.dept_findings}
    for part in pkg.projects:
        out[part.workbook.file] = run_checks(part.workbook.inputs, part.workbook.ev)
    return out


def summary_lines(pkg, target: Path, own: dict[str, list]) -> list[str]:
    """终端上的结果：各附件、部门与项目之间的校验、各工作簿的校验摘要、草稿尚缺的内容（带单元格）。"""
    from udfs.numbers import fmt_pct, fmt_score

    from . import findings as F
    from .checks import summary_text

    out = [f"已生成报送材料（{pkg.status}）：{target}",
           f"  部门：{pkg.dept.file}  {pkg.report.title}"]
    for k, title in enumerate(pkg.annex_titles, 1):
        out.append(f"  附件{k}  {title}")
    for part in pkg.projects:
        ev = part.workbook.ev
        ex = part.workbook.execution()
        rate = f"预算执行率 {fmt_pct(ex.value)}，" if ex is not None and ex.value is not None and not isinstance(ex.value, str) else ""
        result = (f"自评得分 {fmt_score(ev.total)}，等级 {ev.grade}" if ev.complete
                  else f"评价未完成（{len(ev.missing)} 项指标未评分）")
        out.append(f"  {part.annex}  {part.annex_title}（{part.workbook.file}）：{rate}{result}")
    if not pkg.projects:
        out.append("  没有项目支出绩效自评工作簿（可在命令行列出，或放在部门工作簿旁：主管部门或实施单位填本部门的单位名称）")
    for note in pkg.notes:
        out.append(f"  {note}")
    cross = pkg.findings
    out.append(f"部门与项目之间：{summary_text(cross)}")
    for f in cross:
        out.append(f"  {f.severity}  {f.sheet}!{f.cell}  {f.message}")
    for file, findings in own.items():
        out.append(f"校验 {file}：{summary_text(findings)}" +
                   ("（运行 jixiao check 查看）" if any(f.severity == F.ERROR for f in findings) else ""))
    if pkg.draft:
        missing = pkg.report_missing_lines()
        errors = [f for f in pkg.errors if f.code != "project-incomplete"]
        reasons = ([f"尚缺 {len(missing)} 项内容"] if missing else []) + (
            [f"部门与项目之间有 {len(errors)} 项错误（见上）"] if errors else [])
        out.append("报送材料为草稿（每页页眉标“草稿”）：" + "，".join(reasons) + "；补齐、改正后重新生成即为定稿：")
        out += missing
    else:
        out.append(f"报送材料为定稿：部门与 {len(pkg.projects)} 个项目的评价均已完成，成文日期 {pkg.report.date}")
    return out


def cmd_package(args) -> int:
    from . import findings as F
    from .report import ReportError

    try:
        pkg, target = make_package(args.file, args.projects, output=args.output, pdf=args.pdf, template_dir=args.templates)
    except ReportError as exc:
        print(f"jixiao：{exc}", file=sys.stderr)
        return EXIT_UNREADABLE
    own = own_findings(pkg)
    for line in summary_lines(pkg, target, own):
        print(line)
    if args.pdf:
        print(f"已生成 PDF：{args.pdf}")
    errors = pkg.errors or [f for fs in own.values() for f in fs if f.severity == F.ERROR]
    return EXIT_FINDINGS if errors else EXIT_OK


def register(subparsers) -> None:
    s = subparsers.add_parser(
        "package", help="生成部门的报送材料：部门整体报告、附件1 基础数据表、附件2 评分表、各项目的自评表与自评报告（一个 Word）",
        description="由部门整体支出绩效自评工作簿与各项目支出绩效自评工作簿生成一份公文格式的报送材料。不列项目工作簿时，"
                    "取部门工作簿所在文件夹中主管部门或实施单位是本部门的项目工作簿。退出码：0 无错误；1 有“错误”"
                    "（含评价未完成，材料为草稿）；2 无法读取或无法写出。")
    s.add_argument("file", help="部门整体支出绩效自评工作簿（.xlsx）")
    s.add_argument("projects", nargs="*", help="项目支出绩效自评工作簿（不列时取部门工作簿旁属于本部门的）")
    s.add_argument("-o", "--output", help="报送材料 Word 文件（默认：部门工作簿名_报送材料.docx，在部门工作簿旁）")
    s.add_argument("--pdf", help="另存 PDF（需要 LibreOffice）")
    s.add_argument("--templates", help="报告文字模板目录（覆盖 workbook_templates/text 中的同名模板）")
    s.set_defaults(func=cmd_package)


# ---------------------------------------------------------------------------------------------------------
# jixiao check DEPT.xlsx --projects [PROJECT.xlsx …]
# ---------------------------------------------------------------------------------------------------------
def check_projects(path: str | Path, inputs, ev, book, args) -> list:
    """jixiao check 的 --projects：部门与项目之间的发现（加在部门工作簿的发现里）。--projects 后列出文件时只能校验一个
    部门工作簿；不列文件时，每个部门工作簿取它旁边属于它的项目工作簿（不是部门整体自评工作簿的文件不做这项校验）。"""
    from .submission import SubmissionError, Workbook, cross_findings, discover, open_project

    dept = Workbook(inputs, ev, Path(path), book)
    explicit = list(args.projects or [])  # 列出多个部门工作簿时不能同时列出项目工作簿：由 checks_cli.cmd_check 事先拒绝
    if dept.system.kind != "dept":
        if explicit:
            raise CliError(f"“{dept.file}”不是部门整体支出绩效自评工作簿，不能与项目工作簿对照（--projects）")
        return []
    try:
        projects = [open_project(p) for p in explicit] if explicit else discover(dept)[0]
    except SubmissionError as exc:
        raise CliError(str(exc)) from None
    if not args.json:
        names = "、".join(p.file for p in projects) or "没有找到（主管部门或实施单位填本部门单位名称的项目工作簿）"
        print(f"{dept.file} 的项目工作簿：{names}")
    return cross_findings(dept, projects)


# ---------------------------------------------------------------------------------------------------------
# Excel：功能区按钮“生成报送材料”
# ---------------------------------------------------------------------------------------------------------
def do_package(book) -> Any:
    """部门工作簿中点“生成报送材料”：找出同一文件夹中属于本部门的项目工作簿，列出来请用户确认，在部门工作簿旁写出
    “工作簿名_报送材料.docx”。部门工作簿按 Excel 中当前的内容读取（不必先保存），项目工作簿按已保存的文件读取。"""
    from udfs.numbers import fmt_pct

    from . import findings as F
    from .engine import evaluate
    from .reader import read_inputs
    from .ribbon import ENTRY_POINTS, TITLE, Outcome, UserError
    from .submission import SubmissionError, Workbook, build_package, discover, require_department
    from .submission_docx import write_package_docx

    path = getattr(book, "path", None)
    if path is None:
        raise UserError("工作簿尚未保存，无法确定项目工作簿与报送材料的位置：请先保存工作簿，再生成报送材料")
    path = Path(path)
    inputs = read_inputs(book)
    dept = Workbook(inputs, evaluate(inputs), path, book)
    try:
        require_department(dept)
        projects, notes = discover(dept)
    except SubmissionError as exc:
        raise UserError(str(exc)) from None
    target = package_docx_path(path)
    if projects:
        listing = [f"在“{path.parent.name or path.parent}”文件夹中找到 {len(projects)} 个属于“{dept.unit}”的项目支出绩效自评工作簿："]
        listing += [f"  {p.file}  {p.name or '（未填写项目名称）'}" for p in projects]
    else:
        listing = [f"在“{path.parent.name or path.parent}”文件夹中没有找到主管部门或实施单位为“{dept.unit or '（单位名称未填写）'}”的"
                   f"项目支出绩效自评工作簿，报送材料只有部门整体报告与附件1、附件2。"]
    listing += notes
    listing += ["项目工作簿按已保存的文件读取。", f"将生成：{target.name}（已有同名文件时先留备份）。点“确定”继续。"]
    confirm = getattr(book, "confirm", None)
    if confirm is not None and not confirm("\n".join(listing), f"{TITLE} - {ENTRY_POINTS['package']}"):
        return Outcome("已取消，没有生成报送材料。")
    try:
        pkg = build_package(dept, projects, notes=notes)
        write_package_docx(pkg, target)
    except SubmissionError as exc:
        raise UserError(str(exc)) from None
    except PermissionError:
        raise UserError(f"无法写入“{target.name}”：文件正在 Word 中打开或没有写权限，请关闭后重试。") from None
    lines = [f"已生成报送材料（{pkg.status}）：{target}"]
    for part in pkg.projects:
        ex = part.workbook.execution()
        rate = f"，预算执行率 {fmt_pct(ex.value)}" if ex is not None and ex.value is not None and not isinstance(ex.value, str) else ""
        lines.append(f"  {part.annex} {part.name}{rate}" + ("" if part.workbook.ev.complete else "，评价未完成"))
    if pkg.draft:
        missing = pkg.missing_lines()
        lines.append(f"报送材料为草稿（页眉标“草稿”），尚缺或待核实 {len(missing)} 项：")
        lines += missing[:8] + (["  ……"] if len(missing) > 8 else [])
    cross = pkg.findings
    warnings = [f for f in cross if f.severity == F.WARNING]
    lines += [f"  提醒：{f.message}" for f in warnings[:3]]
    return Outcome("\n".join(lines), critical=bool(pkg.errors), data={"package": pkg, "docx": target})


# ---------------------------------------------------------------------------------------------------------
# jixiao demo：开福区的三个项目工作簿
# ---------------------------------------------------------------------------------------------------------
def demo_hook(out_dir: Path) -> None:
    """jixiao demo 的附加步骤：在 kaifu-2020.xlsx 旁写出种子 002 的三个项目工作簿并计分，打印开福区报送材料的命令。"""
    from workbook_templates.build import build_workbook
    from workbook_templates.examples_projects import DEPT_EXAMPLE, PROJECT_EXAMPLES

    from .engine import evaluate
    from .reader import load
    from .safeio import atomic_output, regenerating

    out = Path(out_dir)
    dept = out / f"{DEPT_EXAMPLE}.xlsx"
    if not dept.is_file():
        return
    paths = [out / f"{name}.xlsx" for name in PROJECT_EXAMPLES]
    with regenerating(paths) as kept:
        for path, ex in zip(paths, PROJECT_EXAMPLES.values()):
            with atomic_output(path) as tmp:
                build_workbook(ex.system, tmp, ex)
            _, inputs = load(path)
            ev = evaluate(inputs)
            name = str(inputs.scalars.get("project_name") or "")
            state = "评价完成" if ev.complete else f"评价未完成：{len(ev.missing)} 项指标无法计分（见 jixiao score）"
            print(f"{path}  {ev.unit_name} {name}  {state}")
    for bak in kept:
        print(f"已修改过的旧文件已备份为：{bak}")
    print("开福区报送材料（部门整体报告＋附件＋三个项目的自评）：jixiao package " +
          " ".join(str(p) for p in [dept, *paths]) + f" -o {out / (DEPT_EXAMPLE + '-报送材料.docx')}")


if demo_hook not in DEMO_HOOKS:
    DEMO_HOOKS.append(demo_hook)
