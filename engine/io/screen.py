"""Rows of a customer file that are not customers to evaluate: footer rows (合计, Total) and second
rows of one customer id. Both go to the rejects file with the reason, so rows out + rows rejected
still equals rows in; the checks are whole-column operations, never a Python loop over every row."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Literal, get_args

import numpy as np
import pandas as pd

from engine.errors import Say, UsageError
from engine.io.arrow_text import arrow_strings, string_bytes
from engine.io.coerce import REJECT_COLUMNS, empty_rejects
from engine.io.seen_ids import SeenIds

Duplicates = Literal["first", "last", "reject", "keep"]
DUPLICATE_POLICIES: tuple[str, ...] = get_args(Duplicates)


def check_policy(duplicates: str) -> None:
    """A usage error naming the policies, for a --duplicates that is none of them."""
    if duplicates not in DUPLICATE_POLICIES:
        raise UsageError(Say(f"--duplicates must be one of {', '.join(DUPLICATE_POLICIES)}, not '{duplicates}'",
                             f"--duplicates 只能是 {'、'.join(DUPLICATE_POLICIES)},不能是“{duplicates}”"))

FOOTER_WORDS = ("合计", "总计", "小计", "共计", "总合计", "合 计", "总 计", "小 计", "Total", "Subtotal", "Grand total",
                "Sum")
# Exact cells compared by hash (isin), since a footer is written one of a few ways: any case, with a colon.
FOOTER_CELLS = frozenset(form + colon for word in FOOTER_WORDS
                         for form in {word, word.lower(), word.upper(), word.title()} for colon in ("", ":", ":"))


def footer_rows(table: pd.DataFrame, id_name: str | None) -> pd.Series:
    """Rows whose id or first column says 合计/总计/小计/Total: a spreadsheet's sums, not a customer."""
    found = pd.Series(False, index=table.index)
    for column in dict.fromkeys(c for c in (id_name, table.columns[0] if len(table.columns) else None) if c):
        found |= _text(table[column]).str.strip().isin(FOOTER_CELLS).fillna(False).astype(bool)
    return found


def footer_rejects(table: pd.DataFrame, rows: pd.Series, id_name: str | None, lang: str) -> pd.DataFrame:
    first = table.columns[0]
    column = id_name if id_name and table.loc[rows, id_name].str.strip().isin(FOOTER_CELLS).all() else first
    reason = Say("a total row (合计/Total), not a customer", "合计行(合计/总计/小计/Total),不是客户").get(lang)
    return pd.DataFrame({"row": table.index[rows.to_numpy()].to_numpy(dtype="int64"),
                         "id": table.loc[rows, id_name].to_numpy() if id_name else "",
                         "column": column, "value": table.loc[rows, column].to_numpy(), "reason": reason})


def _text(column: pd.Series) -> pd.Series:
    """A column of text cells as pandas' string type (Arrow-backed: whole-column string operations
    and hashing run in Arrow, not per Python object); a CSV reader's columns are that already."""
    return column if isinstance(column.dtype, pd.StringDtype) else column.astype("str")


# FNV-1a over an id's first bytes, then splitmix64's finaliser: 64-bit hashes computed a byte
# position at a time over the whole column (a customer id is a few bytes long).
_FNV_OFFSET, _FNV_PRIME = np.uint64(0xCBF29CE484222325), np.uint64(0x100000001B3)
_HASHED_BYTES = 32


def id_hashes(ids: pd.Series) -> np.ndarray:
    """A 64-bit hash of each id, the same for the same text in any chunk; ids longer than 32 bytes
    are hashed by pandas (SipHash), one by one."""
    starts, lengths, data = string_bytes(arrow_strings(_text(ids)))
    hashes = np.full(len(starts), _FNV_OFFSET, dtype=np.uint64)
    last = max(len(data) - 1, 0)
    with np.errstate(over="ignore"):
        for position in range(int(min(lengths.max(initial=0), _HASHED_BYTES))):
            inside = lengths > position
            byte = data[np.minimum(starts + position, last)].astype(np.uint64)
            hashes = np.where(inside, (hashes ^ byte) * _FNV_PRIME, hashes)
        hashes ^= lengths.astype(np.uint64)
        hashes ^= hashes >> np.uint64(30)
        hashes *= np.uint64(0xBF58476D1CE4E5B9)
        hashes ^= hashes >> np.uint64(27)
        hashes *= np.uint64(0x94D049BB133111EB)
        hashes ^= hashes >> np.uint64(31)
    long = lengths > _HASHED_BYTES
    if long.any():
        hashes[long] = pd.util.hash_pandas_object(_text(ids)[long], index=False).to_numpy()
    return hashes


SHOWN_ROWS = 10  # rows of a repeated id a reject names when none of them is evaluated


def duplicate_reason(policy: str, key: str, kept: int | None, shown: list[int], lang: str) -> str:
    """Why a row repeating id `key` is rejected: the row kept, or (policy reject) the first rows of the id."""
    if kept is not None:
        which = "第一行" if policy == "first" else "最后一行"
        return Say(f"id {key} is also on row {kept} (kept: the {policy})",
                   f"客户编号 {key} 也在第 {kept} 行(保留{which})").get(lang)
    listed = ", ".join(map(str, shown))
    return Say(f"id {key} is on several rows ({listed}); none is evaluated",
               f"客户编号 {key} 出现在多行({listed.replace(', ', '、')}),均不评估").get(lang)


def duplicate_rejects(table: pd.DataFrame, ids: pd.Series, reject: np.ndarray, reasons: list[str],
                      id_name: str) -> tuple[pd.Series, pd.DataFrame]:
    if not reject.any():
        return pd.Series(True, index=table.index), empty_rejects()
    numbers = table.index.to_numpy(dtype="int64")
    rejects = pd.DataFrame({"row": numbers[reject], "id": ids[reject].to_numpy(), "column": id_name,
                            "value": ids[reject].to_numpy(), "reason": reasons}, columns=REJECT_COLUMNS)
    return pd.Series(~reject, index=table.index), rejects


@dataclass
class KnownDuplicates:
    """Rows repeating an id when every id's rows are known beforehand (a Spark run counts them over the
    whole table): `rows` is indexed by row number, for the rows whose id is repeated, with the id's
    first row, last row and first SHOWN_ROWS rows ('shown', a list). Same reasons as DuplicateLog."""

    policy: str
    rows: pd.DataFrame

    def screen(self, table: pd.DataFrame, id_name: str, lang: str) -> tuple[pd.Series, pd.DataFrame]:
        ids = table[id_name].astype(object)
        reject = np.zeros(len(table), dtype=bool)
        reasons: list[str] = []
        if self.policy != "keep" and len(self.rows):
            numbers = table.index.to_numpy(dtype="int64")
            found = self.rows.reindex(numbers)
            for position in np.flatnonzero(found["first"].notna().to_numpy()):
                info = found.iloc[position]
                kept = int(info["first"] if self.policy == "first" else info["last"]) if self.policy != "reject" \
                    else None
                if kept == numbers[position]:
                    continue
                reject[position] = True
                reasons.append(duplicate_reason(self.policy, ids.iat[position], kept,
                                                [int(n) for n in info["shown"]], lang))
        return duplicate_rejects(table, ids, reject, reasons, id_name)


@dataclass
class DuplicateLog:
    """Customer ids on more than one row, and which of those rows are evaluated (`policy`):
    first: the first row, later ones rejected; last: the last row, earlier ones rejected (the file is
    read once more first, for its ids); reject: none of them; keep: all, with the warning only."""

    policy: str = "first"
    rows: dict[str, list[int]] = field(default_factory=dict)  # repeated id -> every row it is on
    rejected: int = 0
    # ids seen so far, as 64-bit hashes with the first row of each: flat memory per id
    _seen: SeenIds = field(default_factory=SeenIds)
    _planned: dict[str, list[int]] | None = None  # last/reject: every repeated id's rows, from a first read

    def plan(self, id_columns: Iterable[pd.Series]) -> None:
        """Find every repeated id before evaluating (policies last and reject)."""
        ids = [column[column != ""] for column in id_columns]
        whole = pd.concat(ids) if ids else pd.Series(dtype=object)
        repeated = whole[whole.duplicated(keep=False)]
        groups = repeated.groupby(repeated, sort=False).groups
        self._planned = {key: list(map(int, rows)) for key, rows in groups.items()}

    def screen(self, table: pd.DataFrame, id_name: str, lang: str) -> tuple[pd.Series, pd.DataFrame]:
        """(rows to evaluate, rejects) for one chunk, in file order."""
        ids = _text(table[id_name])
        present = (ids.notna() & (ids != "")).to_numpy()
        numbers = table.index.to_numpy(dtype="int64")
        if self._planned is not None:
            repeated = ids.isin(self._planned.keys()).to_numpy()
            for key in ids[repeated].unique():
                self.rows.setdefault(key, self._planned[key])
        else:
            repeated = self._stream(ids, present, numbers)
        reject = np.zeros(len(table), dtype=bool)
        reasons = []
        for position in np.flatnonzero(repeated):
            key, row = ids.iat[position], int(numbers[position])
            rows = self.rows[key]
            kept = rows[0] if self.policy == "first" else rows[-1] if self.policy == "last" else None
            if self.policy == "keep" or row == kept:
                continue
            reject[position] = True
            reasons.append(duplicate_reason(self.policy, key, kept, rows[:SHOWN_ROWS], lang))
        self.rejected += int(reject.sum())
        return duplicate_rejects(table, ids, reject, reasons, id_name)

    def _stream(self, ids: pd.Series, present: np.ndarray, numbers: np.ndarray) -> np.ndarray:
        """Rows whose id was seen before (in this chunk or an earlier one); remembers this chunk's ids.
        The chunk's hashes are sorted once: repeats within it are neighbours, and lookups among the
        ids seen so far (engine.io.seen_ids) visit their filter and runs in order, not at random."""
        hashes = id_hashes(ids)
        order = np.argsort(hashes)  # quicksort: 4x a stable sort's speed
        ordered = hashes[order]
        same_as_next = ordered[1:] == ordered[:-1]
        if same_as_next.any():  # repeats: put each id's rows back in file order, so its first comes first
            order = np.lexsort((np.arange(len(hashes)), hashes))
            ordered = hashes[order]
        first_sorted = np.concatenate([[True], ~same_as_next])
        repeated_sorted = ~first_sorted | np.concatenate([same_as_next, [False]])
        first_rows_sorted = self._seen.first_rows(ordered)
        earlier, within, first, first_rows = (np.empty(len(ids), dtype=dtype) for dtype in (bool, bool, bool, np.int64))
        for out, sorted_values in ((earlier, first_rows_sorted >= 0), (within, repeated_sorted), (first, first_sorted),
                                   (first_rows, first_rows_sorted)):
            out[order] = sorted_values
        earlier &= present
        repeated = earlier | (within & present)
        for position in np.flatnonzero(repeated):
            key = ids.iat[position]
            if key not in self.rows:
                self.rows[key] = [int(first_rows[position])] if earlier[position] else []
            self.rows[key].append(int(numbers[position]))
        fresh_sorted = (present & ~earlier & first)[order]  # still in hash order
        new_hashes, new_rows = ordered[fresh_sorted], numbers[order][fresh_sorted]
        self._seen.add(new_hashes, new_rows)
        return repeated

    @property
    def ids(self) -> int:
        return len(self.rows)

    def examples(self, count: int = 3) -> list[tuple[str, list[int]]]:
        return list(self.rows.items())[:count]
