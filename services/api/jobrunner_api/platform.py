"""The objects one API process shares between its routes, its consumers and its sweeper."""

from dataclasses import dataclass, field

from faststream.rabbit import RabbitBroker

from jobrunner_api.accounts import Accounts
from jobrunner_api.dispatch import Dispatcher
from jobrunner_api.feed import Feed, Hub
from jobrunner_api.jobstore import Jobs
from jobrunner_api.login_throttle import LoginThrottle
from jobrunner_api.settings import Settings
from jobrunner_api.transitions import Timing
from jobrunner_api.workers import Presence
from jobrunner_shared.secretbox import SecretBox


@dataclass
class Platform:
    settings: Settings
    broker: RabbitBroker
    secretbox: SecretBox
    hub: Hub = field(default_factory=Hub)
    feed: Feed = field(init=False)
    jobs: Jobs = field(init=False)
    presence: Presence = field(init=False)
    accounts: Accounts = field(init=False)
    login_throttle: LoginThrottle = field(init=False)

    def __post_init__(self) -> None:
        s = self.settings
        self.feed = Feed(self.broker, s.worker_offline_after_seconds)
        timing = Timing(lease_seconds=s.lease_seconds,
                        timeout_grace_seconds=s.timeout_grace_seconds,
                        publish_grace_seconds=s.outbox_grace_seconds)
        self.jobs = Jobs(self.broker, Dispatcher(self.broker, s.log_cap_bytes), self.feed, timing)
        self.accounts = Accounts(s.auth_cache_seconds)
        self.login_throttle = LoginThrottle(s.login_window_seconds)
        self.presence = Presence(self.feed, s.lease_seconds, s.reconnect_grace_seconds)
