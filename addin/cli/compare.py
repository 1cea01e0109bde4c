"""jixiao compare：自评与重点评价的差异分析——总分与等级、一级指标、可对应的三级指标、失分原因（种子 001 §六（二））。"""
from __future__ import annotations

from pathlib import Path
from typing import Any

from .common import EXIT_OK, CliError, load


def register(sub: Any) -> None:
    s = sub.add_parser("compare", help="自评与重点评价的差异分析（种子 001 §六（二））",
                       description="jixiao compare 自评.xlsx 重点评价.xlsx [-o 差异分析.xlsx] [--docx 差异分析.docx]；只给一个重点评价工作簿时，"
                                   "用其基础数据表中的“部门自评得分/等级”比较总分与等级。")
    s.add_argument("files", nargs="+", metavar="FILE", help="[自评工作簿] 重点评价工作簿")
    s.add_argument("-o", "--output", help="把差异分析写入新的 .xlsx（“差异分析”工作表；不修改输入的工作簿）")
    s.add_argument("--docx", help="把差异分析写成一节 Word 报告（公文格式，可放进重点评价报告的“六、（二）”）")
    s.set_defaults(func=run)


def run(args: Any) -> int:
    from ..batch.compare import analyse
    from ..batch.compare_output import write_comparison_docx, write_comparison_xlsx
    from ..io.book import BookError
    from ..scoring.engine import evaluate

    files = args.files
    if len(files) > 2:
        raise CliError("compare 最多接受两个文件：自评工作簿、重点评价工作簿")
    # 输出路径先检查，免得读完、算完才发现写不了；差异分析写入新文件，从不修改评价工作簿
    from ..io import safeio

    try:
        for opt, label, suffix in ((args.output, "-o/--output", ".xlsx"), (args.docx, "--docx", ".docx")):
            if opt:
                safeio.require_suffix(label, opt, (suffix,))
                if not Path(opt).resolve().parent.is_dir():
                    raise CliError(f"输出文件夹不存在：{Path(opt).parent}")
        safeio.refuse_overwrite(files, [("-o/--output", args.output), ("--docx", args.docx)])
    except BookError as exc:
        raise CliError(str(exc)) from None
    self_ev = None
    if len(files) == 2:
        _, self_inputs = load(files[0], with_cached=True)
        self_ev = evaluate(self_inputs)
    _, eval_inputs = load(files[-1], with_cached=True)
    eval_ev = evaluate(eval_inputs)
    comp = analyse(self_ev, eval_ev)
    print(f"{comp.unit}{comp.year}年度 评价结论与自评评价等级的差异分析")
    for p in comp.paragraphs:
        if p.heading:
            print(f"\n{p.heading}")
        print(p.text)
    if args.output:
        try:
            write_comparison_xlsx(comp, args.output)
        except BookError as exc:
            raise CliError(str(exc)) from None
        print(f"\n差异分析已写入：{args.output}")
    if args.docx:
        try:
            write_comparison_docx(comp, args.docx)
        except BookError as exc:
            raise CliError(str(exc)) from None
        print(f"差异分析（报告一节，Word）已写入：{args.docx}")
    return EXIT_OK
