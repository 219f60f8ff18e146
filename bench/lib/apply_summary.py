"""Reads `kbz-install --json apply` output; prints execs_max=..;execs_med=..;changed=..;failed=..;hosts=..

The engine's own transport counters (hosts[].transport.execs) say how many remote commands each host cost.
Exit 1 when the output holds no such object (the bench then counts the run as failed, not as a number)."""
import json
import statistics
import sys


def load(text):
    try:
        return json.loads(text)
    except json.JSONDecodeError:
        # Tolerate progress lines around the object: take the last line that is a JSON object on its own.
        for line in reversed(text.splitlines()):
            line = line.strip()
            if line.startswith("{"):
                try:
                    return json.loads(line)
                except json.JSONDecodeError:
                    continue
    return None


def main():
    doc = load(open(sys.argv[1], encoding="utf-8").read())
    hosts = doc.get("hosts") if isinstance(doc, dict) else None
    if not hosts:
        print("no hosts[] in apply --json output", file=sys.stderr)
        return 1
    execs = [int(h["transport"]["execs"]) for h in hosts]
    changed = sum(int(h.get("changed", 0)) for h in hosts)
    failed = sum(int(h.get("failed", 0)) + (1 if h.get("unreachable") else 0) for h in hosts)
    print(f"execs_max={max(execs)};execs_med={statistics.median(execs):g};"
          f"changed={changed};failed={failed};hosts={len(hosts)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
