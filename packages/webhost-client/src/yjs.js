// Yjs documents: each synced through y-websocket at {syncUrl}/yjs/{document} and kept in
// IndexedDB by y-indexeddb, so edits made offline survive a reload and reach the server later.

import * as Y from 'yjs'
import { WebsocketProvider } from 'y-websocket'
import { IndexeddbPersistence } from 'y-indexeddb'

export class YjsDocuments {
  /**
   * @param {object} options
   * @param {string} options.syncUrl
   * @param {string} options.apiKey
   * @param {typeof WebSocket} options.WebSocket
   * @param {string} options.localName prefix of the IndexedDB databases y-indexeddb keeps
   * @param {boolean} options.broadcast share edits between tabs through BroadcastChannel
   * @param {number} options.maxBackoffTime longest wait between reconnects, in ms
   */
  constructor ({ syncUrl, apiKey, WebSocket, localName, broadcast, maxBackoffTime }) {
    this.serverUrl = `${syncUrl.replace(/\/+$/, '')}/yjs`
    this.options = { apiKey, WebSocket, localName, broadcast, maxBackoffTime }
    this.documents = new Map()
  }

  /** The document's entry, created on first use: {doc, provider, persistence}. */
  open (name) {
    if (typeof name !== 'string' || name === '') throw new TypeError('a Yjs document needs a non-empty name')
    let entry = this.documents.get(name)
    if (entry) return entry
    const { apiKey, WebSocket, localName, broadcast, maxBackoffTime } = this.options
    const doc = new Y.Doc()
    // y-indexeddb keeps documents in the global IndexedDB; without one (plain Node) they live in memory
    const persistence = globalThis.indexedDB ? new IndexeddbPersistence(`${localName}/yjs/${name}`, doc) : null
    const provider = new WebsocketProvider(this.serverUrl, name, doc, {
      WebSocketPolyfill: WebSocket,
      params: { token: apiKey },
      disableBc: !broadcast,
      maxBackoffTime
    })
    entry = { doc, provider, persistence }
    this.documents.set(name, entry)
    return entry
  }

  async close () {
    const entries = [...this.documents.values()]
    this.documents.clear()
    for (const { doc, provider, persistence } of entries) {
      provider.destroy()
      // stored updates are written as they happen; destroy waits for the last write
      if (persistence) await persistence.destroy()
      doc.destroy()
    }
  }
}
