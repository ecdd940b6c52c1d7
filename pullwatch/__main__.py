"""Entry point for ``python -m pullwatch``."""

from pullwatch.commands.main import main

raise SystemExit(main())
