"""Message templates: sandboxed Jinja2, built-ins per channel and kind, user overrides.

A template is named `<channel type>/<kind>.<part>` (for example `slack/firing.text.txt`
or `email/default.body.html`); when no template exists for the kind, `<type>/default.<part>`
is used. A user template directory is searched before the built-ins, so a file with the
same name overrides one. A user template that fails to render (syntax error, missing
variable, refused by the sandbox) falls back to the built-in of the same name, counts
`tocsin_receiver_template_errors_total{channel,template}` and is logged: a notification
is never lost to a template. Templates, includes and imports are read from inside the
user directory only (`receiver.templates.loader`): a link out of it is an error.

Every template also sees `action_links` (signed `ack`, `resolve` and `open` URLs for a
message about one open incident, empty without a configured key) and `sms_replies`
(whether the channel's recipients may answer `ACK <id>` by SMS); twilio templates also
see `reply_code` (the incident's short code for `ACK <code>`, None when there is none).
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import jinja2
import structlog
from jinja2 import StrictUndefined, select_autoescape
from jinja2.exceptions import SecurityError
from jinja2.sandbox import ImmutableSandboxedEnvironment
from prometheus_client import Counter

from receiver.actionlinks.signing import LinkSigner
from receiver.metrics import REGISTRY
from receiver.templates.filters import FILTERS
from receiver.templates.loader import ConfinedLoader

BUILTIN_DIR = Path(__file__).resolve().parent / "builtin"

TEMPLATE_ERRORS = Counter(
    "tocsin_receiver_template_errors_total",
    "Message templates that failed to render; the built-in template was used instead.",
    ["channel", "template"],
    registry=REGISTRY,
)

log = structlog.get_logger("receiver.templates")


class TemplateError(Exception):
    """A template could not be rendered (only raised by strict rendering)."""

    def __init__(self, template: str, message: str) -> None:
        self.template = template
        super().__init__(f"{template}: {message}")


class _Sandbox(ImmutableSandboxedEnvironment):
    """The sandbox, made loud: reaching for Python internals is an error, not a blank."""

    def unsafe_undefined(self, obj: Any, attribute: str) -> jinja2.Undefined:
        raise SecurityError(
            f"access to attribute {attribute!r} of {type(obj).__name__!r} object is unsafe"
        )


def _environment(loader: jinja2.BaseLoader, strict: bool) -> _Sandbox:
    env = _Sandbox(
        loader=loader,
        autoescape=select_autoescape(enabled_extensions=("html", "htm"), default=False),
        undefined=StrictUndefined if strict else jinja2.ChainableUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=False,
        auto_reload=False,
    )
    env.filters.update(FILTERS)
    return env


class TemplateRenderer:
    """Renders channel templates from an optional user directory, falling back to built-ins."""

    def __init__(
        self,
        directory: Path | None = None,
        links: LinkSigner | None = None,
        sms_replies: frozenset[str] = frozenset(),
        grafana_url: str = "",
    ) -> None:
        self.directory = Path(directory) if directory is not None else None
        self.links = links
        self.sms_replies = sms_replies
        # Channels build their context with it (receiver.templates.context.dashboard_link).
        self.grafana_url = grafana_url
        builtin_loader = jinja2.FileSystemLoader(str(BUILTIN_DIR))
        self._builtin = _environment(builtin_loader, strict=False)
        self._builtin_strict = _environment(builtin_loader, strict=True)
        if self.directory is not None:
            user_loader = jinja2.ChoiceLoader([ConfinedLoader(self.directory), builtin_loader])
            self._user = _environment(user_loader, strict=False)
            self._user_strict = _environment(user_loader, strict=True)
        else:
            self._user = self._builtin
            self._user_strict = self._builtin_strict

    @staticmethod
    def candidates(channel_type: str, kind: str, part: str) -> list[str]:
        """Template names tried in order for one part of one kind of message."""
        return [f"{channel_type}/{kind}.{part}", f"{channel_type}/default.{part}"]

    def render(
        self,
        channel_type: str,
        kind: str,
        part: str,
        context: Mapping[str, Any],
        *,
        channel: str = "",
    ) -> str:
        """Render one part; a failing user template falls back to the built-in one.

        Never raises: when even the built-in fails, a plain one-line message is returned
        so the notification still goes out.
        """
        names = self.candidates(channel_type, kind, part)
        name = names[0]
        context = self._with_self(context)
        try:
            template = self._user.select_template(names)
            name = template.name or name
            return template.render(context).strip()
        except Exception as exc:
            if isinstance(exc, jinja2.TemplateSyntaxError) and exc.name:
                name = exc.name
            self._count_error(channel or channel_type, name, exc)
        if self._user is not self._builtin:
            try:
                return self._builtin.select_template(names).render(context).strip()
            except Exception as exc:
                self._count_error(channel or channel_type, f"builtin:{name}", exc)
        return _last_resort(kind, context)

    def render_strict(
        self, channel_type: str, kind: str, part: str, context: Mapping[str, Any]
    ) -> str:
        """Render with StrictUndefined and no fallback; raises TemplateError (check-config)."""
        names = self.candidates(channel_type, kind, part)
        context = self._with_self(context)
        try:
            template = self._user_strict.select_template(names)
        except jinja2.TemplatesNotFound as exc:
            raise TemplateError(names[0], "no such template") from exc
        except jinja2.TemplateSyntaxError as exc:
            raise TemplateError(exc.name or names[0], _describe(exc)) from exc
        except jinja2.TemplateError as exc:  # outside templates_dir, not a file, too big
            raise TemplateError(names[0], str(exc)) from exc
        try:
            return template.render(context).strip()
        except Exception as exc:
            raise TemplateError(template.name or names[0], _describe(exc)) from exc

    def action_links(self, context: Mapping[str, Any]) -> dict[str, str]:
        """Signed links for the message `context` describes (`id`, `kind`, `channel`),
        signed afresh on each call since a link's nonce is good for one use; empty
        without a configured key."""
        return self.links.links(context, time.time()) if self.links is not None else {}

    def _with_self(self, context: Mapping[str, Any]) -> dict[str, Any]:
        merged = dict(context)
        merged.setdefault("action_links", self.action_links(merged))
        merged.setdefault("sms_replies", str(merged.get("channel", "")) in self.sms_replies)
        # `ctx` lets macros receive the whole context in one argument.
        merged["ctx"] = merged
        return merged

    def _count_error(self, channel: str, template: str, exc: Exception) -> None:
        TEMPLATE_ERRORS.labels(channel=channel, template=template).inc()
        log.error(
            "template_render_failed",
            channel=channel,
            template=template,
            error=_describe(exc),
            fallback="builtin",
        )


def _describe(exc: Exception) -> str:
    if isinstance(exc, jinja2.TemplateSyntaxError):
        return f"syntax error on line {exc.lineno}: {exc.message}"
    return f"{type(exc).__name__}: {exc}"


def _last_resort(kind: str, context: Mapping[str, Any]) -> str:
    summary = context.get("summary") or context.get("alertname") or "alert"
    return f"[{str(kind).upper()}] {summary}"


__all__ = ["BUILTIN_DIR", "TEMPLATE_ERRORS", "TemplateError", "TemplateRenderer"]
