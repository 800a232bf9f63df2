"""Write the gold test items of the built-in tools, part B: `python scripts/make_testset_b.py [data/testset]`.

Each tool has a few hand-written question templates and ten hand-picked value rows; item i fills template
i mod len(templates) with row i. The gold arguments are what a careful reader of the question would pass.
Deterministic: the same files every run.
"""
from __future__ import annotations

import datetime as dt
import json
import sys
from pathlib import Path
from typing import Callable

Row = tuple


def _spoken(iso: str, style: int) -> str:
    """A date as people write it: ISO, "20 July 1969" or "July 20, 1969"."""
    day = dt.date.fromisoformat(iso)
    return [iso, f"{day.day} {day:%B %Y}", f"{day:%B} {day.day}, {day.year}"][style % 3]


def _items(api: str, templates: list[str], rows: list[Row], args: Callable[..., dict], start: int = 0) -> list[dict]:
    """One gold item per row: the query fills a template with the row, `args(*row)` is the gold call."""
    out = []
    for i, row in enumerate(rows):
        query = templates[i % len(templates)].format(*row)
        out.append({"id": f"{api}-{start + i + 1}", "api": api, "query": query, "arguments": args(*row)})
    return out


UNITS = _items(
    "convert_units",
    ["How many {3} is {0} {2}?", "Convert {0} {2} to {3}.", "What is {0} {2} in {3}?"],
    [(13.1, "mile", "miles", "kilometers", "kilometer"), (350, "fahrenheit", "degrees Fahrenheit",
      "degrees Celsius", "celsius"), (2, "cup", "cups", "milliliters", "milliliter"),
     (150, "pound", "pounds", "kilograms", "kilogram"), (65, "mph", "miles per hour", "km/h", "km/h"),
     (6, "foot", "feet", "meters", "meter"), (12, "ounce", "ounces", "grams", "gram"),
     (3, "liter", "liters", "gallons", "gallon"), (40, "acre", "acres", "hectares", "hectare"),
     (30, "psi", "psi", "bar", "bar")],
    lambda v, f, _fd, _td, t: {"value": v, "from_unit": f, "to_unit": t},
) + _items(
    "list_units",
    ["Which units can I use to measure {0}?", "List the common units of {0}.", "What {0} units do you support?"],
    [(q,) for q in ["length", "mass", "temperature", "time", "speed", "volume", "area", "energy", "pressure",
                    "power"]],
    lambda q: {"quantity": q},
)

PHONE = _items(
    "phone_number_info",
    ["Which country and city does the phone number {0} belong to?", "Is {0} a mobile or a landline?",
     "Tell me what you know about the number {0}."],
    [("+33 1 42 68 53 00",), ("+49 151 23456789",), ("+44 20 7946 0958",), ("+1 650-253-0000",),
     ("+81 3-1234-5678",), ("+61 2 9374 4000",), ("+33 6 12 34 56 78",), ("+39 06 6988 4857",),
     ("+34 915 38 16 00",), ("+1 212 736 3100",)],
    lambda n: {"number": n},
) + _items(
    "validate_phone_number",
    ["Is {0} a valid phone number?", "Can you check whether the number {0} is real?",
     "My form rejects {0}; is it a valid phone number?"],
    [("+1 415 555 2671",), ("+44 20 7946 095",), ("+49 30 901820",), ("+1 202 555 01",), ("+33 1 42 68 53 00",),
     ("+81 90 1234 5678",), ("+1 415 555 267123",), ("+31 20 555 1234",), ("+46 8 123 456 78",),
     ("+91 98765 43210",)],
    lambda n: {"number": n},
) + _items(
    "format_phone_number",
    ["Write the number {0} in {2} format.", "Please rewrite {0} in the {2} style.",
     "Convert the phone number {0} to {2} form."],
    [(n, s, d) for n, s, d in [
        ("+4930901820", "NATIONAL", "national"), ("+1 650 253 0000", "E164", "E.164"),
        ("+442079460958", "INTERNATIONAL", "international"), ("+33142685300", "NATIONAL", "national"),
        ("+61 2 9374 4000", "E164", "E.164"), ("+81312345678", "INTERNATIONAL", "international"),
        ("+1 212 736 3100", "RFC3966", "RFC 3966 tel URI"), ("+390669884857", "NATIONAL", "national"),
        ("+34 915 38 16 00", "E164", "E.164"), ("+4915123456789", "INTERNATIONAL", "international")]],
    lambda n, s, _d: {"number": n, "style": s},
) + _items(
    "country_calling_code",
    ["What is the phone country code of {1}?", "Which code do I dial before a number in {1}?",
     "What is the international dialling prefix for {1}?"],
    [("JP", "Japan"), ("BR", "Brazil"), ("DE", "Germany"), ("IN", "India"), ("MX", "Mexico"), ("ZA", "South Africa"),
     ("AU", "Australia"), ("FR", "France"), ("KR", "South Korea"), ("EG", "Egypt")],
    lambda c, _name: {"country": c},
)

IDENTIFIERS = _items(
    "validate_iban",
    ["Is the IBAN {0} correct?", "Please check the bank account number {0}.", "Which country is the IBAN {0} from?"],
    [("DE89 3704 0044 0532 0130 00",), ("GB82 WEST 1234 5698 7654 32",), ("NL91ABNA0417164300",),
     ("FR1420041010050500013M02606",), ("GB82 WEST 1234 5698 7654 33",), ("ES9121000418450200051332",),
     ("IT60X0542811101000000123456",), ("CH9300762011623852957",), ("BE68539007547034",),
     ("DE89370400440532013001",)],
    lambda n: {"iban_number": n},
) + _items(
    "validate_vat_number",
    ["Is the VAT number {0} valid?", "Check the VAT ID {0} from this invoice.", "Is {0} a well-formed EU VAT number?"],
    [("DE136695976",), ("FR40303265045",), ("ATU13585627",), ("NL004495445B01",), ("DE136695977",),
     ("BE0403019261",), ("IT00743110157",), ("ESA28015865",), ("EL094259216",), ("PL5260250274",)],
    lambda n: {"vat_number": n},
) + _items(
    "validate_isbn",
    ["Is {0} a valid ISBN?", "What is the ISBN-13 of the book with ISBN {0}?", "Check this ISBN for me: {0}."],
    [("978-0-306-40615-7",), ("0-306-40615-2",), ("0-14-044913-6",), ("978-1-86197-876-9",),
     ("978-0-306-40615-8",), ("0-19-852663-6",), ("979-10-90636-07-1",), ("0-201-63361-2",),
     ("978-3-16-148410-0",), ("1-4028-9462-7",)],
    lambda n: {"isbn_number": n},
) + _items(
    "validate_barcode",
    ["Is {0} a valid barcode number?", "Does the barcode {0} have a correct check digit?",
     "The scanner read {0}; is that a valid product code?"],
    [("4006381333931",), ("036000291452",), ("73513537",), ("4006381333932",), ("5901234123457",),
     ("9780306406157",), ("012345678905",), ("96385074",), ("00012345600012",), ("5901234123458",)],
    lambda n: {"barcode": n},
) + _items(
    "validate_card_number",
    ["Is {0} a valid card number?", "Which card network does the number {0} belong to?",
     "Does the credit card number {0} pass the checksum?"],
    [("4111 1111 1111 1111",), ("5555 5555 5555 4444",), ("378282246310005",), ("4111 1111 1111 1112",),
     ("6011 1111 1111 1117",), ("3530 1113 3330 0000",), ("2223 0031 2200 3222",), ("4012 8888 8888 1881",),
     ("3714 496353 98431",), ("5105 1051 0510 5100",)],
    lambda n: {"card_number": n},
)

ELEMENTS = _items(
    "element_info",
    ["What is the atomic number of {0}?", "Tell me about the element {0}.", "How dense is {0}?"],
    [("tungsten",), ("osmium",), ("Fe",), ("helium",), ("Sb",), ("mercury",), ("Au",), ("uranium",), ("Na",),
     ("carbon",)],
    lambda e: {"element": e},
) + _items(
    "molar_mass",
    ["What is the molar mass of {0}?", "How many grams per mole does {0} weigh?",
     "What is the mass percentage of each element in {0}?"],
    [("C6H12O6",), ("H2O",), ("NaCl",), ("Ca(OH)2",), ("H2SO4",), ("CO2",), ("C2H5OH",), ("NH3",),
     ("CaCO3",), ("Fe2O3",)],
    lambda f: {"formula": f},
)

COLORS = _items(
    "color_name_to_hex",
    ["What is the hex code of the color {0}?", "Give me the RGB values of {0}.", "Which hex value is {0}?"],
    [(n,) for n in ["tomato", "cornflowerblue", "darkolivegreen", "plum", "goldenrod", "teal",
                    "salmon", "navy", "orchid", "chartreuse"]],
    lambda n: {"name": n},
) + _items(
    "hex_to_color_name",
    ["What is the name of the color {0}?", "Which named color is closest to {0}?", "Does {0} have a CSS name?"],
    [(h,) for h in ["#ff6347", "#123456", "#6495ed", "#ffd700", "#4b0082", "#a1b2c3", "#008080", "#fa8072",
                    "#ff00ff", "#2e8b57"]],
    lambda h: {"hex_color": h},
) + _items(
    "rgb_to_hex",
    ["What is rgb({0}, {1}, {2}) in hex?", "Convert red {0}, green {1}, blue {2} to a hex code.",
     "Which CSS color is closest to RGB {0}, {1}, {2}?"],
    [(255, 99, 71), (10, 200, 30), (100, 149, 237), (0, 0, 128), (128, 0, 128), (240, 248, 255), (34, 139, 34),
     (200, 50, 50), (255, 215, 0), (70, 130, 180)],
    lambda r, g, b: {"red": r, "green": g, "blue": b},
)

EMOJI = _items(
    "find_emoji",
    ["Is there an emoji of a {0}?", "Give me the {0} emoji.", "Find emoji named {0}."],
    [(n,) for n in ["hedgehog", "thumbs up", "face with tears of joy", "red heart", "pizza", "rocket",
                    "sunflower", "crying face", "party popper", "snowman"]],
    lambda n: {"name": n},
) + _items(
    "describe_emoji",
    ["What does the emoji {0} mean?", "What is the official name of {0}?", "Which emoji are in this: {0}"],
    [(t,) for t in ["🫠", "🙏", "🔥 and 💯", "🦔", "🥲", "I ❤️ 🍕", "🇯🇵", "🤷", "🧿", "👍🏽"]],
    lambda t: {"text": t},
) + _items(
    "emojize_text",
    ["Turn the shortcodes in '{0}' into emoji.", "Convert this message to real emoji: {0}",
     "Replace the :codes: in \"{0}\" with emoji."],
    [(t,) for t in ["See you soon :waving_hand:", "Lunch? :pizza: or :hamburger:", "Good job :thumbsup:",
                    "Happy birthday :birthday_cake: :party_popper:", "I love you :red_heart:",
                    "Off to the beach :sun: :water_wave:", "Ship it :rocket:", "Too hot :fire:",
                    "Coffee time :hot_beverage:", "Good night :crescent_moon:"]],
    lambda t: {"text": t},
)

US_PLACES = _items(
    "lookup_zip_code",
    ["Which city is ZIP code {0} in?", "What time zone is the ZIP code {0} in?", "Which county has the ZIP {0}?"],
    [(z,) for z in ["60614", "85001", "90210", "10001", "02139", "98101", "33139", "73301", "80302", "20500"]],
    lambda z: {"zip_code": z},
) + _items(
    "zip_codes_for_city",
    ["What are the ZIP codes of {0}, {1}?", "List the ZIP codes for {0} in {1}.",
     "How many ZIP codes does {0}, {1} have?"],
    [("Boulder", "Colorado"), ("Ann Arbor", "MI"), ("Springfield", "Illinois"), ("Burlington", "VT"),
     ("Santa Fe", "New Mexico"), ("Madison", "WI"), ("Savannah", "Georgia"), ("Eugene", "OR"),
     ("Tulsa", "Oklahoma"), ("Boise", "ID")],
    lambda c, s: {"city": c, "state": s},
) + _items(
    "us_state_info",
    ["What is the capital of {0}?", "In which year did {0} become a state?", "Which time zones does {0} use?"],
    [(s,) for s in ["Vermont", "Hawaii", "Texas", "Alaska", "Ohio", "Oregon", "Florida", "Nevada", "Maine",
                    "Arizona"]],
    lambda s: {"state": s},
)

def _number_call(number: float, language: str, said: str) -> dict:
    """The language is passed only when the question names one (English is the default)."""
    return {"number": number, "language": language} if said else {"number": number}


NUMBERS = _items(
    "number_to_words",
    ["How do I write {0} in words{2}?", "Spell out the number {0}{2}.", "How do you say {0}{2}?"],
    [(1250, "en", ""), (97, "fr", " in French"), (42.5, "de", " in German"), (1000000, "en", ""),
     (365, "es", " in Spanish"), (88, "it", " in Italian"), (2024, "en", ""), (15, "ja", " in Japanese"),
     (71, "nl", " in Dutch"), (19.99, "en", "")],
    _number_call,
) + _items(
    "ordinal_words",
    ["How do you spell the ordinal of {0}{2}?", "Write '{0}' as an ordinal word{2}.",
     "What is the ordinal form of {0}{2}?"],
    [(21, "en", ""), (3, "es", " in Spanish"), (100, "en", ""), (1, "fr", " in French"),
     (12, "de", " in German"), (42, "en", ""), (2, "it", " in Italian"), (5, "pt", " in Portuguese"),
     (33, "en", ""), (7, "nl", " in Dutch")],
    _number_call,
) + _items(
    "to_roman_numeral",
    ["How is {0} written in Roman numerals?", "What is {0} as a Roman numeral?", "Convert {0} to Roman numerals."],
    [(n,) for n in [1987, 49, 2024, 3999, 14, 444, 1666, 90, 2008, 8]],
    lambda n: {"number": n},
) + _items(
    "from_roman_numeral",
    ["What number is {0}?", "The film credits say {0}; which year is that?", "Convert the Roman numeral {0}."],
    [(r,) for r in ["MCMXCIV", "MMVIII", "XLII", "CDXLIV", "MMXXIV", "XIX", "DCCLXXVII", "MCMLXIX", "XC",
                    "MMMCMXCIX"]],
    lambda r: {"numeral": r},
)

CALENDAR = _items(
    "day_of_week",
    ["What day of the week was {0}?", "Which weekday is {0}?", "Is {0} on a weekend?"],
    [(_spoken(d, i // 3), d) for i, d in enumerate(["1969-07-20", "2031-12-25", "2000-01-01", "1989-11-09",
                                                  "2026-07-04", "2024-02-29", "1776-07-04", "2030-05-17",
                                                  "2027-10-31", "1945-05-08"])],
    lambda _spoken_date, d: {"date": d},
) + _items(
    "days_between",
    ["How many days are there between {0} and {1}?", "How many working days are there from {0} to {1}?",
     "How long is it from {0} until {1}?"],
    [("2025-03-01", "2025-06-15"), ("2026-02-02", "2026-02-27"), ("1990-05-17", "2024-05-17"),
     ("2024-01-01", "2024-12-31"), ("2026-01-15", "2026-04-05"), ("2023-09-01", "2024-06-30"),
     ("2000-01-01", "2030-01-01"), ("2026-12-24", "2027-01-06"), ("2025-07-01", "2025-07-31"),
     ("2019-03-11", "2021-03-11")],
    lambda a, b: {"start_date": a, "end_date": b},
) + _items(
    "add_days",
    ["What date is {1} days after {0}?", "If I start on {0}, what date is it after {1} days?",
     "Which date is {1} days from {0}?"],
    [("2025-03-14", 90), ("2026-01-15", 30), ("2024-02-28", 2), ("2025-12-20", 14), ("2030-01-01", 365),
     ("2026-03-01", 100), ("2027-07-04", 45)],
    lambda d, n: {"date": d, "days": n},
) + _items(
    "add_days",
    ["Which date was {1} days before {0}?", "What was the date {1} days before {0}?"],
    [("2024-06-01", 1000), ("2025-10-31", 60), ("2026-05-05", 21)],
    lambda d, n: {"date": d, "days": -n},
    start=7,
) + _items(

    "week_number",
    ["Which calendar week is {0} in?", "What ISO week number does {0} have?", "In which week of the year is {0}?"],
    [(d,) for d in ["2025-06-18", "2027-01-01", "2026-01-15", "2024-12-30", "2026-03-09", "2025-11-27",
                    "2028-08-15", "2026-10-01", "2025-01-01", "2029-12-31"]],
    lambda d: {"date": d},
) + _items(
    "days_until",
    ["How many days are left until {0}?", "How long ago was {0}, in days?", "How many days from today to {0}?"],
    [(_spoken(d, i + 1), d) for i, d in enumerate(["2026-12-31", "2025-12-25", "2026-07-04", "2027-01-01",
                                                 "2025-06-01", "2026-02-14", "2030-01-01", "2026-01-01",
                                                 "2026-10-31", "2028-02-29"])],
    lambda _spoken_date, d: {"date": d},
)

MATH = _items(
    "evaluate_expression",
    ["What is {0}?", "Calculate {0}.", "Work out {0} for me."],
    [(e,) for e in ["17.5 * 42 - 380", "(17 + 5) * 3 / 4", "2 ** 10", "sqrt(144) + log10(1000)", "1234 / 8",
                    "factorial(12)", "3.5 ** 2 * pi", "(1200 - 350) * 0.8", "97 % 7", "sin(pi / 6)"]],
    lambda e: {"expression": e},
) + _items(
    "percent_of",
    ["How much is {0}% of {1}?", "What is a {0} percent tip on a bill of {1} dollars?",
     "Calculate {0} percent of {1}."],
    [(15, 64), (7.5, 1200), (20, 249.99), (120, 80), (22, 58.4), (18, 86.5), (50, 37), (12.5, 960), (0.5, 2000),
     (33, 300)],
    lambda p, v: {"percent": p, "value": v},
) + _items(
    "percent_change",
    ["My rent went from {0} to {1}; by what percentage did it change?",
     "What is the percent change from {0} to {1}?", "The price moved from {0} to {1}; what percent is that?"],
    [(1200, 1350), (84, 63), (250, 310), (1.99, 2.49), (40000, 36500), (18, 27), (500, 450), (72.5, 80),
     (3, 12), (1000, 999)],
    lambda a, b: {"old_value": a, "new_value": b},
) + _items(
    "describe_numbers",
    ["What are the average and median of {0}?", "Find the standard deviation of these values: {0}.",
     "Give me summary statistics for {0}."],
    [(", ".join(str(n) for n in row), row) for row in [
        [12, 15, 9, 22, 15], [88, 92, 79, 95, 85], [2, 4, 4, 4, 5, 5, 7, 9], [71.5, 68.2, 90.1],
        [100, 200, 300, 400], [3, 3, 3], [1.5, 2.5, 3.5, 10], [-4, 0, 4, 8], [1000, 1250, 990, 1100, 1320],
        [7, 14, 21, 28, 35, 42]]],
    lambda _text, row: {"numbers": row},
)

FILES = {"units": UNITS, "phone": PHONE, "identifiers": IDENTIFIERS, "elements": ELEMENTS, "colors": COLORS,
         "emoji_tools": EMOJI, "us_places": US_PLACES, "numbers": NUMBERS, "calendar_tools": CALENDAR,
         "math_tools": MATH}


def main(folder: str = "data/testset") -> None:
    out = Path(folder)
    out.mkdir(parents=True, exist_ok=True)
    for name, items in FILES.items():
        lines = [json.dumps(item, ensure_ascii=False) for item in items]
        (out / f"{name}.jsonl").write_text("\n".join(lines) + "\n", encoding="utf-8")
        print(f"{out / name}.jsonl: {len(items)} items")


if __name__ == "__main__":
    main(*sys.argv[1:])
