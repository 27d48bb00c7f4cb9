// WebHostClient: the app's entry point. It opens the local Dexie database with the outbox
// middleware, starts the sync loop and the live socket, and hands out Yjs documents.

import { Emitter } from './events.js'
import { WebHostError } from './errors.js'
import { HybridClock } from './hlc.js'
import { HttpApi } from './http.js'
import { LiveChannel } from './live.js'
import { loadClientId, openLocalDatabase } from './local-db.js'
import { Replica } from './replica.js'
import { parseSchema } from './schema.js'
import { SyncEngine } from './sync.js'
import { resolveWebSocket } from './websocket.js'
import { YjsDocuments } from './yjs.js'

export class WebHostClient {
  /**
   * @param {import('./index.js').WebHostClientOptions} options
   */
  constructor (options = {}) {
    const { apiUrl, apiKey } = options
    if (typeof apiUrl !== 'string' || !/^https?:\/\//.test(apiUrl)) {
      throw new TypeError("apiUrl must be the deployment's http(s) API URL")
    }
    if (typeof apiKey !== 'string' || apiKey === '') throw new TypeError('apiKey must be a non-empty string')
    const syncUrl = options.syncUrl ?? apiUrl.replace(/^http/, 'ws')
    if (typeof syncUrl !== 'string' || !/^wss?:\/\//.test(syncUrl)) {
      throw new TypeError("syncUrl must be the deployment's ws(s) sync URL")
    }
    this.options = { ...options, syncUrl }
    this.events = new Emitter()
    this.connected = false
    this.closed = false
  }

  /** Listens to 'status', 'rejected' or 'error'; returns a function that stops listening. */
  on (event, listener) {
    return this.events.on(event, listener)
  }

  off (event, listener) {
    this.events.off(event, listener)
  }

  /** offline | connecting | syncing | synced | error */
  get status () {
    return this.engine?.status ?? 'connecting'
  }

  /**
   * Opens the local database and starts syncing it.
   * @param {import('./index.js').ConnectOptions} options
   */
  async connect ({ name, schema, scopes = {}, version = 1, localName, defineCollections = true, pullLimit = 1000, document } = {}) {
    if (this.connected) throw new Error('connect() was already called on this client')
    if (this.closed) throw new Error('the client is closed')
    if (typeof name !== 'string' || name === '') throw new TypeError('connect() needs a name (the local database and default document)')
    const collections = parseSchema(schema)
    const scopeFilters = parseScopes(scopes, collections)
    this.connected = true
    try {
      return await this.open({ name, collections, scopeFilters, version, localName, defineCollections, pullLimit, document })
    } catch (error) {
      // a failed connect can be tried again
      this.connected = false
      this.db?.close()
      throw error
    }
  }

  async open ({ name, collections, scopeFilters, version, localName, defineCollections, pullLimit, document }) {
    const { apiUrl, apiKey, syncUrl, retry, live = true, fetch, indexedDB, IDBKeyRange } = this.options
    const clock = new HybridClock()
    this.db = await openLocalDatabase({
      name: localName ?? name,
      version,
      collections,
      clock,
      indexedDB,
      IDBKeyRange,
      onCommitted: () => this.engine?.noteLocalWrite()
    })
    this.clientId = await loadClientId(this.db)
    const replica = new Replica(this.db, collections, clock)
    await replica.restoreClock()
    this.http = new HttpApi({ apiUrl, apiKey, fetch })
    this.engine = new SyncEngine({
      replica,
      http: this.http,
      clock,
      clientId: this.clientId,
      collections,
      scopes: scopeFilters,
      defineCollections,
      pullLimit,
      retry,
      live,
      emit: (event, value) => this.events.emit(event, value)
    })
    const WebSocket = await resolveWebSocket(this.options.WebSocket)
    if (live) {
      this.live = new LiveChannel({
        syncUrl,
        apiKey,
        WebSocket,
        retry,
        onState: (state) => this.engine.setLive(state),
        onHello: (hello) => this.engine.setLive('open', hello),
        onRevision: (notice) => this.engine.onRevision(notice)
      })
      this.live.start()
    }
    this.documents = new YjsDocuments({
      syncUrl,
      apiKey,
      WebSocket,
      localName: localName ?? name,
      broadcast: this.options.broadcast ?? true,
      maxBackoffTime: retry?.maxDelay ?? 2500
    })
    this.defaultDocumentName = document ?? name
    this.engine.request()
    return { db: this.db, doc: this.yjs(this.defaultDocumentName) }
  }

  /** The Y.Doc of a document, synced with the server and kept locally. */
  yjs (documentName) {
    return this.requireDocuments().open(documentName).doc
  }

  /** The y-websocket provider of a document: its awareness (presence) and connection events. */
  yjsProvider (documentName) {
    return this.requireDocuments().open(documentName).provider
  }

  getYjsMap (name) {
    return this.defaultDocument().getMap(name)
  }

  getYjsArray (name) {
    return this.defaultDocument().getArray(name)
  }

  getYjsText (name) {
    return this.defaultDocument().getText(name)
  }

  /** Pushes and pulls now; resolves when a full cycle started after this call has completed. */
  sync () {
    if (!this.engine) return Promise.reject(new Error('call connect() first'))
    return this.engine.syncNow()
  }

  /** Local writes not yet acknowledged by the server. */
  pendingWrites () {
    if (!this.engine) return Promise.reject(new Error('call connect() first'))
    return this.engine.replica.outboxSize()
  }

  /** Stops syncing and closes the local database; unsent writes stay in the outbox for next time. */
  async close () {
    if (this.closed) return
    this.closed = true
    this.http?.close()
    this.live?.stop()
    await this.engine?.stop()
    await this.documents?.close()
    this.db?.close()
  }

  requireDocuments () {
    if (this.closed) throw new Error('the client is closed')
    if (!this.documents) throw new Error('call connect() first')
    return this.documents
  }

  defaultDocument () {
    return this.yjs(this.defaultDocumentName)
  }
}

// collection -> REST filter; collections without a scope are replicated whole
function parseScopes (scopes, collections) {
  if (scopes === null || typeof scopes !== 'object' || Array.isArray(scopes)) {
    throw new TypeError("scopes must be an object, e.g. { tasks: 'projectId=eq.42' }")
  }
  for (const [name, filter] of Object.entries(scopes)) {
    if (!collections.has(name)) throw new WebHostError(`scope for '${name}', which the schema does not name`, { code: 'invalid_input' })
    if (typeof filter !== 'string' || filter === '' || filter.startsWith('?')) {
      throw new TypeError(`scope of '${name}' must be a REST filter such as 'projectId=eq.42'`)
    }
  }
  return new Map([...collections.keys()].map((name) => [name, scopes[name]]))
}
