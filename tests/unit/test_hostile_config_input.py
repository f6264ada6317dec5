"""Hostile and odd input on the config side: mutated files load or fail cleanly.

Property tests start from valid files (tests/configs/good/city.yaml, its
inventory city-aps.csv, every built-in vendor profile) and mutate them:
random bytes, NUL, a byte order mark, huge numbers, unicode, broken YAML
syntax, random YAML structures in place of values, random CSV cells and
row widths. Each mutant must either load or raise the project's own
error: ``ConfigError`` whose every issue names a file of the case and a
line inside it (and a key path for key problems), or ``ProfileError``
naming the profile file, line and key. Any other exception is a bug.
"""

from __future__ import annotations

import csv
import io
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from wifimon.config import ConfigError, load_config
from wifimon.profiles.registry import ProfileError, load_builtin_profiles, parse_profile

GOOD = Path(__file__).parent.parent / "configs" / "good"
ENV = {"WIFIMON_COMMUNITY": "good-community", "WIFIMON_INFLUX_TOKEN": "influx-token-city"}
PROFILES = {"cisco-aireos", "generic"}
CONFIG_TEXT = (GOOD / "city.yaml").read_bytes()
CSV_TEXT = (GOOD / "city-aps.csv").read_bytes()
BUILTIN = {profile.name: text for profile, text in load_builtin_profiles()}

FUZZ = settings(
    max_examples=150,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)

# Fragments that have broken parsers before: NUL, BOM, lone surrogates in
# UTF-8, huge and non-finite numbers, YAML anchors, tags and merge keys,
# unbalanced brackets, env substitution edge cases, CR line ends.
ODD = [
    b"\x00",
    b"\xef\xbb\xbf",
    b"\xed\xa0\x80",
    b"\xff",
    b"9" * 5000,
    b"1e999",
    b"-.inf",
    b".nan",
    b"0x7fffffffffffffff",
    b"&a [*a]",
    b"*undefined",
    b"!!python/object:os.system",
    b"!!binary AAAA",
    b"<<: *a",
    b"{",
    b"[",
    b"- ",
    b": ",
    b"? ",
    b"${",
    b"${NOT_SET}",
    b"$${X}",
    b"\t",
    b"\r",
    b"\n  - ",
    b"---\n",
    b"'",
    b'"',
    b"#",
    "é€😀\u202e".encode(),
]

odd_text = st.one_of(
    st.text(max_size=40),
    st.sampled_from([fragment.decode("utf-8", "replace") for fragment in ODD]),
    st.text(alphabet=st.characters(min_codepoint=0, max_codepoint=0x10FFFF), max_size=10),
)
scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.integers(min_value=10**20, max_value=10**400),
    st.floats(allow_nan=True, allow_infinity=True),
    odd_text,
)
yaml_values = st.recursive(
    scalars,
    lambda inner: st.one_of(
        st.lists(inner, max_size=4), st.dictionaries(st.text(max_size=12), inner, max_size=4)
    ),
    max_leaves=12,
)


@st.composite
def mutated_bytes(draw: st.DrawFn, original: bytes) -> bytes:
    """``original`` after 1-4 edits: inserts (odd fragments or random bytes),
    deletions, overwrites and line swaps."""
    data = bytearray(original)
    for _ in range(draw(st.integers(1, 4))):
        at = draw(st.integers(0, len(data)))
        operation = draw(st.sampled_from(["insert", "odd", "delete", "overwrite", "swap"]))
        if operation == "insert":
            data[at:at] = draw(st.binary(min_size=1, max_size=8))
        elif operation == "odd":
            data[at:at] = draw(st.sampled_from(ODD))
        elif operation == "delete":
            del data[at : at + draw(st.integers(1, 40))]
        elif operation == "overwrite":
            data[at : at + 1] = draw(st.binary(min_size=1, max_size=1))
        else:
            lines = bytes(data).split(b"\n")
            i, j = draw(st.integers(0, len(lines) - 1)), draw(st.integers(0, len(lines) - 1))
            lines[i], lines[j] = lines[j], lines[i]
            data = bytearray(b"\n".join(lines))
    return bytes(data)


def paths_of(value: object, prefix: tuple[object, ...] = ()) -> Iterator[tuple[object, ...]]:
    """Every key path inside parsed YAML data, containers included."""
    yield prefix
    if isinstance(value, dict):
        for key, item in value.items():
            yield from paths_of(item, (*prefix, key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from paths_of(item, (*prefix, index))


@st.composite
def restructured(draw: st.DrawFn, original: bytes) -> bytes:
    """``original`` parsed, one value (or a whole section) replaced by random
    YAML data or one key renamed, dumped again."""
    data = yaml.safe_load(original)
    path = draw(st.sampled_from(list(paths_of(data))[1:]))
    parent = data
    for key in path[:-1]:
        parent = parent[key]
    if draw(st.booleans()) or not isinstance(parent, dict):
        parent[path[-1]] = draw(yaml_values)
    else:
        parent[draw(odd_text)] = parent.pop(path[-1])
    return yaml.safe_dump(data, allow_unicode=True, sort_keys=False).encode()


@pytest.fixture(scope="module")
def case_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A copy of the good folder (secret files included) to overwrite with mutants."""
    directory = tmp_path_factory.mktemp("hostile") / "good"
    shutil.copytree(GOOD, directory)
    return directory


def line_count(path: Path) -> int:
    # YAML and the csv module also end lines at a lone CR (and YAML at NEL,
    # LS, PS), which splitlines() counts too.
    return len(path.read_bytes().decode("utf-8", "replace").splitlines()) + 1


def load_error(directory: Path) -> ConfigError | None:
    """What loading the case raises (None: it loaded); any other exception propagates."""
    try:
        load_config(directory / "city.yaml", PROFILES, environ=ENV)
    except ConfigError as error:
        return error
    return None


def assert_loads_or_reports(directory: Path) -> None:
    """The mutant loads, or every issue names one of its files and a line in it."""
    error = load_error(directory)
    if error is None:
        return
    assert error.issues, "a ConfigError without issues"
    files = (directory / "city.yaml", directory / "city-aps.csv")
    lines = {str(path): line_count(path) for path in files}
    for issue in error.issues:
        assert issue.file in lines, f"unexpected file in {issue}"
        assert 1 <= issue.line <= lines[issue.file], f"line out of the file: {issue}"
        assert issue.message.strip(), f"no message: {issue!r}"
        assert str(issue).isprintable(), f"unprintable characters in {issue!r}"


# --- config YAML -------------------------------------------------------------


@FUZZ
@given(mutant=mutated_bytes(CONFIG_TEXT))
def test_config_with_random_byte_edits_loads_or_reports(case_dir: Path, mutant: bytes) -> None:
    (case_dir / "city.yaml").write_bytes(mutant)
    (case_dir / "city-aps.csv").write_bytes(CSV_TEXT)
    assert_loads_or_reports(case_dir)


@FUZZ
@given(mutant=restructured(CONFIG_TEXT))
def test_config_with_random_structures_loads_or_reports(case_dir: Path, mutant: bytes) -> None:
    (case_dir / "city.yaml").write_bytes(mutant)
    (case_dir / "city-aps.csv").write_bytes(CSV_TEXT)
    assert_loads_or_reports(case_dir)


@FUZZ
@given(document=yaml_values)
def test_any_yaml_document_loads_or_reports(case_dir: Path, document: object) -> None:
    (case_dir / "city.yaml").write_text(yaml.safe_dump(document, allow_unicode=True))
    assert_loads_or_reports(case_dir)


# --- inventory CSV -----------------------------------------------------------

CSV_ROWS = list(csv.reader(io.StringIO(CSV_TEXT.decode())))
csv_cells = st.one_of(
    odd_text,
    st.sampled_from(["", " ", "\x00", "\ufeffap", "1" * 400, "-1", "65536", "NaN", "inf",
                     "91", "-180.0001", "1e308", "0x1f", "00:11:22:33:44:55:66", "a,b", '"',
                     "line\nbreak", "wlc-centre", "csv-1", "cisco-aireos", "city-v2c"]),
)  # fmt: skip


@st.composite
def mutated_inventory(draw: st.DrawFn) -> bytes:
    rows = [list(row) for row in CSV_ROWS]
    for _ in range(draw(st.integers(1, 6))):
        row = draw(st.integers(0, len(rows) - 1))
        if draw(st.integers(0, 5)) == 0:  # a row one cell short or long
            rows[row] = rows[row][:-1] if draw(st.booleans()) else [*rows[row], draw(csv_cells)]
        elif rows[row]:
            rows[row][draw(st.integers(0, len(rows[row]) - 1))] = draw(csv_cells)
    out = io.StringIO(newline="")
    csv.writer(out).writerows(rows)
    bom = "\ufeff" if draw(st.booleans()) else ""
    return (bom + out.getvalue()).encode("utf-8", "surrogatepass")


@FUZZ
@given(inventory=mutated_inventory())
def test_inventory_with_random_cells_loads_or_reports(case_dir: Path, inventory: bytes) -> None:
    (case_dir / "city.yaml").write_bytes(CONFIG_TEXT)
    (case_dir / "city-aps.csv").write_bytes(inventory)
    assert_loads_or_reports(case_dir)


@FUZZ
@given(inventory=mutated_bytes(CSV_TEXT))
def test_inventory_with_random_byte_edits_loads_or_reports(
    case_dir: Path, inventory: bytes
) -> None:
    (case_dir / "city.yaml").write_bytes(CONFIG_TEXT)
    (case_dir / "city-aps.csv").write_bytes(inventory)
    assert_loads_or_reports(case_dir)


# --- vendor profiles ---------------------------------------------------------


def profile_error(text: str, source: str) -> ProfileError | None:
    try:
        parse_profile(text, source)
    except ProfileError as error:
        return error
    return None


def assert_profile_loads_or_reports(text: str, source: str) -> None:
    error = profile_error(text, source)
    if error is None:
        return
    assert error.problems
    assert error.source == source
    last_line = len(text.splitlines()) + 1
    for problem, line in zip(error.problems, error.lines, strict=True):
        assert problem.strip()
        assert 1 <= line <= last_line, f"{source}:{line}: {problem}"
        assert f"{source}:{line}: {problem}" in str(error)


@FUZZ
@given(name=st.sampled_from(sorted(BUILTIN)), data=st.data())
def test_profile_with_random_byte_edits_loads_or_reports(name: str, data: st.DataObject) -> None:
    mutant = data.draw(mutated_bytes(BUILTIN[name].encode()))
    assert_profile_loads_or_reports(mutant.decode("utf-8", "replace"), f"{name}.yaml")


@FUZZ
@given(name=st.sampled_from(sorted(BUILTIN)), data=st.data())
def test_profile_with_random_structures_loads_or_reports(name: str, data: st.DataObject) -> None:
    mutant = data.draw(restructured(BUILTIN[name].encode()))
    assert_profile_loads_or_reports(mutant.decode(), f"{name}.yaml")


# --- what the fuzzing found, pinned ------------------------------------------


def test_a_nul_byte_is_a_config_error_on_its_line(tmp_path: Path) -> None:
    config = tmp_path / "city.yaml"
    config.write_bytes(b"poll:\n  interval: 60s\n  timeout: 5\x00s\n")
    with pytest.raises(ConfigError) as caught:
        load_config(config, environ={})
    (issue,) = caught.value.issues
    assert (issue.line, issue.path) == (3, "")
    assert "character #x0000 is not allowed" in issue.message


def test_control_characters_are_escaped_when_an_issue_prints(tmp_path: Path) -> None:
    config = tmp_path / "city.yaml"
    config.write_text('poll: {"\\e[31mred\\0": 1}\n')
    with pytest.raises(ConfigError) as caught:
        load_config(config, environ={})
    assert "\x1b" not in str(caught.value)
    assert "\x00" not in str(caught.value)
    assert r"\x1b[31mred\x00" in str(caught.value)


def test_names_with_control_characters_are_refused(tmp_path: Path) -> None:
    config = tmp_path / "city.yaml"
    config.write_text(
        "credentials: {lab: {version: 2c, community: public}}\n"
        'access_points: [{ap: "lamp\\t1", host: 10.0.0.1, credentials: lab}]\n'
    )
    with pytest.raises(ConfigError) as caught:
        load_config(config, environ={})
    (issue,) = caught.value.issues
    assert (issue.line, issue.path) == (2, "access_points[0].ap")
    assert "must not contain control characters" in issue.message


@pytest.mark.parametrize(
    ("change", "line", "path"),
    [
        (("vendor: generic", "vendor: generic\ncolour: red"), 9, "colour"),
        (("kind: ap", "kind: switch"), 9, "kind"),
        (("name: generic", "name: [generic"), 0, ""),
    ],
)
def test_profile_errors_name_file_line_and_key(
    change: tuple[str, str], line: int, path: str
) -> None:
    text = BUILTIN["generic"].replace(*change, 1)
    with pytest.raises(ProfileError) as caught:
        parse_profile(text, "generic.yaml")
    problem, found = caught.value.problems[0], caught.value.lines[0]
    if line:
        assert found == line
        assert problem.startswith(f"{path}: ")
        assert str(caught.value).startswith(f"generic.yaml:{line}: {path}: ")
    else:  # YAML syntax: the line where the parser gave up
        assert problem.startswith("not valid YAML")
        assert found >= 1
