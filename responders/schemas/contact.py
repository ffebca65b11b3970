"""Phone numbers and e-mail addresses: parsed by the libraries that know them, stored
normalised (phone numbers in E.164), refused with a sentence a person can act on.

A number written without its country code is read in the region's numbering plan
(`EHBO_REGION_PHONE_REGION`); the app sets it for each request with `phone_region`.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from contextvars import ContextVar
from typing import Annotated, Any

import phonenumbers
from pydantic import AfterValidator, EmailStr, Field, ValidationError, WrapValidator

__all__ = ["Email", "Phone", "normalise_phone", "phone_region"]

# None outside a request: then only numbers with their country code are understood.
_REGION: ContextVar[str | None] = ContextVar("phone_region", default=None)
_PHONE_HELP = "Enter a phone number we can call, e.g. +358 40 123 4567."


@contextlib.contextmanager
def phone_region(region: str | None) -> Iterator[None]:
    """Read numbers without a country code as numbers of `region` (ISO 3166 code)."""
    token = _REGION.set(region)
    try:
        yield
    finally:
        _REGION.reset(token)


def normalise_phone(value: str) -> str:
    """`"040 123 4567"` (in FI) or `"+358 40 1234567"` → `"+358401234567"`."""
    try:
        number = phonenumbers.parse(value, _REGION.get())
    except phonenumbers.NumberParseException as exc:
        if exc.error_type == phonenumbers.NumberParseException.INVALID_COUNTRY_CODE:
            raise ValueError(
                "Write the number with its country code, e.g. +358 40 123 4567."
            ) from exc
        raise ValueError(_PHONE_HELP) from exc
    if not phonenumbers.is_valid_number(number):
        raise ValueError(
            "This is not a valid phone number: check the digits and the country code, "
            "e.g. +358 40 123 4567."
        )
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def _email(value: Any, handler: Callable[[Any], str]) -> str:
    try:
        return handler(value)
    except ValidationError as exc:
        # email-validator's reasons are written for developers; one sentence fits all.
        raise ValueError("Enter an e-mail address like name@example.org.") from exc


Phone = Annotated[
    str,
    Field(min_length=1, max_length=40, examples=["+358 40 123 4567"]),
    AfterValidator(normalise_phone),
]
Email = Annotated[EmailStr, WrapValidator(_email), Field(examples=["a@example.org"])]
