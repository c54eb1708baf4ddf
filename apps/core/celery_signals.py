"""Carry the request id from the request that queued a task into the task's log lines."""

from celery.signals import before_task_publish, task_postrun, task_prerun

from apps.core.request_context import current_request_id, request_id_var

HEADER = "request_id"
_bound_tokens = {}


@before_task_publish.connect(dispatch_uid="core.send_request_id")
def send_request_id(headers=None, **kwargs):
    request_id = current_request_id()
    if request_id and headers is not None:
        headers.setdefault(HEADER, request_id)


@task_prerun.connect(dispatch_uid="core.bind_request_id")
def bind_request_id(task_id=None, task=None, **kwargs):
    request_id = getattr(task.request, HEADER, None) if task is not None else None
    if request_id:  # eager tasks run inside the request and already have it
        _bound_tokens[task_id] = request_id_var.set(request_id)


@task_postrun.connect(dispatch_uid="core.unbind_request_id")
def unbind_request_id(task_id=None, **kwargs):
    token = _bound_tokens.pop(task_id, None)
    if token is not None:
        request_id_var.reset(token)
