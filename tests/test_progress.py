"""hwsim.progress: tqdm on a terminal, throttled plain lines elsewhere (a fake clock here;
the explore and sweep runs piped to a file are in test_explore.py and test_sweep.py)."""

import io

import pytest

from hwsim.progress import Lines, Silent, bar, elapsed, is_progress_line, track


class Clock:
    def __init__(self):
        self.t = 100.0

    def __call__(self):
        return self.t


class Tty(io.StringIO):
    def isatty(self):
        return True


def test_elapsed_is_minutes_and_seconds_then_hours():
    assert [elapsed(s) for s in (0, 9.9, 62, 3599, 3600, 3725)] == [
        "0:00", "0:09", "1:02", "59:59", "1:00:00", "1:02:05"]


def test_lines_start_throttle_and_end_on_a_fake_clock():
    out, clock = io.StringIO(), Clock()
    b = bar(120, desc="sweep unit-error", unit="task", stream=out, clock=clock, interval=10)
    assert isinstance(b, Lines)
    for _ in range(40):  # 40 tasks in 6 s: no line before the interval has passed
        clock.t += 0.15
        b.update(1)
    clock.t += 56
    b.update(1)          # 62 s after the start: one line
    b.update(1)          # at once: none
    clock.t += 9.9
    b.update(1)          # 9.9 s later: none
    b.set_postfix_str("best feasible area 12")
    clock.t += 1
    b.close()
    b.close()            # closing twice writes once
    assert out.getvalue().splitlines() == [
        "hwsim: sweep unit-error: 0/120 tasks (0%), 0:00 elapsed",
        "hwsim: sweep unit-error: 41/120 tasks (34%), 1:02 elapsed",
        "hwsim: sweep unit-error: 43/120 tasks (35%), 1:12 elapsed, done; best feasible area 12",
    ]
    assert all(is_progress_line(x) for x in out.getvalue().splitlines())
    assert "\r" not in out.getvalue() and "\x1b" not in out.getvalue()


def test_a_stage_with_nothing_to_do_writes_only_its_end():
    out = io.StringIO()
    b = bar(3, desc="study digits-mlp", initial=3, stream=out, clock=Clock())
    b.close()
    assert out.getvalue() == "hwsim: study digits-mlp: 3/3 tasks (100%), 0:00 elapsed, done\n"


def test_track_counts_items_and_an_abandoned_stage_is_not_done():
    out, clock = io.StringIO(), Clock()
    seen = []
    for x in track(["a", "b", "c"], desc="front", unit="unit", stream=out, clock=clock,
                   interval=0):
        clock.t += 1
        seen.append(x)
    assert seen == ["a", "b", "c"]
    assert out.getvalue().splitlines() == [
        "hwsim: front: 0/3 units (0%), 0:00 elapsed",
        "hwsim: front: 1/3 units (33%), 0:01 elapsed",
        "hwsim: front: 2/3 units (66%), 0:02 elapsed",
        "hwsim: front: 3/3 units (100%), 0:03 elapsed",
        "hwsim: front: 3/3 units (100%), 0:03 elapsed, done",
    ]
    out = io.StringIO()
    with pytest.raises(RuntimeError):
        for _ in track(range(5), desc="run: attribution", unit="node", stream=out, clock=Clock()):
            raise RuntimeError("a failing node")
    assert out.getvalue().splitlines()[-1] == "hwsim: run: attribution: 0/5 nodes (0%), 0:00 elapsed"


def test_unknown_total_and_one_item():
    out = io.StringIO()
    with bar(desc="MiniLM", unit="batch", stream=out, clock=Clock()) as b:
        b.update(1)
    assert out.getvalue().splitlines() == ["hwsim: MiniLM: 0 batches, 0:00 elapsed",
                                           "hwsim: MiniLM: 1 batch, 0:00 elapsed, done"]


def test_a_terminal_gets_tqdm_and_show_false_gets_nothing():
    from tqdm import tqdm
    tty = Tty()
    b = bar(5, desc="explore: synthesis", unit="unit", stream=tty)
    assert isinstance(b, tqdm)
    b.update(5)
    b.close()
    assert "\r" in tty.getvalue()  # a bar redrawn in place, as before
    out = io.StringIO()
    s = bar(5, desc="x", stream=out, show=False)
    assert isinstance(s, Silent)
    s.update(2)
    s.close()
    assert list(track([1, 2], desc="x", stream=out, show=False)) == [1, 2]
    assert out.getvalue() == ""


def test_a_closed_stream_is_no_error():
    out = io.StringIO()
    b = bar(2, desc="x", stream=out, clock=Clock(), interval=0)
    out.close()
    b.update(1)
    b.close()
