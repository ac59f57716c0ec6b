// The shop: products (catalog mode) or an amount field (open mode), the cart, and the checkout
// form with inline errors. Submitting creates the payment and sends the payer to its checkout page.
import { byId, h, setMessage } from './dom.js';
import { addOne, setQuantity, cartLines, totalSen, itemCount, MAX_QUANTITY } from './cart.js';
import { formatSen, formatAmount, toSen } from './money.js';
import { checkCheckout, sentence } from './validate.js';
import { buildOrder, idempotencyKeyFor, rememberPayment } from './checkout.js';
import { load, save } from './session.js';
import { ApiError } from './api.js';
import { describeError, fieldSlot, requestIdNote } from './errors.js';

const CONTACT_FIELDS = ['name', 'email', 'mobile'];
const MOTIFS = ['kawung', 'parang', 'ceplok'];

export function mountShop({ api, config }) {
  const open = config.mode === 'open';
  const catalog = open ? [] : config.catalog ?? [];
  const form = byId('checkout');
  const payButton = byId('pay-button');
  let cart = load('cart', {});
  let busy = false;

  const lines = () => cartLines(cart, catalog);
  const values = () => Object.fromEntries(['amount', ...CONTACT_FIELDS].map((f) => [f, form.elements[f].value]));

  function setCart(next, announcement) {
    cart = next;
    save('cart', cart);
    renderCart();
    if (announcement) byId('cart-announcer').textContent = announcement;
  }

  function renderCatalog() {
    byId('catalog').replaceChildren(...catalog.map((product, index) => {
      const inCart = cart[product.sku] ?? 0;
      return h('li', { class: 'product', 'data-sku': product.sku },
        h('div', { class: `product__art motif motif--${MOTIFS[index % MOTIFS.length]}`, 'aria-hidden': 'true' }),
        h('div', { class: 'product__body' },
          h('h3', { class: 'product__name' }, product.name),
          h('p', { class: 'product__price' }, formatAmount(product.amount)),
          h('div', { class: 'product__actions' },
            h('button', {
              class: 'button button--secondary', type: 'button', 'data-add': product.sku, 'data-focus': `add:${product.sku}`,
              onclick: () => setCart(addOne(cart, product.sku), `${product.name} added to your cart.`),
            }, inCart ? 'Add another' : 'Add to cart', h('span', { class: 'visually-hidden' }, `: ${product.name}`)),
            inCart ? h('span', { class: 'product__in-cart' }, `${inCart} in cart`) : null)));
    }));
  }

  function quantityControl({ product, quantity }) {
    const change = (next, message) => setCart(setQuantity(cart, product.sku, next), message);
    return h('div', { class: 'qty' },
      h('button', { type: 'button', class: 'qty__step', 'aria-label': `One fewer ${product.name}`, 'data-focus': `less:${product.sku}`,
        onclick: () => change(quantity - 1, quantity === 1 ? `${product.name} removed.` : null) }, '−'),
      h('input', { class: 'qty__input', type: 'number', min: 1, max: MAX_QUANTITY, value: quantity,
        inputmode: 'numeric', 'aria-label': `Quantity of ${product.name}`, 'data-focus': `qty:${product.sku}`,
        onchange: (event) => change(event.target.value) }),
      h('button', { type: 'button', class: 'qty__step', 'aria-label': `One more ${product.name}`, 'data-focus': `more:${product.sku}`,
        disabled: quantity >= MAX_QUANTITY, onclick: () => change(quantity + 1) }, '+'));
  }

  function renderCart() {
    const current = lines();
    // the lists are rebuilt, so keyboard focus is carried over to the control's replacement
    const focused = document.activeElement?.dataset?.focus;
    byId('cart-lines').replaceChildren(...current.map((line) => h('li', { class: 'cart-line' },
      h('span', { class: 'cart-line__name' }, line.product.name),
      quantityControl(line),
      h('span', { class: 'cart-line__total' }, formatSen(line.lineSen)),
      h('button', { type: 'button', class: 'link-button', 'aria-label': `Remove ${line.product.name}`,
        onclick: () => setCart(setQuantity(cart, line.product.sku, 0), `${line.product.name} removed.`) }, 'Remove'))));
    const count = itemCount(current);
    byId('cart-empty').hidden = count > 0;
    byId('cart-total-row').hidden = count === 0;
    byId('cart-count').textContent = count ? `(${count})` : '';
    byId('cart-total').textContent = formatSen(totalSen(current));
    if (count > 0) setMessage(byId('items-error'), '');
    renderCatalog();
    if (focused) document.querySelector(`[data-focus="${CSS.escape(focused)}"]`)?.focus();
    renderPayLabel();
  }

  function renderPayLabel() {
    if (busy) return;
    const sen = open ? toSen(form.elements.amount.value.trim()) : totalSen(lines());
    byId('pay-label').textContent = sen ? `Pay ${formatSen(sen)}` : 'Pay';
  }

  function showFieldError(slot, message) {
    const error = byId(`${slot}-error`);
    setMessage(error, message ? sentence(message) : '');
    form.elements[slot]?.setAttribute('aria-invalid', message ? 'true' : 'false');
  }

  function showBanner(error) {
    setMessage(byId('form-error-message'), describeError(error));
    setMessage(byId('form-error-request-id'), requestIdNote(error));
    byId('form-error').hidden = false;
  }

  function clearErrors() {
    for (const slot of ['items', 'amount', ...CONTACT_FIELDS]) showFieldError(slot, '');
    byId('form-error').hidden = true;
  }

  function setBusy(next) {
    busy = next;
    payButton.disabled = next;
    payButton.classList.toggle('is-busy', next);
    payButton.setAttribute('aria-busy', String(next));
    if (next) byId('pay-label').textContent = 'Starting your payment…';
    else renderPayLabel();
  }

  // Errors appear when a field is left or the form is sent, and go away once the value is edited
  // into shape. Leaving a field never hides one: that could be the Worker's error, which the local
  // rules cannot judge, and a message vanishing under the pointer moves the Pay button mid-click.
  function recheck(field, { leaving }) {
    const message = checkCheckout(values(), config)[field] ?? '';
    const showing = !byId(`${field}-error`).hidden;
    const blank = form.elements[field].value.trim() === '';
    if (leaving ? message && !blank : showing) showFieldError(field, message);
  }

  async function submit(event) {
    event.preventDefault();
    if (busy) return;
    clearErrors();
    const errors = checkCheckout(values(), config);
    if (!open && lines().length === 0) errors.items = 'Your cart is empty: add a piece first';
    const slots = Object.keys(errors);
    if (slots.length) {
      for (const slot of slots) showFieldError(slot, errors[slot]);
      const first = slots[0] === 'items' ? byId('catalog').querySelector('button') : form.elements[slots[0]];
      first?.focus();
      return;
    }
    const order = buildOrder({
      config, lines: lines(), amount: form.elements.amount.value, contact: values(),
      returnUrl: new URL(location.pathname, location.origin).href,
    });
    setBusy(true);
    try {
      const payment = await api.createPayment(order, idempotencyKeyFor(order));
      const target = checkoutUrl(payment.checkout_url);
      rememberPayment(payment);
      location.assign(target); // the button stays busy: the page is leaving
    } catch (error) {
      setBusy(false);
      const slot = error instanceof ApiError && error.type === 'invalid_request' ? fieldSlot(error.field, config.mode) : null;
      if (slot) {
        showFieldError(slot, error.message);
        (slot === 'items' ? byId('cart') : form.elements[slot])?.focus?.();
      } else {
        showBanner(error);
      }
    }
  }

  function fillContact() {
    const contact = load('contact', {});
    for (const field of CONTACT_FIELDS) form.elements[field].value = contact[field] ?? '';
    form.elements.amount.value = contact.amount ?? '';
  }

  function setUpMode() {
    byId('catalog').hidden = open;
    byId('cart').hidden = open;
    byId('amount-field').hidden = !open;
    if (open) {
      byId('shop-title').textContent = 'Pay Kedai Batik Kelantan';
      byId('shop-lede').textContent = 'Enter the amount on your invoice, then pay on KelantanPay\'s secure payment page.';
      byId('amount-hint').textContent = `Between ${formatAmount(config.min_amount ?? '1.00')} and ${formatAmount(config.max_amount ?? '30000.00')}.`;
    }
  }

  setUpMode();
  fillContact();
  form.addEventListener('submit', submit);
  form.addEventListener('input', (event) => {
    const { name } = event.target;
    if (!name) return;
    save('contact', values());
    recheck(name, { leaving: false });
    if (name === 'amount') renderPayLabel();
  });
  form.addEventListener('focusout', (event) => {
    if (event.target.name && event.target.name in values()) recheck(event.target.name, { leaving: true });
  });
  // Coming back with the Back button from the checkout page restores this page from the
  // back-forward cache with the button still busy.
  window.addEventListener('pageshow', (event) => {
    if (event.persisted) setBusy(false);
  });
  renderCart();

  return {
    /** Re-reads the cart and contact details, which the status page may have cleared. */
    refresh() {
      cart = load('cart', {});
      fillContact();
      clearErrors();
      setBusy(false);
      renderCart();
    },
  };
}

/** Only ever navigate to an http(s) page, whatever the answer says. */
function checkoutUrl(text) {
  try {
    const url = new URL(text);
    if (url.protocol === 'https:' || url.protocol === 'http:') return url.href;
  } catch {
    // falls through to the error below
  }
  throw new ApiError({ status: 201, type: 'bad_response', message: 'The store sent no usable checkout address.' });
}
