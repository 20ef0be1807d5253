"""The command line's conventions, gh and git being the model."""

from __future__ import annotations

import argparse

import pytest

from migrator.cli import COMMANDS, build_parser, main


def _parsers() -> list[tuple[str, argparse.ArgumentParser]]:
    """Every command and nested command, by the words that reach it."""
    found: list[tuple[str, argparse.ArgumentParser]] = []

    def walk(words: str, parser: argparse.ArgumentParser) -> None:
        for action in parser._actions:
            if isinstance(action, argparse._SubParsersAction):
                for name, child in action.choices.items():
                    if name != "help":
                        found.append((f"{words} {name}".strip(), child))
                        walk(f"{words} {name}", child)

    walk("", build_parser())
    return found


def test_migrator_alone_prints_the_help(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as stopped:
        main([])
    assert stopped.value.code == 0
    out = capsys.readouterr().out
    assert "USAGE" in out and "EXAMPLES" in out and "plan merge" in out
    assert all(name in out for name in COMMANDS)


def test_help_command_shows_a_commands_help(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as stopped:
        main(["help", "apply"])
    assert stopped.value.code == 0
    assert capsys.readouterr().out.startswith("usage: migrator apply")
    with pytest.raises(SystemExit):
        main(["help", "plan", "merge"])
    assert capsys.readouterr().out.startswith("usage: migrator plan merge")
    with pytest.raises(SystemExit) as stopped:
        main(["help", "nosuch"])
    assert stopped.value.code == 2 and "unknown command 'nosuch'" in capsys.readouterr().err


@pytest.mark.parametrize("flags", [["-v"], ["-q"], ["--log-json"], ["-v", "--log-json"]])
def test_global_flags_work_after_the_command(flags: list[str]) -> None:
    before = build_parser().parse_args([*flags, "show", "plan.json"])
    after = build_parser().parse_args(["show", "plan.json", *flags])
    for name in ("verbose", "quiet", "log_json"):
        assert getattr(before, name) == getattr(after, name)
    assert any(getattr(after, name) for name in ("verbose", "quiet", "log_json"))
    assert build_parser().parse_args(["-v", "show", "plan.json"]).verbose  # the command's copy does not reset it


def test_an_unknown_flag_prints_that_commands_usage(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as stopped:
        main(["apply", "plan.json", "--bogus"])
    assert stopped.value.code == 2
    err = capsys.readouterr().err
    assert err.startswith("usage: migrator apply") and "migrator apply: error: unrecognized arguments: --bogus" in err


@pytest.mark.parametrize(("words", "parser"), _parsers(), ids=[w for w, _ in _parsers()])
def test_every_flag_has_help_and_every_help_ends_with_examples(words: str, parser: argparse.ArgumentParser) -> None:
    silent = [
        action.option_strings or [action.dest]
        for action in parser._actions
        if not isinstance(action, argparse._SubParsersAction) and not action.help
    ]
    assert silent == [], f"migrator {words}: flags without help"
    help_text = parser.format_help().rstrip()
    examples = help_text.rsplit("examples:", 1)
    assert (len(examples) == 2 and "$ migrator" in examples[1]) or "$ python -m migrator" in examples[1], words


def test_sandbox_help_shows_its_defaults() -> None:
    (sandbox,) = [p for w, p in _parsers() if w == "sandbox"]
    text = " ".join(sandbox.format_help().split())
    assert "--core-limit N REST requests per token per hour (default: 5000)" in text
    assert "(default: 127.0.0.1, loopback only)" in text and "(default: 3600, as GitHub)" in text
