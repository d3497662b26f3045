"""Registry names for our tasks: always `tasks/<name>`, however the package is installed.

Inspect namespaces a task with its top-level package only when the module sits in
site-packages, or when it is an editable install of a *distribution named like the
package*. Ours is the `diq-harness` distribution, so under `pip install -e .` Inspect
would register plain `medqa` and `inspect eval tasks/medqa` would not find it. We add
the namespace ourselves exactly when Inspect will not.
"""

from __future__ import annotations

import site
import sys
from pathlib import Path

NAMESPACE = "tasks"


def _installed_in_site_packages() -> bool:
    here = str(Path(__file__).resolve()).lower()
    roots = [*site.getsitepackages(), site.getusersitepackages()]
    roots += [entry for entry in sys.path if "site-packages" in entry.lower()]
    return any(here.startswith(str(Path(root).resolve()).lower()) for root in roots if root)


def task_name(name: str) -> str:
    """The name to give `@task(name=...)` so that the registry key is `tasks/<name>`."""
    return name if _installed_in_site_packages() else f"{NAMESPACE}/{name}"
