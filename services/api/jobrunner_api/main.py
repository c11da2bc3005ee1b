"""`jobrunner-api`: serve the API with uvicorn."""

import uvicorn

from jobrunner_api.app import create_app
from jobrunner_api.settings import get_settings
from jobrunner_shared import logging as log_setup


def main() -> None:
    settings = get_settings()
    log_setup.configure(settings.log_format)
    # log_config=None: uvicorn's own loggers go through the root handler, in the same format.
    uvicorn.run(create_app(settings), host=settings.host, port=settings.port, log_level="info",
                log_config=None, proxy_headers=True,
                forwarded_allow_ips=settings.forwarded_allow_ips)


if __name__ == "__main__":
    main()
