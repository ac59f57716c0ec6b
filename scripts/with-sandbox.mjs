// Runs a command with a fresh sandbox (random credentials, free port) described in its
// environment (KP_SANDBOX_URL, KP_SANDBOX_USERNAME, KP_SANDBOX_PASSWORD), then stops it.
// Usage: node scripts/with-sandbox.mjs <command> [args...]
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { startSandbox } from '../sandbox/server.mjs';

const [command, ...args] = process.argv.slice(2);
const sandbox = await startSandbox({
  username: `merchant-${randomBytes(3).toString('hex')}`,
  password: `pw-${randomBytes(12).toString('base64url')}`,
});
const child = spawn(command, args, {
  stdio: 'inherit',
  env: { ...process.env, KP_SANDBOX_URL: sandbox.url, KP_SANDBOX_USERNAME: sandbox.username, KP_SANDBOX_PASSWORD: sandbox.password },
});
for (const signal of ['SIGINT', 'SIGTERM']) process.on(signal, () => child.kill(signal));
child.on('exit', async (code, signal) => {
  await sandbox.stop();
  process.exit(code ?? (signal ? 1 : 0));
});
