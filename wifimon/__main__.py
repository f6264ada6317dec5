"""``python -m wifimon`` is the ``wifimon`` command."""

from wifimon.cli import main

main()
