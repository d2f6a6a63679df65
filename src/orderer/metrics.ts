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
import { Metrics } from '../base/metrics.js';
import { METRICS } from '../base/metric-table.js';
import { deliverMetrics, type DeliverMetrics } from '../comm/deliver/server.js';

export { DELIVER_DATA_TYPE, DELIVER_FILTERED } from '../comm/deliver/server.js';

export class OrdererMetrics implements DeliverMetrics {
  readonly broadcastValidateDuration;
  readonly broadcastEnqueueDuration;
  readonly broadcastProcessedCount;
  readonly deliverStreamsOpened;
  readonly deliverStreamsClosed;
  readonly deliverRequestsReceived;
  readonly deliverRequestsCompleted;
  readonly deliverBlocksSent;
  readonly blockFillDuration;
  readonly blockchainHeight;
  readonly clusterSize;
  readonly isLeader;
  readonly committedBlockNumber;
  readonly normalProposalsReceived;
  readonly configProposalsReceived;
  readonly dataPersistDuration;

  constructor(readonly metrics: Metrics = new Metrics()) {
    const m = metrics;
    this.broadcastValidateDuration = m.histogram(METRICS.broadcastValidateDuration);
    this.broadcastEnqueueDuration = m.histogram(METRICS.broadcastEnqueueDuration);
    this.broadcastProcessedCount = m.counter(METRICS.broadcastProcessedCount);
    const dm = deliverMetrics(m);
    this.deliverStreamsOpened = dm.deliverStreamsOpened;
    this.deliverStreamsClosed = dm.deliverStreamsClosed;
    this.deliverRequestsReceived = dm.deliverRequestsReceived;
    this.deliverRequestsCompleted = dm.deliverRequestsCompleted;
    this.deliverBlocksSent = dm.deliverBlocksSent;
    this.blockFillDuration = m.histogram(METRICS.blockcutterBlockFillDuration);
    this.blockchainHeight = m.gauge(METRICS.ledgerBlockchainHeight);
    this.clusterSize = m.gauge(METRICS.consensusEtcdraftClusterSize);
    this.isLeader = m.gauge(METRICS.consensusEtcdraftIsLeader);
    this.committedBlockNumber = m.gauge(METRICS.consensusEtcdraftCommittedBlockNumber);
    this.normalProposalsReceived = m.counter(METRICS.consensusEtcdraftNormalProposalsReceived);
    this.configProposalsReceived = m.counter(METRICS.consensusEtcdraftConfigProposalsReceived);
    this.dataPersistDuration = m.histogram(METRICS.consensusEtcdraftDataPersistDuration);
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
