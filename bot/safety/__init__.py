"""Safety checks (安否確認) after the alerts the configuration marks for one.

::

    alert accepted ──► SafetyChecks.tick() (bousai run, every few seconds, one process),
                       [safety] delay later (2 minutes), if it was not lifted or cancelled
       matches [[safety.triggers]]  ──► check alert (source "safety", the same kind,
                                        the affected wards) through the lifecycle and
                                        the delivery ledger, with three answer buttons
    safety:<alert id>:safe|need_help|away tapped ──► bot.safety.answers (stored per
                                        alert and ward, changeable, erased with the
                                        subscriber); need_help answers with the numbers
    reminder_after ──► one reminder to those reached who have not answered

Operators read the answers with ``bousai safety stats ID`` and ``bousai safety list ID``.
"""
