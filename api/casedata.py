"""The case's identity (案号, the party, its address, the place of the violation): the optional
``case`` object of ``POST /v1/assessments``, the web form and ``discretion assess --input``.

It is checked here the same way for all three (:func:`settle`): bounded single-line text without
control characters, and the party's identity code by its check character
(:mod:`discretion.engine.identity`) and against the party's kind. The engine never reads it; the
record keeps it on the hash chain beside the request (``api/storage``), and the documents print it
(``api/documents``). A personal identity number is shown in full only in the record itself
(``GET /v1/assessments/{id}``) and in the documents served on the party; lists and pages mask it
(:func:`discretion.engine.identity.masked`), and nothing here is ever logged.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, StringConstraints

from discretion.engine.identity import CODE_LABELS, KIND_LABELS, id_code_problem, masked, normalise
from discretion.errors import InputError

from .limits import UNWRITABLE_MESSAGE, unwritable

MAX_NUMBER = 64  # 案号, e.g. 昆环罚〔2026〕12号
MAX_PARTY_NAME = 100  # a unit's registered name runs to some 50 characters
MAX_ID_CODE = 32  # bounded here; the check wants exactly 18 (invalid_id_code otherwise)
MAX_PLACE = 200  # an address, the place of the violation
# The search of case numbers and party names (GET /v1/assessments?q=, the /cases page): bounded, and
# without control characters (a NUL cannot reach PostgreSQL as a parameter).
MAX_SEARCH = 64
SEARCH_PATTERN = r"^[^\x00-\x1f\x7f]*$"  # the API asks for at least one character


def _one_line(text: str) -> str:
    """Text of one line that a record may hold: no control character at all (no line break or tab
    either: these fields are printed on one line of a document), and not blank. The message starts
    like every refused character's (api.limits.UNWRITABLE_MESSAGE: 422 ``invalid_character``)."""
    problem = unwritable(text)
    if problem is None:
        bad = next((i for i, ch in enumerate(text) if ch in "\t\n\r"), None)
        if bad is not None:
            problem = f"{UNWRITABLE_MESSAGE}换行或制表符（U+{ord(text[bad]):04X}，第 {bad + 1} 个字符）：此项须为一行文字"
    if problem is not None:
        raise ValueError(problem)
    if not text.strip():
        raise ValueError("不能只有空白")
    return text


OneLine = AfterValidator(_one_line)
Number = Annotated[str, StringConstraints(min_length=1, max_length=MAX_NUMBER), OneLine]
PartyName = Annotated[str, StringConstraints(min_length=1, max_length=MAX_PARTY_NAME), OneLine]
IdCode = Annotated[str, StringConstraints(min_length=1, max_length=MAX_ID_CODE), OneLine]
Place = Annotated[str, StringConstraints(min_length=1, max_length=MAX_PLACE), OneLine]


class PartyIn(BaseModel):
    """当事人."""

    model_config = ConfigDict(extra="forbid")

    name: PartyName = Field(description=f"当事人姓名或者名称（1–{MAX_PARTY_NAME} 个字符）")
    kind: Literal["unit", "individual"] = Field(
        description="当事人类型：unit 单位（含个体工商户等持有统一社会信用代码者）；individual 个人。"
                    "须与请求的 party 一致（未给出 party 时以此为准），否则 422 party_mismatch")
    id_code: IdCode | None = Field(
        default=None,
        description="单位的统一社会信用代码（GB 32100-2015）或个人的公民身份号码（GB 11643-1999），18 位，按校验码核验："
                    "校验不通过 422 invalid_id_code，与当事人类型不符 422 id_code_kind_mismatch（field 为 case.party.id_code）；"
                    "小写字母按大写保存。列表和页面中个人的号码只显示前 4 位和后 4 位")


class CaseIn(BaseModel):
    """案件信息（可选）：随记录存入哈希链，打印在结果页和文书上；引擎不读取。"""

    model_config = ConfigDict(extra="forbid")

    number: Number | None = Field(default=None, description=f"案号（1–{MAX_NUMBER} 个字符），可用 GET /v1/assessments?q= 检索")
    party: PartyIn | None = Field(default=None, description="当事人")
    address: Place | None = Field(default=None, description=f"当事人地址（住所、经营场所，1–{MAX_PLACE} 个字符）")
    location: Place | None = Field(default=None, description=f"违法地点（1–{MAX_PLACE} 个字符）")

    @property
    def empty(self) -> bool:
        return self.number is None and self.party is None and self.address is None and self.location is None


_MESSAGES = {"missing": "缺少必填项", "extra_forbidden": "不允许的字段", "literal_error": "取值不在允许范围内",
             "string_too_short": "不能为空", "string_type": "须为文字", "model_type": "须为 JSON 对象", "model_attributes_type": "须为 JSON 对象"}


def message_of(err: Mapping[str, Any]) -> str:
    """A pydantic error of the case in Chinese (for the form and the command line; the API's
    error handler has its own)."""
    if err["type"] == "string_too_long":
        return f"最多 {err['ctx']['max_length']} 个字符"
    msg = str(err["msg"]).removeprefix("Value error, ")
    return _MESSAGES.get(err["type"]) or (msg if any("\u4e00" <= ch <= "\u9fff" for ch in msg) else "输入无效")


def check(case: CaseIn, party: str | None) -> CaseIn:
    """The case with its party's identity code normalised (:func:`~discretion.engine.identity.normalise`)
    and checked. ``party``: the kind the rest of the input gives (the request's ``party``), or None
    when it gives none. Raises InputError ``invalid_id_code`` or ``id_code_kind_mismatch`` (field
    ``case.party.id_code``) and ``party_mismatch`` (field ``case.party.kind``)."""
    p = case.party
    if p is None:
        return case
    if party is not None and party != p.kind:
        raise InputError(message=f"当事人类型不一致：case.party.kind 为{KIND_LABELS[p.kind]}，party 为{KIND_LABELS[party]}",
                         code="party_mismatch", field="case.party.kind")
    if p.id_code is None:
        return case
    code = normalise(p.id_code)
    problem = id_code_problem(code, p.kind)
    if problem is not None:
        raise InputError(message=problem[1], code=problem[0], field="case.party.id_code")
    return case.model_copy(update={"party": p.model_copy(update={"id_code": code})})


def settle(case: CaseIn | None, party: str | None) -> tuple[CaseIn | None, str | None]:
    """A request's case checked (:func:`check`; an empty ``case`` ({}) is no case), and the party
    kind to assess: the request's ``party`` as given (None: not given), else the kind the case's
    party has, so that the engine assesses the party the case names. Both given and different:
    422 ``party_mismatch``."""
    if case is None or case.empty:
        return None, party
    case = check(case, party)
    return case, party if case.party is None else case.party.kind


def stored(case: CaseIn | None) -> dict[str, Any] | None:
    """The case as the record keeps it (every key, null when not given), or None."""
    return None if case is None else case.model_dump(mode="json")


def lines(case: Mapping[str, Any] | None, *, mask: bool) -> list[tuple[str, str]]:
    """A stored case as (label, text) lines for a page or a document, in the order a decision
    names them; a personal identity number masked when ``mask``."""
    if not case:
        return []
    out = []
    if case.get("number"):
        out.append(("案号", case["number"]))
    party = case.get("party")
    if party:
        out.append(("当事人", f"{party['name']}（{KIND_LABELS[party['kind']]}）"))
        if party.get("id_code"):
            code = masked(party["id_code"], party["kind"]) if mask else party["id_code"]
            out.append((CODE_LABELS[party["kind"]], code))
    if case.get("address"):
        out.append(("当事人地址", case["address"]))
    if case.get("location"):
        out.append(("违法地点", case["location"]))
    return out
