// create-kelantanpay's answer rules, as pure functions: what is refused and how it is said.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as p from '../../packages/create-kelantanpay/project.mjs';

const refused = (fn, message) => assert.throws(fn, (e) => e instanceof p.AnswerError && message.test(e.message), String(message));

test('origins: scheme and host only, https (http only to this machine)', () => {
  assert.deepEqual(p.parseOrigins('https://shop.example, https://shop.example/ http://127.0.0.1:8787'), ['https://shop.example', 'http://127.0.0.1:8787']);
  refused(() => p.parseOrigins('https://shop.example/cart'), /has a path/);
  refused(() => p.parseOrigins('https://shop.example?x=1'), /has a path, query or fragment/);
  refused(() => p.parseOrigins('http://shop.example'), /must be https/);
  refused(() => p.parseOrigins('https://u:pw@shop.example'), /user name or password/);
  refused(() => p.parseOrigins(''), /at least one shop origin/);
});

test('return URL inside the origins; the production webhook https, the local one on this machine', () => {
  assert.equal(p.parseReturnUrl('https://shop.example/thanks', ['https://shop.example']), 'https://shop.example/thanks');
  refused(() => p.parseReturnUrl('https://shop.example.evil/thanks', ['https://shop.example']), /outside the shop origins/);
  assert.equal(p.parseWebhookUrl(''), '');
  refused(() => p.parseWebhookUrl('http://127.0.0.1:3000/hooks'), /must be https/);
  assert.equal(p.parseDevWebhookUrl('http://127.0.0.1:3000/hooks'), 'http://127.0.0.1:3000/hooks');
  refused(() => p.parseDevWebhookUrl('https://backend.example/hooks'), /127\.0\.0\.1 or localhost/);
  // What the Worker takes is the Worker's rule, asked by index.mjs (tests/merchant/tools.test.mjs).
  assert.equal(p.parseWebhookUrl('https://user:pw@backend.example/hooks'), 'https://user:pw@backend.example/hooks');
});

test('catalogs: a JSON list or CSV rows, read as they are (the items are the Worker\'s to judge)', () => {
  assert.deepEqual(p.parseCatalog('[{"sku":"a","name":"A","amount":"1.50"}]'), [{ sku: 'a', name: 'A', amount: '1.50' }]);
  assert.deepEqual(p.parseCatalog('sku,name,amount\r\nb,"B, big",2.00\r\n'), [{ sku: 'b', name: 'B, big', amount: '2.00' }]);
  assert.deepEqual(p.parseCatalog('sku,name,amount\na,A,45'), [{ sku: 'a', name: 'A', amount: '45' }]);
  refused(() => p.parseCatalog('[{"sku":'), /not valid JSON/);
  refused(() => p.parseCatalog('name,sku,amount\nA,a,1.00'), /header line sku,name,amount/);
  refused(() => p.parseCatalog('sku,name,amount\na,A'), /three cells/);
});
