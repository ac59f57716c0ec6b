// Two tiny helpers so that views build elements from data without innerHTML (catalog names are
// merchant text and are only ever set as textContent).

export const byId = (id) => document.getElementById(id);

export function h(tag, props = {}, ...children) {
  const element = document.createElement(tag);
  for (const [key, value] of Object.entries(props)) {
    if (value === undefined || value === null || value === false) continue;
    if (key === 'class') element.className = value;
    else if (key.startsWith('on')) element.addEventListener(key.slice(2), value);
    else element.setAttribute(key, value === true ? '' : value);
  }
  element.append(...children.flat().filter((child) => child !== null && child !== undefined && child !== false));
  return element;
}

/** Shows `message` in `element` (hidden when empty). */
export function setMessage(element, message) {
  element.textContent = message ?? '';
  element.hidden = !message;
}
