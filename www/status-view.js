// The page the payer returns to (`?kp_payment=<id>`): the live status of the payment, a receipt
// once paid, a way back to the cart once failed. It only shows what the Worker confirmed; the
// drop-in client's watchStatus does the polling and ends the payment attempt at a final status.
import { formatRinggit, receiptUrl, statusLabel, watchStatus } from './kelantanpay.js';
import { byId, setMessage } from './dom.js';
import { forget } from './session.js';
import { locale, onLanguageChange, t } from './i18n.js';

export function mountStatus({ onBackToShop }) {
  let controller = null;
  // What is on screen, so that a language switch can render it again.
  let state = { id: null, look: 'pending', payment: null, error: null, active: true };

  function render() {
    const { look, payment, error, active } = state;
    const pill = byId('payment-status');
    pill.dataset.status = look === 'timeout' ? 'pending' : look === 'invalid' ? 'error' : look;
    pill.textContent = look === 'invalid' ? t('invalid.pill') : statusLabel(look === 'timeout' ? 'pending' : look);
    byId('status-title').textContent = t(`${look}.title`);
    const checking = error && active ? t('checkFailed', { reason: error.message }) : null;
    byId('status-message').textContent = checking ?? (error && look !== 'invalid' ? error.message : t(`${look}.message`, { code: payment?.code }));
    byId('status-progress').hidden = !active;
    byId('status-view').dataset.state = look;
    byId('try-again').hidden = look !== 'failed';
    byId('check-again').hidden = active || !['timeout', 'unknown', 'pending'].includes(look);
    const back = byId('continue-shopping');
    back.hidden = (active && look !== 'paid') || look === 'failed';
    back.textContent = look === 'paid' ? t('continueShopping') : t('backToStore');
    setMessage(byId('status-request-id'), error?.requestId ? t('requestId', { id: error.requestId }) : '');
    renderReceipt(look === 'paid' ? payment : null);
  }

  function renderReceipt(payment) {
    byId('receipt').hidden = !payment;
    // the Worker's printable receipt (BM and EN), there once the payment is paid
    const link = byId('receipt-link');
    link.hidden = !payment;
    if (!payment) return;
    link.href = receiptUrl(state.id);
    byId('receipt-amount').textContent = payment.amount ? formatRinggit(payment.amount) : t('seeEmail');
    byId('receipt-reference').textContent = payment.reference ?? '';
    byId('receipt-order-row').hidden = !payment.orderid;
    byId('receipt-order').textContent = payment.orderid ?? '';
    const checked = new Date(payment.checked_at ?? Date.now());
    byId('receipt-time').textContent = Number.isNaN(checked.getTime())
      ? payment.checked_at
      : checked.toLocaleString(locale(), { dateStyle: 'medium', timeStyle: 'short' });
  }

  const update = (next) => {
    state = { ...state, ...next };
    render();
  };

  async function watch() {
    controller?.abort();
    controller = new AbortController();
    const { signal } = controller;
    update({ active: true, error: null });
    try {
      const last = await watchStatus(state.id, {
        signal,
        onChange: (payment) => update({ look: ['paid', 'failed', 'pending'].includes(payment.status) ? payment.status : 'unknown', payment, error: null }),
        // keep the last known state: an error while checking says nothing about the payment
        onError: (error) => update({ error }),
      });
      if (last?.status === 'paid') {
        forget('cart');
        forget('contact');
      }
      update({ active: false, error: null, look: last && ['paid', 'failed'].includes(last.status) ? state.look : 'timeout' });
    } catch (error) {
      if (signal.aborted) return;
      update({ active: false, error, look: error.status === 404 ? 'invalid' : state.look });
    }
  }

  function leave() {
    controller?.abort();
    onBackToShop();
  }

  byId('check-again').addEventListener('click', watch);
  byId('try-again').addEventListener('click', leave);
  byId('continue-shopping').addEventListener('click', leave);
  onLanguageChange(() => state.id && render());

  return {
    show(id) {
      state = { id, look: 'pending', payment: null, error: null, active: true };
      watch();
      byId('status-view').hidden = false;
      byId('status-title').focus?.();
    },
  };
}
