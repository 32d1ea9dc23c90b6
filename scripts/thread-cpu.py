#!/usr/bin/env python3
"""Per-thread CPU of every Chromium process over a window, with each thread's nice value.

    python3 scripts/thread-cpu.py [SECONDS=20] [MIN_PERCENT=1]

Run it beside a call (e.g. `npm run measure:wire -- --modes kiloface --seconds 40 --settle 60`,
started ~100 s earlier): it reads /proc/<pid>/task/*/stat twice and prints each thread's share of
one core, busiest first, and the load average. Linux only. Chromium names its workers
"DedicatedWorker": the decoders run at nice 0, the worker reading the camera at nice -8.
"""
import os
import sys
import time


def snapshot():
    threads = {}
    for pid in filter(str.isdigit, os.listdir('/proc')):
        try:
            argv0 = open(f'/proc/{pid}/cmdline', 'rb').read().split(b'\0')[0]
            if b'chrom' not in argv0:
                continue
            for tid in os.listdir(f'/proc/{pid}/task'):
                stat = open(f'/proc/{pid}/task/{tid}/stat').read()
                name = stat[stat.index('(') + 1:stat.rindex(')')]
                fields = stat[stat.rindex(')') + 2:].split()
                # utime + stime (fields 14, 15 of stat), nice (field 19)
                threads[(pid, tid)] = (name, int(fields[11]) + int(fields[12]), int(fields[16]))
        except (FileNotFoundError, ProcessLookupError, IndexError):
            continue  # a process or thread that ended while we read
    return threads


def main():
    seconds = float(sys.argv[1]) if len(sys.argv) > 1 else 20.0
    min_percent = float(sys.argv[2]) if len(sys.argv) > 2 else 1.0
    before, t0 = snapshot(), time.time()
    time.sleep(seconds)
    after, elapsed = snapshot(), time.time() - t0
    ticks = os.sysconf('SC_CLK_TCK') * elapsed / 100
    rows = sorted(((cpu - before.get(key, (name, cpu, nice))[1]) / ticks, key[0], name, nice)
                  for key, (name, cpu, nice) in after.items())[::-1]
    for percent, pid, name, nice in rows:
        if percent >= min_percent:
            print(f'{percent:6.1f} %  pid {pid:>7}  {name:<20} nice {nice}')
    print(f'all Chromium threads: {sum(r[0] for r in rows):.1f} % over {elapsed:.1f} s; '
          f'load average {" ".join(open("/proc/loadavg").read().split()[:3])}')


if __name__ == '__main__':
    main()
