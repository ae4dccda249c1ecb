"""Publishing people's Home tabs: when they open it, after their clicks there, and again when what it shows has
changed (checked every minute for those who opened it in the last hour), within Slack's rate limits.

views.publish is a tier-4 method (100+ calls a minute): a refresh pass publishes at most `per_pass` tabs, and only
the tabs whose content changed (the "As of" line aside), so an idle bot publishes nothing.
"""

from __future__ import annotations

import hashlib
import json
import logging
import threading
import time
from collections.abc import Callable

from slack_sdk import WebClient

from bot.home.dashboard import Dashboard
from handlers.home.blocks import home_view
from handlers.kit.blocks import View

logger = logging.getLogger(__name__)
WATCH_SECONDS = 3600.0
MAX_VIEWERS = 500


class HomePublisher:
    """Publishes Home tabs; remembers who looked recently and what they were shown."""

    def __init__(
        self,
        client: WebClient,
        dashboard_for: Callable[[str], Dashboard],
        *,
        per_pass: int = 50,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self.client = client
        self.dashboard_for = dashboard_for
        self.per_pass = per_pass
        self.monotonic = monotonic
        self._viewers: dict[str, tuple[float, str]] = {}  # user → (when they opened it, what they were shown)
        self._lock = threading.Lock()

    def opened(self, user: str, notice: str | None = None) -> None:
        """The user opened the tab (or clicked in it): publish now and watch it for an hour."""
        self._publish(user, notice, opened=True)

    def refresh(self) -> int:
        """Publish again the watched tabs whose content changed; returns how many were published."""
        now = self.monotonic()
        with self._lock:
            watched = [u for u, (seen, _) in self._viewers.items() if now - seen < WATCH_SECONDS]
            for user in [u for u in self._viewers if u not in watched]:
                del self._viewers[user]
        published = 0
        for user in watched:
            if published >= self.per_pass:
                break
            published += self._publish(user, None, opened=False)
        return published

    def _publish(self, user: str, notice: str | None, *, opened: bool) -> bool:
        view = home_view(self.dashboard_for(user), notice)
        shown = _content_hash(view)
        with self._lock:
            seen, before = self._viewers.get(user, (self.monotonic(), ""))
            if not opened and shown == before:
                return False
        try:
            self.client.views_publish(user_id=user, view=view)
        except Exception:
            logger.exception("home.publish_failed", extra={"user": user})
            return False
        with self._lock:
            if opened or user in self._viewers:
                self._viewers[user] = (self.monotonic() if opened else seen, shown)
            while len(self._viewers) > MAX_VIEWERS:
                del self._viewers[min(self._viewers, key=lambda u: self._viewers[u][0])]
        return True


def _content_hash(view: View) -> str:
    """What the tab shows, without its last block (the "As of" time, which changes every pass)."""
    return hashlib.sha256(json.dumps(view["blocks"][:-1], sort_keys=True).encode()).hexdigest()
