"""/openapi.json describes the JSON API as it answers: every route's shapes, checked against real answers."""

import copy

import pytest
from jsonschema import Draft202012Validator, ValidationError

from tests.conftest import SEEDS, TOKEN

AUTH = {"Authorization": f"Bearer {TOKEN}"}


def schema_of(openapi: dict, path: str, method: str, status: int) -> dict:
    """The JSON schema /openapi.json gives for one answer of one route."""
    response = openapi["paths"][path][method]["responses"][str(status)]
    return response["content"]["application/json"]["schema"]


def check(openapi: dict, schema: dict, body) -> None:
    """Raise ValidationError unless `body` fits `schema` (its $refs read from the document's components)."""
    document = {**schema, "components": openapi["components"]}
    Draft202012Validator(document, format_checker=Draft202012Validator.FORMAT_CHECKER).validate(body)


def check_answer(openapi: dict, path: str, method: str, response) -> dict | list:
    assert response.headers["content-type"].startswith("application/json"), (path, response.headers)
    body = response.json()
    try:
        check(openapi, schema_of(openapi, path, method, response.status_code), body)
    except ValidationError as error:
        raise AssertionError(
            f"{method.upper()} {response.request.url} ({response.status_code}) does not match "
            f"its schema in /openapi.json: {error.message} at {list(error.absolute_path)}"
        ) from None
    return body


def open_objects(openapi: dict, node, seen: set | None = None) -> list[str]:
    """The objects reachable from a schema that would let an undocumented key through unnoticed."""
    seen = set() if seen is None else seen
    found = []
    if isinstance(node, list):
        for item in node:
            found += open_objects(openapi, item, seen)
    elif isinstance(node, dict):
        if "properties" in node and node.get("additionalProperties") is not False:
            found.append(node.get("title", str(sorted(node["properties"]))))
        name = node.get("$ref", "").rsplit("/", 1)[-1]
        if name and name not in seen:
            seen.add(name)
            found += open_objects(openapi, openapi["components"]["schemas"][name], seen)
        for value in node.values():
            found += open_objects(openapi, value, seen)
    return found


def api_operations(openapi: dict):
    for path, operations in openapi["paths"].items():
        if path.startswith("/api/"):
            for method, operation in operations.items():
                yield path, method, operation


def test_every_api_route_documents_its_answers(client):
    openapi = client.get("/openapi.json").json()
    operations = list(api_operations(openapi))
    assert {(p, m) for p, m, _ in operations} >= {
        ("/api/search", "get"),
        ("/api/episodes", "get"),
        ("/api/episodes", "post"),
        ("/api/episodes/{slug}", "get"),
        ("/api/episodes/{slug}", "patch"),
        ("/api/episodes/{slug}", "delete"),
        ("/api/guests", "get"),
        ("/api/guests/{slug}", "get"),
        ("/api/guests/{slug}/merge", "post"),
        ("/api/shows", "get"),
        ("/api/shows/{slug}", "get"),
    }
    for path, method, operation in operations:
        responses = operation["responses"]
        success = min(int(s) for s in responses if s.startswith("2"))
        if success == 204:
            assert "content" not in responses["204"], f"{method} {path}: a 204 has no body"
        else:
            schema = schema_of(openapi, path, method, success)
            assert "$ref" in schema, f"{method} {path}: {success} is not described by a named schema"
            Draft202012Validator.check_schema(schema)
            # Every object of the answer is closed, so an undocumented key fails the checks below.
            assert not open_objects(openapi, schema), f"{method} {path}: open objects {open_objects(openapi, schema)}"
        for status, response in responses.items():
            if status.startswith("4"):
                detail = openapi["components"]["schemas"][
                    response["content"]["application/json"]["schema"]["$ref"].rsplit("/", 1)[-1]
                ]
                assert "detail" in detail["properties"], f"{method} {path}: {status} is not {{'detail': ...}}"
    # /docs reads the same document
    assert client.get("/docs").status_code == 200


def test_every_read_answer_matches_its_schema(client, seeded):
    openapi = client.get("/openapi.json").json()
    episode = seeded["000"]
    guests = [g["slug"] for g in client.get("/api/guests").json()["items"]]
    shows = [s["slug"] for s in client.get("/api/shows").json()["items"]]
    urls = {
        "/api/episodes": [
            "/api/episodes",
            "/api/episodes?show=smart-tech&per_page=2&page=2",
            "/api/episodes?guest=julien-pillot&year=2025",
            "/api/episodes?year=1999",
        ],
        "/api/episodes/{slug}": [f"/api/episodes/{slug}" for slug in seeded.values()],
        "/api/episodes/{slug}/history": [f"/api/episodes/{episode}/history"],
        "/api/guests": ["/api/guests", "/api/guests?per_page=5&page=2"],
        "/api/guests/{slug}": [f"/api/guests/{slug}" for slug in guests],
        "/api/shows": ["/api/shows"],
        "/api/shows/{slug}": [f"/api/shows/{slug}" for slug in shows] + [f"/api/shows/{shows[0]}?page=9"],
        "/api/search": [
            "/api/search?q=souveraineté",
            "/api/search?q=cloud&sort=date&from=2025-01-01&per_page=2",
            "/api/search?q=zzzaucunresultat",
            "/api/search",
            f"/api/search?q=cloud&episode={episode}",
            '/api/search?q="protection des données" OR numéri*&page=2&per_page=1',
        ],
    }
    gets = {path for path, method, _ in api_operations(openapi) if method == "get"}
    assert set(urls) == gets, f"GET routes without a checked answer: {gets - set(urls)}"
    searched = []
    for path, examples in urls.items():
        for url in examples:
            response = client.get(url)
            assert response.status_code == 200, (url, response.text[:300])
            body = check_answer(openapi, path, "get", response)
            if path == "/api/search":
                searched.append(body)
    # the optional key of a hit was there to be checked, and the contract's keys are all present
    hits = [hit for body in searched for hit in body["hits"]]
    assert any("more_in_episode" in hit for hit in hits) and any("more_in_episode" not in hit for hit in hits)
    assert {"speaker", "episode", "start", "timestamp", "text", "snippet", "url"} <= set(hits[0])
    assert {"total", "page", "hits", "suggestion", "episode_matches"} <= set(searched[0])


def test_error_answers_match_their_schemas(client, seeded):
    openapi = client.get("/openapi.json").json()
    cases = [
        ("/api/episodes/{slug}", "get", client.get("/api/episodes/inconnu"), 404),
        ("/api/guests/{slug}", "get", client.get("/api/guests/inconnu"), 404),
        ("/api/shows/{slug}", "get", client.get("/api/shows/inconnue"), 404),
        ("/api/search", "get", client.get("/api/search", params={"q": '"'}), 400),
        ("/api/search", "get", client.get("/api/search", params={"from": "hier"}), 422),
        ("/api/episodes", "get", client.get("/api/episodes", params={"page": 0}), 422),
        ("/api/episodes/{slug}", "delete", client.delete(f"/api/episodes/{seeded['000']}", headers=AUTH), 403),
    ]
    for path, method, response, status in cases:
        assert response.status_code == status, (path, response.text[:300])
        check_answer(openapi, path, method, response)


def test_write_answers_match_their_schemas(admin_token, client, seeded):
    openapi = client.get("/openapi.json").json()
    seed = sorted(SEEDS.glob("*.txt"))[0]
    upload = {"file": ("nouvel-envoi.txt", seed.read_bytes())}

    added = client.post("/api/episodes", files=upload, headers=AUTH)
    assert added.status_code == 201, added.text[:300]
    slug = check_answer(openapi, "/api/episodes", "post", added)["slug"]
    unchanged = client.post("/api/episodes", files=upload, headers=AUTH)
    assert (
        unchanged.status_code == 200
        and check_answer(openapi, "/api/episodes", "post", unchanged)["status"] == "unchanged"
    )
    refused = client.post("/api/episodes", files={"file": ("vide.txt", b"")}, headers=AUTH)
    assert refused.status_code == 422
    check_answer(openapi, "/api/episodes", "post", refused)
    unauthorised = client.post("/api/episodes", files=upload, headers={"Authorization": "Bearer faux"})
    assert unauthorised.status_code == 401
    check_answer(openapi, "/api/episodes", "post", unauthorised)

    edited = client.patch(f"/api/episodes/{slug}", json={"title": "Titre corrigé"}, headers=AUTH)
    assert (
        edited.status_code == 200
        and check_answer(openapi, "/api/episodes/{slug}", "patch", edited)["title"] == "Titre corrigé"
    )
    merged = client.post("/api/guests/imene-kabouya/merge", json={"into": "julien-pillot"}, headers=AUTH)
    assert merged.status_code == 200
    check_answer(openapi, "/api/guests/{slug}/merge", "post", merged)
    itself = client.post("/api/guests/julien-pillot/merge", json={"into": "julien-pillot"}, headers=AUTH)
    assert itself.status_code == 422
    check_answer(openapi, "/api/guests/{slug}/merge", "post", itself)

    deleted = client.delete(f"/api/episodes/{slug}", headers=AUTH)
    assert deleted.status_code == 204 and deleted.content == b""


def test_an_undocumented_key_or_a_wrong_type_fails_the_check(client, seeded):
    """The checks above have teeth: what a route could wrongly send is refused by the published schema."""
    openapi = client.get("/openapi.json").json()
    schema = schema_of(openapi, "/api/episodes/{slug}", "get", 200)
    body = client.get(f"/api/episodes/{seeded['002']}").json()
    check(openapi, schema, body)
    for change in (
        lambda b: b.update(extra=1),
        lambda b: b["segments"][0].update(extra=1),
        lambda b: b.pop("host"),
        lambda b: b.update(duration="25 min"),
        lambda b: b.update(aired_on="23/10/2025"),
        lambda b: b["guests"][0].update(slug=None),
    ):
        altered = copy.deepcopy(body)
        change(altered)
        with pytest.raises(ValidationError):
            check(openapi, schema, altered)
