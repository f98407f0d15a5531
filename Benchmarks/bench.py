#!/usr/bin/env python3
"""accord's benchmark suite (issue 6): each row measured beside its anchor in the same run,
medians with min and max over RUNS runs. Run by scripts/bench.sh under a private journald.
Prints one table and writes it, with the command, machine and date, to BENCHMARKS.md."""
import json
import re
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
# The growth plot is committed beside BENCHMARKS.md by a full run; other runs leave it in WORK.
PLOT = None
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


def start_daemon(config, state, timeout=120):
    notify = NotifySocket(WORK, f"notify-{time.monotonic_ns()}")
    env = dict(os.environ, STATE_DIRECTORY=state, RUNTIME_DIRECTORY=state, NOTIFY_SOCKET=notify.path)
    started = time.monotonic()
    process = subprocess.Popen([ACCORDD, "run", "--config", config], env=env, stdout=subprocess.DEVNULL,
                               stderr=open(os.path.join(WORK, "accordd.log"), "a"))
    try:
        ready = wait_notify(notify, "READY=1", after=started, timeout=timeout)
    except TimeoutError:
        process.kill()
        process.wait()
        notify.close()
        raise
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
    if not QUICK:
        # The row comes after the 1,000,000-item rows, whose gigabytes of state and calendar files
        # the kernel may still be writing back: that is the bench's own aftermath, not accordd's.
        os.sync()
        time.sleep(5)
    directory = os.path.join(WORK, "lateness")
    config = generate(held, directory)
    start = int(time.time()) + (10 if QUICK else 25)
    instants = sorted(start + random.randint(0, window) for _ in range(count))
    lines = ['[dialogue]\nid = "fire"\ntitle = "fire"\ntime-zone = "UTC"\nreminders = ["P0D"]\n']
    lines += [f'[[objective]]\nid = "f{i}"\ntitle = "f{i}"\ndue = {utc(t)}\n' for i, t in enumerate(instants)]
    with open(os.path.join(directory, "portfolios", "fire.toml"), "w") as f:
        f.write("\n".join(lines))
    process, notify, _ = start_daemon(config, os.path.join(directory, "state"))
    # The probe fires the same instants half a second later, and sends journald an entry of the
    # same shape for each: its batches are clear of the daemon's, on one journald, in one run.
    probe = subprocess.Popen([os.path.join(TOOLS, "timer-probe"), "--journal", "--offset-ms", "500", *map(str, instants)],
                             stdout=subprocess.PIPE, text=True)
    probe_out, _ = probe.communicate(timeout=window + 120)
    deadline = time.time() + 30
    entries = []
    while time.time() < deadline:
        entries = journal_entries("ACCORD_DIALOGUE=fire")
        probed = journal_entries("PROBE_DIALOGUE=probe", identifier="accord-timer-probe", sync=False)
        if len(entries) >= count and len(probed) >= count:
            break
        time.sleep(1)
    process.terminate()
    process.wait()
    notify.close()
    accord = lateness_ms(entries)
    by_second = {}
    for entry in entries:
        by_second.setdefault(entry["ACCORD_FIRE_AT"], []).append(lateness_of(entry))
    if os.environ.get("LATENESS_DETAIL"):  # per second: how many fired, the first and the last
        for second, values in sorted(by_second.items()):
            print(f"{second} {len(values)} reminders, {min(values):.2f} to {max(values):.2f} ms", file=sys.stderr)
    # Where the tail is: how many came over 5 ms late, and the second that held most of them,
    # counted from the window's start.
    late = sum(v > 5 for v in accord)
    worst = max(by_second.items(), key=lambda item: (sum(v > 5 for v in item[1]), max(item[1])), default=None)
    tail = (f"; {late} of {len(accord)} over 5 ms, {sum(v > 5 for v in worst[1])} of them in second "
            f"{int(epoch(worst[0])) - start} of the window" if late else f"; none of {len(accord)} over 5 ms")
    floor = sorted(float(l) * 1000 for l in probe_out.split())
    journald = sorted((int(e["__REALTIME_TIMESTAMP"]) / 1e6 - float(e["PROBE_AT"])) * 1000 for e in probed)
    verdict = "met" if accord and percentile(accord, 0.5) <= 1 and percentile(accord, 0.99) <= 5 else "MISSED"
    row(f"firing lateness ({len(accord)} reminders over {window} s, daemon holding {held:,} items)",
        f"p50 {percentile(accord, 0.5):.2f} ms, p99 {percentile(accord, 0.99):.2f} ms, max {accord[-1]:.2f} ms"
        + tail,
        f"bare DispatchSourceTimer: p50 {percentile(floor, 0.5):.2f} ms, p99 {percentile(floor, 0.99):.2f} ms; "
        f"the same timer sending journald {len(journald)} entries of the same shape: "
        f"p50 {percentile(journald, 0.5):.2f} ms, p99 {percentile(journald, 0.99):.2f} ms",
        "p50 ≤ 1 ms, p99 ≤ 5 ms", verdict)


# --- idle wake-ups and memory -----------------------------------------------------------------

def bench_idle():
    seconds = 10 if QUICK else 60
    state = os.path.join(WORK, "idle")
    process, notify, _ = start_daemon(os.path.join(REPO, "Config", "accordd.toml"), state)
    anchors = {}
    # The memory anchor: a static Swift program that imports Foundation, uses it once and sleeps.
    for name, command in (("foundation-probe", [os.path.join(TOOLS, "foundation-probe")]),
                          ("atd", ["/usr/sbin/atd", "-f"]), ("cron", ["/usr/sbin/cron", "-f"])):
        if os.path.exists(command[0]):
            anchors[name] = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    time.sleep(2)
    before = {"accordd": switches(process.pid), **{n: switches(p.pid) for n, p in anchors.items()}}
    time.sleep(seconds)
    after = {"accordd": switches(process.pid), **{n: switches(p.pid) for n, p in anchors.items()}}
    rss = {"accordd": proc_status(process.pid, "VmRSS"), **{n: proc_status(p.pid, "VmRSS") for n, p in anchors.items()}}
    # VmRSS is anonymous memory plus the pages of files (code, mostly) the process has mapped in.
    anon = {"accordd": proc_status(process.pid, "RssAnon"), **{n: proc_status(p.pid, "RssAnon") for n, p in anchors.items()}}
    for p in [process, *anchors.values()]:
        p.terminate()
        p.wait()
    notify.close()
    woke = {n: after[n] - before[n] for n in after}
    daemons = [n for n in anchors if n != "foundation-probe"]
    row(f"idle wake-ups (context switches in {seconds} s)", str(woke["accordd"]),
        ", ".join(f"{n} {woke[n]}" for n in daemons), "0", "met" if woke["accordd"] == 0 else "MISSED")
    probe = rss["foundation-probe"]
    ratio = rss["accordd"] / probe
    row("idle memory (VmRSS, shipped portfolio)", f"{rss['accordd'] / 1024:.1f} MB (anonymous {anon['accordd'] / 1024:.1f} MB)",
        f"static Swift program importing Foundation {probe / 1024:.1f} MB (anonymous {anon['foundation-probe'] / 1024:.1f} MB); "
        + ", ".join(f"{n} {rss[n] / 1024:.1f} MB" for n in daemons),
        "≤ 1.5× the Foundation program", f"{ratio:.2f}× — {'met' if ratio <= 1.5 else 'MISSED'}")


# --- scale: the 100,000-item targets, the million, and the growth between -----------------------

MILLION = os.environ.get("BENCH_MILLION", "1") != "0"  # BENCH_MILLION=0 leaves out the 1,000,000 row
growth = []  # one dict per size, for the growth table and its plot


def run_measured(command, limit=600):
    """Wall seconds and peak RSS (MB) of one command, output discarded. The peak is GNU time's
    %M: this Python's own ru_maxrss for its child would never read below Python's ~20 MB, as
    the exec happens in a vfork of it (remind's 2.4 MB read as 21.6 MB that way)."""
    peak_file = os.path.join(WORK, "peak")
    started = time.monotonic()
    done = subprocess.run(["/usr/bin/time", "-f", "%M", "-o", peak_file, *command], stdout=subprocess.DEVNULL,
                          stderr=subprocess.PIPE, timeout=limit)
    elapsed = time.monotonic() - started
    if done.returncode != 0:
        raise RuntimeError(f"{' '.join(command)} exited {done.returncode}: {done.stderr.decode()[-400:]}")
    return elapsed, int(open(peak_file).read().split()[-1]) / 1024


def written_since(path, since):
    try:
        return os.path.getmtime(path) >= since
    except FileNotFoundError:
        return False


def settled_rss(process, path, since, timeout=900):
    """VmRSS (MB) once accord.ics has been written after `since` (wall clock) and the writer has
    rested for 6 s: no `.new` file beside it, the file unchanged and the resident size still. The
    calendar is written in the background after each re-plan, and a re-plan that came during a
    write is written right after it: a 100,000-item run that waited for the first write only
    read 876 MB in the middle of the second, where the rest of the runs read 446 MB."""
    deadline = time.monotonic() + timeout
    directory = os.path.dirname(path)
    samples = []
    while time.monotonic() < deadline:
        writing = any(name.endswith(".new") for name in os.listdir(directory))
        stamp = os.path.getmtime(path) if os.path.exists(path) else None
        samples.append((proc_status(process.pid, "VmRSS"), writing, stamp))
        recent = samples[-13:]
        rss = [r for r, _, _ in recent]
        if (written_since(path, since) and len(recent) == 13 and not any(w for _, w, _ in recent)
                and len({s for _, _, s in recent}) == 1 and max(rss) - min(rss) <= max(rss) // 100):
            break
        time.sleep(0.5)
    return samples[-1][0] / 1024


def reload_seconds(process, notify):
    sent = time.monotonic()
    process.send_signal(signal.SIGHUP)
    reloading = wait_notify(notify, "RELOADING=1", after=sent, timeout=600)
    return wait_notify(notify, "READY=1", after=reloading, timeout=600) - sent


def fires(process, notify, directory, tag):
    """Writes a small portfolio whose 5 reminders fall 3 s ahead, reloads, and counts them in the
    journal: the daemon holding this many items still fires."""
    dialogue = f"bigfire{tag}x{int(time.time())}"
    instant = int(time.time()) + 3
    lines = [f'[dialogue]\nid = "{dialogue}"\ntitle = "fire"\ntime-zone = "UTC"\nreminders = ["P0D"]\n']
    lines += [f'[[objective]]\nid = "f{i}"\ntitle = "f{i}"\ndue = {utc(instant)}\n' for i in range(5)]
    with open(os.path.join(directory, "portfolios", "zz-fire.toml"), "w") as f:
        f.write("\n".join(lines))
    reload_seconds(process, notify)
    deadline = time.time() + 30
    entries = []
    while time.time() < deadline:
        entries = journal_entries(f"ACCORD_DIALOGUE={dialogue}")
        if len(entries) >= 5 and time.time() > instant:
            break
        time.sleep(0.5)
    os.remove(os.path.join(directory, "portfolios", "zz-fire.toml"))
    return len(entries)


def touch_one_file(directory, run):
    """Changes one title in bench-0.toml (10,000 items): a reload with one file changed."""
    path = os.path.join(directory, "portfolios", "bench-0.toml")
    text = open(path).read()
    text = re.sub(r'title = "Objective 0[^"]*"', f'title = "Objective 0, edited {run}"', text, count=1)
    open(path, "w").write(text)


def measure_size(size):
    directory = os.path.join(WORK, f"scale-{size}")
    remind_file = os.path.join(directory, "deadlines.rem")
    subprocess.run([sys.executable, os.path.join(REPO, "Benchmarks", "generate.py"), str(size), directory,
                    "--remind", remind_file], check=True)
    config = os.path.join(directory, "accordd.toml")
    until = time.strftime("%Y-%m-%d", time.gmtime(time.time() + 365 * 86400))
    runs = RUNS if size <= 100_000 else 1
    m = {k: [] for k in ("check", "check_rss", "plan", "plan_rss", "remind", "remind_rss", "ready", "reload0",
                         "reload1", "peak", "steady", "fired")}
    for run in range(runs):
        for key, command in (("check", [ACCORDD, "check", "--config", config]),
                             ("plan", [ACCORDD, "plan", "--config", config, "--until", until]),
                             ("remind", ["remind", "-n", remind_file])):
            seconds, rss = run_measured(command)
            m[key].append(seconds)
            m[key + "_rss"].append(rss)
        state = os.path.join(directory, f"state-{run}")
        started = time.time()
        process, notify, ready = start_daemon(config, state, timeout=900)
        try:
            m["ready"].append(ready)
            m["peak"].append(proc_status(process.pid, "VmHWM") / 1024)
            settled_rss(process, os.path.join(state, "accord.ics"), since=started)
            m["reload0"].append(reload_seconds(process, notify))
            touch_one_file(directory, run)
            m["reload1"].append(reload_seconds(process, notify))
            m["fired"].append(fires(process, notify, directory, f"{size}r{run}"))
            replanned = time.time()
            reload_seconds(process, notify)  # the fire file is gone again: back to `size` items
            m["steady"].append(settled_rss(process, os.path.join(state, "accord.ics"), since=replanned))
        finally:
            process.terminate()
            process.wait()
            notify.close()
        shutil.rmtree(state, ignore_errors=True)
    shutil.rmtree(directory, ignore_errors=True)
    med = {k: statistics.median(v) for k, v in m.items()}
    growth.append({"items": size, **med})
    return m, med


def bench_scale():
    sizes = (1000, 10_000) if QUICK else (1000, 10_000, 100_000) + ((1_000_000,) if MILLION else ())
    if os.environ.get("BENCH_SIZES"):  # e.g. BENCH_SIZES=100000: some sizes only, while working
        sizes = tuple(int(n) for n in os.environ["BENCH_SIZES"].split(","))
    for size in sizes:
        m, med = measure_size(size)
        label = f"{size:,} items"
        fired = f"fired {min(m['fired'])}/5 after a reload"
        if size == 100_000 or (size < 100_000 and size == sizes[-1]):
            for key, name in (("check", "accordd check"), ("plan", "accordd plan --until +1y")):
                ratio = med[key] / med["remind"]
                row(f"{label}: `{name}`", f"{stats(m[key], ' s')}, peak RSS {stats(m[key + '_rss'], ' MB', digits=0)}",
                    f"remind -n, same deadlines: {stats(m['remind'], ' s')}, {stats(m['remind_rss'], ' MB', digits=1)}",
                    "≤ 2.0× remind -n", f"{ratio:.2f}× — {'met' if ratio <= 2 else 'MISSED'}")
            timing_met = med["ready"] <= 1.0 and med["reload0"] <= 0.2 and med["reload1"] <= 0.3
            row(f"{label}: ready; reload, no file changed; reload, one file (10,000 items) changed",
                f"{stats(m['ready'], ' s')}; {stats(m['reload0'], ' s', digits=3)}; {stats(m['reload1'], ' s', digits=3)}; {fired}",
                "-", "≤ 1.0 s; ≤ 0.2 s; ≤ 0.3 s", "met" if timing_met else "MISSED")
            memory_met = med["peak"] <= 150 and med["steady"] <= 100
            row(f"{label}: peak RSS during load (VmHWM at READY=1) / steady RSS (VmRSS, calendar written)",
                f"{stats(m['peak'], ' MB', digits=0)} / {stats(m['steady'], ' MB', digits=0)}", "-",
                "≤ 150 MB / ≤ 100 MB", "met" if memory_met else "MISSED")
        elif size == 1_000_000:
            met = med["ready"] <= 10 and med["steady"] <= 1024 and min(m["fired"]) == 5
            row(f"{label} (100 files): ready; steady RSS; fires",
                f"ready {stats(m['ready'], ' s')}; steady {stats(m['steady'], ' MB', digits=0)}, peak {stats(m['peak'], ' MB', digits=0)}; "
                f"reload no change {stats(m['reload0'], ' s')}, one file {stats(m['reload1'], ' s')}; {fired}; "
                f"check {stats(m['check'], ' s')} (remind -n {stats(m['remind'], ' s')})",
                "-", "loads, plans, fires; ready ≤ 10 s; steady ≤ 1 GB", "met" if met else "MISSED")
    growth_table()


def growth_table():
    """Cost per item from 1,000 items up: a flat column is linear growth."""
    print("\n" + GROWTH_HEADER, end="")
    lines = []
    for g in growth:
        n = g["items"]
        lines.append(f"| {n:,} | {g['check']:.3f} s | {g['check'] / n * 1e6:.1f} | {g['check_rss']:.0f} MB | "
                     f"{g['check_rss'] * 1024 / n:.2f} | {g['ready']:.3f} s | {g['steady']:.0f} MB | "
                     f"{g['steady'] * 1024 / n:.2f} | {g['remind']:.3f} s |")
        print(lines[-1], flush=True)
    growth_lines.extend(lines)
    if len(growth) >= 2:
        plot_growth()


growth_lines = []
GROWTH_HEADER = ("| items | check | µs/item | check peak RSS | KB/item | ready | steady RSS | KB/item | remind -n |\n"
                 "|---|---|---|---|---|---|---|---|---|\n")


def plot_growth():
    """BENCHMARKS-growth.svg: seconds and MB against items, log-log, with Remind beside accord."""
    import matplotlib
    matplotlib.use("svg")
    import matplotlib.pyplot as plt
    matplotlib.rcParams["svg.hashsalt"] = "accord-bench"  # the same figures give the same file
    items = [g["items"] for g in growth]
    fig, (left, right) = plt.subplots(1, 2, figsize=(10, 4))
    for key, label in (("check", "accordd check"), ("plan", "accordd plan --until +1y"), ("ready", "accordd ready"),
                       ("remind", "remind -n (anchor)")):
        left.plot(items, [g[key] for g in growth], marker="o", label=label)
    left.set(xscale="log", yscale="log", xlabel="items", ylabel="seconds", title="time")
    for key, label in (("check_rss", "accordd check, peak"), ("peak", "accordd run, peak at ready"),
                       ("steady", "accordd run, steady"), ("remind_rss", "remind -n, peak (anchor)")):
        right.plot(items, [g[key] for g in growth], marker="o", label=label)
    right.set(xscale="log", yscale="log", xlabel="items", ylabel="MB (RSS)", title="memory")
    for axis in (left, right):
        axis.grid(True, which="both", alpha=0.3)
        axis.legend(fontsize=8)
    fig.suptitle(f"accord growth, {time.strftime('%Y-%m-%d', time.gmtime())} (make bench)")
    fig.tight_layout()
    target = PLOT if PLOT else os.path.join(WORK, "growth.svg")
    fig.savefig(target, metadata={"Date": None})
    print(f"plot: {target}", flush=True)


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
    # Both servers are driven by the same load (varlink-load: one epoll thread, one call in flight
    # per client, as redis-benchmark does), so the ratio compares servers, not loaders.
    # redis-benchmark's own figure is printed beside it as a check on the load.
    load = os.path.join(TOOLS, "varlink-load")
    for clients, target in ((1, 1.0), (16, 0.8)):
        ours, theirs, benchmark = [], [], []
        for _ in range(RUNS):
            out = subprocess.run([load, sock, str(clients), str(seconds)], capture_output=True, text=True)
            ours.append(json.loads(out.stdout))
            out = subprocess.run([load, "--resp", redis_sock, str(clients), str(seconds)], capture_output=True, text=True)
            theirs.append(json.loads(out.stdout))
            out = subprocess.run(["redis-benchmark", "-s", redis_sock, "-t", "get", "-c", str(clients), "-n", str(20000 * clients),
                                  "--csv"], capture_output=True, text=True).stdout
            fields = [l for l in out.splitlines() if l.startswith('"GET"')][0].replace('"', "").split(",")
            benchmark.append(float(fields[1]))
        failed = [o for o in ours + theirs if o["failed"]]
        ratio = statistics.median(o["rps"] for o in ours) / statistics.median(t["rps"] for t in theirs)
        row(f"control round trips, {clients} client{'s' if clients > 1 else ''}",
            f"Status {stats([o['rps'] for o in ours], ' req/s', digits=0)}; p50 {statistics.median(o['p50_ms'] for o in ours):.3f} ms, "
            f"p99 {statistics.median(o['p99_ms'] for o in ours):.3f} ms",
            f"redis GET, same load: {stats([t['rps'] for t in theirs], ' req/s', digits=0)}; "
            f"p50 {statistics.median(t['p50_ms'] for t in theirs):.3f} ms, p99 {statistics.median(t['p99_ms'] for t in theirs):.3f} ms; "
            f"redis-benchmark {stats(benchmark, ' req/s', digits=0)}", f"≥ {target:.1f}× redis",
            "a call failed — MISSED" if failed else f"{ratio:.2f}× — {'met' if ratio >= target else 'MISSED'}")
    out = os.path.join(WORK, "hyperfine.json")
    subprocess.run(["hyperfine", "-N", "--warmup", "20", "--runs", "50" if QUICK else "200", "--export-json", out,
                    f"{ACCORDCTL} --socket {sock} status", f"redis-cli -s {redis_sock} ping"], capture_output=True, check=True)
    results = json.load(open(out))["results"]
    ms = lambda r: f"median {r['median'] * 1000:.2f} ms (min {r['min'] * 1000:.2f}, max {r['max'] * 1000:.2f}, n={len(r['times'])})"
    ratio = results[0]["median"] / results[1]["median"]
    row("cold client call (whole process)", f"accordctl status {ms(results[0])}", f"redis-cli ping {ms(results[1])}",
        "≤ 0.8× redis-cli ping (medians)", f"{ratio:.2f}× — {'met' if ratio <= 0.8 else 'MISSED'}")
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
    global PLOT
    only = os.environ.get("BENCH_ONLY")  # e.g. BENCH_ONLY=lateness,storm: a subset, no BENCHMARKS.md
    full = not QUICK and not only
    if full:
        PLOT = os.path.join(REPO, "BENCHMARKS-growth.svg")
    print("| measure | accord | anchor (same run) | target | verdict |\n|---|---|---|---|---|", flush=True)
    for bench in (bench_idle, bench_control, bench_storm, bench_scale, bench_lateness):
        if only and bench.__name__.removeprefix("bench_") not in only.split(","):
            continue
        try:
            bench()
        except Exception as error:  # a broken row is reported, the others still run
            row(bench.__name__, f"failed: {error!r}", "-", "-", "ERROR")
    if full:
        write_report()
    return 1 if any(r[4] == "ERROR" for r in rows) else 0


def write_report():
    """Rewrites the table and the growth section of BENCHMARKS.md; the notes under them (from the
    "## Notes" heading on) are kept."""
    path = os.path.join(REPO, "BENCHMARKS.md")
    notes = ""
    if os.path.exists(path):
        text = open(path).read()
        notes = text[text.index("\n## Notes") + 1:] if "\n## Notes" in text else ""
    with open(path, "w") as f:
        f.write("# accord benchmarks\n\n")
        f.write(f"Command: `make bench` (scripts/bench.sh: release build with --static-swift-stdlib, RUNS={RUNS}; "
                "the 1,000,000-item size runs once).\n\n")
        f.write(f"Machine: {machine()}. Date: {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}.\n\n")
        f.write("Every row is measured beside its anchor in the same run; medians with min and max over the runs.\n\n")
        f.write("| measure | accord | anchor (same run) | target | verdict |\n|---|---|---|---|---|\n")
        for r in rows:
            f.write("| " + " | ".join(r) + " |\n")
        if growth_lines:
            f.write("\n## Growth from 1,000 to 1,000,000 items\n\n")
            f.write("Medians of the same run. Per-item columns stay flat when the cost grows linearly. "
                    "`remind -n` reads the same deadlines (Benchmarks/generate.py --remind).\n\n")
            f.write(GROWTH_HEADER)
            f.write("\n".join(growth_lines) + "\n\n")
            f.write("![time and memory against items, log-log](BENCHMARKS-growth.svg)\n")
        if notes:
            f.write("\n" + notes)


if __name__ == "__main__":
    sys.exit(main())
