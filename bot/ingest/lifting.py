"""Lift or cancel: whether a source's follow-up ends a warning or withdraws a mistake.

A *lift* (:attr:`MsgType.LIFT`) says that an order or warning that was right has
ended: JMA's 解除, a CAP sender's "all clear". A *cancel* (:attr:`MsgType.CANCEL`)
says that a message was sent in error: JMA's InfoType 取消. The two read very
differently to a resident (:mod:`bot.render.follow_ups`), so each parser asks here:

* :func:`jma_msg_type`: a JMA report (InfoType 発表) in which everything it says
  about the city is 解除 is a lift of the earlier report of the same series
  (``references`` = the series' event key); 訂正 and 取消 keep their own meaning.
* :func:`cap_msg_type`: CAP has no "lift" message type, so senders end an alert
  with ``msgType`` Cancel; when the headline or description of such a Cancel says
  the hazard ended (解除, lifted, ended, expired, all clear ...) and none says it
  was an error, it is a lift. Instructions are not read: "stay away until the
  warning is lifted" is not an end.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from bot.domain import MsgType

# The hazard is over. "until … lifted" / "解除されるまで" is an instruction, not an end.
_ENDED = re.compile(
    r"解除(?!さ?れるまで|するまで|まで|の見込み|見込み|予定)|終了しました|"
    r"\b(?:lifted|ended|expired|all[- ]clear|no longer in effect)\b", re.IGNORECASE)
_UNTIL = re.compile(r"\buntil\b|\bbefore\b", re.IGNORECASE)
# The message was wrong: never a lift, whatever else the text says.
_ERROR = re.compile(r"誤|間違|\b(?:error|mistake|mistaken|erroneous|wrongly|by accident|"
                    r"in error|test message)\b", re.IGNORECASE)
_SENTENCE = re.compile(r"(?<=[.!?。！？\n])")


def says_ended(texts: Iterable[str | None]) -> bool:
    """Whether ``texts`` (headlines, descriptions) say the hazard has ended, and none
    says that the earlier message was an error."""
    sentences = [s for text in texts if text for s in _SENTENCE.split(text) if s.strip()]
    if any(_ERROR.search(s) for s in sentences):
        return False
    for sentence in sentences:
        m = _ENDED.search(sentence)
        if m and not _UNTIL.search(sentence[:m.start()]):
            return True
    return False


def jma_msg_type(info_type: MsgType, all_lifted: bool) -> MsgType:
    """A JMA report's message type: 発表 of nothing but 解除 for the city is a lift."""
    return MsgType.LIFT if info_type is MsgType.ALERT and all_lifted else info_type


def cap_msg_type(msg_type: MsgType, texts: Iterable[str | None]) -> MsgType:
    """A CAP message's type: a Cancel that says the hazard ended is a lift."""
    return MsgType.LIFT if msg_type is MsgType.CANCEL and says_ended(texts) else msg_type
