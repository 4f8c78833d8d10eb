"""The OpenAPI document as the API answers: FastAPI's, less what this API never sends."""


def without_422(app):
    """``app.openapi`` as FastAPI makes it, less the 422 answer FastAPI lists on every route with
    parameters or a body: this API answers malformed input with 400 ``bad_request`` (fobauth.api's
    ERRORS lists it), and a client generated from the document must not wait for a 422 that never
    comes.  FastAPI's way of extending the document: replace ``app.openapi`` ("Extending OpenAPI")."""
    generate = app.openapi

    def openapi():
        schema = generate()  # FastAPI's, made once and kept; taking out what is gone already is harmless
        for operations in schema["paths"].values():
            for operation in operations.values():
                operation["responses"].pop("422", None)
        for name in ("HTTPValidationError", "ValidationError"):
            schema.get("components", {}).get("schemas", {}).pop(name, None)
        return schema

    app.openapi = openapi
