"""在隐藏的 Excel 中做一件事：有时限、总会退出、任何 COM 错误都变成说明步骤与处理办法的中文消息。

``ExcelRunner.run(job)`` 在一个工作线程里启动隐藏的 Excel（xlwings App，不显示、不提示），把 ``Session`` 交给 job；
job 用 ``session.step("打开加载项")`` 标出正在做的步骤。无论 job 成功、出错还是超时，Excel 都会退出：
- job 结束（正常或异常）后在同一线程中 ``app.quit()``，退出失败则 ``app.kill()``；
- 超过时限（Excel 弹出了对话框、被安全软件拦住、宏在等待消息框……）时，主线程按进程号结束这个 Excel——
  被阻塞的 COM 调用随之失败，工作线程收尾——并报告卡在哪一步。
COM 调用只发生在工作线程中（COM 对象属于创建它的线程的套间）。
"""
from __future__ import annotations

import os
import signal
import threading
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, Callable, Iterator, TypeVar

T = TypeVar("T")

DEFAULT_TIMEOUT = 120.0  # 秒：首次启动 Python、杀毒软件扫描都可能让一次调用花上几十秒


class ExcelStepError(Exception):
    """Excel 中的某一步失败：step（中文步骤名）、reason（Excel 或本程序的说明）、remedy（处理办法）。"""

    def __init__(self, step: str, reason: str, remedy: str = ""):
        self.step, self.reason, self.remedy = step, reason, remedy
        super().__init__(self.message)

    @property
    def message(self) -> str:
        text = f"第“{self.step}”步失败：{self.reason}"
        return text + (f"\n处理办法：{self.remedy}" if self.remedy else "")


def com_message(exc: BaseException) -> str:
    """pywintypes.com_error 的说明文字：(hresult, 文本, (wcode, 来源, 说明, 帮助文件, 帮助号, scode), 参数号)。"""
    args: tuple[Any, ...] = getattr(exc, "args", ())
    if len(args) >= 3 and isinstance(args[2], tuple) and len(args[2]) >= 3 and args[2][2]:
        return str(args[2][2]).strip()
    if len(args) >= 2 and isinstance(args[1], str) and args[1]:
        return args[1].strip()
    text = str(exc).strip()
    return text or type(exc).__name__


# 各步骤失败时的一般处理办法（具体原因另行判断的，调用方可在 step() 中给出更确切的 remedy）
START_REMEDY = ("请确认本机安装了桌面版 Microsoft Excel（2010 或更新版本）并能手工打开；如果 Excel 首次启动要求激活、登录"
                "或选择文件格式，先手工打开一次处理完这些提示；任务管理器中残留的 EXCEL.EXE 请先结束。")
GENERIC_REMEDY = "请完全退出 Excel（任务管理器中没有 EXCEL.EXE）后重试；仍然失败请把以上全部文字发给技术支持。"


def timeout_remedy(seconds: float) -> str:
    return (f"这一步超过 {seconds:.0f} 秒没有完成，已强制关闭这个隐藏的 Excel。常见原因：Excel 弹出了对话框（首次启动、"
            "激活、修复文件）、安全软件（360、火绒等）拦截了 Excel 启动 Python、或电脑很慢。请手工打开一次 Excel 处理可能的"
            "提示后重试，或加 --timeout 给更长的时间。")


@dataclass
class Session:
    """一次隐藏 Excel 会话：app（xlwings App 或替身）与当前步骤。"""

    app: Any
    current: str = "启动 Excel"
    remedies: dict[str, str] = field(default_factory=dict)
    done: list[str] = field(default_factory=list)

    @contextmanager
    def step(self, name: str, remedy: str = "") -> Iterator[None]:
        self.current = name
        if remedy:
            self.remedies[name] = remedy
        yield
        self.done.append(name)


def _kill_pid(pid: int) -> None:
    try:
        os.kill(pid, signal.SIGTERM)  # Windows 上即 TerminateProcess
    except OSError:
        pass


def _start_xlwings() -> Any:
    import xlwings as xw

    return xw.App(visible=False, add_book=False)


def _com_init() -> Callable[[], None]:
    """工作线程的 COM 初始化（Windows）；返回对应的反初始化。"""
    try:
        import pythoncom
    except ImportError:
        return lambda: None
    pythoncom.CoInitialize()
    return pythoncom.CoUninitialize


@dataclass
class ExcelRunner:
    """启动隐藏 Excel 的方式（测试注入替身）、时限、按进程号结束进程的方式。"""

    start: Callable[[], Any] = _start_xlwings
    timeout: float = DEFAULT_TIMEOUT
    kill_pid: Callable[[int], None] = _kill_pid
    com_init: Callable[[], Callable[[], None]] = _com_init

    def run(self, job: Callable[[Session], T]) -> T:
        """在隐藏的 Excel 中运行 job；失败时抛出 ExcelStepError（中文），Excel 总会退出。"""
        box: dict[str, Any] = {}
        session_box: dict[str, Session] = {}

        def worker() -> None:
            uninit = self.com_init()
            app = None
            try:
                try:
                    app = self.start()
                except Exception as exc:  # noqa: BLE001 —— COM 错误、找不到 Excel……
                    raise ExcelStepError("启动 Excel", com_message(exc), START_REMEDY) from None
                session = Session(app)
                session_box["s"] = session
                box["pid"] = getattr(app, "pid", None)
                with session.step("设置隐藏的 Excel"):
                    app.display_alerts = False
                    app.screen_updating = False
                box["result"] = job(session)
            except ExcelStepError as exc:
                box["error"] = exc
            except Exception as exc:  # noqa: BLE001 —— 任何 COM 错误都以中文步骤说明结束
                s = session_box.get("s")
                step = s.current if s else "启动 Excel"
                remedy = (s.remedies.get(step) if s else None) or GENERIC_REMEDY
                box["error"] = ExcelStepError(step, com_message(exc), remedy)
            finally:
                if app is not None:
                    _quit(app)
                uninit()

        thread = threading.Thread(target=worker, name="jixiao-excel", daemon=True)
        thread.start()
        thread.join(self.timeout)
        if thread.is_alive():
            pid = box.get("pid")
            if pid:
                self.kill_pid(pid)
            thread.join(15)
            s = session_box.get("s")
            step = s.current if s else "启动 Excel"
            raise ExcelStepError(step, f"超时（{self.timeout:.0f} 秒）", timeout_remedy(self.timeout))
        if "error" in box:
            raise box["error"]
        return box.get("result")  # type: ignore[return-value]


def _quit(app: Any) -> None:
    try:
        app.quit()
        return
    except Exception:  # noqa: BLE001 —— 退出失败时强制结束
        pass
    try:
        app.kill()
    except Exception:  # noqa: BLE001
        pass
