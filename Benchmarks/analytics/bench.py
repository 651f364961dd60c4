#!/usr/bin/env python3
"""Times the analytics views on a database: each materialized view's refresh, then every sample query
of docs/analytics.md (EXPLAIN ANALYZE's execution time, best of three), and prints a table.

Usage: Benchmarks/analytics/bench.py 'host=... dbname=...' [docs/analytics.md]
A million orders: `orderly seed --orders 20000`, then `psql -v factor=50 -f Benchmarks/analytics/replicate.sql`.
"""
import json, re, subprocess, sys

conninfo = sys.argv[1]
docs = sys.argv[2] if len(sys.argv) > 2 else "docs/analytics.md"

def psql(sql):
    out = subprocess.run(["psql", conninfo, "-XAtq", "-v", "ON_ERROR_STOP=1", "-c", sql],
                         capture_output=True, text=True)
    if out.returncode != 0:
        sys.exit(f"psql failed: {out.stderr.strip()}\n{sql}")
    return out.stdout.strip()

orders = psql("SELECT count(*) FROM orders")
print(f"{orders} orders")
print("\nrefresh (REFRESH MATERIALIZED VIEW CONCURRENTLY)")
for view in psql("SELECT unnest(analytics.materialized_views())").split("\n"):
    ms = float(psql(f"SELECT analytics.refresh_view('{view}')"))
    rows = psql(f"SELECT count(*) FROM {view}")
    print(f"  {view:40} {ms:10.0f} ms  {rows:>9} rows")

text = open(docs).read()
sections = re.split(r"^### `(analytics\.\w+)`", text, flags=re.M)
print("\nsample queries (execution time, best of 3)")
slowest = (0, None, None)
for name, body in zip(sections[1::2], sections[2::2]):
    m = re.search(r"```sql\n(.*?)\n```", body, re.S)
    if not m:
        continue
    sql = m.group(1).rstrip().rstrip(";")
    best = None
    for _ in range(3):
        plan = json.loads(psql("EXPLAIN (ANALYZE, FORMAT JSON) " + sql))
        t = plan[0]["Execution Time"] + plan[0]["Planning Time"]
        best = t if best is None else min(best, t)
    print(f"  {name:40} {best:10.1f} ms")
    if best > slowest[0]:
        slowest = (best, name, sql)
print(f"\nslowest: {slowest[1]} ({slowest[0]:.1f} ms)")
print(psql("EXPLAIN (ANALYZE, BUFFERS) " + slowest[2]))
