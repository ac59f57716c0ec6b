// The cart is `{ sku: quantity }`. Totals here are for display only: in catalog mode the Worker
// prices the order itself from its own catalog.
import { toSen } from './kelantanpay.js';

export const MAX_QUANTITY = 99;
export const MAX_LINES = 50;

export function addOne(cart, sku) {
  const quantity = Math.min(MAX_QUANTITY, (cart[sku] ?? 0) + 1);
  if (!(sku in cart) && Object.keys(cart).length >= MAX_LINES) return cart;
  return { ...cart, [sku]: quantity };
}

/** A quantity below 1 removes the line. */
export function setQuantity(cart, sku, quantity) {
  const { [sku]: _removed, ...rest } = cart;
  const whole = Math.trunc(Number(quantity));
  if (!Number.isFinite(whole) || whole < 1) return rest;
  return { ...rest, [sku]: Math.min(MAX_QUANTITY, whole) };
}

/** Lines in catalog order, each with its product and line total; SKUs no longer in the catalog are dropped. */
export function cartLines(cart, catalog) {
  return catalog
    .filter((product) => cart[product.sku] > 0)
    .map((product) => {
      const quantity = cart[product.sku];
      return { product, quantity, lineSen: (toSen(product.amount) ?? 0) * quantity };
    });
}

export function totalSen(lines) {
  return lines.reduce((sum, line) => sum + line.lineSen, 0);
}

export function itemCount(lines) {
  return lines.reduce((sum, line) => sum + line.quantity, 0);
}
