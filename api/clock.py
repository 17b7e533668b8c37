"""The day it is in China: the service's one Beijing time zone, "today" for every default and check
that needs it, and the refusal of case dates after today.

The library's date checks are given the day (they do not read the clock); every "today" of the
service, its web form and its command line comes from here, in Beijing time (UTC+8, no daylight saving), so
that a server whose clock runs in UTC agrees with the officer's calendar between 00:00 and 08:00.
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from discretion.engine.case import Case

BEIJING = dt.timezone(dt.timedelta(hours=8), "UTC+8")


def today() -> dt.date:
    """Today in Beijing time."""
    return dt.datetime.now(BEIJING).date()


def refuse_future(case: Case, day: dt.date | None = None) -> Case:
    """``case`` unless one of its act or discovery dates lies after ``day`` (today in Beijing time):
    then 422 ``date_in_future`` naming the first such date (:func:`discretion.engine.inputs.future_problems`)."""
    from discretion.engine.inputs import future_problems  # here: the commands import this module for today() alone
    from discretion.errors import InputError

    problems = future_problems(case.violation_date, case.violation_end_date, case.discovered_date, day or today())
    if problems:
        field, message = problems[0]
        raise InputError(message=message, code="date_in_future", field=field)
    return case
