"""A deterministic Python workload for the whole-program stage.

run_programs.sh runs it twice, with PYTHONMALLOC=malloc (so that every
object comes from the C allocator, not from pymalloc's arenas), once plainly
and once under sealpool-run, and requires the two outputs to be identical.
It exercises classes, dicts, sets, sorting, json, re, struct, hashlib,
string building, bytes/bytearray copies, file I/O, a socketpair and a few
threads; it starts no subprocess. Every line it prints is a pure function of the code.
"""

import collections
import hashlib
import json
import os
import re
import struct
import sys
import tempfile
import threading


class Account:
    """A small class with __slots__-less instances, so each has a dict."""

    def __init__(self, ident, owner, balance):
        self.ident = ident
        self.owner = owner
        self.balance = balance
        self.history = []

    def deposit(self, amount):
        self.balance += amount
        self.history.append(("deposit", amount))

    def withdraw(self, amount):
        if amount > self.balance:
            self.history.append(("refused", amount))
            return False
        self.balance -= amount
        self.history.append(("withdraw", amount))
        return True

    def to_dict(self):
        return {
            "id": self.ident,
            "owner": self.owner,
            "balance": self.balance,
            "history": [list(h) for h in self.history],
        }


class SavingsAccount(Account):
    def __init__(self, ident, owner, balance, rate):
        super().__init__(ident, owner, balance)
        self.rate = rate

    def accrue(self):
        interest = self.balance * self.rate // 1000
        self.deposit(interest)
        return interest


def lcg(seed):
    """A fixed pseudo-random sequence (no dependency on random's seeding)."""
    state = seed
    while True:
        state = (state * 6364136223846793005 + 1442695040888963407) % (1 << 64)
        yield state >> 33


def build_accounts(n):
    rng = lcg(12345)
    names = ["ada", "brian", "carol", "dennis", "edsger", "frances", "grace",
             "hedy", "ivan", "jean", "ken", "linus", "margaret", "niklaus"]
    accounts = []
    for i in range(n):
        owner = names[next(rng) % len(names)] + "-" + str(next(rng) % 97)
        balance = next(rng) % 100000
        if i % 3 == 0:
            acct = SavingsAccount(i, owner, balance, 1 + next(rng) % 50)
        else:
            acct = Account(i, owner, balance)
        accounts.append(acct)
    for _ in range(n * 20):
        acct = accounts[next(rng) % n]
        amount = next(rng) % 5000
        if next(rng) % 2:
            acct.deposit(amount)
        else:
            acct.withdraw(amount)
    interest = sum(a.accrue() for a in accounts if isinstance(a, SavingsAccount))
    return accounts, interest


def text_workload():
    words = []
    rng = lcg(777)
    alphabet = "abcdefghijklmnopqrstuvwxyz"
    for _ in range(20000):
        length = 1 + next(rng) % 12
        words.append("".join(alphabet[next(rng) % 26] for _ in range(length)))
    text = " ".join(words)
    # String building, several ways.
    parts = []
    for i, w in enumerate(words[:5000]):
        parts.append(f"{i:05d}:{w.upper()}")
    joined = ",".join(parts)
    buf = []
    for w in words[:3000]:
        buf.append(w[::-1])
    reversed_text = "".join(buf)
    # Regular expressions.
    vowels = re.compile(r"[aeiou]{2,}")
    runs = collections.Counter(m.group(0) for m in vowels.finditer(text))
    pattern = re.compile(r"\b(q\w*)\b")
    q_words = sorted(set(pattern.findall(text)))
    replaced = re.sub(r"(\w)(\w*)", lambda m: m.group(1).upper() + m.group(2),
                      text[:2000])
    counts = collections.Counter(words)
    top = sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))[:10]
    return {
        "words": len(words),
        "chars": len(text),
        "joined_len": len(joined),
        "joined_sha": hashlib.sha256(joined.encode()).hexdigest(),
        "reversed_sha": hashlib.sha256(reversed_text.encode()).hexdigest(),
        "vowel_runs": runs.most_common(5),
        "q_words": len(q_words),
        "q_first": q_words[:5],
        "replaced_sha": hashlib.sha256(replaced.encode()).hexdigest(),
        "top": top,
    }


def bytes_workload():
    rng = lcg(4242)
    blob = bytearray()
    for _ in range(4096):
        blob += struct.pack("<IHB", next(rng) & 0xFFFFFFFF, next(rng) & 0xFFFF,
                            next(rng) & 0xFF)
    chunks = [bytes(blob[i:i + 333]) for i in range(0, len(blob), 333)]
    rebuilt = b"".join(chunks)
    assert rebuilt == bytes(blob)
    records = [struct.unpack_from("<IHB", rebuilt, off)
               for off in range(0, len(rebuilt), 7)]
    total = sum(r[0] ^ r[1] ^ r[2] for r in records)
    mv = memoryview(rebuilt)
    sliced = bytes(mv[100:2100])
    # File I/O through the C library (read/write of heap buffers).
    with tempfile.TemporaryDirectory() as d:
        path = os.path.join(d, "blob.bin")
        with open(path, "wb") as f:
            for c in chunks:
                f.write(c)
        with open(path, "rb") as f:
            back = f.read()
        with open(path, "rb", buffering=0) as f:
            pieces = []
            while True:
                p = f.read(1000)
                if not p:
                    break
                pieces.append(p)
    assert back == rebuilt and b"".join(pieces) == rebuilt
    return {
        "bytes": len(rebuilt),
        "records": len(records),
        "xor_sum": total,
        "slice_md5": hashlib.md5(sliced).hexdigest(),
        "blob_sha1": hashlib.sha1(rebuilt).hexdigest(),
    }


def thread_workload():
    """A few threads sharing a queue-like list under a lock; the result is
    independent of the scheduling."""
    lock = threading.Lock()
    results = {}
    work = list(range(2000))

    def worker(name):
        local = collections.defaultdict(list)
        while True:
            with lock:
                if not work:
                    break
                item = work.pop()
            digest = hashlib.sha256(str(item).encode() * 10).hexdigest()
            local[digest[0]].append(item)
        with lock:
            for k, v in local.items():
                results.setdefault(k, []).extend(v)

    threads = [threading.Thread(target=worker, args=(f"t{i}",)) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    summary = {k: (len(v), sum(v)) for k, v in sorted(results.items())}
    return summary


def socket_workload():
    """Messages through a socketpair, a thread on each end: send/recv and
    sendall/recv_into of heap buffers, length-prefixed frames."""
    import socket

    left, right = socket.socketpair()
    frames = [bytes((i * 7 + k) & 0xFF for k in range(1 + (i * 97) % 5000))
              for i in range(300)]
    received = []

    def sender():
        for f in frames:
            left.sendall(struct.pack("<I", len(f)) + f)
        left.shutdown(socket.SHUT_WR)

    def receiver():
        buf = bytearray()
        scratch = bytearray(4096)
        while True:
            n = right.recv_into(scratch)
            if n == 0:
                break
            buf += scratch[:n]
        off = 0
        while off < len(buf):
            (length,) = struct.unpack_from("<I", buf, off)
            received.append(bytes(buf[off + 4:off + 4 + length]))
            off += 4 + length

    threads = [threading.Thread(target=sender), threading.Thread(target=receiver)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    left.close()
    right.close()
    assert received == frames
    return {
        "frames": len(received),
        "bytes": sum(len(f) for f in received),
        "sha256": hashlib.sha256(b"".join(received)).hexdigest(),
    }


def main():
    accounts, interest = build_accounts(600)
    doc = {
        "accounts": [a.to_dict() for a in accounts],
        "interest": interest,
    }
    encoded = json.dumps(doc, sort_keys=True)
    decoded = json.loads(encoded)
    assert decoded == json.loads(json.dumps(decoded, sort_keys=True, indent=2))
    richest = sorted(accounts, key=lambda a: (-a.balance, a.ident))[:5]
    by_owner = collections.defaultdict(int)
    for a in accounts:
        by_owner[a.owner.split("-")[0]] += a.balance
    print("accounts:", len(accounts), "interest:", interest)
    print("json bytes:", len(encoded),
          "sha256:", hashlib.sha256(encoded.encode()).hexdigest())
    print("richest:", [(a.ident, a.owner, a.balance) for a in richest])
    print("by owner:", sorted(by_owner.items()))
    refused = sum(1 for a in accounts for h in a.history if h[0] == "refused")
    print("refused withdrawals:", refused)

    text = text_workload()
    for key in sorted(text):
        print("text", key, text[key])

    data = bytes_workload()
    for key in sorted(data):
        print("bytes", key, data[key])

    sock = socket_workload()
    for key in sorted(sock):
        print("socket", key, sock[key])

    threads = thread_workload()
    print("threads buckets:", len(threads), "items:",
          sum(n for n, _ in threads.values()))
    print("threads summary:", json.dumps(threads, sort_keys=True))

    # Dict and set churn: insertions and deletions that resize the tables.
    d = {}
    for i in range(50000):
        d[f"k{i}"] = i * i
    for i in range(0, 50000, 3):
        del d[f"k{i}"]
    s = set(d.values())
    print("dict:", len(d), sum(d.values()) % 1000003, "set:", len(s))
    print("done")
    return 0


if __name__ == "__main__":
    sys.exit(main())
