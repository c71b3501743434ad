"""The per-process cache of anonymous thread pages stays within its bounds."""
from app.discussion import page_cache
from app.discussion.page_cache import PageCache
from app.extensions import db


def test_least_recently_used_pages_leave_first_when_bytes_run_out():
    cache = PageCache(max_entries=100, max_bytes=1000)
    for name in "abc":
        cache.put((name,), name.encode() * 240)
    assert cache.get(("a",)) is not None  # now the most recently used
    cache.put(("d",), b"d" * 240)  # 960 bytes: fits
    cache.put(("e",), b"e" * 240)  # 1,200: "b" (least recently used) goes
    assert cache.get(("b",)) is None
    assert [cache.get((n,)) is not None for n in "acde"] == [True] * 4
    assert cache.size_bytes == 960 and len(cache) == 4


def test_entries_are_bounded_too():
    cache = PageCache(max_entries=3, max_bytes=10_000)
    for i in range(5):
        cache.put((i,), b"x")
    assert len(cache) == 3 and cache.get((0,)) is None and cache.get((4,)) == b"x"


def test_a_page_over_a_quarter_of_the_budget_is_not_kept():
    cache = PageCache(max_entries=10, max_bytes=1000)
    cache.put(("small",), b"s" * 100)
    cache.put(("huge",), b"h" * 251)
    assert cache.get(("huge",)) is None and cache.get(("small",)) == b"s" * 100
    assert cache.size_bytes == 100


def test_storing_a_key_again_counts_its_bytes_once():
    cache = PageCache(max_entries=10, max_bytes=1000)
    cache.put(("k",), b"1" * 200)
    cache.put(("k",), b"2" * 100)
    assert cache.size_bytes == 100 and cache.get(("k",)) == b"2" * 100


def test_many_different_pages_of_a_thread_keep_a_worker_within_its_budget(app, config, login, alice, article):
    """Anyone can ask for many distinct pages (limit, replies, sort): memory stays bounded."""
    config["THREAD_CACHE_BYTES"] = 20_000
    from app import create_app
    bounded = create_app(config)
    api = login(alice)
    for i in range(30):
        assert api.post("/api/v1/articles/a1/comments", {"body": f"comment {i} " + "words " * 40}).status_code == 201
    client = bounded.test_client()
    served = 0
    for limit in range(1, 40):
        for sort in ("oldest", "newest"):
            response = client.get(f"/api/v1/articles/a1/comments?limit={limit}&sort={sort}")
            assert response.status_code == 200
            served += len(response.data)
    with bounded.app_context():
        cache = page_cache.pages()
        assert 0 < cache.size_bytes <= 20_000 and len(cache) > 1
        db.engine.dispose()
    assert served > 10 * 20_000


def test_a_new_display_name_shows_at_once_on_cached_pages(app, client, login, alice, article):
    """Renaming oneself (PATCH /me) changes what every thread with one's comments shows: the cached
    anonymous pages of those threads are not served any more."""
    as_alice = login(alice)
    assert as_alice.post(f"/api/v1/articles/{article.key}/comments", {"body": "hello"}).status_code == 201
    path = f"/api/v1/articles/{article.key}/comments"
    assert client.get(path).get_json()["comments"][0]["author"]["display_name"] == alice.display_name
    assert as_alice.patch("/api/v1/me", {"display_name": "Alice Renamed"}).status_code == 200
    assert client.get(path).get_json()["comments"][0]["author"]["display_name"] == "Alice Renamed"
