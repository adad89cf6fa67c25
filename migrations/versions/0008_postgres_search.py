"""search in PostgreSQL: passages with their words as a tsvector, the vocabulary, extensions

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-30 20:00:00

Nothing on SQLite, where Whoosh's index folder holds the passages. On PostgreSQL the passages of
app/search/postgres.py: their words are analysed in Python by app/search/analysis.py (Whoosh's own
analysis), so the tsvector is written as a literal and needs no text search configuration; the
vocabulary (exact words and in how many passages they stand) is kept by two statement triggers, which
also see the passages an episode's ON DELETE CASCADE removes.
"""

from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None

EXTENSIONS = ("unaccent", "pg_trgm", "fuzzystrmatch")
# `ALTER DATABASE … SET plateau.search_index = 'gin'` before migrating: a GIN index even where rum is
# installed (a host that refuses the extension, or a test of the fallback). Unset: RUM when available.
INDEX_SETTING = "plateau.search_index"


def upgrade() -> None:
    bind = op.get_bind()
    if bind.dialect.name != "postgresql":
        return
    for name in EXTENSIONS:
        op.execute(f"CREATE EXTENSION IF NOT EXISTS {name}")
    refused = bind.exec_driver_sql(f"SELECT current_setting('{INDEX_SETTING}', true)").scalar() == "gin"
    available = bind.exec_driver_sql("SELECT 1 FROM pg_available_extensions WHERE name = 'rum'").first() is not None
    rum = available and not refused
    if rum:
        op.execute("CREATE EXTENSION IF NOT EXISTS rum")

    # What the index holds of each episode (index.episode_stamps): `plateau check` compares it.
    op.execute(
        """
        CREATE TABLE search_episode (
            episode_id integer PRIMARY KEY REFERENCES episode (id) ON DELETE CASCADE,
            stamp text NOT NULL
        )
        """
    )
    # A passage: CORE_LINES caption lines of one speaker (passages.cut_passages). `words` holds, at
    # the position of each word of its own lines and of the next ones (weight A: own lines; D: the
    # lines a phrase or a window of words may run into), the word's stem and its folded form ("=" before
    # it), what plain words and prefixes look for, and what phrases look for: the forms postgres_terms
    # writes (WORDS_LAYOUT: pairs of words since), which `plateau` rewrites when they change.
    op.execute(
        """
        CREATE TABLE search_passage (
            id bigserial PRIMARY KEY,
            episode_id integer NOT NULL REFERENCES episode (id) ON DELETE CASCADE,
            number integer NOT NULL,
            first_line integer NOT NULL,
            last_line integer NOT NULL,
            start double precision NOT NULL,
            starts double precision[] NOT NULL,
            speaker_id integer,
            text text NOT NULL,
            lines text NOT NULL,
            words tsvector NOT NULL
        )
        """
    )
    op.execute("CREATE INDEX ix_search_passage_episode ON search_passage (episode_id, number)")
    op.execute("CREATE INDEX ix_search_passage_speaker ON search_passage (speaker_id) WHERE speaker_id IS NOT NULL")
    if rum:
        op.execute("CREATE INDEX ix_search_passage_words ON search_passage USING rum (words rum_tsvector_ops)")
    else:
        op.execute("CREATE INDEX ix_search_passage_words ON search_passage USING gin (words)")

    # The folded words of the passages' own lines, in how many passages each stands: prefixes,
    # typos ("did you mean", mot~) and glued phrases read it, not the passages.
    op.execute("CREATE TABLE search_word (word text PRIMARY KEY, frequency integer NOT NULL)")
    op.execute("CREATE INDEX ix_search_word_trigram ON search_word USING gin (word gin_trgm_ops)")
    # Upserts in the order of the words, so two writers never wait for each other's rows in turn.
    for name, table, sign in (("added", "NEW", ""), ("removed", "OLD", "-")):
        op.execute(
            f"""
            CREATE FUNCTION search_words_{name}() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN
                IF current_setting('plateau.rebuilding', true) = 'on' THEN
                    RETURN NULL;  -- a rebuild counts the words once, at its end
                END IF;
                INSERT INTO search_word AS v (word, frequency)
                SELECT substr(u.lexeme, 2), {sign}count(*)
                FROM changed p, unnest(p.words) AS u
                WHERE left(u.lexeme, 1) = '=' AND 'A' = ANY (u.weights)
                GROUP BY 1
                ORDER BY 1
                ON CONFLICT (word) DO UPDATE SET frequency = v.frequency + excluded.frequency;
                RETURN NULL;
            END
            $$
            """
        )
        event = "INSERT" if name == "added" else "DELETE"
        op.execute(
            f"""
            CREATE TRIGGER search_passage_{name} AFTER {event} ON search_passage
            REFERENCING {table} TABLE AS changed FOR EACH STATEMENT EXECUTE FUNCTION search_words_{name}()
            """
        )


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute("DROP TABLE IF EXISTS search_passage")
    op.execute("DROP FUNCTION IF EXISTS search_words_added()")
    op.execute("DROP FUNCTION IF EXISTS search_words_removed()")
    op.execute("DROP TABLE IF EXISTS search_word")
    op.execute("DROP TABLE IF EXISTS search_episode")
    # the extensions stay: other schemas may use them, and they hold no data
