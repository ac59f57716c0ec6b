// What survives the trip to the checkout page and back: the cart, the contact details and the
// payment attempt. sessionStorage is per tab and per origin, and is gone when the tab closes.

const PREFIX = 'kp-demo:';

function storage() {
  try {
    return window.sessionStorage;
  } catch {
    return null; // storage disabled: the store still works, it just forgets on reload
  }
}

export function load(name, fallback) {
  try {
    const text = storage()?.getItem(PREFIX + name);
    return text === null || text === undefined ? fallback : JSON.parse(text);
  } catch {
    return fallback;
  }
}

export function save(name, value) {
  try {
    storage()?.setItem(PREFIX + name, JSON.stringify(value));
  } catch {
    // quota or privacy mode: nothing to do but carry on
  }
}

export function forget(name) {
  try {
    storage()?.removeItem(PREFIX + name);
  } catch {
    // as above
  }
}
