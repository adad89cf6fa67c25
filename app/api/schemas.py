"""The shapes the JSON API answers with, as /docs shows them (the contract is SPEC's "JSON API").

Every model forbids keys it does not declare: a route that starts returning a new key fails its
tests until the key is described here, so /docs never lags behind what the API sends. Fields are
declared in the order the API has always written them; adding one is allowed, renaming or dropping
one is not.
"""

from datetime import date, datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, WithJsonSchema

# A second where a passage starts: whole seconds are written as integers (754, not 754.0).
Second = Annotated[int | float, WithJsonSchema({"type": "number", "minimum": 0})]


class Schema(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Problem(Schema):
    """Every error: a 4xx with a message in French."""

    detail: str = Field(description="ce qui ne va pas, en français")


class InvalidRequest(Schema):
    """A 422: a refused file or field (a message), or parameters that fail validation (a list)."""

    detail: str | list[dict[str, Any]]


class Speaker(Schema):
    """Who says a line: the person the file's name was matched to, or the file's label alone."""

    slug: str | None = Field(
        description="la fiche de la personne (/guests/{slug}) ; null pour une étiquette reliée à personne : "
        "un locuteur anonyme de diarisation (SPEAKER_01) ou un prénom seul"
    )
    name: str = Field(description="le nom de la personne, ou l'étiquette telle que le fichier l'écrit")


class GuestRef(Schema):
    slug: str
    name: str
    role: str | None = Field(description="rôle et affiliation tels que l'épisode les donne")


class EpisodeSummary(Schema):
    slug: str
    title: str
    show: str | None = Field(description="nom de l'émission")
    aired_on: date | None
    source: str = Field(description="nom du fichier ingéré")
    duration: float = Field(description="secondes")
    guests: list[GuestRef]


class Segment(Schema):
    start: float
    end: float
    text: str
    speaker: Speaker | None = Field(
        description="qui parle ; null quand le fichier ne le dit pas (sans locuteur, une ligne continue le tour)"
    )


class EpisodeDetail(EpisodeSummary):
    host: str | None = Field(description="nom de l'animateur")
    channel: str | None
    description: str | None
    media_url: str | None
    show_inferred: bool = Field(
        description="true quand ni la description ni le fichier annexe ne nomment l'émission et qu'elle est "
        "déduite de la transcription (une émission connue citée dans les premières minutes)"
    )
    segments: list[Segment] = Field(description="les lignes de la transcription, dans l'ordre")


class EditsCarried(Schema):
    """What a new ingest of an episode that editors changed did with their edits."""

    status: Literal["kept", "replaced"] = Field(
        description="kept : reportées sur les nouvelles lignes (edits=keep, par défaut) ; replaced : remplacées "
        "par le texte du fichier (edits=replace)"
    )
    message: str = Field(description="« modifications conservées » ou « modifications remplacées… »")
    not_reapplied: list[str] = Field(
        description="les modifications qui n'ont pas pu être reportées, et pourquoi (la ligne ne dit plus "
        "le texte d'origine sur lequel elle avait été faite)"
    )


class IngestStatus(Schema):
    status: Literal["added", "updated", "unchanged"]
    # false: stored, but the index could not take it yet (busy, damaged): not found by searches
    # until a retry succeeds (the next write, the next start, or `plateau reindex`)
    searchable: bool
    edits: EditsCarried | None = Field(
        None, description="null quand aucun éditeur n'a modifié l'épisode ; sinon ce que l'envoi en a fait"
    )


class IngestedEpisode(EpisodeDetail, IngestStatus):  # IngestStatus first: "status" leads the object
    """The episode a POST /api/episodes stored (201) or found unchanged (200)."""


class EpisodePage(Schema):
    total: int
    page: int
    items: list[EpisodeSummary]


class GuestSummary(Schema):
    slug: str
    name: str
    appearances: int = Field(description="nombre d'épisodes où l'invité apparaît")
    hosted: int = Field(0, description="nombre d'épisodes que la personne anime (0 pour un invité seulement)")


class GuestPage(Schema):
    total: int
    page: int
    items: list[GuestSummary]


class EpisodeLink(Schema):
    slug: str
    title: str
    aired_on: date | None


class Appearance(Schema):
    episode: EpisodeLink
    kind: Literal["guest", "host"]
    role: str | None = Field(description="rôle et affiliation tels que cet épisode les donne")
    named_as: str = Field(description="la graphie du nom dans cet épisode")
    speaking_seconds: float | None = Field(
        default=None,
        description="temps de parole dans cet épisode, en secondes ; null : aucune ligne de cette personne",
    )


class CoGuest(Schema):
    slug: str
    name: str
    episodes: int = Field(description="épisodes partagés")


class GuestDetail(Schema):
    slug: str
    name: str
    aliases: list[str] = Field(description="toutes les graphies rencontrées")
    appearances: list[Appearance]
    co_guests: list[CoGuest]
    speaking_seconds: float = Field(
        description="temps de parole dans toute l'archive, en secondes (lignes attribuées à cette personne)"
    )


class ShowSummary(Schema):
    slug: str
    name: str
    channel: str | None
    episodes: int


class ShowList(Schema):
    total: int
    items: list[ShowSummary]


class ShowDetail(Schema):
    slug: str
    name: str
    channel: str | None
    total: int
    page: int
    items: list[EpisodeSummary]


class EpisodeRef(Schema):
    slug: str
    title: str
    show: str | None
    aired_on: date | None
    source: str


class SearchHit(Schema):
    """A passage: the caption line where the match starts, and a link to that second."""

    episode: EpisodeRef
    start: Second
    timestamp: str = Field(description="MM:SS ou H:MM:SS")
    text: str
    snippet: str = Field(description="HTML échappé, les mots trouvés dans <mark>")
    url: str = Field(description="/episodes/{slug}?t=SECONDES")
    speaker: Speaker | None = Field(
        description="qui parle ; null quand le fichier ne le dit pas (sans locuteur, une ligne continue le tour)"
    )
    episode_matches: int = Field(description="passages trouvés dans cet épisode")
    more_in_episode: int | None = Field(
        None, description="sur le dernier passage montré d'un épisode seulement : passages de l'épisode non montrés"
    )


class EpisodeMatch(EpisodeSummary):
    """An episode found by its title, guests (names, roles, affiliations), show or description."""

    matched_in: Literal["title", "guests", "show", "description"] = Field(
        description="où l'épisode correspond d'abord, dans cet ordre : title (titre), guests (nom, rôle ou "
        "affiliation d'un invité), show (nom de l'émission), description"
    )


class MonthCount(Schema):
    month: str = Field(description="AAAA-MM : le mois de diffusion des épisodes")
    passages: int = Field(description="passages trouvés dans les épisodes diffusés ce mois-là")


class SearchResponse(Schema):
    total: int = Field(description="passages trouvés")
    page: int
    hits: list[SearchHit]
    suggestion: str | None = Field(
        description="la correction proposée quand rien n'est trouvé, écrite comme dans les transcriptions "
        "(accents compris) ; seulement si elle trouve quelque chose"
    )
    episodes: int = Field(description="épisodes qui ont au moins un passage")
    pages: int
    error: str | None
    notices: list[str] = Field(description="la recherche a abouti avec une réserve (résultats partiels…)")
    episode_matches: list[EpisodeMatch] = Field(
        description="épisodes trouvés par leur titre, leurs invités, leur émission ou leur description, "
        "les plus pertinents d'abord ; en page 1 seulement"
    )
    episode_matches_total: int = Field(description="nombre d'épisodes trouvés par leurs métadonnées")
    corrected_query: str | None = Field(
        description="la recherche telle que tapée n'a rien trouvé : les résultats sont ceux de cette correction "
        "(égale à « suggestion ») ; as_typed=true la désactive ; null sinon"
    )
    months: list[MonthCount] = Field(
        description="tous les passages trouvés (pas seulement ceux de la page), comptés par mois de diffusion "
        "de leur épisode, dans l'ordre des mois ; les mois sans passage n'y sont pas"
    )
    undated_passages: int = Field(description="passages trouvés dans des épisodes sans date de diffusion")


class RevisionChange(Schema):
    field: str = Field(description="texte, locuteur, titre, émission, date de diffusion…")
    before: str | None
    after: str | None


class Revision(Schema):
    """One change to an episode: who, when, what, before and after, why."""

    id: int
    episode: str = Field(description="slug de l'épisode")
    kind: Literal["line", "turn", "label", "metadata", "ingest"] = Field(
        description="line : texte d'une ligne ; turn : tour de parole ; label : étiquette de diarisation "
        "reliée à une personne ; metadata : titre, émission, date… ; ingest : nouvelle ingestion du fichier"
    )
    what: str = Field(description="ce qui a changé, en français")
    author: str = Field(description="nom de l'éditeur, ou « jeton d'administration » pour l'API")
    created_at: datetime
    reason: str = Field(description="pourquoi, tel que l'éditeur l'a écrit (peut être vide)")
    position: int | None = Field(description="ligne corrigée, ou première ligne du tour de parole")
    until: int | None = Field(description="tour de parole : la ligne où il s'arrête (exclue)")
    label: str | None = Field(description="étiquette de diarisation reliée à une personne (SPEAKER_01)")
    changes: list[RevisionChange]
    undoes: int | None = Field(description="la révision que celle-ci annule")
    undone_by: int | None = Field(description="la révision qui a annulé celle-ci")


class History(Schema):
    episode: str
    total: int
    items: list[Revision] = Field(description="les plus récentes d'abord")


def problems(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """The error answers of a route for /docs: {"detail": ...} with each status's meaning."""
    return {
        status: {"model": InvalidRequest if status == 422 else Problem, "description": ERRORS[status]}
        for status in statuses
    }


ERRORS = {
    400: "Requête impossible (recherche mal formée)",
    401: "Jeton d'administration absent ou invalide",
    403: "Écritures désactivées : aucun PLATEAU_ADMIN_TOKEN configuré",
    404: "Introuvable",
    409: "Conflit : la chose à annuler a changé depuis (le message dit quelle révision annuler d'abord)",
    422: "Fichier ou champ refusé, ou paramètres invalides",
    503: "Archive en lecture seule, ou index de recherche en reconstruction : réessayer plus tard",
    507: "Disque plein : rien n'a été écrit ; réessayer quand de la place est libérée",
}
