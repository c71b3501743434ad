"""Every error answers the contract's JSON shape with the right status; nothing is stored."""
import json

import pytest
from sqlalchemy import func, select

from app.extensions import db
from app.models import Comment

COMMENTS = "/api/v1/articles/a1/comments"


@pytest.fixture
def api(login, make_user, make_article):
    make_article("a1")
    return login(make_user("alice"))


def raw_post(api, data, content_type="application/json", **headers):
    return api.client.post(COMMENTS, data=data, content_type=content_type,
                           headers={"X-CSRF-Token": api.csrf, **headers})


def assert_error(response, status, code=None):
    assert response.status_code == status, response.data[:300]
    assert response.mimetype == "application/json"
    error = response.get_json()["error"]
    assert isinstance(error["message"], str) and error["message"]
    if code:
        assert error["code"] == code
    return error


def stored(app):
    with app.app_context():
        return db.session.scalar(select(func.count(Comment.id)))


BAD_JSON = [
    b"", b'{"body": "hi"', b'{"body": "hi",}', b"{'body': 'hi'}", b'{body: "hi"}',
    b'{"body": "hi"} trailing garbage', b'{"body": "hi"}{"body": "again"}', b'{"body": NaN}',
    b'{"body": Infinity}', b'{"body": -Infinity}', b'{"body": "hi" /* c */}',
    b'\xef\xbb\xbf{"body":"hi"}', '{"body":"hi"}'.encode("utf-16-le"), '{"body":"hi"}'.encode("utf-32"),
    b'{"body":"\xc0\xbc script"}', b'{"body":"\xff\xfe"}', b'{"body":"\xed\xa0\x80"}',
    b'{"body":"\\ud800"}', b'{"body":"\\udfff x"}', b"[]", b'"hi"', b"42", b"true", b"null",
    b"[" * 100_000 + b"]" * 100_000, b'{"body":' + b'{"a":' * 20_000 + b"1" + b"}" * 20_001,
]


@pytest.mark.parametrize("data", BAD_JSON, ids=range(len(BAD_JSON)))
def test_malformed_json_is_400(app, api, data):
    assert_error(raw_post(api, data), 400, "bad_request")
    assert stored(app) == 0
    assert api.post(COMMENTS, {"body": "still works"}).status_code == 201


@pytest.mark.parametrize("content_type", [
    None, "text/plain", "application/x-www-form-urlencoded", "multipart/form-data; boundary=x",
    "application/json; charset=utf-16", "application/jsonx", "text/json", "application/json-patch+json",
    "application/json, text/html",
])
def test_wrong_media_type_is_415(app, api, content_type):
    response = api.client.post(COMMENTS, data=b'{"body":"hi"}', headers={
        "X-CSRF-Token": api.csrf, **({"Content-Type": content_type} if content_type else {})})
    assert_error(response, 415, "unsupported_media_type")
    assert stored(app) == 0


def test_uppercase_json_media_type_is_fine(app, api):
    assert raw_post(api, b'{"body":"hi"}', content_type="APPLICATION/JSON").status_code == 201


def test_gzip_bodies_are_refused(app, api):
    assert_error(raw_post(api, b"\x1f\x8b", **{"Content-Encoding": "gzip"}), 415)


def test_too_large_is_413(app, api):
    body = json.dumps({"body": "A" * (1024 * 1024 + 1)}).encode()
    assert_error(raw_post(api, body), 413, "payload_too_large")
    assert stored(app) == 0


def test_many_keys_and_duplicate_keys(app, api):
    many = "{" + ",".join(f'"k{i}":0' for i in range(20_000)) + ',"body":"hi"}'
    assert raw_post(api, many.encode()).status_code == 201
    response = raw_post(api, b'{"body":"ok","body":"<script>alert(1)</script>"}')
    assert response.status_code == 201
    assert "<script>" not in response.get_json()["comment"]["body_html"]


def test_missing_body_field_is_422(app, api):
    for data in ({}, {"Body": "hi"}, {"body ": "hi"}):
        error = assert_error(api.post(COMMENTS, data), 422, "validation_error")
        assert "body" in error["fields"]


def test_unknown_route_and_method(client):
    assert_error(client.get("/api/v1/nope"), 404, "not_found")
    assert_error(client.get("/nope", headers={"Accept": "application/json"}), 404, "not_found")
    response = client.get("/api/v1/auth/login")
    assert_error(response, 405, "method_not_allowed")
    assert "POST" in response.headers["Allow"]
    assert_error(client.open("/api/v1/auth/login", method="TRACE"), 405)


def test_api_errors_stay_json_for_browsers(client):
    response = client.get("/api/v1/nope", headers={"Accept": "text/html"})
    assert response.mimetype == "application/json"


@pytest.mark.parametrize("path", [
    "/api/v1/articles/-1/comments", "/api/v1/articles/99999999999999999999999/comments",
    "/api/v1/articles/..%2F..%2Fetc%2Fpasswd/comments", "/api/v1/articles/%2e%2e%2f/comments",
    "/api/v1/articles/a%00.html/comments", "/api/v1/articles/١٢/comments",
    "/api/v1/comments/١٢", "/api/v1/comments/１２", "/api/v1/comments/0", "/api/v1/comments/1e3",
    "/api/v1/comments/99999999999999999999", "/api/v1/comments/%201", "/api/v1/comments/1'",
])
def test_hostile_identifiers_are_404(client, path):
    assert_error(client.get(path), 404, "not_found")


def test_unexpected_exception_is_a_500_json_without_internals(app, client, caplog):
    @app.get("/api/v1/boom")
    def boom():
        raise RuntimeError("secret internals /etc/passwd")

    response = client.get("/api/v1/boom")
    assert_error(response, 500, "server_error")
    assert "secret" not in response.get_data(as_text=True)
    assert "RuntimeError" in caplog.text


def test_healthz(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.get_json() == {"status": "ok"}


def test_counts(client, api, make_article):
    make_article("a2")
    api.post(COMMENTS, {"body": "one"})
    response = client.get("/api/v1/counts?keys=a1,a2,zzz")
    assert response.get_json() == {"counts": {"a1": 1, "a2": 0, "zzz": 0}}
    assert response.headers["Access-Control-Allow-Origin"] == "*"
    keys = ",".join(f"k{i}" for i in range(101))
    assert_error(client.get(f"/api/v1/counts?keys={keys}"), 422)
