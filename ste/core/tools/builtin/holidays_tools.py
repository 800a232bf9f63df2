"""Public holidays by country and year (the `holidays` package), with English names where available."""
from __future__ import annotations

import datetime as dt
import re
from typing import Any

import holidays

from ste.core.tools.base import Tool
from ste.core.tools.builtin import countries
from ste.core.tools.builtin.countries import COUNTRY_PARAM, country_name, resolve_country

MIN_YEAR, MAX_YEAR = 1950, 2100
YEAR_PARAM = {"type": "integer", "minimum": MIN_YEAR, "maximum": MAX_YEAR, "description": "a 4-digit calendar year",
              "examples": [2025, 2026, 2027]}
DATE_PARAM = {"type": "string", "format": "date", "description": "a date in YYYY-MM-DD form",
              "examples": ["2026-12-25", "2026-05-01", "2026-07-04"]}
SUBDIV_PARAM = {"type": "string", "description": "optional state, province or region code inside the country",
                "examples": ["CA", "BY", "ON", "NSW"]}


def parse_date(value: str, what: str = "date") -> dt.date:
    """A date from YYYY-MM-DD text; ValueError naming the expected form."""
    try:
        return dt.date.fromisoformat(str(value).strip())
    except ValueError:
        raise ValueError(f"{what} {value!r} is not a date in YYYY-MM-DD form") from None


def _language(cls: holidays.HolidayBase) -> str | None:
    """English names where the country's calendar has them."""
    return "en_US" if "en_US" in (cls.supported_languages or ()) else None


def load() -> None:
    """Import every country's holiday calendar and read its English names (holidays does both on first use), and
    read the country data that resolves a country."""
    countries.load()
    for code in holidays.list_supported_countries():
        if len(code) == 2:  # the alpha-2 codes _calendar asks for (the list has alpha-3 aliases too)
            holidays.country_holidays(code, language=_language(holidays.country_holidays(code)))


def _calendar(country: str, years: Any, subdivision: str | None = None) -> tuple[holidays.HolidayBase, str]:
    rec = resolve_country(country)
    if rec.alpha_2 not in holidays.list_supported_countries():
        raise ValueError(f"public holidays are not available for {country_name(rec)}")
    years = [years] if isinstance(years, int) else list(years)
    if any(not MIN_YEAR <= y <= MAX_YEAR for y in years):
        raise ValueError(f"year must be between {MIN_YEAR} and {MAX_YEAR}")
    cls = holidays.country_holidays(rec.alpha_2)
    language = _language(cls)
    subdiv = subdivision.strip().upper() if subdivision else None
    if subdiv and subdiv not in (cls.subdivisions or ()):
        known = ", ".join(cls.subdivisions) or "none"
        raise ValueError(f"unknown subdivision {subdivision!r} for {country_name(rec)}; known codes: {known}")
    cal = holidays.country_holidays(rec.alpha_2, subdiv=subdiv, years=years, language=language)
    return cal, country_name(rec)


def _rows(cal: holidays.HolidayBase, start: dt.date, end: dt.date) -> list[dict]:
    return [{"date": d.isoformat(), "name": name} for d, name in sorted(cal.items()) if start <= d <= end]


def get_public_holidays(country: str, year: int, subdivision: str | None = None) -> dict:
    cal, name = _calendar(country, year, subdivision)
    rows = _rows(cal, dt.date(year, 1, 1), dt.date(year, 12, 31))
    return {"country": name, "year": year, "count": len(rows), "holidays": rows}


def is_public_holiday(country: str, date: str, subdivision: str | None = None) -> dict:
    day = parse_date(date)
    cal, name = _calendar(country, day.year, subdivision)
    names = cal.get_list(day)
    return {"country": name, "date": day.isoformat(), "weekday": day.strftime("%A"),
            "is_holiday": bool(names), "holidays": names}


def get_holidays_between(country: str, start_date: str, end_date: str, subdivision: str | None = None) -> dict:
    start, end = parse_date(start_date, "start_date"), parse_date(end_date, "end_date")
    if end < start:
        raise ValueError("end_date must not be before start_date")
    if (end - start).days > 366 * 5:
        raise ValueError("the range may span at most 5 years")
    cal, name = _calendar(country, range(start.year, end.year + 1), subdivision)
    rows = _rows(cal, start, end)
    return {"country": name, "start_date": start.isoformat(), "end_date": end.isoformat(),
            "count": len(rows), "holidays": rows}


def _words(name: str) -> set[str]:
    """The words of a holiday name, apostrophes dropped and British spellings made American ("Labour" = "Labor")."""
    text = re.sub(r"['’]s?\b", "", name.lower()).replace("our", "or")
    return set(re.findall(r"[a-z0-9]+", text))


def find_holiday_date(country: str, holiday_name: str, year: int) -> dict:
    cal, name = _calendar(country, year)
    wanted = _words(holiday_name)
    if not wanted:
        raise ValueError("holiday_name must not be empty")
    rows = [r for r in _rows(cal, dt.date(year, 1, 1), dt.date(year, 12, 31)) if wanted <= _words(r["name"])]
    if not rows:
        raise ValueError(f"no holiday named like {holiday_name!r} in {name} in {year}")
    return {"country": name, "year": year, "matches": rows}


def _next_holiday(today: dt.date):
    def get_next_public_holiday(country: str, after_date: str | None = None, subdivision: str | None = None) -> dict:
        start = parse_date(after_date, "after_date") if after_date else today
        cal, name = _calendar(country, [start.year, start.year + 1], subdivision)
        for day, label in sorted(cal.items()):
            if day > start:
                return {"country": name, "after": start.isoformat(), "date": day.isoformat(),
                        "weekday": day.strftime("%A"), "name": label, "days_until": (day - start).days}
        raise ValueError(f"no public holiday in {name} within a year after {start.isoformat()}")

    return get_next_public_holiday


def _schema(required: list[str], **props: dict) -> dict:
    return {"type": "object", "properties": props, "required": required}


def tools(today: dt.date) -> list[Tool]:
    return [
        Tool("get_public_holidays",
             "List the public holidays of a country in a given year, with dates and English names; "
             "optionally for one state or region.",
             "holidays", _schema(["country", "year"], country=COUNTRY_PARAM, year=YEAR_PARAM,
                                 subdivision=SUBDIV_PARAM),
             get_public_holidays,
             ["What are the bank holidays in Ireland next year?", "Which days off do workers in Mexico get in 2026?"],
             load=load),
        Tool("is_public_holiday",
             "Check whether a date is a public holiday in a country (optionally in one state or region) "
             "and name the holiday.",
             "holidays", _schema(["country", "date"], country=COUNTRY_PARAM, date=DATE_PARAM,
                                 subdivision=SUBDIV_PARAM),
             is_public_holiday,
             ["Are shops likely closed in Italy on the 2nd of June 2026?", "Is the first of November a holiday in Poland?"],
             load=load),
        Tool("get_holidays_between",
             "List the public holidays of a country between two dates, both included.",
             "holidays", _schema(["country", "start_date", "end_date"], country=COUNTRY_PARAM,
                                 start_date=DATE_PARAM, end_date=DATE_PARAM, subdivision=SUBDIV_PARAM),
             get_holidays_between,
             ["Which holidays fall during my trip to Spain from 1 to 20 April 2026?",
              "Any public holidays in Canada between mid-December and mid-January?"], load=load),
        Tool("find_holiday_date",
             "Find the date of a named holiday (or holidays whose name contains the given words) "
             "in a country and year.",
             "holidays", _schema(["country", "holiday_name", "year"], country=COUNTRY_PARAM,
                                 holiday_name={"type": "string", "description": "the holiday's English name or part of it",
                                               "examples": ["Easter Monday", "Labor Day", "Christmas", "Thanksgiving"]},
                                 year=YEAR_PARAM),
             find_holiday_date,
             ["When is Easter Monday in Germany in 2027?", "What date is Thanksgiving in the US this year?"],
             load=load),
        Tool("get_next_public_holiday",
             "Get the next public holiday in a country after today (or after a given date) and how many days away it is.",
             "holidays", _schema(["country"], country=COUNTRY_PARAM,
                                 after_date={**DATE_PARAM, "description": "optional start date in YYYY-MM-DD form; "
                                             "default is today"},
                                 subdivision=SUBDIV_PARAM),
             _next_holiday(today),
             ["When is the next day off in Japan?", "How long until the next public holiday in New Zealand?"],
             load=load),
    ]
