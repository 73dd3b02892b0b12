"""Finding and loading plugins: a pluggy PluginManager over the "dealercover" hooks.

Plugins come from two places, registered the same way:
- the `dealercover.carriers` (and `dealercover.payments`) entry-point groups of installed
  packages (importlib.metadata);
- the modules and packages of the top-level `plugins/` folder (the built-in ones live there) and
  of any folder in the `DEALERCOVER_PLUGIN_PATH` environment variable.

A plugin that fails to import, or whose hook raises or answers nonsense, is kept as a `LoadError`
(shown on 状态监控 → 插件) and the others load as usual: a broken plugin never stops the app.
"""

from __future__ import annotations

import importlib
import importlib.metadata
import importlib.util
import logging
import os
import sys
import threading
import traceback
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import Any

import pluggy
from jsonschema import Draft202012Validator
from jsonschema.exceptions import SchemaError

from app.carriers.contract import (
    CAPABILITIES,
    ENTRY_POINT_GROUP,
    PROJECT,
    CarrierHookSpecs,
    CarrierPlugin,
)
from app.payments.contract import PAYMENT_ENTRY_POINT_GROUP, PaymentGateway, PaymentHookSpecs

log = logging.getLogger(__name__)

ROOT = Path(__file__).resolve().parent.parent.parent
BUILTIN_DIR = ROOT / "plugins"


@dataclass(frozen=True)
class LoadError:
    """A plugin that could not be used: where it came from and why (no secrets: a traceback of
    an import or a hook call, never configuration)."""

    name: str
    source: str  # "entry point dealercover.carriers: x = pkg.mod" or "plugins/x"
    summary: str
    detail: str = ""


@dataclass
class LoadedPlugin:
    plugin: CarrierPlugin
    source: str
    module: str


@dataclass
class PluginRegistry:
    """The plugins found, by code; what failed, as `errors`."""

    manager: pluggy.PluginManager
    carriers: dict[str, LoadedPlugin] = field(default_factory=dict)
    payments: dict[str, PaymentGateway] = field(default_factory=dict)
    errors: list[LoadError] = field(default_factory=list)

    def carrier(self, code: str) -> CarrierPlugin | None:
        loaded = self.carriers.get(code)
        return loaded.plugin if loaded else None

    def payment(self, code: str) -> PaymentGateway | None:
        return self.payments.get(code)


def new_manager() -> pluggy.PluginManager:
    manager = pluggy.PluginManager(PROJECT)
    manager.add_hookspecs(CarrierHookSpecs)
    manager.add_hookspecs(PaymentHookSpecs)
    return manager


def discover(
    plugin_dirs: Iterable[Path | str] = (BUILTIN_DIR,),
    entry_points: bool = True,
) -> PluginRegistry:
    """Import every plugin module found and ask each for its plugins."""
    registry = PluginRegistry(manager=new_manager())
    sources: dict[str, str] = {}
    if entry_points:
        for group in (ENTRY_POINT_GROUP, PAYMENT_ENTRY_POINT_GROUP):
            for entry in importlib.metadata.entry_points(group=group):
                source = f"entry point {group}: {entry.name} = {entry.value}"
                _register(registry, sources, entry.name, source, entry.load)
    for folder in plugin_dirs:
        folder = Path(folder)
        for name, loader in _folder_modules(folder):
            _register(registry, sources, name, _relative(folder / name), loader)
    _collect_carriers(registry, sources)
    _collect_payments(registry, sources)
    return registry


def _relative(path: Path) -> str:
    try:
        return str(path.relative_to(ROOT))
    except ValueError:
        return str(path)


def _folder_modules(folder: Path):
    """(name, loader) for each plugin module or package in `folder`, in name order."""
    if not folder.is_dir():
        return
    for path in sorted(folder.iterdir()):
        name = path.stem if path.suffix == ".py" else path.name
        if name.startswith(("_", ".")) or not (
            (path.is_dir() and (path / "__init__.py").exists()) or path.suffix == ".py"
        ):
            continue
        yield name, _loader(folder, path, name)


def _loader(folder: Path, path: Path, name: str):
    def load() -> ModuleType:
        if folder.resolve() == BUILTIN_DIR.resolve():
            return importlib.import_module(f"plugins.{name}")
        module_name = f"dealercover_plugin_{abs(hash(str(folder.resolve())))}_{name}"
        if module_name in sys.modules:
            return sys.modules[module_name]
        target = path / "__init__.py" if path.is_dir() else path
        spec = importlib.util.spec_from_file_location(
            module_name,
            target,
            submodule_search_locations=[str(path)] if path.is_dir() else None,
        )
        module = importlib.util.module_from_spec(spec)
        sys.modules[module_name] = module
        try:
            spec.loader.exec_module(module)
        except BaseException:
            sys.modules.pop(module_name, None)
            raise
        return module

    return load


def _register(registry: PluginRegistry, sources: dict, name: str, source: str, load) -> None:
    try:
        plugin = load()
    except Exception as error:  # noqa: BLE001 - any import failure is reported, not raised
        _fail(registry, name, source, error)
        return
    if registry.manager.is_registered(plugin):
        return
    try:
        registry.manager.register(plugin, name=f"{name}@{source}")
    except Exception as error:  # noqa: BLE001 - e.g. a hook with a wrong signature
        _fail(registry, name, source, error)
        return
    sources[f"{name}@{source}"] = source


def _fail(registry: PluginRegistry, name: str, source: str, error: BaseException) -> None:
    detail = "".join(traceback.format_exception(type(error), error, error.__traceback__, limit=-6))
    summary = "".join(traceback.format_exception_only(type(error), error)).strip()
    registry.errors.append(LoadError(name, source, summary, detail[-4000:]))
    log.warning("plugin %s (%s) failed to load: %s", name, source, summary)


def _impls(registry: PluginRegistry, hook_name: str):
    hook = getattr(registry.manager.hook, hook_name)
    for impl in hook.get_hookimpls():
        yield impl.plugin_name, impl.function


def _collect_carriers(registry: PluginRegistry, sources: dict[str, str]) -> None:
    for plugin_name, function in _impls(registry, "dealercover_carrier_plugins"):
        name, source = plugin_name.split("@", 1)
        try:
            answered = list(function() or [])
            for plugin in answered:
                _check_carrier(plugin)
        except Exception as error:  # noqa: BLE001
            _fail(registry, name, source, error)
            continue
        for plugin in answered:
            if plugin.code in registry.carriers:
                first = registry.carriers[plugin.code].source
                _fail(
                    registry,
                    name,
                    source,
                    ValueError(f"插件代码 {plugin.code} 重复（已由 {first} 提供）"),
                )
                continue
            registry.carriers[plugin.code] = LoadedPlugin(plugin, source, name)


def _collect_payments(registry: PluginRegistry, sources: dict[str, str]) -> None:
    for plugin_name, function in _impls(registry, "dealercover_payment_gateways"):
        name, source = plugin_name.split("@", 1)
        try:
            answered = list(function() or [])
            for gateway in answered:
                if not isinstance(gateway, PaymentGateway):
                    raise TypeError(f"{gateway!r} is not a PaymentGateway")
        except Exception as error:  # noqa: BLE001
            _fail(registry, name, source, error)
            continue
        for gateway in answered:
            registry.payments.setdefault(gateway.code, gateway)


def _check_carrier(plugin: Any) -> None:
    """Refuse a description the platform could not use, with a reason naming what is wrong."""
    if not isinstance(plugin, CarrierPlugin):
        raise TypeError(f"{plugin!r} is not a CarrierPlugin")
    if not plugin.code.isidentifier() or plugin.code != plugin.code.lower():
        raise ValueError(f"plugin code {plugin.code!r}: lower-case letters, digits and _ only")
    unknown = set(plugin.capabilities) - set(CAPABILITIES)
    if unknown:
        raise ValueError(f"plugin {plugin.code}: unknown capabilities {sorted(unknown)}")
    if not isinstance(plugin.config_schema, Mapping):
        raise TypeError(f"plugin {plugin.code}: config_schema must be a JSON Schema object")
    try:
        Draft202012Validator.check_schema(dict(plugin.config_schema))
    except SchemaError as error:
        raise ValueError(
            f"plugin {plugin.code}: config_schema is invalid: {error.message}"
        ) from None
    if not callable(plugin.make_client):
        raise TypeError(f"plugin {plugin.code}: make_client is not callable")


_lock = threading.Lock()
_registry: PluginRegistry | None = None
# More plugin folders besides plugins/: DEALERCOVER_PLUGIN_PATH, separated like PATH.
_extra_dirs: tuple[str, ...] = tuple(
    d for d in os.environ.get("DEALERCOVER_PLUGIN_PATH", "").split(os.pathsep) if d
)


def configure(extra_dirs: Iterable[str] = ()) -> None:
    """Set the extra plugin folders (tests; the process default comes from the environment);
    discovery stays lazy."""
    global _extra_dirs, _registry
    dirs = tuple(str(d) for d in extra_dirs if d)
    with _lock:
        if dirs != _extra_dirs:
            _extra_dirs, _registry = dirs, None


def registry() -> PluginRegistry:
    """The process's plugins, discovered once."""
    global _registry
    with _lock:
        if _registry is None:
            _registry = discover((BUILTIN_DIR, *_extra_dirs))
        return _registry


def set_registry(value: PluginRegistry | None) -> PluginRegistry | None:
    """Swap the process's registry (tests, or a reload after installing a plugin); returns the
    previous one. None means: discover again on next use."""
    global _registry
    with _lock:
        previous, _registry = _registry, value
        return previous
