"""`jobrunner-master`: serve worker sessions with uvicorn."""

import logging

import uvicorn

from jobrunner_master.app import create_app
from jobrunner_master.settings import get_settings


def main() -> None:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    settings = get_settings()
    uvicorn.run(create_app(settings), host=settings.host, port=settings.port, log_level="info")


if __name__ == "__main__":
    main()
