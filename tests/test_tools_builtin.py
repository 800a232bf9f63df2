"""Every built-in tool called for real through the Registry, on questions whose answers are known independently
of the libraries behind it. (The gold test set's calls are checked in tests/test_testset.py.)"""
from __future__ import annotations

import datetime as dt
import json

import pytest

from ste.core.tools import Registry, builtin_tools

TODAY = dt.date(2026, 1, 15)


@pytest.fixture(scope="module")
def registry() -> Registry:
    return Registry(builtin_tools(TODAY), timeout_s=30)  # generous: a shared CPU (data loads are never timed)


def call(registry: Registry, api: str, **arguments) -> dict:
    result = registry.call(api, arguments)
    assert result.status == "ok", result.observation
    json.dumps(result.data)  # JSON-able
    return result.data


# (tool, arguments, check on the data)
CHECKS = [
    ("get_public_holidays", {"country": "US", "year": 2026},
     lambda d: {"date": "2026-11-26", "name": "Thanksgiving Day"} in d["holidays"]),
    ("is_public_holiday", {"country": "Germany", "date": "2026-10-03"},
     lambda d: d["is_holiday"] and d["holidays"] == ["German Unity Day"]),
    ("is_public_holiday", {"country": "Germany", "date": "2026-10-05"}, lambda d: not d["is_holiday"]),
    ("get_holidays_between", {"country": "GB", "start_date": "2026-12-20", "end_date": "2026-12-31"},
     lambda d: [h["date"] for h in d["holidays"]] == ["2026-12-25", "2026-12-26", "2026-12-28"]),
    ("find_holiday_date", {"country": "Canada", "holiday_name": "Labour Day", "year": 2027},
     lambda d: d["matches"] == [{"date": "2027-09-06", "name": "Labor Day"}]),
    ("get_next_public_holiday", {"country": "United States"},
     lambda d: d["date"] == "2026-01-19" and d["days_until"] == 4),
    ("get_country_info", {"country": "Russia"},
     lambda d: d["alpha_3"] == "RUS" and d["capital"] == "Moscow" and "+7" in d["calling_codes"]),
    ("get_country_currency", {"country": "Japan"}, lambda d: d["currencies"] == [{"code": "JPY", "name": "Yen"}]),
    ("get_country_languages", {"country": "Belgium"},
     lambda d: {x["name"] for x in d["languages"]} == {"Dutch", "French", "German"}),
    ("get_country_capital", {"country": "AUS"}, lambda d: d["capital"] == "Canberra"),
    ("get_neighboring_countries", {"country": "Portugal"}, lambda d: d["neighbors"] == ["Spain"]),
    ("find_country_by_calling_code", {"calling_code": "+81"}, lambda d: d["countries"][0]["alpha_2"] == "JP"),
    ("find_country_by_code", {"code": "076"}, lambda d: d["country"] == "Brazil"),
    ("find_city", {"city": "Zurich"}, lambda d: d["city"] == "Zürich" and d["timezone"] == "Europe/Zurich"),
    ("get_city_distance", {"from_city": "London", "to_city": "Paris"}, lambda d: 335 < d["distance"] < 350),
    ("list_largest_cities", {"country": "India", "limit": 2},
     lambda d: [c["city"] for c in d["cities"]] == ["Mumbai", "Delhi"]),
    ("find_nearest_city", {"latitude": -22.9, "longitude": -43.2}, lambda d: d["city"] == "Rio de Janeiro"),
    ("get_airport_by_code", {"code": "KORD"}, lambda d: d["iata"] == "ORD" and d["city"] == "Chicago"),
    ("find_airports_in_city", {"city": "Tokyo"}, lambda d: {a["iata"] for a in d["airports"]} == {"HND", "NRT"}),
    ("get_flight_distance", {"from_airport": "JFK", "to_airport": "LAX", "unit": "mi"},
     lambda d: 2440 < d["distance"] < 2500),
    ("get_local_time", {"location": "Tokyo"}, lambda d: d["local_time"] == "2026-01-15 21:00"),
    ("get_time_difference", {"from_location": "London", "to_location": "Delhi"}, lambda d: d["difference_hours"] == 5.5),
    ("convert_time", {"time": "15:00", "from_location": "Chicago", "to_location": "Berlin", "date": "2026-07-01"},
     lambda d: d["to"]["local_time"] == "2026-07-01 22:00" and d["to"]["daylight_saving"]),
    ("get_timezone_at", {"latitude": 52.52, "longitude": 13.4}, lambda d: d["timezone"] == "Europe/Berlin"),
    ("get_sun_times", {"city": "London", "date": "2026-06-21"}, lambda d: "04:40" <= d["sunrise"] <= "04:46"),
    ("get_day_length", {"city": "Tromso", "date": "2026-12-21"}, lambda d: d["minutes"] == 0),
    ("get_golden_hour", {"city": "Kyoto", "date": "2026-04-10"}, lambda d: "17:00" < d["evening"]["start"] < "19:00"),
    ("get_moon_phase", {"date": "2026-01-03"}, lambda d: d["phase"] == "Full Moon"),  # full moon 3 Jan 2026
    ("convert_currency", {"amount": 100, "from_currency": "USD", "to_currency": "EUR"},
     lambda d: d["result"] == 85.2 and d["rate_date"] == "2026-01-02"),
    ("get_exchange_rate", {"from_currency": "EUR", "to_currency": "EUR"}, lambda d: d["rate"] == 1.0),
    ("list_exchange_rates", {"base": "USD"}, lambda d: d["rates"]["JPY"] == 156.9 and "USD" not in d["rates"]),
    ("get_currency_info", {"currency": "xof"}, lambda d: "Senegal" in d["used_in"] and d["name"] == "CFA Franc BCEAO"),
]

# (tool, arguments, field of the data, expected value)
VALUES = [
    ("convert_units", {"value": 100, "from_unit": "celsius", "to_unit": "fahrenheit"}, "result", 212.0),
    ("convert_units", {"value": 5, "from_unit": "mile", "to_unit": "km"}, "result", 8.04672),
    ("convert_units", {"value": 2, "from_unit": "degrees Fahrenheit", "to_unit": "kelvin"}, "result", 256.4833333),
    ("phone_number_info", {"number": "+49 151 23456789"}, "line_type", "mobile"),
    ("phone_number_info", {"number": "+33 1 42 68 53 00"}, "location", "Paris"),
    ("validate_phone_number", {"number": "+1 415 555 26712"}, "reason", "too long"),
    ("format_phone_number", {"number": "+4930901820", "style": "NATIONAL"}, "formatted", "030 901820"),
    ("format_phone_number", {"number": "(650) 253-0000", "style": "E164", "region": "US"}, "formatted",
     "+16502530000"),
    ("country_calling_code", {"country": "jp"}, "calling_code", 81),
    ("validate_iban", {"iban_number": "DE89 3704 0044 0532 0130 00"}, "country", "Germany"),
    ("validate_iban", {"iban_number": "GB82 WEST 1234 5698 7654 33"}, "valid", False),
    ("validate_vat_number", {"vat_number": "DE136695976"}, "valid", True),
    ("validate_vat_number", {"vat_number": "DE136695977"}, "valid", False),
    ("validate_isbn", {"isbn_number": "0-306-40615-2"}, "isbn13", "9780306406157"),
    ("validate_barcode", {"barcode": "036000291452"}, "type", "UPC-A"),
    ("validate_card_number", {"card_number": "378282246310005"}, "network", "American Express"),
    ("validate_card_number", {"card_number": "4111 1111 1111 1112"}, "valid", False),
    ("element_info", {"element": "tungsten"}, "atomic_number", 74),
    ("element_info", {"element": "79"}, "symbol", "Au"),
    ("molar_mass", {"formula": "H2O"}, "molar_mass_g_mol", 18.015),
    ("molar_mass", {"formula": "C6H12O6"}, "molar_mass_g_mol", 180.156),
    ("color_name_to_hex", {"name": "Cornflower Blue"}, "hex", "#6495ed"),
    ("hex_to_color_name", {"hex_color": "ff6347"}, "name", "tomato"),
    ("hex_to_color_name", {"hex_color": "#123456"}, "nearest_name", "midnightblue"),
    ("rgb_to_hex", {"red": 255, "green": 99, "blue": 71}, "hex", "#ff6347"),
    ("emojize_text", {"text": "Good job :thumbsup: :pizza:"}, "text", "Good job 👍 🍕"),
    ("lookup_zip_code", {"zip_code": "90210"}, "city", "Beverly Hills"),
    ("us_state_info", {"state": "Hawaii"}, "statehood_year", 1959),
    ("us_state_info", {"state": "vt"}, "capital", "Montpelier"),
    ("number_to_words", {"number": 97, "language": "fr"}, "words", "quatre-vingt-dix-sept"),
    ("number_to_words", {"number": 1250}, "words", "one thousand, two hundred and fifty"),
    ("ordinal_words", {"number": 21}, "ordinal", "twenty-first"),
    ("to_roman_numeral", {"number": 1987}, "roman", "MCMLXXXVII"),
    ("from_roman_numeral", {"numeral": "mcmxciv"}, "number", 1994),
    ("day_of_week", {"date": "1969-07-20"}, "weekday", "Sunday"),
    ("days_between", {"start_date": "2026-02-02", "end_date": "2026-02-27"}, "weekdays", 19),
    ("days_between", {"start_date": "2024-01-01", "end_date": "2025-01-01"}, "days", 366),
    ("add_days", {"date": "2024-02-28", "days": 2}, "date", "2024-03-01"),
    ("week_number", {"date": "2027-01-01"}, "iso_week", 53),
    ("days_until", {"date": "2026-12-31"}, "days", 350),
    ("evaluate_expression", {"expression": "(17 + 5) * 3 / 4"}, "result", 16.5),
    ("evaluate_expression", {"expression": "2^10 + factorial(5)"}, "result", 1144),
    ("percent_of", {"percent": 15, "value": 64}, "result", 9.6),
    ("percent_change", {"old_value": 84, "new_value": 63}, "percent_change", -25.0),
    ("describe_numbers", {"numbers": [2, 4, 4, 4, 5, 5, 7, 9]}, "population_stdev", 2.0),
]


@pytest.mark.parametrize("name,arguments,check", CHECKS, ids=[f"{k[0]}-{i}" for i, k in enumerate(CHECKS)])
def test_known_answer(registry, name, arguments, check):
    data = call(registry, name, **arguments)
    assert check(data), data


@pytest.mark.parametrize("name,arguments,key,expected", VALUES, ids=[f"{k[0]}-{i}" for i, k in enumerate(VALUES)])
def test_known_value(registry, name, arguments, key, expected):
    value = call(registry, name, **arguments)[key]
    assert value == (pytest.approx(expected) if isinstance(expected, float) else expected)


def test_list_and_search_tools(registry):
    assert {"name": "kilopascal", "symbol": "kPa"} in call(registry, "list_units", quantity="pressure")["units"]
    assert call(registry, "find_emoji", name="hedgehog")["matches"][0]["emoji"] == "🦔"
    names = [e["name"] for e in call(registry, "describe_emoji", text="I ❤️ 🍕")["emoji"]]
    assert names == ["red heart", "pizza"]
    boulder = call(registry, "zip_codes_for_city", city="boulder", state="Colorado")
    assert boulder["state"] == "CO" and "80302" in boulder["zip_codes"]


def test_every_tool_has_a_known_answer(registry):
    searched = {"list_units", "find_emoji", "describe_emoji", "zip_codes_for_city"}
    assert {k[0] for k in CHECKS} | {k[0] for k in VALUES} | searched == set(registry.names())


def test_days_until_uses_the_given_today_not_the_clock():
    from ste.core.tools.builtin import calendar_tools

    until = {t.name: t for t in calendar_tools.tools(dt.date(2000, 1, 1))}["days_until"]
    assert until.func(date="2000-01-31")["days"] == 30
