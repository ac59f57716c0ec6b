// Entry point: the return from the checkout page (`?kp_payment=<id>`) shows the payment status,
// anything else shows the shop. Both live on this one page so the storefront stays a folder of
// static files.
import { createApi } from './api.js';
import { byId, setMessage } from './dom.js';
import { describeError, requestIdNote } from './errors.js';
import { mountShop } from './shop-view.js';
import { mountStatus } from './status-view.js';

const api = createApi();
let shop = null;

function showOnly(id) {
  for (const view of ['boot', 'fatal', 'shop', 'status-view']) byId(view).hidden = view !== id;
}

async function openShop() {
  showOnly('boot');
  try {
    const config = shop ? null : await api.config();
    shop ??= mountShop({ api, config });
    shop.refresh();
    showOnly('shop');
  } catch (error) {
    setMessage(byId('fatal-message'), describeError(error));
    setMessage(byId('fatal-request-id'), requestIdNote(error));
    showOnly('fatal');
  }
}

function backToShop() {
  const url = new URL(location.href);
  url.searchParams.delete('kp_payment');
  history.replaceState(null, '', url);
  openShop();
  byId('main').focus();
}

byId('fatal-retry').addEventListener('click', openShop);

const paymentId = new URLSearchParams(location.search).get('kp_payment');
if (paymentId) {
  showOnly('status-view');
  mountStatus({ api, onBackToShop: backToShop }).show(paymentId);
} else {
  openShop();
}
