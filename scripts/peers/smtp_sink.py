"""notifyd's SMTP test sink: an aiosmtpd handler that stores every message it
accepts in a Maildir and refuses chosen recipients (or a random share of
them), so tests can see what a real SMTP server does with notifyd's mail and
how notifyd copes with 4xx and 5xx replies.

Run it through aiosmtpd (scripts/peers/smtp.sh does):

    PYTHONPATH=scripts/peers /usr/bin/python3 -m aiosmtpd -n -l 127.0.0.1:PORT \
        --tlscert DIR/cert.pem --tlskey DIR/key.pem --no-requiretls \
        -c smtp_sink.Sink DIR

Messages land in DIR/maildir/new, byte for byte as received, preceded by
a Return-Path header (the MAIL FROM address) and an X-RcptTo header (the
accepted RCPT TO addresses, comma separated).

DIR/rules.json, re-read for every command it concerns (a missing or empty
file means accept everything), decides refusals:

    {
      "temp_fail": {"alice@example.org": 2},   # 451 the first 2 times, then accept
      "rate_fail": {"@gmail.example": 3},      # 421 4.7.28 "unusual rate" (Gmail's words) to the
                                               # first 3 recipients of the domain, then accept
      "perm_fail": ["bob@example.org", "@bad.example"],   # 550 every time
      "random_temp_fail": 0.3,                 # refuse about 30% of the others for now:
                                               # half 421 (and close the connection), half 451
      "seed": 7,                               # the random refusals' seed (optional)
      "stage": "rcpt",                         # or "data": refuse after the DATA body
      "hold": true                             # store each message, then hold its 250 reply
    }

While "hold" is true, each message is stored as soon as its DATA ends, but
its 250 reply waits until the rules no longer say "hold": the message has
reached its recipient and the sender does not know it yet. DIR/held holds
how many replies are held now.

An address matches a rule written as the same address (case-insensitive),
as "@domain" for a whole domain, or as "*" for everyone. temp_fail and
rate_fail count attempts per rule from the moment the file was last
written: writing it again, even with the same content, starts the counts
afresh, and so does restarting the server. rate_fail's refusal is what a
mailbox provider answers a sender that bursts at it: a 421 (after which
the sink closes the connection) whose text speaks of rate; counting
refusals rather than timing the messages keeps a test deterministic.
"""

import asyncio
import json
import os
import random
import socket
import time

TEMP_REPLY = "451 4.3.0 <{addr}>: mailbox temporarily unavailable, try again later (test rule)"
PERM_REPLY = "550 5.1.1 <{addr}>: recipient address rejected: user unknown (test rule)"
CLOSE_REPLY = "421 4.3.2 <{addr}>: service not available, closing transmission channel (test rule)"
RATE_REPLY = (
    "421 4.7.28 <{addr}>: Our system has detected an unusual rate of unsolicited mail originating"
    " from your IP address. To protect our users from spam, mail sent from your IP address has been"
    " temporarily rate limited. (test rule)"
)


class Sink:
    """aiosmtpd handler: Maildir storage plus rule-driven 451/550 refusals."""

    def __init__(self, directory):
        self.directory = directory
        self.maildir = os.path.join(directory, "maildir")
        for sub in ("tmp", "new", "cur"):
            os.makedirs(os.path.join(self.maildir, sub), exist_ok=True)
        self.rules_path = os.path.join(directory, "rules.json")
        self.rules_key = None
        self.rules = {}
        self.counts = {}
        self.random = random.Random()
        self.seq = 0
        self.held = 0
        self.host = socket.gethostname().replace("/", "_").replace(":", "_")

    @classmethod
    def from_cli(cls, parser, *args):
        if len(args) != 1:
            parser.error("smtp_sink.Sink takes one argument: the peer directory")
        return cls(args[0])

    def _load_rules(self):
        try:
            with open(self.rules_path, "rb") as f:
                raw = f.read()
                mtime = os.fstat(f.fileno()).st_mtime_ns
        except FileNotFoundError:
            raw, mtime = b"", 0
        if (raw, mtime) != self.rules_key:
            self.rules_key = (raw, mtime)
            self.counts = {}
            try:
                self.rules = json.loads(raw) if raw.strip() else {}
            except ValueError as e:
                print(f"smtp_sink: ignoring unreadable {self.rules_path}: {e}", flush=True)
                self.rules = {}
            self.random.seed(self.rules.get("seed"))
        return self.rules

    @staticmethod
    def _matching(rules, addr):
        addr = addr.lower()
        for rule in rules:
            r = str(rule).lower()
            if r == "*" or r == addr or (r.startswith("@") and addr.endswith(r)):
                return rule
        return None

    def _verdict(self, addr):
        """The refusal reply for addr, or None to accept it."""
        rules = self._load_rules()
        if self._matching(rules.get("perm_fail") or [], addr) is not None:
            return PERM_REPLY.format(addr=addr)
        for key, reply in (("rate_fail", RATE_REPLY), ("temp_fail", TEMP_REPLY)):
            counted = rules.get(key) or {}
            rule = self._matching(list(counted), addr)
            if rule is not None:
                n = self.counts.get((key, rule), 0)
                if n < int(counted[rule]):
                    self.counts[(key, rule)] = n + 1
                    return reply.format(addr=addr)
        share = float(rules.get("random_temp_fail") or 0)
        if share > 0 and self.random.random() < share:
            if self.random.random() < 0.5:
                return CLOSE_REPLY.format(addr=addr)
            return TEMP_REPLY.format(addr=addr)
        return None

    @staticmethod
    def _refuse(server, verdict):
        """Sends verdict; a 421 also closes the connection, as RFC 5321 says."""
        if verdict.startswith("421"):
            # After the reply is written: closing flushes what is buffered.
            asyncio.get_running_loop().call_soon(server.transport.close)
        return verdict

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if self._load_rules().get("stage", "rcpt") == "rcpt":
            verdict = self._verdict(address)
            if verdict:
                return self._refuse(server, verdict)
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        if self._load_rules().get("stage", "rcpt") == "data":
            for addr in envelope.rcpt_tos:
                verdict = self._verdict(addr)
                if verdict:
                    return self._refuse(server, verdict)
        content = envelope.original_content
        if content is None:
            content = envelope.content
        if isinstance(content, str):
            content = content.encode("utf-8", "surrogateescape")
        head = "Return-Path: <{}>\r\nX-RcptTo: {}\r\n".format(
            envelope.mail_from or "", ", ".join(envelope.rcpt_tos)
        ).encode("utf-8", "surrogateescape")
        self.seq += 1
        name = "{:.6f}.P{}Q{}.{}".format(time.time(), os.getpid(), self.seq, self.host)
        tmp = os.path.join(self.maildir, "tmp", name)
        with open(tmp, "wb") as f:
            f.write(head)
            f.write(content)
            f.flush()
            os.fsync(f.fileno())
        os.rename(tmp, os.path.join(self.maildir, "new", name))
        if self._load_rules().get("hold"):
            self._count_held(+1)
            try:
                while self._load_rules().get("hold"):
                    await asyncio.sleep(0.01)
            finally:
                self._count_held(-1)
        return "250 OK: queued as " + name

    def _count_held(self, delta):
        """Adds delta to the replies held now and writes the count to DIR/held."""
        self.held += delta
        path = os.path.join(self.directory, "held")
        with open(path + ".tmp", "w") as f:
            f.write(str(self.held))
        os.rename(path + ".tmp", path)
