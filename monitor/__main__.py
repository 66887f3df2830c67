"""`python -m monitor` runs the `callsla` command."""

import sys

from monitor.cli.main import main

sys.exit(main())
