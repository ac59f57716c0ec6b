// The hosted checkout page a payer lands on. Deliberately plain: it exists to press Pay or Fail.

const escape = (text) =>
  String(text ?? '').replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

const page = (title, body) => `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<title>${escape(title)} · KelantanPay Sandbox</title>
<style>
body{font-family:system-ui,sans-serif;background:#f3f0ea;color:#1d1b16;display:grid;place-items:center;min-height:100vh;margin:0}
main{background:#fff;border-radius:14px;box-shadow:0 6px 30px #0002;padding:2rem;max-width:26rem;width:90%}
.badge{display:inline-block;background:#8a1c1c;color:#fff;border-radius:99px;padding:.2rem .7rem;font-size:.75rem;letter-spacing:.05em}
dl{display:grid;grid-template-columns:auto 1fr;gap:.4rem 1rem}dt{color:#6b645a}dd{margin:0}
.amount{font-size:2rem;font-weight:700;margin:.5rem 0 1rem}
.actions{display:flex;gap:.8rem;margin-top:1.5rem}form{flex:1}
button{width:100%;padding:.8rem;border:0;border-radius:8px;font-size:1rem;cursor:pointer}
#pay{background:#0f7b4d;color:#fff}#fail{background:#e8e2d8;color:#6b1111}
</style></head><body><main><span class="badge">KelantanPay Sandbox</span>${body}</main></body></html>`;

export function checkoutPage(payment, action) {
  return page(
    'Checkout',
    `<h1>Pay ${escape(payment.provider || 'merchant')}</h1>
<p class="amount">RM ${escape(payment.amountText)}</p>
<dl><dt>Description</dt><dd>${escape(payment.description)}</dd>
<dt>Reference</dt><dd>${escape(payment.reference)}</dd><dt>Order</dt><dd>${escape(payment.orderid)}</dd>
<dt>Payer</dt><dd>${escape(payment.name)}</dd></dl>
<div class="actions">
<form method="post" action="${escape(action)}/pay"><button id="pay">Pay</button></form>
<form method="post" action="${escape(action)}/fail"><button id="fail">Fail</button></form>
</div>`,
  );
}

export function donePage(payment) {
  const word = payment.status === '00' ? 'paid' : 'failed';
  return page('Done', `<h1>Payment ${word}</h1><p>Reference ${escape(payment.reference)}. You may close this page.</p>`);
}

export function notFoundPage() {
  return page('Not found', '<h1>Checkout not found</h1><p>This checkout link is unknown or has expired.</p>');
}

export function errorPage(status) {
  return `<!doctype html><html><head><title>${status} Bad Gateway</title></head><body><center><h1>${status} Bad Gateway</h1></center><hr><center>nginx</center></body></html>`;
}
