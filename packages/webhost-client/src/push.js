// Pushing the outbox: in order, split to the server's limits, each group of entries under a
// txid that is written down before it is sent, so a retry after a lost answer sends the very
// same transactions and the server applies nothing twice.

const BODY_MARGIN = 1024
const encoder = new TextEncoder()

/** What the server receives for one outbox entry. */
export function toMutation (entry) {
  const mutation = { collection: entry.collection, op: entry.op, key: entry.key, stamp: entry.stamp }
  if (entry.op !== 'delete') mutation.fields = entry.fields
  if (entry.op === 'update') mutation.removed = entry.removed ?? []
  return mutation
}

const bytesOf = (value) => encoder.encode(JSON.stringify(value)).length
const transactionOverhead = (txid) => bytesOf({ txid, mutations: [] }) + 1

/**
 * Plans the next push from the head of the outbox.
 * @param {Array<object>} entries the oldest entries, up to maxMutations + 1 (the last one only
 *   tells whether a transaction goes on past the others)
 * @returns {{transactions: Array<{txid: string, entries: object[]}>, assigned: object[], oversized: object[]}}
 *   `assigned`: entries given a push txid now (to be saved before sending); `oversized`: an
 *   entry too large to push at all
 */
export function planPush (entries, { maxMutations, maxBodyBytes, clientId }) {
  const window = entries.slice(0, maxMutations)
  const lookahead = entries[maxMutations]
  const groups = groupByPushTxid(window)
  const budget = maxBodyBytes - BODY_MARGIN
  let bytes = bytesOf({ client: clientId, transactions: [] })
  let count = 0
  const plan = { transactions: [], assigned: [], oversized: [] }
  for (const [index, group] of groups.entries()) {
    const sizes = group.entries.map((entry) => bytesOf(toMutation(entry)) + 1)
    const groupBytes = transactionOverhead(group.id) + sum(sizes)
    // a Dexie transaction cut by the window may go on in entries not read yet
    const cutByWindow = !group.assigned && index === groups.length - 1 && lookahead !== undefined &&
      lookahead.pushTxid === undefined && lookahead.txid === group.id
    if (!cutByWindow && bytes + groupBytes <= budget && count + group.entries.length <= maxMutations) {
      if (!group.assigned) assign(plan, group.entries, group.id)
      plan.transactions.push({ txid: group.id, entries: group.entries })
      bytes += groupBytes
      count += group.entries.length
      continue
    }
    if (plan.transactions.length > 0) break
    if (group.assigned) {
      // sent before under this txid: it must go again exactly as it went
      plan.transactions.push({ txid: group.id, entries: group.entries })
      break
    }
    // one Dexie transaction larger than a push: it goes in parts, each a txid of its own
    const partTxid = `${group.id}.${group.entries[0].seq}`
    let taken = 0
    let partBytes = bytes + transactionOverhead(partTxid)
    while (taken < group.entries.length && partBytes + sizes[taken] <= budget) partBytes += sizes[taken++]
    if (taken === 0) {
      plan.oversized.push(group.entries[0])
      break
    }
    const part = group.entries.slice(0, taken)
    assign(plan, part, partTxid)
    plan.transactions.push({ txid: partTxid, entries: part })
    break
  }
  return plan
}

function groupByPushTxid (entries) {
  const groups = []
  for (const entry of entries) {
    const assigned = entry.pushTxid !== undefined
    const id = entry.pushTxid ?? entry.txid
    const last = groups.at(-1)
    if (last && last.id === id && last.assigned === assigned) last.entries.push(entry)
    else groups.push({ id, assigned, entries: [entry] })
  }
  return groups
}

function assign (plan, entries, pushTxid) {
  for (const entry of entries) {
    entry.pushTxid = pushTxid
    plan.assigned.push(entry)
  }
}

const sum = (numbers) => numbers.reduce((total, number) => total + number, 0)

/**
 * Pushes the whole outbox. Throws on network and server errors (the caller retries later, and
 * the same txids go again); rejected writes are dropped and reported through `onRejected`.
 */
export async function pushOutbox ({ replica, http, clock, limits, clientId, onRejected }) {
  for (;;) {
    const entries = await replica.outboxHead(limits.maxMutations + 1)
    if (entries.length === 0) return
    const plan = planPush(entries, { ...limits, clientId })
    if (plan.oversized.length > 0) {
      await dropOversized(replica, http, plan.oversized, limits, onRejected)
      continue
    }
    if (plan.assigned.length > 0) await replica.assignPushTxids(plan.assigned)
    const answer = await http.request('POST', '/v1/sync/push', {
      client: clientId,
      transactions: plan.transactions.map(({ txid, entries }) => ({ txid, mutations: entries.map(toMutation) }))
    })
    clock.observe(answer.clock)
    const rejected = await acknowledge(replica, plan.transactions, answer)
    for (const rejection of rejected) onRejected(rejection)
  }
}

// Drops the acknowledged entries and puts the server's records in the replica, in one transaction.
async function acknowledge (replica, transactions, answer) {
  const outcomes = new Map((answer.transactions ?? []).map((outcome) => [outcome.txid, outcome]))
  const collections = new Set(transactions.flatMap(({ entries }) => entries.map((entry) => entry.collection)))
  const rejected = []
  await replica.remoteTransaction([...collections].filter((name) => replica.collections.has(name)), async () => {
    const serverRecords = new Map()
    for (const { txid, entries } of transactions) {
      const outcome = outcomes.get(txid)
      if (!outcome) continue
      await replica.outbox.bulkDelete(entries.map((entry) => entry.seq))
      entries.forEach((entry, index) => {
        const result = outcome.results?.[index]
        if (!result || result.status === 'applied') return
        if (result.record !== undefined && replica.collections.has(entry.collection)) {
          if (!serverRecords.has(entry.collection)) serverRecords.set(entry.collection, [])
          serverRecords.get(entry.collection).push({ key: entry.key, record: result.record })
        }
        if (result.status === 'rejected') rejected.push(rejection(entry, result.error, result.record))
      })
    }
    // after the deletes above: only writes still pending are re-applied on the server's records
    for (const [collection, items] of serverRecords) await replica.applyServerRecords(collection, items)
  })
  return rejected
}

// A write no push can carry: dropped, and the server's copy of its record put in its place.
async function dropOversized (replica, http, entries, limits, onRejected) {
  for (const entry of entries) {
    const record = await serverRecord(http, entry)
    await replica.remoteTransaction([entry.collection], async () => {
      await replica.outbox.delete(entry.seq)
      await replica.applyServerRecords(entry.collection, [{ key: entry.key, record }])
    })
    onRejected(rejection(entry, {
      code: 'payload_too_large',
      message: `the write is larger than the server's limit of ${limits.maxBodyBytes} bytes per push`
    }, record))
  }
}

async function serverRecord (http, entry) {
  try {
    return await http.request('GET', `/v1/collections/${entry.collection}/records/${encodeURIComponent(String(entry.key))}`)
  } catch (error) {
    if (error.status === 404) return null
    throw error
  }
}

function rejection (entry, error, record) {
  const { collection, op, key, fields, removed } = entry
  return { collection, op, key, fields, removed, error, record: record ?? null }
}
