"""Toolbox part A called for real through the Registry: known answers, gold items, error statuses, fuzzing."""
from __future__ import annotations

import datetime as dt
import re
import time
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ste.io import read_jsonl
from ste.schemas import TestItem
from ste.tools import Registry, Tool, builtin_tools
from ste.tools.builtin import airports, cities, countries, currency, holidays_tools, sun, timezones

TODAY = dt.date(2026, 1, 15)
MODULES = [holidays_tools, countries, cities, airports, timezones, sun, currency]
TESTSET = Path(__file__).resolve().parents[1] / "data" / "testset"
MY_TOOLS = [t for m in MODULES for t in m.tools(TODAY)]


@pytest.fixture(scope="module")
def registry() -> Registry:
    return Registry(MY_TOOLS, timeout_s=30)  # generous: first calls load data files on a shared CPU


def test_toolbox_size_and_categories():
    assert len(MY_TOOLS) >= 26
    assert len({t.category for t in MY_TOOLS}) >= 6
    for tool in MY_TOOLS:
        assert 2 <= len(tool.examples) <= 3, tool.name
        for key, spec in tool.parameters["properties"].items():
            assert spec.get("description"), f"{tool.name}.{key} has no description"
            assert "enum" in spec or spec.get("examples"), f"{tool.name}.{key} has neither enum nor examples"
            for example in spec.get("examples", []):  # examples live in the schema, not in the shown text
                shown = re.search(rf"\b{re.escape(str(example))}\b", tool.description + spec["description"])
                assert not shown, f"{tool.name}.{key} shows {example!r}"


# (tool, arguments, check on the data) with answers known independently of the libraries
KNOWN = [
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


@pytest.mark.parametrize("name,arguments,check", KNOWN, ids=[f"{k[0]}-{i}" for i, k in enumerate(KNOWN)])
def test_known_answer(registry, name, arguments, check):
    result = registry.call(name, arguments)
    assert result.status == "ok", result.observation
    assert check(result.data), result.data


def test_every_tool_has_a_known_answer():
    assert {t.name for t in MY_TOOLS} == {k[0] for k in KNOWN}


def _gold() -> list[TestItem]:
    return [item for m in MODULES for item in read_jsonl(TESTSET / f"{m.__name__.rsplit('.', 1)[1]}.jsonl", TestItem)]


def test_gold_items_cover_every_tool():
    per_tool = {}
    for item in _gold():
        per_tool[item.api] = per_tool.get(item.api, 0) + 1
        assert item.api not in item.query and item.id.startswith(item.api + "-")
    assert per_tool.keys() == {t.name for t in MY_TOOLS}
    assert min(per_tool.values()) >= 10


def test_every_gold_item_executes(registry):
    failures = [(i.id, r.observation) for i in _gold() if not (r := registry.call(i.api, i.arguments)).ok]
    assert not failures


@pytest.mark.parametrize("name,arguments,needle", [
    ("get_public_holidays", {"country": "Atlantis", "year": 2026}, "unknown country 'Atlantis'"),
    ("get_public_holidays", {"country": "US", "year": 2026, "subdivision": "ZZ"}, "unknown subdivision"),
    ("find_city", {"city": "Xyzzyville"}, "unknown city"),
    ("get_airport_by_code", {"code": "QQQQ"}, "unknown airport code"),
    ("get_local_time", {"location": "Mars/Olympus"}, "unknown location"),
    ("is_public_holiday", {"country": "FR", "date": "14/07/2026"}, "YYYY-MM-DD"),
    ("get_currency_info", {"currency": "ABC"}, "unknown currency code"),
])
def test_bad_values_are_error_observations(registry, name, arguments, needle):
    result = registry.call(name, arguments)
    assert result.status == "error" and needle in result.observation


def test_statuses_through_the_registry(registry):
    assert registry.call("no_such_tool", {}).status == "not_found"
    assert registry.call("get_country_capital", {}).status == "invalid_args"
    assert registry.call("get_country_capital", "France").status == "invalid_args"
    assert registry.call("convert_currency", {"amount": 1, "from_currency": "XYZ", "to_currency": "EUR"}
                         ).status == "invalid_args"  # enum


def _obj() -> dict:
    return {"type": "object", "properties": {}, "required": []}


def test_timeout_and_truncation():
    slow = Tool("slow", "Sleeps.", "test", _obj(), lambda: time.sleep(2) or "late")
    reg = Registry([slow, *MY_TOOLS], timeout_s=0.2, max_output_chars=200)
    start = time.monotonic()
    result = reg.call("slow", {})
    assert result.status == "timeout" and time.monotonic() - start < 1.5
    long = reg.call("list_exchange_rates", {"base": "EUR"}, timeout_s=30)
    assert long.ok and len(long.observation) == 200 and "[truncated" in long.observation
    assert len(long.data["rates"]) > 30  # the data keeps everything


# ---------------------------------------------------------------- fuzzing every built-in tool (parts A and B)
ALL_TOOLS = builtin_tools(TODAY)
JSON = st.recursive(st.none() | st.booleans() | st.integers(-10**6, 10**6) | st.floats(allow_nan=False)
                    | st.text(max_size=12), lambda kids: st.lists(kids, max_size=3)
                    | st.dictionaries(st.text(max_size=5), kids, max_size=3), max_leaves=6)


def _arguments(tool: Tool) -> st.SearchStrategy:
    """Dicts over the tool's own keys (schema examples, enum values or random JSON), sometimes with a stray key."""
    props = tool.parameters.get("properties", {})
    values = {k: st.sampled_from(list(s.get("enum") or s.get("examples") or [None])) | JSON for k, s in props.items()}
    return st.fixed_dictionaries({}, optional=values) | st.dictionaries(st.text(max_size=8), JSON, max_size=3)


@pytest.fixture(scope="module")
def fuzz_registry() -> Registry:
    reg = Registry(ALL_TOOLS, timeout_s=10)
    for tool in ALL_TOOLS:  # load every data file once, so timing below measures calls, not imports
        reg.call(tool.name, {})
    return reg


@pytest.mark.parametrize("tool", ALL_TOOLS, ids=[t.name for t in ALL_TOOLS])
def test_random_arguments_never_escape(fuzz_registry, tool):
    @settings(max_examples=6, deadline=None, suppress_health_check=list(HealthCheck), database=None)
    @given(_arguments(tool))
    def run(arguments):
        start = time.monotonic()
        result = fuzz_registry.call(tool.name, arguments, timeout_s=3)
        assert result.status in {"ok", "invalid_args", "error"}, result.observation
        assert time.monotonic() - start < 4
        assert len(result.observation) <= fuzz_registry.max_output_chars

    run()
