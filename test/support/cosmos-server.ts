// The local Cosmos-compatible server for integration tests (HTTPS, per-run certificate).
export { startEmbeddedCosmos as startCosmosServer, type EmbeddedCosmos as CosmosServer } from '../../src/adapters/cosmos/embedded-cosmos-server.js';
