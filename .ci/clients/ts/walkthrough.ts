// docs/api.md's walk-through, "From API key to settled invoice", through
// openapi-fetch with the types openapi-typescript generates from the served
// OpenAPI document (schema.ts, beside this file at CI time; see run).
//
//   node out/walkthrough.js BASE_URL OPERATOR_KEY_FILE
//
// tsc (strict) checks every call against the generated types first: a path,
// a parameter, a body member or an answer's member the document gets wrong
// fails there. Then every figure is asserted exactly. Party ids and invoice
// numbers carry a fresh tag, so the walk-through can run again, and beside
// the Python one, against the same server.

import { createHash, createPublicKey, randomBytes, randomUUID, verify } from "node:crypto";
import { readFileSync } from "node:fs";
import createClient from "openapi-fetch";
import type { components, paths } from "./schema.js";

type Schemas = components["schemas"];
type Receipt = Schemas["ReceiptResponse"];
type Api = ReturnType<typeof createClient<paths>>;

const PROGRAM = "prog-hansa-eu";
const RETAILER = "ret-hansa";

class WalkthroughFailed extends Error {}

function check(condition: boolean, what: string): asserts condition {
  if (!condition) throw new WalkthroughFailed(what);
}

/** JSON with every object's members in order: equal values, equal text. */
function canonical(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) =>
    v !== null && typeof v === "object" && !Array.isArray(v)
      ? Object.fromEntries(Object.entries(v).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)))
      : v,
  );
}

/** Deep equality of JSON values, every member counted (one the server adds or
 * drops fails); `expected` must have the type the document gives `actual`. */
function equal<T>(actual: T, expected: NoInfer<T>, what: string): void {
  const a = canonical(actual);
  const e = canonical(expected);
  check(a === e, `${what}: expected ${e}, got ${a}`);
}

/** The answer's body when it has `status`, or a failure that shows what came back instead. */
async function answer<D>(
  call: Promise<{ data?: D; error?: unknown; response: Response }>,
  status: number,
  what: string,
): Promise<D> {
  const { data, error, response } = await call;
  if (response.status !== status || data === undefined) {
    throw new WalkthroughFailed(
      `${what}: expected ${status}, got ${response.status}: ${JSON.stringify(error ?? data).slice(0, 600)}`,
    );
  }
  return data;
}

const idempotency = () => ({ header: { "Idempotency-Key": randomUUID() } });

const receipts: { what: string; receipt: Receipt }[] = [];

/** A command's 201: its id and a receipt with every member. */
function recorded(body: Schemas["Recorded"], what: string, expectedId?: string): Schemas["Recorded"] {
  if (expectedId !== undefined) equal(body.id, expectedId, `${what}: id`);
  const r = body.receipt;
  check(Number.isInteger(r.seq) && r.seq >= 0, `${what}: receipt seq ${r.seq}`);
  check(Number.isInteger(r.tree_size) && r.tree_size > r.seq, `${what}: receipt tree_size ${r.tree_size}`);
  equal(Buffer.from(r.leaf_hash, "base64").length, 32, `${what}: receipt leaf_hash bytes`);
  check(typeof r.checkpoint === "string" && r.checkpoint !== "", `${what}: receipt checkpoint`);
  receipts.push({ what, receipt: r });
  return body;
}

// --- The one place that reads lists: a list answers {data, has_more, next_cursor};
// --- `cursor` asks for the next page.

async function readAll<I>(
  fetch: (cursor: string | undefined) => Promise<{ data: I[]; has_more: boolean; next_cursor?: string | null }>,
  what: string,
): Promise<I[]> {
  const items: I[] = [];
  let cursor: string | undefined;
  for (let page = 0; page < 100; page++) {
    const got = await fetch(cursor);
    items.push(...got.data);
    if (!got.has_more) return items;
    check(typeof got.next_cursor === "string", `${what}: has_more without next_cursor`);
    cursor = got.next_cursor;
  }
  throw new WalkthroughFailed(`${what}: more than 100 pages`);
}

async function statementLines(api: Api, currency: Schemas["CurrencyCode"]) {
  let opening: string | undefined;
  const lines = await readAll(async (cursor) => {
    const page = await answer(
      api.GET("/api/v1/statements", { params: { query: { currency, ...(cursor === undefined ? {} : { cursor }) } } }),
      200,
      "GET /statements",
    );
    opening ??= page.opening_balance;
    return page;
  }, "GET /statements");
  check(opening !== undefined, "GET /statements: no page");
  return { opening, lines };
}

async function eventFeed(api: Api) {
  return readAll(
    (cursor) =>
      answer(
        api.GET("/api/v1/events", { params: { query: cursor === undefined ? {} : { cursor } } }),
        200,
        "GET /events",
      ),
    "GET /events",
  );
}

// --- The log: the checkpoint's Ed25519 signature and RFC 9162 inclusion proofs.

const sha256 = (...parts: Uint8Array[]) => {
  const h = createHash("sha256");
  for (const p of parts) h.update(p);
  return h.digest();
};

/** RFC 9162 2.1.3.2. */
function rootFromInclusion(index: number, size: number, leaf: Buffer, proof: Buffer[]): Buffer {
  check(index < size, `leaf index ${index} outside tree size ${size}`);
  let fn = index;
  let sn = size - 1;
  let r = leaf;
  for (const p of proof) {
    check(sn !== 0, "inclusion proof longer than the path");
    if (fn % 2 === 1 || fn === sn) {
      r = sha256(Buffer.from([1]), p, r);
      if (fn % 2 === 0) {
        do {
          fn = Math.floor(fn / 2);
          sn = Math.floor(sn / 2);
        } while (fn % 2 === 0 && fn !== 0);
      }
    } else {
      r = sha256(Buffer.from([1]), r, p);
    }
    fn = Math.floor(fn / 2);
    sn = Math.floor(sn / 2);
  }
  check(sn === 0, "inclusion proof shorter than the path");
  return r;
}

interface LedgerKey {
  name: string;
  id: Buffer;
  publicKey: ReturnType<typeof createPublicKey>;
}

/** A checkpoint signed note: origin, size, root; a blank line; the ledger key's signature line. */
function checkNote(note: string, key: LedgerKey, what: string): { size: number; root: Buffer } {
  const blank = note.indexOf("\n\n");
  check(blank > 0, `${what}: no blank line in the note`);
  const text = note.slice(0, blank + 1);
  const lines = text.slice(0, -1).split("\n");
  equal(lines.length, 3, `${what}: checkpoint lines`);
  const [origin, sizeText, rootText] = lines as [string, string, string];
  equal(origin, key.name, `${what}: checkpoint origin`);
  const size = Number(sizeText);
  check(Number.isInteger(size) && String(size) === sizeText, `${what}: checkpoint size ${sizeText}`);
  const root = Buffer.from(rootText, "base64");
  equal(root.length, 32, `${what}: root hash bytes`);
  const prefix = `\u2014 ${key.name} `;
  const ours = note.slice(blank + 2).split("\n").filter((l) => l.startsWith(prefix));
  equal(ours.length, 1, `${what}: signature lines of ${key.name}`);
  const signature = Buffer.from((ours[0] ?? "").slice(prefix.length), "base64");
  equal(signature.length, 4 + 64, `${what}: key id and Ed25519 signature bytes`);
  equal(signature.subarray(0, 4).toString("hex"), key.id.toString("hex"), `${what}: signature key id`);
  check(verify(null, Buffer.from(text, "utf8"), key.publicKey, signature.subarray(4)), `${what}: Ed25519 signature`);
  return { size, root };
}

async function main(): Promise<void> {
  const [baseArg, keyFile] = process.argv.slice(2);
  if (baseArg === undefined || keyFile === undefined) {
    throw new WalkthroughFailed("usage: node out/walkthrough.js BASE_URL OPERATOR_KEY_FILE");
  }
  const baseUrl = baseArg.replace(/\/$/, "");
  const operatorToken = readFileSync(keyFile, "utf8").trim();

  const now = new Date();
  const tag = now.toISOString().slice(11, 19).replaceAll(":", "") + randomBytes(3).toString("hex");
  const supplierId = `sup-ts-${tag}`;
  const invoiceNumber = `TS-${tag}`;
  const today = now.toISOString().slice(0, 10);
  const due = new Date(Date.parse(`${today}T00:00:00Z`) + 60 * 86_400_000).toISOString().slice(0, 10);

  const authed = (token: string): Api =>
    createClient<paths>({ baseUrl, headers: { Authorization: `Bearer ${token}` } });
  const operator = authed(operatorToken);
  const open = createClient<paths>({ baseUrl });

  // 1. The operator registers a supplier, enrols it and gives it, and the retailer, a key.
  recorded(
    await answer(
      operator.POST("/api/v1/parties", {
        params: idempotency(),
        body: { party_id: supplierId, role: "supplier", name: "Delta Foods", tax_id: "DE811907980" },
      }),
      201,
      "POST /parties",
    ),
    "POST /parties",
    supplierId,
  );
  recorded(
    await answer(
      operator.POST("/api/v1/programs/{program_id}/suppliers", {
        params: { ...idempotency(), path: { program_id: PROGRAM } },
        body: { supplier_id: supplierId },
      }),
      201,
      "POST /programs/{program_id}/suppliers",
    ),
    "POST /programs/{program_id}/suppliers",
    supplierId,
  );
  const newKey = async (partyId: string, role: Schemas["RoleName"]) => {
    const key = await answer(
      operator.POST("/api/v1/api-keys", {
        params: idempotency(),
        body: { party_id: partyId, role, label: `ci clients ${tag}` },
      }),
      201,
      "POST /api-keys",
    );
    check(key.token.startsWith(`scf_${key.key_id}_`), `POST /api-keys: token for key ${key.key_id}`);
    return key.token;
  };
  const supplier = authed(await newKey(supplierId, "supplier"));
  const retailer = authed(await newKey(RETAILER, "retailer"));

  // 2. The supplier registers an invoice.
  const registered = recorded(
    await answer(
      supplier.POST("/api/v1/invoices", {
        params: idempotency(),
        body: {
          program_id: PROGRAM,
          invoice_number: invoiceNumber,
          issue_date: today,
          due_date: due,
          currency: "EUR",
          amount: "10000.00",
        },
      }),
      201,
      "POST /invoices",
    ),
    "POST /invoices",
  );
  const invoiceId = registered.id;
  check(invoiceId.startsWith("inv-"), `POST /invoices: id ${invoiceId}`);
  equal(registered.warnings ?? [], [], "POST /invoices: warnings");
  const onInvoice = <E extends object>(extra: E) => ({ ...extra, path: { invoice_id: invoiceId } });

  // 3. The retailer confirms the payable.
  recorded(
    await answer(
      retailer.POST("/api/v1/invoices/{invoice_id}/confirm", { params: onInvoice(idempotency()), body: {} }),
      201,
      "POST /invoices/{invoice_id}/confirm",
    ),
    "POST /invoices/{invoice_id}/confirm",
    invoiceId,
  );

  // 4. The supplier asks for a quote: 9000.00 advanced, 9.5% for 60 days ACT/360.
  const q = await answer(
    supplier.GET("/api/v1/invoices/{invoice_id}/quote", { params: onInvoice({}) }),
    200,
    "GET /invoices/{invoice_id}/quote",
  );
  equal(
    {
      invoice_id: q.invoice_id,
      currency: q.currency,
      eligible: q.eligible,
      principal: q.principal,
      fee: q.fee,
      net: q.net,
      value_date: q.value_date,
      due_date: q.due_date,
      days: q.days,
      advance_rate: q.advance_rate,
      discount_rate: q.discount_rate,
      day_count: q.day_count,
      effective_annual_rate: q.effective_annual_rate,
    },
    {
      invoice_id: invoiceId,
      currency: "EUR",
      eligible: true,
      principal: "9000.00",
      fee: "142.50",
      net: "8857.50",
      value_date: today,
      due_date: due,
      days: 60,
      advance_rate: "0.90",
      discount_rate: "0.095",
      day_count: "ACT/360",
      // 142.50 / 8857.50 over 60 days, on 360.
      effective_annual_rate: "0.0965",
    },
    "quote",
  );
  check(q.rules.length > 0, "quote: no rules");
  for (const rule of q.rules) {
    check(rule.passed, `quote rule ${rule.rule} failed: ${rule.input} against ${rule.threshold}`);
  }
  const ruleInput = (name: string) => q.rules.find((r) => r.rule === name)?.input;
  equal(ruleInput("tenor"), "60 days", "quote rule tenor input");
  equal(ruleInput("positive_principal"), "9000.00", "quote rule positive_principal input");
  equal(ruleInput("supplier_limit"), "0.00 used + 9000.00 = 9000.00", "quote rule supplier_limit input");

  // 5. ... and accepts it.
  const advance = recorded(
    await answer(
      supplier.POST("/api/v1/invoices/{invoice_id}/advance", { params: onInvoice(idempotency()), body: {} }),
      201,
      "POST /invoices/{invoice_id}/advance",
    ),
    "POST /invoices/{invoice_id}/advance",
    invoiceId,
  );

  // 6. Treasury records the retailer's payment on the due date; the waterfall settles the invoice.
  const payment = recorded(
    await answer(
      operator.POST("/api/v1/payments", {
        params: idempotency(),
        body: {
          retailer_id: RETAILER,
          currency: "EUR",
          amount: "10000.00",
          value_date: due,
          reference: `Hansa remittance ${tag}`,
          invoice_ids: [invoiceId],
        },
      }),
      201,
      "POST /payments",
    ),
    "POST /payments",
  );
  equal(payment.id, `pmt-${payment.receipt.seq}`, "POST /payments: id");

  // 7. Everyone reads their side.
  const inv = await answer(
    supplier.GET("/api/v1/invoices/{invoice_id}", { params: onInvoice({}) }),
    200,
    "GET /invoices/{invoice_id}",
  );
  const { creditor_reference, ...invoice } = inv;
  check(typeof creditor_reference === "string" && creditor_reference.startsWith("RF"), `invoice creditor_reference ${creditor_reference}`);
  const expectedInvoice: Omit<Schemas["InvoiceResponse"], "creditor_reference"> = {
    invoice_id: invoiceId,
    program_id: PROGRAM,
    supplier_id: supplierId,
    retailer_id: RETAILER,
    funder_id: "fund-nord",
    invoice_number: invoiceNumber,
    issue_date: today,
    due_date: due,
    currency: "EUR",
    amount: "10000.00",
    credited: "0.00",
    paid: "10000.00",
    open: "0.00",
    status: "settled",
    registered_seq: registered.receipt.seq,
    settled_on: due,
    defaulted_on: null,
    advance: {
      principal: "9000.00",
      fee: "142.50",
      net: "8857.50",
      value_date: today,
      due_date: due,
      principal_outstanding: "0.00",
      late_fee_unpaid: "0.00",
    },
  };
  equal(invoice, expectedInvoice, "invoice");

  // The supplier's statement: the 1,000.00 reserve (10,000.00 less the 9,000.00
  // advanced) is held at the advance and released by the payment.
  const reserve = `supplier:${supplierId}:reserve`;
  const { opening, lines } = await statementLines(supplier, "EUR");
  equal(opening, "0.00", "statement opening_balance");
  equal(
    lines,
    [
      { seq: advance.receipt.seq, account: reserve, amount: "-1000.00", balance_after: "-1000.00", account_balance_after: "-1000.00" },
      { seq: payment.receipt.seq, account: reserve, amount: "1000.00", balance_after: "0.00", account_balance_after: "0.00" },
    ],
    "statement lines",
  );

  // The invoice's story, as the supplier reads it: one event per command but the keys.
  const feed = await eventFeed(supplier);
  equal(receipts.length, 6, "receipts so far");
  const kinds = ["party.registered", "program.supplier_enrolled", "invoice.registered",
    "invoice.confirmed", "advance.accepted", "payment.received"];
  equal(
    feed.map((e) => [e.seq, e.kind]),
    receipts.map((r, i) => [r.receipt.seq, kinds[i] ?? ""]),
    "events [seq, kind]",
  );

  // The signed tree head and the key it is signed with (public).
  const keyLine = (
    await answer(open.GET("/api/v1/log/key", { parseAs: "text" }), 200, "GET /log/key")
  ).trim();
  // name+id+key: the base64 key may itself hold a "+".
  const [name, idHex, ...keyParts] = keyLine.split("+");
  const keyB64 = keyParts.join("+");
  check(name !== undefined && idHex !== undefined && keyB64 !== "", `GET /log/key: ${keyLine}`);
  const keyBytes = Buffer.from(keyB64, "base64");
  equal([keyBytes.length, keyBytes[0]], [33, 1], "GET /log/key: Ed25519 key bytes");
  const id = sha256(Buffer.from(`${name}\n`, "utf8"), keyBytes).subarray(0, 4);
  equal(idHex, id.toString("hex"), "GET /log/key: key id");
  const spki = Buffer.concat([Buffer.from("302a300506032b6570032100", "hex"), keyBytes.subarray(1)]);
  const key: LedgerKey = { name, id, publicKey: createPublicKey({ key: spki, format: "der", type: "spki" }) };

  const head = await open.GET("/api/v1/log/checkpoint", { parseAs: "text" });
  const note = await answer(Promise.resolve(head), 200, "GET /log/checkpoint");
  equal(head.response.headers.get("Ledger-Key"), keyLine, "GET /log/checkpoint: Ledger-Key header");
  const { size } = checkNote(note, key, "GET /log/checkpoint");
  check(size >= payment.receipt.tree_size, `GET /log/checkpoint: size ${size} below the last receipt's ${payment.receipt.tree_size}`);

  // Every receipt proves its entry in the tree its checkpoint signs.
  for (const { what, receipt: r } of receipts) {
    const signed = checkNote(r.checkpoint, key, `${what}: receipt checkpoint`);
    equal(signed.size, r.tree_size, `${what}: receipt checkpoint size`);
    const root = rootFromInclusion(
      r.seq,
      r.tree_size,
      Buffer.from(r.leaf_hash, "base64"),
      r.inclusion_proof.map((p) => Buffer.from(p, "base64")),
    );
    equal(root.toString("hex"), signed.root.toString("hex"), `${what}: inclusion proof of seq ${r.seq} in ${r.tree_size}`);
  }

  console.log(
    `typescript client: ${supplierId} ${invoiceId} settled; quote 9000.00/142.50/8857.50; ` +
      `${lines.length} statement lines, ${feed.length} events, ${receipts.length} receipts proven at signed checkpoint ${size}`,
  );
}

main().catch((failure: unknown) => {
  if (failure instanceof WalkthroughFailed) {
    console.error(`typescript client walk-through FAILED: ${failure.message}`);
  } else {
    console.error(failure);
  }
  process.exit(1);
});
