import sys

from ussd_server.cli import main

sys.exit(main())
