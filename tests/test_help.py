"""--help and click's usage errors speak the user's language: Chinese by default, English with --lang en
or KECE_LANG=en; and every command, option and argument has its Chinese (engine/console/help_zh.py)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Annotated

import pytest
import typer
from typer.testing import CliRunner

from cli import app
from engine.console import help_zh
from engine.console.group import KeceGroup
from engine.console.localize import language_of, missing_chinese
from engine.console.params import LangOption, RulesOption

runner = CliRunner()
REPO = Path(__file__).resolve().parent.parent


def run(*args: str, env: dict[str, str] | None = None):
    return runner.invoke(app, list(args), env=env)


def test_every_command_option_and_argument_has_its_chinese():
    problems = missing_chinese(typer.main.get_command(app))
    assert not problems, "\n".join(problems)


def lone_evaluate() -> typer.Typer:
    """An app like kece's whose evaluate has one more option, as a new feature would add it."""
    lone = typer.Typer(cls=KeceGroup, help="A test app.")

    @lone.callback()
    def group() -> None:
        """A group, as kece's, even with one command."""

    @lone.command()
    def evaluate(rules: RulesOption = None, engine: Annotated[str, typer.Option(help="local or spark.")] = "local",
                 lang: LangOption = "zh") -> None:
        """Evaluate."""

    return lone


def test_a_new_option_without_chinese_fails_and_says_which_key_to_add_where():
    problems = missing_chinese(typer.main.get_command(lone_evaluate()))
    assert ('kece evaluate --engine has no Chinese help: add "evaluate --engine": "…" to PARAMS in '
            "engine/console/help_zh.py (its English: 'local or spark.')") in problems
    # the shared options are found under their names in params.py
    assert not [p for p in problems if "--rules" in p or "--lang" in p]


def test_a_shared_option_is_translated_once_under_its_name_in_params(monkeypatch):
    monkeypatch.delitem(help_zh.SHARED, "RulesOption")
    problems = missing_chinese(typer.main.get_command(app))
    assert problems and all('add "RulesOption": "…" to SHARED in engine/console/help_zh.py' in p for p in problems)
    assert "kece evaluate --rules has no Chinese help" in "\n".join(problems)


def test_a_left_over_key_fails_too(monkeypatch):
    monkeypatch.setitem(help_zh.PARAMS, "evaluate --backnd", "后端")
    assert missing_chinese(typer.main.get_command(app)) == [
        '"evaluate --backnd" in PARAMS of engine/console/help_zh.py names no command or option: rename or remove it']


@pytest.mark.parametrize(("args", "env", "lang"), [
    ([], {}, "zh"),
    (["evaluate", "--help"], {"KECE_LANG": "en"}, "en"),
    (["evaluate", "--lang", "en", "--help"], {}, "en"),
    (["evaluate", "--help", "--lang=en"], {}, "en"),
    (["evaluate", "--lang", "zh"], {"KECE_LANG": "en"}, "zh"),  # the command line wins
    (["--lang", "en", "--lang", "zh"], {}, "zh"),  # the last one, as click takes it
    (["evaluate", "--", "--lang", "en"], {}, "zh"),  # after -- it is a file name
    (["evaluate", "--lang", "fr"], {}, "zh"),  # what kece does not speak: the default
    (["evaluate", "--lang"], {"KECE_LANG": "en"}, "en"),
])
def test_the_language_is_found_before_parsing(args, env, lang):
    assert language_of(args, env) == lang


def test_kece_help_is_chinese_by_default():
    result = run("--help")
    assert result.exit_code == 0
    for phrase in ("用法:kece [选项] 命令 [参数]...", "客策 kece:客户分群规则与销售行动方案",
                   "─ 选项 ─", "─ 命令 ─", "显示本帮助并退出。", "kece 内部出错时显示调用栈",
                   "评估客户:一个客户文件", "拟合并保存按客群相对计算的特征的分割点"):
        assert phrase in result.output, phrase
    for english in ("Usage", "Options", "Commands", "Show this message", "Evaluate customers"):
        assert english not in result.output, english


def test_kece_help_in_english():
    for result in (run("--help", env={"KECE_LANG": "en"}), run("--lang", "en", "--help")):
        assert result.exit_code == 0, result.output
        for phrase in ("Usage: kece [OPTIONS] COMMAND [ARGS]...", "─ Options ─", "─ Commands ─",
                       "Show this message and exit.", "Evaluate customers: a file"):
            assert phrase in result.output, phrase
        assert "评估客户" not in result.output and "用法" not in result.output


def test_evaluate_help_in_chinese():
    result = run("evaluate", "--help")
    assert result.exit_code == 0
    for phrase in ("用法:kece evaluate [选项] [input]", "─ 参数 ─", "─ 选项 ─",
                   "客户文件(CSV、.xlsx/.xls、.parquet、.jsonl)。",  # the argument
                   "规则文件所在的文件夹",  # a shared option (params.py)
                   "同一客户编号出现在多行时:first(评估第一行,拒收后面的行)",  # one of evaluate's own
                   "[默认:first]", "[环境变量:KECE_LANG]", "显示本帮助并退出。"):
        assert phrase in result.output, phrase
    assert "…" not in result.output  # Chinese has no spaces to wrap at: folded, not cut short
    assert "<bool>" not in next(line for line in result.output.splitlines() if " --help " in line)


def test_evaluate_help_in_english_whichever_way_it_is_asked():
    for result in (run("evaluate", "--help", "--lang", "en"), run("evaluate", "--lang=en", "--help"),
                   run("evaluate", "--help", env={"KECE_LANG": "en"}), run("--lang", "en", "evaluate", "--help")):
        assert result.exit_code == 0, result.output
        for phrase in ("Usage: kece evaluate [OPTIONS] [input]", "─ Arguments ─", "Folder of rule files",
                       "Rows repeating a customer id", "[default: first]", "[env var: KECE_LANG]"):
            assert phrase in result.output, phrase
        assert "规则文件所在的文件夹" not in result.output


def test_one_process_switches_language_back_and_forth():
    assert "─ 选项 ─" in run("check", "--help").output
    assert "─ Options ─" in run("check", "--help", "--lang", "en").output
    assert "─ 选项 ─" in run("check", "--help").output


@pytest.mark.parametrize(("args", "chinese", "english"), [
    (["report"], "缺少参数 'input'", "Missing argument 'input'."),
    (["impact", "x.csv"], "缺少选项 '--base'", "Missing option '--base'."),
    (["evaluate", "--bogus"], "没有选项 --bogus", "No such option: --bogus"),
    (["evaluate", "--rule", "x"], "没有选项 --rule(您是不是想用", "No such option: --rule"),
    (["evaluate", "--rules"], "选项 '--rules' 后面缺少取值", "Option '--rules' requires an argument."),
    (["evaluate", "--header-row", "abc", "x.csv"], "'--header-row' 的取值无效:应为整数",
     "Invalid value for '--header-row'"),
    (["evaluate", "a.csv", "b.csv"], "多出了参数:b.csv", "Got unexpected extra argument(s) (b.csv)"),
    (["evalute"], "没有命令 'evalute'(您是不是想用 'evaluate'?)", "No such command 'evalute'. Did you mean"),
    (["plan", "--all=3"], "选项 '--all' 不接受取值", "Option '--all' does not take a value."),
])
def test_usage_errors_in_both_languages(args, chinese, english):
    zh = run(*args)
    assert zh.exit_code == 2 and chinese in zh.output, zh.output
    en = run(*args, env={"KECE_LANG": "en"})
    assert en.exit_code == 2 and english in en.output, en.output


def test_a_usage_error_says_how_to_get_help_in_its_language():
    zh = run("evaluate", "--bogus")
    assert "用法:kece evaluate [选项] [input]" in zh.output and "运行 'kece evaluate --help' 查看帮助。" in zh.output
    assert "─ 错误 ─" in zh.output
    en = run("evaluate", "--bogus", env={"KECE_LANG": "en"})
    assert "Try 'kece evaluate --help' for help." in en.output and "─ Error ─" in en.output


def test_lang_before_the_command_goes_to_the_command():
    result = run("--lang", "en", "evaluate", "--customer", '{"assets": 1}', "--rules", str(REPO / "nowhere"))
    assert result.exit_code == 1 and "is not a folder of rule files" in result.output  # the command ran in English
    result = run("--lang", "en", "schema", "--kind", "rules")  # a command without --lang: read, then dropped
    assert result.exit_code == 0 and '"$schema"' in result.output


HEAVY = ("pandas", "pyarrow", "matplotlib", "jinja2", "durable", "icalendar", "docx", "openpyxl")


@pytest.mark.parametrize(("argv", "allowed"), [
    (["--help"], ()),  # building help loads no data, plotting, templating or rules engine
    (["evaluate", "--help"], ()),
    (["evaluate", "data/samples/customers.csv", "-q", "-o", "{out}"], ("pandas", "pyarrow")),
    (["evaluate", "--customer", '{"assets": 6000000, "credit_record": "excellent", "statements": "complete", '
      '"risk_assessment": "complete"}', "--scheme", "bank_tier"], ("durable", "pandas", "pyarrow")),
])
def test_commands_load_only_the_modules_they_use(tmp_path, argv, allowed):
    # as the console script runs it, in a fresh process
    argv = [arg.replace("{out}", str(tmp_path / "out.csv")) for arg in argv]
    code = (f"import sys; sys.argv = ['kece', *{argv!r}]; import cli\n"
            "try:\n    cli.main()\nexcept SystemExit:\n    pass\n"
            f"print(sorted(m for m in {HEAVY!r} if m in sys.modules))")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=REPO,
                          env={"PATH": "", "COLUMNS": "120", "NO_COLOR": "1"})
    assert done.stdout.strip().splitlines()[-1] == str(sorted(allowed))
    if "--help" in argv:
        assert "用法:kece" in done.stdout


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_brackets_in_help_texts_are_shown_not_read_as_markup(lang):
    result = run("evaluate", "--help", env={"KECE_LANG": lang, "COLUMNS": "200"})
    assert "'kece[spark]'" in result.output and "local[2]" in result.output
