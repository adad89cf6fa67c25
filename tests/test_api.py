"""The JSON API over real HTTP: shapes, status codes, and the token rules for writes."""

import pytest

from app.names import fold
from tests.conftest import SEEDS, TOKEN

AUTH = {"Authorization": f"Bearer {TOKEN}"}
SEED = sorted(SEEDS.glob("*.txt"))[0]


def test_healthz_reports_database_and_index(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "database": "ok", "index": "ok", "storage": "ok"}


def test_episode_list_shape_newest_first(client, seeded):
    body = client.get("/api/episodes").json()
    assert (body["total"], body["page"]) == (5, 1)
    assert [e["aired_on"] for e in body["items"]] == ["2025-12-11", "2025-11-06", "2025-10-23", "2025-03-27", None]
    first = body["items"][0]
    assert set(first) == {"slug", "title", "show", "aired_on", "source", "duration", "guests"}
    assert first["guests"][0] == {"slug": "imene-kabouya", "name": "Imène Kabouya", "role": "Partner, Wavestone"}
    assert first["duration"] > 1500


@pytest.mark.parametrize(
    "query,expected",
    [
        ("show=smart-tech", 4),  # 003 names no show; its first line says Smartech
        ("guest=julien-pillot", 3),
        ("year=2025", 4),
        ("guest=imene-kabouya", 2),
        ("show=inconnue", 0),
        ("page=2", 5),
    ],
)
def test_episode_list_filters(client, seeded, query, expected):
    body = client.get(f"/api/episodes?{query}").json()
    assert body["total"] == expected


def test_episode_detail_shape(client, seeded):
    body = client.get(f"/api/episodes/{seeded['002']}").json()
    assert {"host", "channel", "description", "media_url", "segments"} <= set(body)
    assert body["host"] == "François Sorel" and body["channel"] == "BFM Business"
    starts = [s["start"] for s in body["segments"]]
    assert starts == sorted(starts) and set(body["segments"][0]) == {"start", "end", "text", "speaker"}
    assert body["segments"][0]["speaker"] is None  # no speaker in the seeds: null, as SPEC has it


def test_unknown_episode_is_a_json_404(client, seeded):
    response = client.get("/api/episodes/nope")
    assert response.status_code == 404 and "nope" in response.json()["detail"]


@pytest.mark.parametrize("query", ["page=0", "page=abc", "year=deux", "per_page=100000", "page=-5"])
def test_bad_list_parameters_are_4xx_not_500(client, seeded, query):
    assert 400 <= client.get(f"/api/episodes?{query}").status_code < 500


def test_guests_list_and_detail(client, seeded):
    body = client.get("/api/guests").json()
    by_slug = {g["slug"]: g for g in body["items"]}
    assert by_slug["julien-pillot"]["appearances"] == 3
    assert by_slug["imene-kabouya"]["appearances"] == 2
    assert "delphine-sabattier" not in by_slug  # a host, never a guest
    names = [g["name"] for g in body["items"]]
    assert names == sorted(names, key=fold)
    detail = client.get("/api/guests/imene-kabouya").json()
    assert {"Imène Kabouya", "Imen Kabouya"} <= set(detail["aliases"])
    assert [a["episode"]["aired_on"] for a in detail["appearances"]] == ["2025-12-11", None]


def test_shows_list(client, seeded):
    body = client.get("/api/shows").json()
    assert {(s["name"], s["episodes"]) for s in body["items"]} == {("SMART TECH", 4), ("Tech & Co, la quotidienne", 1)}


def test_writes_are_refused_when_no_token_is_configured(client, settings):
    response = client.post("/api/episodes", files={"file": (SEED.name, SEED.read_bytes())}, headers=AUTH)
    assert response.status_code == 403
    assert client.get("/api/episodes").json()["total"] == 0


def test_wrong_or_missing_token_is_401(admin_token, client):
    for headers in ({}, {"Authorization": "Bearer faux"}, {"Authorization": "Basic eDp5"}):
        response = client.post("/api/episodes", files={"file": (SEED.name, SEED.read_bytes())}, headers=headers)
        assert response.status_code == 401
    assert client.get("/api/episodes").json()["total"] == 0


def test_post_episode_201_then_200_when_unchanged(admin_token, client):
    files = {"file": (SEED.name, SEED.read_bytes())}
    first = client.post("/api/episodes", files=files, headers=AUTH)
    assert first.status_code == 201 and first.json()["slug"] == "2025-10-23-smart-tech"
    again = client.post("/api/episodes", files=files, headers=AUTH)
    assert again.status_code == 200 and again.json()["status"] == "unchanged"


def test_post_with_sidecar_fields(admin_token, client):
    response = client.post(
        "/api/episodes",
        files={"file": ("x.txt", SEED.read_bytes())},
        headers=AUTH,
        data={"title": "Titre choisi", "guests": '[{"name": "Ada Lovelace", "role": "Pionnière"}]'},
    )
    assert response.status_code == 201
    assert response.json()["title"] == "Titre choisi"
    assert response.json()["guests"] == [{"slug": "ada-lovelace", "name": "Ada Lovelace", "role": "Pionnière"}]


@pytest.mark.parametrize("name,data", [("vide.txt", b""), ("x.bin", b"\x00\x01"), ("x.txt", b"pas de sous-titres")])
def test_post_refused_file_is_422_with_reason(admin_token, client, name, data):
    response = client.post("/api/episodes", files={"file": (name, data)}, headers=AUTH)
    assert response.status_code == 422 and response.json()["detail"].startswith("Fichier refusé")
    assert client.get("/api/episodes").json()["total"] == 0


def test_media_url_must_be_a_web_address(admin_token, client, seeded):
    response = client.post(
        "/api/episodes",
        files={"file": ("x.txt", SEED.read_bytes())},
        headers=AUTH,
        data={"media_url": "javascript:alert(1)"},
    )
    assert response.status_code == 422 and "http" in response.json()["detail"]
    slug = seeded["000"]
    assert (
        client.patch(f"/api/episodes/{slug}", json={"media_url": "javascript:alert(1)"}, headers=AUTH).status_code
        == 422
    )
    assert client.patch(f"/api/episodes/{slug}", json={"title": ""}, headers=AUTH).status_code == 422
    ok = client.patch(f"/api/episodes/{slug}", json={"media_url": "https://www.youtube.com/watch?v=abc"}, headers=AUTH)
    assert ok.json()["media_url"] == "https://www.youtube.com/watch?v=abc"


def test_post_without_file_is_422(admin_token, client):
    assert client.post("/api/episodes", headers=AUTH).status_code == 422


def test_patch_and_delete_episode(admin_token, client, seeded):
    slug = seeded["003"]
    patched = client.patch(f"/api/episodes/{slug}", json={"aired_on": "2026-01-29", "show": "SMART TECH"}, headers=AUTH)
    assert patched.status_code == 200
    assert (patched.json()["aired_on"], patched.json()["show"], patched.json()["slug"]) == (
        "2026-01-29",
        "SMART TECH",
        slug,
    )
    assert client.patch(f"/api/episodes/{slug}", json={"aired_on": "hier"}, headers=AUTH).status_code == 422
    assert client.delete(f"/api/episodes/{slug}").status_code == 401
    assert client.delete(f"/api/episodes/{slug}", headers=AUTH).status_code == 204
    assert client.get(f"/api/episodes/{slug}").status_code == 404
    assert client.get("/api/episodes").json()["total"] == 4


def test_merge_guests(admin_token, client, seeded):
    response = client.post("/api/guests/audrey-maurel/merge", json={"into": "garance-mathias"}, headers=AUTH)
    assert response.status_code == 200
    assert "Audrey Maurel" in response.json()["aliases"]
    assert client.get("/api/guests/audrey-maurel").status_code == 404
    assert (
        client.post("/api/guests/garance-mathias/merge", json={"into": "garance-mathias"}, headers=AUTH).status_code
        == 422
    )
    assert client.post("/api/guests/garance-mathias/merge", json={}, headers=AUTH).status_code == 422


def test_transcript_exports_over_http(client, seeded):
    slug = seeded["000"]
    vtt = client.get(f"/episodes/{slug}/transcript.vtt")
    assert (
        vtt.status_code == 200 and vtt.text.startswith("WEBVTT") and vtt.headers["content-type"].startswith("text/vtt")
    )
    assert "Bonjour à tous" in client.get(f"/episodes/{slug}/transcript.txt").text
    assert client.get(f"/episodes/{slug}/transcript.json").json()["slug"] == slug
    assert client.get(f"/episodes/{slug}/transcript.doc").status_code == 404
    assert client.get("/episodes/nope/transcript.srt").status_code == 404


def test_security_headers_on_every_response(client):
    response = client.get("/healthz")
    assert response.headers["content-security-policy"].startswith("default-src 'self'")
    assert response.headers["x-content-type-options"] == "nosniff"


@pytest.mark.parametrize(
    "body",
    [
        '{"title": null}',
        '{"title": "  "}',
        '{"title": "a\\u0000b"}',
        '{"show": "!!!"}',
        '{"media_url": "http://[x"}',
        '{"media_url": "http://a b"}',
        '{"description": "\\ud800"}',
        '{"aired_on": "2025-02-30"}',
        "[1, 2]",
    ],
)
def test_bad_edits_are_422_and_change_nothing(admin_token, client, seeded, body):
    slug = seeded["000"]
    before = client.get(f"/api/episodes/{slug}").json()
    response = client.patch(f"/api/episodes/{slug}", content=body, headers={**AUTH, "Content-Type": "application/json"})
    assert response.status_code == 422
    assert client.get(f"/api/episodes/{slug}").json() == before


@pytest.mark.parametrize(
    "fields",
    [
        {"guests": "[" * 100_000 + "]" * 100_000},
        {"guests": '[{"name": ""}]'},
        {"guests": '[{"name": {"a": 1}, "role": 5}]'},
        {"guests": "pas du json"},
        {"aired_on": "23/10/2025"},
        {"media_url": "http://[x"},
        {"title": "a\u000bb"},
    ],
)
def test_bad_upload_fields_are_422_and_add_nothing(admin_token, client, fields):
    response = client.post("/api/episodes", files={"file": ("x.txt", SEED.read_bytes())}, data=fields, headers=AUTH)
    assert response.status_code == 422, response.text
    assert client.get("/api/episodes").json()["total"] == 0


def test_changed_upload_fields_update_the_episode(admin_token, client):
    files = {"file": ("h1.txt", SEED.read_bytes())}
    assert client.post("/api/episodes", files=files, data={"aired_on": "2024-01-02"}, headers=AUTH).status_code == 201
    again = client.post(
        "/api/episodes",
        files=files,
        headers=AUTH,
        data={"aired_on": "2023-05-06", "guests": '[{"name": "Jean Testeur"}]'},
    )
    assert again.status_code == 201 and again.json()["status"] == "updated"
    assert again.json()["aired_on"] == "2023-05-06"
    assert [g["name"] for g in again.json()["guests"]] == ["Jean Testeur"]


def test_shows_without_episodes_disappear(admin_token, client, seeded):
    slug = seeded["002"]
    client.patch(f"/api/episodes/{slug}", json={"show": "SMART TECH"}, headers=AUTH)
    assert [s["name"] for s in client.get("/api/shows").json()["items"]] == ["SMART TECH"]
    episodes = client.get("/api/episodes?show=smart-tech&per_page=100").json()["items"]
    assert len(episodes) == 5
    for episode in episodes:
        assert client.delete(f"/api/episodes/{episode['slug']}", headers=AUTH).status_code == 204
    assert client.get("/api/shows").json()["items"] == []
