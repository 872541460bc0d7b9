"""Tests for photocheck.service (the HTTP API and the page's files) with FastAPI's test client.

Photos come from ``samples/`` (expected decisions in ``samples/expected.csv``) or are made
here. The browser test of the page is ``test_service_e2e.py``; the property tests against the
OpenAPI schema are ``test_service_schema.py``.
"""

from __future__ import annotations

import base64
import hashlib
import io
import json
import logging
import re
import stat
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from pathlib import Path

import anyio
import numpy as np
import pytest
from PIL import Image
from typer.testing import CliRunner

pytest.importorskip("fastapi")
pytest.importorskip("httpx")  # the test client
from fastapi.testclient import TestClient  # noqa: E402

from photocheck import i18n  # noqa: E402
from photocheck.cli import app as cli_app  # noqa: E402
from photocheck.policy import Policy  # noqa: E402
from photocheck.schema import Result  # noqa: E402
from photocheck.service import ServiceSettings, create_app, is_loopback  # noqa: E402
from photocheck.service import pool as pool_module  # noqa: E402
from photocheck.service.app import STATIC_DIR  # noqa: E402
from photocheck.service.settings import SETTINGS_ENV  # noqa: E402

SAMPLES = Path(__file__).resolve().parents[1] / "samples"
BLURRY = SAMPLES / "grace_hopper_blur_gaussian_w220.jpg"  # expected: eligible (blurry)
CLEAR = SAMPLES / "grace_hopper_clear.jpg"  # expected: not_eligible (clear_photo)
TRUNCATED = SAMPLES / "bad" / "broken.jpg"  # expected: error (truncated)

#: Small limits for the test app, so that "too big" inputs stay cheap to build.
MAX_UPLOAD = 1024 * 1024
MAX_PIXELS = 4_000_000
KEY = "counter-key-123"
#: A keyless server on loopback answers only requests for a local host name (DNS rebinding).
LOCAL = "http://localhost"


def png_bytes(size: tuple[int, int], colour=(200, 180, 160)) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", size, colour).save(buffer, "PNG")
    return buffer.getvalue()


@pytest.fixture(scope="module")
def client():
    """Two checkers (so requests really run in parallel) and small upload/pixel limits."""
    app = create_app(ServiceSettings(checkers=2, max_upload_bytes=MAX_UPLOAD,
                                     max_pixels=MAX_PIXELS))
    with TestClient(app, base_url=LOCAL) as test_client:
        yield test_client


@pytest.fixture(scope="module")
def keyed_client():
    with TestClient(create_app(ServiceSettings(checkers=1, api_key=KEY)), base_url=LOCAL) as test_client:
        yield test_client


def post(client: TestClient, data: bytes, *, name: str = "photo.jpg",
         content_type: str = "image/jpeg", headers: dict | None = None, **fields: str):
    """POST /v1/check, with the annotated picture unless ``annotate`` says otherwise (the
    picture is opt-in: see test_the_picture_is_opt_in)."""
    fields = {"annotate": "true", **fields}
    return client.post("/v1/check", files={"image": (name, data, content_type)},
                       data=fields, headers=headers or {})


# --------------------------------------------------------------------------------------------
# Judged photos


def test_blurry_photo_is_eligible_with_words_and_picture(client):
    response = post(client, BLURRY.read_bytes())
    assert response.status_code == 200, response.text
    body = response.json()
    result = Result.from_dict(body["result"])  # the library's own schema accepts it
    assert result.decision.value == "eligible"
    assert [r.value for r in result.reasons] == ["blurry"]
    assert result.path is None  # an upload has no path; the file name is not echoed

    explanation = body["explanation"]
    assert explanation["lang"] == "id"
    assert explanation["verdict"] == "Memenuhi syarat penggantian foto"
    assert explanation["request"] == "kualitas foto"
    [reason] = explanation["reasons"]
    assert reason["code"] == "blurry" and reason["text"] == i18n.reason_text("blurry", "id")
    assert any("px >" in line for line in reason["evidence"])  # value against threshold
    names = [m["name"] for m in explanation["measures"]]
    assert names[0] == "edge_blur_px" and "detection_confidence" in names
    edge = explanation["measures"][0]
    assert edge["value"] == pytest.approx(result.measures["edge_blur_px"])
    assert edge["display"].endswith(" px")

    picture = body["annotation"]
    assert picture["media_type"] == "image/png"
    png = base64.b64decode(picture["data"])
    assert png.startswith(b"\x89PNG\r\n\x1a\n")
    decoded = Image.open(io.BytesIO(png))
    assert decoded.size == (picture["width"], picture["height"])
    assert decoded.width >= 480  # annotate's minimum width: the header text stays legible


def test_result_is_exactly_what_the_cli_prints(client):
    """Same photo, same policy: the service's result equals `photocheck check --json`'s."""
    cli = CliRunner().invoke(cli_app, ["check", "--json", str(BLURRY)])
    assert cli.exit_code == 0, cli.output
    printed = json.loads(cli.stdout.splitlines()[0])
    served = post(client, BLURRY.read_bytes()).json()["result"]
    assert printed.pop("path") == str(BLURRY) and served.pop("path") is None
    assert served == printed


def test_clear_photo_in_english(client):
    body = post(client, CLEAR.read_bytes(), lang="en").json()
    assert body["result"]["decision"] == "not_eligible"
    assert body["result"]["reasons"] == ["clear_photo"]
    assert body["explanation"]["lang"] == "en"
    assert body["explanation"]["verdict"] == "Not eligible"
    assert "appearance" in body["explanation"]["reasons"][0]["text"]


def test_hijab_request_is_eligible_by_policy(client):
    body = post(client, CLEAR.read_bytes(), reason="hijab").json()
    assert body["result"]["decision"] == "eligible"
    assert body["result"]["reasons"] == ["policy_hijab"]
    assert body["result"]["request_reason"] == "hijab"
    assert body["explanation"]["request"] == "berhijab"


def test_the_page_asks_for_a_jpeg_picture(client):
    """annotation_format=jpeg: the same picture (same size), encoded as JPEG."""
    png = post(client, BLURRY.read_bytes()).json()["annotation"]
    jpeg = post(client, BLURRY.read_bytes(), annotation_format="jpeg").json()["annotation"]
    assert jpeg["media_type"] == "image/jpeg"
    data = base64.b64decode(jpeg["data"])
    assert data.startswith(b"\xff\xd8\xff")
    assert (jpeg["width"], jpeg["height"]) == (png["width"], png["height"]) \
        == Image.open(io.BytesIO(data)).size
    lossless = np.asarray(Image.open(io.BytesIO(base64.b64decode(png["data"]))), np.float32)
    lossy = np.asarray(Image.open(io.BytesIO(data)), np.float32)
    assert np.abs(lossless - lossy).mean() < 4  # the same picture, not merely the same size
    assert len(data) < len(base64.b64decode(png["data"]))


def test_the_page_asks_for_the_picture_without_its_text_band(client, checker):
    """annotation_header=false: the photo and its marks at the size it was judged at, no text
    band and no enlargement (the page shows verdict, reasons and measures itself)."""
    photo = BLURRY.read_bytes()
    full = post(client, photo).json()["annotation"]
    bare = post(client, photo, annotation_header="false").json()["annotation"]
    working = checker.inspect(photo).image.rgb.shape
    assert (bare["height"], bare["width"]) == working[:2]
    assert bare["width"] <= full["width"] and bare["height"] < full["height"]
    assert Image.open(io.BytesIO(base64.b64decode(bare["data"]))).size == (bare["width"],
                                                                          bare["height"])


def test_review_says_which_limit_is_close_and_what_to_look_at(client):
    body = post(client, (SAMPLES / "grace_hopper_blur_motion.jpg").read_bytes(),
                annotate="false").json()
    assert body["result"]["decision"] == "review"
    [reason] = body["explanation"]["reasons"]
    assert reason["code"] == "blurry"
    assert reason["text"] == i18n.text("review.blurry", "id") != i18n.reason_text("blurry", "id")
    assert "bibir" in reason["text"] and "batas" in reason["text"]
    assert reason["evidence"] and "," in reason["evidence"][0]  # 2,44 px: Indonesian decimals


def test_no_face_stays_eligible_and_asks_to_confirm_the_portrait(client):
    flat = io.BytesIO()
    Image.new("RGB", (300, 400), (200, 40, 40)).save(flat, format="PNG")
    body = post(client, flat.getvalue(), annotate="false").json()
    assert body["result"]["decision"] == "eligible"  # the schema is unchanged
    assert body["result"]["reasons"] == ["no_face"]
    assert "Pastikan" in body["explanation"]["reasons"][0]["text"]


def test_the_picture_is_opt_in(client):
    """Only an image: the verdict without the picture (the fast default); annotate=true asks
    for it, with the names of the marks drawn (their legend lines are in /v1/messages)."""
    plain = client.post("/v1/check", files={"image": ("p.jpg", BLURRY.read_bytes())})
    assert plain.status_code == 200 and plain.json()["annotation"] is None
    assert plain.json()["result"]["decision"] == "eligible"
    picture = post(client, BLURRY.read_bytes(), annotate="true").json()["annotation"]
    assert picture["marks"][:2] == ["face_box", "landmarks"]
    messages = client.get("/v1/messages").json()["messages"]
    assert all(f"legend.{mark}" in messages for mark in picture["marks"])


def test_annotate_false_leaves_the_picture_out(client):
    body = post(client, BLURRY.read_bytes(), annotate="false").json()
    assert body["result"]["decision"] == "eligible"
    assert body["annotation"] is None


def test_content_is_sniffed_not_taken_from_name_or_type(client):
    """A PNG called notes.txt is judged; text called photo.jpg is refused as not an image."""
    png = png_bytes((300, 400))
    judged = post(client, png, name="notes.txt", content_type="text/plain")
    assert judged.status_code == 200
    assert judged.json()["result"]["image"]["format"] == "PNG"
    refused = post(client, b"this is not a photo\n" * 20)
    assert refused.status_code == 422
    assert refused.json()["result"]["error"]["code"] == "not_an_image"


# --------------------------------------------------------------------------------------------
# Bad input: a clear status and a Result body, never a 500


@pytest.mark.parametrize("label, data, status, code", [
    ("empty", b"", 422, "empty"),
    ("truncated", TRUNCATED.read_bytes(), 422, "truncated"),
    ("corrupt", b"\xff\xd8\xff\xe0" + bytes(range(256)) * 4, 422, "corrupt"),
    ("too small", png_bytes((10, 10)), 422, "too_small"),
    ("too many pixels", png_bytes((2500, 2000)), 413, "too_large"),
])
def test_unjudgeable_photo(client, label, data, status, code):
    response = post(client, data, lang="en")
    assert response.status_code == status, (label, response.text)
    body = response.json()
    assert body["result"]["decision"] == "error"
    assert body["result"]["error"]["code"] == code
    assert body["explanation"]["error"] == i18n.error_text(code, "en")
    assert body["explanation"]["verdict"] == i18n.decision_label("error", "en")
    assert body["annotation"] is None
    Result.from_dict(body["result"])


def test_pixel_limit_is_the_services_not_only_the_policys(client):
    """2500 x 2000 = 5 MP is far below the policy's limit, above the service's 4 MP."""
    assert Policy.load().processing.max_pixels > 5_000_000
    message = post(client, png_bytes((2500, 2000))).json()["result"]["error"]["message"]
    assert str(MAX_PIXELS) in message


def test_declared_oversized_upload_is_refused_with_413(client):
    response = post(client, b"\xff\xd8\xff" + bytes(MAX_UPLOAD + 1))
    assert response.status_code == 413
    error = response.json()["result"]["error"]
    assert error["code"] == "too_large" and str(MAX_UPLOAD) in error["message"]


def test_upload_limit_holds_while_streaming(client):
    """Without Content-Length (a chunked upload), the service stops reading at the limit."""
    app = client.app
    chunk = b"x" * 65536
    offered = 4 * MAX_UPLOAD // len(chunk)
    consumed = 0
    messages: list[dict] = []
    boundary = "b0undary"

    async def receive() -> dict:
        nonlocal consumed
        consumed += 1
        if consumed == 1:
            head = (f"--{boundary}\r\nContent-Disposition: form-data; name=\"image\"; "
                    f"filename=\"a.jpg\"\r\n\r\n").encode()
            return {"type": "http.request", "body": head, "more_body": True}
        return {"type": "http.request", "body": chunk, "more_body": consumed < offered}

    async def send(message: dict) -> None:
        messages.append(message)

    scope = {"type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1",
             "method": "POST", "scheme": "http", "path": "/v1/check", "raw_path": b"/v1/check",
             "root_path": "", "query_string": b"", "client": ("127.0.0.1", 5000),
             "server": ("127.0.0.1", 8000), "state": {},
             "headers": [(b"content-type", f"multipart/form-data; boundary={boundary}".encode())],
             "app": app}
    anyio.run(app, scope, receive, send)

    start = next(m for m in messages if m["type"] == "http.response.start")
    assert start["status"] == 413
    body = json.loads(b"".join(m.get("body", b"") for m in messages
                               if m["type"] == "http.response.body"))
    assert body["result"]["error"]["code"] == "too_large"
    assert consumed <= MAX_UPLOAD // len(chunk) + 2 < offered


@pytest.mark.parametrize("fields, message", [
    ({"reason": "aesthetic"}, "unknown request reason"),
    ({"lang": "fr"}, "unknown language"),
    ({"annotate": "perhaps"}, "annotate must be"),
    ({"annotation_format": "gif"}, "annotation_format must be"),
    ({"annotation_header": "maybe"}, "annotation_header must be"),
])
def test_bad_form_field_is_422(client, fields, message):
    response = post(client, BLURRY.read_bytes(), **fields)
    assert response.status_code == 422
    error = response.json()["result"]["error"]
    assert error["code"] == "invalid_argument" and message in error["message"]


def test_refusals_and_judgements_name_the_same_policy(client):
    judged = post(client, BLURRY.read_bytes()).json()["result"]
    refused = post(client, BLURRY.read_bytes(), reason="aesthetic").json()["result"]
    assert refused["policy"] == judged["policy"] and refused["version"] == judged["version"]


def test_missing_image_is_422(client):
    response = client.post("/v1/check", data={"reason": "quality"},
                           files={"other": ("x.jpg", b"abc", "image/jpeg")})
    assert response.status_code == 422
    assert "image" in response.json()["result"]["error"]["message"]


def test_body_that_is_not_a_form_is_415(client):
    response = client.post("/v1/check", content=BLURRY.read_bytes(),
                           headers={"content-type": "image/jpeg"})
    assert response.status_code == 415
    assert response.json()["result"]["decision"] == "error"


def test_malformed_form_is_422(client):
    response = client.post("/v1/check", content=b"--x\r\nnot a header line\r\n\r\n",
                           headers={"content-type": "multipart/form-data; boundary=x"})
    assert response.status_code == 422
    assert response.json()["result"]["error"]["code"] == "invalid_argument"


# --------------------------------------------------------------------------------------------
# Other endpoints, page, headers


def test_health(client):
    body = client.get("/v1/health").json()
    policy = Policy.load()
    assert body["status"] == "ok" and body["checkers"] == 2
    assert body["policy"] == {"name": policy.name, "version": policy.version,
                              "kind": "replacement"}
    assert body["api_key_required"] is False
    assert body["limits"] == {"max_upload_bytes": MAX_UPLOAD, "max_pixels": MAX_PIXELS}


def test_policy_lists_the_rules_in_force(client):
    body = client.get("/v1/policy").json()
    policy = Policy.load()
    assert (body["name"], body["version"], body["kind"]) == (policy.name, policy.version,
                                                             "replacement")
    assert [(r["reason"], r["measure"]) for r in body["rules"]] == [
        (rule.reason.value, rule.measure) for rule in policy.rules]
    blur = next(r for r in body["rules"] if r["measure"] == "edge_blur_px")
    assert blur["unit"] == "px" and blur["eligible_above"] is not None
    assert blur["card_measure"] == "card_portrait_blur_px"  # what it reads on a whole card


@pytest.mark.parametrize("lang", i18n.LANGUAGES)
def test_messages_are_i18n_and_cover_the_page(client, lang):
    body = client.get("/v1/messages", params={"lang": lang}).json()
    assert body["messages"] == i18n.MESSAGES[lang]
    page_keys = set(re.findall(r'data-i18n="([^"]+)"', (STATIC_DIR / "index.html").read_text()))
    script_keys = set(re.findall(r't\("([a-z_]+\.[a-z_.]+)"\)',
                                 (STATIC_DIR / "app.js").read_text()))
    assert len(page_keys) > 20 and len(script_keys) > 5
    missing = sorted((page_keys | script_keys) - set(body["messages"]))
    assert not missing, f"{lang}: the page uses texts that i18n.py lacks: {missing}"
    unused = sorted(key for key in body["messages"]
                    if key.startswith("page.") and key not in page_keys | script_keys)
    assert not unused, f"page texts in i18n.py that the page never shows: {unused}"


def test_unknown_language_for_messages_is_422(client):
    assert client.get("/v1/messages", params={"lang": "fr"}).status_code == 422


def test_page_and_its_files_are_served_and_self_contained(client):
    page = client.get("/")
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    csp = page.headers["content-security-policy"]
    assert "default-src 'self'" in csp and "script-src 'self'" in csp
    assert '<html lang="id">' in page.text
    for name, kind in (("app.js", "javascript"), ("app.css", "text/css")):
        response = client.get(f"/static/{name}")
        assert response.status_code == 200 and kind in response.headers["content-type"]
    for path in (p for p in STATIC_DIR.iterdir() if p.is_file()):  # the page's own files
        # Offline: nothing may come from another origin (no CDN, no web font).
        assert not re.search(r"(https?:)?//[a-z0-9.-]+\.[a-z]{2,}", path.read_text()), path


def test_api_answers_are_not_cached_or_sniffed(client):
    response = post(client, png_bytes((300, 400)))
    assert response.headers["cache-control"] == "no-store"
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["referrer-policy"] == "no-referrer"


def test_openapi_documents_the_check(client):
    schema = client.get("/openapi.json").json()
    check = schema["paths"]["/v1/check"]["post"]
    form = check["requestBody"]["content"]["multipart/form-data"]["schema"]
    assert form["required"] == ["image"]
    assert set(form["properties"]) == {"image", "reason", "lang", "annotate",
                                       "annotation_format", "annotation_header", "mode",
                                       "birth_year", "card"}
    for status in ("200", "413", "415", "422"):
        ref = check["responses"][status]["content"]["application/json"]["schema"]["$ref"]
        assert ref.endswith("/CheckResponse")
    assert "Result" in schema["components"]["schemas"]


def test_docs_open_offline(client):
    page = client.get("/docs")
    assert page.status_code == 200
    assert "/openapi.json" in page.text
    # every script and style comes from this server, none from a CDN
    assert re.findall(r'(?:src|href)="(https?://[^"]+)"', page.text) == []
    for asset in re.findall(r'(?:src|href)="(/static/swagger/[^"]+)"', page.text):
        assert client.get(asset).status_code == 200, asset
    assert len(re.findall(r'"/static/swagger/', page.text)) >= 2


def test_a_capture_policy_is_served_with_its_own_measures():
    """`photocheck serve --policy capture`: results, words and measures of that kind."""
    with TestClient(create_app(ServiceSettings(checkers=1, policy="capture")), base_url=LOCAL) as capture:
        assert capture.get("/v1/health").json()["policy"]["kind"] == "capture"
        body = post(capture, (SAMPLES / "capture" / "grace_hopper_blue.jpg").read_bytes()).json()
    assert body["result"]["policy"]["kind"] == "capture"
    assert body["result"]["decision"] in ("accepted", "rejected", "review")
    assert body["explanation"]["verdict"] == i18n.decision_label(body["result"]["decision"])
    assert "head_yaw_deg" in [m["name"] for m in body["explanation"]["measures"]]


# --------------------------------------------------------------------------------------------
# API key


def test_api_key_guards_check_and_policy(keyed_client):
    photo = BLURRY.read_bytes()
    assert post(keyed_client, photo).status_code == 401
    assert post(keyed_client, photo, headers={"X-API-Key": "wrong"}).status_code == 401
    assert post(keyed_client, photo, headers={"X-API-Key": KEY + "x"}).status_code == 401
    assert keyed_client.get("/v1/policy").status_code == 401
    granted = post(keyed_client, photo, headers={"X-API-Key": KEY})
    assert granted.status_code == 200 and granted.json()["result"]["decision"] == "eligible"
    assert keyed_client.get("/v1/policy", headers={"X-API-Key": KEY}).status_code == 200


def test_page_health_and_texts_need_no_key(keyed_client):
    assert keyed_client.get("/").status_code == 200
    assert keyed_client.get("/static/app.js").status_code == 200
    assert keyed_client.get("/v1/messages").status_code == 200
    health = keyed_client.get("/v1/health").json()
    assert health["api_key_required"] is True  # the page asks for the key up front


def test_openapi_declares_the_key_header(keyed_client):
    schema = keyed_client.get("/openapi.json").json()
    [scheme] = schema["components"]["securitySchemes"].values()
    assert scheme == {"type": "apiKey", "in": "header", "name": "X-API-Key",
                      "description": scheme["description"]}
    assert schema["paths"]["/v1/check"]["post"]["security"]
    assert "security" not in schema["paths"]["/v1/health"]["get"]


# --------------------------------------------------------------------------------------------
# Concurrency, privacy, settings


def test_concurrent_checks_give_the_same_results_as_one_by_one(client):
    photos = [BLURRY.read_bytes(), CLEAR.read_bytes()]
    alone = [post(client, photo, annotate="false").json()["result"] for photo in photos]
    with ThreadPoolExecutor(max_workers=6) as executor:
        together = list(executor.map(
            lambda i: post(client, photos[i % 2], annotate="false").json()["result"],
            range(12)))
    for i, result in enumerate(together):
        assert result == alone[i % 2], i


def test_pool_lends_each_checker_to_one_job_at_a_time(monkeypatch):
    class FakeChecker:
        def __init__(self, policy) -> None:
            self.closed = False

        def close(self) -> None:
            self.closed = True

    monkeypatch.setattr(pool_module, "Checker", FakeChecker)
    pool = pool_module.CheckerPool(2, Policy.load())
    busy: set[int] = set()
    lock = threading.Lock()
    most = 0

    def job(checker) -> int:
        nonlocal most
        with lock:
            assert id(checker) not in busy, "a checker was lent twice at once"
            busy.add(id(checker))
            most = max(most, len(busy))
        time.sleep(0.01)
        with lock:
            busy.remove(id(checker))
        return id(checker)

    async def many() -> list[int]:
        results: list[int] = []

        async def one() -> None:
            results.append(await pool.run(job))

        async with anyio.create_task_group() as group:
            for _ in range(10):
                group.start_soon(one)
        return results

    lent = anyio.run(many)
    assert len(lent) == 10 and len(set(lent)) == 2 and most == 2
    pool.close()


def test_audit_log_is_opt_in_and_holds_no_image(tmp_path):
    log_path = tmp_path / "audit.jsonl"
    photo = BLURRY.read_bytes()
    with TestClient(create_app(ServiceSettings(checkers=1, audit_log=log_path)), base_url=LOCAL) as audited:
        assert post(audited, photo).status_code == 200
        assert post(audited, b"not an image at all").status_code == 422
        assert post(audited, photo, reason="nonsense").status_code == 422
    lines = [json.loads(line) for line in log_path.read_text().splitlines()]
    assert [line["status"] for line in lines] == [200, 422, 422]
    assert lines[0]["sha256"] == hashlib.sha256(photo).hexdigest()
    assert lines[0]["result"]["decision"] == "eligible"
    assert lines[2]["sha256"] is None  # refused before the photo was looked at
    assert set(lines[0]) == {"time", "status", "sha256", "result"}  # no picture, no name
    assert log_path.stat().st_size < 3 * 4096
    assert stat.S_IMODE(log_path.stat().st_mode) == 0o600


def test_checks_log_no_result(client, caplog):
    caplog.set_level(logging.DEBUG)
    post(client, BLURRY.read_bytes())
    post(client, b"garbage")
    text = "\n".join(record.getMessage() for record in caplog.records)
    for leak in ("blurry", "eligible", "edge_blur", "not_an_image", "iVBOR"):
        assert leak not in text


@pytest.mark.parametrize("host, loopback", [
    ("127.0.0.1", True), ("127.0.0.2", True), ("localhost", True), ("::1", True),
    ("[::1]", True), ("0.0.0.0", False), ("::", False), ("192.168.1.20", False),
    ("counter.local", False),
])
def test_loopback_hosts(host, loopback):
    assert is_loopback(host) is loopback


def test_network_exposure_needs_a_key_or_an_explicit_opt_out():
    with pytest.raises(ValueError, match="API key"):
        ServiceSettings(host="0.0.0.0").check_exposure()
    with pytest.raises(ValueError, match="API key"):
        ServiceSettings(host="0.0.0.0", api_key="  ").check_exposure()  # blank is no key
    ServiceSettings(host="0.0.0.0", api_key=KEY).check_exposure()
    ServiceSettings(host="0.0.0.0", allow_unauthenticated=True).check_exposure()
    ServiceSettings().check_exposure()  # loopback by default


@pytest.mark.parametrize("bad", [{"checkers": 0}, {"max_upload_bytes": -1},
                                 {"max_pixels": 1.5}, {"port": 70000}])
def test_settings_refuse_nonsense(bad):
    with pytest.raises(ValueError):
        ServiceSettings(**bad)


def test_api_key_is_not_in_the_settings_repr():
    assert KEY not in repr(ServiceSettings(api_key=KEY))


def test_cli_serve_refuses_the_network_without_a_key(monkeypatch):
    monkeypatch.delenv("PHOTOCHECK_API_KEY", raising=False)
    result = CliRunner().invoke(cli_app, ["serve", "--host", "0.0.0.0"])
    assert result.exit_code == 2
    assert "--api-key" in result.output


def test_cli_serve_passes_its_options_on(monkeypatch, tmp_path):
    started: list[ServiceSettings] = []
    monkeypatch.setattr("photocheck.service.app.serve",
                        lambda settings, lang="id": started.append(settings))
    monkeypatch.setenv("PHOTOCHECK_API_KEY", KEY)
    result = CliRunner().invoke(cli_app, [
        "serve", "--host", "0.0.0.0", "--port", "9123", "--workers", "4", "--checkers", "3",
        "--max-upload-mb", "2", "--max-pixels", "1000000",
        "--audit-log", str(tmp_path / "a.jsonl"), "--no-access-log"])
    assert result.exit_code == 0, result.output
    [settings] = started
    assert (settings.host, settings.port, settings.workers, settings.checkers) == (
        "0.0.0.0", 9123, 4, 3)
    assert settings.api_key == KEY  # from the environment
    # uvicorn's worker processes rebuild the same settings from their environment, all but
    # the key, which never goes into an environment (they read it from a file: see below)
    monkeypatch.setenv(SETTINGS_ENV, settings.to_environment())
    assert KEY not in settings.to_environment()
    assert ServiceSettings.from_environment() == replace(settings, api_key=None)
    assert settings.max_upload_bytes == 2 * 2**20 and settings.max_pixels == 1_000_000
    assert settings.audit_log == tmp_path / "a.jsonl" and settings.access_log is False


def test_new_photo_mode_uses_the_capture_profile_and_the_birth_year(client):
    photo = (SAMPLES / "capture" / "grace_hopper_blue.jpg").read_bytes()
    even = client.post("/v1/check", files={"image": ("f.jpg", photo)},
                       data={"mode": "new", "birth_year": "1990", "annotate": "false"})
    odd = client.post("/v1/check", files={"image": ("f.jpg", photo)},
                      data={"mode": "new", "birth_year": "1991", "annotate": "false"})
    old = client.post("/v1/check", files={"image": ("f.jpg", photo)},
                      data={"annotate": "false"})
    assert even.status_code == odd.status_code == old.status_code == 200
    assert even.json()["result"]["decision"] == "accepted"
    assert even.json()["result"]["policy"]["kind"] == "capture"
    assert odd.json()["result"]["reasons"] == ["background_colour_mismatch"]
    assert old.json()["result"]["policy"]["kind"] == "replacement"


@pytest.mark.parametrize("field, value", [("mode", "both"), ("birth_year", "19x0"),
                                          ("birth_year", "1850"), ("card", "maybe")])
def test_bad_mode_year_or_card_fields_are_422(client, field, value):
    response = client.post("/v1/check", files={"image": ("f.jpg", png_bytes((300, 400)))},
                           data={field: value})
    assert response.status_code == 422
    assert response.json()["result"]["error"]["code"] == "invalid_argument"
    assert field in response.json()["result"]["error"]["message"]


def test_a_photo_of_a_whole_card_is_judged_on_its_portrait(client):
    from photocheck.evaluation.synth import cards as cardsynth

    buffer = io.BytesIO()
    Image.fromarray(cardsynth.blurry_print_photo(0).rgb).save(buffer, "JPEG", quality=92)
    response = post(client, buffer.getvalue(), name="kartu.jpg", lang="en")
    body = response.json()
    assert response.status_code == 200 and body["result"]["card"] is not None
    assert body["result"]["decision"] == "eligible"
    assert body["annotation"] is not None
    assert body["annotation"]["marks"][-2:] == ["card", "portrait_area"]


def test_checks_close_their_connection_only_with_several_processes():
    """Several processes: each check reconnects so that the kernel spreads the checks over the
    processes (a kept-alive connection stays with one)."""
    photo = png_bytes((300, 400))
    for workers, closes in ((2, True), (1, False)):
        settings = ServiceSettings(workers=workers, checkers=1, new_photo_policy=None)
        with TestClient(create_app(settings), base_url=LOCAL) as test_client:
            check = test_client.post("/v1/check", files={"image": ("p.png", photo)})
            health = test_client.get("/v1/health")
        assert (check.headers.get("connection") == "close") is closes
        assert health.headers.get("connection") != "close"


# --------------------------------------------------------------------------------------------
# Hardening (issue 11)


@pytest.mark.parametrize(("field", "value"), [("birth_year", "²"), ("birth_year", "١٩٩٠"),
                                              ("reason", "kualitás"), ("lang", "ïd")])
def test_form_values_that_are_not_ascii_are_422_json(client, field, value):
    response = post(client, CLEAR.read_bytes(), **{field: value})
    assert response.status_code == 422, response.text
    assert response.headers["content-type"] == "application/json"
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.json()["result"]["error"]["code"] == "invalid_argument"


def test_an_escaped_exception_is_a_json_500_with_the_security_headers(monkeypatch):
    def broken(*args, **kwargs):
        raise RuntimeError("a bug")

    monkeypatch.setattr("photocheck.service.app._check_request", broken)
    settings = ServiceSettings(checkers=1, new_photo_policy=None)
    with TestClient(create_app(settings), base_url=LOCAL) as test_client:
        response = post(test_client, CLEAR.read_bytes())
        after = test_client.get("/v1/health")
    assert response.status_code == 500
    assert response.json() == {"detail": "internal error"}
    assert response.headers["x-content-type-options"] == "nosniff"
    assert after.status_code == 200


@pytest.mark.parametrize(("host", "status"), [
    ("localhost:8000", 200), ("127.0.0.1:8000", 200), ("[::1]:8000", 200), ("localhost", 200),
    ("evil.example", 400), ("evil.example:8000", 400), ("192.168.1.5:8000", 400)])
def test_a_keyless_loopback_server_answers_local_host_names_only(client, host, status):
    response = client.get("/v1/health", headers={"host": host})
    assert response.status_code == status
    if status == 400:
        assert response.headers["content-type"] == "application/json"
        assert "localhost" in response.json()["detail"]


def test_a_server_with_a_key_answers_any_host_name(keyed_client):
    assert keyed_client.get("/v1/health", headers={"host": "counter.example"}).status_code == 200


def test_docs_have_a_csp_that_allows_only_their_own_inline_script(client):
    response = client.get("/docs")
    csp = response.headers["content-security-policy"]
    assert "frame-ancestors 'none'" in csp and "object-src 'none'" in csp
    [script] = re.findall(r"<script>(.*?)</script>", response.text, flags=re.DOTALL)
    digest = base64.b64encode(hashlib.sha256(script.encode()).digest()).decode()
    assert f"'sha256-{digest}'" in csp
    assert "'unsafe-inline'" not in csp.split("script-src", 1)[1].split(";", 1)[0]


def test_api_key_from_a_file_and_never_in_the_workers_environment(tmp_path, monkeypatch):
    key_file = tmp_path / "key"
    key_file.write_text(KEY + "\n")
    settings = ServiceSettings(host="0.0.0.0", api_key_file=key_file)
    assert settings.api_key == KEY
    settings.check_exposure()  # a key: the network is allowed
    monkeypatch.setenv(SETTINGS_ENV, settings.to_environment())
    assert KEY not in settings.to_environment()
    assert ServiceSettings.from_environment().api_key == KEY  # read from the file
    with pytest.raises(ValueError, match="API key file"):
        ServiceSettings(api_key_file=tmp_path / "missing")


def test_workers_get_the_key_from_a_private_file_removed_afterwards(monkeypatch):
    from photocheck.service import app as app_module

    seen: dict = {}

    def fake_run(*args, **kwargs):
        handed = ServiceSettings.from_environment()
        seen["key"], seen["file"] = handed.api_key, handed.api_key_file
        seen["mode"] = stat.S_IMODE(handed.api_key_file.stat().st_mode)
        seen["env"] = app_module.os.environ.get("PHOTOCHECK_API_KEY")

    monkeypatch.setattr("uvicorn.run", fake_run)
    monkeypatch.setenv("PHOTOCHECK_API_KEY", KEY)
    monkeypatch.delenv(SETTINGS_ENV, raising=False)
    app_module.serve(ServiceSettings(workers=2, api_key=KEY))
    assert seen["key"] == KEY and seen["mode"] == 0o600 and seen["env"] is None
    assert not seen["file"].exists()


def test_cli_api_key_on_the_command_line_warns_and_the_file_works(monkeypatch, tmp_path):
    started: list[ServiceSettings] = []
    monkeypatch.setattr("photocheck.service.app.serve",
                        lambda settings, lang="id": started.append(settings))
    monkeypatch.delenv("PHOTOCHECK_API_KEY", raising=False)
    shown = CliRunner().invoke(cli_app, ["serve", "--api-key", KEY])
    assert shown.exit_code == 0 and "ps" in shown.output
    key_file = tmp_path / "key"
    key_file.write_text(KEY)
    quiet = CliRunner().invoke(cli_app, ["serve", "--api-key-file", str(key_file)])
    assert quiet.exit_code == 0 and "WARNING" not in quiet.output
    assert [s.api_key for s in started] == [KEY, KEY]


def test_check_slots_cap_each_address_and_the_total():
    from photocheck.service.admission import Busy, CheckSlots

    slots = CheckSlots(total=3, per_client=2)
    with slots.hold("10.0.0.1"), slots.hold("10.0.0.1"):
        with pytest.raises(Busy, match="this address"):
            with slots.hold("10.0.0.1"):
                pass
        with slots.hold("10.0.0.2"):
            assert slots.in_use == 3
            with pytest.raises(Busy, match="already"):
                with slots.hold("10.0.0.3"):
                    pass
    assert slots.in_use == 0
    with slots.hold("10.0.0.1"):  # released: usable again
        pass
