"""The playbooks csbot ships (the *.yml files beside this module) and `load_library`.

A team adds plays, or replaces a shipped one by giving its file the same `name`, in the
directory named by CSBOT_PLAYBOOK_DIR; the caller passes that directory in.
"""

from __future__ import annotations

from pathlib import Path

from playbooks.loader import load_dir
from playbooks.model import Playbook

LIBRARY_DIR = Path(__file__).parent


def load_library(extra_dir: Path | None = None) -> dict[str, Playbook]:
    """The shipped playbooks, plus or overridden by those in `extra_dir`, sorted by name."""
    playbooks = load_dir(LIBRARY_DIR)
    if extra_dir is not None:
        playbooks.update(load_dir(Path(extra_dir)))
    return dict(sorted(playbooks.items()))
