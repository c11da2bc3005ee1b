"""The objects one API process shares between its routes and its consumers."""

from dataclasses import dataclass, field

from faststream.rabbit import RabbitBroker

from jobrunner_api.changes import ChangeFeeds
from jobrunner_api.dispatch import Dispatcher
from jobrunner_api.logs import LogNotifier
from jobrunner_api.settings import Settings
from jobrunner_shared.secretbox import SecretBox


@dataclass
class Platform:
    settings: Settings
    broker: RabbitBroker
    dispatcher: Dispatcher
    secretbox: SecretBox
    notifier: LogNotifier = field(default_factory=LogNotifier)
    changes: ChangeFeeds = field(init=False)

    def __post_init__(self) -> None:
        self.changes = ChangeFeeds(self.settings.events_poll_seconds,
                                   self.settings.worker_offline_after_seconds)
