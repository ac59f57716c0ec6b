// The merchant's order inbox at /admin (contract v3, ../shared/spec/orders-api.md "Endpoints").
// One self-contained module (a merchant may replace the storefront in www/, never this): it talks
// only to /admin/session and /admin/api/*, and shows every buyer-supplied text with textContent.
// It tries the list first (an Access login or a session cookie goes straight in) and shows the
// sign-in form on 401; while the list is visible it polls the first page, so new orders appear.
// A link to `/admin#order=<id>` (an alert's link) opens that order once the list is in, after the
// sign-in form when there was no session (the fragment stays in the address while one signs in).

const POLL_MS = 5000;
const TOTALS_EVERY_MS = 60_000;
const PAGE_SIZE = 50;
const SAVED_LANGUAGE = 'kp-admin:lang';
const MALAYSIA_MS = 8 * 3600 * 1000; // UTC+8 all year

const STRINGS = {
  en: {
    title: 'Orders',
    skip: 'Skip to content',
    inboxName: 'Order inbox',
    loading: 'Loading…',
    tryAgain: 'Try again',
    signOut: 'Sign out',
    signInTitle: 'Sign in to your orders',
    signInLede: 'Enter the admin token (KP_ADMIN_TOKEN) of this Worker.',
    token: 'Admin token',
    signIn: 'Sign in',
    signingIn: 'Signing in…',
    tokenRequired: 'Enter the admin token.',
    tokenRefused: 'That token was not accepted.',
    tooMany: 'Too many attempts. Wait a minute and try again.',
    sessionEnded: 'Your session has ended. Sign in again.',
    signedOut: 'You are signed out.',
    ordersTitle: 'Orders',
    paidTotals: 'Paid (Malaysia time)',
    today: 'Today',
    thisWeek: 'This week',
    thisMonth: 'This month',
    findOrders: 'Find orders',
    moreFilters: 'Status, dates, fulfilment',
    search: 'Search',
    searchHint: 'Name, e-mail, reference or order id',
    status: 'Status',
    any: 'Any',
    'status.paid': 'Paid',
    'status.pending': 'Pending',
    'status.failed': 'Failed',
    'status.unknown': 'Unknown',
    fulfilment: 'Fulfilment',
    notFulfilled: 'Not fulfilled',
    fulfilled: 'Fulfilled',
    from: 'From',
    to: 'To',
    apply: 'Apply',
    clear: 'Clear',
    downloadCsv: 'Download CSV',
    orderList: 'Order list',
    noOrders: 'No orders match.',
    loadMore: 'Load more',
    shown: '{n} orders shown.',
    shownOne: '1 order shown.',
    newOrders: 'New: {names}.',
    updated: 'Updated: {names}.',
    erased: '(contact erased)',
    openOrder: 'Open the order of {name}',
    itemsCount: '{n} items',
    backToList: '← Back to the list',
    items: 'Items',
    noItems: 'No item list (open amount).',
    note: 'Note (optional)',
    noteHint: 'For example the courier and tracking number. At most 500 characters.',
    markFulfilled: 'Mark fulfilled',
    undoFulfilled: 'Undo fulfilled',
    fulfilledAt: 'Fulfilled on {when}.',
    notFulfilledYet: 'Not fulfilled yet.',
    onlyPaid: 'Only a paid order can be marked fulfilled.',
    markedFulfilled: 'Marked fulfilled.',
    unmarked: 'No longer marked fulfilled.',
    actions: 'Actions',
    recheck: 'Check with KelantanPay now',
    rechecked: 'Checked with KelantanPay: {status}.',
    redeliver: 'Send the webhook again',
    redelivered: 'The latest webhook and alerts are being sent again.',
    nothingToSend: 'There is no webhook to send for this order.',
    unknownOrder: 'There is no order with this id.',
    working: 'Working…',
    events: 'Deliveries',
    noEvents: 'Nothing sent yet.',
    attempts: '{n} attempts',
    attemptsOne: '1 attempt',
    'result.pending': 'waiting to be sent',
    'result.retrying': 'retrying (the last try failed)',
    'result.delivered': 'delivered',
    'result.dead_letter': 'gave up after 3 days (dead letter)',
    'channel.webhook': 'Webhook',
    'channel.telegram': 'Telegram',
    'channel.email': 'E-mail',
    'field.reference': 'Reference',
    'field.orderid': 'Order id',
    'field.id': 'Payment id',
    'field.created_at': 'Created',
    'field.paid_at': 'Paid',
    'field.updated_at': 'Updated',
    'field.email': 'E-mail',
    'field.mobile': 'Mobile',
    'field.description': 'Description',
    'field.code': 'Gateway code',
    'field.ref_1': 'Ref 1',
    'field.ref_2': 'Ref 2',
    'field.ref_3': 'Ref 3',
    notConfiguredTitle: 'The order inbox is not set up yet',
    notConfigured: 'Set the Worker\'s admin token (the secret KP_ADMIN_TOKEN, at least 32 characters) or Cloudflare Access (KP_ACCESS_TEAM_DOMAIN and KP_ACCESS_AUD), and bind the D1 database LEDGER, then deploy again.',
    errorTitle: 'Something went wrong',
    unreachable: 'The Worker could not be reached. Check your connection.',
    requestId: 'Request id for support: {id}',
    footer: 'KelantanPay orders, kept in your Cloudflare Worker\'s D1 database.',
  },
  ms: {
    title: 'Pesanan',
    skip: 'Langkau ke kandungan',
    inboxName: 'Peti pesanan',
    loading: 'Memuatkan…',
    tryAgain: 'Cuba lagi',
    signOut: 'Log keluar',
    signInTitle: 'Log masuk ke pesanan anda',
    signInLede: 'Masukkan token pentadbir (KP_ADMIN_TOKEN) Worker ini.',
    token: 'Token pentadbir',
    signIn: 'Log masuk',
    signingIn: 'Sedang log masuk…',
    tokenRequired: 'Masukkan token pentadbir.',
    tokenRefused: 'Token itu tidak diterima.',
    tooMany: 'Terlalu banyak cubaan. Tunggu seminit dan cuba lagi.',
    sessionEnded: 'Sesi anda telah tamat. Log masuk semula.',
    signedOut: 'Anda telah log keluar.',
    ordersTitle: 'Pesanan',
    paidTotals: 'Dibayar (waktu Malaysia)',
    today: 'Hari ini',
    thisWeek: 'Minggu ini',
    thisMonth: 'Bulan ini',
    findOrders: 'Cari pesanan',
    moreFilters: 'Status, tarikh, penghantaran',
    search: 'Cari',
    searchHint: 'Nama, e-mel, rujukan atau ID pesanan',
    status: 'Status',
    any: 'Semua',
    'status.paid': 'Dibayar',
    'status.pending': 'Belum selesai',
    'status.failed': 'Gagal',
    'status.unknown': 'Tidak diketahui',
    fulfilment: 'Penghantaran',
    notFulfilled: 'Belum dihantar',
    fulfilled: 'Sudah dihantar',
    from: 'Dari',
    to: 'Hingga',
    apply: 'Tapis',
    clear: 'Kosongkan',
    downloadCsv: 'Muat turun CSV',
    orderList: 'Senarai pesanan',
    noOrders: 'Tiada pesanan yang sepadan.',
    loadMore: 'Muatkan lagi',
    shown: '{n} pesanan dipaparkan.',
    shownOne: '1 pesanan dipaparkan.',
    newOrders: 'Baharu: {names}.',
    updated: 'Dikemas kini: {names}.',
    erased: '(butiran hubungan dipadam)',
    openOrder: 'Buka pesanan {name}',
    itemsCount: '{n} barang',
    backToList: '← Kembali ke senarai',
    items: 'Barang',
    noItems: 'Tiada senarai barang (jumlah terbuka).',
    note: 'Nota (pilihan)',
    noteHint: 'Contohnya kurier dan nombor penjejakan. Paling banyak 500 aksara.',
    markFulfilled: 'Tanda sudah dihantar',
    undoFulfilled: 'Batal tanda dihantar',
    fulfilledAt: 'Dihantar pada {when}.',
    notFulfilledYet: 'Belum dihantar.',
    onlyPaid: 'Hanya pesanan yang telah dibayar boleh ditanda dihantar.',
    markedFulfilled: 'Ditanda sudah dihantar.',
    unmarked: 'Tanda dihantar dibatalkan.',
    actions: 'Tindakan',
    recheck: 'Semak dengan KelantanPay sekarang',
    rechecked: 'Disemak dengan KelantanPay: {status}.',
    redeliver: 'Hantar webhook sekali lagi',
    redelivered: 'Webhook dan makluman terkini sedang dihantar semula.',
    nothingToSend: 'Tiada webhook untuk dihantar bagi pesanan ini.',
    unknownOrder: 'Tiada pesanan dengan ID ini.',
    working: 'Sedang diproses…',
    events: 'Penghantaran',
    noEvents: 'Belum ada yang dihantar.',
    attempts: '{n} cubaan',
    attemptsOne: '1 cubaan',
    'result.pending': 'menunggu untuk dihantar',
    'result.retrying': 'mencuba semula (cubaan terakhir gagal)',
    'result.delivered': 'sudah dihantar',
    'result.dead_letter': 'dihentikan selepas 3 hari (surat mati)',
    'channel.webhook': 'Webhook',
    'channel.telegram': 'Telegram',
    'channel.email': 'E-mel',
    'field.reference': 'Rujukan',
    'field.orderid': 'ID pesanan',
    'field.id': 'ID pembayaran',
    'field.created_at': 'Dicipta',
    'field.paid_at': 'Dibayar',
    'field.updated_at': 'Dikemas kini',
    'field.email': 'E-mel',
    'field.mobile': 'Telefon bimbit',
    'field.description': 'Keterangan',
    'field.code': 'Kod gerbang',
    'field.ref_1': 'Rujukan 1',
    'field.ref_2': 'Rujukan 2',
    'field.ref_3': 'Rujukan 3',
    notConfiguredTitle: 'Peti pesanan belum disediakan',
    notConfigured: 'Tetapkan token pentadbir Worker (rahsia KP_ADMIN_TOKEN, sekurang-kurangnya 32 aksara) atau Cloudflare Access (KP_ACCESS_TEAM_DOMAIN dan KP_ACCESS_AUD), dan ikat pangkalan data D1 LEDGER, kemudian deploy semula.',
    errorTitle: 'Ada masalah',
    unreachable: 'Worker tidak dapat dihubungi. Semak sambungan anda.',
    requestId: 'ID permintaan untuk bantuan: {id}',
    footer: 'Pesanan KelantanPay, disimpan dalam pangkalan data D1 Cloudflare Worker anda.',
  },
};

// ---- words ----------------------------------------------------------------------------------

let language = 'en';
const t = (key, params = {}) => (STRINGS[language][key] ?? STRINGS.en[key] ?? key)
  .replace(/\{(\w+)\}/g, (_, name) => String(params[name] ?? ''));
const pickLanguage = (tag) => (/^ms\b/i.test(tag ?? '') ? 'ms' : 'en');
const locale = () => (language === 'ms' ? 'ms-MY' : 'en-MY');

function setLanguage(next, remember) {
  language = pickLanguage(next);
  if (remember) {
    try { localStorage.setItem(SAVED_LANGUAGE, language); } catch { /* storage off: this page only */ }
  }
  document.documentElement.lang = language;
  for (const element of document.querySelectorAll('[data-i18n]')) element.textContent = t(element.dataset.i18n);
  for (const button of document.querySelectorAll('[data-lang]')) button.setAttribute('aria-pressed', String(button.dataset.lang === language));
  setTitle();
  rerender();
}

// ---- DOM helpers (no innerHTML anywhere: text goes in as text nodes) --------------------------

const byId = (id) => document.getElementById(id);

function h(tag, props = {}, ...children) {
  const element = document.createElement(tag);
  for (const [key, value] of Object.entries(props)) {
    if (value === undefined || value === null || value === false) continue;
    if (key === 'class') element.className = value;
    else if (key.startsWith('on')) element.addEventListener(key.slice(2), value);
    else element.setAttribute(key, value === true ? '' : value);
  }
  element.append(...children.flat().filter((child) => child !== null && child !== undefined && child !== false)
    .map((child) => (child instanceof Node ? child : String(child))));
  return element;
}

function setText(element, text) {
  element.textContent = text ?? '';
  element.hidden = !text;
}

// ---- values ---------------------------------------------------------------------------------

/** "RM 1,234.50" from the API's decimal string (never through a float). */
function money(amount, currency = 'MYR') {
  const m = /^(-?)(\d+)(?:\.(\d{1,2}))?$/.exec(String(amount ?? ''));
  if (!m) return String(amount ?? '–');
  const whole = m[2].replace(/^0+(?=\d)/, '').replace(/\B(?=(\d{3})+$)/g, ',');
  const prefix = currency === 'MYR' ? 'RM' : currency;
  return `${m[1]}${prefix}\u00a0${whole}.${(m[3] ?? '').padEnd(2, '0')}`; // RM and the figure never part
}

function when(iso) {
  if (!iso) return '';
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) return String(iso);
  return new Intl.DateTimeFormat(locale(), { timeZone: 'Asia/Kuala_Lumpur', dateStyle: 'medium', timeStyle: 'short' }).format(date);
}

/** Today in Malaysia, YYYY-MM-DD (for the CSV file name). */
function malaysiaDate() {
  return new Date(Date.now() + MALAYSIA_MS).toISOString().slice(0, 10);
}

const statusLabel = (status) => (STRINGS.en[`status.${status}`] ? t(`status.${status}`) : String(status));
/**
 * An event's outcome in words: `pending` after a failed try is "retrying", a dead letter is the
 * end of its 3 days of retries; a result this page does not know is shown as it came.
 */
function eventResult(event) {
  const result = event.result === 'pending' && Number(event.attempts) > 0 ? 'retrying' : event.result;
  if (typeof result === 'string' && STRINGS.en[`result.${result}`]) return { key: result, text: t(`result.${result}`) };
  return { key: 'other', text: typeof result === 'string' ? result : JSON.stringify(result) };
}
/** Which channel an event went to: rows written before alerts have none, and were webhooks. */
function eventChannel(event) {
  const channel = event.channel ?? 'webhook';
  return STRINGS.en[`channel.${channel}`] ? { key: channel, text: t(`channel.${channel}`) } : { key: 'other', text: String(channel) };
}
const buyerName = (order) => (order.name ? String(order.name) : t('erased'));
const isFulfilled = (order) => Boolean(order.fulfilled_at);

function itemsSummary(order) {
  const items = Array.isArray(order.items) ? order.items : [];
  if (items.length === 0) return order.description ? String(order.description) : '';
  return items.map((item) => `${item.quantity ?? 1} × ${item.name ?? item.sku ?? ''}`).join(', ');
}

// ---- the API --------------------------------------------------------------------------------

class Problem extends Error {
  constructor(status, body) {
    super(body?.error?.message ?? `HTTP ${status}`);
    this.status = status;
    this.type = body?.error?.type ?? null;
    this.requestId = body?.error?.request_id ?? null;
  }
}

/** JSON from the Worker; a non-2xx answer throws a Problem (status 0: not reachable). */
async function api(path, { method = 'GET', body } = {}) {
  let response;
  try {
    response = await fetch(path, {
      method,
      credentials: 'same-origin',
      cache: 'no-store',
      headers: body === undefined ? { accept: 'application/json' } : { accept: 'application/json', 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
  } catch {
    throw new Problem(0, null);
  }
  const text = await response.text().catch(() => '');
  let json = null;
  try { json = text ? JSON.parse(text) : null; } catch { json = null; }
  if (!response.ok) throw new Problem(response.status, json);
  return json;
}

// ---- state ----------------------------------------------------------------------------------

const state = {
  view: 'boot',
  shop: '',
  filters: {},          // as applied (what the list, the poll and the CSV link use)
  rows: new Map(),      // id -> order, everything shown
  order: [],            // ids, newest first
  cursor: null,         // next page after what was loaded by "load more"
  openId: null,         // the order in the detail view
  openOrder: null,
  totals: null,
  totalsAt: 0,
  pollTimer: 0,
  generation: 0,        // bumps on every filter change / sign-out: late answers of older lists are dropped
  problem: null,
  linkedId: null,       // the order `#order=<id>` named, opened once the list is in
};

function setTitle() {
  document.title = state.shop ? `${t('title')} · ${state.shop}` : `${t('title')} · KelantanPay`;
}

function setShop(answer) {
  const shop = typeof answer?.shop === 'string' ? answer.shop : typeof answer?.shop_name === 'string' ? answer.shop_name : null;
  if (shop && shop !== state.shop) {
    state.shop = shop;
    byId('shop-name').textContent = shop;
    setTitle();
  }
}

function show(view) {
  state.view = view;
  byId('boot').hidden = view !== 'boot';
  byId('problem').hidden = view !== 'problem';
  byId('signin').hidden = view !== 'signin';
  byId('inbox').hidden = view !== 'inbox';
  byId('detail').hidden = view !== 'detail';
  byId('sign-out').hidden = view !== 'inbox' && view !== 'detail';
  document.body.dataset.view = view;
  if (view === 'inbox') schedulePoll();
  else if (view !== 'detail') stopPoll();
}

/** What to do with a Problem from any call: 401 signs out, 503 not_configured explains, else `fallback`. */
function handleProblem(problem, fallback) {
  if (problem.status === 401) {
    const wasIn = state.view === 'inbox' || state.view === 'detail';
    showSignIn(wasIn ? t('sessionEnded') : '');
    return;
  }
  if (problem.status === 503 && problem.type === 'not_configured') {
    showProblem('notConfiguredTitle', 'notConfigured', problem);
    return;
  }
  fallback(problem);
}

function describe(problem) {
  if (problem.status === 0) return t('unreachable');
  return problem.message;
}

function showProblem(titleKey, messageKey, problem) {
  state.problem = { titleKey, messageKey, problem };
  renderProblem();
  show('problem');
  byId('problem-title').focus();
}

function renderProblem() {
  if (!state.problem) return;
  const { titleKey, messageKey, problem } = state.problem;
  byId('problem-title').textContent = t(titleKey);
  byId('problem-message').textContent = messageKey ? t(messageKey) : describe(problem);
  const detail = [messageKey && problem?.message && problem.status !== 0 ? problem.message : '', problem?.requestId ? t('requestId', { id: problem.requestId }) : ''].filter(Boolean).join(' ');
  setText(byId('problem-detail'), detail);
}

// ---- sign in / out --------------------------------------------------------------------------

function showSignIn(message) {
  state.generation += 1;
  stopPoll();
  clearList();
  show('signin');
  setText(byId('signin-error'), message);
  byId('token').value = '';
  byId('token').focus();
}

async function signIn(event) {
  event.preventDefault();
  const input = byId('token');
  const token = input.value.trim();
  if (!token) {
    setText(byId('signin-error'), t('tokenRequired'));
    input.setAttribute('aria-invalid', 'true');
    input.focus();
    return;
  }
  const button = byId('signin-button');
  button.disabled = true;
  button.textContent = t('signingIn');
  try {
    await api('/admin/session', { method: 'POST', body: { token } });
    input.value = '';
    input.removeAttribute('aria-invalid');
    setText(byId('signin-error'), '');
    await openInbox({ focus: true });
  } catch (caught) {
    // a 401 here is a refused token, not an ended session
    const problem = caught.status === 401 ? new Problem(403, null) : caught;
    handleProblem(problem, (p) => {
      const message = p.status === 429 ? t('tooMany') : p.status === 400 || p.status === 403 ? t('tokenRefused') : describe(p);
      setText(byId('signin-error'), message);
      input.setAttribute('aria-invalid', 'true');
      input.focus();
    });
  } finally {
    button.disabled = false;
    button.textContent = t('signIn');
  }
}

async function signOut() {
  try {
    await api('/admin/session', { method: 'DELETE', body: {} });
  } catch {
    // signed out or not, the page forgets what it showed
  }
  showSignIn(t('signedOut'));
}

// ---- the list -------------------------------------------------------------------------------

function query(filters, extra = {}) {
  const params = new URLSearchParams();
  for (const [key, value] of Object.entries({ ...filters, ...extra })) if (value) params.set(key, value);
  const text = params.toString();
  return text ? `?${text}` : '';
}

function readFilters() {
  const form = byId('filters');
  return {
    status: form.status.value,
    q: form.q.value.trim(),
    from: form.from.value,
    to: form.to.value,
    fulfilled: form.fulfilled.value,
  };
}

function updateCsvLink() {
  const link = byId('csv');
  link.href = `/admin/api/orders.csv${query(state.filters)}`;
  link.setAttribute('download', `orders-${malaysiaDate()}.csv`);
}

function clearList() {
  state.rows.clear();
  state.order = [];
  state.cursor = null;
  byId('orders').replaceChildren();
  byId('more').hidden = true;
  byId('list-empty').hidden = true;
  setText(byId('list-error'), '');
}

/** Loads the first page with the applied filters and shows the inbox. */
async function openInbox({ focus = false } = {}) {
  const generation = ++state.generation;
  updateCsvLink();
  let answer;
  try {
    answer = await api(`/admin/api/orders${query(state.filters, { limit: PAGE_SIZE })}`);
  } catch (problem) {
    if (generation !== state.generation) return;
    handleProblem(problem, (p) => {
      if (state.view === 'inbox') setText(byId('list-error'), describe(p));
      else showProblem('errorTitle', null, p);
    });
    return;
  }
  if (generation !== state.generation) return;
  clearList();
  setShop(answer);
  mergeRows(answer.orders ?? [], { top: true });
  state.cursor = answer.next_cursor ?? null;
  renderList();
  announce(state.order.length === 1 ? t('shownOne') : t('shown', { n: state.order.length }));
  show('inbox');
  if (focus) byId('inbox-title').focus();
  loadTotals(true);
  loadShop();
  openLinked();
}

/** The shop's name (KP_SHOP_NAME, else the Worker's host), from who is signed in. */
async function loadShop() {
  try {
    setShop(await api('/admin/session'));
  } catch {
    // the host name stays; a 401 shows on the next list call
  }
}

async function loadMore() {
  if (!state.cursor) return;
  const generation = state.generation;
  const button = byId('more');
  button.disabled = true;
  try {
    const answer = await api(`/admin/api/orders${query(state.filters, { limit: PAGE_SIZE, cursor: state.cursor })}`);
    if (generation !== state.generation) return;
    const firstNew = (answer.orders ?? []).find((order) => !state.rows.has(order.id));
    mergeRows(answer.orders ?? [], { top: false });
    state.cursor = answer.next_cursor ?? null;
    renderList();
    announce(t('shown', { n: state.order.length }));
    // keyboard users carry on from the first order that came in
    if (firstNew) byId('orders').querySelector(`[data-id="${CSS.escape(firstNew.id)}"] .order__open`)?.focus();
  } catch (problem) {
    handleProblem(problem, (p) => setText(byId('list-error'), describe(p)));
  } finally {
    button.disabled = false;
  }
}

/**
 * Adds or replaces rows by id and returns the new and the changed ones. The Worker orders the
 * list (newest first, ties by id: its created time has more precision than the row shows), so
 * the page keeps its order: a first page (`top`) goes first as the Worker sent it, then every
 * other row already shown, in place; a later page (load more) goes after them.
 */
function mergeRows(orders, { top }) {
  const added = [];
  const changed = [];
  const ids = [];
  for (const order of orders) {
    if (!order || typeof order.id !== 'string') continue;
    const before = state.rows.get(order.id);
    if (!before) added.push(order);
    else if (JSON.stringify(before) !== JSON.stringify(order)) changed.push(order);
    state.rows.set(order.id, order);
    ids.push(order.id);
  }
  const fresh = new Set(ids);
  const rest = state.order.filter((id) => !fresh.has(id));
  state.order = top ? [...ids, ...rest] : [...rest, ...ids];
  return { added, changed };
}

function renderList() {
  const list = byId('orders');
  const had = new Map([...list.children].map((li) => [li.dataset.id, li]));
  const focusedId = document.activeElement?.closest?.('.order')?.dataset.id;
  let previous = null;
  for (const id of state.order) {
    const order = state.rows.get(id);
    const signature = JSON.stringify(order) + language;
    let li = had.get(id);
    if (!li || li.dataset.signature !== signature) {
      const fresh = orderCard(order);
      fresh.dataset.signature = signature;
      if (li) li.replaceWith(fresh);
      li = fresh;
      if (focusedId === id) li.querySelector('.order__open')?.focus();
    }
    had.delete(id);
    const expected = previous ? previous.nextElementSibling : list.firstElementChild;
    if (expected !== li) list.insertBefore(li, expected);
    previous = li;
  }
  for (const stale of had.values()) stale.remove();
  byId('list-empty').hidden = state.order.length > 0;
  byId('more').hidden = !state.cursor;
}

let cardCount = 0;
function orderCard(order) {
  cardCount += 1;
  const titleId = `order-title-${cardCount}`;
  const status = String(order.status ?? 'unknown');
  const items = itemsSummary(order);
  return h('li', { class: 'order', 'data-id': order.id, 'data-status': status, 'data-fulfilled': String(isFulfilled(order)) },
    h('article', { class: 'order__card', 'aria-labelledby': titleId },
      h('div', { class: 'order__head' },
        h('span', { class: `pill pill--${/^(paid|pending|failed)$/.test(status) ? status : 'unknown'}` }, statusLabel(status)),
        isFulfilled(order) ? h('span', { class: 'pill pill--done' }, t('fulfilled')) : null,
        h('span', { class: 'order__amount' }, money(order.amount, order.currency))),
      h('h3', { class: 'order__title', id: titleId },
        h('button', { class: 'order__open', type: 'button', 'data-open': order.id, 'aria-label': t('openOrder', { name: buyerName(order) }) }, buyerName(order))),
      order.email ? h('p', { class: 'order__email' }, String(order.email)) : null,
      items ? h('p', { class: 'order__items' }, items) : null,
      h('p', { class: 'order__meta' },
        h('span', {}, when(order.created_at)), ' · ',
        h('span', { class: 'order__ref' }, String(order.reference ?? '')))));
}

function announce(message) {
  const region = byId('list-status');
  if (region.textContent !== message) region.textContent = message;
}

// ---- live updates ---------------------------------------------------------------------------

function schedulePoll() {
  stopPoll();
  if (document.visibilityState === 'visible') state.pollTimer = setTimeout(poll, POLL_MS);
}

function stopPoll() {
  clearTimeout(state.pollTimer);
  state.pollTimer = 0;
}

async function poll() {
  state.pollTimer = 0;
  if (state.view !== 'inbox' && state.view !== 'detail') return;
  const generation = state.generation;
  try {
    const answer = await api(`/admin/api/orders${query(state.filters, { limit: PAGE_SIZE })}`);
    if (generation !== state.generation) return;
    setShop(answer);
    const { added, changed } = mergeRows(answer.orders ?? [], { top: true });
    if (added.length || changed.length) {
      renderList();
      const parts = [];
      if (added.length) parts.push(t('newOrders', { names: added.map(buyerName).join(', ') }));
      if (changed.length) parts.push(t('updated', { names: changed.map(buyerName).join(', ') }));
      announce(parts.join(' '));
      if (state.openId && changed.some((order) => order.id === state.openId)) refreshDetail();
      loadTotals(true);
    } else {
      loadTotals(false);
    }
    setText(byId('list-error'), '');
  } catch (problem) {
    if (generation !== state.generation) return;
    handleProblem(problem, (p) => setText(byId('list-error'), describe(p)));
  }
  if (generation === state.generation && (state.view === 'inbox' || state.view === 'detail')) schedulePoll();
}

document.addEventListener('visibilitychange', () => {
  if (state.view !== 'inbox' && state.view !== 'detail') return;
  if (document.visibilityState === 'visible') poll();
  else stopPoll();
});

// ---- totals ---------------------------------------------------------------------------------

/** Paid today, this week and this month: the Worker's `paid_totals` (its Malaysia-time periods). */
async function loadTotals(force) {
  if (!force && Date.now() - state.totalsAt < TOTALS_EVERY_MS) return;
  state.totalsAt = Date.now();
  const generation = state.generation;
  try {
    const summary = await api('/admin/api/summary');
    if (generation !== state.generation) return;
    setShop(summary);
    state.totals = summary?.paid_totals ?? null;
    renderTotals();
  } catch (problem) {
    if (generation !== state.generation) return;
    handleProblem(problem, () => { /* the list shows the same trouble; totals keep their last figures */ });
  }
}

function renderTotals() {
  if (!state.totals) return;
  for (const key of ['today', 'week', 'month']) byId(`total-${key}`).textContent = money(state.totals[key] ?? '0.00');
}

// ---- one order ------------------------------------------------------------------------------

const orderPath = (id, action = '') => `/admin/api/orders/${encodeURIComponent(id)}${action ? `/${action}` : ''}`;

async function openDetail(id) {
  state.openId = id;
  setText(byId('detail-message'), '');
  try {
    const order = await api(orderPath(id));
    if (state.openId !== id) return;
    renderDetail(order);
    show('detail');
    byId('detail').focus();
  } catch (problem) {
    if (state.openId === id) state.openId = null;
    handleProblem(problem, (p) => setText(byId('list-error'), p.status === 404 ? t('unknownOrder') : describe(p)));
  }
}

async function refreshDetail() {
  const id = state.openId;
  try {
    const order = await api(orderPath(id));
    if (state.openId === id && state.view === 'detail') renderDetail(order);
  } catch {
    // the next poll tries again
  }
}

function closeDetail() {
  const id = state.openId;
  state.openId = null;
  state.openOrder = null;
  forgetLink();
  show('inbox');
  const button = id && byId('orders').querySelector(`[data-id="${CSS.escape(id)}"] .order__open`);
  (button || byId('inbox-title')).focus();
}

function renderDetail(order) {
  state.openOrder = order;
  const status = String(order.status ?? 'unknown');
  const section = byId('detail');
  section.dataset.id = order.id;
  section.dataset.status = status;
  section.dataset.fulfilled = String(isFulfilled(order));
  byId('detail-title').textContent = buyerName(order);
  const pill = byId('detail-status');
  pill.className = `pill pill--${/^(paid|pending|failed)$/.test(status) ? status : 'unknown'}`;
  pill.textContent = statusLabel(status);
  byId('detail-amount').textContent = money(order.amount, order.currency);

  const facts = [];
  for (const key of ['reference', 'orderid', 'created_at', 'paid_at', 'updated_at', 'email', 'mobile', 'description', 'code', 'ref_1', 'ref_2', 'ref_3', 'id']) {
    const value = order[key];
    if (value === null || value === undefined || value === '') continue;
    const text = key.endsWith('_at') ? when(value) : String(value);
    facts.push(h('div', { class: 'facts__row' }, h('dt', {}, t(`field.${key}`)), h('dd', { 'data-field': key }, text)));
  }
  byId('detail-fields').replaceChildren(...facts);

  const items = Array.isArray(order.items) ? order.items : [];
  byId('detail-no-items').hidden = items.length > 0;
  byId('detail-items').replaceChildren(...items.map((item) => h('li', { class: 'items__line' },
    h('span', { class: 'items__name' }, `${item.quantity ?? 1} × ${item.name ?? ''}`),
    item.sku ? h('span', { class: 'items__sku' }, String(item.sku)) : null,
    item.amount ? h('span', { class: 'items__amount' }, money(item.amount, order.currency)) : null)));

  const done = isFulfilled(order);
  byId('detail-fulfilled').textContent = done ? t('fulfilledAt', { when: when(order.fulfilled_at) }) : t('notFulfilledYet');
  setText(byId('detail-note'), done && order.note ? String(order.note) : '');
  byId('fulfil-form').hidden = done || status !== 'paid';
  byId('unfulfil').hidden = !done;

  const events = Array.isArray(order.events) ? order.events : [];
  byId('detail-no-events').hidden = events.length > 0;
  byId('detail-events').replaceChildren(...events.map((event) => {
    const channel = eventChannel(event);
    const result = event.result !== undefined && event.result !== null ? eventResult(event) : null;
    return h('li', { class: 'events__line', 'data-channel': channel.key, 'data-result': result?.key },
      h('span', { class: 'events__channel' }, channel.text),
      h('span', { class: 'events__type' }, String(event.type ?? '')),
      h('span', {}, event.attempts === 1 ? t('attemptsOne') : t('attempts', { n: event.attempts ?? 0 })),
      result ? h('span', { class: `events__result events__result--${result.key}` }, result.text) : null,
      event.last_at ? h('span', {}, when(event.last_at)) : null);
  }));

  // the list shows the same row
  if (state.rows.has(order.id)) {
    const { events: _events, ...row } = order;
    state.rows.set(order.id, { ...state.rows.get(order.id), ...row });
    renderList();
  }
}

/** Runs one order action (POST) with the buttons disabled; the answer, when it is an order, is shown. */
async function act(action, body, done) {
  const id = state.openId;
  if (!id) return;
  const buttons = byId('detail').querySelectorAll('button, textarea');
  for (const button of buttons) button.disabled = true;
  setText(byId('detail-message'), t('working'));
  try {
    const answer = await api(orderPath(id, action), { method: 'POST', body });
    if (state.openId !== id) return;
    const order = answer && typeof answer === 'object' && answer.id === id ? answer : answer?.order?.id === id ? answer.order : null;
    if (order && Array.isArray(order.events)) renderDetail(order);
    else if (order) renderDetail({ ...state.openOrder, ...order });
    else await refreshDetail();
    setText(byId('detail-message'), done(answer));
  } catch (problem) {
    const conflict = { fulfil: t('onlyPaid'), redeliver: t('nothingToSend') }[action];
    handleProblem(problem, (p) => setText(byId('detail-message'), p.status === 409 && conflict ? conflict : describe(p)));
  } finally {
    for (const button of buttons) button.disabled = false;
  }
}

function fulfil(event) {
  event.preventDefault();
  const note = byId('note').value.trim();
  act('fulfil', note ? { note } : {}, () => {
    byId('note').value = '';
    byId('unfulfil').focus();
    return t('markedFulfilled');
  });
}

const unfulfil = () => act('unfulfil', {}, () => {
  if (!byId('fulfil-form').hidden) byId('note').focus();
  return t('unmarked');
});
const recheck = () => act('recheck', {}, (order) => t('rechecked', { status: statusLabel(order?.status ?? order?.order?.status ?? state.openOrder?.status) }));
const redeliver = () => act('redeliver', {}, () => t('redelivered'));

// ---- deep links: /admin#order=<id> -----------------------------------------------------------

/** The order id in the address's fragment (`#order=<id>`), or null. */
function linkedOrder() {
  const match = /^#order=([^&]+)/.exec(location.hash);
  if (!match) return null;
  try { return decodeURIComponent(match[1]); } catch { return match[1]; }
}

/** Back to the list: the address no longer names the order (a reload shows the list). */
function forgetLink() {
  state.linkedId = null;
  if (location.hash) history.replaceState(null, '', location.pathname + location.search);
}

/** Once the list is in: opens the order the address named, once. */
function openLinked() {
  const id = state.linkedId;
  state.linkedId = null;
  if (id) openDetail(id);
}

// ---- language changes -----------------------------------------------------------------------

function rerender() {
  if (state.view === 'problem') renderProblem();
  renderList();
  renderTotals();
  if (state.openOrder) renderDetail(state.openOrder);
  if (state.order.length) announce(state.order.length === 1 ? t('shownOne') : t('shown', { n: state.order.length }));
}

// ---- start ----------------------------------------------------------------------------------

function start() {
  byId('shop-name').textContent = state.shop = location.hostname;
  for (const button of document.querySelectorAll('[data-lang]')) button.addEventListener('click', () => setLanguage(button.dataset.lang, true));
  let saved = null;
  try { saved = localStorage.getItem(SAVED_LANGUAGE); } catch { /* storage off */ }
  setLanguage(saved ?? navigator.language, false);

  byId('signin-form').addEventListener('submit', signIn);
  byId('sign-out').addEventListener('click', signOut);
  byId('problem-retry').addEventListener('click', () => { show('boot'); openInbox(); });
  byId('filters').addEventListener('submit', (event) => {
    event.preventDefault();
    state.filters = readFilters();
    openInbox();
  });
  byId('clear-filters').addEventListener('click', () => {
    byId('filters').reset();
    state.filters = {};
    openInbox();
  });
  byId('more').addEventListener('click', loadMore);
  byId('orders').addEventListener('click', (event) => {
    const button = event.target.closest('[data-open]');
    if (button) openDetail(button.dataset.open);
  });
  byId('detail-back').addEventListener('click', closeDetail);
  byId('fulfil-form').addEventListener('submit', fulfil);
  byId('unfulfil').addEventListener('click', unfulfil);
  byId('recheck').addEventListener('click', recheck);
  byId('redeliver').addEventListener('click', redeliver);
  document.addEventListener('keydown', (event) => {
    if (event.key === 'Escape' && state.view === 'detail') closeDetail();
  });
  // another alert's link followed in this tab: open it now when signed in, else after sign-in
  window.addEventListener('hashchange', () => {
    state.linkedId = linkedOrder();
    if (state.linkedId && (state.view === 'inbox' || state.view === 'detail')) openLinked();
  });
  state.linkedId = linkedOrder();
  openInbox();
}

start();
