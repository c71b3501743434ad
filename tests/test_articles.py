"""Articles: read, create or replace (admin_api), change (moderator), list (moderator)."""
import pytest

from .conftest import ALLOWED_ORIGIN

BODY = {"title": "Budget 2027", "url": f"{ALLOWED_ORIGIN}/budget"}


@pytest.fixture
def admin_api(login, admin):
    return login(admin)


def test_put_creates_then_updates(admin_api, client):
    response = admin_api.put("/api/v1/articles/budget-2027", BODY)
    assert response.status_code == 201
    article = response.get_json()
    assert article == {**article, "key": "budget-2027", "title": "Budget 2027", "status": "open",
                       "moderation": "inherit", "comment_count": 0}
    assert article["created_at"].endswith("Z")
    response = admin_api.put("/api/v1/articles/budget-2027", {**BODY, "status": "closed", "comment_count": 99})
    assert response.status_code == 200
    assert response.get_json()["status"] == "closed"
    assert response.get_json()["comment_count"] == 0
    assert client.get("/api/v1/articles/budget-2027").get_json()["status"] == "closed"


def test_put_validation(admin_api):
    assert admin_api.put("/api/v1/articles/x", {"title": "t"}).status_code == 422
    assert admin_api.put("/api/v1/articles/x", {**BODY, "url": "javascript:alert(1)"}).status_code == 422
    assert admin_api.put("/api/v1/articles/x", {**BODY, "status": "archived"}).status_code == 422
    assert admin_api.put("/api/v1/articles/x", {**BODY, "title": "a\r\nb"}).status_code == 422


def test_roles_for_article_changes(login, make_user, make_article, client):
    make_article("a1")
    reader = login(make_user("reader"))
    mod = login(make_user("mod", role="moderator"))
    assert reader.put("/api/v1/articles/a2", BODY).status_code == 403
    assert mod.put("/api/v1/articles/a2", BODY).status_code == 403
    assert reader.patch("/api/v1/articles/a1", {"status": "closed"}).status_code == 403
    assert client.patch("/api/v1/articles/a1", json={"status": "closed"}).status_code == 401
    response = mod.patch("/api/v1/articles/a1", {"status": "closed", "moderation": "pre"})
    assert response.status_code == 200
    assert (response.get_json()["status"], response.get_json()["moderation"]) == ("closed", "pre")
    assert mod.patch("/api/v1/articles/missing", {"status": "closed"}).status_code == 404


def test_get_unknown_is_404(client):
    response = client.get("/api/v1/articles/nope")
    assert response.status_code == 404
    assert response.get_json()["error"]["code"] == "not_found"


def test_list_newest_first_with_cursor(login, make_user, admin_api):
    for i in range(5):
        admin_api.put(f"/api/v1/articles/k{i}", BODY)
    mod = login(make_user("mod", role="moderator"))
    first = mod.get("/api/v1/articles?limit=3").get_json()
    assert [a["key"] for a in first["articles"]] == ["k4", "k3", "k2"]
    second = mod.get(f"/api/v1/articles?limit=3&after={first['next']}").get_json()
    assert [a["key"] for a in second["articles"]] == ["k1", "k0"] and second["next"] is None
    assert login(make_user("reader")).get("/api/v1/articles").status_code == 403
