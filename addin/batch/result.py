"""一个部门文件的处理结果（DeptResult：单位、总分、等级、各一级指标、错误与警告条数，或无法读取的原因），批量处理的各部分
之间只传递它；子进程交回主进程、结果缓存保存的是它的文字形式（encode/decode：概要与发现两段 JSON）；以及说出原因时用的
文件名与 OSError 的中文说明。
"""
from __future__ import annotations

import os
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any


@dataclass
class DeptResult:
    """一个文件的处理结果。ok=False 时只有 file 与 reason 有意义。"""

    file: str  # 相对于批量目录的路径（/ 分隔）
    ok: bool
    reason: str = ""
    unit: str = ""
    system: str = ""
    year: str = ""
    total: Decimal | None = None
    points_total: Decimal | None = None
    grade: str = ""
    unscored: int = 0  # 无法计分的指标数
    level1: list[tuple[str, Decimal | None, Decimal]] = field(default_factory=list)  # (名称, 得分, 满分)
    counts: dict[str, int] = field(default_factory=dict)  # 严重程度 → 条数
    findings: list[tuple[str, str, str, str, str]] = field(default_factory=list)  # (严重程度, 表, 单元格, 代码, 说明)
    indicators: list[tuple[str, str, Decimal | None, Decimal | None]] = field(default_factory=list)  # (一级, 指标, 分值, 得分)
    self_score: Any = None
    self_grade: str = ""
    key: str = ""  # 文件内容的 SHA-256（结果缓存的键）；没有读入内容时为空
    from_cache: bool = False  # 本次取自结果缓存，没有重新计算
    n_findings: int = 0  # 发现条数（findings 为了省内存被清空后仍可知道有多少条）

    @property
    def complete(self) -> bool:
        return self.ok and self.unscored == 0

    @property
    def errors(self) -> int:
        return self.counts.get("错误", 0)

    @property
    def warnings(self) -> int:
        return self.counts.get("警告", 0)


def _strip_name(reason: str, name: str) -> str:
    """汇总表已有“文件”列：去掉原因开头重复的“无法读取工作簿“文件名”：”。"""
    for prefix in (f"无法读取工作簿“{name}”：", f"无法读取工作簿“{name}”的", f"文件“{name}”的"):
        if reason.startswith(prefix):
            return reason[len(prefix):]
    return reason.replace(f"文件“{name}”", "该文件", 1).replace(f"工作簿“{name}”", "该工作簿", 1)


def _relative(path: str, root: str) -> str:
    # 快路径：批量处理交来的路径都是 root 下规范的路径（没有 //、.、..，不以 / 结尾），直接截取，
    # 结果与 Path.relative_to 相同（每个文件省下三次 Path 解析）；其余情形照旧
    if root and path.startswith(root) and path[len(root):len(root) + 1] == os.sep and os.path.normpath(path) == path \
            and os.path.normpath(root) == root:
        rest = path[len(root) + 1:]
        return rest if os.sep == "/" else rest.replace(os.sep, "/")
    p = Path(path)
    if root:
        try:
            return p.relative_to(root).as_posix()
        except ValueError:
            pass
    return p.name


def _oserror_text(exc: OSError) -> str:
    """常见的文件系统错误 → 中文（strerror 是英文）。"""
    import errno

    return {errno.EACCES: "没有读取权限", errno.EPERM: "没有读取权限", errno.ENOENT: "不存在（可能已被移走或删除）",
            errno.ELOOP: "是循环的符号链接（链接最终又指向自己）", errno.ENAMETOOLONG: "路径过长",
            errno.EIO: "读取时发生输入输出错误（磁盘或网络盘故障）"}.get(exc.errno or 0, exc.strerror or str(exc))


# =====================================================================================================
# 结果的文字形式：子进程交回主进程、结果缓存保存的都是这两段 JSON（不用 pickle：缓存文件夹可能在共享盘上，
# 别人放进去的内容只能是数据，不能是可执行的对象）
# =====================================================================================================


def encode(res: DeptResult) -> tuple[str, str]:
    """结果 → (概要, 发现)。概要是汇总需要的一切（不含发现，只记条数）；发现只在写“校验发现”表时读回。
    金额与分数按 Decimal 的文字保存（default 只接受 Decimal），读回后完全相同。"""
    import json

    head = [res.ok, res.reason, res.unit, res.system, res.year, res.total, res.points_total, res.grade, res.unscored,
            res.level1, res.counts, res.indicators, res.self_score, res.self_grade, max(res.n_findings, len(res.findings))]
    return (json.dumps(head, ensure_ascii=False, default=_decimal_text),
            json.dumps(res.findings, ensure_ascii=False, default=_decimal_text))


def _decimal_text(x: Any) -> str:
    if isinstance(x, Decimal):
        return str(x)
    raise TypeError(f"结果中有不能保存的值：{type(x).__name__}")


def decode(head: str, file: str, key: str, *, from_cache: bool = False) -> DeptResult:
    """encode 的概要 → 结果（findings 为空，n_findings 为条数；发现用 decode_findings 另取）。"""
    import json

    D = Decimal
    (ok, reason, unit, system, year, total, points_total, grade, unscored, level1, counts, indicators, self_score,
     self_grade, n_findings) = json.loads(head)
    return DeptResult(
        file=file, ok=ok, reason=reason, unit=unit, system=system, year=year,
        total=None if total is None else D(total), points_total=None if points_total is None else D(points_total),
        grade=grade, unscored=unscored, level1=[(n, None if a is None else D(a), D(b)) for n, a, b in level1],
        counts=counts, indicators=[(a, b, None if c is None else D(c), None if d is None else D(d))
                                   for a, b, c, d in indicators],
        self_score=None if self_score is None else D(self_score), self_grade=self_grade, key=key,
        from_cache=from_cache, n_findings=n_findings)


def decode_findings(text: str) -> list[tuple[str, str, str, str, str]]:
    """encode 的发现 → [(严重程度, 表, 单元格, 代码, 说明)]。不是这个形状时 ValueError（缓存被改坏时不写出半截的行）。"""
    import json

    out = [tuple(f) for f in json.loads(text)]
    if any(len(f) != 5 for f in out):
        raise ValueError("发现的格式不对")
    return out
