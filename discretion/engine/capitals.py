"""Amounts of money in Chinese capitals (大写金额), as written on a penalty decision: 375000 →
人民币叁拾柒万伍仟元整.

The rules are those of 中国人民银行《支付结算办法》附件一《正确填写票据和结算凭证的基本规定》:

- 壹贰叁肆伍陆柒捌玖 and 拾佰仟万亿; ten is 壹拾 (100000 → 壹拾万元整);
- a zero between digits is written 零, a run of zeros once (10005 → 壹万零伍元整; 1000005 →
  壹佰万零伍元整); zeros at the end of a group of four digits are not written, and where the 万
  or 元 place is zero but the next digit is not, no 零 is written (107000 → 壹拾万柒仟元整, the
  second form the rules allow);
- whole yuan end with 整; 角 without 分 end there (壹元伍角); 元 followed by a zero 角 and some
  分 writes 零 (壹拾元零伍分); less than one yuan begins with the 角 or 分 (伍角).

Money is int yuan or Decimal; a Decimal with more than two decimal places, a negative amount or
one of 10^16 yuan and more is refused (ValueError), never rounded.
"""

from __future__ import annotations

from decimal import Decimal

DIGITS = "零壹贰叁肆伍陆柒捌玖"
_PLACES = ("", "拾", "佰", "仟")
_GROUPS = ("", "万", "亿", "万亿")
LIMIT = 10**16  # 万亿 is the largest group written here


def _group(n: int) -> str:
    """0 < n < 10000 in capitals with its places; zeros inside written as one 零, trailing ones not."""
    out = []
    zero = False
    for place in range(3, -1, -1):
        d = n // 10**place % 10
        if d == 0:
            zero = bool(out)  # a zero after a written digit: 零 before the next non-zero digit
            continue
        if zero:
            out.append("零")
            zero = False
        out.append(DIGITS[d] + _PLACES[place])
    return "".join(out)


def _yuan(n: int) -> str:
    """Whole yuan 0 < n < LIMIT in capitals, without 元."""
    groups = []
    while n:
        n, g = divmod(n, 10000)
        groups.append(g)
    out: list[str] = []
    pending_zero = False
    for i in range(len(groups) - 1, -1, -1):
        g = groups[i]
        if g == 0:
            pending_zero = bool(out)
            continue
        if out and (pending_zero or g < 1000):  # zeros between this group's first digit and the last one written
            out.append("零")
        pending_zero = False
        out.append(_group(g) + _GROUPS[i])
    return "".join(out)


def capitals(amount: int | Decimal) -> str:
    """``amount`` yuan in capitals without the currency: 375000 → 叁拾柒万伍仟元整; Decimal("12.30")
    → 壹拾贰元叁角; 0 → 零元整."""
    if isinstance(amount, bool) or not isinstance(amount, (int, Decimal)):
        raise TypeError("金额须为整数元或 Decimal")
    if isinstance(amount, Decimal):
        if not amount.is_finite():
            raise ValueError("金额须为有限数")
        cents = amount * 100
        if cents != cents.to_integral_value():
            raise ValueError("金额最多精确到分")
        total = int(cents)
    else:
        total = amount * 100
    if total < 0:
        raise ValueError("金额不能为负数")
    if total >= LIMIT * 100:
        raise ValueError("金额过大")
    whole, rest = divmod(total, 100)
    jiao, fen = divmod(rest, 10)
    if rest == 0:
        return (_yuan(whole) if whole else "零") + "元整"
    out = _yuan(whole) + "元" if whole else ""
    if jiao:
        out += DIGITS[jiao] + "角"
    elif whole:
        out += "零"  # 元 followed by a zero 角 and some 分
    if fen:
        out += DIGITS[fen] + "分"
    return out


def rmb(amount: int | Decimal) -> str:
    """人民币 and the amount in capitals: 人民币叁拾柒万伍仟元整."""
    return "人民币" + capitals(amount)
