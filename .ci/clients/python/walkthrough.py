"""docs/api.md's walk-through, "From API key to settled invoice", through the
Python client that openapi-python-client generates from the served OpenAPI
document (package `scfledger_api_client`, on PYTHONPATH; see ../run).

    python walkthrough.py BASE_URL OPERATOR_KEY_FILE

Every figure is asserted exactly. Party ids and invoice numbers carry a fresh
tag, so the walk-through can run again, and beside the TypeScript one,
against the same server.
"""

from __future__ import annotations

import base64
import datetime
import hashlib
import secrets
import sys
import uuid
from typing import Any, Callable, TypeVar

import attrs

from scfledger_api_client import AuthenticatedClient, Client
from scfledger_api_client.api.accounts import statement
from scfledger_api_client.api.advances import accept_advance, quote
from scfledger_api_client.api.invoices import confirm, get as get_invoice, register
from scfledger_api_client.api.log import checkpoint, events, key
from scfledger_api_client.api.set_up import create_api_key, create_party, enrol_supplier
from scfledger_api_client.api.settlement import receive
from scfledger_api_client.models import (
    AdvanceRequest,
    ApiKeyRequest,
    ApiKeyResponse,
    ConfirmRequest,
    CurrencyCode,
    EnrolmentRequest,
    EventList,
    EventResponse,
    InvoiceRequest,
    InvoiceResponse,
    InvoiceStatusName,
    PartyRequest,
    PaymentRequest,
    QuoteResponse,
    ReceiptResponse,
    Recorded,
    RoleName,
    StatementLine,
    StatementList,
)
from scfledger_api_client.types import UNSET, Response, Unset

T = TypeVar("T")
PROGRAM = "prog-hansa-eu"
RETAILER = "ret-hansa"


class WalkthroughFailed(Exception):
    pass


def check(condition: bool, what: str) -> None:
    if not condition:
        raise WalkthroughFailed(what)


def equal(actual: Any, expected: Any, what: str) -> None:
    check(actual == expected, f"{what}: expected {expected!r}, got {actual!r}")


def no_unknown_members(value: Any, where: str) -> None:
    """The document names every member the server sent: a generated model
    keeps the members its schema does not name in `additional_properties`."""
    if isinstance(value, list):
        for i, item in enumerate(value):
            no_unknown_members(item, f"{where}[{i}]")
        return
    if not attrs.has(type(value)):
        return
    extra = getattr(value, "additional_properties", {})
    # Free-form objects (a log entry) are `additionalProperties: true` by design.
    if not type(value).__name__.endswith("EntryType0"):
        check(not extra, f"{where}: members the document does not name: {sorted(extra)}")
    for field in attrs.fields(type(value)):
        if field.name != "additional_properties":
            no_unknown_members(getattr(value, field.name), f"{where}.{field.name}")


def answer(response: Response[Any], status: int, model: type[T], what: str) -> T:
    """The parsed body of a `status` answer of type `model`, or a failure that
    shows what came back instead."""
    if response.status_code != status or not isinstance(response.parsed, model):
        raise WalkthroughFailed(
            f"{what}: expected {status} with {model.__name__}, got {int(response.status_code)} "
            f"{type(response.parsed).__name__}: {response.content[:600]!r}"
        )
    no_unknown_members(response.parsed, what)
    return response.parsed


def idempotency_key() -> str:
    return str(uuid.uuid4())


receipts: list[tuple[str, ReceiptResponse]] = []


def recorded(response: Response[Any], what: str, expected_id: str | None = None) -> Recorded:
    """A command's 201: its id and a receipt with every member."""
    body = answer(response, 201, Recorded, what)
    if expected_id is not None:
        equal(body.id, expected_id, f"{what}: id")
    r = body.receipt
    check(isinstance(r.seq, int) and r.seq >= 0, f"{what}: receipt seq {r.seq!r}")
    check(isinstance(r.tree_size, int) and r.tree_size > r.seq, f"{what}: receipt tree_size {r.tree_size!r}")
    equal(len(base64.b64decode(r.leaf_hash, validate=True)), 32, f"{what}: receipt leaf_hash bytes")
    check(isinstance(r.checkpoint, str) and r.checkpoint != "", f"{what}: receipt checkpoint")
    receipts.append((what, r))
    return body


# --- The one place that reads lists: a list answers {data, has_more, next_cursor};
# --- `cursor` asks for the next page.

def read_all(fetch: Callable[[str | None], Any], what: str) -> list[Any]:
    items: list[Any] = []
    cursor: str | None = None
    for _ in range(100):
        page = fetch(cursor)
        items.extend(page.data)
        if not page.has_more:
            return items
        check(isinstance(page.next_cursor, str), f"{what}: has_more without next_cursor")
        cursor = page.next_cursor
    raise WalkthroughFailed(f"{what}: more than 100 pages")


def statement_lines(client: AuthenticatedClient, currency: CurrencyCode) -> tuple[str, list[StatementLine]]:
    opening: list[str] = []

    def fetch(cursor: str | None) -> StatementList:
        page = answer(
            statement.sync_detailed(client=client, currency=currency, cursor=cursor if cursor is not None else UNSET),
            200, StatementList, "GET /statements",
        )
        if not opening:
            opening.append(page.opening_balance)
        return page

    lines = read_all(fetch, "GET /statements")
    return opening[0], lines


def event_feed(client: AuthenticatedClient) -> list[EventResponse]:
    def fetch(cursor: str | None) -> EventList:
        return answer(
            events.sync_detailed(client=client, cursor=cursor if cursor is not None else UNSET),
            200, EventList, "GET /events",
        )

    return read_all(fetch, "GET /events")


# --- The log: RFC 9162 inclusion proofs against the receipts' checkpoints.

def node(left: bytes, right: bytes) -> bytes:
    return hashlib.sha256(b"\x01" + left + right).digest()


def root_from_inclusion(index: int, size: int, leaf: bytes, proof: list[bytes]) -> bytes:
    """RFC 9162 2.1.3.2."""
    check(index < size, f"leaf index {index} outside tree size {size}")
    fn, sn, r = index, size - 1, leaf
    for p in proof:
        check(sn != 0, "inclusion proof longer than the path")
        if fn & 1 or fn == sn:
            r = node(p, r)
            if not fn & 1:
                while True:
                    fn >>= 1
                    sn >>= 1
                    if fn & 1 or fn == 0:
                        break
        else:
            r = node(r, p)
        fn >>= 1
        sn >>= 1
    check(sn == 0, "inclusion proof shorter than the path")
    return r


def check_note(note: str, key_name: str, key_id: bytes, what: str) -> tuple[int, bytes]:
    """A checkpoint signed note: origin, size, root; a blank line; the
    ledger key's signature line. Returns the size and the root."""
    text, sep, signatures = note.partition("\n\n")
    check(sep == "\n\n", f"{what}: no blank line in the note")
    lines = text.split("\n")
    equal(len(lines), 3, f"{what}: checkpoint lines")
    equal(lines[0], key_name, f"{what}: checkpoint origin")
    size = int(lines[1])
    root = base64.b64decode(lines[2], validate=True)
    equal(len(root), 32, f"{what}: root hash bytes")
    prefix = f"\u2014 {key_name} "
    ours = [s for s in signatures.split("\n") if s.startswith(prefix)]
    equal(len(ours), 1, f"{what}: signature lines of {key_name}")
    signature = base64.b64decode(ours[0][len(prefix):], validate=True)
    equal(len(signature), 4 + 64, f"{what}: key id and Ed25519 signature bytes")
    equal(signature[:4].hex(), key_id.hex(), f"{what}: signature key id")
    return size, root


def main() -> int:
    if len(sys.argv) != 3:
        print(__doc__, file=sys.stderr)
        return 2
    base_url, key_file = sys.argv[1].rstrip("/"), sys.argv[2]
    with open(key_file, encoding="utf-8") as f:
        operator_token = f.read().strip()

    tag = datetime.datetime.now(datetime.timezone.utc).strftime("%H%M%S") + secrets.token_hex(3)
    supplier_id = f"sup-py-{tag}"
    invoice_number = f"PY-{tag}"
    today = datetime.datetime.now(datetime.timezone.utc).date()
    due = today + datetime.timedelta(days=60)

    def authed(token: str) -> AuthenticatedClient:
        return AuthenticatedClient(base_url=base_url, token=token, raise_on_unexpected_status=True)

    operator = authed(operator_token)
    public = Client(base_url=base_url, raise_on_unexpected_status=True)

    # 1. The operator registers a supplier, enrols it and gives it, and the retailer, a key.
    recorded(create_party.sync_detailed(
        client=operator, idempotency_key=idempotency_key(),
        body=PartyRequest(party_id=supplier_id, role=RoleName.SUPPLIER, name="Delta Foods", tax_id="DE811907980"),
    ), "POST /parties", expected_id=supplier_id)
    recorded(enrol_supplier.sync_detailed(
        PROGRAM, client=operator, idempotency_key=idempotency_key(),
        body=EnrolmentRequest(supplier_id=supplier_id),
    ), "POST /programs/{program_id}/suppliers", expected_id=supplier_id)

    def new_key(party_id: str, role: RoleName) -> str:
        body = answer(create_api_key.sync_detailed(
            client=operator, idempotency_key=idempotency_key(),
            body=ApiKeyRequest(party_id=party_id, role=role, label=f"ci clients {tag}"),
        ), 201, ApiKeyResponse, "POST /api-keys")
        check(body.token.startswith(f"scf_{body.key_id}_"), f"POST /api-keys: token {body.token[:24]}... for key {body.key_id}")
        return body.token

    supplier = authed(new_key(supplier_id, RoleName.SUPPLIER))
    retailer = authed(new_key(RETAILER, RoleName.RETAILER))

    # 2. The supplier registers an invoice.
    registered = recorded(register.sync_detailed(
        client=supplier, idempotency_key=idempotency_key(),
        body=InvoiceRequest(
            program_id=PROGRAM, invoice_number=invoice_number,
            issue_date=today.isoformat(), due_date=due.isoformat(), currency=CurrencyCode.EUR, amount="10000.00",
        ),
    ), "POST /invoices")
    invoice_id = registered.id
    check(invoice_id.startswith("inv-"), f"POST /invoices: id {invoice_id!r}")
    check(isinstance(registered.warnings, Unset) or registered.warnings == [],
          f"POST /invoices: warnings {registered.warnings!r}")

    # 3. The retailer confirms the payable.
    recorded(confirm.sync_detailed(
        invoice_id, client=retailer, idempotency_key=idempotency_key(), body=ConfirmRequest(),
    ), "POST /invoices/{invoice_id}/confirm", expected_id=invoice_id)

    # 4. The supplier asks for a quote: 9000.00 advanced, 9.5% for 60 days ACT/360.
    q = answer(quote.sync_detailed(invoice_id, client=supplier), 200, QuoteResponse, "GET /invoices/{invoice_id}/quote")
    equal(q.invoice_id, invoice_id, "quote invoice_id")
    equal(q.currency, "EUR", "quote currency")
    equal(q.eligible, True, "quote eligible")
    equal(q.principal, "9000.00", "quote principal")
    equal(q.fee, "142.50", "quote fee")
    equal(q.net, "8857.50", "quote net")
    equal(q.value_date, today.isoformat(), "quote value_date")
    equal(q.due_date, due.isoformat(), "quote due_date")
    equal(q.days, 60, "quote days")
    equal(q.advance_rate, "0.90", "quote advance_rate")
    equal(q.discount_rate, "0.095", "quote discount_rate")
    equal(str(q.day_count), "ACT/360", "quote day_count")
    # 142.50 / 8857.50 over 60 days, on 360: 0.0965.
    equal(q.effective_annual_rate, "0.0965", "quote effective_annual_rate")
    check(len(q.rules) > 0, "quote: no rules")
    for rule in q.rules:
        check(rule.passed, f"quote rule {rule.rule} failed: {rule.input_} against {rule.threshold}")
    rules = {rule.rule: rule for rule in q.rules}
    equal(rules["tenor"].input_, "60 days", "quote rule tenor input")
    equal(rules["positive_principal"].input_, "9000.00", "quote rule positive_principal input")
    equal(rules["supplier_limit"].input_, "0.00 used + 9000.00 = 9000.00", "quote rule supplier_limit input")

    # 5. ... and accepts it.
    advance = recorded(accept_advance.sync_detailed(
        invoice_id, client=supplier, idempotency_key=idempotency_key(), body=AdvanceRequest(),
    ), "POST /invoices/{invoice_id}/advance", expected_id=invoice_id)

    # 6. Treasury records the retailer's payment on the due date; the waterfall settles the invoice.
    payment = recorded(receive.sync_detailed(
        client=operator, idempotency_key=idempotency_key(),
        body=PaymentRequest(
            retailer_id=RETAILER, currency=CurrencyCode.EUR, amount="10000.00", value_date=due.isoformat(),
            reference=f"Hansa remittance {tag}", invoice_ids=[invoice_id],
        ),
    ), "POST /payments")
    equal(payment.id, f"pmt-{payment.receipt.seq}", "POST /payments: id")

    # 7. Everyone reads their side.
    inv = answer(get_invoice.sync_detailed(invoice_id, client=supplier), 200, InvoiceResponse, "GET /invoices/{invoice_id}")
    expected_invoice = {
        "invoice_id": invoice_id, "program_id": PROGRAM, "supplier_id": supplier_id,
        "retailer_id": RETAILER, "funder_id": "fund-nord", "invoice_number": invoice_number,
        "issue_date": today.isoformat(), "due_date": due.isoformat(), "currency": "EUR",
        "amount": "10000.00", "credited": "0.00", "paid": "10000.00", "open_": "0.00",
        "registered_seq": registered.receipt.seq, "settled_on": due.isoformat(), "defaulted_on": None,
    }
    for name, expected in expected_invoice.items():
        equal(getattr(inv, name), expected, f"invoice {name}")
    equal(inv.status, InvoiceStatusName.SETTLED, "invoice status")
    check(isinstance(inv.creditor_reference, str) and inv.creditor_reference.startswith("RF"),
          f"invoice creditor_reference {inv.creditor_reference!r}")
    a = inv.advance
    check(a is not None and not isinstance(a, Unset), "invoice: no advance")
    assert a is not None and not isinstance(a, Unset)
    expected_advance = {
        "principal": "9000.00", "fee": "142.50", "net": "8857.50",
        "value_date": today.isoformat(), "due_date": due.isoformat(),
        "principal_outstanding": "0.00", "late_fee_unpaid": "0.00",
    }
    for name, expected in expected_advance.items():
        equal(getattr(a, name), expected, f"invoice advance {name}")

    # The supplier's statement: the 1,000.00 reserve (10,000.00 less the 9,000.00
    # advanced) is held at the advance and released by the payment.
    reserve = f"supplier:{supplier_id}:reserve"
    opening, lines = statement_lines(supplier, CurrencyCode.EUR)
    equal(opening, "0.00", "statement opening_balance")
    equal(
        [(l.seq, l.account, l.amount, l.balance_after, l.account_balance_after) for l in lines],
        [
            (advance.receipt.seq, reserve, "-1000.00", "-1000.00", "-1000.00"),
            (payment.receipt.seq, reserve, "1000.00", "0.00", "0.00"),
        ],
        "statement lines (seq, account, amount, balance_after, account_balance_after)",
    )

    # The invoice's story, as the supplier reads it: one event per command but the keys.
    feed = event_feed(supplier)
    equal(len(receipts), 6, "receipts so far")
    equal(
        [(e.seq, e.kind) for e in feed],
        [(seq, kind) for seq, kind in zip(
            [r.seq for what, r in receipts],
            ["party.registered", "program.supplier_enrolled", "invoice.registered",
             "invoice.confirmed", "advance.accepted", "payment.received"],
        )],
        "events (seq, kind)",
    )

    # The signed tree head and the key it is signed with (public).
    key_line = answer(key.sync_detailed(client=public), 200, str, "GET /log/key").strip()
    # name+id+key: the base64 key may itself hold a "+".
    parts = key_line.split("+", 2)
    equal(len(parts), 3, f"GET /log/key: {key_line!r}")
    key_name, key_hex, key_b64 = parts
    public_key = base64.b64decode(key_b64, validate=True)
    equal((len(public_key), public_key[:1]), (33, b"\x01"), "GET /log/key: Ed25519 key bytes")
    key_id = hashlib.sha256(key_name.encode() + b"\n" + public_key).digest()[:4]
    equal(key_hex, key_id.hex(), "GET /log/key: key id")

    head = checkpoint.sync_detailed(client=public)
    note = answer(head, 200, str, "GET /log/checkpoint")
    equal(head.headers.get("ledger-key"), key_line, "GET /log/checkpoint: Ledger-Key header")
    size, _ = check_note(note, key_name, key_id, "GET /log/checkpoint")
    check(size >= payment.receipt.tree_size, f"GET /log/checkpoint: size {size} below the last receipt's {payment.receipt.tree_size}")

    # Every receipt proves its entry in the tree its checkpoint signs.
    for what, r in receipts:
        r_size, r_root = check_note(r.checkpoint, key_name, key_id, f"{what}: receipt checkpoint")
        equal(r_size, r.tree_size, f"{what}: receipt checkpoint size")
        proof = [base64.b64decode(p, validate=True) for p in r.inclusion_proof]
        leaf = base64.b64decode(r.leaf_hash, validate=True)
        equal(root_from_inclusion(r.seq, r.tree_size, leaf, proof).hex(), r_root.hex(),
              f"{what}: inclusion proof of seq {r.seq} in {r.tree_size}")

    print(f"python client: {supplier_id} {invoice_id} settled; quote 9000.00/142.50/8857.50; "
          f"{len(lines)} statement lines, {len(feed)} events, {len(receipts)} receipts proven at checkpoint {size}")
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except WalkthroughFailed as failure:
        print(f"python client walk-through FAILED: {failure}", file=sys.stderr)
        sys.exit(1)
