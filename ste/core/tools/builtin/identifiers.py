"""Check digits of standard identifiers with python-stdnum: IBAN, EU VAT, ISBN, EAN barcodes, payment cards."""
from __future__ import annotations

import datetime as dt
from types import ModuleType

from stdnum import ean, iban, isbn, luhn, numdb
from stdnum.eu import vat
from stdnum.exceptions import ValidationError

from ste.core.tools.base import Tool

# Issuer prefixes (IIN ranges) of the big card networks, longest match first.
CARD_NETWORKS = [
    ("American Express", ("34", "37")),
    ("Diners Club", ("36", "300", "301", "302", "303", "304", "305")),
    ("Discover", ("6011", "65", "644", "645", "646", "647", "648", "649")),
    ("JCB", tuple(str(n) for n in range(3528, 3590))),
    ("Mastercard", tuple(str(n) for n in range(51, 56)) + tuple(str(n) for n in range(2221, 2721))),
    ("Visa", ("4",)),
]


def load() -> None:
    """Read the ISBN range table and import the country modules that IBAN and VAT validation import on first use."""
    numdb.get("isbn")
    for _length, low, high, _props, _children in iban._ibandb.prefixes:  # one entry per IBAN country
        for cc in {low, high}:
            iban._get_cc_module(cc)
    vat.guess_country("")  # imports every member state's VAT module


def _check(module: ModuleType, number: str) -> tuple[bool, str, str]:
    """(valid, compact form, reason) of `number` under a stdnum module."""
    try:
        compact = module.validate(number)
        return True, compact, "valid"
    except ValidationError as err:
        reason = str(err).rstrip(".").lower()
        try:
            compact = module.compact(number) if hasattr(module, "compact") else number.strip()
        except ValidationError:
            compact = number.strip()
        return False, compact, reason


def validate_iban(iban_number: str) -> dict:
    """Validate an International Bank Account Number and split it into its parts."""
    valid, compact, reason = _check(iban, iban_number)
    country = iban._ibandb.info(compact)[0][1].get("country") if len(compact) >= 4 else None
    return {
        "iban": iban_number,
        "valid": valid,
        "reason": reason,
        "compact": compact,
        "formatted": iban.format(compact) if valid else None,
        "country_code": compact[:2].upper() if country else None,
        "country": country,
        "check_digits": compact[2:4],
        "bban": compact[4:],
    }


def validate_vat_number(vat_number: str) -> dict:
    """Validate a European Union VAT identification number (with its country prefix)."""
    valid, compact, reason = _check(vat, vat_number)
    prefix = compact[:2].lower()
    known = prefix in vat.MEMBER_STATES or prefix == "el"  # Greece writes EL on VAT numbers
    return {
        "vat_number": vat_number,
        "valid": valid,
        "reason": reason,
        "compact": compact,
        "country_code": prefix.upper() if known else None,
    }


def validate_isbn(isbn_number: str) -> dict:
    """Validate an ISBN-10 or ISBN-13 and give both forms."""
    valid, compact, reason = _check(isbn, isbn_number)
    out = {"isbn": isbn_number, "valid": valid, "reason": reason, "type": None, "isbn10": None, "isbn13": None,
           "formatted": None}
    if valid:
        out.update(type=isbn.isbn_type(compact), isbn13=isbn.to_isbn13(compact), formatted=isbn.format(compact))
        try:
            out["isbn10"] = isbn.to_isbn10(compact)
        except ValidationError:  # 979- ISBNs have no ISBN-10 form
            out["isbn10"] = None
    return out


def validate_barcode(barcode: str) -> dict:
    """Validate an EAN-13, EAN-8, UPC-A or GTIN-14 product barcode number by its check digit."""
    valid, compact, reason = _check(ean, barcode)
    kinds = {8: "EAN-8", 12: "UPC-A", 13: "EAN-13", 14: "GTIN-14"}
    return {"barcode": barcode, "valid": valid, "reason": reason, "compact": compact,
            "type": kinds.get(len(compact)) if valid else None}


def validate_card_number(card_number: str) -> dict:
    """Check a payment card number with the Luhn checksum and name its network from the prefix."""
    digits = "".join(card_number.split()).replace("-", "")
    if not digits.isdigit():
        raise ValueError("a card number has only digits (spaces and dashes are ignored)")
    valid, _, reason = _check(luhn, digits)
    if valid and not 12 <= len(digits) <= 19:
        valid, reason = False, f"card numbers have 12 to 19 digits, not {len(digits)}"
    network = next((name for name, prefixes in CARD_NETWORKS if digits.startswith(prefixes)), None)
    return {"valid": valid, "reason": reason, "network": network, "length": len(digits),
            "last_four": digits[-4:]}


def _one_string_tool(name: str, description: str, arg: str, arg_text: str, examples: list[str],
                     func, queries: list[str]) -> Tool:
    return Tool(
        name=name,
        description=description,
        category="identifiers",
        parameters={
            "type": "object",
            "properties": {arg: {"type": "string", "minLength": 1, "maxLength": 64, "description": arg_text,
                                 "examples": examples}},
            "required": [arg],
            "additionalProperties": False,
        },
        func=func,
        examples=queries,
        load=load,
    )


def tools(today: dt.date) -> list[Tool]:
    return [
        _one_string_tool(
            "validate_iban",
            "Validate an International Bank Account Number (IBAN) by its structure and check digits; returns "
            "whether it is valid (and why not), the country, check digits, bank account part and a printable form.",
            "iban_number", "The IBAN, with or without spaces.",
            ["GB82 WEST 1234 5698 7654 32", "DE89370400440532013000"], validate_iban,
            ["Is the IBAN DE89 3704 0044 0532 0130 00 correct?", "Which country is bank account NL91ABNA0417164300 in?"],
        ),
        _one_string_tool(
            "validate_vat_number",
            "Validate a European Union VAT identification number, written with its two-letter country prefix, "
            "by its format and check digits. Does not ask the tax office whether it is registered.",
            "vat_number", "The VAT number including its country prefix.",
            ["DE136695976", "FR40303265045"], validate_vat_number,
            ["Is the German VAT ID DE136695976 well formed?", "Check the VAT number ATU13585627 on this invoice."],
        ),
        _one_string_tool(
            "validate_isbn",
            "Validate a book's ISBN-10 or ISBN-13 by its check digit and convert between the two forms.",
            "isbn_number", "The ISBN, with or without hyphens.",
            ["978-0-306-40615-7", "0306406152"], validate_isbn,
            ["Is 978-0-306-40615-7 a valid ISBN?", "What is the 13-digit ISBN of the book with ISBN 0-306-40615-2?"],
        ),
        _one_string_tool(
            "validate_barcode",
            "Validate a product barcode number (EAN-13, EAN-8, UPC-A or GTIN-14) by its check digit.",
            "barcode", "The digits under the barcode.",
            ["4006381333931", "73513537"], validate_barcode,
            ["Is 4006381333931 a valid EAN barcode?", "Does the UPC 036000291452 have the right check digit?"],
        ),
        _one_string_tool(
            "validate_card_number",
            "Check a payment card number with the Luhn checksum and tell its card network (Visa, Mastercard, "
            "American Express, Discover, JCB, Diners Club) from its prefix. Does not contact any bank.",
            "card_number", "The card number, digits with optional spaces or dashes.",
            ["4111 1111 1111 1111", "378282246310005"], validate_card_number,
            ["Is 4111 1111 1111 1111 a valid card number?", "Which card network issued 5555 5555 5555 4444?"],
        ),
    ]
