"""Turning what a user typed (option values, JSON, dates, folders) into what the engine takes, with
a usage error in both languages when it does not fit; and the Typer pieces every command shares."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

import typer

from engine.bundled import default_rules_dir
from engine.console.streams import err
from engine.errors import Say, UsageError
from engine.messages import LANGS, t
from engine.rules.loader import display_path, load_rulebook
from engine.rules.model import Rulebook

if TYPE_CHECKING:  # pandas and the feature code load only for the commands that use them
    from engine.features.derive import CalibratedFeatures
    from engine.features.featureset import FeatureSet


def flag(*names: str, help: str) -> typer.models.OptionInfo:
    """A yes/no option. Typer 0.29 prints `<bool>` beside a flag in --help as if it took a value; an
    empty metavar shows it as the bare flag it is (tests/test_options.py checks every flag uses this)."""
    return typer.Option(*names, help=help, metavar="")


def check_lang(lang: str) -> str:
    return check_choice("--lang", lang, LANGS)


def check_choice(option: str, value: str, choices: tuple[str, ...] | list[str]) -> str:
    if value not in choices:
        raise UsageError(Say(f"{option} must be one of {', '.join(choices)}, not '{value}'",
                             f"{option} 只能是 {'、'.join(choices)},不能是“{value}”"))
    return value


def check_horizon(days: int) -> int:
    if days < 0:
        raise UsageError(Say(f"--horizon must be 0 or more days, not {days}",
                             f"--horizon 必须是 0 或更多天,不能是 {days}"))
    return days


def load_rules(rules: Path | None, lang: str, quiet: bool = False) -> Rulebook:
    """--rules, else ./rules, else the bundled packs; says on stderr which folder is used."""
    where_key = "local"
    if rules is None:
        rules, bundled = default_rules_dir()
        where_key = "bundled" if bundled else "local"
    if not quiet:
        err.print(t(lang, "using_rules", path=display_path(rules), where=t(lang, where_key)), markup=False)
    return load_rulebook(rules)


def parse_customer_json(text: str) -> dict[str, Any]:
    try:
        record = json.loads(text)
    except RecursionError:  # Python's parser recurses per level of nesting
        raise UsageError(Say("--customer nests too deeply; a customer is one object of values",
                             "--customer 嵌套层数过多;客户应是一个由取值组成的对象")) from None
    except json.JSONDecodeError as exc:
        raise UsageError(Say(f"--customer is not valid JSON: {exc.msg} at character {exc.pos + 1}",
                             f"--customer 不是有效的 JSON:第 {exc.pos + 1} 个字符处 {exc.msg}")) from None
    if not isinstance(record, dict):
        raise UsageError(Say('--customer must be a JSON object, e.g. {"assets": 6000000}',
                             '--customer 必须是 JSON 对象,例如 {"assets": 6000000}'))
    return record


def parse_as_of(text: str | None) -> dt.date:
    from engine.rules.literals import EPOCH, LiteralError, parse_date

    if text is None:
        return dt.date.today()
    days = parse_date(text)
    if isinstance(days, LiteralError):
        raise UsageError(Say(f"--as-of: {days.message.en}", f"--as-of:{days.message.zh}"))
    return EPOCH + dt.timedelta(days=days)


def parse_cross(cross: str | None) -> tuple[str, str] | None:
    if cross is None:
        return None
    parts = [p.strip() for p in cross.split(",") if p.strip()]
    if len(parts) != 2:
        raise UsageError(Say("--cross takes two scheme ids: --cross bank_tier,dealer_class",
                             "--cross 需要两个方案 id:--cross bank_tier,dealer_class"))
    return parts[0], parts[1]


def load_feature_set(rules: Path | None, lang: str) -> FeatureSet:
    from engine.features.featureset import features_path, load_features

    path = features_path(rules if rules is not None else default_rules_dir()[0])
    err.print(t(lang, "features_file", path=display_path(path)), markup=False)
    return load_features(path, display_path(path))


def calibrated_features(calibration: Path | None, rules: Path | None, lang: str) -> CalibratedFeatures | None:
    if calibration is None:
        return None
    from engine.features.calibration import load as load_calibration
    from engine.features.derive import CalibratedFeatures

    features = load_feature_set(rules, lang)
    loaded = load_calibration(calibration, display_path(calibration))
    err.print(t(lang, "calibration_used", id=loaded.id, path=display_path(calibration)), markup=False)
    return CalibratedFeatures(features, loaded)
