// The WebSocket class to use: the one given, the platform's own, or the `ws` package in Node.

let nodeWebSocket

export async function resolveWebSocket (given) {
  if (given) return given
  if (globalThis.WebSocket) return globalThis.WebSocket
  nodeWebSocket ??= (await import('ws')).default
  return nodeWebSocket
}
