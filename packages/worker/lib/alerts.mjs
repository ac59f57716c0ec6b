// The alerts' side of a project's wrangler.toml (orders-api.md, "Alerts"), as pure functions of its
// text: the NOTIFY_EMAIL send_email binding of each environment, what the toml alone shows wrong
// (a bot token written into it, e-mail addresses without the binding or the binding without
// addresses, a binding to another address), and what the Worker's own settings check is asked with. What the settings
// themselves must be (KP_NOTIFY_ON's words, a chat without a token, KP_TELEGRAM_API_URL) is the
// Worker's rule (worker/src/config/alerts.rs), asked through lib/settings.mjs, never copied here.

import { bindingBlocks } from './toml.mjs';

export const EMAIL_BINDING = 'NOTIFY_EMAIL';
export const TOKEN = 'KP_TELEGRAM_BOT_TOKEN';
const where = (file, env) => `${file}${env ? ` [env.${env}]` : ''}`;
const block = (env) => `[[${env ? `env.${env}.` : ''}send_email]]`;

/**
 * The `[[send_email]]` block named NOTIFY_EMAIL of each environment ('' = top level; every [env.X]
 * the toml names, since bindings are not inherited), or null where there is none:
 * `{ name, destination_address }` (strings, or undefined).
 */
export function emailBindings(toml) {
  return new Map([...bindingBlocks(toml, 'send_email', 'name', EMAIL_BINDING)].map(([env, f]) => [env, f && { name: f.name, destination_address: f.destination_address }]));
}

/**
 * What the Worker's settings check is asked with, added to an environment's vars: the bot token as
 * absent (empty) where it cannot be set: a local environment whose .dev.vars lacks it (the check
 * would otherwise take it as put with `wrangler secret put`, as every missing secret is). A deployed
 * environment's token is the check's to take as put where the environment names a chat. (The
 * NOTIFY_EMAIL binding: the check takes it as there when the vars name an address; a binding
 * without addresses, or addresses without a binding, is noted from the toml by alertNotes.)
 */
export function alertTable(vars, { local, dev = {} }) {
  return local && dev[TOKEN] === undefined ? { [TOKEN]: '' } : {};
}

/**
 * What the toml alone shows about an environment's alerts: `{ failures, notes }` (text). A bot token
 * in [vars] is a failure (a toml is committed and shared; the token lets anyone post as the bot).
 */
export function alertNotes(file, env, vars, binding) {
  const failures = [];
  const notes = [];
  if (typeof vars[TOKEN] === 'string' && vars[TOKEN].trim()) {
    failures.push(`${where(file, env)}: ${TOKEN} is a secret and is written in ${env ? `[env.${env}.vars]` : '[vars]'}: anyone who reads the file can post as your bot. `
      + `Remove it, revoke it with @BotFather (/revoke) and put the new one ${env ? `with npx wrangler secret put ${TOKEN} --env ${env}` : 'in .dev.vars'}.`);
  }
  const from = vars.KP_NOTIFY_EMAIL_FROM;
  const to = vars.KP_NOTIFY_EMAIL_TO;
  if (!binding && (typeof from === 'string' || typeof to === 'string')) {
    notes.push(`${where(file, env)} sets ${[typeof from === 'string' && 'KP_NOTIFY_EMAIL_FROM', typeof to === 'string' && 'KP_NOTIFY_EMAIL_TO'].filter(Boolean).join(' and ')} `
      + `but has no ${EMAIL_BINDING} send_email binding: no e-mail alerts. Add\n  ${block(env)}\n  name = "${EMAIL_BINDING}"\n`
      + `  destination_address = "${typeof to === 'string' ? to : '<KP_NOTIFY_EMAIL_TO>'}"\n  (the address verified in Cloudflare Email Routing; package README, "Alerts").`);
  }
  if (binding && typeof from !== 'string' && typeof to !== 'string') {
    notes.push(`${where(file, env)} binds ${EMAIL_BINDING} but sets neither KP_NOTIFY_EMAIL_FROM nor KP_NOTIFY_EMAIL_TO: no e-mail alerts. `
      + `Set both in ${env ? `[env.${env}.vars]` : '[vars]'}: the sender (an address on your Email Routing domain) and the verified address the binding sends to${binding.destination_address ? ` (${binding.destination_address})` : ''}.`);
  }
  if (binding && typeof to === 'string' && binding.destination_address !== undefined && binding.destination_address !== to.trim()) {
    notes.push(`${where(file, env)}: the ${EMAIL_BINDING} binding sends only to ${binding.destination_address}, but KP_NOTIFY_EMAIL_TO is ${to.trim()}: `
      + 'Cloudflare refuses every alert e-mail. Make them the same address.');
  }
  return { failures, notes };
}
