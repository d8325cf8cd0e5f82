"""`python -m exporter` runs `tocsin-exporter`."""

import sys

from exporter.cli import main

sys.exit(main())
