"""结果缓存：按文件内容（SHA-256）保存每个工作簿的结果（汇总.xlsx.jixiao-cache/）；中断后再运行，处理过的文件不再计算。
jixiao 的版本、规则、校验与报告模板的源码一变（rules_fingerprint），旧缓存即不再使用。

存放：每个指纹一个 SQLite 数据库（标准库 sqlite3），只由主进程写入，几百个结果或约 1 秒提交一次事务，结束与中断时
（Ctrl+C、调用方不再要结果）也提交。所以被强行结束时最多丢掉最后一批未提交的结果，再运行从已提交的接着做；
数据库本身靠 SQLite 的日志保持完整，两个批量处理同时用同一个缓存文件夹时由它的文件锁排队。原来每个结果一个 JSON 文件
（临时文件 + 改名），写一个要 1～2 毫秒，比读一个工作簿还贵。
--no-cache 用同一种库放在临时文件夹里（temporary=True，结束即删）：写“校验发现”表时从中逐个读回，不必把全部发现留在内存。
"""
from __future__ import annotations

import os
import sqlite3
import time
from pathlib import Path

from ..io.book import BookError
from .result import DeptResult, _oserror_text, decode, decode_findings, encode

CACHE_SUFFIX = ".jixiao-cache"  # 结果缓存文件夹：汇总文件名 + 此后缀（汇总.xlsx.jixiao-cache/）
DB_NAME = "results.sqlite3"
COMMIT_EVERY = 500  # 个结果
COMMIT_SECONDS = 1.0
RETRY_SECONDS = 30.0  # 提交失败（磁盘满、被长时间锁住）后，隔这么久再试；其间结果留在内存里，不会丢
BUSY_SECONDS = 10.0  # 另一个批量处理正在提交时最多等这么久（它的一次提交只要几毫秒）
_SCHEMA = "CREATE TABLE IF NOT EXISTS result (key TEXT PRIMARY KEY, head TEXT NOT NULL, findings TEXT NOT NULL)"
_FORMAT = 1  # PRAGMA user_version：库的格式


def rules_fingerprint() -> str:
    """jixiao 的版本与全部规则、校验、报告模板源码的指纹：任何一处改动，旧缓存都不再使用。"""
    import hashlib
    from importlib import metadata

    h = hashlib.sha256()
    try:
        h.update(metadata.version("jixiao").encode())
    except metadata.PackageNotFoundError:
        h.update(b"dev")
    pkg_root = Path(__file__).resolve().parents[2]
    for pkg in ("addin", "udfs", "workbook_templates"):
        for f in sorted((pkg_root / pkg).rglob("*")):
            if f.suffix in (".py", ".j2") and f.is_file():
                h.update(f.relative_to(pkg_root).as_posix().encode())
                h.update(f.read_bytes())
    return h.hexdigest()[:16]


_CACHE_README = """这个文件夹是 jixiao batch 的结果缓存（可以删除）。

每个工作簿按文件内容（SHA-256）保存一份计分、校验结果。批量处理被中断（关机、Ctrl+C）后再运行同一命令，
内容没有变化的工作簿直接取用这里的结果，不再计算；改过的工作簿按新内容重新计算。jixiao 升级或规则改动后，
旧的结果自动作废并删除。不想使用缓存时加 --no-cache。
"""


class ResultCache:
    """root/<规则指纹>/results.sqlite3：一行一个文件内容（键），存 encode 的概要与发现。

    写入先进内存（_pending），commit 时一个事务写进库；提交失败时结果留在内存，稍后再试，读取时两处都查，
    所以本次运行的结果总能读回。notice 非空时是给用户的提示（缓存损坏已重建）。"""

    def __init__(self, root: str | Path, fingerprint: str | None = None, *, temporary: bool = False):
        self.root = Path(root)
        self.fingerprint = fingerprint or rules_fingerprint()
        self.dir = self.root / self.fingerprint
        self.path = self.dir / DB_NAME
        self.temporary = temporary
        self.notice = ""
        self._pending: dict[str, tuple[str, str]] = {}
        self._known: set[str] = set()  # 库里已提交的键（打开时读出，此后本进程提交的）
        self._last_commit = time.monotonic()
        self._retry_at = 0.0
        try:
            self.dir.mkdir(parents=True, exist_ok=True)
            if not temporary:
                (self.root / "说明.txt").write_text(_CACHE_README, encoding="utf-8")
        except OSError as exc:
            raise self._unusable(_oserror_text(exc)) from None
        for old in self.root.iterdir():  # 旧版本、旧规则的结果作废
            if old.is_dir() and old.name != self.fingerprint:
                import shutil

                shutil.rmtree(old, ignore_errors=True)
        self._db = self._open()

    def _unusable(self, why: str) -> BookError:
        return BookError(f"无法建立结果缓存文件夹“{self.root}”：{why}（可加 --no-cache 不用缓存）")

    def _open(self) -> sqlite3.Connection:
        """打开（或新建）库并读出已有的键。库已损坏（断电时正在写、被别的程序改过、根本不是 SQLite 文件）时删掉重建，
        记下提示：缓存只是加速，重建只意味着这次要重新计算。"""
        try:
            return self._connect()
        except sqlite3.DatabaseError as exc:
            if not _is_corrupt(exc):
                raise self._unusable(f"结果缓存库无法打开（{exc}）") from None
        for suffix in ("", "-journal"):
            try:
                os.unlink(f"{self.path}{suffix}")
            except FileNotFoundError:
                pass
            except OSError as exc:
                raise self._unusable(f"结果缓存库已损坏，且无法删除（{_oserror_text(exc)}）") from None
        self.notice = (f"结果缓存“{self.path}”已损坏（可能是写入时断电，或被其他程序改动），已删除并重建；"
                       "这次所有文件都重新计算")
        try:
            return self._connect()
        except sqlite3.DatabaseError as exc:
            raise self._unusable(f"结果缓存库无法重建（{exc}）") from None

    def _connect(self) -> sqlite3.Connection:
        # isolation_level=None：事务只由 commit() 明确开始与结束，读取从不开启写事务
        db = sqlite3.connect(self.path, timeout=BUSY_SECONDS, isolation_level=None)
        try:
            if self.temporary:  # 临时库用完即删，不必为断电保持完整
                db.execute("PRAGMA journal_mode=MEMORY")
                db.execute("PRAGMA synchronous=OFF")
            version = db.execute("PRAGMA user_version").fetchone()[0]
            if version not in (0, _FORMAT):
                raise sqlite3.DatabaseError("file is not a database of this format")
            if version == 0:
                db.execute("BEGIN IMMEDIATE")
                db.execute(_SCHEMA)
                db.execute(f"PRAGMA user_version={_FORMAT}")
                db.execute("COMMIT")
            if not self.temporary and db.execute("PRAGMA quick_check").fetchone()[0] != "ok":
                raise sqlite3.DatabaseError("database disk image is malformed")
            self._known = {k for (k,) in db.execute("SELECT key FROM result")}
        except BaseException:
            db.close()
            raise
        return db

    # ------------------------------------------------------------------ 读
    def keys(self) -> frozenset[str]:
        """库里已有结果的键（子进程在进程池启动时拿到它，内容已知的文件只交回“命中”）。"""
        return frozenset(self._known)

    def has(self, key: str) -> bool:
        return key in self._pending or key in self._known

    def row(self, key: str) -> tuple[str, str] | None:
        """(概要, 发现) 两段文字，没有时为 None。"""
        row = self._pending.get(key)
        if row is not None:
            return row
        try:
            got = self._db.execute("SELECT head, findings FROM result WHERE key = ?", (key,)).fetchone()
        except sqlite3.Error:
            return None  # 读不了的条目：当作没有，重新计算
        return None if got is None else (got[0], got[1])

    def get(self, key: str, rel: str) -> DeptResult | None:
        row = self.row(key)
        if row is None:
            return None
        try:
            res = decode(row[0], rel, key, from_cache=True)
            res.findings = decode_findings(row[1])
        except (ValueError, TypeError, ArithmeticError):
            return None  # 损坏的条目：重新计算
        return res

    def findings(self, res: DeptResult) -> list[tuple[str, str, str, str, str]]:
        """写“校验发现”表时取一个单位的发现。本次运行的结果一定在库里或内存里；读不回来时报错而不是少写几行。"""
        if res.findings or not res.n_findings:
            return res.findings
        row = self.row(res.key)
        try:
            if row is not None:
                return decode_findings(row[1])
        except (ValueError, TypeError):
            pass
        raise BookError(f"结果缓存“{self.path}”中“{res.file}”的校验发现读不出来（缓存可能被其他程序改动）。"
                        "请删除该缓存文件夹后重新运行，或加 --no-cache")

    # ------------------------------------------------------------------ 写
    def put(self, res: DeptResult) -> None:
        if res.key:
            self.add(res.key, *encode(res))

    def add(self, key: str, head: str, findings: str) -> None:
        """记下一个结果（encode 的两段文字）；攒够一批或过了约 1 秒就提交。"""
        self._pending[key] = (head, findings)
        if len(self._pending) >= COMMIT_EVERY or time.monotonic() - self._last_commit >= COMMIT_SECONDS:
            self.commit()

    def commit(self) -> bool:
        """把内存里的结果一个事务写进库。失败（磁盘满、另一个程序长时间锁着库、缓存文件夹被删）时结果留在内存，
        RETRY_SECONDS 后再试——缓存只是加速，照常汇总。Ctrl+C 打断时事务回滚，下次提交（结束时总有一次）再写。"""
        self._last_commit = now = time.monotonic()
        if not self._pending or now < self._retry_at:
            return not self._pending
        db = self._db
        try:
            db.execute("BEGIN IMMEDIATE")
            try:
                db.executemany("INSERT OR REPLACE INTO result (key, head, findings) VALUES (?, ?, ?)",
                               [(k, h, f) for k, (h, f) in self._pending.items()])
                db.execute("COMMIT")
            except BaseException:
                if db.in_transaction:
                    db.execute("ROLLBACK")
                raise
        except sqlite3.Error:
            self._retry_at = now + RETRY_SECONDS
            return False
        self._known.update(self._pending)
        self._pending.clear()
        return True

    def close(self) -> None:
        """提交剩下的结果并关闭；临时库连同文件夹删除。"""
        if not self.temporary:
            self._retry_at = 0.0
            self.commit()
        self._db.close()
        if self.temporary:
            import shutil

            shutil.rmtree(self.root, ignore_errors=True)


def _is_corrupt(exc: sqlite3.DatabaseError) -> bool:
    """库文件本身坏了（可以删掉重建），而不是打不开、被锁住、没有权限（那些删了也没用，或会毁掉别人的库）。"""
    name = getattr(exc, "sqlite_errorname", "")
    if name:
        return name.startswith(("SQLITE_CORRUPT", "SQLITE_NOTADB", "SQLITE_FORMAT"))
    text = str(exc)
    return "malformed" in text or "not a database" in text
