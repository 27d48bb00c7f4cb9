// Live sync load: observers subscribe to one collection; pushers write changes at a set rate
// and push them over their own sockets. Every pushed record carries the time it was sent; an observer
// measures, for each change it is sent, how long after the push it arrived (same machine, same
// clock). Prints one JSON line of figures per report interval and a final summary.
//
//   node load.mjs <sync url> <api key> <observers> <pushers> <changes/s> <seconds> [batch]
import WebSocket from 'ws'

const [syncUrl, apiKey, observersArg, pushersArg, rateArg, secondsArg, batchArg] = process.argv.slice(2)
const observers = Number(observersArg)
const pushers = Number(pushersArg)
const rate = Number(rateArg) // changes per second written, over all pushers
const seconds = Number(secondsArg)
const batch = Number(batchArg || 0) // the most mutations in one push (0: up to 1000)
const collection = 'tasks'
const url = `${syncUrl}/v1/sync?token=${encodeURIComponent(apiKey)}`

// latency histogram in 0.1 ms buckets up to 10 s, for constant memory however long the run
const BUCKETS = 100_000
class Histogram {
  constructor () { this.counts = new Uint32Array(BUCKETS + 1); this.n = 0 }
  add (ms) { this.counts[Math.min(BUCKETS, Math.max(0, Math.round(ms * 10)))]++; this.n++ }
  quantile (q) {
    let seen = 0
    const wanted = q * this.n
    for (let i = 0; i <= BUCKETS; i++) { seen += this.counts[i]; if (seen >= wanted) return i / 10 }
    return BUCKETS / 10
  }
  reset () { this.counts.fill(0); this.n = 0 }
}

const open = (name) => new Promise((resolve, reject) => {
  const socket = new WebSocket(url, { perMessageDeflate: false, maxPayload: 0 })
  socket.once('error', reject)
  socket.once('message', (data) => { // hello
    const hello = JSON.parse(data)
    if (hello.type !== 'hello') reject(new Error(`${name}: expected hello, got ${data}`))
    resolve(socket)
  })
})

const interval = new Histogram() // per report, from the app's write
const total = new Histogram() // whole run after warm-up, from the app's write
const fromPush = new Histogram() // whole run after warm-up, from the push that carried it
let delivered = 0
let warm = false
let caughtUp = 0
const sentAtPattern = /"sentAt": ?(\d+(?:\.\d+)?)/g
const pushedAtPattern = /"pushedAt": ?(\d+(?:\.\d+)?)/g

async function observe (index) {
  const socket = await open(`observer ${index}`)
  let synced = false
  socket.on('message', (data) => {
    const text = data.toString()
    if (!synced) {
      const message = JSON.parse(text)
      if (message.type === 'changes' && message.more === false) { synced = true; caughtUp++ }
      return
    }
    const now = performance.timeOrigin + performance.now()
    for (const match of text.matchAll(sentAtPattern)) {
      const latency = now - Number(match[1])
      interval.add(latency)
      if (warm) total.add(latency)
      delivered++
    }
    if (warm) for (const match of text.matchAll(pushedAtPattern)) fromPush.add(now - Number(match[1]))
  })
  socket.send(JSON.stringify({ type: 'subscribe', collections: { [collection]: { cursor: null } } }))
  return socket
}

let acked = 0
let refused = 0
const pushLatency = new Histogram()
const batches = new Histogram() // mutations per push (one bucket per 0.1)

// A pusher is an app writing `rate / pushers` changes a second into its outbox, and a sync
// loop that keeps one push in flight carrying everything written since the last one (at most
// `batch` mutations when --batch is given, 1000 otherwise), as the SDK does.
async function push (index, deadline) {
  const socket = await open(`pusher ${index}`)
  const outbox = []
  const keys = []
  let counter = 0
  let requestId = 0
  let inFlight = null
  const maxBatch = batch || 1000
  const perPusher = rate / pushers
  const write = () => {
    const sentAt = performance.timeOrigin + performance.now()
    if (keys.length > 100 && (counter % 2 === 1)) {
      const key = keys[Math.floor(Math.random() * keys.length)]
      outbox.push({ collection, op: 'update', key, fields: { title: `edit ${counter}`, sentAt } })
    } else {
      const key = `p${index}-${counter}`
      keys.push(key)
      if (keys.length > 1000) keys.shift()
      outbox.push({ collection, op: 'insert', key, fields: { projectId: counter % 97, title: `task ${counter}`, sentAt } })
    }
    counter++
  }
  const send = () => {
    if (inFlight || !outbox.length) return
    const mutations = outbox.splice(0, maxBatch)
    const pushedAt = performance.timeOrigin + performance.now()
    for (const mutation of mutations) mutation.fields.pushedAt = pushedAt
    const id = ++requestId
    inFlight = { id, started: performance.now(), count: mutations.length }
    batches.add(mutations.length)
    socket.send(JSON.stringify({ type: 'push', id, client: `pusher-${index}`, transactions: [{ txid: `bench-${index}-${process.pid}-${id}`, mutations }] }))
  }
  socket.on('message', (data) => {
    const message = JSON.parse(data)
    if (message.type !== 'push_result') return
    for (const result of message.transactions[0].results) {
      if (result.status === 'rejected') refused++
      else acked++
    }
    if (warm) pushLatency.add(performance.now() - inFlight.started)
    inFlight = null
    send()
  })
  // the app's writes, spread evenly, each pusher at its own phase
  const every = 1000 / perPusher
  let next = performance.now() + Math.random() * every
  while (performance.now() < deadline) {
    const now = performance.now()
    while (next <= now) { write(); next += every }
    send()
    await new Promise((resolve) => setTimeout(resolve, Math.max(0, next - performance.now())))
  }
  while (outbox.length || inFlight) { send(); await new Promise((resolve) => setTimeout(resolve, 10)) }
  socket.close()
}

const sockets = []
for (let i = 0; i < observers; i++) sockets.push(await observe(i))
while (caughtUp < observers) await new Promise((resolve) => setTimeout(resolve, 10))
const started = performance.now()
const deadline = started + seconds * 1000
const warmAfter = Math.min(10_000, seconds * 1000 / 5)
setTimeout(() => { warm = true }, warmAfter)
let lastAcked = 0
let lastDelivered = 0
const report = setInterval(() => {
  const elapsed = (performance.now() - started) / 1000
  console.log(JSON.stringify({
    t: Math.round(elapsed),
    acked_per_s: Math.round((acked - lastAcked) / 5),
    delivered_per_s: Math.round((delivered - lastDelivered) / 5),
    p50_ms: interval.quantile(0.5),
    p95_ms: interval.quantile(0.95),
    p99_ms: interval.quantile(0.99)
  }))
  lastAcked = acked
  lastDelivered = delivered
  interval.reset()
}, 5000)
await Promise.all(Array.from({ length: pushers }, (_, i) => push(i, deadline)))
const pushedFor = (performance.now() - started) / 1000
await new Promise((resolve) => setTimeout(resolve, 1000)) // the last changes arrive
clearInterval(report)
for (const socket of sockets) socket.close()
console.log(JSON.stringify({
  summary: true,
  seconds: Math.round(pushedFor),
  acked,
  refused,
  acked_per_s: Math.round(acked / pushedFor),
  delivered,
  delivered_per_s: Math.round(delivered / pushedFor),
  expected_deliveries: acked * observers,
  visible_p50_ms: total.quantile(0.5),
  visible_p95_ms: total.quantile(0.95),
  visible_p99_ms: total.quantile(0.99),
  push_to_visible_p50_ms: fromPush.quantile(0.5),
  push_to_visible_p95_ms: fromPush.quantile(0.95),
  push_to_visible_p99_ms: fromPush.quantile(0.99),
  push_ack_p50_ms: pushLatency.quantile(0.5),
  push_ack_p95_ms: pushLatency.quantile(0.95),
  push_size_p50: batches.quantile(0.5),
  push_size_p95: batches.quantile(0.95)
}))
process.exit(0)
