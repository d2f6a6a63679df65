/**
 * The orderer's Prometheus metrics, with Fabric v2.4.9's names and labels
 * (orderer/common/broadcast/metrics.go, common/deliver/metrics.go,
 * orderer/common/blockcutter/metrics.go, common/ledger/blkstorage/metrics.go,
 * orderer/consensus/etcdraft/metrics.go):
 *
 *   broadcast_validate_duration / broadcast_enqueue_duration (histograms, seconds) and
 *   broadcast_processed_count, labels {channel, type, status}: one per Broadcast envelope;
 *   channel and type are "unknown" when the channel header does not decode (Fabric's tracker);
 *   deliver_streams_opened / deliver_streams_closed: per Deliver stream;
 *   deliver_requests_received {channel, filtered, data_type}: per SeekInfo whose channel exists;
 *   deliver_requests_completed {channel, filtered, data_type, success}: when it got its status;
 *   deliver_blocks_sent {channel, filtered, data_type}: per block sent;
 *   blockcutter_block_fill_duration {channel}: first message of a batch to the batch being cut;
 *   ledger_blockchain_height {channel}: after every durable append;
 *   consensus_etcdraft_{cluster_size, is_leader, committed_block_number, normal_proposals_received,
 *   config_proposals_received, data_persist_duration} {channel}: our single-node Raft is always a
 *   cluster of one that leads.
 * Our orderer serves only full blocks: filtered = "false", data_type = "block".
 */
import type { Counter, Gauge, Histogram } from 'prom-client';
import { Metrics } from '../base/metrics.js';

export const DELIVER_FILTERED = 'false';
export const DELIVER_DATA_TYPE = 'block';

export class OrdererMetrics {
  readonly broadcastValidateDuration: Histogram<string>;
  readonly broadcastEnqueueDuration: Histogram<string>;
  readonly broadcastProcessedCount: Counter<string>;
  readonly deliverStreamsOpened: Counter<string>;
  readonly deliverStreamsClosed: Counter<string>;
  readonly deliverRequestsReceived: Counter<string>;
  readonly deliverRequestsCompleted: Counter<string>;
  readonly deliverBlocksSent: Counter<string>;
  readonly blockFillDuration: Histogram<string>;
  readonly blockchainHeight: Gauge<string>;
  readonly clusterSize: Gauge<string>;
  readonly isLeader: Gauge<string>;
  readonly committedBlockNumber: Gauge<string>;
  readonly normalProposalsReceived: Counter<string>;
  readonly configProposalsReceived: Counter<string>;
  readonly dataPersistDuration: Histogram<string>;

  constructor(readonly metrics: Metrics = new Metrics()) {
    const m = metrics;
    const bc = ['channel', 'type', 'status'];
    this.broadcastValidateDuration = m.histogram(
      'broadcast_validate_duration',
      'The time to validate a transaction in seconds.',
      bc,
    );
    this.broadcastEnqueueDuration = m.histogram(
      'broadcast_enqueue_duration',
      'The time to enqueue a transaction in seconds.',
      bc,
    );
    this.broadcastProcessedCount = m.counter(
      'broadcast_processed_count',
      'The number of transactions processed.',
      bc,
    );
    this.deliverStreamsOpened = m.counter(
      'deliver_streams_opened',
      'The number of GRPC streams that have been opened for the deliver service.',
    );
    this.deliverStreamsClosed = m.counter(
      'deliver_streams_closed',
      'The number of GRPC streams that have been closed for the deliver service.',
    );
    const dl = ['channel', 'filtered', 'data_type'];
    this.deliverRequestsReceived = m.counter(
      'deliver_requests_received',
      'The number of deliver requests that have been received.',
      dl,
    );
    this.deliverRequestsCompleted = m.counter(
      'deliver_requests_completed',
      'The number of deliver requests that have been completed.',
      [...dl, 'success'],
    );
    this.deliverBlocksSent = m.counter(
      'deliver_blocks_sent',
      'The number of blocks sent by the deliver service.',
      dl,
    );
    this.blockFillDuration = m.histogram(
      'blockcutter_block_fill_duration',
      'The time from first transaction enqueing to the block being cut in seconds.',
      ['channel'],
    );
    this.blockchainHeight = m.gauge('ledger_blockchain_height', 'Height of the chain in blocks.', [
      'channel',
    ]);
    this.clusterSize = m.gauge('consensus_etcdraft_cluster_size', 'Number of nodes in this channel.', [
      'channel',
    ]);
    this.isLeader = m.gauge(
      'consensus_etcdraft_is_leader',
      'The leadership status of the current node: 1 if it is the leader else 0.',
      ['channel'],
    );
    this.committedBlockNumber = m.gauge(
      'consensus_etcdraft_committed_block_number',
      'The block number of the latest block committed.',
      ['channel'],
    );
    this.normalProposalsReceived = m.counter(
      'consensus_etcdraft_normal_proposals_received',
      'The total number of proposals received for normal type transactions.',
      ['channel'],
    );
    this.configProposalsReceived = m.counter(
      'consensus_etcdraft_config_proposals_received',
      'The total number of proposals received for config type transactions.',
      ['channel'],
    );
    this.dataPersistDuration = m.histogram(
      'consensus_etcdraft_data_persist_duration',
      'The time taken for etcd/raft data to be persisted in storage (in seconds).',
      ['channel'],
    );
  }

  /** A channel opened with `height` blocks: a single-node cluster that leads. */
  channelOpened(channel: string, height: bigint): void {
    this.clusterSize.set({ channel }, 1);
    this.isLeader.set({ channel }, 1);
    this.blockchainHeight.set({ channel }, Number(height));
    if (height > 0n) this.committedBlockNumber.set({ channel }, Number(height - 1n));
  }

  /** Block `number` is durable. */
  blockCommitted(channel: string, number: bigint, persistSeconds: number): void {
    this.blockchainHeight.set({ channel }, Number(number + 1n));
    this.committedBlockNumber.set({ channel }, Number(number));
    this.dataPersistDuration.observe({ channel }, persistSeconds);
  }
}

/** Seconds elapsed since `startMs` on the monotonic clock (metrics durations only). */
export function secondsSince(startMs: number): number {
  return (performance.now() - startMs) / 1000;
}
