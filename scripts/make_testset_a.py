"""python scripts/make_testset_a.py data/testset

Write the gold test items of toolbox part A (one <module>.jsonl per tool module) from hand-written
phrasings and value lists. Item i of a tool uses value set i and the first fitting phrasing from
i mod len(phrasings) on. Keys starting with "_" only fill the phrasing (e.g. "euros" for EUR); the
rest are the gold arguments. An optional argument such as "unit" is gold only when the phrasing says it.
"""
from __future__ import annotations

import json
import string
import sys
from pathlib import Path

OPTIONAL = {"unit"}  # gold only if the query states it: a phrasing must show "{_unit}" exactly then

V = dict  # one value set

SPECS: dict[str, dict[str, tuple[list[str], list[dict]]]] = {
    "holidays_tools": {
        "get_public_holidays": ([
            "List all public holidays in {country} for {year}.",
            "Which national holidays does {country} have in {year}?",
            "I need the official holiday calendar of {country} for the year {year}.",
        ], [V(country="Germany", year=2026), V(country="Japan", year=2027), V(country="Brazil", year=2026),
            V(country="Canada", year=2025), V(country="India", year=2026), V(country="France", year=2028),
            V(country="Australia", year=2026), V(country="Mexico", year=2027), V(country="Italy", year=2025),
            V(country="South Africa", year=2026)]),
        "is_public_holiday": ([
            "Is {_day} a public holiday in {country}?",
            "Will offices in {country} be closed for a holiday on {_day}?",
            "Check if {_day} is an official holiday in {country}.",
        ], [V(country="United States", date="2026-07-04", _day="July 4, 2026"),
            V(country="Germany", date="2026-10-03", _day="3 October 2026"),
            V(country="France", date="2026-07-14", _day="14 July 2026"),
            V(country="Japan", date="2026-05-05", _day="May 5, 2026"),
            V(country="Spain", date="2026-03-17", _day="17 March 2026"),
            V(country="Ireland", date="2026-03-17", _day="17 March 2026"),
            V(country="Poland", date="2026-11-11", _day="11 November 2026"),
            V(country="Brazil", date="2026-09-07", _day="September 7, 2026"),
            V(country="Sweden", date="2026-06-06", _day="6 June 2026"),
            V(country="Canada", date="2026-08-14", _day="August 14, 2026")]),
        "get_holidays_between": ([
            "Which public holidays in {country} fall between {_start} and {_end}?",
            "I'm travelling in {country} from {_start} to {_end}; are there any public holidays then?",
            "List {country}'s holidays in the period {_start} to {_end}.",
        ], [V(country="Spain", start_date="2026-04-01", end_date="2026-04-20", _start="1 April 2026", _end="20 April 2026"),
            V(country="Canada", start_date="2026-12-15", end_date="2027-01-15", _start="15 December 2026",
              _end="15 January 2027"),
            V(country="Japan", start_date="2026-04-25", end_date="2026-05-10", _start="April 25, 2026", _end="May 10, 2026"),
            V(country="United Kingdom", start_date="2026-05-01", end_date="2026-06-30", _start="1 May 2026",
              _end="30 June 2026"),
            V(country="Germany", start_date="2026-12-20", end_date="2026-12-31", _start="20 December 2026",
              _end="31 December 2026"),
            V(country="Italy", start_date="2026-08-01", end_date="2026-08-31", _start="1 August 2026", _end="31 August 2026"),
            V(country="Mexico", start_date="2026-09-01", end_date="2026-11-30", _start="September 1, 2026",
              _end="November 30, 2026"),
            V(country="Norway", start_date="2026-03-25", end_date="2026-04-15", _start="25 March 2026", _end="15 April 2026"),
            V(country="India", start_date="2026-01-01", end_date="2026-03-31", _start="January 1, 2026", _end="March 31, 2026"),
            V(country="New Zealand", start_date="2026-01-20", end_date="2026-02-28", _start="20 January 2026",
              _end="28 February 2026")]),
        "find_holiday_date": ([
            "On what date is {holiday_name} in {country} in {year}?",
            "When does {country} celebrate {holiday_name} in {year}?",
        ], [V(country="Germany", holiday_name="Easter Monday", year=2027),
            V(country="United States", holiday_name="Thanksgiving", year=2026),
            V(country="United Kingdom", holiday_name="Good Friday", year=2026),
            V(country="Canada", holiday_name="Labour Day", year=2027),
            V(country="United States", holiday_name="Memorial Day", year=2028),
            V(country="France", holiday_name="Ascension Day", year=2026),
            V(country="Australia", holiday_name="Australia Day", year=2026),
            V(country="Netherlands", holiday_name="King's Day", year=2026),
            V(country="Japan", holiday_name="Marine Day", year=2026),
            V(country="Ireland", holiday_name="Saint Patrick's Day", year=2027)]),
        "get_next_public_holiday": ([
            "When is the next public holiday in {country}?",
            "What's the next day off for everyone in {country}, and how far away is it?",
            "How many days until the next national holiday in {country}?",
        ], [V(country=c) for c in ["Japan", "New Zealand", "Germany", "United States", "Brazil", "Italy", "Portugal",
                                   "Argentina", "South Korea", "Chile"]]),
    },
    "countries": {
        "get_country_info": ([
            "Give me an overview of {country}: capital, population and area.",
            "Tell me the key facts about {country}.",
            "What region is {country} in and how many people live there?",
        ], [V(country=c) for c in ["Portugal", "Kenya", "Vietnam", "Peru", "Norway", "Morocco", "New Zealand",
                                   "Hungary", "Thailand", "Colombia"]]),
        "get_country_currency": ([
            "What currency is used in {country}?",
            "Which money should I bring when I visit {country}?",
            "What is the official currency of {country}?",
        ], [V(country=c) for c in ["Switzerland", "Thailand", "Japan", "Poland", "Brazil", "Sweden", "Egypt",
                                   "South Africa", "Czechia", "Indonesia"]]),
        "get_country_languages": ([
            "What languages are spoken in {country}?",
            "Which official languages does {country} have?",
            "What language do people speak in {country}?",
        ], [V(country=c) for c in ["Belgium", "Brazil", "Canada", "Finland", "India", "Luxembourg", "Peru",
                                   "Singapore", "Kenya", "Ireland"]]),
        "get_country_capital": ([
            "What is the capital of {country}?",
            "Which city is the capital of {country}?",
            "Name the capital city of {country} and its coordinates.",
        ], [V(country=c) for c in ["Australia", "Canada", "Turkey", "Nigeria", "Brazil", "Pakistan", "Switzerland",
                                   "Kazakhstan", "Morocco", "Vietnam"]]),
        "get_neighboring_countries": ([
            "Which countries border {country}?",
            "What are the neighbouring countries of {country}?",
            "How many countries share a land border with {country}, and which are they?",
        ], [V(country=c) for c in ["Austria", "China", "Germany", "Bolivia", "Hungary", "Kenya", "Poland",
                                   "Switzerland", "Niger", "Laos"]]),
        "find_country_by_calling_code": ([
            "Which country uses the phone prefix {calling_code}?",
            "I got a call from a number starting with {calling_code}; which country is that?",
            "What country has the international dialling code {calling_code}?",
        ], [V(calling_code=c) for c in ["+48", "+61", "+81", "+34", "+353", "+420", "+90", "+27", "+52", "+64"]]),
        "find_country_by_code": ([
            "Which country has the ISO code {code}?",
            "What country does the abbreviation {code} stand for?",
            "Decode the country code {code} for me.",
        ], [V(code=c) for c in ["HU", "ARG", "CH", "NZL", "ZA", "KOR", "EG", "PRT", "IS", "VNM"]]),
    },
    "cities": {
        "find_city": ([
            "How many people live in {city}?",
            "What are the coordinates of {city}?",
            "Look up the city of {city}: population and time zone.",
        ], [V(city=c) for c in ["Lyon", "Nairobi", "Osaka", "Porto", "Krakow", "Seattle", "Medellin", "Adelaide",
                                "Marrakesh", "Gothenburg"]]),
        "get_city_distance": ([
            "How far is {from_city} from {to_city} as the crow flies?",
            "What's the straight-line distance between {from_city} and {to_city} in {_unit}?",
            "Distance from {from_city} to {to_city}, please.",
        ], [V(from_city="Madrid", to_city="Rome"),
            V(from_city="Chicago", to_city="Denver", unit="mi", _unit="miles"),
            V(from_city="Berlin", to_city="Vienna"),
            V(from_city="Tokyo", to_city="Seoul"),
            V(from_city="Sydney", to_city="Auckland", unit="km", _unit="kilometres"),
            V(from_city="Cairo", to_city="Nairobi"),
            V(from_city="Toronto", to_city="Montreal"),
            V(from_city="Lisbon", to_city="Dublin", unit="mi", _unit="miles"),
            V(from_city="Mumbai", to_city="Delhi"),
            V(from_city="Buenos Aires", to_city="Santiago")]),
        "list_largest_cities": ([
            "What are the {limit} biggest cities in {country}?",
            "List the {limit} most populous cities of {country}.",
        ], [V(country="India", limit=5), V(country="Turkey", limit=3), V(country="Germany", limit=10),
            V(country="Brazil", limit=5), V(country="Japan", limit=4), V(country="Canada", limit=6),
            V(country="Italy", limit=3), V(country="Mexico", limit=5), V(country="Spain", limit=4),
            V(country="Nigeria", limit=3)]),
        "find_nearest_city": ([
            "Which city is closest to latitude {latitude}, longitude {longitude}?",
            "I'm at coordinates {latitude}, {longitude}; what's the nearest town?",
        ], [V(latitude=45.76, longitude=4.84), V(latitude=-22.9, longitude=-43.2), V(latitude=51.5, longitude=-0.12),
            V(latitude=35.68, longitude=139.69), V(latitude=-33.87, longitude=151.21), V(latitude=40.42, longitude=-3.7),
            V(latitude=55.75, longitude=37.62), V(latitude=19.43, longitude=-99.13), V(latitude=1.29, longitude=103.85),
            V(latitude=-1.29, longitude=36.82)]),
    },
    "airports": {
        "get_airport_by_code": ([
            "Which airport has the code {code}?",
            "Where is the airport {code} located?",
            "Give me the full name and city of airport {code}.",
        ], [V(code=c) for c in ["CDG", "KORD", "LHR", "NRT", "EDDF", "SFO", "YSSY", "GRU", "DXB", "LEMD"]]),
        "find_airports_in_city": ([
            "Which airports serve {city}?",
            "What are the airport codes for {city}?",
            "List the airports I could fly into for {city}.",
        ], [V(city=c) for c in ["London", "Tokyo", "Paris", "Chicago", "Istanbul", "Milan", "Moscow", "Stockholm",
                                "Bangkok", "Sao Paulo"]]),
        "get_flight_distance": ([
            "How far is it by air from {from_airport} to {to_airport}?",
            "What's the flight distance between {from_airport} and {to_airport} airports in {_unit}?",
        ], [V(from_airport="JFK", to_airport="LAX", unit="mi", _unit="miles"),
            V(from_airport="DXB", to_airport="SIN"),
            V(from_airport="LHR", to_airport="JFK", unit="km", _unit="kilometres"),
            V(from_airport="CDG", to_airport="NRT"),
            V(from_airport="SYD", to_airport="AKL", unit="nmi", _unit="nautical miles"),
            V(from_airport="FRA", to_airport="ORD"),
            V(from_airport="GRU", to_airport="EZE", unit="km", _unit="kilometres"),
            V(from_airport="AMS", to_airport="BCN"),
            V(from_airport="HND", to_airport="ICN", unit="mi", _unit="miles"),
            V(from_airport="YYZ", to_airport="MEX")]),
    },
    "timezones": {
        "get_local_time": ([
            "What time is it in {location} right now?",
            "Tell me the current local time in {location}.",
            "What's the local time and UTC offset in {location}?",
        ], [V(location=c) for c in ["Singapore", "Honolulu", "Tokyo", "Europe/Berlin", "Sydney", "America/New_York",
                                    "Kathmandu", "Reykjavik", "Asia/Kolkata", "Buenos Aires"]]),
        "get_time_difference": ([
            "How many hours ahead of {from_location} is {to_location}?",
            "What's the time difference between {from_location} and {to_location}?",
        ], [V(from_location="London", to_location="Delhi"), V(from_location="Los Angeles", to_location="Paris"),
            V(from_location="New York", to_location="Tokyo"), V(from_location="Sydney", to_location="Dubai"),
            V(from_location="Chicago", to_location="Berlin"), V(from_location="Moscow", to_location="Beijing"),
            V(from_location="Toronto", to_location="Vancouver"), V(from_location="Madrid", to_location="Lima"),
            V(from_location="Cairo", to_location="Bangkok"), V(from_location="Auckland", to_location="Honolulu")]),
        "convert_time": ([
            "If it's {time} in {from_location}, what time is it in {to_location}?",
            "My meeting is at {time} {from_location} time; what time is that in {to_location}?",
        ], [V(time="15:00", from_location="Chicago", to_location="Berlin"),
            V(time="09:00", from_location="Tokyo", to_location="Toronto"),
            V(time="18:30", from_location="London", to_location="Singapore"),
            V(time="07:45", from_location="Sydney", to_location="Los Angeles"),
            V(time="12:00", from_location="Paris", to_location="New York"),
            V(time="22:15", from_location="Dubai", to_location="Mumbai"),
            V(time="06:00", from_location="Denver", to_location="Madrid"),
            V(time="14:00", from_location="Seoul", to_location="Moscow"),
            V(time="20:00", from_location="Mexico City", to_location="Sao Paulo"),
            V(time="10:30", from_location="Johannesburg", to_location="Cairo")]),
        "get_timezone_at": ([
            "Which time zone is at latitude {latitude}, longitude {longitude}?",
            "What's the time zone at coordinates {latitude}, {longitude}?",
        ], [V(latitude=64.1, longitude=-21.9), V(latitude=19.4, longitude=-99.1), V(latitude=48.86, longitude=2.35),
            V(latitude=-33.9, longitude=18.4), V(latitude=35.7, longitude=139.7), V(latitude=40.7, longitude=-74.0),
            V(latitude=-34.6, longitude=-58.4), V(latitude=55.75, longitude=37.6), V(latitude=28.6, longitude=77.2),
            V(latitude=-37.8, longitude=144.96)]),
    },
    "sun": {
        "get_sun_times": ([
            "What time is sunrise and sunset in {city} on {_day}?",
            "When does the sun rise in {city} on {_day}?",
        ], [V(city="Helsinki", date="2026-06-21", _day="21 June 2026"),
            V(city="Cape Town", date="2026-12-31", _day="December 31, 2026"),
            V(city="London", date="2026-03-20", _day="20 March 2026"),
            V(city="Tokyo", date="2026-08-15", _day="August 15, 2026"),
            V(city="Madrid", date="2026-10-01", _day="1 October 2026"),
            V(city="Chicago", date="2026-01-10", _day="January 10, 2026"),
            V(city="Sydney", date="2026-06-01", _day="1 June 2026"),
            V(city="Cairo", date="2026-04-05", _day="5 April 2026"),
            V(city="Vancouver", date="2026-07-01", _day="July 1, 2026"),
            V(city="Lima", date="2026-11-11", _day="11 November 2026")]),
        "get_day_length": ([
            "How many hours of daylight does {city} get on {_day}?",
            "How long is the day in {city} on {_day}?",
        ], [V(city="Oslo", date="2026-06-21", _day="21 June 2026"),
            V(city="Edinburgh", date="2026-12-21", _day="21 December 2026"),
            V(city="Quito", date="2026-03-01", _day="1 March 2026"),
            V(city="Anchorage", date="2026-06-21", _day="June 21, 2026"),
            V(city="Stockholm", date="2026-12-21", _day="21 December 2026"),
            V(city="Rome", date="2026-09-23", _day="23 September 2026"),
            V(city="Melbourne", date="2026-06-21", _day="21 June 2026"),
            V(city="Reykjavik", date="2026-06-21", _day="21 June 2026"),
            V(city="Toronto", date="2026-02-14", _day="February 14, 2026"),
            V(city="Singapore", date="2026-05-01", _day="1 May 2026")]),
        "get_golden_hour": ([
            "When is golden hour for photos in {city} on {_day}?",
            "What are the best times for soft-light photography in {city} on {_day}?",
        ], [V(city="Kyoto", date="2026-04-10", _day="10 April 2026"),
            V(city="Paris", date="2026-06-15", _day="15 June 2026"),
            V(city="Venice", date="2026-09-05", _day="5 September 2026"),
            V(city="San Francisco", date="2026-10-20", _day="October 20, 2026"),
            V(city="Marrakesh", date="2026-03-14", _day="14 March 2026"),
            V(city="Prague", date="2026-12-12", _day="12 December 2026"),
            V(city="Istanbul", date="2026-05-22", _day="22 May 2026"),
            V(city="Rio de Janeiro", date="2026-01-30", _day="30 January 2026"),
            V(city="Cusco", date="2026-07-08", _day="8 July 2026"),
            V(city="Dubrovnik", date="2026-08-02", _day="2 August 2026")]),
        "get_moon_phase": ([
            "What phase is the moon in on {_day}?",
            "Is there a full moon on {_day}?",
        ], [V(date=d, _day=t) for d, t in [
            ("2026-01-03", "January 3, 2026"), ("2026-02-17", "17 February 2026"), ("2026-03-25", "25 March 2026"),
            ("2026-05-31", "May 31, 2026"), ("2026-07-04", "4 July 2026"), ("2026-08-28", "August 28, 2026"),
            ("2026-09-11", "11 September 2026"), ("2026-10-26", "October 26, 2026"), ("2026-11-24", "24 November 2026"),
            ("2026-12-24", "December 24, 2026")]]),
    },
    "currency": {
        "convert_currency": ([
            "How much is {_amount} {_from} in {_to}?",
            "Convert {_amount} {_from} to {_to}.",
            "If I exchange {_amount} {_from}, how many {_to} do I get?",
        ], [V(amount=300, from_currency="EUR", to_currency="JPY", _amount="300", _from="euros", _to="yen"),
            V(amount=1200, from_currency="CAD", to_currency="GBP", _amount="1,200", _from="Canadian dollars",
              _to="British pounds"),
            V(amount=50, from_currency="USD", to_currency="MXN", _amount="50", _from="US dollars", _to="Mexican pesos"),
            V(amount=2500, from_currency="SEK", to_currency="EUR", _amount="2,500", _from="Swedish kronor", _to="euros"),
            V(amount=80, from_currency="CHF", to_currency="USD", _amount="80", _from="Swiss francs", _to="US dollars"),
            V(amount=10000, from_currency="INR", to_currency="AUD", _amount="10,000", _from="Indian rupees",
              _to="Australian dollars"),
            V(amount=45.5, from_currency="GBP", to_currency="EUR", _amount="45.50", _from="pounds sterling", _to="euros"),
            V(amount=700, from_currency="BRL", to_currency="USD", _amount="700", _from="Brazilian reais", _to="US dollars"),
            V(amount=150, from_currency="AUD", to_currency="NZD", _amount="150", _from="Australian dollars",
              _to="New Zealand dollars"),
            V(amount=20000, from_currency="JPY", to_currency="KRW", _amount="20,000", _from="Japanese yen",
              _to="South Korean won")]),
        "get_exchange_rate": ([
            "What's the exchange rate from {_from} to {_to}?",
            "How many {_to} is one {_one}?",
        ], [V(from_currency=f, to_currency=t, _from=fn, _to=tn, _one=on) for f, t, fn, tn, on in [
            ("CHF", "USD", "Swiss francs", "US dollars", "Swiss franc"),
            ("AUD", "THB", "Australian dollars", "Thai baht", "Australian dollar"),
            ("EUR", "GBP", "euros", "British pounds", "euro"),
            ("USD", "JPY", "US dollars", "Japanese yen", "US dollar"),
            ("GBP", "INR", "British pounds", "Indian rupees", "British pound"),
            ("CAD", "USD", "Canadian dollars", "US dollars", "Canadian dollar"),
            ("EUR", "PLN", "euros", "Polish zloty", "euro"),
            ("SGD", "MYR", "Singapore dollars", "Malaysian ringgit", "Singapore dollar"),
            ("NOK", "SEK", "Norwegian kroner", "Swedish kronor", "Norwegian krone"),
            ("USD", "ZAR", "US dollars", "South African rand", "US dollar")]]),
        "list_exchange_rates": ([
            "Show me what one {_one} is worth in all other currencies.",
            "List the exchange rates against the {_one}.",
        ], [V(base=b, _one=o) for b, o in [
            ("GBP", "British pound"), ("EUR", "euro"), ("USD", "US dollar"), ("JPY", "Japanese yen"),
            ("CHF", "Swiss franc"), ("SGD", "Singapore dollar"), ("CAD", "Canadian dollar"), ("INR", "Indian rupee"),
            ("AUD", "Australian dollar"), ("CNY", "Chinese yuan")]]),
        "get_currency_info": ([
            "Which currency has the code {currency}?",
            "Which countries use the currency {currency}?",
            "What is the full name of the currency {currency}?",
        ], [V(currency=c) for c in ["PLN", "XOF", "CHF", "SEK", "ZAR", "HUF", "XAF", "KES", "VND", "ISK"]]),
    },
}


def items(tool: str, phrasings: list[str], values: list[dict]) -> list[dict]:
    out = []
    for i, value in enumerate(values):
        query = _pick(phrasings, i, value).format(**value)
        arguments = {k: v for k, v in value.items() if not k.startswith("_")}
        out.append({"id": f"{tool}-{i + 1}", "api": tool, "query": query, "arguments": arguments})
    return out


def _pick(phrasings: list[str], start: int, value: dict) -> str:
    """The first phrasing from `start` on whose fields the value set fills and states its optional arguments."""
    for k in range(len(phrasings)):
        text = phrasings[(start + k) % len(phrasings)]
        fields = {f for _, f, _, _ in string.Formatter().parse(text) if f}
        if fields <= set(value) and all((f"_{o}" in fields) == (o in value) for o in OPTIONAL):
            return text
    raise ValueError(f"no phrasing fits {value}")


def main(folder: str) -> None:
    Path(folder).mkdir(parents=True, exist_ok=True)
    for module, tools in SPECS.items():
        rows = [row for tool, (phrasings, values) in tools.items() for row in items(tool, phrasings, values)]
        text = "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows)
        Path(folder, f"{module}.jsonl").write_text(text)
        print(f"{module}.jsonl: {len(rows)} items")


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "data/testset")
