"""An OpenAPI 3 document for one entity's REST API, generated from its entity document."""

from __future__ import annotations

from app.configuration.field_types import field_type
from app.configuration.runtime import EntityRuntime
from app.web.paging import MAX_PAGE_INDEX

PAGE = {"type": "integer", "minimum": 0, "maximum": MAX_PAGE_INDEX}
PAGE_SIZE = {"type": "integer", "minimum": 1, "maximum": 500, "default": 20}
RECORD_ID = {
    "name": "id",
    "in": "path",
    "required": True,
    "schema": {"type": "integer", "format": "int64"},
}


def field_schema(spec: dict) -> dict:
    """A field's values as JSON Schema, by its type (app.configuration.field_types)."""
    schema = field_type(spec["type"]).schema_for(spec)
    schema["description"] = spec["label"].get("zh", "")
    return schema


def entity_openapi(runtime: EntityRuntime) -> dict:
    definition = runtime.definition
    name = definition.name
    record = {
        "type": "object",
        "properties": {
            "org_node_id": {"type": "integer", "description": "门店 / store"},
            **{f["name"]: field_schema(f) for f in definition.fields},
        },
        "required": [f["name"] for f in definition.fields if f.get("required")],
    }
    item = {"$ref": f"#/components/schemas/{name}"}
    path = f"/api/v1/{name}/"
    return {
        "openapi": "3.0.3",
        "info": {"title": definition.label("zh"), "version": str(runtime.version_id)},
        "components": {
            "schemas": {name: record},
            "securitySchemes": {"jwt": {"type": "http", "scheme": "bearer"}},
        },
        "security": [{"jwt": []}],
        "paths": {
            path: {
                "get": {
                    "summary": "list",
                    "parameters": [
                        {"name": "page", "in": "query", "schema": PAGE},
                        {"name": "page_size", "in": "query", "schema": PAGE_SIZE},
                        {"name": "q", "in": "query", "schema": {"type": "string"}},
                    ],
                    "responses": {
                        "200": {"description": "records"},
                        "400": {"description": "a bad page, page size or filter"},
                    },
                },
                "post": {
                    "summary": "create",
                    "requestBody": {"content": {"application/json": {"schema": item}}},
                    "responses": {
                        "201": {"description": "created"},
                        "422": {"description": "field errors"},
                    },
                },
            },
            path + "{id}": {
                # Every operation of the item path takes the record's id (a valid spec must
                # declare each `{name}` of its path).
                "parameters": [RECORD_ID],
                "get": {
                    "responses": {
                        "200": {"description": "record"},
                        "404": {"description": "not found"},
                    }
                },
                "put": {
                    "requestBody": {"content": {"application/json": {"schema": item}}},
                    "responses": {
                        "200": {"description": "updated"},
                        "404": {"description": "not found"},
                        "422": {"description": "field errors"},
                    },
                },
                "delete": {
                    "responses": {
                        "200": {"description": "deleted"},
                        "404": {"description": "not found"},
                    }
                },
            },
        },
    }
