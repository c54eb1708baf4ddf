"""What text messages may cost: where numbers may be, and how many texts may go out.

Every text is paid for, and SMS pumping fraud turns that into revenue for whoever owns the
numbers: it has an app text codes to premium-rate ranges, many accounts and addresses at once.
Per-account and per-address limits do not bound that; these do:

- `sms_country_allowed`: only numbers of SMS_ALLOWED_COUNTRIES may be added to an account, and an
  account's verified number is the only one texted except while it is being verified.
- `sms_budget_take`, called by every service that accepts a request to text (a phone verification,
  a two-factor or sign-in code, a reset code), before it queues the message: one number gets at
  most THROTTLE_SMS_NUMBER_RATE texts whatever the account or purpose, and the whole application
  THROTTLE_SMS_GLOBAL_RATE, whose exhaustion is logged once, as an error, so someone looks. Both
  are counted in Redis (apps.core.throttles.SecurityBudget), so they hold across processes.

A spent budget is `SMSBudgetSpent`, a domain `RateLimited` (429 with Retry-After) where a client
waits for the text; a caller whose answer must not change (a reset by phone) catches it and drops
the text silently.
"""

import logging

from django.conf import settings
from django.utils.translation import gettext_lazy as _
from phonenumber_field.phonenumber import to_python
from phonenumbers import region_code_for_number

from apps.core.errors import RateLimited
from apps.notifications.throttles import SMSGlobalBudget, SMSNumberBudget

logger = logging.getLogger(__name__)

# The global budget has one counter; its key names no number.
_EVERYONE = "all"


class SMSBudgetSpent(RateLimited):
    """The text would go over a budget: not sent, a 429 with Retry-After."""


def sms_country_allowed(number) -> bool:
    """Whether `number` (E.164 text or a PhoneNumber) is in a country texts may go to."""
    allowed = settings.SMS_ALLOWED_COUNTRIES
    if not allowed:
        return True
    parsed = to_python(number)
    return parsed is not None and parsed.is_valid() and region_code_for_number(parsed) in allowed


def sms_budget_take(number: str) -> None:
    """Count one text to `number` (E.164) against its budget and the global one; SMSBudgetSpent
    when either is spent. Per number first: texts refused for one much-texted number must not use
    up everyone's budget."""
    per_number = SMSNumberBudget()
    count = per_number.take(str(number))
    if count is not None and count > per_number.num_requests:
        raise SMSBudgetSpent(
            _("Too many text messages to this number lately; try again later."), wait=per_number.wait()
        )
    everyone = SMSGlobalBudget()
    count = everyone.take(_EVERYONE)
    if count is None:
        return
    if count == everyone.num_requests:
        # Once per window (INCR hands each count to one caller); no number or code in it.
        logger.error(
            "SMS budget spent: %d text messages in this window of %d seconds; no more go out for %d seconds",
            everyone.num_requests,
            everyone.duration,
            everyone.wait(),
        )
    if count > everyone.num_requests:
        raise SMSBudgetSpent(
            _("Text messages cannot be sent just now; try again later."), wait=everyone.wait()
        )
