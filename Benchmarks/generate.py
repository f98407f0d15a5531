#!/usr/bin/env python3
"""Generates a portfolio directory of N items for the benchmarks: objectives and instruments
(sign-by, a one-year term and a 90-day renewal notice), four leads each, spread over the coming
400 days in a few zones, PER_FILE items a file, deterministic for a given seed.

With --remind FILE it also writes the same deadlines as a Remind script, the anchor of
`accordd check` and `accordd plan` (issue 15): one REM per deadline accord plans (an objective's
due day; an instrument's sign-by day, expiry and renewal-notice day), each with a 30-day warning,
the earliest of accord's leads, so that `remind -n` finds the next reminder of every deadline.

usage: generate.py N DIR [--seed S] [--per-file K] [--remind FILE]"""
import argparse
import datetime as dt
import os
import random

ap = argparse.ArgumentParser()
ap.add_argument("count", type=int)
ap.add_argument("directory")
ap.add_argument("--seed", type=int, default=1)
ap.add_argument("--per-file", type=int, default=10000)
ap.add_argument("--remind", help="also write the deadlines as a Remind script here")
a = ap.parse_args()
rng = random.Random(a.seed)
zones = ["America/Toronto", "Asia/Shanghai", "Europe/Berlin", "UTC", "Australia/Sydney"]
today = dt.date.today()
os.makedirs(os.path.join(a.directory, "portfolios"), exist_ok=True)
with open(os.path.join(a.directory, "accordd.toml"), "w") as f:
    f.write('portfolios = ["portfolios"]\ncatch-up = "P7D"\n')
remind = open(a.remind, "w") if a.remind else None


def rem(day, text):
    if remind:
        remind.write(f"REM {day.isoformat()} +30 MSG {text}\n")


def add_year(day):
    # The term is P1Y: the same day a year on, 28 February for 29 February (as accord reads it).
    try:
        return day.replace(year=day.year + 1)
    except ValueError:
        return day.replace(year=day.year + 1, day=28)


files = (a.count + a.per_file - 1) // a.per_file
made = 0
for n in range(files):
    lines = [f'[dialogue]\nid = "bench-{n}"\ntitle = "Benchmark dialogue {n}"\ntime-zone = "{zones[n % len(zones)]}"\n'
             'reminders = ["P30D", "P7D", "P1D", "P0D"]\n']
    for i in range(min(a.per_file, a.count - made)):
        day = today + dt.timedelta(days=rng.randint(1, 400))
        if i % 2 == 0:
            lines.append(f'[[objective]]\nid = "o{i}"\ntitle = "Objective {i}"\ndue = {day.isoformat()}\n')
            rem(day, f"bench-{n} o{i} due")
        else:
            start = today - dt.timedelta(days=rng.randint(0, 300))
            lines.append(f'[[instrument]]\nid = "m{i}"\nkind = "mou"\ntitle = "Instrument {i}"\n'
                         f'sign-by = {day.isoformat()}\nterm = "P1Y"\nin-force = {start.isoformat()}\nnotice = "P90D"\n')
            expiry = add_year(start)
            rem(day, f"bench-{n} m{i} sign-by")
            rem(expiry, f"bench-{n} m{i} expiry")
            rem(expiry - dt.timedelta(days=90), f"bench-{n} m{i} renewal-notice")
        made += 1
    with open(os.path.join(a.directory, "portfolios", f"bench-{n}.toml"), "w") as f:
        f.write("\n".join(lines))
if remind:
    remind.close()
