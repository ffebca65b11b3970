"""The OpenAPI schema documents the 422 body the service really sends.

FastAPI documents its own `HTTPValidationError` for every route that takes input; our
handlers answer `ValidationProblem` instead, so the schema is rewritten to say that.
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI

from responders.schemas.problems import ValidationProblem

__all__ = ["document_validation_problem"]

_REF = "#/components/schemas/{model}"
_FASTAPI_OWN = ("HTTPValidationError", "ValidationError")


def document_validation_problem(app: FastAPI) -> None:
    generate = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            app.openapi_schema = _rewrite(generate())
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]


def _rewrite(schema: dict[str, Any]) -> dict[str, Any]:
    components = schema.setdefault("components", {}).setdefault("schemas", {})
    body = ValidationProblem.model_json_schema(ref_template=_REF)
    components.update(body.pop("$defs", {}))
    components["ValidationProblem"] = body
    for name in _FASTAPI_OWN:
        components.pop(name, None)
    content = {"application/json": {"schema": {"$ref": _REF.format(model="ValidationProblem")}}}
    for operations in schema.get("paths", {}).values():
        for operation in operations.values():
            problem = operation.get("responses", {}).get("422")
            if problem is not None:
                problem["content"] = content
                problem.setdefault("description", "Invalid input")
    return schema
