// Which tenant (client) a call belongs to: inbound by the number that was called. Pure: a table from
// config in, a tenant out. A called number no tenant lists belongs to the default tenant.

export interface Tenant {
  readonly id: string;
  /** Live calls of this tenant across every replica. */
  readonly maxConcurrent: number;
}

export interface TenantTable {
  readonly tenants: readonly (Tenant & { readonly numbers: readonly string[] })[];
  readonly defaultTenant: Tenant;
}

export interface TenantResolver {
  /** The tenant of a call to `calledNumber` (E.164, or an ACS raw id such as `4:+1800...`). */
  byCalledNumber(calledNumber: string | null | undefined): Tenant;
  byId(id: string): Tenant | undefined;
  readonly all: readonly Tenant[];
}

/** `4:+18005550100` (ACS raw id), `+1 800 555 0100`, `tel:+18005550100` → `+18005550100`. */
export function normalizeNumber(n: string): string {
  let s = n.trim();
  if (s.startsWith('4:')) s = s.slice(2);
  if (s.toLowerCase().startsWith('tel:')) s = s.slice(4);
  return s.replace(/[\s().-]/g, '');
}

export function tenantResolver(table: TenantTable): TenantResolver {
  const byNumber = new Map<string, Tenant>();
  const byId = new Map<string, Tenant>();
  const all: Tenant[] = [];
  for (const t of table.tenants) {
    const tenant: Tenant = { id: t.id, maxConcurrent: t.maxConcurrent };
    byId.set(t.id, tenant);
    all.push(tenant);
    for (const n of t.numbers) byNumber.set(normalizeNumber(n), tenant);
  }
  // The default tenant may also be listed (with numbers); the listed entry wins.
  const fallback = byId.get(table.defaultTenant.id) ?? table.defaultTenant;
  if (!byId.has(fallback.id)) {
    byId.set(fallback.id, fallback);
    all.push(fallback);
  }
  return {
    byCalledNumber(calledNumber) {
      if (!calledNumber) return fallback;
      return byNumber.get(normalizeNumber(calledNumber)) ?? fallback;
    },
    byId: (id) => byId.get(id),
    all,
  };
}
