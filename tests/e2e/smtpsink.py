"""An SMTP sink for the e2e tests that mail (e2e_comms, e2e_escalation):
just enough SMTP for libcurl's client (EHLO/HELO, MAIL, RCPT, DATA with
dot-unstuffing, RSET, NOOP, QUIT).  Every mail is kept as (envelope
recipients, data bytes); every RCPT TO address is noted, and those in
`refuse` get 451 (try again later)."""

import socketserver
import threading


def start(mails, lock, rcpt_tries=None, refuse=(), port=0):
    """Serves on 127.0.0.1:port (0: any) in a thread, appending to mails
    (and rcpt_tries) under lock.  Returns the server (its port is
    server_address[1])."""

    class Smtp(socketserver.StreamRequestHandler):
        def reply(self, line):
            self.wfile.write(line.encode() + b"\r\n")
            self.wfile.flush()

        def handle(self):
            self.reply("220 sink.example ESMTP")
            rcpts = []
            while True:
                line = self.rfile.readline()
                if not line:
                    return
                cmd = line.decode(errors="replace").strip()
                up = cmd.upper()
                if up.startswith("EHLO"):
                    self.reply("250-sink.example")
                    self.reply("250 8BITMIME")
                elif up.startswith("HELO"):
                    self.reply("250 sink.example")
                elif up.startswith("MAIL FROM:"):
                    rcpts = []
                    self.reply("250 ok")
                elif up.startswith("RCPT TO:"):
                    addr = cmd[8:].strip().strip("<>")
                    if rcpt_tries is not None:
                        with lock:
                            rcpt_tries.append(addr)
                    if addr in refuse:
                        self.reply("451 4.3.0 mailbox temporarily unavailable")
                    else:
                        rcpts.append(addr)
                        self.reply("250 ok")
                elif up == "DATA":
                    self.reply("354 go ahead")
                    data = b""
                    while True:
                        part = self.rfile.readline()
                        if not part or part == b".\r\n":
                            break
                        data += part[1:] if part.startswith(b"..") else part
                    with lock:
                        mails.append((list(rcpts), data))
                    rcpts = []
                    self.reply("250 queued")
                elif up in ("RSET", "NOOP"):
                    self.reply("250 ok")
                elif up == "QUIT":
                    self.reply("221 bye")
                    return
                else:
                    self.reply("502 not implemented")

    socketserver.ThreadingTCPServer.allow_reuse_address = True
    srv = socketserver.ThreadingTCPServer(("127.0.0.1", port), Smtp)
    srv.daemon_threads = True
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    return srv
