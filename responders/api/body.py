"""Hand-parsed JSON bodies for the hottest routes, with the same 422 as everywhere else.

FastAPI's body machinery costs more than the whole database write of a location update;
these routes read the body themselves and validate it with the very same pydantic model,
and describe it in the OpenAPI schema through `openapi_extra`.
"""

from __future__ import annotations

from typing import Any, TypeVar

from fastapi import Request
from fastapi.exceptions import RequestValidationError
from pydantic import BaseModel, TypeAdapter, ValidationError

__all__ = ["json_body", "json_body_schema", "tagged_json_body", "tagged_json_body_schema"]

M = TypeVar("M", bound=BaseModel)
T = TypeVar("T")


async def json_body(request: Request, model: type[M]) -> M:
    try:
        return model.model_validate_json(await request.body())
    except ValidationError as exc:
        errors = [{**e, "loc": ("body", *e["loc"])} for e in exc.errors()]
        raise RequestValidationError(errors) from exc


def json_body_schema(model: type[BaseModel]) -> dict[str, Any]:
    return {
        "requestBody": {
            "required": True,
            "content": {"application/json": {"schema": model.model_json_schema()}},
        }
    }


async def tagged_json_body(request: Request, adapter: TypeAdapter[T]) -> T:
    """A body that is a tagged union (one model per `kind`), its errors named as the client
    wrote the fields: pydantic puts the chosen tag first in each error's location
    (`fcm.fcm_token`), which no client ever sent."""
    try:
        return adapter.validate_json(await request.body())
    except ValidationError as exc:
        errors = [{**e, "loc": ("body", *e["loc"][1:])} for e in exc.errors()]
        raise RequestValidationError(errors) from exc


def tagged_json_body_schema(adapter: TypeAdapter[Any]) -> dict[str, Any]:
    """The union's JSON schema with its definitions written in place (an operation's
    schema cannot carry `$defs` of its own)."""
    schema = adapter.json_schema()
    definitions = schema.pop("$defs", {})

    def inline(node: Any) -> Any:
        if isinstance(node, dict):
            ref = node.get("$ref")
            if isinstance(ref, str) and ref.startswith("#/$defs/"):
                return inline(definitions[ref.rsplit("/", 1)[1]])
            return {key: inline(value) for key, value in node.items()}
        if isinstance(node, list):
            return [inline(item) for item in node]
        return node

    return {
        "requestBody": {
            "required": True,
            "content": {"application/json": {"schema": inline(schema)}},
        }
    }
