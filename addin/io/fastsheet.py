"""FastBook 的快速路径：Excel、XlsxWriter、openpyxl 写出的工作表与共享字符串表是一种很规整的 XML（没有空白、注释、
CDATA，单元格属性只有 r、s、t……）。对这样的部件不为每个元素回调一次 expat，而是在 C 里切分字节。

工作表：sheetData 的内容按 `<v>值</v></c>` 切开，得到“值”与值之间的“标记”（行的起止、空单元格、下一个单元格的开始
标签与公式）。同一模板做出的工作簿，值之间的标记逐字节相同：每段标记只在第一次见到时用正则（整段 fullmatch）核对并
解析出下一个值属于哪一格、什么类型，按它的字节缓存（_SEGMENTS）；整表的标记再按字节缓存成按值排列的几列（_Markup）：
填了同样几格的工作簿一次查到全表，之后每个值只剩一次转换。

不规整的一律返回 None，交回 expat 逐元素解析（fastbook.FastBook._parse_sheet）：每段标记都是整段匹配（连同行的嵌套、
属性不重复），拼起来就是整个 sheetData，所以快速路径得到的单元格与 expat 逐格相同（tests/test_fastsheet.py 比对），
任何错误（XML 错误、DTD、编码、坏的数字、超过单元格上限……）都由 expat 路径以同样的中文说明报告；快速路径自己只报
expat 也会最先报告的单元格错误（之前的内容都已核对）。sheetData（或 sst）之外的部分交给 expat 核对（良构、UTF-8、
那个元素确实是它），结论按它的字节缓存。所有缓存只取决于作为键的字节，并且有上限。
"""
from __future__ import annotations

import re
from operator import itemgetter
from typing import Any, Callable, cast
from xml.parsers import expat

from ..model import Formula
from . import ooxml

# 不出现在快速路径中的字节：XML 1.0 不允许的控制字符，以及换行归一化要处理的 \r（\t、\n 可以出现在文字里）
_BAD_BYTES = bytes(b for b in range(0x20) if b not in (0x09, 0x0A))
# 只允许五个预定义实体（数字字符引用、未声明的实体交给 expat）
_BAD_AMP = re.compile(rb"&(?!(?:amp|lt|gt|quot|apos);)")


# 单个字节按它的数值找：`b"&" in data` 在 Python 3.11 里先把 b"&" 当作整数试一次、失败后再找（每次数百条指令），
# `_AMP in data` 直接找这个字节，结果相同
_AMP, _BRACKET, _LT, _DOT, _UPPER_E, _LOWER_E = b"&]<.Ee"


def _clean(body: bytes) -> bool:
    """没有控制字符与 \r、没有 ]]>，实体只有预定义的五个（先找单个字节，很少需要再找整段）。非字符 U+FFFE/U+FFFF
    在解码处查（_no_nonchars）：按数值、序号转换成功的值只有 ASCII。"""
    return (len(body.translate(None, _BAD_BYTES)) == len(body) and (_BRACKET not in body or b"]]>" not in body)
            and not (_AMP in body and _BAD_AMP.search(body)))


def _no_nonchars(text: str) -> bool:
    return "\ufffe" not in text and "\uffff" not in text


def _unescape(s: str) -> str:
    return s.replace("&lt;", "<").replace("&gt;", ">").replace("&quot;", '"').replace("&apos;", "'").replace("&amp;", "&")


# ------------------------------------------------------------------------------------------------ 其余部分的良构
_REST_OK: dict[tuple[str, int, int], list[tuple[bytes, bytes]]] = {}  # (tag, 前段长, 后段长) → 核对过的 (前段, 后段)
_rest_bytes = 0
_MAX_CACHE_BYTES = 16 * 1024 * 1024  # 每个按字节缓存的表的上限（大约）


def _rest_ok(head: bytes, tail: bytes, tag: str, inner: str) -> bool:
    """去掉 sheetData（或 sst）内容后的部件 head + tail 是良构的 UTF-8 XML、没有 DTD；名为 tag 的元素只有 head 末尾
    这一个，它之外也没有 inner 元素（expat 路径会把它们也读成单元格或字符串；注释里的 <sheetData> 之类骗不过这里）。
    否则交给 expat 路径报告。同一模板的这部分逐字节相同：按长度找到以前核对过的，逐字节比较相同即可。"""
    for h, t in _REST_OK.get((tag, len(head), len(tail)), ()):
        if h == head and t == tail:
            return True
    at = head.rfind(b"<" + tag.encode())
    found: list[int] = []
    declared: list[str] = []
    p = ooxml.expat_parser()

    def start(name: str, attrs: dict[str, str]) -> None:
        local = ooxml.local(name)
        if local == tag or local == inner:
            found.append(p.CurrentByteIndex if local == tag else -1)

    p.StartElementHandler = start
    p.XmlDeclHandler = lambda version, encoding, standalone: declared.append(encoding or "")
    try:
        p.Parse(head + tail, True)
    except (expat.ExpatError, ooxml.DtdForbidden):
        return False
    # 快速路径按 UTF-8 解码：声明了别的编码（latin-1、ascii 也不行）的交给 expat
    if found != [at] or (declared and declared[0] and declared[0].lower() != "utf-8"):
        return False
    global _rest_bytes
    size = len(head) + len(tail)
    if size <= 256 * 1024:  # 很大的不缓存；合计超过 _MAX_CACHE_BYTES 就清空重来
        _rest_bytes += size
        if len(_REST_OK) > 256 or _rest_bytes > _MAX_CACHE_BYTES:
            _REST_OK.clear()
            _rest_bytes = size
        known = _REST_OK.setdefault((tag, len(head), len(tail)), [])
        if len(known) >= 8:
            known.clear()
        known.append((head, tail))
    return True


def _split(data: bytes, open_tag: bytes, close_tag: bytes) -> tuple[bytes, bytes, bytes] | None:
    """data 从第一个 open_tag 到最后一个 close_tag：(前段, 内容, 后段)，前段以开始标签结尾（open_tag 不以“>”结尾时
    其后到第一个“>”为止）、后段以 close_tag 开头；找不到时 None。是否真是那个元素、其中是否只有单元格（或字符串），
    由 _rest_ok 与内容的整段核对决定（注释里的、重复的都通不过）。"""
    i = data.find(open_tag)
    j = data.rfind(close_tag)
    if i < 0:
        return None
    i = data.find(b">", i) + 1
    if not 0 < i <= j:
        return None
    return data[:i], data[i:j], data[j:]


# ------------------------------------------------------------------------------------------------ 共享字符串表
_SST_OPEN = re.compile(rb'<sst(?: [a-zA-Z][a-zA-Z0-9:]*="[^"<>&]*")*>\Z')
_SST_COUNTS = re.compile(rb' (count|uniqueCount)="[0-9]+"')
_SI_SEP = b"</t></si><si><t>"
_TEXTS: dict[bytes, str] = {}  # 一条字符串的字节（<t> 与 </t> 之间）→ 文字；只存核对过的
_texts_bytes = 0  # 键的字节数合计：超过上限就清空重来


def _counts_as_zero(head: bytes, at: int) -> bytes:
    """sst 开始标签（从 at 起）里的条数 count="…"、uniqueCount="…" 写作 0：每个工作簿的条数不同，其余逐字节相同。
    属性值里的数字不影响良构与否、也不影响各元素的位置（_rest_ok 的结论），这样同一模板的 sst 只需核对一次。"""
    return head[:at] + _SST_COUNTS.sub(rb' \1="0"', head[at:])


def shared_strings(data: bytes) -> list[str] | None:
    """共享字符串表（每条只有一个 <t>，没有格式串与注音）；不规整时 None。"""
    got = _split(data, b"<sst", b"</sst>")
    if got is None:
        return None
    head, body, tail = got
    m = _SST_OPEN.search(head)
    if m is None or not _rest_ok(_counts_as_zero(head, m.start()), tail, "sst", "si"):
        return None
    if not body:
        return []
    # 每条写成 <si><t>文字</t></si>（xml:space 不改变文字，<t/> 即空文字）：统一写法后整段按分隔符切开。各条里都没有
    # “<”就说明整段正是一条接一条，与逐元素解析的结果相同。分隔符都是 ASCII，按字节切开再逐条解码与先解码再切开相同；
    # 整段的字符核对（_clean、编码、非字符）也就等于逐条核对——控制字符、“]]>”、实体都不会跨过分隔符
    body = body.replace(b'<t xml:space="preserve">', b"<t>").replace(b"<si><t/></si>", b"<si><t></t></si>")
    if not (body.startswith(b"<si><t>") and body.endswith(b"</t></si>")):
        return None
    pieces = body[7:-9].split(_SI_SEP)
    # 同一模板的工作簿，大多数条目（标签、评分标准）逐字节相同：每条的文字按它的字节缓存，只核对、解码没见过的
    out = list(map(_TEXTS.get, pieces))
    if None in out:
        for i, piece in enumerate(pieces):
            if out[i] is None:
                text = _text(piece)
                if text is None:
                    return None
                out[i] = text
    return cast("list[str]", out)


def _text(piece: bytes) -> str | None:
    """一条字符串的文字（核对过字符，实体已换回）；其中有“<”（不止一个 <t>，或者根本不是这种写法）或字符不合要求时 None。"""
    global _texts_bytes
    if _LT in piece or not _clean(piece):
        return None
    try:
        text = piece.decode("utf-8")
    except UnicodeDecodeError:
        return None
    if not _no_nonchars(text):
        return None
    if "&" in text:
        text = _unescape(text)
    _texts_bytes += len(piece) + 64
    if _texts_bytes > _MAX_CACHE_BYTES // 4:
        _TEXTS.clear()
        _texts_bytes = len(piece) + 64
    _TEXTS[piece] = text
    return text


# ------------------------------------------------------------------------------------------------ 工作表
_ATTRS = rb'(?: [a-zA-Z][a-zA-Z0-9:]*="[^"<&\t\n\r]*")*'
_CELL_ATTRS = rb'(?: [a-z]{1,2}="[^"<&\t\n\r]*")*'
_REF = rb'[A-Z]{1,3}[0-9]{1,7}'
_F = rb'<f' + _ATTRS + rb'(?:/>|>[^<]*</f>)'
# 没有值的单元格（只有样式的，或只有公式、没有保存结果的）与行
_CELL = rb'<c r="' + _REF + rb'"' + _CELL_ATTRS + rb'(?:/>|>(?:' + _F + rb')?(?:<v/>)?</c>)'
_ROW = rb'<row' + _ATTRS + rb'(?:/>|>(?:' + _CELL + rb')*+</row>)'
_OPEN_ROW = rb'<row' + _ATTRS + rb'>'
# 一段标记末尾的下一个有值单元格：开始标签与公式（其后是切掉的 <v>值</v></c>）
_NEXT = rb'<c r="(' + _REF + rb')"(' + _CELL_ATTRS + rb')>(?:(<f)(' + _ATTRS + rb')(?:/>|>([^<]*)</f>))?'
# 各段标记：第一段从行外开始；值之后都在行内（单元格只在行内，行不嵌套）；最后一段回到行外；没有值的整段只有行
_FIRST = re.compile(rb'(?:' + _ROW + rb')*+' + _OPEN_ROW + rb'(?:' + _CELL + rb')*+' + _NEXT)
_MIDDLE = re.compile(rb'(?:' + _CELL + rb')*+(?:</row>(?:' + _ROW + rb')*+' + _OPEN_ROW + rb'(?:' + _CELL + rb')*+)?'
                     + _NEXT)
_LAST = re.compile(rb'(?:' + _CELL + rb')*+</row>(?:' + _ROW + rb')*+')
_ONLY = re.compile(rb'(?:' + _ROW + rb')*+')
_FORMULA_CELL = re.compile(rb'<c r="(' + _REF + rb')"(' + _CELL_ATTRS + rb')>(<f)(' + _ATTRS + rb')(?:/>|>([^<]*)</f>)')
_VALUES = re.compile(rb"<v>([^<]*)</v></c>")
_TAG_ATTRS = re.compile(rb"<[a-z]+((?: [^ =]+=\"[^\"]*\")+)")
_ATTR = re.compile(' ([^ =]+)="([^"]*)"')

# 值的类别：交给 cell_value（日期、逻辑值、错误值、共享公式……），共享字符串，数值，保存了数值结果的公式。
# 后三类只在样式不是日期格式时就地转换
CALL, SHARED, NUMBER, FORMULA = 0, 1, 2, 3
Cell = tuple[str, tuple[int, int], dict[str, str], str | None, dict[str, str] | None]  # (地址, (行, 列), 属性, 公式, 公式属性)
# 一段标记解析的结果：(类别, (行, 列), 样式编号, 公式 "=…", 下一个有值单元格, 这段里没有保存结果的公式单元格)
Segment = tuple[int, tuple[int, int], int, str, Cell | None, tuple[Cell, ...]]
_SEGMENTS: dict[bytes, Segment] = {}  # 值之间的标记 → 解析结果（同一模板的工作簿反复出现；只存规整的）
_EDGES: dict[tuple[re.Pattern[bytes], bytes], Segment] = {}  # 第一段、最后一段
_cached_bytes = 0  # 两者合计的字节数（大约）：超过 _MAX_CACHE_BYTES 就清空重来


def _attrs(text: str) -> dict[str, str]:
    return dict(_ATTR.findall(text))


def _cell(m: re.Match[bytes]) -> Cell:
    ref = m.group(1).decode("ascii")
    ftext = fattr = None
    if m.group(3) is not None:
        fattr = _attrs(m.group(4).decode("utf-8"))
        ftext = m.group(5).decode("utf-8") if m.group(5) else ""
        if "&" in ftext:
            ftext = _unescape(ftext)
    return ref, ooxml.parse_a1(ref), _attrs(m.group(2).decode("utf-8")), ftext, fattr


def _segment(pattern: re.Pattern[bytes], seg: bytes) -> Segment | None:
    """一段标记 → 它的解析结果；不规整（不合整段的写法、不是 UTF-8、属性重复）时 None。"""
    m = pattern.fullmatch(seg)
    if m is None or not _clean(seg):
        return None
    try:
        if not _no_nonchars(seg.decode("utf-8")):
            return None
    except UnicodeDecodeError:
        return None
    for attrs in _TAG_ATTRS.findall(seg):  # 同一元素的属性不重复（expat 拒绝重复的属性）
        names = re.findall(rb' ([^ =]+)="', attrs)
        if len(set(names)) != len(names):
            return None
    nxt = None
    end = len(seg)
    if pattern is not _LAST and pattern is not _ONLY:
        nxt = _cell(m)
        end = m.start(1) - 6  # 下一个单元格的 <c r="
    statics = tuple(_cell(c) for c in _FORMULA_CELL.finditer(seg, 0, end)) if b"<f" in seg[:end] else ()
    kind, rc, style, text = CALL, (0, 0), -1, ""
    if nxt is not None:
        _, rc, cattr, ftext, fattr = nxt
        t, s = cattr.get("t", "n"), cattr.get("s")
        if fattr is None and t == "s":
            kind = SHARED
        elif t == "n" and (not s or (s.isascii() and s.isdigit())):
            style = int(s) if s else -1
            if fattr is None:
                kind = NUMBER
            elif fattr.get("t") != "shared":  # 共享公式要按出现的顺序逐个换算（cell_value）
                kind, text = FORMULA, "=" + (ftext or "")
    if statics:
        kind = CALL  # 先按顺序处理这段里没有结果的公式单元格（很少见），再交给 cell_value
    return kind, rc, style, text, nxt, statics


def _remember(cache: dict[Any, Segment], key: Any, seg: bytes, got: Segment) -> None:
    global _cached_bytes
    if len(seg) > 65536:
        return  # 很长的一段（大片空单元格）每次重新核对：缓存只留给模板里反复出现的短标记
    _cached_bytes += len(seg) + 800  # 解析结果（几个元组与属性字典）约 800 字节
    if _cached_bytes > _MAX_CACHE_BYTES:
        _SEGMENTS.clear()
        _EDGES.clear()
        _cached_bytes = len(seg) + 800
    cache[key] = got


def _edge(pattern: re.Pattern[bytes], seg: bytes) -> Segment | None:
    got = _EDGES.get((pattern, seg))
    if got is None:
        got = _segment(pattern, seg)
        if got is not None:
            _remember(_EDGES, (pattern, seg), seg, got)
    return got


def sheet_cells(data: bytes, limit: int, cell_value: Callable[..., Any], shared: list[str], dates: set[int],
                with_cached: bool) -> tuple[dict[tuple[int, int], Any], GridKeys | None] | None:
    """工作表的单元格网格 {(行, 列): 值}，以及网格的键的索引（GridKeys；没有时 None）；不规整（或单元格、行、列记录可能
    超过 limit，由 expat 路径在同一处报告）时 None。
    cell_value 是 FastBook._cell_value 的前几个参数已定的形式 (ref, cattr, vtext, ftext, fattr) → 值；只有共享字符串、
    非日期样式的数值与（非共享）公式的数值结果在这里直接转换（与它的做法相同），其余（逻辑值、日期、错误值、文本结果、
    共享公式、任何转换不了的）都交给它，结果与 expat 路径相同。"""
    got = _split(data, b"<sheetData>", b"</sheetData>")
    if got is None:
        return None
    head, body, tail = got
    # 单元格、行与列格式记录的个数（expat 路径逐个数到 limit 即停止并报告）：单元格、行元素每个至少 6 个字节，其余部分的
    # 元素每个至少 4 个字节，上限内还有余量就不必数；接近上限的交给 expat 路径，由它在同一处报告
    rest = (len(head) + len(tail)) // 4
    if ((len(body) // 6 + rest > limit and body.count(b"<c ") + body.count(b"<row") + rest > limit)
            or not _rest_ok(head, tail, "sheetData", "c")):
        return None
    # 按 <v>值</v></c> 切开：[标记, 值, 标记, 值, ……, 标记]。每段标记都核对过写法与字符（_segment），值的字符在这里
    # 一起核对（用“<”连接：值里没有它，实体不会跨过两个值），拼起来正是整个 sheetData
    pieces = _VALUES.split(body)
    values = pieces[1::2]
    if not _clean(b"<".join(values)):
        return None
    markup = _markup(pieces)
    if markup is None or len(markup.kinds) != len(values):
        return None  # 标记与以前见过的逐字节相同、值的个数却不同：标记里夹着 <v>，不是这种写法
    kinds = markup.kinds if markup.styles.isdisjoint(dates) else markup.without(dates)
    g: dict[tuple[int, int], Any] = {}
    for kind, rc, text, v in zip(kinds, markup.rcs, markup.texts, values, strict=True):
        if kind == SHARED:
            try:
                g[rc] = shared[int(v)]
                continue
            except (ValueError, IndexError):
                pass  # 交给 cell_value：它给出指明单元格的说明
        elif kind == NUMBER:
            try:
                g[rc] = _number(v)
                continue
            except ValueError:
                pass
        elif kind == FORMULA:
            f = _numeric_formula(text, v, with_cached)
            if f is not None:
                g[rc] = f
                continue
        try:
            vtext = v.decode("utf-8")
        except UnicodeDecodeError:
            return None  # expat 会在这里报告编码错误
        if not _no_nonchars(vtext):
            return None
        if "&" in vtext:
            vtext = _unescape(vtext)
        _, _, _, _, nxt, statics = markup.segments[rc]
        _static_cells(statics, cell_value, g)
        ref, rc, cattr, ftext, fattr = nxt  # type: ignore[misc]
        value = cell_value(ref, cattr, vtext, ftext, fattr)
        if value is not None:
            g[rc] = value
    _static_cells(markup.last, cell_value, g)
    return g, markup.grid_keys(len(g))


class GridKeys:
    """一张网格的键（按插入的顺序）按列、按行取出，同一模板、填了同样几格的表共用一个（取过的列、行留着）。读取评分表
    时找 A 列、表头行不必逐格扫描整张网格：column(c) 正是 [k for k in 网格 if k[1] == c]，row(r)、last_row 同理。"""

    __slots__ = ("keys", "_columns", "_rows", "_last_row")

    def __init__(self, keys: tuple[tuple[int, int], ...]):
        self.keys = keys
        self._columns: dict[int, tuple[tuple[int, int], ...]] = {}
        self._rows: dict[int, tuple[tuple[int, int], ...]] = {}
        self._last_row: int | None = None

    def column(self, c: int) -> tuple[tuple[int, int], ...]:
        return self._line(self._columns, 1, c)

    def row(self, r: int) -> tuple[tuple[int, int], ...]:
        return self._line(self._rows, 0, r)

    def _line(self, memo: dict[int, tuple[tuple[int, int], ...]], axis: int, n: int) -> tuple[tuple[int, int], ...]:
        """键中第 axis 个分量（0 行、1 列）等于 n 的，按原顺序；每种取过的留着（至多 16 种）。"""
        got = memo.get(n)
        if got is None:
            if len(memo) >= 16:
                memo.clear()
            got = memo[n] = tuple(k for k in self.keys if k[axis] == n)
        return got

    def last_row(self) -> int:
        """最大的行号（网格不能是空的）。"""
        if self._last_row is None:
            self._last_row = max(map(itemgetter(0), self.keys))
        return self._last_row


class _Markup:
    """一张表全部标记的解析结果，按值的顺序排成几列：类别、(行, 列)、公式；用到的样式；最后一段里没有结果的公式单元格；
    按 (行, 列) 找回那一段的解析结果（交给 cell_value 时才用）。逐值循环只碰这几列，不再逐段查缓存。"""

    __slots__ = ("infos", "kinds", "rcs", "texts", "segments", "styles", "last", "_dated", "_keys")

    def __init__(self, infos: list[Segment], last: Segment):
        self.infos = infos
        self.kinds = bytes(map(itemgetter(0), infos))
        self.rcs: tuple[tuple[int, int], ...] = tuple(map(itemgetter(1), infos))
        self.texts: tuple[str, ...] = tuple(map(itemgetter(3), infos))
        self.segments = dict(zip(self.rcs, infos, strict=True))
        self.styles = frozenset(map(itemgetter(2), infos))
        self.last = last[5]
        self._dated: dict[frozenset[int], bytes] = {}
        self._keys: GridKeys | bool | None = None  # 第一次用到时建立；有没有结果的公式单元格时 False

    def grid_keys(self, size: int) -> GridKeys | None:
        """按这份标记读出的、有 size 个单元格的网格的键。没有“没有结果的公式单元格”时，网格的键按 rcs 的顺序插入、
        只会少（cell_value 给出 None 的不插入）不会多，个数与 rcs 相同就是 rcs 本身；否则 None。"""
        if self._keys is None:
            static_free = not self.last and not any(map(itemgetter(5), self.infos))
            self._keys = GridKeys(self.rcs) if static_free else False
        return self._keys if isinstance(self._keys, GridKeys) and size == len(self.rcs) else None

    def without(self, dates: set[int]) -> bytes:
        """类别一列，其中日期样式的数值与公式改为交给 cell_value（按用到的日期样式缓存）。"""
        key = frozenset(dates & self.styles)
        got = self._dated.get(key)
        if got is None:
            got = self._dated[key] = bytes(CALL if s[0] >= NUMBER and s[2] in key else s[0] for s in self.infos)
        return got


_MARKUPS: dict[tuple[int, bytes, bytes, bytes], list[tuple[bytes, _Markup]]] = {}  # _probe(键) → [(键, 解析结果)]
_markup_bytes = 0  # 键与各列合计的字节数（大约）：超过 _MAX_CACHE_BYTES 就清空重来


def _probe(key: bytes) -> tuple[int, bytes, bytes, bytes]:
    """整表标记的几处取样：按它找到候选，再整段比较。整段的散列要逐字节算一遍，比较只在候选上做（相同时正是一次
    逐字节比较，不同时在第一处不同即止）。"""
    n = len(key)
    return n, key[n // 3:n // 3 + 32], key[2 * n // 3:2 * n // 3 + 32], key[-32:]


def _markup(pieces: list[bytes]) -> _Markup | None:
    """pieces（[标记, 值, 标记, ……, 标记]）中全部标记的解析结果；不规整时 None。整表的标记（用 <v> 连接，标记里不会
    有它）与以前见过的逐字节相同就直接取用——同一模板做出、填了同样几格的工作簿正是这样；否则逐段查 _SEGMENTS（各段
    在各表之间也常常相同），没见过的段才用正则核对。同一格出现两次的表交给 expat。"""
    global _markup_bytes
    segs = pieces[0::2]
    key = b"<v>".join(segs)
    probe = _probe(key)
    for known, markup in _MARKUPS.get(probe, ()):
        if known == key:
            return markup
    segs.pop()
    last = _edge(_LAST if segs else _ONLY, pieces[-1])
    if last is None:
        return None
    infos = list(map(_SEGMENTS.get, segs))
    if segs:
        infos[0] = _edge(_FIRST, segs[0])
    if None in infos:
        for i, got in enumerate(infos):
            if got is None:
                got = _segment(_MIDDLE, segs[i]) if i else None
                if got is None:
                    return None
                _remember(_SEGMENTS, segs[i], segs[i], got)
                infos[i] = got
    markup = _Markup(cast("list[Segment]", infos), last)
    if len(markup.segments) != len(infos):
        return None
    _markup_bytes += len(key) + 100 * len(infos)
    if _markup_bytes > _MAX_CACHE_BYTES:
        _MARKUPS.clear()
        _markup_bytes = len(key) + 100 * len(infos)
    alike = _MARKUPS.setdefault(probe, [])
    if len(alike) >= 8:
        alike.clear()
    alike.append((key, markup))
    return markup


def _number(v: bytes) -> int | float:
    """与 openpyxl 相同：含小数点或指数记法的为 float，否则为 int（全是数字的不必再找）。转换不了时 ValueError；
    转换成功说明是 ASCII，与按解码后的文字转换相同。"""
    return int(v) if v.isdigit() else float(v) if _DOT in v or _UPPER_E in v or _LOWER_E in v else int(v)


_FORMULAS: dict[tuple[str, bytes, bool], Formula] = {}


def _numeric_formula(text: str, v: bytes, with_cached: bool) -> Formula | None:
    """保存了数值结果 v 的公式 text；v 不是数值时 None（交给 cell_value）。Formula 不可变，同一模板的工作簿里同一公式、
    同一结果反复出现：按 (公式, 结果的字节) 缓存同一个对象，省去每次构造。"""
    key = (text, v, with_cached)
    f = _FORMULAS.get(key)
    if f is None:
        try:
            number = _number(v)
        except ValueError:
            return None
        f = Formula(text, number if with_cached else None)
        if len(_FORMULAS) >= 20_000:
            _FORMULAS.clear()
        _FORMULAS[key] = f
    return f


def _static_cells(cells: tuple[Cell, ...], cell_value: Callable[..., Any], g: dict[tuple[int, int], Any]) -> None:
    """没有保存结果的公式单元格（只有 <f>、没有 <v>）：同样交给 cell_value（通常一个也没有）。"""
    for ref, rc, cattr, ftext, fattr in cells:
        value = cell_value(ref, cattr, None, ftext, fattr)
        if value is not None:
            g[rc] = value
