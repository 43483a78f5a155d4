// The port of cluster-wide call admission: slots reserved atomically under a tenant cap, a global
// cap and a global rate limit, each a lease that the holder renews; confirmed with the call id once
// ACS accepted the call; released once when the call ends (or the answer fails).

export type SlotRefusal = 'tenant' | 'global' | 'rate';

export interface SlotLimits {
  readonly tenantCap: number;
  /** 0 = no global cap. */
  readonly globalCap: number;
  /** Admissions per windowMs across every replica; 0 = no limit. */
  readonly rateLimit: number;
  readonly windowMs: number;
}

export type ReserveOutcome =
  | { readonly reserved: true; readonly tenantInUse: number; readonly globalInUse: number; readonly roundTrips: number; /** The store's clock at the reservation (the rate window's time). */ readonly serverTimeMs?: number }
  | { readonly reserved: false; readonly refused: SlotRefusal; readonly retryAfterMs: number; readonly roundTrips: number };

export interface HeldSlot {
  readonly tenantId: string;
  readonly member: string;
}

export interface CallSlots {
  reserve(tenantId: string, member: string, limits: SlotLimits): Promise<ReserveOutcome>;
  /** Renames a reservation to the call's member with a fresh lease; false when the reservation had expired (taken back anyway). */
  confirm(tenantId: string, reservation: string, callMember: string): Promise<boolean>;
  /** Extends the leases of every slot this replica holds, in as few round trips as the topology allows. */
  renew(held: readonly HeldSlot[]): Promise<number>;
  /** Frees the slot; returns how many entries were removed (tenant + global: 2 on the first release, 0 after). */
  release(slot: HeldSlot): Promise<number>;
}
