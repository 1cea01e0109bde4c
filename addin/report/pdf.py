"""Word 报告转 PDF：调用 LibreOffice（soffice --headless --convert-to pdf）。

Linux 安装：sudo apt-get install -y --no-install-recommends libreoffice-writer fonts-wqy-zenhei
（没有中文字体时 PDF 中的汉字会显示为方框）。Windows 上也可以直接在 Word 中“另存为 PDF”。
"""
from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from pathlib import Path

from .model import ReportError

MISSING_MESSAGE = ("未找到 LibreOffice，无法生成 PDF。请安装 LibreOffice（Debian/Ubuntu："
                   "sudo apt-get install -y --no-install-recommends libreoffice-writer fonts-wqy-zenhei），"
                   "或在 Word 中打开生成的 .docx 后“另存为 PDF”。")

_WINDOWS_PATHS = (r"C:\Program Files\LibreOffice\program\soffice.exe",
                  r"C:\Program Files (x86)\LibreOffice\program\soffice.exe")
_MAC_PATH = "/Applications/LibreOffice.app/Contents/MacOS/soffice"


def find_soffice() -> str | None:
    """LibreOffice 可执行文件：环境变量 JIXIAO_SOFFICE，PATH 中的 libreoffice/soffice，Windows/macOS 默认安装位置。"""
    env = os.environ.get("JIXIAO_SOFFICE")
    if env:
        return env if Path(env).is_file() else None
    for name in ("libreoffice", "soffice"):
        found = shutil.which(name)
        if found:
            return found
    for p in (*_WINDOWS_PATHS, _MAC_PATH):
        if Path(p).is_file():
            return p
    return None


def write_pdf(docx_path: str | Path, pdf_path: str | Path, *, timeout: int = 300) -> Path:
    """把 .docx 转为 PDF。LibreOffice 未安装或转换失败时抛出 ReportError（中文说明）。"""
    docx_path, pdf_path = Path(docx_path), Path(pdf_path)
    if not docx_path.is_file():
        raise ReportError(f"找不到 Word 文件：{docx_path}")
    exe = find_soffice()
    if exe is None:
        raise ReportError(MISSING_MESSAGE)
    with tempfile.TemporaryDirectory(prefix="jixiao-pdf-") as tmp:
        tmpdir = Path(tmp)
        # 独立的用户配置目录：不与正在运行的 LibreOffice 抢锁，也不改用户的配置
        profile = (tmpdir / "profile").resolve().as_uri()
        cmd = [exe, f"-env:UserInstallation={profile}", "--headless", "--norestore", "--nologo",
               "--convert-to", "pdf", "--outdir", str(tmpdir), str(docx_path.resolve())]
        try:
            proc = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)
        except subprocess.TimeoutExpired:
            raise ReportError(f"LibreOffice 转换“{docx_path.name}”超过 {timeout} 秒未完成") from None
        except OSError as exc:
            raise ReportError(f"无法运行 LibreOffice（{exe}）：{exc}") from None
        produced = tmpdir / (docx_path.stem + ".pdf")
        if not produced.is_file():
            detail = (proc.stderr or proc.stdout or "").strip().splitlines()
            raise ReportError(f"LibreOffice 未能把“{docx_path.name}”转为 PDF" + (f"：{detail[-1][:200]}" if detail else ""))
        pdf_path.parent.mkdir(parents=True, exist_ok=True)
        from ..io.book import BookError
        from ..io.safeio import atomic_output

        try:
            # 转换结果在临时目录（可能在另一个文件系统）：先复制到目标旁的临时文件再原子替换；PDF 打开着时拒绝。
            # 不留备份：PDF 总是由 Word 报告重新生成，其中没有只存在于 PDF 里的内容
            with atomic_output(pdf_path) as tmp:
                shutil.copyfile(produced, tmp)
        except BookError as exc:
            raise ReportError(str(exc)) from None
    return pdf_path
