"""The config loader: strict schema, every error at once, secrets kept secret.

The broken corpus in tests/configs/broken/ is discovered file by file; its
README describes the header lines each case carries.
"""

from __future__ import annotations

import re
import shutil
import string
import typing
from dataclasses import dataclass
from pathlib import Path

import pytest
import yaml
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from pydantic import BaseModel

from wifimon.config import (
    Config,
    ConfigError,
    ConfigIssue,
    Secret,
    dump_config,
    load_config,
    parse_duration,
    split_listen_address,
)
from wifimon.snmp.types import SnmpCredentials

CONFIGS = Path(__file__).parent.parent / "configs"
BROKEN = CONFIGS / "broken"
GOOD = CONFIGS / "good"
EXAMPLE = Path(__file__).parent.parent.parent / "config.example.yaml"


# --- the broken corpus -------------------------------------------------------


@dataclass(frozen=True)
class Expectation:
    file: str
    line: int
    path: str
    fragment: str

    def matches(self, issue: ConfigIssue) -> bool:
        return (
            issue.file == self.file
            and issue.line == self.line
            and issue.path == self.path
            and self.fragment in issue.message
        )


@dataclass(frozen=True)
class BrokenCase:
    expectations: list[Expectation]
    environ: dict[str, str]
    known_profiles: set[str] | None


def parse_case(path: Path) -> BrokenCase:
    expectations: list[Expectation] = []
    environ: dict[str, str] = {}
    known_profiles: set[str] | None = None
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.startswith("# expect: "):
            location, path_text, fragment = line.removeprefix("# expect: ").split(": ", 2)
            file, line_number = location.rsplit(":", 1)
            key_path = "" if path_text == "-" else path_text
            expectations.append(Expectation(file, int(line_number), key_path, fragment))
        elif line.startswith("# env: "):
            name, value = line.removeprefix("# env: ").split("=", 1)
            environ[name] = value
        elif line.startswith("# known_profiles: "):
            names = line.removeprefix("# known_profiles: ").split(",")
            known_profiles = {name.strip() for name in names}
    return BrokenCase(expectations, environ, known_profiles)


BROKEN_CASES = sorted(BROKEN.glob("*.yaml"))


def test_corpus_is_big_enough() -> None:
    assert len(BROKEN_CASES) >= 25


@pytest.mark.parametrize("case_path", BROKEN_CASES, ids=lambda path: path.stem)
def test_broken_config_reports_file_line_and_path(
    case_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    case = parse_case(case_path)
    assert case.expectations, f"{case_path.name} has no '# expect:' line"
    # Loaded by bare name, messages name files exactly as the headers write them.
    monkeypatch.chdir(case_path.parent)
    with pytest.raises(ConfigError) as caught:
        load_config(Path(case_path.name), case.known_profiles, environ=case.environ)
    issues = caught.value.issues
    for expected in case.expectations:
        assert any(expected.matches(issue) for issue in issues), (
            f"{expected} not among:\n{caught.value}"
        )


# --- error reporting ---------------------------------------------------------


def write(folder: Path, name: str, text: str) -> Path:
    path = folder / name
    path.write_text(text, encoding="utf-8")
    return path


def test_every_error_is_reported_at_once(tmp_path: Path) -> None:
    config = write(
        tmp_path,
        "city.yaml",
        "poll: {interval: soon, retries: -1}\n"
        "credentials:\n"
        "  c: {version: 2c}\n"
        "controllers:\n"
        "  - {name: wlc, host: 10.1.0.2, credentials: nope}\n"
        "access_points:\n"
        "  - {ap: a, mac: nonsense, host: 10.0.0.1, credentials: c}\n"
        "inventory_csv: aps.csv\n",
    )
    write(tmp_path, "aps.csv", "ap,port\nb,0\nc,\n")
    with pytest.raises(ConfigError) as caught:
        load_config(config)
    lines = str(caught.value).splitlines()
    assert lines == [str(issue) for issue in caught.value.issues]
    located = {(Path(i.file).name, i.line, i.path) for i in caught.value.issues}
    assert located >= {
        ("city.yaml", 1, "poll.interval"),
        ("city.yaml", 1, "poll.retries"),
        ("city.yaml", 3, "credentials.c.community"),
        ("city.yaml", 5, "controllers[0].credentials"),
        ("city.yaml", 7, "access_points[0].mac"),
        ("aps.csv", 2, "port"),
        ("aps.csv", 3, "host"),
    }


def test_issue_prints_as_file_line_path_message() -> None:
    issue = ConfigIssue("city.yaml", 12, "controllers[0].port", "must be between 1 and 65535")
    assert str(issue) == "city.yaml:12: controllers[0].port: must be between 1 and 65535"
    assert (
        str(ConfigIssue("city.yaml", 3, "", "YAML syntax error"))
        == "city.yaml:3: YAML syntax error"
    )


def test_config_file_issues_come_before_inventory_issues(tmp_path: Path) -> None:
    config = write(tmp_path, "z.yaml", "inventory_csv: a.csv\nstate_dir: 5\nlog: {level: x}\n")
    write(tmp_path, "a.csv", "ap,bogus\n")
    with pytest.raises(ConfigError) as caught:
        load_config(config)
    files = [Path(issue.file).name for issue in caught.value.issues]
    assert list(dict.fromkeys(files)) == ["z.yaml", "a.csv"]
    assert files.index("a.csv") > len(files) - 2


def test_unreadable_config_file_is_a_config_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="cannot read config file"):
        load_config(tmp_path / "missing.yaml")


def test_zero_byte_file_is_empty(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"empty\.yaml:1: config file is empty"):
        load_config(write(tmp_path, "empty.yaml", ""))


def test_non_utf8_config_names_the_line(tmp_path: Path) -> None:
    path = tmp_path / "latin1.yaml"
    path.write_bytes(b"poll:\n  interval: 60s\nlog: {level: caf\xe9}\n")
    with pytest.raises(ConfigError, match=r"latin1\.yaml:3: config file is not UTF-8 text"):
        load_config(path)


def test_unknown_profiles_are_only_checked_when_known_profiles_is_given(tmp_path: Path) -> None:
    config = write(
        tmp_path,
        "c.yaml",
        "credentials: {c: {version: 1, community: public}}\n"
        "controllers: [{name: w, host: 10.0.0.1, credentials: c, profile: acme}]\n",
    )
    assert load_config(config).controllers[0].profile == "acme"
    assert load_config(config, {"acme"}).controllers[0].profile == "acme"
    with pytest.raises(ConfigError, match=r"c\.yaml:2: controllers\[0\]\.profile: unknown profile"):
        load_config(config, {"cisco-wlc"})


# --- values ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("written", "seconds"),
    [("60s", 60.0), ("5m", 300.0), ("1h", 3600.0), ("500ms", 0.5), ("1m30s", 90.0),
     (60, 60.0), (2.5, 2.5), ("45", 45.0), ("1d", 86400.0)],
)  # fmt: skip
def test_durations_become_seconds(written: object, seconds: float) -> None:
    assert parse_duration(written) == seconds


@pytest.mark.parametrize("written", ["60 s", "1 minute", "-5s", "5x", "", True, None, "s"])
def test_bad_durations_are_refused(written: object) -> None:
    with pytest.raises(ValueError, match="duration"):
        parse_duration(written)


@pytest.mark.parametrize(
    ("written", "expected"),
    [("0.0.0.0:9877", ("0.0.0.0", 9877)), ("[::]:9100", ("::", 9100)), (":80", ("", 80)),
     ("metrics.city.example:9877", ("metrics.city.example", 9877))],
)  # fmt: skip
def test_listen_addresses_split_into_host_and_port(written: str, expected: tuple[str, int]) -> None:
    assert split_listen_address(written) == expected


def test_protocols_and_versions_are_case_insensitive(tmp_path: Path) -> None:
    config = write(
        tmp_path,
        "c.yaml",
        "credentials:\n"
        "  a: {version: V3, user: u, auth_protocol: SHA-256, auth_password: authpass1,\n"
        "      priv_protocol: AES-256, priv_password: privpass1}\n"
        "  b: {version: 2, community: public}\n"
        "  c: {version: 1, community: public}\n",
    )
    loaded = load_config(config)
    assert loaded.credentials["a"].auth_protocol == "sha256"
    assert loaded.credentials["a"].priv_protocol == "aes256"
    assert [loaded.credentials[name].version for name in "abc"] == ["3", "2c", "1"]


# --- environment substitution -------------------------------------------------


def test_env_substitution_and_escape(tmp_path: Path) -> None:
    config = write(
        tmp_path,
        "c.yaml",
        "credentials:\n"
        "  c: {version: 2c, community: 'pre-${COMM}-$${NOT_A_VAR}'}\n"
        "state_dir: /srv/${SITE}/$$/$${x}\n"
        "controllers:\n"
        "  - {name: wlc, host: '${HOST}', port: '${PORT}', credentials: c}\n",
    )
    environ = {"COMM": "s3cret", "SITE": "paris", "HOST": "10.9.9.9", "PORT": "1161"}
    loaded = load_config(config, environ=environ)
    assert loaded.credentials["c"].community == Secret("pre-s3cret-${NOT_A_VAR}")
    assert loaded.state_dir == Path("/srv/paris/$$/${x}")
    assert (loaded.controllers[0].host, loaded.controllers[0].port) == ("10.9.9.9", 1161)


def test_substituted_values_are_not_expanded_again(tmp_path: Path) -> None:
    config = write(tmp_path, "c.yaml", "credentials: {c: {version: 2c, community: '${A}'}}\n")
    loaded = load_config(config, environ={"A": "${B}", "B": "never"})
    assert loaded.snmp_credentials("c").community == "${B}"


def test_every_missing_variable_is_reported(tmp_path: Path) -> None:
    config = write(tmp_path, "c.yaml", "state_dir: /${ONE}/${TWO}\n")
    with pytest.raises(ConfigError) as caught:
        load_config(config, environ={})
    messages = [issue.message for issue in caught.value.issues]
    assert messages == [
        "environment variable ONE is not set",
        "environment variable TWO is not set",
    ]


# --- secrets -------------------------------------------------------------------


def test_secret_never_prints_its_value() -> None:
    secret = Secret("hunter2-long")
    assert str(secret) == repr(secret) == f"{secret}" == "<secret>"
    assert "hunter2" not in repr([secret, {"k": secret}])
    assert secret.reveal() == "hunter2-long"


def test_secret_files_are_read_relative_to_the_config(tmp_path: Path) -> None:
    (tmp_path / "secrets").mkdir()
    write(tmp_path / "secrets", "auth", "authpass-from-file\n")
    write(tmp_path / "secrets", "community", "comm-from-file\r\n")
    config = write(
        tmp_path,
        "c.yaml",
        "credentials:\n"
        "  v2: {version: 2c, community_file: secrets/community}\n"
        "  v3: {version: 3, user: monitor, auth_protocol: sha, auth_password_file: secrets/auth}\n",
    )
    loaded = load_config(config)
    assert loaded.snmp_credentials("v2").community == "comm-from-file"
    assert loaded.snmp_credentials("v3") == SnmpCredentials(
        version="3", user="monitor", auth_protocol="sha", auth_password="authpass-from-file"
    )
    assert loaded.credentials["v3"].auth_password_file == tmp_path / "secrets" / "auth"


def test_unreadable_secret_file_reports_without_content(tmp_path: Path) -> None:
    (tmp_path / "dir").mkdir()
    big = tmp_path / "big"
    big.write_text("x" * 70_000)
    config = write(
        tmp_path,
        "c.yaml",
        "credentials:\n"
        "  a: {version: 2c, community_file: dir}\n"
        "  b: {version: 2c, community_file: big}\n",
    )
    with pytest.raises(ConfigError) as caught:
        load_config(config)
    assert [issue.message.split(" ", 3)[-1] for issue in caught.value.issues] == [
        "is a directory",
        "is larger than 64 KiB",
    ]
    assert "xxxx" not in str(caught.value)


def test_dump_config_shows_every_secret_as_placeholder(tmp_path: Path) -> None:
    loaded = load_good("city.yaml", tmp_path)
    dumped = dump_config(loaded)
    for secret in ("good-community", "authpass-city", "privpass-city", "influx-token-city"):
        assert secret not in dumped
    data = yaml.safe_load(dumped)
    assert data["credentials"]["city-v2c"]["community"] == "<secret>"
    assert data["credentials"]["city-v3"]["auth_password"] == "<secret>"
    assert data["credentials"]["city-v3"]["priv_password"] == "<secret>"
    assert data["exporters"]["influxdb"]["token"] == "<secret>"


SECRET_TEXT = st.text(
    alphabet=string.ascii_letters + string.digits + "!%&*+-./:;<=>?@^_~ ", min_size=8, max_size=40
).filter(lambda text: text.strip() == text)

# Each template holds several errors next to places where the secret is used.
LEAKY_TEMPLATES = [
    "credentials:\n  c: {{version: 2c, community: {lit}, extra: 1}}\n  d: {{version: 3, user: u,"
    " auth_protocol: md5, auth_password: '${{S}}', priv_password: {lit}}}\n",
    "credentials:\n  c: {lit}\ncontrollers:\n  - {{name: w, host: '${{S}}', port: '${{S}}',"
    " credentials: c, timeout: '${{S}}'}}\n",
    "credentials:\n  c: {{version: 2c, community: '${{S}}', community_file: secret.txt}}\n"
    "state_dir: [{lit}]\nlog: {{level: '${{S}}', format: '${{S}}'}}\n",
    "poll: {{interval: '${{S}}', jitter: 1s}}\nexporters:\n  influxdb: {{url: '${{S}}',"
    " bucket: b, token: {lit}, token_file: secret.txt}}\n",
    "access_points:\n  - {{ap: a, host: '${{S}}', mac: '${{S}}', latitude: '${{S}}'}}\n"
    "credentials: {{c: {{version: 9, community: '${{S}}', auth_password: {lit}}}}}\n",
]


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(secret=SECRET_TEXT, template=st.sampled_from(LEAKY_TEMPLATES))
def test_secrets_never_appear_in_error_messages(tmp_path: Path, secret: str, template: str) -> None:
    baseline = errors_for(tmp_path, template, "PLACEHOLDER-VALUE")
    assume(secret not in baseline)  # a secret like "required" would match by chance
    assert secret not in errors_for(tmp_path, template, secret)


def errors_for(folder: Path, template: str, secret: str) -> str:
    write(folder, "secret.txt", secret)
    literal = yaml.safe_dump(secret, default_style='"').strip().removesuffix("...").strip()
    config = write(folder, "leaky.yaml", template.format(lit=literal))
    with pytest.raises(ConfigError) as caught:
        load_config(config, environ={"S": secret})
    return str(caught.value) + repr(caught.value.issues)


@settings(
    max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(community=SECRET_TEXT, password=SECRET_TEXT)
def test_secrets_never_appear_in_dump(tmp_path: Path, community: str, password: str) -> None:
    baseline = dump_with_secrets(tmp_path, "PLACEHOLDER-COMMUNITY", "PLACEHOLDER-PASSWORD")
    assume(community not in baseline and password not in baseline)
    assert community not in dump_with_secrets(tmp_path, community, password)
    assert password not in dump_with_secrets(tmp_path, community, password)


def dump_with_secrets(folder: Path, community: str, password: str) -> str:
    write(folder, "priv", password)
    config = write(
        folder,
        "c.yaml",
        "credentials:\n  a: {version: 2c, community: '${C}'}\n"
        "  b: {version: 3, user: u, auth_protocol: sha, auth_password_file: priv,"
        " priv_protocol: aes, priv_password_file: priv}\n",
    )
    loaded = load_config(config, environ={"C": community})
    assert loaded.snmp_credentials("a").community == community
    assert loaded.snmp_credentials("b").priv_password == password
    return dump_config(loaded)


# --- good configs ----------------------------------------------------------------

GOOD_ENV = {"WIFIMON_COMMUNITY": "good-community", "WIFIMON_INFLUX_TOKEN": "influx-token-city"}


def load_good(name: str, tmp_path: Path) -> Config:
    del tmp_path
    return load_config(GOOD / name, {"cisco-aireos", "generic"}, environ=GOOD_ENV)


def test_minimal_config_gets_every_default() -> None:
    loaded = load_config(GOOD / "minimal.yaml", environ={})
    assert loaded.poll.model_dump() == {
        "interval": 60.0,
        "timeout": 5.0,
        "retries": 2,
        "concurrency": 256,
        "jitter": 6.0,
        "max_repetitions": 25,
        "target_budget": 48.0,
        "walk_max_rows": 100_000,
    }
    assert loaded.exporter_settings() == {"prometheus": {"listen": "0.0.0.0:9877"}}
    assert loaded.state_dir == Path("/var/lib/wifimon")
    assert (loaded.log.level, loaded.log.format) == ("info", "text")
    assert loaded.source_path == GOOD / "minimal.yaml"
    assert loaded.access_points[0].port == 161


def test_jitter_and_budget_defaults_follow_the_interval() -> None:
    loaded = load_config(GOOD / "short-interval.yaml", environ={})
    assert (loaded.poll.interval, loaded.poll.jitter, loaded.poll.target_budget) == (
        10.0,
        1.0,
        8.0,
    )


def test_city_config_loads_to_the_expected_values(tmp_path: Path) -> None:
    loaded = load_good("city.yaml", tmp_path)
    assert loaded.poll.interval == 30.0
    assert loaded.poll.timeout == 2.5
    assert loaded.snmp_credentials("city-v2c") == SnmpCredentials(
        version="2c", community="good-community"
    )
    assert loaded.snmp_credentials("city-v3") == SnmpCredentials(
        version="3",
        user="monitor",
        auth_protocol="sha256",
        auth_password="authpass-city",
        priv_protocol="aes128",
        priv_password="privpass-city",
    )
    assert [ap.ap for ap in loaded.access_points] == ["yaml-1", "csv-1", "csv-2", "csv-3"]
    assert loaded.inventory_csv == GOOD / "city-aps.csv"
    assert loaded.exporter_settings()["influxdb"]["token"] == Secret("influx-token-city")


def test_city_config_inherits_from_controllers(tmp_path: Path) -> None:
    by_id = {ap.ap: ap for ap in load_good("city.yaml", tmp_path).access_points}
    assert (by_id["csv-1"].site, by_id["csv-1"].district) == ("centre", "Centre")
    assert by_id["csv-1"].credentials == "city-v3"
    assert by_id["csv-2"].district == "Old Town"  # its own value wins
    assert by_id["csv-3"].site is None  # no controller, nothing inherited


def test_snmp_target_applies_overrides(tmp_path: Path) -> None:
    loaded = load_good("city.yaml", tmp_path)
    controller = loaded.snmp_target(loaded.controllers[0])
    assert (controller.name, controller.host, controller.port) == ("wlc-centre", "10.1.0.2", 161)
    assert (controller.timeout, controller.retries) == (10.0, 1)
    by_id = {ap.ap: ap for ap in loaded.access_points}
    direct = loaded.snmp_target(by_id["csv-3"])
    assert (direct.timeout, direct.retries, direct.max_repetitions) == (2.5, 2, 25)
    assert direct.credentials.community == "good-community"
    with pytest.raises(ValueError, match="not polled directly"):
        loaded.snmp_target(by_id["csv-1"])


def test_snmp_credentials_of_unknown_name_is_a_key_error(tmp_path: Path) -> None:
    with pytest.raises(KeyError):
        load_good("city.yaml", tmp_path).snmp_credentials("nope")


def test_every_good_config_loads() -> None:
    for path in sorted(GOOD.glob("*.yaml")):
        load_config(path, environ=GOOD_ENV)


def test_example_config_loads_with_its_documented_files(tmp_path: Path) -> None:
    shutil.copy(EXAMPLE, tmp_path / "wifimon.yaml")
    (tmp_path / "secrets").mkdir()
    write(tmp_path / "secrets", "snmp-auth", "example-auth-password\n")
    write(tmp_path, "aps.csv", "ap,controller,mac\nap-1,wlc-centre,aa:bb:cc:00:00:01\n")
    environ = {"WIFIMON_COMMUNITY": "example-community", "WIFIMON_PRIV": "example-priv-pass"}
    loaded = load_config(tmp_path / "wifimon.yaml", environ=environ)
    assert [ap.ap for ap in loaded.access_points] == ["museum-hall-1", "ap-1"]
    assert "example-" not in dump_config(loaded)


OPTION_LINE = re.compile(r"^\s*(?:#\s*)?(?:- )?([a-z_]+):")


def example_options() -> list[tuple[str, str]]:
    """(option name, the comment line above it) for active and commented-out options."""
    lines = EXAMPLE.read_text(encoding="utf-8").splitlines()
    options = []
    for number, line in enumerate(lines):
        match = OPTION_LINE.match(line)
        if match:
            options.append((match.group(1), lines[number - 1].strip()))
    return options


def test_example_config_comments_every_option_with_a_sentence() -> None:
    for name, above in example_options():
        assert above.startswith("#"), f"{name} has no comment"
        assert above.endswith("."), f"the comment above {name} is not a full sentence"


def all_field_names(model: type[BaseModel]) -> set[str]:
    names = set(model.model_fields)
    for field in model.model_fields.values():
        # Models appear bare, as X | None, as list[X] or as dict[str, X].
        for inner in (field.annotation, *typing.get_args(field.annotation)):
            if isinstance(inner, type) and issubclass(inner, BaseModel):
                names |= all_field_names(inner)
    return names


def test_example_config_shows_every_option() -> None:
    missing = all_field_names(Config) - {name for name, _ in example_options()}
    assert not missing, f"options missing from config.example.yaml: {sorted(missing)}"
