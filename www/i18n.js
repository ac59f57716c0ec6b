// The storefront's words in Bahasa Melayu and English. The first visit follows the browser's
// language; the switch in the masthead changes it and is remembered (localStorage). Static text
// in index.html carries `data-i18n` (text) or `data-i18n-label` (aria-label) keys.
import { pickLanguage, setLanguage as setClientLanguage } from './kelantanpay.js';

const STRINGS = {
  en: {
    title: 'Kedai Batik Kelantan · KelantanPay demo store',
    skip: 'Skip to content',
    tagline: 'Hand-drawn batik from Kota Bharu',
    badge: 'Demo storefront',
    language: 'Language',
    loading: 'Loading the store…',
    fatalTitle: 'The store could not load',
    tryAgain: 'Try again',
    shopTitle: 'Batik, drawn by hand, paid in a tap',
    shopLede: 'Pick a piece, check out, and pay on KelantanPay\'s secure payment page.',
    openTitle: 'Pay Kedai Batik Kelantan',
    openLede: 'Enter the amount on your invoice, then pay on KelantanPay\'s secure payment page.',
    products: 'Products',
    cartAndCheckout: 'Cart and checkout',
    cartTitle: 'Your cart',
    cartEmpty: 'Your cart is empty. Add a piece you like.',
    total: 'Total',
    checkout: 'Checkout',
    amount: 'Amount',
    fullName: 'Full name',
    email: 'Email',
    mobile: 'Mobile number',
    mobileHint: 'A Malaysian mobile number.',
    amountHint: 'Between {min} and {max}.',
    pay: 'Pay',
    payAmount: 'Pay {amount}',
    starting: 'Starting your payment…',
    secureNote: 'You will pay on KelantanPay\'s page. This store never sees your bank or card details.',
    addToCart: 'Add to cart',
    addAnother: 'Add another',
    inCart: '{n} in cart',
    added: '{name} added to your cart.',
    removed: '{name} removed.',
    remove: 'Remove',
    removeItem: 'Remove {name}',
    fewer: 'One fewer {name}',
    more: 'One more {name}',
    quantityOf: 'Quantity of {name}',
    cartIsEmpty: 'Your cart is empty: add a piece first.',
    requestId: 'Request id for support: {id}',
    paymentStatus: 'Payment status',
    waiting: 'Waiting for confirmation',
    reference: 'Reference',
    order: 'Order',
    confirmed: 'Confirmed',
    checkAgain: 'Check again',
    backToStore: 'Back to the store',
    continueShopping: 'Continue shopping',
    seeEmail: 'See your email receipt',
    printReceipt: 'Print receipt',
    footer: 'Payments by KelantanPay, through your Cloudflare Worker.',
    health: 'Worker health',
    'pending.title': 'Confirming your payment…',
    'pending.message': 'Waiting for KelantanPay to confirm. This usually takes a few seconds; keep this page open.',
    'paid.title': 'Thank you! Your payment is complete',
    'paid.message': 'Keep the reference below for your records.',
    'failed.title': 'The payment did not go through',
    'failed.message': 'It was declined or cancelled. Your cart is still here if you want to try again.',
    'unknown.title': 'We cannot confirm this payment yet',
    'unknown.message': 'KelantanPay reported a status we do not recognise (code {code}). We will keep checking.',
    'timeout.title': 'Still pending',
    'timeout.message': 'KelantanPay has not confirmed this payment yet. Check again in a while.',
    'invalid.title': 'We could not find this payment',
    'invalid.message': 'This payment link is not valid. If you were charged, contact the store with your bank reference.',
    'invalid.pill': 'Error',
    checkFailed: 'The status could not be checked just now: {reason} Checking again shortly…',
  },
  ms: {
    title: 'Kedai Batik Kelantan · kedai demo KelantanPay',
    skip: 'Langkau ke kandungan',
    tagline: 'Batik lukisan tangan dari Kota Bharu',
    badge: 'Kedai demo',
    language: 'Bahasa',
    loading: 'Memuatkan kedai…',
    fatalTitle: 'Kedai tidak dapat dimuatkan',
    tryAgain: 'Cuba lagi',
    shopTitle: 'Batik lukisan tangan, dibayar dengan satu sentuhan',
    shopLede: 'Pilih barang, daftar keluar, dan bayar di halaman pembayaran selamat KelantanPay.',
    openTitle: 'Bayar Kedai Batik Kelantan',
    openLede: 'Masukkan jumlah pada invois anda, kemudian bayar di halaman pembayaran selamat KelantanPay.',
    products: 'Produk',
    cartAndCheckout: 'Troli dan pembayaran',
    cartTitle: 'Troli anda',
    cartEmpty: 'Troli anda kosong. Tambah barang yang anda suka.',
    total: 'Jumlah',
    checkout: 'Pembayaran',
    amount: 'Jumlah',
    fullName: 'Nama penuh',
    email: 'E-mel',
    mobile: 'Nombor telefon bimbit',
    mobileHint: 'Nombor telefon bimbit Malaysia.',
    amountHint: 'Antara {min} dan {max}.',
    pay: 'Bayar',
    payAmount: 'Bayar {amount}',
    starting: 'Memulakan pembayaran anda…',
    secureNote: 'Anda akan membayar di halaman KelantanPay. Kedai ini tidak pernah melihat butiran bank atau kad anda.',
    addToCart: 'Tambah ke troli',
    addAnother: 'Tambah lagi',
    inCart: '{n} dalam troli',
    added: '{name} ditambah ke troli anda.',
    removed: '{name} dibuang.',
    remove: 'Buang',
    removeItem: 'Buang {name}',
    fewer: 'Kurangkan satu {name}',
    more: 'Tambah satu {name}',
    quantityOf: 'Kuantiti {name}',
    cartIsEmpty: 'Troli anda kosong: tambah barang dahulu.',
    requestId: 'ID permintaan untuk bantuan: {id}',
    paymentStatus: 'Status pembayaran',
    waiting: 'Menunggu pengesahan',
    reference: 'Rujukan',
    order: 'Pesanan',
    confirmed: 'Disahkan',
    checkAgain: 'Semak semula',
    backToStore: 'Kembali ke kedai',
    continueShopping: 'Teruskan membeli-belah',
    seeEmail: 'Lihat resit e-mel anda',
    printReceipt: 'Cetak resit',
    footer: 'Pembayaran oleh KelantanPay, melalui Cloudflare Worker anda.',
    health: 'Kesihatan Worker',
    'pending.title': 'Mengesahkan pembayaran anda…',
    'pending.message': 'Menunggu pengesahan KelantanPay. Biasanya ini mengambil masa beberapa saat; biarkan halaman ini terbuka.',
    'paid.title': 'Terima kasih! Pembayaran anda selesai',
    'paid.message': 'Simpan rujukan di bawah untuk rekod anda.',
    'failed.title': 'Pembayaran tidak berjaya',
    'failed.message': 'Pembayaran ditolak atau dibatalkan. Troli anda masih ada jika anda mahu mencuba lagi.',
    'unknown.title': 'Kami belum dapat mengesahkan pembayaran ini',
    'unknown.message': 'KelantanPay melaporkan status yang tidak kami kenali (kod {code}). Kami akan terus menyemak.',
    'timeout.title': 'Masih belum selesai',
    'timeout.message': 'KelantanPay belum mengesahkan pembayaran ini. Semak semula sebentar lagi.',
    'invalid.title': 'Kami tidak dapat menemui pembayaran ini',
    'invalid.message': 'Pautan pembayaran ini tidak sah. Jika anda telah dicaj, hubungi kedai dengan rujukan bank anda.',
    'invalid.pill': 'Ralat',
    checkFailed: 'Status tidak dapat disemak sekarang: {reason} Menyemak semula sebentar lagi…',
  },
};

export const LANGUAGES = Object.keys(STRINGS);
const SAVED = 'kp-demo:lang';
const listeners = [];
let language = 'en';

/** The string `key` in the current language, with `{name}` placeholders filled from `params`. */
export function t(key, params = {}) {
  const text = STRINGS[language][key] ?? STRINGS.en[key] ?? key;
  return text.replace(/\{(\w+)\}/g, (_, name) => String(params[name] ?? ''));
}

export const currentLanguage = () => language;
export const onLanguageChange = (listener) => listeners.push(listener);

/** For dates: the locale of the current language in Malaysia. */
export const locale = () => (language === 'ms' ? 'ms-MY' : 'en-MY');

function applyStatic() {
  document.documentElement.lang = language;
  document.title = t('title');
  for (const element of document.querySelectorAll('[data-i18n]')) element.textContent = t(element.dataset.i18n);
  for (const element of document.querySelectorAll('[data-i18n-label]')) element.setAttribute('aria-label', t(element.dataset.i18nLabel));
  for (const button of document.querySelectorAll('[data-lang]')) button.setAttribute('aria-pressed', String(button.dataset.lang === language));
}

export function setLanguage(next, { remember = true } = {}) {
  language = pickLanguage(next);
  setClientLanguage(language);
  if (remember) {
    try {
      localStorage.setItem(SAVED, language);
    } catch {
      // storage disabled: the choice lasts for this page only
    }
  }
  applyStatic();
  for (const listener of listeners) listener(language);
}

/** The remembered choice, else the browser's language; wires the switch buttons. */
export function initLanguage() {
  let saved = null;
  try {
    saved = localStorage.getItem(SAVED);
  } catch {
    // as above
  }
  for (const button of document.querySelectorAll('[data-lang]')) {
    button.addEventListener('click', () => setLanguage(button.dataset.lang));
  }
  setLanguage(saved ?? navigator.language, { remember: false });
}
