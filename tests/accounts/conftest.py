import pytest


@pytest.fixture
def deliver(django_capture_on_commit_callbacks):
    """`deliver(call)`: make the call and let its transaction's messages (and tasks) run."""

    def deliver(call):
        with django_capture_on_commit_callbacks(execute=True):
            return call()

    return deliver
