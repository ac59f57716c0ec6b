// The Telegram Bot API's sendMessage, as the Worker's alerts call it (orders-api.md, "Alerts"), so
// `make dev` shows alerts without a bot and e2e tests count them: `POST /bot<token>/sendMessage`
// with a JSON (or form) body answers Telegram's shapes, keeps what it got for tests, and prints
// each message in a box on the sandbox's console. A test makes the next sends fail (a 502 as
// Telegram's front end gives, or no answer at all) to see the Worker retry.

/** What Telegram refuses, in its words (`{"ok":false,"error_code","description"}`). */
const TEXT_LIMIT = 4096; // characters after entity parsing; plain text here
const TOKEN = /^[0-9]{1,20}:[A-Za-z0-9_-]{1,100}$/;
export const TELEGRAM_FAULTS = ['http502', 'hang'];

export class TelegramStandIn {
  #messages = [];
  #faults = [];
  #nextId = 1;
  #show;

  /** `show(text)`: where a received message's box goes (the console for `make dev`). */
  constructor(show = () => {}) {
    this.#show = show;
  }

  /** Makes the next `count` sends fail with `fault`. */
  fail(count, fault = 'http502') {
    for (let i = 0; i < count; i += 1) this.#faults.push(fault);
  }

  /** Every message delivered, oldest first: what a chat would show, with the token it came with. */
  messages() {
    return this.#messages.map((m) => ({ ...m }));
  }

  reset() {
    this.#messages = [];
    this.#faults = [];
  }

  /**
   * One `sendMessage` call: `{ status, body }` to answer, or `null` for a send left unanswered
   * (the `hang` fault). `token` is the path's, `params` the parsed body.
   */
  sendMessage(token, params) {
    const refuse = (status, description) => ({ status, body: { ok: false, error_code: status, description } });
    const fault = this.#faults.shift();
    if (fault === 'hang') return null;
    if (fault === 'http502') return refuse(502, 'Bad Gateway');
    if (!TOKEN.test(token)) return refuse(401, 'Unauthorized');
    const chat = params.chat_id;
    if (chat === undefined || chat === null || String(chat).trim() === '') return refuse(400, 'Bad Request: chat_id is empty');
    if (!/^-?[0-9]{1,20}$|^@[A-Za-z0-9_]{5,32}$/.test(String(chat))) return refuse(400, 'Bad Request: chat not found');
    const text = typeof params.text === 'string' ? params.text : '';
    if (text.trim() === '') return refuse(400, 'Bad Request: message text is empty');
    if ([...text].length > TEXT_LIMIT) return refuse(400, 'Bad Request: message is too long');
    const botId = Number(token.split(':')[0]);
    const chatId = /^-?[0-9]+$/.test(String(chat)) ? Number(chat) : -1000000000001;
    const result = {
      message_id: this.#nextId++,
      from: { id: botId, is_bot: true, first_name: 'KelantanPay sandbox', username: 'kelantanpay_sandbox_bot' },
      chat: chatId < 0
        ? { id: chatId, title: String(chat).startsWith('@') ? String(chat).slice(1) : 'Sandbox group', type: String(chat).startsWith('@') ? 'channel' : 'group' }
        : { id: chatId, first_name: 'Seller', type: 'private' },
      date: Math.floor(Date.now() / 1000),
      text,
    };
    this.#messages.push({
      message_id: result.message_id, token, chat_id: String(chat), text,
      link_preview_options: params.link_preview_options ?? null, date: result.date,
    });
    this.#show(messageBox(String(chat), text));
    return { status: 200, body: { ok: true, result } };
  }
}

/** A received message as the console shows it: a box, its first line the chat it went to. */
export function messageBox(chat, text, width = 64) {
  const lines = text.split('\n').flatMap((line) => wrap(line, width - 4));
  const title = `─ Telegram to chat ${chat} (sandbox Bot API) `;
  const top = `┌${title}${'─'.repeat(Math.max(0, width - 2 - [...title].length))}┐`;
  const body = lines.map((l) => `│ ${l}${' '.repeat(Math.max(0, width - 4 - [...l].length))} │`);
  return [top, ...body, `└${'─'.repeat(width - 2)}┘`, ''].join('\n');
}

function wrap(line, width) {
  const chars = [...line];
  if (chars.length <= width) return [line];
  const out = [];
  for (let i = 0; i < chars.length; i += width) out.push(chars.slice(i, i + width).join(''));
  return out;
}
