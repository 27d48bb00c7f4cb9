// Stock Yjs + y-websocket clients that load a y-websocket server, for bench/yjs_reference.py.
//
// usage: node load.mjs '<json config>'
// Prints one JSON line {"ready": true} once every client is synced, then one JSON line with the
// results. Every timestamp is performance.timeOrigin + performance.now(): milliseconds on a clock
// that several processes on one machine share, so a writer and its observers may live apart.

import WebSocket from 'ws'
import * as Y from 'yjs'
import { WebsocketProvider } from 'y-websocket'

const config = JSON.parse(process.argv[2])
process.setMaxListeners(0) // every provider listens for the process's exit
const now = () => performance.timeOrigin + performance.now()
const print = (message) => process.stdout.write(JSON.stringify(message) + '\n')
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms))

const connect = (document) => {
  const doc = new Y.Doc()
  const provider = new WebsocketProvider(config.url, document, doc, {
    WebSocketPolyfill: WebSocket,
    params: config.key ? { token: config.key } : {},
    disableBc: true
  })
  const synced = new Promise((resolve) => {
    if (provider.synced) resolve()
    else provider.once('sync', () => resolve())
  })
  return { doc, provider, synced, stamps: doc.getArray('stamps') }
}

// one update per call, as an editor sends one per keystroke: a stamp [sequence, sent at]
const write = (client, sequence) => {
  client.stamps.push([[sequence, now()]])
}

const observe = (client, latencies, from) => {
  client.stamps.observe((event) => {
    const received = now()
    for (const change of event.changes.delta) {
      for (const [sequence, sentAt] of change.insert ?? []) {
        if (sentAt >= from) latencies.push(received - sentAt)
      }
    }
  })
}

// sends at `rate` per second from `startAt` for `seconds`, catching up after timer jitter
const writeAtRate = async (client, rate, startAt, seconds, offset = 0) => {
  while (now() < startAt + offset) await sleep(1)
  const begin = now()
  let sent = 0
  while (now() < begin + seconds * 1000) {
    const due = Math.floor(((now() - begin) * rate) / 1000) + 1
    while (sent < due) write(client, sent++)
    await sleep(Math.max(1, 1000 / rate - 1))
  }
  return sent
}

const finish = (clients, result) => {
  for (const client of clients) client.provider.destroy()
  // a pipe is written asynchronously: exit only once the whole result is out
  process.stdout.write(JSON.stringify(result) + '\n', () => process.exit(0))
}

const modes = {
  // observers of one document: every stamp's travel time from the writer to each observer
  async observers () {
    const clients = Array.from({ length: config.count }, () => connect(config.document))
    await Promise.all(clients.map((client) => client.synced))
    const latencies = []
    for (const client of clients) observe(client, latencies, config.startAt)
    print({ ready: true })
    while (now() < config.startAt + config.seconds * 1000 + config.grace * 1000) await sleep(50)
    finish(clients, { latencies })
  },

  async writer () {
    const client = connect(config.document)
    await client.synced
    print({ ready: true })
    const sent = await writeAtRate(client, config.rate, config.startAt, config.seconds)
    await sleep(config.grace * 1000)
    finish([client], { sent })
  },

  // rooms [first, first + count): one writer and one observer each, writers spread over a second
  async rooms () {
    const rooms = []
    for (let n = config.first; n < config.first + config.count; n++) {
      rooms.push({ writer: connect(`${config.prefix}-${n}`), observer: connect(`${config.prefix}-${n}`) })
      if (n % 20 === 19) await sleep(20) // do not open hundreds of sockets in one burst
    }
    await Promise.all(rooms.flatMap((room) => [room.writer.synced, room.observer.synced]))
    const latencies = []
    for (const room of rooms) observe(room.observer, latencies, config.startAt)
    print({ ready: true })
    const sent = await Promise.all(
      rooms.map((room, index) =>
        writeAtRate(room.writer, config.rate, config.startAt, config.seconds, (index * 1000) / rooms.length)
      )
    )
    await sleep(config.grace * 1000)
    finish(rooms.flatMap((room) => [room.writer, room.observer]), {
      latencies,
      sent: sent.reduce((a, b) => a + b, 0)
    })
  },

  // writes `updates` updates, one message each, and returns once a second client holds them all
  async fill () {
    const writer = connect(config.document)
    await writer.synced
    for (let n = 0; n < config.updates; n++) {
      write(writer, n)
      if (n % 200 === 199) await sleep(1) // let the socket drain, as a typing user would
    }
    const checker = connect(config.document)
    await checker.synced
    while (checker.stamps.length < config.updates) await sleep(20)
    finish([writer, checker], { stored: checker.stamps.length })
  },

  // time from opening the socket until the document is synced and complete
  async load () {
    const began = now()
    const client = connect(config.document)
    await client.synced
    while (client.stamps.length < config.updates) await sleep(1)
    const elapsed = now() - began
    finish([client], { elapsed, length: client.stamps.length })
  }
}

modes[config.mode]().catch((error) => {
  print({ error: String(error && error.stack ? error.stack : error) })
  process.exit(1)
})
