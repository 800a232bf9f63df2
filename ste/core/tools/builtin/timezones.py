"""Time zones: local time in a city or zone, differences, conversions, zone at a point (zoneinfo, timezonefinder)."""
from __future__ import annotations

import datetime as dt
from functools import lru_cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from timezonefinder import TimezoneFinder

from ste.core.tools.base import Tool
from ste.core.tools.builtin import cities
from ste.core.tools.builtin.cities import LAT_PARAM, LON_PARAM, resolve_city

LOCATION_PARAM = {"type": "string", "description": "a city name (optionally with a comma and its country) or an "
                  "IANA time zone name", "examples": ["Tokyo", "Europe/Berlin", "Sydney", "America/New_York", "Asia/Dubai"]}
DATE_PARAM = {"type": "string", "format": "date", "description": "optional date in YYYY-MM-DD form; default is today",
              "examples": ["2026-03-29", "2026-07-01", "2026-12-24"]}


@lru_cache(maxsize=1)
def _finder() -> TimezoneFinder:
    return TimezoneFinder()


@lru_cache(maxsize=1)
def _zone_names() -> dict[str, str]:
    return {name.lower(): name for name in available_timezones()}


@lru_cache(maxsize=1)
def _zones() -> dict[str, ZoneInfo]:
    """Every IANA zone, read once and kept alive, so ZoneInfo(name) finds it in zoneinfo's cache."""
    return {name: ZoneInfo(name) for name in available_timezones()}


def load() -> None:
    """Read every IANA zone, timezonefinder's polygons and the city data (the sun tools share this loader)."""
    cities.load()
    _zone_names()
    _zones()
    _finder()


def resolve_zone(location: str) -> tuple[ZoneInfo, str]:
    """A ZoneInfo for an IANA name or a city, and a label for it."""
    text = str(location).strip()
    name = _zone_names().get(text.lower())
    if name:
        return ZoneInfo(name), name
    try:
        city = resolve_city(text)
    except ValueError:
        raise ValueError(f"unknown location {location!r}; use a city name or an IANA time zone "
                         "such as Region/City") from None
    try:
        return ZoneInfo(city["timezone"]), f"{city['name']} ({city['timezone']})"
    except ZoneInfoNotFoundError:
        raise ValueError(f"the time zone of {city['name']} is not known here") from None


def _parse(value: str | None, default: dt.datetime, what: str) -> dt.datetime:
    """An aware UTC datetime from ISO text (a naive value means UTC)."""
    if not value:
        return default
    try:
        moment = dt.datetime.fromisoformat(str(value).strip().replace("Z", "+00:00"))
    except ValueError:
        raise ValueError(f"{what} {value!r} is not an ISO date-time such as YYYY-MM-DDTHH:MM") from None
    return moment.replace(tzinfo=dt.timezone.utc) if moment.tzinfo is None else moment.astimezone(dt.timezone.utc)


def _offset_hours(moment: dt.datetime) -> float:
    return moment.utcoffset().total_seconds() / 3600


def _describe(moment: dt.datetime, label: str) -> dict:
    return {"location": label, "local_time": moment.strftime("%Y-%m-%d %H:%M"), "weekday": moment.strftime("%A"),
            "utc_offset": moment.strftime("%z")[:3] + ":" + moment.strftime("%z")[3:],
            "abbreviation": moment.tzname(), "daylight_saving": bool(moment.dst())}


def parse_day(date: str | None, today: dt.date) -> dt.date:
    if not date:
        return today
    try:
        return dt.date.fromisoformat(str(date).strip())
    except ValueError:
        raise ValueError(f"date {date!r} is not a date in YYYY-MM-DD form") from None


def make_functions(today: dt.date) -> dict:
    """The tool functions, with "now" fixed to noon UTC of `today` (deterministic)."""
    noon = dt.datetime.combine(today, dt.time(12), dt.timezone.utc)

    def get_local_time(location: str, utc_datetime: str | None = None) -> dict:
        zone, label = resolve_zone(location)
        moment = _parse(utc_datetime, noon, "utc_datetime")
        return {**_describe(moment.astimezone(zone), label), "utc_time": moment.strftime("%Y-%m-%d %H:%M")}

    def get_time_difference(from_location: str, to_location: str, date: str | None = None) -> dict:
        (za, la), (zb, lb) = resolve_zone(from_location), resolve_zone(to_location)
        moment = dt.datetime.combine(parse_day(date, today), dt.time(12), dt.timezone.utc)
        diff = _offset_hours(moment.astimezone(zb)) - _offset_hours(moment.astimezone(za))
        ahead = "ahead of" if diff > 0 else "behind" if diff < 0 else "the same as"
        return {"from": la, "to": lb, "date": moment.date().isoformat(), "difference_hours": diff,
                "summary": f"{lb} is {abs(diff):g} h {ahead} {la}" if diff else f"{lb} has the same time as {la}"}

    def convert_time(time: str, from_location: str, to_location: str, date: str | None = None) -> dict:
        (za, la), (zb, lb) = resolve_zone(from_location), resolve_zone(to_location)
        try:
            clock = dt.time.fromisoformat(str(time).strip())
        except ValueError:
            raise ValueError(f"time {time!r} is not a 24-hour time in HH:MM form") from None
        local = dt.datetime.combine(parse_day(date, today), clock.replace(tzinfo=None), za)
        return {"from": _describe(local, la), "to": _describe(local.astimezone(zb), lb)}

    def get_timezone_at(latitude: float, longitude: float) -> dict:
        name = _finder().timezone_at(lat=latitude, lng=longitude)
        if name is None:
            raise ValueError(f"no time zone is known at {latitude}, {longitude}")
        return {"latitude": latitude, "longitude": longitude, "timezone": name,
                **{k: v for k, v in _describe(noon.astimezone(ZoneInfo(name)), name).items() if k != "location"}}

    return {f.__name__: f for f in (get_local_time, get_time_difference, convert_time, get_timezone_at)}


def tools(today: dt.date) -> list[Tool]:
    f = make_functions(today)
    return [
        Tool("get_local_time",
             "Get the local date and time, UTC offset and daylight-saving state in a city or time zone, "
             "at a given UTC moment or now.",
             "time", {"type": "object", "properties": {
                 "location": LOCATION_PARAM,
                 "utc_datetime": {"type": "string", "description": "optional UTC moment as YYYY-MM-DDTHH:MM; "
                                  "default is now", "examples": ["2026-06-01T08:00", "2026-11-15T22:30"]}},
                 "required": ["location"]},
             f["get_local_time"], ["What time is it in Singapore right now?", "Is it daytime in Honolulu at the moment?"],
             load=load),
        Tool("get_time_difference",
             "Get how many hours one place is ahead of or behind another on a date (default today).",
             "time", {"type": "object", "properties": {"from_location": LOCATION_PARAM, "to_location": LOCATION_PARAM,
                                                        "date": DATE_PARAM},
                      "required": ["from_location", "to_location"]},
             f["get_time_difference"],
             ["How many hours ahead of London is Delhi?", "What's the time difference between Los Angeles and Paris?"],
             load=load),
        Tool("convert_time", "Convert a clock time on a date from one city or time zone to another.",
             "time", {"type": "object", "properties": {
                 "time": {"type": "string", "description": "a 24-hour clock time as HH:MM",
                          "examples": ["09:30", "18:00", "23:15"]},
                 "from_location": LOCATION_PARAM, "to_location": LOCATION_PARAM, "date": DATE_PARAM},
                 "required": ["time", "from_location", "to_location"]},
             f["convert_time"],
             ["If it's 3 pm in Chicago, what time is it in Berlin?", "My call is at 09:00 in Tokyo; what time is that in Toronto?"],
             load=load),
        Tool("get_timezone_at", "Get the IANA time zone and current UTC offset at a latitude/longitude point.",
             "time", {"type": "object", "properties": {"latitude": LAT_PARAM, "longitude": LON_PARAM},
                      "required": ["latitude", "longitude"]},
             f["get_timezone_at"],
             ["Which time zone is at 64.1 N, 21.9 W?", "What's the UTC offset at latitude 19.4, longitude -99.1?"],
             load=load),
    ]
