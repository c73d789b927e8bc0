"""``python -m bot`` runs the ``govwatch`` command."""

import sys

from bot.cli import main

sys.exit(main())
