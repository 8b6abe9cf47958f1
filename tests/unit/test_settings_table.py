"""Settings are listed once (kusei.settings): every field is a KUSEI_* variable and a flag of
`kusei serve` exactly once, the CLI reads its flags from that table, the processes a server starts
get every setting back, and the service description states the limits the table marks."""

from __future__ import annotations

import argparse
from pathlib import Path

import pytest

from kusei import cli
from kusei.settings import Settings, options

# A value other than the default for every type of setting, valid for each field's bounds.
OTHER = {"data_dir": "/srv/kusei-test", "base": "http://example.test/kusei", "public_url": "http://example.test/pub",
         "licence": "http://example.test/licence", "modified": "2001-02-03", "host": "127.0.0.2",
         "rate_limit": "5/minute", "trusted_proxies": "10.0.0.0/8", "metrics_clients": "10.1.0.0/16",
         "access_log": "off"}


def other_value(name: str) -> str:
    if name in OTHER:
        return OTHER[name]
    default = Settings.model_fields[name].default
    if isinstance(default, bool):  # before int: a bool is an int, and True + 1 is true again
        return str(not default).lower()
    assert isinstance(default, int | float), f"no test value for {name}: add one to OTHER"
    return str(type(default)(default + 1))


def subcommands() -> dict[str, argparse.ArgumentParser]:
    parser = cli._parser()
    action = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    return dict(action.choices)


def test_every_setting_is_one_flag_of_serve_and_the_build_flags_are_build_settings() -> None:
    commands = subcommands()
    fields = set(Settings.model_fields)
    for command in ("build", "serve"):
        dests = [a.dest for a in commands[command]._actions if a.dest in fields]
        assert len(dests) == len(set(dests)), f"a setting has two flags in `kusei {command}`"
        if command == "serve":
            assert set(dests) == fields
        else:
            assert set(dests) == {o.field for o in options() if "build" in o.commands}
    flags = [o.flag for o in options()]
    assert len(flags) == len(set(flags)) and len(flags) == len(fields)


@pytest.mark.parametrize("name", list(Settings.model_fields))
def test_each_setting_comes_from_its_variable_and_its_flag(name: str, monkeypatch: pytest.MonkeyPatch) -> None:
    value = other_value(name)
    expected = getattr(Settings.load(**{name: value}), name)
    assert expected != Settings.model_fields[name].default
    monkeypatch.setenv(f"KUSEI_{name.upper()}", value)
    assert getattr(Settings.load(), name) == expected
    monkeypatch.delenv(f"KUSEI_{name.upper()}")
    flag = next(o.flag for o in options() if o.field == name)
    args = cli._parser().parse_args(["serve", flag, value])
    assert getattr(cli._settings(args), name) == expected


def test_a_flag_wins_over_the_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KUSEI_QUERY_TIMEOUT", "12")
    assert cli._settings(cli._parser().parse_args(["serve"])).query_timeout == 12
    assert cli._settings(cli._parser().parse_args(["serve", "--timeout", "7"])).query_timeout == 7


def test_the_server_processes_get_every_setting_back(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.chdir(tmp_path)
    given = Settings.load(**{**{name: other_value(name) for name in Settings.model_fields}, "data_dir": "var"})
    environment = given.environment()
    assert set(environment) == {f"KUSEI_{name.upper()}" for name in Settings.model_fields}
    assert environment["KUSEI_DATA_DIR"] == str(tmp_path.resolve() / "var")  # workers may start elsewhere
    for name, value in environment.items():
        monkeypatch.setenv(name, value)
    assert Settings.load() == given.with_overrides(data_dir=tmp_path.resolve() / "var")


def test_the_limits_stated_are_the_settings_marked_as_limits() -> None:
    settings = Settings.load(rate_limit="5/minute", max_query_memory=300 << 20, max_server_memory=8 << 30)
    stated = settings.limits()
    assert stated["queryTimeLimit"] == settings.query_timeout
    assert stated["rateLimit"] == "5/minute"
    # The per-query memory stated is the bound applied, not the setting that caps it.
    assert stated["maxQueryMemory"] == settings.query_memory_bound == 300 << 20
    assert len(stated) == 13
    off = Settings.load(rate_limit="", max_query_memory=0, max_server_memory=0, client_max_queries=0,
                        client_query_seconds=0).limits()
    assert set(stated) - set(off) == {"rateLimit", "maxQueryMemory", "maxServerMemory",
                                      "maxConcurrentQueriesPerClient", "queryTimePerClientPerMinute"}
