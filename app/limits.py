"""Every limit of the archive in one table: page sizes, query caps, time budget, upload sizes, index memory.

What people may change is a setting (app/config.py); the rest are the code's own choices, each with
its reason. Code reads them as `limits.NAME` when it needs them, so a test changes one in one place.
"""

from app.config import Settings

# --- lists: how much one page shows ------------------------------------------------------------
EPISODES_PER_PAGE = 20  # /episodes, a show's page, /api/episodes: a screenful of episode cards
SEARCH_PER_PAGE = 10  # episodes per page of /search and /api/search; each brings up to HITS_PER_EPISODE hits
HITS_PER_EPISODE = 3  # passages shown under an episode in the results; its other matches are counted and linked
# episodes found by title, guests, show or description, above a search's passages: a glance, not a
# list (a show's name matches all its episodes); how many match is given beside them
EPISODE_MATCHES = 5
EPISODE_HITS = 50  # hits of a search inside one episode, listed beside its transcript, which marks every match anyway
GUESTS_PER_PAGE = 100  # /api/guests; the /guests page and the filter menus list every guest
GUEST_TURNS = 5  # a guest's longest turns on their page: a glance at what they said, each linked to its line
LATEST_EPISODES = 6  # the home page's newest episodes: a glance; the full list is one click away
FEED_EPISODES = 30  # the newest-episodes feed: a weekly poll misses none even with four daily shows
FEED_SEARCH_EPISODES = 20  # a saved search's feed: its newest episodes, each with its hits

# What a client may ask for: few requests walk the archive, and one request stays cheap (each episode
# on a search page costs a ranking and snippets read from the database).
MAX_EPISODES_PER_PAGE = 100
MAX_GUESTS_PER_PAGE = 500
MAX_SEARCH_PER_PAGE = 50
# The deepest page of any list or search, pages and API alike. 1,000 pages of 10 or 20 episodes are
# 5 to 10 times the largest archive measured (2,000 episodes); past that a number is a typo, and the
# bound keeps SQLite's OFFSET and the ranking's depth small.
MAX_PAGE = 1000
FIRST_YEAR, LAST_YEAR = 1900, 2100  # a year filter outside these is a typo, refused with a message
MAX_FILTER_CHARS = 200  # a show or guest slug typed in a URL: longer names nothing, and is cut

# --- what a search may ask ---------------------------------------------------------------------
# A search never runs unbounded: these refuse (or trim, with a notice) before any index is read.
# A quoted phrase's length is bound by the index itself (app/search/passages.py: MAX_PHRASE_WORDS).
MAX_QUERY_CHARS = 500  # room for a long quotation; past this it is pasted text, not a search
MAX_WORD_CHARS = 60  # longer than any French word: a URL or a hash, and fuzzy matching it costs the most
MAX_TERMS = 16  # words, phrases, prefixes and fuzzy words in one query: each is read and ranked apart
MAX_NESTING = 20  # parentheses inside parentheses: the parser goes one level deeper for each
MIN_PREFIX_CHARS = 2  # "a*" would stand for a 26th of the vocabulary
MAX_EXPANSION = 64  # index words a prefix or a fuzzy word may stand for: the most frequent, with a notice
PREFIX_SCAN = 5000  # index words read for one prefix; enough to say how many it matched, past the 64 kept
FUZZY_CANDIDATES = 200  # index words within the edit distance that are kept before the 64 are chosen
TIME_BUDGET = 3.0  # seconds a query may run before it stops with what it found (p95 is ~35 ms at 2,000 episodes)
# PostgreSQL search: passages read for one query at most (the candidates of plain words together
# included); totals past it are shown as "plus de N". A word in most passages ("pas") stays fast this way.
# 5,000 rather than 20,000: at 2,000 episodes, counting a frequent word's 20,000 passages was half of
# its search (service p95 96-114 ms, 90-92 at 5,000; booleans 190-253, 142), and past a few thousand
# passages the exact number tells a reader nothing more.
PG_MATCH_CAP = 5_000
RANK_GRACE = 0.05  # seconds the ranking may still take past the budget, to show some of what was found

# --- links: the `t` of a shared link -----------------------------------------------------------
MAX_TIMECODE_SECONDS = 48 * 3600  # no episode lasts two days: a `t` past this is a typo, not a moment
MAX_TIMECODE_CHARS = 40  # two "1h02m03s" and a dash fit twice over; longer is not a timecode

# --- uploads and edits -------------------------------------------------------------------------
# Past this a file is surely not a transcript (the seeds are 40 kB; a 10-hour VTT is ~2 MB).
MAX_FILE_BYTES = 20 * 1024 * 1024
# A file under the size limit can still be no transcript: a million short lines took a parse of a
# quarter of an hour. A 10-hour VTT has ~50,000 lines, and no caption or page line nears 10,000
# characters (the seeds' longest is 497); JSON may hold everything on one line.
MAX_FILE_LINES = 200_000
MAX_LINE_BYTES = 10_000
# A request's body, checked before it is read (app/guards.py): a write with the right token may
# carry a file and its form fields; any other request, a form at most.
MAX_WRITE_BODY_BYTES = MAX_FILE_BYTES + 1024 * 1024
# Free space under which /healthz and the pages warn that writes will fail: what one largest upload
# and its index segment need (a transcript's passages take about three times its text)
LOW_DISK_BYTES = 4 * MAX_FILE_BYTES
MAX_OTHER_BODY_BYTES = 64 * 1024
MAX_TITLE_CHARS = 300  # a title is one line; longer is a paste gone wrong
MAX_SHOW_CHARS = 200  # a show's name, as long as a filter value can be
MAX_MEDIA_URL_CHARS = 2000  # the longest URL that browsers and proxies all carry
MAX_DESCRIPTION_CHARS = 20_000  # a page's description is a few paragraphs; this is ten pages of them
MAX_CAPTION_CHARS = 2_000  # an editor's correction of one caption line: a few sentences at most
MAX_REASON_CHARS = 1_000  # why an editor changed the record, as the history shows it
MAX_PERSON_NAME_CHARS = 200  # a new speaker or a guest named by an editor
MAX_ROLE_CHARS = 300  # a guest's role and affiliation, as an editor states them
MAX_EPISODE_GUESTS = 50  # a panel; more is a list pasted by mistake
REVISIONS_PER_PAGE = 100  # an episode's history, newest first

# --- the index: ingest batches, writer processes, memory -----------------------------------------
# The memory of a rebuild and how long a write waits for another one are settings
# (PLATEAU_INDEX_MEMORY_MB, PLATEAU_INDEX_WRITER_TIMEOUT); their defaults are read from there, so an
# index opened without settings (a test, the benchmark) behaves as the server does.
INDEX_MEMORY_MB: int = Settings.model_fields["index_memory_mb"].default
WRITER_TIMEOUT: float = Settings.model_fields["index_writer_timeout"].default
# Files written between two settlements of the archive and two index commits: large enough that
# a back catalogue pays the archive-wide work and the index writer rarely, small enough that the
# index lock is never held for long (other writers wait for it up to the writer timeout).
BATCH_FILES = 200
WRITER_PROCS = 2  # writer processes of a rebuild or a bulk write (each writes its own segment)
MERGE_TIER = 8  # index segments of about one size merged together once there are this many (merge_tiers)
MERGE_MAX_DOCS = 50_000  # but not into a segment of more documents than this (about 300 episodes)
MERGE_IDLE_SECONDS = 10.0  # the server merges them once no write has come for this long
BULK_EPISODES = 20  # from this many episodes in one write, the writer processes are used
# Waits for the index's lock (each up to the writer timeout) before a bulk ingest gives up adding
# the index it wrote aside (SearchIndex.writing_aside): minutes of work, behind a reindex's catch-up.
ADOPT_ATTEMPTS = 4
# The server's indexing process (uploads, edits): below the searches of its worker.
INDEX_NICENESS = 10
# Requests a server worker process works on at once (its thread pool; Starlette's default is 40).
# Their threads share one GIL: past a few, more only slice the same core thinner and thrash it. On
# 2 cores, 2 workers, 32 connections (bench/load.py, readers only): 40 threads served 72 req/s with
# a search p99 of 1.6 s, 8 threads 80 req/s and 0.92 s, 4 threads 94 req/s and 0.79 s. Eight, not
# four: an upload or a write waiting for SQLite's lock holds a thread for seconds.
THREADS_PER_WORKER = 8
# Reads (GET, HEAD) a worker works on at once; the others wait their turn (guards.ReadersInTurn).
# `make load` (2,000 episodes, 32 connections, 4 writers): 1 gave a search p99 of 0.95 to 1.24 s,
# 2 gave 1.03 to 1.09 s, 3 gave 1.33 s, no limit (the 8 threads) 2.8 s. Two, so that one long
# request (a metadata build after a write, a three-hour transcript) does not hold up the others.
READERS_PER_WORKER = 2
# What the main process holds besides the writers' posting buffers (the app, SQLAlchemy, Whoosh,
# the documents on their way to the writers, a writer process's own state), measured at 5,000
# episodes, where 300 let the peak pass the budget by 2 to 7 %. The rest of the memory
# budget is shared by the writer processes; Whoosh's own estimate of a buffer runs about 1.2× what
# it really takes, and a full buffer is sorted into a run on disk and merged at the end, so the
# peak stays within the budget whatever the archive's size.
MAIN_PROCESS_MB = 400
# The floor of a writer's posting buffer: a tight budget still sorts runs of a useful size rather than
# a great many small ones to merge.
MIN_BUFFER_MB = 32

# --- editors: sign-in, sessions, the login rate limit --------------------------------------------
# A session lasts a working day: an editor signs in again the next morning, and a cookie left on a
# shared computer stops working by itself. Signing out ends it at once, on the server.
EDITOR_SESSION_SECONDS = 12 * 3600
LOGIN_FORM_SECONDS = 12 * 3600  # the login form's CSRF cookie: a page left open longer asks to be reloaded
# Failed sign-ins counted over this window: five per name stop guessing one editor's password; an
# address gets ten, for an office behind one address where a colleague mistypes too. Past either,
# 429 with Retry-After until the oldest failure leaves the window.
LOGIN_WINDOW_SECONDS = 15 * 60
LOGIN_FAILURES_PER_NAME = 5
LOGIN_FAILURES_PER_ADDRESS = 10
# A password typed or piped to `plateau user add`: short ones are guessed, and argon2 hashes whatever
# it is given (a megabyte pasted by mistake costs nothing more than its reading).
MIN_PASSWORD_CHARS = 12
MAX_PASSWORD_CHARS = 1024
MAX_EDITOR_NAME_CHARS = 64
