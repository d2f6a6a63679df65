/** Grapevine's fast catch-up over gRPC (`grapevine.Catchup/StreamBlockFrames`): client and server. */
export { CatchupClient, type CatchupClientOptions } from './client.js';
export { CatchupServer, catchupHandlers, type CatchupServerDeps } from './server.js';
export { CatchupService, CATCHUP_STREAM_PATH } from './service.js';
