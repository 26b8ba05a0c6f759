"""Settings from the environment (prefix GRIDBOT_) and an optional .env file."""

from __future__ import annotations

from datetime import time
from functools import lru_cache
from pathlib import Path
from typing import Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from app.media.storage import S3Location

PLACEHOLDER_SECRETS = {"", "changeme", "token", "gridbot"}
DEV_MEDIA_SECRET = "gridbot-dev-media-secret-not-for-production"
DEMO_APP_ID = "wxgridbotdemo"
"""The sandbox's AppID; refused for the wechat channel."""


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="GRIDBOT_", env_file=".env", extra="ignore")

    database_url: str = ""
    data_dir: Path = Path("./data")
    channel: Literal["wechat", "sandbox"] = "sandbox"

    wechat_token: str = "gridbot"
    wechat_app_id: str = DEMO_APP_ID
    wechat_app_secret: str = ""
    wechat_aes_key: str = ""
    wechat_api_base: str = "https://api.weixin.qq.com"
    wechat_account: str = "gh_gridbot"

    wecom_corp_id: str = ""
    """The WeCom (企业微信) CorpID; empty: no WeCom app, /wecom answers 404."""
    wecom_agent_id: str = ""
    wecom_secret: str = ""
    wecom_token: str = ""
    wecom_aes_key: str = ""
    wecom_api_base: str = "https://qyapi.weixin.qq.com"

    location_crs: Literal["gcj02", "wgs84"] = "gcj02"
    location_event_crs: Literal["gcj02", "wgs84"] | None = None
    """The system of LOCATION events (may differ from location messages); None: the same."""
    timezone: str = "Asia/Shanghai"

    draft_window_minutes: int = 10
    """A rider's photo, location and words join into one report within this window."""
    followup_minutes: int = 5
    """Messages this soon after a ticket was filed add to that ticket."""
    nearest_grid_max_m: float = 300.0
    """A point outside every grid goes to the nearest grid within this distance."""
    grid_import_max_bytes: int = 32_000_000
    grid_import_max_features: int = 50_000
    grid_import_max_vertices: int = 50_000
    """`grids import` refuses a file larger than this, with more features, or a feature
    whose polygon has more vertices (a 1,000,000-vertex polygon took 14 s and 400 MB)."""
    signature_window_seconds: int = 300
    database_connect_timeout_seconds: float = 5.0
    database_statement_timeout_seconds: float = 30.0
    database_lock_timeout_seconds: float = 10.0
    """PostgreSQL waits of the server (web and its jobs): past them the statement fails,
    and a message that cannot be handled is kept in the spool (<data dir>/spool)."""
    api_docs: bool = False
    """Serve /docs, /redoc and /openapi.json (a map of every endpoint: off in production)."""
    max_body_bytes: int = 64 * 1024
    ack_budget_seconds: float = 1.0
    """A message not answered within this time is acknowledged at once ("success") and
    its answer follows by customer-service message; 0 waits for every answer. WeChat
    gives up at 5 s and sends the message again."""
    handler_threads: int = 0
    """Messages handled at once per process; 0: 1 on SQLite (one writer), 2 on
    PostgreSQL. More threads take the GIL from the event loop that acknowledges."""
    late_recovery_seconds: float = 120.0
    """A message acknowledged early and still unanswered after this long (its process
    died) is handled again by the leader and answered late."""
    outbox_poll_seconds: float = 1.0
    outbox_max_attempts: int = 8
    digest_time: str = "08:00"
    """Local time (HH:MM) from which the previous day's digest is sent to supervisors;
    "off" sends none (日报 in chat still answers)."""
    digest_poll_seconds: float = 60.0
    """How often the digest sweep looks for supervisors still owed one."""

    policy_file: Path | None = None
    """A TOML file merged over app/policy_defaults.toml: deadlines, calendar, ladder."""
    escalation_sweep_seconds: float = 30.0
    auto_close_sweep_seconds: float = 300.0
    hazard_alert_sweep_seconds: float = 2.0
    """How often the sweep sends the hazard alerts (and all-clears) ticket changes owe."""

    media_dir: Path | None = None
    """Where photos are stored (content-addressed); default <data_dir>/media."""
    media_store: str = ""
    """Where stored photos are kept: empty for GRIDBOT_MEDIA_DIR on this machine's disk,
    or s3://bucket/prefix for an S3-compatible object store that every machine shares."""
    media_s3_endpoint_url: str = ""
    """An S3-compatible store's endpoint (MinIO, COS, OSS ...); empty for AWS S3."""
    media_s3_region: str = ""
    media_s3_access_key_id: str = ""
    media_s3_secret_access_key: str = ""
    """Empty: boto3's own chain (AWS_* environment variables, an instance role)."""
    media_secret: str = DEV_MEDIA_SECRET
    """Signs photo links; the development default is refused outside the sandbox."""
    public_url: str = "http://127.0.0.1:8000"
    """How staff reach this server: the base of signed photo links and console sign-in links."""
    console_session_hours: float = 12.0
    """How long a console sign-in lasts (revocable earlier: gridbot console logout)."""
    console_tile_url: str = ""
    """A basemap for the console's maps ({z}/{x}/{y} URL); empty: polygons and labels only."""
    console_tile_crs: Literal["gcj02", "wgs84"] = "gcj02"
    """The coordinate system of those tiles: gcj02 (Amap, Tencent) or wgs84 (Tianditu, OSM)."""
    media_link_hours: int = 72
    media_hosts: str = "mmbiz.qpic.cn,mmbiz.qlogo.cn"
    """Comma-separated hosts a PicUrl (the fallback when media/get fails) may be fetched
    from; ".example.com" allows its subdomains. Redirects elsewhere are refused, and
    whatever the name resolves to, loopback and private addresses are never contacted."""
    media_hosts_allow_private: bool = False
    """Test only: the listed hosts may resolve to loopback or private addresses."""
    open311_media_hosts: str = ""
    """Comma-separated hosts an Open311 request's media_url may be fetched from (the same
    checks as PicUrl); empty: media_url is recorded but never fetched."""
    open311_requests_per_minute: int = 600
    """Calls per API key per minute, per process; over it the API answers 429."""
    open311_repeat_minutes: float = 10.0
    """A POST requests with the same key, device_id, description and position within this
    many minutes is a client's retry: it answers the request already filed."""
    webhook_allow_private: bool = False
    """Webhooks may target loopback or private addresses (tests, a platform on the same
    intranet). Off: only public addresses are ever contacted, whatever a name resolves to."""
    webhook_timeout_seconds: float = 5.0
    """How long one delivery may take; a slower receiver counts as a failed attempt."""
    photo_poll_seconds: float = 1.0
    photo_max_attempts: int = 6
    photo_max_bytes: int = 10 * 1024 * 1024
    photo_max_pixels: int = 50_000_000
    photo_long_side: int = 2048
    photo_thumb_side: int = 320
    photo_location_max_age_minutes: int = 120
    """EXIF GPS locates a report only if the photo was taken at most this long ago."""
    photo_stale_hours: int = 24
    """A photo taken longer ago than this is flagged on its ticket."""
    resolution_photo_minutes: int = 5
    """A worker's photo this close to 办结 becomes the ticket's resolution photo."""
    duplicate_distance_m: float = 100.0
    duplicate_window_hours: float = 6.0
    duplicate_max_hamming: int = 6
    """Photos whose 64-bit dHashes differ in at most this many bits show the same scene."""
    more_reports_interval_minutes: int = 30
    """A worker hears 'more reports' about one ticket at most once per interval."""
    more_info_interval_minutes: int = 5
    """A worker hears what a rider added to one ticket at most once per interval (a
    correction of its category or urgency goes at once)."""
    outbox_lease_seconds: float = 60.0
    """A leased notice not marked within this time (the sender died) is tried again."""
    rate_limit_pause_seconds: float = 60.0
    """After WeChat's 45009/45011 the whole channel waits this long (every process)."""
    template_ids: dict[str, str] = {}
    """Notice kind -> template id, the fallback when the customer-service window is closed
    (45015/45047); JSON in the environment: GRIDBOT_TEMPLATE_IDS='{"ticket_assigned": "..."}'.
    Kinds without a template are held and delivered in the user's next passive reply."""

    @model_validator(mode="after")
    def _defaults_and_secrets(self) -> Settings:
        if not self.database_url:
            self.database_url = f"sqlite:///{self.data_dir / 'gridbot.db'}"
        if self.media_dir is None:
            self.media_dir = self.data_dir / "media"
        problems = self.problems()
        if problems:
            # One error naming every problem; app/bootstrap.py shows it without a traceback.
            raise ValueError("\n".join(problems))
        return self

    def problems(self) -> list[str]:
        """Every setting that is wrong or missing, one line each."""
        found = []
        if self.media_store:
            try:
                S3Location.parse(self.media_store)
            except ValueError:
                found.append(
                    "GRIDBOT_MEDIA_STORE must be empty (photos on this machine's disk) or "
                    "s3://bucket/prefix"
                )
        if self.channel == "wechat":
            if self.wechat_token in PLACEHOLDER_SECRETS:
                found.append(
                    "GRIDBOT_WECHAT_TOKEN must be set to the token of the official account"
                )
            if self.wechat_app_id in PLACEHOLDER_SECRETS | {DEMO_APP_ID}:
                found.append("GRIDBOT_WECHAT_APP_ID must be set to the AppID of the account")
            if self.wechat_app_secret in PLACEHOLDER_SECRETS:
                found.append(
                    "GRIDBOT_WECHAT_APP_SECRET must be set to the AppSecret of the account"
                )
        if self.channel != "sandbox" and (
            self.media_secret in PLACEHOLDER_SECRETS
            or self.media_secret == DEV_MEDIA_SECRET
            or len(self.media_secret) < 16
        ):
            found.append("GRIDBOT_MEDIA_SECRET must be set to a random string of 16+ characters")
        if self.wechat_aes_key and len(self.wechat_aes_key) != 43:
            found.append("GRIDBOT_WECHAT_AES_KEY must be the 43-character EncodingAESKey")
        try:
            _ = self.digest_send_at
        except ValueError:
            found.append('GRIDBOT_DIGEST_TIME must be a local time like 08:00, or "off"')
        try:
            ZoneInfo(self.timezone)
        except (ValueError, ZoneInfoNotFoundError):
            found.append(f"GRIDBOT_TIMEZONE: unknown time zone {self.timezone!r}")
        if self.wecom_corp_id:
            found += self._wecom_problems()
        return found

    def _wecom_problems(self) -> list[str]:
        """With a WeCom CorpID, the rest of the app's settings (README, "Staff on WeCom")."""
        found = []
        missing = [
            f"GRIDBOT_WECOM_{name}"
            for name, value in (
                ("AGENT_ID", self.wecom_agent_id),
                ("SECRET", self.wecom_secret),
                ("TOKEN", self.wecom_token),
            )
            if not value.strip()
        ]
        if missing:
            found.append(
                f"GRIDBOT_WECOM_CORP_ID is set, so {', '.join(missing)} must be set too "
                "(the app's AgentId and Secret, the callback's Token)"
            )
        if self.wecom_agent_id.strip() and not self.wecom_agent_id.strip().isdigit():
            found.append("GRIDBOT_WECOM_AGENT_ID must be the app's numeric AgentId, like 1000002")
        if len(self.wecom_aes_key) != 43:
            found.append("GRIDBOT_WECOM_AES_KEY must be the callback's 43-character EncodingAESKey")
        return found

    @property
    def digest_send_at(self) -> time | None:
        """None when scheduled digests are off."""
        if self.digest_time.strip().lower() == "off":
            return None
        return time.fromisoformat(self.digest_time)


@lru_cache
def get_settings() -> Settings:
    return Settings()
