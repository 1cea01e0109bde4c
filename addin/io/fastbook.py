"""批量读取器 FastBook：只读、只取值，直接以 expat 流式解析 .xlsx 中的 XML，得到与 OpenpyxlBook 逐格相同的单元格网格
（tests/test_batch.py 逐格比对），比 openpyxl 完整加载快一个数量级。关系与工作表清单按 ooxml 的规则读，文件先经 filecheck 的
同一组上限检查；每条错误说出工作表与单元格（或部件、行、列）。
"""
from __future__ import annotations

import zipfile
import zlib
from pathlib import Path
from typing import Any, Callable, NoReturn
from xml.parsers import expat

from ..model import Formula
from . import expatsheet, fastsheet, filecheck, ooxml, zipparts
from .book import BookError, Grid


class _CellError(Exception):
    """某个单元格保存的值无法理解（NaN、INF、坏的逻辑值或日期……）；grid() 补上工作表名称。"""

    def __init__(self, ref: str, detail: str):
        super().__init__(detail)
        self.ref, self.detail = ref, detail


_STYLE_CACHE: dict[tuple[int, int], tuple[set[int], set[int]]] = {}
_PARSED: dict[tuple[str, str, Any], Any] = {}  # FastBook._parsed


def _style_id(ref: str, s: str) -> int:
    try:
        return int(s)
    except ValueError:
        raise _CellError(ref, f"的样式编号“{s[:20]}”无效，文件已损坏") from None


def _cast_number(text: str) -> int | float:
    # 与 openpyxl 相同：含小数点或指数记法的为 float，否则为 int
    if "." in text or "E" in text or "e" in text:
        return float(text)
    return int(text)


class FastBook:
    """只读 Book 适配器：直接解析 .xlsx 的 XML，得到与 OpenpyxlBook 相同的单元格网格。

    with_cached=True 时公式单元格的 Formula.cached 为文件中保存的计算结果（同一次解析即可得到，无额外开销）。
    不支持写入：批量处理从不修改部门的工作簿。
    """

    def __init__(self, path: str | Path, *, with_cached: bool = True, data: bytes | None = None):
        """data：已读入内存的文件内容（批量处理先读入、算出内容指纹再解析同一份字节，结果缓存不会张冠李戴）。"""
        self.path = Path(path)
        self.with_cached = with_cached
        self._grids: dict[str, Grid] = {}
        self._keys: dict[str, fastsheet.GridKeys] = {}
        # 快速路径只做廉价检查（文件头、大小、zip 中央目录）；任何一项不通过都交给 filecheck.inspect_file，
        # 由它给出与单文件命令完全相同的中文原因（旧 .xls、加密、改了扩展名的 CSV、截断、压缩炸弹……）
        try:
            if data is None:
                size = self.path.stat().st_size
                with open(self.path, "rb") as fh:
                    head = fh.read(8)
            else:
                size, head = len(data), data[:8]
        except OSError:
            self._refuse("无法访问该文件")
        if (not 0 < size <= filecheck.MAX_FILE_BYTES or not head.startswith(b"PK")
                or self.path.suffix.lower() not in filecheck.WORKBOOK_SUFFIXES):
            self._refuse("不是有效的 .xlsx 文件")
        try:
            self.package = zipparts.Package(self.path, data)
        except (zipfile.BadZipFile, zlib.error, EOFError, OSError, ValueError):
            self._refuse("文件已损坏或不完整")
        try:
            self._check_sizes()
            self._read_workbook()
        except BookError:
            self.package.close()
            raise
        except Exception as exc:  # 损坏的压缩包在读取部件时才暴露（CRC、截断、XML 错误……）
            self.package.close()
            raise BookError(f"无法读取工作簿“{self.path.name}”：{self._describe(exc)}") from None

    def _refuse(self, fallback: str) -> NoReturn:
        filecheck.inspect_file(self.path)  # 抛出带具体原因的 BookError
        raise BookError(f"无法读取工作簿“{self.path.name}”：{fallback}")

    # ------------------------------------------------------------------ 压缩包与部件
    def _check_sizes(self) -> None:
        """与 safeio 相同的压缩包限制（部件数、解压总大小、压缩比、加密部件），只看中央目录，不解压。"""
        infos = self.package.entries
        total, bad = 0, False
        for i in infos:
            total += i.file_size
            bad = bad or bool(i.flag_bits & 0x1) or (
                i.file_size >= filecheck.RATIO_MIN_BYTES and i.file_size > filecheck.MAX_RATIO * max(i.compress_size, 1))
        if len(infos) > filecheck.MAX_MEMBERS or total > filecheck.MAX_UNCOMPRESSED_BYTES or bad:
            self.package.close()
            self._refuse("压缩包结构异常，拒绝读取")

    def _part(self, name: str) -> bytes | None:
        # 压缩包的某个部件坏了（CRC 不符、压缩数据损坏）在读到它时才暴露：说成中文，指明部件
        try:
            return self.package.read(name)
        except (zipfile.BadZipFile, zlib.error, EOFError):
            raise BookError(f"无法读取工作簿“{self.path.name}”：部件“{name[:80]}”的压缩数据已损坏（可能下载或复制不完整），"
                            "请重新获取该文件") from None

    def _parse(self, data: bytes, start: Callable, end: Callable | None = None, chars: Callable | None = None, *,
               part: str = "") -> None:
        """解析一个部件；XML 错误与 DTD 变成指明该部件的中文 BookError（处理函数抛出的 _CellError/TooBig 原样传出）。
        编码先按 safeio 的规则核对（只许 UTF-8/UTF-16，与 BOM、XML 声明一致），消息与单文件命令相同。"""
        filecheck._xml_encoding(self.path, part or "?", data[:filecheck._SNIFF_BYTES])
        p = ooxml.expat_parser()
        p.StartElementHandler = start
        if end is not None:
            p.EndElementHandler = end
        if chars is not None:
            p.CharacterDataHandler = chars
        try:
            p.Parse(data, True)
        except (expat.ExpatError, ooxml.DtdForbidden) as exc:
            raise BookError(f"无法读取工作簿“{self.path.name}”：{self._describe(exc, part)}") from None

    def _parsed(self, what: str, part: str, source: str, parse: Callable[[bytes], Any]) -> Any:
        """parse(部件 source 的内容) 的结果（把它解析为 what，part 是解析所依据的部件）；source 不存在时 None。
        同一模板的工作簿，包的根关系、workbook.xml 与它的关系表往往逐字节相同：结果按 (what, part, source 的内容) 缓存，
        内容以它在包里存放的样子代表（zipparts.Package.stored：这几项相同，解压出的内容就相同），命中时不必解压；
        不直接读的包按解压后的内容。只缓存成功的结果（编码核对与解析都只取决于这些字节）；出错时照常抛出指明本文件的说明。"""
        stored = self.package.stored(source)
        got = _PARSED.get((what, part, stored)) if stored is not None else None
        if got is not None:
            return got
        data = self._part(source)
        if data is None:
            return None
        key = (what, part, stored if stored is not None else data)
        got = _PARSED.get(key)
        if got is None:
            got = parse(data)
            if len(data) <= 65536:
                if len(_PARSED) >= 256:
                    _PARSED.clear()
                _PARSED[key] = got
        return got

    def _rels(self, part: str) -> dict[str, tuple[str, str]]:
        """部件的关系表（part 为 "" 时是包的根关系）：Id → (类型末段, 目标部件路径)；外部目标不列入。"""
        rels_part = ooxml.rels_name(part)

        def parse(data: bytes) -> dict[str, tuple[str, str]]:
            start, rels = ooxml.rels_collector(part)
            self._parse(data, start, part=rels_part)
            return {r.id: (r.kind, r.part) for r in rels if r.part is not None}

        got = self._parsed("rels", part, rels_part, parse)
        return {} if got is None else got

    def _read_workbook(self) -> None:
        root_rels = self._rels("")  # _rels/.rels
        wb_part = next((p for t, p in root_rels.values() if t == "officeDocument"), ooxml.DEFAULT_WORKBOOK)

        def parse(data: bytes) -> tuple[tuple[tuple[str, str], ...], bool]:
            start, wb = ooxml.workbook_collector()
            self._parse(data, start, part=wb_part)
            return tuple(wb.sheets), wb.date1904

        got = self._parsed("workbook", wb_part, wb_part, parse)
        if got is None:
            raise BookError(f"无法读取工作簿“{self.path.name}”：文件结构不完整（缺少 {wb_part}），可能不是 Excel 工作簿")
        sheets, self.date1904 = got
        rels = self._rels(wb_part)
        self._sheet_parts: dict[str, str | None] = {}
        for name, rid in sheets:
            kind, target = rels.get(rid, ("", ""))
            self._sheet_parts[name] = target if kind == "worksheet" else None
        self._shared: list[str] | None = None
        self._styles_part = next((p for t, p in rels.values() if t == "styles"), None)
        self._sst_part = next((p for t, p in rels.values() if t == "sharedStrings"), None)
        self._date_styles: set[int] | None = None
        self._td_styles: set[int] = set()

    # ------------------------------------------------------------------ 共享字符串与日期样式
    def _shared_strings(self) -> list[str]:
        if self._shared is not None:
            return self._shared
        out: list[str] = []
        data = self._part(self._sst_part) if self._sst_part else None
        if data is not None and self._sst_part is not None:
            self._check_part_size(self._sst_part, "共享字符串表")
            # 规整的表一次切开（它只接受 UTF-8，编码核对不会有异议）；否则 expat 逐元素，先按 safeio 的规则核对编码
            fast = fastsheet.shared_strings(data)
            if fast is not None:
                out = fast
            else:
                self._parse(data, *expatsheet.sst_handlers(out), part=self._sst_part)
            if len(out) > filecheck.MAX_SHARED_STRINGS:
                raise BookError(f"无法读取工作簿“{self.path.name}”：共享字符串表有 {len(out):,} 条，超过上限 "
                                f"{filecheck.MAX_SHARED_STRINGS:,} 条（一份绩效评价工作簿约几百条）；"
                                "请删除与绩效评价无关的内容后再试")
        self._shared = out
        return out

    def _date_style_ids(self) -> tuple[set[int], set[int]]:
        """哪些单元格样式是日期/时长格式（与 openpyxl 一样把这些数字转换为 datetime/timedelta）。"""
        if self._date_styles is not None:
            return self._date_styles, self._td_styles
        # 同一模板的工作簿样式表相同：按样式部件的 CRC 与大小缓存（批量处理时省去重复解析）
        key = None
        if self._styles_part:
            info = self.package.get(self._styles_part)
            if info is not None:
                key = (info.crc, info.file_size)
        if key is not None and key in _STYLE_CACHE:
            self._date_styles, self._td_styles = _STYLE_CACHE[key]
            return self._date_styles, self._td_styles
        from openpyxl.styles.numbers import builtin_format_code, is_date_format, is_timedelta_format

        custom: dict[int, str] = {}
        xfs: list[int] = []
        data = self._part(self._styles_part) if self._styles_part else None
        if data is not None and self._styles_part is not None:
            state = {"cellxfs": False}

            def start(name, attrs):
                tag = expatsheet.local(name)
                if tag == "numFmt":
                    try:
                        custom[int(attrs.get("numFmtId", "-1"))] = attrs.get("formatCode", "")
                    except ValueError:
                        pass
                elif tag == "cellXfs":
                    state["cellxfs"] = True
                elif tag == "xf" and state["cellxfs"]:
                    try:
                        xfs.append(int(attrs.get("numFmtId", "0")))
                    except ValueError:
                        xfs.append(0)

            def end(name):
                if expatsheet.local(name) == "cellXfs":
                    state["cellxfs"] = False

            self._parse(data, start, end, part=self._styles_part)
        dates, tds = set(), set()
        for idx, fid in enumerate(xfs):
            fmt = custom.get(fid) if fid in custom else builtin_format_code(fid)
            if fmt and is_date_format(fmt):
                dates.add(idx)
            if fmt and is_timedelta_format(fmt):
                tds.add(idx)
        self._date_styles, self._td_styles = dates, tds
        if key is not None:
            if len(_STYLE_CACHE) > 256:
                _STYLE_CACHE.clear()
            _STYLE_CACHE[key] = (dates, tds)
        return dates, tds

    # ------------------------------------------------------------------ Book 接口
    def sheet_names(self) -> list[str]:
        return list(self._sheet_parts)

    def grid(self, sheet: str) -> Grid:
        if sheet in self._grids:
            return self._grids[sheet]
        if sheet not in self._sheet_parts:
            raise KeyError(sheet)
        part = self._sheet_parts[sheet]
        g: Grid = {}
        if part is not None:
            self._check_part_size(part, f"工作表“{sheet}”")
            data = self._part(part)
            if data is None:
                raise BookError(f"无法读取工作簿“{self.path.name}”：工作表“{sheet}”的内容缺失（{part}），文件已损坏")
            prefix = f"无法读取工作簿“{self.path.name}”的工作表“{sheet}”："
            try:
                g, keys = self._parse_sheet(data, part)
            except BookError:
                raise
            except _CellError as exc:
                raise BookError(f"{prefix}单元格 {exc.ref} {exc.detail}") from None
            except expatsheet.TooBig as exc:
                raise BookError(f"无法读取工作簿“{self.path.name}”：{filecheck.too_many_cells(f'工作表“{sheet}”', int(str(exc)))}"
                                ) from None
            except Exception as exc:
                raise BookError(f"{prefix}{self._describe(exc, part)}") from None
            if keys is not None:
                self._keys[sheet] = keys
        self._grids[sheet] = g
        return g

    def grid_keys(self, sheet: str) -> fastsheet.GridKeys | None:
        """grid(sheet) 的键按列、按行的索引（快速路径读出的表才有，否则 None：调用方自己逐格扫描）。"""
        g = self.grid(sheet)
        keys = self._keys.get(sheet)
        return keys if keys is not None and len(keys.keys) == len(g) else None

    def _parse_sheet(self, data: bytes, part: str = "") -> tuple[Grid, fastsheet.GridKeys | None]:
        shared = self._shared_strings()
        dates, tds = self._date_style_ids()
        with_cached = self.with_cached
        shared_f: dict[str, Any] = {}

        def cell_value(ref: str, cattr: dict, vtext: str | None, ftext: str | None, fattr: dict | None,
                       inline: list[str] | None = None) -> Any:
            return self._cell_value(ref, cattr, vtext, ftext, fattr, inline, shared, dates, tds, shared_f, with_cached)

        fast = fastsheet.sheet_cells(data, filecheck.MAX_CELLS, cell_value, shared, dates, with_cached)
        if fast is not None:
            return fast
        shared_f.clear()  # 快速路径中途交回时可能已记下共享公式：expat 路径从头来
        data, stripped = expatsheet.strip_empty_cells(data)
        start, end, chars, g = expatsheet.sheet_handlers(cell_value, stripped, filecheck.MAX_CELLS)
        self._parse(data, start, end, chars, part=part)
        return g, None

    def _cell_value(self, ref, cattr, vtext, ftext, fattr, inline, shared, dates, tds, shared_f, with_cached) -> Any:
        t = cattr.get("t", "n")
        raw = vtext or None  # 与 openpyxl 相同：空的 <v/> 视为无值
        value: Any = None
        if t == "inlineStr":
            raw = None
        if raw is not None:
            if t == "n":
                try:
                    value = _cast_number(raw)
                except ValueError:
                    raise _CellError(ref, f"保存的数值“{raw[:40]}”不是有效的数字（NaN、INF 之类的写法 Excel 不会保存，文件可能被"
                                          "其他程序生成或改动过）；请在 Excel 中重新输入该单元格后保存") from None
                s = cattr.get("s")
                if s and _style_id(ref, s) in dates:
                    value = self._to_date(value, int(s) in tds)
            elif t == "s":
                try:
                    value = shared[int(raw)]
                except (IndexError, ValueError):
                    raise _CellError(ref, f"引用了不存在的共享字符串（第 {raw[:20]} 条），文件已损坏") from None
            elif t == "b":
                try:
                    value = bool(int(raw))
                except ValueError:
                    raise _CellError(ref, f"保存的逻辑值“{raw[:40]}”无法识别（应为 0 或 1），文件已损坏") from None
            elif t == "d":
                from openpyxl.utils.datetime import from_ISO8601

                try:
                    value = from_ISO8601(raw)
                except ValueError:
                    raise _CellError(ref, f"保存的日期“{raw[:40]}”无法识别，文件已损坏") from None
            else:  # str（公式的文本结果）、e（错误值）
                value = raw
        elif t == "inlineStr" and inline is not None:
            value = "".join(inline)
        if fattr is None:
            return value
        # 公式单元格（只有含 <f> 的才是公式；以“=”开头的文本仍是文本）
        text = "=" + (ftext or "")
        if fattr.get("t") == "shared":
            si = fattr.get("si")
            if si in shared_f:
                text = shared_f[si].translate_formula(ref)
            elif text != "=":
                from openpyxl.formula.translate import Translator

                shared_f[si] = Translator(text, ref)
        return Formula(text, value if with_cached else None)

    def _to_date(self, value, timedelta: bool):
        from openpyxl.utils.datetime import MAC_EPOCH, WINDOWS_EPOCH, from_excel

        try:
            return from_excel(value, MAC_EPOCH if self.date1904 else WINDOWS_EPOCH, timedelta=timedelta)
        except (OverflowError, ValueError):
            return "#VALUE!"

    def _check_part_size(self, part: str, what: str) -> None:
        """与 safeio 相同的单个 XML 部件上限：只看中央目录里声明的解压大小（zipfile 解压时不会超过它）。"""
        info = self.package.get(part)
        if info is None:
            return
        size = info.file_size
        if size > filecheck.MAX_PART_XML_BYTES:
            limit = filecheck._fmt_mb(filecheck.MAX_PART_XML_BYTES)
            raise BookError(f"无法读取工作簿“{self.path.name}”：{what}（部件“{part[:80]}”）解压后 "
                            f"{filecheck._fmt_mb(size)}，超过单个 XML 部件的上限 {limit}；请删除与绩效评价无关的内容后再试")

    @staticmethod
    def _describe(exc: Exception, part: str = "") -> str:
        where = f"部件“{part[:80]}”" if part else "文件"
        if isinstance(exc, (zipfile.BadZipFile, zlib.error, EOFError)):
            return "压缩包已损坏（可能下载或复制不完整），请重新获取该文件"
        if isinstance(exc, ooxml.DtdForbidden):
            return f"{where}{exc}" if part else str(exc)
        if isinstance(exc, expat.ExpatError):
            return f"{where}内容已损坏（XML 第 {exc.lineno} 行第 {exc.offset + 1} 列无法解析：{ooxml.expat_reason(exc)}）"
        if isinstance(exc, KeyError):
            return "文件结构不完整（缺少必需的部件）"
        return f"{where}无法解析（{type(exc).__name__}: {str(exc)[:200]}）"

    def close(self) -> None:
        self.package.close()
