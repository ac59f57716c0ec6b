// The page the payer returns to (`?kp_payment=<id>`): the live status of the payment, a receipt
// once paid, a way back to the cart once failed. It only shows what the Worker confirmed.
import { byId, setMessage } from './dom.js';
import { formatAmount } from './money.js';
import { watchPayment } from './status.js';
import { endAttempt, rememberedPayment } from './checkout.js';
import { forget } from './session.js';
import { describeError, requestIdNote } from './errors.js';
import { sentence } from './validate.js';

const LOOKS = {
  pending: {
    pill: 'Pending',
    title: 'Confirming your payment…',
    message: 'Waiting for KelantanPay to confirm. This usually takes a few seconds; keep this page open.',
  },
  paid: { pill: 'Paid', title: 'Thank you! Your payment is complete', message: 'Keep the reference below for your records.' },
  failed: {
    pill: 'Failed',
    title: 'The payment did not go through',
    message: 'It was declined or cancelled. Your cart is still here if you want to try again.',
  },
  unknown: {
    pill: 'Unknown',
    title: 'We cannot confirm this payment yet',
    message: 'KelantanPay reported a status we do not recognise. We will keep checking.',
  },
  timeout: {
    pill: 'Pending',
    title: 'Still pending',
    message: 'KelantanPay has not confirmed this payment yet. Refresh this page later to check again.',
  },
  invalid: {
    pill: 'Error',
    title: 'We could not find this payment',
    message: 'This payment link is not valid. If you were charged, contact the store with your bank reference.',
  },
};

export function mountStatus({ api, onBackToShop }) {
  let controller = null;
  let current = { id: null, look: null };

  function render(lookName, { payment, message, error, active }) {
    const look = LOOKS[lookName];
    const pill = byId('payment-status');
    pill.dataset.status = lookName === 'timeout' ? 'pending' : lookName === 'invalid' ? 'error' : lookName;
    pill.textContent = look.pill;
    byId('status-title').textContent = look.title;
    byId('status-message').textContent = message ?? look.message;
    byId('status-progress').hidden = !active;
    byId('status-view').dataset.state = lookName;
    byId('try-again').hidden = lookName !== 'failed';
    byId('check-again').hidden = active || !['timeout', 'unknown', 'pending'].includes(lookName);
    byId('continue-shopping').hidden = (active && lookName !== 'paid') || lookName === 'failed';
    byId('continue-shopping').textContent = lookName === 'paid' ? 'Continue shopping' : 'Back to the store';
    setMessage(byId('status-request-id'), error ? requestIdNote(error) : '');
    renderReceipt(lookName === 'paid' ? payment : null);
  }

  function renderReceipt(payment) {
    byId('receipt').hidden = !payment;
    if (!payment) return;
    const kept = rememberedPayment(current.id) ?? {};
    const amount = payment.amount ?? kept.amount;
    byId('receipt-amount').textContent = amount ? formatAmount(amount) : 'See your email receipt';
    byId('receipt-reference').textContent = payment.reference ?? kept.reference ?? '';
    byId('receipt-order-row').hidden = !(payment.orderid ?? kept.orderid);
    byId('receipt-order').textContent = payment.orderid ?? kept.orderid ?? '';
    const checked = payment.checked_at ? new Date(payment.checked_at) : new Date();
    byId('receipt-time').textContent = Number.isNaN(checked.getTime()) ? payment.checked_at : checked.toLocaleString('en-MY', { dateStyle: 'medium', timeStyle: 'short' });
  }

  function onUpdate(update) {
    if (update.kind === 'timeout') {
      render('timeout', { active: false });
    } else if (update.kind === 'error') {
      const { error, final } = update;
      if (error.status === 404) {
        render('invalid', { active: false, error });
      } else {
        // keep the last known state: an error while checking says nothing about the payment
        const message = final
          ? describeError(error)
          : `The status could not be checked just now (${sentence(error.message)}) Checking again shortly…`;
        render(current.look ?? 'pending', { active: !final, message, error, payment: current.payment });
      }
    } else {
      const { payment } = update;
      const look = LOOKS[payment.status] ? payment.status : 'unknown';
      current = { ...current, look, payment };
      const final = look === 'paid' || look === 'failed';
      if (final) settle(look);
      const message = look === 'unknown' && payment.code ? `${LOOKS.unknown.message} (code ${payment.code})` : undefined;
      render(look, { payment, message, active: !final });
    }
  }

  function settle(look) {
    endAttempt(); // whatever happens next is a new payment with a new Idempotency-Key
    if (look === 'paid') {
      forget('cart');
      forget('contact');
    }
  }

  function watch() {
    controller?.abort();
    controller = new AbortController();
    render(current.look ?? 'pending', { active: true, payment: current.payment });
    watchPayment(current.id, { getPayment: api.getPayment, onUpdate, signal: controller.signal });
  }

  function leave() {
    controller?.abort();
    onBackToShop();
  }

  byId('check-again').addEventListener('click', watch);
  byId('try-again').addEventListener('click', leave);
  byId('continue-shopping').addEventListener('click', leave);

  return {
    show(id) {
      current = { id, look: null, payment: null };
      watch();
      byId('status-view').hidden = false;
      byId('status-title').focus?.();
    },
  };
}
