"""The FastAPI application: the counter page at ``/`` and the API under ``/v1``.

``create_app(settings)`` builds the app without loading any model; the checkers are created
by the lifespan, inside the process uvicorn serves from (MediaPipe tasks created before a
fork hang in the child). ``serve(settings)`` runs it under uvicorn.

Routes:

* ``POST /v1/check``: multipart upload (``image``; optional ``reason``, ``lang``,
  ``annotate``) -> :class:`~photocheck.service.models.CheckResponse`. A photo that cannot be
  judged answers 413 (too large), 415 (not a form), 422 (not an image, truncated, corrupt,
  empty, unknown reason, a form value that is not plain ASCII...) or 500 (a bug), always with
  the same body and ``result.decision == "error"``. Two answers concern the connection, not
  the photo, and carry a :class:`~photocheck.service.models.Problem` body: 408 when the upload
  stalls or crawls below the minimum rate, 503 when no check slot is free (see
  :mod:`.admission`).
* ``GET /v1/policy`` (active policy and its rules), ``GET /v1/health``,
  ``GET /v1/messages?lang=`` (every user-facing text, from :mod:`photocheck.i18n`).
* ``GET /``: the page; ``/static/*``: its script and style; ``/docs``: OpenAPI.

Every answer, errors included, is JSON (or the page) with the security headers; an unexpected
exception becomes a JSON 500, never a plain-text one. A keyless server on loopback answers only
requests whose ``Host`` is a local name (DNS rebinding).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import logging
import os
import re
import sys
import tempfile
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator, MutableMapping
from contextlib import asynccontextmanager, contextmanager
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Annotated, Any

import anyio.to_thread
from fastapi import APIRouter, Depends, FastAPI, HTTPException, Query, Request, Security
from fastapi.responses import HTMLResponse, Response
from fastapi.security import APIKeyHeader
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.staticfiles import StaticFiles
from starlette.requests import ClientDisconnect

from .. import __version__, i18n
from ..errors import ErrorCode, PhotocheckError
from ..limits import Limits as ResourceLimits
from ..measures import unit_of
from ..pipeline import BIRTH_YEARS, Checker, parse_birth_year
from ..policy import Policy
from ..schema import Decision, ErrorInfo, PolicyRef, RequestReason, Result
from . import render
from .admission import Busy, CheckSlots
from .audit import AuditLog
from .models import (CheckResponse, Health, Limits, Messages, PolicyInfo, PolicyName,
                     PolicyRule, Problem)
from .pool import CheckerPool, warm_up_portrait
from .settings import (API_KEY_ENV, API_KEY_HEADER, SETTINGS_ENV, ServiceSettings,
                       is_local_host_header)
from .upload import (IMAGE_FIELD, Upload, UploadPace, UploadRejected, UploadStalled,
                     content_length, read_upload)

log = logging.getLogger(__name__)

STATIC_DIR = Path(__file__).parent / "static"

#: HTTP status of a result that could not be judged, by error code; any other code is 422
#: (the client sent something that is not a judgeable photo). ``internal`` is a bug: 500.
STATUS_BY_ERROR: dict[ErrorCode, int] = {
    ErrorCode.TOO_LARGE: 413,
    ErrorCode.INTERNAL: 500,
}
UNPROCESSABLE = 422

#: Headers on every response; the page additionally gets a strict Content-Security-Policy
#: (its own script, style and images only: nothing from another origin, works offline).
_COMMON_HEADERS = [(b"x-content-type-options", b"nosniff"), (b"referrer-policy", b"no-referrer")]
_PAGE_CSP = (b"default-src 'self'; img-src 'self' data: blob:; media-src 'self' blob:; "
             b"style-src 'self'; script-src 'self'; connect-src 'self'; object-src 'none'; "
             b"base-uri 'none'; frame-ancestors 'none'; form-action 'none'")
#: The API docs (Swagger UI): its one inline script is allowed by hash (added per app), its
#: styles are set inline by the bundle; nothing from another origin, no framing.
_DOCS_CSP = ("default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; "
             "script-src 'self'{hashes}; connect-src 'self'; object-src 'none'; "
             "base-uri 'none'; frame-ancestors 'none'; form-action 'self'")
#: Seconds a client is asked to wait before retrying a 503.
_RETRY_AFTER_S = "5"

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off"}

#: What a request checks (form field ``mode``): the photo on an existing card, or a new photo.
MODES = ("existing", "new")
ANNOTATION_FORMATS = ("png", "jpeg")
_CARD = {"auto": None, "yes": True, "no": False}


CHECK_FORM: dict[str, Any] = {
    "required": True,
    "content": {"multipart/form-data": {"schema": {
        "type": "object",
        "required": [IMAGE_FIELD],
        "properties": {
            IMAGE_FIELD: {"type": "string", "format": "binary",
                          "description": "The photo: JPEG, PNG, WebP, BMP, TIFF or GIF. The "
                                         "format is read from the bytes; the file name and "
                                         "content type are ignored."},
            "reason": {"type": "string", "enum": [r.value for r in RequestReason],
                       "default": RequestReason.QUALITY.value,
                       "description": "Why the citizen asks for a new photo"},
            "lang": {"type": "string", "enum": list(i18n.LANGUAGES),
                     "default": i18n.DEFAULT_LANGUAGE,
                     "description": "Language of the explanation and the annotation"},
            "annotate": {"type": "boolean", "default": False,
                         "description": "Include the annotated photo (base64). Opt-in "
                                        "(on by default up to 0.1.0): drawing and "
                                        "encoding it cost more than the check; the counter "
                                        "page asks for it"},
            "annotation_header": {"type": "boolean", "default": True,
                                  "description": "Draw the text band (verdict, reasons, "
                                                 "measures) above the photo. false: the photo "
                                                 "and its marks only, at the size it was "
                                                 "judged at (what the page uses: it shows the "
                                                 "words itself); about 20 ms less CPU"},
            "annotation_format": {"type": "string", "enum": list(ANNOTATION_FORMATS),
                                  "default": "png",
                                  "description": "png (lossless) or jpeg (about 20 ms less "
                                                 "CPU, half the bytes; what the page uses)"},
            "mode": {"type": "string", "enum": list(MODES), "default": "existing",
                     "description": "existing: the photo on the citizen's card (or a photo or "
                                    "scan of the whole card) for a replacement request; new: "
                                    "the new photo just taken, against the capture profile"},
            "birth_year": {"type": "integer", "minimum": BIRTH_YEARS.start,
                           "maximum": BIRTH_YEARS.stop - 1,
                           "description": "Holder's birth year (mode new): the background "
                                          "must be red for an odd year, blue for an even one"},
            "card": {"type": "string", "enum": ["auto", "yes", "no"], "default": "auto",
                     "description": "yes: the photo shows the whole card; no: a portrait; "
                                    "auto: decide by looking (mode existing)"},
        },
    }}},
}

#: Answers of POST /v1/check other than 200, for the OpenAPI schema (401 added with a key).
_CHECK_ERRORS: dict[int | str, dict[str, Any]] = {
    413: {"model": CheckResponse,
          "description": "The upload is over the size limit or the image over the pixel "
                         "limit (result.error.code too_large)"},
    415: {"model": CheckResponse, "description": "The body is not multipart/form-data"},
    422: {"model": CheckResponse,
          "description": "Not a judgeable photo (not_an_image, truncated, corrupt, empty, "
                         "too_small) or a bad form field (invalid_argument)"},
    408: {"model": Problem, "description": "The upload stalled or arrived below the minimum "
                                           "rate; the connection is closed"},
    500: {"model": CheckResponse, "description": "Internal error (a bug; error.code internal)"},
    503: {"model": Problem, "description": "No check slot free (for this address); retry after "
                                           "Retry-After seconds"},
}


@dataclass
class Service:
    """What the routes share: settings, the policy in force, checkers, the audit log.
    ``new_policy`` and ``new_pool`` judge new photos (mode ``new``), when enabled."""

    settings: ServiceSettings
    policy: Policy
    pool: CheckerPool
    audit: AuditLog | None
    new_policy: Policy | None = None
    new_pool: CheckerPool | None = None
    slots: CheckSlots | None = None

    def __post_init__(self) -> None:
        if self.slots is None:
            self.slots = CheckSlots(self.settings.max_checks, self.settings.max_checks_per_client)

    @property
    def pace(self) -> UploadPace:
        settings = self.settings
        return UploadPace(idle_timeout_s=settings.upload_idle_timeout_s,
                          min_bytes_per_s=settings.min_upload_bytes_per_s,
                          grace_s=settings.upload_grace_s)

    def judging(self, mode: str) -> tuple[Policy, CheckerPool]:
        if mode == "new":
            return self.new_policy, self.new_pool
        return self.policy, self.pool

    @property
    def policy_ref(self) -> PolicyRef:
        """The policy as results name it (for answers made without a checker)."""
        return PolicyRef(name=self.policy.name, version=self.policy.version,
                         kind=self.policy.kind)


@dataclass(frozen=True)
class CheckRequest:
    image: bytes
    reason: RequestReason
    lang: str
    annotate: bool
    annotation_format: str = "png"
    annotation_header: bool = True
    mode: str = "existing"
    birth_year: int | None = None
    card: bool | None = None


def load_policy(settings: ServiceSettings, source: str | None = None) -> Policy:
    """A policy (default: the settings' own), with the service's pixel limit if it is the
    stricter one."""
    policy = Policy.load(settings.policy if source is None else source)
    max_pixels = min(settings.max_pixels, policy.processing.max_pixels)
    return replace(policy, processing=replace(policy.processing, max_pixels=max_pixels))


def create_app(settings: ServiceSettings | None = None) -> FastAPI:
    """The counter service app. Loads no model: the lifespan does, in the serving process."""
    settings = settings or ServiceSettings()
    # The resource limits (photocheck.limits) bound the service as they bound every other
    # reader: an upload is never larger than a file the checker may read (its checkers apply
    # the pixel limit themselves).
    resource_limits = ResourceLimits.load()
    if settings.max_upload_bytes > resource_limits.max_image_bytes:
        settings = replace(settings, max_upload_bytes=resource_limits.max_image_bytes)
    policy = load_policy(settings)  # a broken policy file fails here, before serving
    new_policy = (None if settings.new_photo_policy is None
                  else load_policy(settings, settings.new_photo_policy))
    page = (STATIC_DIR / "index.html").read_bytes()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        portrait = warm_up_portrait()
        pool = await anyio.to_thread.run_sync(
            lambda: CheckerPool(settings.checkers, policy, warm_up=portrait))
        new_pool = None if new_policy is None else await anyio.to_thread.run_sync(
            lambda: CheckerPool(settings.checkers, new_policy, warm_up=portrait))
        audit = AuditLog(settings.audit_log) if settings.audit_log else None
        app.state.service = Service(settings=settings, policy=policy, pool=pool, audit=audit,
                                    new_policy=new_policy, new_pool=new_pool)
        try:
            yield
        finally:
            pool.close()
            if new_pool is not None:
                new_pool.close()
            if audit is not None:
                audit.close()

    app = FastAPI(
        title="photocheck counter service",
        version=__version__,
        summary="Is the portrait on a KTP-el card eligible for photo replacement?",
        description=(
            "Upload a photo to `POST /v1/check`; the answer holds the result exactly as "
            "`photocheck check --json` writes it, the verdict in words, and the annotated "
            f"photo. When the service has an API key, send it in the `{API_KEY_HEADER}` "
            "header. Nothing is stored unless the server was started with `--audit-log`."),
        lifespan=lifespan,
        docs_url=None,  # served below from the package: FastAPI's own page loads a CDN
        redoc_url=None,
    )
    app.add_middleware(SecurityHeaders, spread_checks=settings.workers > 1,
                       local_hosts_only=settings.local_hosts_only)

    protected = [Depends(api_key_check(settings.api_key))] if settings.api_key else []
    unauthorised = ({401: {"model": Problem, "description": "Missing or wrong API key"}}
                    if settings.api_key else {})
    api = APIRouter(prefix="/v1", tags=["api"])
    api.add_api_route("/check", check_route, methods=["POST"], dependencies=protected,
                      response_model=CheckResponse, summary="Check one photo",
                      openapi_extra={"requestBody": CHECK_FORM},
                      responses={**unauthorised, **_CHECK_ERRORS})
    api.add_api_route("/policy", policy_route, methods=["GET"], dependencies=protected,
                      response_model=PolicyInfo, summary="The policy in force",
                      responses=unauthorised)
    api.add_api_route("/health", health_route, methods=["GET"], response_model=Health,
                      summary="Liveness, version, limits")
    api.add_api_route("/messages", messages_route, methods=["GET"], response_model=Messages,
                      summary="Every user-facing text in one language")
    app.include_router(api)

    @app.get("/", include_in_schema=False)
    async def index() -> HTMLResponse:
        return HTMLResponse(page)

    @app.get("/docs", include_in_schema=False)
    async def docs() -> HTMLResponse:
        page = get_swagger_ui_html(
            openapi_url=app.openapi_url, title=f"{app.title} - API",
            swagger_js_url="/static/swagger/swagger-ui-bundle.js",
            swagger_css_url="/static/swagger/swagger-ui.css",
            swagger_favicon_url="/static/swagger/favicon-32x32.png")
        page.headers["content-security-policy"] = docs_csp(page.body)
        return page

    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")
    return app


# --------------------------------------------------------------------------------------------
# Routes


def get_service(request: Request) -> Service:
    return request.app.state.service


ServiceDep = Annotated[Service, Depends(get_service)]


async def check_route(request: Request, service: ServiceDep) -> Response:
    """Judge one uploaded photo."""
    client = request.client.host if request.client else ""
    try:
        with service.slots.hold(client):
            return await _check(request, service)
    except Busy as busy:
        # Its body was not read: close rather than keep a connection in an unknown state.
        return _problem(503, busy.detail, {"retry-after": _RETRY_AFTER_S, "connection": "close"})


async def _check(request: Request, service: Service) -> Response:
    lang = i18n.DEFAULT_LANGUAGE
    reason = RequestReason.QUALITY
    try:
        upload = await read_upload(request.headers.get("content-type"),
                                   content_length(request.headers), request.stream(),
                                   max_bytes=service.settings.max_upload_bytes,
                                   pace=service.pace)
        lang = _language(upload) or lang
        reason = _request_reason(upload)
        wanted = _check_request(service, upload, reason, lang)
    except UploadRejected as rejected:
        return await _refuse(service, rejected, reason, lang)
    except UploadStalled as stalled:
        # The rest of the body may never come: answer and close rather than wait for it.
        return _problem(408, str(stalled), {"connection": "close"})
    except ClientDisconnect:
        return Response(status_code=400)  # nobody is left to read it

    _, pool = service.judging(wanted.mode)
    status, body = await pool.run(lambda checker: _judge(service, checker, wanted))
    return _json(body, status)


async def _refuse(service: Service, rejected: UploadRejected, reason: RequestReason,
                  lang: str) -> Response:
    """Answer a request refused before the pipeline with the same body as a judged error."""
    result = Result(path=None, decision=Decision.ERROR, reasons=(), request_reason=reason,
                    policy=service.policy_ref, version=__version__,
                    error=ErrorInfo(code=rejected.code, message=rejected.message))
    if service.audit is not None:
        audit = service.audit
        await anyio.to_thread.run_sync(
            lambda: audit.record(result, status=rejected.status, image=None))
    response = CheckResponse(result=result, explanation=render.explain(result, lang),
                             annotation=None)
    return _json(response.model_dump_json(), rejected.status)


def _judge(service: Service, checker: Checker, wanted: CheckRequest) -> tuple[int, bytes]:
    """In a worker thread: check, explain, draw, audit and serialise."""
    policy, _ = service.judging(wanted.mode)
    inspection = checker.inspect(wanted.image, reason=wanted.reason,
                                 birth_year=wanted.birth_year, card=wanted.card)
    result = inspection.result
    status = 200
    if result.decision is Decision.ERROR:
        status = STATUS_BY_ERROR.get(result.error.code, UNPROCESSABLE)
    picture = None
    if wanted.annotate:
        try:
            picture = render.annotation(inspection, policy, wanted.lang,
                                        wanted.annotation_format, wanted.annotation_header)
        except Exception:  # a drawing bug must not hide the verdict
            log.exception("could not draw the annotation")
    if service.audit is not None:
        service.audit.record(result, status=status, image=wanted.image)
    response = CheckResponse(result=result, explanation=render.explain(result, wanted.lang),
                             annotation=picture)
    return status, response.model_dump_json().encode("utf-8")


async def policy_route(service: ServiceDep) -> PolicyInfo:
    """The policy in force: name, version, provenance and every rule's thresholds."""
    policy = service.policy
    return PolicyInfo(
        name=policy.name, version=policy.version, kind=policy.kind,
        description=policy.description,
        fitted_on=" ".join(policy.fitted_on.split()),
        rules=[PolicyRule(reason=rule.reason.value, measure=rule.measure,
                          card_measure=rule.card_measure,
                          unit=unit_of(rule.measure), needs_face=rule.needs_face,
                          eligible_below=rule.eligible_below,
                          eligible_above=rule.eligible_above,
                          review_below=rule.review_below, review_above=rule.review_above)
               for rule in policy.rules])


async def health_route(service: ServiceDep) -> Health:
    """Up and ready (the models are loaded before the first request is served)."""
    settings = service.settings
    return Health(version=__version__,
                  policy=PolicyName(name=service.policy.name, version=service.policy.version,
                                    kind=service.policy.kind),
                  checkers=service.pool.size, api_key_required=settings.api_key is not None,
                  limits=Limits(max_upload_bytes=settings.max_upload_bytes,
                                max_pixels=service.policy.processing.max_pixels))


async def messages_route(
    lang: Annotated[i18n.Language, Query(description="id or en")] = i18n.Language.ID,
) -> Messages:
    """Every user-facing text (verdicts, reasons, errors, measure labels, the page's words)."""
    return Messages(lang=lang, messages=i18n.MESSAGES[lang.value])


# --------------------------------------------------------------------------------------------
# Form fields


def _language(upload: Upload) -> str | None:
    """The requested language, or None when absent or unknown (answered in the default)."""
    try:
        return i18n.check_language(upload.fields.get("lang") or i18n.DEFAULT_LANGUAGE)
    except ValueError:
        return None


def _request_reason(upload: Upload) -> RequestReason:
    value = upload.fields.get("reason") or RequestReason.QUALITY.value
    try:
        return RequestReason(value.lower())
    except ValueError:
        choices = ", ".join(r.value for r in RequestReason)
        raise UploadRejected(UNPROCESSABLE, ErrorCode.INVALID_ARGUMENT,
                             f"unknown request reason {value!r}; use {choices}") from None


def _check_request(service: Service, upload: Upload, reason: RequestReason,
                   lang: str) -> CheckRequest:
    if _language(upload) is None:
        raise UploadRejected(UNPROCESSABLE, ErrorCode.INVALID_ARGUMENT,
                             f"unknown language {upload.fields['lang']!r}; use "
                             + ", ".join(i18n.LANGUAGES))
    annotate = _flag(upload, "annotate", default=False)  # the picture is opt-in
    annotation_header = _flag(upload, "annotation_header")
    annotation_format = (upload.fields.get("annotation_format") or "png").lower()
    if annotation_format not in ANNOTATION_FORMATS:
        raise UploadRejected(UNPROCESSABLE, ErrorCode.INVALID_ARGUMENT,
                             f"annotation_format must be png or jpeg, not "
                             f"{annotation_format!r}")
    if upload.image is None:
        raise UploadRejected(UNPROCESSABLE, ErrorCode.INVALID_ARGUMENT,
                             f"no photo: send it in a form part named '{IMAGE_FIELD}'")
    mode = upload.fields.get("mode") or "existing"
    if mode not in MODES or (mode == "new" and service.new_pool is None):
        raise UploadRejected(UNPROCESSABLE, ErrorCode.INVALID_ARGUMENT,
                             f"mode must be one of {', '.join(MODES)} (new: if the server "
                             f"checks new photos), not {mode!r}")
    card = (upload.fields.get("card") or "auto").lower()
    if card not in _CARD:
        raise UploadRejected(UNPROCESSABLE, ErrorCode.INVALID_ARGUMENT,
                             f"card must be auto, yes or no, not {card!r}")
    try:
        birth_year = parse_birth_year(upload.fields.get("birth_year") or None)
    except PhotocheckError as exc:
        raise UploadRejected(UNPROCESSABLE, exc.code, f"birth_year: {exc.message}") from None
    # An empty part goes to the pipeline, which answers error ``empty`` like the CLI does.
    return CheckRequest(image=upload.image, reason=reason, lang=lang,
                        annotate=annotate, annotation_format=annotation_format,
                        annotation_header=annotation_header,
                        mode=mode, birth_year=birth_year, card=_CARD[card])


def _flag(upload: Upload, name: str, default: bool = True) -> bool:
    """A true/false form field; ``default`` when absent."""
    value = (upload.fields.get(name) or str(default)).lower()
    if value not in _TRUE | _FALSE:
        raise UploadRejected(UNPROCESSABLE, ErrorCode.INVALID_ARGUMENT,
                             f"{name} must be true or false, not {value!r}")
    return value in _TRUE


def _json(body: str | bytes, status: int) -> Response:
    return Response(content=body, status_code=status, media_type="application/json")


def _problem(status: int, detail: str, headers: dict[str, str] | None = None) -> Response:
    return Response(content=Problem(detail=detail).model_dump_json(), status_code=status,
                    media_type="application/json", headers=headers)


def docs_csp(page: bytes) -> str:
    """The docs page's Content-Security-Policy, allowing its inline scripts by their hash."""
    hashes = "".join(
        f" 'sha256-{base64.b64encode(hashlib.sha256(script).digest()).decode()}'"
        for script in re.findall(rb"<script>(.*?)</script>", page, flags=re.DOTALL))
    return _DOCS_CSP.format(hashes=hashes)


# --------------------------------------------------------------------------------------------
# API key and headers


def api_key_check(key: str) -> Callable[..., Awaitable[None]]:
    """A dependency that answers 401 unless the ``X-API-Key`` header equals ``key``."""
    expected = key.encode("utf-8")
    header = APIKeyHeader(name=API_KEY_HEADER, auto_error=False,
                          description="The key given to `photocheck serve --api-key`")

    # A default value, not Annotated[...]: with postponed annotations FastAPI could not
    # resolve the local ``header`` in a string annotation.
    async def require_key(provided: str | None = Security(header)) -> None:
        # Starlette decodes header bytes as latin-1: encoding back gives the bytes sent.
        # Constant-time comparison: the time taken tells nothing about the key.
        if provided is None or not hmac.compare_digest(provided.encode("latin-1"), expected):
            raise HTTPException(401, f"missing or wrong API key (header {API_KEY_HEADER})")

    return require_key


Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]


class SecurityHeaders:
    """Adds ``nosniff`` and ``no-referrer`` to every response, ``Cache-Control: no-store`` to
    the API's (results are personal data) and a strict CSP to the page.

    As the outermost layer it also turns an exception that escaped everything else into a JSON
    500 (Starlette's own answer would be plain text without these headers), and with
    ``local_hosts_only`` refuses (400) a request whose ``Host`` is not a local name.

    With ``spread_checks`` (several server processes) an answer to ``/v1/check`` also closes
    its connection: a kept-alive connection stays with the process that accepted it, so four
    clients could load one process while the other idles (measured: 1.2 of 2 cores busy, p95
    68 ms); reconnecting lets the kernel hand each check to a free process (1.9 cores, p95
    47 ms). A new loopback or LAN connection costs far less than the check."""

    def __init__(self, app: Callable[..., Awaitable[None]], spread_checks: bool = False,
                 local_hosts_only: bool = False) -> None:
        self.app = app
        self.spread_checks = spread_checks
        self.local_hosts_only = local_hosts_only

    async def __call__(self, scope: Scope, receive: Callable, send: Callable) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path: str = scope["path"]
        extra = list(_COMMON_HEADERS)
        if path.startswith("/v1/"):
            extra.append((b"cache-control", b"no-store"))
        if path == "/v1/check" and self.spread_checks:
            extra.append((b"connection", b"close"))
        elif path == "/" or path.startswith("/static/"):
            extra.append((b"content-security-policy", _PAGE_CSP))

        started = False

        async def send_with_headers(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
                message["headers"] = list(message.get("headers", [])) + extra
            await send(message)

        host = _host(scope)  # none at all is no browser's (HTTP/1.0, a raw ASGI call)
        if self.local_hosts_only and host and not is_local_host_header(host):
            await _send_problem(send_with_headers, 400,
                                "this server answers requests for localhost only")
            return
        try:
            await self.app(scope, receive, send_with_headers)
        except Exception:
            log.exception("unhandled error on %s %s", scope.get("method"), path)
            if not started:
                await _send_problem(send_with_headers, 500, "internal error")


def _host(scope: Scope) -> str:
    for name, value in scope.get("headers", []):
        if name == b"host":
            return value.decode("latin-1")
    return ""


async def _send_problem(send: Callable, status: int, detail: str) -> None:
    body = Problem(detail=detail).model_dump_json().encode("utf-8")
    await send({"type": "http.response.start", "status": status,
                "headers": [(b"content-type", b"application/json"),
                            (b"content-length", str(len(body)).encode("ascii")),
                            (b"connection", b"close")]})
    await send({"type": "http.response.body", "body": body})


# --------------------------------------------------------------------------------------------
# Serving


def serve(settings: ServiceSettings, lang: str = i18n.DEFAULT_LANGUAGE) -> None:
    """Run the service under uvicorn until Ctrl-C. ValueError for unsafe or bad settings.
    ``lang``: the language of the lines printed for the operator."""
    import uvicorn

    settings.check_exposure()
    app = create_app(settings)
    if not settings.loopback and settings.api_key is None:
        print(i18n.text("serve.unauthenticated", lang).format(host=settings.host),
              file=sys.stderr)
    where = f"http://{settings.host}:{settings.port}"
    on, off = i18n.text("serve.on", lang), i18n.text("serve.off", lang)
    print(i18n.text("serve.started", lang).format(
        version=__version__, where=where, workers=settings.workers, checkers=settings.checkers,
        api_key=on if settings.api_key else off, audit_log=settings.audit_log or off),
        file=sys.stderr)
    options = dict(host=settings.host, port=settings.port, log_level="info",
                   http=f"{__package__}.protocol:HeaderDeadlineProtocol",
                   access_log=settings.access_log, limit_concurrency=settings.max_connections,
                   server_header=False, timeout_graceful_shutdown=10)
    if settings.workers == 1:
        uvicorn.Server(uvicorn.Config(app, **options)).run()
        return
    # Several processes: uvicorn spawns each (never forks, so no model state is shared) and
    # each builds the app from the settings in its environment; models load in its lifespan.
    # The key is not in that environment: the workers read it from a file only this user can
    # read (the --api-key-file, or one written for this run and removed after it).
    os.environ.pop(API_KEY_ENV, None)  # inherited by every worker otherwise
    with _key_file_for_workers(settings) as handed_over:
        os.environ[SETTINGS_ENV] = handed_over.to_environment()
        uvicorn.run(f"{__name__}:app_from_environment", factory=True,
                    workers=settings.workers, **options)


@contextmanager
def _key_file_for_workers(settings: ServiceSettings) -> Iterator[ServiceSettings]:
    """``settings`` with an ``api_key_file`` that holds its key, for the worker processes."""
    if settings.api_key is None or settings.api_key_file is not None:
        yield settings
        return
    with tempfile.TemporaryDirectory(prefix="photocheck-") as folder:  # mode 0700
        path = Path(folder) / "api-key"
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
            handle.write(settings.api_key)
        yield replace(settings, api_key_file=path)


def app_from_environment() -> FastAPI:
    """The app of one uvicorn worker process, from the settings :func:`serve` handed over."""
    return create_app(ServiceSettings.from_environment())
