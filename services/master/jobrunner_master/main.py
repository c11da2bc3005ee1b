"""`jobrunner-master`: serve worker sessions with uvicorn."""

import uvicorn

from jobrunner_master.app import create_app
from jobrunner_master.settings import get_settings
from jobrunner_shared import logging as log_setup


def main() -> None:
    settings = get_settings()
    log_setup.configure(settings.log_format)
    # log_config=None: uvicorn's own loggers go through the root handler, in the same format.
    uvicorn.run(create_app(settings), host=settings.host, port=settings.port, log_level="info",
                log_config=None)


if __name__ == "__main__":
    main()
