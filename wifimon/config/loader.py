"""``load_config``: file -> checked ``Config``, or every problem at once.

Steps: parse YAML keeping lines, substitute ``${ENV}``, validate the settings
and each credential, controller and AP on its own (so one bad entry does not
hide problems in the others), read secret files, read the inventory CSV, run
the cross-entry checks, then merge and resolve. No network I/O happens here:
host names are checked for form, never resolved. With ``districts_geojson``
the district polygons are read and checked too, and every AP that has
coordinates but no district of its own is placed in the polygon around it.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Set
from pathlib import Path
from typing import TypeVar

import yaml
from pydantic import BaseModel

from wifimon.config.checks import Entries, check_all
from wifimon.config.errors import ConfigError, ConfigIssue
from wifimon.config.interpolate import substitute_env
from wifimon.config.inventory import read_inventory_csv
from wifimon.config.location import Located, Origin
from wifimon.config.schema import AccessPoint, Config, Controller, Credential
from wifimon.config.secret import resolve_secret_files
from wifimon.config.validation import validate
from wifimon.config.yamlsource import YamlDocument, read_yaml
from wifimon.geo.districts import (
    DEFAULT_NAME_PROPERTY,
    UNASSIGNED,
    DistrictMap,
    read_districts,
)

M = TypeVar("M", bound=BaseModel)

# Sections validated entry by entry, when they have the right container type.
_ENTRY_SECTIONS: dict[str, type] = {"credentials": dict, "controllers": list, "access_points": list}


def load_config(
    path: Path,
    known_profiles: Set[str] | None = None,
    *,
    environ: Mapping[str, str] | None = None,
) -> Config:
    """Load and check ``path``; raise ``ConfigError`` listing every problem.

    ``known_profiles`` (e.g. ``{"cisco-wlc", "aruba-os"}``) makes unknown
    ``profile`` names errors; ``None`` skips that check. ``environ`` replaces
    ``os.environ`` for ``${NAME}`` substitution (tests use it).
    """
    document = read_yaml(path, str(path))
    if not isinstance(document.data, dict):
        kind = "a list" if isinstance(document.data, list) else "a single value"
        message = f"the top level must be a mapping of settings, got {kind}"
        raise ConfigError([document.origin().issue(message)])
    loading = _Loading(document, path, known_profiles, os.environ if environ is None else environ)
    return loading.run()


def dump_config(config: Config) -> str:
    """The effective config as YAML, every secret shown as ``<secret>``."""
    data = config.model_dump(mode="json", exclude_none=True)
    header = (
        f"# wifimon effective configuration, loaded from {config.source_path}\n"
        "# Secrets are shown as <secret>; durations are in seconds.\n"
    )
    return header + yaml.safe_dump(data, sort_keys=False, allow_unicode=True)


class _Loading:
    def __init__(
        self,
        document: YamlDocument,
        path: Path,
        known_profiles: Set[str] | None,
        environ: Mapping[str, str],
    ) -> None:
        interpolated = substitute_env(document, environ)
        self.document = document
        self.path = path
        # Stored paths are absolute (the daemon may change directory); shown
        # paths keep the form the operator used.
        self.base_dir = path.parent.absolute()
        self.known_profiles = known_profiles
        self.unsafe_paths = interpolated.substituted
        self.issues: list[ConfigIssue] = list(interpolated.issues)
        assert isinstance(interpolated.data, dict)  # checked by load_config
        self.data: dict[str, object] = {
            key: value for key, value in interpolated.data.items() if value is not None
        }

    def run(self) -> Config:
        sections = {
            key: self.data.pop(key)
            for key, kind in _ENTRY_SECTIONS.items()
            if isinstance(self.data.get(key), kind)
        }
        settings = self._validate_resolved(Config, self.data, self.document.origin())
        credentials = self._credentials(sections.get("credentials", {}))
        controllers = self._list(Controller, "controllers", sections.get("controllers", []))
        access_points = self._list(AccessPoint, "access_points", sections.get("access_points", []))
        access_points += self._inventory_csv(self.data.get("inventory_csv"))
        districts = self._districts_geojson(self.data.get("districts_geojson"))
        self.issues += check_all(
            Entries(
                poll=Located(settings.poll, self.document.origin("poll")) if settings else None,
                credentials=list(credentials.values()),
                declared_credentials=frozenset(_declared_credentials(sections)),
                controllers=controllers,
                declared_controllers=frozenset(_declared_controllers(sections)),
                access_points=access_points,
                known_profiles=self.known_profiles,
            )
        )
        if settings is None or self.issues:
            raise ConfigError(self.issues)
        return self._build(settings, credentials, controllers, access_points, districts)

    def _validate_resolved(self, model_type: type[M], data: object, origin: Origin) -> M | None:
        model, issues = validate(model_type, data, origin, self.unsafe_paths)
        self.issues += issues
        if model is None:
            return None
        model, issues = resolve_secret_files(model, origin, self.base_dir)
        self.issues += issues
        return model

    def _credentials(self, raw: object) -> dict[str, Located[Credential]]:
        assert isinstance(raw, dict)
        located: dict[str, Located[Credential]] = {}
        for name, entry in raw.items():
            origin = self.document.origin("credentials", name)
            credential = self._validate_resolved(Credential, entry, origin)
            if credential is not None:
                located[name] = Located(credential, origin)
        return located

    def _list(self, model_type: type[M], section: str, raw: object) -> list[Located[M]]:
        assert isinstance(raw, list)
        located: list[Located[M]] = []
        for index, entry in enumerate(raw):
            origin = self.document.origin(section, index)
            model = self._validate_resolved(model_type, entry, origin)
            if model is not None:
                located.append(Located(model, origin))
        return located

    def _inventory_csv(self, raw: object) -> list[Located[AccessPoint]]:
        # Read even when other settings are broken, to report its rows too; a
        # value of the wrong type is reported by the settings validation.
        if not isinstance(raw, str) or not raw:
            return []
        if any(issue.path == "inventory_csv" for issue in self.issues):
            return []  # a failed ${...} in the path: "does not exist" would add nothing
        written = Path(raw)
        shown = str(written if written.is_absolute() else self.path.parent / written)
        origin = self.document.origin()
        try:
            entries, issues = read_inventory_csv(self.base_dir / written, shown)
        except FileNotFoundError:
            self.issues.append(
                origin.issue(f"inventory file {shown} does not exist", "inventory_csv")
            )
            return []
        except OSError as exc:
            message = f"cannot read inventory file {shown}: {exc.strerror}"
            self.issues.append(origin.issue(message, "inventory_csv"))
            return []
        self.issues += issues
        return entries

    def _districts_geojson(self, raw: object) -> DistrictMap | None:
        # Like the inventory: read even when other settings are broken.
        if not isinstance(raw, str) or not raw:
            return None
        if any(issue.path == "districts_geojson" for issue in self.issues):
            return None
        name_property = self.data.get("districts_name_property", DEFAULT_NAME_PROPERTY)
        if not isinstance(name_property, str) or not name_property.strip():
            return None  # reported by the settings validation
        written = Path(raw)
        shown = str(written if written.is_absolute() else self.path.parent / written)
        origin = self.document.origin()
        try:
            districts, problems = read_districts(
                self.base_dir / written, shown, name_property.strip()
            )
        except FileNotFoundError:
            message = f"district file {shown} does not exist"
            self.issues.append(origin.issue(message, "districts_geojson"))
            return None
        except OSError as exc:
            message = f"cannot read district file {shown}: {exc.strerror}"
            self.issues.append(origin.issue(message, "districts_geojson"))
            return None
        self.issues += [ConfigIssue(p.file, p.line, p.path, p.message) for p in problems]
        return districts

    def _build(
        self,
        settings: Config,
        credentials: dict[str, Located[Credential]],
        controllers: list[Located[Controller]],
        access_points: list[Located[AccessPoint]],
        districts: DistrictMap | None,
    ) -> Config:
        by_name = {controller.value.name: controller.value for controller in controllers}
        placed = _place_in_districts([item.value for item in access_points], districts)
        config = settings.model_copy(
            update={
                "credentials": {name: item.value for name, item in credentials.items()},
                "controllers": [item.value for item in controllers],
                "access_points": [_inherit(ap, by_name) for ap in placed],
                "inventory_csv": self._absolute(settings.inventory_csv),
                "districts_geojson": self._absolute(settings.districts_geojson),
                "state_dir": self._absolute(settings.state_dir),
            }
        )
        config._source_path = self.path  # set once, by its only producer
        config._districts = districts
        return config

    def _absolute(self, path: Path | None) -> Path | None:
        return None if path is None else self.base_dir / path


def _place_in_districts(
    access_points: list[AccessPoint], districts: DistrictMap | None
) -> list[AccessPoint]:
    """Give every AP with coordinates and no district of its own the district
    its position lies in, or ``unassigned`` when it lies outside them all.

    This comes before the controller's default district: a surveyed position
    says more about an AP than the controller it happens to join.
    """
    if districts is None:
        return access_points
    todo = [
        index
        for index, ap in enumerate(access_points)
        if ap.district is None and ap.latitude is not None and ap.longitude is not None
    ]
    positions = [
        (float(access_points[i].longitude or 0.0), float(access_points[i].latitude or 0.0))
        for i in todo
    ]
    placed = list(access_points)
    for index, name in zip(todo, districts.locate(positions), strict=True):
        placed[index] = placed[index].model_copy(update={"district": name or UNASSIGNED})
    return placed


def _inherit(ap: AccessPoint, controllers: Mapping[str, Controller]) -> AccessPoint:
    """Fill site, district and credentials the AP leaves empty from its controller."""
    controller = controllers.get(ap.controller) if ap.controller else None
    if controller is None:
        return ap
    keys = ("site", "district", "credentials")
    updates = {key: getattr(controller, key) for key in keys if getattr(ap, key) is None}
    return ap.model_copy(update=updates)


def _declared_credentials(sections: Mapping[str, object]) -> set[str]:
    raw = sections.get("credentials", {})
    return set(raw) if isinstance(raw, dict) else set()


def _declared_controllers(sections: Mapping[str, object]) -> set[str]:
    raw = sections.get("controllers", [])
    names: set[str] = set()
    for entry in raw if isinstance(raw, list) else []:
        name = entry.get("name") if isinstance(entry, dict) else None
        if isinstance(name, str | int):
            names.add(str(name).strip())
    return names
