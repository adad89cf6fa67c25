"""Editors fix the record: a line's text, turns, diarization labels, metadata; every change a revision
that the history shows and that can be undone; a new ingest of the file keeps the edits, or replaces
them when asked."""

import json
import re

import html5lib
import pytest

from app.french_dates import MONTHS
from tests.conftest import ON_BOTH_BACKENDS, TOKEN

AUTH = {"Authorization": f"Bearer {TOKEN}"}
NS = {"h": "http://www.w3.org/1999/xhtml"}

# A WhisperX transcript: two diarization labels, a misspelled company name on one line only.
LINES = [
    ("Bonjour et bienvenue sur le plateau de la semaine.", "SPEAKER_00"),
    ("Aujourd'hui nous parlons de sauvegarde avec Kipit, une entreprise danoise.", "SPEAKER_01"),
    ("La sauvegarde des données personnelles est une obligation.", None),
    ("Les hyperscalers américains dominent le marché européen.", None),
    ("Le règlement européen impose des règles strictes.", None),
    ("Merci pour cette présentation très claire.", "SPEAKER_00"),
    ("Passons maintenant aux satellites en orbite basse.", None),
    ("Une constellation entière tourne au-dessus de nos têtes.", None),
    ("Les fusées réutilisables changent toute l'économie du secteur.", None),
    ("Voilà pour aujourd'hui, à la semaine prochaine.", None),
]


def whisperx(lines=LINES) -> bytes:
    segments = []
    for i, (text, speaker) in enumerate(lines):
        segment = {"start": i * 5.0, "end": i * 5.0 + 5, "text": " " + text}
        if speaker:
            segment["speaker"] = speaker
        segments.append(segment)
    return json.dumps({"segments": segments, "language": "fr"}).encode()


PANEL = json.dumps([{"name": "Audrey Maurel", "role": "directrice technique"}])


def upload(client, data: bytes | None = None, name: str = "debat.json", **fields) -> dict:
    response = client.post(
        "/api/episodes",
        files={"file": (name, data if data is not None else whisperx())},
        data={"title": "Le débat de la sauvegarde", "guests": PANEL, **fields},
        headers=AUTH,
    )
    assert response.status_code in (200, 201), response.text
    return response.json()


def search(client, q: str, **params) -> dict:
    response = client.get("/api/search", params={"q": q, **params})
    assert response.status_code == 200, response.text
    return response.json()


def texts(client, slug: str) -> list[str]:
    return [s["text"] for s in client.get(f"/api/episodes/{slug}").json()["segments"]]


def speakers(client, slug: str) -> list[str | None]:
    return [
        s["speaker"] and (s["speaker"]["slug"] or s["speaker"]["name"])
        for s in client.get(f"/api/episodes/{slug}").json()["segments"]
    ]


def correct(client, slug: str, position: int, text: str, reason: str = "") -> dict:
    response = client.post(
        f"/api/episodes/{slug}/lines/{position}", json={"text": text, "reason": reason}, headers=AUTH
    )
    assert response.status_code == 201, response.text
    return response.json()


def labelled(html: str) -> None:
    """Every visible form control of the page has its label."""
    controls = re.findall(r'<(?:input|select|textarea)(?![^>]*type="hidden")[^>]*\bid="([^"]+)"', html)
    assert controls
    for control in controls:
        assert f'for="{control}"' in html, control


KEEPIT = "Aujourd'hui nous parlons de sauvegarde avec Keepit, une entreprise danoise."


@ON_BOTH_BACKENDS
def test_a_corrected_word_is_found_at_once_and_the_old_spelling_still_finds_the_line(admin_token, client):
    slug = upload(client)["slug"]
    before = search(client, "Kipit")
    assert before["total"] == 1
    link = before["hits"][0]["url"]
    assert search(client, "Keepit", as_typed="true")["total"] == 0  # not even as a correction of "Kipit"

    revision = correct(client, slug, 1, KEEPIT, "le nom de l'entreprise")
    assert revision["kind"] == "line" and revision["author"] == "jeton d'administration"
    assert revision["changes"] == [{"field": "texte", "before": LINES[1][0], "after": KEEPIT}]

    # no reindex asked for: the correction is searchable at once, and the machine's spelling too
    for q in ("Keepit", "Kipit", '"avec Keepit"', '"avec Kipit"', "Kip*", "keepit sauvegarde"):
        found = search(client, q)
        assert found["total"] == 1, q
        hit = found["hits"][0]
        # the same line, the same second, the same link: a quote link to the line still lands on it
        assert (hit["start"], hit["url"]) == (5, link), q
        assert "Keepit" in hit["text"] and "Kipit" not in hit["text"], q
    assert "<mark>Keepit</mark>" in search(client, "Keepit")["hits"][0]["snippet"]
    assert texts(client, slug)[1] == KEEPIT
    # the index's stamp of the episode follows its edits: a deep check finds database and index agree
    assert client.get("/healthz", params={"deep": "1"}).json()["index"] == "ok"

    page = client.get(link)
    assert page.status_code == 200
    document = html5lib.parse(page.text, namespaceHTMLElements=False)
    marked = [line for line in document.iter() if "is-marked" in (line.get("class") or "")]
    assert len(marked) == 1 and "Keepit" in "".join(marked[0].itertext())


@ON_BOTH_BACKENDS
def test_marked_turns_are_found_by_the_said_by_filter(admin_token, client):
    slug = upload(client)["slug"]
    assert search(client, "hyperscalers", speaker="audrey-maurel")["total"] == 0
    first = client.post(
        f"/api/episodes/{slug}/turns",
        json={"position": 3, "person": "audrey-maurel", "reason": "sa voix"},
        headers=AUTH,
    )
    assert first.status_code == 201, first.text
    # the turn lasts until the next change of speaker: line 5 is SPEAKER_00's again
    assert speakers(client, slug)[:6] == ["SPEAKER_00", "SPEAKER_01", "SPEAKER_01"] + ["audrey-maurel"] * 2 + [
        "SPEAKER_00"
    ]
    second = client.post(f"/api/episodes/{slug}/turns", json={"position": 7, "name": "Julien Pillot"}, headers=AUTH)
    assert second.status_code == 201, second.text
    assert speakers(client, slug)[5:] == ["SPEAKER_00", "SPEAKER_00"] + ["julien-pillot"] * 3
    assert second.json()["changes"] == [{"field": "locuteur", "before": "SPEAKER_00", "after": "Julien Pillot"}]

    hers = search(client, "hyperscalers", speaker="audrey-maurel")
    assert hers["total"] == 1 and hers["hits"][0]["speaker"] == {"slug": "audrey-maurel", "name": "Audrey Maurel"}
    assert search(client, "hyperscalers", speaker="julien-pillot")["total"] == 0
    assert search(client, "constellation", speaker="julien-pillot")["total"] == 1
    # a new person named by an editor appears in the episode, and has a page
    assert client.get("/api/guests/julien-pillot").status_code == 200

    # undo: the lines are SPEAKER_00's again, and the new person, without a line, leaves the archive
    undone = client.post(f"/api/revisions/{second.json()['id']}/undo", json={"reason": "erreur"}, headers=AUTH)
    assert undone.status_code == 201, undone.text
    assert speakers(client, slug)[5:] == ["SPEAKER_00"] * 5
    assert search(client, "constellation", speaker="julien-pillot")["total"] == 0
    assert client.get("/api/guests/julien-pillot").status_code == 404


@ON_BOTH_BACKENDS
def test_a_diarization_label_is_mapped_to_a_person_for_the_whole_episode(admin_token, client):
    slug = upload(client)["slug"]
    mapped = client.post(
        f"/api/episodes/{slug}/labels", json={"label": "SPEAKER_01", "name": "Audrey Maurel"}, headers=AUTH
    )
    assert mapped.status_code == 201, mapped.text
    assert mapped.json()["label"] == "SPEAKER_01"
    assert speakers(client, slug)[:6] == ["SPEAKER_00"] + ["audrey-maurel"] * 4 + ["SPEAKER_00"]
    assert search(client, "hyperscalers", speaker="audrey-maurel")["total"] == 1
    again = client.post(
        f"/api/episodes/{slug}/labels", json={"label": "SPEAKER_01", "person": "audrey-maurel"}, headers=AUTH
    )
    assert again.status_code == 422
    unknown = client.post(
        f"/api/episodes/{slug}/labels", json={"label": "SPEAKER_09", "person": "audrey-maurel"}, headers=AUTH
    )
    assert unknown.status_code == 404 and "SPEAKER_09" in unknown.json()["detail"]


def test_history_lists_every_change_with_who_and_why(admin_token, client):
    slug = upload(client)["slug"]
    correct(client, slug, 1, KEEPIT, "le nom de l'entreprise")
    client.post(f"/api/episodes/{slug}/turns", json={"position": 3, "person": "audrey-maurel"}, headers=AUTH)
    client.post(
        f"/api/episodes/{slug}/labels", json={"label": "SPEAKER_00", "name": "Delphine Sabattier"}, headers=AUTH
    )
    patched = client.patch(
        f"/api/episodes/{slug}", json={"title": "La sauvegarde en débat", "reason": "titre plus clair"}, headers=AUTH
    )
    assert patched.status_code == 200 and patched.json()["title"] == "La sauvegarde en débat"
    history = client.get(f"/api/episodes/{slug}/history").json()
    assert history["total"] == 4
    assert [r["kind"] for r in history["items"]] == ["metadata", "label", "turn", "line"]
    assert {r["author"] for r in history["items"]} == {"jeton d'administration"}
    assert [r["reason"] for r in history["items"]] == ["titre plus clair", "", "", "le nom de l'entreprise"]
    assert history["items"][0]["changes"] == [
        {"field": "titre", "before": "Le débat de la sauvegarde", "after": "La sauvegarde en débat"}
    ]
    assert client.get("/api/episodes/inconnu/history").status_code == 404

    # the metadata edit is undone like any other
    undone = client.post(f"/api/revisions/{history['items'][0]['id']}/undo", headers=AUTH)
    assert undone.status_code == 201, undone.text
    assert client.get(f"/api/episodes/{slug}").json()["title"] == "Le débat de la sauvegarde"


@ON_BOTH_BACKENDS
def test_undo_restores_the_text_and_the_search(admin_token, client):
    slug = upload(client)["slug"]
    first = correct(client, slug, 1, KEEPIT)
    second = correct(client, slug, 1, KEEPIT.replace("danoise", "danoise fondée en 2007"), "précision")
    # the first correction is not the line's latest state: undo the later one first
    refused = client.post(f"/api/revisions/{first['id']}/undo", headers=AUTH)
    assert refused.status_code == 409
    assert f"révision n°{second['id']}" in refused.json()["detail"]

    assert client.post(f"/api/revisions/{second['id']}/undo", headers=AUTH).status_code == 201
    assert texts(client, slug)[1] == KEEPIT
    undone = client.post(f"/api/revisions/{first['id']}/undo", json={"reason": "le fichier avait raison"}, headers=AUTH)
    assert undone.status_code == 201, undone.text
    assert undone.json()["undoes"] == first["id"]
    assert undone.json()["changes"] == [{"field": "texte", "before": KEEPIT, "after": LINES[1][0]}]
    assert texts(client, slug)[1] == LINES[1][0]
    assert search(client, "Keepit", as_typed="true")["total"] == 0
    assert search(client, "Kipit")["total"] == 1
    assert "<mark>Kipit</mark>" in search(client, "Kipit")["hits"][0]["snippet"]

    twice = client.post(f"/api/revisions/{first['id']}/undo", headers=AUTH)
    assert twice.status_code == 409 and "déjà annulée" in twice.json()["detail"]
    history = client.get(f"/api/episodes/{slug}/history").json()["items"]
    assert next(r for r in history if r["id"] == first["id"])["undone_by"] == undone.json()["id"]
    assert client.post("/api/revisions/999999/undo", headers=AUTH).status_code == 404


@ON_BOTH_BACKENDS
def test_a_new_ingest_of_the_file_keeps_the_edits_unless_told_to_replace_them(admin_token, client):
    slug = upload(client)["slug"]
    correction = correct(client, slug, 1, KEEPIT)
    client.post(
        f"/api/episodes/{slug}/labels", json={"label": "SPEAKER_00", "name": "Delphine Sabattier"}, headers=AUTH
    )

    same = upload(client)
    assert same["status"] == "unchanged"
    assert same["edits"] == {"status": "kept", "message": "modifications conservées", "not_reapplied": []}

    # the file changes elsewhere: the correction and the mapping are carried over to the new lines
    changed = list(LINES)
    changed[8] = ("Les fusées réutilisables changent l'économie spatiale.", None)
    kept = upload(client, whisperx(changed))
    assert kept["status"] == "updated" and kept["edits"]["status"] == "kept", kept
    assert kept["edits"]["not_reapplied"] == []
    assert kept["segments"][1]["text"] == KEEPIT
    assert kept["segments"][0]["speaker"]["slug"] == "delphine-sabattier"
    assert search(client, "Keepit")["total"] == 1 and search(client, "spatiale")["total"] == 1

    # the corrected line itself changed in the file: that correction cannot be carried over, and says so
    changed[1] = ("Aujourd'hui nous parlons de sauvegarde avec Kepit, une société danoise.", "SPEAKER_01")
    partly = upload(client, whisperx(changed))
    assert partly["edits"]["status"] == "kept"
    assert len(partly["edits"]["not_reapplied"]) == 1 and "ligne n°1" in partly["edits"]["not_reapplied"][0]
    assert partly["segments"][1]["text"] == changed[1][0]
    assert partly["segments"][0]["speaker"]["slug"] == "delphine-sabattier"

    # replace: the file's text and speakers as they are, the same bytes ingested again all the same
    replaced = upload(client, whisperx(changed), edits="replace")
    assert replaced["status"] == "updated"
    assert replaced["edits"]["status"] == "replaced" and "remplacées" in replaced["edits"]["message"]
    assert replaced["segments"][0]["speaker"] == {"slug": None, "name": "SPEAKER_00"}
    history = client.get(f"/api/episodes/{slug}/history").json()["items"]
    assert history[0]["kind"] == "ingest" and "remplacées" in history[0]["what"]
    # nothing left to replace: the same file is unchanged again
    assert upload(client, whisperx(changed), edits="replace")["status"] == "unchanged"
    assert client.post(f"/api/revisions/{history[0]['id']}/undo", headers=AUTH).status_code == 409
    # the correction the file replaced cannot be undone any more: the history says why
    gone = client.post(f"/api/revisions/{correction['id']}/undo", headers=AUTH)
    assert gone.status_code == 409 and "ingéré de nouveau" in gone.json()["detail"]
    bad = client.post(
        "/api/episodes", files={"file": ("debat.json", whisperx())}, data={"edits": "oublier"}, headers=AUTH
    )
    assert bad.status_code == 422


def test_the_history_page_shows_who_when_what_and_why(admin_token, client):
    slug = upload(client)["slug"]
    empty = client.get(f"/episodes/{slug}/history")
    assert empty.status_code == 200 and "Aucune modification" in empty.text
    correct(client, slug, 1, KEEPIT, "le nom de l'entreprise")
    page = client.get(f"/episodes/{slug}/history")
    assert page.status_code == 200
    assert page.headers["link"].startswith(f"</api/episodes/{slug}/history>")
    document = html5lib.parse(page.text, namespaceHTMLElements=False)
    assert document.find(".//h1").text == "Historique des modifications"
    (revision,) = document.iterfind(".//li[@class='revision']")
    text = " ".join("".join(revision.itertext()).split())
    assert "jeton d'administration" in text and "Pourquoi : le nom de l'entreprise" in text
    cells = [" ".join("".join(td.itertext()).split()) for td in revision.iter("td")]
    assert cells == [LINES[1][0], KEEPIT]
    when = revision.find(".//time")
    assert when.get("datetime")[:2] == "20"
    # "lundi 30 novembre 2026 à 19 h 05": a French date, as the site's filters write them
    assert any(f" {month} " in when.text for month in MONTHS) and " à " in when.text
    link = revision.find(".//h2/a")
    assert link.get("href") == f"/episodes/{slug}?t=5&l=1#l-1"
    episode_page = client.get(f"/episodes/{slug}")
    assert f'href="/episodes/{slug}/history"' in episode_page.text
    assert client.get("/episodes/inconnu/history").status_code == 404


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("post", "/api/episodes/{slug}/lines/1", {"text": "x"}),
        ("post", "/api/episodes/{slug}/turns", {"position": 1, "name": "Julien Pillot"}),
        ("post", "/api/episodes/{slug}/labels", {"label": "SPEAKER_00", "name": "Julien Pillot"}),
        ("post", "/api/revisions/1/undo", {}),
    ],
)
def test_every_edit_needs_the_token(admin_token, client, method, path, body):
    slug = upload(client)["slug"]
    response = client.request(method.upper(), path.format(slug=slug), json=body)
    assert response.status_code == 401 and "detail" in response.json()
    assert client.get(f"/api/episodes/{slug}/history").json()["total"] == 0


def test_refused_edits_say_why(admin_token, client):
    slug = upload(client)["slug"]
    cases = [
        (f"/api/episodes/{slug}/lines/99", {"text": "x"}, 404, "ligne n°99"),
        (f"/api/episodes/{slug}/lines/1", {"text": "   "}, 422, "vide"),
        (f"/api/episodes/{slug}/lines/1", {"text": LINES[1][0]}, 422, "rien à corriger"),
        (f"/api/episodes/{slug}/lines/1", {"text": "a\x00b"}, 422, "caractère"),
        ("/api/episodes/inconnu/lines/1", {"text": "x"}, 404, "inconnu"),
        (f"/api/episodes/{slug}/turns", {"position": 1}, 422, "qui parle"),
        (f"/api/episodes/{slug}/turns", {"position": 1, "person": "personne"}, 404, "personne"),
        (f"/api/episodes/{slug}/turns", {"position": 1, "name": "Delphine"}, 422, "prénom et le nom"),
        (f"/api/episodes/{slug}/turns", {"position": 1, "name": "SPEAKER_02"}, 422, "diarisation"),
        (f"/api/episodes/{slug}/turns", {"position": 40, "name": "Julien Pillot"}, 404, "ligne n°40"),
        (f"/api/episodes/{slug}/turns", {"position": 10**30, "name": "Julien Pillot"}, 422, ""),
        (f"/api/episodes/{slug}/lines/{10**30}", {"text": "x"}, 422, ""),
        (f"/api/episodes/{slug}/lines/-1", {"text": "x"}, 422, ""),
        (f"/api/revisions/{10**30}/undo", {}, 422, ""),
    ]
    for path, body, status, words in cases:
        response = client.post(path, json=body, headers=AUTH)
        assert response.status_code == status, (path, body, response.text)
        detail = response.json()["detail"]
        assert isinstance(detail, list) or words in detail, (path, body, detail)
    assert client.get(f"/api/episodes/{slug}/history").json()["total"] == 0


def test_revision_answers_match_their_schemas(admin_token, client):
    from tests.test_api_schemas import check_answer

    openapi = client.get("/openapi.json").json()
    slug = upload(client)["slug"]
    line = client.post(f"/api/episodes/{slug}/lines/1", json={"text": KEEPIT}, headers=AUTH)
    check_answer(openapi, "/api/episodes/{slug}/lines/{position}", "post", line)
    turn = client.post(f"/api/episodes/{slug}/turns", json={"position": 3, "person": "audrey-maurel"}, headers=AUTH)
    check_answer(openapi, "/api/episodes/{slug}/turns", "post", turn)
    label = client.post(
        f"/api/episodes/{slug}/labels", json={"label": "SPEAKER_00", "name": "Ada Lovelace"}, headers=AUTH
    )
    check_answer(openapi, "/api/episodes/{slug}/labels", "post", label)
    client.patch(f"/api/episodes/{slug}", json={"show": "SMART TECH", "aired_on": "2025-10-23"}, headers=AUTH)
    undo = client.post(f"/api/revisions/{line.json()['id']}/undo", headers=AUTH)
    check_answer(openapi, "/api/revisions/{revision_id}/undo", "post", undo)
    conflict = client.post(f"/api/revisions/{line.json()['id']}/undo", headers=AUTH)
    assert conflict.status_code == 409
    check_answer(openapi, "/api/revisions/{revision_id}/undo", "post", conflict)
    refused = client.post(f"/api/episodes/{slug}/lines/1", json={"text": ""}, headers=AUTH)
    check_answer(openapi, "/api/episodes/{slug}/lines/{position}", "post", refused)
    kept = client.post(
        "/api/episodes", files={"file": ("debat.json", whisperx())}, data={"title": "Autre"}, headers=AUTH
    )
    assert check_answer(openapi, "/api/episodes", "post", kept)["edits"]["status"] == "kept"
    history = check_answer(openapi, "/api/episodes/{slug}/history", "get", client.get(f"/api/episodes/{slug}/history"))
    assert [r["kind"] for r in history["items"]] == ["ingest", "line", "metadata", "label", "turn", "line"]
    metadata = history["items"][2]["changes"]
    assert {"field": "date de diffusion", "before": None, "after": "2025-10-23"} in metadata


def test_plateau_ingest_chooses_to_keep_or_replace_the_edits(tmp_path):
    from sqlmodel import Session

    from app.config import Settings
    from app.db import begin_writing, get_engine
    from app.search import get_search_index
    from app.services import episodes as episode_service
    from app.services import revisions as revision_service
    from tests.test_cli import run

    data_dir = tmp_path / "data"
    transcript = tmp_path / "debat.json"
    transcript.write_bytes(whisperx())
    assert run(data_dir, "ingest", str(transcript)).returncode == 0
    settings = Settings(data_dir=data_dir)
    with Session(get_engine(settings)) as session:
        begin_writing(session)
        (episode,) = episode_service.list_episodes(session)[1]
        revision_service.correct_line(session, episode, 1, KEEPIT, author="Claire", reason="orthographe")
        revision_service.finish(session, episode, get_search_index(settings))
    get_engine(settings).dispose()

    kept = run(data_dir, "ingest", str(transcript))
    assert "(modifications conservées)" in kept.stdout and "1 inchangé(s)" in kept.stdout, kept.stdout
    refused = run(data_dir, "ingest", "--edits", "oublier", str(transcript))
    assert refused.returncode == 2 and "keep ou replace" in refused.stderr
    replaced = run(data_dir, "ingest", "--edits", "replace", str(transcript))
    assert replaced.returncode == 0, replaced.stderr
    assert "(modifications remplacées par le fichier)" in replaced.stdout and "1 mis à jour" in replaced.stdout
    with Session(get_engine(settings)) as session:
        (episode,) = episode_service.list_episodes(session)[1]
        assert episode_service.captions_of(session, episode)[1].text == LINES[1][0]
        authors = [r.author for r in revision_service.history(session, episode)]
        assert authors == ["ligne de commande", "Claire"]
    get_engine(settings).dispose()


def test_a_signed_in_editor_edits_through_the_pages_and_a_visitor_cannot(admin_token, client, settings):
    from sqlmodel import Session

    from app.db import get_engine
    from app.services import editors as editor_service
    from tests.test_editors import HTTPS, PASSWORD, form_token, sign_in

    slug = upload(client)["slug"]
    # a visitor sees no editing control, and every editing route refuses them
    assert "/lines/1/edit" not in client.get(f"/episodes/{slug}", params={"vue": "lignes"}).text
    assert "data-editing" not in client.get(f"/episodes/{slug}").text
    assert client.get(f"{HTTPS}/episodes/{slug}/lines/1/edit").status_code == 401
    for path, data in [
        (f"/episodes/{slug}/lines/1", {"text": KEEPIT}),
        (f"/episodes/{slug}/turns", {"position": "3", "person": "audrey-maurel"}),
        (f"/episodes/{slug}/labels", {"label": "SPEAKER_00", "name": "Julien Pillot"}),
        (f"/episodes/{slug}/history/1/undo", {}),
    ]:
        assert client.post(f"{HTTPS}{path}", data=data, follow_redirects=False).status_code == 401, path

    with Session(get_engine(settings)) as session:
        editor_service.add_editor(session, "claire", PASSWORD)
    assert sign_in(client, "claire", PASSWORD).status_code == 303
    # the lines view links each line to its form; the reading view offers it from a line's actions
    page = client.get(f"{HTTPS}/episodes/{slug}", params={"vue": "lignes"})
    assert f'href="/episodes/{slug}/lines/1/edit"' in page.text
    reading = client.get(f"{HTTPS}/episodes/{slug}").text
    assert " data-editing>" in reading and "Pour corriger une ligne" in reading
    form = client.get(f"{HTTPS}/episodes/{slug}/lines/1/edit")
    assert form.status_code == 200
    document = html5lib.parse(form.text, namespaceHTMLElements=False)
    assert document.find(".//textarea").text == LINES[1][0]
    # the turn and the label forms offer the episode's people
    assert [o.get("value") for o in document.iter("option")] == ["", "audrey-maurel"] * 2
    token = form_token(form.text)
    labelled(form.text)

    # a form without the session's CSRF token changes nothing
    forged = client.post(f"{HTTPS}/episodes/{slug}/lines/1", data={"text": KEEPIT}, follow_redirects=False)
    assert forged.status_code == 403
    saved = client.post(
        f"{HTTPS}/episodes/{slug}/lines/1",
        data={"text": KEEPIT, "reason": "orthographe", "csrf_token": token},
        follow_redirects=False,
    )
    assert saved.status_code == 303 and saved.headers["location"] == f"/episodes/{slug}?t=5&l=1#l-1"
    assert search(client, "Keepit")["total"] == 1
    turn = client.post(
        f"{HTTPS}/episodes/{slug}/turns",
        data={"position": "3", "person": "audrey-maurel", "name": "", "csrf_token": token},
        follow_redirects=False,
    )
    assert turn.status_code == 303, turn.text
    assert search(client, "hyperscalers", speaker="audrey-maurel")["total"] == 1
    label = client.post(
        f"{HTTPS}/episodes/{slug}/labels",
        data={"label": "SPEAKER_00", "person": "", "name": "Delphine Sabattier", "position": "0", "csrf_token": token},
        follow_redirects=False,
    )
    assert label.status_code == 303, label.text
    refused = client.post(
        f"{HTTPS}/episodes/{slug}/lines/1", data={"text": " ", "csrf_token": token}, follow_redirects=False
    )
    assert refused.status_code == 422 and "vide" in refused.text

    history = client.get(f"{HTTPS}/episodes/{slug}/history")
    labelled(history.text)
    document = html5lib.parse(history.text, namespaceHTMLElements=False)
    authors = [a.text for a in document.iterfind(".//strong[@class='revision-author']")]
    assert authors == ["claire"] * 3
    undo_forms = [f.get("action") for f in document.iter("form") if "/undo" in (f.get("action") or "")]
    assert len(undo_forms) == 3
    line_undo = undo_forms[-1]
    undone = client.post(
        f"{HTTPS}{line_undo}", data={"reason": "finalement non", "csrf_token": token}, follow_redirects=False
    )
    assert undone.status_code == 303
    assert texts(client, slug)[1] == LINES[1][0]
    assert search(client, "Keepit", as_typed="true")["total"] == 0
    again = client.post(f"{HTTPS}{line_undo}", data={"csrf_token": token}, follow_redirects=False)
    assert again.status_code == 409 and "déjà annulée" in again.text


def test_undoing_in_reverse_order_brings_back_a_person_whose_lines_all_went_to_someone_else(admin_token, client):
    slug = upload(client)["slug"]
    mapped = client.post(
        f"/api/episodes/{slug}/labels", json={"label": "SPEAKER_01", "name": "Anne Dupont"}, headers=AUTH
    )
    assert mapped.status_code == 201, mapped.text
    turn = client.post(f"/api/episodes/{slug}/turns", json={"position": 1, "person": "audrey-maurel"}, headers=AUTH)
    assert turn.status_code == 201, turn.text
    assert turn.json()["until"] == 5
    # Anne Dupont has no line left: she leaves the episode, and the archive
    assert client.get("/api/guests/anne-dupont").status_code == 404
    # the label mapping is not the lines' state any more: the turn is to be undone first
    blocked = client.post(f"/api/revisions/{mapped.json()['id']}/undo", headers=AUTH)
    assert blocked.status_code == 409 and f"révision n°{turn.json()['id']}" in blocked.json()["detail"]
    assert client.post(f"/api/revisions/{turn.json()['id']}/undo", headers=AUTH).status_code == 201
    assert speakers(client, slug)[1:5] == ["anne-dupont"] * 4
    assert client.get("/api/guests/anne-dupont").status_code == 200
    assert client.post(f"/api/revisions/{mapped.json()['id']}/undo", headers=AUTH).status_code == 201
    assert speakers(client, slug)[1:5] == ["SPEAKER_01"] * 4
    assert client.get("/api/guests/anne-dupont").status_code == 404


def test_the_guests_are_edited_recorded_undone_and_kept_over_a_new_ingest(admin_token, client):
    slug = upload(client)["slug"]
    panel = [{"name": "Audrey Maurel", "role": "CTO, Keepit"}, {"name": "Julien Pillot", "role": "économiste"}]
    patched = client.patch(f"/api/episodes/{slug}", json={"guests": panel, "reason": "tout le plateau"}, headers=AUTH)
    assert patched.status_code == 200, patched.text
    assert [(g["slug"], g["role"]) for g in patched.json()["guests"]] == [
        ("audrey-maurel", "CTO, Keepit"),
        ("julien-pillot", "économiste"),
    ]
    (revision,) = client.get(f"/api/episodes/{slug}/history").json()["items"]
    assert revision["changes"] == [
        {
            "field": "invités",
            "before": "Audrey Maurel (directrice technique)",
            "after": "Audrey Maurel (CTO, Keepit), Julien Pillot (économiste)",
        }
    ]
    # the guest filter and the guest's page follow
    assert [e["slug"] for e in client.get("/api/episodes", params={"guest": "julien-pillot"}).json()["items"]] == [slug]

    # a new ingest of a changed file keeps the editor's panel
    changed = list(LINES)
    changed[9] = ("Voilà, à la semaine prochaine.", None)
    kept = upload(client, whisperx(changed))
    assert [g["slug"] for g in kept["guests"]] == ["audrey-maurel", "julien-pillot"]

    # someone who speaks lines stays a guest until their turns change
    turn = client.post(f"/api/episodes/{slug}/turns", json={"position": 3, "person": "julien-pillot"}, headers=AUTH)
    assert turn.status_code == 201
    refused = client.patch(f"/api/episodes/{slug}", json={"guests": panel[:1]}, headers=AUTH)
    assert refused.status_code == 422 and "Julien Pillot parle" in refused.json()["detail"]
    assert client.post(f"/api/revisions/{turn.json()['id']}/undo", headers=AUTH).status_code == 201

    undone = client.post(f"/api/revisions/{revision['id']}/undo", headers=AUTH)
    assert undone.status_code == 201, undone.text
    guests = client.get(f"/api/episodes/{slug}").json()["guests"]
    assert [(g["slug"], g["role"]) for g in guests] == [("audrey-maurel", "directrice technique")]
    assert client.get("/api/guests/julien-pillot").status_code == 404
    bad = client.patch(f"/api/episodes/{slug}", json={"guests": [{"name": "  "}]}, headers=AUTH)
    assert bad.status_code == 422


def test_a_signed_in_editor_edits_the_episode_details_and_guests_in_a_form(admin_token, client, settings):
    from sqlmodel import Session

    from app.db import get_engine
    from app.services import editors as editor_service
    from tests.test_editors import HTTPS, PASSWORD, form_token, sign_in

    slug = upload(client)["slug"]
    assert f"/episodes/{slug}/edit" not in client.get(f"/episodes/{slug}").text
    assert client.get(f"{HTTPS}/episodes/{slug}/edit").status_code == 401
    with Session(get_engine(settings)) as session:
        editor_service.add_editor(session, "claire", PASSWORD)
    sign_in(client, "claire", PASSWORD)
    assert f'href="/episodes/{slug}/edit"' in client.get(f"{HTTPS}/episodes/{slug}").text
    form = client.get(f"{HTTPS}/episodes/{slug}/edit")
    assert form.status_code == 200
    labelled(form.text)
    document = html5lib.parse(form.text, namespaceHTMLElements=False)
    assert document.find(".//textarea[@name='guests']").text == "Audrey Maurel (directrice technique)"
    fields = {
        "title": "La sauvegarde en débat",
        "show": "SMART TECH",
        "aired_on": "2025-10-23",
        "media_url": "",
        "description": "",
        "guests": "Audrey Maurel (CTO, Keepit)\nJulien Pillot (enseignant-chercheur en économie, Inseec)\n",
        "reason": "d'après la vidéo",
        "csrf_token": form_token(form.text),
    }
    saved = client.post(f"{HTTPS}/episodes/{slug}/edit", data=fields, follow_redirects=False)
    assert saved.status_code == 303 and saved.headers["location"] == f"/episodes/{slug}"
    episode = client.get(f"/api/episodes/{slug}").json()
    assert (episode["title"], episode["show"], episode["aired_on"]) == (
        "La sauvegarde en débat",
        "SMART TECH",
        "2025-10-23",
    )
    assert [(g["name"], g["role"]) for g in episode["guests"]] == [
        ("Audrey Maurel", "CTO, Keepit"),
        ("Julien Pillot", "enseignant-chercheur en économie, Inseec"),
    ]
    (revision,) = client.get(f"/api/episodes/{slug}/history").json()["items"]
    assert revision["author"] == "claire" and revision["reason"] == "d'après la vidéo"
    assert [c["field"] for c in revision["changes"]] == ["titre", "émission", "date de diffusion", "invités"]
    refused = client.post(f"{HTTPS}/episodes/{slug}/edit", data={**fields, "title": " "}, follow_redirects=False)
    assert refused.status_code == 422 and 'role="alert"' in refused.text and "titre" in refused.text
    forged = client.post(f"{HTTPS}/episodes/{slug}/edit", data={**fields, "csrf_token": "x"}, follow_redirects=False)
    assert forged.status_code == 403


def test_an_editor_marks_two_turns_corrects_a_word_and_undoes_it_in_chromium(admin_token, settings, server):
    import tempfile
    from pathlib import Path

    import httpx
    from playwright import sync_api
    from sqlmodel import Session

    from app.db import get_engine
    from app.services import editors as editor_service
    from tests.test_browser import CHROMIUM, CHROMIUM_ARGS, WATCH
    from tests.test_editors import PASSWORD

    if not Path(CHROMIUM).exists():
        pytest.fail(f"no Chromium at {CHROMIUM}: `make test` installs Debian's chromium (or set PLATEAU_CHROMIUM)")
    added = httpx.post(
        f"{server.url}/api/episodes",
        files={"file": ("debat.json", whisperx())},
        data={"title": "Le débat de la sauvegarde", "guests": PANEL},
        headers=AUTH,
    )
    assert added.status_code == 201, added.text
    slug = added.json()["slug"]
    with Session(get_engine(settings)) as session:
        editor_service.add_editor(session, "claire", PASSWORD)
    problems: list[str] = []
    with sync_api.sync_playwright() as playwright, tempfile.TemporaryDirectory() as profile:
        context = playwright.chromium.launch_persistent_context(
            profile, executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True, locale="fr-FR"
        )
        try:
            context.add_init_script(WATCH)
            page = context.new_page()
            page.on("pageerror", lambda e: problems.append(str(e)))
            page.goto(f"{server.url}/login")
            page.get_by_label("Nom d'éditeur").fill("claire")
            page.get_by_label("Mot de passe").fill(PASSWORD)
            page.get_by_role("button", name="Se connecter").click()
            page.wait_for_url(f"{server.url}/")

            # two turns: from 00:15, Audrey Maurel (one of the episode's people); from 00:35, a new name
            # from the lines view, each line's own "Modifier" link
            page.goto(f"{server.url}/episodes/{slug}?vue=lignes")
            page.get_by_role("link", name="Modifier la ligne 00:15").click()
            page.locator("#turn-person").select_option("audrey-maurel")
            page.get_by_role("button", name="Marquer le tour").click()
            page.wait_for_url(f"{server.url}/episodes/{slug}?t=15&l=3#l-3")
            # back in the reading view, the turn opens the marked line's paragraph
            sync_api.expect(page.locator(".moment .speaker")).to_contain_text("Audrey Maurel")
            # from the reading view, a line's actions
            page.locator(".transcript .line[data-start='35.0']").click()
            page.locator(".line-actions").get_by_role("link", name="Modifier la ligne").click()
            page.locator("#turn-name").fill("Julien Pillot")
            page.get_by_role("button", name="Marquer le tour").click()
            sync_api.expect(page.locator(".moment .speaker")).to_contain_text("Julien Pillot")

            # a corrected word
            page.locator(".transcript .line[data-start='5.0']").click()
            page.locator(".line-actions").get_by_role("link", name="Modifier la ligne").click()
            page.locator("#edit-text").fill(KEEPIT)
            page.locator("#edit-text-reason").fill("le nom de l'entreprise")
            page.get_by_role("button", name="Enregistrer la correction").click()
            sync_api.expect(page.locator(".line.is-marked #l-1")).to_have_text(KEEPIT)

            # found by search at once; the speaker filter finds the line of the turn
            page.goto(f"{server.url}/search?q=Keepit")
            sync_api.expect(page.locator(".hit .snippet mark").first).to_have_text("Keepit")
            page.goto(f"{server.url}/search?q=hyperscalers&speaker=audrey-maurel")
            sync_api.expect(page.locator(".hit .hit-speaker")).to_contain_text("Audrey Maurel")

            # undo from the history: the old text is back, and what searches find with it
            page.goto(f"{server.url}/episodes/{slug}/history")
            sync_api.expect(page.locator(".revision-author").first).to_have_text("claire")
            page.locator(".revision").first.get_by_role("button").click()
            sync_api.expect(page.locator(".revision").first).to_contain_text("Annulation de la révision")
            page.goto(f"{server.url}/search?q=Keepit&as_typed=1")
            sync_api.expect(page.locator("h2", has_text="Aucun passage")).to_be_visible()
            page.goto(f"{server.url}/episodes/{slug}?t=5&l=1")
            sync_api.expect(page.locator(".line.is-marked #l-1")).to_have_text(LINES[1][0])
            problems += page.evaluate("window.__problems || []")
        finally:
            context.close()
    assert problems == []
