"""Searching inside one episode reads only that episode's passages, and finds there exactly what a
search of the whole archive finds there: the same count, the same passages, the same snippets."""

import pytest

QUERIES = [
    "cloud",
    "souveraineté",
    "données",
    '"souveraineté numérique"',
    '"protection des données"',
    '"on va parler de"',
    "numéri*",
    "Keepit~",
    "cloud OR IA",
    "cloud -Amazon",
    'souveraineté -"souveraineté numérique"',
    "(données OR souveraineté) -cloud",
    "pas",
]


@pytest.mark.parametrize("q", QUERIES)
def test_search_inside_an_episode_finds_what_the_archive_finds_there(client, seeded, q):
    archive = client.get("/api/search", params={"q": q, "per_page": 50})
    assert archive.status_code == 200, archive.text
    shown: dict[str, list[tuple]] = {}
    counts: dict[str, int] = {}
    for hit in archive.json()["hits"]:  # up to three per episode, with the episode's count
        slug = hit["episode"]["slug"]
        shown.setdefault(slug, []).append((hit["start"], hit["snippet"]))
        counts[slug] = hit["episode_matches"]
    for slug in seeded.values():
        inside = client.get("/api/search", params={"q": q, "episode": slug, "per_page": 50}).json()
        assert inside["total"] == counts.get(slug, 0), slug
        found = {(hit["start"], hit["snippet"]) for hit in inside["hits"]}
        assert all(hit["episode"]["slug"] == slug for hit in inside["hits"])
        assert set(shown.get(slug, [])) <= found, slug
    assert counts, f"{q!r} should match in the seeds"
