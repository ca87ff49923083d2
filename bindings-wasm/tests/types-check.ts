// Type-checks the generated declarations the way an application uses them (tsc --strict).
import init, {
  Catalog,
  Entitlements,
  Keyring,
  License,
  RevocationList,
  Verifier,
  inspectToken,
  isEntitlementsError,
  upgradeGate,
  type Decision,
  type EntitlementsJSON,
  type ErrorCode,
  type LimitDecision,
  type Tier,
  type UpgradeGate,
} from "../pkg/web/index.js";
import * as node from "../pkg/node/index.js";

export async function page(token: string, jwks: string): Promise<string> {
  await init();
  const keys: Keyring = Keyring.fromJwks(jwks);
  const verifier = new Verifier(keys, { issuer: "fullchaos.studio", leeway: 60, acceptV1: true });
  verifier.useCatalog(Catalog.devHealthOps());
  try {
    const license: License = verifier.verify(token);
    const status: "active" | "grace" | "expired" = license.status;
    const left: number | undefined = license.graceDaysLeft;
    const org: string | null = license.orgName;
    const ent = Entitlements.resolve(Catalog.default(), license, { orgId: license.sub, now: 1_800_000_000 });
    const tier: Tier = ent.tier;
    const d: Decision = ent.check("sso_saml");
    const l: LimitDecision = ent.checkLimit("max_users", 4);
    const g: UpgradeGate = upgradeGate(ent, { feature: "audit_log", requiredTier: "enterprise" });
    const g2: UpgradeGate = ent.upgradeGate("audit_log");
    const json: EntitlementsJSON = ent.toJSON();
    const back = Entitlements.fromJSON(Catalog.default(), json);
    const all: Decision[] = back.decisions();
    return [status, left, org, tier, d.reason, l.maximum, g.state, g2.upgradeHref, all.length].join();
  } catch (e: unknown) {
    if (isEntitlementsError(e)) {
      const code: ErrorCode = e.code;
      return `${code}: ${e.message}`;
    }
    throw e;
  }
}

export function inspect(token: string): unknown {
  const t = inspectToken(token);
  return [t.format, t.header?.["kid"], t.claims["sub"], t.signatureLength];
}

export function revocations(token: string, keys: Keyring): boolean {
  return RevocationList.verify(token, keys, "fullchaos.studio", 1_800_000_000).contains("lic_1");
}

export function server(secret: string, body: string, header: string): number {
  const keys = new node.Keyring({ k1: "O2onvM62pC1io6jQKm8Nc2UyFXcd4kOmOsBIoYtZ2ik=" });
  const session = new node.SessionVerifier(keys, { leeway: 30 }).verify("t", 1);
  const replay = node.replayStripeEvents({ events: [] });
  return node.verifyStripeSignature(body, header, [secret]) + session.expiresAt + replay.revokedLicenseIds.length;
}

// The call shapes of SPEC §4 and the Node package.
export function specShapes(license: License, keys: Keyring, list: string, body: string, header: string): number {
  const ent: Entitlements = Entitlements.resolve({ catalog: Catalog.devHealthOps(), license, orgId: "org_1", now: 1 });
  const plain: Entitlements = Entitlements.resolve();
  const g: UpgradeGate = upgradeGate({ feature: "sso_saml", requiredTier: "team", entitlements: ent });
  const g2: UpgradeGate = ent.upgradeGate("sso_saml", { upgradeHref: "/billing" });
  const revoked = RevocationList.verify(list, keys, { issuer: "fullchaos.studio", now: 1 });
  const session = new node.SessionVerifier(new node.Keyring()).verify("t", 1);
  const t: number = node.verifyStripeSignature(body, header, "whsec_1", { now: 1, tolerance: 300 });
  return [plain.tier, g.state, g2.upgradeHref].length + revoked.size + session.exp + t;
}
