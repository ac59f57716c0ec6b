-- The admin API's indexes beyond 0001's (orders helper, round 28; measured by
-- bench/admin-query.mjs over 100,000 rows, table in the README).
-- Search (`q`: LIKE '%q%' over name, e-mail, reference, order id) cannot seek: it walks rows
-- newest first until a page is full. This index holds those four columns (and the other filters'
-- status and fulfilled_ms) in the list's order, so the search's inner query (the page's ids) walks
-- the index alone, never the rows' items and events; only the page's rows are read.
CREATE INDEX IF NOT EXISTS orders_search ON orders (created_ms DESC, id DESC, status, fulfilled_ms, name, email, reference, orderid);
-- `fulfilled=true` / `fulfilled=false`: each a partial index in the list's order, so a filter that
-- matches few rows (an old shop's unfulfilled orders) does not walk all the others.
CREATE INDEX IF NOT EXISTS orders_fulfilled ON orders (created_ms DESC, id DESC) WHERE fulfilled_ms IS NOT NULL;
CREATE INDEX IF NOT EXISTS orders_unfulfilled ON orders (created_ms DESC, id DESC) WHERE fulfilled_ms IS NULL;
-- The summary: counts and totals per status over a created range, read from the index alone.
CREATE INDEX IF NOT EXISTS orders_status_amounts ON orders (status, created_ms, amount_sen);
-- The page's paid totals (today, this week, this month by paid time).
CREATE INDEX IF NOT EXISTS orders_paid ON orders (paid_ms, amount_sen) WHERE status = 'paid';
