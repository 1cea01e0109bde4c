"""命令行外壳：退出码与输出管道。"""
from __future__ import annotations

import subprocess
import sys


def test_closed_pipe_is_not_a_traceback(demo_dir):
    # jixiao score --json | head -c 20：读端提前关闭，不应出现 BrokenPipeError 回溯
    proc = subprocess.Popen([sys.executable, "-m", "addin.cli", "score", "--json", str(demo_dir / "zizhou-2021.xlsx")],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    assert proc.stdout.read(20).startswith(b"{")
    proc.stdout.close()
    err = proc.stderr.read().decode()
    assert proc.wait(timeout=60) == 0
    assert "Traceback" not in err and "BrokenPipe" not in err


def test_unknown_file_is_a_chinese_message(tmp_path):
    proc = subprocess.run([sys.executable, "-m", "addin.cli", "score", str(tmp_path / "无此文件.xlsx")],
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode == 2
    assert proc.stderr.startswith("jixiao：") and "无此文件.xlsx" in proc.stderr and "Traceback" not in proc.stderr
