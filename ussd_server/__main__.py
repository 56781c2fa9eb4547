import sys

from core.metrics_setup import prepare_from_argv

try:
    # Before anything imports prometheus-client: it picks its storage when imported.
    prepare_from_argv(sys.argv[1:])

    from ussd_server.cli import main

    code = main()
except KeyboardInterrupt:  # Ctrl-C while still importing and loading: no traceback
    code = 130
sys.exit(code)
