"""The user template directory as a Jinja loader that never reads outside it.

Jinja's FileSystemLoader refuses `..` but follows symbolic links, so an `{% include %}`
of a link inside `templates_dir` would read any file the receiver can (its secrets
included) into a message. Here a template's path is resolved, links and all, and must
stay inside the resolved directory; it must also be a regular file (a FIFO would hang
the render) of bounded size.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import jinja2
from jinja2.loaders import split_template_path

# Far above any message template; a bigger file is a mistake, not a template.
MAX_TEMPLATE_BYTES = 1024 * 1024


class TemplateOutsideDirectory(jinja2.TemplateError):
    """A template (or an include) whose path leads out of the template directory."""


class ConfinedLoader(jinja2.BaseLoader):
    """Loads templates from `directory`, following a link only while it stays inside."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.root = directory.resolve()

    def get_source(
        self, environment: jinja2.Environment, template: str
    ) -> tuple[str, str, Callable[[], bool]]:
        """The template's text; TemplateNotFound when there is none (the built-ins are
        tried next), TemplateOutsideDirectory when its path resolves out of the directory."""
        path = self.root.joinpath(*split_template_path(template))
        try:
            resolved = path.resolve(strict=True)
        except (OSError, RuntimeError):  # missing, or a loop of links
            raise jinja2.TemplateNotFound(template) from None
        if not resolved.is_relative_to(self.root):
            raise TemplateOutsideDirectory(
                f"template {template!r} resolves outside templates_dir {str(self.directory)!r}"
                " (a symbolic link out of it); templates and includes must stay inside"
            )
        if not resolved.is_file():
            raise TemplateOutsideDirectory(f"template {template!r} is not a regular file")
        with resolved.open("rb") as f:
            raw = f.read(MAX_TEMPLATE_BYTES + 1)
        if len(raw) > MAX_TEMPLATE_BYTES:
            raise TemplateOutsideDirectory(
                f"template {template!r} is larger than {MAX_TEMPLATE_BYTES} bytes"
            )
        mtime = resolved.stat().st_mtime
        source = raw.decode("utf-8", errors="replace")

        def uptodate() -> bool:
            try:
                return resolved.stat().st_mtime == mtime
            except OSError:
                return False

        return source, str(resolved), uptodate
