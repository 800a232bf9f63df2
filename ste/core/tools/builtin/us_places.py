"""United States places: ZIP codes (zipcodes) and facts about states and territories (us)."""
from __future__ import annotations

import datetime as dt
import re

import us
import zipcodes

from ste.core.tools.base import Tool

MAX_ZIPS = 100


def load() -> None:
    """Read the ZIP code database (zipcodes reads it on the first query)."""
    zipcodes.matching("10001")


def _state(text: str) -> us.states.State:
    """A state or territory from its name, postal abbreviation or FIPS code."""
    found = us.states.lookup(text.strip()) if text.strip() else None
    if found is None:
        raise ValueError(f"{text!r} is not a US state or territory; give its name or two-letter postal code")
    return found


def lookup_zip_code(zip_code: str) -> dict:
    """City, state, county, time zone, area codes and coordinates of a US ZIP code."""
    if not re.fullmatch(r"\d{5}(-\d{4})?", zip_code.strip()):
        raise ValueError(f"{zip_code!r} is not a ZIP code; write 5 digits (optionally -4 more)")
    found = zipcodes.matching(zip_code.strip())
    if not found:
        raise ValueError(f"ZIP code {zip_code} does not exist")
    z = found[0]
    return {
        "zip_code": z["zip_code"],
        "type": z["zip_code_type"].lower(),
        "active": z["active"],
        "city": z["city"],
        "state": z["state"],
        "county": z["county"],
        "timezone": z["timezone"],
        "area_codes": z["area_codes"],
        "latitude": float(z["lat"]),
        "longitude": float(z["long"]),
    }


def zip_codes_for_city(city: str, state: str) -> dict:
    """All ZIP codes of a city in a state (at most 100 listed)."""
    abbr = _state(state).abbr
    wanted = " ".join(city.split()).casefold()
    found = [
        z for z in zipcodes.filter_by(state=abbr)
        if z["city"].casefold() == wanted or wanted in (c.casefold() for c in z["acceptable_cities"])
    ]
    if not found:
        raise ValueError(f"no ZIP code found for {city!r} in {abbr}; check the spelling of the city")
    codes = sorted(z["zip_code"] for z in found)
    return {
        "city": found[0]["city"],
        "state": abbr,
        "count": len(codes),
        "zip_codes": codes[:MAX_ZIPS],
        "standard_zip_codes": sorted(z["zip_code"] for z in found if z["zip_code_type"] == "STANDARD")[:MAX_ZIPS],
    }


def us_state_info(state: str) -> dict:
    """Facts about a US state or territory: codes, capital, statehood year, time zones, counties."""
    s = _state(state)
    return {
        "name": s.name,
        "abbreviation": s.abbr,
        "ap_abbreviation": s.ap_abbr,
        "fips": s.fips,
        "capital": s.capital,
        "statehood_year": s.statehood_year,
        "is_territory": s.is_territory,
        "is_contiguous": s.is_contiguous,
        "time_zones": list(s.time_zones),
        "county_count": len(s.counties or []),
    }


def tools(today: dt.date) -> list[Tool]:
    state_spec = {"type": "string", "minLength": 1, "maxLength": 40,
                  "description": "A US state or territory: its name or two-letter postal abbreviation.",
                  "examples": ["CA", "Texas", "new york"]}
    return [
        Tool(
            name="lookup_zip_code",
            description=("Look up a US ZIP code: its city, state, county, time zone, telephone area codes, "
                         "coordinates and whether it is a standard, PO box or unique (single-organisation) code."),
            category="us_places",
            parameters={"type": "object",
                        "properties": {"zip_code": {"type": "string", "minLength": 5, "maxLength": 10,
                                                    "description": "A five-digit ZIP code, optionally ZIP+4.",
                                                    "examples": ["90210", "10001", "60614"]}},
                        "required": ["zip_code"], "additionalProperties": False},
            func=lookup_zip_code,
            examples=["Which city is ZIP code 60614 in?", "What time zone is the ZIP code 85001 in?"],
            load=load,
        ),
        Tool(
            name="zip_codes_for_city",
            description="List the ZIP codes of a US city, given the city name and its state.",
            category="us_places",
            parameters={"type": "object",
                        "properties": {
                            "city": {"type": "string", "minLength": 1, "maxLength": 60,
                                     "description": "The city name as the US Postal Service spells it.",
                                     "examples": ["Springfield", "Boulder", "Ann Arbor"]},
                            "state": {**state_spec, "examples": ["Illinois", "CO", "MI"]}},
                        "required": ["city", "state"], "additionalProperties": False},
            func=zip_codes_for_city,
            examples=["What are the ZIP codes of Boulder, Colorado?", "How many ZIP codes does Ann Arbor, MI have?"],
            load=load,
        ),
        Tool(
            name="us_state_info",
            description=("Facts about a US state or territory: postal and AP abbreviations, FIPS code, capital, year "
                         "of statehood, time zones, number of counties, and whether it is a territory."),
            category="us_places",
            parameters={"type": "object", "properties": {"state": state_spec},
                        "required": ["state"], "additionalProperties": False},
            func=us_state_info,
            examples=["What is the capital of Vermont?", "In which year did Hawaii become a state?"],
            load=load,
        ),
    ]
