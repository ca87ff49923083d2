// The license viewer: every answer on this page comes from @dev-health/entitlements-wasm, the
// engine compiled to WebAssembly. This file only reads inputs and writes the DOM.
import init, {
  Catalog,
  Entitlements,
  Keyring,
  Verifier,
  inspectToken,
  isEntitlementsError,
} from "@dev-health/entitlements-wasm";

const $ = (id) => document.getElementById(id);

/** Plain words for each error code a license check can end with. */
const ERROR_WORDS = {
  token_too_large: "This is far larger than any license; it was not read.",
  malformed_token: "This does not look like a license. Check that the whole token was copied.",
  unsupported_algorithm: "The token is not signed the way Dev Health licenses are (EdDSA).",
  unknown_key_id: "The license was signed with a key this page does not trust. Load the right keys.",
  key_not_valid_now: "The signing key was not valid when the license was issued (it was retired or not yet in use).",
  invalid_signature: "The signature does not match: the license was altered or signed by someone else.",
  invalid_claims: "The license content is incomplete or has a wrong value.",
  issuer_mismatch: "The license comes from another issuer than the one expected.",
  audience_mismatch: "The license is for another deployment.",
  issued_in_future: "The license says it was issued in the future. Check this computer's clock.",
  not_yet_valid: "The license is not valid yet.",
  revoked: "The license has been revoked.",
  clock_rollback: "This computer's clock seems to have been turned back.",
  invalid_key: "The trusted keys could not be read.",
  invalid_input: "The input could not be read.",
};

/** Plain words for the reason behind each feature decision. */
const REASON_WORDS = {
  enabled_by_tier: "Included in the plan",
  enabled_by_license_override: "Granted by this license",
  enabled_by_org_override: "Turned on for this organization",
  tier_required: "Needs a higher plan",
  explicit_purchase_required: "Sold separately",
  license_override_disabled: "Removed by this license",
  org_override_disabled: "Turned off for this organization",
  global_disabled: "Turned off by an administrator",
  feature_not_registered: "Unknown feature",
};

const dateFormat = new Intl.DateTimeFormat(undefined, { dateStyle: "long", timeStyle: "short" });
const numberFormat = new Intl.NumberFormat(undefined);
/** A Unix time as a local date; one beyond what a JS Date holds (±8.64e12 s, a "perpetual" license's
 * exp) as the number itself, where formatting would throw and the license would read as not valid. */
const formatDate = (unix) => {
  const date = new Date(unix * 1000);
  return Number.isNaN(date.getTime()) ? `Unix time ${unix} (beyond the dates a browser can show)` : dateFormat.format(date);
};

let keyring = null;

function setKeysStatus(text, isError = false) {
  const el = $("keys-status");
  el.textContent = text;
  el.classList.toggle("error", isError);
}

function describeKeys(ring) {
  const kids = ring.kids;
  return `${kids.length} trusted key${kids.length === 1 ? "" : "s"} loaded: ${kids.join(", ")}.`;
}

function useKeys(makeKeyring) {
  try {
    keyring = makeKeyring();
    setKeysStatus(describeKeys(keyring));
  } catch (e) {
    keyring = null;
    setKeysStatus(`The keys could not be read: ${isEntitlementsError(e) ? e.message : e}`, true);
  }
  check();
}

async function loadKeysFromUrl() {
  const url = $("jwks-url").value.trim();
  if (!url) return;
  setKeysStatus(`Loading keys from ${url}…`);
  let text;
  try {
    const response = await fetch(url, { headers: { accept: "application/json" } });
    if (!response.ok) throw new Error(`the server answered ${response.status}`);
    text = await response.text();
  } catch (e) {
    keyring = null;
    setKeysStatus(
      `No keys could be loaded from ${url}: ${e.message}. Is the license server running (make run)? ` +
        "Or paste a JWKS document instead.",
      true,
    );
    check();
    return;
  }
  useKeys(() => Keyring.fromJwks(text));
}

function loadKeysFromText() {
  const text = $("jwks-text").value.trim();
  if (!text) {
    keyring = null;
    setKeysStatus("Paste a JWKS document to trust its keys.");
    check();
    return;
  }
  useKeys(() => Keyring.parse(text));
}

function fact(label, value, testId, { mono = false } = {}) {
  const dt = document.createElement("dt");
  dt.textContent = label;
  const dd = document.createElement("dd");
  dd.textContent = value;
  dd.dataset.testid = testId;
  if (mono) dd.classList.add("mono");
  $("facts").append(dt, dd);
}

function showVerdict(kind, headline, detail) {
  const verdict = $("verdict");
  verdict.className = `verdict ${kind}`;
  verdict.dataset.kind = kind;
  verdict.textContent = headline;
  if (detail) {
    const small = document.createElement("small");
    small.textContent = detail;
    verdict.append(small);
  }
}

function reset() {
  $("result").hidden = false;
  $("facts").replaceChildren();
  $("features-body").replaceChildren();
  $("limits-body").replaceChildren();
  $("error-detail").hidden = true;
  $("claimed").hidden = true;
  $("unlocks").hidden = true;
}

function showInvalid(error, token) {
  const code = isEntitlementsError(error) ? error.code : "invalid_input";
  showVerdict("invalid", "Not valid", ERROR_WORDS[code] ?? "The license could not be checked.");
  const detail = $("error-detail");
  detail.hidden = false;
  detail.replaceChildren("Error code ");
  const codeEl = document.createElement("code");
  codeEl.dataset.testid = "error-code";
  codeEl.textContent = code;
  detail.append(codeEl, `: ${error.message}`);
  try {
    const claimed = inspectToken(token);
    $("claimed").hidden = false;
    $("claimed-json").textContent = JSON.stringify({ header: claimed.header, claims: claimed.claims }, null, 2);
  } catch {
    // Not even decodable: nothing to show.
  }
}

function showLicense(license, catalog) {
  const tierName = catalog.tierName(license.tier);
  if (license.status === "active") {
    showVerdict("active", "Valid — active", `${tierName} license, valid until ${formatDate(license.expiresAt)}.`);
  } else if (license.status === "grace") {
    const days = license.graceDaysLeft ?? 0;
    showVerdict(
      "grace",
      `Valid — in its grace period, ${days} day${days === 1 ? "" : "s"} left`,
      `It expired on ${formatDate(license.expiresAt)}; it keeps working until ${formatDate(license.graceEndsAt)}. Renew it before then.`,
    );
  } else {
    showVerdict("expired", "Expired", `It expired on ${formatDate(license.expiresAt)} and its grace period ended on ${formatDate(license.graceEndsAt)}.`);
  }
  const statusWords = { active: "Active", grace: "Grace period", expired: "Expired" };
  fact("Status", statusWords[license.status], "status");
  fact("Tier", tierName, "tier");
  fact("Organization", license.orgName ? `${license.orgName} (${license.sub})` : license.sub, "org");
  fact("License ID", license.licenseId, "license-id", { mono: true });
  fact("Signed with key", license.kid, "kid", { mono: true });
  fact("Format", license.format === "v2" ? "EdDSA JWT (v2)" : "Legacy dev-health-ops (v1)", "format");
  fact("License type", license.licenseType.replace("_", "-"), "license-type");
  fact("Issued", formatDate(license.issuedAt), "issued");
  fact("Expires", formatDate(license.expiresAt), "expires");
  fact("Grace period ends", `${formatDate(license.graceEndsAt)} (${license.graceDays} days after expiry)`, "grace-end");
  if (license.contactEmail) fact("Contact", license.contactEmail, "contact");
  showUnlocks(license, catalog);
}

function showUnlocks(license, catalog) {
  const ent = Entitlements.resolve(catalog, license, { now: license.verifiedAt });
  $("unlocks").hidden = false;
  $("features-note").textContent = license.isValid
    ? `What the ${catalog.tierName(ent.tier)} plan of this license includes.`
    : "The license has expired, so it unlocks nothing: this is what an organization gets without it.";
  const names = new Map(catalog.features.map((f) => [f.key, f.name]));
  for (const d of ent.decisions()) {
    const row = document.createElement("tr");
    row.dataset.feature = d.feature;
    row.dataset.on = String(d.allowed);
    const name = document.createElement("td");
    name.textContent = names.get(d.feature) ?? d.feature;
    const key = document.createElement("span");
    key.className = "key mono";
    key.textContent = d.feature;
    name.append(key);
    const on = document.createElement("td");
    on.textContent = d.allowed ? "Yes" : "No";
    on.className = d.allowed ? "on" : "off";
    const why = document.createElement("td");
    why.textContent = REASON_WORDS[d.reason] ?? d.reason;
    if (d.reason === "tier_required" && d.requiredTier) why.textContent += ` (${catalog.tierName(d.requiredTier)})`;
    row.append(name, on, why);
    $("features-body").append(row);
  }
  for (const limit of catalog.limits) {
    const value = ent.limit(limit.key);
    const row = document.createElement("tr");
    row.dataset.limit = limit.key;
    const name = document.createElement("td");
    name.textContent = limit.name;
    const key = document.createElement("span");
    key.className = "key mono";
    key.textContent = limit.key;
    name.append(key);
    const cell = document.createElement("td");
    const amount = value === null ? "Unlimited" : numberFormat.format(value);
    cell.textContent = limit.direction === "min" && value !== null ? `at least ${amount}` : amount;
    row.append(name, cell);
    $("limits-body").append(row);
  }
}

function check() {
  const token = $("license-text").value.trim();
  if (!token) {
    $("result").hidden = true;
    return;
  }
  reset();
  const catalog = Catalog.builtin($("catalog").value);
  if (!keyring) {
    showVerdict("invalid", "Cannot check yet", "Load the trusted keys first (step 1).");
    return;
  }
  try {
    const verifier = new Verifier(keyring, { issuer: $("issuer").value.trim() || undefined });
    verifier.useCatalog(catalog);
    showLicense(verifier.verify(token), catalog);
  } catch (e) {
    showInvalid(e, token);
  }
}

async function readFile(file) {
  if (!file) return;
  if (file.size > 64 * 1024) {
    $("license-text").value = "";
    reset();
    showVerdict("invalid", "Not valid", "This file is far larger than any license.");
    return;
  }
  $("license-text").value = (await file.text()).trim();
  check();
}

function wire() {
  for (const radio of document.querySelectorAll('input[name="key-source"]')) {
    radio.addEventListener("change", () => {
      const fromUrl = radio.value === "url" && radio.checked;
      $("key-url-row").hidden = !fromUrl;
      $("key-paste-row").hidden = fromUrl;
      if (fromUrl) loadKeysFromUrl();
      else loadKeysFromText();
    });
  }
  $("load-keys").addEventListener("click", loadKeysFromUrl);
  $("jwks-url").addEventListener("keydown", (e) => {
    if (e.key === "Enter") loadKeysFromUrl();
  });
  $("jwks-text").addEventListener("input", loadKeysFromText);
  $("license-text").addEventListener("input", check);
  $("check").addEventListener("click", check);
  $("catalog").addEventListener("change", check);
  $("issuer").addEventListener("change", check);
  $("license-file").addEventListener("change", (e) => readFile(e.target.files[0]));
  const zone = $("drop-zone");
  zone.addEventListener("dragover", (e) => {
    e.preventDefault();
    zone.classList.add("dragging");
  });
  zone.addEventListener("dragleave", () => zone.classList.remove("dragging"));
  zone.addEventListener("drop", (e) => {
    e.preventDefault();
    zone.classList.remove("dragging");
    readFile(e.dataTransfer.files[0]);
  });
}

await init();
wire();
await loadKeysFromUrl();
document.body.dataset.ready = "true";
