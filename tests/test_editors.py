"""Editors: accounts from `plateau user`, signing in and out, the session cookie, CSRF, the rate limit."""

import re
import sqlite3
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from playwright import sync_api
from sqlmodel import Session
from test_browser import CHROMIUM, CHROMIUM_ARGS, WATCH
from test_cli import run

from app import limits
from app.db import get_engine
from app.deps import EditorDep
from app.main import create_app
from app.services import editors as editor_service

HTTPS = "https://testserver"
PASSWORD = "cheval-correct-agrafe-batterie"
SESSION = "__Host-plateau-session"


@pytest.fixture
def alice(settings) -> str:
    """An editor named alice, made as `plateau user add` makes one."""
    with Session(get_engine(settings)) as session:
        editor_service.add_editor(session, "alice", PASSWORD)
    return "alice"


def form_token(html: str) -> str:
    found = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert found, "the page has no csrf_token field"
    return found.group(1)


def login_token(html: str) -> str:
    """The login form's own token (a signed-in page also has the logout form's)."""
    return form_token(html[html.index('action="/login"') :])


def sign_in(client, name: str, password: str, base: str = HTTPS, next_path: str = "/"):
    page = client.get(f"{base}/login")
    assert page.status_code == 200
    data = {"name": name, "password": password, "csrf_token": login_token(page.text), "next": next_path}
    return client.post(f"{base}/login", data=data, follow_redirects=False)


def cookie_line(response, name: str) -> str:
    lines = [line for line in response.headers.get_list("set-cookie") if line.startswith(f"{name}=")]
    assert len(lines) == 1, response.headers.get_list("set-cookie")
    return lines[0]


def attributes(line: str) -> set[str]:
    return {part.strip().lower() for part in line.split(";")[1:]}


# --- accounts ----------------------------------------------------------------------------------


def test_user_add_prints_a_one_time_password_that_signs_in(settings, client):
    added = run(settings.data_dir, "user", "add", "Bérénice")
    assert added.returncode == 0, added.stderr
    password = re.search(r"affiché une seule fois, notez-le\) : (\S+)", added.stdout).group(1)
    assert len(password) >= 20
    response = sign_in(client, "Bérénice", password)
    assert response.status_code == 303
    assert "Connecté : Bérénice" in client.get(f"{HTTPS}/").text
    with sqlite3.connect(settings.data_dir / "plateau.db") as db:
        ((stored,),) = db.execute("SELECT password_hash FROM editor").fetchall()
    assert stored.startswith("$argon2id$") and password not in stored


def test_user_add_reads_the_password_from_stdin_and_shows_none(settings, client):
    added = run(settings.data_dir, "user", "add", "bob", "--password-stdin", input="un mot de passe choisi\n")
    assert added.returncode == 0, added.stderr
    assert "bob" in added.stdout and "mot de passe" not in added.stdout.lower()
    assert sign_in(client, "bob", "un mot de passe choisi").status_code == 303
    assert sign_in(client, "bob", "un mot de passe choisi\n").status_code == 401


def test_user_add_refuses_a_short_password_and_a_taken_name(settings):
    short = run(settings.data_dir, "user", "add", "bob", "--password-stdin", input="court\n")
    assert short.returncode == 1 and "trop court" in short.stderr
    assert run(settings.data_dir, "user", "add", "bob").returncode == 0
    again = run(settings.data_dir, "user", "add", "bob")
    assert again.returncode == 1 and "existe déjà" in again.stderr


def test_user_list_and_remove(settings, client, alice):
    sign_in(client, "alice", PASSWORD)
    listed = run(settings.data_dir, "user", "list")
    assert "alice" in listed.stdout and "1 session(s) ouverte(s)" in listed.stdout
    assert run(settings.data_dir, "user", "remove", "alice").returncode == 0
    assert "Connecté" not in client.get(f"{HTTPS}/").text, "removing an editor ends their sessions"
    assert run(settings.data_dir, "user", "remove", "alice").returncode == 1
    assert "Aucun éditeur" in run(settings.data_dir, "user", "list").stdout


# --- signing in --------------------------------------------------------------------------------


def test_the_login_page_is_an_accessible_french_form(client):
    page = client.get("/login")
    assert page.status_code == 200 and page.headers["cache-control"] == "no-store"
    html = page.text
    assert '<label for="login-name">Nom d\'éditeur</label>' in html
    assert '<label for="login-password">Mot de passe</label>' in html
    assert 'autocomplete="current-password"' in html and 'method="post" action="/login"' in html
    assert 'href="/login' not in html, "the login page does not link to itself"


def test_a_right_password_signs_in_and_goes_back_where_asked(client, alice):
    response = sign_in(client, "alice", PASSWORD, next_path="/episodes?page=2")
    assert response.status_code == 303 and response.headers["location"] == "/episodes?page=2"
    page = client.get(f"{HTTPS}/episodes")
    assert "Connecté : alice" in page.text and 'action="/logout"' in page.text
    assert page.headers["cache-control"] == "private, no-store"
    token = form_token(page.text)
    assert f'hx-headers=\'{{"X-CSRF-Token": "{token}"}}\'' in page.text, "HTMX requests carry the token"


def test_the_login_page_sends_back_to_the_page_that_linked_to_it(client, alice):
    page = client.get(f"{HTTPS}/login", headers={"Referer": f"{HTTPS}/guests?x=1"})
    assert 'name="next" value="/guests?x=1"' in page.text
    elsewhere = client.get(f"{HTTPS}/login", headers={"Referer": "https://evil.example/guests"})
    assert 'name="next" value="/"' in elsewhere.text


@pytest.mark.parametrize("target", ["//evil.example/", "https://evil.example/", "/\\evil.example", "javascript:x"])
def test_a_sign_in_never_sends_the_browser_to_another_site(client, alice, target):
    response = sign_in(client, "alice", PASSWORD, next_path=target)
    assert response.status_code == 303 and response.headers["location"] == "/"


def test_a_wrong_password_is_refused_with_an_announced_message(client, alice):
    response = sign_in(client, "alice", "pas le bon mot de passe")
    assert response.status_code == 401
    assert '<div class="alert alert-error" role="alert" id="login-error"><p>Nom ou mot de passe incorrect.</p>' in (
        response.text
    )
    assert 'aria-describedby="login-error"' in response.text and 'value="alice"' in response.text
    assert not any(line.startswith(SESSION) for line in response.headers.get_list("set-cookie"))
    assert sign_in(client, "personne", PASSWORD).status_code == 401, "an unknown name reads the same"


def test_the_session_cookie_over_https_is_host_prefixed_secure_httponly_lax(client, alice):
    line = cookie_line(sign_in(client, "alice", PASSWORD), SESSION)
    assert {"httponly", "secure", "path=/", "samesite=lax", f"max-age={limits.EDITOR_SESSION_SECONDS}"} <= (
        attributes(line)
    )
    assert not any(a.startswith("domain") for a in attributes(line)), "a __Host- cookie has no Domain"


def test_on_this_machine_over_http_the_cookie_is_still_host_prefixed(client, alice):
    # Chromium and Firefox keep Secure cookies from http://127.0.0.1 and http://localhost (checked
    # in the browser test below)
    for base in ("http://127.0.0.1:8000", "http://localhost:8000"):
        page = client.get(f"{base}/login")
        csrf = cookie_line(page, "__Host-plateau-csrf")
        assert "secure" in attributes(csrf)
        client.cookies.clear()  # httpx, unlike those browsers, sends no Secure cookie over http: by hand
        response = client.post(
            f"{base}/login",
            data={"name": "alice", "password": PASSWORD, "csrf_token": login_token(page.text)},
            headers={"Cookie": csrf.split(";")[0]},
            follow_redirects=False,
        )
        assert response.status_code == 303
        assert {"secure", "httponly", "samesite=lax", "path=/"} <= attributes(cookie_line(response, SESSION))


def test_over_plain_http_to_another_host_the_cookie_has_no_prefix_and_no_secure(client, alice):
    # X-Forwarded-Proto is believed from PLATEAU_TRUSTED_PROXIES only (app/proxies.py), unset here
    page = client.get("http://plateau.lan/login", headers={"X-Forwarded-Proto": "https"})
    response = client.post(
        "http://plateau.lan/login",
        data={"name": "alice", "password": PASSWORD, "csrf_token": login_token(page.text)},
        headers={"X-Forwarded-Proto": "https"},
        follow_redirects=False,
    )
    assert response.status_code == 303
    line = cookie_line(response, "plateau-session")
    assert {"httponly", "path=/", "samesite=lax"} <= attributes(line) and "secure" not in attributes(line)
    assert "Connecté : alice" in client.get("http://plateau.lan/").text


# --- CSRF --------------------------------------------------------------------------------------


def test_a_login_post_without_its_csrf_token_is_refused(client, alice):
    client.get(f"{HTTPS}/login")  # the cookie half of the double submit
    for data in ({}, {"csrf_token": "inventé"}):
        response = client.post(f"{HTTPS}/login", data={"name": "alice", "password": PASSWORD, **data})
        assert response.status_code == 403
        assert "jeton anti-CSRF" in response.text and 'role="alert"' in response.text
    page = client.get(f"{HTTPS}/login")
    client.cookies.clear()  # a token copied from the page, without the cookie this site set
    response = client.post(
        f"{HTTPS}/login", data={"name": "alice", "password": PASSWORD, "csrf_token": login_token(page.text)}
    )
    assert response.status_code == 403
    assert "Connecté" not in client.get(f"{HTTPS}/").text


def test_a_logout_without_the_session_token_is_refused(client, alice):
    sign_in(client, "alice", PASSWORD)
    for data in ({}, {"csrf_token": "inventé"}):
        response = client.post(f"{HTTPS}/logout", data=data, follow_redirects=False)
        assert response.status_code == 403 and "jeton anti-CSRF" in response.text
    assert "Connecté : alice" in client.get(f"{HTTPS}/").text, "still signed in"


def test_editor_dependency_wants_a_signed_in_editor_and_the_session_token(settings, alice):
    app = create_app()

    @app.post("/essai-edition")
    def edit(editor: EditorDep) -> dict:
        return {"editor": editor.name}

    http = TestClient(app, base_url=HTTPS, raise_server_exceptions=False)
    assert http.post("/essai-edition", data={"x": "1"}).status_code == 401
    sign_in(http, "alice", PASSWORD)
    token = form_token(http.get("/").text)
    assert http.post("/essai-edition", data={"x": "1"}).status_code == 403
    assert http.post("/essai-edition", headers={"X-CSRF-Token": "invente"}).status_code == 403
    assert http.post("/essai-edition", data={"csrf_token": token}).json() == {"editor": "alice"}
    assert http.post("/essai-edition", headers={"X-CSRF-Token": token}).json() == {"editor": "alice"}


# --- signing out -------------------------------------------------------------------------------


def test_logout_ends_the_session_on_the_server(settings, client, alice):
    response = sign_in(client, "alice", PASSWORD)
    old = cookie_line(response, SESSION).split(";")[0].split("=", 1)[1]
    with sqlite3.connect(settings.data_dir / "plateau.db") as db:
        assert db.execute("SELECT count(*) FROM editor_session WHERE token_hash = ?", (old,)).fetchone() == (0,)
    token = form_token(client.get(f"{HTTPS}/").text)
    out = client.post(f"{HTTPS}/logout", data={"csrf_token": token}, follow_redirects=False)
    assert out.status_code == 303 and out.headers["location"] == "/"
    assert cookie_line(out, SESSION).startswith(f'{SESSION}=""') or "max-age=0" in attributes(cookie_line(out, SESSION))
    client.cookies.clear()
    replayed = client.get(f"{HTTPS}/", headers={"Cookie": f"{SESSION}={old}"})
    assert "Connecté" not in replayed.text and ">Connexion</a>" in replayed.text


# --- the rate limit ----------------------------------------------------------------------------


def client_at(app: FastAPI, address: str) -> TestClient:
    return TestClient(app, base_url=HTTPS, client=(address, 40000), raise_server_exceptions=False)


def test_five_failures_for_a_name_lock_that_name_only(settings, alice):
    with Session(get_engine(settings)) as session:
        editor_service.add_editor(session, "bob", PASSWORD)
    app = create_app()
    first, second = client_at(app, "192.0.2.1"), client_at(app, "192.0.2.2")
    for _ in range(limits.LOGIN_FAILURES_PER_NAME):
        assert sign_in(first, "alice", "mauvais mot de passe").status_code == 401
    locked = sign_in(second, "Alice", PASSWORD)  # the right password, another address, other case
    assert locked.status_code == 429
    assert 0 < int(locked.headers["retry-after"]) <= limits.LOGIN_WINDOW_SECONDS
    assert "Trop de tentatives de connexion manquées : réessayez dans 15 minutes." in locked.text
    assert sign_in(second, "bob", PASSWORD).status_code == 303, "another name from another address"


def test_failures_from_one_address_lock_that_address_only(settings, alice):
    app = create_app()
    guesser, colleague = client_at(app, "198.51.100.7"), client_at(app, "198.51.100.8")
    for n in range(limits.LOGIN_FAILURES_PER_ADDRESS):
        assert sign_in(guesser, f"nom-{n}", "au hasard").status_code == 401
    assert sign_in(guesser, "alice", PASSWORD).status_code == 429
    assert sign_in(colleague, "alice", PASSWORD).status_code == 303


def test_the_rate_limit_holds_across_processes(settings, alice):
    # failures counted by another process (a second worker) lock the name here too
    script = (
        "from sqlmodel import Session\n"
        "from app.db import get_engine\n"
        "from app.services.editors import sign_in\n"
        "with Session(get_engine()) as s:\n"
        f"    for _ in range({limits.LOGIN_FAILURES_PER_NAME}):\n"
        "        assert sign_in(s, 'alice', 'faux', '203.0.113.9').editor is None\n"
    )
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert sign_in(client_at(create_app(), "203.0.113.10"), "alice", PASSWORD).status_code == 429


def test_a_success_clears_the_names_failures(settings, client, alice):
    for _ in range(limits.LOGIN_FAILURES_PER_NAME - 1):
        sign_in(client, "alice", "mauvais")
    assert sign_in(client, "alice", PASSWORD).status_code == 303
    assert sign_in(client, "alice", "mauvais").status_code == 401, "counting starts again"


# --- what visitors see and may do ----------------------------------------------------------------


def test_a_signed_out_visitor_sees_no_editing_control(client, seeded):
    for path in ("/", f"/episodes/{seeded['000']}", "/search?q=cloud", "/guests"):
        html = client.get(f"{HTTPS}{path}").text
        assert ">Connexion</a>" in html
        for control in ("Connecté", "/logout", "csrf_token", "X-CSRF-Token"):
            assert control not in html, (path, control)


def test_a_session_cookie_does_not_open_the_api_and_the_bearer_token_still_does(client, alice, admin_token):
    sign_in(client, "alice", PASSWORD)
    assert client.delete(f"{HTTPS}/api/episodes/inconnu").status_code == 401
    answer = client.delete(f"{HTTPS}/api/episodes/inconnu", headers={"Authorization": f"Bearer {admin_token}"})
    assert answer.status_code == 404


def test_login_posts_need_no_bearer_token_but_keep_the_small_body_limit(client, alice, admin_token):
    assert sign_in(client, "alice", PASSWORD).status_code == 303
    big = client.post(f"{HTTPS}/login", content=b"a" * (limits.MAX_OTHER_BODY_BYTES + 1))
    assert big.status_code == 413


# --- in Chromium -------------------------------------------------------------------------------


def test_an_editor_signs_in_and_out_in_chromium(settings, server, alice):
    if not Path(CHROMIUM).exists():
        pytest.fail(f"no Chromium at {CHROMIUM}: `make test` installs Debian's chromium (or set PLATEAU_CHROMIUM)")
    problems: list[str] = []
    with sync_api.sync_playwright() as playwright, tempfile.TemporaryDirectory() as profile:
        context = playwright.chromium.launch_persistent_context(
            profile, executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True, locale="fr-FR"
        )
        try:
            context.add_init_script(WATCH)
            page = context.new_page()
            page.on("pageerror", lambda e: problems.append(str(e)))
            page.goto(server.url + "/episodes")
            page.get_by_role("link", name="Connexion").click()
            page.get_by_label("Nom d'éditeur").fill("alice")
            page.get_by_label("Mot de passe").fill("pas le bon")
            page.get_by_role("button", name="Se connecter").click()
            sync_api.expect(page.get_by_role("alert")).to_contain_text("Nom ou mot de passe incorrect")
            page.get_by_label("Mot de passe").fill(PASSWORD)
            page.get_by_role("button", name="Se connecter").click()
            page.wait_for_url(server.url + "/episodes")
            sync_api.expect(page.locator(".site-header")).to_contain_text("Connecté : alice")
            # over http://127.0.0.1 Chromium keeps the Secure, __Host- cookie
            (cookie,) = [c for c in context.cookies() if c["name"] == SESSION]
            assert cookie["secure"] and cookie["httpOnly"] and cookie["sameSite"] == "Lax" and cookie["path"] == "/"
            page.get_by_role("button", name="Se déconnecter").click()
            page.wait_for_url(server.url + "/")
            sync_api.expect(page.get_by_role("link", name="Connexion")).to_be_visible()
            assert not [c for c in context.cookies() if c["name"] == SESSION]
            problems += page.evaluate("window.__problems || []")
        finally:
            context.close()
    assert problems == []
