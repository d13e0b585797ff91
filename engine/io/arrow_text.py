"""Text columns as Arrow string arrays, and their raw UTF-8 bytes as numpy arrays: the whole-column
operations on cells (typing, hashing ids, escaping CSV) work on these instead of a Python string
per cell."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow as pa


def arrow_strings(text: pd.Series) -> pa.Array | None:
    """The column as one Arrow string array, without copying when it is Arrow-backed already;
    None when a cell is not text."""
    try:
        if isinstance(text.dtype, pd.StringDtype) and text.dtype.storage == "pyarrow":
            strings = pa.chunked_array(text.array.__arrow_array__())  # type: ignore[attr-defined]
        else:
            strings = pa.chunked_array([pa.array(text.to_numpy(dtype=object), type=pa.string(), from_pandas=True)])
    except (pa.ArrowException, TypeError, ValueError):  # numbers or other objects among the text
        return None
    return strings.combine_chunks() if strings.num_chunks != 1 else strings.chunk(0)


def string_bytes(strings: pa.Array) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(start, length) of every cell in `data`, the cells' UTF-8 bytes (missing cells are empty)."""
    large = strings.cast(pa.large_string())
    _, offset_buffer, data_buffer = large.buffers()
    offsets = np.frombuffer(offset_buffer, dtype=np.int64)[large.offset:large.offset + len(large) + 1]
    data = np.frombuffer(data_buffer, dtype=np.uint8) if data_buffer is not None else np.zeros(0, dtype=np.uint8)
    lengths = np.diff(offsets)
    if large.null_count:
        lengths = np.where(np.asarray(large.is_null()), 0, lengths)
    return offsets[:-1], lengths, data


def holds_any(strings: pa.Array, characters: str) -> bool:
    """Whether any cell holds one of these ASCII characters: one pass over the column's bytes."""
    _, _, data = string_bytes(strings)
    wanted = np.zeros(256, dtype=bool)
    wanted[list(characters.encode("ascii"))] = True
    return bool(wanted[data].any())


def may_start_with(strings: pa.Array, characters: str) -> np.ndarray:
    """True for each non-empty cell whose first byte is the first UTF-8 byte of one of `characters`
    (a superset of the cells starting with one of them, found without decoding a cell)."""
    starts, lengths, data = string_bytes(strings)
    leads = np.array(sorted({character.encode("utf-8")[0] for character in characters}), dtype=np.uint8)
    if not len(data):
        return np.zeros(len(starts), dtype=bool)
    first = data[np.minimum(starts, len(data) - 1)]
    return (lengths > 0) & np.isin(first, leads)


def float_texts(values: np.ndarray) -> pa.Array:
    """Floats as text the way pandas' to_csv and Python's repr write them (numpy's shortest
    round-trip form: 1.0, 1e-07), '' for NaN."""
    texts = values.astype(str)
    texts[np.isnan(values)] = ""
    return pa.array(texts, pa.string())
