"""Airports by IATA/ICAO code and by city, and flight distances (airportsdata)."""
from __future__ import annotations

import datetime as dt
from functools import lru_cache

import airportsdata

from ste.core.tools.base import Tool
from ste.core.tools.builtin import countries
from ste.core.tools.builtin.cities import KM_PER_UNIT, UNIT_PARAM, fold, great_circle_km
from ste.core.tools.builtin.countries import COUNTRY_PARAM, country_name, resolve_country

CODE_PARAM = {"type": "string", "description": "a 3-letter IATA or 4-letter ICAO airport code",
              "examples": ["LHR", "NRT", "EDDF", "SFO", "YSSY", "GRU"]}


@lru_cache(maxsize=1)
def _tables() -> tuple[dict, dict]:
    return airportsdata.load("IATA"), airportsdata.load("ICAO")


def load() -> None:
    """Read the airport tables, and the country data that names an airport's country."""
    countries.load()
    _tables()


def _resolve_airport(code: str) -> dict:
    text = str(code).strip().upper()
    by_iata, by_icao = _tables()
    found = by_iata.get(text) if len(text) == 3 else by_icao.get(text) if len(text) == 4 else None
    if found is None:
        raise ValueError(f"unknown airport code {code!r}; use a 3-letter IATA or 4-letter ICAO code")
    return found


def _record(airport: dict) -> dict:
    try:
        country = country_name(resolve_country(airport["country"]))
    except ValueError:
        country = airport["country"]
    return {"iata": airport["iata"] or None, "icao": airport["icao"], "name": airport["name"], "city": airport["city"],
            "region": airport["subd"] or None, "country": country, "country_code": airport["country"],
            "latitude": airport["lat"], "longitude": airport["lon"], "elevation_ft": airport["elevation"],
            "timezone": airport["tz"]}


def get_airport_by_code(code: str) -> dict:
    return _record(_resolve_airport(code))


def find_airports_in_city(city: str, country: str | None = None) -> dict:
    code = resolve_country(country).alpha_2 if country else None
    key = fold(city)
    found = [a for a in _tables()[1].values()
             if a["iata"] and fold(a["city"]) == key and (code is None or a["country"] == code)]
    if not found:
        where = f" in {country}" if country else ""
        raise ValueError(f"no airport with an IATA code found for the city {city!r}{where}")
    rows = [{"iata": a["iata"], "icao": a["icao"], "name": a["name"], "country_code": a["country"]}
            for a in sorted(found, key=lambda a: a["iata"])]
    return {"city": city, "count": len(rows), "airports": rows}


def get_flight_distance(from_airport: str, to_airport: str, unit: str = "km") -> dict:
    a, b = _resolve_airport(from_airport), _resolve_airport(to_airport)
    km = great_circle_km(a["lat"], a["lon"], b["lat"], b["lon"])
    return {"from": f"{a['name']} ({a['iata'] or a['icao']})", "to": f"{b['name']} ({b['iata'] or b['icao']})",
            "distance": round(km / KM_PER_UNIT[unit], 1), "unit": unit}


def tools(today: dt.date) -> list[Tool]:
    return [
        Tool("get_airport_by_code",
             "Look up an airport by its IATA or ICAO code: name, city, country, coordinates, elevation and time zone.",
             "travel", {"type": "object", "properties": {"code": CODE_PARAM}, "required": ["code"]},
             get_airport_by_code,
             ["Which airport is CDG?", "Where exactly is the airport with the code KORD?"], load=load),
        Tool("find_airports_in_city", "List the airports (with IATA codes) that serve a city.", "travel",
             {"type": "object", "properties": {
                 "city": {"type": "string", "description": "the city's English name",
                          "examples": ["London", "Tokyo", "Chicago", "Istanbul", "Milan"]},
                 "country": {**COUNTRY_PARAM, "description": "optional country name or ISO code of the city"}},
              "required": ["city"]},
             find_airports_in_city,
             ["Which airports can I fly into for Paris?", "What are the airport codes for Moscow?"], load=load),
        Tool("get_flight_distance",
             "Get the great-circle flight distance between two airports given by IATA or ICAO codes.", "travel",
             {"type": "object", "properties": {"from_airport": CODE_PARAM, "to_airport": CODE_PARAM, "unit": UNIT_PARAM},
              "required": ["from_airport", "to_airport"]},
             get_flight_distance,
             ["How many miles is it from JFK to LAX?", "What is the flight distance between Dubai and Singapore airports?"],
             load=load),
    ]
