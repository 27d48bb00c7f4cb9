// Splitting the outbox into pushes within the server's limits, and keeping the txids of a
// push that was sent once.

import { test } from 'node:test'
import assert from 'node:assert/strict'
import { planPush, toMutation } from '../src/push.js'

let seq = 0
const entry = (txid, extra = {}) => ({
  seq: ++seq, txid, collection: 'tasks', op: 'put', key: `k${seq}`, fields: { n: seq }, stamp: '018c2a4f93a20000', ...extra
})
const limits = { maxMutations: 5, maxBodyBytes: 1_048_576, clientId: 'c1' }

test('whole Dexie transactions go under their own txid, up to max_mutations', () => {
  const entries = [entry('A'), entry('A'), entry('B'), entry('C'), entry('C'), entry('D')]
  const plan = planPush(entries, limits)
  assert.deepEqual(plan.transactions.map((t) => [t.txid, t.entries.length]), [['A', 2], ['B', 1], ['C', 2]])
  assert.deepEqual(plan.assigned.map((e) => e.pushTxid), ['A', 'A', 'B', 'C', 'C'])
  assert.deepEqual(plan.oversized, [])
})

test('a transaction cut by the window waits for the next push instead of being split', () => {
  const entries = [entry('A'), entry('B'), entry('B'), entry('B'), entry('B'), entry('B')]
  const plan = planPush(entries, limits)
  assert.deepEqual(plan.transactions.map((t) => t.txid), ['A'])
})

test('a transaction larger than a push goes in parts named after their first entry', () => {
  const entries = Array.from({ length: 7 }, () => entry('BIG'))
  const first = planPush(entries, limits)
  assert.equal(first.transactions.length, 1)
  assert.equal(first.transactions[0].txid, `BIG.${entries[0].seq}`)
  assert.equal(first.transactions[0].entries.length, 5)
  const second = planPush(entries.slice(5), limits)
  assert.deepEqual(second.transactions.map((t) => [t.txid, t.entries.length]), [[`BIG`, 2]])
})

test('entries sent before keep their push txid, even if they would now be grouped otherwise', () => {
  const sent = [entry('A', { pushTxid: 'A.1' }), entry('A', { pushTxid: 'A.1' })]
  const plan = planPush([...sent, entry('A'), entry('B')], limits)
  assert.deepEqual(plan.transactions.map((t) => [t.txid, t.entries.length]), [['A.1', 2], ['A', 1], ['B', 1]])
  assert.deepEqual(plan.assigned.map((e) => e.pushTxid), ['A', 'B'])
})

test('the body stays within max_body_bytes; a write that can never fit is set apart', () => {
  const big = 'x'.repeat(3000)
  const entries = [entry('A', { fields: { big } }), entry('B', { fields: { big } }), entry('C', { fields: { big } })]
  const plan = planPush(entries, { ...limits, maxBodyBytes: 8000 })
  assert.deepEqual(plan.transactions.map((t) => t.txid), ['A', 'B'])
  const body = JSON.stringify({ client: 'c1', transactions: plan.transactions.map((t) => ({ txid: t.txid, mutations: t.entries.map(toMutation) })) })
  assert.ok(body.length <= 8000)
  const huge = planPush([entry('H', { fields: { big: 'y'.repeat(10_000) } })], { ...limits, maxBodyBytes: 8000 })
  assert.equal(huge.transactions.length, 0)
  assert.equal(huge.oversized.length, 1)
})

test('mutations carry what the protocol asks for each operation', () => {
  assert.deepEqual(toMutation({ seq: 1, txid: 'T', collection: 'c', op: 'update', key: 1, fields: { a: 1 }, removed: ['b'], stamp: 's' }),
    { collection: 'c', op: 'update', key: 1, fields: { a: 1 }, removed: ['b'], stamp: 's' })
  assert.deepEqual(toMutation({ seq: 2, txid: 'T', collection: 'c', op: 'delete', key: 'k', stamp: 's' }),
    { collection: 'c', op: 'delete', key: 'k', stamp: 's' })
  assert.deepEqual(toMutation({ seq: 3, txid: 'T', collection: 'c', op: 'insert', key: 'k', fields: {}, stamp: 's' }),
    { collection: 'c', op: 'insert', key: 'k', fields: {}, stamp: 's' })
})
