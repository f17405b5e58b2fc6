/**
 * The stock path's writes, one file per verb, met here by the rest of the API (DESIGN.md):
 * reserve in the gate (a hold that carries its undo), restore and credit, sync and sweep, set.
 * PostgreSQL is the truth; the gate answers most buyers without it.
 */
export { gateRefusalError, holdOf, reserveStock, storedRefusalError, type Hold } from './hold.ts';
export { creditGate, restoreStock } from './restore-stock.ts';
export { setStock, syncAfterAdminChange } from './set-stock.ts';
export { sweepStock, syncGate, syncGates } from './sync-gate.ts';
export {
  storedRefusalOf,
  type Admission,
  type AdmitResult,
  type AttemptResult,
  type GateLine,
  type RememberInput,
  type StoredAnswer,
  type StoredRefusal,
} from './gate/types.ts';
