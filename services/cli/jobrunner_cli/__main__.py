import sys

from jobrunner_cli.app import main

sys.exit(main())
