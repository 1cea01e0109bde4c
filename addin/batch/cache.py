"""结果缓存：按文件内容（SHA-256）保存每个工作簿的结果（汇总.xlsx.jixiao-cache/）；中断后再运行，处理过的文件不再计算。
jixiao 的版本、规则、校验与报告模板的源码一变（rules_fingerprint），旧缓存即不再使用。
"""
from __future__ import annotations

import os
from decimal import Decimal
from pathlib import Path
from typing import Any

from ..io.book import BookError
from .result import DeptResult, _oserror_text

CACHE_SUFFIX = ".jixiao-cache"  # 结果缓存文件夹：汇总文件名 + 此后缀（汇总.xlsx.jixiao-cache/）


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
    """root/<规则指纹>/<键的前两位>/<键>.json。写入先写临时文件再改名：中断时不会留下半个结果。"""

    def __init__(self, root: str | Path, fingerprint: str | None = None, *, temporary: bool = False):
        self.root = Path(root)
        self.fingerprint = fingerprint or rules_fingerprint()
        self.dir = self.root / self.fingerprint
        self.temporary = temporary
        try:
            self.dir.mkdir(parents=True, exist_ok=True)
            if not temporary:
                (self.root / "说明.txt").write_text(_CACHE_README, encoding="utf-8")
        except OSError as exc:
            raise BookError(f"无法建立结果缓存文件夹“{self.root}”：{_oserror_text(exc)}（可加 --no-cache 不用缓存）") from None
        for old in self.root.iterdir():  # 旧版本、旧规则的结果作废
            if old.is_dir() and old.name != self.fingerprint:
                import shutil

                shutil.rmtree(old, ignore_errors=True)

    def _path(self, key: str) -> Path:
        return self.dir / key[:2] / f"{key}.json"

    def get(self, key: str, rel: str) -> DeptResult | None:
        try:
            data = self._path(key).read_text(encoding="utf-8")
        except OSError:
            return None
        try:
            return _from_json(data, rel)
        except (ValueError, KeyError, TypeError):
            return None  # 损坏的缓存条目：重新计算

    def put(self, res: DeptResult) -> None:
        if not res.key:
            return
        path = self._path(res.key)
        try:
            tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
            text = _to_json(res)
            try:
                tmp.write_text(text, encoding="utf-8")
            except FileNotFoundError:  # 子文件夹还没有：这时才建（每个文件都 mkdir 一次是可观的开销）
                path.parent.mkdir(parents=True, exist_ok=True)
                tmp.write_text(text, encoding="utf-8")
            os.replace(tmp, path)
        except OSError:
            pass  # 缓存只是加速：写不进去（磁盘满）时照常汇总

    def findings(self, res: DeptResult) -> list[tuple[str, str, str, str, str]]:
        if res.findings or not res.n_findings:
            return res.findings
        cached = self.get(res.key, res.file)
        return cached.findings if cached is not None else []

    def close(self) -> None:
        if self.temporary:
            import shutil

            shutil.rmtree(self.root, ignore_errors=True)


def _to_json(res: DeptResult) -> str:
    import json

    def num(x: Any) -> Any:
        return None if x is None else str(x)

    return json.dumps({
        "ok": res.ok, "reason": res.reason, "unit": res.unit, "system": res.system, "year": res.year,
        "total": num(res.total), "points_total": num(res.points_total), "grade": res.grade, "unscored": res.unscored,
        "level1": [[n, num(a), num(b)] for n, a, b in res.level1], "counts": res.counts,
        "findings": [list(f) for f in res.findings],
        "indicators": [[a, b, num(c), num(d)] for a, b, c, d in res.indicators],
        "self_score": num(res.self_score), "self_grade": res.self_grade, "key": res.key,
    }, ensure_ascii=False)


def _from_json(text: str, rel: str) -> DeptResult:
    import json

    d = json.loads(text)

    def dec(x: Any) -> Decimal | None:
        return None if x is None else Decimal(x)

    findings = [tuple(f) for f in d["findings"]]
    return DeptResult(
        file=rel, ok=d["ok"], reason=d["reason"], unit=d["unit"], system=d["system"], year=d["year"],
        total=dec(d["total"]), points_total=dec(d["points_total"]), grade=d["grade"], unscored=d["unscored"],
        level1=[(n, dec(a), dec(b)) for n, a, b in d["level1"]], counts=d["counts"], findings=findings,  # type: ignore[misc]
        indicators=[(a, b, dec(c), dec(e)) for a, b, c, e in d["indicators"]], self_score=dec(d["self_score"]),
        self_grade=d["self_grade"], key=d["key"], from_cache=True, n_findings=len(findings))
