"""Currency conversion from a dated, shipped reference table (ste/core/tools/data/currency_rates.json)."""
from __future__ import annotations

import datetime as dt
import json
from functools import lru_cache
from pathlib import Path

import pycountry
from countryinfo import all_countries

from ste.core.tools.base import Tool
from ste.core.tools.builtin import countries
from ste.core.tools.builtin.countries import country_name

RATES_FILE = Path(__file__).resolve().parents[1] / "data" / "currency_rates.json"


@lru_cache(maxsize=1)
def rate_table() -> dict:
    """The reference table: {"date", "base", "note", "rates": {code: units per 1 base}}."""
    return json.loads(RATES_FILE.read_text())


def _code_param(description: str, examples: list[str]) -> dict:
    return {"type": "string", "enum": sorted(rate_table()["rates"]), "description": description, "examples": examples}


def _rate(from_currency: str, to_currency: str) -> float:
    rates = rate_table()["rates"]
    for code in (from_currency, to_currency):
        if code not in rates:
            raise ValueError(f"no reference rate for {code!r}; known currencies: {', '.join(sorted(rates))}")
    return rates[to_currency] / rates[from_currency]


def convert_currency(amount: float, from_currency: str, to_currency: str) -> dict:
    rate = _rate(from_currency, to_currency)
    return {"amount": amount, "from": from_currency, "to": to_currency, "result": round(amount * rate, 2),
            "rate": round(rate, 6), "rate_date": rate_table()["date"], "source": "reference table, not live rates"}


def get_exchange_rate(from_currency: str, to_currency: str) -> dict:
    rate = _rate(from_currency, to_currency)
    return {"from": from_currency, "to": to_currency, "rate": round(rate, 6), "inverse_rate": round(1 / rate, 6),
            "rate_date": rate_table()["date"]}


def list_exchange_rates(base: str) -> dict:
    rates = {code: round(_rate(base, code), 6) for code in sorted(rate_table()["rates"]) if code != base}
    return {"base": base, "rate_date": rate_table()["date"], "rates": rates}


@lru_cache(maxsize=1)
def _users() -> dict[str, list[str]]:
    """Country names by the currency codes they use."""
    out: dict[str, list[str]] = {}
    for entry in all_countries():
        info = entry.info()
        rec = pycountry.countries.get(alpha_2=(info.get("ISO") or {}).get("alpha2", ""))
        for code in info.get("currencies", []):
            if rec:
                out.setdefault(code, []).append(country_name(rec))
    return {code: sorted(names) for code, names in out.items()}


def load() -> None:
    """Read the rate table, the currencies' users and the country data behind them."""
    countries.load()
    rate_table()
    _users()


def get_currency_info(currency: str) -> dict:
    code = str(currency).strip().upper()
    rec = pycountry.currencies.get(alpha_3=code) if len(code) == 3 else None
    if rec is None:
        raise ValueError(f"unknown currency code {currency!r}; use a 3-letter ISO 4217 code")
    return {"code": rec.alpha_3, "name": rec.name, "numeric": rec.numeric, "used_in": _users().get(rec.alpha_3, []),
            "has_reference_rate": rec.alpha_3 in rate_table()["rates"]}


def tools(today: dt.date) -> list[Tool]:
    date = rate_table()["date"]
    pair = {"from_currency": _code_param("the 3-letter ISO code of the currency to convert from", ["USD", "EUR", "GBP"]),
            "to_currency": _code_param("the 3-letter ISO code of the currency to convert to", ["JPY", "CHF", "INR"])}
    return [
        Tool("convert_currency",
             f"Convert an amount of money between currencies at reference exchange rates dated {date}.", "finance",
             {"type": "object", "properties": {
                 "amount": {"type": "number", "minimum": 0, "description": "the amount of money to convert",
                            "examples": [100, 2500, 49.99]}, **pair},
              "required": ["amount", "from_currency", "to_currency"]},
             convert_currency,
             ["How many yen would I get for 300 euros?", "What is 1,200 Canadian dollars in pounds?"], load=load),
        Tool("get_exchange_rate",
             f"Get the reference exchange rate between two currencies (dated {date}) and its inverse.", "finance",
             {"type": "object", "properties": pair, "required": ["from_currency", "to_currency"]},
             get_exchange_rate,
             ["What's the exchange rate from Swiss francs to dollars?", "How many Thai baht is one Australian dollar?"],
             load=load),
        Tool("list_exchange_rates",
             f"List the reference exchange rates (dated {date}) from one base currency to every other known currency.",
             "finance",
             {"type": "object", "properties": {"base": _code_param("the 3-letter ISO code of the base currency",
                                                                  ["EUR", "USD", "SGD"])}, "required": ["base"]},
             list_exchange_rates,
             ["Show me what one British pound is worth in other currencies.", "Give me all rates against the euro."],
             load=load),
        Tool("get_currency_info",
             "Look up a currency by its ISO 4217 code: its name, numeric code and the countries that use it.",
             "finance",
             {"type": "object", "properties": {"currency": {
                 "type": "string", "pattern": "^[A-Za-z]{3}$", "description": "a 3-letter ISO 4217 currency code",
                 "examples": ["XOF", "CHF", "SEK", "ZAR"]}}, "required": ["currency"]},
             get_currency_info,
             ["Which currency has the code PLN?", "Which countries use the West African CFA franc XOF?"], load=load),
    ]
