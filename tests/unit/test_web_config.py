"""The /metrics web config (exporter-toolkit format) and basic auth, without a network."""

from __future__ import annotations

import base64
import ssl
import threading
from pathlib import Path

import bcrypt
import pytest
import yaml

from tests.support.tls_certs import Pki, make_pki
from wifimon.config import ConfigError, load_config
from wifimon_exporters import basic_auth, web_config
from wifimon_exporters.basic_auth import BasicAuth, parse_basic_authorization
from wifimon_exporters.prometheus import check_settings, describe_settings, exposure_warning
from wifimon_exporters.web_config import WatchedWebConfig, WebConfig, load_web_config

# Cost 4, the minimum: these tests check logic, not bcrypt's slowness.
HASH = bcrypt.hashpw(b"scrape-pass-7f3a", bcrypt.gensalt(4)).decode()


@pytest.fixture(scope="module")
def pki(tmp_path_factory: pytest.TempPathFactory) -> Pki:
    return make_pki(tmp_path_factory.mktemp("pki"))


def write(tmp_path: Path, text: str, name: str = "web.yml") -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


def problems(path: Path) -> list[str]:
    with pytest.raises(ConfigError) as caught:
        load_web_config(path)
    return [str(issue) for issue in caught.value.issues]


def header(user: str, password: str) -> str:
    return "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()


# --- loading -------------------------------------------------------------------


def test_a_full_web_config_builds_tls_with_client_certs_auth_and_headers(
    tmp_path: Path, pki: Pki
) -> None:
    path = write(
        tmp_path,
        f"""
tls_server_config:
  cert_file: {pki.server.cert}
  key_file: {pki.server.key}
  client_auth_type: RequireAndVerifyClientCert
  client_ca_file: {pki.ca.cert}
  client_allowed_sans: [prometheus.scraper]
  min_version: TLS13
  cipher_suites: [TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256]
basic_auth_users:
  prometheus: {HASH}
http_server_config:
  headers: {{x-frame-options: deny, Strict-Transport-Security: max-age=31536000}}
""",
    )
    loaded = load_web_config(path)
    assert loaded.tls is not None
    assert loaded.tls.verify_mode == ssl.CERT_REQUIRED
    assert loaded.tls.minimum_version == ssl.TLSVersion.TLSv1_3
    assert loaded.client_allowed_sans == frozenset({"prometheus.scraper"})
    assert loaded.auth is not None
    assert loaded.auth.allows(header("prometheus", "scrape-pass-7f3a"))
    assert loaded.headers == {
        "X-Frame-Options": "deny",
        "Strict-Transport-Security": "max-age=31536000",
    }
    assert loaded.describe() == "TLS with client certificates, basic auth"
    assert set(loaded.files) == {path, pki.server.cert, pki.server.key, pki.ca.cert}


def test_an_empty_web_config_is_plain_http(tmp_path: Path) -> None:
    loaded = load_web_config(write(tmp_path, "# nothing yet\n{}\n"))
    assert (loaded.tls, loaded.auth, loaded.headers) == (None, None, {})
    assert loaded.describe() == "plain http, no TLS, no authentication"


def test_file_paths_are_relative_to_the_web_config(tmp_path: Path, pki: Pki) -> None:
    folder = tmp_path / "etc"
    folder.mkdir()
    for source, name in ((pki.server.cert, "tls.crt"), (pki.server.key, "tls.key")):
        (folder / name).write_bytes(source.read_bytes())
    text = "tls_server_config: {cert_file: tls.crt, key_file: tls.key}\n"
    assert load_web_config(write(folder, text)).tls is not None


def test_every_problem_is_reported_at_once_with_file_line_and_key(tmp_path: Path, pki: Pki) -> None:
    path = write(
        tmp_path,
        f"""tls_server_config:
  cert_file: {pki.server.cert}
  key_file: {pki.server.key}
  curve_preferences: [X25519]
  client_auth_typ: NoClientCert
basic_auth_users:
  alice: not-a-hash-at-all
http_server_config:
  http2: true
  headers: {{Server: wifimon}}
rate_limit: {{interval: 1s}}
""",
    )
    found = problems(path)
    assert found == [
        f"{path}:4: tls_server_config.curve_preferences: is an exporter-toolkit setting "
        "that wifimon does not support, got a list",
        f"{path}:5: tls_server_config.client_auth_typ: unknown key 'client_auth_typ'; "
        "did you mean 'client_auth_type'?",
        f"{path}:7: basic_auth_users.alice: must be a bcrypt hash such as $2b$12$ followed "
        "by 53 characters (make one with: htpasswd -nBC 12 USER)",
        f"{path}:11: rate_limit: is an exporter-toolkit setting that wifimon does not "
        "support, got a mapping",
    ]
    assert "not-a-hash-at-all" not in "\n".join(found)


def test_header_and_http2_problems_name_their_key(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "http_server_config:\n  http2: true\n  headers:\n    Server: wifimon\n"
        "    X-Frame-Options: allow\n",
    )
    found = problems(path)
    assert found[0] == f"{path}:2: http_server_config.http2: wifimon serves HTTP/1.1 only; " + (
        "set it to false"
    )
    assert found[1].startswith(f"{path}:4: http_server_config.headers.Server: header 'Server'")
    assert found[2] == (
        f"{path}:5: http_server_config.headers.X-Frame-Options: must be one of deny, sameorigin"
    )


@pytest.mark.parametrize(
    ("tls", "expected"),
    [
        (
            "client_auth_type: RequireAndVerifyClientCert",
            "tls_server_config.client_ca_file: client_auth_type RequireAndVerifyClientCert "
            "needs it",
        ),
        (
            "client_auth_type: RequestClientCert",
            "tls_server_config.client_auth_type: RequestClientCert is not supported",
        ),
        (
            "client_ca_file: CA",
            "tls_server_config.client_ca_file: is set but client_auth_type is NoClientCert",
        ),
        (
            "{min_version: TLS13, max_version: TLS12}",
            "tls_server_config.min_version: is newer than max_version TLS12",
        ),
        (
            "cipher_suites: [TLS_RSA_WITH_3DES_EDE_CBC_SHA]",
            "tls_server_config.cipher_suites[0]: unknown or insecure cipher suite",
        ),
        (
            "client_allowed_sans: [x]",
            "tls_server_config.client_allowed_sans: needs client_auth_type "
            "RequireAndVerifyClientCert",
        ),
    ],
)
def test_tls_choices_that_cannot_work_are_errors(
    tmp_path: Path, pki: Pki, tls: str, expected: str
) -> None:
    extra = yaml.safe_load(tls.replace("CA", str(pki.ca.cert)))
    section = {"cert_file": str(pki.server.cert), "key_file": str(pki.server.key), **extra}
    path = write(tmp_path, yaml.safe_dump({"tls_server_config": section}))
    (found,) = problems(path)
    assert expected in found
    assert found.startswith(f"{path}:")


def test_a_missing_certificate_names_the_key(tmp_path: Path, pki: Pki) -> None:
    path = write(
        tmp_path, f"tls_server_config:\n  cert_file: nope.crt\n  key_file: {pki.server.key}\n"
    )
    (found,) = problems(path)
    assert (
        found
        == f"{path}:2: tls_server_config.cert_file: file {path.parent}/nope.crt does not exist"
    )


def test_a_key_that_does_not_match_the_certificate_is_an_error(tmp_path: Path, pki: Pki) -> None:
    text = f"tls_server_config: {{cert_file: {pki.server.cert}, key_file: {pki.client.key}}}\n"
    (found,) = problems(write(tmp_path, text))
    assert "tls_server_config.cert_file: " in found
    assert "cannot be used" in found


def test_an_inline_private_key_is_refused_without_being_echoed(tmp_path: Path, pki: Pki) -> None:
    key = pki.server.key.read_text()
    text = yaml.safe_dump(
        {"tls_server_config": {"cert_file": str(pki.server.cert), "key_file": "x", "key": key}}
    )
    (found,) = problems(write(tmp_path, text))
    assert "tls_server_config.key: is an exporter-toolkit setting" in found
    assert "PRIVATE" not in found


def test_the_daemon_config_resolves_web_config_file_next_to_itself(tmp_path: Path) -> None:
    config = write(
        tmp_path,
        "exporters:\n  prometheus: {listen: '127.0.0.1:9877', web_config_file: web.yml}\n"
        "state_dir: state\n",
        "wifimon.yaml",
    )
    settings = load_config(config, environ={}).exporter_settings()
    assert settings["prometheus"]["web_config_file"] == tmp_path.absolute() / "web.yml"


# --- basic auth ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (header("alice", "pa:ss"), ("alice", "pa:ss")),
        ("basic " + base64.b64encode(b"bob:").decode(), ("bob", "")),
        ("Bearer abc", None),
        ("Basic !!!", None),
        ("Basic " + base64.b64encode(b"no-colon").decode(), None),
        (None, None),
    ],
)
def test_authorization_headers_are_parsed(
    value: str | None, expected: tuple[str, str] | None
) -> None:
    assert parse_basic_authorization(value) == expected


def test_only_the_right_user_and_password_are_allowed() -> None:
    auth = BasicAuth({"prometheus": HASH.encode()})
    assert auth.allows(header("prometheus", "scrape-pass-7f3a"))
    assert not auth.allows(header("prometheus", "scrape-pass-7f3b"))
    assert not auth.allows(header("grafana", "scrape-pass-7f3a"))
    assert not auth.allows(None)
    assert auth.challenge.startswith('Basic realm="wifimon"')


def test_a_verified_password_is_not_checked_with_bcrypt_again() -> None:
    auth = BasicAuth({"prometheus": HASH.encode()})
    for _ in range(5):
        assert auth.allows(header("prometheus", "scrape-pass-7f3a"))
    assert auth.bcrypt_checks == 1


def test_wrong_passwords_are_checked_every_time_and_never_cached() -> None:
    auth = BasicAuth({"prometheus": HASH.encode()})
    for _ in range(3):
        assert not auth.allows(header("prometheus", "guess"))
        assert not auth.allows(header("nobody", "guess"))  # bcrypt runs for unknown users too
    assert auth.bcrypt_checks == 6


def test_a_slow_bcrypt_check_does_not_block_a_cached_scrape(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    auth = BasicAuth({"prometheus": HASH.encode()})
    good = header("prometheus", "scrape-pass-7f3a")
    assert auth.allows(good)  # now cached
    entered, release = threading.Event(), threading.Event()
    real = basic_auth._bcrypt_matches

    def stuck(password: str, hashed: bytes) -> bool:
        entered.set()
        release.wait()
        return real(password, hashed)

    monkeypatch.setattr(basic_auth, "_bcrypt_matches", stuck)
    slow = threading.Thread(target=auth.allows, args=(header("prometheus", "a guess"),))
    slow.start()
    try:
        assert entered.wait(10)
        # bcrypt of the guess is still running: the cached scrape must get through now
        assert auth.allows(good)
        assert slow.is_alive()
    finally:
        release.set()
        slow.join()


def test_the_cache_is_bounded(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(basic_auth, "CACHE_SIZE", 2)
    users = {f"u{n}": HASH.encode() for n in range(3)}
    auth = BasicAuth(users)
    for user in users:
        assert auth.allows(header(user, "scrape-pass-7f3a"))
    assert auth.allows(header("u0", "scrape-pass-7f3a"))  # evicted: bcrypt again
    assert auth.bcrypt_checks == 4


# --- reload ------------------------------------------------------------------------


def test_a_changed_web_config_takes_effect_and_a_broken_one_is_ignored(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setattr(web_config, "RELOAD_CHECK_SECONDS", 0.0)
    path = write(tmp_path, f"basic_auth_users: {{old: '{HASH}'}}\n")
    watched = WatchedWebConfig(path)
    auth = watched.current().auth
    assert auth is not None
    assert auth.allows(header("old", "scrape-pass-7f3a"))

    path.write_text(f"basic_auth_users: {{new: '{HASH}'}}\n# longer, so the size changes\n")
    auth = watched.current().auth
    assert auth is not None
    assert auth.allows(header("new", "scrape-pass-7f3a"))
    assert not auth.allows(header("old", "scrape-pass-7f3a"))

    path.write_text("basic_auth_users: {new: not-a-hash}\n")
    auth = watched.current().auth
    assert auth is not None
    assert auth.allows(header("new", "scrape-pass-7f3a"))  # the previous config stays
    assert "keeping the previous one" in caplog.text
    assert "not-a-hash" not in caplog.text


def test_check_settings_reports_web_config_problems_without_serving(tmp_path: Path) -> None:
    bad = write(tmp_path, "basic_auth_users: {prometheus: plain}\n")
    (issue,) = check_settings({"listen": "127.0.0.1:0", "web_config_file": bad})
    assert (issue.file, issue.line, issue.path) == (str(bad), 1, "basic_auth_users.prometheus")
    good = write(tmp_path, f"basic_auth_users: {{prometheus: '{HASH}'}}\n", "good.yml")
    assert check_settings({"web_config_file": good}) == []
    assert check_settings({"listen": "127.0.0.1:0"}) == []


@pytest.mark.parametrize(
    ("host", "tls", "users", "expected"),
    [
        ("0.0.0.0", False, False, "without TLS"),
        ("::", True, False, "without authentication"),
        ("", False, True, "without TLS"),
        ("0.0.0.0", True, True, None),
        ("127.0.0.1", False, False, None),
        ("10.1.0.5", False, False, None),
    ],
)
def test_serving_every_interface_unprotected_is_warned_about(
    host: str, tls: bool, users: bool, expected: str | None
) -> None:
    web = WebConfig(
        tls=ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER) if tls else None,
        auth=BasicAuth({"prometheus": HASH.encode()}) if users else None,
    )
    warning = exposure_warning(host, web)
    if expected is None:
        assert warning is None
    else:
        assert warning is not None
        assert expected in warning
        assert "exporters.prometheus.listen" in warning


def test_describe_settings_says_where_and_how_metrics_are_served(tmp_path: Path, pki: Pki) -> None:
    assert describe_settings({"listen": "0.0.0.0:9877"}) == (
        "http://0.0.0.0:9877/metrics (plain http, no TLS, no authentication)"
    )
    web = write(
        tmp_path,
        f"tls_server_config: {{cert_file: {pki.server.cert}, key_file: {pki.server.key}}}\n"
        f"basic_auth_users: {{prometheus: '{HASH}'}}\n",
    )
    settings = {"listen": "[::1]:9877", "web_config_file": web}
    assert describe_settings(settings) == "https://[::1]:9877/metrics (TLS, basic auth)"
