import sys

from camera_agent.cli import main

sys.exit(main())
