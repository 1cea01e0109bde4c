"""一个部门文件的处理结果（DeptResult：单位、总分、等级、各一级指标、错误与警告条数，或无法读取的原因），批量处理的各部分
之间只传递它（可 pickle，子进程返回的就是它）；以及说出原因时用的文件名与 OSError 的中文说明。
"""
from __future__ import annotations

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
