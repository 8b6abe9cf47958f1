"""Settings shared by the build and the server: one typed object, read from ``KUSEI_*`` environment
variables, overridable by CLI flags, validated when it is made (a bad value is a clear message at
start, not a failure at the first request)."""

from __future__ import annotations

import ipaddress
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

DEFAULT_BASE = "https://w3id.org/kusei"
# The documents print no licence; CC BY 4.0 is what the city states for its open data unless
# noted otherwise. It is a default to be confirmed by the publisher, not an established fact.
DEFAULT_LICENCE = "https://creativecommons.org/licenses/by/4.0/"
PROJECT_ROOT = Path(__file__).resolve().parent.parent


def rebased(text: str, base: str) -> str:
    """A text written with the default base (vocabulary, shapes, example queries) for ``base``.

    The one rule every file shipped with the default base goes through, so the vocabulary the
    build loads and the examples the endpoint serves cannot disagree about a deployment's base.
    """
    return text if base == DEFAULT_BASE else text.replace(DEFAULT_BASE + "/", base + "/")


Positive = Annotated[int, Field(gt=0)]

# Requests of one web worker that may be reading a body at once; more are refused with 503 before
# their body is read, so clients that send a body slowly never hold more request threads than this.
BODY_READERS = 16

# What the server's memory bound keeps for everything but running queries: the main process, the
# web workers with the answers they are sending, and idle query processes (which give memory back
# after each query). The rest is shared among the query slots: see Settings.query_memory_bound.
SERVER_MEMORY_RESERVE = 1 << 30


# Each field's ``json_schema_extra`` says how it is reached besides its KUSEI_<NAME> variable:
# ``commands``, the `kusei` commands that take it as a flag (default: serve only); ``flag``, the
# flag's name when it is not --<name-with-dashes>; ``limit``, the name (in the kusei: vocabulary)
# under which the service description states it, read from ``limit_of`` when that is set.
# A setting the build uses is a flag of `kusei serve` too, which builds when there is no release.
BUILD: dict[str, Any] = {"commands": ["build", "serve"]}


class SettingsError(ValueError):
    """A setting has a value that cannot be used; the message names the variable."""


ENV_PREFIX = "KUSEI_"


class Settings(BaseModel):
    # Defaults validated too, as every value is. The environment is read by _from_environment: what
    # pydantic-settings did for these flat fields, without its import (~0.05-0.1 s at each start).
    model_config = ConfigDict(frozen=True, extra="forbid", validate_default=True)

    data_dir: Path = Field(Path("var"), description="where releases are written and served from",
                           json_schema_extra=BUILD)
    base: str = Field(DEFAULT_BASE, description="base of every minted IRI", json_schema_extra=BUILD)
    public_url: str = Field("", description="where dumps and the endpoint are published (default: the base)",
                            json_schema_extra=BUILD)
    licence: str = Field(DEFAULT_LICENCE, description="the dataset licence stated in VoID/DCAT",
                         json_schema_extra=BUILD)
    modified: str = Field("2026-11-23", description="release date in the dataset description (fixed: "
                                                    "builds are reproducible)", json_schema_extra=BUILD)
    host: str = Field("127.0.0.1", description="address kusei serve listens on")
    port: int = Field(8000, ge=1, le=65535, description="port kusei serve listens on")
    workers: Positive = Field(2, description="server processes of kusei serve")
    header_timeout: float = Field(10.0, gt=0, le=60, description="seconds a client has to send a request's "
                                  "headers, and to start its next request on a kept-alive connection "
                                  "(the connection is closed past it)", json_schema_extra={"limit": "headerTimeLimit"})
    body_timeout: float = Field(10.0, gt=0, description="seconds a client has to send a request's body "
                                "(408 past it)", json_schema_extra={"limit": "bodyTimeLimit"})
    max_web_worker_memory: int = Field(1 << 30, ge=0, description="bytes a web worker process (not its query "
                                       "processes) may reach before it is replaced; 0 = never replaced for size")
    query_timeout: float = Field(30.0, gt=0, description="query time limit in seconds",
                                 json_schema_extra={"flag": "--timeout", "limit": "queryTimeLimit"})
    max_query_length: Positive = Field(20_000, description="longest query accepted, in characters",
                                       json_schema_extra={"limit": "maxQueryLength"})
    inline_queries: bool = Field(True, description="answer queries whose cost is bounded by their form in the "
                                 "web worker, without the hop to a query process")
    max_body_bytes: Positive = Field(100_000, description="largest request body accepted",
                                     json_schema_extra={"limit": "maxRequestBodyBytes"})
    max_result_rows: Positive = Field(100_000, description="most rows (triples) in one answer",
                                      json_schema_extra={"limit": "maxResultRows"})
    max_result_bytes: Positive = Field(50_000_000, description="largest answer, in bytes",
                                       json_schema_extra={"limit": "maxResultBytes"})
    result_cache_bytes: int = Field(64 << 20, ge=0, description="memory per server process for answers to "
                                                               "repeated queries; 0 turns the cache off")
    max_concurrent_queries: Positive = Field(8, description="queries running at once, server-wide",
                                             json_schema_extra={"limit": "maxConcurrentQueries"})
    max_query_memory: int = Field(1 << 30, ge=0, description="bytes one query process may reach while it "
                                  "answers (stopped past it: 422); 0 = no bound",
                                  json_schema_extra={"limit": "maxQueryMemory", "limit_of": "query_memory_bound"})
    max_server_memory: int = Field(4 << 30, ge=0, description="bytes the server's whole process tree may reach "
                                   "(the largest running query is stopped: 503); 0 = no bound",
                                   json_schema_extra={"limit": "maxServerMemory"})
    max_idle_worker_memory: int = Field(384 << 20, ge=0, description="bytes a query process may keep after a "
                                        "query (replaced past it); 0 = never replaced for size")
    query_idle_seconds: float = Field(30.0, gt=0, description="seconds without a query after which a server "
                                      "process retires its spare query processes (down to one for pages)")
    keep_releases: Positive = Field(3, description="releases kept on disk (the current one included), so links "
                                    "pinned to a past release answer from it while it is kept", json_schema_extra=BUILD)
    rate_limit: str = Field("", description="queries per client address on /sparql, e.g. 120/minute; "
                                            "empty = off", json_schema_extra={"limit": "rateLimit"})
    trusted_proxies: str = Field("", description="addresses or networks (comma-separated) of reverse proxies "
                                 "whose X-Forwarded-For names the client; empty = trust none")
    metrics_clients: str = Field("127.0.0.0/8,::1", description="addresses or networks (comma-separated) "
                                 "allowed to read /metrics; empty = nobody")
    access_log: str = Field("-", description="where the request log goes: - (stderr), a file path, or off")
    client_max_queries: int = Field(4, ge=0, description="queries one client address may run (or wait for a "
                                    "slot for) at once, server-wide; more wait briefly, then 429; 0 = no bound",
                                    json_schema_extra={"limit": "maxConcurrentQueriesPerClient"})
    client_query_seconds: float = Field(120.0, ge=0, description="seconds of query time one client address may "
                                        "use in any minute, server-wide; past it 429; 0 = no budget",
                                        json_schema_extra={"limit": "queryTimePerClientPerMinute"})

    @model_validator(mode="before")
    @classmethod
    def _from_environment(cls, given: Any) -> Any:
        """Each field not given from its KUSEI_<NAME> variable (the name in any case), if set."""
        if not isinstance(given, dict):
            return given
        variables = {key.upper(): value for key, value in os.environ.items() if key.upper().startswith(ENV_PREFIX)}
        found = {name: variables[ENV_PREFIX + name.upper()] for name in cls.model_fields
                 if name not in given and ENV_PREFIX + name.upper() in variables}
        return {**found, **given}

    @field_validator("base", "public_url")
    @classmethod
    def _no_trailing_slash(cls, value: str) -> str:
        return value.strip().rstrip("/")

    @field_validator("rate_limit", "access_log")
    @classmethod
    def _stripped(cls, value: str) -> str:
        return value.strip()

    @field_validator("trusted_proxies", "metrics_clients")
    @classmethod
    def _networks(cls, value: str) -> str:
        networks(value)  # a bad address stops the server at start
        return value.strip()

    @classmethod
    def load(cls, **overrides: object) -> Settings:
        """Settings from the environment with ``overrides`` (None values ignored); a bad value is a
        :class:`SettingsError` naming the variable and what is wrong."""
        try:
            given: dict[str, Any] = {key: value for key, value in overrides.items() if value is not None}
            return cls(**given)
        except ValidationError as exc:
            raise SettingsError(_explain(exc)) from None

    @property
    def query_memory_bound(self) -> int:
        """Bytes one query's process may reach (0: no bound): ``max_query_memory``, and no more than
        an equal share of ``max_server_memory`` past :data:`SERVER_MEMORY_RESERVE` for each query
        slot, so that every slot running its hungriest query still fits in the server's bound, and
        each hungry query is stopped at its own bound (422) before the server's is reached."""
        bounds = [self.max_query_memory] if self.max_query_memory else []
        if self.max_server_memory:
            spare = max(self.max_server_memory - SERVER_MEMORY_RESERVE, self.max_server_memory // 4)
            bounds.append(spare // self.max_concurrent_queries)
        return min(bounds) if bounds else 0

    def limits(self) -> dict[str, int | float | str]:
        """The limits a client meets, by the name the service description states them under, in
        the order of the fields; a bound turned off (0 or empty) is not stated."""
        stated: dict[str, int | float | str] = {}
        for name, info in type(self).model_fields.items():
            extra = info.json_schema_extra if isinstance(info.json_schema_extra, dict) else {}
            if "limit" in extra:
                value = getattr(self, str(extra.get("limit_of", name)))
                if value:
                    stated[str(extra["limit"])] = value
        return stated

    def environment(self) -> dict[str, str]:
        """Every setting as the KUSEI_* variable that gives it, for the processes a server starts
        (the data directory absolute: they may start elsewhere)."""
        values = {name: getattr(self, name) for name in type(self).model_fields}
        values["data_dir"] = self.data_dir.resolve()
        return {f"KUSEI_{name.upper()}": str(value) for name, value in values.items()}

    @property
    def published_at(self) -> str:
        return self.public_url or self.base

    def with_overrides(self, **values: object) -> Settings:
        """A validated copy with ``values`` (None values ignored) in place of the current ones."""
        current = {name: getattr(self, name) for name in type(self).model_fields}
        return type(self).load(**{**current, **{k: v for k, v in values.items() if v is not None}})


@dataclass(frozen=True)
class Option:
    """A setting as a `kusei` command-line flag (see :data:`BUILD`)."""

    field: str
    flag: str
    commands: tuple[str, ...]
    kind: type
    help: str


def options() -> list[Option]:
    """The flags of every setting, from the fields themselves: the one table the CLI reads."""
    found = []
    for name, info in Settings.model_fields.items():
        extra = info.json_schema_extra if isinstance(info.json_schema_extra, dict) else {}
        kind = info.annotation if info.annotation in (int, float) else str
        default = info.default if info.default not in ("", None) else "none"
        found.append(Option(name, str(extra.get("flag", "--" + name.replace("_", "-"))),
                            tuple(extra.get("commands", ["serve"])), kind,  # type: ignore[arg-type]
                            f"{info.description} (KUSEI_{name.upper()}; default: {default})"))
    return found


Network = ipaddress.IPv4Network | ipaddress.IPv6Network


def networks(value: str) -> tuple[Network, ...]:
    """The networks of a comma-separated list of addresses and CIDRs (``10.0.0.5, 192.168.0.0/24``)."""
    try:
        return tuple(ipaddress.ip_network(item.strip(), strict=False) for item in value.split(",") if item.strip())
    except ValueError as exc:
        raise ValueError(f"not a list of addresses or networks: {exc}") from None


def _explain(exc: ValidationError) -> str:
    problems = []
    for error in exc.errors():
        name = str(error["loc"][0]) if error["loc"] else "?"
        given = error.get("input")
        problems.append(f"KUSEI_{name.upper()}={given!r}: {error['msg']}")
    return "bad setting: " + "; ".join(problems)
