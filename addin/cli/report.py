"""jixiao report：由工作簿生成“报告”工作表、Word（公文格式）与 PDF。

    jixiao report FILE.xlsx [-o OUT.xlsx] [--docx OUT.docx] [--pdf OUT.pdf] [--review 审核意见.docx] [--templates DIR]

只替换“报告”工作表，其他工作表（用户输入）不动；默认写回原文件。报告是评价人的文件：校验发现不写进报告，
打印在终端并可另出审核意见（--review）。评分不完整或缺少必需的材料时报告是草稿，终端列出尚缺的内容与单元格。
退出码与其他命令相同：0 正常；1 工作簿有“错误”级发现（报告照常生成）；2 文件无法读取、参数有误或 PDF 无法生成。
"""
from __future__ import annotations

import contextlib
import sys
import tempfile
from pathlib import Path

from .common import EXIT_FINDINGS, EXIT_OK, EXIT_UNREADABLE, CliError, print_notices


def _all_findings(inputs, ev):
    """完整的校验发现（含计分引擎的发现）。文字材料缺项不在这里查：生成报告时 build_report 本身就会发现它们，
    再查一遍等于把报告多生成一次。"""
    from ..checks.run import CHECKS, run_checks
    from ..checks.texts import check_report_texts

    return run_checks(inputs, ev, checks=[c for c in CHECKS if c is not check_report_texts])


def _save(book, path: Path | None, *, backup: bool) -> None:
    from ..io.safeio import save_book

    save_book(book, path, backup=backup)


def make_report(path: str | Path, *, output: str | Path | None = None, docx: str | Path | None = None,
                pdf: str | Path | None = None, template_dir: str | Path | None = None, backup: bool = True,
                review: str | Path | None = None):
    """读取工作簿 → 计分 → 校验 → 生成报告；写入“报告”表（output 或原文件；覆盖时先留备份），按需写 Word/PDF
    与审核意见（review）。返回 (report, findings)；findings 含报告自身的发现（文字材料缺项）。

    开始之前先核对全部输出路径（扩展名对得上、不是输入的工作簿、彼此不同），有问题什么也不写。写回原文件时，从读取到
    写回一直持有该文件的 jixiao 写入锁：同时运行的另一个 jixiao（如 check --write）等这次写完再读，两次的结果都保留。"""
    from ..checks import findings as F
    from ..io.book import BookError
    from ..io.filecheck import WORKBOOK_SUFFIXES
    from ..io.locks import write_lock
    from ..io.safeio import refuse_overwrite, require_suffix
    from ..report.sections import build_report
    from ..report.sheet import write_report_sheet
    from ..scoring.engine import evaluate
    from ..scoring.reader import ReadError, load_readable

    if template_dir is not None and not Path(template_dir).is_dir():
        from ..report.model import ReportError

        raise ReportError(f"报告模板目录不存在：{template_dir}")
    try:
        if output:
            require_suffix("-o/--output（写入报告表的工作簿）", output, WORKBOOK_SUFFIXES)
        if docx:
            require_suffix("--docx（Word 报告）", docx, (".docx",))
        if pdf:
            require_suffix("--pdf", pdf, (".pdf",))
        if review:
            require_suffix("--review（审核意见）", review, (".docx",))
        refuse_overwrite([path], [("-o/--output", output), ("--docx", docx), ("--pdf", pdf), ("--review", review)])
        # 文件不存在、是文件夹等由读取给出说明（不必先建锁文件）
        with write_lock(path) if output is None and Path(path).is_file() else contextlib.nullcontext():
            try:
                # 带上文件中保存的计算结果：文字材料、单位名称等若是公式，报告用其结果
                book, inputs = load_readable(path, with_cached=True)
            except ReadError as exc:
                raise CliError(str(exc)) from None
            print_notices(book)  # safeio：含宏（不运行，逐字节保留）、文件正在 Excel 中打开等
            ev = evaluate(inputs)
            findings = _all_findings(inputs, ev)
            report = build_report(inputs, ev, findings, template_dir=template_dir)
            write_report_sheet(book, report)
            _save(book, Path(output) if output else None, backup=backup)
    except BookError as exc:
        raise CliError(str(exc)) from None
    if docx or pdf:
        from ..report.pdf import write_pdf  # 只在要写 Word/PDF 时才导入 python-docx
        from ..report.word import write_docx

        docx_path = Path(docx) if docx else None
        with tempfile.TemporaryDirectory(prefix="jixiao-report-") as tmp:
            target = docx_path or Path(tmp) / (Path(path).stem + ".docx")
            write_docx(report, target)
            if pdf:
                write_pdf(target, pdf)
    findings = F.sort_findings(list(findings) + [f for f in report.findings if f not in findings])
    if review:
        from ..report.review import write_review

        write_review(report, ev, findings, review)
    return report, findings


def status_lines(report, findings) -> list[str]:
    """终端上的报告状态：定稿（总分、等级），或草稿及尚缺的每一项（在哪个单元格补）；没写依据的扣分。"""
    from udfs.numbers import fmt_score

    from ..checks import findings as F

    out = []
    if report.draft:
        out.append(f"报告为草稿（每页页眉标“草稿”{'，不写总分与等级' if not report.complete else ''}），"
                   f"尚缺 {len(report.missing)} 项，补齐后重新生成即为定稿：")
        for m in report.missing:
            what = m.what if m.kind == "indicator" else f"{m.what}：未填写或无法识别"
            if m.cell:
                out.append(f"  {what}（{m.sheet}!{m.cell}）")
            elif m.key:  # 此前生成的工作簿没有这一行
                out.append(f"  {what}（“{m.sheet}”表没有这一项：新增一行，A 列填代码 {m.key}，C 列填内容）")
            else:
                out.append(f"  {what}")
    else:
        out.append(f"报告为定稿：总分 {fmt_score(report.total)} 分，等级 {report.grade}，成文日期 {report.date}")
    evidence = [f for f in findings if f.code == "missing-evidence"]
    if evidence:
        out.append(f"警告：{len(evidence)} 项扣分没有写明依据，报告中只写出得分：" +
                   "、".join(f"{f.sheet}!{f.cell}" for f in evidence))
    errors = [f for f in findings if f.severity == F.ERROR]
    if errors:
        out.append(f"注意：校验发现 {len(errors)} 项错误（报告正文不写校验结果）；运行 jixiao check 或用 --review 另出审核意见查看")
    return out


def run(args) -> int:
    from ..checks import findings as F
    from ..report.model import ReportError

    try:
        report, findings = make_report(args.file, output=args.output, docx=args.docx, pdf=args.pdf,
                                       template_dir=args.templates, review=args.review)
    except ReportError as exc:
        print(f"jixiao：{exc}", file=sys.stderr)
        return EXIT_UNREADABLE
    print(f"已写入“报告”工作表：{args.output or args.file}")
    if args.docx:
        print(f"已生成 Word 报告：{args.docx}")
    if args.pdf:
        print(f"已生成 PDF：{args.pdf}")
        from ..report.word import find_cjk_font

        if find_cjk_font() is None:  # LibreOffice 找不到中文字体时照样生成 PDF，只是汉字全成了方框
            print("提示：本机未找到中文字体，PDF 中的汉字可能显示为方框；Debian/Ubuntu 可安装 fonts-wqy-zenhei"
                  "（sudo apt-get install -y fonts-wqy-zenhei）后重新生成", file=sys.stderr)
    if args.review:
        print(f"已生成审核意见：{args.review}")
    for line in status_lines(report, findings):
        print(line)
    return EXIT_FINDINGS if any(f.severity == F.ERROR for f in findings) else EXIT_OK


def register(subparsers) -> None:
    s = subparsers.add_parser("report", help="生成报告：写入“报告”工作表，可另存 Word（公文格式）与 PDF")
    s.add_argument("file", help="绩效评价工作簿（.xlsx）")
    s.add_argument("-o", "--output", help="写入“报告”表后另存为此文件（默认写回原文件）")
    s.add_argument("--docx", help="生成 Word 报告（党政机关公文格式）")
    s.add_argument("--pdf", help="生成 PDF（需要 LibreOffice）")
    s.add_argument("--review", help="另出审核意见（Word，内部审核用）：报告状态、尚缺的内容与单元格、校验发现")
    s.add_argument("--templates", help="报告文字模板目录（覆盖 workbook_templates/text 中的同名模板）")
    s.set_defaults(func=run)


def demo_reports(out_dir: Path) -> None:
    """jixiao demo 的附加步骤：为每个示例工作簿写入“报告”表，并在旁边生成同名 .docx。"""
    from workbook_templates.examples import EXAMPLES

    for name in EXAMPLES:
        xlsx = Path(out_dir) / f"{name}.xlsx"
        if not xlsx.is_file():
            continue
        docx = xlsx.with_suffix(".docx")
        report, _ = make_report(xlsx, docx=docx, backup=False)  # 示例文件刚生成，不必备份
        status = f"（草稿，尚缺 {len(report.missing)} 项）" if report.draft else f"（定稿，{report.date}）"
        print(f"{docx}  报告：{report.title}{status}")
