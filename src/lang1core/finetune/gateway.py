"""The gateway `lang1 serve` puts in front of a loopback model server (`transformers serve`):
an ASGI app (Starlette, run by uvicorn) that lets through only authenticated, bounded,
well-formed OpenAI completions requests.

Routes, matched exactly: POST /v1/completions, GET /v1/models (both need
`Authorization: Bearer <token>`), GET /health. Answers: 401 without the token, 404 for any
other path or another model's name, 405 for another method, 413 for a body over the limit,
408 for a body that does not arrive in time, 400 for a body that is not a JSON object, 422
for a field that is unknown or out of bounds (the message names the field), 502/504 when the
model server fails or is too slow. Request bodies and completions are never logged: a log line
holds the status, sizes and settings only.
"""

from __future__ import annotations

import asyncio
import hmac
import json
import logging
import time
from contextlib import asynccontextmanager
from typing import Literal

import httpx2
from pydantic import BaseModel, ConfigDict, Field, ValidationError, create_model
from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from lang1core.finetune.serve_limits import Limits

log = logging.getLogger(__name__)
logging.getLogger("httpx2").setLevel(logging.WARNING)  # a line per forwarded request says nothing new


def _request_model(limits: Limits) -> type[BaseModel]:
    """The completions fields the gateway passes on, bounded by `limits`; any other is refused
    (among them `generation_config`, with which transformers serve would take any generate()
    argument)."""
    return create_model(
        "CompletionRequest",
        __config__=ConfigDict(extra="forbid", strict=True),
        model=(str | None, Field(None, max_length=256)),
        prompt=(str, Field(max_length=limits.prompt_chars)),
        max_tokens=(int, Field(limits.max_tokens, ge=1, le=limits.max_tokens)),
        temperature=(float | int, Field(1.0, ge=0, le=2)),
        top_p=(float | int, Field(1.0, gt=0, le=1)),
        n=(int, Field(1, ge=1, le=limits.n)),
        logprobs=(int | None, Field(None, ge=0, le=limits.logprobs)),
        seed=(int | None, Field(None, ge=0, le=2**63 - 1)),
        stream=(Literal[False], False),
    )


def _error(status: int, message: str, headers: dict | None = None) -> JSONResponse:
    return JSONResponse({"error": {"message": message, "code": status}}, status, headers=headers)


class _TooLarge(Exception):
    pass


async def _read_body(request: Request, limit: int) -> bytes:
    """The body, refused as soon as it passes `limit` bytes (whatever Content-Length said)."""
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise _TooLarge
        chunks.append(chunk)
    return b"".join(chunks)


def server_config(app: Starlette, host: str, port: int, max_connections: int,
                  ssl_certfile=None, ssl_keyfile=None):
    """uvicorn's settings for the gateway: connections beyond `max_connections` are answered
    503, an idle connection is closed after 5 s, and logging is left to the application's
    set-up (the access log names method, path and status, never a body)."""
    import uvicorn

    return uvicorn.Config(app, host=host, port=port, limit_concurrency=max_connections,
                          timeout_keep_alive=5, server_header=False, log_config=None,
                          ssl_certfile=ssl_certfile, ssl_keyfile=ssl_keyfile)


def make_app(upstream_url: str, served_name: str, token: str, limits: Limits = Limits()) -> Starlette:
    """The gateway for the model server at `upstream_url` (serving one model, which clients
    know as `served_name`); `token` is the bearer token every request must carry."""
    if not token:
        raise ValueError("the gateway needs a non-empty token")
    schema = _request_model(limits)
    expected = f"Bearer {token}".encode()
    client = httpx2.AsyncClient(base_url=upstream_url, timeout=limits.upstream_seconds)

    def authorised(request: Request) -> bool:
        return hmac.compare_digest(request.headers.get("authorization", "").encode(), expected)

    def unauthorised() -> JSONResponse:
        return _error(401, "missing or wrong bearer token", {"WWW-Authenticate": "Bearer"})

    async def health(request: Request) -> JSONResponse:
        return JSONResponse({"status": "ok"})

    async def models(request: Request) -> JSONResponse:
        if not authorised(request):
            return unauthorised()
        return JSONResponse({"object": "list", "data": [
            {"id": served_name, "object": "model", "created": 0, "owned_by": "lang1"}]})

    async def completions(request: Request) -> JSONResponse:
        if not authorised(request):
            return unauthorised()
        declared = request.headers.get("content-length")
        if declared is not None and declared.isdigit() and int(declared) > limits.body_bytes:
            return _error(413, f"request body over {limits.body_bytes} bytes")
        try:
            raw = await asyncio.wait_for(_read_body(request, limits.body_bytes), limits.body_seconds)
        except _TooLarge:
            return _error(413, f"request body over {limits.body_bytes} bytes")
        except asyncio.TimeoutError:
            return _error(408, f"request body not received within {limits.body_seconds:g} s")
        try:
            body = json.loads(raw)
        except (UnicodeDecodeError, json.JSONDecodeError) as e:
            return _error(400, f"request body is not JSON ({e.msg if hasattr(e, 'msg') else 'not UTF-8'})")
        if not isinstance(body, dict):
            return _error(400, "request body is not a JSON object")
        try:
            req = schema.model_validate(body)
        except ValidationError as e:
            # Field names and bounds only: pydantic's `input` would echo the prompt.
            problems = "; ".join(f"{'.'.join(map(str, x['loc'])) or 'body'}: {x['msg']}" for x in e.errors())
            return _error(422, problems)
        if req.model not in (None, served_name):
            return _error(404, f"model {req.model!r} is not served here (this server serves {served_name!r})")
        return await forward(req)

    async def forward(req: BaseModel) -> JSONResponse:
        # The model server serves one model: it needs no name (and its name is a path).
        body = req.model_dump(exclude_none=True, exclude={"model", "stream"})
        # The request's own sampling settings, over the model directory's defaults: an OpenAI
        # temperature samples from the whole distribution (no top-k), 0 is greedy.
        body["generation_config"] = json.dumps({"do_sample": req.temperature > 0, "top_k": 0})
        started = time.monotonic()
        try:
            r = await client.post("/v1/completions", json=body)
        except httpx2.TimeoutException:
            return _error(504, f"the model server did not answer within {limits.upstream_seconds:g} s")
        except httpx2.HTTPError as e:
            log.error("model server unreachable: %s", type(e).__name__)
            return _error(502, "the model server is unreachable")
        log.info("completion: status %d, %d prompt chars, n %d, max_tokens %d, %.2f s", r.status_code,
                 len(req.prompt), req.n, req.max_tokens, time.monotonic() - started)
        try:
            out = r.json()
        except ValueError:
            return _error(502, f"the model server answered HTTP {r.status_code} without JSON")
        if r.status_code >= 500:
            return _error(502, f"the model server failed (HTTP {r.status_code})")
        if r.status_code >= 400:  # the model server's reason, e.g. a prompt longer than the context
            return _error(r.status_code, str(out.get("detail", out) if isinstance(out, dict) else out))
        if isinstance(out, dict):
            out["model"] = served_name
        return JSONResponse(out)

    async def http_error(request: Request, exc: HTTPException) -> JSONResponse:
        return _error(exc.status_code, exc.detail)

    @asynccontextmanager
    async def lifespan(app):
        yield
        await client.aclose()

    app = Starlette(routes=[
        Route("/health", health, methods=["GET"]),
        Route("/v1/models", models, methods=["GET"]),
        Route("/v1/completions", completions, methods=["POST"]),
    ], exception_handlers={HTTPException: http_error}, lifespan=lifespan)
    app.router.redirect_slashes = False  # exact paths: /v1/completions/ is not /v1/completions
    return app
