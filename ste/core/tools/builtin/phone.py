"""Phone numbers with Google's libphonenumber data (phonenumbers): parse, validate, format, calling codes."""
from __future__ import annotations

import datetime as dt

import phonenumbers
from phonenumbers import carrier, geocoder, timezone

from ste.core.tools.base import Tool

FORMATS = {
    "E164": phonenumbers.PhoneNumberFormat.E164,
    "INTERNATIONAL": phonenumbers.PhoneNumberFormat.INTERNATIONAL,
    "NATIONAL": phonenumbers.PhoneNumberFormat.NATIONAL,
    "RFC3966": phonenumbers.PhoneNumberFormat.RFC3966,
}

NUMBER_SPEC = {"type": "string", "minLength": 3, "maxLength": 40,
               "description": "The phone number as written, with a leading + and country code for foreign numbers.",
               "examples": ["+44 20 7946 0958", "(650) 253-0000", "+49 151 23456789"]}
REGION_SPEC = {"type": "string", "pattern": "^[A-Za-z]{2}$",
               "description": "ISO 3166-1 alpha-2 code of the country the number is dialled from, "
                              "needed only when the number has no + prefix.",
               "examples": ["US", "GB", "DE"]}


def load() -> None:
    """Read every region's numbering metadata (phonenumbers imports each region's on first use; the place,
    carrier and time-zone tables are read on import)."""
    phonenumbers.PhoneMetadata.load_all()


def _parse(number: str, region: str | None) -> phonenumbers.PhoneNumber:
    try:
        return phonenumbers.parse(number, region.upper() if region else None)
    except phonenumbers.NumberParseException as err:
        hint = "" if region or number.strip().startswith("+") else " (give the region, or write the number with +)"
        raise ValueError(f"cannot read {number!r} as a phone number: {err._msg}{hint}") from None


def _type_name(parsed: phonenumbers.PhoneNumber) -> str:
    return phonenumbers.PhoneNumberType.to_string(phonenumbers.number_type(parsed)).lower()


def phone_number_info(number: str, region: str | None = None) -> dict:
    """Everything known about a phone number: validity, country, place, carrier, line type, time zones."""
    parsed = _parse(number, region)
    zones = list(timezone.time_zones_for_number(parsed))
    return {
        "number": number,
        "valid": phonenumbers.is_valid_number(parsed),
        "e164": phonenumbers.format_number(parsed, FORMATS["E164"]),
        "international": phonenumbers.format_number(parsed, FORMATS["INTERNATIONAL"]),
        "country_calling_code": parsed.country_code,
        "region": phonenumbers.region_code_for_number(parsed),
        "location": geocoder.description_for_number(parsed, "en") or None,
        "carrier": carrier.name_for_number(parsed, "en") or None,
        "line_type": _type_name(parsed),
        "time_zones": zones if len(zones) <= 5 else zones[:5] + [f"... {len(zones) - 5} more"],
    }


def _reason(valid: bool, length_check: int) -> str:
    if valid:
        return "valid"
    if length_check in (phonenumbers.ValidationResult.IS_POSSIBLE, phonenumbers.ValidationResult.IS_POSSIBLE_LOCAL_ONLY):
        return "the length is right but the digits match no number range in use in this country"
    return phonenumbers.ValidationResult.to_string(length_check).lower().replace("_", " ")


def validate_phone_number(number: str, region: str | None = None) -> dict:
    """Whether a phone number is valid, and if not, why (too short, too long, bad country code, ...)."""
    parsed = _parse(number, region)
    reason = phonenumbers.is_possible_number_with_reason(parsed)
    valid = phonenumbers.is_valid_number(parsed)
    return {
        "number": number,
        "valid": valid,
        "possible_length": reason in (phonenumbers.ValidationResult.IS_POSSIBLE,
                                      phonenumbers.ValidationResult.IS_POSSIBLE_LOCAL_ONLY),
        "reason": _reason(valid, reason),
        "region": phonenumbers.region_code_for_number(parsed) or phonenumbers.region_code_for_country_code(
            parsed.country_code),
    }


def format_phone_number(number: str, style: str = "INTERNATIONAL", region: str | None = None) -> dict:
    """A phone number rewritten in one standard style."""
    if style not in FORMATS:
        raise ValueError(f"unknown style {style!r}; choose one of {', '.join(FORMATS)}")
    parsed = _parse(number, region)
    return {"number": number, "style": style, "formatted": phonenumbers.format_number(parsed, FORMATS[style])}


def country_calling_code(country: str) -> dict:
    """The international dialling code of a country, and the other regions that share it."""
    code = phonenumbers.country_code_for_region(country.upper())
    if code == 0:
        raise ValueError(f"{country!r} is not a known ISO 3166-1 alpha-2 country code")
    return {
        "country": country.upper(),
        "calling_code": code,
        "prefix": f"+{code}",
        "shared_with": [r for r in phonenumbers.region_codes_for_country_code(code) if r != country.upper()],
    }


def tools(today: dt.date) -> list[Tool]:
    def schema(extra: dict | None = None) -> dict:
        props = {"number": NUMBER_SPEC, **(extra or {}), "region": REGION_SPEC}
        return {"type": "object", "properties": props, "required": ["number"], "additionalProperties": False}

    return [
        Tool(
            name="phone_number_info",
            description=("Look up a phone number: whether it is valid, its E.164 and international forms, country "
                         "calling code, region, the place or operator it belongs to, line type (mobile, fixed line, "
                         "toll free, ...) and time zones."),
            category="phone",
            parameters=schema(),
            func=phone_number_info,
            examples=["Which country and city is the phone number +33 1 42 68 53 00 from?",
                      "Is +49 151 23456789 a mobile number, and which carrier is it?"],
            load=load,
        ),
        Tool(
            name="validate_phone_number",
            description=("Check whether a phone number is valid for its country; when it is not, says why "
                         "(too short, too long, invalid country code, ...)."),
            category="phone",
            parameters=schema(),
            func=validate_phone_number,
            examples=["Is 020 7946 095 a real London phone number?",
                      "Can you check whether +1 415 555 2671 is a valid number?"],
            load=load,
        ),
        Tool(
            name="format_phone_number",
            description=("Rewrite a phone number in a standard style: E164 (compact, with +country code), "
                         "INTERNATIONAL (spaced, with +country code), NATIONAL (as dialled inside the country) "
                         "or RFC3966 (a tel: URI)."),
            category="phone",
            parameters=schema({"style": {"type": "string", "enum": list(FORMATS),
                                         "description": "The output style; INTERNATIONAL when left out.",
                                         "examples": ["E164", "NATIONAL"]}}),
            func=format_phone_number,
            examples=["Write +4930901820 the way a German would dial it at home.",
                      "Put (650) 253-0000 in E.164 format for my US contacts list."],
            load=load,
        ),
        Tool(
            name="country_calling_code",
            description=("The international dialling code (country calling code) of a country given as an ISO "
                         "3166-1 alpha-2 code, with the other regions that share the same code."),
            category="phone",
            parameters={"type": "object",
                        "properties": {"country": {**REGION_SPEC, "description": "ISO 3166-1 alpha-2 country code.",
                                                   "examples": ["JP", "BR", "CA"]}},
                        "required": ["country"], "additionalProperties": False},
            func=country_calling_code,
            examples=["What code do I dial before a number in Japan?", "What is the phone country code of Brazil?"],
            load=load,
        ),
    ]
