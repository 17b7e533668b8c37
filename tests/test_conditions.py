"""discretion.rulebooks.conditions: the whitelisted condition language, parsed without eval, compiled two ways."""

from __future__ import annotations

import itertools
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from discretion.engine._durable import DurableMatcher
from discretion.rulebooks import conditions as C
from discretion.rulebooks.compiler import Rule, RuleSet
from discretion.rulebooks.conditions import And, Cmp, ConditionSyntaxError, Or

# --- accepted forms ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text, tree",
    [
        ("serious", Cmp("serious", "==", True)),
        ("  serious  ", Cmp("serious", "==", True)),
        ("not serious", Cmp("serious", "==", False)),
        ('eia_document == "report"', Cmp("eia_document", "==", "report")),
        ('eia_document != "form"', Cmp("eia_document", "!=", "form")),
        ("occurrences < 3", Cmp("occurrences", "<", 3)),
        ("exceedance_ratio <= 0.1", Cmp("exceedance_ratio", "<=", Decimal("0.1"))),
        ("x > -2", Cmp("x", ">", -2)),
        ("x >= -0.5", Cmp("x", ">=", Decimal("-0.5"))),
        ("serious == True", Cmp("serious", "==", True)),
        ("serious == False", Cmp("serious", "==", False)),
        ('medium in ("air", "water")', Or((Cmp("medium", "==", "air"), Cmp("medium", "==", "water")))),
        ("n in [1, 2]", Or((Cmp("n", "==", 1), Cmp("n", "==", 2)))),
        ('medium in ("air",)', Cmp("medium", "==", "air")),
        ('medium not in ("air", "water")', And((Cmp("medium", "!=", "air"), Cmp("medium", "!=", "water")))),
        ("a and b", And((Cmp("a", "==", True), Cmp("b", "==", True)))),
        ("a or b", Or((Cmp("a", "==", True), Cmp("b", "==", True)))),
        (
            "a and b or c",
            Or((And((Cmp("a", "==", True), Cmp("b", "==", True))), Cmp("c", "==", True))),
        ),
        (
            "(a or b) and not c",
            And((Or((Cmp("a", "==", True), Cmp("b", "==", True))), Cmp("c", "==", False))),
        ),
    ],
)
def test_accepted_forms_parse_to_their_tree(text: str, tree: C.Node) -> None:
    """Each documented form parses to the expected comparison tree."""
    assert C.parse(text) == tree


def test_decimal_literals_keep_their_written_value() -> None:
    """0.1 in a condition is Decimal('0.1'), not the binary float 0.1000000000000000055…"""
    node = C.parse("x <= 0.1")
    assert isinstance(node, Cmp)
    assert type(node.value) is Decimal and node.value == Decimal("0.1")


def test_names_and_comparisons_list_what_a_condition_reads() -> None:
    """names() and comparisons() report every fact and test in order."""
    node = C.parse('(serious or not_corrected) and medium in ("air", "water") and n >= 2')
    assert C.names(node) == {"serious", "not_corrected", "medium", "n"}
    assert [(c.name, c.op, c.value) for c in C.comparisons(node)] == [
        ("serious", "==", True),
        ("not_corrected", "==", True),
        ("medium", "==", "air"),
        ("medium", "==", "water"),
        ("n", ">=", 2),
    ]


def test_always_is_the_empty_conjunction_and_matches_everything() -> None:
    """The empty condition is always true for the reference evaluator."""
    assert C.to_predicate(C.always())({}) is True


# --- refused forms -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        "__import__('os')",
        "__import__('os').system('true')",
        "open('/etc/passwd')",
        "serious()",
        "os.system",
        "x.y == 1",
        "x[0] == 1",
        "x['a']",
        "lambda: x",
        "(lambda: 1)() == 1",
        "[i for i in x]",
        "{i for i in x}",
        "{i: i for i in x}",
        "any(i for i in x)",
        "x + 1 > 2",
        "x == 1 + 2",
        "x == 2 ** 3",
        "-x > 1",
        "a & b",
        "a | b",
        "~a",
        "(x := 1)",
        "(x := 1) == 1",
        'f"{x}" == "a"',
        'x == f"{y}"',
        "0 < x <= 5",
        "x == 1 == 1",
        "1 < x",
        "x == y",
        "x is True",
        "x is not None",
        "x == None",
        'x == b"a"',
        "x == 1j",
        "x == ...",
        "x in ()",
        'x in "ab"',
        "x in [1, y]",
        "x if y else z",
        "True",
        "1",
        '"text"',
        "true",
        "x == 1 and",
        "",
        "(" * 300 + "x" + ")" * 300,
        "x or " * 500 + "x",
    ],
)
def test_refused_forms_raise_condition_syntax_error(text: str) -> None:
    """Calls, attributes, subscripts, lambdas, comprehensions, arithmetic, walrus, f-strings,
    chained comparisons, names on the right and constants alone are all refused."""
    with pytest.raises(ConditionSyntaxError):
        C.parse(text)


@pytest.mark.parametrize("text", ["not (a and b)", "not not a", "not x == 1", "not True", 'not "a"', "not (a or b)"])
def test_not_applies_only_to_a_single_name(text: str) -> None:
    """`not` is allowed on one boolean name only, never on a group or a comparison."""
    with pytest.raises(ConditionSyntaxError):
        C.parse(text)


@pytest.mark.parametrize("text", ["x == 1e999", "x < -1e999"])
def test_non_finite_literal_is_refused(text: str) -> None:
    """A literal that is infinite (1e999) is not a number a rule may compare with: the loader refuses
    .inf in YAML and the rules engine refuses the ruleset, so the parser must refuse it too."""
    with pytest.raises(ConditionSyntaxError):
        C.parse(text)


def test_overlong_condition_is_refused() -> None:
    """A condition longer than MAX_CONDITION_LENGTH is refused before it is parsed."""
    with pytest.raises(ConditionSyntaxError):
        C.parse(" or ".join(["a"] * (C.MAX_CONDITION_LENGTH // 4 + 10)))


def test_refusal_message_is_chinese() -> None:
    """The refusal reaches a rulebook author, so it is written in Chinese."""
    with pytest.raises(ConditionSyntaxError) as exc:
        C.parse("0 < x <= 5")
    assert any("\u4e00" <= ch <= "\u9fff" for ch in str(exc.value))


# --- the reference predicate -------------------------------------------------------------------


@pytest.mark.parametrize(
    "text, facts, expected",
    [
        ("serious", {"serious": True}, True),
        ("serious", {"serious": False}, False),
        ("serious", {}, False),
        ("not serious", {"serious": False}, True),
        ("not serious", {}, False),
        ('x != "a"', {}, False),
        ('x != "a"', {"x": None}, False),
        ('x != "a"', {"x": "b"}, True),
        ("x < 5", {}, False),
        ("x < 5", {"x": None}, False),
        ("x <= 0.1", {"x": Decimal("0.1")}, True),
        ("x <= 0.1", {"x": Decimal("0.1000001")}, False),
        ("x == 0.1", {"x": Decimal("0.10")}, True),
        ("x == 1", {"x": Decimal("1.0")}, True),
        ("x == 1", {"x": "1"}, False),
        ('x in ("a", "b")', {"x": "b"}, True),
        ('x not in ("a", "b")', {"x": "c"}, True),
        ('x not in ("a", "b")', {}, False),
        ("x >= -1", {"x": -1}, True),
        ("x > 5 or y", {"x": 3, "y": True}, True),
        ("x > 5 and y", {"x": 6, "y": False}, False),
    ],
)
def test_predicate_evaluates_examples(text: str, facts: dict[str, Any], expected: bool) -> None:
    """The reference predicate gives the expected answer; a missing fact satisfies no comparison."""
    assert C.to_predicate(C.parse(text))(facts) is expected


@pytest.mark.parametrize(
    "text, facts, expected",
    [
        ("x == 1", {"x": True}, True),
        ("x == 0", {"x": False}, True),
        ("x == True", {"x": 1}, True),
        ("x >= 1", {"x": True}, True),
        ("x != 1", {"x": True}, False),
        ("x == 1", {"x": "1"}, False),
    ],
)
def test_predicate_compares_booleans_as_numbers_like_the_engine(text: str, facts: dict[str, Any], expected: bool) -> None:
    """The reference evaluator follows durable_rules: true is 1 and false is 0, strings never equal numbers
    (valid rulebooks never mix them: the checker refuses a bool fact compared with a number)."""
    assert C.to_predicate(C.parse(text))(facts) is expected


# --- to_durable and to_predicate agree ------------------------------------------------------------

_names = itertools.count()


@pytest.fixture(scope="module")
def matcher() -> DurableMatcher:
    return DurableMatcher()


def durable_fires(matcher: DurableMatcher, text: str, facts: dict[str, Any]) -> bool:
    node = C.parse(text)
    rs = RuleSet(
        name=f"conditions-test-{next(_names)}",
        violation=None,  # type: ignore[arg-type]
        edition=None,
        edition_key=None,
        rules=[Rule("r", "test", None, node, None)],
        facts={},
        bools=(),
        circumstances=(),
    )
    return matcher.match(rs, dict(facts)) == ["r"]


def test_to_durable_writes_the_engine_condition_dicts() -> None:
    """Comparisons compile to durable_rules operators; Decimal literals become numbers."""
    assert C.to_durable(C.parse('eia_document == "report"')) == {"eia_document": "report"}
    assert C.to_durable(C.parse("x <= 0.1")) == {"$lte": {"x": 0.1}}
    assert C.to_durable(C.parse("a and not b")) == {"$and": [{"a": True}, {"b": False}]}
    assert C.to_durable(C.parse('m in ("air", "water")')) == {"$or": [{"m": "air"}, {"m": "water"}]}
    assert C.to_durable(C.parse("x != 2")) == {"$neq": {"x": 2}}


AGREEMENT = [
    ("serious", {"serious": True}),
    ("serious", {"serious": False}),
    ("not serious", {"serious": False}),
    ("not serious", {"serious": True}),
    ('x != "a"', {"x": "b"}),
    ('x != "a"', {"x": "a"}),
    ('x != "a"', {}),
    ("x < 5", {}),
    ("x < 5", {"x": 4}),
    ("x < 5", {"x": 5}),
    ("x <= 0.1", {"x": Decimal("0.1")}),
    ("x <= 0.1", {"x": Decimal("0.11")}),
    ("x == 0.1", {"x": Decimal("0.10")}),
    ("x == 1", {"x": Decimal("1.0")}),
    ('x in ("a", "b")', {"x": "b"}),
    ('x in ("a", "b")', {"x": "c"}),
    ('x not in ("a", "b")', {"x": "c"}),
    ('x not in ("a", "b")', {"x": "a"}),
    ('x not in ("a", "b")', {}),
    ("x >= -1", {"x": -1}),
    ("x > 5 or y", {"x": 3, "y": True}),
    ("x > 5 and y", {"x": 6, "y": False}),
    ("(a or b) and not c", {"a": False, "b": True, "c": False}),
    ("(a or b) and not c", {"a": True, "b": True, "c": True}),
    ('n >= 2 and m == "air"', {"n": 2, "m": "air"}),
    ('n >= 2 and m == "air"', {"n": 1, "m": "air"}),
]


@pytest.mark.parametrize("text, facts", AGREEMENT)
def test_durable_and_reference_agree_on_examples(matcher: DurableMatcher, text: str, facts: dict[str, Any]) -> None:
    """The rules engine fires a compiled condition exactly when the reference predicate holds."""
    assert durable_fires(matcher, text, facts) is C.to_predicate(C.parse(text))(facts)


@pytest.mark.parametrize(
    "text, facts",
    [
        ("x == 1", {"x": True}),
        ("x == True", {"x": 1}),
        ("x == 0", {"x": False}),
        ("x != 1", {"x": True}),
    ],
)
def test_durable_and_reference_agree_where_a_boolean_meets_a_number(matcher: DurableMatcher, text: str, facts: dict[str, Any]) -> None:
    """Even where a boolean meets a number (which the rulebook checker and the case checks keep
    apart) both matchers fire the same rules."""
    assert durable_fires(matcher, text, facts) is C.to_predicate(C.parse(text))(facts)


def _words(name: str) -> str:
    return {"eia_document": "环评文件类型", "serious": "情节严重", "tonnes": "年产生量", "no_harm": "没有造成危害后果"}.get(name, name)


def _value(name: str, v: object) -> str:
    if isinstance(v, str):
        return f"“{ {'report': '报告书', 'form': '报告表'}.get(v, v) }”"
    return f"{v}{'吨' if name == 'tonnes' else ''}"


@pytest.mark.parametrize(("text", "said"), [
    ('eia_document == "report"', "“环评文件类型”为“报告书”"),
    ('eia_document in ("report", "form")', "“环评文件类型”为“报告书”或“报告表”"),
    ('eia_document not in ("report", "form")', "“环评文件类型”不为“报告书”、“报告表”"),
    ("not serious", "非“情节严重”"),
    ("tonnes >= 0.5 and tonnes < 3", "“年产生量”不小于0.5吨，且“年产生量”小于3吨"),
    ('no_harm and (serious or eia_document != "form")', "“没有造成危害后果”，且（“情节严重”，或“环评文件类型”不为“报告表”）"),
    ("mitigating_count >= 2", "“mitigating_count”不小于2"),
])
def test_a_condition_is_described_in_words_with_labels_units_and_brackets(text: str, said: str) -> None:
    """describe(): names by their labels, values by their choice labels or with units, 且/或 with nested groups
    bracketed, ``in`` as 或 and ``not in`` as a list, ``not x`` as 非; a name without a label as it is."""
    assert C.describe(C.parse(text), _words, _value) == said


# --- the reference predicate's closures are the tree's meaning --------------------------------------

_VALUES = st.one_of(st.booleans(), st.integers(-3, 3), st.sampled_from(["a", "b", "c"]), st.sampled_from([Decimal("0.5"), Decimal("2")]))
_CMPS = st.builds(Cmp, st.sampled_from(["x", "y", "z"]), st.sampled_from(["==", "!=", "<", "<=", ">", ">="]), _VALUES)
_NODES = st.recursive(
    _CMPS,
    lambda inner: st.one_of(
        st.builds(And, st.lists(inner, max_size=5).map(tuple)), st.builds(Or, st.lists(inner, max_size=5).map(tuple))
    ),
    max_leaves=12,
)
_FACTS = st.dictionaries(st.sampled_from(["x", "y", "z"]), _VALUES)


def _meaning(node: C.Node, facts: dict[str, Any]) -> bool:
    """The tree evaluated the plain way: a conjunction holds when every part holds, a disjunction
    when one does (the empty ones: true and false), a comparison by its own predicate."""
    if isinstance(node, Cmp):
        return C.to_predicate(node)(facts)
    parts = [_meaning(p, facts) for p in node.parts]
    return all(parts) if isinstance(node, And) else any(parts)


@settings(max_examples=400, deadline=None)
@given(_NODES, _FACTS)
def test_predicate_of_and_or_of_any_arity_is_the_plain_meaning(node: C.Node, facts: dict[str, Any]) -> None:
    """The reference predicate, made of closures per arity (and a set lookup for ``in`` over
    strings), holds exactly when the plain evaluation of the tree does, and is a bool."""
    assert C.to_predicate(node)(facts) is _meaning(node, facts)


@pytest.mark.parametrize("value", ["air", "soil", None, 1, True, Decimal("1")])
def test_in_over_strings_matches_only_those_strings(value: Any) -> None:
    """``name in ("air", "water")`` holds for those strings only, never for another type."""
    facts = {} if value is None else {"m": value}
    assert C.to_predicate(C.parse('m in ("air", "water", "noise")'))(facts) is (value == "air")
