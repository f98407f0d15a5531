"""Treaty clauses over the socket (issue 12, docs/contracts.md §13): `notified --party` from
each party putting an instrument in force after its `enters-into-force` delay, derived and
audited as derived; the party checked; and `not-renewed` ending an auto-renewing term."""
import datetime
import json

from accordtest import accordctl, varlink_cli


def test_the_last_notification_puts_the_treaty_in_force_derived_and_audited(make_daemon):
    today = datetime.datetime.now(datetime.timezone.utc).date()
    text = ('[dialogue]\nid = "cl"\ntitle = "Clauses"\ntime-zone = "UTC"\nparties = ["Canada", "China"]\n'
            'reminders = ["P0D"]\n\n'
            '[[instrument]]\nid = "treaty"\nkind = "treaty"\ntitle = "A treaty"\nterm = "P5Y"\n'
            'enters-into-force = { after = "P30D", from = "last-notification", basis = "assumed", source = "usual clause" }\n\n'
            '[[instrument]]\nid = "mou"\nkind = "mou"\ntitle = "A rolling MOU"\nterm = "P1Y"\nnotice = "P90D"\nauto-renew = true\n'
            f'in-force = {{ date = {today - datetime.timedelta(days=400)}, basis = "statement" }}\n')
    daemon = make_daemon(text).start()
    sock = ("--socket", daemon.socket_path)
    signed, first, last = (today - datetime.timedelta(days=n) for n in (90, 60, 40))
    assert accordctl(*sock, "record", "treaty", "signed", "--on", str(signed))[0] == 0
    rc, _, err = accordctl(*sock, "record", "treaty", "notified", "--on", str(first))
    assert rc == 1 and "notified needs --party: one of Canada, China" in err
    rc, _, err = accordctl(*sock, "record", "treaty", "notified", "--party", "Mexico", "--on", str(first))
    assert rc == 1 and '"Mexico" is not a party of this instrument' in err
    rc, out, err = accordctl(*sock, "--json", "record", "treaty", "notified", "--party", "Canada", "--on", str(first))
    assert rc == 0 and json.loads(out)["state"] == "signed" and json.loads(out)["event"]["party"] == "Canada", err
    # The third-party client records the last one: the treaty is in force 30 days after it.
    rc, out, err = varlink_cli("call", f"unix:{daemon.socket_path}/io.accord.Tracker.Record",
                               json.dumps({"id": "cl/treaty", "event": "notified", "party": "China", "on": str(last)}))
    assert rc == 0 and json.loads(out)["event"]["party"] == "China", out + err
    rc, out, _ = accordctl(*sock, "--json", "show", "treaty")
    shown = json.loads(out)
    assert shown["item"]["state"] == "in-force"
    expiry = [d for d in shown["deadlines"] if d["kind"] == "expiry"]
    in_force = last + datetime.timedelta(days=30)
    assert expiry and expiry[0]["date"] == str(in_force.replace(year=in_force.year + 5)) and expiry[0]["basis"] == "assumed"
    rc, out, _ = accordctl(*sock, "--json", "history", "treaty")
    details = [e["detail"] for e in json.loads(out)["entries"]]
    assert any(d.startswith(f"in-force on {in_force}: derived (enters into force P30D after the last notification: "
                            f"notified by Canada on {first}, China on {last})") for d in details), details
    assert accordctl(*sock, "record", "treaty", "notified", "--party", "China")[0] == 1

    # auto-renew: in force 400 days ago for P1Y, so in its second term; notice ends it there.
    rc, out, _ = accordctl(*sock, "--json", "show", "mou")
    before = [d["date"] for d in json.loads(out)["deadlines"] if d["kind"] == "expiry" and d["date"] > str(today)]
    assert len(before) > 1, "the terms roll over"
    rc, out, err = accordctl(*sock, "record", "mou", "not-renewed")
    assert rc == 0, err
    rc, out, _ = accordctl(*sock, "--json", "show", "mou")
    shown = json.loads(out)
    after = [d["date"] for d in shown["deadlines"] if d["kind"] == "expiry" and d["date"] > str(today)]
    assert after == before[:1] and shown["item"]["state"] == "in-force", (before, after)
    rc, _, err = accordctl(*sock, "record", "mou", "not-renewed")
    assert rc == 1 and "not allowed" in err
    assert daemon.stop() == 0
