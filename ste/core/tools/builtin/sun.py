"""Sunrise, sunset, day length, golden hour and moon phase for a city and date (astral)."""
from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

from astral import Observer, moon
from astral import sun as astral_sun

from ste.core.tools.base import Tool
from ste.core.tools.builtin import timezones
from ste.core.tools.builtin.cities import CITY_PARAM, resolve_city
from ste.core.tools.builtin.timezones import parse_day

DATE_PARAM = {"type": "string", "format": "date", "description": "optional date in YYYY-MM-DD form; default is today",
              "examples": ["2026-06-21", "2026-12-21", "2026-03-20", "2026-09-01"]}
# astral's phase runs 0..28 days; names by the usual quarter boundaries.
MOON_PHASES = [(1, "New Moon"), (6.5, "Waxing Crescent"), (8, "First Quarter"), (13.5, "Waxing Gibbous"),
               (15, "Full Moon"), (20.5, "Waning Gibbous"), (22, "Last Quarter"), (27, "Waning Crescent"),
               (28.1, "New Moon")]


def _place(city: str) -> tuple[dict, Observer, ZoneInfo]:
    rec = resolve_city(city)
    return rec, Observer(rec["latitude"], rec["longitude"]), ZoneInfo(rec["timezone"])


def _hm(moment: dt.datetime) -> str:
    return moment.strftime("%H:%M")


def _polar(observer: Observer, day: dt.date, zone: ZoneInfo) -> str:
    """"midnight sun" or "polar night": whether the sun is up at local noon on a day it never crosses the horizon."""
    noon = dt.datetime.combine(day, dt.time(12), zone)
    return "midnight sun" if astral_sun.elevation(observer, noon) > 0 else "polar night"


def _header(rec: dict, day: dt.date) -> dict:
    return {"city": rec["name"], "country_code": rec["countrycode"], "date": day.isoformat(), "timezone": rec["timezone"]}


def make_functions(today: dt.date) -> dict:
    def get_sun_times(city: str, date: str | None = None) -> dict:
        rec, obs, zone = _place(city)
        day = parse_day(date, today)
        out = _header(rec, day)
        try:
            times = astral_sun.sun(obs, date=day, tzinfo=zone)
        except ValueError:
            return {**out, "note": f"no sunrise or sunset: {_polar(obs, day, zone)}"}
        return {**out, **{k: _hm(v) for k, v in times.items()}}

    def get_day_length(city: str, date: str | None = None) -> dict:
        rec, obs, zone = _place(city)
        day = parse_day(date, today)
        try:
            rise, set_ = astral_sun.daylight(obs, date=day, tzinfo=zone)
            minutes = round((set_ - rise).total_seconds() / 60)
            note = None
        except ValueError:
            note = _polar(obs, day, zone)
            minutes = 24 * 60 if note == "midnight sun" else 0
        out = {**_header(rec, day), "day_length": f"{minutes // 60} h {minutes % 60:02d} min", "minutes": minutes}
        return {**out, "note": note} if note else out

    def get_golden_hour(city: str, date: str | None = None) -> dict:
        rec, obs, zone = _place(city)
        day = parse_day(date, today)
        out = _header(rec, day)
        try:
            morning = astral_sun.golden_hour(obs, day, astral_sun.SunDirection.RISING, zone)
            evening = astral_sun.golden_hour(obs, day, astral_sun.SunDirection.SETTING, zone)
        except ValueError:
            return {**out, "note": f"no golden hour: {_polar(obs, day, zone)}"}
        return {**out, "morning": {"start": _hm(morning[0]), "end": _hm(morning[1])},
                "evening": {"start": _hm(evening[0]), "end": _hm(evening[1])}}

    def get_moon_phase(date: str | None = None) -> dict:
        day = parse_day(date, today)
        age = moon.phase(day)
        name = next(label for limit, label in MOON_PHASES if age < limit)
        return {"date": day.isoformat(), "phase": name, "moon_age_days": round(age, 1),
                "illumination_note": "0 = new moon, about 14 = full moon, 28 = next new moon"}

    return {f.__name__: f for f in (get_sun_times, get_day_length, get_golden_hour, get_moon_phase)}


def tools(today: dt.date) -> list[Tool]:
    f = make_functions(today)
    city_date = {"type": "object", "properties": {"city": CITY_PARAM, "date": DATE_PARAM}, "required": ["city"]}
    return [
        Tool("get_sun_times",
             "Get dawn, sunrise, solar noon, sunset and dusk in local time for a city on a date (default today).",
             "astronomy", city_date, f["get_sun_times"],
             ["When does the sun rise in Helsinki tomorrow?", "What time is sunset in Cape Town on New Year's Eve?"],
             load=timezones.load),
        Tool("get_day_length", "Get how long the sun is above the horizon in a city on a date (default today).",
             "astronomy", city_date, f["get_day_length"],
             ["How many hours of daylight does Oslo get at midsummer?", "How long is the shortest day in Edinburgh?"],
             load=timezones.load),
        Tool("get_golden_hour",
             "Get the morning and evening golden hour (soft light for photos) in local time for a city on a date.",
             "astronomy", city_date, f["get_golden_hour"],
             ["When is the best light for photos in Santorini this evening?", "When is golden hour in Kyoto on 10 April?"],
             load=timezones.load),
        Tool("get_moon_phase", "Get the moon's phase and age in days on a date (default today).", "astronomy",
             {"type": "object", "properties": {"date": DATE_PARAM}, "required": []}, f["get_moon_phase"],
             ["Will there be a full moon next Friday?", "What phase is the moon in on my birthday, 3 August?"]),
    ]
