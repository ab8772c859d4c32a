#!/usr/bin/env node
// Drives credentials-rpc from Node with the standard library only.
//
//     node glue.js [PATH-TO-credentials-rpc]
//
// Spawns the service (default: `credentials-rpc` on PATH), bootstraps an admin, adds a user, adds a
// credential with a PDF, renews it, reads its history and deletes it with confirmation, printing
// each step. The database is $CREDENTIALS_RPC_DB, or a temporary file removed at the end. With
// $CREDENTIALS_RPC_TOKEN set (an API token from tokens.create), the service signs in with it and
// the script uses no password. Exits non-zero as soon as a step fails.
'use strict';

const { spawn } = require('node:child_process');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const readline = require('node:readline');

const ADMIN = { email: 'ada@example.com', firstName: 'Ada', lastName: 'Admin', password: 'Admin#1234' };

class RPCError extends Error {
  constructor(method, error) {
    const data = error.data || {};
    super(`${method}: ${error.message} (${error.code} ${data.reason})`);
    this.code = error.code;
    this.data = data;
    this.reason = data.reason;
  }
}

// One process, one connection: requests go out one per line, answers come back in order.
class Service {
  constructor(executable, db) {
    this.child = spawn(executable, ['--db', db], { stdio: ['pipe', 'pipe', 'inherit'] });
    this.nextId = 1;
    this.waiting = new Map();
    this.exited = new Promise((resolve) => this.child.on('close', resolve));
    this.child.on('error', (e) => { this.spawnError = e; this.failAll(e); });
    // A service that is gone makes writes fail with EPIPE: the pending calls fail with it.
    this.child.stdin.on('error', (e) => this.failAll(e));
    this.child.on('close', (code) => this.failAll(new Error(`the service exited (code ${code})`)));
    readline.createInterface({ input: this.child.stdout }).on('line', (line) => {
      const response = JSON.parse(line);
      const pending = this.waiting.get(response.id);
      if (!pending) return this.failAll(new Error(`an answer for an unknown id: ${line.slice(0, 200)}`));
      this.waiting.delete(response.id);
      if (response.error) pending.reject(new RPCError(pending.method, response.error));
      else pending.resolve(response.result);
    });
  }

  failAll(error) {
    for (const pending of this.waiting.values()) pending.reject(error);
    this.waiting.clear();
  }

  call(method, params = {}) {
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.waiting.set(id, { method, resolve, reject });
      this.child.stdin.write(JSON.stringify({ jsonrpc: '2.0', id, method, params }) + '\n');
    });
  }

  async close() {
    this.child.stdin.end();
    const code = await this.exited;
    if (this.spawnError) throw this.spawnError;
    return code;
  }
}

// A one-page PDF. The service checks the file from its bytes, not its name: a PDF needs its
// header, a cross-reference table at the offset `startxref` gives, and `%%EOF` at the end.
function tinyPDF() {
  const objects = ['<</Type /Catalog /Pages 2 0 R>>', '<</Type /Pages /Kids [3 0 R] /Count 1>>',
    '<</Type /Page /Parent 2 0 R /MediaBox [0 0 200 200]>>'];
  let pdf = '%PDF-1.4\n';
  const offsets = objects.map((body, i) => {
    const offset = pdf.length;
    pdf += `${i + 1} 0 obj ${body} endobj\n`;
    return offset;
  });
  const xref = pdf.length;
  pdf += `xref\n0 ${objects.length + 1}\n0000000000 65535 f \n`;
  pdf += offsets.map((offset) => `${String(offset).padStart(10, '0')} 00000 n \n`).join('');
  pdf += `trailer <</Size ${objects.length + 1} /Root 1 0 R>>\nstartxref\n${xref}\n%%EOF\n`;
  return Buffer.from(pdf, 'latin1');
}
const TINY_PDF = tinyPDF();

async function expectError(promise, reason) {
  try {
    await promise;
  } catch (e) {
    if (e instanceof RPCError && e.reason === reason) return e;
    throw e;
  }
  throw new Error(`expected the error ${reason}, got a result`);
}

async function run(executable, db) {
  const service = new Service(executable, db);
  console.log(`spawned ${executable} (database: ${db})`);
  let failure = null;
  try {
    await steps(service);
  } catch (e) {
    failure = e;
  }
  // The service is closed either way; the first failure is the one reported.
  let code = 0;
  try {
    code = await service.close();
  } catch (e) {
    failure = failure || e;
  }
  if (failure) throw failure;
  if (code !== 0) throw new Error(`the service exited with ${code}`);
}

async function steps(service) {
  if (process.env.CREDENTIALS_RPC_TOKEN) {
    // The way for scripts: an API token (tokens.create) in the environment. The service, which
    // inherits it, signs in before reading the first request; no password here.
    const me = (await service.call('session.whoami')).user;
    console.log(`signed in with CREDENTIALS_RPC_TOKEN as ${me.email} (${me.role})`);
  } else {
    try {
      await service.call('setup.createAdmin', ADMIN);
      console.log(`bootstrapped admin ${ADMIN.email}`);
    } catch (e) {
      if (e.reason !== 'already_initialized') throw e;
      console.log('the database already has users: signing in as the existing admin');
    }
    const me = (await service.call('session.login', { email: ADMIN.email, password: ADMIN.password })).user;
    console.log(`signed in as ${me.email} (${me.role})`);
  }

  const stamp = `${Date.now()}${process.pid}`;
  const user = await service.call('users.add', {
    email: `sam.${stamp}@example.com`, firstName: 'Sam', lastName: 'Smith', role: 'support', temporaryPassword: 'Temp#1234',
  });
  console.log(`added user ${user.email} (${user.id}), who must change the password at first sign-in`);

  const types = (await service.call('credentialTypes.list', { limit: 1000 })).items;
  const kind = types.find((t) => t.name === 'First Aid') ||
    await service.call('credentialTypes.create', { name: 'First Aid', requiresExpiration: true });
  const credential = await service.call('credentials.add', {
    userId: user.id, typeId: kind.id, issueDate: '2026-01-15', expirationDate: '2027-01-14', documentNumber: 'FA-1001',
    media: [{ fileName: 'first-aid.pdf', contentType: 'application/pdf', dataBase64: TINY_PDF.toString('base64') }],
  });
  const latest = credential.latestVersion;
  console.log(`added credential ${credential.id} (${credential.typeName}, version ${latest.number}, ` +
    `expires ${latest.expirationDate}, ${latest.media.length} PDF of ${latest.media[0].byteCount} bytes)`);

  const renewed = await service.call('credentials.addVersion', {
    credentialId: credential.id, issueDate: '2027-01-10', expirationDate: '2028-01-09', documentNumber: 'FA-2002',
  });
  console.log(`renewed: version ${renewed.latestVersion.number}, expires ${renewed.latestVersion.expirationDate}`);

  const history = (await service.call('credentials.history', { credentialId: credential.id })).items;
  console.log('history: ' + history.map((v) =>
    `version ${v.number} issued ${v.issueDate} expires ${v.expirationDate} (${v.approval.status})`).join('; '));

  const refused = await expectError(service.call('credentials.delete', { credentialId: credential.id }), 'confirmation_required');
  const p = refused.data.preview;
  console.log(`delete without confirmation refused: it would remove ${p.versions} versions, ` +
    `${p.mediaFiles} media file (${p.mediaBytes} bytes) and ${p.activityEntries} activity entries`);
  const deleted = await service.call('credentials.delete', { credentialId: credential.id, confirm: true });
  console.log(`deleted ${deleted.credentialId}`);
  await expectError(service.call('credentials.get', { credentialId: credential.id }), 'not_found');
  console.log('done');
}

async function main() {
  const executable = process.argv[2] || 'credentials-rpc';
  let db = process.env.CREDENTIALS_RPC_DB;
  let scratch = null;
  if (!db) {
    scratch = fs.mkdtempSync(path.join(os.tmpdir(), 'credentials-rpc-glue-'));
    db = path.join(scratch, 'glue.sqlite3');
  }
  try {
    await run(executable, db);
    return 0;
  } catch (e) {
    console.error(`failed: ${e.message}`);
    return 1;
  } finally {
    if (scratch) fs.rmSync(scratch, { recursive: true, force: true });
  }
}

main().then((code) => { process.exitCode = code; });
