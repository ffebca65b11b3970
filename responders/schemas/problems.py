"""The 422 body, and the sentences people read in it instead of pydantic's own wording.

Pages put `errors[].message` next to the input that `errors[].field` names, so a message
is a sentence about that one input ("Enter a date like 2030-01-31."), never a pattern.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

from pydantic import BaseModel, Field

__all__ = ["FieldProblem", "ValidationProblem", "field_path", "human_message", "problem"]


class FieldProblem(BaseModel):
    field: str = Field(examples=["body.phone"])
    message: str = Field(examples=["Enter a phone number with its country code."])


class ValidationProblem(BaseModel):
    """Every 422: what was wrong, which field first, and every problem found."""

    code: str = Field(examples=["invalid"])
    detail: str = Field(examples=["phone: Enter a phone number with its country code."])
    field: str = Field(examples=["body.phone"])
    errors: list[FieldProblem]


def field_path(loc: Sequence[int | str]) -> str:
    return ".".join(str(part) for part in loc) or "body"


def problem(problems: Sequence[FieldProblem], code: str = "invalid") -> ValidationProblem:
    first = problems[0] if problems else FieldProblem(field="body", message="Invalid request.")
    # The detail names the field without the "body." part a person never typed.
    name = first.field.split(".", 1)[1] if first.field.startswith("body.") else first.field
    return ValidationProblem(
        code=code, detail=f"{name}: {first.message}", field=first.field, errors=list(problems)
    )


def _count(n: object, noun: str) -> str:
    return f"{n} {noun}" if n == 1 else f"{n} {noun}s"


def _length(ctx: Mapping[str, Any], which: str) -> str:
    n = ctx.get(f"{which}_length")
    if which == "min":
        return "Fill this in." if n == 1 else f"Write at least {_count(n, 'character')}."
    return f"Write at most {_count(n, 'character')}."


_MESSAGES: dict[str, Callable[[Mapping[str, Any]], str]] = {
    "missing": lambda c: "This is required.",
    "extra_forbidden": lambda c: "This field is not known here; check its spelling.",
    "string_too_short": lambda c: _length(c, "min"),
    "string_too_long": lambda c: _length(c, "max"),
    "too_short": lambda c: f"Give at least {_count(c.get('min_length'), 'item')}.",
    "too_long": lambda c: f"Give at most {_count(c.get('max_length'), 'item')}.",
    "greater_than": lambda c: f"Must be more than {c.get('gt')}.",
    "greater_than_equal": lambda c: f"Must be {c.get('ge')} or more.",
    "less_than": lambda c: f"Must be less than {c.get('lt')}.",
    "less_than_equal": lambda c: f"Must be {c.get('le')} or less.",
    "literal_error": lambda c: f"Choose one of: {c.get('expected')}.",
    "enum": lambda c: f"Choose one of: {c.get('expected')}.",
    "finite_number": lambda c: "Must be a finite number.",
    "float_parsing": lambda c: "Must be a number.",
    "float_type": lambda c: "Must be a number.",
    "int_parsing": lambda c: "Must be a whole number.",
    "int_type": lambda c: "Must be a whole number.",
    "int_from_float": lambda c: "Must be a whole number.",
    "bool_parsing": lambda c: "Must be true or false.",
    "bool_type": lambda c: "Must be true or false.",
    "string_type": lambda c: "Must be text.",
    "string_pattern_mismatch": lambda c: "This is not in the expected format.",
    "list_type": lambda c: "Must be a list.",
    "tuple_type": lambda c: "Must be a list.",
    "dict_type": lambda c: "Must be an object.",
    "model_type": lambda c: "Must be an object.",
    "model_attributes_type": lambda c: "Must be an object.",
    "date_parsing": lambda c: "Enter a date like 2030-01-31.",
    "date_type": lambda c: "Enter a date like 2030-01-31.",
    "date_from_datetime_parsing": lambda c: "Enter a date like 2030-01-31.",
    "date_from_datetime_inexact": lambda c: "Enter a date like 2030-01-31.",
    "datetime_parsing": lambda c: "Enter a date and time like 2030-01-31T18:00:00+02:00.",
    "datetime_type": lambda c: "Enter a date and time like 2030-01-31T18:00:00+02:00.",
    "datetime_from_date_parsing": lambda c: "Enter a date and time like 2030-01-31T18:00:00Z.",
    "timezone_aware": lambda c: "Give the time with its time zone, e.g. 18:00:00+02:00.",
    "json_invalid": lambda c: "The request is not valid JSON.",
    "json_type": lambda c: "The request is not valid JSON.",
}


def human_message(error: Mapping[str, Any]) -> str:
    """A sentence for one pydantic (or FastAPI) error."""
    kind = str(error.get("type", ""))
    ctx = error.get("ctx") or {}
    if kind in ("value_error", "assertion_error") and "error" in ctx:
        # Our own validators already speak in sentences.
        return _sentence(str(ctx["error"]))
    if kind in _MESSAGES:
        return _MESSAGES[kind](ctx)
    return _sentence(str(error.get("msg", "This value is not accepted.")))


def _sentence(text: str) -> str:
    text = text.strip() or "This value is not accepted."
    text = text[0].upper() + text[1:]
    return text if text.endswith((".", "!", "?")) else text + "."
