-- The ledger: one row per payment, written by the payment's object (worker/src/payment/ledger.rs
-- decides the row; the upsert never goes back: WHERE excluded.revision > orders.revision).
-- fulfilled_ms and note are the merchant's: the object never writes them.
CREATE TABLE IF NOT EXISTS orders (
  id TEXT PRIMARY KEY,            -- payment handle
  reference TEXT NOT NULL,
  orderid TEXT NOT NULL,
  status TEXT NOT NULL,           -- pending | paid | failed | unknown
  code TEXT,
  amount_sen INTEGER NOT NULL,
  currency TEXT NOT NULL DEFAULT 'MYR',
  created_ms INTEGER NOT NULL,
  updated_ms INTEGER NOT NULL,
  paid_ms INTEGER,
  name TEXT, email TEXT, mobile TEXT,      -- NULL once erased (KP_RETENTION_DAYS)
  description TEXT NOT NULL,
  items TEXT NOT NULL DEFAULT '[]',        -- JSON [{"sku","name","quantity","amount":"45.00"}]
  ref_1 TEXT, ref_2 TEXT, ref_3 TEXT,
  events TEXT NOT NULL DEFAULT '[]',       -- JSON [{"type","id","attempts","result","last_at"}]
  revision INTEGER NOT NULL,               -- the object's write counter
  fulfilled_ms INTEGER, note TEXT          -- the merchant's: NEVER written by the object
);
CREATE INDEX IF NOT EXISTS orders_by_created ON orders (created_ms DESC, id DESC);
CREATE INDEX IF NOT EXISTS orders_by_status ON orders (status, created_ms DESC, id DESC);
