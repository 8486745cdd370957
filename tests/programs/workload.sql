-- A deterministic sqlite3 workload for the whole-program stage.
-- run_programs.sh feeds it to `sqlite3 workload.db` twice (plainly and
-- under sealpool-run, each time in a fresh directory) and requires the two
-- outputs to be identical. Every value is computed from the row numbers, so
-- the output depends on nothing but this file.

.headers on
.mode list
.separator |

PRAGMA journal_mode = DELETE;
PRAGMA page_size = 4096;
PRAGMA cache_size = 200;

CREATE TABLE customers (
  id      INTEGER PRIMARY KEY,
  name    TEXT NOT NULL,
  region  TEXT NOT NULL,
  joined  INTEGER NOT NULL
);

CREATE TABLE orders (
  id          INTEGER PRIMARY KEY,
  customer_id INTEGER NOT NULL REFERENCES customers(id),
  product     TEXT NOT NULL,
  quantity    INTEGER NOT NULL,
  price_cents INTEGER NOT NULL,
  note        TEXT
);

BEGIN TRANSACTION;

WITH RECURSIVE n(i) AS (
  SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 2000
)
INSERT INTO customers (id, name, region, joined)
SELECT i,
       'customer-' || printf('%05d', i) || '-' || substr('abcdefghijklmnopqrstuvwxyz', 1 + (i * 7) % 26, 1 + i % 9),
       CASE i % 5 WHEN 0 THEN 'north' WHEN 1 THEN 'south' WHEN 2 THEN 'east'
                  WHEN 3 THEN 'west' ELSE 'central' END,
       2000 + (i * 13) % 25
FROM n;

WITH RECURSIVE n(i) AS (
  SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 60000
)
INSERT INTO orders (id, customer_id, product, quantity, price_cents, note)
SELECT i,
       1 + (i * 7919) % 2000,
       'product-' || ((i * 31) % 97),
       1 + (i * 17) % 12,
       100 + (i * 104729) % 99900,
       CASE WHEN i % 11 = 0 THEN NULL
            ELSE printf('%.*c', 1 + i % 200, 'x') || '-' || hex(i * 2654435761) END
FROM n;

COMMIT;

CREATE INDEX orders_customer ON orders(customer_id);
CREATE INDEX orders_product ON orders(product, quantity);
CREATE INDEX customers_region ON customers(region, joined);

SELECT 'rows' AS what, (SELECT count(*) FROM customers) AS customers,
       (SELECT count(*) FROM orders) AS orders;

-- GROUP BY with aggregates.
SELECT region, count(*) AS customers, min(joined) AS first, max(joined) AS last
FROM customers GROUP BY region ORDER BY region;

-- JOIN + GROUP BY + HAVING.
SELECT c.region, count(o.id) AS orders, sum(o.quantity * o.price_cents) AS revenue,
       round(avg(o.price_cents), 3) AS avg_price
FROM orders o JOIN customers c ON c.id = o.customer_id
GROUP BY c.region HAVING count(o.id) > 100 ORDER BY revenue DESC;

-- Top customers by revenue (index on orders.customer_id).
SELECT c.name, sum(o.quantity * o.price_cents) AS revenue, count(*) AS n
FROM customers c JOIN orders o ON o.customer_id = c.id
GROUP BY c.id ORDER BY revenue DESC, c.id LIMIT 10;

-- Products: window function over the grouped result.
SELECT product, total, rank() OVER (ORDER BY total DESC, product) AS rnk
FROM (SELECT product, sum(quantity) AS total FROM orders GROUP BY product)
ORDER BY rnk LIMIT 8;

-- String functions and LIKE over the long notes.
SELECT count(*) AS long_notes, sum(length(note)) AS note_bytes,
       max(length(note)) AS longest
FROM orders WHERE note LIKE '%xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx%';

SELECT group_concat(id, ',') AS null_note_sample
FROM (SELECT id FROM orders WHERE note IS NULL ORDER BY id LIMIT 15);

-- Updates and deletes through the indexes, then the same aggregate again.
UPDATE orders SET quantity = quantity + 1 WHERE product IN ('product-3', 'product-42');
DELETE FROM orders WHERE customer_id % 13 = 0;
SELECT count(*) AS orders_left, sum(quantity) AS quantity_left FROM orders;

-- A correlated subquery and a LEFT JOIN.
SELECT count(*) AS customers_without_orders
FROM customers c LEFT JOIN orders o ON o.customer_id = c.id WHERE o.id IS NULL;

SELECT c.id, c.name,
       (SELECT max(o.price_cents) FROM orders o WHERE o.customer_id = c.id) AS max_price
FROM customers c WHERE c.id BETWEEN 100 AND 106 ORDER BY c.id;

-- JSON functions.
SELECT json_group_array(json_object('id', id, 'region', region)) AS sample
FROM (SELECT id, region FROM customers ORDER BY id LIMIT 5);

VACUUM;
PRAGMA integrity_check;
