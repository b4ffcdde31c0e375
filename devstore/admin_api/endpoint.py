"""POST /admin/api/{version}/graphql.json: auth, cost, throttle, execute."""

from __future__ import annotations

import asyncio
import json
from typing import Any

from graphql import GraphQLError, execute, parse, validate
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from devstore import auth
from devstore.admin_api import nodes
from devstore.admin_api.cost import QueryCost
from devstore.admin_api.mutations import mutation_root
from devstore.admin_api.queries import query_root
from devstore.admin_api.schema import admin_schema
from devstore.context import Devstore
from devstore.runtime import FailureInjection
from devstore.shops import shop_resolve

INVALID_TOKEN = {"errors": "[API] Invalid API key or access token (unrecognized login or wrong password)"}
MAX_COST_HELP = (
    "\n\nSee https://shopify.dev/concepts/about-apis/rate-limits for more information on how"
    " the\ncost of a query is calculated.\n\nTo query larger amounts of data with fewer"
    " limits, bulk operations should be used instead.\nSee"
    " https://shopify.dev/tutorials/perform-bulk-operations-with-admin-api for usage details.\n"
)


def injected_failure(failure: FailureInjection) -> Response:
    """The answer of a failure armed through the control API, given instead of running the request."""
    if failure.status == 429:
        return JSONResponse(
            {
                "errors": "Exceeded 2 calls per second for api client. Reduce request rates to"
                " resume uninterrupted service."
            },
            status_code=429,
            headers={"Retry-After": f"{failure.retry_after:g}"},
        )
    return JSONResponse({"errors": "Internal Server Error"}, status_code=failure.status)


async def graphql_endpoint(request: Request) -> Response:
    ds: Devstore = request.app.state.ds
    failure = ds.settings.take_failure()
    if failure is None:
        return await graphql_answer(request, ds)
    if failure.status != 200:
        await asyncio.sleep(failure.delay_seconds)
        return injected_failure(failure)
    # Armed with 200: the request runs now and its answer is late, as when Shopify is slow.
    answer = await graphql_answer(request, ds)
    await asyncio.sleep(failure.delay_seconds)
    return answer


async def graphql_answer(request: Request, ds: Devstore) -> Response:
    shop = shop_resolve(
        ds.db, ds.config.default_shop, request.headers.get("host"), request.query_params.get("shop")
    )
    token = request.headers.get("x-shopify-access-token")
    if auth.access_token_check(ds.db, shop["id"], token) is None:
        return JSONResponse(INVALID_TOKEN, status_code=401)
    raw = await request.body()
    content_type = request.headers.get("content-type", "")
    if content_type.startswith("application/graphql"):
        payload: dict[str, Any] = {"query": raw.decode()}
    else:
        try:
            payload = json.loads(raw or b"{}")
        except ValueError:
            return JSONResponse({"errors": "Invalid JSON in request body"}, status_code=400)
    if not isinstance(payload, dict) or not payload.get("query"):
        return JSONResponse({"errors": {"query": "Required parameter missing or invalid"}}, status_code=400)
    result = await run_in_threadpool(run_query, ds, shop, str(token), payload)
    return JSONResponse(result)


def run_query(ds: Devstore, shop: dict[str, Any], token: str, payload: dict[str, Any]) -> dict[str, Any]:
    schema = admin_schema()
    try:
        document = parse(payload["query"])
    except GraphQLError as exc:
        return {"errors": [exc.formatted]}
    problems = validate(schema, document)
    if problems:
        return {"errors": [p.formatted for p in problems]}
    variables = payload.get("variables") or {}
    operation_name = payload.get("operationName")
    cost = QueryCost(schema, document, variables, operation_name)
    requested = cost.requested()
    settings = ds.settings
    if requested > settings.max_query_cost:
        return {
            "errors": [
                {
                    "message": f"Query cost is {requested}, which exceeds the single query max cost"
                    f" limit ({settings.max_query_cost})." + MAX_COST_HELP,
                    "extensions": {
                        "code": "MAX_COST_EXCEEDED",
                        "cost": requested,
                        "maxCost": settings.max_query_cost,
                    },
                }
            ]
        }
    key = (ds.config.api_key, shop["domain"])
    ok, status = ds.buckets.take(key, requested, size=settings.bucket_size, rate=settings.restore_rate)
    if not ok:
        return {
            "errors": [
                {
                    "message": "Throttled",
                    "extensions": {
                        "code": "THROTTLED",
                        "documentation": "https://shopify.dev/api/usage/rate-limits",
                    },
                }
            ],
            "extensions": {
                "cost": {
                    "requestedQueryCost": requested,
                    "actualQueryCost": None,
                    "throttleStatus": status.as_json(),
                }
            },
        }
    root = mutation_root() if cost.is_mutation else query_root()
    result = execute(
        schema,
        document,
        root_value=root,
        variable_values=variables,
        operation_name=operation_name,
        context_value=nodes.RequestContext(ds=ds, shop=shop),
    )
    data = result.data  # type: ignore[union-attr]
    actual = cost.actual(data) if not cost.is_mutation else requested
    status = ds.buckets.refund(key, requested - actual, size=settings.bucket_size, rate=settings.restore_rate)
    body: dict[str, Any] = {}
    if result.errors:  # type: ignore[union-attr]
        body["errors"] = [e.formatted for e in result.errors]  # type: ignore[union-attr]
    body["data"] = data
    body["extensions"] = {
        "cost": {
            "requestedQueryCost": requested,
            "actualQueryCost": actual,
            "throttleStatus": status.as_json(),
        }
    }
    return body
