import sys

from sim_refugee.cli import main

sys.exit(main())
