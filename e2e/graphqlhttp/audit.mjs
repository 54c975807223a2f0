// Runs graphql-http's server audit against the GraphQL endpoint named by
// the first argument. Prints every audit that is not "ok" and a summary
// line; exits 1 on any failure or warning (notices are only printed).
import { auditServer } from 'graphql-http';

const url = process.argv[2];
if (!url) {
  console.error('usage: node audit.mjs http://host:port/graphql');
  process.exit(2);
}
const results = await auditServer({ url });
const count = { ok: 0, notice: 0, warn: 0, error: 0 };
for (const r of results) {
  count[r.status]++;
  if (r.status !== 'ok') {
    console.log(`${r.status.toUpperCase()} ${r.id} ${r.name}: ${r.reason}`);
  }
}
console.log(`graphql-http audit: ${results.length} audits, ${count.ok} ok, ${count.notice} notices, ${count.warn} warnings, ${count.error} failures`);
process.exit(count.warn + count.error === 0 && count.ok > 0 ? 0 : 1);
