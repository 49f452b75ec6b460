"""``python -m conv_tutorial COMMAND ...``: the ``conv-tutorial`` command without its entry point."""

from .cli import main

raise SystemExit(main())
