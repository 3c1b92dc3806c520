"""UDP loss is counted, not silent: with the daemon stopped (SIGSTOP) a
burst overflows the syslog-udp input's socket buffer; once it runs again
every datagram sent is either a record or counted as dropped, by the
kernel (SO_RXQ_OVFL, input_kernel_dropped_total) or by the input (queue
full, input_dropped_total), and the socket buffer the kernel granted is
in the log."""

import os
import re
import signal
import socket
import sys
import time

sys.path.insert(0, os.path.dirname(__file__))
from harness import Daemon, check, finish, wait_for  # noqa: E402

CONFIG = """
data_dir: {data}
http:
  listen: 127.0.0.1:{http}
store:
  events: false
inputs:
  - name: udp
    type: syslog-udp
    listen: 127.0.0.1:{port}
"""

BURST = 20000  # ~20 MB of datagrams: well past a 4 MiB buffer (8 MiB as the kernel counts)


def counters(d):
    _, _, text = d.get("/metrics")
    get = lambda name: d.metric(text, name, 'input="udp"')  # noqa: E731
    return (get("hikeshi_input_records_total"), get("hikeshi_input_dropped_total"),
            get("hikeshi_input_kernel_dropped_total"))


def main():
    d = Daemon(CONFIG)
    d.start()
    log = d.read_log()
    m = re.search(r"input udp: UDP receive buffer (\d+) bytes", log)
    check(m is not None and int(m.group(1)) >= 4 * 1024 * 1024,
          "the granted receive buffer is logged, at least the 4 MiB asked for")

    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    dst = ("127.0.0.1", d.port)
    pad = "x" * 900
    d.signal(signal.SIGSTOP)
    try:
        for i in range(BURST):
            s.sendto(("<13>Jan  1 00:00:00 h app: burst %d %s" % (i, pad)).encode(), dst)
    finally:
        d.signal(signal.SIGCONT)

    # Drain: the records counter stops moving.
    last = [-1]

    def settled():
        n = counters(d)[0]
        same = n == last[0]
        last[0] = n
        return same
    wait_for(settled, timeout=30, step=0.5)
    # The kernel's drop count rides on the datagrams queued after the
    # drops: one more datagram brings it in.
    s.sendto(b"<13>Jan  1 00:00:00 h app: after the burst", dst)
    sent = BURST + 1
    check(wait_for(lambda: counters(d)[0] == last[0] + 1, timeout=10),
          "the datagram after the burst is received")
    records, dropped, kernel = counters(d)
    print("sent %d: records %d, dropped by the input %d, by the kernel %d"
          % (sent, records, dropped, kernel))
    check(kernel is not None and kernel > 0, "the kernel's drops are counted")
    check(records is not None and 0 < records < sent, "the burst overflowed the buffer")
    check(records + (dropped or 0) + kernel == sent,
          "every datagram is a record or counted as dropped")
    s.close()
    check(d.stop() == 0, "clean stop")
    finish()


if __name__ == "__main__":
    main()
