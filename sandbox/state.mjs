// The sandbox's memory: payments and the token signing key, in one JSON file written
// atomically (temp file + rename), so a restart keeps payments and still accepts old tokens.
import { randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';

export function loadState(file) {
  if (file) {
    try {
      const saved = JSON.parse(readFileSync(file, 'utf8'));
      if (saved && typeof saved.signingKey === 'string' && saved.payments) return saved;
    } catch {
      // No file yet, or an unreadable one: start afresh.
    }
  }
  return { signingKey: randomBytes(32).toString('hex'), payments: {}, orderSeq: 0 };
}

export function saveState(file, state) {
  if (!file) return;
  mkdirSync(dirname(file), { recursive: true });
  const temp = `${file}.${process.pid}.tmp`;
  writeFileSync(temp, JSON.stringify(state, null, 1));
  renameSync(temp, file);
}
