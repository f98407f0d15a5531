#!/usr/bin/env python3
"""Generates a portfolio directory of N items for the benchmarks: several deadlines and
leads each, spread over the coming year in a few zones, deterministic for a given seed.
usage: generate.py N DIR [--seed S] [--start EPOCH] [--spread SECONDS]"""
import argparse
import datetime as dt
import os
import random

ap = argparse.ArgumentParser()
ap.add_argument("count", type=int)
ap.add_argument("directory")
ap.add_argument("--seed", type=int, default=1)
ap.add_argument("--per-file", type=int, default=10000)
a = ap.parse_args()
rng = random.Random(a.seed)
zones = ["America/Toronto", "Asia/Shanghai", "Europe/Berlin", "UTC", "Australia/Sydney"]
today = dt.date.today()
os.makedirs(os.path.join(a.directory, "portfolios"), exist_ok=True)
with open(os.path.join(a.directory, "accordd.toml"), "w") as f:
    f.write('portfolios = ["portfolios"]\ncatch-up = "P7D"\n')
files = (a.count + a.per_file - 1) // a.per_file
made = 0
for n in range(files):
    lines = [f'[dialogue]\nid = "bench-{n}"\ntitle = "Benchmark dialogue {n}"\ntime-zone = "{zones[n % len(zones)]}"\n'
             'reminders = ["P30D", "P7D", "P1D", "P0D"]\n']
    for i in range(min(a.per_file, a.count - made)):
        day = today + dt.timedelta(days=rng.randint(1, 400))
        if i % 2 == 0:
            lines.append(f'[[objective]]\nid = "o{i}"\ntitle = "Objective {i}"\ndue = {day.isoformat()}\n')
        else:
            start = today - dt.timedelta(days=rng.randint(0, 300))
            lines.append(f'[[instrument]]\nid = "m{i}"\nkind = "mou"\ntitle = "Instrument {i}"\n'
                         f'sign-by = {day.isoformat()}\nterm = "P1Y"\nin-force = {start.isoformat()}\nnotice = "P90D"\n')
        made += 1
    with open(os.path.join(a.directory, "portfolios", f"bench-{n}.toml"), "w") as f:
        f.write("\n".join(lines))
