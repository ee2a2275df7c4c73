"""search.generation: an opened generation and its caches."""

from __future__ import annotations

from search.generation import LRU


def test_lru_forgets_the_least_recently_used_first() -> None:
    lru = LRU(3)
    for key in "abc":
        lru.put(key, key.upper())
    assert lru.get("a") == "A"  # used: now the most recent (b, c, a)
    lru.put("d", "D")  # over the size: b goes
    assert lru.get("b") is None
    assert lru.get("b", "gone") == "gone"
    assert [lru.get(k) for k in "cad"] == ["C", "A", "D"]  # each used again: c, a, d
    lru.put("c", "C2")  # stored again: the most recent (a, d, c)
    lru.put("e", "E")  # a goes
    assert [lru.get(k) for k in "adce"] == [None, "D", "C2", "E"]


def test_lru_of_one_keeps_the_last_value() -> None:
    lru = LRU(1)
    lru.put(("x", ("y",)), 1)
    lru.put(("x", ("z",)), 2)
    assert (lru.get(("x", ("y",))), lru.get(("x", ("z",)))) == (None, 2)
