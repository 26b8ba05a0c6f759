"""Settings from the environment (prefix GRIDBOT_) and an optional .env file."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

PLACEHOLDER_SECRETS = {"", "changeme", "token", "gridbot"}


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="GRIDBOT_", env_file=".env", extra="ignore")

    database_url: str = ""
    data_dir: Path = Path("./data")
    channel: Literal["wechat", "sandbox"] = "sandbox"

    wechat_token: str = "gridbot"
    wechat_app_id: str = "wxgridbotdemo"
    wechat_app_secret: str = ""
    wechat_aes_key: str = ""
    wechat_api_base: str = "https://api.weixin.qq.com"
    wechat_account: str = "gh_gridbot"

    location_crs: Literal["gcj02", "wgs84"] = "gcj02"
    timezone: str = "Asia/Shanghai"

    draft_window_minutes: int = 10
    """A rider's photo, location and words join into one report within this window."""
    followup_minutes: int = 5
    """Messages this soon after a ticket was filed add to that ticket."""
    nearest_grid_max_m: float = 300.0
    """A point outside every grid goes to the nearest grid within this distance."""
    signature_window_seconds: int = 300
    max_body_bytes: int = 64 * 1024
    outbox_poll_seconds: float = 1.0
    outbox_max_attempts: int = 8
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
        if self.channel == "wechat" and self.wechat_token in PLACEHOLDER_SECRETS:
            raise ValueError(
                "GRIDBOT_WECHAT_TOKEN must be set to the token of the official account"
            )
        if self.wechat_aes_key and len(self.wechat_aes_key) != 43:
            raise ValueError("GRIDBOT_WECHAT_AES_KEY must be the 43-character EncodingAESKey")
        return self

    @property
    def media_dir(self) -> Path:
        return self.data_dir / "media"


@lru_cache
def get_settings() -> Settings:
    return Settings()
