"""jixiao package：一个部门的报送材料（部门整体报告＋附件1 基础数据表＋附件2 评分表＋每个项目的自评表与自评报告）。

    jixiao package DEPT.xlsx [PROJECT.xlsx …] [-o 报送材料.docx] [--pdf 报送材料.pdf] [--templates DIR]

不列项目工作簿时，取部门工作簿所在文件夹中主管部门或实施单位是本部门的项目工作簿。只读工作簿、只写 Word（与 PDF）。
另有：jixiao check DEPT.xlsx --projects [PROJECT.xlsx …] 的部门与项目之间的校验（addin/cli/check.py 调用
check_projects），Excel 功能区按钮“生成报送材料”在 addin/excel/package.py，jixiao demo 的开福区项目工作簿在 demo.py。

退出码：0 已生成，部门、项目与两者之间都没有“错误”；1 已生成，但有“错误”（含评价未完成）；2 无法读取、参数有误、
PDF 无法生成、输出被占用。
"""
from __future__ import annotations

import sys
from pathlib import Path

from .common import EXIT_FINDINGS, EXIT_OK, EXIT_UNREADABLE, CliError


def make_package(dept_path: str | Path, project_paths: list[str] | None = None, *, output: str | Path | None = None,
                 pdf: str | Path | None = None, template_dir: str | Path | None = None):
    """读取部门与项目工作簿 → 校验 → 组装 → 写出 Word（与 PDF）。返回 (Package, Word 路径)。先核对全部输出路径，有问题什么也不写。"""
    from ..io.book import BookError
    from ..io.safeio import refuse_overwrite, require_suffix
    from ..report.model import ReportError
    from ..report.pdf import write_pdf
    from ..submission.package import build_package
    from ..submission.word import package_docx_path, write_package_docx
    from ..submission.workbooks import SubmissionError, discover, open_department, open_project

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
    from ..checks.run import run_checks

    out = {pkg.dept.file: pkg.dept_findings}
    for part in pkg.projects:
        out[part.workbook.file] = run_checks(part.workbook.inputs, part.workbook.ev)
    return out


def summary_lines(pkg, target: Path, own: dict[str, list]) -> list[str]:
    """终端上的结果：各附件、部门与项目之间的校验、各工作簿的校验摘要、草稿尚缺的内容（带单元格）。"""
    from udfs.numbers import fmt_pct, fmt_score

    from ..checks import findings as F
    from ..checks.run import summary_text

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


def run(args) -> int:
    from ..checks import findings as F
    from ..report.model import ReportError

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
    s.set_defaults(func=run)


# ---------------------------------------------------------------------------------------------------------
# jixiao check DEPT.xlsx --projects [PROJECT.xlsx …]
# ---------------------------------------------------------------------------------------------------------
def check_projects(path: str | Path, inputs, ev, book, args) -> list:
    """jixiao check 的 --projects：部门与项目之间的发现（加在部门工作簿的发现里）。--projects 后列出文件时只能校验一个
    部门工作簿；不列文件时，每个部门工作簿取它旁边属于它的项目工作簿（不是部门整体自评工作簿的文件不做这项校验）。"""
    from ..submission.cross import cross_findings
    from ..submission.workbooks import SubmissionError, Workbook, discover, open_project

    dept = Workbook(inputs, ev, Path(path), book)
    explicit = list(args.projects or [])  # 列出多个部门工作簿时不能同时列出项目工作簿：由 check.run 事先拒绝
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
