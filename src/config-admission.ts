// Admission settings (issue 18): tenants and their concurrency caps, the global cap and the global
// calls-per-minute limit. Kept apart from config.ts (which spreads ADMISSION_SCHEMA into its schema,
// so every variable is still validated in the one pass and listed in the one ConfigError).
import { z } from 'zod';
import type { TenantTable } from './domain/tenants.js';

const int = (min: number, max: number) =>
  z
    .string()
    .regex(/^\d+$/, 'must be a whole number')
    .transform(Number)
    .pipe(z.number().int().min(min).max(max));

const E164 = /^\+[1-9]\d{6,14}$/;
const TENANT_ID = /^[A-Za-z0-9._-]{1,64}$/;

const tenantList = z
  .array(
    z
      .object({
        id: z.string().regex(TENANT_ID, 'tenant id: 1-64 of A-Z a-z 0-9 . _ -'),
        maxConcurrent: z.number().int().min(1).max(1_000_000),
        numbers: z.array(z.string().regex(E164, 'numbers must be E.164 (+ and 7-15 digits)')).default([]),
      })
      .strict(),
  )
  .superRefine((list, ctx) => {
    const ids = new Set<string>();
    const numbers = new Set<string>();
    for (const t of list) {
      if (ids.has(t.id)) ctx.addIssue({ code: 'custom', message: `tenant id ${t.id} appears twice` });
      ids.add(t.id);
      for (const n of t.numbers) {
        // Never echo the number itself (logs and errors carry no phone numbers in clear).
        if (numbers.has(n)) ctx.addIssue({ code: 'custom', message: `a number of tenant ${t.id} also belongs to another tenant` });
        numbers.add(n);
      }
    }
  });

/** TENANTS: a JSON array; bad JSON is one problem naming the variable (never the value). */
const tenantsJson = z
  .string()
  .transform((text, ctx) => {
    try {
      return JSON.parse(text) as unknown;
    } catch {
      ctx.addIssue({ code: 'custom', message: 'is not valid JSON (expected [{"id","maxConcurrent","numbers":["+E164"]}])' });
      return z.NEVER;
    }
  })
  .pipe(tenantList);

/** Spread into config.ts's schema: one entry per environment variable. */
export const ADMISSION_SCHEMA = {
  TENANTS: tenantsJson.optional().transform((v) => v ?? []),
  DEFAULT_TENANT: z.string().regex(TENANT_ID, '1-64 of A-Z a-z 0-9 . _ -').optional().transform((v) => v ?? 'default'),
  DEFAULT_TENANT_MAX_CONCURRENT: int(1, 10_000_000).optional().transform((v) => v ?? 10_000),
  GLOBAL_MAX_CONCURRENT_CALLS: int(0, 10_000_000).optional().transform((v) => v ?? 0),
  MAX_CALLS_PER_MINUTE: int(0, 10_000_000).optional().transform((v) => v ?? 0),
  RATE_LIMIT_WINDOW_MS: int(100, 3_600_000).optional().transform((v) => v ?? 60_000),
  /** The ACS number campaigns call from (sourceCallerIdNumber); unset: campaigns are refused. */
  OUTBOUND_CALLER_ID: z.string().regex(E164, 'must be E.164 (+ and 7-15 digits)').optional().transform((v) => v ?? null),
};

export interface AdmissionSettings {
  readonly tenants: TenantTable;
  /** Across every tenant and replica; 0 = no global cap. */
  readonly globalMaxConcurrent: number;
  /** Calls admitted across every replica per rateWindowMs; 0 = no limit. */
  readonly maxCallsPerWindow: number;
  /** The limit's window: 60,000 for "per minute"; benches compress it. */
  readonly rateWindowMs: number;
  /** Campaign calls' caller id (an ACS number, E.164); null: no campaigns. */
  readonly outboundCallerId: string | null;
}

type AdmissionRaw = { [K in keyof typeof ADMISSION_SCHEMA]: z.output<(typeof ADMISSION_SCHEMA)[K]> };

export function admissionSettings(raw: AdmissionRaw): AdmissionSettings {
  return {
    tenants: {
      tenants: raw.TENANTS.map((t) => ({ id: t.id, maxConcurrent: t.maxConcurrent, numbers: t.numbers })),
      defaultTenant: { id: raw.DEFAULT_TENANT, maxConcurrent: raw.DEFAULT_TENANT_MAX_CONCURRENT },
    },
    globalMaxConcurrent: raw.GLOBAL_MAX_CONCURRENT_CALLS,
    maxCallsPerWindow: raw.MAX_CALLS_PER_MINUTE,
    rateWindowMs: raw.RATE_LIMIT_WINDOW_MS,
    outboundCallerId: raw.OUTBOUND_CALLER_ID,
  };
}
