-- sealpool — malloc workload "sqlite": the sqlite3 shell on an in-memory
-- database. tools/bench/malloc_bench.sh runs it as
--
--   sqlite3 -batch -bail -init /dev/null :memory: \
--     '.parameter set @batch 10000' '.read tools/bench/workloads/sqlite.sql'
--
-- @batch rows are inserted per transaction, in 20 transactions (default
-- 10,000: 200,000 rows; --quick 1,000). The data comes from a recursive
-- CTE over a multiplicative hash of the row number (no random()), so every
-- run prints the same results; malloc_bench.sh compares the output of every
-- allocator with glibc's.
--
-- Where the allocator is used: the page cache of the in-memory database
-- (mostly a malloc per page), B-tree balancing, the sorter of CREATE INDEX,
-- ORDER BY and GROUP BY, strings built by printf(), group_concat() and the
-- JSON functions, temporary B-trees of DISTINCT and IN, and the parsing and
-- preparing of every statement.

PRAGMA cache_size = -131072;

CREATE TABLE item (
  id      INTEGER PRIMARY KEY,
  grp     INTEGER NOT NULL,
  name    TEXT NOT NULL,
  price   REAL NOT NULL,
  qty     INTEGER NOT NULL,
  payload TEXT NOT NULL
);
CREATE TABLE grp (
  id    INTEGER PRIMARY KEY,
  label TEXT NOT NULL
);
CREATE TEMP TABLE cfg AS
  SELECT @batch AS batch,
         printf('%.230c', 'x') || 'abcdefghijklmnopqrstuvwxyz' AS fill;

-- The next @batch rows after the last id so far. h is a 31-bit hash of the
-- row number; the payload is 10-200 bytes of cfg.fill.
CREATE TEMP VIEW next_batch AS
  WITH RECURSIVE
    base(b, k) AS (SELECT (SELECT coalesce(max(id), 0) FROM item),
                          (SELECT batch FROM cfg)),
    seq(n) AS (SELECT b + 1 FROM base
               UNION ALL SELECT n + 1 FROM seq, base WHERE n < b + k),
    hashed(n, h) AS (SELECT n, (n * 2654435761) % 2147483647 FROM seq)
  SELECT n AS id, h % 1000 AS grp,
         printf('item-%06d-%x', h % 999983, h) AS name,
         (h % 100000) / 100.0 AS price, 1 + h % 50 AS qty,
         substr(fill, 1 + h % 37, 10 + h % 191) AS payload
  FROM hashed, cfg;

-- 20 transactions of @batch rows.
BEGIN; INSERT INTO item SELECT * FROM next_batch; COMMIT;
BEGIN; INSERT INTO item SELECT * FROM next_batch; COMMIT;
BEGIN; INSERT INTO item SELECT * FROM next_batch; COMMIT;
BEGIN; INSERT INTO item SELECT * FROM next_batch; COMMIT;
BEGIN; INSERT INTO item SELECT * FROM next_batch; COMMIT;
BEGIN; INSERT INTO item SELECT * FROM next_batch; COMMIT;
BEGIN; INSERT INTO item SELECT * FROM next_batch; COMMIT;
BEGIN; INSERT INTO item SELECT * FROM next_batch; COMMIT;
BEGIN; INSERT INTO item SELECT * FROM next_batch; COMMIT;
BEGIN; INSERT INTO item SELECT * FROM next_batch; COMMIT;
BEGIN; INSERT INTO item SELECT * FROM next_batch; COMMIT;
BEGIN; INSERT INTO item SELECT * FROM next_batch; COMMIT;
BEGIN; INSERT INTO item SELECT * FROM next_batch; COMMIT;
BEGIN; INSERT INTO item SELECT * FROM next_batch; COMMIT;
BEGIN; INSERT INTO item SELECT * FROM next_batch; COMMIT;
BEGIN; INSERT INTO item SELECT * FROM next_batch; COMMIT;
BEGIN; INSERT INTO item SELECT * FROM next_batch; COMMIT;
BEGIN; INSERT INTO item SELECT * FROM next_batch; COMMIT;
BEGIN; INSERT INTO item SELECT * FROM next_batch; COMMIT;
BEGIN; INSERT INTO item SELECT * FROM next_batch; COMMIT;

-- Indexes: the sorter, then B-trees built from sorted runs.
CREATE INDEX item_grp ON item (grp, price);
CREATE INDEX item_name ON item (name);

INSERT INTO grp
  SELECT DISTINCT grp, printf('group %03d (%s)', grp,
                              char(65 + grp % 26, 65 + grp / 26 % 26))
  FROM item;

-- Updates and deletes in a transaction: rows change size, pages split and
-- merge.
BEGIN;
UPDATE item SET payload = payload || '-updated-' || qty, qty = qty + 1
  WHERE id % 7 = 3;
DELETE FROM item WHERE id % 11 = 5;
COMMIT;

-- Aggregate queries.
SELECT count(*), sum(qty), round(sum(price * qty), 2), sum(length(payload))
  FROM item;
SELECT grp, count(*), round(avg(price), 4), min(price), max(price)
  FROM item GROUP BY grp ORDER BY count(*) DESC, grp LIMIT 10;
SELECT g.label, count(*), round(sum(i.price), 2)
  FROM item AS i JOIN grp AS g ON g.id = i.grp
  WHERE i.price BETWEEN 100 AND 200
  GROUP BY g.id ORDER BY 3 DESC LIMIT 5;
SELECT length(group_concat(name, ',')), count(DISTINCT substr(payload, 1, 12))
  FROM item;
SELECT qty, count(*), length(json_group_array(json_object('id', id, 'n', name)))
  FROM item WHERE qty <= 8 GROUP BY qty ORDER BY qty;
SELECT sum(length(name)), max(payload) FROM (
  SELECT name, payload FROM item WHERE grp < 250 ORDER BY payload, id);
SELECT count(*) FROM item WHERE grp IN (SELECT id FROM grp WHERE label LIKE '%A%');
SELECT id, name, price FROM item WHERE name > 'item-5' ORDER BY name LIMIT 3;
-- A window function over part of the table.
SELECT max(r), sum(d) FROM (
  SELECT rank() OVER (PARTITION BY grp ORDER BY price DESC) AS r,
         qty - lag(qty, 1, 0) OVER (PARTITION BY grp ORDER BY price DESC) AS d
  FROM item WHERE grp < 100);
