"""Verification answered in front of FastAPI's layers, from a route FastAPI declares and documents.

A bank sends a verification for every login; for it, FastAPI's dependency
solving, response-model validation, middleware and router cost more CPU than
the rest of the request (docs/server-performance.md).  ``PlainRoute`` keeps
the route's declaration (the OpenAPI document describes it like any other)
with a plain Starlette handler; ``GuardedApp`` answers requests matching it
right behind fobauth.limits.Guard.
"""

from fastapi import FastAPI, Request
from fastapi.routing import APIRoute
from starlette.routing import Match

from fobauth.limits import Guard


class PlainRoute(APIRoute):
    """A route that FastAPI documents from its declaration like any other, but that is answered by
    ``handler(request)``, a plain Starlette handler, instead of FastAPI's dependency solving and
    response-model validation: for verification, where those cost more CPU than the rest of the request
    (docs/server-performance.md).  The handler validates with the models the declaration names."""

    def __init__(self, path, endpoint, *, handler, **options):
        self._handler = handler
        super().__init__(path, endpoint, **options)

    def get_route_handler(self):
        return self._handler

    def request_for(self, scope):
        """The scope of a request for this route (its method and path, as the router judges them, with
        the path parameters), else None."""
        match, child = self.matches(scope)
        return {**scope, **child} if match is Match.FULL else None

    async def answer(self, scope, receive, send):
        response = await self._handler(Request(scope, receive))
        await response(scope, receive, send)


class GuardedApp(FastAPI):
    """FastAPI with fobauth.limits.Guard in front of everything FastAPI adds (but the request telemetry
    of ``FastAPI.__call__``, around everything), and ``front_route`` (a PlainRoute) answered right
    behind the Guard.  Verification, the request a bank sends for every login, thus skips FastAPI's
    seven middleware and router layers, which cost it about 100 µs of the 580 µs of Python a
    verification took (docs/server-performance.md); the Guard's limits, key check and error answers
    stay the same for every request."""

    guard_options = None  # fobauth.limits.Guard's keyword arguments
    front_route = None

    def build_middleware_stack(self):
        inner = super().build_middleware_stack()
        route = self.front_route

        async def app(scope, receive, send):
            request = route.request_for(scope) if scope["type"] == "http" else None
            if request is None:
                return await inner(scope, receive, send)
            return await route.answer(request, receive, send)

        return Guard(app, **self.guard_options)
