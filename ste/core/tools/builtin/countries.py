"""Country facts: codes, capitals, currencies, languages, calling codes, neighbours (pycountry + countryinfo)."""
from __future__ import annotations

import datetime as dt
from functools import lru_cache
from typing import Any

import pycountry
from countryinfo import CountryInfo, all_countries
from countryinfo.exceptions import CountryNotFoundError

from ste.core.tools.base import Tool

COUNTRY_PARAM = {
    "type": "string",
    "description": "a country name or its ISO 3166 alpha-2 or alpha-3 code",
    "examples": ["France", "Japan", "BR", "DEU", "United States", "South Korea"],
}


def resolve_country(value: str) -> Any:
    """The pycountry record for a country name or ISO code; ValueError if unknown."""
    text = str(value).strip()
    if text:
        try:
            return pycountry.countries.lookup(text)
        except LookupError:
            pass
        try:  # countryinfo knows common spellings ("Russia", "USA", "Vietnam")
            alpha2 = CountryInfo(text).iso(2)
            return pycountry.countries.get(alpha_2=alpha2)
        except (CountryNotFoundError, ValueError, KeyError, TypeError):
            pass
    raise ValueError(f"unknown country {value!r}; use a country name or ISO code")


def country_name(record: Any) -> str:
    """The everyday name of a pycountry record ("Bolivia", not "Bolivia, Plurinational State of")."""
    return getattr(record, "common_name", None) or record.name


def _info(record: Any) -> dict:
    try:
        return CountryInfo(record.alpha_2).info()
    except (CountryNotFoundError, ValueError, KeyError):
        return {}


# ISO 4217 fund and settlement codes that no one pays with
_FUND_CODES = {"USN", "USS", "BOV", "CLF", "COU", "MXV", "UYI", "UYW", "CHE", "CHW", "XSU", "XUA"}


def _currencies(info: dict) -> list[dict]:
    out = []
    for code in info.get("currencies", []):
        if code in _FUND_CODES:
            continue
        cur = pycountry.currencies.get(alpha_3=code)
        out.append({"code": code, "name": cur.name if cur else code})
    return out


def _languages(info: dict) -> list[dict]:
    out = []
    for code in info.get("languages", []):
        lang = pycountry.languages.get(alpha_2=code) if len(code) == 2 else pycountry.languages.get(alpha_3=code)
        out.append({"code": code, "name": lang.name if lang else code})
    return out


def _borders(info: dict) -> list[str]:
    names = []
    for code in info.get("borders", []):
        rec = pycountry.countries.get(alpha_3=code)
        names.append(country_name(rec) if rec else code)
    return names


def _codes(record: Any) -> dict:
    return {"country": country_name(record), "alpha_2": record.alpha_2, "alpha_3": record.alpha_3}


def get_country_info(country: str) -> dict:
    rec = resolve_country(country)
    info = _info(rec)
    return {
        **_codes(rec),
        "official_name": getattr(rec, "official_name", rec.name),
        "numeric": rec.numeric,
        "capital": info.get("capital"),
        "region": info.get("region"),
        "subregion": info.get("subregion"),
        "population": info.get("population"),
        "area_km2": info.get("area"),
        "currencies": _currencies(info),
        "languages": _languages(info),
        "calling_codes": ["+" + c for c in info.get("callingCodes", []) if c],
        "borders": _borders(info),
        "timezones": info.get("timezoneNames", []),
        "internet_domains": info.get("tld", []),
    }


def get_country_currency(country: str) -> dict:
    rec = resolve_country(country)
    return {**_codes(rec), "currencies": _currencies(_info(rec))}


def get_country_languages(country: str) -> dict:
    rec = resolve_country(country)
    return {**_codes(rec), "languages": _languages(_info(rec))}


def get_country_capital(country: str) -> dict:
    rec = resolve_country(country)
    info = _info(rec)
    latlng = info.get("capital_latlng") or [None, None]
    return {**_codes(rec), "capital": info.get("capital"), "latitude": latlng[0], "longitude": latlng[1]}


def get_neighboring_countries(country: str) -> dict:
    rec = resolve_country(country)
    borders = _borders(_info(rec))
    return {**_codes(rec), "neighbors": borders, "count": len(borders)}


@lru_cache(maxsize=1)
def _calling_code_index() -> dict[str, list[str]]:
    index: dict[str, list[str]] = {}
    for entry in all_countries():
        info = entry.info()
        alpha2 = (info.get("ISO") or {}).get("alpha2")
        for code in info.get("callingCodes", []):
            if code and alpha2:
                index.setdefault(code, []).append(alpha2)
    return index


def load() -> None:
    """Read the country data the tools look up: pycountry's databases and countryinfo's records (both read their
    files on first use)."""
    for database in (pycountry.countries, pycountry.currencies, pycountry.languages):
        len(database)
    _calling_code_index()  # reads every countryinfo record


def find_country_by_calling_code(calling_code: str) -> dict:
    code = str(calling_code).strip().lstrip("+").replace(" ", "").replace("-", "")
    if not code.isdigit():
        raise ValueError(f"calling code {calling_code!r} must be digits, optionally with a leading '+'")
    records = [pycountry.countries.get(alpha_2=a) for a in _calling_code_index().get(code, [])]
    records = sorted((r for r in records if r), key=country_name)
    if not records:
        raise ValueError(f"no country uses the calling code +{code}")
    return {"calling_code": "+" + code, "countries": [_codes(r) for r in records]}


def find_country_by_code(code: str) -> dict:
    text = str(code).strip()
    rec = None
    if text.isdigit():
        rec = pycountry.countries.get(numeric=text.zfill(3))
    elif len(text) in (2, 3) and text.isalpha():
        rec = pycountry.countries.get(**{f"alpha_{len(text)}": text.upper()})
    if rec is None:
        raise ValueError(f"unknown ISO country code {code!r}; use a 2- or 3-letter code or a 3-digit numeric code")
    return {**_codes(rec), "numeric": rec.numeric, "official_name": getattr(rec, "official_name", rec.name)}


def _country_tool(name: str, func: Any, description: str, examples: list[str]) -> Tool:
    params = {"type": "object", "properties": {"country": COUNTRY_PARAM}, "required": ["country"]}
    return Tool(name, description, "countries", params, func, examples, load=load)


def tools(today: dt.date) -> list[Tool]:
    return [
        _country_tool("get_country_info", get_country_info,
                      "Get a country's profile: ISO codes, official name, capital, region, population, area, "
                      "currencies, languages, calling codes, bordering countries, time zones and internet domains.",
                      ["Tell me the basics about Portugal.", "How big is Kenya and how many people live there?"]),
        _country_tool("get_country_currency", get_country_currency,
                      "Get the currency or currencies used in a country, with ISO 4217 codes and names.",
                      ["What money do they use in Switzerland?", "Which currency should I bring to Thailand?"]),
        _country_tool("get_country_languages", get_country_languages,
                      "Get the official or main languages of a country, with ISO 639 codes and names.",
                      ["What languages are spoken in Belgium?", "Which language do people speak in Brazil?"]),
        _country_tool("get_country_capital", get_country_capital,
                      "Get the capital city of a country and its coordinates.",
                      ["What is the capital of Australia?", "Where is the capital of Canada located?"]),
        _country_tool("get_neighboring_countries", get_neighboring_countries,
                      "List the countries that share a land border with a country.",
                      ["Which countries border Austria?", "How many neighbours does China have?"]),
        Tool("find_country_by_calling_code",
             "Find the countries that use an international telephone calling code.",
             "countries",
             {"type": "object", "properties": {"calling_code": {
                 "type": "string", "description": "the international calling code, digits with or without a leading '+'",
                 "examples": ["+44", "81", "+7", "1", "+351"]}}, "required": ["calling_code"]},
             find_country_by_calling_code,
             ["Which country has the phone prefix +48?", "I got a call from a number starting with +61, where is it from?"],
             load=load),
        Tool("find_country_by_code",
             "Find the country that an ISO 3166 code stands for: a 2-letter, 3-letter or 3-digit numeric code.",
             "countries",
             {"type": "object", "properties": {"code": {
                 "type": "string", "description": "an ISO 3166-1 alpha-2, alpha-3 or numeric country code",
                 "examples": ["CH", "NZL", "076", "ZA", "KOR"]}}, "required": ["code"]},
             find_country_by_code,
             ["Which country has the code HU?", "What country does the abbreviation ARG stand for?"], load=load),
    ]
