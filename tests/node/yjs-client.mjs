// A stock Yjs + y-websocket client driven by the Python tests.
//
// usage: node yjs-client.mjs <sync url> <document> [api key]
// Reads one JSON command per line on stdin ({"id": 1, "cmd": "insert", ...}) and answers each
// with one JSON line on stdout ({"id": 1, "ok": true, ...}); provider events are printed as
// {"event": ...} lines as they happen.

import readline from 'node:readline'
import WebSocket from 'ws'
import * as Y from 'yjs'
import { WebsocketProvider } from 'y-websocket'

const [syncUrl, documentName, apiKey] = process.argv.slice(2)

const doc = new Y.Doc()
const text = doc.getText('text')
const map = doc.getMap('map')

const print = (message) => process.stdout.write(JSON.stringify(message) + '\n')

const provider = new WebsocketProvider(syncUrl + '/yjs', documentName, doc, {
  WebSocketPolyfill: WebSocket,
  params: apiKey ? { token: apiKey } : {},
  disableBc: true,
  maxBackoffTime: 500
})
provider.on('status', ({ status }) => print({ event: 'status', status }))
provider.on('sync', (synced) => print({ event: 'sync', synced }))
provider.on('connection-close', (event) =>
  print({ event: 'connection-close', code: event ? event.code : null, reason: event ? event.reason : '' })
)
provider.on('closed', ({ code, reason }) => print({ event: 'closed', code, reason }))

const snapshot = () => ({
  // a large text is left out: every answer carries the snapshot
  text: text.length <= 1_000_000 ? text.toString() : null,
  length: text.length,
  map: map.toJSON(),
  synced: provider.synced,
  connected: provider.wsconnected,
  clientId: doc.clientID,
  peers: Array.from(provider.awareness.getStates().entries())
    .filter(([clientId]) => clientId !== doc.clientID)
    .map(([clientId, state]) => ({ clientId, state }))
})

const commands = {
  insert: ({ index, value }) => text.insert(index ?? text.length, value),
  delete: ({ index, length }) => text.delete(index, length),
  set: ({ key, value }) => map.set(key, value),
  setMany: ({ entries }) => doc.transact(() => {
    for (const [key, value] of Object.entries(entries)) map.set(key, value)
  }),
  // many edits in one synchronous run: none of them can have seen a remote edit
  burst: ({ prefix, count }) => {
    for (let n = 0; n < count; n++) {
      text.insert(n % 3 === 0 ? 0 : text.length, `${prefix}${n};`)
      map.set(`${prefix}${n}`, n)
      map.set('last', prefix)
    }
  },
  presence: ({ state }) => provider.awareness.setLocalState(state),
  disconnect: () => provider.disconnect(),
  connect: () => provider.connect(),
  snapshot: () => ({}),
  exit: () => {
    provider.destroy()
    setTimeout(() => process.exit(0), 10)
  }
}

readline.createInterface({ input: process.stdin }).on('line', (line) => {
  const { id, cmd, ...args } = JSON.parse(line)
  try {
    commands[cmd](args)
    print({ id, ok: true, ...snapshot() })
  } catch (error) {
    print({ id, ok: false, error: String(error) })
  }
})
