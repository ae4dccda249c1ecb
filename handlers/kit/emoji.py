"""The one emoji vocabulary of every message: a meaning, one emoji. Builders say `emoji.OK`, never `:x:`, so the
same news looks the same wherever it is shown (tests/unit/handlers/test_message_words.py finds any other).

One emoji per meaning, one meaning per emoji: a reader learns them once.
"""

from __future__ import annotations

OK = ":white_check_mark:"  # done, passed, verified, on
FAIL = ":x:"  # failed: something must be fixed
WARN = ":warning:"  # needs attention, or a gap that was not checked
RUNNING = ":hourglass_flowing_sand:"  # under way (and the ack while AWS is asked)
STARTED = ":rocket:"  # something was just started
SAME = ":repeat:"  # nothing new: what was asked already exists
AGAIN = ":arrows_counterclockwise:"  # started over, or running after approval
RESUMED = ":arrow_forward:"  # going again after a pause, or a restore starting
PAUSED = ":double_vertical_bar:"
SKIPPED = ":fast_forward:"
LATE = ":turtle:"
CATCH_UP = ":alarm_clock:"
INFO = ":information_source:"
REFUSED = ":no_entry:"  # not allowed, rejected: nothing was done
EXPIRED = ":hourglass:"  # no decision in time
APPROVAL = ":lock:"  # waits for a second person
RECORDED = ":ballot_box_with_check:"  # an approval counted, more needed
REMOVED = ":wastebasket:"
SCHEDULE = ":calendar:"
DIGEST = ":bar_chart:"
COST = ":moneybag:"
DRILL = ":test_tube:"
VERIFY = ":mag:"
BROKEN = ":boom:"  # the bot's own failure (with a reference)
UNKNOWN = ":grey_question:"
CONFIRM = ":raised_hand:"  # asks before doing something costly
CANCELLED = ":stop_sign:"  # stopped on request: what was written before stays
