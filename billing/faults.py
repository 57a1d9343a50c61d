"""Named points where a test can make this process SIGKILL itself.

Only active when TASDEED_FAULT_POINTS names the point; the crash tests use it to die between
steps of a confirm exactly where a real crash would hurt most.
"""

from __future__ import annotations

import os
import signal

from tasdeed.settings import get_settings


def crash_point(name: str) -> None:
    if name in get_settings().fault_points():
        os.kill(os.getpid(), signal.SIGKILL)
