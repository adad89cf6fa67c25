"""Episodes: the filtered list, and one episode's page opened at a second, a range, or a search."""

from typing import Annotated
from urllib.parse import urlencode

from fastapi import APIRouter, HTTPException, Query, Request

from app import limits
from app.deps import SearchDep, SessionDep, SettingsDep
from app.search import SearchRequest
from app.services import episodes as episode_service
from app.services import guests as guest_service
from app.services import speaking as speaking_service
from app.services.speakers import speakers_by_id
from app.timecodes import TimecodeError, parse_moment
from app.web import params
from app.web.errors import PageRoute
from app.web.highlight import marked_parts, terms_of
from app.web.links import absolute_url
from app.web.media import player_for
from app.web.pagination import Pagination
from app.web.speaking import bar_segments
from app.web.templating import date_fr, is_fragment_request, render, timestamp
from app.web.transcript import (
    attribution,
    caption_lines,
    line_number,
    mark,
    mark_turns,
    paragraphs,
    quote_of,
    video_at,
)

router = APIRouter(route_class=PageRoute)
DESCRIPTION_CHARS = 200
LINES_VIEW = "lignes"  # ?vue=lignes: one caption line a row, as the file has them; else the reading view
# a request for this target gets the passage and its citation alone: what a line's "Copier la
# citation" and "Citer un passage" fetch, so the page's JavaScript never rebuilds a citation itself
PASSAGE_TARGET = "passage"


def view_links(request: Request, slug: str) -> dict[str, str]:
    """The same page in each view, at the same moment, line and search."""
    kept = [(k, v) for k, v in request.query_params.multi_items() if k in ("t", "l", "q") and v.strip()]
    # with no moment to bring into view, the link opens on the transcript it switches
    fragment = "" if any(k == "t" for k, _ in kept) else "#transcript-title"
    reading = urlencode(kept)
    lines = urlencode([*kept, ("vue", LINES_VIEW)])
    return {
        "lecture": f"/episodes/{slug}" + (f"?{reading}" if reading else "") + fragment,
        LINES_VIEW: f"/episodes/{slug}?{lines}{fragment}",
    }


@router.get("/episodes", include_in_schema=False)
def episodes(
    request: Request,
    show: str | None = None,
    guest: str | None = None,
    year: str | None = None,
    page: str | None = None,
    *,
    session: SessionDep,
):
    show, guest = params.text(show), params.text(guest)
    number, year_value = params.page_number(page), params.year_number(year)
    total, items = episode_service.list_episodes(
        session, show=show, guest=guest, year=year_value, page=number, per_page=limits.EPISODES_PER_PAGE
    )
    return render(
        request,
        "episodes.html",
        {
            "nav": "episodes",
            "episodes": episode_service.summarize(session, items),
            "total": total,
            "pager": Pagination(request.url, number, limits.EPISODES_PER_PAGE, total),
            "filters": {"show": show or "", "guest": guest or "", "year": year_value or ""},
            # the filter lists sit outside the results block: a fragment request never shows them
            **(
                {}
                if is_fragment_request(request)
                else {
                    "shows": episode_service.list_shows(session),
                    "guests": guest_service.list_guests(session, per_page=None)[1],
                }
            ),
        },
        block="results",
    )


@router.get("/episodes/{slug}", include_in_schema=False)
def episode(
    slug: str,
    request: Request,
    t: str | None = None,
    q: str | None = None,
    position: Annotated[str | None, Query(alias="l")] = None,  # the line of `t` a search hit is in: ?t=754&l=231
    vue: str | None = None,
    *,
    session: SessionDep,
    settings: SettingsDep,
    index: SearchDep,
):
    found = episode_service.get_episode(session, slug)
    if found is None:
        raise HTTPException(404, f"Aucun épisode « {slug} » dans l'archive.")
    assert found.id is not None  # a stored episode's id
    summary = episode_service.summarize(session, [found])[0]
    lines = caption_lines(session, found.id)
    roles = {guest.slug: guest.role for guest in summary.guests}
    people = speakers_by_id(session, (line.person_id for line in lines))
    mark_turns(lines, people, roles)
    # the bar sits outside the search block: a fragment request never shows it
    times = [] if is_fragment_request(request) else speaking_service.episode_speaker_times(session, found.id)
    q = (q or "").strip()[: limits.MAX_QUERY_CHARS]

    moment, marked, notice = None, [], None
    if t is not None and t.strip():
        try:
            moment = parse_moment(t)
        except TimecodeError as error:
            notice = f"Lien horodaté non reconnu : {error}. La transcription s'ouvre au début."
        else:
            marked = mark(lines, moment, found.duration, line_number(position))
            if not marked:
                notice = (
                    f"Cet épisode dure {timestamp(found.duration)} : le moment {timestamp(moment.start)} n'existe pas."
                )
                moment = None

    terms = terms_of(q)
    if terms:
        for line, cut in zip(lines, marked_parts([line.text for line in lines], terms), strict=True):
            line.parts = cut

    results = None
    if q:
        results = index.search(session, SearchRequest(q=q, episode=slug, per_page=limits.EPISODE_HITS))

    show_name = summary.show.name if summary.show else None
    page_url = absolute_url(request, settings, f"/episodes/{found.slug}")
    quote, share_url, citation, video, said_by = None, page_url, None, None, None
    if marked:
        assert moment is not None  # lines are marked only at a moment
        first = marked[0]
        first_index = lines.index(first)
        quoted = marked
        if moment.end is None:  # a single line says little: quote on to the end of the sentence or so
            i = first_index
            quoted = [first]
            # ...within the speaker's turn: a quote is one person's words
            while i + 1 < len(lines) and len(" ".join(x.text for x in quoted)) < 120 and lines[i + 1].turn is None:
                i += 1
                quoted.append(lines[i])
        quote = quote_of(quoted)
        names = []  # who says the quote, each once in order (a range may cross turns)
        for line in quoted:
            person = people.get(line.person_id) if line.person_id is not None else None
            name = attribution(line.speaker, person, roles.get(person.slug) if person else None)
            if name and name not in names:
                names.append(name)
        said_by = " et ".join(names) or None
        t_value = f"{moment.start}" if moment.end is None else f"{moment.start}-{moment.end}"
        if first.second == moment.start and not first.anchor:  # not the first line said in that second: `l` says which
            t_value += f"&l={first.position}"
        share_url = f"{page_url}?t={t_value}"
        stamp = (
            timestamp(first.start) if moment.end is None else f"{timestamp(first.start)}–{timestamp(marked[-1].start)}"
        )
        if said_by:  # « … » — Julien Pillot (économiste, Inseec), SMART TECH, 23 octobre 2025, 12:34, link
            source = (said_by, show_name, date_fr(found.aired_on, "") or None, stamp, share_url)
            citation = f"« {quote} » — " + ", ".join(x for x in source if x)
        else:
            citation = "\n".join(
                x
                for x in (
                    f"« {quote} »",
                    " — ".join(x for x in (show_name, date_fr(found.aired_on, "") or None, stamp) if x),
                    share_url,
                )
                if x
            )
        if found.media_url:
            video = video_at(found.media_url, int(first.start))
    else:
        citation = "\n".join(
            x
            for x in (
                found.title,
                " — ".join(x for x in (show_name, date_fr(found.aired_on, "") or None) if x),
                page_url,
            )
            if x
        )

    view = LINES_VIEW if (vue or "").strip() == LINES_VIEW else "lecture"
    fragment_block = "passage" if request.headers.get("HX-Target") == PASSAGE_TARGET else "episode_hits"
    description = " ".join((found.description or "").split())
    og_description = quote or (description[:DESCRIPTION_CHARS] + ("…" if len(description) > DESCRIPTION_CHARS else ""))
    response = render(
        request,
        "episode.html",
        {
            "nav": "episodes",
            "view": view,
            "view_links": view_links(request, found.slug),
            "paragraphs": paragraphs(lines) if view != LINES_VIEW and fragment_block != "passage" else [],
            "share_text": f"« {quote} »" + (f" — {said_by}" if said_by else "") if quote else None,
            "episode": found,
            "summary": summary,
            "show": summary.show,
            "lines": lines,
            "marked": marked,
            "moment": moment,
            "notice": notice,
            "q": q,
            "results": results,
            "quote": quote,
            "said_by": said_by,
            "citation": citation,
            "speaking": list(zip(times, bar_segments(times), strict=True)),
            "share_url": share_url,
            "page_url": page_url,
            "video_url": video,
            # the player, cued at the marked line: a ?t= link starts it there
            "player": player_for(found.media_url, marked[0].start if marked else 0),
            "og": {"title": found.title, "description": og_description, "url": share_url},
            "marked_anchor": marked[0].target if marked else None,
        },
        block=fragment_block,
    )
    response.headers["Vary"] = "HX-Request, HX-Target"  # HX-Target picks the fragment
    return response
