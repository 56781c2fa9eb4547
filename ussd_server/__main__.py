import sys

from core.metrics_setup import prepare_from_argv

# Before anything imports prometheus-client: it picks its storage when imported.
prepare_from_argv(sys.argv[1:])

from ussd_server.cli import main  # noqa: E402

sys.exit(main())
