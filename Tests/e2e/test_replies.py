"""What the daemon replies and what it holds for a client (issue 16, defects 5 and 8): a client
that pipelines calls and never reads is closed and costs bounded memory; List, Upcoming and
History come in pages that a real Varlink client (PyPI varlink) follows to every row, once, in
order; accordctl follows them too."""
import json
import os
import select
import socket
import time

import varlink

from accordtest import (ACCORDCTL, connect, day, objective, portfolio, read_replies, reminder_entries, request, run, utc_at,
                        wait_for)

T = "io.accord.Tracker."


def rss_kib(pid):
    """The process's resident set, from /proc/PID/status, in KiB."""
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    raise AssertionError(f"no VmRSS in /proc/{pid}/status")


def audit_rows(path, item, count, daemon=None):
    """`count` audit rows: snoozes of `item`, sent 20 at a time on one connection (each re-plans:
    on a large portfolio, in a debug build, 20 take well under the 10 s a message may wait)."""
    s = connect(path, timeout=60)
    try:
        for start in range(0, count, 20):
            n = min(20, count - start)
            s.sendall(b"".join(request(T + "Snooze", {"id": item, "for": f"PT{start + k + 1}S"}) for k in range(n)))
            replies = read_replies(s, n)
            assert len(replies) == n and all("error" not in r for r in replies), (
                replies[-3:], daemon and [e.get("MESSAGE") for e in daemon.journal()][-5:], daemon and daemon.stderr())
    finally:
        s.close()


def status_ok(path):
    s = connect(path, timeout=5)
    try:
        s.sendall(request(T + "Status"))
        return "version" in read_replies(s, 1)[0]["parameters"]
    finally:
        s.close()


def test_a_client_that_never_reads_its_replies_is_closed_and_costs_bounded_memory(make_daemon):
    """Issue 16, defect 5: a client pipelines History and List calls and never reads. The daemon
    stops reading it at 1 MiB of untaken replies, stays within a few MiB, keeps serving others,
    and closes it idle-timeout after it took its last byte (before: never, the idle timer spared
    every client with replies queued)."""
    items = [objective(f"o{n:04d}", day(3 + n % 20)) for n in range(50)]
    daemon = make_daemon(portfolio(items, dialogue="flood"), extra_config='[control]\nidle-timeout = "PT3S"\n').start()
    audit_rows(daemon.socket_path, "o0000", 300, daemon)
    before = rss_kib(daemon.pid)
    calls = request(T + "History") + request(T + "List")
    flood = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    flood.connect(daemon.socket_path)
    flood.setblocking(False)
    sent, blocked_since, peak = 0, None, before
    started = time.monotonic()
    # Writes whole calls, one pair a send (a Unix socket takes a small write whole or not at all,
    # so no call is left half-sent for the unfinished-message timer to end), until the daemon has
    # stopped reading for a second: the socket's buffers are full.
    while time.monotonic() - started < 30:
        try:
            n = flood.send(calls)
            assert n == len(calls), f"a partial write of {n} bytes"
            sent += 2
            blocked_since = None
        except BlockingIOError:
            blocked_since = blocked_since or time.monotonic()
            if time.monotonic() - blocked_since > 1:
                break
            time.sleep(0.01)
        if sent % 200 == 0:
            peak = max(peak, rss_kib(daemon.pid))
    assert blocked_since is not None, f"the daemon read {sent} calls and never stopped"
    # Others are served meanwhile, at once.
    t0 = time.monotonic()
    assert status_ok(daemon.socket_path)
    assert time.monotonic() - t0 < 1
    # The flooder is closed (its socket hangs up, replies still unread in it) about 3 s after it
    # took its last byte: before, never.
    poller = select.poll()
    poller.register(flood, select.POLLRDHUP)
    assert poller.poll(15_000), "the daemon kept a client that never reads its replies"
    closed_after = time.monotonic() - blocked_since
    peak = max(peak, rss_kib(daemon.pid))
    print(f"{sent} calls pipelined before the daemon stopped reading; closed "
          f"{closed_after:.1f} s after; RSS {before} KiB before, {peak} KiB at most")
    assert closed_after < 7
    assert peak - before < 64 * 1024, f"RSS grew from {before} to {peak} KiB"
    flood.close()
    assert status_ok(daemon.socket_path)
    assert wait_for(lambda: any("bytes of replies untaken" in e.get("MESSAGE", "") for e in daemon.journal()), timeout=5)


def test_a_watch_client_past_reply_buffer_is_closed_with_a_line_naming_it(make_daemon):
    """Issue 16, defect 5: [control] reply-buffer bounds what any client may leave untaken; at its
    least (64 KiB), a Watch client that reads nothing while 600 reminders fire at once is closed
    as soon as a reply would pass it, with a warning naming its uid and pid, and the others are
    served (before: a fixed 8 MiB, Watch only, not configurable). A burst is written in one go, so
    the cap must hold one: the default, 8 MiB, is several thousand reminders at once."""
    due = time.time() + 5
    items = [objective(f"o{n:03d}", utc_at(due)) for n in range(600)]
    daemon = make_daemon(portfolio(items, dialogue="cap", leads=("P0D",)),
                         extra_config="[control]\nreply-buffer = 65536\n").start()
    watch = request(T + "Watch", more=True)
    greedy = connect(daemon.socket_path)
    greedy.sendall(watch)
    poller = select.poll()
    poller.register(greedy, select.POLLRDHUP)
    assert poller.poll(20_000), "a Watch client past reply-buffer was kept"
    assert time.time() >= due - 1
    assert status_ok(daemon.socket_path)
    line = wait_for(lambda: [e["MESSAGE"] for e in daemon.journal() if "over the 65536" in e.get("MESSAGE", "")], timeout=5)
    assert line and f"pid {os.getpid()}" in line[0] and "uid 0" in line[0], line
    greedy.close()


def pages(method, rows, **parameters):
    """Every page of a paged method through the PyPI client: (rows, number of pages)."""
    got, count, after = [], 0, None
    while True:
        reply = method(**parameters, **({"after": after} if after else {}))
        got += reply[rows]
        count += 1
        after = reply.get("next")
        if not after:
            return got, count


def test_history_list_and_upcoming_page_through_every_row_once_in_order(make_daemon):
    """Issue 16, defect 5: no reply carries more than 1,000 rows, limit or not (before: History
    sent the whole audit table at once); following `next` gives every row exactly once, in order."""
    items = [objective(f"o{n:04d}", day(3 + n % 20)) for n in range(1200)]
    # The audit rows first, on one item (a write re-plans, and that is quick for one), then the
    # 1,200 items by a reload.
    daemon = make_daemon(portfolio(items[1:2], dialogue="pages", leads=("P1D", "P0D"))).start()
    audit_rows(daemon.socket_path, "o0001", 1100, daemon)
    daemon.write_portfolio(portfolio(items, dialogue="pages", leads=("P1D", "P0D")))
    rc, out, err = run([ACCORDCTL, "--socket", daemon.socket_path, "reload"])
    assert rc == 0, err
    expected_history = [d for (d,) in daemon.query("SELECT detail FROM audit ORDER BY id")]
    assert len(expected_history) >= 1100
    with varlink.Client(address=f"unix:{daemon.socket_path}") as client, client.open("io.accord.Tracker") as tracker:
        first = tracker.History()
        assert len(first["entries"]) == 1000 and first.get("next"), "one reply carried more than a page"
        assert len(tracker.History(limit=50_000)["entries"]) == 1000
        history, count = pages(tracker.History, "entries")
        assert count == 2
        details = [e["detail"] for e in history]
        assert details == expected_history
        # Snoozed for 1 s, 2 s, ... 1100 s: each ends later than the one before, in row order.
        ends = [d for d in details if d.startswith("until ")]
        assert len(ends) == 1100 and ends == sorted(set(ends))
        small, count = pages(tracker.History, "entries", limit=7)
        assert small == history and count == (len(history) + 6) // 7

        listed, count = pages(tracker.List, "items")
        assert count == 2 and [i["id"] for i in listed] == [f"pages/o{n:04d}" for n in range(1200)]
        assert pages(tracker.List, "items", limit=333)[0] == listed
        # A filter holds across pages: the items due within ten days fit one page, and pages of 100 agree.
        soon = tracker.List(dueWithin="P10D")
        assert 100 < len(soon["items"]) < 1000 and not soon.get("next")
        assert pages(tracker.List, "items", limit=100, dueWithin="P10D")[0] == soon["items"]

        upcoming, count = pages(tracker.Upcoming, "reminders", within="P30D")
        keys = [(r["fireAt"], r["key"]) for r in upcoming]
        assert len(upcoming) == 2400 and count == 3
        assert keys == sorted(keys) and len(set(keys)) == len(keys)
        assert pages(tracker.Upcoming, "reminders", within="P30D", limit=999)[0] == upcoming
        try:
            tracker.List(after="pages/nothing-like-it")
            raise AssertionError("an unknown List cursor was taken")
        except varlink.VarlinkError as error:
            assert error.error() == "org.varlink.service.InvalidParameter" and error.parameters()["parameter"] == "after"

    # accordctl follows the pages: every row, or --limit of them.
    rc, out, err = run([ACCORDCTL, "--socket", daemon.socket_path, "--json", "history"])
    assert rc == 0, err
    whole = json.loads(out)
    assert [e["detail"] for e in whole["entries"]] == details and "next" not in whole
    rc, out, err = run([ACCORDCTL, "--socket", daemon.socket_path, "--json", "list", "--limit", "1001"])
    assert rc == 0, err
    cut = json.loads(out)
    assert [i["id"] for i in cut["items"]] == [i["id"] for i in listed[:1001]] and cut["next"] == listed[1000]["id"]
    rc, out, err = run([ACCORDCTL, "--socket", daemon.socket_path, "upcoming", "--within", "P30D"])
    assert rc == 0 and out.strip().endswith("2400 reminders within P30D"), out[-300:]


def call(path, method, parameters):
    s = connect(path, timeout=10)
    try:
        s.sendall(request(T + method, parameters))
        return read_replies(s, 1)[0]
    finally:
        s.close()


def test_a_write_retried_with_its_request_id_is_answered_from_the_first_and_recorded_once(make_daemon):
    """Issue 16, defect 8: Record, Acknowledge and Snooze take a request id; the same write sent
    again (the client lost the reply) gets the first reply and adds no second event, term or
    audit line (before: the parameter was refused, and a plain retry recorded the event twice)."""
    daemon = make_daemon(portfolio([objective("alpha", day(10)), objective("beta", day(20))], dialogue="retry")).start()
    path = daemon.socket_path
    first = call(path, "Record", {"id": "alpha", "event": "started", "note": "kick-off", "request": "a1"})
    assert "error" not in first, first
    again = call(path, "Record", {"id": "alpha", "event": "started", "note": "kick-off", "request": "a1"})
    assert again == first
    assert daemon.query("SELECT count(*) FROM event") == [(1,)]
    assert daemon.query("SELECT count(*) FROM audit WHERE action = 'record'") == [(1,)]
    # Without the id, the same call is a second write, refused by the lifecycle (started twice).
    assert call(path, "Record", {"id": "alpha", "event": "started"})["error"] == T + "InvalidEvent"
    snoozed = call(path, "Snooze", {"id": "beta", "for": "P1D", "request": "s1"})
    time.sleep(1.1)  # a second snooze would end a second later: the replay must not
    assert call(path, "Snooze", {"id": "beta", "for": "P1D", "request": "s1"}) == snoozed
    acked = call(path, "Acknowledge", {"id": "beta", "request": "k1"})
    assert call(path, "Acknowledge", {"id": "beta", "request": "k1"}) == acked
    assert daemon.query("SELECT count(*) FROM snooze") == [(1,)] and daemon.query("SELECT count(*) FROM acknowledgement") == [(1,)]
    # The id of another write is refused, as is one that is not an id.
    for parameters in ({"id": "beta", "for": "P2D", "request": "a1"}, {"id": "beta", "for": "P2D", "request": "no spaces"}):
        reply = call(path, "Snooze", parameters)
        assert reply["error"] == "org.varlink.service.InvalidParameter" and reply["parameters"]["parameter"] == "request", reply
    # accordctl: a fresh id per invocation, or the one given, whose retry prints the first outcome.
    ctl = [ACCORDCTL, "--socket", path]
    rc, out1, err = run(ctl + ["record", "beta", "started", "--request", "ctl-1"])
    assert rc == 0, err
    rc, out2, err = run(ctl + ["record", "beta", "started", "--request", "ctl-1"])
    assert rc == 0 and out2 == out1, (out1, out2, err)
    ids = [r for (r,) in daemon.query("SELECT request FROM audit WHERE request IS NOT NULL ORDER BY id")]
    assert ids == ["a1", "s1", "k1", "ctl-1"], ids
    rc, out, err = run(ctl + ["snooze", "alpha", "PT1H"])
    assert rc == 0, err
    (generated,) = daemon.query("SELECT request FROM audit ORDER BY id DESC LIMIT 1")[0]
    assert len(generated) == 32 and int(generated, 16) >= 0, generated


def test_a_reminder_the_journal_refuses_is_retried_and_fires_once_the_journal_is_back(make_daemon):
    """Issue 16, defect 8: the private journald's native socket is moved away and a socket that
    nobody reads put in its place while a reminder comes due, so sd_journal_sendv fails
    (ECONNREFUSED; with no socket at all it reports success, ENOENT being "no journal here"). The reminder is not counted fired; once the socket is
    back, a retry on the daemon's timer (1, 2, 4 s, ...) writes it, once (before: counted fired at
    once, and never written)."""
    due = time.time() + 4
    daemon = make_daemon(portfolio([objective("soon", utc_at(due))], dialogue="outage", leads=("P0D",))).start()
    native, away = "/run/systemd/journal/socket", "/run/systemd/journal/socket.away"
    os.rename(native, away)
    dead = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    dead.bind(native)
    dead.close()  # the file stays; a datagram sent to it is refused
    try:
        wait_for(lambda: time.time() > due + 1.5, timeout=10)
        status = call(daemon.socket_path, "Status", {})["parameters"]
        assert status["fired"] == 0, status
    finally:
        os.rename(away, native)  # over the dead one
    entries = wait_for(lambda: reminder_entries("ACCORD_ITEM=outage/soon"), timeout=20)
    assert len(entries) == 1, entries
    assert wait_for(lambda: call(daemon.socket_path, "Status", {})["parameters"]["fired"] == 1, timeout=5)
    late = int(entries[0]["__REALTIME_TIMESTAMP"]) / 1e6 - due
    print(f"written {late:.1f} s after it came due, by a retry")
    assert 1.5 < late < 15
