"""python -m scripts.make_testset [data/testset]

Write the gold test set: 15 items per built-in API, ids <api>-1..15, items 1-10 "test" and 11-15 "dev",
one <module>.jsonl per tool module (the module that defines the tool), from the hand-written phrasings
and value rows below. Deterministic: the same files every run.

Held out by construction: no value below is a schema example, a query seed's value, a worked example's
value or a phrase of any text the explorer or the student is shown (tool signatures, prompts, general
data), and no phrasing is a query seed's or worked example's question with other values (the same
`question_template`); `tests/test_testset.py` checks it with `ste.evaluate.leakage.static_leaks`. Enum values (currency codes,
languages, units of distance, quantities, phone styles) are a closed vocabulary and cannot be held out.

Item i of an API fills the first fitting phrasing from i mod len(phrasings) on with value row i. Keys
starting with "_" only fill the phrasing; the rest are the gold arguments. A phrasing fits a row when it
states every gold argument, as "{_key}" when the row spells the key out (-45 as "45 days before"), else
as "{key}", and uses no key the row lacks: so an optional argument is gold only when the question says it.
"""
from __future__ import annotations

import datetime as dt
import json
import string
import sys
from pathlib import Path

SPLITS = ["test"] * 10 + ["dev"] * 5  # tune on dev, report on test
V = dict  # one value row

SPECS: dict[str, tuple[list[str], list[dict]]] = {
    # ------------------------------------------------------------------ travel
    "get_airport_by_code": ([
        "Which airport has the code {code}?",
        "My boarding pass says {code}; where is that airport?",
        "Give me the full name, city and time zone of the airport {code}.",
        "How high above sea level is the airport with the code {code}?",
    ], [V(code=c) for c in ["HND", "MUC", "ZRH", "LEBL", "CPH", "ATL", "RKSI", "DEL", "BOG", "YMML",
                            "VIE", "EIDW", "KUL", "JNB", "AKL"]]),
    "find_airports_in_city": ([
        "Which airports serve {city}?",
        "What are the IATA codes of the airports in {city}?",
        "I want to fly into {city}; which airports can I choose from?",
        "Which airports are there in {city}, {country}?",
        "List the airports of {city} in {country}.",
    ], [V(city="Houston"), V(city="Manila"), V(city="Stockholm"), V(city="Santiago", country="Chile"),
        V(city="Bangkok"), V(city="Seoul"), V(city="Shanghai"), V(city="Birmingham", country="United Kingdom"),
        V(city="Buenos Aires"), V(city="Washington"), V(city="Dallas"), V(city="Valencia", country="Venezuela"),
        V(city="Taipei"), V(city="Jakarta"), V(city="San Jose", country="Costa Rica")]),
    "get_flight_distance": ([
        "How far is it by air from {from_airport} to {to_airport}?",
        "What's the great-circle distance between {from_airport} and {to_airport} in {unit}?",
        "I'm flying {from_airport} to {to_airport}; what is the flight distance?",
        "Flight distance from {from_airport} to {to_airport} in {unit}, please.",
    ], [V(from_airport="MUC", to_airport="BKK"), V(from_airport="ZRH", to_airport="YUL", unit="mi"),
        V(from_airport="BCN", to_airport="FCO"), V(from_airport="ATH", to_airport="CAI", unit="km"),
        V(from_airport="HEL", to_airport="PEK"), V(from_airport="BOS", to_airport="DUB", unit="nmi"),
        V(from_airport="PRG", to_airport="WAW"), V(from_airport="ICN", to_airport="HKG", unit="mi"),
        V(from_airport="LIM", to_airport="BOG"), V(from_airport="CPT", to_airport="NBO"),
        V(from_airport="DEN", to_airport="ATL", unit="mi"), V(from_airport="EHAM", to_airport="LOWW"),
        V(from_airport="DOH", to_airport="BOM", unit="km"), V(from_airport="MEL", to_airport="AKL"),
        V(from_airport="YVR", to_airport="MEX", unit="nmi")]),
    # ------------------------------------------------------------------ calendar
    "day_of_week": ([
        "Which weekday fell on {date}?",
        "Which weekday does {date} fall on?",
        "Is {date} a weekend day?",
    ], [V(date=d) for d in ["1989-11-09", "2000-02-29", "1994-06-17", "2033-08-14", "1963-11-22", "2029-09-09",
                            "1999-12-31", "2038-01-19", "1815-06-18", "2026-09-18", "2045-01-01", "1958-03-03",
                            "2010-07-11", "2031-02-14", "1912-04-15"]]),
    "days_between": ([
        "Count the days from {start_date} to {end_date}.",
        "Count the working days from {start_date} to {end_date}.",
        "How long is it from {start_date} until {end_date}, in weeks and days?",
    ], [V(start_date=a, end_date=b) for a, b in [
        ("2026-03-02", "2026-06-19"), ("2019-09-01", "2023-08-31"), ("2026-05-11", "2026-05-29"),
        ("1991-08-24", "2026-08-24"), ("2028-02-01", "2028-03-01"), ("2026-10-05", "2027-01-08"),
        ("2022-11-20", "2022-12-18"), ("2030-06-15", "2030-09-15"), ("2026-01-19", "2026-04-03"),
        ("2008-08-08", "2028-07-14"), ("2026-07-13", "2026-08-21"), ("2035-04-10", "2035-12-10"),
        ("2023-01-16", "2023-03-17"), ("2026-11-02", "2026-12-04"), ("1969-01-01", "2000-01-01")]]),
    "add_days": ([
        "If I start on {date}, what is the date {days} days later?",
        "If I start on {date}, which date will it be in {days} days?",
        "Go back {_days} days from {date}: what date is it?",
        "A {days}-day trial begins on {date}; on which date does it end?",
        "I was born {_days} days before {date}; what is my birth date?",
    ], [V(date="2026-04-17", days=45), V(date="2028-01-29", days=180), V(date="2026-08-09", days=-26, _days=26),
        V(date="2027-05-03", days=270), V(date="2026-02-11", days=28), V(date="2026-06-30", days=-365, _days=365),
        V(date="2029-10-15", days=11), V(date="2026-12-01", days=56), V(date="2031-03-22", days=-10000, _days=10000),
        V(date="2026-09-07", days=135), V(date="2026-03-16", days=-75, _days=75), V(date="2027-11-25", days=36),
        V(date="2026-10-19", days=500), V(date="2032-07-01", days=-11, _days=11), V(date="2026-05-26", days=23)]),
    "week_number": ([
        "Tell me the week of the year for {date}.",
        "Give me the ISO calendar week of {date}.",
        "In which week of the year does {date} fall, and what are that week's Monday and Sunday?",
    ], [V(date=d) for d in ["2026-04-23", "2028-01-02", "2026-08-31", "2029-12-30", "2026-11-11", "2030-03-06",
                            "2026-06-08", "2021-01-03", "2027-09-29", "2026-02-19", "2032-12-27", "2026-07-22",
                            "2024-04-08", "2026-10-14", "2033-05-19"]]),
    "days_until": ([
        "How many days are left until {date}?",
        "How many days is it from today to {date}?",
        "Count the days and weekdays between today and {date}.",
    ], [V(date=d) for d in ["2026-06-11", "2026-03-08", "2027-02-06", "2026-09-30", "2025-11-27", "2026-04-05",
                            "2028-07-14", "2026-08-17", "2026-02-03", "2030-10-10", "2026-05-24", "2025-09-15",
                            "2026-11-29", "2027-06-21", "2026-01-30"]]),
    # ------------------------------------------------------------------ geography
    "find_city": ([
        "What is the population of {city}?",
        "Give me the latitude and longitude of {city}.",
        "Look up the city of {city}: population and time zone.",
        "Which time zone is {city}, {country} in?",
        "Tell me about the city of {city} in {country}.",
    ], [V(city="Porto"), V(city="Krakow"), V(city="Seattle"), V(city="Valencia", country="Venezuela"),
        V(city="Medellin"), V(city="Adelaide"), V(city="Gothenburg"), V(city="Cordoba", country="Argentina"),
        V(city="Leipzig"), V(city="Bologna"), V(city="Seville"), V(city="Kingston", country="Jamaica"),
        V(city="Curitiba"), V(city="Tbilisi"), V(city="Alexandria", country="Egypt")]),
    "get_city_distance": ([
        "How far is {from_city} from {to_city} as the crow flies?",
        "What's the straight-line distance between {from_city} and {to_city} in {unit}?",
        "Distance from {from_city} to {to_city}, please.",
        "How many {unit} separate {from_city} and {to_city} in a straight line?",
    ], [V(from_city="Bilbao", to_city="Bordeaux"), V(from_city="Albuquerque", to_city="Phoenix", unit="mi"),
        V(from_city="Vienna", to_city="Budapest"), V(from_city="Hanoi", to_city="Manila", unit="km"),
        V(from_city="Quito", to_city="Bogota"), V(from_city="Dublin", to_city="Belfast", unit="mi"),
        V(from_city="Perth", to_city="Darwin"), V(from_city="Accra", to_city="Lagos", unit="km"),
        V(from_city="Seville", to_city="Marseille"), V(from_city="Montevideo", to_city="Asuncion", unit="nmi"),
        V(from_city="Naples", to_city="Palermo"), V(from_city="Calgary", to_city="Winnipeg", unit="mi"),
        V(from_city="Kyiv", to_city="Minsk"), V(from_city="Riga", to_city="Tallinn", unit="km"),
        V(from_city="Casablanca", to_city="Tunis")]),
    "list_largest_cities": ([
        "What are the {limit} biggest cities in {country}?",
        "List the most populous cities of {country}.",
        "Name the {limit} largest cities of {country}, largest first.",
        "Which cities in {country} have the most people?",
    ], [V(country="Nigeria", limit=11), V(country="Argentina"), V(country="Vietnam", limit=23),
        V(country="Algeria"), V(country="Colombia", limit=26), V(country="Egypt"), V(country="Sweden", limit=28),
        V(country="Bangladesh"), V(country="Ukraine", limit=31), V(country="Morocco"),
        V(country="Pakistan", limit=35), V(country="Chile"), V(country="Indonesia", limit=40),
        V(country="Romania"), V(country="Malaysia", limit=45)]),
    "find_nearest_city": ([
        "Which city is closest to latitude {latitude}, longitude {longitude}?",
        "I'm at coordinates {latitude}, {longitude}; what's the nearest town?",
        "My GPS shows {latitude}, {longitude}. Which city am I near?",
    ], [V(latitude=lat, longitude=lon) for lat, lon in [
        (41.39, 2.17), (59.33, 18.07), (-34.61, -58.38), (37.57, 126.98), (30.06, 31.25), (-1.95, 30.06),
        (52.37, 4.9), (43.65, -79.38), (-12.05, -77.04), (13.76, 100.5), (50.45, 30.52), (-41.29, 174.78),
        (25.2, 55.27), (38.72, -9.14), (-23.55, -46.63)]]),
    # ------------------------------------------------------------------ colors
    "color_name_to_hex": ([
        "What is the hex code of the color {name}?",
        "Give me the RGB values of {name}.",
        "Which hex value does the CSS color {name} have?",
    ], [V(name=n) for n in ["salmon", "navy", "orchid", "chartreuse", "teal", "plum", "goldenrod", "crimson",
                            "turquoise", "lavender", "khaki", "coral", "indigo", "sienna", "thistle"]]),
    "hex_to_color_name": ([
        "I have the hex {hex_color}; what is that color called?",
        "Find the nearest named colour to {hex_color}.",
        "Does {hex_color} have a CSS color name?",
    ], [V(hex_color=h) for h in ["#fa8072", "#4b0082", "#a1b2c3", "#008080", "#ff00ff", "#2e8b57", "#dc143c",
                                 "#40e0d0", "#e6e6fa", "#f0e68c", "#808000", "#b0c4de", "#3cb371", "#ffa500",
                                 "#7fffd4"]]),
    "rgb_to_hex": ([
        "Convert rgb({red}, {green}, {blue}) to a hex code.",
        "Convert red {red}, green {green}, blue {blue} to a hex code.",
        "Which CSS color is closest to RGB {red}, {green}, {blue}?",
    ], [V(red=r, green=g, blue=b) for r, g, b in [
        (218, 112, 214), (46, 139, 87), (123, 104, 238), (240, 128, 128), (65, 105, 225), (233, 150, 122),
        (102, 51, 153), (205, 133, 65), (34, 139, 34), (176, 224, 230), (160, 82, 45), (102, 205, 170),
        (188, 143, 143), (75, 11, 130), (222, 184, 135)]]),
    # ------------------------------------------------------------------ countries
    "get_country_info": ([
        "Give me an overview of {country}: capital, population and area.",
        "Tell me the key facts about {country}.",
        "What region is {country} in and how many people live there?",
    ], [V(country=c) for c in ["Norway", "Vietnam", "Colombia", "Hungary", "Morocco", "Nepal", "Uruguay",
                               "Estonia", "Ghana", "Jordan", "Iceland", "Bolivia", "Cambodia", "Croatia",
                               "Tanzania"]]),
    "get_country_currency": ([
        "What currency is used in {country}?",
        "Which money should I take on a trip to {country}?",
        "What is the official currency of {country}?",
    ], [V(country=c) for c in ["Sweden", "Czechia", "Egypt", "Indonesia", "Argentina", "Romania", "Qatar",
                               "Mongolia", "Peru", "Serbia", "Kazakhstan", "Bulgaria", "Ethiopia", "Fiji",
                               "Denmark"]]),
    "get_country_languages": ([
        "Which languages do people speak in {country}?",
        "Which official languages does {country} have?",
        "What language do people speak in {country}?",
    ], [V(country=c) for c in ["Finland", "Luxembourg", "Paraguay", "Sri Lanka", "Malta", "Rwanda", "Israel",
                               "Afghanistan", "Cyprus", "Bhutan", "Latvia", "Madagascar", "Ukraine",
                               "Kyrgyzstan", "Namibia"]]),
    "get_country_capital": ([
        "Name the capital city of {country}.",
        "Which city is the capital of {country}?",
        "Name the capital city of {country} and give its coordinates.",
    ], [V(country=c) for c in ["Nigeria", "Pakistan", "Kazakhstan", "Myanmar", "Tanzania", "Bolivia", "Slovenia",
                               "Ecuador", "Lithuania", "Mozambique", "Honduras", "Oman", "Uzbekistan", "Malawi",
                               "Albania"]]),
    "get_neighboring_countries": ([
        "What countries share a border with {country}?",
        "What are the neighbouring countries of {country}?",
        "How many countries share a land border with {country}, and which are they?",
    ], [V(country=c) for c in ["Hungary", "Bolivia", "Laos", "Niger", "Serbia", "Zambia", "Belarus", "Paraguay",
                               "Afghanistan", "Slovakia", "Cameroon", "Guatemala", "Mongolia", "Tanzania",
                               "Armenia"]]),
    "find_country_by_calling_code": ([
        "Which country uses the phone prefix {calling_code}?",
        "I got a call from a number starting with {calling_code}; which country is that?",
        "What country has the international dialling code {calling_code}?",
    ], [V(calling_code=c) for c in ["+31", "+36", "+40", "+43", "+46", "+54", "+57", "+62", "+66", "+86",
                                    "+212", "+254", "+358", "+420", "+972"]]),
    "find_country_by_code": ([
        "Which country has the ISO code {code}?",
        "Whose country code is {code}?",
        "Decode the country code {code} for me.",
    ], [V(code=c) for c in ["FI", "DNK", "CZ", "ROU", "GR", "SVN", "EE", "URY", "VE", "PHL", "EG", "MAR",
                            "724", "UA", "752"]]),
    # ------------------------------------------------------------------ finance
    "convert_currency": ([
        "How much is {amount} {from_currency} in {to_currency}?",
        "Convert {amount} {from_currency} to {to_currency}.",
        "If I exchange {amount} {from_currency}, how many {to_currency} do I get?",
    ], [V(amount=a, from_currency=f, to_currency=t) for a, f, t in [
        (640, "SEK", "NOK"), (1850, "MXN", "USD"), (75, "GBP", "EUR"), (12500, "INR", "THB"), (330, "CAD", "AUD"),
        (45000, "JPY", "KRW"), (2800, "PLN", "CZK"), (59.5, "EUR", "CHF"), (8700, "ZAR", "KES"),
        (460, "NZD", "SGD"), (1375, "DKK", "ISK"), (210, "USD", "BRL"), (38000, "HUF", "RON"),
        (715, "AED", "INR"), (26.75, "CHF", "GBP")]]),
    "get_exchange_rate": ([
        "What's the exchange rate from {from_currency} to {to_currency}?",
        "How many {to_currency} do I get for one {from_currency}?",
        "Tell me the current {from_currency} to {to_currency} rate and its inverse.",
    ], [V(from_currency=f, to_currency=t) for f, t in [
        ("NOK", "EUR"), ("TWD", "JPY"), ("GBP", "CAD"), ("BRL", "ARS"), ("SGD", "HKD"), ("PHP", "USD"),
        ("EUR", "HUF"), ("ILS", "EUR"), ("CNY", "KRW"), ("MAD", "EUR"), ("USD", "TRY"), ("AUD", "NZD"),
        ("SEK", "DKK"), ("EGP", "SAR"), ("CLP", "COP")]]),
    "list_exchange_rates": ([
        "Show me what one {base} is worth in every other currency.",
        "List all exchange rates against {base}.",
        "What are today's reference rates with {base} as the base currency?",
    ], [V(base=b) for b in ["NOK", "CAD", "BRL", "KRW", "CHF", "MXN", "ZAR", "HKD", "PLN", "TRY", "AUD", "INR",
                            "DKK", "JPY", "NZD"]]),
    "get_currency_info": ([
        "What currency is {currency}?",
        "Which countries pay with {currency}?",
        "What is the full name of the currency {currency}?",
    ], [V(currency=c) for c in ["XAF", "AMD", "RSD", "GEL", "KZT", "PEN", "UYU", "QAR", "KWD", "TND", "GHS",
                                "MNT", "XPF", "BDT", "XCD"]]),
    # ------------------------------------------------------------------ science
    "element_info": ([
        "What is the atomic number of {element}?",
        "Tell me about the element {element}.",
        "How dense is {element}, and what is its atomic weight?",
    ], [V(element=e) for e in ["titanium", "argon", "Cu", "neon", "Pb", "platinum", "Zn", "lithium", "Mg",
                               "silicon", "Ag", "cobalt", "Ni", "bismuth", "Sn"]]),
    "molar_mass": ([
        "What is the molar mass of {formula}?",
        "How many grams per mole does {formula} weigh?",
        "What is the mass percentage of each element in {formula}?",
    ], [V(formula=f) for f in ["CH4", "NH3", "H2SO4", "CaCO3", "Fe2O3", "KMnO4", "NaHCO3", "C8H10N4O2",
                               "C12H22O11", "Mg(OH)2", "CuSO4+5H2O", "Al2(SO4)3", "HNO3", "C3H8", "C9H8O4"]]),
    # ------------------------------------------------------------------ emoji
    "find_emoji": ([
        "Do you have an emoji for {name}?",
        "Give me the {name} emoji.",
        "Find the emoji named {name}.",
    ], [V(name=n) for n in ["octopus", "penguin", "avocado", "volcano", "umbrella", "guitar", "bicycle", "cactus",
                            "dolphin", "pineapple", "rainbow", "snowflake", "ghost", "croissant", "kangaroo"]]),
    "describe_emoji": ([
        "I received {text} in a chat; what is that emoji called?",
        "Which emoji is {text}, and what is its shortcode?",
        "Name every emoji in this message and the Unicode version it came with: {text}",
    ], [V(text=t) for t in ["🐙", "🥑", "🎉🥳", "🦘", "🌋", "Congrats 🎓🍾", "🫶", "🧗", "🥐☕", "🪐",
                            "🇰🇪", "Road trip 🚗💨", "🐧", "🧘🏾", "🌈"]]),
    "emojize_text": ([
        "Turn the shortcodes in '{text}' into emoji.",
        "Convert this message to real emoji: {text}",
        "Replace the :codes: in \"{text}\" with emoji.",
    ], [V(text=t) for t in [
        "Dinner at eight :spaghetti:", "Congrats on the new job :trophy:", "Bring an umbrella :umbrella:",
        "Game night :game_die: :popcorn:", "Sleep well :sleeping_face:", "We won :soccer_ball: :star:",
        "Welcome aboard :ship:", "Well done :clapping_hands:", "Picnic on Sunday :sandwich: :watermelon:",
        "Study hard :books:", "Merry Christmas :christmas_tree:", "Coffee break :hot_beverage:",
        "Safe travels :airplane:", "Gardening today :seedling:", "Movie time :clapper_board:"]]),
    # ------------------------------------------------------------------ holidays
    "get_public_holidays": ([
        "List all public holidays in {country} for {year}.",
        "Which national holidays does {country} have in {year}?",
        "I'm planning {year}: what are the official holidays in {country}?",
        "What are the public holidays in {country} in {year} for the region with code {subdivision}?",
    ], [V(country="Norway", year=2028), V(country="Argentina", year=2029), V(country="Latvia", year=2023),
        V(country="Chile", year=2030, subdivision="RM"), V(country="Indonesia", year=2028),
        V(country="Greece", year=2029), V(country="Colombia", year=2023), V(country="Nigeria", year=2030),
        V(country="Bosnia and Herzegovina", year=2028, subdivision="BRC"), V(country="Malaysia", year=2029),
        V(country="Czechia", year=2030), V(country="Egypt", year=2028), V(country="Finland", year=2032),
        V(country="Peru", year=2023), V(country="Croatia", year=2029)]),
    "is_public_holiday": ([
        "Is {date} a public holiday in {country}?",
        "Will offices in {country} be closed for a holiday on {date}?",
        "Check whether {date} is an official holiday in {country}.",
        "Is {date} a holiday in {country}'s region {subdivision}?",
    ], [V(country="Norway", date="2026-05-17"), V(country="Latvia", date="2026-05-04"),
        V(country="Argentina", date="2026-05-25"), V(country="Bosnia and Herzegovina", date="2026-01-07", subdivision="SRP"),
        V(country="Sweden", date="2026-06-19"), V(country="Greece", date="2026-03-25"),
        V(country="Vietnam", date="2026-09-02"), V(country="Chile", date="2026-09-18"),
        V(country="Hungary", date="2026-08-20"), V(country="Indonesia", date="2026-08-17"),
        V(country="Finland", date="2026-12-06"), V(country="Colombia", date="2026-07-20"),
        V(country="Nigeria", date="2026-10-01"), V(country="Czechia", date="2026-10-28"),
        V(country="Denmark", date="2026-06-05")]),
    "get_holidays_between": ([
        "Which public holidays in {country} fall between {start_date} and {end_date}?",
        "I'm travelling in {country} from {start_date} to {end_date}; are there any public holidays then?",
        "List {country}'s holidays in the period {start_date} to {end_date}.",
    ], [V(country=c, start_date=a, end_date=b) for c, a, b in [
        ("Slovakia", "2026-08-25", "2026-09-05"), ("Norway", "2026-03-28", "2026-04-12"),
        ("Argentina", "2026-02-10", "2026-03-31"), ("Greece", "2026-04-05", "2026-04-20"),
        ("Sweden", "2026-12-20", "2027-01-10"), ("Colombia", "2026-08-01", "2026-08-31"),
        ("Indonesia", "2026-11-01", "2026-12-31"), ("Latvia", "2026-04-20", "2026-05-31"),
        ("Uruguay", "2026-04-15", "2026-05-20"), ("Hungary", "2026-10-15", "2026-11-15"),
        ("Chile", "2026-09-02", "2026-09-30"), ("Finland", "2026-06-15", "2026-06-30"),
        ("Peru", "2026-07-02", "2026-07-31"), ("Croatia", "2026-05-25", "2026-06-30"),
        ("Egypt", "2026-07-15", "2026-10-15")]]),
    "find_holiday_date": ([
        "On what date is {holiday_name} in {country} in {year}?",
        "When does {country} celebrate {holiday_name} in {year}?",
        "Which day is {holiday_name} in {year} in {country}?",
    ], [V(country=c, holiday_name=h, year=y) for c, h, y in [
        ("Norway", "Ascension Day", 2028), ("Sweden", "Midsummer Day", 2029), ("Finland", "Good Friday", 2030),
        ("Latvia", "Restoration of Independence Day", 2023), ("Argentina", "Carnival", 2028), ("Chile", "Independence Day", 2029),
        ("Hungary", "Pentecost Monday", 2030), ("Colombia", "Corpus Christi", 2028), ("Greece", "Green Monday", 2029),
        ("Indonesia", "Independence Day", 2032), ("Slovakia", "Slovak National Uprising", 2028),
        ("Peru", "Saint Peter and Saint Paul", 2030), ("Denmark", "Ascension Day", 2029),
        ("Croatia", "Corpus Christi", 2032), ("Czechia", "Czechoslovak State Day", 2030)]]),
    "get_next_public_holiday": ([
        "When is the next public holiday in {country}?",
        "What's the next bank holiday in {country} after {after_date}?",
        "How many days until the next national holiday in {country}?",
        "After {after_date}, which public holiday comes next in {country}?",
    ], [V(country="Sweden"), V(country="Norway", after_date="2026-05-18"), V(country="Argentina"),
        V(country="Greece", after_date="2026-08-16"), V(country="Hungary"), V(country="Colombia", after_date="2026-03-24"),
        V(country="Chile"), V(country="Indonesia", after_date="2026-11-03"), V(country="Latvia"),
        V(country="Finland", after_date="2026-02-28"), V(country="Peru"), V(country="Croatia", after_date="2026-10-09"),
        V(country="Nigeria"), V(country="Uruguay", after_date="2026-07-19"), V(country="Czechia")]),
    # ------------------------------------------------------------------ identifiers
    "validate_iban": ([
        "Please validate this IBAN: {iban_number}",
        "Please check the bank account number {iban_number}.",
        "Which country is the IBAN {iban_number} from?",
    ], [V(iban_number=n) for n in [
        "AT61 1904 3002 3457 3201", "DK50 0040 0440 1162 43", "FI21 1234 5600 0007 86", "IE29 AIBK 9311 5212 3456 78",
        "NO9386011117947", "PL61 1090 1014 0000 0712 1981 2874", "SE45 5000 0000 0583 9825 7467",
        "CZ65 0800 0000 1920 0014 5399", "HU42117730161111101800000000", "LU28 0019 4006 4475 0000",
        "SI56 2633 0001 2039 086", "SK31 1200 0000 1987 4263 7542", "HR1210010051863000160",
        "EE38 2200 2210 2014 5685", "LT12 1000 0111 0100 1000"]]),
    "validate_vat_number": ([
        "Is the VAT number {vat_number} valid?",
        "Check the VAT ID {vat_number} from this invoice.",
        "Is {vat_number} a well-formed EU VAT number?",
    ], [V(vat_number=n) for n in ["DK13585628", "FI20774740", "IE6388047V", "SE556188840401", "IT00743110158",
                                  "CZ25123891", "LU10000356", "SK2020273893", "HU12892312", "PT501964842",
                                  "SI15012557", "LT119511515", "EE100931558", "BG175074752", "HR33392005961"]]),
    "validate_isbn": ([
        "Does {isbn_number} pass the ISBN checksum?",
        "Convert ISBN {isbn_number} to its 13-digit form.",
        "Check this ISBN for me: {isbn_number}.",
    ], [V(isbn_number=n) for n in [
        "978-0-7432-7356-5", "0-7432-7356-7", "978-0-06-112008-4", "978-1-4028-9462-7", "0-262-51087-1",
        "978-0-13-110362-7", "0-345-39180-2", "978-0-596-52068-7", "978-1-59327-584-6", "978-0-19-953556-8",
        "0-330-25864-8", "978-2-07-036822-8", "978-84-376-0494-7", "0-06-093546-4", "978-0-262-13472-9"]]),
    "validate_barcode": ([
        "Is {barcode} a valid barcode number?",
        "Does the barcode {barcode} have a correct check digit?",
        "The scanner read {barcode}; is that a valid product code?",
    ], [V(barcode=n) for n in ["5012345678900", "042100005264", "40170725", "10012345678902", "7622210449283",
                               "3017620422004", "8000500310427", "725272730706", "50184453", "9310072000382",
                               "00614141999996", "4902102072618", "5000112637922", "725272730707",
                               "8712345678906"]]),
    "validate_card_number": ([
        "Does the card number {card_number} pass the Luhn check?",
        "Which card network does the number {card_number} belong to?",
        "Does the credit card number {card_number} pass the checksum?",
    ], [V(card_number=n) for n in [
        "4012 8888 8888 1881", "5105 1051 0510 5100", "3714 496353 98431", "6011 0009 9013 9424",
        "3566 0020 2036 0505", "4012 8888 8888 1882", "3056 9309 0259 04", "2223 0031 2200 3222",
        "4000 0566 5566 5556", "3787 344936 71000", "5200 8282 8282 8210", "6011 9811 1111 1113",
        "3852 0000 0232 37", "4917 6100 0000 0000", "5200 8282 8282 8211"]]),
    # ------------------------------------------------------------------ language
    "number_to_words": ([
        "How do I write {number} in words?",
        "Spell out the number {number} in words, language code {language}.",
        "How do you say {number}?",
        "Write {number} out in words in the language with code {language}.",
    ], [V(number=4318), V(number=57, language="de"), V(number=1066), V(number=83, language="es"),
        V(number=2.75), V(number=391, language="it"), V(number=70000), V(number=46, language="nl"),
        V(number=12345), V(number=29, language="pt"), V(number=606), V(number=74, language="da"),
        V(number=3.14), V(number=1100, language="fr"), V(number=88888)]),
    "ordinal_words": ([
        "How do you spell the ordinal of {number}?",
        "Write {number} as an ordinal word in the language with code {language}.",
        "What is the ordinal form of {number}?",
        "Give me the ordinal of {number} in words, language code {language}.",
    ], [V(number=23), V(number=11, language="es"), V(number=101), V(number=31, language="fr"),
        V(number=112), V(number=40, language="de"), V(number=65), V(number=26, language="it"),
        V(number=1001), V(number=46, language="pt"), V(number=58), V(number=37, language="nl"),
        V(number=29), V(number=52, language="pl"), V(number=213)]),
    "to_roman_numeral": ([
        "How is {number} written in Roman numerals?",
        "What is {number} as a Roman numeral?",
        "Convert {number} to Roman numerals.",
    ], [V(number=n) for n in [1492, 76, 2049, 3888, 11, 444, 1666, 94, 2038, 39, 1215, 583, 3210, 47, 1776]]),
    "from_roman_numeral": ([
        "Convert the Roman numeral {numeral} to an integer.",
        "The film credits say {numeral}; which year is that?",
        "Convert the Roman numeral {numeral}.",
    ], [V(numeral=r) for r in ["MCMLXXXIV", "DCCCXC", "MMXIX", "CDXLIV", "MMMDCCC", "LXXVII", "MDCLXVI",
                               "CCCLXV", "XXXVIII", "MCDXCII", "DLV", "MMXXXIII", "XCIX", "MCMXLV", "CXLIX"]]),
    # ------------------------------------------------------------------ math
    "evaluate_expression": ([
        "What is {expression}?",
        "Calculate {expression}.",
        "Work out {expression} for me.",
    ], [V(expression=e) for e in [
        "23 * 19 + 7", "(46 - 11) / 7", "6 ** 5", "sqrt(289) - 4", "1587 / 23", "factorial(9)",
        "2.5 ** 3 * pi", "(1470 - 385) * 0.65", "211 % 13", "cos(pi / 3)", "log2(4096)", "max(37, 58, 41)",
        "round(22 / 7, 3)", "abs(-83) + 16", "exp(1.5)"]]),
    "percent_of": ([
        "How much is {percent}% of {value}?",
        "How big is a tip of {percent} percent on a bill of {value} dollars?",
        "Calculate {percent} percent of {value}.",
    ], [V(percent=p, value=v) for p, v in [
        (18.5, 73), (6.5, 2340), (23, 418.6), (140, 55), (11, 987), (35, 46.2), (2.75, 8600), (45, 316), (0.8, 15700),
        (62, 129), (8.5, 3450), (27.5, 212), (3.25, 74.9), (41, 1166), (26, 57.25)]]),
    "percent_change": ([
        "My rent went from {old_value} to {new_value}; by what percentage did it change?",
        "What is the percent change from {old_value} to {new_value}?",
        "The price moved from {old_value} to {new_value}; what percent is that?",
    ], [V(old_value=a, new_value=b) for a, b in [
        (1150, 1290), (76, 57), (3.49, 2.79), (245, 302), (52000, 47500), (36, 54), (820, 615), (64.5, 71.3),
        (11, 46), (1875, 1874), (420, 483), (7.2, 9.1), (2300, 1955), (158, 173), (43, 29)]]),
    "describe_numbers": ([
        "What are the average and median of {_numbers}?",
        "Find the standard deviation of these values: {_numbers}.",
        "Give me summary statistics for {_numbers}.",
    ], [V(numbers=row, _numbers=", ".join(f"{n:g}" for n in row)) for row in [
        [31, 47, 29, 56, 38], [87, 91, 76, 94, 89], [11, 23, 23, 35, 46, 58], [74.5, 66.3, 81.7], [130, 240, 360, 480],
        [26, 26, 26], [1.25, 3.75, 6.5, 11], [-11, -29, 23, 31], [1150, 1340, 1080, 1420, 1230], [26, 39, 52, 65, 78, 91],
        [58, 43, 73, 39, 62, 47], [0.35, 0.41, 0.29, 0.38], [215, 190, 240, 205], [37, 41, 43, 47, 59], [77, 34, 59]]]),
    # ------------------------------------------------------------------ phone
    "phone_number_info": ([
        "Which country and city does the phone number {number} belong to?",
        "Is {number} a mobile or a landline?",
        "Tell me what you know about the number {number}.",
        "Where is {number} from? It's a number from the country with code {region}.",
    ], [V(number=n) for n in ["+353 1 234 5678", "+46 70 123 45 67", "+47 22 12 34 56", "+36 1 234 5678",
                              "+61 412 345 678", "+420 224 004 111", "+65 6123 4567", "+44 161 496 0123",
                              "+54 11 4123 4567", "+27 82 123 4567"]]
    + [V(number="01 234 5678", region="IE"), V(number="+82 2 123 4567"), V(number="0412 345 678", region="AU"),
       V(number="+886 2 2123 4567"), V(number="+1 604 555 0199")]),
    "validate_phone_number": ([
        "Is {number} a valid phone number?",
        "Can you check whether the number {number} is real?",
        "My form rejects {number}; is it a valid phone number?",
    ], [V(number=n) for n in ["+358 9 1234 5678", "+31 20 624 111", "+43 1 588 58 0", "+1 312 555 01", "+91 22 2345 6789",
                              "+66 2 123 4567", "+46 8 123 456 789 012", "+372 612 3456", "+852 2123 4567",
                              "+57 1 234 5678", "+234 1 234 5678", "+351 21 123 4567", "+370 5 212 3456",
                              "+64 9 123 4567", "+212 522 123456"]]),
    "format_phone_number": ([
        "Write the number {number} in {style} format.",
        "Please rewrite {number} in the {style} style.",
        "Convert the phone number {number} to {style} form.",
        "How would I write {number} in {style} format if it is dialled from the country with code {region}?",
    ], [V(number=n, style=s) for n, s in [
        ("+3612345678", "NATIONAL"), ("+1 312 555 0147", "E164"), ("+442079460123", "INTERNATIONAL"),
        ("+35312345678", "NATIONAL"), ("+61 3 9123 4567", "E164"), ("+6561234567", "RFC3966"),
        ("+33 4 91 12 34 56", "NATIONAL"), ("+390212345678", "INTERNATIONAL"), ("+34 93 123 45 67", "E164")]]
    + [V(number="08 123 456 78", style="INTERNATIONAL", region="SE")]
    + [V(number=n, style=s) for n, s in [
        ("+4689123456", "NATIONAL"), ("+81 120 123 456", "E164"), ("+552123456789", "INTERNATIONAL"),
        ("+86 10 1234 5678", "RFC3966"), ("+31612345678", "NATIONAL")]]),
    "country_calling_code": ([
        "What is the phone country code of {_name} ({country})?",
        "Which code do I dial before a number in {_name} ({country})?",
        "What is the international dialling prefix for the country with ISO code {country}?",
    ], [V(country=c, _name=n) for c, n in [
        ("TZ", "Tanzania"), ("UY", "Uruguay"), ("SE", "Sweden"), ("VN", "Vietnam"), ("MA", "Morocco"),
        ("FI", "Finland"), ("CL", "Chile"), ("SK", "Slovakia"), ("PH", "the Philippines"), ("NG", "Nigeria"),
        ("GR", "Greece"), ("CZ", "Czechia"), ("PE", "Peru"), ("IE", "Ireland"), ("EG", "Egypt")]]),
    # ------------------------------------------------------------------ astronomy
    "get_sun_times": ([
        "What time is sunrise and sunset in {city} on {date}?",
        "When does the sun rise in {city} on {date}?",
        "When is sunset in {city} today?",
        "At what time is solar noon in {city} on {date}?",
    ], [V(city="Bergen", date="2026-06-10"), V(city="Santiago", date="2026-12-05"), V(city="Glasgow"),
        V(city="Seoul", date="2026-08-03"), V(city="Lima", date="2026-02-20"), V(city="Winnipeg", date="2026-10-27"),
        V(city="Perth"), V(city="Marrakesh", date="2026-04-14"), V(city="Anchorage", date="2026-11-22"),
        V(city="Manila", date="2026-07-09"), V(city="Tromso"), V(city="Auckland", date="2026-03-03"),
        V(city="Kathmandu", date="2026-05-28"), V(city="Montevideo", date="2026-09-12"), V(city="Vancouver")]),
    "get_day_length": ([
        "How many hours of daylight does {city} get on {date}?",
        "How long is the day in {city} on {date}?",
        "How long is the sun up in {city} today?",
    ], [V(city="Tampere", date="2026-06-24"), V(city="Hobart", date="2026-12-22"), V(city="Dublin"),
        V(city="Murmansk", date="2026-12-15"), V(city="Kampala", date="2026-06-22"), V(city="Copenhagen"),
        V(city="Ushuaia", date="2026-01-06"), V(city="Fairbanks", date="2026-03-21"), V(city="Bogota"),
        V(city="Trondheim", date="2026-05-30"), V(city="Christchurch", date="2026-07-15"), V(city="Minsk"),
        V(city="Punta Arenas", date="2026-06-01"), V(city="Yellowknife", date="2026-09-23"), V(city="Quebec")]),
    "get_golden_hour": ([
        "When is golden hour for photos in {city} on {date}?",
        "What are the best times for soft-light photography in {city} on {date}?",
        "When is the golden hour in {city} today?",
    ], [V(city="Venice", date="2026-09-05"), V(city="San Francisco", date="2026-10-20"), V(city="Prague"),
        V(city="Antalya", date="2026-05-22"), V(city="Rio de Janeiro", date="2026-01-30"), V(city="Havana"),
        V(city="Cusco", date="2026-07-08"), V(city="Dubrovnik", date="2026-08-02"), V(city="Salzburg"),
        V(city="Jaipur", date="2026-11-14"), V(city="Queenstown", date="2026-04-18"), V(city="Florence"),
        V(city="Hoi An", date="2026-03-11"), V(city="Nevsehir", date="2026-06-06"), V(city="Siena")]),
    "get_moon_phase": ([
        "What phase is the moon in on {date}?",
        "Is there a full moon on {date}?",
        "How old is the moon on {date}, in days?",
        "What does the moon look like tonight?",
    ], [V(date=d) for d in ["2026-02-17", "2026-03-25", "2026-05-31", "2026-08-28", "2026-10-26",
                            "2026-11-24", "2027-01-22", "2026-04-02", "2026-06-15"]]
    + [V()]
    + [V(date=d) for d in ["2026-09-11", "2028-12-02", "2026-07-29", "2026-12-08", "2030-05-17"]]),
    # ------------------------------------------------------------------ time
    "get_local_time": ([
        "Tell me the current time in {location}.",
        "Tell me the current local time in {location}.",
        "What's the local time and UTC offset in {location}?",
        "What will the local time be in {location} at {utc_datetime} UTC?",
    ], [V(location="Kathmandu"), V(location="Reykjavik"), V(location="Asia/Kolkata"),
        V(location="Lima", utc_datetime="2026-04-03T15:00"), V(location="Anchorage"), V(location="Auckland"),
        V(location="Europe/Madrid"), V(location="Adelaide", utc_datetime="2026-10-10T06:45"), V(location="Caracas"),
        V(location="Casablanca"), V(location="Tehran"), V(location="America/Sao_Paulo", utc_datetime="2026-12-31T23:00"),
        V(location="Manila"), V(location="Pacific/Fiji"), V(location="Vancouver")]),
    "get_time_difference": ([
        "If it is noon in {from_location}, what time is it in {to_location}?",
        "How far apart in hours are {from_location} and {to_location}?",
        "What is the time difference from {from_location} to {to_location} on {date}?",
    ], [V(from_location=a, to_location=b) for a, b in [
        ("Porto", "Kathmandu"), ("Vancouver", "Barcelona"), ("Phoenix", "Seoul")]]
    + [V(from_location="Stockholm", to_location="Santiago", date="2026-07-15")]
    + [V(from_location=a, to_location=b) for a, b in [("Manila", "Addis Ababa"), ("Bogota", "Bergen")]]
    + [V(from_location="Athens", to_location="Mexico City", date="2026-03-21")]
    + [V(from_location=a, to_location=b) for a, b in [
        ("Lima", "Jakarta"), ("Reykjavik", "Karachi"), ("Auckland", "Anchorage")]]
    + [V(from_location="Europe/London", to_location="America/Los_Angeles", date="2026-03-10")]
    + [V(from_location=a, to_location=b) for a, b in [
        ("Warsaw", "Tehran"), ("Havana", "Perth"), ("Casablanca", "Hanoi")]]
    + [V(from_location="Adelaide", to_location="Brisbane", date="2026-11-01")]),
    "convert_time": ([
        "If it's {time} in {from_location}, what time is it in {to_location}?",
        "My meeting is at {time} {from_location} time; what time is that in {to_location}?",
        "On {date}, what time is it in {to_location} when it is {time} in {from_location}?",
    ], [V(time="07:15", from_location="Barcelona", to_location="Bangkok"),
        V(time="11:45", from_location="Phoenix", to_location="Lagos"),
        V(time="16:30", from_location="Mumbai", to_location="Vancouver", date="2026-05-12"),
        V(time="20:10", from_location="Seoul", to_location="Athens"),
        V(time="05:50", from_location="Manila", to_location="Lima"),
        V(time="13:20", from_location="Tallinn", to_location="Boise", date="2026-10-02"),
        V(time="22:40", from_location="Santiago", to_location="Warsaw"),
        V(time="10:05", from_location="Karachi", to_location="Montreal"),
        V(time="17:55", from_location="Auckland", to_location="Ankara", date="2026-04-06"),
        V(time="08:35", from_location="Bogota", to_location="Jakarta"),
        V(time="14:25", from_location="Vienna", to_location="Anchorage"),
        V(time="19:05", from_location="Perth", to_location="Johannesburg", date="2026-08-19"),
        V(time="06:20", from_location="Houston", to_location="Kathmandu"),
        V(time="21:35", from_location="Taipei", to_location="Havana"),
        V(time="12:50", from_location="Reykjavik", to_location="Brisbane", date="2026-02-26")]),
    "get_timezone_at": ([
        "Which time zone is at latitude {latitude}, longitude {longitude}?",
        "What's the time zone at coordinates {latitude}, {longitude}?",
        "I'm standing at {latitude}, {longitude}; which IANA time zone applies here?",
    ], [V(latitude=lat, longitude=lon) for lat, lon in [
        (60.17, 24.94), (-36.85, 174.76), (39.74, -104.99), (14.6, 120.98), (-26.2, 28.05), (55.68, 12.57),
        (21.31, -157.86), (-31.95, 115.86), (47.49, 19.08), (3.14, 101.69), (-0.18, -78.47), (61.22, -149.9),
        (33.89, 35.5), (-17.83, 31.05), (46.2, 6.15)]]),
    # ------------------------------------------------------------------ units
    "convert_units": ([
        "How many {_to_unit} is {value} {_from_unit}?",
        "Convert {value} {_from_unit} to {_to_unit}.",
        "What is {value} {_from_unit} in {_to_unit}?",
    ], [V(value=v, from_unit=f, to_unit=t, _from_unit=fp, _to_unit=tp) for v, f, fp, t, tp in [
        (26.2, "inch", "inches", "centimeter", "centimeters"), (72, "ounce", "ounces", "gram", "grams"),
        (3.5, "tonne", "tonnes", "short_ton", "short tons"), (2.5, "pint", "pints", "deciliter", "deciliters"),
        (45, "knot", "knots", "mph", "mph"), (640, "acre", "acres", "hectare", "hectares"),
        (2000, "kilocalorie", "kilocalories", "kilojoule", "kilojoules"), (35, "psi", "psi", "kilopascal", "kilopascals"),
        (150, "horsepower", "horsepower", "kilowatt", "kilowatts"), (4.7, "gigabyte", "gigabytes", "megabyte", "megabytes"),
        (11, "furlong", "furlongs", "yard", "yards"), (23, "yard", "yards", "meter", "meters"),
        (46, "tablespoon", "tablespoons", "teaspoon", "teaspoons"),
        (1013, "millibar", "millibars", "atmosphere", "atmospheres"), (57, "quart", "quarts", "fluid_ounce", "fluid ounces")]]),
    "list_units": ([
        "Which units can I use to measure {quantity}?",
        "List the common units of {quantity}.",
        "What {quantity} units do you support?",
        "I need to convert some {quantity} values; which unit names are accepted?",
    ], [V(quantity=q) for q in ["length", "mass", "temperature", "time", "speed", "volume", "area", "energy",
                                "power", "data", "pressure", "mass", "temperature", "energy", "speed"]]),
    # ------------------------------------------------------------------ us_places
    "lookup_zip_code": ([
        "ZIP {zip_code} belongs to which town?",
        "Tell me the time zone for postal code {zip_code}.",
        "Which county has the ZIP {zip_code}?",
    ], [V(zip_code=z) for z in ["02139", "98101", "33139", "30303", "94103", "77002", "19103", "48104", "55401",
                                "97201", "84101", "70112", "96813", "99501", "37203"]]),
    "zip_codes_for_city": ([
        "List every ZIP code in {city}, {state}.",
        "List the ZIP codes for {city} in {state}.",
        "Count the ZIP codes of {city}, {state}.",
    ], [V(city=c, state=s) for c, s in [
        ("Burlington", "VT"), ("Santa Fe", "New Mexico"), ("Madison", "WI"), ("Savannah", "Georgia"),
        ("Tulsa", "Oklahoma"), ("Asheville", "NC"), ("Missoula", "Montana"), ("Duluth", "MN"), ("Provo", "Utah"),
        ("Flagstaff", "AZ"), ("Gainesville", "Florida"), ("Ithaca", "NY"), ("Berkeley", "California"),
        ("Fargo", "ND"), ("Reno", "Nevada")]]),
    "us_state_info": ([
        "Which city is the state capital of {state}?",
        "When was {state} admitted to the Union?",
        "Which time zones does {state} use?",
    ], [V(state=s) for s in ["Ohio", "Oregon", "Florida", "Nevada", "Maine", "Arizona", "Alaska", "Kansas", "Iowa",
                             "KY", "NM", "Puerto Rico", "Wyoming", "Delaware", "Montana"]]),
}


def _fields(phrasing: str) -> set[str]:
    return {f for _, f, _, _ in string.Formatter().parse(phrasing) if f}


def _fits(phrasing: str, row: dict) -> bool:
    """The phrasing states every gold argument (spelled out as `_key` when the row has one) and nothing else."""
    fields = _fields(phrasing)
    gold = [k for k in row if not k.startswith("_")]
    return fields <= set(row) and all((f"_{k}" if f"_{k}" in row else k) in fields for k in gold)


def _pick(phrasings: list[str], start: int, row: dict) -> str:
    """The first phrasing from `start` on that fits the row."""
    for k in range(len(phrasings)):
        text = phrasings[(start + k) % len(phrasings)]
        if _fits(text, row):
            return text
    raise ValueError(f"no phrasing fits {row}")


def items(api: str, phrasings: list[str], rows: list[dict]) -> list[dict]:
    """The gold items of one API, in id order."""
    if len(rows) != len(SPLITS):
        raise ValueError(f"{api}: {len(rows)} value rows, need {len(SPLITS)}")
    out = []
    for i, row in enumerate(rows):
        query = _pick(phrasings, i, row).format(**row)
        arguments = {k: v for k, v in row.items() if not k.startswith("_")}
        out.append({"id": f"{api}-{i + 1}", "api": api, "query": query, "arguments": arguments, "split": SPLITS[i]})
    return out


def main(folder: str = "data/testset") -> None:
    from ste.core.tools.builtin import builtin_tools

    files: dict[str, list[dict]] = {}
    for tool in builtin_tools(dt.date(2026, 1, 15)):  # module by module, tools in their module's order
        module = tool.func.__module__.rsplit(".", 1)[-1]
        files.setdefault(module, []).extend(items(tool.name, *SPECS[tool.name]))
    Path(folder).mkdir(parents=True, exist_ok=True)
    for module, rows in files.items():
        text = "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows)
        Path(folder, f"{module}.jsonl").write_text(text, encoding="utf-8")
        print(f"{folder}/{module}.jsonl: {len(rows)} items")


if __name__ == "__main__":
    main(*sys.argv[1:])
