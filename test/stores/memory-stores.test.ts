/** The in-memory drivers (tests and the quick start) against the store contract. */
import { MemoryMatchRecords } from '../../infra/stores/memory/memory-match-records';
import { MemorySnapshotStore } from '../../infra/stores/memory/memory-snapshot-store';
import { matchRecordContract, snapshotStoreContract } from '../support/store-contract';

snapshotStoreContract('memory', async () => new MemorySnapshotStore());
matchRecordContract('memory', async () => new MemoryMatchRecords());
