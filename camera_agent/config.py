"""The agent's configuration: one TOML file (Python's own tomllib, no extra package)."""

from __future__ import annotations

import os
import tomllib
from dataclasses import dataclass, field
from pathlib import Path


@dataclass
class AppConfig:
    url: str
    key_id: str
    token: str = field(repr=False)
    timeout_seconds: float = 5.0


@dataclass
class AgentConfig:
    camera_code: str
    source: str
    app: AppConfig
    spool_dir: Path = Path("/var/lib/dealercover-camera/spool")
    spool_max_events: int = 10000
    heartbeat_seconds: float = 30.0
    dedup_seconds: float = 60.0
    min_confidence: float = 0.5
    read_codes: bool = True
    motion_enabled: bool = True
    motion_threshold: float = 0.004
    motion_hold_seconds: float = 2.0
    motion_hold_fps: float = 2.0
    max_read_fps: float = 10.0
    reconnect_initial_seconds: float = 1.0
    reconnect_max_seconds: float = 60.0
    retry_initial_seconds: float = 1.0
    retry_max_seconds: float = 60.0
    loop_video: bool = False


class ConfigError(ValueError):
    pass


def load_config(path: Path) -> AgentConfig:
    """Read and check the TOML file; errors name the file and the missing key."""
    try:
        data = tomllib.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise ConfigError(f"{path}: {exc}") from exc
    camera = _section(data, "camera", path)
    app = _section(data, "app", path)
    agent = data.get("agent", {})
    motion = data.get("motion", {})
    retry = data.get("retry", {})
    token = _token(app, path)
    return AgentConfig(
        camera_code=_required(camera, "code", "camera", path),
        source=str(_required(camera, "source", "camera", path)),
        loop_video=bool(camera.get("loop_video", False)),
        app=AppConfig(
            url=str(_required(app, "url", "app", path)).rstrip("/"),
            key_id=_required(app, "key_id", "app", path),
            token=token,
            timeout_seconds=float(app.get("timeout_seconds", 5.0)),
        ),
        spool_dir=Path(agent.get("spool_dir", AgentConfig.spool_dir)),
        spool_max_events=int(agent.get("spool_max_events", 10000)),
        heartbeat_seconds=float(agent.get("heartbeat_seconds", 30)),
        dedup_seconds=float(agent.get("dedup_seconds", 60)),
        min_confidence=float(agent.get("min_confidence", 0.5)),
        read_codes=bool(agent.get("read_codes", True)),
        max_read_fps=float(agent.get("max_read_fps", 10)),
        motion_enabled=bool(motion.get("enabled", True)),
        motion_threshold=float(motion.get("threshold", 0.004)),
        motion_hold_seconds=float(motion.get("hold_seconds", 2.0)),
        motion_hold_fps=float(motion.get("hold_fps", 2.0)),
        reconnect_initial_seconds=float(retry.get("reconnect_initial_seconds", 1)),
        reconnect_max_seconds=float(retry.get("reconnect_max_seconds", 60)),
        retry_initial_seconds=float(retry.get("send_initial_seconds", 1)),
        retry_max_seconds=float(retry.get("send_max_seconds", 60)),
    )


def _section(data: dict, name: str, path: Path) -> dict:
    if not isinstance(data.get(name), dict):
        raise ConfigError(f"{path}: missing section [{name}]")
    return data[name]


def _required(section: dict, key: str, name: str, path: Path):
    if section.get(key) in (None, ""):
        raise ConfigError(f"{path}: [{name}] needs '{key}'")
    return section[key]


def _token(app: dict, path: Path) -> str:
    """The camera token: from the environment, a token file, or the config itself (in that
    order), so the secret can live outside a file that gets copied around."""
    if os.environ.get("DEALERCOVER_CAMERA_TOKEN"):
        return os.environ["DEALERCOVER_CAMERA_TOKEN"]
    if app.get("token_file"):
        return Path(app["token_file"]).read_text(encoding="utf-8").strip()
    return _required(app, "token", "app", path)
