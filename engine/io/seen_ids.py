"""The customer ids a file has shown so far, for the duplicate check (engine.io.screen): 64-bit
hashes of the ids, each with the first row it was on, in flat memory for files of tens of millions
of rows and in time proportional to the rows, whatever their order."""

from __future__ import annotations

import numpy as np

_ONE = np.uint64(1)
_WORD_BITS = 64
# A filter word holds 4 bits of each id placed in it, taken from the hash's low 24 bits; the word is
# chosen by the hash's top bits, so a sorted chunk of hashes visits the filter's words in order.
_BIT_FIELDS = (0, 6, 12, 18)
_FILTER_BITS_PER_ID = 16  # at least 16 bits per id: at most ~0.5 % of unseen ids are "maybe seen"
_FILTER_GROWTH_BITS = 2  # grows 4x at a time: rebuilt from the runs ~n/3 times over, not ~n
_SMALL_RUN = 1 << 16  # runs below this are merged, so tiny chunks do not make thousands of runs


class SeenIds:
    """Hashes of the ids seen so far with the first row of each. Each chunk's new ids are kept as the
    sorted run they arrive in and are not merged into one sorted whole again: merging copied every
    id about log2(chunks) times and took most of a 10M-row file's duplicate check. A blocked Bloom
    filter over all of them says "not seen" for nearly every id looked up; only its few maybes are
    searched for in the runs, so its false positives cost a lookup, never a wrong answer."""

    def __init__(self, filter_words_log2: int = 14) -> None:
        self.runs: list[tuple[np.ndarray, np.ndarray]] = []
        self.count = 0
        self._words_log2 = filter_words_log2
        self._filter = np.zeros(1 << filter_words_log2, dtype=np.uint64)

    def first_rows(self, ordered: np.ndarray) -> np.ndarray:
        """For sorted hashes: the first row of each one seen before, -1 for the others."""
        found = np.full(len(ordered), -1, dtype=np.int64)
        if not self.runs:
            return found
        words, bits = self._where(ordered)
        maybe = np.flatnonzero((self._filter[words] & bits) == bits)
        for hashes, rows in self.runs:  # an id is in one run only: stop looking once it is found
            if not len(maybe):
                break
            wanted = ordered[maybe]
            slots = np.minimum(np.searchsorted(hashes, wanted), len(hashes) - 1)
            hit = hashes[slots] == wanted
            found[maybe[hit]] = rows[slots[hit]]
            maybe = maybe[~hit]
        return found

    def add(self, hashes: np.ndarray, rows: np.ndarray) -> None:
        """Sorted hashes not seen before, with their rows."""
        if not len(hashes):
            return
        self.runs.append((hashes, rows))
        while len(self.runs) > 1 and len(self.runs[-1][0]) + len(self.runs[-2][0]) <= _SMALL_RUN:
            newer, older = self.runs.pop(), self.runs.pop()
            self.runs.append(_merged(*older, *newer))
        self.count += len(hashes)
        if self.count * _FILTER_BITS_PER_ID <= len(self._filter) * _WORD_BITS:
            self._mark(hashes)
            return
        while self.count * _FILTER_BITS_PER_ID > len(self._filter) * _WORD_BITS:
            self._words_log2 += _FILTER_GROWTH_BITS
            self._filter = np.zeros(1 << self._words_log2, dtype=np.uint64)
        for run, _ in self.runs:
            self._mark(run)

    def _where(self, hashes: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Each hash's filter word and the bits it sets there."""
        words = (hashes >> np.uint64(_WORD_BITS - self._words_log2)).astype(np.intp)
        bits = np.zeros(len(hashes), dtype=np.uint64)
        for shift in _BIT_FIELDS:
            bits |= _ONE << ((hashes >> np.uint64(shift)) & np.uint64(_WORD_BITS - 1))
        return words, bits

    def _mark(self, ordered: np.ndarray) -> None:
        words, bits = self._where(ordered)
        # ids sharing a word are neighbours (sorted hashes): their bits are or-ed together first, as a
        # fancy-indexed |= would keep only one of them
        starts = np.flatnonzero(np.concatenate([[True], words[1:] != words[:-1]]))
        self._filter[words[starts]] |= np.bitwise_or.reduceat(bits, starts)


def _merged(seen: np.ndarray, rows: np.ndarray, new: np.ndarray, new_rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Two sorted hash arrays (with their rows) as one, in one pass (np.insert would sort again)."""
    into = np.searchsorted(seen, new) + np.arange(len(new))
    is_new = np.zeros(len(seen) + len(new), dtype=bool)
    is_new[into] = True
    merged, merged_rows = np.empty(len(is_new), dtype=seen.dtype), np.empty(len(is_new), dtype=rows.dtype)
    merged[is_new], merged[~is_new] = new, seen
    merged_rows[is_new], merged_rows[~is_new] = new_rows, rows
    return merged, merged_rows
