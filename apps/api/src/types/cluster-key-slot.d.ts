/** The hash slot of a Redis key (its `{hash tag}` when it has one), as Redis Cluster computes it. */
declare module 'cluster-key-slot' {
  export default function calculateSlot(key: string): number;
}
