"""Tell the user's terminal what a host would hide.

Kustomize (``execplugin.invokePlugin``), Helm 3 (``pkg/postrender/exec.go``) and
Helm 4 (``runPostrenderer``) all keep a plugin's stderr in a buffer that they
print only when the plugin fails, or never. Warnings of a successful run would be
lost, so they also go to the controlling terminal, as ssh and git do for prompts.
Without one (CI, cron, a detached session) there is nobody to tell.
"""

from __future__ import annotations

from typing import TextIO


def tell(text: str, stderr: TextIO) -> None:
    """Write ``text`` to ``/dev/tty`` unless ``stderr`` is that terminal already."""
    if not text or stderr.isatty():
        return  # run by hand: stderr is the terminal, and has it
    try:
        with open("/dev/tty", "w", encoding="utf-8") as tty:
            tty.write(text)
    except OSError:
        pass  # no controlling terminal: nothing more to do
