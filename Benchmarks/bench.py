#!/usr/bin/env python3
"""accord's benchmark suite (issue 6): each row measured beside its anchor in the same run,
medians with min and max over RUNS runs. Run by scripts/bench.sh under a private journald.
Prints one table and writes it, with the command, machine and date, to BENCHMARKS.md."""
import json
import os
import random
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time

REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), ".."))
sys.path.insert(0, os.path.join(REPO, "Tests", "e2e"))
from accordtest import NotifySocket, epoch, journal_entries, utc_at as utc  # noqa: E402
BIN = os.environ.get("ACCORD_BIN_DIR", os.path.join(REPO, ".build", "release"))
ACCORDD, ACCORDCTL = os.path.join(BIN, "accordd"), os.path.join(BIN, "accordctl")
TOOLS = os.environ["ACCORD_BENCH_TOOLS"]  # varlink-load and timer-probe, built by bench.sh
RUNS = int(os.environ.get("RUNS", "3"))
QUICK = os.environ.get("QUICK") == "1"     # CI smoke: small sizes, one run, short windows
WORK = tempfile.mkdtemp(prefix="accord-bench-")
rows = []


def stats(values, unit="", scale=1.0, digits=2):
    values = [v * scale for v in values]
    med = statistics.median(values)
    return f"{med:.{digits}f}{unit} (min {min(values):.{digits}f}, max {max(values):.{digits}f}, n={len(values)})"


def row(measure, accord, anchor, target, verdict):
    rows.append((measure, accord, anchor, target, verdict))
    print(f"| {measure} | {accord} | {anchor} | {target} | {verdict} |", flush=True)


def proc_status(pid, field):
    for line in open(f"/proc/{pid}/status"):
        if line.startswith(field + ":"):
            return int(line.split()[1])
    return 0


def switches(pid):
    return proc_status(pid, "voluntary_ctxt_switches") + proc_status(pid, "nonvoluntary_ctxt_switches")


def wait_notify(notify, line, after, timeout=120):
    """The monotonic time `line` (READY=1, RELOADING=1) reached `notify` at or after `after`."""
    found = notify.wait_until(lambda m: m.line == line, timeout, after)
    if found is None:
        raise TimeoutError(f"no {line} on the notify socket within {timeout} s")
    return found.time


def start_daemon(config, state):
    notify = NotifySocket(WORK, f"notify-{time.monotonic_ns()}")
    env = dict(os.environ, STATE_DIRECTORY=state, RUNTIME_DIRECTORY=state, NOTIFY_SOCKET=notify.path)
    started = time.monotonic()
    process = subprocess.Popen([ACCORDD, "run", "--config", config], env=env, stdout=subprocess.DEVNULL,
                               stderr=open(os.path.join(WORK, "accordd.log"), "a"))
    ready = wait_notify(notify, "READY=1", after=started)
    return process, notify, ready - started


def generate(count, directory):
    subprocess.run([sys.executable, os.path.join(REPO, "Benchmarks", "generate.py"), str(count), directory], check=True)
    return os.path.join(directory, "accordd.toml")


def lateness_of(entry):
    """Milliseconds from a reminder's scheduled second to journald's receipt of it."""
    return (int(entry["__REALTIME_TIMESTAMP"]) / 1e6 - epoch(entry["ACCORD_FIRE_AT"])) * 1000


def lateness_ms(entries):
    return sorted(lateness_of(e) for e in entries)


def percentile(values, p):
    return values[min(len(values) - 1, int(len(values) * p))]


# --- firing lateness ------------------------------------------------------------------------

def bench_lateness():
    count, window, held = (200, 15, 1000) if QUICK else (1000, 60, 100_000)
    directory = os.path.join(WORK, "lateness")
    config = generate(held, directory)
    start = int(time.time()) + (10 if QUICK else 25)
    instants = sorted(start + random.randint(0, window) for _ in range(count))
    lines = ['[dialogue]\nid = "fire"\ntitle = "fire"\ntime-zone = "UTC"\nreminders = ["P0D"]\n']
    lines += [f'[[objective]]\nid = "f{i}"\ntitle = "f{i}"\ndue = {utc(t)}\n' for i, t in enumerate(instants)]
    with open(os.path.join(directory, "portfolios", "fire.toml"), "w") as f:
        f.write("\n".join(lines))
    process, notify, _ = start_daemon(config, os.path.join(directory, "state"))
    probe = subprocess.Popen([os.path.join(TOOLS, "timer-probe"), *map(str, instants)], stdout=subprocess.PIPE, text=True)
    probe_out, _ = probe.communicate(timeout=window + 120)
    deadline = time.time() + 30
    entries = []
    while time.time() < deadline:
        entries = journal_entries("ACCORD_DIALOGUE=fire")
        if len(entries) >= count:
            break
        time.sleep(1)
    process.terminate()
    process.wait()
    notify.close()
    accord = lateness_ms(entries)
    if os.environ.get("LATENESS_DETAIL"):  # per second: how many fired, the first and the last
        by_second = {}
        for entry in entries:
            by_second.setdefault(entry["ACCORD_FIRE_AT"], []).append(lateness_of(entry))
        for second, values in sorted(by_second.items()):
            print(f"{second} {len(values)} reminders, {min(values):.2f} to {max(values):.2f} ms", file=sys.stderr)
    floor = sorted(float(l) * 1000 for l in probe_out.split())
    verdict = "met" if accord and percentile(accord, 0.5) <= 1 and percentile(accord, 0.99) <= 5 else "MISSED"
    row(f"firing lateness ({len(accord)} reminders over {window} s, daemon holding {held:,} items)",
        f"p50 {percentile(accord, 0.5):.2f} ms, p99 {percentile(accord, 0.99):.2f} ms, max {accord[-1]:.2f} ms",
        f"bare DispatchSourceTimer: p50 {percentile(floor, 0.5):.2f} ms, p99 {percentile(floor, 0.99):.2f} ms",
        "p50 ≤ 1 ms, p99 ≤ 5 ms", verdict)


# --- idle wake-ups and memory -----------------------------------------------------------------

def bench_idle():
    seconds = 10 if QUICK else 60
    state = os.path.join(WORK, "idle")
    process, notify, _ = start_daemon(os.path.join(REPO, "Config", "accordd.toml"), state)
    anchors = {}
    for name, command in (("atd", ["/usr/sbin/atd", "-f"]), ("cron", ["/usr/sbin/cron", "-f"])):
        if os.path.exists(command[0]):
            anchors[name] = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    time.sleep(2)
    before = {"accordd": switches(process.pid), **{n: switches(p.pid) for n, p in anchors.items()}}
    time.sleep(seconds)
    after = {"accordd": switches(process.pid), **{n: switches(p.pid) for n, p in anchors.items()}}
    rss = {"accordd": proc_status(process.pid, "VmRSS"), **{n: proc_status(p.pid, "VmRSS") for n, p in anchors.items()}}
    for p in [process, *anchors.values()]:
        p.terminate()
        p.wait()
    notify.close()
    woke = {n: after[n] - before[n] for n in after}
    row(f"idle wake-ups (context switches in {seconds} s)", str(woke["accordd"]),
        ", ".join(f"{n} {woke[n]}" for n in anchors), "0", "met" if woke["accordd"] == 0 else "MISSED")
    row("idle memory (VmRSS, shipped portfolio)", f"{rss['accordd'] / 1024:.1f} MB",
        ", ".join(f"{n} {rss[n] / 1024:.1f} MB" for n in anchors), "≤ 10 MB", "met" if rss["accordd"] <= 10 * 1024 else "MISSED")


# --- scale ------------------------------------------------------------------------------------

def bench_scale():
    sizes = (1000, 10_000) if QUICK else (1000, 10_000, 100_000)
    for size in sizes:
        directory = os.path.join(WORK, f"scale-{size}")
        config = generate(size, directory)
        plans, readies, reloads, peaks = [], [], [], []
        for run in range(RUNS):
            started = time.monotonic()
            subprocess.run([ACCORDD, "plan", "--config", config], stdout=subprocess.DEVNULL, check=True)
            plans.append(time.monotonic() - started)
            state = os.path.join(directory, f"state-{run}")
            process, notify, ready = start_daemon(config, state)
            readies.append(ready)
            sent = time.monotonic()
            process.send_signal(signal.SIGHUP)
            reloading = wait_notify(notify, "RELOADING=1", after=sent)
            reloads.append(wait_notify(notify, "READY=1", after=reloading) - sent)
            peaks.append(proc_status(process.pid, "VmHWM") / 1024)
            process.terminate()
            process.wait()
            notify.close()
        big = size == 100_000
        verdict = "-"
        if big:
            met = statistics.median(plans) <= 1 and statistics.median(readies) <= 1 and statistics.median(reloads) <= 1 \
                and statistics.median(peaks) <= 150
            verdict = "met" if met else "MISSED"
        row(f"scale: {size:,} items", f"plan {stats(plans, ' s')}; ready {stats(readies, ' s')}; reload {stats(reloads, ' s')}; "
            f"peak RSS {stats(peaks, ' MB', digits=0)}", "-", "100k: plan, ready, reload ≤ 1 s; RSS ≤ 150 MB" if big else "-", verdict)


# --- control round trips and the cold client ----------------------------------------------------

def bench_control():
    state = os.path.join(WORK, "control")
    process, notify, _ = start_daemon(os.path.join(REPO, "Config", "accordd.toml"), state)
    sock = os.path.join(state, "io.accord.Tracker")
    redis_sock = os.path.join(WORK, "redis.sock")
    redis = subprocess.Popen(["redis-server", "--port", "0", "--unixsocket", redis_sock, "--save", "", "--appendonly", "no"],
                             stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    for _ in range(100):
        if os.path.exists(redis_sock):
            break
        time.sleep(0.05)
    seconds = 2 if QUICK else 5
    for clients in (1, 16):
        ours, theirs = [], []
        for _ in range(RUNS):
            out = subprocess.run([os.path.join(TOOLS, "varlink-load"), sock, str(clients), str(seconds)], capture_output=True, text=True)
            ours.append(json.loads(out.stdout))
            out = subprocess.run(["redis-benchmark", "-s", redis_sock, "-t", "get", "-c", str(clients), "-n", str(20000 * clients),
                                  "--csv"], capture_output=True, text=True).stdout
            fields = [l for l in out.splitlines() if l.startswith('"GET"')][0].replace('"', "").split(",")
            theirs.append({"rps": float(fields[1]), "p50_ms": float(fields[5]), "p99_ms": float(fields[7])})
        ratio = statistics.median(o["rps"] for o in ours) / statistics.median(t["rps"] for t in theirs)
        row(f"control round trips, {clients} client{'s' if clients > 1 else ''}",
            f"Status {stats([o['rps'] for o in ours], ' req/s', digits=0)}; p50 {statistics.median(o['p50_ms'] for o in ours):.3f} ms, "
            f"p99 {statistics.median(o['p99_ms'] for o in ours):.3f} ms",
            f"redis GET {stats([t['rps'] for t in theirs], ' req/s', digits=0)}; p50 {statistics.median(t['p50_ms'] for t in theirs):.3f} ms, "
            f"p99 {statistics.median(t['p99_ms'] for t in theirs):.3f} ms", "≥ 1.0× redis", f"{ratio:.2f}× — {'met' if ratio >= 1 else 'MISSED'}")
    out = os.path.join(WORK, "hyperfine.json")
    subprocess.run(["hyperfine", "-N", "--warmup", "20", "--runs", "50" if QUICK else "200", "--export-json", out,
                    f"{ACCORDCTL} --socket {sock} status", f"redis-cli -s {redis_sock} ping"], capture_output=True, check=True)
    results = json.load(open(out))["results"]
    ms = lambda r: f"median {r['median'] * 1000:.2f} ms (min {r['min'] * 1000:.2f}, max {r['max'] * 1000:.2f}, n={len(r['times'])})"
    row("cold client call (whole process)", f"accordctl status {ms(results[0])}", f"redis-cli ping {ms(results[1])}",
        "≤ 3 ms median", "met" if results[0]["median"] <= 0.003 else "MISSED")
    redis.terminate()
    redis.wait()
    process.terminate()
    process.wait()
    notify.close()


# --- reminder storm ---------------------------------------------------------------------------

def bench_storm():
    count = 2000 if QUICK else 10_000
    times, stored, rates = [], [], []
    for run in range(1 if QUICK else RUNS):
        directory = os.path.join(WORK, f"storm-{run}")
        os.makedirs(os.path.join(directory, "portfolios"))
        with open(os.path.join(directory, "accordd.toml"), "w") as f:
            f.write('portfolios = ["portfolios"]\n')
        instant = int(time.time()) + 8
        dialogue = f"storm{run}x{instant}"
        lines = [f'[dialogue]\nid = "{dialogue}"\ntitle = "storm"\ntime-zone = "UTC"\nreminders = ["P0D"]\n']
        lines += [f'[[objective]]\nid = "s{i}"\ntitle = "s{i}"\ndue = {utc(instant)}\n' for i in range(count)]
        with open(os.path.join(directory, "portfolios", "storm.toml"), "w") as f:
            f.write("\n".join(lines))
        process, notify, _ = start_daemon(os.path.join(directory, "accordd.toml"), os.path.join(directory, "state"))
        time.sleep(max(0, instant - time.time()) + 1)
        entries = []
        for _ in range(60):
            entries = journal_entries(f"ACCORD_DIALOGUE={dialogue}")
            if len(entries) >= count:
                break
            time.sleep(0.5)
        process.terminate()
        process.wait()
        notify.close()
        stamps = sorted(int(e["__REALTIME_TIMESTAMP"]) / 1e6 for e in entries)
        stored.append(len(entries))
        times.append(stamps[-1] - instant)
        rates.append(len(stamps) / max(1e-6, stamps[-1] - stamps[0]))
    ok = min(stored) == count and statistics.median(rates) >= 20_000
    row(f"reminder storm ({count:,} due at one instant)",
        f"all in the journal after {stats(times, ' s', digits=3)}; stored {min(stored):,}/{count:,}; {stats(rates, ' /s', digits=0)}",
        "-", "all stored, ≥ 20,000 per second", "met" if ok else "MISSED")


def machine():
    model = next((l.split(":", 1)[1].strip() for l in open("/proc/cpuinfo") if l.startswith("model name")), "?")
    memory = next((int(l.split()[1]) for l in open("/proc/meminfo") if l.startswith("MemTotal")), 0) / 1024 / 1024
    return f"{os.cpu_count()} × {model}, {memory:.0f} GiB, {subprocess.run(['uname', '-r'], capture_output=True, text=True).stdout.strip()}"


def main():
    try:
        return run_benchmarks()
    finally:
        shutil.rmtree(WORK, ignore_errors=True)


def run_benchmarks():
    print("| measure | accord | anchor (same run) | target | verdict |\n|---|---|---|---|---|", flush=True)
    only = os.environ.get("BENCH_ONLY")  # e.g. BENCH_ONLY=lateness,storm: a subset, no BENCHMARKS.md
    for bench in (bench_idle, bench_control, bench_storm, bench_scale, bench_lateness):
        if only and bench.__name__.removeprefix("bench_") not in only.split(","):
            continue
        try:
            bench()
        except Exception as error:  # a broken row is reported, the others still run
            row(bench.__name__, f"failed: {error!r}", "-", "-", "ERROR")
    if not QUICK and not only:
        # The table is rewritten; the notes under it (from the first "## " heading) are kept.
        path = os.path.join(REPO, "BENCHMARKS.md")
        notes = ""
        if os.path.exists(path):
            text = open(path).read()
            notes = text[text.index("\n## ") + 1:] if "\n## " in text else ""
        with open(path, "w") as f:
            f.write("# accord benchmarks\n\n")
            f.write(f"Command: `make bench` (scripts/bench.sh: release build with --static-swift-stdlib, RUNS={RUNS}).\n\n")
            f.write(f"Machine: {machine()}. Date: {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}.\n\n")
            f.write("Every row is measured beside its anchor in the same run; medians with min and max over the runs.\n\n")
            f.write("| measure | accord | anchor (same run) | target | verdict |\n|---|---|---|---|---|\n")
            for r in rows:
                f.write("| " + " | ".join(r) + " |\n")
            if notes:
                f.write("\n" + notes)
    return 1 if any(r[4] == "ERROR" for r in rows) else 0


if __name__ == "__main__":
    sys.exit(main())
