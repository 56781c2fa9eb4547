import os
import signal
import sys


def _leave_while_starting(signum: int, frame: object) -> None:
    # Ctrl-C before the command has begun: nothing is open yet, so leave at once. A
    # KeyboardInterrupt raised in the middle of the imports could be swallowed by a
    # library's clean-up (and the start go on) or end the process by the signal itself.
    os._exit(130)


signal.signal(signal.SIGINT, _leave_while_starting)
try:
    from core.metrics_setup import prepare_from_argv

    # Before anything imports prometheus-client: it picks its storage when imported.
    prepare_from_argv(sys.argv[1:])

    from ussd_server.cli import main

    code = main()
except KeyboardInterrupt:  # Ctrl-C while a command loads or runs: no traceback
    code = 130
sys.exit(code)
