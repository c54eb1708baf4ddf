"""Turning a notification into the text that is sent, strictly.

Django templates print an unknown variable as nothing, so a typo in a template would send a
message with a hole in it. These engines print a marker instead, and a message whose text holds
one is not sent: its row fails with the variable's name. A missing or broken template fails the
same way. Either way the request that asked for the message never sees the error: rendering
happens in the delivery task.

Email and in-app messages are files under `templates/notifications/<key>/`: `subject.txt`,
`body.txt` and, for email, `body.html` (the only one autoescaped). SMS messages are `SMSTemplate`
rows, which staff edit in the admin.
"""

import re
from dataclasses import dataclass

from django.conf import settings
from django.template import Context, Engine, TemplateDoesNotExist, TemplateSyntaxError
from django.template.base import VariableNode

from apps.notifications.models import Channel, SMSTemplate

TEMPLATE_DIR = settings.BASE_DIR / "templates" / "notifications"
_INVALID = "\x00invalid:%s\x00"
_INVALID_FOUND = re.compile("\x00invalid:(.*?)\x00")
MASK = "••••••"


class RenderError(Exception):
    """The message cannot be made; the text says why, for the row's `last_error`."""


def _engine(*, autoescape: bool) -> Engine:
    return Engine(
        dirs=[str(TEMPLATE_DIR)],
        autoescape=autoescape,
        string_if_invalid=_INVALID,
        libraries={},
        builtins=["django.template.defaulttags", "django.template.defaultfilters"],
    )


_text = _engine(autoescape=False)
_html = _engine(autoescape=True)


@dataclass(frozen=True)
class Rendered:
    subject: str
    body: str
    html: str = ""


def _checked(text: str, where: str) -> str:
    found = _INVALID_FOUND.search(text)
    if found:
        raise RenderError(f"{where}: unknown variable {found.group(1) or '?'!r}")
    return text


def _file(engine: Engine, key: str, name: str, context: dict) -> str:
    where = f"{key}/{name}"
    try:
        template = engine.get_template(where)
        return _checked(template.render(Context(context)), where)
    except TemplateDoesNotExist:
        raise RenderError(f"template {where} does not exist") from None
    except TemplateSyntaxError as exc:
        raise RenderError(f"template {where} is broken: {exc}") from None


def sms_text(body: str, context: dict, *, where: str) -> str:
    try:
        template = _text.from_string(body)
    except TemplateSyntaxError as exc:
        raise RenderError(f"{where} is broken: {exc}") from None
    return _checked(template.render(Context(context)), where).strip()


def variables(body: str) -> list[str]:
    """The names an SMS template's text prints (`code`, `user.full_name`), in order; [] if broken."""
    try:
        nodes = _text.from_string(body).nodelist.get_nodes_by_type(VariableNode)
    except TemplateSyntaxError:
        return []
    names = (str(getattr(node.filter_expression.var, "var", "")) for node in nodes)
    return list(dict.fromkeys(name for name in names if name))


def render(*, key: str, channel: str, context: dict, stored_context: dict | None = None):
    """The message `key` for `channel`: `(to send, to store)`, the stored copy rendered from
    `stored_context` (the same object when there is none: nothing was masked). RenderError when
    it cannot be made. An SMS template is read once for both."""
    if channel == Channel.SMS:
        template = SMSTemplate.objects.filter(key=key).first()
        if template is None:
            raise RenderError(f"SMS template {key!r} does not exist")
        if not template.is_active:
            raise RenderError(f"SMS template {key!r} is inactive")
        where = f"SMS template {key!r}"

        def make(values: dict, *, html: bool) -> Rendered:
            return Rendered(subject="", body=sms_text(template.body, values, where=where))
    else:

        def make(values: dict, *, html: bool) -> Rendered:
            return Rendered(
                subject=" ".join(_file(_text, key, "subject.txt", values).split()),
                body=_file(_text, key, "body.txt", values),
                html=_file(_html, key, "body.html", values) if html else "",
            )

    sent = make(context, html=channel == Channel.EMAIL)
    # The stored copy keeps subject and text only: no HTML to render for it.
    return sent, sent if stored_context is None else make(stored_context, html=False)


def masked(context: dict, secret: tuple[str, ...]) -> dict:
    """`context` with the secret values replaced by a mask, for the stored copy."""
    return {name: (MASK if name in secret else value) for name, value in context.items()}
