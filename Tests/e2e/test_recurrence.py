"""Recurring objectives over the socket (issue 12, docs/contracts.md §13): one due deadline per
occurrence, and `accordctl record ITEM completed --on DATE` closing the occurrence due nearest
DATE while the objective stays open; the definition says how it recurs, also to the third-party
Varlink client."""
import datetime
import json

from accordtest import accordctl, varlink_cli


def test_a_completion_closes_the_nearest_occurrence_only(make_daemon):
    today = datetime.datetime.now(datetime.timezone.utc).date()
    first = today + datetime.timedelta(days=10)
    text = ('[dialogue]\nid = "rec"\ntitle = "Recurring"\ntime-zone = "UTC"\nreminders = ["P3D", "P0D"]\n\n'
            f'[[objective]]\nid = "weekly"\ntitle = "Weekly report"\nfirst = {first}\nevery = "P1W"\n'
            f'until = {first + datetime.timedelta(days=21)}\n')
    daemon = make_daemon(text).start()
    sock = ("--socket", daemon.socket_path)

    def due_dates():
        rc, out, err = accordctl(*sock, "--json", "show", "weekly")
        assert rc == 0, err
        shown = json.loads(out)
        return shown, [d["date"] for d in shown["deadlines"]]

    shown, dates = due_dates()
    weeks = [str(first + datetime.timedelta(days=7 * n)) for n in range(4)]
    assert dates == weeks
    assert shown["definition"]["recurrence"] == f"every P1W from {first} until {weeks[-1]}"
    assert shown["item"]["state"] == "open"
    # Held a day late for the second week: that occurrence closes, the first stays open.
    held = first + datetime.timedelta(days=8)
    rc, out, err = accordctl(*sock, "record", "weekly", "completed", "--on", str(held))
    assert rc == 0, err
    shown, dates = due_dates()
    assert dates == [weeks[0], weeks[2], weeks[3]]
    assert shown["item"]["state"] == "open", "a recurring objective stays open"
    rc, out, _ = accordctl(*sock, "--json", "upcoming", "--within", "P40D")
    keys = [u["key"] for u in json.loads(out)["reminders"]]
    assert not [k for k in keys if f":{weeks[1]}:" in k] and f"rec/weekly:due:{weeks[2]}:P0D" in keys
    rc, out, err = varlink_cli("call", f"unix:{daemon.socket_path}/io.accord.Tracker.Show", '{"id": "rec/weekly"}')
    assert rc == 0 and json.loads(out)["definition"]["recurrence"].startswith("every P1W"), out + err
    # Three more close the rest; a fifth is refused, naming why.
    for n in (0, 2, 3):
        assert accordctl(*sock, "record", "weekly", "completed", "--on", weeks[n])[0] == 0
    rc, out, err = accordctl(*sock, "record", "weekly", "completed")
    assert rc == 1 and "every occurrence of this recurring objective is completed already" in err, (rc, out, err)
    assert daemon.stop() == 0
