from tortoise import fields, migrations
from tortoise.migrations import operations as ops

from models.after import ReplacementProblem
from models.documents import DocumentKind
from models.signers import SignerMatch

# Firms' authorised signers (issue 16, Tebliğ art. 8(1)): the certificates staff register
# for each firm; an e-signed upload records which of them signed it. Replacement problems
# gain the art. 11 rules (same model, whole devices): the enum's text only, no column change.
# Paper applications keep their papers' scans (art. 9): new document kinds (text only) and
# the Ek-1 petition's MARKA/MODEL/ADET table.


class Migration(migrations.Migration):
    dependencies = [('models', '0017_issued_documents')]

    initial = False

    operations = [
        ops.CreateModel(
            name='FirmSigner',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('firm_id', fields.IntField(db_index=True)),
                ('name', fields.CharField(max_length=255)),
                ('title', fields.CharField(default='', max_length=255)),
                ('match', fields.CharEnumField(description='CERTIFICATE: CERTIFICATE\nCA_SERIAL: CA_SERIAL\nCA_IDENTITY: CA_IDENTITY', enum_type=SignerMatch, max_length=16)),
                ('certificate_pem', fields.TextField(unique=False)),
                ('certificate_sha256', fields.CharField(db_index=True, max_length=64)),
                ('ca_subject_sha256', fields.CharField(max_length=64, null=True)),
                ('serial_number', fields.CharField(db_index=True, max_length=64, null=True)),
                ('identity_number', fields.CharField(db_index=True, max_length=64, null=True)),
                ('subject', fields.CharField(default='', max_length=512)),
                ('issuer', fields.CharField(default='', max_length=512)),
                ('not_after', fields.DatetimeField(auto_now=False, auto_now_add=False, null=True)),
                ('active', fields.BooleanField(default=True)),
                ('registered_by', fields.CharField(max_length=255)),
                ('registered_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('revoked_by', fields.CharField(max_length=255, null=True)),
                ('revoked_at', fields.DatetimeField(auto_now=False, auto_now_add=False, null=True)),
                ('revoke_reason', fields.TextField(default='', unique=False)),
            ],
            options={'table': 'firm_signer', 'app': 'models', 'pk_attr': 'id'},
            bases=['Model'],
        ),
        ops.AddField(
            model_name='ApplicationDocument',
            name='signer_id',
            field=fields.IntField(null=True),
        ),
        ops.AddField(
            model_name='ApplicationDocument',
            name='signer_name',
            field=fields.CharField(max_length=255, null=True),
        ),
        ops.AlterField(
            model_name='ReplacementLine',
            name='problem',
            field=fields.CharEnumField(null=True, description='UNRECOGNISED_LINE: UNRECOGNISED_LINE\nINVALID_OLD_IMEI: INVALID_OLD_IMEI\nINVALID_NEW_IMEI: INVALID_NEW_IMEI\nSAME_IMEI: SAME_IMEI\nREPEATED_IN_REPORT: REPEATED_IN_REPORT\nOLD_NOT_REGISTERED: OLD_NOT_REGISTERED\nOLD_OF_ANOTHER_FIRM: OLD_OF_ANOTHER_FIRM\nNEW_ALREADY_USED: NEW_ALREADY_USED\nNEW_NOT_HELD: NEW_NOT_HELD\nNEW_ALREADY_REGISTERED: NEW_ALREADY_REGISTERED\nNEW_BLACKLISTED: NEW_BLACKLISTED\nMODEL_MISMATCH: MODEL_MISMATCH\nDEVICE_INCOMPLETE: DEVICE_INCOMPLETE\nDEVICE_SPLIT: DEVICE_SPLIT', enum_type=ReplacementProblem, max_length=32),
        ),
        ops.AlterField(
            model_name='ApplicationDocument',
            name='kind',
            field=fields.CharEnumField(description='INVOICE: INVOICE\nCAPACITY_REPORT: CAPACITY_REPORT\nSIGNED_APPLICATION: SIGNED_APPLICATION\nCUSTOMS_DOCUMENTS: CUSTOMS_DOCUMENTS\nSIGNED_COVER_LETTER: SIGNED_COVER_LETTER\nPETITION: PETITION\nCUSTOMS_DECLARATION_COPY: CUSTOMS_DECLARATION_COPY\nTAC_LETTER: TAC_LETTER\nFEE_RECEIPT: FEE_RECEIPT\nSIGNATURE_CIRCULAR: SIGNATURE_CIRCULAR\nAPPLICATION_FORM: APPLICATION_FORM\nFEE_NOTICE: FEE_NOTICE\nPERMIT: PERMIT\nCOVER_LETTER: COVER_LETTER', enum_type=DocumentKind, max_length=32),
        ),
    ]
