"""A firm's users never see or touch another firm's data: every operation that takes an id."""

from __future__ import annotations

import pytest

from schema import build_schema
from tests.support.api import error_codes, gql, login, make_world

# Every root operation with an id argument, with how firm A's user tries to reach firm B.
# `expect`: what a firm user gets — NOT_FOUND (exists, but not yours: same answer as missing)
# or FORBIDDEN (the operation is not for firms at all).
ID_OPERATIONS = {
    "firm": ("query($id: Int!) { firm(id: $id) { id name } }", "firm_b", "NOT_FOUND"),
    "user": ("query($id: Int!) { user(id: $id) { id username } }", "b_user", "NOT_FOUND"),
    "users": (
        "query($id: Int!) { users(firmId: $id) { items { id } } }",
        "firm_b",
        {"a.user": "FORBIDDEN", "a.super": "EMPTY"},
    ),
    "applications": (
        "query($id: Int!) { applications(firmId: $id) { items { id } } }",
        "firm_b",
        "EMPTY",
    ),
    "application": ("query($id: Int!) { application(id: $id) { id } }", "app_b", "NOT_FOUND"),
    "applicationDevices": (
        "query($id: Int!) { applicationDevices(applicationId: $id) { totalCount } }",
        "app_b",
        "NOT_FOUND",
    ),
    "applicationDeviceGroups": (
        "query($id: Int!) { applicationDeviceGroups(applicationId: $id) { brand } }",
        "app_b",
        "NOT_FOUND",
    ),
    "createApplication": (
        "mutation($id: Int!) { createApplication(input: {kind: IMPORT, firmId: $id}) { errors { code } } }",
        "firm_b",
        "PAYLOAD:INVALID_INPUT",
    ),
    "updateApplication": (
        'mutation($id: Int!) { updateApplication(applicationId: $id, data: {notes: "x"}) { errors { code } } }',
        "app_b",
        "PAYLOAD:NOT_FOUND",
    ),
    "uploadDeviceList": ("", "app_b", "UPLOAD:NOT_FOUND"),
    "submitApplication": (
        "mutation($id: Int!) { submitApplication(applicationId: $id) { errors { code } } }",
        "app_b",
        "PAYLOAD:NOT_FOUND",
    ),
    "sendApplicationToAnalysis": (
        "mutation($id: Int!) { sendApplicationToAnalysis(applicationId: $id) { errors { code } } }",
        "app_b",
        {"a.user": "FORBIDDEN", "a.super": "PAYLOAD:NOT_FOUND"},
    ),
    "sendApplicationBack": (
        'mutation($id: Int!) { sendApplicationBack(applicationId: $id, reason: "x") { errors { code } } }',
        "app_b",
        {"a.user": "FORBIDDEN", "a.super": "PAYLOAD:NOT_FOUND"},
    ),
    "cancelApplication": (
        "mutation($id: Int!) { cancelApplication(applicationId: $id) { errors { code } } }",
        "app_b",
        "PAYLOAD:NOT_FOUND",
    ),
    "reopenApplication": (
        "mutation($id: Int!) { reopenApplication(applicationId: $id) { errors { code } } }",
        "app_b",
        "PAYLOAD:NOT_FOUND",
    ),
    "withdrawApplicationToDraft": (
        "mutation($id: Int!) { withdrawApplicationToDraft(applicationId: $id) { errors { code } } }",
        "app_b",
        "PAYLOAD:NOT_FOUND",
    ),
    # The firm workflow: firm steps answer NOT_FOUND for another firm's application; staff
    # steps are not for firms at all.
    "applicationWorkflow": (
        "query($id: Int!) { applicationWorkflow(applicationId: $id) { status } }",
        "app_b",
        "NOT_FOUND",
    ),
    "uploadApplicationDocument": (
        "mutation($id: Int!, $file: Upload!) { uploadApplicationDocument(applicationId: $id, kind: INVOICE, file: $file) { errors { code } } }",
        "app_b",
        "UPLOAD:NOT_FOUND",
    ),
    "chooseSignatureMethod": (
        "mutation($id: Int!) { chooseSignatureMethod(applicationId: $id, method: E_SIGNATURE) { errors { code } } }",
        "app_b",
        "PAYLOAD:NOT_FOUND",
    ),
    "uploadSignedApplication": (
        "mutation($id: Int!, $file: Upload!) { uploadSignedApplication(applicationId: $id, file: $file) { errors { code } } }",
        "app_b",
        "UPLOAD:NOT_FOUND",
    ),
    "receiveHardcopy": (
        "mutation($id: Int!) { receiveHardcopy(applicationId: $id) { errors { code } } }",
        "app_b",
        "FORBIDDEN",
    ),
    "takeApplicationForReview": (
        "mutation($id: Int!) { takeApplicationForReview(applicationId: $id) { errors { code } } }",
        "app_b",
        "FORBIDDEN",
    ),
    "approveApplication": (
        "mutation($id: Int!) { approveApplication(applicationId: $id) { errors { code } } }",
        "app_b",
        "FORBIDDEN",
    ),
    "rejectApplication": (
        'mutation($id: Int!) { rejectApplication(applicationId: $id, reason: "x") { errors { code } } }',
        "app_b",
        "FORBIDDEN",
    ),
    "returnApplicationIncomplete": (
        'mutation($id: Int!) { returnApplicationIncomplete(applicationId: $id, reason: "x") { errors { code } } }',
        "app_b",
        "FORBIDDEN",
    ),
    "recordPayment": (
        'mutation($id: Int!) { recordPayment(input: {applicationId: $id, method: CARD_AT_OFFICE, amount: "1"}) { errors { code } } }',
        "app_b",
        "FORBIDDEN",
    ),
    "declareFeeReceipt": (
        'mutation($id: Int!, $file: Upload!) { declareFeeReceipt(applicationId: $id, receipt: {bank: "Ziraat", paidOn: "2026-01-02", receiptNo: "DK-1", amount: "1"}, file: $file) { errors { code } } }',
        "app_b",
        "UPLOAD:NOT_FOUND",
    ),
    "confirmFeeReceipt": (
        "mutation($id: Int!) { confirmFeeReceipt(receiptId: $id) { errors { code } } }",
        "app_b",
        "FORBIDDEN",
    ),
    "refuseFeeReceipt": (
        'mutation($id: Int!) { refuseFeeReceipt(receiptId: $id, reason: "x") { errors { code } } }',
        "app_b",
        "FORBIDDEN",
    ),
    "startOnlinePayment": (
        "mutation($id: Int!) { startOnlinePayment(applicationId: $id) { errors { code } } }",
        "app_b",
        "PAYLOAD:NOT_FOUND",
    ),
    "refreshOnlinePayments": (
        "mutation($id: Int!) { refreshOnlinePayments(applicationId: $id) { errors { code } } }",
        "app_b",
        "PAYLOAD:NOT_FOUND",
    ),
    "uploadCustomsDocuments": (
        "mutation($id: Int!, $file: Upload!) { uploadCustomsDocuments(applicationId: $id, file: $file) { errors { code } } }",
        "app_b",
        "UPLOAD:NOT_FOUND",
    ),
    "uploadSignedCoverLetter": (
        "mutation($id: Int!, $file: Upload!) { uploadSignedCoverLetter(applicationId: $id, file: $file) { errors { code } } }",
        "app_b",
        "UPLOAD:NOT_FOUND",
    ),
    "receiveCustomsDocuments": (
        "mutation($id: Int!) { receiveCustomsDocuments(applicationId: $id) { errors { code } } }",
        "app_b",
        "FORBIDDEN",
    ),
    "ceCertificates": (
        "query($id: Int!) { ceCertificates(firmId: $id) { items { id } } }",
        "firm_b",
        "EMPTY",
    ),
    "customsDeadlines": (
        "query($id: Int!) { customsDeadlines(firmId: $id) { items { customsDueAt } } }",
        "firm_b",
        "EMPTY",
    ),
    "overdueApplications": (
        "query($id: Int!) { overdueApplications(firmId: $id) { items { customsDueAt } } }",
        "firm_b",
        "EMPTY",
    ),
    "clientTokens": (
        "query($id: Int!) { clientTokens(clientId: $id) { id } }",
        "client",
        "FORBIDDEN",
    ),
    "updateFirm": (
        "mutation($id: Int!) { updateFirm(input: {firmId: $id, isActive: false}) { errors { code } } }",
        "firm_b",
        "FORBIDDEN",
    ),
    "setUserActive": (
        "mutation($id: Int!) { setUserActive(userId: $id, active: false) { errors { code } } }",
        "b_user",
        "FORBIDDEN",
    ),
    "resetUserPassword": (
        "mutation($id: Int!) { resetUserPassword(userId: $id) { errors { code } } }",
        "b_user",
        "FORBIDDEN",
    ),
    "issueClientToken": (
        "mutation($id: Int!) { issueClientToken(clientId: $id) { errors { code } } }",
        "client",
        "FORBIDDEN",
    ),
    "revokeAccessToken": (
        "mutation($id: Int!) { revokeAccessToken(tokenId: $id) { errors { code } } }",
        "token",
        "FORBIDDEN",
    ),
    "auditEvents": (
        "query($id: Int!) { auditEvents(filter: {firmId: $id}) { items { id } } }",
        "firm_b",
        "FORBIDDEN",
    ),
    "createUser": (
        'mutation($id: Int!) { createUser(input: {username: "sizma", fullName: "S", email: "s@x.co", role: FIRM_USER, firmId: $id}) { errors { code } } }',
        "firm_b",
        "FORBIDDEN",
    ),
    "retryJob": (
        "mutation($id: Int!) { retryJob(jobId: $id) { errors { code } } }",
        "firm_b",
        "FORBIDDEN",
    ),
    # Clone suspicions are dismissed by staff only (a firm pairs its suspects instead).
    "dismissCloneSuspicion": (
        'mutation($id: Int!) { dismissCloneSuspicion(id: $id, reason: "x") { errors { code } } }',
        "firm_b",
        "FORBIDDEN",
    ),
    # The outbox is the staff's: a firm reads its mails in its own inbox.
    "mailOutbox": (
        "query($id: Int!) { mailOutbox(applicationId: $id) { items { id } } }",
        "app_b",
        "FORBIDDEN",
    ),
    "resendMail": (
        "mutation($id: Int!) { resendMail(mailId: $id) { errors { code } } }",
        "app_b",
        "FORBIDDEN",
    ),
    "clientCheckUsage": (
        'query($id: Int) { clientCheckUsage(from: "2026-01-01", clientId: $id) { day } }',
        "client",
        "FORBIDDEN",
    ),
    "setClientCheckQuota": (
        "mutation($id: Int!) { setClientCheckQuota(clientId: $id, checksPerMinute: 1) { clientId } }",
        "client",
        "FORBIDDEN",
    ),
    "updateMachineClient": (
        "mutation($id: Int!) { updateMachineClient(input: {clientId: $id, isActive: false}) { errors { code } } }",
        "client",
        "FORBIDDEN",
    ),
    # A firm B request's own id is exercised in tests/test_tac_requests.py (firm B vs firm A).
    "tacRequest": (
        "query($id: Int!) { tacRequest(id: $id) { id tac } }",
        "firm_b",
        "NOT_FOUND",
    ),
    "approveTacRequest": (
        "mutation($id: Int!) { approveTacRequest(tacRequestId: $id) { errors { code } } }",
        "firm_b",
        "FORBIDDEN",
    ),
    "rejectTacRequest": (
        'mutation($id: Int!) { rejectTacRequest(tacRequestId: $id, reason: "x") { errors { code } } }',
        "firm_b",
        "FORBIDDEN",
    ),
    # Individual registrations are for staff and the submitting machine client only (one
    # operator vs another: tests/test_individual_access.py).
    "individualRegistration": (
        "query($id: Int!) { individualRegistration(id: $id) { id } }",
        "firm_b",
        "FORBIDDEN",
    ),
    # After registration. Firm B's own reports and requests against firm A's users are
    # exercised in tests/test_after_*.py (the id here is any id: the answer is the same).
    "replacementReports": (
        "query($id: Int!) { replacementReports(firmId: $id) { items { id } } }",
        "firm_b",
        "EMPTY",
    ),
    "replacementReport": (
        "query($id: Int!) { replacementReport(id: $id) { id } }",
        "firm_b",
        "NOT_FOUND",
    ),
    "replacementReportLines": (
        "query($id: Int!) { replacementReportLines(reportId: $id) { items { lineNumber } } }",
        "firm_b",
        "NOT_FOUND",
    ),
    "replacements": (
        "query($id: Int!) { replacements(applicationId: $id) { items { id } } }",
        "app_b",
        "EMPTY",
    ),
    "heldImeis": (
        "query($id: Int!) { heldImeis(applicationId: $id) { items { imei } } }",
        "app_b",
        "EMPTY",
    ),
    "confirmChangedImeiReport": (
        "mutation($id: Int!) { confirmChangedImeiReport(reportId: $id, applyValid: true) { errors { code } } }",
        "firm_b",
        "PAYLOAD:NOT_FOUND",
    ),
    "imeiCorrectionRequests": (
        "query($id: Int!) { imeiCorrectionRequests(applicationId: $id) { items { id } } }",
        "app_b",
        "EMPTY",
    ),
    "imeiCorrectionRequest": (
        "query($id: Int!) { imeiCorrectionRequest(id: $id) { id } }",
        "firm_b",
        "NOT_FOUND",
    ),
    "requestImeiCorrection": (
        'mutation($id: Int!, $file: Upload!) { requestImeiCorrection(input: {applicationId: $id, pairs: [{wrongImei: "356938035643809", rightImei: "356938035643817"}]}, petition: $file, documents: $file) { errors { code } } }',
        "app_b",
        "UPLOAD:NOT_FOUND",
    ),
    "approveImeiCorrection": (
        "mutation($id: Int!) { approveImeiCorrection(requestId: $id) { errors { code } } }",
        "firm_b",
        "FORBIDDEN",
    ),
    "rejectImeiCorrection": (
        'mutation($id: Int!) { rejectImeiCorrection(requestId: $id, reason: "x") { errors { code } } }',
        "firm_b",
        "FORBIDDEN",
    ),
    "imeiPairings": (
        "query($id: Int!) { imeiPairings(firmId: $id) { items { imei } } }",
        "firm_b",
        "EMPTY",
    ),
    "firmSigners": (
        "query($id: Int!) { firmSigners(firmId: $id) { items { id } } }",
        "firm_b",
        "EMPTY",
    ),
    "registerFirmSigner": (
        "mutation($id: Int!) { registerFirmSigner(input: {firmId: $id}) { errors { code } } }",
        "firm_b",
        "FORBIDDEN",
    ),
    "revokeFirmSigner": (
        'mutation($id: Int!) { revokeFirmSigner(signerId: $id, reason: "x") { errors { code } } }',
        "firm_b",
        "FORBIDDEN",
    ),
    "recordPaperDocument": (
        "mutation($id: Int!, $file: Upload!) {"
        " recordPaperDocument(applicationId: $id, kind: FEE_RECEIPT, file: $file) { errors { code } } }",
        "app_b",
        "UPLOAD:FORBIDDEN",
    ),
    "pairingFlags": (
        "query($id: Int!) { pairingFlags(firmId: $id) { items { imei } } }",
        "firm_b",
        "EMPTY",
    ),
}


def _id_taking_root_fields() -> set[str]:
    schema = build_schema()._schema
    names = set()
    for root in (schema.query_type, schema.mutation_type):
        for name, field in root.fields.items():
            arg_names = set(field.args)
            for arg in field.args.values():
                inner = arg.type
                while hasattr(inner, "of_type"):
                    inner = inner.of_type
                arg_names |= set(getattr(inner, "fields", {}) or {})
            if any(a == "id" or a.endswith("Id") for a in arg_names):
                names.add(name)
    return names


def test_every_operation_that_takes_an_id_is_in_the_isolation_table():
    assert _id_taking_root_fields() == set(ID_OPERATIONS)


@pytest.mark.parametrize("who", ["a.user", "a.super"])
@pytest.mark.parametrize("operation", sorted(ID_OPERATIONS))
async def test_firm_a_cannot_reach_firm_b(client, who, operation):
    world = await make_world()
    from gateway.demo import load_demo
    from models.accounts import AccessToken, MachineClient

    await load_demo()
    client_row = await MachineClient.first()
    token_row = await AccessToken.filter(client_id=client_row.id).first()
    from models import clock
    from models.applications import Application

    app_b = await Application.create(
        firm_id=world.firm_b.id,
        kind="IMPORT",
        created_by="b.user",
        created_at=clock.now(),
        updated_at=clock.now(),
    )
    targets = {
        "app_b": app_b.id,
        "firm_b": world.firm_b.id,
        "b_user": world.users["b_user"].id,
        "client": client_row.id,
        "token": token_row.id,
    }
    query, target, expected = ID_OPERATIONS[operation]
    expect = expected[who] if isinstance(expected, dict) else expected
    token = await login(client, who)
    if expect.startswith("UPLOAD:"):
        from tests.support.uploads import upload, xlsx

        # The table's query is the upload mutation ($id, $file); empty: the device list.
        body = await upload(
            client,
            token,
            targets[target],
            xlsx([("A", "B", "1")]),
            **({"query": query} if query else {}),
        )
        # A field not for firms at all is refused by the gate (top level), before the payload.
        codes = error_codes(body) or [e["code"] for e in body["data"][operation]["errors"]]
        assert codes[0] == expect.split(":")[1], body
        return
    body = await gql(client, query, {"id": targets[target]}, token=token)
    if expect == "EMPTY":
        assert error_codes(body) == [] and body["data"][operation]["items"] == []
    elif expect.startswith("PAYLOAD:"):
        assert error_codes(body) == [], body
        assert [e["code"] for e in body["data"][operation]["errors"]] == [expect.split(":")[1]]
    else:
        assert error_codes(body) == [expect], body
    assert "Kıbrıs" not in str(body) and "b.user" not in str(body)


async def test_a_firm_sees_its_own_things(client):
    world = await make_world()
    token = await login(client, "a.super")
    firm = await gql(
        client, "query($id: Int!) { firm(id: $id) { name } }", {"id": world.firm_a.id}, token=token
    )
    assert firm["data"]["firm"]["name"] == "Anadolu Mobil A.Ş."
    users = await gql(client, "{ users { items { username } } }", token=token)
    assert sorted(u["username"] for u in users["data"]["users"]["items"]) == ["a.super", "a.user"]
    colleague = await gql(
        client,
        "query($id: Int!) { user(id: $id) { username } }",
        {"id": world.users["a_user"].id},
        token=token,
    )
    assert colleague["data"]["user"]["username"] == "a.user"
