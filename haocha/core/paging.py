"""Paging for lists that can hold millions of rows."""

from functools import cached_property

from django.core.paginator import Paginator


class CappedPaginator(Paginator):
    """A Paginator that counts at most `cap` rows: a city's ratings list covers about 830,000 ratings a
    month at 10 million a year, and counting them all for "共 N 条" cost more than the page itself. With
    more rows than the cap, `capped` is true and only the first `cap` rows (in the list's order) are
    reachable; the page tells the user to narrow the filters."""

    def __init__(self, object_list, per_page, *, cap: int, **kwargs):
        super().__init__(object_list, per_page, **kwargs)
        self.cap = cap
        self.capped = False

    @cached_property
    def count(self) -> int:
        found = self.object_list[: self.cap + 1].count()  # SELECT COUNT(*) FROM (… LIMIT cap + 1)
        self.capped = found > self.cap
        return min(found, self.cap)
