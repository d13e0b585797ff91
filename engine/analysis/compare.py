"""`kece compare`: two outputs of `kece evaluate` (last month's and this month's, say) matched by
customer id: per scheme a migration matrix and who moved, and the customers who appeared or left.
No rulebook is needed: a results file names each scheme's column, and `<scheme>.label` its labels."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from engine.analysis.migration import UNMATCHED, Migration
from engine.errors import Say, UsageError
from engine.io.tables import guess_id_column, iter_table
from engine.messages import t

# Columns kece evaluate adds that are not schemes (the calibration used).
NOT_SCHEMES = ("calibration",)


@dataclass
class Comparison:
    old: Path
    new: Path
    id_column: str
    migrations: dict[str, Migration] = field(default_factory=dict)
    appeared: list[str] = field(default_factory=list)  # ids only in the new file, in its order
    left: list[str] = field(default_factory=list)  # ids only in the old file
    schemes_removed: list[str] = field(default_factory=list)
    schemes_added: list[str] = field(default_factory=list)
    repeated: int = 0  # rows after the first of an id, not compared
    common: int = 0  # customers in both files

    @property
    def changed(self) -> list[Migration]:
        return [m for m in self.migrations.values() if m.moved]

    @property
    def moved(self) -> int:
        return sum(len(m.moved) for m in self.migrations.values())


def read_results(path: Path, encoding: str | None = None, sheet: str | None = None,
                 lang: str = "zh") -> pd.DataFrame:
    _, chunks = iter_table(path, encoding, sheet, lang)
    return pd.concat([chunk.table for chunk in chunks]).fillna("").astype(str)


def result_schemes(table: pd.DataFrame, id_column: str) -> list[str]:
    """The scheme columns of a results file: those with a `.label` column beside them."""
    return [c for c in table.columns if c != id_column and c not in NOT_SCHEMES and f"{c}.label" in table.columns]


def compare_results(old_path: Path, new_path: Path, *, id_column: str | None = None, encoding: str | None = None,
                    sheet: str | None = None, lang: str = "zh") -> Comparison:
    old, new = (read_results(p, encoding, sheet, lang) for p in (old_path, new_path))
    name = id_column or guess_id_column(new, None) or (str(new.columns[0]) if len(new.columns) else "")
    for path, table in ((old_path, old), (new_path, new)):
        if name not in table.columns or not result_schemes(table, name):
            raise UsageError(Say(f"{path} is not an output of kece evaluate with an id column '{name}' "
                                 "(give --id-column)",
                                 f"{path} 不是带有客户编号列“{name}”的 kece evaluate 结果文件(可用 --id-column 指定)"))
    repeated = int(old[name].duplicated().sum() + new[name].duplicated().sum())
    old, new = old.drop_duplicates(name).set_index(name), new.drop_duplicates(name).set_index(name)
    old_schemes, new_schemes = result_schemes(old.reset_index(), name), result_schemes(new.reset_index(), name)
    result = Comparison(old_path, new_path, name, repeated=repeated,
                        appeared=[i for i in new.index if i not in old.index],
                        left=[i for i in old.index if i not in new.index],
                        schemes_removed=[s for s in old_schemes if s not in new_schemes],
                        schemes_added=[s for s in new_schemes if s not in old_schemes])
    common = new.index[new.index.isin(old.index)]
    result.common = len(common)
    for scheme in (s for s in new_schemes if s in old_schemes):
        labels = {UNMATCHED: t(lang, "unmatched")}
        for table in (old, new):
            pairs = table[[scheme, f"{scheme}.label"]].drop_duplicates(scheme)
            labels.update({k: v for k, v in zip(pairs[scheme], pairs[f"{scheme}.label"], strict=True) if k})
        # Rows in the order the new file first gives each outcome: the files carry no rule order.
        order = tuple(dict.fromkeys(k for k in (*new[scheme], *old[scheme]) if k))
        migration = Migration(scheme, labels=labels, order=order)
        migration.add(list(common), old.loc[common, scheme].tolist(), new.loc[common, scheme].tolist())
        result.migrations[scheme] = migration
    return result
