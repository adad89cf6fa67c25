"""The one router of the HTML side: every page, the feeds and the API docs hang from it."""

from fastapi import APIRouter

from app.web import docs, editing, episodes, feeds, guests, history, home, login, search, shows

router = APIRouter()
for part in (
    home.router,
    search.router,
    episodes.router,
    history.router,
    editing.router,
    guests.router,
    shows.router,
    feeds.router,
    docs.router,
    login.router,
):
    router.include_router(part)
