"""Pages of a list: how many, which ones to link, and their URLs with the other filters kept."""

from dataclasses import dataclass
from urllib.parse import urlencode

from starlette.datastructures import URL, QueryParams


@dataclass
class Pagination:
    url: URL
    page: int
    per_page: int
    total: int

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.per_page))

    def href(self, page: int) -> str:
        params = [(k, v) for k, v in QueryParams(self.url.query).multi_items() if k != "page" and v != ""]
        if page > 1:
            params.append(("page", str(page)))
        query = urlencode(params)
        return self.url.path + (f"?{query}" if query else "")

    @property
    def previous(self) -> str | None:
        return self.href(self.page - 1) if self.page > 1 else None

    @property
    def next(self) -> str | None:
        return self.href(self.page + 1) if self.page < self.pages else None

    def window(self) -> list[int | None]:
        """Page numbers to show, None for a gap: 1 … 4 5 6 … 12."""
        keep = {1, self.pages, *range(self.page - 2, self.page + 3)}
        shown: list[int | None] = []
        last = 0
        for n in sorted(p for p in keep if 1 <= p <= self.pages):
            if n > last + 1:
                shown.append(None)
            shown.append(n)
            last = n
        return shown
