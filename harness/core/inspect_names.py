"""Registry names for our Inspect components: `tasks/<name>`, `rubrics/<name>`, however installed.

Inspect namespaces a task or scorer with its top-level package only when the module sits
in site-packages, or when it is an editable install of a *distribution named like the
package*. Ours is the `diq-harness` distribution, so under `pip install -e .` Inspect
would register plain `medqa` and `inspect eval tasks/medqa` would not find it. We add
the namespace ourselves exactly when Inspect will not. `tasks` and `rubrics` ship in the
same distribution as this module, so this module's location decides for all of them.
"""

from __future__ import annotations

import site
import sys
from functools import cache
from pathlib import Path


@cache
def _installed_in_site_packages() -> bool:
    here = str(Path(__file__).resolve()).lower()
    roots = [*site.getsitepackages(), site.getusersitepackages()]
    roots += [entry for entry in sys.path if "site-packages" in entry.lower()]
    return any(here.startswith(str(Path(root).resolve()).lower()) for root in roots if root)


def namespaced(package: str, name: str) -> str:
    """The name to give `@task(name=...)` / `@scorer(name=...)` so the key is `<package>/<name>`."""
    return name if _installed_in_site_packages() else f"{package}/{name}"


def local_path(location: str) -> Path:
    """The file behind a log location as Inspect reports it (`file:///...` or a plain path)."""
    return Path(location.removeprefix("file://")).resolve()
