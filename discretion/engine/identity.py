"""Who a case is against: the check characters of the two identity codes a party may carry, and
the masking of a personal identity number.

- 统一社会信用代码 (GB 32100-2015, units: enterprises, 个体工商户, institutions, …): 18 characters
  from the 31 of :data:`USCC_CHARS` (digits and capital letters without I, O, S, V, Z); the 18th is
  the check character of the first 17 (MOD 31, weights ``3**i mod 31``).
- 公民身份号码 (GB 11643-1999, individuals): 17 digits (address, date of birth ``YYYYMMDD``,
  sequence) and a check digit ``0``–``9`` or ``X`` (ISO 7064 MOD 11-2, weights ``2**(17-i) mod 11``).

Either check finds every change of a single character (the moduli are prime and no weight is 0),
and every swap of two neighbouring characters but those whose weighted difference happens to be a
multiple of the modulus (tests/test_identity.py). The engine never reads a party's identity: this is
case data kept with the record and printed on its documents (api/casedata.py, api/documents/).
"""

from __future__ import annotations

import datetime as dt
from typing import Literal

PartyKind = Literal["unit", "individual"]

USCC_CHARS = "0123456789ABCDEFGHJKLMNPQRTUWXY"  # GB 32100-2015 表 1: 31 characters, value = index
_USCC_VALUE = {c: i for i, c in enumerate(USCC_CHARS)}
USCC_WEIGHTS = tuple(pow(3, i, 31) for i in range(17))  # 1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28

CITIZEN_WEIGHTS = tuple(pow(2, 17 - i, 11) for i in range(17))  # 7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2
_CITIZEN_CHECK = "10X98765432"  # check digit for (weighted sum mod 11) = 0 … 10

CODE_LABELS: dict[str, str] = {"unit": "统一社会信用代码", "individual": "公民身份号码"}
KIND_LABELS: dict[str, str] = {"unit": "单位", "individual": "个人"}


def uscc_check_char(body: str) -> str:
    """The check character of the first 17 characters of a 统一社会信用代码 (GB 32100-2015 §4.2):
    ``C18 = 31 − (Σ Ci × Wi mod 31)``, 31 written as ``0``. Raises ValueError for another length or
    a character outside :data:`USCC_CHARS`."""
    if len(body) != 17 or any(c not in _USCC_VALUE for c in body):
        raise ValueError("统一社会信用代码的前 17 位须为数字或大写字母（不含 I、O、S、V、Z）")
    total = sum(_USCC_VALUE[c] * w for c, w in zip(body, USCC_WEIGHTS))
    return USCC_CHARS[(31 - total % 31) % 31]


def citizen_check_digit(body: str) -> str:
    """The check digit of the first 17 digits of a 公民身份号码 (GB 11643-1999 §8.2, ISO 7064 MOD 11-2):
    ``(12 − Σ ai × Wi mod 11) mod 11``, 10 written as ``X``. Raises ValueError unless 17 digits."""
    if len(body) != 17 or not body.isascii() or not body.isdigit():
        raise ValueError("公民身份号码的前 17 位须为数字")
    total = sum(int(c) * w for c, w in zip(body, CITIZEN_WEIGHTS))
    return _CITIZEN_CHECK[total % 11]


def is_uscc(code: str) -> bool:
    """Whether ``code`` is a well-formed 统一社会信用代码 whose check character is right."""
    return len(code) == 18 and all(c in _USCC_VALUE for c in code) and uscc_check_char(code[:17]) == code[17]


def _birth_date(code: str) -> dt.date | None:
    try:
        return dt.date(int(code[6:10]), int(code[10:12]), int(code[12:14]))
    except ValueError:
        return None


def is_citizen_id(code: str) -> bool:
    """Whether ``code`` is a well-formed 公民身份号码: 17 digits with a real date of birth at digits
    7–14, and the right check digit."""
    return (len(code) == 18 and code[:17].isascii() and code[:17].isdigit() and code[17] in "0123456789X"
            and _birth_date(code) is not None and citizen_check_digit(code[:17]) == code[17])


def normalise(code: str) -> str:
    """An identity code as compared and stored: without surrounding spaces, letters in capitals
    (``x`` → ``X``: both codes use capitals only)."""
    return code.strip().upper()


def id_code_problem(code: str, kind: PartyKind) -> tuple[str, str] | None:
    """Why ``code`` (normalised) cannot be the identity code of a party of ``kind``: (error code,
    Chinese message), or None when it is right. The message never repeats the code (error answers
    may be logged by a client) nor says which check character would be right (that would only help
    to hide a mistyped character elsewhere)."""
    label = CODE_LABELS[kind]
    if kind == "unit":
        if is_uscc(code):
            return None
        if is_citizen_id(code):
            return ("id_code_kind_mismatch", "所填为公民身份号码，而当事人是单位：单位填写统一社会信用代码；"
                                             "当事人是个人的，请将当事人类型改为个人")
        if len(code) != 18:
            return ("invalid_id_code", f"{label}须为 18 位（现为 {len(code)} 位）")
        if any(c not in _USCC_VALUE for c in code):
            return ("invalid_id_code", f"{label}只含数字和大写字母（不含 I、O、S、V、Z）")
        return ("invalid_id_code", f"{label}校验不通过（第 18 位校验码与前 17 位不符），请逐位核对")
    if is_citizen_id(code):
        return None
    if is_uscc(code):
        return ("id_code_kind_mismatch", "所填为统一社会信用代码，而当事人是个人：个人填写公民身份号码；"
                                         "个体工商户等持有统一社会信用代码的，当事人类型请选单位")
    if len(code) != 18:
        return ("invalid_id_code", f"{label}须为 18 位（现为 {len(code)} 位；15 位的旧号码请换用 18 位号码）")
    if not (code[:17].isascii() and code[:17].isdigit()) or code[17] not in "0123456789X":
        return ("invalid_id_code", f"{label}前 17 位须为数字，第 18 位为数字或 X")
    if _birth_date(code) is None:
        return ("invalid_id_code", f"{label}第 7 至 14 位不是有效的出生日期")
    return ("invalid_id_code", f"{label}校验不通过（第 18 位校验码与前 17 位不符），请逐位核对")


def masked(code: str, kind: PartyKind) -> str:
    """An identity code as lists, pages and logs may show it: a unit's 统一社会信用代码 in full (it is
    public: printed on the business licence and in the national credit register); a personal
    identity number with only its first 4 and last 4 characters, ``5301**********1234``."""
    if kind == "unit":
        return code
    if len(code) <= 8:
        return "*" * len(code)
    return code[:4] + "*" * (len(code) - 8) + code[-4:]
