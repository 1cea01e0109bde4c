"""jixiao check：校验工作簿；jixiao demo 之后也由它为每个示例工作簿打印一行校验摘要（demo_summary）。

默认只读：校验结果打印到终端，不改动文件。加 --write 才把“校验结果”工作表写入工作簿（整表替换；只改这张表与引用它的
条目，其他部件逐字节不变，见 addin/io/splice.py）；加 -o 则写入另存的新文件。默认不写的理由：校验常在提交前、
批处理或持续集成里对一批文件反复运行，不应每次都改写用户的文件（每次写入还会留一份备份）；Excel 中的“校验”按钮则总是写入。
"""
from __future__ import annotations

import json
import sys
from pathlib import Path

from .common import EXIT_FINDINGS, EXIT_OK, EXIT_UNREADABLE, CliError, load


def run(args) -> int:
    """校验一个或多个工作簿（`jixiao check demo_out/*.xlsx`）。退出码取最严重的一个：有文件无法读取 → 2；
    否则有“错误” → 1；否则 0。无法读取的文件给出中文说明后继续校验其余文件。"""
    from ..io.book import BookError
    from ..io.filecheck import WORKBOOK_SUFFIXES
    from ..io.safeio import refuse_overwrite, require_suffix

    if args.output:
        if len(args.file) != 1:
            raise CliError("-o/--output 只能用于一个工作簿（多个工作簿请用 --write 分别写回）")
        args.write = True
        try:
            require_suffix("-o/--output", args.output, WORKBOOK_SUFFIXES)
            refuse_overwrite(args.file, [("-o/--output", args.output)])
        except BookError as exc:
            raise CliError(str(exc)) from None
    if getattr(args, "projects", None) and len(args.file) > 1:
        raise CliError("--projects 后列出项目工作簿时只能校验一个部门工作簿（只写 --projects 不列文件时，每个部门工作簿各取它旁边的"
                       "项目工作簿）")
    results = []
    worst = EXIT_OK
    for path in args.file:
        try:
            rc, result = _check_one(path, args)
        except CliError as exc:
            print(f"jixiao：{exc}", file=sys.stderr)
            rc, result = EXIT_UNREADABLE, {"file": str(path), "error": str(exc)}
        results.append(result)
        worst = max(worst, rc)
    if args.json:
        # 一个文件输出一个对象（与以前相同）；多个文件输出对象数组，无法读取的文件为 {"file", "error"}
        payload = results[0] if len(results) == 1 else results
        if len(results) == 1 and "error" in payload:
            return worst  # 单个文件无法读取：只有 stderr 上的中文说明，stdout 不输出半截 JSON
        print(json.dumps(payload, ensure_ascii=False, indent=2, default=str))  # “实际”可能是日期等原值：按文本输出
    return worst


def _check_one(path: str, args) -> tuple[int, dict]:
    from ..io.book import BookError
    from ..io.locks import write_lock

    if not (args.write and not args.output) or not Path(path).is_file():
        return _check_and_write(path, args)  # 只读，或文件不存在（由读取给出说明）
    try:
        # 写回原文件：从读取到写回一直持有写入锁，同时运行的另一个 jixiao（如 report）的结果不会被冲掉
        with write_lock(path):
            return _check_and_write(path, args)
    except BookError as exc:
        raise CliError(str(exc)) from None


def _check_and_write(path: str, args) -> tuple[int, dict]:
    from ..checks.run import run_checks, summary, summary_text
    from ..checks.sheet import write_findings_sheet
    from ..scoring.engine import evaluate

    book, inputs = load(path, with_cached=True)  # 带公式的保存结果，用于核对小计、总分与等级
    try:
        ev = evaluate(inputs)
        findings = run_checks(inputs, ev)
    except Exception as exc:  # 检查自身的缺陷不应以回溯的形式出现在用户面前：说明是哪个文件、什么异常
        raise CliError(f"校验“{Path(path).name}”时出现内部错误（{type(exc).__name__}: {str(exc)[:200]}），"
                       f"请把该文件与此说明发给维护者") from None
    if getattr(args, "projects", None) is not None:  # 部门与项目之间的校验（addin.submission）
        from ..checks import findings as F
        from .package import check_projects

        findings = F.sort_findings(findings + check_projects(path, inputs, ev, book, args))
    counts = summary(findings)
    if not args.json:
        print(f"{Path(path).name}  {ev.unit_name}  {summary_text(findings)}")
        for f in findings:
            where = f"{f.sheet}!{f.cell}" if f.cell else f.sheet
            print(f"  {f.severity}  {where}  {f.message}")
    if args.write:
        write_findings_sheet(book, findings)
        _save(book, args.output)
        if not args.json:
            print(f"已写入“校验结果”工作表：{args.output or path}")
    result = {"file": str(path), "unit": ev.unit_name, "system": ev.system_key,
              "summary": {"errors": counts["错误"], "warnings": counts["警告"], "infos": counts["提示"]},
              "findings": [f.as_dict() for f in findings]}
    return (EXIT_FINDINGS if counts["错误"] else EXIT_OK), result


def _save(book, output: str | None = None) -> None:
    from ..io.book import BookError

    if book.cached_wb is not None:
        book.cached_wb.close()  # 只读取缓存值的第二个工作簿对象不再需要
    from ..io.safeio import save_book

    try:
        # 原文件 + 拼接的“校验结果”表，核对后原子替换，覆盖前备份；文件在 Excel 中打开、读取后被改过时拒绝写入
        save_book(book, output)
    except BookError as exc:
        raise CliError(str(exc)) from None


def register(subparsers) -> None:
    s = subparsers.add_parser(
        "check", help="校验工作簿：基础数据表合计、评分表得分与小计、单位、报告所列数字（有错误时退出码为 1）",
        description="校验工作簿并列出每一处问题（工作表、单元格、中文说明）。退出码：0 无错误；1 有“错误”；"
                    "2 有文件无法读取（多个文件时取最严重的一个）。")
    s.add_argument("file", nargs="+", help="要校验的 .xlsx 工作簿（可以多个，如 demo_out/*.xlsx）")
    s.add_argument("--json", action="store_true", help="以 JSON 输出")
    s.add_argument("--write", action="store_true",
                   help="把“校验结果”工作表写入工作簿（整表替换，不改动其他工作表；默认只输出、不改文件）")
    s.add_argument("-o", "--output", help="把写入“校验结果”表的工作簿另存为此文件（只用于一个工作簿；原文件不改动）")
    s.add_argument("--projects", nargs="*", metavar="PROJECT.xlsx",
                   help="部门与项目之间的校验：部门工作簿与这些项目支出绩效自评工作簿对照（资金、单位、年度、重复、评价完成）；"
                        "只写 --projects 不列文件时，取部门工作簿旁属于本部门的项目工作簿。放在命令最后")
    s.set_defaults(func=run)


def demo_summary(out_dir: Path) -> None:
    """jixiao demo 的附加步骤：每个示例工作簿一行校验摘要。"""
    from workbook_templates.examples import EXAMPLES

    from ..checks.run import run_checks, summary_text
    from ..scoring.reader import load

    for name in EXAMPLES:
        path = Path(out_dir) / f"{name}.xlsx"
        if not path.exists():
            continue
        _, inputs = load(path, with_cached=True)
        print(f"校验 {path.name}：{summary_text(run_checks(inputs))}")
