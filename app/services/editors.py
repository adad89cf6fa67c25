"""Editors: accounts and their argon2 passwords, server-side sessions, and the sign-in rate limit."""

import hashlib
import secrets
import unicodedata
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import cache

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlmodel import Session, col, delete, func, select

from app import limits
from app.db import begin_writing
from app.models import Editor, EditorSession, LoginAttempt


class EditorError(ValueError):
    """A name or a password that cannot be used, with why (in French, for the command's user)."""


# argon2id with the library's defaults (RFC 9106's second recommendation: 64 MiB, 3 passes, 4 lanes).
hasher = PasswordHasher()


def now() -> datetime:
    return datetime.now(UTC)


def clean_name(name: str) -> str:
    """An editor's name as kept and typed: trimmed, NFC, one line of printable characters."""
    name = unicodedata.normalize("NFC", name.strip())
    if not name:
        raise EditorError("Nom d'éditeur vide.")
    if len(name) > limits.MAX_EDITOR_NAME_CHARS:
        raise EditorError(f"Nom d'éditeur trop long : {limits.MAX_EDITOR_NAME_CHARS} caractères au plus.")
    if any(unicodedata.category(c)[0] == "C" for c in name):
        raise EditorError("Le nom d'éditeur contient des caractères de contrôle.")
    return name


def check_password(password: str) -> str:
    if len(password) < limits.MIN_PASSWORD_CHARS:
        raise EditorError(f"Mot de passe trop court : {limits.MIN_PASSWORD_CHARS} caractères au moins.")
    if len(password) > limits.MAX_PASSWORD_CHARS:
        raise EditorError(f"Mot de passe trop long : {limits.MAX_PASSWORD_CHARS} caractères au plus.")
    return password


def new_password() -> str:
    """20 characters from the URL-safe alphabet: 120 random bits, typed once and then kept by a browser."""
    return secrets.token_urlsafe(15)


def add_editor(session: Session, name: str, password: str) -> Editor:
    name = clean_name(name)
    password_hash = hasher.hash(check_password(password))
    begin_writing(session)
    if session.exec(select(Editor).where(Editor.name == name)).first() is not None:
        session.rollback()
        raise EditorError(f"L'éditeur « {name} » existe déjà (`plateau user remove {name}` puis `user add`).")
    editor = Editor(name=name, password_hash=password_hash, created_at=now())
    session.add(editor)
    session.commit()
    session.refresh(editor)
    return editor


def list_editors(session: Session) -> list[tuple[Editor, int]]:
    """Every editor, by name, with how many sessions they have open."""
    open_sessions = (
        select(EditorSession.editor_id, func.count(col(EditorSession.id)).label("n"))
        .where(EditorSession.expires_at > now())
        .group_by(col(EditorSession.editor_id))
        .subquery()
    )
    rows = session.exec(
        select(Editor, func.coalesce(open_sessions.c.n, 0))
        .outerjoin(open_sessions, open_sessions.c.editor_id == Editor.id)
        .order_by(col(Editor.name))
    ).all()
    return [(editor, int(count)) for editor, count in rows]


def remove_editor(session: Session, name: str) -> bool:
    """Delete the account and end its sessions; False when there is no such editor."""
    begin_writing(session)
    editor = session.exec(select(Editor).where(Editor.name == name.strip())).first()
    if editor is None:
        session.rollback()
        return False
    session.exec(delete(EditorSession).where(col(EditorSession.editor_id) == editor.id))
    session.delete(editor)
    session.commit()
    return True


# --- signing in ------------------------------------------------------------------------------


@dataclass(frozen=True)
class SignIn:
    """What a sign-in attempt gives: an editor and a new session token, or why not."""

    editor: Editor | None = None
    token: str | None = None  # the cookie's value; the database keeps its hash
    retry_after: int | None = None  # seconds, when the rate limit refused the attempt


def token_hash(token: str) -> str:
    # a random 256-bit token needs no slow hash: SHA-256 is enough to make a stolen table useless
    return hashlib.sha256(token.encode()).hexdigest()


@cache
def _decoy_hash() -> str:
    return hasher.hash(secrets.token_urlsafe(15))


def sign_in(session: Session, name: str, password: str, address: str) -> SignIn:
    """Check a name and password, within the rate limit, and open a session when they match.

    The attempt is counted before the (slow) password check, in the same write transaction as the
    count: two worker processes cannot both let a sixth guess through. A success takes back that
    attempt and the name's earlier failures."""
    folded = unicodedata.normalize("NFC", name.strip()).casefold()[: limits.MAX_EDITOR_NAME_CHARS * 4]
    address = address[:100]
    moment = now()
    begin_writing(session)
    session.exec(
        delete(LoginAttempt).where(
            col(LoginAttempt.attempted_at) < moment - timedelta(seconds=limits.LOGIN_WINDOW_SECONDS)
        )
    )
    wait = _wait(session, LoginAttempt.name == folded, limits.LOGIN_FAILURES_PER_NAME, moment)
    wait = max(wait, _wait(session, LoginAttempt.address == address, limits.LOGIN_FAILURES_PER_ADDRESS, moment))
    if wait:
        session.commit()
        return SignIn(retry_after=wait)
    attempt = LoginAttempt(name=folded, address=address, attempted_at=moment)
    session.add(attempt)
    session.commit()

    editor = session.exec(select(Editor).where(Editor.name == unicodedata.normalize("NFC", name.strip()))).first()
    if editor is None:
        _verify(_decoy_hash(), password)  # as long as for a real name: timing tells no names
        return SignIn()
    if not _verify(editor.password_hash, password):
        return SignIn()

    token = secrets.token_urlsafe(32)
    editor_id = editor.id
    assert editor_id is not None
    begin_writing(session)
    session.exec(delete(LoginAttempt).where(col(LoginAttempt.name) == folded))  # this attempt included
    session.exec(delete(EditorSession).where(col(EditorSession.expires_at) <= moment))
    if hasher.check_needs_rehash(editor.password_hash):
        editor.password_hash = hasher.hash(password)
        session.add(editor)
    session.add(
        EditorSession(
            token_hash=token_hash(token),
            editor_id=editor_id,
            csrf_token=secrets.token_urlsafe(32),
            created_at=moment,
            expires_at=moment + timedelta(seconds=limits.EDITOR_SESSION_SECONDS),
        )
    )
    session.commit()
    session.refresh(editor)
    return SignIn(editor=editor, token=token)


def _wait(session: Session, which, allowed: int, moment: datetime) -> int:
    """Seconds until these failures fall under `allowed` again; 0 when they are under it."""
    times = session.exec(
        select(LoginAttempt.attempted_at).where(which).order_by(col(LoginAttempt.attempted_at).desc()).limit(allowed)
    ).all()
    if len(times) < allowed:
        return 0
    oldest = times[-1]  # the attempt that leaves the window first and frees one place
    freed = oldest + timedelta(seconds=limits.LOGIN_WINDOW_SECONDS)
    return max(1, int((freed - moment).total_seconds() + 0.999))


def _verify(password_hash: str, password: str) -> bool:
    try:
        return hasher.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def session_for(session: Session, token: str) -> tuple[Editor, EditorSession] | None:
    """The editor and session a cookie's token opens, while it lasts."""
    row = session.exec(
        select(Editor, EditorSession)
        .join(EditorSession, col(EditorSession.editor_id) == Editor.id)
        .where(EditorSession.token_hash == token_hash(token), EditorSession.expires_at > now())
    ).first()
    return (row[0], row[1]) if row else None


def sign_out(session: Session, token: str) -> None:
    """End the session on the server: its cookie, kept or stolen, opens nothing any more."""
    begin_writing(session)
    session.exec(delete(EditorSession).where(col(EditorSession.token_hash) == token_hash(token)))
    session.commit()
