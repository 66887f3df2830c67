"""queue_log read into legs and members' rings (RINGNOANSWER, RINGCANCELED, CONNECT)."""

from __future__ import annotations

from pathlib import Path

from monitor.backfill.queue_log import QueueLogReader
from monitor.core.records import RingResult

LOG = """\
1795485500|1.1|frontdesk|NONE|ENTERQUEUE||0311111111|1
1795485507|1.1|frontdesk|Reception 102|RINGNOANSWER|0
1795485507|1.1|frontdesk|Reception 102|RINGNOANSWER|0
1795485515|1.1|frontdesk|Reception 101|CONNECT|15|1.2|3
1795485530|3.1|frontdesk|Reception 101|RINGCANCELED|6000
1795485530|3.1|frontdesk|NONE|ABANDON|1|1|12
1795485540|4.1|frontdesk|Reception 101|RINGNOANSWER|6000
"""


def test_rings_are_placed_on_their_entry_with_ids_of_their_own(tmp_path: Path) -> None:
    path = tmp_path / "queue_log"
    path.write_text(LOG)
    window, _ = QueueLogReader(path, pbx="p").read(0)
    found = [(r.leg_id, r.ring_id, r.person, r.result, r.answer_wait_seconds)
             for r in window.rings]
    assert found == [
        ("1.1:frontdesk@1795485500", "queue_log:1795485507:RINGNOANSWER:Reception 102",
         "Reception 102", RingResult.NOT_ANSWERED, None),
        ("1.1:frontdesk@1795485500", "queue_log:1795485507:RINGNOANSWER:Reception 102#2",
         "Reception 102", RingResult.NOT_ANSWERED, None),
        # CONNECT names the member's channel: the id the live ring has too.
        ("1.1:frontdesk@1795485500", "1.2", "Reception 101", RingResult.ANSWERED, 15.0),
        # 3.1 joined before the read: its ABANDON (wait 12 s) gives the join second.
        ("3.1:frontdesk@1795485518", "queue_log:1795485530:RINGCANCELED:Reception 101",
         "Reception 101", RingResult.NOT_ANSWERED, None),
    ]  # 4.1 joined before the read and is still waiting: no line names its entry yet
    assert {r.ended_at.timestamp() for r in window.rings} == {1795485507, 1795485515,
                                                             1795485530}
