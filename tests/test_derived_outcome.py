"""A device's outcome is derived from its application's analysis marker and its failure rows
(issue #18): what could go wrong once no column holds it."""

from __future__ import annotations

import io
from dataclasses import dataclass

import pytest
from openpyxl import load_workbook

from models.applications import Application
from resolvers import jobs
from resolvers.workflow.common import DeviceGroupCount, passing_groups
from tests.support.api import gql, login, make_world
from tests.support.operators import whitelist
from tests.support.payments import device, to_fee_notice
from tests.support.uploads import upload
from tests.support.workflow import PAY, SET_FEE, attach_documents, pdf_workers, step
from tests.test_application_analysis import (
    GROUPS,
    SUBMIT,
    TO_ANALYSIS,
    create_draft,
    messy_list,
    seed_registry,
)

# The fixtures imported from tests.support.workflow are used by name.
__all__ = ["pdf_workers"]

PAGE = """query($id: Int!, $passed: Boolean, $reason: CheckCode, $after: String, $first: Int!) {
  applicationDevices(applicationId: $id, passed: $passed, reason: $reason, first: $first, after: $after) {
    totalCount items { rowNumber passed reasons { code } }
    pageInfo { endCursor hasNextPage }
  }
}"""
WITHDRAW = """mutation($id: Int!) { withdrawApplicationToDraft(applicationId: $id, reason: "düzeltme") {
  application { status } errors { code field message } } }"""

PASSING_ROWS = [2, 3, 4, 16]


async def pages(client, token, application_id, first=3, **filters) -> tuple[list[dict], int]:
    """Every matching device, a few per page (the keyset walks past failing rows)."""
    items, after, totals = [], None, set()
    while True:
        body = await gql(
            client,
            PAGE,
            {"id": application_id, "after": after, "first": first, **filters},
            token=token,
        )
        page = body["data"]["applicationDevices"]
        items += page["items"]
        totals.add(page["totalCount"])
        if not page["pageInfo"]["hasNextPage"]:
            [total] = totals
            return items, total
        after = page["pageInfo"]["endCursor"]


async def groups(client, token, application_id) -> list[dict]:
    body = await gql(client, GROUPS, {"id": application_id}, token=token)
    return body["data"]["applicationDeviceGroups"]


@dataclass
class Analysed:
    application_id: int
    user: str
    supervisor: str
    content: bytes
    expected: dict[int, list[str]]
    uploaded_groups: list[dict]  # the group view as the upload left it


async def analysed_messy_list(client) -> Analysed:
    await make_world()
    content, expected = messy_list(await seed_registry())
    user, supervisor = await login(client, "a.user"), await login(client, "a.super")
    application_id = await create_draft(client, user)
    await upload(client, user, application_id, content)
    uploaded_groups = await groups(client, user, application_id)
    await attach_documents(client, user, application_id)
    await gql(client, SUBMIT, {"id": application_id}, token=user)
    await gql(client, TO_ANALYSIS, {"id": application_id}, token=supervisor)
    assert await jobs.drain() == 1
    return Analysed(application_id, user, supervisor, content, expected, uploaded_groups)


async def assert_not_analysed(client, user, application_id, uploaded_groups) -> None:
    devices, total = await pages(client, user, application_id)
    assert total == 15
    assert all(d["passed"] is None and d["reasons"] == [] for d in devices)
    for passed in (True, False):
        assert await pages(client, user, application_id, passed=passed) == ([], 0)
    assert await pages(client, user, application_id, reason="DUPLICATE_IN_LIST") == ([], 0)
    assert await groups(client, user, application_id) == uploaded_groups
    assert await passing_groups(application_id) == []


async def test_filtering_by_outcome_gives_the_right_devices_and_totals(client):
    listed = await analysed_messy_list(client)
    application_id, user, expected = listed.application_id, listed.user, listed.expected

    passing, total = await pages(client, user, application_id, passed=True)
    assert total == 4 and [d["rowNumber"] for d in passing] == PASSING_ROWS
    assert all(d["passed"] is True and d["reasons"] == [] for d in passing)
    failing, total = await pages(client, user, application_id, passed=False)
    assert total == 11
    assert [d["rowNumber"] for d in failing] == sorted(r for r, c in expected.items() if c)
    assert all(d["passed"] is False and d["reasons"] for d in failing)
    mismatched, total = await pages(
        client, user, application_id, passed=False, reason="MODEL_MISMATCH"
    )
    assert total == 3 and [d["rowNumber"] for d in mismatched] == [10, 14, 17]
    assert await pages(client, user, application_id, passed=True, reason="MODEL_MISMATCH") == (
        [],
        0,
    )
    everything, total = await pages(client, user, application_id, first=100)
    assert total == 15
    assert {d["rowNumber"]: d["passed"] for d in everything} == {
        row: not codes for row, codes in expected.items()
    }
    assert await passing_groups(application_id) == [
        DeviceGroupCount("APPLE", "A2403", 2, 4),
        DeviceGroupCount("NOKIA", "3310", 1, 1),
        DeviceGroupCount("SAMSUNG", "SM-G9359", 1, 1),
    ]

    headers = {"Authorization": f"Bearer {user}"}
    export = await client.get(
        f"/applications/{application_id}/devices.xlsx?outcome=passed", headers=headers
    )
    rows = list(load_workbook(io.BytesIO(export.content)).worksheets[0].iter_rows(values_only=True))
    assert [(int(r[0]), r[7]) for r in rows[1:]] == [(row, "Geçti") for row in PASSING_ROWS]


async def test_a_list_uploaded_again_is_not_analysed_not_passed(client):
    # The same list again on a draft: its failure rows are gone with the old rows, and no
    # device may then look as if it had passed.
    listed = await analysed_messy_list(client)
    application_id, user = listed.application_id, listed.user
    assert (await step(client, WITHDRAW, {"id": application_id}, user))["application"] == {
        "status": "DRAFT"
    }
    uploaded = await upload(client, user, application_id, listed.content)
    assert uploaded["data"]["uploadDeviceList"]["errors"] == []

    await assert_not_analysed(client, user, application_id, listed.uploaded_groups)
    headers = {"Authorization": f"Bearer {user}"}
    export = await client.get(f"/applications/{application_id}/devices.xlsx", headers=headers)
    rows = list(load_workbook(io.BytesIO(export.content)).worksheets[0].iter_rows(values_only=True))
    assert len(rows) == 16 and {r[7] for r in rows[1:]} == {"Analiz edilmedi"}


async def test_a_list_sent_to_analysis_again_shows_no_earlier_outcome(client):
    # Back to draft and submitted unchanged: until the new run stores its results, the old
    # run's failure rows stay, and nobody may read them as this run's.
    listed = await analysed_messy_list(client)
    application_id, user = listed.application_id, listed.user
    await step(client, WITHDRAW, {"id": application_id}, user)
    await gql(client, SUBMIT, {"id": application_id}, token=user)
    await gql(client, TO_ANALYSIS, {"id": application_id}, token=listed.supervisor)
    assert (await Application.get(id=application_id)).passed_device_count is None

    await assert_not_analysed(client, user, application_id, listed.uploaded_groups)
    assert await jobs.drain() == 1
    devices, _ = await pages(client, user, application_id, first=100)
    assert {d["rowNumber"]: [r["code"] for r in d["reasons"]] for d in devices} == listed.expected
    passing, total = await pages(client, user, application_id, passed=True)
    assert total == 4 and [d["rowNumber"] for d in passing] == PASSING_ROWS


@pytest.mark.usefixtures("pdf_workers")
async def test_a_device_lost_to_the_payment_race_is_failed_and_not_in_passing_groups(client):
    await make_world()
    await seed_registry()
    admin = await login(client, "staff.admin")
    await step(client, SET_FEE, {"input": {"year": 2026, "fee": "10.00"}}, admin)
    application_id = await to_fee_notice(client, "a", [device(1), device(2), device(3)])
    await whitelist(device(2)[3])  # registered elsewhere before the payment

    paid = await step(
        client,
        PAY,
        {"input": {"applicationId": application_id, "method": "CARD_AT_OFFICE", "amount": "60"}},
        await login(client, "staff.archive"),
    )
    assert paid["workflow"]["registeredImeiCount"] == 4
    user = await login(client, "a.user")
    failing, total = await pages(client, user, application_id, passed=False)
    assert total == 1
    assert failing == [
        {"rowNumber": 3, "passed": False, "reasons": [{"code": "ALREADY_REGISTERED"}]}
    ]
    passing, total = await pages(client, user, application_id, passed=True)
    assert total == 2 and [d["rowNumber"] for d in passing] == [2, 4]
    assert await passing_groups(application_id) == [DeviceGroupCount("APPLE", "A2403", 2, 4)]
    [group] = await groups(client, user, application_id)
    assert (group["deviceCount"], group["passedCount"], group["failedCount"]) == (3, 2, 1)
    assert group["reasons"] == [{"code": "ALREADY_REGISTERED", "count": 1}]
    application = await Application.get(id=application_id)
    assert (application.passed_device_count, application.failed_device_count) == (2, 1)
