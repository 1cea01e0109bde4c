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


def test_a_workbook_that_fails_in_an_unexpected_way_is_a_chinese_message_in_every_command(demo_dir, monkeypatch, capsys):
    """读取时任何异常（损坏或不是 jixiao 生成的工作簿）：score、report、check 与 package 都以中文说明、退出码 2 结束，
    说明中有文件名与异常类型，没有回溯（一处 load_readable，各命令共用）。"""
    from addin.cli.main import main
    from addin.scoring import reader

    def broken(book):
        raise KeyError("sheet1.xml")

    monkeypatch.setattr(reader, "read_inputs", broken)
    path = str(demo_dir / "baojing-2018.xlsx")
    for argv in (["score", path], ["check", path], ["report", path, "-o", "/nonexistent/x.xlsx"], ["package", path]):
        assert main(argv) == 2, argv
        err = capsys.readouterr().err
        assert err.startswith("jixiao：") and "无法读取工作簿“baojing-2018.xlsx”：KeyError" in err, (argv, err)
    assert main(["score", str(demo_dir)]) == 2
    assert "是文件夹" in capsys.readouterr().err
