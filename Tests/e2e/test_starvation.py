"""A client that streams oneway calls must not starve the timer or the watchdog (issue 16,
defect 2). Oneway calls produce no reply, so back-pressure on unread replies never stops such a
client; the daemon handles at most a turn's worth of messages per connection before it lets the
queue run the timer, the watchdog and the other clients. Reminders due every second fire on time
while two connections flood the socket, and the watchdog keeps its interval."""
import multiprocessing
import socket
import time

from accordtest import epoch, journal_cursor, objective, portfolio, utc, wait_for_entries

ONEWAY_STATUS = b'{"method":"io.accord.Tracker.Status","oneway":true}\0'


def flood(path, seconds, sent):
    """Writes oneway Status calls as fast as the socket takes them, for `seconds` at most."""
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.connect(path)
    chunk = ONEWAY_STATUS * 2048  # about 100 KB a write: the daemon always has a backlog to read
    end = time.monotonic() + seconds
    count = 0
    try:
        while time.monotonic() < end:
            s.sendall(chunk)
            count += 2048
    except OSError:
        pass
    finally:
        sent.value += count
        s.close()


def test_a_oneway_flood_does_not_delay_reminders_or_the_watchdog(make_daemon):
    first = 6  # seconds ahead: the flood is under way before the first reminder
    reminders = 8
    items = [objective(f"tick{i}", utc(first + i), reminders=["P0D"]) for i in range(reminders)]
    daemon = make_daemon(portfolio(items, dialogue="starve"), watchdog_usec=2_000_000).start()
    cursor = journal_cursor()
    sent = multiprocessing.Value("q", 0)
    flooders = [multiprocessing.Process(target=flood, args=(daemon.socket_path, first + reminders + 2, sent))
                for _ in range(2)]
    flood_started = time.monotonic()
    for process in flooders:
        process.start()
    try:
        entries = wait_for_entries(count=reminders, timeout=first + reminders + 20, cursor=cursor,
                                   matches=("ACCORD_DIALOGUE=starve",))
    finally:
        for process in flooders:
            process.join(timeout=first + reminders + 10)
            if process.is_alive():
                process.kill()
    assert daemon.running(), "the daemon died under the flood"
    assert sent.value > 100_000, f"the flood sent only {sent.value} calls: it did not load the daemon"

    late = sorted(int(e["__REALTIME_TIMESTAMP"]) / 1e6 - epoch(e["ACCORD_FIRE_AT"]) for e in entries)
    assert all(e["ACCORD_CATCHUP"] == "0" for e in entries), "a reminder was caught up: the timer starved"
    # Unloaded, reminders fire within a few milliseconds; the bound leaves room for a busy CI.
    assert late[-1] < 0.5, f"lateness under the flood, seconds: {late}"

    pings = [t for t in daemon.notify.times("WATCHDOG=1") if t >= flood_started]
    gaps = [b - a for a, b in zip(pings, pings[1:])]
    assert len(pings) >= 5 and max(gaps) < 2.0, f"watchdog pings during the flood: gaps {gaps}"
    print(f"flood: {sent.value} oneway calls; lateness p50 {late[len(late) // 2] * 1000:.1f} ms, "
          f"max {late[-1] * 1000:.1f} ms; watchdog max gap {max(gaps):.2f} s")
