"""discretion.rulebooks.loading: safe YAML reading, with file and line for every refusal."""

from __future__ import annotations

import shutil
import time
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from rulebook_tree import edit, line_of, refusal

from discretion.errors import RulebookError
from discretion.rulebooks import loading, tree
from discretion.rulebooks.loaded import RulebookSet

SHIPPED = tree.SHIPPED
VIOLATION = "law/violations/water_over_standard.yaml"
# the pre2026 provision's fine line, unique in the file
ANCHOR = "fine: {kind: range, min: 100000, max: 1000000}\n        measures:\n          - {id: order_correction, text: 责令改正或者责令限制生产、停产整治}"


def make_tree(tmp_path: Path) -> Path:
    """A minimal rulebook tree: the law layer and one violation type, copied from the shipped set."""
    root = tmp_path / "rulebooks"
    (root / "law" / "violations").mkdir(parents=True)
    shutil.copy(SHIPPED / "law" / "law.yaml", root / "law" / "law.yaml")
    shutil.copy(SHIPPED / VIOLATION, root / VIOLATION)
    return root


def parse_refusal(text: str | bytes, name: str = "x.yaml") -> RulebookError:
    raw = text.encode("utf-8") if isinstance(text, str) else text
    with pytest.raises(RulebookError) as exc:
        loading.parse(raw, name)
    assert len(exc.value.issues) == 1
    assert exc.value.issues[0].file == name
    return exc.value


def walk(data: Any) -> list[Any]:
    out = [data]
    if isinstance(data, dict):
        for k, v in data.items():
            out += walk(k) + walk(v)
    elif isinstance(data, (list, tuple)):
        for v in data:
            out += walk(v)
    return out


# --- sanity of the fixture -----------------------------------------------------------------


def test_the_minimal_tree_loads_before_it_is_broken(tmp_path: Path) -> None:
    """The copied law layer and violation load, so every refusal below is caused by the one break."""
    rs = tree.load(make_tree(tmp_path))
    assert list(rs.violations) == ["water_over_standard"]


# --- duplicate and unknown keys ----------------------------------------------------------------


def test_duplicate_key_is_refused_with_its_line(tmp_path: Path) -> None:
    """A key given twice in one mapping is refused at the line of the second occurrence."""
    root = make_tree(tmp_path)
    path = root / VIOLATION
    edit(path, "circumstances: []\n", "circumstances: []\ncircumstances: [minor]\n")
    err = refusal(root)
    issue = err.issues[0]
    assert issue.file == "rulebooks/" + VIOLATION
    assert issue.line == line_of(path, "circumstances: [minor]")
    assert "重复的键" in issue.message and "circumstances" in issue.message


def test_duplicate_key_in_a_nested_mapping_is_refused() -> None:
    """Duplicates are refused at any depth, not only at the top of the file."""
    err = parse_refusal("a:\n  b: 1\n  c: 2\n  b: 3\n")
    assert err.issues[0].line == 4
    assert "b" in err.issues[0].message


def test_unknown_key_names_the_key_file_and_line(tmp_path: Path) -> None:
    """A misspelt key is an error naming the key, the file, its line and the rule it sits in."""
    root = make_tree(tmp_path)
    path = root / VIOLATION
    edit(path, ANCHOR, ANCHOR.replace("\n        measures:", "\n        mesures: []\n        measures:"))
    err = refusal(root)
    assert len(err.issues) == 1
    issue = err.issues[0]
    assert "mesures" in issue.message
    assert issue.file == "rulebooks/" + VIOLATION
    assert issue.line == line_of(path, "mesures")
    assert issue.rule_id == "water-83-2"
    assert f"rulebooks/{VIOLATION}:{issue.line}" in str(err)


def test_unknown_key_inside_a_fine_form_is_refused(tmp_path: Path) -> None:
    """Unknown keys are refused inside the discriminated fine forms too."""
    root = make_tree(tmp_path)
    path = root / VIOLATION
    edit(path, ANCHOR, ANCHOR.replace("max: 1000000}", "max: 1000000, maximum: 2000000}"))
    issue = refusal(root).issues[0]
    assert "maximum" in issue.message
    assert issue.line == line_of(path, "maximum: 2000000")


def test_non_string_key_is_refused() -> None:
    """A complex (sequence) key is refused: mapping keys must be plain strings."""
    err = parse_refusal("? [a, b]\n: 1\n")
    assert "键" in err.issues[0].message


# --- wrong types and dates ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "old, new",
    [
        ("    years: 5\n", "    years: five\n"),
        ("    years: 5\n", "    years: [5]\n"),
        ("    mandatory: true\n", "    mandatory: maybe\n"),
    ],
    ids=["text-for-int", "list-for-int", "text-for-bool"],
)
def test_value_of_the_wrong_type_is_refused_with_its_line(tmp_path: Path, old: str, new: str) -> None:
    """A value of the wrong type is refused naming the file and the value's line."""
    root = make_tree(tmp_path)
    path = root / "law" / "law.yaml"
    text = path.read_text(encoding="utf-8")
    path.write_text(text.replace(old, new, 1), encoding="utf-8")
    issue = refusal(root).issues[0]
    assert issue.file == "rulebooks/law/law.yaml"
    assert issue.line == line_of(path, new.strip())


def test_keywords_given_as_text_instead_of_a_list_are_refused(tmp_path: Path) -> None:
    """A list field given a plain string is refused."""
    root = make_tree(tmp_path)
    path = root / VIOLATION
    edit(path, "keywords: [超标排放, 超总量, 水污染物, 废水超标]", "keywords: 超标排放")
    issue = refusal(root).issues[0]
    assert issue.line == line_of(path, "keywords: 超标排放")


@pytest.mark.parametrize("bad", ["2026/8/15", "20260815", "2026-8-15", "15.08.2026", "2026-02-30", "2026-08-15T00:00:00"])
def test_non_iso_date_is_refused(tmp_path: Path, bad: str) -> None:
    """Dates must be written YYYY-MM-DD (and be real days); anything else is refused at its line."""
    root = make_tree(tmp_path)
    path = root / "law" / "law.yaml"
    edit(path, "effective_from: 2021-07-15\neffective_to: null", f"effective_from: {bad}\neffective_to: null")
    err = refusal(root)
    issue = err.issues[0]
    assert issue.file == "rulebooks/law/law.yaml"
    assert issue.line == line_of(path, f"effective_from: {bad}")
    assert issue.path == "effective_from"


def test_iso_dates_stay_text_after_reading() -> None:
    """The loader keeps a date as its text; only the models turn YYYY-MM-DD into a date."""
    doc = loading.parse(b"d: 2026-08-15\n", "x.yaml")
    assert doc.data == {"d": "2026-08-15"}


# --- unsafe and unknown tags --------------------------------------------------------------------------


def test_python_object_tag_is_refused_and_never_executed(tmp_path: Path) -> None:
    """!!python/object/apply:os.system is refused with its line, and the command never runs."""
    marker = tmp_path / "pwned"
    text = f"title: ok\nrun: !!python/object/apply:os.system ['touch {marker}']\n"
    err = parse_refusal(text)
    assert err.issues[0].line == 2
    assert "标签" in err.issues[0].message
    assert not marker.exists()


@pytest.mark.parametrize(
    "text",
    [
        "a: !!python/name:os.system ''\n",
        "a: !!python/tuple [1, 2]\n",
        "a: !custom x\n",
        "a: !custom {b: 1}\n",
        "a: !custom [1]\n",
        "a: !!binary aGVsbG8=\n",
        "a: !!set {x: null}\n",
    ],
)
def test_unsafe_or_unknown_tag_is_refused(text: str) -> None:
    """Every tag outside plain YAML (python, custom, binary, set) is refused."""
    err = parse_refusal(text)
    assert err.issues[0].line == 1
    assert "标签" in err.issues[0].message


def test_tag_in_a_rulebook_file_refuses_the_whole_set(tmp_path: Path) -> None:
    """An unsafe tag inside a violation file refuses the set, naming that file and line."""
    root = make_tree(tmp_path)
    path = root / VIOLATION
    edit(path, "title: 超过水污染物排放标准", "title: !!python/object/apply:os.getcwd []\ntitle2: 超过水污染物排放标准")
    issue = refusal(root).issues[0]
    assert issue.file == "rulebooks/" + VIOLATION
    assert issue.line == line_of(path, "!!python/object/apply")


# --- aliases, merge keys, nesting, size -----------------------------------------------------------


def test_alias_is_refused_with_its_line() -> None:
    """An alias (*x) is refused at the line where it is used."""
    err = parse_refusal("a: &x 1\nb: *x\n")
    assert err.issues[0].line == 2
    assert "别名" in err.issues[0].message


def test_billion_laughs_is_refused_quickly() -> None:
    """The billion-laughs document is refused before anything is expanded, in well under a second."""
    lines = ['lol0: &lol0 "lol"']
    for i in range(1, 10):
        refs = ", ".join([f"*lol{i - 1}"] * 10)
        lines.append(f"lol{i}: &lol{i} [{refs}]")
    text = "\n".join(lines) + "\n"
    start = time.perf_counter()
    err = parse_refusal(text)
    assert time.perf_counter() - start < 1.0
    assert "别名" in err.issues[0].message


def test_merge_key_is_refused() -> None:
    """A merge key (<<) is refused even without an alias."""
    err = parse_refusal("base:\n  x: 1\nchild:\n  <<: {x: 1}\n  y: 2\n")
    assert err.issues[0].line == 4
    assert "合并键" in err.issues[0].message


def test_merge_key_with_alias_is_refused() -> None:
    """The usual merge idiom (<<: *base) is refused."""
    err = parse_refusal("base: &b {x: 1}\nchild:\n  <<: *b\n")
    assert err.issues[0].line == 3


@pytest.mark.parametrize(
    "text",
    ["[" * 100 + "]" * 100, "{a: " * 100 + "1" + "}" * 100],
    ids=["lists", "mappings"],
)
def test_deep_nesting_is_refused(text: str) -> None:
    """A hundred nested lists or mappings are refused (the limit is MAX_DEPTH)."""
    err = parse_refusal(text)
    assert "嵌套过深" in err.issues[0].message


def test_nesting_at_the_limit_is_accepted() -> None:
    """Nesting exactly MAX_DEPTH deep is still read, so the limit is not off by one."""
    depth = loading.MAX_DEPTH
    doc = loading.parse(("[" * depth + "]" * depth).encode(), "x.yaml")
    node = doc.data
    for _ in range(depth - 1):
        assert isinstance(node, list) and len(node) == 1
        node = node[0]
    assert node == []


def test_oversized_file_is_refused(tmp_path: Path) -> None:
    """A file larger than MAX_BYTES is refused by its size, naming the file."""
    path = tmp_path / "big.yaml"
    pad = "#" + "x" * 1000 + "\n"
    with path.open("w", encoding="utf-8") as f:
        f.write("a: 1\n")
        f.write(pad * (loading.MAX_BYTES // len(pad) + 1))
    assert path.stat().st_size > loading.MAX_BYTES
    with pytest.raises(RulebookError) as exc:
        loading.read(path, "big.yaml")
    assert exc.value.issues[0].file == "big.yaml"
    assert "过大" in exc.value.issues[0].message


def test_oversized_bytes_are_refused_by_parse() -> None:
    """parse() enforces the same limit on bytes it is handed directly."""
    raw = b"a: 1\n" + b"#" * loading.MAX_BYTES
    err = parse_refusal(raw)
    assert "过大" in err.issues[0].message


def test_oversized_violation_file_refuses_the_whole_set(tmp_path: Path) -> None:
    """An oversized rulebook file refuses the set and names that file."""
    root = make_tree(tmp_path)
    path = root / VIOLATION
    with path.open("a", encoding="utf-8") as f:
        f.write(("#" + "x" * 1000 + "\n") * (loading.MAX_BYTES // 1000 + 1))
    err = refusal(root)
    assert [i.file for i in err.issues] == ["rulebooks/" + VIOLATION]


# --- binary junk and empty files ------------------------------------------------------------------


@pytest.mark.parametrize(
    "raw, word",
    [
        (b"a: 1\x00\n", "NUL"),
        (b"\x00\x01\x02\x03binary", "NUL"),
        (b"a: \xc3\x28\n", "UTF-8"),
        (b"\xff\xfea\x00:\x00", "NUL"),
        (b"title: \xe6\xb0\xb4\x80\n", "UTF-8"),
    ],
)
def test_binary_junk_is_refused(raw: bytes, word: str) -> None:
    """NUL bytes and invalid UTF-8 are refused as not being YAML text."""
    err = parse_refusal(raw)
    assert word in err.issues[0].message


def test_binary_junk_in_a_violation_file_refuses_the_whole_set(tmp_path: Path) -> None:
    """Binary junk in one file refuses the whole set, naming the file."""
    root = make_tree(tmp_path)
    (root / VIOLATION).write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR")
    err = refusal(root)
    assert [i.file for i in err.issues] == ["rulebooks/" + VIOLATION]


@pytest.mark.parametrize("text", ["", "\n\n", "# only a comment\n"], ids=["empty", "blank", "comment"])
def test_empty_file_is_refused(text: str) -> None:
    """A file with no content is refused as empty."""
    err = parse_refusal(text)
    assert "空" in err.issues[0].message


@pytest.mark.parametrize("text", ["", "---\n", "~\n"], ids=["empty", "marker", "null"])
def test_empty_violation_file_refuses_the_whole_set(tmp_path: Path, text: str) -> None:
    """An empty (or null) violation file refuses the set instead of being skipped."""
    root = make_tree(tmp_path)
    (root / VIOLATION).write_text(text, encoding="utf-8")
    err = refusal(root)
    assert [i.file for i in err.issues] == ["rulebooks/" + VIOLATION]


def test_yaml_syntax_error_names_its_line() -> None:
    """A syntax error is reported at the line where the parser found it."""
    err = parse_refusal("a: 1\nb: [1, 2\nc: 3\n")
    assert err.issues[0].line is not None and err.issues[0].line >= 2
    assert "语法" in err.issues[0].message


# --- numbers -------------------------------------------------------------------------------------


def test_floats_are_read_as_decimal_from_their_text() -> None:
    """A YAML float is read as the Decimal of its source text, never as a binary float."""
    doc = loading.parse(b"rate: 0.01\nmultiple: 3.0\ntiny: 0.1\nsep: 1_000.5\nexp: 1.5e+3\n", "x.yaml")
    assert doc.data == {
        "rate": Decimal("0.01"),
        "multiple": Decimal("3.0"),
        "tiny": Decimal("0.1"),
        "sep": Decimal("1000.5"),
        "exp": Decimal("1.5e+3"),
    }
    assert all(type(v) is Decimal for v in doc.data.values())
    assert str(doc.data["tiny"]) == "0.1"


@pytest.mark.parametrize("text", ["050000", "1:30"], ids=["octal", "base60"])
def test_integer_that_yaml_1_1_would_read_in_another_base_is_refused(text: str) -> None:
    """050000 (五万元 with a leading zero) must not silently become 20480, nor 1:30 become 90:
    a number YAML 1.1 reads as octal or base 60 is refused at its line."""
    with pytest.raises(RulebookError) as exc:
        doc = loading.parse(f"max: {text}\n".encode(), "x.yaml")
        pytest.fail(f"{text} was read as {doc.data['max']!r}")
    assert exc.value.issues[0].line == 1


@pytest.mark.parametrize("text", [".inf", "-.inf", ".nan", ".NaN"])
def test_non_finite_numbers_are_refused(text: str) -> None:
    """Infinity and NaN are not numbers a rulebook may hold."""
    err = parse_refusal(f"rate: {text}\n")
    assert err.issues[0].line == 1


def test_no_binary_float_anywhere_in_the_shipped_rulebooks(rulebooks: RulebookSet) -> None:
    """Neither the read documents nor the validated models of the shipped set hold a float."""
    docs = [rulebooks.law_doc] + [v.doc for v in rulebooks.violations.values()] + [e.doc for e in rulebooks.editions.values()]
    models = [rulebooks.law] + [v.model for v in rulebooks.violations.values()] + [e.effective for e in rulebooks.editions.values()]
    values = [x for d in docs for x in walk(d.data)] + [x for m in models for x in walk(m.model_dump())]
    assert not [x for x in values if isinstance(x, float)]
    assert any(isinstance(x, Decimal) for x in values)


@pytest.mark.parametrize("value", ["1.5", '"10万"', "1e5", "100000.0", '"100000"', "true", "-100000"])
def test_money_that_is_not_integer_yuan_is_refused(tmp_path: Path, value: str) -> None:
    """A money field given 1.5, "10万", 1e5, a float, text, a boolean or a negative amount is refused at its line."""
    root = make_tree(tmp_path)
    path = root / VIOLATION
    edit(path, ANCHOR, ANCHOR.replace("min: 100000,", f"min: {value},"))
    err = refusal(root)
    assert len(err.issues) == 1
    issue = err.issues[0]
    assert issue.line == line_of(path, f"min: {value}, max: 1000000")
    assert issue.path == "regimes.pre2026.provisions[0].fine.min"
    assert issue.rule_id == "water-83-2"
