"""The example notify hook Config/hooks/mail-reminder (issue 13, item 5): what it hands to
sendmail for a reminder and for a digest, and what it prints where there is no sendmail."""
import os
import subprocess

from accordtest import REPO

HOOK = os.path.join(REPO, "Config", "hooks", "mail-reminder")
REMINDER = {"ACCORD_MESSAGE": "ca-cn-nsrl/pilot: term expires in 7 days (2018-01-15)", "ACCORD_ITEM": "ca-cn-nsrl/pilot",
            "ACCORD_DEADLINE": "expiry", "ACCORD_DEADLINE_AT": "2018-01-15T05:00:00Z", "ACCORD_DAYS_LEFT": "7",
            "ACCORD_OWNER": "CBSA", "ACCORD_REMINDER": "ca-cn-nsrl/pilot:expiry:2018-01-15:P7D"}


def hook(scratch, *args, env=None, stdin=""):
    fake = os.path.join(scratch, "bin")
    os.makedirs(fake, exist_ok=True)
    with open(os.path.join(fake, "sendmail"), "w") as f:
        f.write(f'#!/bin/sh\necho "$@" > {scratch}/argv\ncat > {scratch}/mail\n')
    os.chmod(os.path.join(fake, "sendmail"), 0o755)
    path = fake + ":/usr/bin:/bin"
    result = subprocess.run(["/bin/sh", HOOK, *args], env={"PATH": path, **(env or {})}, input=stdin,
                            capture_output=True, text=True, timeout=20)
    return result


def test_a_reminder_goes_to_sendmail_with_its_fields(scratch):
    result = hook(scratch, "desk@example.org", "owner@example.org", env=REMINDER)
    assert result.returncode == 0, result.stderr
    assert open(f"{scratch}/argv").read().split() == ["-i", "--", "desk@example.org", "owner@example.org"]
    mail = open(f"{scratch}/mail").read()
    assert "Subject: accord: ca-cn-nsrl/pilot: term expires in 7 days (2018-01-15)" in mail
    assert "Auto-Submitted: auto-generated" in mail and "Owner:     CBSA" in mail


def test_a_digest_takes_its_text_from_stdin_and_contacts_are_used(scratch):
    env = {"ACCORD_KIND": "digest", "ACCORD_MESSAGE": "2 overdue, 1 due next week", "ACCORD_CONTACTS": "mailto:a@x.org https://x.org"}
    result = hook(scratch, env=env, stdin="CBSA\n  ca-cn-nsrl/pilot: overdue by 3 days\n")
    assert result.returncode == 0, result.stderr
    assert open(f"{scratch}/argv").read().split() == ["-i", "--", "a@x.org"]
    assert "ca-cn-nsrl/pilot: overdue by 3 days" in open(f"{scratch}/mail").read()


def test_an_escalation_is_marked_urgent(scratch):
    env = {**REMINDER, "ACCORD_KIND": "escalate", "ACCORD_PRIORITY": "2",
           "ACCORD_MESSAGE": "ca-cn-nsrl/pilot: overdue by 3 days (due 2018-01-15), neither acknowledged nor resolved P3D after it: escalated"}
    result = hook(scratch, "duty@example.org", env=env)
    assert result.returncode == 0, result.stderr
    mail = open(f"{scratch}/mail").read()
    assert "Subject: accord ESCALATION: ca-cn-nsrl/pilot: overdue by 3 days" in mail
    assert "\nImportance: high\nX-Priority: 1\nContent-Type:" in mail and "Owner:     CBSA" in mail
    head, _, body = mail.partition("\n\n")
    assert "Neither acknowledged nor resolved since 2018-01-15T05:00:00Z." in body and "Importance" not in body


def test_without_sendmail_it_prints_what_it_would_send_and_without_recipients_it_says_so(scratch):
    # SENDMAIL, not PATH, takes sendmail away: a machine with an MTA has /usr/sbin/sendmail,
    # which the hook falls back to (CI's has exim4, and the mail went there, not to stdout).
    result = hook(scratch, "desk@example.org", env={**REMINDER, "SENDMAIL": "/nonexistent/sendmail"})
    assert result.returncode == 0, result.stderr
    assert "this is what would be sent" in result.stdout and "To: desk@example.org" in result.stdout
    assert not os.path.exists(f"{scratch}/mail")


def test_sendmail_names_the_program_the_mail_goes_to(scratch):
    other = os.path.join(scratch, "msmtp")
    with open(other, "w") as f:
        f.write(f'#!/bin/sh\necho "$@" > {scratch}/other-argv\ncat > {scratch}/other-mail\n')
    os.chmod(other, 0o755)
    result = hook(scratch, "desk@example.org", env={**REMINDER, "SENDMAIL": other})
    assert result.returncode == 0, result.stderr
    assert open(f"{scratch}/other-argv").read().split() == ["-i", "--", "desk@example.org"]
    assert "Owner:     CBSA" in open(f"{scratch}/other-mail").read() and not os.path.exists(f"{scratch}/mail")
    result = hook(scratch, env=REMINDER)
    assert result.returncode == 64 and "no recipient" in result.stderr
