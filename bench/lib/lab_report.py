"""Markdown section for bench/lab-modules.sh: plan and no-op re-apply of the real modules on the lab.

Input: the raw TSV, one row per run and host:
  command module rep wall_s client_cpu_s summary host cpu_s idle_s
where summary is apply_summary.py's "execs_max=..;execs_med=..;changed=..;failed=..;hosts=..", cpu_s the server
container's cgroup CPU during the run and idle_s what that server spends idle over the same wall time.
rep 0 is the warm-up re-apply: left out. Server CPU per host = cpu_s - idle_s (never below 0)."""
import statistics
import sys


def main():
    raw, hosts, runs, load_before, load_after = sys.argv[1:6]
    runs_by_key = {}  # (module, command) -> {rep: {"wall", "client", "execs_max", ..., "cpu": {host: s}}}
    for line in open(raw, encoding="utf-8"):
        cmd, module, rep, wall, client, summary, host, cpu, idle = line.rstrip("\n").split("\t")
        if rep == "0":
            continue
        fields = dict(kv.split("=", 1) for kv in summary.split(";"))
        run = runs_by_key.setdefault((int(module), cmd), {}).setdefault(rep, {"cpu": {}, "idle": {}})
        run.update(wall=float(wall), client=float(client), execs_max=int(fields["execs_max"]),
                   execs_med=float(fields["execs_med"]), changed=int(fields["changed"]))
        run["cpu"][host] = max(0.0, float(cpu) - float(idle))
        run["idle"][host] = float(idle)

    med = statistics.median
    print("## 5. The real modules on the lab: modules 2 and 4 on 5 servers (profile redis)")
    print()
    print(f"`plan` and no-op `apply` (re-applies of installed modules) on {hosts}, {runs} runs each, medians. "
          "Remote execs per host: the engine's counters (`--json`). Server CPU per host: what the server's "
          "container cgroup (every process of that server, its service containers included) spent during the "
          "run, minus that server's idle rate over an equal interval measured just before it (subtracted column); "
          "median host and worst host, each a median over the runs. "
          f"Load average before / after: {load_before} / {load_after}.")
    print()
    print("| module | command | wall s | client CPU s | execs/host worst (median) | steps changed | "
          "server CPU/host s, median host | worst host | idle CPU/host subtracted s | target |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    for (module, cmd) in sorted(runs_by_key, key=lambda k: (k[0], k[1] != "plan")):
        reps = list(runs_by_key[(module, cmd)].values())
        execs_worst = max(r["execs_max"] for r in reps)
        cpu_med = med(med(r["cpu"].values()) for r in reps)
        cpu_worst = med(max(r["cpu"].values()) for r in reps)
        idle = med(med(r["idle"].values()) for r in reps)
        changed = ",".join(str(r["changed"]) for r in reps)
        target = "—"
        if module == 2 and cmd == "apply":
            met = execs_worst <= 2 and cpu_worst <= 0.2
            target = f"≤ 2 execs, ≤ 0.2 s/host: **{'met' if met else 'not met'}**"
        label = "apply (no-op)" if cmd == "apply" else cmd
        print(f"| {module} | {label} | {med(r['wall'] for r in reps):.2f} | {med(r['client'] for r in reps):.2f} | "
              f"{execs_worst} ({med(r['execs_med'] for r in reps):g}) | {changed} | {cpu_med:.3f} | "
              f"{cpu_worst:.3f} | {idle:.3f} | {target} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
