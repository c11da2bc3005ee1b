"""The API's consumers, one module each: every API process runs all of them at once.

- job_events: assigned, started, finished, unrunnable -> a job's state (transitions.py);
- logs: output batches -> log chunks;
- heartbeats: worker presence -> the worker's document and its jobs' leases;
- submissions: jobs submitted over AMQP (SPEC §4);
- changes: the live feed -> this process's /events and log streams.
"""

from faststream.rabbit import RabbitRouter

from jobrunner_api.consumers import changes, heartbeats, job_events, logs, submissions
from jobrunner_api.platform import Platform


def build_routers(platform: Platform) -> list[RabbitRouter]:
    return [module.build_router(platform)
            for module in (job_events, logs, heartbeats, submissions, changes)]
