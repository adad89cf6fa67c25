"""What reading or writing the index can fail with, apart from a malformed query (query.QueryError)."""


class IndexBusy(RuntimeError):
    """Another writer holds the index past the wait allowed."""


class IndexDamaged(RuntimeError):
    """The index on disk cannot be read: a truncated or missing segment, a deleted folder. Searches
    answer 503 with this message; the server rebuilds the index meanwhile (SearchIndex.repair)."""

    def __init__(self, what: str, repairing: bool = False):
        super().__init__(what)
        self.repairing = repairing
