import sys

from breather.cli import main

sys.exit(main())
