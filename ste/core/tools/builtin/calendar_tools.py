"""Date arithmetic on the Gregorian calendar; "today" is the date the toolbox was built with, never the clock."""
from __future__ import annotations

import datetime as dt

from ste.core.tools.base import Tool

DATE_SPEC = {"type": "string", "pattern": r"^\d{4}-\d{2}-\d{2}$", "description": "A date in ISO 8601 form (YYYY-MM-DD)."}
MAX_DAYS = 3_000_000  # about 8,000 years either way


def _date(text: str, what: str = "date") -> dt.date:
    try:
        return dt.date.fromisoformat(text.strip())
    except ValueError:
        raise ValueError(f"{what} {text!r} is not a real calendar date in YYYY-MM-DD form") from None


def _describe(day: dt.date) -> dict:
    iso = day.isocalendar()
    return {"date": day.isoformat(), "weekday": day.strftime("%A"), "iso_weekday": iso.weekday,
            "is_weekend": iso.weekday >= 6, "day_of_year": day.timetuple().tm_yday}


def _weekdays(start: dt.date, end: dt.date) -> int:
    """Monday-to-Friday days from `start` (counted) up to `end` (not counted); negative when end < start."""
    if end < start:
        return -_weekdays(end, start)
    weeks, rest = divmod((end - start).days, 7)
    return weeks * 5 + sum((start.weekday() + i) % 7 < 5 for i in range(rest))


def day_of_week(date: str) -> dict:
    """The weekday of a date, whether it is a weekend day, and its day of the year."""
    return _describe(_date(date))


def days_between(start_date: str, end_date: str) -> dict:
    """Days, weeks and weekdays from one date to another (negative when the end is earlier)."""
    start, end = _date(start_date, "start_date"), _date(end_date, "end_date")
    days = (end - start).days
    weeks, rest = divmod(abs(days), 7)
    return {"start_date": start.isoformat(), "end_date": end.isoformat(), "days": days,
            "weeks_and_days": {"weeks": weeks, "days": rest}, "weekdays": _weekdays(start, end)}


def add_days(date: str, days: int) -> dict:
    """The date a number of days after (or, if negative, before) a date."""
    if abs(days) > MAX_DAYS:
        raise ValueError(f"days must be between -{MAX_DAYS} and {MAX_DAYS}")
    try:
        result = _date(date) + dt.timedelta(days=days)
    except OverflowError:
        raise ValueError("the result falls outside the years 1 to 9999") from None
    return {"start_date": _date(date).isoformat(), "days_added": days, **_describe(result)}


def week_number(date: str) -> dict:
    """The ISO 8601 week number (weeks start on Monday; week 1 holds the first Thursday) of a date."""
    day = _date(date)
    iso = day.isocalendar()
    monday = day - dt.timedelta(days=iso.weekday - 1)
    return {"date": day.isoformat(), "iso_year": iso.year, "iso_week": iso.week,
            "week_starts": monday.isoformat(), "week_ends": (monday + dt.timedelta(days=6)).isoformat()}


def days_until(date: str, today: dt.date) -> dict:
    """Days from today to a date: positive in the future, negative in the past."""
    target = _date(date)
    days = (target - today).days
    return {"today": today.isoformat(), "date": target.isoformat(), "days": days,
            "weekdays": _weekdays(today, target), "in_past": days < 0, "weekday": target.strftime("%A")}


def tools(today: dt.date) -> list[Tool]:
    def dates(*names: str, extra: dict | None = None, examples: list[list[str]]) -> dict:
        props = {n: {**DATE_SPEC, "examples": ex} for n, ex in zip(names, examples)}
        props.update(extra or {})
        return {"type": "object", "properties": props, "required": list(props), "additionalProperties": False}

    def until(date: str) -> dict:
        return days_until(date, today)

    return [
        Tool(
            name="day_of_week",
            description=("Tell which day of the week a date falls on, whether that is a weekend, "
                         "and its day of the year."),
            category="calendar",
            parameters=dates("date", examples=[["1969-07-20", "2025-12-25"]]),
            func=day_of_week,
            examples=["What day of the week was 20 July 1969?", "Is Christmas 2031 on a weekend?"],
        ),
        Tool(
            name="days_between",
            description=("Count the days from a start date to an end date, also as weeks and days, and the number "
                         "of weekdays (Monday to Friday; the start date counted, the end date not)."),
            category="calendar",
            parameters=dates("start_date", "end_date",
                             examples=[["2024-01-01", "1990-05-17"], ["2024-12-31", "2025-03-01"]]),
            func=days_between,
            examples=["How many days are there between 1 March and 15 June 2025?",
                      "How many working days are there from 2026-02-02 to 2026-02-27?"],
        ),
        Tool(
            name="add_days",
            description="Find the date a given number of days after a date (a negative number counts backwards).",
            category="calendar",
            parameters=dates("date", examples=[["2025-03-14", "2024-02-28"]], extra={
                "days": {"type": "integer", "minimum": -MAX_DAYS, "maximum": MAX_DAYS,
                         "description": "Days to add; negative to go back in time.", "examples": [90, -30, 1000]}}),
            func=add_days,
            examples=["What date is 90 days after 14 March 2025?", "Which date was 1000 days before 2024-06-01?"],
        ),
        Tool(
            name="week_number",
            description=("Give the ISO 8601 week number of a date, its week-based year, and the Monday and Sunday "
                         "of that week."),
            category="calendar",
            parameters=dates("date", examples=[["2025-06-18", "2027-01-01"]]),
            func=week_number,
            examples=["Which calendar week is 18 June 2025 in?", "What ISO week number does 1 January 2027 have?"],
        ),
        Tool(
            name="days_until",
            description=("Count the days from today to a date: positive for a future date, negative for a past one; "
                         "also the weekdays in between and the weekday of the date."),
            category="calendar",
            parameters=dates("date", examples=[[(today + dt.timedelta(days=45)).isoformat(),
                                                (today - dt.timedelta(days=10)).isoformat()]]),
            func=until,
            examples=["How many days are left until New Year's Eve?", "How long ago was 1 January of this year?"],
        ),
    ]
