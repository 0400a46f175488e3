"""The figure definitions (bulletins/figures.py) on single assignments: the edges the fixture month does not
reach — a deadline on the period's last day, an extension, a return for rework, a superseded clock, a
request made after the period, and rates rounded half up."""

from __future__ import annotations

from datetime import date

from duban.bulletins.figures import ClockFact, Task, item_counts, percent, rate, task_counts

END = date(2026, 11, 30)


def task(**kw) -> Task:
    base = dict(id="a", item_id="i", serial="2026-0001", title="事项", source_kind="instruction", unit="fgw",
                state="accepted", assigned_on=date(2026, 11, 2), deadline=date(2026, 11, 20), completion_on=None,
                completion_due=None)
    return Task(**{**base, **kw})


def test_overdue_starts_the_day_after_the_deadline():
    assert not task(deadline=END).overdue(END)  # due on the last day: not yet
    assert task(deadline=date(2026, 11, 29)).overdue(END)
    assert not task(deadline=date(2026, 11, 29)).overdue(date(2026, 11, 29))


def test_done_needs_the_confirmation_and_a_request_by_the_period_end():
    done = task(state="done", completion_on=date(2026, 11, 20), completion_due=date(2026, 11, 20))
    assert done.done(END) and done.on_time(END) and not done.overdue(END)
    assert not done.done(date(2026, 11, 19))  # asked for on 11-20: open on 11-19 …
    assert done.overdue(date(2026, 11, 25)) is False and done.done(date(2026, 11, 25))
    later = task(state="done", completion_on=date(2026, 12, 1), completion_due=date(2026, 11, 20))
    assert not later.done(END) and later.overdue(END)  # … and asked for after the period: overdue at its end
    waiting = task(state="completion_requested", completion_on=date(2026, 11, 25), completion_due=date(2026, 11, 20))
    assert not waiting.done(END) and waiting.awaiting(END) and not waiting.overdue(END)


def test_an_extension_moves_the_due_date_and_a_return_unsettles_the_request():
    # Extended to 11-27 (the clock's due), asked for 11-26: on time although after the first deadline.
    extended = task(state="done", deadline=date(2026, 11, 27), completion_on=date(2026, 11, 26),
                    completion_due=date(2026, 11, 27))
    assert extended.on_time(END)
    late = task(state="done", completion_on=date(2026, 11, 23), completion_due=date(2026, 11, 20))
    assert late.done(END) and not late.on_time(END)
    # Sent back for rework: its earlier request no longer stands (the repository gives no completion date).
    returned = task(state="returned")
    assert not returned.done(END) and not returned.awaiting(END) and returned.overdue(END)


def test_behind_counts_only_unmet_live_clocks_due_before_the_end():
    def with_clocks(*clocks: ClockFact) -> Task:
        return task(deadline=date(2026, 12, 31), clocks=clocks)

    assert with_clocks(ClockFact("feedback", date(2026, 11, 11), "open", None)).behind(END)
    assert with_clocks(ClockFact("feedback", date(2026, 11, 11), "met", date(2026, 12, 2))).behind(END)  # met later
    assert not with_clocks(ClockFact("feedback", date(2026, 11, 11), "met", date(2026, 11, 30))).behind(END)
    assert not with_clocks(ClockFact("feedback", date(2026, 11, 11), "superseded", None)).behind(END)
    assert not with_clocks(ClockFact("feedback", END, "open", None)).behind(END)  # due on the last day
    assert not with_clocks(ClockFact("completion", date(2026, 11, 11), "open", None)).behind(END)  # that is overdue


def test_counts_and_rates():
    on_time = task(id="1", state="done", completion_on=date(2026, 11, 10), completion_due=date(2026, 11, 20))
    late = task(id="2", state="done", completion_on=date(2026, 11, 23), completion_due=date(2026, 11, 20))
    overdue = task(id="3")
    assert task_counts([on_time, late, overdue], END) == {
        "assigned": 3, "done": 2, "done_on_time": 1, "done_late": 1, "in_progress": 1, "overdue": 1, "awaiting": 0,
        "behind": 0, "completion_rate": 66.7, "on_time_rate": 50.0}
    # One item of two units: done only when both are, on time only when both were.
    assert item_counts([[on_time, late]], END)["done_on_time"] == 0
    assert item_counts([[on_time, overdue]], END)["overdue"] == 1
    assert (rate(1, 16), rate(1, 8), rate(0, 5), rate(3, 0)) == (6.3, 12.5, 0.0, None)  # half up, not to even
    assert (percent(33.3), percent(None)) == ("33.3%", "—")
