"""`csbot sync salesforce` against a local Salesforce serving REST query results
(`nextRecordsUrl`, `done`), `queryAll` deleted contacts, client-credentials OAuth, and
Salesforce's error list shape."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import text

from storage.connectors import run_sync, salesforce
from storage.ingest.mapping import parse_mapping
from tests.fakes.api_server import FakeApi

TOKEN = "00Dxx0000001gPL!AR8AQ"
MAPPING = parse_mapping(
    "owners: {field: CSM__c, fallback: [OwnerId]}\n"
    "values:\n  accounts.segment: {Enterprise: enterprise}\n  contacts.role: {Admin: admin}\n"
    "salesforce: {role_field: Role__c, segment_field: Segment__c}\n",
    "mapping.yml",
)


def attributes(kind: str, record_id: str) -> dict[str, str]:
    return {"type": kind, "url": f"/services/data/v60.0/sobjects/{kind}/{record_id}"}


class Org:
    def __init__(self) -> None:
        self.users = [
            {
                "attributes": attributes("User", "005A"),
                "Id": "005A",
                "Email": "AE@example.com",
                "IsActive": True,
            },
            {
                "attributes": attributes("User", "005C"),
                "Id": "005C",
                "Email": "csm@example.com",
                "IsActive": True,
            },
        ]
        self.accounts = [
            {
                "attributes": attributes("Account", "001A"),
                "Id": "001A",
                "Name": "Acme",
                "Website": "https://www.acme.com/",
                "Industry": "Retail",
                "OwnerId": "005A",
                "CSM__c": "005C",
                "Segment__c": "Enterprise",
                "CreatedDate": "2024-01-01T00:00:00.000+0000",
                "SystemModstamp": "2026-03-01T10:00:00.000+0000",
            },
            {
                "attributes": attributes("Account", "001B"),
                "Id": "001B",
                "Name": "Globex",
                "Website": None,
                "Industry": None,
                "OwnerId": "005A",
                "CSM__c": None,
                "Segment__c": None,
                "CreatedDate": "2024-01-01T00:00:00.000+0000",
                "SystemModstamp": "2026-03-01T11:00:00.000+0000",
            },
        ]
        self.contacts = [
            {
                "attributes": attributes("Contact", "003A"),
                "Id": "003A",
                "AccountId": "001A",
                "FirstName": "Jane",
                "LastName": "Doe",
                "Email": "Jane@Acme.com",
                "Role__c": "Admin",
                "IsDeleted": False,
                "SystemModstamp": "2026-03-01T10:00:00.000+0000",
            },
            {
                "attributes": attributes("Contact", "003B"),
                "Id": "003B",
                "AccountId": "001A",
                "FirstName": "Old",
                "LastName": "Timer",
                "Email": "old@acme.com",
                "Role__c": "Economic Buyer",
                "IsDeleted": True,
                "SystemModstamp": "2026-02-01T09:00:00.000+0000",
            },
        ]
        self.opportunities = [
            {
                "attributes": attributes("Opportunity", "006A"),
                "Id": "006A",
                "AccountId": "001A",
                "Name": "Acme 2025",
                "Amount": 20000.0,
                "CloseDate": "2025-03-01",
                "StageName": "Closed Won",
                "IsWon": True,
                "IsClosed": True,
                "Type": "New Business",
                "SystemModstamp": "2026-03-01T10:00:00.000+0000",
            },
            {
                "attributes": attributes("Opportunity", "006B"),
                "Id": "006B",
                "AccountId": "001A",
                "Name": "Acme renewal",
                "Amount": 18000.0,
                "CloseDate": "2026-03-01",
                "StageName": "Closed Won",
                "IsWon": True,
                "IsClosed": True,
                "Type": "Renewal",
                "SystemModstamp": "2026-03-01T10:00:01.000+0000",
            },
            {
                "attributes": attributes("Opportunity", "006C"),
                "Id": "006C",
                "AccountId": "001B",
                "Name": "Globex renewal",
                "Amount": 5000.0,
                "CloseDate": "2026-02-15",
                "StageName": "Closed Lost",
                "IsWon": False,
                "IsClosed": True,
                "Type": "Renewal",
                "SystemModstamp": "2026-03-01T10:00:02.000+0000",
            },
        ]
        self.contracts: list[dict[str, Any]] = []
        self.pending: dict[str, list[dict[str, Any]]] = {}

    def query(self, query: dict[str, str], body: Any) -> tuple[int, Any]:
        soql = query["q"]
        table = soql.split(" FROM ")[1].split()[0]
        records = {
            "User": self.users,
            "Account": self.accounts,
            "Contact": self.contacts,
            "Opportunity": self.opportunities,
            "Contract": self.contracts,
        }.get(table)
        if records is None:
            return 400, [
                {
                    "message": f"sObject type '{table}' is not supported.",
                    "errorCode": "INVALID_TYPE",
                }
            ]
        if "SystemModstamp >= " in soql:
            since = soql.split("SystemModstamp >= ")[1].split()[0]
            records = [r for r in records if r["SystemModstamp"].replace(".000+0000", "Z") >= since]
        return 200, self._page(records, "01gA")

    def _page(self, records: list[dict[str, Any]], locator: str) -> dict[str, Any]:
        first, rest = records[:2], records[2:]
        body: dict[str, Any] = {"totalSize": len(records), "done": not rest, "records": first}
        if rest:
            self.pending[locator] = rest
            body["nextRecordsUrl"] = f"/services/data/v60.0/query/{locator}-2000"
        return body

    def more(self, query: dict[str, str], body: Any) -> tuple[int, Any]:
        rest = self.pending.pop("01gA")
        return 200, self._page(rest, "01gA")


@pytest.fixture
def org() -> Iterator[tuple[Org, FakeApi]]:
    data = Org()
    routes = {
        ("GET", "/services/data/v60.0/query"): data.query,
        ("GET", "/services/data/v60.0/queryAll"): data.query,
        ("GET", "/services/data/v60.0/query/01gA-2000"): data.more,
        ("POST", "/services/oauth2/token"): lambda q, b: (
            (200, {"access_token": TOKEN, "instance_url": api.url, "token_type": "Bearer"})
            if b.get("client_secret") == "s3cret"
            else (
                400,
                {"error": "invalid_client", "error_description": "invalid client credentials"},
            )
        ),
    }
    refused = (401, [{"message": "Session expired or invalid", "errorCode": "INVALID_SESSION_ID"}])
    api = FakeApi(routes, authorization=f"Bearer {TOKEN}", unauthorized=refused)
    api.routes = routes
    with api:
        # the token endpoint itself takes no bearer token
        yield data, api


def rows(engine, sql: str) -> list[tuple]:
    with engine.connect() as connection:
        return [tuple(row) for row in connection.execute(text(sql))]


def sync(engine, api: FakeApi, **options):
    connector = salesforce.connector(
        api.url, access_token=options.pop("token", TOKEN), sleep=[].append
    )
    return run_sync(engine, connector, mapping=MAPPING, **options)


def test_accounts_contacts_and_opportunities(engine, org):
    data, api = org
    report = sync(engine, api)
    assert report.ok, report.error
    assert rows(engine, "SELECT account_id, segment, owner FROM accounts ORDER BY account_id") == [
        ("001A", "enterprise", "csm@example.com"),  # the CSM field, not the owner (an AE)
        ("001B", None, "ae@example.com"),
    ]
    assert rows(
        engine,
        "SELECT contact_id, email, role, left_at IS NOT NULL FROM contacts ORDER BY contact_id",
    ) == [
        ("003A", "jane@acme.com", "admin", False),
        ("003B", "old@acme.com", "decision_maker", True),  # deleted: left_at
    ]
    assert rows(engine, "SELECT contract_id, arr FROM contracts ORDER BY contract_id") == [
        ("opp-006A", 20000.0),
        ("opp-006B", 18000.0),
    ]
    assert rows(
        engine, "SELECT account_id, kind, arr_change FROM lifecycle ORDER BY account_id, kind"
    ) == [
        ("001A", "contracted", -2000.0),
        ("001A", "renewed", -2000.0),
        ("001B", "churned", -5000.0),
    ]
    assert rows(engine, "SELECT external_id, account_id FROM sync_links WHERE kind = 'domain'") == [
        ("acme.com", "001A")
    ]
    again = sync(engine, api)
    assert again.ok and again.writes == 0
    assert any(
        "SystemModstamp+%3E%3D+2026-03-01T11%3A00%3A00Z" in path
        or "SystemModstamp%20%3E%3D%202026-03-01T11%3A00%3A00Z" in path
        for _, path in api.requests[-8:]
    )


def test_client_credentials_and_salesforce_errors(engine, org):
    data, api = org
    connector = salesforce.connector(
        api.url, client_id="3MVG9", client_secret="s3cret", sleep=[].append
    )
    api.authorization = None  # the token endpoint takes no bearer; queries are checked below
    assert run_sync(engine, connector, mapping=MAPPING).ok
    assert ("POST", "/services/oauth2/token") in api.requests
    api.authorization = f"Bearer {TOKEN}"
    failed = sync(engine, api, token="expired")
    assert failed.error is not None
    assert failed.error.startswith("salesforce: users: GET ")
    assert failed.error.endswith("HTTP 401 after 1 attempts: Session expired or invalid")
    bad = salesforce.connector(api.url, client_id="3MVG9", client_secret="wrong", sleep=[].append)
    api.authorization = None
    refused = run_sync(engine, bad, mapping=MAPPING)
    assert (
        refused.error
        == "salesforce: users: POST /services/oauth2/token: HTTP 400: invalid client credentials"
    )


def contract(
    contract_id: str, account: str | None, start: str, end: str | None, status: str, arr: float
) -> dict[str, Any]:
    """A Contract as SOQL returns it (ARR__c: the org's own ARR field)."""
    return {
        "attributes": attributes("Contract", contract_id),
        "Id": contract_id,
        "AccountId": account,
        "ContractNumber": f"0000{contract_id[-1]}",
        "StartDate": start,
        "EndDate": end,
        "ContractTerm": 12,
        "StatusCode": status,
        "ARR__c": arr,
        "SystemModstamp": "2026-03-01T10:00:00.000+0000",
    }


def test_contracts_are_the_terms_when_the_mapping_names_their_arr_field(engine, org):
    data, api = org
    data.contracts = [
        contract("800A", "001A", "2025-03-01", "2026-02-28", "Expired", 20000.0),
        contract("800B", "001A", "2026-03-01", None, "Activated", 18000.0),  # ContractTerm: 12
        contract("800C", "001A", "2027-03-01", "2028-02-29", "Draft", 1.0),  # not a term
        contract("800D", None, "2026-01-01", "2026-12-31", "Activated", 9000.0),
    ]
    mapping = parse_mapping(
        "owners: {field: CSM__c, fallback: [OwnerId]}\nsalesforce: {contract_arr_field: ARR__c}\n",
        "mapping.yml",
    )
    connector = salesforce.connector(api.url, access_token=TOKEN, sleep=[].append)
    report = run_sync(engine, connector, mapping=mapping)
    assert report.ok, report.error
    terms = rows(
        engine, "SELECT contract_id, start_date, end_date, arr, plan FROM contracts ORDER BY 1"
    )
    assert [(c, str(s)[:10], str(e)[:10], a, p) for c, s, e, a, p in terms] == [
        ("ctr-800A", "2025-03-01", "2026-02-28", 20000.0, "0000A"),
        ("ctr-800B", "2026-03-01", "2027-02-28", 18000.0, "0000B"),
    ]  # each term its own row; no opp-* terms beside them
    assert rows(
        engine, "SELECT account_id, kind, arr_change FROM lifecycle ORDER BY account_id, kind"
    ) == [
        ("001A", "contracted", -2000.0),
        ("001A", "renewed", -2000.0),
        ("001B", "churned", -5000.0),
    ]  # opportunities still give the lifecycle
    contracts = next(o for o in report.objects if o.object == "contracts")
    assert (contracts.unmatched, contracts.unmatched_records) == (1, ["Contract 800D"])
    again = run_sync(engine, connector, mapping=mapping)
    assert again.ok and again.writes == 0


def test_records_matching_no_account_are_counted_and_named(engine, org):
    data, api = org
    data.opportunities.append(
        {
            **data.opportunities[0],
            "attributes": attributes("Opportunity", "006D"),
            "Id": "006D",
            "AccountId": None,
        }
    )
    data.contacts.append(
        {**data.contacts[0], "Id": "003C", "AccountId": None, "Email": "x@nowhere.example"}
    )
    report = sync(engine, api)
    assert report.ok, report.error
    named = {o.object: (o.unmatched, o.unmatched_records) for o in report.objects}
    assert named["opportunities"] == (1, ["Opportunity 006D"])
    assert named["contacts"] == (1, ["Contact 003C"])
    assert report.unmatched == 2
    assert report.as_dict()["unmatched"] == 2
