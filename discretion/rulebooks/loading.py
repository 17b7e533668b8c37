"""Reading rulebook YAML safely, with the line of every value kept for error messages.

This is the only module that opens rulebook files. It refuses, naming file and line:
oversized files, binary junk, aliases (billion laughs), deep nesting, unsafe or
unknown tags, merge keys, duplicate keys, non-string keys, overlong lines, mappings or lists
with too many entries (and lists at most MAX_ISSUES validation issues per file). Floats are read as
:class:`~decimal.Decimal` from their source text, never as binary floats.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

try:
    import yaml
except ImportError:  # the offline terminal (Pyodide) has no PyYAML: it loads the set compiled to JSON (jsonset)
    yaml = None

from ..errors import RulebookError, RulebookIssue

MAX_BYTES = 2 * 1024 * 1024
MAX_DEPTH = 32
MAX_NODES = 200_000
MAX_LINE = 10_000  # characters: the longest shipped line is ~300; a quoted article paragraph is < 2,000
MAX_ENTRIES = 5_000  # keys of one mapping or items of one list (the largest shipped: 28)
MAX_ISSUES = 100  # validation issues listed per file (a file of 90,000 unknown keys is refused, not listed)

if yaml is not None:
    try:  # libyaml is much faster; the pure-Python parser is the fallback
        _Loader: Any = yaml.CSafeLoader
    except AttributeError:  # pragma: no cover - depends on the PyYAML build
        _Loader = yaml.SafeLoader
    _SAFE = yaml.SafeLoader("")
    _RESOLVER = yaml.resolver.Resolver()  # the implicit tags (int, bool, null …) libyaml leaves to Python
_STR = "tag:yaml.org,2002:str"
_INT = "tag:yaml.org,2002:int"
_FLOAT = "tag:yaml.org,2002:float"
_BOOL = "tag:yaml.org,2002:bool"
_NULL = "tag:yaml.org,2002:null"
_TS = "tag:yaml.org,2002:timestamp"
_MAP = "tag:yaml.org,2002:map"
_SEQ = "tag:yaml.org,2002:seq"

Path_ = tuple[Any, ...]
_DECIMAL_INT = re.compile(r"^[-+]?(0|[1-9][0-9]*)$")


@dataclass
class Document:
    """A parsed YAML file: plain data plus the line of every path in it."""

    file: str
    data: Any
    lines: dict[Path_, int] = field(default_factory=dict)
    sha256: str = ""

    def line_of(self, path: Path_) -> int | None:
        """The line of the deepest existing prefix of ``path`` (1-based)."""
        p = tuple(path)
        while p:
            if p in self.lines:
                return self.lines[p]
            p = p[:-1]
        return self.lines.get((), 1)

    def rule_id_of(self, path: Path_) -> str | None:
        """The ``id`` (or ``code``) of the innermost mapping on ``path`` that has one."""
        node = self.data
        found: str | None = None
        for part in path:
            if isinstance(node, dict):
                for key in ("id", "code"):
                    if isinstance(node.get(key), str):
                        found = node[key]
                        break
                if part not in node:
                    break
                node = node[part]
            elif isinstance(node, list) and isinstance(part, int) and 0 <= part < len(node):
                node = node[part]
            else:
                break
        if isinstance(node, dict):
            for key in ("id", "code"):
                if isinstance(node.get(key), str):
                    return str(node[key])
        return found

    def issue(self, path: Path_, message: str, severity: str = "error") -> RulebookIssue:
        return RulebookIssue(
            file=self.file,
            line=self.line_of(path),
            message=message,
            rule_id=self.rule_id_of(path),
            path=_dotted(path) or None,
            severity=severity,
        )


def _dotted(path: Path_) -> str:
    out = ""
    for p in path:
        out += f"[{p}]" if isinstance(p, int) else (f".{p}" if out else str(p))
    return out


def read(path: Path, display: str | None = None) -> Document:
    """Read one YAML file into a :class:`Document`, or raise :class:`RulebookError`."""
    name = display or str(path)
    try:
        size = path.stat().st_size
    except OSError as exc:
        raise _fail(name, None, f"无法读取文件：{exc.strerror}") from None
    if size > MAX_BYTES:
        raise _fail(name, None, f"文件过大（{size} 字节，上限 {MAX_BYTES} 字节）")
    raw = path.read_bytes()
    return parse(raw, name)


def parse(raw: bytes, name: str) -> Document:
    """Parse YAML bytes (the file's content) into a :class:`Document`."""
    if yaml is None:
        raise _fail(name, None, "未安装 PyYAML，无法读取 YAML 规则集（离线终端读取编译成 JSON 的规则集）")
    if len(raw) > MAX_BYTES:
        raise _fail(name, None, f"文件过大（{len(raw)} 字节，上限 {MAX_BYTES} 字节）")
    if b"\x00" in raw:
        raise _fail(name, None, "文件含有二进制内容（NUL 字节），不是 YAML 文本")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise _fail(name, None, f"文件不是 UTF-8 编码（第 {exc.start} 字节）") from None
    _long_lines(text, name)
    doc = Document(file=name, data=None, sha256=hashlib.sha256(raw).hexdigest())
    doc.data = _build(text, doc)
    return doc


def _long_lines(text: str, name: str) -> None:
    """Refuse a line longer than MAX_LINE characters (junk, or a whole file on one line)."""
    if len(text) <= MAX_LINE:
        return
    for n, line in enumerate(text.split("\n"), 1):
        if len(line) > MAX_LINE:
            raise _fail(name, n, f"行过长（{len(line)} 个字符，上限 {MAX_LINE}）")


_NO_KEY: Any = object()


def _build(text: str, doc: Document) -> Any:
    """The file's data, built in one pass over libyaml's events (no node tree), recording the line
    of every path in ``doc.lines``. Refused before anything large is built: aliases, deep nesting,
    too many nodes or entries; and, as each value comes, unsafe or unknown tags, merge keys,
    duplicate or non-string keys."""
    name = doc.file
    resolve = _RESOLVER.resolve
    # per open collection: [container, its path, pending key (mappings), the key's line, entries, limit, line]
    stack: list[list[Any]] = []
    root: Any = _NO_KEY
    count = 0
    try:
        for event in yaml.parse(text, Loader=_Loader):
            count += 1  # every event, as the node limit has always counted them
            if count > MAX_NODES:
                raise _fail(name, None, f"节点过多（上限 {MAX_NODES}）")
            cls = type(event)
            if cls is yaml.MappingEndEvent or cls is yaml.SequenceEndEvent:
                frame = stack.pop()
                root = _attach(stack, frame[0], frame[1], doc, root)
                continue
            if cls is not yaml.ScalarEvent and cls is not yaml.MappingStartEvent and cls is not yaml.SequenceStartEvent:
                if cls is yaml.AliasEvent:
                    raise _fail(name, event.start_mark.line + 1, "不允许使用 YAML 别名（*alias）")
                continue  # stream and document events
            line = event.start_mark.line + 1
            top = stack[-1] if stack else None
            if top is not None:
                top[4] += 1
                if top[4] > top[5]:
                    raise _fail(name, top[6], f"映射或列表的条目过多（上限 {MAX_ENTRIES}）")
            key_expected = top is not None and top[2] is _NO_KEY and type(top[0]) is dict
            if cls is yaml.ScalarEvent:
                tag = event.tag if event.tag not in (None, "!") else resolve(yaml.ScalarNode, event.value, event.implicit)
                if key_expected:
                    assert top is not None
                    if tag == "tag:yaml.org,2002:merge":
                        raise _fail(name, line, "不允许使用 YAML 合并键（<<）")
                    if tag not in (_STR, _INT, _TS, _BOOL):
                        raise _fail(name, line, "映射的键必须是字符串")
                    key = int(event.value) if tag == _INT else event.value
                    if key in top[0]:
                        raise _fail(name, line, f"重复的键：{key}")
                    top[2], top[3] = key, line
                    continue
                path = _child_path(top)
                doc.lines[path] = line
                root = _attach(stack, _scalar(tag, event.value, name, line), path, doc, root)
                continue
            if key_expected:
                raise _fail(name, line, "映射的键必须是字符串")
            if len(stack) + 1 > MAX_DEPTH:
                raise _fail(name, line, f"嵌套过深（上限 {MAX_DEPTH} 层）")
            mapping = cls is yaml.MappingStartEvent
            kind = yaml.MappingNode if mapping else yaml.SequenceNode
            tag = event.tag if event.tag not in (None, "!") else resolve(kind, None, event.implicit)
            if tag != (_MAP if mapping else _SEQ):
                raise _fail(name, line, f"不允许的 YAML 标签：{tag}")
            path = _child_path(top)
            doc.lines[path] = line
            stack.append([{} if mapping else [], path, _NO_KEY, None, 0, 2 * MAX_ENTRIES if mapping else MAX_ENTRIES, line])
    except yaml.reader.ReaderError as exc:  # a character YAML does not allow (control characters, ...)
        char = exc.character if isinstance(exc.character, int) else ord(str(exc.character)[:1] or "\0")
        line = text.count("\n", 0, exc.position) + 1 if isinstance(exc.position, int) else None
        raise _fail(name, line, f"文件含有不允许的字符 U+{char:04X}（控制字符等），不是 YAML 文本") from None
    except yaml.MarkedYAMLError as exc:
        line = exc.problem_mark.line + 1 if exc.problem_mark else None
        raise _fail(name, line, f"YAML 语法错误：{exc.problem}") from None
    except yaml.YAMLError as exc:
        raise _fail(name, None, f"YAML 错误：{exc}") from None
    if root is _NO_KEY:
        raise _fail(name, 1, "文件为空")
    return root


def _child_path(top: list[Any] | None) -> Path_:
    """The path of the value that starts now inside the open collection ``top`` (None: the root)."""
    if top is None:
        return ()
    return top[1] + ((top[2],) if type(top[0]) is dict else (len(top[0]),))


def _attach(stack: list[list[Any]], value: Any, path: Path_, doc: Document, root: Any) -> Any:
    """Put a finished value into the open collection, a mapping's entry at its key's line; the
    root's value (returned) when no collection is open."""
    if not stack:
        return value
    top = stack[-1]
    if type(top[0]) is dict:
        top[0][top[2]] = value
        doc.lines[path] = top[3]
        top[2] = _NO_KEY
    else:
        top[0].append(value)
    return root


def _scalar(tag: str, value: str, file: str, line: int) -> Any:
    if tag == _STR or tag == _TS:
        return value  # dates stay text; the models accept only YYYY-MM-DD
    if tag == _NULL:
        return None
    if tag == _BOOL:
        return _SAFE.bool_values[value.lower()]
    if tag == _INT:
        text = value.replace("_", "")
        if not _DECIMAL_INT.match(text):
            # YAML 1.1 reads 050000 as octal, 0x10 as hex and 1:30 as base 60: never what a lawyer means
            raise _fail(file, line, f"整数须写成十进制且不以 0 开头：{value}")
        return int(text)
    if tag == _FLOAT:
        text = value.replace("_", "")
        if ":" in text:
            raise _fail(file, line, f"不支持的数值（六十进制）：{value}")
        try:
            d = Decimal(text)
        except InvalidOperation:
            raise _fail(file, line, f"不支持的数值：{value}") from None
        if not d.is_finite():
            raise _fail(file, line, f"不支持的数值：{value}")
        return d
    raise _fail(file, line, f"不允许的 YAML 标签：{tag}")


def _fail(file: str, line: int | None, message: str) -> RulebookError:
    return RulebookError(message=message, issues=[RulebookIssue(file=file, line=line, message=message)])


M = TypeVar("M", bound=BaseModel)


def validate(doc: Document, model: type[M]) -> M:
    """Validate a document against a model; every error names file, line and rule id."""
    try:
        return model.model_validate(doc.data)
    except ValidationError as exc:
        issues = []
        for err in exc.errors():
            loc = _data_path(doc.data, err["loc"])
            msg = _message(err)
            issues.append(doc.issue(loc, msg))
        if len(issues) > MAX_ISSUES:
            more = len(issues) - MAX_ISSUES
            issues = issues[:MAX_ISSUES] + [RulebookIssue(doc.file, None, f"另有 {more} 处错误未列出")]
        raise RulebookError(message=f"{doc.file}：规则集校验失败", issues=issues) from None


def _data_path(data: Any, loc: tuple[Any, ...]) -> Path_:
    """Map a pydantic error location to a path in the data (skipping union tags)."""
    out: list[Any] = []
    node = data
    for part in loc:
        if isinstance(node, dict) and part in node:
            out.append(part)
            node = node[part]
        elif isinstance(node, list) and isinstance(part, int) and 0 <= part < len(node):
            out.append(part)
            node = node[part]
        elif isinstance(node, dict) and not out and False:
            break
        else:
            # a union tag or a key that is missing: keep the missing key for the message
            if isinstance(part, str) and isinstance(node, dict) and part not in _UNION_TAGS:
                out.append(part)
                node = None
    return tuple(out)


_UNION_TAGS = {"range", "up_to", "rate", "multiple", "per_unit", "FactDef", "FactRef", "str"}


_TYPE_MESSAGES = {
    "model_type": "须为映射（键: 值）",
    "model_attributes_type": "须为映射（键: 值）",
    "dict_type": "须为映射（键: 值）",
    "list_type": "须为列表",
    "string_type": "须为字符串",
}


def _message(err: Any) -> str:
    kind = err["type"]
    loc = err["loc"]
    last = loc[-1] if loc else ""
    if kind in _TYPE_MESSAGES:
        return _TYPE_MESSAGES[kind]
    if kind == "extra_forbidden":
        return f"未知的键“{last}”（拼写错误？）"
    if kind == "missing":
        return f"缺少必填项“{last}”"
    if kind == "union_tag_invalid":
        return f"未知的 kind：{err.get('input')!r}，允许的值为 range、up_to、rate、multiple、per_unit"
    if kind == "literal_error":
        return f"取值不允许：{err.get('input')!r}（{err['msg']}）"
    msg = str(err["msg"])
    if msg.startswith("Value error, "):
        msg = msg[len("Value error, "):]
    return msg
