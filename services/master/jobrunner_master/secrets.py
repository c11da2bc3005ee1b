"""A job's secrets, decrypted just before `job:assign` and sent to its worker only.

The API puts the ciphertexts into the dispatch message (`JobAssignment.secrets`): no value
ever travels through RabbitMQ. Here they become environment variables, and `mask`: the values
the worker replaces with `***` before any output leaves its host (which strings:
jobrunner_shared.masking). Nothing here logs a value, nor an error that could quote one.
"""

from jobrunner_shared.masking import mask_values
from jobrunner_shared.messages import JobAssignment
from jobrunner_shared.secretbox import SecretBox, SecretBoxError


class SecretUnreadable(Exception):
    """A ciphertext this master cannot decrypt; the message names the secret, never a value."""


def reveal(job: JobAssignment, box: SecretBox) -> JobAssignment:
    """The assignment as the worker receives it: secrets in `env`, their values in `mask`."""
    if not job.secrets:
        return job
    values: dict[str, str] = {}
    for name, ciphertext in job.secrets.items():
        try:
            values[name] = box.decrypt(ciphertext)
        except SecretBoxError:
            raise SecretUnreadable(
                f"secret_unreadable: {name} (the master's ENCRYPTION_KEY does not hold the key "
                "it was encrypted with)"
            ) from None
    return job.model_copy(update={
        "env": {**job.env, **values},
        "mask": mask_values([*job.mask, *values.values()]),
        "secrets": {},
    })


def worker_payload(job: JobAssignment) -> dict:
    """What goes out as `job:assign` (SPEC §5): never a ciphertext."""
    return job.model_dump(exclude={"secrets"})
