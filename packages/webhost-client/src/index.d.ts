// Types of @webhost.systems/client.

import type { Dexie, Table } from 'dexie'
import type * as Y from 'yjs'
import type { WebsocketProvider } from 'y-websocket'

export type SyncStatus = 'offline' | 'connecting' | 'syncing' | 'synced' | 'error'

/** A record as it syncs: JSON values only. */
export type SyncRecord = Record<string, unknown>
export type RecordKey = string | number

export interface RetryOptions {
  /** First wait after a failure, in ms (default 500); each failure doubles it. */
  initialDelay?: number
  /** Longest wait between retries and reconnects, in ms (default 30000). */
  maxDelay?: number
}

export interface WebHostClientOptions {
  /** The deployment's API URL, e.g. https://api.example.webhost.systems */
  apiUrl: string
  /** The deployment's sync URL (ws:// or wss://); derived from apiUrl when left out. */
  syncUrl?: string
  /** The deployment's API key (whs_live_...). */
  apiKey: string
  /** Keep the live socket open to be told of new changes at once (default true). */
  live?: boolean
  retry?: RetryOptions
  /** Share Yjs edits between tabs through BroadcastChannel (default true). */
  broadcast?: boolean
  /** A WebSocket class; by default the global one, or the `ws` package in Node. */
  WebSocket?: unknown
  /** A fetch function; by default the global one. */
  fetch?: (input: string, init?: any) => Promise<any>
  /** An IndexedDB factory and its IDBKeyRange for the records database (default: the globals). */
  indexedDB?: object
  IDBKeyRange?: object
}

/** Dexie schema strings per collection: '@id, title' (SDK-made ULIDs) or 'id, title' (app keys). */
export type SyncSchema = Record<string, string>

export interface ConnectOptions<S extends SyncSchema> {
  /** Names the local database and the default Yjs document. */
  name: string
  schema: S
  /** REST filters that narrow collections, e.g. { tasks: 'projectId=eq.42' }; others sync whole. */
  scopes?: { [K in keyof S]?: string }
  /** The Dexie schema version of the local database (default 1); raise it when the schema changes. */
  version?: number
  /** The local database name, when it should differ from `name` (e.g. one per signed-in user). */
  localName?: string
  /** The default Yjs document (default: `name`). */
  document?: string
  /** Create or update the server's collections from `schema` before the first sync (default true). */
  defineCollections?: boolean
  /** The most changes per pull page (default 1000, at most the server's max_pull_changes). */
  pullLimit?: number
}

export type SyncedDatabase<S extends SyncSchema> = Dexie & { [K in keyof S]: Table<SyncRecord, RecordKey> }

export interface Connection<S extends SyncSchema> {
  db: SyncedDatabase<S>
  doc: Y.Doc
}

/** A local write the server refused; it has been dropped and the server's copy put in its place. */
export interface Rejection {
  collection: string
  op: 'insert' | 'put' | 'update' | 'delete'
  key: RecordKey
  fields?: SyncRecord
  removed?: string[]
  error: { code: string, message: string }
  /** The record as the server has it (null: none). */
  record: SyncRecord | null
}

export interface ClientEvents {
  status: SyncStatus
  rejected: Rejection
  error: Error
}

export class WebHostClient {
  constructor (options: WebHostClientOptions)
  readonly status: SyncStatus
  /** This replica's id, kept in its database (after connect). */
  readonly clientId: string | undefined
  connect<S extends SyncSchema> (options: ConnectOptions<S>): Promise<Connection<S>>
  on<E extends keyof ClientEvents> (event: E, listener: (value: ClientEvents[E]) => void): () => void
  off<E extends keyof ClientEvents> (event: E, listener: (value: ClientEvents[E]) => void): void
  /** A Yjs document synced with the server and kept in IndexedDB. */
  yjs (documentName: string): Y.Doc
  /** The y-websocket provider of a document (awareness, connection events). */
  yjsProvider (documentName: string): WebsocketProvider
  getYjsMap<T = unknown> (name: string): Y.Map<T>
  getYjsArray<T = unknown> (name: string): Y.Array<T>
  getYjsText (name: string): Y.Text
  /** Pushes and pulls now; resolves once a full cycle started after the call has completed. */
  sync (): Promise<void>
  /** Local writes the server has not acknowledged yet. */
  pendingWrites (): Promise<number>
  /** Stops syncing and closes the local databases; unsent writes are kept for next time. */
  close (): Promise<void>
}

export class WebHostError extends Error {
  readonly code: string
  readonly status: number | undefined
  readonly retryable: boolean
}

export class NetworkError extends WebHostError {}

/** A ULID: 26 characters, unique, sorting in creation order. */
export function ulid (): string
