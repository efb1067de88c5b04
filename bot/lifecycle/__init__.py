"""Every state change of an alert, through one transition table checked in one place.

The CLI, the feeds, the web and the chat handlers all come here; none of them
sets an alert's status itself. The path of an accepted alert::

    prepare(alert)      render every (language, channel), translate free text,
                        count recipients: outside any transaction (this is also
                        what a preview shows)
    submit(prepared)    one short transaction: the alert, its renderings, the
                        original's stopped rows and the delivery rows
    approve / reject    a held alert or one that waits for a second operator
    finish / expire     housekeeping: an alert whose rows are all done is sent,
                        failed or expired

Follow-ups (update, lift, cancel) are alerts of their own that go through the
same policy, preview and two-person rule; when one is accepted, in the same
transaction, the original's pending rows stop, the original becomes
``cancelled`` or ``lifted``, and the follow-up goes to those the original reached.
A *lift* (an order that was right and has ended) is not a *cancel* (a message
sent in error).
"""

from bot.lifecycle.core import Lifecycle, Prepared, Submitted
from bot.lifecycle.housekeeping import housekeeping
from bot.lifecycle.table import NEW, ON_ORIGINAL, OUT, TRANSITIONS, WAITING, Event, check

__all__ = ["NEW", "ON_ORIGINAL", "OUT", "TRANSITIONS", "WAITING", "Event", "Lifecycle",
           "Prepared", "Submitted", "check", "housekeeping"]
