// The shop: products (catalog mode) or an amount field (open mode), the cart, and the checkout
// form with inline errors. Submitting creates the payment through the drop-in client (which
// owns the field rules and the Idempotency-Key) and sends the payer to its checkout page.
import { createPayment, formatRinggit, redirectToCheckout, toSen, validateOrder } from './kelantanpay.js';
import { byId, h, setMessage } from './dom.js';
import { addOne, setQuantity, cartLines, totalSen, itemCount, MAX_QUANTITY } from './cart.js';
import { load, save } from './session.js';
import { onLanguageChange, t } from './i18n.js';

const CONTACT_FIELDS = ['name', 'email', 'mobile'];
const SLOTS = ['items', 'amount', ...CONTACT_FIELDS];
const MOTIFS = ['kawung', 'parang', 'ceplok'];

/** Where a field error is shown: under its input, under the cart, or (null) in the banner. */
function fieldSlot(field, open) {
  if (!field) return null;
  if (field === 'items' || field.startsWith('items[') || field.startsWith('items.')) return 'items';
  if (field === 'amount') return open ? 'amount' : 'items';
  return CONTACT_FIELDS.includes(field) ? field : null;
}

export function mountShop({ config }) {
  const open = config.mode === 'open';
  const catalog = open ? [] : config.catalog ?? [];
  const form = byId('checkout');
  const payButton = byId('pay-button');
  let cart = load('cart', {});
  let busy = false;
  // What is shown, kept so that a language switch can say it again: `{ slot: error }` (an error
  // is a KelantanPayError or `{ key }` of a storefront string) and the banner's error.
  let shown = {};
  let banner = null;

  const lines = () => cartLines(cart, catalog);
  const values = () => Object.fromEntries(['amount', ...CONTACT_FIELDS].map((f) => [f, form.elements[f].value]));
  const say = (error) => (error.key ? t(error.key) : error.message);

  /** The POST /api/payments body. A blank amount is left out (the rules then say "required"). */
  function buildOrder() {
    const { amount, ...contact } = values();
    const priced = open
      ? (amount.trim() ? { amount: amount.trim() } : {})
      : { items: lines().map((line) => ({ sku: line.product.sku, quantity: line.quantity })) };
    return {
      ...priced,
      ...Object.fromEntries(Object.entries(contact).map(([k, v]) => [k, v.trim()])),
      return_url: new URL(location.pathname, location.origin).href,
    };
  }

  /** `{ slot: error }` for every field the rules refuse (and an empty cart). */
  function localErrors() {
    const errors = {};
    for (const error of validateOrder(buildOrder(), config)) {
      const slot = fieldSlot(error.field, open);
      if (slot && !errors[slot]) errors[slot] = error;
    }
    if (!open && lines().length === 0) errors.items = { key: 'cartIsEmpty' };
    return errors;
  }

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
          h('p', { class: 'product__price amount' }, formatRinggit(product.amount)),
          h('div', { class: 'product__actions' },
            h('button', {
              class: 'button button--secondary', type: 'button', 'data-add': product.sku, 'data-focus': `add:${product.sku}`,
              onclick: () => setCart(addOne(cart, product.sku), t('added', { name: product.name })),
            }, inCart ? t('addAnother') : t('addToCart'), h('span', { class: 'visually-hidden' }, `: ${product.name}`)),
            inCart ? h('span', { class: 'product__in-cart' }, t('inCart', { n: inCart })) : null)));
    }));
  }

  function quantityControl({ product, quantity }) {
    const change = (next, message) => setCart(setQuantity(cart, product.sku, next), message);
    return h('div', { class: 'qty' },
      h('button', { type: 'button', class: 'qty__step', 'aria-label': t('fewer', { name: product.name }), 'data-focus': `less:${product.sku}`,
        onclick: () => change(quantity - 1, quantity === 1 ? t('removed', { name: product.name }) : null) }, '−'),
      h('input', { class: 'qty__input', type: 'number', min: 1, max: MAX_QUANTITY, value: quantity,
        inputmode: 'numeric', 'aria-label': t('quantityOf', { name: product.name }), 'data-focus': `qty:${product.sku}`,
        onchange: (event) => change(event.target.value) }),
      h('button', { type: 'button', class: 'qty__step', 'aria-label': t('more', { name: product.name }), 'data-focus': `more:${product.sku}`,
        disabled: quantity >= MAX_QUANTITY, onclick: () => change(quantity + 1) }, '+'));
  }

  function renderCart() {
    const current = lines();
    // the lists are rebuilt, so keyboard focus is carried over to the control's replacement
    const focused = document.activeElement?.dataset?.focus;
    byId('cart-lines').replaceChildren(...current.map((line) => h('li', { class: 'cart-line' },
      h('span', { class: 'cart-line__name' }, line.product.name),
      quantityControl(line),
      h('span', { class: 'cart-line__total amount' }, formatRinggit(line.lineSen)),
      h('button', { type: 'button', class: 'link-button', 'aria-label': t('removeItem', { name: line.product.name }),
        'data-focus': `remove:${line.product.sku}`,
        onclick: () => setCart(setQuantity(cart, line.product.sku, 0), t('removed', { name: line.product.name })) }, t('remove')))));
    const count = itemCount(current);
    byId('cart-empty').hidden = count > 0;
    byId('cart-total-row').hidden = count === 0;
    byId('cart-count').textContent = count ? `(${count})` : '';
    byId('cart-total').textContent = formatRinggit(totalSen(current));
    if (count > 0 && shown.items) showFieldError('items', null);
    renderCatalog();
    if (focused) (document.querySelector(`[data-focus="${CSS.escape(focused)}"]`) ?? byId('cart'))?.focus();
    renderPayLabel();
  }

  function renderPayLabel() {
    if (busy) return;
    const sen = open ? toSen(form.elements.amount.value.trim()) : totalSen(lines());
    byId('pay-label').textContent = sen ? t('payAmount', { amount: formatRinggit(sen) }) : t('pay');
  }

  function showFieldError(slot, error) {
    if (error) shown[slot] = error;
    else delete shown[slot];
    setMessage(byId(`${slot}-error`), error ? say(error) : '');
    form.elements[slot]?.setAttribute('aria-invalid', error ? 'true' : 'false');
  }

  function renderBanner() {
    setMessage(byId('form-error-message'), banner?.message);
    setMessage(byId('form-error-request-id'), banner?.requestId ? t('requestId', { id: banner.requestId }) : '');
    byId('form-error').hidden = !banner;
  }

  function clearErrors() {
    for (const slot of SLOTS) showFieldError(slot, null);
    banner = null;
    renderBanner();
  }

  function setBusy(next) {
    busy = next;
    payButton.disabled = next;
    payButton.classList.toggle('is-busy', next);
    payButton.setAttribute('aria-busy', String(next));
    if (next) byId('pay-label').textContent = t('starting');
    else renderPayLabel();
  }

  // Errors appear when a field is left or the form is sent, and go away once the value is edited
  // into shape. Leaving a field never hides one: that could be the Worker's error, which the local
  // rules cannot judge, and a message vanishing under the pointer moves the Pay button mid-click.
  function recheck(field, { leaving }) {
    const error = localErrors()[field] ?? null;
    const blank = form.elements[field].value.trim() === '';
    if (leaving ? error && !blank : shown[field]) showFieldError(field, error);
  }

  async function submit(event) {
    event.preventDefault();
    if (busy) return;
    clearErrors();
    const errors = localErrors();
    const slots = SLOTS.filter((slot) => errors[slot]);
    if (slots.length) {
      for (const slot of slots) showFieldError(slot, errors[slot]);
      const first = slots[0] === 'items' ? byId('catalog').querySelector('button') : form.elements[slots[0]];
      first?.focus();
      return;
    }
    setBusy(true);
    try {
      redirectToCheckout(await createPayment(buildOrder(), { config })); // stays busy: the page is leaving
    } catch (error) {
      setBusy(false);
      const slot = error.kind === 'invalid_request' ? fieldSlot(error.field, open) : null;
      if (slot) {
        showFieldError(slot, error);
        (slot === 'items' ? byId('cart') : form.elements[slot])?.focus?.();
      } else {
        banner = error;
        renderBanner();
        payButton.focus();
      }
    }
  }

  function fillContact() {
    const contact = load('contact', {});
    for (const field of CONTACT_FIELDS) form.elements[field].value = contact[field] ?? '';
    form.elements.amount.value = contact.amount ?? '';
  }

  function renderTexts() {
    byId('shop-title').textContent = t(open ? 'openTitle' : 'shopTitle');
    byId('shop-lede').textContent = t(open ? 'openLede' : 'shopLede');
    byId('amount-hint').textContent = t('amountHint', {
      min: formatRinggit(config.min_amount ?? '1.00'), max: formatRinggit(config.max_amount ?? '30000.00'),
    });
  }

  byId('catalog').hidden = open;
  byId('cart').hidden = open;
  byId('amount-field').hidden = !open;
  renderTexts();
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
  onLanguageChange(() => {
    renderTexts();
    renderCart();
    for (const [slot, error] of Object.entries(shown)) showFieldError(slot, error);
    renderBanner();
    if (busy) byId('pay-label').textContent = t('starting');
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
