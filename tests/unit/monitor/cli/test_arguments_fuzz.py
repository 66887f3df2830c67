"""Any command line: parsed, or exit 2 with argparse's usage and one error line, never a
traceback; the monitor's settings from any flags are valid or a `SettingsError`."""

from __future__ import annotations

import argparse
import contextlib
import io

import pytest
from hypothesis import event, example, given, settings
from hypothesis import strategies as st

from monitor.cli.main import build_parser
from monitor.core.settings import SettingsError, settings_from_sources
from monitor.core.terminal_text import for_terminal
from tests.support.fuzz_examples import examples


def _commands(parser: argparse.ArgumentParser, path: tuple[str, ...] = ()) -> dict[
        tuple[str, ...], list[str]]:
    """Every command path (`("callbacks", "close")`) and its option strings."""
    found = {path: [o for a in parser._actions for o in a.option_strings]}
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, sub in action.choices.items():
                found.update(_commands(sub, (*path, name)))
    return found


PARSER = build_parser()  # reusable: parse_args keeps no state between calls
COMMANDS = _commands(PARSER)
ODD_VALUES = ["", "-", "--", "0", "-1", "1e999", "nan", "x" * 300, "2026-13-45", "2026Q9",
              "\x00", "\x1b[2J", "é", "../../etc/passwd", "sqlite:///", "postgresql://",
              "tcp://u:p@[::1", "mqtt://:0", "127.0.0.1:99999", "127.0.0.1:²",
              "²", "--help=x", "=", "@file"]


@st.composite
def command_lines(draw: st.DrawFn) -> list[str]:
    path = draw(st.sampled_from(sorted(COMMANDS)))
    options = COMMANDS[path] or ["--x"]
    tokens = draw(st.lists(st.one_of(
        st.sampled_from([o for o in options if o not in ("-h", "--help", "--version")]
                        or ["--x"]),
        st.sampled_from(ODD_VALUES), st.text(max_size=12)), max_size=6))
    return [*path, *tokens]


def parse(argv: list[str]) -> tuple[argparse.Namespace | None, int | None, str]:
    err = io.StringIO()
    with contextlib.redirect_stderr(err), contextlib.redirect_stdout(io.StringIO()):
        try:
            return PARSER.parse_args(argv), None, err.getvalue()
        except SystemExit as exit_:
            return None, int(exit_.code or 0), err.getvalue()


@settings(max_examples=examples(400), deadline=None)
@given(command_lines())
def test_any_command_line_parses_or_exits_2_with_one_error_line(argv: list[str]) -> None:
    args, code, err = parse(argv)
    assert "Traceback" not in err
    if args is None:
        assert code == 2, (argv, code, err)
        last = err.rstrip("\n").split("\n")[-1]
        assert ": error: " in last, err
        assert last.startswith("callsla"), err
        assert for_terminal(last) == last, "control characters in the error line"
        event("refused by argparse")
    else:
        event(f"parsed {args.command}")


@settings(max_examples=examples(200), deadline=None)
@given(st.lists(st.tuples(st.sampled_from(COMMANDS[("monitor",)][2:]),
                          st.one_of(st.sampled_from(ODD_VALUES), st.text(max_size=20))),
                max_size=4))
# found by a 10x run: '²'.isdigit() is true, int('²') fails
@example([("--metrics-addr", "127.0.0.1:\u00b2")])
@example([("--ami-url", "tcp://u:p@[::1")])
# found in CI once TLS came in: a CA file name too long for the system raised OSError
@example([("--tls-ca-file", "x" * 300)])
def test_the_monitor_settings_are_valid_or_a_settings_error(
        flags: list[tuple[str, str]]) -> None:
    argv = ["monitor", *(f"{flag}={value}" for flag, value in flags)]
    args, _, _ = parse(argv)
    if args is None:
        return
    try:
        settings_from_sources(args, environ={})
    except SettingsError:
        event("settings refused")
    else:
        event("settings accepted")


def test_an_escape_in_a_bad_argument_is_shown_not_obeyed(
        capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_:
        build_parser().parse_args(["monitor", "\x1b[2J\nforged line"])
    assert exit_.value.code == 2
    last = capsys.readouterr().err.rstrip("\n").split("\n")[-1]
    assert last == "callsla: error: unrecognized arguments: \\x1b[2J\\nforged line"
