"""Where the project lives: the folder of the manage.py that runs this command."""

from __future__ import annotations

import sys
from pathlib import Path


def project_folder() -> Path:
    """manage.py's folder (the script this interpreter runs); else the working directory.

    Not `sys.path[0]`: Celery's Django fix-up puts the working directory first on the
    path as soon as a Celery app is loaded, which a project may do in its `__init__`.
    """
    script = Path(sys.argv[0]) if sys.argv and sys.argv[0] else None
    if script is not None and script.suffix == ".py" and script.is_file():
        return script.resolve().parent
    return Path.cwd()
