// Entry point: the return from the checkout page (`?kp_payment=<id>`) shows the payment status,
// anything else shows the shop. Both live on this one page so the storefront stays a folder of
// static files; both talk to the Worker through the drop-in client, as any shop would.
import { getConfig, paymentIdFromUrl } from './kelantanpay.js';
import { byId, setMessage } from './dom.js';
import { initLanguage, onLanguageChange, t } from './i18n.js';
import { mountShop } from './shop-view.js';
import { mountStatus } from './status-view.js';

let shop = null;
let fatal = null;

function showOnly(id) {
  for (const view of ['boot', 'fatal', 'shop', 'status-view']) byId(view).hidden = view !== id;
}

function renderFatal() {
  setMessage(byId('fatal-message'), fatal?.message);
  setMessage(byId('fatal-request-id'), fatal?.requestId ? t('requestId', { id: fatal.requestId }) : '');
}

async function openShop() {
  showOnly('boot');
  try {
    const config = shop ? null : await getConfig();
    shop ??= mountShop({ config });
    shop.refresh();
    showOnly('shop');
  } catch (error) {
    fatal = error;
    renderFatal();
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

initLanguage();
onLanguageChange(renderFatal);
byId('fatal-retry').addEventListener('click', openShop);

const paymentId = paymentIdFromUrl();
if (paymentId) {
  showOnly('status-view');
  mountStatus({ onBackToShop: backToShop }).show(paymentId);
} else {
  openShop();
}
