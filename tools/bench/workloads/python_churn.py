"""sealpool — malloc workload "python": CPython object churn.

    PYTHONMALLOC=malloc PYTHONHASHSEED=0 python3 python_churn.py [--quick] [--seed N]
        [--rounds N]

tools/bench/malloc_bench.sh runs it so. With PYTHONMALLOC=malloc CPython
takes every object from malloc() instead of its own small-object arena
(pymalloc), so ints, tuples, strings, lists and dicts all become malloc
and free calls of 16-200 bytes, with the occasional large list or string.
Four phases (--rounds N repeats them; --quick makes them 10 times smaller):

  records  build a list of 60,000 tuples (int, float, str), sort it by
           several keys, group it into a dict of lists;
  text     150,000 words: count them in a dict, join, slice and split
           strings, str.format and f-strings;
  json     dump a nested structure of 8,000 records (dicts and lists) to
           JSON and load it back, three times;
  graph    40,000 instances of a small class with a list of edges each,
           and a breadth-first search with a deque and a set of tuples.

Everything is drawn from random.Random(seed), and only insertion-ordered
containers are iterated, so the printed lines (sizes and a SHA-256 of
results) are the same under every malloc.
"""

import argparse
import collections
import hashlib
import json
import random


def records(rng, n, digest):
    names = ["alpha", "beta", "gamma", "delta", "epsilon", "zeta", "eta"]
    rows = [
        (rng.randrange(1_000_000), rng.random() * 1000.0,
         rng.choice(names) + "-" + str(rng.randrange(10_000)))
        for _ in range(n)
    ]
    by_key = sorted(rows)
    by_value = sorted(rows, key=lambda r: (r[1], r[0]))
    by_name = sorted(rows, key=lambda r: (r[2], -r[0]))
    groups = {}
    for row in by_name:
        groups.setdefault(row[2].split("-")[0], []).append(row)
    summary = [(k, len(v), round(sum(r[1] for r in v), 3))
               for k, v in groups.items()]
    digest.update(repr((by_key[:3], by_value[-3:], by_name[n // 2],
                        summary)).encode())
    return len(rows)


def text(rng, n, digest):
    letters = "abcdefghijklmnopqrstuvwxyz"
    words = ["".join(rng.choice(letters) for _ in range(rng.randint(2, 12)))
             for _ in range(4000)]
    stream = [rng.choice(words) for _ in range(n)]
    counts = {}
    for w in stream:
        counts[w] = counts.get(w, 0) + 1
    top = sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))[:20]
    doc = " ".join(stream)
    lines = [doc[i:i + 80] for i in range(0, len(doc), 80)]
    upper = [line.upper().replace("A", "4") for line in lines]
    formatted = ["{:>6}|{}|{:.3f}".format(i, w, len(w) / 7)
                 for i, w in enumerate(stream[:20000])]
    fstrings = [f"{w}:{i % 97}:{w[::-1]}" for i, w in enumerate(stream[:20000])]
    resplit = sum(len(line.split()) for line in upper)
    digest.update(repr((top, len(doc), resplit, formatted[-1],
                        fstrings[777])).encode())
    return len(counts)


def json_phase(rng, n, digest):
    data = {
        "items": [
            {"id": i, "name": "item%d" % i, "tags": ["t%d" % (i % 7), "x"],
             "price": round(rng.random() * 100, 2),
             "dims": {"w": rng.randint(1, 50), "h": rng.randint(1, 50)}}
            for i in range(n)
        ],
        "meta": {"version": 3, "source": "sealpool"},
    }
    total = 0
    for _ in range(3):
        s = json.dumps(data, sort_keys=True)
        data = json.loads(s)
        total += len(s)
    digest.update(hashlib.sha256(s.encode()).digest())
    return total


class Node:
    def __init__(self, key, weight):
        self.key = key
        self.weight = weight
        self.edges = []


def graph(rng, n, digest):
    nodes = [Node(i, rng.random()) for i in range(n)]
    for node in nodes:
        for _ in range(4):
            node.edges.append(nodes[rng.randrange(n)])
    seen = {(0, 0)}
    order = []
    queue = collections.deque([(nodes[0], 0)])
    while queue:
        node, depth = queue.popleft()
        order.append((node.key, depth))
        for nxt in node.edges:
            state = (nxt.key, nxt.key % 3)
            if state not in seen:
                seen.add(state)
                queue.append((nxt, depth + 1))
    depths = collections.Counter(d for _, d in order)
    digest.update(repr((len(order), sorted(depths.items()),
                        order[-5:])).encode())
    return len(order)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--rounds", type=int, default=1)
    args = parser.parse_args()
    rounds = args.rounds
    scale = 10 if args.quick else 1
    rng = random.Random(args.seed)
    digest = hashlib.sha256()
    sizes = []
    for _ in range(rounds):
        sizes.append(records(rng, 60_000 // scale, digest))
        sizes.append(text(rng, 150_000 // scale, digest))
        sizes.append(json_phase(rng, 8_000 // scale, digest))
        sizes.append(graph(rng, 40_000 // scale, digest))
    print("python seed=%d rounds=%d sizes=%s" % (args.seed, rounds, sizes))
    print("checksum", digest.hexdigest())


if __name__ == "__main__":
    main()
