"""No request handler runs database work or password hashing on the event loop.

An `async def` endpoint runs on the loop that serves every event stream of the process; FastAPI
runs a plain `def` endpoint in the thread pool. So an `async def` endpoint may only reach the
database or argon2 through a nested function handed to the thread pool.
"""
from __future__ import annotations

import ast
import inspect
import textwrap

from fastapi.routing import APIRoute

from siaga112.app import create_app
from siaga112.config import Settings

BLOCKING_CALLS = {"transaction", "hash_password", "authenticate", "verify_password", "create_user",
                  "set_password"}


def _blocking_calls_on_the_loop(func) -> list[str]:
    tree = ast.parse(textwrap.dedent(inspect.getsource(func)))
    endpoint = tree.body[0]
    found = []

    def visit(node, top: bool) -> None:
        for child in ast.iter_child_nodes(node):
            nested = isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda))
            if top and isinstance(child, ast.Call):
                name = getattr(child.func, "attr", None) or getattr(child.func, "id", None)
                if name in BLOCKING_CALLS:
                    found.append(f"line {child.lineno}: {name}()")
            visit(child, top and not nested)

    visit(endpoint, True)
    return found


def _endpoints(routes) -> list:
    """Every route with an endpoint, also inside included routers."""
    found = []
    for route in routes:
        if isinstance(route, APIRoute) or (hasattr(route, "endpoint") and hasattr(route, "path")):
            found.append(route)
        elif hasattr(route, "effective_candidates"):  # an included router (FastAPI >= 0.165)
            found += _endpoints(route.effective_candidates())
        elif hasattr(route, "routes"):
            found += _endpoints(route.routes)
    return found


def test_no_async_endpoint_blocks_the_loop(tmp_path):
    app = create_app(Settings(database_url=f"sqlite:///{tmp_path}/x.db", var_dir=tmp_path))
    routes = _endpoints(app.routes)
    assert len(routes) > 100
    offenders = {}
    for route in routes:
        if inspect.iscoroutinefunction(route.endpoint):
            calls = _blocking_calls_on_the_loop(route.endpoint)
            if calls:
                offenders[f"{route.path} {route.endpoint.__module__}.{route.endpoint.__name__}"] = calls
    assert not offenders, offenders


def test_the_check_sees_a_blocking_async_endpoint():
    async def bad(ctx):
        with ctx.db.transaction() as conn:
            return conn

    async def good(ctx, run_in_threadpool):
        def work():
            with ctx.db.transaction() as conn:
                return conn
        return await run_in_threadpool(work)

    assert _blocking_calls_on_the_loop(bad) == ["line 2: transaction()"]
    assert _blocking_calls_on_the_loop(good) == []
