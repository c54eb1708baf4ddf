"""The budgets on text messages (see apps/notifications/sms_budget.py), counted across processes
and kept while Redis is down (`SecurityBudget` in apps/core/throttles.py)."""

from apps.core.throttles import SecurityBudget


class SMSNumberBudget(SecurityBudget):
    """Text messages to one number, whatever the account or purpose (`THROTTLE_SMS_NUMBER_RATE`)."""

    scope = "sms_number"


class SMSGlobalBudget(SecurityBudget):
    """Text messages to anyone, all accounts together (`THROTTLE_SMS_GLOBAL_RATE`): a ceiling on
    what SMS pumping can cost in a window."""

    scope = "sms_global"
